"""Hypothesis properties: the parsers never crash, encode∘parse round-trips, signatures hold and break.

"Never crash" means: any input returns a value or raises `ProtocolError` (whose `.reason` carries a
NIP-01 prefix). Inputs are arbitrary text and bytes, arbitrary JSON values, message-shaped arrays,
and real events with their bytes or fields mutated.
"""

from __future__ import annotations

import json

import msgspec
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from nostr_desk.protocol.errors import InvalidEvent, ProtocolError
from nostr_desk.protocol.event import Event, EventTemplate, parse_verified, sign
from nostr_desk.protocol.filters import Filter
from nostr_desk.protocol.keys import SecretKey
from nostr_desk.protocol.messages import (
    ClientAuth, ClientClose, ClientCount, ClientEvent, ClientReq, RelayAuth, RelayClosed, RelayCount,
    RelayEose, RelayEvent, RelayNotice, RelayOk, encode, parse_client_message, parse_relay_message,
    peek_event_id,
)

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PARSERS = (Event.from_json, parse_verified, parse_client_message, parse_relay_message)
VERBS = ["EVENT", "REQ", "CLOSE", "COUNT", "AUTH", "OK", "EOSE", "CLOSED", "NOTICE", "event", ""]
KEYS = [SecretKey((n * 7919 + 1).to_bytes(32, "big")) for n in range(1, 4)]


def _answer_or_protocol_error(parse, data):
    """Call a parser; anything other than a value or a ProtocolError fails the test."""
    try:
        return parse(data)
    except ProtocolError as exc:
        assert exc.reason.split(":", 1)[0] in {p.value for p in type(exc.prefix)}
        return None


# --- strategies -----------------------------------------------------------------------------------
json_scalars = (
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
    | st.sampled_from(["a" * 64, "A" * 64, "0" * 128, "#e", "ids", "kinds", "limit"])
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=5)
    | st.dictionaries(st.sampled_from(["ids", "authors", "kinds", "#e", "#p", "since", "until", "limit",
                                       "search", "id", "tags", "count", "x"]) | st.text(max_size=5),
                      inner, max_size=5),
    max_leaves=12,
)
message_like = st.tuples(st.sampled_from(VERBS), st.lists(json_values, max_size=4)).map(lambda t: [t[0], *t[1]])

hex64 = st.binary(min_size=32, max_size=32).map(bytes.hex)
tag = st.lists(st.text(max_size=12), min_size=0, max_size=4)
templates = st.builds(
    EventTemplate,
    kind=st.integers(0, 65535),
    content=st.text(max_size=200),
    tags=st.lists(tag, max_size=6),
    created_at=st.integers(0, 2**63 - 1),
)


@st.composite
def signed_events(draw) -> Event:
    return sign(draw(templates), draw(st.sampled_from(KEYS)), aux_rand=draw(st.binary(min_size=32, max_size=32)))


filters = st.builds(
    Filter,
    ids=st.none() | st.frozensets(hex64, max_size=3),
    authors=st.none() | st.frozensets(hex64, max_size=3),
    kinds=st.none() | st.frozensets(st.integers(0, 2**31), max_size=3),
    tags=st.dictionaries(st.sampled_from("epPtdaZ"), st.frozensets(st.text(max_size=10), max_size=3), max_size=3),
    since=st.none() | st.integers(-(2**63) + 1, 2**63 - 1),
    until=st.none() | st.integers(-(2**63) + 1, 2**63 - 1),
    limit=st.none() | st.integers(0, 2**63 - 1),
    search=st.none() | st.text(max_size=20),
)
sub_ids = st.text(min_size=1, max_size=64)
client_messages = st.one_of(
    st.builds(ClientEvent, signed_events()),
    st.builds(ClientReq, sub_ids, st.lists(filters, min_size=1, max_size=3).map(tuple)),
    st.builds(ClientCount, sub_ids, st.lists(filters, min_size=1, max_size=3).map(tuple)),
    st.builds(ClientClose, sub_ids),
    st.builds(ClientAuth, signed_events()),
)
relay_messages = st.one_of(
    st.builds(RelayEvent, st.text(max_size=70), signed_events()),
    st.builds(RelayOk, hex64, st.booleans(), st.text(max_size=40)),
    st.builds(RelayEose, st.text(max_size=70)),
    st.builds(RelayClosed, st.text(max_size=70), st.text(max_size=40)),
    st.builds(RelayNotice, st.text(max_size=40)),
    st.builds(RelayCount, st.text(max_size=70), st.integers(0, 2**63 - 1), st.booleans()),
    st.builds(RelayAuth, st.text(max_size=40)),
)


