"""NIP-01 websocket messages, both directions: parse text into typed messages, encode them back.

Client -> relay: EVENT, REQ, CLOSE, COUNT (NIP-45), AUTH (NIP-42).
Relay -> client: EVENT, OK, EOSE, CLOSED, NOTICE, COUNT, AUTH.

Frames are split into raw JSON slices first (`list[msgspec.Raw]`), so an EVENT's event object is
decoded once, straight into the typed `Event`; a relay can forward stored JSON without re-encoding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

import msgspec

from .errors import InvalidEvent, InvalidFilter, InvalidMessage
from .event import Event, peek_event_id  # re-exported: it lives in event.py for parse_verified
from .filters import Filter

MAX_SUB_ID = 64


# --- client -> relay ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ClientEvent:
    event: Event


@dataclass(frozen=True, slots=True)
class ClientReq:
    sub_id: str
    filters: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class ClientClose:
    sub_id: str


@dataclass(frozen=True, slots=True)
class ClientCount:
    sub_id: str
    filters: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class ClientAuth:
    event: Event


ClientMessage = Union[ClientEvent, ClientReq, ClientClose, ClientCount, ClientAuth]


# --- relay -> client ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RelayEvent:
    sub_id: str
    event: Event


@dataclass(frozen=True, slots=True)
class RelayOk:
    event_id: str
    accepted: bool
    message: str


@dataclass(frozen=True, slots=True)
class RelayEose:
    sub_id: str


@dataclass(frozen=True, slots=True)
class RelayClosed:
    sub_id: str
    message: str


@dataclass(frozen=True, slots=True)
class RelayNotice:
    message: str


@dataclass(frozen=True, slots=True)
class RelayCount:
    sub_id: str
    count: int
    approximate: bool = False


@dataclass(frozen=True, slots=True)
class RelayAuth:
    challenge: str


RelayMessage = Union[RelayEvent, RelayOk, RelayEose, RelayClosed, RelayNotice, RelayCount, RelayAuth]

_RAW_LIST = msgspec.json.Decoder(list[msgspec.Raw])
_ENC = msgspec.json.Encoder()
# What msgspec can raise on hostile input: bad JSON or types, nesting deeper than the C stack allows
# (RecursionError), and a `str` frame holding lone surrogates (UnicodeEncodeError).
_DECODE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, RecursionError, UnicodeEncodeError)


def split_frame(data: str | bytes) -> list[msgspec.Raw]:
    """The top-level JSON array of a frame as raw slices; anything else is `InvalidMessage`."""
    try:
        parts = _RAW_LIST.decode(data)
    except _DECODE_ERRORS:
        raise InvalidMessage("message is not a JSON array") from None
    if not parts:
        raise InvalidMessage("empty message array")
    return parts


def _decode(raw: msgspec.Raw, type: Any = Any) -> Any:
    """A raw slice decoded as `type`; msgspec's errors pass through for the caller to name."""
    return msgspec.json.decode(raw, type=type)


def _string(raw: msgspec.Raw, what: str) -> str:
    try:
        return _decode(raw, str)
    except _DECODE_ERRORS:
        raise InvalidMessage(f"{what} must be a string") from None


def _sub_id(raw: msgspec.Raw) -> str:
    sub_id = _string(raw, "subscription id")
    if not 1 <= len(sub_id) <= MAX_SUB_ID:
        raise InvalidMessage(f"subscription id must be 1-{MAX_SUB_ID} characters")
    return sub_id


def _filters(parts: list[msgspec.Raw], sub_id: str) -> tuple[Filter, ...]:
    if not parts:
        raise InvalidFilter("at least one filter is required", sub_id=sub_id)
    out = []
    for raw in parts:
        try:
            try:
                value = _decode(raw)
            except _DECODE_ERRORS:  # e.g. 1e400, which msgspec refuses as out of range
                raise InvalidFilter("filter is not valid JSON") from None
            out.append(Filter.from_obj(value))
        except InvalidFilter as exc:
            exc.sub_id = sub_id
            raise
    return tuple(out)


def _event(raw: msgspec.Raw) -> Event:
    return Event.from_json(raw)


