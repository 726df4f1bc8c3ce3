"""Live delivery of events the relay did not ingest itself: saved by the app's pool into the shared
store, or written into the same SQLite file by another process (`nostr-desk post` / `import`).
The relay tails the store, so live subscribers see them; history is never replayed as live, and an
event is delivered once whichever path sees it first."""

from __future__ import annotations

import asyncio
import time

from nostr_desk.relay import LocalRelay, RelayConfig
from nostr_desk.store import EventStore, StoreConfig

from .helpers import ALICE, BOB, CAROL, Client, make, now, running_relay

TAIL = 0.05  # a short tail interval keeps these tests fast
SETTLE = 6 * TAIL + 0.3  # long enough for several tail ticks after an event is committed


async def test_an_event_the_app_saves_reaches_live_subscribers_without_being_told(tmp_path):
    async with running_relay(tmp_path, tail_interval=TAIL) as relay, Client.open(relay.url) as c:
        await c.req("s", {"kinds": [1]})
        fetched = make(BOB, content="fetched by the pool, saved straight into the store")
        assert (await relay.store.save(fetched)).accepted
        assert (await c.live("s"))["id"] == fetched.id
        await c.nothing(lambda m: m[0] == "EVENT", wait=SETTLE)  # once only


async def test_an_event_another_process_writes_into_the_same_file_reaches_live_subscribers(tmp_path):
    async with running_relay(tmp_path, tail_interval=TAIL) as relay, Client.open(relay.url) as c:
        await c.req("s", {"authors": [CAROL.public_key]})
        other = EventStore.open(StoreConfig(path=relay.store.config.path))  # its own writer and connections
        try:
            posted = make(CAROL, content="posted by `nostr-desk post`")
            assert (await other.save(posted)).accepted
        finally:
            other.close()
        assert (await c.live("s"))["id"] == posted.id


async def test_history_is_not_replayed_and_the_relays_own_events_arrive_once(tmp_path):
    path = tmp_path / "relay.sqlite3"
    store = EventStore.open(StoreConfig(path=path))
    old = make(ALICE, content="stored before the relay started")
    assert store.save_many([old])[0].accepted
    relay = LocalRelay(RelayConfig(port=0, tail_interval=TAIL), store)
    await relay.start()
    try:
        async with Client.open(relay.url) as sub, Client.open(relay.url) as pub:
            await sub.req("s", {"kinds": [1], "limit": 0})
            mine = make(BOB, content="published to the relay itself")
            assert (await pub.publish(mine))[0]
            local = make(BOB, content="published by the app")
            await relay.publish_local(local)
            told = make(CAROL, content="saved by the pool, then notify_stored")
            assert (await store.save(told)).accepted
            await relay.notify_stored(told.to_bytes(), told)
            got = [(await sub.live("s"))["id"] for _ in range(3)]
            assert sorted(got) == sorted([mine.id, local.id, told.id])
            await sub.nothing(lambda m: m[0] == "EVENT", wait=SETTLE)  # no second copy, no history
    finally:
        await relay.stop()
        store.close()


async def test_restricted_kinds_from_the_store_reach_only_their_authenticated_parties(tmp_path):
    async with running_relay(tmp_path, tail_interval=TAIL) as relay, Client.open(relay.url) as anyone, \
            Client.open(relay.url) as bob:
        assert (await bob.auth(BOB, relay.url))[0]
        await anyone.req("all", {})
        await bob.req("mine", {"kinds": [4], "#p": [BOB.public_key]})
        dm = make(ALICE, kind=4, content="ciphertext", tags=[["p", BOB.public_key]])
        note = make(ALICE, content="public")
        assert (await relay.store.save(dm)).accepted and (await relay.store.save(note)).accepted
        assert (await bob.live("mine"))["id"] == dm.id
        assert (await anyone.live("all"))["id"] == note.id
        await anyone.nothing(lambda m: m[0] == "EVENT", wait=SETTLE)


async def test_an_event_that_expired_before_the_tail_read_it_is_not_delivered(tmp_path):
    # A tail that never ticks on its own: the test drives the ticks.
    async with running_relay(tmp_path, tail_interval=3600) as relay, Client.open(relay.url) as c:
        await c.req("s", {"kinds": [1]})
        tail = relay._server.tail
        expires = now() + 1
        short = make(ALICE, content="gone in a second", tags=[["expiration", str(expires)]])
        lasting = make(ALICE, content="stays")
        assert (await relay.store.save(short)).accepted and (await relay.store.save(lasting)).accepted
        while int(time.time()) <= expires:  # bounded: about 2 s, until the expiration has passed
            await asyncio.sleep(0.05)
        assert await tail.tick() == 2
        assert (await c.live("s"))["id"] == lasting.id
        await c.nothing(lambda m: m[0] == "EVENT", wait=0.3)


async def test_tail_reads_at_most_a_batch_per_tick_and_catches_up_in_order(tmp_path):
    async with running_relay(tmp_path, tail_interval=3600, tail_batch=3) as relay, Client.open(relay.url) as c:
        await c.req("s", {"authors": [CAROL.public_key]})
        events = [make(CAROL, content=str(i), created_at=now() - i) for i in range(7)]
        assert all(r.accepted for r in relay.store.save_many(events))
        tail = relay._server.tail
        assert [await tail.tick() for _ in range(4)] == [3, 3, 1, 0]
        got = [(await c.live("s"))["id"] for _ in events]
        assert got == [e.id for e in events]  # insert order


async def test_a_req_made_before_the_tail_reached_an_event_gets_it_once(tmp_path):
    async with running_relay(tmp_path, tail_interval=3600) as relay, Client.open(relay.url) as c:
        early = make(ALICE, content="stored, not yet read by the tail")
        assert (await relay.store.save(early)).accepted
        assert [e["id"] for e in await c.req("s", {"kinds": [1]})] == [early.id]  # served as stored
        later = make(ALICE, content="stored after the REQ")
        assert (await relay.store.save(later)).accepted
        assert await relay._server.tail.tick() == 2
        assert (await c.live("s"))["id"] == later.id
        await c.nothing(lambda m: m[0] == "EVENT", wait=0.3)  # `early` is not sent a second time
