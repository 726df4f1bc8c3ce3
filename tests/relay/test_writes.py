"""Compliance: EVENT handling (OK after every event, id/signature, duplicates, JSON robustness,
time window, replaceable/addressable, NIP-09 deletion, ephemeral, NIP-40, NIP-13)."""

from __future__ import annotations

import json

import pytest

from nostr_desk.protocol.event import Event

from .helpers import ALICE, BOB, CAROL, Client, ids, make, now, running_relay

DAY = 86400


async def test_ok_after_every_event_and_duplicate(tmp_path):
    ev = make(ALICE, content="hello")
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c:
        assert await c.publish(ev) == (True, "")
        ok, msg = await c.publish(ev)
        assert ok and msg.startswith("duplicate:")


async def test_bad_signature_and_bad_id_rejected(tmp_path):
    ev = make(ALICE, content="signed")
    bad_sig = ev.to_obj() | {"sig": ev.sig[:-2] + ("00" if ev.sig[-2:] != "00" else "11")}
    bad_id = ev.to_obj() | {"content": "tampered"}
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c:
        ok, msg = await c.publish(bad_sig)
        assert not ok and msg.startswith("invalid:")
        ok, msg = await c.publish(bad_id)
        assert not ok and msg.startswith("invalid:")
        assert await c.req("s", {"authors": [ALICE.public_key]}) == []
        assert relay.metrics().verify_failures == 2


async def test_signature_cache_never_vouches_for_changed_content(tmp_path):
    ev = make(ALICE, content="original")
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c:
        assert (await c.publish(ev))[0]
        forged = ev.to_obj() | {"content": "changed"}  # same (id, sig): in the verified cache
        ok, msg = await c.publish(forged)
        assert not ok and msg.startswith("invalid:")


async def test_malformed_event_answered_with_ok_false_when_id_readable(tmp_path):
    ev = make(ALICE).to_obj()
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c:
        await c.send("EVENT", ev | {"kind": "one"})
        msg = await c.next(lambda m: m[0] in ("OK", "NOTICE"))
        assert msg[0] == "OK" and msg[1] == ev["id"] and msg[2] is False and msg[3].startswith("invalid:")
        await c.send("EVENT", {"content": 1})
        msg = await c.next(lambda m: m[0] in ("OK", "NOTICE"))
        assert msg[0] == "NOTICE" and msg[1].startswith("invalid:")
        assert (await c.publish(make(ALICE, content="still serving")))[0]


@pytest.mark.parametrize(
    "content",
    [
        "line\nbreak \"quote\" back\\slash \r\t\b\f",  # NIP-01 escapes
        "".join(chr(c) for c in range(0x20)),  # unlisted control escapes, incl. \u0000
        "noncharacters \ufdd0 \ufffe \uffff \U0001fffe",
        "emoji 🎉 and CJK 漢字 and RTL مرحبا",
    ],
)
async def test_json_escapes_and_unicode_round_trip(tmp_path, content):
    ev = make(ALICE, content=content)
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c:
        assert await c.publish(ev) == (True, "")
        (got,) = await c.req("s", {"ids": [ev.id]})
        assert got["content"] == content and Event.from_obj(got).verify()


async def test_escaped_solidus_and_literal_unicode_accepted(tmp_path):
    ev = make(ALICE, content="a/b/c é")
    text = json.dumps(["EVENT", ev.to_obj()], ensure_ascii=True).replace("/", "\\/")
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c:
        await c.send_raw(text)
        reply = await c.next(lambda m: m[0] == "OK")
        assert reply[1:3] == [ev.id, True]


async def test_empty_tags_and_large_contact_list(tmp_path):
    empty = make(ALICE, 1, "", [[], []])
    follows = [["p", f"{i:064x}", "wss://relay.example.com"] for i in range(3000)]
    contacts = make(ALICE, 3, "", follows)
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c:
        assert (await c.publish(empty))[0]
        ok, msg = await c.publish(contacts)
        assert ok, msg
        (got,) = await c.req("s", {"kinds": [3], "authors": [ALICE.public_key]})
        assert len(got["tags"]) == 3000


@pytest.mark.parametrize("age", [7 * DAY, 31 * DAY, 366 * DAY, now() - 1_500_000_000, now() - 946_000_000, now()])
async def test_old_events_accepted_by_default(tmp_path, age):
    ev = make(BOB, content=f"old {age}", created_at=now() - age)
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c:
        ok, msg = await c.publish(ev)
        assert ok, msg


