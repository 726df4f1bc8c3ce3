"""Property tests of the projection core: any order and any batching of the same events give the same
tables (replaceable ties, deletions before and after their targets, same-batch deletions); the kind-0
content parser never fails on any text."""

from __future__ import annotations

import json
import sqlite3

from hypothesis import given, settings
from hypothesis import strategies as st

from nostr_desk.cache import schema
from nostr_desk.cache.projections import apply_events, profile_fields

from .conftest import key, make

A, B, C = key("pa"), key("pb"), key("pc")


def _events():
    notes = [make(A, 1, "a root", at=10), make(B, 1, "b note", at=11)]
    root = notes[0]
    notes += [
        make(B, 1, "reply", [["e", root.id, "", "root"], ["p", A.public_key]], at=12),
        make(C, 1, "positional", [["e", root.id], ["e", notes[1].id]], at=12),
    ]
    likes = [make(C, 7, "+", [["e", root.id], ["p", A.public_key]], at=13),
             make(B, 6, "", [["e", root.id, "wss://r"], ["p", A.public_key]], at=14)]
    # Replaceables with a created_at tie: the lowest id must win whatever comes first.
    profiles = [make(A, 0, '{"name":"a%d"}' % i, at=20) for i in range(3)] + [make(A, 0, '{"name":"old"}', at=5)]
    contacts = [make(A, 3, "", [["p", B.public_key]], at=30), make(A, 3, "", [["p", C.public_key]], at=30),
                make(A, 3, "", [["p", B.public_key], ["p", C.public_key]], at=29)]
    relays = [make(B, 10002, "", [["r", "wss://one.example"]], at=40),
              make(B, 10002, "", [["r", "wss://two.example", "write"]], at=41)]
    b_profile = make(B, 0, '{"name":"b"}', at=45)  # B's only profile version, which B deletes
    profiles.append(b_profile)
    deletions = [make(B, 5, "", [["e", notes[1].id], ["e", likes[1].id], ["e", b_profile.id]], at=50),
                 make(C, 5, "", [["e", root.id]], at=51)]  # C cannot delete A's note
    return notes + likes + profiles + contacts + relays + deletions


EVENTS = _events()


def _tables(order: list[int], cuts: list[int]) -> dict:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    schema.migrate(conn)
    events = [EVENTS[i] for i in order]
    bounds = sorted({0, len(events), *(c % (len(events) + 1) for c in cuts)})
    for lo, hi in zip(bounds, bounds[1:]):
        with schema.transaction(conn):
            apply_events(conn, events[lo:hi])
    return schema.dump(conn)


REFERENCE = _tables(list(range(len(EVENTS))), [])


@settings(max_examples=250, deadline=None)
@given(st.permutations(range(len(EVENTS))), st.lists(st.integers(0, 100), max_size=6), st.booleans())
def test_any_order_and_batching_gives_the_same_tables(order, cuts, twice):
    if twice:  # applying events again (a re-run, a duplicate delivery) changes nothing
        order = order + order[: len(order) // 2]
    assert _tables(order, cuts) == REFERENCE


def test_reference_tables_say_what_the_events_mean():
    profiles = REFERENCE["cache_profiles"]
    winner = min((e for e in EVENTS if e.kind == 0 and e.created_at == 20), key=lambda e: e.id)
    assert [(p[0], p[1]) for p in profiles] == [(A.public_key, winner.id)]
    follows = {row[1] for row in REFERENCE["cache_contacts"]}
    winner3 = min((e for e in EVENTS if e.kind == 3 and e.created_at == 30), key=lambda e: e.id)
    assert follows == {winner3.tags[0][1]}
    assert [r[1] for r in REFERENCE["cache_relays"]] == ["wss://two.example"]
    notes = {n[0] for n in REFERENCE["cache_notes"]}
    assert EVENTS[1].id not in notes and EVENTS[0].id in notes  # B deleted its note; C's forgery did nothing
    assert REFERENCE["cache_reposts"] == [] and len(REFERENCE["cache_reactions"]) == 1


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), st.dictionaries(st.text(max_size=12), st.one_of(st.text(), st.integers(), st.none())).map(
    json.dumps)))
def test_profile_content_never_breaks_the_parser(content):
    fields = profile_fields(content)
    assert len(fields) == 6 and all(f is None or (isinstance(f, str) and f == f.strip() and f) for f in fields)
