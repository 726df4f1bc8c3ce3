"""Insert semantics with real signed events: replaceable, addressable, ephemeral, NIP-09 deletion,
NIP-40 expiration, the kinds 4/1059 reader restriction, NIP-50 search, real events from the vectors."""

from __future__ import annotations

from nostr_desk.protocol.event import Event
from nostr_desk.protocol.filters import Filter
from nostr_desk.store import SaveOutcome

from .conftest import ALICE, BOB, CAROL, NOW, ids, make

O = SaveOutcome


def outcome(store, ev, **kw) -> SaveOutcome:
    return store.submit(ev, **kw).result(10).outcome


def kind_query(store, kind, author=ALICE):
    return ids(store.query([Filter(authors=frozenset({author.public_key}), kinds=frozenset({kind}))], now=NOW))


# --- replaceable and addressable -------------------------------------------------------------------
def test_replaceable_newer_replaces_older_is_stale(store):
    v1, v2, v0 = (make(kind=0, content=c, created_at=t) for c, t in (("v1", NOW - 50), ("v2", NOW - 40), ("v0", NOW - 60)))
    assert outcome(store, v1) is O.SAVED
    assert outcome(store, v2) is O.REPLACED
    r = store.submit(v0).result(10)
    assert r.outcome is O.STALE and not r.accepted and r.message.startswith("invalid:")
    assert outcome(store, v1) is O.STALE
    assert kind_query(store, 0) == [v2.id]
    assert store.get(v1.id) is None


def test_replaceable_tie_keeps_lowest_id(store):
    a, b = make(kind=10002, content="a", created_at=NOW - 5), make(kind=10002, content="b", created_at=NOW - 5)
    low, high = sorted((a, b), key=lambda e: e.id)
    assert outcome(store, high) is O.SAVED
    assert outcome(store, low) is O.REPLACED
    assert outcome(store, high) is O.STALE
    assert kind_query(store, 10002) == [low.id]


def test_replaceable_is_per_author_and_kind(store):
    evs = [make(ALICE, kind=3), make(BOB, kind=3), make(ALICE, kind=0), make(ALICE, kind=10000)]
    assert [outcome(store, e) for e in evs] == [O.SAVED] * 4


def test_addressable_by_d_tag(store):
    a1 = make(kind=30023, content="a1", tags=[["d", "post"]], created_at=NOW - 30)
    b1 = make(kind=30023, content="b1", tags=[["d", "other"]], created_at=NOW - 30)
    a2 = make(kind=30023, content="a2", tags=[["d", "post"]], created_at=NOW - 20)
    nod = make(kind=30023, content="empty d", created_at=NOW - 30)
    nod2 = make(kind=30023, content="explicit empty d", tags=[["d", ""]], created_at=NOW - 10)
    assert [outcome(store, e) for e in (a1, b1, a2, nod, nod2)] == [O.SAVED, O.SAVED, O.REPLACED, O.SAVED, O.REPLACED]
    assert sorted(kind_query(store, 30023)) == sorted([a2.id, b1.id, nod2.id])


def test_regular_kinds_are_not_replaced(store):
    evs = [make(kind=1, content=str(i), created_at=NOW - i) for i in range(3)]
    assert [outcome(store, e) for e in evs] == [O.SAVED] * 3


def test_ephemeral_is_accepted_but_never_stored(store):
    ev = make(kind=20001, content="live only")
    r = store.submit(ev).result(10)
    assert r.outcome is O.EPHEMERAL and r.accepted
    assert store.get(ev.id) is None and store.query([Filter()], now=NOW) == []


# --- NIP-09 ----------------------------------------------------------------------------------------
def test_deletion_by_e_removes_own_event_and_blocks_it(store):
    note = make(content="oops")
    store.submit(note).result(10)
    deletion = make(kind=5, tags=[["e", note.id]], created_at=NOW - 10)
    assert outcome(store, deletion) is O.SAVED
    assert store.get(note.id) is None
    r = store.submit(note).result(10)
    assert r.outcome is O.DELETED and not r.accepted and r.message.startswith("blocked:")
    assert ids(store.query([Filter(kinds=frozenset({5}))], now=NOW)) == [deletion.id]


