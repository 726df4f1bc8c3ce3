"""Keyset paging: with tiny pages every stream is read in many statements (ties on created_at
included) and the answers still equal the reference engine's."""

from __future__ import annotations

import random

import pytest

from nostr_desk.protocol.filters import Filter
from nostr_desk.store import query as q

from .conftest import NOW, ids, key, make, reference

KEYS = [key(40 + i) for i in range(3)]
PUBS = [k.public_key for k in KEYS]


@pytest.fixture(scope="module")
def corpus():
    rng = random.Random(7)
    events = [
        make(KEYS[rng.randrange(3)], kind=rng.choice([1, 7, 4]), content=rng.choice(["alpha", "beta", "alphabet", ""]),
             tags=[["t", rng.choice("xyz")]] + ([["p", rng.choice(PUBS)]] if rng.random() < 0.5 else []),
             created_at=NOW - rng.randrange(40))  # many events per second: ties everywhere
        for _ in range(240)
    ]
    return list({e.id: e for e in events}.values())  # equal specs sign to the same event


FILTERS = [
    [Filter()],
    [Filter(limit=37)],
    [Filter(authors=frozenset(PUBS[:2]), limit=50)],
    [Filter(authors=frozenset(PUBS), kinds=frozenset({1, 7}), since=NOW - 30, until=NOW - 5)],
    [Filter(kinds=frozenset({7, 4}), limit=25), Filter(tags={"t": frozenset("xy")}, limit=9)],
    [Filter(tags={"t": frozenset("xyz"), "p": frozenset(PUBS[:1])})],
    [Filter(search="alpha", limit=30)],
    [Filter(search="alphab", authors=frozenset(PUBS[2:]))],
]


@pytest.mark.parametrize("n", range(len(FILTERS)))
def test_tiny_pages_give_the_reference_answer(store, corpus, monkeypatch, n):
    store.save_many(corpus, now=NOW)
    monkeypatch.setattr(q, "PAGE_MIN", 1)
    monkeypatch.setattr(q, "PAGE_MAX", 4)
    fs = FILTERS[n]
    want = [e.id for e in reference(corpus, fs)]
    assert len(want) > 4  # more than one page
    assert ids(store.query(fs, now=NOW)) == want
