"""Subscription lifecycles under stress: a cancelled fetch leaves no task behind, a relay that
ignores `limit` cannot grow a fetch without end, a stuck relay does not delay the others' REQs."""

from __future__ import annotations

import asyncio
import time

from nostr_desk.pool.pool import RelayPool
from nostr_desk.protocol.filters import Filter

from .events import make_event
from .fault_relay import Faults, FaultRelay
from .helpers import arun, fast_config


def _waiting_tasks(but: asyncio.Event) -> list[asyncio.Task]:
    """Pending tasks waiting on an asyncio.Event other than `but` (the fault relay's own stop flag)."""
    me = asyncio.current_task()
    return [t for t in asyncio.all_tasks() if t is not me and not t.done()
            and getattr(t.get_coro(), "__qualname__", "") == "Event.wait"
            and t.get_coro().cr_frame.f_locals.get("self") is not but]


def test_a_cancelled_fetch_leaves_no_waiter_behind():
    async def go():
        slow = await FaultRelay(faults=Faults(eose_delay=30)).start()
        pool = RelayPool(fast_config(), None)
        fetch = asyncio.ensure_future(pool.fetch([Filter.from_obj({"kinds": [1]})], timeout=20, relays=[slow.url]))
        await asyncio.sleep(0.3)
        fetch.cancel()
        await asyncio.gather(fetch, return_exceptions=True)
        await asyncio.sleep(0)
        assert _waiting_tasks(slow._stopping) == [] and pool._subs == {}
        await pool.close()
        await slow.stop()
    arun(go())


def test_a_relay_ignoring_limit_cannot_flood_a_fetch():
    evs = [make_event(i) for i in range(200)]

    async def go():
        greedy = await FaultRelay(faults=Faults(ignore_limit=True)).start()
        greedy.add(*evs)
        pool = RelayPool(fast_config(), None)
        got = await pool.fetch([Filter.from_obj({"kinds": [1], "limit": 10})], timeout=5, relays=[greedy.url])
        # One relay, limit 10: the first ten it sent (relays send newest first) are what we keep.
        assert [e.id for e in got] == [e.id for e in sorted(evs, key=lambda e: -e.created_at)[:10]]
        await pool.close()
        await greedy.stop()
    arun(go())


def test_a_relay_that_stops_reading_does_not_delay_the_others_reqs():
    async def go():
        stuck, good = await FaultRelay().start(), await FaultRelay().start()
        good.add(make_event(1))
        pool = RelayPool(fast_config(send_timeout=3), None)
        for r in (stuck, good):
            assert await pool.relay(r.url).wait_connected(5)
        for ws in list(stuck._clients):
            ws.transport.pause_reading()
        ws = pool.relay(stuck.url)._ws
        for _ in range(100):          # fill the socket towards the stuck relay until a write waits
            try:
                await asyncio.wait_for(ws.send("x" * 500_000), 0.2)
            except asyncio.TimeoutError:
                break
        else:
            raise AssertionError("the socket never filled up")
        started = time.monotonic()
        got = await pool.fetch([Filter.from_obj({"kinds": [1]})], timeout=5, relays=[stuck.url, good.url])
        # The good relay got its REQ at once; the fetch then waited for the stuck one only until
        # its send timed out and the socket was dropped (partial results, well within the timeout).
        assert len(got) == 1 and good.req_times[0] - started < 0.5 and time.monotonic() - started < 4.5
        await pool.close()
        for r in (stuck, good):
            await r.stop()
    arun(go(), timeout=60)


def test_a_relay_faster_than_verification_is_held_back_not_buffered():
    # New events wait in memory until verified; a relay that sends faster than we verify must be
    # slowed at the socket (we stop reading it), not buffered without end.
    evs = [make_event(i, content=f"flood {i}") for i in range(3000)]

    async def go():
        fast = await FaultRelay().start()
        fast.add(*evs)
        pool = RelayPool(fast_config(verify_backlog=200, verify_batch_offload=64), None)
        sub = await pool.subscribe([Filter.from_obj({"kinds": [1]})], [fast.url], max_queue=0)
        await sub.wait_eose(20)
        assert len(sub.drain()) == 3000
        assert sub.dedup.max_pending <= 200 and pool.health()[fast.url].stalls >= 1
        await sub.close()
        await pool.close()
        await fast.stop()
    arun(go(), timeout=60)


def test_a_relay_that_is_down_does_not_make_every_fetch_wait_its_timeout():
    # A read relay in backoff (refusing for a while) would hold each fetch for the full EOSE
    # timeout: the user's thread opens slowly whenever one of their relays is down.
    async def go():
        good = await FaultRelay().start()
        good.add(make_event(1))
        dead = await FaultRelay().start()
        dead_url = dead.url
        await dead.stop()
        pool = RelayPool(fast_config(backoff_base=2.0, backoff_cap=4.0), None)
        pool.add_relay(good.url)
        pool.add_relay(dead_url)
        assert await pool.relay(good.url).wait_connected(5)
        while pool.relay(dead_url).health.status != "backoff":
            await asyncio.sleep(0.02)
        for relays in (None, [good.url, dead_url]):          # chosen by health, and named
            started = time.monotonic()
            got = await pool.fetch([Filter.from_obj({"kinds": [1]})], timeout=5, relays=relays)
            assert len(got) == 1 and time.monotonic() - started < 1.0
        await pool.close()
        await good.stop()
    arun(go())
