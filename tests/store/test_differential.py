"""Differential test: the SQL query path against the pure reference engine `filters.select`.

Hypothesis generates signed events (regular and replaceable/addressable kinds, shared timestamps
for id tie-breaks, tags from a small pool so filters hit) and filters over the same vocabulary; the
store's answer must equal `select` over what the store should hold (and what `readers` may see of
kinds 4/1059), with and without `limit`, and `count` must equal the number of matches without limits.
One store rule sits on top of `select`: a `search` never matches encrypted content (`reference`).
Contents include text whose casefold changes length ("Straße" -> "strasse").
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nostr_desk.protocol.event import Event
from nostr_desk.protocol.filters import Filter
from nostr_desk.protocol.kinds import address, replacement_wins
from nostr_desk.store import EventStore, StoreConfig

from .conftest import NOW, ids, key, make, reference

# Real SQLite files, but on tmpfs when there is one: this test is about answers, not fsync latency.
SCRATCH = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None

KEYS = [key(10 + i) for i in range(3)]
PUBS = [k.public_key for k in KEYS]
KINDS = [1, 7, 4, 1059, 13, 0, 30023]
NIP04 = "dGhpcyBpcyBub3QgcmVhbGx5IGFscGhh?iv=YWxwaGFiZXRhbHBoYQ=="
WORDS = ["alpha", "beta", "gamma", "Delta", "ALPHABET", "zz", "épée", "Straße", "STRASSE", "ﬁne", NIP04]
HEXVALS = ["%064x" % i for i in range(1, 5)] + PUBS
TAGNAMES = ["e", "p", "t", "d"]


@st.composite
def event_specs(draw):
    tags = draw(st.lists(st.tuples(st.sampled_from(TAGNAMES), st.sampled_from(HEXVALS[:4] + ["x", "y"])), max_size=3))
    return (
        draw(st.integers(0, len(KEYS) - 1)),
        draw(st.sampled_from(KINDS)),
        " ".join(draw(st.lists(st.sampled_from(WORDS), max_size=3))),
        [list(t) for t in tags],
        NOW - draw(st.integers(0, 6)),
    )


def opt_set(strategy):
    return st.none() | st.frozensets(strategy, max_size=3)


# Built once: strategies created inside a draw are re-validated every time (slow).
TAG_FILTERS = st.dictionaries(st.sampled_from(TAGNAMES), st.frozensets(st.sampled_from(HEXVALS[:4] + ["x", "y"]), max_size=2), max_size=2)
FILTER_FIELDS = st.fixed_dictionaries({
    "ids": opt_set(st.integers(0, 30)),  # indices into the example's event ids; past the end: unknown id
    "authors": opt_set(st.sampled_from(PUBS)),
    "kinds": opt_set(st.sampled_from(KINDS + [5])),
    "tags": TAG_FILTERS,
    "since": st.none() | st.integers(NOW - 7, NOW),
    "until": st.none() | st.integers(NOW - 7, NOW),
    "limit": st.none() | st.integers(0, 6),
    "search": st.none() | st.sampled_from(["alpha", "ALPHA bet", "lta", "zz", "épée", "gamma nope:x", "ph",
                                            "strasse", "aße", "fine", "SSE", "iv=", "dGhpcyBp"]),
})
FILTER_LISTS = st.lists(FILTER_FIELDS, min_size=1, max_size=3)
EVENT_LISTS = st.lists(event_specs(), max_size=25)


def to_filter(fields: dict, event_ids: list[str]) -> Filter:
    if fields["ids"] is not None:
        fields = {**fields, "ids": frozenset(event_ids[i] if i < len(event_ids) else "f" * 64 for i in fields["ids"])}
    return Filter(**fields)


READERS = st.none() | st.frozensets(st.sampled_from(PUBS), max_size=2)


def visible(events: list[Event], readers: frozenset[str] | None) -> list[Event]:
    """Kinds 4/1059 only for their author or a p-tagged recipient (no restriction when None)."""
    if readers is None:
        return events
    return [e for e in events if e.kind not in (4, 1059) or e.pubkey in readers or set(e.tag_values("p")) & readers]


def expected_store(events: list[Event]) -> list[Event]:
    """What the store should hold: duplicates collapsed, one winner per replaceable address."""
    kept: dict[str, Event] = {}
    by_addr: dict[str, Event] = {}
    for ev in events:
        addr = address(ev)
        if addr is None:
            kept[ev.id] = ev
        elif addr not in by_addr or replacement_wins(ev, by_addr[addr]):
            by_addr[addr] = ev
    return list(kept.values()) + list(by_addr.values())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_query_and_count_match_the_reference_engine(data):
    specs = data.draw(EVENT_LISTS)
    events = [make(KEYS[a], kind=k, content=c, tags=t, created_at=ts) for a, k, c, t, ts in specs]
    truth = expected_store(events)
    event_ids = sorted({e.id for e in events})
    with tempfile.TemporaryDirectory(dir=SCRATCH) as tmp, EventStore.open(StoreConfig(path=Path(tmp) / "d.sqlite3")) as store:
        store.save_many(events, now=NOW)
        for _ in range(4):
            fs = [to_filter(f, event_ids) for f in data.draw(FILTER_LISTS)]
            readers = data.draw(READERS)
            seen = visible(truth, readers)
            want = [e.id for e in reference(seen, fs)]
            assert ids(store.query(fs, now=NOW, readers=readers)) == want, (fs, readers)
            unlimited = [dataclasses.replace(f, limit=None) for f in fs]
            assert ids(store.query(unlimited, now=NOW, readers=readers)) == [e.id for e in reference(seen, unlimited)], unlimited
            assert store.count(fs, now=NOW, readers=readers) == len(reference(seen, unlimited)), fs
