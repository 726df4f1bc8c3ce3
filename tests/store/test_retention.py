"""Retention: prune evicts oldest first and never the owners' events, kinds 0/3/10002, or events
p-tagging an owner; the byte quota is reached; compact shrinks the file; everything stays queryable."""

from __future__ import annotations

from nostr_desk.protocol.filters import Filter
from nostr_desk.store import EventStore, StoreConfig
from nostr_desk.store.sqlite import db_bytes

from .conftest import ALICE, BOB, CAROL, NOW, ids, make


def fill(store: EventStore) -> dict[str, list]:
    keep = [
        make(ALICE, content="my note", created_at=NOW - 10_000),
        make(BOB, kind=0, content="bob profile", created_at=NOW - 10_000),
        make(BOB, kind=3, content="", created_at=NOW - 10_000),
        make(CAROL, kind=10002, tags=[["r", "wss://x"]], created_at=NOW - 10_000),
        make(CAROL, content="hi alice", tags=[["p", ALICE.public_key]], created_at=NOW - 10_000),
    ]
    others = [make(BOB, content=f"filler {i} " + "y" * 400, created_at=NOW - 5000 + i) for i in range(400)]
    store.save_many(keep + others)
    return {"keep": keep, "others": others}


def test_prune_max_events_evicts_oldest_unprotected(store_path):
    with EventStore.open(StoreConfig(path=store_path, owner_pubkeys=frozenset({ALICE.public_key}))) as s:
        evs = fill(s)
        result = s.prune(max_events=105)
        assert result.removed == 300 and result.events == 105
        left = set(ids(s.query([Filter()], now=NOW)))
        assert {e.id for e in evs["keep"]} <= left
        assert left - {e.id for e in evs["keep"]} == {e.id for e in evs["others"][-100:]}


def test_prune_stops_when_only_protected_remain(store_path):
    with EventStore.open(StoreConfig(path=store_path, owner_pubkeys=frozenset({ALICE.public_key}))) as s:
        evs = fill(s)
        result = s.prune(max_events=0)
        assert result.events == len(evs["keep"])
        assert sorted(ids(s.query([Filter()], now=NOW))) == sorted(e.id for e in evs["keep"])


def test_prune_without_owners_still_keeps_profile_kinds(store_path):
    with EventStore.open(StoreConfig(path=store_path)) as s:
        evs = fill(s)
        s.prune(max_events=0)
        assert sorted(ids(s.query([Filter()], now=NOW))) == sorted(e.id for e in evs["keep"][1:4])


def test_prune_to_byte_quota_then_compact_shrinks_the_file(store_path):
    with EventStore.open(StoreConfig(path=store_path, owner_pubkeys=frozenset({ALICE.public_key}))) as s:
        evs = fill(s)
        conn = s.connect()
        from nostr_desk.store.retention import used_bytes

        full = used_bytes(conn)
        quota = full // 2
        result = s.prune(quota_bytes=quota)
        assert result.used_bytes <= quota and 0 < result.removed < 400
        assert used_bytes(conn) <= quota
        conn.close()
        survivors = ids(s.query([Filter(authors=frozenset({BOB.public_key}), kinds=frozenset({1}))], now=NOW))
        assert survivors == [e.id for e in reversed(evs["others"][-len(survivors):])]  # the newest stayed
        assert {e.id for e in evs["keep"]} <= set(ids(s.query([Filter()], now=NOW)))
        before = db_bytes(store_path)
        s.compact()
        assert db_bytes(store_path) < before
        assert s.query([Filter(search="filler")], now=NOW)  # search index survives the vacuum