# --- never anything but a value or ProtocolError ------------------------------------------------------
# st.text() leaves out lone surrogates; a Python str can hold them, so mix some in.
any_text = st.text() | st.text(st.characters() | st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF))


@FUZZ
@given(any_text)
def test_any_text_is_a_value_or_a_protocol_error(text):
    for parse in PARSERS:
        _answer_or_protocol_error(parse, text)
        _answer_or_protocol_error(parse, text.encode("utf-8", "surrogatepass"))
    found = peek_event_id(text)
    assert found is None or len(found) == 64


@FUZZ
@given(st.binary())
def test_any_bytes_are_a_value_or_a_protocol_error(data):
    for parse in PARSERS:
        _answer_or_protocol_error(parse, data)
    peek_event_id(data)


@FUZZ
@given(json_values)
def test_any_json_value_is_a_value_or_a_protocol_error(value):
    text = json.dumps(value)
    for parse in PARSERS:
        _answer_or_protocol_error(parse, text)
    _answer_or_protocol_error(Filter.from_obj, value)
    _answer_or_protocol_error(Event.from_obj, value)


@FUZZ
@given(message_like)
def test_message_shaped_arrays_are_a_value_or_a_protocol_error(frame):
    text = json.dumps(frame)
    for parse in (parse_client_message, parse_relay_message):
        _answer_or_protocol_error(parse, text)


@FUZZ
@given(st.data())
def test_nearly_valid_frames_are_a_value_or_a_protocol_error(data):
    # Right verb and arity, each part usually well-formed: reaches the checks behind the first one.
    sub = _mostly(st.text(min_size=0, max_size=66))
    frame = data.draw(st.one_of(
        st.tuples(st.sampled_from(["REQ", "COUNT"]), sub).flatmap(
            lambda t: st.lists(filter_like, max_size=3).map(lambda fs: [*t, *fs])),
        st.tuples(st.just("CLOSE"), sub).map(list),
        st.tuples(st.just("OK"), _mostly(hex64), _mostly(st.booleans()), _mostly(st.text(max_size=9))).map(list),
        st.tuples(st.sampled_from(["EOSE", "NOTICE", "AUTH"]), sub).map(list),
        st.tuples(st.just("CLOSED"), sub, _mostly(st.text(max_size=9))).map(list),
        st.tuples(st.just("COUNT"), sub, _mostly(st.fixed_dictionaries(
            {}, optional={"count": _mostly(st.integers(-3, 2**64)), "approximate": json_scalars}))).map(list),
    ))
    for parse in (parse_client_message, parse_relay_message):
        msg = _answer_or_protocol_error(parse, json.dumps(frame))
        if msg is not None:  # whatever parses must encode to something that parses the same
            assert parse(encode(msg)) == msg


def _mostly(good, bad=json_scalars):
    return st.one_of(good, good, good, bad)


filter_like = st.fixed_dictionaries({}, optional={
    "ids": _mostly(st.lists(_mostly(hex64), max_size=3)),
    "authors": _mostly(st.lists(_mostly(hex64), max_size=3)),
    "kinds": _mostly(st.lists(_mostly(st.integers(-2, 2**32)), max_size=3)),
    "#e": _mostly(st.lists(_mostly(st.text(max_size=8)), max_size=3)),
    "#Z": _mostly(st.lists(st.text(max_size=8), max_size=3)),
    "since": _mostly(st.integers(-(2**64), 2**64)),
    "until": _mostly(st.integers(-(2**64), 2**64)),
    "limit": _mostly(st.integers(-5, 2**64)),
    "search": _mostly(st.text(max_size=10)),
    "#ee": st.just([]), "#": st.just([]), "other": json_scalars,
})


@FUZZ
@given(filter_like)
def test_filter_objects_parse_to_filters_that_round_trip(obj):
    flt = _answer_or_protocol_error(Filter.from_obj, obj)
    if flt is not None:
        assert Filter.from_obj(flt.to_obj()) == flt
        assert Filter.from_obj(json.loads(json.dumps(flt.to_obj()))) == flt


