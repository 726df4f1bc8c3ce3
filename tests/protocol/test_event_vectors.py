"""Events against the public vectors: every real event verifies, every broken one is rejected."""

from __future__ import annotations

import hashlib
import json

import pytest

from nostr_desk.protocol.errors import InvalidEvent, Prefix
from nostr_desk.protocol.event import Event, EventTemplate, parse_verified, sign
from nostr_desk.protocol.keys import SecretKey


def test_every_sample_event_verifies_and_round_trips(sample_event_lines):
    assert len(sample_event_lines) == 40
    for line in sample_event_lines:
        ev = parse_verified(line)
        assert ev.compute_id() == ev.id
        assert ev.to_json() == line  # canonical key order, compact, raw UTF-8
        assert Event.from_json(ev.to_json()).compute_id() == ev.id


def test_every_real_event_verifies_and_round_trips(real_event_lines):
    assert len(real_event_lines) == 2391
    for line in real_event_lines:
        ev = parse_verified(line.encode())
        assert ev.to_json() == line


def _canonical(ev: dict) -> bytes:
    return json.dumps(
        [0, ev["pubkey"], ev["created_at"], ev["kind"], ev["tags"], ev["content"]],
        separators=(",", ":"), ensure_ascii=False,
    ).encode("utf-8")


def test_serialization_vectors_byte_for_byte(vectors):
    data = json.loads((vectors / "event-serialization.json").read_text())
    entries = data["vectors"] if isinstance(data, dict) and "vectors" in data else data
    assert len(entries) == 9
    secret = SecretKey((3).to_bytes(32, "big"))
    for entry in entries:
        raw = entry["event"]
        ev = Event.from_obj(raw)
        assert ev.serialize().hex() == entry["serialized_utf8_hex"]
        assert ev.serialize() == _canonical(raw)
        assert hashlib.sha256(ev.serialize()).hexdigest() == ev.id
        ev.verify()
        resigned = sign(EventTemplate(ev.kind, ev.content, ev.tags, ev.created_at), secret, aux_rand=bytes(32))
        assert resigned == ev


def test_every_invalid_event_is_rejected_with_invalid_prefix(invalid_events):
    assert len(invalid_events) == 40
    for raw in invalid_events:
        raw = dict(raw)  # the fixture is session-wide: do not strip `_defect` from the shared dicts
        defect = raw.pop("_defect")
        with pytest.raises(InvalidEvent) as info:
            parse_verified(json.dumps(raw, ensure_ascii=False))
        assert info.value.prefix is Prefix.INVALID, defect
        assert info.value.reason.startswith("invalid: ")


def test_uppercase_hex_is_rejected_on_purpose(sample_event_lines):
    raw = json.loads(sample_event_lines[1])
    raw["id"] = raw["id"].upper()
    with pytest.raises(InvalidEvent):
        Event.from_json(json.dumps(raw))


def test_unknown_fields_are_rejected(sample_event_lines):
    raw = json.loads(sample_event_lines[1])
    raw["extra"] = 1
    with pytest.raises(InvalidEvent, match="extra"):
        Event.from_json(json.dumps(raw))


@pytest.mark.parametrize("text", ["", "[]", "null", "{", '{"id": 1}', "\"\\ud800\"", "1e999"])
def test_junk_is_an_invalid_event(text):
    with pytest.raises(InvalidEvent):
        Event.from_json(text)


# Each line of events-invalid.jsonl (1-based) by the check that must catch it.
ID_DEFECTS = {1, 5, 6, 7, 8, 9, 39, 40}
SIG_DEFECTS = {2, 3, 4, 19, 20}
SHAPE_DEFECTS = set(range(1, 41)) - ID_DEFECTS - SIG_DEFECTS


def test_every_invalid_event_is_rejected_for_its_own_reason(invalid_events):
    for number, raw in enumerate(invalid_events, 1):
        raw = {k: v for k, v in raw.items() if k != "_defect"}
        text = json.dumps(raw, ensure_ascii=False)
        if number in SHAPE_DEFECTS:  # caught before any hashing
            with pytest.raises(InvalidEvent, match="malformed"):
                Event.from_json(text)
            continue
        ev = Event.from_json(text)
        expected = "id does not match" if number in ID_DEFECTS else "signature verification failed"
        with pytest.raises(InvalidEvent, match=expected) as info:
            ev.verify()
        assert info.value.event_id == raw["id"], number


def test_edited_upstream_fixtures_have_good_signatures_but_wrong_ids(invalid_events):
    # Lines 39-40 catch validators that check only the signature.
    for raw in invalid_events[38:40]:
        ev = Event.from_obj({k: v for k, v in raw.items() if k != "_defect"})
        assert ev.has_valid_signature() and not ev.has_valid_id()