def test_deletion_before_target_blocks_later_arrival(store):
    note = make(content="late")
    store.submit(make(kind=5, tags=[["e", note.id]])).result(10)
    assert outcome(store, note) is O.DELETED


def test_deletion_of_someone_elses_event_has_no_effect(store):
    note = make(BOB, content="bob's")
    store.submit(note).result(10)
    store.submit(make(ALICE, kind=5, tags=[["e", note.id]])).result(10)
    assert store.get(note.id) == note.to_bytes()
    other = make(BOB, content="bob's second")
    store.submit(make(ALICE, kind=5, tags=[["e", other.id]])).result(10)
    assert outcome(store, other) is O.SAVED


def test_deleting_a_deletion_has_no_effect(store):
    note = make(content="x")
    d1 = make(kind=5, tags=[["e", note.id]], created_at=NOW - 20)
    store.save_many([note, d1])
    d2 = make(kind=5, tags=[["e", d1.id]], created_at=NOW - 10)
    assert outcome(store, d2) is O.SAVED
    assert store.get(d1.id) == d1.to_bytes()


def test_deletion_by_a_removes_versions_up_to_its_time(store):
    old = make(kind=30023, tags=[["d", "art"]], content="old", created_at=NOW - 50)
    store.submit(old).result(10)
    addr = f"30023:{ALICE.public_key}:art"
    assert outcome(store, make(kind=5, tags=[["a", addr]], created_at=NOW - 40)) is O.SAVED
    assert store.get(old.id) is None
    older = make(kind=30023, tags=[["d", "art"]], content="older", created_at=NOW - 45)
    same = make(kind=30023, tags=[["d", "art"]], content="same time", created_at=NOW - 40)
    newer = make(kind=30023, tags=[["d", "art"]], content="newer", created_at=NOW - 30)
    assert [outcome(store, e) for e in (older, same, newer)] == [O.DELETED, O.DELETED, O.SAVED]
    assert kind_query(store, 30023) == [newer.id]


def test_deletion_by_a_keeps_a_newer_version(store):
    newer = make(kind=30023, tags=[["d", "k"]], content="new", created_at=NOW - 10)
    store.submit(newer).result(10)
    store.submit(make(kind=5, tags=[["a", f"30023:{ALICE.public_key}:k"]], created_at=NOW - 20)).result(10)
    assert store.get(newer.id) == newer.to_bytes()


def test_deletion_by_a_of_replaceable_and_of_others(store):
    profile = make(kind=0, content="me", created_at=NOW - 50)
    bobs = make(BOB, kind=30023, tags=[["d", "x"]], created_at=NOW - 50)
    store.save_many([profile, bobs])
    store.submit(make(kind=5, tags=[["a", f"0:{ALICE.public_key}:"], ["a", f"30023:{BOB.public_key}:x"], ["a", "junk"]], created_at=NOW - 10)).result(10)
    assert store.get(profile.id) is None
    assert store.get(bobs.id) == bobs.to_bytes()


def test_deletion_in_the_same_batch_as_its_target(store):
    note = make(content="same batch", tags=[["t", "x"]])
    deletion = make(kind=5, tags=[["e", note.id]])
    f1, f2 = store.submit(note), store.submit(deletion)
    assert (f1.result(10).outcome, f2.result(10).outcome) == (O.SAVED, O.SAVED)
    assert store.query([Filter(tags={"t": frozenset({"x"})})], now=NOW) == []
    assert store.count([Filter(tags={"t": frozenset({"x"})})], now=NOW) == 0


# --- NIP-40 ----------------------------------------------------------------------------------------
def test_expired_on_arrival_is_refused(store):
    ev = make(tags=[["expiration", str(NOW - 1)]])
    r = store.submit(ev, now=NOW).result(10)
    assert r.outcome is O.EXPIRED and not r.accepted and r.message.startswith("invalid:")
    assert store.get(ev.id) is None


