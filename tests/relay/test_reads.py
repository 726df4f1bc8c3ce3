"""Compliance: queries, EOSE and subscriptions, COUNT and search, over real websockets."""

from __future__ import annotations

from .helpers import ALICE, BOB, CAROL, Client, Refused, ids, make, now, running_relay

import pytest


async def seed(client: Client, events) -> None:
    for ev in events:
        ok, msg = await client.publish(ev)
        assert ok, msg


async def test_eose_then_live_events_on_an_open_subscription(tmp_path):
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c, Client.open(relay.url) as p:
        old = make(ALICE, content="stored")
        await seed(p, [old])
        assert ids(await c.req("s", {"authors": [ALICE.public_key]})) == [old.id]
        new = make(ALICE, content="after eose")
        await seed(p, [new])
        assert (await c.live("s"))["id"] == new.id  # served post-EOSE, subscription kept open


async def test_order_newest_first_and_lowest_id_on_ties(tmp_path):
    t = now() - 100
    evs = [make(ALICE, content=f"n{i}", created_at=t + (i % 3)) for i in range(9)]
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c:
        await seed(c, evs)
        got = ids(await c.req("s", {"authors": [ALICE.public_key]}))
        want = [e.id for e in sorted(evs, key=lambda e: (-e.created_at, e.id))]
        assert got == want
        newest3 = ids(await c.req("l", {"authors": [ALICE.public_key], "limit": 3}))
        assert newest3 == want[:3]


async def test_find_by_id_author_kind_and_tags(tmp_path):
    e_ref, p_ref = "a" * 64, BOB.public_key
    note = make(ALICE, 1, "note", [["e", e_ref], ["t", "nostr"]])
    reaction = make(ALICE, 7, "+", [["e", e_ref], ["p", p_ref]])
    other = make(CAROL, 1, "other", [["t", "python"]])
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c:
        await seed(c, [note, reaction, other])
        assert ids(await c.req("a", {"ids": [note.id]})) == [note.id]
        assert set(ids(await c.req("b", {"authors": [ALICE.public_key]}))) == {note.id, reaction.id}
        assert ids(await c.req("c", {"authors": [ALICE.public_key], "kinds": [7]})) == [reaction.id]
        assert ids(await c.req("d", {"authors": [ALICE.public_key], "#t": ["nostr"]})) == [note.id]
        assert ids(await c.req("e", {"kinds": [7], "#e": [e_ref]})) == [reaction.id]
        assert set(ids(await c.req("f", {"#e": [e_ref]}))) == {note.id, reaction.id}
        # AND across tag names, OR within one
        assert ids(await c.req("g", {"#e": [e_ref], "#p": [p_ref]})) == [reaction.id]
        assert set(ids(await c.req("h", {"#t": ["nostr", "python"]}))) == {note.id, other.id}
        assert set(ids(await c.req("i", {}))) == {note.id, reaction.id, other.id}  # scrape


async def test_since_until_inclusive_and_negative_bounds(tmp_path):
    t = now() - 1000
    evs = [make(ALICE, content=str(i), created_at=t + i) for i in range(5)]
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c:
        await seed(c, evs)
        got = ids(await c.req("s", {"since": t + 1, "until": t + 3}))
        assert set(got) == {evs[1].id, evs[2].id, evs[3].id}
        assert len(await c.req("n", {"since": -5})) == 5
        assert await c.req("u", {"until": -5}) == []


async def test_multiple_filters_are_ored(tmp_path):
    a, b, c_ = make(ALICE, content="a"), make(BOB, content="b"), make(CAROL, content="c")
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c:
        await seed(c, [a, b, c_])
        got = await c.req("s", {"authors": [ALICE.public_key]}, {"ids": [b.id]})
        assert set(ids(got)) == {a.id, b.id}


async def test_limit_zero_gives_only_eose_but_stays_live(tmp_path):
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c:
        await seed(c, [make(ALICE, content="x")])
        assert await c.req("z", {"kinds": [1], "limit": 0}) == []
        later = make(ALICE, content="y")
        await seed(c, [later])
        assert (await c.live("z"))["id"] == later.id


