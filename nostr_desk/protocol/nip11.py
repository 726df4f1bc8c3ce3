"""NIP-11 relay information document: a typed model, a careful parser and the encoder.

Parsing is lenient where the NIP is (any field may be missing or null; unknown fields are kept in
`extra`, so fees, countries and the like still show) and strict where safety needs it: a known
field of the wrong type, a negative or absurd number, malformed JSON or a document over `max_bytes`
raises `InvalidRelayInfo`. `pubkey`/`self` are kept as written; `admin_pubkey`/`self_pubkey` give
them only when they are valid 64-char lowercase hex, so a sloppy relay does not lose its whole document.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import msgspec

from .errors import ProtocolError
from .keys import is_hex

MAX_DOCUMENT_BYTES = 1024 * 1024
_MAX_INT = 2**63 - 1


class InvalidRelayInfo(ProtocolError):
    """A relay information document that cannot be used."""


@dataclass(frozen=True)
class Limitation:
    max_message_length: int | None = None
    max_subscriptions: int | None = None
    max_filters: int | None = None
    max_limit: int | None = None
    max_subid_length: int | None = None
    max_event_tags: int | None = None
    max_content_length: int | None = None
    min_pow_difficulty: int | None = None
    auth_required: bool | None = None
    payment_required: bool | None = None
    restricted_writes: bool | None = None
    created_at_lower_limit: int | None = None
    created_at_upper_limit: int | None = None
    default_limit: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RelayInfo:
    name: str | None = None
    description: str | None = None
    banner: str | None = None
    icon: str | None = None
    pubkey: str | None = None
    self_: str | None = None  # JSON "self": the relay's own pubkey
    contact: str | None = None
    supported_nips: tuple[int, ...] = ()
    software: str | None = None
    version: str | None = None
    terms_of_service: str | None = None
    payments_url: str | None = None
    posting_policy: str | None = None
    limitation: Limitation | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def admin_pubkey(self) -> str | None:
        return self.pubkey if is_hex(self.pubkey, 64) else None

    @property
    def self_pubkey(self) -> str | None:
        return self.self_ if is_hex(self.self_, 64) else None

    def supports(self, nip: int) -> bool:
        return nip in self.supported_nips


_INFO_TEXT = tuple(f.name for f in fields(RelayInfo) if f.type == "str | None")
_LIMIT_INT = tuple(f.name for f in fields(Limitation) if f.type == "int | None")
_LIMIT_BOOL = tuple(f.name for f in fields(Limitation) if f.type == "bool | None")
_KNOWN = frozenset(n.rstrip("_") for n in _INFO_TEXT) | {"supported_nips", "limitation"}


# --- parsing -------------------------------------------------------------------------------------
def parse(data: str | bytes | dict, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> RelayInfo:
    """Read a document from JSON text/bytes or an already-decoded object."""
    obj = _decode(data, max_bytes) if isinstance(data, (str, bytes)) else data
    if not isinstance(obj, dict):
        raise InvalidRelayInfo("a relay information document is a JSON object")
    values: dict[str, Any] = {name: _text(obj, name.rstrip("_")) for name in _INFO_TEXT}
    values["supported_nips"] = _nips(obj.get("supported_nips"))
    limitation = obj.get("limitation")
    if limitation is not None:
        values["limitation"] = _limitation(limitation)
    values["extra"] = {k: v for k, v in obj.items() if k not in _KNOWN}
    return RelayInfo(**values)


def _decode(data: str | bytes, max_bytes: int) -> Any:
    size = len(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    if size > max_bytes:
        raise InvalidRelayInfo(f"relay information document is {size} bytes (limit {max_bytes})")
    try:
        return msgspec.json.decode(data)
    except (msgspec.DecodeError, RecursionError, UnicodeEncodeError) as exc:
        raise InvalidRelayInfo(f"relay information document is not valid JSON: {exc}") from None


def _text(obj: dict, name: str) -> str | None:
    value = obj.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidRelayInfo(f"{name} must be a string, not {type(value).__name__}")
    return value


def _count(obj: dict, name: str) -> int | None:
    value = obj.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRelayInfo(f"limitation.{name} must be an integer, not {type(value).__name__}")
    if not 0 <= value <= _MAX_INT:
        raise InvalidRelayInfo(f"limitation.{name} is out of range: {value}")
    return value


def _flag(obj: dict, name: str) -> bool | None:
    value = obj.get(name)
    if value is not None and not isinstance(value, bool):
        raise InvalidRelayInfo(f"limitation.{name} must be true or false, not {type(value).__name__}")
    return value


def _nips(value: Any) -> tuple[int, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidRelayInfo("supported_nips must be a list of integers")
    for nip in value:
        if isinstance(nip, bool) or not isinstance(nip, int) or not 0 <= nip <= _MAX_INT:
            raise InvalidRelayInfo(f"supported_nips holds a non-integer or negative value: {nip!r:.40}")
    return tuple(value)


def _limitation(obj: Any) -> Limitation:
    if not isinstance(obj, dict):
        raise InvalidRelayInfo("limitation must be an object")
    values: dict[str, Any] = {name: _count(obj, name) for name in _LIMIT_INT}
    values.update({name: _flag(obj, name) for name in _LIMIT_BOOL})
    known = set(_LIMIT_INT) | set(_LIMIT_BOOL)
    values["extra"] = {k: v for k, v in obj.items() if k not in known}
    return Limitation(**values)


# --- encoding ------------------------------------------------------------------------------------
def to_obj(info: RelayInfo) -> dict[str, Any]:
    """The document as a JSON object: absent fields are left out, `extra` fields come back."""
    out: dict[str, Any] = dict(info.extra)
    for name in _INFO_TEXT:
        value = getattr(info, name)
        if value is not None:
            out[name.rstrip("_")] = value
    if info.supported_nips:
        out["supported_nips"] = list(info.supported_nips)
    if info.limitation is not None:
        lim = info.limitation
        out["limitation"] = dict(lim.extra) | {
            name: getattr(lim, name) for name in (*_LIMIT_INT, *_LIMIT_BOOL) if getattr(lim, name) is not None
        }
    return out


def to_json(info: RelayInfo) -> str:
    return msgspec.json.encode(to_obj(info)).decode("utf-8")
