"""NIP-01 messages both ways: every type parses and encodes; errors carry what the relay answers with."""

from __future__ import annotations

import json

import pytest

from nostr_desk.protocol.errors import InvalidEvent, InvalidFilter, InvalidMessage, Prefix, ProtocolError
from nostr_desk.protocol.event import Event, parse_verified
from nostr_desk.protocol.filters import Filter
from nostr_desk.protocol.messages import (
    ClientAuth, ClientClose, ClientCount, ClientEvent, ClientReq, RelayAuth, RelayClosed, RelayCount,
    RelayEose, RelayEvent, RelayNotice, RelayOk, encode, encode_event_frame, parse_client_message,
    parse_relay_message, peek_event_id, split_frame,
)

HEX = "ab" * 32


@pytest.fixture(scope="module")
def ev(sample_event_lines) -> Event:
    return Event.from_json(sample_event_lines[1])


@pytest.fixture(scope="module")
def line(sample_event_lines) -> str:
    return sample_event_lines[1]


# --- client -> relay ---------------------------------------------------------------------------------
def test_client_event(ev, line):
    msg = parse_client_message(f'["EVENT",{line}]')
    assert msg == ClientEvent(ev)
    assert encode(msg) == f'["EVENT",{line}]'


def test_client_req_with_several_filters():
    text = f'["REQ","sub 1",{{"kinds":[1],"limit":10}},{{"authors":["{HEX}"],"#p":["{HEX}"]}}]'
    msg = parse_client_message(text)
    assert msg == ClientReq("sub 1", (Filter(kinds=frozenset({1}), limit=10),
                                      Filter(authors=frozenset({HEX}), tags={"p": frozenset({HEX})})))
    assert parse_client_message(encode(msg)) == msg
    assert json.loads(encode(msg)) == json.loads(text)


def test_client_count_close_and_auth(ev, line):
    count = parse_client_message('["COUNT","c",{"kinds":[7]}]')
    assert count == ClientCount("c", (Filter(kinds=frozenset({7})),))
    assert encode(count) == '["COUNT","c",{"kinds":[7]}]'
    assert parse_client_message('["CLOSE","c"]') == ClientClose("c")
    assert encode(ClientClose("c")) == '["CLOSE","c"]'
    auth = parse_client_message(f'["AUTH",{line}]')
    assert auth == ClientAuth(ev) and encode(auth) == f'["AUTH",{line}]'


def test_whitespace_and_bytes_frames_are_accepted(line):
    assert isinstance(parse_client_message(f' [ "EVENT" ,\n {line} ] '.encode()), ClientEvent)
    assert parse_client_message(b'["CLOSE" , "x"]') == ClientClose("x")


@pytest.mark.parametrize("sub_id", ["a", "x" * 64, "ünïcode-✓", " ", "with\"quote"])
def test_sub_ids_of_1_to_64_characters(sub_id):
    frame = json.dumps(["REQ", sub_id, {}])
    assert parse_client_message(frame) == ClientReq(sub_id, (Filter(),))
    assert parse_client_message(json.dumps(["CLOSE", sub_id])) == ClientClose(sub_id)


@pytest.mark.parametrize("sub_id", ["", "x" * 65, 5, None, ["a"]])
def test_bad_sub_ids_are_rejected(sub_id):
    for verb in ("REQ", "COUNT", "CLOSE"):
        frame = json.dumps([verb, sub_id, {}] if verb != "CLOSE" else [verb, sub_id])
        with pytest.raises(InvalidMessage):
            parse_client_message(frame)


def test_a_bad_filter_carries_the_sub_id_for_closed():
    with pytest.raises(InvalidFilter) as info:
        parse_client_message('["REQ","feed",{"kinds":[1]},{"ids":["ABC"]}]')
    assert info.value.sub_id == "feed"
    assert info.value.reason.startswith("invalid: ")
    with pytest.raises(InvalidFilter) as info:
        parse_client_message('["COUNT","n"]')  # a COUNT needs a filter too
    assert info.value.sub_id == "n"
    with pytest.raises(InvalidFilter) as info:
        parse_client_message('["REQ","big",{"limit":1e400}]')  # out of range: msgspec refuses it
    assert info.value.sub_id == "big"


