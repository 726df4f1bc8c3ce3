"""Compliance: NIP-42 (challenge, event checks, multiple pubkeys), restricted reads of kinds 4 and
1059 (stored and live; wildcard filters must not leak), and NIP-70 protected events."""

from __future__ import annotations

import json

import pytest

from .helpers import ALICE, BOB, CAROL, Client, Refused, ids, make, now, running_relay


async def test_challenge_on_connect_and_each_connection_differs(tmp_path):
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as a, Client.open(relay.url) as b:
        assert a.challenge and b.challenge and a.challenge != b.challenge


# protocol/nip42.check's answers: a malformed auth event is `invalid:`; a well-formed one that does
# not answer this relay's challenge now leaves the client still needing AUTH (`auth-required:`).
@pytest.mark.parametrize(
    "change, prefix",
    [
        ({"kind": 1}, "invalid:"),
        ({"relay": "wss://intentionally.wrong.relay/"}, "auth-required:"),
        ({"challenge": "intentionally wrong challenge"}, "auth-required:"),
        ({"created_at": -30 * 60}, "auth-required:"),
    ],
    ids=["kind", "relay", "challenge", "stale"],
)
async def test_auth_event_checks(tmp_path, change, prefix):
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c:
        ok, msg = await c.auth(
            ALICE,
            change.get("relay", relay.url),
            challenge=change.get("challenge"),
            kind=change.get("kind", 22242),
            created_at=now() + change["created_at"] if "created_at" in change else None,
        )
        assert not ok and msg.startswith(prefix), msg
        await c.req("s", {})  # and the connection keeps serving


async def test_auth_accepts_url_variants_and_several_pubkeys(tmp_path):
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c:
        port = relay.port
        assert await c.auth(ALICE, f"ws://localhost:{port}/") == (True, "")
        assert await c.auth(BOB, f"ws://127.0.0.1:{port}") == (True, "")
        bad = make(CAROL, 22242, "", [["relay", relay.url], ["challenge", c.challenge]]).to_obj()
        bad["sig"] = "0" * 128
        await c.send("AUTH", bad)
        reply = await c.next(lambda m: m[0] == "OK" and m[1] == bad["id"])
        assert reply[2] is False and reply[3].startswith("invalid:")
        assert relay._server.connections and all(not conn.session.authed - {ALICE.public_key, BOB.public_key}
                                                  for conn in relay._server.connections)


async def test_dm_kinds_need_auth_and_serve_only_parties(tmp_path):
    dm = make(ALICE, 4, "ciphertext?iv=x", [["p", BOB.public_key]])
    wrap = make(CAROL, 1059, "sealed", [["p", BOB.public_key]])
    public = make(ALICE, 1, "public")
    async with running_relay(tmp_path) as relay:
        async with Client.open(relay.url) as c:
            for ev in (dm, wrap, public):
                ok, msg = await c.publish(ev)
                assert ok, msg
            for kinds in ([4], [1059], [1, 4]):
                assert (await c.closed_reason(f"k{kinds}", {"kinds": kinds})).startswith("auth-required:")
            with pytest.raises(Refused):
                await c.count("n", {"kinds": [1059]})
            # a wildcard filter must not leak restricted kinds
            assert ids(await c.req("all", {})) == [public.id]
            assert await c.count("all", {}) == 1
        async with Client.open(relay.url) as stranger:
            assert (await stranger.auth(CAROL, relay.url))[0]  # CAROL wrapped it, so sees the wrap only
            assert ids(await stranger.req("s", {"kinds": [4, 1059]})) == [wrap.id]
        async with Client.open(relay.url) as bob:
            assert (await bob.auth(BOB, relay.url))[0]
            assert set(ids(await bob.req("s", {"kinds": [4, 1059]}))) == {dm.id, wrap.id}
            assert set(ids(await bob.req("w", {}))) == {dm.id, wrap.id, public.id}


async def test_live_dms_reach_only_authenticated_parties(tmp_path):
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as bob, \
            Client.open(relay.url) as eve, Client.open(relay.url) as anon, Client.open(relay.url) as p:
        assert (await bob.auth(BOB, relay.url))[0]
        assert (await eve.auth(CAROL, relay.url))[0]
        for c in (bob, eve):
            await c.req("dm", {"kinds": [4]})
        await anon.req("all", {})  # a wildcard subscription, unauthenticated
        dm = make(ALICE, 4, "secret", [["p", BOB.public_key]])
        assert (await p.publish(dm))[0]
        assert (await bob.live("dm"))["id"] == dm.id
        await eve.nothing(lambda m: m[0] == "EVENT")
        await anon.nothing(lambda m: m[0] == "EVENT")


async def test_protected_event_needs_authors_auth(tmp_path):
    ev = make(ALICE, 1, "for members", [["-"]])
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c:
        ok, msg = await c.publish(ev)
        assert not ok and msg.startswith("auth-required:")
        assert (await c.auth(BOB, relay.url))[0]
        ok, msg = await c.publish(ev)
        assert not ok and msg.startswith("auth-required:")  # BOB is not the author
        assert (await c.auth(ALICE, relay.url))[0]
        assert await c.publish(ev) == (True, "")
        repost = make(BOB, 6, json.dumps(ev.to_obj()), [["e", ev.id], ["p", ALICE.public_key]])
        ok, msg = await c.publish(repost)
        assert not ok and msg.startswith("blocked:")


async def test_protected_refused_outright_when_configured(tmp_path):
    async with running_relay(tmp_path, accept_protected=False) as relay, Client.open(relay.url) as c:
        assert (await c.auth(ALICE, relay.url))[0]
        ok, msg = await c.publish(make(ALICE, 1, "x", [["-"]]))
        assert not ok and msg.startswith("blocked:")


async def test_auth_required_mode(tmp_path):
    async with running_relay(tmp_path, auth_required=True) as relay, Client.open(relay.url) as c:
        ok, msg = await c.publish(make(ALICE, content="before auth"))
        assert not ok and msg.startswith("auth-required:")
        assert (await c.closed_reason("s", {})).startswith("auth-required:")
        assert (await c.auth(ALICE, relay.url))[0]
        assert (await c.publish(make(ALICE, content="after auth")))[0]
        assert len(await c.req("s2", {})) == 1


async def test_write_policy_blocked_and_allowed_authors(tmp_path):
    async with running_relay(tmp_path, blocked_pubkeys=frozenset({BOB.public_key}),
                             allowed_pubkeys=frozenset({ALICE.public_key, BOB.public_key})) as relay, \
            Client.open(relay.url) as c:
        assert (await c.publish(make(ALICE)))[0]
        ok, msg = await c.publish(make(BOB))
        assert not ok and msg.startswith("blocked:")
        ok, msg = await c.publish(make(CAROL))
        assert not ok and msg.startswith("restricted:")
