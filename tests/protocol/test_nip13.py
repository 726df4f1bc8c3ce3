"""NIP-13: difficulty on the NIP's examples and the real mined events, committed targets, bounded mining."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nostr_desk.protocol import nip13
from nostr_desk.protocol.errors import Prefix, ProtocolError
from nostr_desk.protocol.event import Event, EventTemplate, sign
from nostr_desk.protocol.keys import SecretKey

KEY = SecretKey(b"\x07" * 32)


@pytest.mark.parametrize(
    "event_id, bits",
    [
        ("000000000e9d97a1ab09fc381030b346cdd7a142ad57e6df0b46dc9bef6c7e2d", 36),  # NIP-13's example
        ("002f" + "f" * 60, 10),  # "002f..." is 0000 0000 0010 1111: 10 bits
        ("000006d8c378af1779d2feebc7603a125d99eca0ccf1085959b307f64e5dd358", 21),
        ("8" + "0" * 63, 0),
        ("7" + "f" * 63, 1),
        ("0" * 63 + "1", 255),
        ("0" * 64, 256),
    ],
)
def test_leading_zero_bits(event_id, bits):
    assert nip13.leading_zero_bits(event_id) == bits
    assert nip13.leading_zero_bits(bytes.fromhex(event_id)) == bits


def test_real_mined_events_meet_their_committed_targets(real_event_lines):
    mined = [ev for ev in map(Event.from_json, real_event_lines) if ev.first_tag_value("nonce") is not None]
    assert len(mined) == 32
    committed = 0
    for ev in mined:
        target = nip13.committed_target(ev.tags)
        if target is not None:
            committed += 1
            assert nip13.difficulty(ev) >= target, ev.id
            nip13.check(ev, target, require_commitment=True)
    assert committed == 31


def test_sample_pow_event(sample_event_lines):
    (ev,) = [Event.from_json(line) for line in sample_event_lines if '"nonce"' in line]
    assert nip13.difficulty(ev) >= 16
    assert nip13.committed_target(ev.tags) is None  # it commits to nothing
    nip13.check(ev, 16)
    with pytest.raises(ProtocolError, match="missing committed target") as info:
        nip13.check(ev, 16, require_commitment=True)
    assert info.value.reason.startswith("pow: ")


@pytest.mark.parametrize(
    "tags, target",
    [
        ([], None),
        ([["nonce", "1"]], None),
        ([["nonce", "1", "21"]], 21),
        ([["nonce", "1", "x"]], None),
        ([["nonce", "1", "-3"]], None),
        ([["nonce", "1", "²"]], None),
        ([["nonce"]], None),
        ([["p", "x"], ["nonce", "1", "8"], ["nonce", "2", "30"]], 8),
    ],
)
def test_committed_target(tags, target):
    assert nip13.committed_target(tags) == target


def test_mine_then_sign_reaches_the_target():
    template = EventTemplate(kind=1, content="mining my own business", tags=[["t", "pow"], ["nonce", "9", "1"]],
                             created_at=1_700_000_000)
    mined = nip13.mine(template, KEY.public_key, 8, max_tries=100_000)
    assert mined is not None
    ev = sign(mined, KEY, aux_rand=bytes(32))
    assert nip13.difficulty(ev) >= 8
    assert nip13.committed_target(ev.tags) == 8
    assert [t for t in ev.tags if t[0] == "nonce"] == [ev.tags[-1]]  # the old nonce tag was replaced
    assert ev.tags[0] == ["t", "pow"]
    nip13.check(ev, 8, require_commitment=True)


def test_mine_is_bounded_and_resumable():
    template = EventTemplate(kind=1, content="x", created_at=1)
    assert nip13.mine(template, KEY.public_key, 40, max_tries=50) is None
    first = nip13.mine(template, KEY.public_key, 6, max_tries=10_000)
    nonce = int(first.tags[-1][1])
    # Resuming past the first solution finds a later one; starting at it finds it again.
    assert nip13.mine(template, KEY.public_key, 6, start_nonce=nonce, max_tries=1) == first
    later = nip13.mine(template, KEY.public_key, 6, start_nonce=nonce + 1, max_tries=10_000)
    assert int(later.tags[-1][1]) > nonce
    with pytest.raises(ValueError):
        nip13.mine(template, KEY.public_key, 257)


def test_check_refuses_low_difficulty_and_low_commitment():
    easy = sign(EventTemplate(kind=1, content="a", created_at=1), KEY, aux_rand=bytes(32))
    assert nip13.difficulty(easy) < 20
    nip13.check(easy, 0)
    with pytest.raises(ProtocolError, match="difficulty") as info:
        nip13.check(easy, 20)
    assert info.value.prefix is Prefix.POW and info.value.event_id == easy.id
    # An id that is lucky (>= 4 bits) but commits to a target of 2 is refused at a minimum of 4.
    for n in range(10_000):
        ev = sign(EventTemplate(kind=1, content="b", created_at=1, tags=[["nonce", str(n), "2"]]), KEY,
                  aux_rand=bytes(32))
        if nip13.difficulty(ev) >= 4:
            break
    assert nip13.difficulty(ev) >= 4
    with pytest.raises(ProtocolError, match="committed target 2"):
        nip13.check(ev, 4)
    nip13.check(ev, 2)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=32, max_size=32))
def test_leading_zero_bits_matches_the_reference_definition(raw):
    # NIP-13's JavaScript: count 4 per zero nibble, then clz32 of the first non-zero nibble minus 28.
    count = 0
    for nibble in raw.hex():
        value = int(nibble, 16)
        if value == 0:
            count += 4
        else:
            count += 4 - value.bit_length()
            break
    assert nip13.leading_zero_bits(raw) == count


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["nonce", "p", "1", "20", "-1", "x", "", "٣"]) | st.text(max_size=5),
                         max_size=4), max_size=5))
def test_committed_target_of_any_tags_is_a_count_or_none(tags):
    target = nip13.committed_target(tags)
    assert target is None or (isinstance(target, int) and target >= 0)
