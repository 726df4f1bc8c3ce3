"""Publish vs. retry-ticker races: the same event handled by a user's publish and the ticker's retry
at once is neither lost nor sent twice. The writer thread is held on purpose (a real store, a job
that waits on a gate) so the interleaving is forced, not hoped for."""

from __future__ import annotations

import asyncio
import threading

from nostr_desk.pool.pool import RelayPool
from nostr_desk.store import EventStore, StoreConfig
from nostr_desk.store import outbox as ob

from .events import make_event
from .fault_relay import Faults, FaultRelay
from .helpers import arun, fast_config, until


def test_publish_to_a_new_relay_while_the_retry_settles_it(tmp_path):
    """The ticker's retry delivers to `a` and settles the event while a publish of the same event
    to [a, b] is between its enqueue and its first round: `b` must still get it, `a` not again."""
    store = EventStore.open(StoreConfig(tmp_path / "events.db"))
    ev = make_event(500)
    gate = threading.Event()

    async def go():
        a = await FaultRelay(faults=Faults(silent_on_event=True)).start()
        b = await FaultRelay().start()
        pool = RelayPool(fast_config(ok_timeout=0.3, outbox_retry_interval=0.1), store)
        first = await pool.publish(ev, [a.url])
        assert first.pending
        store.run_in_writer(lambda _conn: gate.wait(20))      # hold the writer: writes queue behind it
        a.faults.silent_on_event = False
        await until(lambda: ev.id in a.events)                # the retry was sent; its record waits
        again = asyncio.ensure_future(pool.publish(ev, [a.url, b.url]))
        for _ in range(5):
            await asyncio.sleep(0)                            # the publish runs up to its first await
        gate.set()
        report = await again
        assert b.received.get(ev.id) == 1, "the new relay never got the event"
        assert a.received[ev.id] == 2                         # the silent try and the retry, no third
        assert report.accepted == 2 and report.tried == 2
        await until(lambda: pool.publisher.pending_ids() == [])
        assert pool.ticker_errors == 0, pool.last_ticker_error
        await pool.close()
        await a.stop(); await b.stop()

    try:
        arun(go())
    finally:
        gate.set()
    conn = store.connect()
    try:
        entry = ob.entry(conn, ev.id)
    finally:
        conn.close()
    assert entry.state == "delivered"
    assert len(entry.relays) == 2 and all(r.state == "accepted" for r in entry.relays)
    store.close()


def test_many_concurrent_publishes_and_retries_of_one_event_send_it_once(tmp_path):
    """Several publishes of one event racing the ticker (a 1 ms retry interval): one send per relay,
    no ticker error (the KeyError of a forgotten event), one delivered row."""
    store = EventStore.open(StoreConfig(tmp_path / "events.db"))

    async def go():
        a, b = await FaultRelay().start(), await FaultRelay().start()
        pool = RelayPool(fast_config(outbox_retry_interval=0.001), store)
        for i in range(20):
            ev = make_event(600 + i)
            reports = await asyncio.gather(pool.publish(ev, [a.url]), pool.publish(ev, [a.url, b.url]),
                                           pool.publish(ev, [b.url]), pool.resume())
            assert all(r.delivered for r in reports[:3])
            await until(lambda ev=ev: b.received.get(ev.id) == 1 and a.received.get(ev.id) == 1)
        assert pool.ticker_errors == 0, pool.last_ticker_error
        assert all(n == 1 for n in a.received.values()) and all(n == 1 for n in b.received.values())
        await pool.close()
        await a.stop(); await b.stop()

    arun(go())
    store.close()
