"""Per-publish retry backoff with an injected wall clock: a pending (event, relay) is retried on
its schedule (base, 2x base, ... capped), not on every tick; the schedule is kept in the outbox and
honoured by a restarted pool. Ticks are counted (`pool.ticks`), never slept for."""

from __future__ import annotations

from nostr_desk.pool.pool import RelayPool
from nostr_desk.store import EventStore, StoreConfig
from nostr_desk.store import outbox as ob

from .events import make_event
from .fault_relay import Faults, FaultRelay
from .helpers import arun, fast_config, until


class Wall:
    """The pool's wall clock, moved by the test."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def rows(store, event_id):
    conn = store.connect()
    try:
        return {r.relay: r for r in ob.entry(conn, event_id).relays}
    finally:
        conn.close()


async def ticks(pool, n: int) -> None:
    start = pool.ticks
    await until(lambda: pool.ticks >= start + n)


CONFIG = dict(ok_timeout=0.2, connect_timeout=0.2, outbox_retry_interval=0.02,
              publish_retry_base=10.0, publish_retry_cap=40.0)


def test_a_pending_publish_is_retried_on_its_schedule_and_across_a_restart(tmp_path):
    store = EventStore.open(StoreConfig(tmp_path / "events.db"))
    wall = Wall(1000.0)
    ev = make_event(800)

    async def go():
        silent = await FaultRelay(faults=Faults(silent_on_event=True)).start()   # connected, never answers
        pool = RelayPool(fast_config(**CONFIG), store, wall=wall)
        report = await pool.publish(ev, [silent.url])
        assert report.pending and silent.received[ev.id] == 1
        await ticks(pool, 10)
        assert silent.received[ev.id] == 1, "retried on every tick, not on its schedule"
        assert rows(store, ev.id)[silent.url].next_attempt == 1010.0
        wall.now = 1010.0                                   # due: base
        await until(lambda: silent.received[ev.id] == 2)
        await until(lambda: rows(store, ev.id)[silent.url].next_attempt == 1030.0)   # then 2 x base
        wall.now = 1029.0
        await ticks(pool, 10)
        assert silent.received[ev.id] == 2
        wall.now = 1030.0
        await until(lambda: silent.received[ev.id] == 3)
        await until(lambda: rows(store, ev.id)[silent.url].next_attempt == 1070.0)   # capped at 40
        await pool.close()

        restarted = RelayPool(fast_config(**CONFIG), store, wall=wall)
        reports = await restarted.resume()
        assert reports[0].pending
        await until(lambda: restarted.connections[silent.url].connected)
        await ticks(restarted, 10)
        assert silent.received[ev.id] == 3, "a restart forgot the schedule"
        silent.faults.silent_on_event = False
        wall.now = 1070.0
        await until(lambda: ev.id in silent.events)
        await until(lambda: restarted.publisher.pending_ids() == [])
        assert silent.received[ev.id] == 4
        await restarted.close()
        await silent.stop()

    arun(go())
    store.close()


def test_a_dead_relay_backs_off_and_is_tried_as_soon_as_it_is_back(tmp_path):
    store = EventStore.open(StoreConfig(tmp_path / "events.db"))
    wall = Wall(5000.0)
    ev = make_event(801)

    async def go():
        relay = await FaultRelay().start()
        url = relay.url
        await relay.stop()                                  # dead: nothing listens
        pool = RelayPool(fast_config(**CONFIG), store, wall=wall)
        report = await pool.publish(ev, [url])
        assert report.pending
        await ticks(pool, 10)
        row = rows(store, ev.id)[url]
        assert (row.misses, row.next_attempt, row.unsent) == (1, 5010.0, True), "waited for on every tick"
        await relay.start()                                 # back on the same port, clock still frozen
        await until(lambda: ev.id in relay.events)
        await until(lambda: pool.publisher.pending_ids() == [])
        assert relay.received[ev.id] == 1
        await pool.close()
        await relay.stop()

    arun(go())
    store.close()
