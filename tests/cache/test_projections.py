"""Projections over the 2,391 real events through a real store file: right, idempotent, order-free."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from nostr_desk.cache import schema
from nostr_desk.cache.projections import Projector, apply_event
from nostr_desk.protocol.event import Event

from .conftest import NOW, key, make, open_store


@pytest.fixture(scope="module")
def real_events(real_event_lines: list[str]) -> list[Event]:
    return [Event.from_json(line) for line in real_event_lines]


def project(path: Path, events: list[Event], batch: int = 500) -> dict[str, list[tuple]]:
    """Save `events` in this order into a fresh store file, project everything, dump the tables."""
    store = open_store(path)
    try:
        for start in range(0, len(events), batch):  # several store batches, so seqs interleave kinds
            store.save_many(events[start : start + batch], now=NOW)
        conn = store.connect()
        Projector(store, conn).catch_up()
        tables = schema.dump(conn)
        conn.close()
        return tables
    finally:
        store.close()


@pytest.fixture(scope="module")
def projected(real_events: list[Event], tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple]]:
    return project(tmp_path_factory.mktemp("sorted") / "events.sqlite3", real_events)


def deleted_ids(events: list[Event]) -> set[tuple[str, str]]:
    """(target id, author) pairs named by a kind-5 request: only the author's own events go."""
    return {(t[1], e.pubkey) for e in events if e.kind == 5 for t in e.tags if len(t) > 1 and t[0] == "e"}


def test_profiles_match_an_independent_computation(real_events, projected):
    gone = deleted_ids(real_events)
    newest: dict[str, Event] = {}
    for e in real_events:
        if e.kind != 0:
            continue
        best = newest.get(e.pubkey)
        if best is None or (e.created_at, [-ord(c) for c in e.id]) > (best.created_at, [-ord(c) for c in best.id]):
            newest[e.pubkey] = e
    expected = {}
    for pubkey, e in newest.items():
        if (e.id, pubkey) in gone:
            continue
        try:
            meta = json.loads(e.content)
        except ValueError:
            meta = {}
        meta = meta if isinstance(meta, dict) else {}
        name = meta.get("name")
        expected[pubkey] = (e.id, e.created_at, name.strip() or None if isinstance(name, str) else None)
    got = {row[0]: (row[1], row[2], row[3]) for row in projected["cache_profiles"]}
    assert len(expected) > 400
    assert got == expected


def test_contact_lists_follow_the_newest_list(real_events, projected):
    newest: dict[str, Event] = {}
    for e in sorted(real_events, key=lambda e: (e.created_at, [-ord(c) for c in e.id])):
        if e.kind == 3:
            newest[e.pubkey] = e
    expected = {(o, t[1]) for o, e in newest.items() for t in e.tags if len(t) > 1 and t[0] == "p" and len(t[1]) == 64}
    got = {(row[0], row[1]) for row in projected["cache_contacts"]}
    assert len(expected) > 1000
    assert got == expected


def test_reactions_and_reposts_are_counted_per_note(real_events, projected):
    gone = deleted_ids(real_events)
    likes: dict[str, int] = {}
    for e in real_events:
        targets = [t[1] for t in e.tags if len(t) > 1 and t[0] == "e" and len(t[1]) == 64]
        if e.kind == 7 and targets and (e.id, e.pubkey) not in gone:
            likes[targets[-1]] = likes.get(targets[-1], 0) + 1
    got: dict[str, int] = {}
    for row in projected["cache_reactions"]:
        got[row[1]] = got.get(row[1], 0) + 1
    assert sum(likes.values()) > 400
    assert got == likes
    assert len(projected["cache_reposts"]) > 100


def test_notes_carry_nip10_thread_links(projected):
    notes = projected["cache_notes"]
    assert len(notes) > 700
    replies = [n for n in notes if n[4] is not None]
    assert len(replies) > 100
    # A note's parent is in its own thread: the parent is the root or a note whose root is the same.
    by_id = {n[0]: n for n in notes}
    for _nid, _pk, _at, root, parent in replies:
        assert root is not None
        if parent != root and parent in by_id and by_id[parent][3] is not None:
            assert by_id[parent][3] == root


def test_relay_lists_are_projected(projected):
    assert len(projected["cache_relay_lists"]) >= 15
    assert all(url.startswith(("ws://", "wss://")) and (r or w) for _, url, r, w in projected["cache_relays"])


def test_rerunning_changes_nothing(real_events, tmp_path):
    store = open_store(tmp_path / "events.sqlite3")
    store.save_many(real_events, now=NOW)
    conn = store.connect()
    projector = Projector(store, conn)
    assert projector.catch_up() > 2000
    first = schema.dump(conn)
    assert projector.catch_up() == 0
    schema.set_meta(conn, "last_seq", 0)  # as if the resume point were lost: every event again
    assert projector.catch_up() > 2000
    assert schema.dump(conn) == first
    assert projector.rebuild() > 2000
    assert schema.dump(conn) == first
    conn.close()
    store.close()