async def test_created_at_window_enforced_as_configured(tmp_path):
    async with running_relay(tmp_path, created_at_lower_limit=30 * DAY, created_at_upper_limit=60) as relay, \
            Client.open(relay.url) as c:
        assert (await c.publish(make(ALICE, content="a week", created_at=now() - 7 * DAY)))[0]
        ok, msg = await c.publish(make(ALICE, content="a year", created_at=now() - 365 * DAY))
        assert not ok and msg.startswith("invalid:")
        assert (await c.publish(make(ALICE, content="+30s", created_at=now() + 30)))[0]
        ok, msg = await c.publish(make(ALICE, content="+1h", created_at=now() + 3600))
        assert not ok and msg.startswith("invalid:")


@pytest.mark.parametrize("created_at", [now() + 366 * DAY, 2**31 + 5, 2**32 + 5])
async def test_distant_future_rejected(tmp_path, created_at):
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c:
        ok, msg = await c.publish(make(ALICE, content="future", created_at=created_at))
        assert not ok and msg.startswith("invalid:")


@pytest.mark.parametrize("bad", [{"created_at": -1}, {"created_at": 1.7e9}, {"kind": 70000}])
async def test_out_of_range_fields_rejected(tmp_path, bad):
    ev = make(ALICE).to_obj() | bad
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c:
        ok, msg = await c.publish(ev)
        assert not ok and msg.startswith("invalid:")


async def test_replaceable_and_addressable(tmp_path):
    t = now() - 100
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c:
        m1 = make(ALICE, 0, '{"name":"a"}', created_at=t)
        m2 = make(ALICE, 0, '{"name":"b"}', created_at=t + 1)
        assert (await c.publish(m1))[0] and (await c.publish(m2))[0]
        assert ids(await c.req("m", {"kinds": [0], "authors": [ALICE.public_key]})) == [m2.id]
        ok, msg = await c.publish(make(ALICE, 0, '{"name":"old"}', created_at=t - 5))
        assert not ok and ":" in msg  # older than what we have
        # equal timestamps: the lowest id is kept
        x, y = make(BOB, 10002, "x", created_at=t), make(BOB, 10002, "y", created_at=t)
        await c.publish(x)
        await c.publish(y)
        assert ids(await c.req("r", {"kinds": [10002], "authors": [BOB.public_key]})) == [min(x.id, y.id)]
        # d tag matters for 30000-39999, not for 10000-19999; a missing d equals an empty one
        a1 = make(CAROL, 30023, "one", [["d", "one"]], created_at=t)
        a2 = make(CAROL, 30023, "two", [["d", "two"]], created_at=t)
        empty = make(CAROL, 30023, "empty", [["d", ""]], created_at=t)
        missing = make(CAROL, 30023, "missing", [], created_at=t + 1)
        for ev in (a1, a2, empty, missing):
            assert (await c.publish(ev))[0]
        got = set(ids(await c.req("a", {"kinds": [30023], "authors": [CAROL.public_key]})))
        assert got == {a1.id, a2.id, missing.id}
        r1 = make(CAROL, 10000, "mutes 1", [["d", "one"]], created_at=t)
        r2 = make(CAROL, 10000, "mutes 2", [["d", "two"]], created_at=t + 1)
        await c.publish(r1)
        await c.publish(r2)
        assert ids(await c.req("b", {"kinds": [10000], "authors": [CAROL.public_key]})) == [r2.id]
        assert (await c.publish(make(ALICE, 10050, "", [["relay", "wss://dm.example.com"]])))[0]


