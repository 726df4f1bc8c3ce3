"""Kind classes at every NIP-01 boundary, `d` tags, addresses and the replacement tie-break."""

from __future__ import annotations

import pytest

from nostr_desk.protocol.errors import InvalidEvent
from nostr_desk.protocol.event import Event, EventTemplate, parse_verified, sign
from nostr_desk.protocol.keys import SecretKey
from nostr_desk.protocol.kinds import (
    KindClass, address, classify, d_tag, is_addressable, is_ephemeral, is_replaceable, parse_address,
    replacement_wins,
)

KEY = SecretKey((7).to_bytes(32, "big"))
R, P, E, A = KindClass.REGULAR, KindClass.REPLACEABLE, KindClass.EPHEMERAL, KindClass.ADDRESSABLE


def _event(kind: int = 1, tags=(), created_at: int = 1000, content: str = "") -> Event:
    return sign(EventTemplate(kind, content, [list(t) for t in tags], created_at), KEY, aux_rand=bytes(32))


@pytest.mark.parametrize(
    "kind, expected",
    [
        (0, P), (1, R), (2, R), (3, P), (4, R), (5, R), (9999, R),
        (10000, P), (10002, P), (19999, P),
        (20000, E), (22242, E), (29999, E),
        (30000, A), (30023, A), (39999, A),
        (40000, R), (65535, R),
    ],
)
def test_classification_boundaries(kind, expected):
    assert classify(kind) is expected
    assert is_replaceable(kind) is (expected is P)
    assert is_ephemeral(kind) is (expected is E)
    assert is_addressable(kind) is (expected is A)


def test_each_class_is_exactly_one_predicate():
    for kind in range(0, 65536, 7):
        flags = (is_replaceable(kind), is_ephemeral(kind), is_addressable(kind))
        assert sum(flags) <= 1
        assert (sum(flags) == 0) is (classify(kind) is R)


def test_missing_d_tag_is_the_empty_string():
    assert d_tag(_event(30000)) == ""
    assert d_tag(_event(30000, [["d"]])) == ""  # a `d` tag without a value counts as missing
    assert d_tag(_event(30000, [["d", ""]])) == ""


def test_first_d_tag_wins():
    ev = _event(30000, [["p", "x"], ["d", "first"], ["d", "second"]])
    assert d_tag(ev) == "first"


def test_address_of_each_class():
    pub = KEY.public_key
    assert address(_event(30023, [["d", "my:post"]])) == f"30023:{pub}:my:post"
    assert address(_event(30000)) == f"30000:{pub}:"
    assert address(_event(0)) == f"0:{pub}:"
    assert address(_event(10002, [["d", "ignored"]])) == f"10002:{pub}:"  # replaceable: d does not count
    assert address(_event(1)) is None
    assert address(_event(20001)) is None


def test_address_of_real_addressable_events(real_event_lines):
    seen = 0
    for line in real_event_lines:
        ev = Event.from_json(line)
        if is_addressable(ev.kind):
            kind, pubkey, ident = parse_address(address(ev))
            assert (kind, pubkey, ident) == (ev.kind, ev.pubkey, d_tag(ev))
            seen += 1
    assert seen == 16  # 4 + 6 + 4 + 1 + 1 in the vectors README's table


def test_parse_address_keeps_colons_in_d():
    pub = KEY.public_key
    assert parse_address(f"30023:{pub}:a:b:c") == (30023, pub, "a:b:c")
    assert parse_address(f"0:{pub}:") == (0, pub, "")


@pytest.mark.parametrize(
    "text",
    ["", "1", "1:2", f"x:{'a' * 64}:d", f"-1:{'a' * 64}:d", f"65536:{'a' * 64}:d", f"1:{'A' * 64}:d",
     f"1:{'a' * 63}:d", f"１:{'a' * 64}:d", f"²:{'a' * 64}:d", f" 1:{'a' * 64}:d", f"{'1' * 5000}:{'a' * 64}:d"],
)
def test_parse_address_rejects_junk(text):
    with pytest.raises(InvalidEvent):
        parse_address(text)


def test_newer_wins_whatever_the_ids():
    old, new = _event(0, created_at=100), _event(0, created_at=101)
    assert replacement_wins(new, old)
    assert not replacement_wins(old, new)


def test_equal_time_lowest_id_wins():
    a, b = _event(0, content="a"), _event(0, content="b")
    low, high = sorted((a, b), key=lambda e: e.id)
    assert low.created_at == high.created_at
    assert replacement_wins(low, high)
    assert not replacement_wins(high, low)
    assert not replacement_wins(low, low)  # an event never replaces itself


def test_latest_replaceable_per_address_in_real_events(real_event_lines):
    # Fold the corpus with replacement_wins; the winner must be max by (created_at, -id).
    events = [Event.from_json(line) for line in real_event_lines]
    latest: dict[str, Event] = {}
    groups: dict[str, list[Event]] = {}
    for ev in events:
        addr = address(ev)
        if addr is None:
            continue
        groups.setdefault(addr, []).append(ev)
        if addr not in latest or replacement_wins(ev, latest[addr]):
            latest[addr] = ev
    assert any(len(g) > 1 for g in groups.values())  # the corpus has several versions of some
    for addr, group in groups.items():
        best = min(group, key=lambda e: (-e.created_at, e.id))
        assert latest[addr] is best, addr


def test_real_kinds_parse_and_classify(real_event_lines):
    counts = {cls: 0 for cls in KindClass}
    for line in real_event_lines[:400]:
        counts[classify(parse_verified(line).kind)] += 1
    assert counts[R] and counts[P]
