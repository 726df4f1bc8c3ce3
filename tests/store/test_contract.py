"""The event store contract every service codes against: open, submit/save/save_many, query, count,
get, events_since, stats, connect, close — on a real SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from nostr_desk.protocol.event import Event
from nostr_desk.protocol.filters import Filter
from nostr_desk.store import EventStore, SaveOutcome, SaveResult, StoreClosed, StoreConfig
from nostr_desk.store.schema import MIGRATIONS, schema_version

from .conftest import ALICE, BOB, NOW, ids, make


def test_open_creates_schema_in_wal_mode(store_path):
    with EventStore.open(StoreConfig(path=store_path)) as s:
        conn = s.connect()
        try:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
            assert schema_version(conn) == max(v for v, _ in MIGRATIONS)
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    assert {"events", "tags", "deletions", "events_fts", "event_relays"} <= tables


def test_reopen_keeps_events_and_does_not_remigrate(store_path):
    ev = make(content="kept")
    with EventStore.open(StoreConfig(path=store_path)) as s:
        assert s.submit(ev).result(10).outcome is SaveOutcome.SAVED
    with EventStore.open(StoreConfig(path=store_path)) as s:
        assert s.get(ev.id) == ev.to_bytes()


def test_submit_resolves_with_saved_then_duplicate(store):
    ev = make(content="hello")
    first = store.submit(ev).result(10)
    second = store.submit(ev).result(10)
    assert first == SaveResult(SaveOutcome.SAVED) and first.accepted
    assert second.outcome is SaveOutcome.DUPLICATE and second.accepted
    assert second.message.startswith("duplicate:")


def test_raw_bytes_are_served_as_given(store):
    ev = make(content="raw")
    raw = ev.to_bytes()
    store.submit(ev, raw).result(10)
    assert store.get(ev.id) is not None and store.get(ev.id) == raw
    assert store.query([Filter(ids=frozenset({ev.id}))], now=NOW) == [raw]


def test_get_unknown_is_none(store):
    assert store.get("0" * 64) is None


def test_save_is_awaitable(store):
    ev = make(content="async")
    result = asyncio.run(store.save(ev))
    assert result.outcome is SaveOutcome.SAVED
    assert store.get(ev.id) == ev.to_bytes()


def test_save_many_returns_one_result_per_event_in_order(store):
    evs = [make(content=f"n{i}", created_at=NOW - i) for i in range(5)]
    results = store.save_many(evs + evs[:1])
    assert [r.outcome for r in results] == [SaveOutcome.SAVED] * 5 + [SaveOutcome.DUPLICATE]


def test_query_order_limit_and_or(store):
    a = [make(ALICE, content=f"a{i}", created_at=NOW - 10 * i) for i in range(4)]
    b = [make(BOB, kind=7, content="+", created_at=NOW - 5 - 10 * i) for i in range(4)]
    store.save_many(a + b)
    got = store.query([Filter(authors=frozenset({ALICE.public_key}), limit=2), Filter(kinds=frozenset({7}), limit=1)], now=NOW)
    assert ids(got) == [a[0].id, b[0].id, a[1].id]


def test_query_ties_by_lowest_id(store):
    evs = [make(content=f"t{i}", created_at=NOW - 1) for i in range(6)]
    store.save_many(evs)
    got = ids(store.query([Filter(limit=3)], now=NOW))
    assert got == sorted(e.id for e in evs)[:3]


def test_max_limit_caps_queries(store_path):
    with EventStore.open(StoreConfig(path=store_path, max_limit=3)) as s:
        s.save_many([make(content=str(i), created_at=NOW - i) for i in range(6)])
        assert len(s.query([Filter()], now=NOW)) == 3
        assert len(s.query([Filter(limit=100)], now=NOW)) == 3
        assert s.count([Filter()], now=NOW) == 6


def test_limit_zero_returns_nothing(store):
    store.submit(make()).result(10)
    assert store.query([Filter(limit=0)], now=NOW) == []


def test_count(store):
    store.save_many([make(ALICE, content="1"), make(BOB, content="2"), make(BOB, kind=7, content="3")])
    assert store.count([Filter(authors=frozenset({BOB.public_key}))], now=NOW) == 2
    assert store.count([Filter(kinds=frozenset({1})), Filter(authors=frozenset({BOB.public_key}))], now=NOW) == 3
    assert store.count([Filter(kinds=frozenset())], now=NOW) == 0


def test_events_since_follows_insert_order(store):
    evs = [make(content=f"s{i}", created_at=NOW - 100 + i) for i in range(5)]
    store.save_many(evs)
    page = store.events_since(0, limit=3)
    assert [Event.from_json(raw).id for _, raw in page] == [e.id for e in evs[:3]]
    rest = store.events_since(page[-1][0])
    assert [Event.from_json(raw).id for _, raw in rest] == [e.id for e in evs[3:]]
    assert store.events_since(rest[-1][0]) == []


def test_seq_is_never_reused_after_replacement(store):
    old = make(kind=0, content="old", created_at=NOW - 10)
    store.submit(old).result(10)
    (seq_old, _), = store.events_since(0)
    new = make(kind=0, content="new", created_at=NOW - 5)
    assert store.submit(new).result(10).outcome is SaveOutcome.REPLACED
    (seq_new, raw), = store.events_since(0)
    assert seq_new > seq_old and raw == new.to_bytes()


def test_stats(store):
    store.save_many([make(content=str(i)) for i in range(3)])
    st = store.stats()
    assert st.events == 3 and st.db_bytes > 0


def test_provenance_from_source(store):
    ev = make(content="prov")
    store.submit(ev, source="wss://a.example", now=NOW).result(10)
    store.submit(ev, source="wss://b.example", now=NOW + 5).result(10)
    store.submit(ev, source="wss://a.example", now=NOW + 9).result(10)
    assert store.relays_of(ev.id) == [("wss://a.example", NOW), ("wss://b.example", NOW + 5)]


def test_connect_gives_a_usable_connection_for_other_tables(store):
    conn = store.connect()
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS cache_meta (k TEXT PRIMARY KEY, v TEXT)")
        conn.execute("INSERT INTO cache_meta VALUES ('x', 'y')")
        assert conn.execute("SELECT v FROM cache_meta").fetchone()[0] == "y"
    finally:
        conn.close()


def test_close_flushes_and_refuses_more(store_path):
    s = EventStore.open(StoreConfig(path=store_path))
    futures = [s.submit(make(content=f"c{i}")) for i in range(50)]
    s.close()
    assert all(f.done() and f.result().outcome is SaveOutcome.SAVED for f in futures)
    with pytest.raises(StoreClosed):
        s.submit(make(content="late"))
    with pytest.raises(StoreClosed):
        s.query([Filter()], now=NOW)
    s.close()  # idempotent
    conn = sqlite3.connect(store_path)
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 50
    conn.close()


def test_query_from_many_threads(store):
    import concurrent.futures as cf

    store.save_many([make(content=f"m{i}", created_at=NOW - i) for i in range(40)])
    with cf.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: len(store.query([Filter(limit=25)], now=NOW)), range(20)))
    assert results == [25] * 20


def test_open_refuses_a_file_that_is_not_a_database(tmp_path):
    from nostr_desk.store import StoreError

    bad = tmp_path / "junk.sqlite3"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="junk.sqlite3"):
        EventStore.open(StoreConfig(path=bad))


def test_open_refuses_a_newer_schema(store_path):
    from nostr_desk.store import StoreError

    conn = sqlite3.connect(store_path)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        EventStore.open(StoreConfig(path=store_path))