def test_expiring_event_is_served_until_it_expires_then_swept(store):
    ev = make(content="brief", tags=[["expiration", str(NOW + 100)]])
    keep = make(content="stays", tags=[["expiration", "not a number"]])
    store.save_many([ev, keep], now=NOW)
    assert ev.id in ids(store.query([Filter()], now=NOW + 99))
    assert ids(store.query([Filter()], now=NOW + 100)) == [keep.id]
    assert store.count([Filter()], now=NOW + 100) == 1
    assert store.sweep_expired(NOW + 99) == 0
    assert store.sweep_expired(NOW + 100) == 1
    assert store.get(ev.id) is None and store.get(keep.id) is not None


# --- kinds 4 and 1059 ------------------------------------------------------------------------------
def test_dm_kinds_only_for_their_parties(store):
    dm = make(ALICE, kind=4, content="secret", tags=[["p", BOB.public_key]])
    wrap = make(CAROL, kind=1059, content="wrapped", tags=[["p", BOB.public_key]])
    note = make(ALICE, kind=1, content="public")
    store.save_many([dm, wrap, note])
    everything = [Filter()]
    assert sorted(ids(store.query(everything, now=NOW))) == sorted([dm.id, wrap.id, note.id])  # trusted
    assert ids(store.query(everything, now=NOW, readers=frozenset())) == [note.id]
    assert sorted(ids(store.query(everything, now=NOW, readers=frozenset({BOB.public_key})))) == sorted([dm.id, wrap.id, note.id])
    assert sorted(ids(store.query(everything, now=NOW, readers=frozenset({ALICE.public_key})))) == sorted([dm.id, note.id])
    assert ids(store.query([Filter(kinds=frozenset({4}))], now=NOW, readers=frozenset({CAROL.public_key}))) == []
    tag_filter = [Filter(tags={"p": frozenset({BOB.public_key})})]
    assert ids(store.query(tag_filter, now=NOW, readers=frozenset({CAROL.public_key}))) == [wrap.id]
    assert store.count(everything, now=NOW, readers=frozenset()) == 1
    assert store.count(everything, now=NOW, readers=frozenset({BOB.public_key})) == 3


# --- NIP-50 ----------------------------------------------------------------------------------------
def test_search(store):
    evs = [make(content="Nostr relays are fun", created_at=NOW - 1), make(content="sqlite is fine", created_at=NOW - 2),
           make(content="A relay in SQLite", created_at=NOW - 3), make(content="", created_at=NOW - 4)]
    store.save_many(evs)
    assert ids(store.query([Filter(search="relay")], now=NOW)) == [evs[0].id, evs[2].id]
    assert ids(store.query([Filter(search="SQLITE relay")], now=NOW)) == [evs[2].id]
    assert ids(store.query([Filter(search="is")], now=NOW)) == [evs[1].id]  # too short for trigrams
    assert ids(store.query([Filter(search="relay language:en", limit=1)], now=NOW)) == [evs[0].id]
    assert store.count([Filter(search="relay")], now=NOW) == 2
    assert store.query([Filter(search='"quoted')], now=NOW) == []


def test_search_index_follows_removals(store):
    ev = make(kind=0, content="findme profile", created_at=NOW - 10)
    store.submit(ev).result(10)
    store.submit(make(kind=0, content="replacement", created_at=NOW - 5)).result(10)
    assert store.query([Filter(search="findme")], now=NOW) == []


# --- real events ------------------------------------------------------------------------------------
def test_real_events_round_trip(store, sample_event_lines):
    evs = [Event.from_json(line) for line in sample_event_lines]
    results = store.save_many(evs, now=NOW)
    assert all(r.accepted or r.outcome in (O.STALE, O.DELETED, O.EXPIRED) for r in results)
    for ev, r in zip(evs, results):
        if r.outcome in (O.SAVED, O.REPLACED):
            assert store.get(ev.id) == ev.to_bytes()
            for name, value in {(t[0], t[1]) for t in ev.tags if len(t) >= 2 and len(t[0]) == 1 and t[0].isalpha()}:
                hits = store.query([Filter(tags={name: frozenset({value})}, ids=frozenset({ev.id}))], now=NOW)
                assert hits == [ev.to_bytes()] or store.get(ev.id) is None
