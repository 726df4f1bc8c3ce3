"""The pool against real relay implementations on 127.0.0.1: our own LocalRelay (over a real store
file) and rust-nostr's in-process relay (PyPI `nostr-sdk`), an independent implementation.
Publish, read back, dedup across them, NIP-42 on rust-nostr, NIP-11 from ours."""

from __future__ import annotations

import socket
from contextlib import asynccontextmanager

import pytest

from nostr_desk.pool.pool import RelayPool
from nostr_desk.protocol.event import sign
from nostr_desk.protocol.filters import Filter
from nostr_desk.relay import LocalRelay, RelayConfig
from nostr_desk.store import EventStore, StoreConfig

from .events import make_event, secret
from .helpers import arun, fast_config

ns = pytest.importorskip("nostr_sdk", reason="nostr-sdk (rust-nostr) is in the [test] extras")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@asynccontextmanager
async def rust_relay(*, nip42: bool = False):
    builder = ns.LocalRelayBuilder().addr("127.0.0.1").port(free_port())
    if nip42:
        builder = builder.nip42(ns.LocalRelayBuilderNip42(mode=ns.LocalRelayBuilderNip42Mode.BOTH))
    relay = builder.build()
    await relay.run()
    try:
        yield str(await relay.url())
    finally:
        relay.shutdown()


@asynccontextmanager
async def our_relay(tmp_path):
    store = EventStore.open(StoreConfig(tmp_path / "relay.db"))
    relay = LocalRelay(RelayConfig(port=0), store)
    await relay.start()
    try:
        yield relay.url
    finally:
        await relay.stop()
        store.close()


async def signer(template):
    return sign(template, secret(4), aux_rand=bytes(32))


def recent(i: int):
    import time
    return make_event(i, key=4, created_at=int(time.time()) - 1000)


def test_publish_to_both_then_read_back_deduplicated(tmp_path):
    evs = [recent(i) for i in range(15)]

    async def go():
        async with our_relay(tmp_path) as ours, rust_relay() as rust:
            store = EventStore.open(StoreConfig(tmp_path / "client.db"))
            pool = RelayPool(fast_config(ok_timeout=5, eose_timeout=5), store)
            for ev in evs:
                report = await pool.publish(ev, [ours, rust])
                assert report.summary() == "accepted by 2 of 2", report.summary()
            again = await pool.publish(evs[0], [ours, rust])      # both answer duplicate: (or OK true)
            assert again.accepted == 2
            got = await pool.fetch([Filter.from_obj({"authors": [evs[0].pubkey]})], relays=[ours, rust], timeout=5)
            assert sorted(e.id for e in got) == sorted(e.id for e in evs)
            h = pool.health()
            assert h[ours].events_received == 15 and h[rust].events_received == 15
            assert h[ours].verify_failures == h[rust].verify_failures == 0
            assert {"eose_ms", "ok_ms", "connect_ms"} <= set(h[rust].latest)
            await pool.close()
            provenance = {u for u, _ in store.relays_of(evs[3].id)}
            store.close()
            assert provenance == {ours, rust}

    arun(go())


def test_nip42_against_rust_nostr(tmp_path):
    ev = recent(50)

    async def go():
        async with rust_relay(nip42=True) as rust:
            pool = RelayPool(fast_config(ok_timeout=5, auth_default="always"), None, signer=signer)
            report = await pool.publish(ev, [rust])
            assert report.delivered, report.summary()
            got = await pool.fetch([Filter.from_obj({"ids": [ev.id]})], relays=[rust], timeout=5)
            assert [e.id for e in got] == [ev.id]
            assert pool.health()[rust].auth == "authenticated"
            await pool.close()

    arun(go())


def test_nip42_refused_by_policy_is_reported(tmp_path):
    ev = recent(51)

    async def go():
        async with rust_relay(nip42=True) as rust:
            pool = RelayPool(fast_config(ok_timeout=3, auth_default="never"), None, signer=signer)
            report = await pool.publish(ev, [rust])
            assert not report.delivered and not report.pending     # final: our policy forbids auth
            assert report.outcomes[0].state == "rejected"
            assert report.outcomes[0].message.startswith("auth-required:")
            await pool.close()

    arun(go())


def test_nip11_from_our_relay_and_cached(tmp_path):
    async def go():
        async with our_relay(tmp_path) as ours:
            pool = RelayPool(fast_config(), None)
            info = await pool.relay_info(ours)
            assert info.name == "nostr-desk local relay" and 1 in info.supported_nips
            assert await pool.relay_info(ours) is info          # cached
            await pool.close()

    arun(go())


def test_live_subscription_on_our_relay_sees_a_later_publish(tmp_path):
    import asyncio
    ev = recent(60)

    async def go():
        async with our_relay(tmp_path) as ours:
            pool = RelayPool(fast_config(), None)
            async with await pool.subscribe([Filter.from_obj({"authors": [ev.pubkey]})], [ours]) as sub:
                await sub.wait_eose(5)
                assert sub.drain() == []
                assert (await pool.publish(ev, [ours])).delivered
                live = await asyncio.wait_for(sub.__aiter__().__anext__(), 5)
                assert live.id == ev.id
            await pool.close()

    arun(go())