# --- mutated real events ----------------------------------------------------------------------------
@FUZZ
@given(data=st.data())
def test_byte_mutated_real_events_never_crash_and_never_forge(data, real_event_lines):
    line = data.draw(st.sampled_from(real_event_lines)).encode()
    original_id = json.loads(line)["id"]
    at = data.draw(st.integers(0, len(line)))
    op = data.draw(st.sampled_from(["replace", "delete", "insert", "truncate", "repeat"]))
    byte = bytes([data.draw(st.integers(0, 255))])
    mutated = {
        "replace": line[:at] + byte + line[at + 1:],
        "delete": line[:at] + line[at + 1:],
        "insert": line[:at] + byte + line[at:],
        "truncate": line[:at],
        "repeat": line[:at] + line[at:at + 8] + line[at:],
    }[op]
    ev = _answer_or_protocol_error(parse_verified, mutated)
    if ev is not None:  # only a neutral change (e.g. whitespace) may still verify, as the same event
        assert ev.id == original_id == peek_event_id(mutated)
    msg = _answer_or_protocol_error(parse_client_message, b'["EVENT",' + mutated + b"]")
    assert msg is None or isinstance(msg, ClientEvent)


@FUZZ
@given(data=st.data())
def test_field_mutated_real_events_never_crash_and_never_forge(data, real_event_lines):
    raw = json.loads(data.draw(st.sampled_from(real_event_lines)))
    original = dict(raw)
    field = data.draw(st.sampled_from([*raw, "extra"]))
    if data.draw(st.booleans()):
        raw.pop(field, None)
    else:
        raw[field] = data.draw(json_values)
    assume(raw != original)
    ev = _answer_or_protocol_error(parse_verified, json.dumps(raw, ensure_ascii=False))
    assert ev is None, f"a changed {field!r} still verified"
    _answer_or_protocol_error(Event.from_obj, raw)
    _answer_or_protocol_error(parse_client_message, json.dumps(["EVENT", raw]))


# --- round trips and signatures -----------------------------------------------------------------------
@FUZZ
@given(signed_events())
def test_sign_then_verify_and_round_trip(ev):
    assert parse_verified(ev.to_bytes()) == ev
    assert Event.from_json(ev.to_json()) == ev
    assert Event.from_obj(ev.to_obj()) == ev
    assert Event.from_obj(json.loads(ev.to_json())) == ev
    assert peek_event_id(ev.to_bytes()) == ev.id
    # The canonical serialization is exactly the NIP-01 recipe with Python's json module.
    recipe = json.dumps([0, ev.pubkey, ev.created_at, ev.kind, ev.tags, ev.content],
                        separators=(",", ":"), ensure_ascii=False).encode()
    assert ev.serialize() == recipe


@FUZZ
@given(signed_events(), st.data())
def test_changing_any_signed_field_breaks_verify(ev, data):
    field = data.draw(st.sampled_from(["id", "pubkey", "created_at", "kind", "tags", "content", "sig"]))
    if field in ("created_at", "kind"):
        top = 65535 if field == "kind" else 2**63 - 1
        value = data.draw(st.integers(0, top).filter(lambda v: v != getattr(ev, field)))
    elif field == "tags":
        value = data.draw(st.lists(tag, max_size=6).filter(lambda t: t != ev.tags))
    elif field == "content":
        value = data.draw(st.text(max_size=50).filter(lambda c: c != ev.content))
    elif field == "pubkey":
        value = data.draw(st.sampled_from([k.public_key for k in KEYS] + ["ab" * 32]).filter(lambda p: p != ev.pubkey))
    elif field == "id":
        value = data.draw(hex64.filter(lambda h: h != ev.id))
    else:
        flip = data.draw(st.integers(0, 63))
        sig = bytearray.fromhex(ev.sig)
        sig[flip] ^= 1 << data.draw(st.integers(0, 7))
        value = sig.hex()
    forged = msgspec.structs.replace(ev, **{field: value})
    try:
        forged.verify()
    except InvalidEvent as exc:
        assert exc.event_id == forged.id
    else:
        raise AssertionError(f"changing {field} did not break verify")
    # and the same through the wire format
    _answer_or_protocol_error(parse_verified, forged.to_bytes())
    assert _answer_or_protocol_error(parse_verified, forged.to_bytes()) is None


@FUZZ
@given(client_messages)
def test_client_messages_round_trip(msg):
    text = encode(msg)
    assert parse_client_message(text) == msg
    assert parse_client_message(text.encode()) == msg
    assert encode(parse_client_message(text)) == text


@FUZZ
@given(relay_messages)
def test_relay_messages_round_trip(msg):
    text = encode(msg)
    assert parse_relay_message(text) == msg
    assert encode(parse_relay_message(text.encode())) == text
