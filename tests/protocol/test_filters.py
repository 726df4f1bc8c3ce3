"""Filters: strict parsing, `matches` against an independent oracle on real events, NIP-01 order, `select`."""

from __future__ import annotations

import json
import random

import pytest

from nostr_desk.protocol.errors import InvalidFilter, Prefix
from nostr_desk.protocol.event import Event, EventTemplate, sign
from nostr_desk.protocol.filters import Filter, matches_search, search_terms, select, sort_key
from nostr_desk.protocol.keys import SecretKey

HEX_A, HEX_B = "a" * 64, "0123456789abcdef" * 4


@pytest.fixture(scope="module")
def real(real_event_lines) -> list[tuple[Event, dict]]:
    return [(Event.from_json(line), json.loads(line)) for line in real_event_lines]


# --- parsing ---------------------------------------------------------------------------------------
def test_full_filter_parses_and_round_trips():
    obj = {"ids": [HEX_A], "authors": [HEX_B, HEX_A], "kinds": [1, 0], "#e": [HEX_A], "#T": ["x"],
           "since": 10, "until": 20, "limit": 5, "search": "best nostr"}
    flt = Filter.from_obj(obj)
    assert flt.ids == {HEX_A} and flt.authors == {HEX_A, HEX_B} and flt.kinds == {0, 1}
    assert flt.tags == {"e": frozenset({HEX_A}), "T": frozenset({"x"})}
    assert (flt.since, flt.until, flt.limit, flt.search) == (10, 20, 5, "best nostr")
    assert Filter.from_obj(flt.to_obj()) == flt
    assert flt.to_obj()["authors"] == sorted([HEX_A, HEX_B])


def test_empty_filter_matches_everything(real):
    flt = Filter.from_obj({})
    assert flt == Filter() and flt.can_match()
    assert all(flt.matches(ev) for ev, _ in real)


BAD_FILTERS = {
    "not an object": [],
    "null": None,
    "ids not a list": {"ids": HEX_A},
    "short id": {"ids": [HEX_A[:-1]]},
    "long id": {"ids": [HEX_A + "a"]},
    "uppercase id": {"ids": [HEX_B.upper()]},
    "id prefix (old NIP-01)": {"ids": ["abcd"]},
    "non-hex author": {"authors": ["g" * 64]},
    "author as number": {"authors": [1]},
    "kinds not a list": {"kinds": 1},
    "kind as string": {"kinds": ["1"]},
    "kind as float": {"kinds": [1.0]},
    "kind as bool": {"kinds": [True]},
    "negative kind": {"kinds": [-1]},
    "two-letter tag": {"#ee": ["x"]},
    "bare hash": {"#": ["x"]},
    "digit tag": {"#1": ["x"]},
    "non-ASCII letter tag": {"#é": ["x"]},
    "tag with trailing newline": {"#e\n": ["x"]},
    "tag values not a list": {"#e": "x"},
    "tag value a number": {"#e": [1]},
    "since as string": {"since": "10"},
    "since as float": {"since": 10.0},
    "since as bool": {"since": True},
    "until as bool": {"until": False},
    "until too big": {"until": 2**63},
    "limit negative": {"limit": -1},
    "limit as bool": {"limit": True},
    "limit as float": {"limit": 1.5},
    "limit null": {"limit": None},
    "search not a string": {"search": 5},
    "unknown key": {"foo": 1},
    "tag key without hash": {"e": [HEX_A]},
    "non-string key": {1: 2},
}


@pytest.mark.parametrize("name", sorted(BAD_FILTERS))
def test_bad_filters_are_rejected_with_invalid_prefix(name):
    with pytest.raises(InvalidFilter) as info:
        Filter.from_obj(BAD_FILTERS[name])
    assert info.value.prefix is Prefix.INVALID
    assert info.value.reason.startswith("invalid: ")


def test_limit_zero_and_empty_lists_are_valid_but_match_nothing(real):
    for obj in ({"ids": []}, {"authors": []}, {"kinds": []}, {"#e": []}, {"since": 20, "until": 10}):
        flt = Filter.from_obj(obj)
        assert not flt.can_match(), obj
        assert select([ev for ev, _ in real], [flt]) == []
    assert Filter.from_obj({"limit": 0}).limit == 0
    assert select([ev for ev, _ in real], [Filter(limit=0)]) == []


def test_since_and_until_are_inclusive(real):
    ev = real[100][0]
    t = ev.created_at
    assert Filter(since=t, until=t).matches(ev)
    assert not Filter(since=t + 1).matches(ev)
    assert not Filter(until=t - 1).matches(ev)
    assert Filter.from_obj({"since": t, "until": t}).can_match()


def test_tag_filters_are_case_sensitive_letters():
    ev = sign(EventTemplate(1, "", [["T", "Up"], ["t", "down"]], 5), SecretKey((9).to_bytes(32, "big")),
              aux_rand=bytes(32))
    assert Filter.from_obj({"#T": ["Up"]}).matches(ev)
    assert not Filter.from_obj({"#T": ["down"]}).matches(ev)
    assert Filter.from_obj({"#t": ["down"]}).matches(ev)
    assert not Filter.from_obj({"#t": ["DOWN"]}).matches(ev)