def parse_client_message(data: str | bytes) -> ClientMessage:
    """Parse one client frame. Errors carry `sub_id` when the relay should answer with CLOSED."""
    parts = split_frame(data)
    verb = _string(parts[0], "message type")
    n = len(parts)
    if verb == "EVENT":
        if n != 2:
            raise InvalidMessage("EVENT takes exactly one event")
        return ClientEvent(_event_with_id(parts[1]))
    if verb in ("REQ", "COUNT"):
        if n < 2:
            raise InvalidMessage(f"{verb} needs a subscription id")
        sub_id = _sub_id(parts[1])
        filters = _filters(parts[2:], sub_id)
        return ClientReq(sub_id, filters) if verb == "REQ" else ClientCount(sub_id, filters)
    if verb == "CLOSE":
        if n != 2:
            raise InvalidMessage("CLOSE takes exactly one subscription id")
        return ClientClose(_sub_id(parts[1]))
    if verb == "AUTH":
        if n != 2:
            raise InvalidMessage("AUTH takes exactly one event")
        return ClientAuth(_event_with_id(parts[1]))
    raise InvalidMessage(f"unknown message type {verb[:20]!r}")


def _event_with_id(raw: msgspec.Raw) -> Event:
    """Decode an event; on failure keep its id (if readable) so the relay can answer OK false."""
    try:
        return _event(raw)
    except InvalidEvent as exc:
        exc.event_id = peek_event_id(bytes(raw))
        raise


def parse_relay_message(data: str | bytes) -> RelayMessage:
    parts = split_frame(data)
    verb = _string(parts[0], "message type")
    n = len(parts)
    try:
        if verb == "EVENT" and n == 3:
            return RelayEvent(_string(parts[1], "subscription id"), _event(parts[2]))
        if verb == "OK" and n == 4:
            return RelayOk(_string(parts[1], "event id"), _decode(parts[2], bool),
                           _string(parts[3], "OK message"))
        if verb == "EOSE" and n == 2:
            return RelayEose(_string(parts[1], "subscription id"))
        if verb == "CLOSED" and n in (2, 3):
            return RelayClosed(_string(parts[1], "subscription id"),
                               _string(parts[2], "CLOSED message") if n == 3 else "")
        if verb == "NOTICE" and n == 2:
            return RelayNotice(_string(parts[1], "NOTICE message"))
        if verb == "COUNT" and n == 3:
            body = _decode(parts[2], dict[str, Any])
            count = body.get("count")
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise InvalidMessage("COUNT needs a non-negative integer count")
            return RelayCount(_string(parts[1], "subscription id"), count, body.get("approximate") is True)
        if verb == "AUTH" and n == 2:
            return RelayAuth(_string(parts[1], "challenge"))
    except _DECODE_ERRORS:
        raise InvalidMessage(f"malformed {verb} message") from None
    raise InvalidMessage(f"unexpected relay message {verb[:20]!r} with {n} elements")


# --- encoding -------------------------------------------------------------------------------------
def encode(message: ClientMessage | RelayMessage) -> str:
    return _ENC.encode(_as_list(message)).decode()


def _as_list(m: ClientMessage | RelayMessage) -> list[Any]:
    match m:
        case ClientEvent(event):
            return ["EVENT", event]
        case ClientReq(sub_id, filters):
            return ["REQ", sub_id, *(f.to_obj() for f in filters)]
        case ClientCount(sub_id, filters):
            return ["COUNT", sub_id, *(f.to_obj() for f in filters)]
        case ClientClose(sub_id):
            return ["CLOSE", sub_id]
        case ClientAuth(event):
            return ["AUTH", event]
        case RelayEvent(sub_id, event):
            return ["EVENT", sub_id, event]
        case RelayOk(event_id, accepted, message):
            return ["OK", event_id, accepted, message]
        case RelayEose(sub_id):
            return ["EOSE", sub_id]
        case RelayClosed(sub_id, message):
            return ["CLOSED", sub_id, message]
        case RelayNotice(message):
            return ["NOTICE", message]
        case RelayCount(sub_id, count, approximate):
            body: dict[str, Any] = {"count": count}
            if approximate:
                body["approximate"] = True
            return ["COUNT", sub_id, body]
        case RelayAuth(challenge):
            return ["AUTH", challenge]
    raise TypeError(f"not a message: {m!r}")


def encode_event_frame(sub_id: str, raw_event: bytes) -> bytes:
    """`["EVENT",sub_id,<raw>]` from stored JSON, without decoding or re-encoding the event."""
    return b'["EVENT",' + _ENC.encode(sub_id) + b"," + raw_event + b"]"
