"""After retention evicts events, `forget_missing` leaves the cache tables as a rebuild from the
remaining store would (the kept deletion requests aside), and the read models stop counting the gone."""

from __future__ import annotations

from nostr_desk.cache import schema
from nostr_desk.cache.projections import Projector
from nostr_desk.protocol.event import Event

from .conftest import NOW, key, make, open_store

ALICE, BOB = key("alice"), key("bob")


def _without_deletions(tables: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    return {t: rows for t, rows in tables.items() if t != "cache_deletions"}


def test_after_pruning_the_tables_match_a_rebuild(real_event_lines, tmp_path):
    store = open_store(tmp_path / "events.sqlite3")
    store.save_many([Event.from_json(line) for line in real_event_lines], now=NOW)
    conn = store.connect()
    projector = Projector(store, conn)
    projector.catch_up()
    notes_before = conn.execute("SELECT count(*) FROM cache_notes").fetchone()[0]
    result = store.prune(max_events=800)
    assert result.removed > 1000

    removed = projector.forget_missing()

    assert removed > 0
    assert conn.execute("SELECT count(*) FROM cache_notes").fetchone()[0] < notes_before
    incremental = schema.dump(conn)
    assert projector.forget_missing() == 0  # idempotent
    projector.rebuild()
    assert _without_deletions(schema.dump(conn)) == _without_deletions(incremental)
    conn.close()
    store.close()


def test_an_expired_profile_and_reaction_are_forgotten(store, projector, queries):
    note = make(ALICE, 1, "hello", at=1_700_000_000)
    like = make(BOB, 7, "+", [["e", note.id], ["p", ALICE.public_key], ["expiration", str(NOW + 10)]])
    profile = make(BOB, 0, '{"name":"bob"}', [["expiration", str(NOW + 10)]])
    store.save_many([note, like, profile], now=NOW)
    projector.catch_up()
    assert queries.home(ALICE.public_key).items[0].reactions == 1
    assert store.sweep_expired(NOW + 20) == 2

    assert projector.forget_missing() == 3  # the reaction, its mention of Alice, Bob's profile slot

    assert queries.home(ALICE.public_key).items[0].reactions == 0
    assert queries.profile(BOB.public_key) is None
    assert queries.notifications(ALICE.public_key).items == []
