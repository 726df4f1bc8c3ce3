"""Provenance (event_relays rows) is written only for events the store holds: copies that all fail
verification, and verified events the store declines (ephemeral, expired), leave no rows behind."""

from __future__ import annotations

import pytest

from nostr_desk.pool.pool import RelayPool
from nostr_desk.protocol.filters import Filter
from nostr_desk.store import EventStore, StoreConfig

from .events import make_event
from .fault_relay import Faults, FaultRelay
from .helpers import arun, fast_config

KIND1 = [Filter.from_obj({"kinds": [1]})]


@pytest.fixture
def store(tmp_path):
    s = EventStore.open(StoreConfig(tmp_path / "events.db"))
    yield s
    s.close()


def orphan_rows(store: EventStore) -> int:
    conn = store.connect()
    try:
        return conn.execute("SELECT count(*) FROM event_relays r WHERE NOT EXISTS "
                            "(SELECT 1 FROM events e WHERE lower(hex(e.id)) = r.event_id)").fetchone()[0]
    finally:
        conn.close()


async def fetch_from(faults: list[Faults], events, store, filters=KIND1):
    rs = [await FaultRelay(faults=f).start() for f in faults]
    for r in rs:
        r.add(*events)
    pool = RelayPool(fast_config(), store)
    got = await pool.fetch(filters, timeout=5, relays=[r.url for r in rs])
    await pool.close()
    for r in rs:
        await r.stop()
    return got, [r.url for r in rs]


def test_every_copy_bad_leaves_no_provenance(store):
    evs = [make_event(i) for i in range(10)]
    got, _ = arun(fetch_from([Faults(bad_sigs=True), Faults(bad_sigs=True), Faults(wrong_ids=True)], evs, store))
    assert got == []
    for ev in evs:
        assert store.relays_of(ev.id) == [] and store.get(ev.id) is None
    assert orphan_rows(store) == 0


def test_verified_but_not_stored_leaves_no_provenance(store):
    # Ephemeral events verify but the store keeps nothing: no rows may point at them.
    evs = [make_event(i, kind=20001) for i in range(5)]
    got, _ = arun(fetch_from([Faults(), Faults(), Faults()], evs, store, [Filter.from_obj({"kinds": [20001]})]))
    assert len(got) == 5
    assert orphan_rows(store) == 0


def test_bad_first_copy_then_good_spares_record_every_good_relay(store):
    evs = [make_event(i) for i in range(10)]
    got, urls = arun(fetch_from([Faults(bad_sigs=True), Faults(), Faults()], evs, store))
    assert len(got) == 10
    for ev in evs:
        assert sorted(u for u, _ in store.relays_of(ev.id)) == sorted(urls[1:])
    assert orphan_rows(store) == 0


def test_events_outside_the_filters_are_dropped_not_stored(store):
    # Signatures prove who wrote an event, not that we asked for it: a relay pushing other events
    # (its own spam, other people's notes) into our subscription must not fill the store.
    wanted = [make_event(i) for i in range(3)]
    pushed = [make_event(10 + i, kind=7) for i in range(3)] + [make_event(20, key=5)]
    by_author = [Filter.from_obj({"kinds": [1], "authors": [wanted[0].pubkey]})]

    async def go():
        relay = await FaultRelay(faults=Faults(ignore_filters=True)).start()
        relay.add(*wanted, *pushed)
        pool = RelayPool(fast_config(), store)
        got = await pool.fetch(by_author, timeout=5, relays=[relay.url])
        health = pool.health()[relay.url]
        await pool.close()
        await relay.stop()
        return got, health

    got, health = arun(go())
    assert sorted(e.id for e in got) == sorted(e.id for e in wanted)
    assert health.unrequested == 4 and "filters" in health.last_error
    for ev in pushed:
        assert store.get(ev.id) is None and store.relays_of(ev.id) == []