def test_resuming_in_small_steps_gives_the_same_tables(real_events, projected, tmp_path):
    store = open_store(tmp_path / "events.sqlite3")
    store.save_many(real_events, now=NOW)
    conn = store.connect()
    projector = Projector(store, conn)
    steps = 0
    while projector.catch_up(max_events=337):
        steps += 1
    assert steps >= 7
    assert schema.dump(conn) == projected
    conn.close()
    store.close()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_any_arrival_order_gives_identical_tables(real_events, projected, tmp_path, seed):
    shuffled = list(real_events)
    random.Random(seed).shuffle(shuffled)
    assert project(tmp_path / "events.sqlite3", shuffled, batch=97) == projected


def test_reversed_order_gives_identical_tables(real_events, projected, tmp_path):
    assert project(tmp_path / "events.sqlite3", real_events[::-1], batch=61) == projected


# --- deletions, with generated events -----------------------------------------------------------

ALICE, BOB = key("alice"), key("bob")


def _deletion_case() -> tuple[Event, Event, Event, Event]:
    note = make(ALICE, 1, "to be deleted", at=100)
    like = make(ALICE, 7, "+", [["e", note.id], ["p", ALICE.public_key]], at=101)
    forged = make(BOB, 5, "not yours", [["e", note.id]], at=102)  # NIP-09: only the author may delete
    delete = make(ALICE, 5, "oops", [["e", note.id], ["e", like.id]], at=103)
    return note, like, forged, delete


def _rows(conn) -> tuple[int, int]:
    notes = conn.execute("SELECT count(*) FROM cache_notes").fetchone()[0]
    likes = conn.execute("SELECT count(*) FROM cache_reactions").fetchone()[0]
    return notes, likes


@pytest.mark.parametrize("order", [(0, 1, 2, 3), (3, 2, 1, 0), (2, 3, 0, 1), (1, 3, 2, 0)])
def test_deletion_hides_its_targets_in_any_order(store, projector, order):
    """Applied straight to the projector (the store would refuse a target after its deletion)."""
    case = _deletion_case()
    conn = projector.conn
    for i in order:
        with schema.transaction(conn):
            apply_event(conn, case[i])
    assert _rows(conn) == (0, 0)
    assert conn.execute("SELECT count(*) FROM cache_mentions").fetchone()[0] == 0


def test_a_forged_deletion_hides_nothing(store, projector):
    note, like, forged, _ = _deletion_case()
    for ev in (forged, note, like):
        with schema.transaction(projector.conn):
            apply_event(projector.conn, ev)
    assert _rows(projector.conn) == (1, 1)


def test_deletion_arriving_first_through_the_store(store, projector):
    note, like, forged, delete = _deletion_case()
    store.save_many([delete, forged], now=NOW)
    projector.catch_up()
    store.save_many([note, like], now=NOW)
    projector.catch_up()
    assert _rows(projector.conn) == (0, 0)


def test_deletion_arriving_last_through_the_store(store, projector):
    note, like, forged, delete = _deletion_case()
    store.save_many([note, like, forged], now=NOW)
    projector.catch_up()
    assert _rows(projector.conn) == (1, 1)
    store.save_many([delete], now=NOW)
    projector.catch_up()
    assert _rows(projector.conn) == (0, 0)


def test_schema_version_is_recorded_and_a_newer_one_refused(store, projector):
    conn = projector.conn
    assert schema.schema_version(conn) == schema.SCHEMA_VERSION
    assert schema.migrate(conn) == schema.SCHEMA_VERSION  # idempotent
    schema.set_meta(conn, "schema_version", schema.SCHEMA_VERSION + 1)
    with pytest.raises(RuntimeError, match="newer"):
        schema.migrate(conn)


def test_deleted_profile_and_lists_leave_their_slots_as_a_rebuild_would(store, projector):
    profile = make(ALICE, 0, '{"name":"alice"}', at=100)
    follows = make(ALICE, 3, "", [["p", BOB.public_key]], at=100)
    relays = make(ALICE, 10002, "", [["r", "wss://relay.example"]], at=100)
    store.save_many([profile, follows, relays], now=NOW)
    projector.catch_up()
    conn = projector.conn
    assert conn.execute("SELECT count(*) FROM cache_contacts").fetchone()[0] == 1
    store.save_many([make(BOB, 5, "", [["e", profile.id], ["e", follows.id]], at=101)], now=NOW)  # not Bob's
    projector.catch_up()
    assert conn.execute("SELECT count(*) FROM cache_profiles").fetchone()[0] == 1
    store.save_many([make(ALICE, 5, "", [["e", profile.id], ["e", follows.id], ["e", relays.id]], at=102)], now=NOW)
    projector.catch_up()
    incremental = schema.dump(conn)
    for table in ("cache_profiles", "cache_contact_lists", "cache_contacts", "cache_relay_lists", "cache_relays"):
        assert incremental[table] == [], table
    projector.rebuild()
    assert schema.dump(conn) == incremental