async def test_deletion_by_id_and_by_address(tmp_path):
    t = now() - 100
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c:
        note = make(ALICE, 1, "oops", created_at=t)
        bobs = make(BOB, 1, "not alice's to delete", created_at=t)
        await c.publish(note)
        await c.publish(bobs)
        delete = make(ALICE, 5, "", [["e", note.id], ["e", bobs.id], ["k", "1"]], created_at=t + 1)
        assert (await c.publish(delete))[0]
        assert await c.req("d", {"ids": [note.id]}) == []
        assert ids(await c.req("b", {"ids": [bobs.id]})) == [bobs.id]  # others' events stay
        ok, msg = await c.publish(note)  # a deleted id cannot come back
        assert not ok
        # by address: versions up to the deletion's created_at go, newer ones are accepted
        old = make(ALICE, 30023, "v1", [["d", "post"]], created_at=t)
        await c.publish(old)
        addr = f"30023:{ALICE.public_key}:post"
        await c.publish(make(ALICE, 5, "", [["a", addr]], created_at=t + 10))
        assert await c.req("a1", {"kinds": [30023], "authors": [ALICE.public_key]}) == []
        assert not (await c.publish(make(ALICE, 30023, "v0", [["d", "post"]], created_at=t + 5)))[0]
        newer = make(ALICE, 30023, "v2", [["d", "post"]], created_at=t + 20)
        assert (await c.publish(newer))[0]
        assert ids(await c.req("a2", {"kinds": [30023], "authors": [ALICE.public_key]})) == [newer.id]


async def test_ephemeral_delivered_live_never_stored(tmp_path):
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c, Client.open(relay.url) as p:
        await c.req("e", {"kinds": [20001]})
        ev = make(ALICE, 20001, "typing…")
        assert (await p.publish(ev))[0]
        assert (await c.live("e"))["id"] == ev.id
        assert await p.req("later", {"kinds": [20001]}) == []


async def test_expired_event_refused_on_publish(tmp_path):
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c:
        ok, msg = await c.publish(make(ALICE, 1, "gone", [["expiration", str(now() - 10)]]))
        assert not ok and msg.startswith("invalid:")


async def test_pow_minimum_difficulty(tmp_path):
    from nostr_desk.relay.policy import leading_zero_bits

    def mined(target: int):
        nonce = 0
        while True:
            ev = make(ALICE, 1, "pow", [["nonce", str(nonce), str(target)]], created_at=now())
            if leading_zero_bits(ev.id) >= target:
                return ev
            nonce += 1

    async with running_relay(tmp_path, min_pow_difficulty=8) as relay, Client.open(relay.url) as c:
        weak = make(ALICE, 1, "no pow")
        if leading_zero_bits(weak.id) < 8:
            ok, msg = await c.publish(weak)
            assert not ok and msg.startswith("pow:")
        assert (await c.publish(mined(8)))[0]
        ok, msg = await c.publish(_lucky_under_low_target())
        assert not ok and msg.startswith("pow:")


def _lucky_under_low_target():
    """An id with >= 8 zero bits whose nonce commits to target 4: NIP-13 says reject."""
    from nostr_desk.relay.policy import leading_zero_bits

    nonce = 0
    while True:
        ev = make(BOB, 1, "lucky", [["nonce", str(nonce), "4"]], created_at=now())
        if leading_zero_bits(ev.id) >= 8:
            return ev
        nonce += 1


async def test_kind_22242_not_publishable(tmp_path):
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c:
        ok, msg = await c.publish(make(ALICE, 22242, "", [["relay", relay.url], ["challenge", c.challenge]]))
        assert not ok and msg.startswith("invalid:")



async def test_address_deletion_is_bound_to_its_author_and_exact_address(tmp_path):
    t = now() - 100
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c:
        mine = make(ALICE, 30023, "mine", [["d", "post"]], created_at=t)
        other_d = make(ALICE, 30023, "other d", [["d", "post-2"]], created_at=t)
        bobs = make(BOB, 30023, "bob's", [["d", "post"]], created_at=t)
        for ev in (mine, other_d, bobs):
            assert (await c.publish(ev))[0]
        # BOB names ALICE's address: nothing of hers goes
        await c.publish(make(BOB, 5, "", [["a", f"30023:{ALICE.public_key}:post"]], created_at=t + 5))
        assert ids(await c.req("a", {"ids": [mine.id]})) == [mine.id]
        # ALICE deletes exactly 30023:alice:post; "post-2" and BOB's "post" stay
        deletion = make(ALICE, 5, "", [["a", f"30023:{ALICE.public_key}:post"]], created_at=t + 10)
        assert (await c.publish(deletion))[0]
        got = set(ids(await c.req("b", {"kinds": [30023]})))
        assert got == {other_d.id, bobs.id}
        # a deletion of a deletion has no effect (NIP-09)
        await c.publish(make(ALICE, 5, "", [["e", deletion.id]], created_at=t + 20))
        assert ids(await c.req("c", {"kinds": [30023], "authors": [ALICE.public_key]})) == [other_d.id]