async def test_limit_is_clamped_to_max_limit(tmp_path):
    async with running_relay(tmp_path, max_limit=3, default_limit=2) as relay, Client.open(relay.url) as c:
        await seed(c, [make(ALICE, content=str(i), created_at=now() - i) for i in range(6)])
        assert len(await c.req("big", {"limit": 100})) == 3
        assert len(await c.req("none", {})) == 2  # default_limit for a filter without one


async def test_req_with_same_id_replaces_and_close_stops_delivery(tmp_path):
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c, Client.open(relay.url) as p:
        await c.req("s", {"authors": [ALICE.public_key]})
        await c.req("s", {"authors": [BOB.public_key]})  # replaces: no longer about ALICE
        await seed(p, [make(ALICE, content="for the old filter")])
        bob = make(BOB, content="for the new one")
        await seed(p, [bob])
        assert (await c.live("s"))["id"] == bob.id
        await c.nothing(lambda m: m[0] == "EVENT")
        await c.send("CLOSE", "s")
        await seed(p, [make(BOB, content="after close")])
        await c.nothing(lambda m: m[0] == "EVENT")


async def test_sub_id_length_rules(tmp_path):
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c:
        assert await c.req("x" * 64, {}) == []
        await c.send("REQ", "x" * 65, {})
        msg = await c.next(lambda m: m[0] in ("NOTICE", "CLOSED"))
        assert "invalid:" in msg[-1]
        await c.send("REQ", "", {})
        msg = await c.next(lambda m: m[0] in ("NOTICE", "CLOSED"))
        assert "invalid:" in msg[-1]


async def test_max_subscriptions_enforced_with_closed(tmp_path):
    async with running_relay(tmp_path, max_subscriptions=3) as relay, Client.open(relay.url) as c:
        for i in range(3):
            await c.req(f"s{i}", {"kinds": [i]})
        reason = await c.closed_reason("s3", {"kinds": [9]})
        assert reason.startswith("blocked:")
        await c.req("s0", {"kinds": [5]})  # replacing an existing one is still fine
        await c.send("CLOSE", "s1")
        await c.req("s4", {"kinds": [6]})  # room again after CLOSE


async def test_too_many_filters_refused(tmp_path):
    async with running_relay(tmp_path, max_filters=2) as relay, Client.open(relay.url) as c:
        assert await c.req("ok", {}, {}) == []
        assert (await c.closed_reason("no", {}, {}, {})).startswith("invalid:")


async def test_count_nip45(tmp_path):
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c:
        await seed(c, [make(ALICE, 1, str(i)) for i in range(4)] + [make(ALICE, 7, "+"), make(BOB, 1, "b")])
        assert await c.count("c1", {"authors": [ALICE.public_key]}) == 5
        assert await c.count("c2", {"kinds": [1], "authors": [ALICE.public_key]}, {"authors": [BOB.public_key]}) == 5
        assert await c.count("c3", {"kinds": [1], "limit": 1}) == 5  # COUNT ignores limit


async def test_search_nip50(tmp_path):
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c:
        hit = make(ALICE, 1, "the Orange sunset over the bay")
        await seed(c, [hit, make(ALICE, 1, "purple rain")])
        assert ids(await c.req("q", {"search": "orange"})) == [hit.id]
        assert ids(await c.req("q2", {"search": "sunset language:en"})) == [hit.id]


async def test_kind_above_65535_in_filter_matches_nothing(tmp_path):
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c:
        await seed(c, [make(ALICE)])
        assert await c.req("k", {"kinds": [70000]}) == []


async def test_expired_events_not_served(tmp_path):
    import asyncio

    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c:
        soon = make(ALICE, 1, "short-lived", [["expiration", str(now() + 1)]])
        await seed(c, [soon])
        assert ids(await c.req("a", {"ids": [soon.id]})) == [soon.id]
        await asyncio.sleep(2.1)
        assert await c.req("b", {"ids": [soon.id]}) == []


@pytest.mark.parametrize("verb", ["REQ", "COUNT"])
async def test_unknown_filter_field_refused_with_closed(tmp_path, verb):
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c:
        await c.send(verb, "bad", {"colour": "blue"})
        msg = await c.next(lambda m: m[0] == "CLOSED")
        assert msg[1] == "bad" and msg[2].startswith("invalid:")
        with pytest.raises(Refused):
            await c.req("bad2", {"ids": ["ABC"]})