def test_only_the_first_tag_value_counts():
    ev = sign(EventTemplate(1, "", [["e", HEX_A, HEX_B], ["p"]], 5), SecretKey((9).to_bytes(32, "big")),
              aux_rand=bytes(32))
    assert Filter(tags={"e": frozenset({HEX_A})}).matches(ev)
    assert not Filter(tags={"e": frozenset({HEX_B})}).matches(ev)
    assert not Filter(tags={"p": frozenset({""})}).matches(ev)  # a tag with no value has no value


# --- matches() against an oracle written from the NIP-01 text, on dicts ---------------------------
def _oracle(obj: dict, ev: dict) -> bool:
    if "ids" in obj and ev["id"] not in obj["ids"]:
        return False
    if "authors" in obj and ev["pubkey"] not in obj["authors"]:
        return False
    if "kinds" in obj and ev["kind"] not in obj["kinds"]:
        return False
    if "since" in obj and not ev["created_at"] >= obj["since"]:
        return False
    if "until" in obj and not ev["created_at"] <= obj["until"]:
        return False
    for key, values in obj.items():
        if key.startswith("#"):
            firsts = {t[1] for t in ev["tags"] if len(t) > 1 and t[0] == key[1:]}
            if not firsts & set(values):
                return False
    return True


def _filters_from_corpus(real, count: int, seed: int) -> list[dict]:
    """Filters built from values that occur in the corpus, so most of them match something."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        _, ev = rng.choice(real)
        obj: dict = {}
        for key in rng.sample(["ids", "authors", "kinds", "#e", "#p", "#t", "since", "until"], rng.randint(1, 3)):
            _, other = rng.choice(real)
            if key == "ids":
                obj[key] = [ev["id"], other["id"]]
            elif key == "authors":
                obj[key] = [ev["pubkey"], other["pubkey"]]
            elif key == "kinds":
                obj[key] = [ev["kind"], other["kind"]]
            elif key in ("since", "until"):
                obj[key] = ev["created_at"] + rng.choice([-1, 0, 0, 1])
            else:
                values = [t[1] for t in ev["tags"] + other["tags"] if len(t) > 1 and t[0] == key[1:]]
                obj[key] = values[:3] or ["nothing"]
        out.append(obj)
    return out


def test_matches_agrees_with_the_oracle_on_real_events(real):
    hits = 0
    for obj in _filters_from_corpus(real, 120, seed=1):
        flt = Filter.from_obj(obj)
        for ev, raw in real:
            expected = _oracle(obj, raw)
            assert flt.matches(ev) is expected, (obj, raw["id"])
            hits += expected
    assert hits > 1000  # the filters are not all trivially empty


def test_search_is_case_insensitive_and_skips_extensions():
    assert search_terms("Hello  WORLD language:en") == ["hello", "world"]
    assert matches_search("hello world", "WORLD, hello!")
    assert not matches_search("hello world", "hello")
    assert matches_search("", "anything")
    assert Filter(search="GM").matches(sign(EventTemplate(1, "gm friends"), SecretKey((9).to_bytes(32, "big")),
                                            aux_rand=bytes(32)))


# --- NIP-01 order and select() ----------------------------------------------------------------------
def test_sort_key_is_newest_first_then_lowest_id(real):
    events = [ev for ev, _ in real]
    random.Random(2).shuffle(events)
    ordered = sorted(events, key=sort_key)
    for a, b in zip(ordered, ordered[1:]):
        assert a.created_at > b.created_at or (a.created_at == b.created_at and a.id < b.id)
    ties = sum(a.created_at == b.created_at for a, b in zip(ordered, ordered[1:]))
    assert ties > 100  # the corpus has many equal timestamps, so the tie-break is exercised


def test_select_applies_each_limit_to_its_own_filter_then_ors(real):
    events = [ev for ev, _ in real]
    top_author = max({e.pubkey for e in events}, key=lambda p: sum(e.pubkey == p for e in events))
    by_author = Filter(authors=frozenset({top_author}), limit=3)
    reactions = Filter(kinds=frozenset({7}), limit=2)
    got = select(events, [by_author, reactions])
    want_a = sorted((e for e in events if e.pubkey == top_author), key=sort_key)[:3]
    want_r = sorted((e for e in events if e.kind == 7), key=sort_key)[:2]
    assert got == sorted({e.id: e for e in want_a + want_r}.values(), key=sort_key)
    assert 3 <= len(got) <= 5


def test_select_deduplicates_and_orders(real):
    events = [ev for ev, _ in real]
    flt = Filter(kinds=frozenset({1}))
    got = select(events + events[:50], [flt, flt])
    assert len(got) == len({e.id for e in got}) == sum(e.kind == 1 for e in events)
    assert got == sorted(got, key=sort_key)


def test_select_limit_keeps_the_newest(real):
    events = [ev for ev, _ in real]
    got = select(events, [Filter(limit=10)])
    assert got == sorted(events, key=sort_key)[:10]
    assert select(events, [Filter(limit=10**9)]) == sorted(events, key=sort_key)


def test_select_with_no_filters_is_empty(real):
    assert select([ev for ev, _ in real], []) == []
