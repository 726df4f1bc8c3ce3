"""Interoperability with an independent implementation: rust-nostr's Python bindings (PyPI
`nostr-sdk`) publish to and fetch from our relay, and each side verifies the other's events."""

from __future__ import annotations

import datetime

import pytest

from nostr_desk.protocol.event import Event

from .helpers import ALICE, Client, ids, make, running_relay

n = pytest.importorskip("nostr_sdk")

TIMEOUT = datetime.timedelta(seconds=5)


@pytest.fixture(autouse=True)
def _forget_sdk_loop():
    """uniffi keeps the loop we hand it in a module global; each test runs on its own loop, so a stale
    one left behind breaks every later nostr-sdk call in the session ("attached to a different loop")."""
    yield
    n.uniffi_set_event_loop(None)


async def sdk_client(url: str, keys=None):
    import asyncio

    # The SDK calls back into Python (the authenticator) from its own threads; uniffi needs the loop.
    n.uniffi_set_event_loop(asyncio.get_running_loop())
    builder = n.ClientBuilder()
    if keys is not None:
        builder = builder.authenticator(n.SignerAuthenticator(keys))
    client = builder.build()
    await client.add_relay(n.RelayUrl.parse(url))
    await client.connect()
    return client


async def test_nostr_sdk_publishes_and_fetches(tmp_path):
    async with running_relay(tmp_path) as relay:
        keys = n.Keys.generate()
        client = await sdk_client(relay.url)
        try:
            url = n.RelayUrl.parse(relay.url)
            note = n.EventBuilder(n.Kind(1), "hello from rust-nostr").tags([n.Tag.hashtag("interop")]).finalize(keys)
            out = await client.send_event(note)
            assert [str(u.__repr__()) for u in out.success] and not out.failed
            # our side sees a valid event, byte-for-byte the one the SDK signed
            async with Client.open(relay.url) as ours:
                (got,) = await ours.req("s", {"authors": [keys.public_key().to_hex()]})
                assert Event.from_obj(got).verify().id == note.id().to_hex()
                mine = make(ALICE, 1, "hello from nostr-desk", [["t", "interop"]])
                assert (await ours.publish(mine))[0]
            # and the SDK fetches both by tag and verifies our event's id and signature
            found = await client.fetch_events(n.ReqTarget.single(url, [n.Filter().hashtag("interop")]), timeout=TIMEOUT)
            by_id = {e.id().to_hex(): e for e in found}
            assert set(by_id) == {note.id().to_hex(), mine.id}
            assert by_id[mine.id].verify()
            # newest first order and limit as NIP-01 says, through the SDK's filter encoding
            limited = await client.fetch_events(n.ReqTarget.single(url, [n.Filter().kind(n.Kind(1)).limit(1)]), timeout=TIMEOUT)
            assert len(limited) == 1
        finally:
            await client.shutdown()


async def test_nostr_sdk_authenticates_for_protected_event(tmp_path):
    async with running_relay(tmp_path) as relay:
        keys = n.Keys.generate()
        client = await sdk_client(relay.url, keys)
        try:
            protected = n.EventBuilder(n.Kind(1), "members only").tags([n.Tag.protected()]).finalize(keys)
            out = await client.send_event(protected)
            assert out.success and not out.failed, out.failed
            async with Client.open(relay.url) as ours:
                assert ids(await ours.req("p", {"ids": [protected.id().to_hex()]})) == [protected.id().to_hex()]
        finally:
            await client.shutdown()