def test_a_bad_event_carries_its_id_for_ok_false(line):
    raw = json.loads(line)
    raw["sig"] = raw["sig"].upper()
    with pytest.raises(InvalidEvent) as info:
        parse_client_message(json.dumps(["EVENT", raw]))
    assert info.value.event_id == raw["id"]
    assert info.value.prefix is Prefix.INVALID
    raw["id"] = "nothex"
    with pytest.raises(InvalidEvent) as info:
        parse_client_message(json.dumps(["AUTH", raw]))
    assert info.value.event_id is None


BAD_CLIENT = [
    "", "null", "{}", "[]", "[1]", '"EVENT"', '["EVENT"]', '["EVENT",{},{}]', '["REQ"]',
    '["CLOSE"]', '["CLOSE","a","b"]', '["AUTH"]', '["NOTICE","hi"]', '["event",{}]', '["EVENT",[]]',
    '["REQ","x",[]]', '["REQ","x",null]', '["REQ","x",{"ids":"a"}]', '["EVENT",{"id":1}]', "[" * 5000,
    '["REQ","x",' + "[" * 3000 + "]" * 3000 + "]", '["CLOSE","\\ud800"]', b"[\xff]", '["REQ","x",{}',
]


@pytest.mark.parametrize("frame", BAD_CLIENT)
def test_bad_client_frames_raise_the_typed_error(frame):
    with pytest.raises(ProtocolError) as info:
        parse_client_message(frame)
    assert info.value.reason.startswith("invalid: ")


def test_a_str_frame_with_lone_surrogates_is_invalid():
    with pytest.raises(InvalidMessage):
        parse_client_message('["CLOSE","\ud800"]')
    with pytest.raises(InvalidEvent):
        Event.from_json('{"content":"\ud800"}')


# --- relay -> client ---------------------------------------------------------------------------------
def test_relay_event(ev, line):
    msg = parse_relay_message(f'["EVENT","s",{line}]')
    assert msg == RelayEvent("s", ev)
    assert encode(msg) == f'["EVENT","s",{line}]'


@pytest.mark.parametrize(
    "text, msg",
    [
        (f'["OK","{HEX}",true,""]', RelayOk(HEX, True, "")),
        (f'["OK","{HEX}",false,"duplicate: have it"]', RelayOk(HEX, False, "duplicate: have it")),
        ('["EOSE","s"]', RelayEose("s")),
        ('["CLOSED","s","auth-required: log in"]', RelayClosed("s", "auth-required: log in")),
        ('["NOTICE","slow down"]', RelayNotice("slow down")),
        ('["COUNT","s",{"count":42}]', RelayCount("s", 42)),
        ('["COUNT","s",{"count":0,"approximate":true}]', RelayCount("s", 0, True)),
        ('["AUTH","challenge-ü"]', RelayAuth("challenge-ü")),
    ],
)
def test_relay_messages_parse_and_encode(text, msg):
    assert parse_relay_message(text) == msg
    assert encode(msg) == text
    assert parse_relay_message(encode(msg)) == msg


def test_closed_without_message_and_count_extras():
    assert parse_relay_message('["CLOSED","s"]') == RelayClosed("s", "")
    assert parse_relay_message('["COUNT","s",{"count":3,"approximate":false,"x":1}]') == RelayCount("s", 3)


def test_ok_prefixes_are_machine_readable():
    for prefix in Prefix:
        msg = parse_relay_message(json.dumps(["OK", HEX, False, prefix.message("why")]))
        assert Prefix.of(msg.message) is prefix
    assert Prefix.of("") is None and Prefix.of("no prefix here") is None and Prefix.of("nope: x") is None
    assert Prefix.of("rate-limited:slow") is Prefix.RATE_LIMITED


BAD_RELAY = [
    "[]", '["OK"]', f'["OK","{HEX}","true",""]', f'["OK","{HEX}",1,""]', f'["OK","{HEX}",true]',
    '["EOSE"]', '["EOSE",1]', '["CLOSED","s","m","x"]', '["NOTICE"]', '["NOTICE",null]',
    '["COUNT","s",{}]', '["COUNT","s",{"count":-1}]', '["COUNT","s",{"count":true}]',
    '["COUNT","s",{"count":1.5}]', '["COUNT","s",[1]]', '["COUNT","s",{"count":1e400}]', '["AUTH",{}]',
    '["EVENT","s"]', '["EVENT","s",{}]', '["REQ","s",{}]', '["WHAT"]', "[" * 5000,
]


@pytest.mark.parametrize("frame", BAD_RELAY)
def test_bad_relay_frames_raise_the_typed_error(frame):
    with pytest.raises(ProtocolError):
        parse_relay_message(frame)


def test_encode_refuses_non_messages():
    with pytest.raises(TypeError):
        encode("EVENT")  # type: ignore[arg-type]


# --- raw frames ------------------------------------------------------------------------------------
def test_encode_event_frame_byte_layout(real_event_lines):
    for text in real_event_lines[:200]:
        raw = text.encode()
        frame = encode_event_frame("sub-1", raw)
        assert frame == b'["EVENT","sub-1",' + raw + b"]"
        assert parse_relay_message(frame) == RelayEvent("sub-1", Event.from_json(raw))


def test_encode_event_frame_escapes_the_sub_id(line):
    frame = encode_event_frame('q"\\ü', line.encode())
    assert frame.startswith(b'["EVENT","q\\"\\\\\xc3\xbc",')
    assert parse_relay_message(frame).sub_id == 'q"\\ü'


def test_split_frame_slices_without_decoding(line):
    parts = split_frame(f'["EVENT", "s", {line}]')
    assert [bytes(p) for p in parts] == [b'"EVENT"', b'"s"', line.encode()]


def test_peek_event_id_on_real_events(real_event_lines):
    for text in real_event_lines:
        assert peek_event_id(text.encode()) == json.loads(text)["id"]
    assert peek_event_id(real_event_lines[0]) == json.loads(real_event_lines[0])["id"]  # str works too


def test_peek_event_id_finds_the_key_in_any_position(line):
    raw = json.loads(line)
    reordered = {"content": raw["content"], "tags": [["id", "x"]], "sig": raw["sig"], "id": raw["id"]}
    assert peek_event_id(json.dumps(reordered, indent=2).encode()) == raw["id"]


def test_peek_event_id_is_not_fooled_by_content(line):
    decoy = "c" * 64
    raw = {"content": f'{{"id":"{decoy}"}},"id":"{decoy}"', "id": "nothex"}
    assert decoy in json.dumps(raw)
    assert peek_event_id(json.dumps(raw).encode()) is None


@pytest.mark.parametrize(
    "junk",
    [b"", b"{", b'"id"', b'{"id":', b'{"id":"', b'{"id":"' + b"a" * 63 + b'"}', b'{"id":"' + b"a" * 65 + b'"}',
     b'{"id":"' + b"A" * 64 + b'"}', b'{"id":' + b"1" * 64 + b"}", b'{"id":"\xff' + b"a" * 63 + b'"}',
     b'{"idx":"' + b"a" * 64 + b'"}', b"\x00" * 100, b'{"id" "' + b"a" * 64 + b'"}'],
)
def test_peek_event_id_on_junk_is_none(junk):
    assert peek_event_id(junk) is None


def test_an_event_with_two_ids_is_refused(line):
    # msgspec keeps the last "id", peek_event_id (used to de-duplicate before parsing) the first:
    # a relay could otherwise get one event counted under another event's id.
    real_id = json.loads(line)["id"]
    doubled = '{"id":"' + "a" * 64 + '",' + line[1:]
    assert peek_event_id(doubled) == "a" * 64 and Event.from_json(doubled).id == real_id
    with pytest.raises(InvalidEvent, match="id must appear once"):
        parse_verified(doubled)
    escaped = line.replace('"id":"' + real_id[:1], '"id":"\\u00' + real_id[:1].encode().hex(), 1)
    assert escaped != line and Event.from_json(escaped).id == real_id
    with pytest.raises(InvalidEvent):
        parse_verified(escaped)
