"""Nostr events (NIP-01): strict parsing, canonical serialization and id, verification, encoding.

msgspec decodes JSON straight into the typed `Event` struct and checks the exact shape in C (field
set, types, hex lengths, ranges; `__post_init__` adds the lowercase-hex check), which is most of
the cost of validation after the signature itself. Its encoder is byte-identical to the canonical recipe
`json.dumps(..., separators=(",", ":"), ensure_ascii=False)` (tested against every vector).
"""

from __future__ import annotations

import hashlib
import re
from typing import Annotated, Any

import msgspec

from .errors import InvalidEvent
from .keys import SecretKey, verify_schnorr

# Lengths are checked by msgspec, lowercase hex in `__post_init__`: msgspec's `pattern=` runs Python's
# `re` per field and was half the decoding time; `str.strip(digits)` is a C loop over 64 chars.
Hex64 = Annotated[str, msgspec.Meta(min_length=64, max_length=64)]
Hex128 = Annotated[str, msgspec.Meta(min_length=128, max_length=128)]
_HEX_DIGITS = "0123456789abcdef"
Kind = Annotated[int, msgspec.Meta(ge=0, le=65535)]
# Non-negative and inside SQLite's signed 64-bit integer; far-future dates are a policy matter.
Timestamp = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]

MAX_KIND = 65535


class Event(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A signed event. Field order is NIP-01's, so `to_json()` writes the canonical key order."""

    id: Hex64
    pubkey: Hex64
    created_at: Timestamp
    kind: Kind
    tags: list[list[str]]
    content: str
    sig: Hex128

    def __post_init__(self) -> None:
        # Empty after stripping hex digits from both ends <=> every character is a hex digit.
        # (msgspec turns this error into a ValidationError, which from_json maps to InvalidEvent.)
        if self.id.strip(_HEX_DIGITS) or self.pubkey.strip(_HEX_DIGITS) or self.sig.strip(_HEX_DIGITS):
            name = next(n for n in ("id", "pubkey", "sig") if getattr(self, n).strip(_HEX_DIGITS))
            raise InvalidEvent(f"{name} must be lowercase hex - at `$.{name}`")

    # --- parsing -------------------------------------------------------------------------------
    @classmethod
    def from_json(cls, data: str | bytes) -> Event:
        """Parse and check the shape (not the id or signature: see `verify`)."""
        try:
            return _DECODER.decode(data)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise InvalidEvent(_shape_message(exc)) from None
        except UnicodeEncodeError:  # a `str` holding lone surrogates cannot be UTF-8
            raise InvalidEvent("malformed JSON (lone surrogate in text)") from None

    @classmethod
    def from_obj(cls, obj: Any) -> Event:
        """Check an already-decoded JSON value (as found inside a client message)."""
        try:
            return msgspec.convert(obj, type=cls, strict=True)
        except (msgspec.ValidationError, TypeError) as exc:
            raise InvalidEvent(_shape_message(exc)) from None

    # --- ids and signatures ----------------------------------------------------------------------
    def serialize(self) -> bytes:
        """NIP-01 canonical serialization, the bytes the id is the sha256 of."""
        return canonical_bytes(self.pubkey, self.created_at, self.kind, self.tags, self.content)

    def compute_id(self) -> str:
        return hashlib.sha256(self.serialize()).hexdigest()

    def has_valid_id(self) -> bool:
        return self.compute_id() == self.id

    def has_valid_signature(self) -> bool:
        return verify_schnorr(self.pubkey, bytes.fromhex(self.id), bytes.fromhex(self.sig))

    def verify(self) -> Event:
        """Raise `InvalidEvent` unless the id and the signature are both right; return self."""
        # The digest is hashed once and used both ways (hex to compare, bytes to verify).
        digest = hashlib.sha256(self.serialize()).digest()
        if digest.hex() != self.id:
            raise InvalidEvent("event id does not match its content", event_id=self.id)
        if not verify_schnorr(self.pubkey, digest, bytes.fromhex(self.sig)):
            raise InvalidEvent("signature verification failed", event_id=self.id)
        return self

    # --- encoding and helpers ----------------------------------------------------------------
    def to_json(self) -> str:
        return _ENCODER.encode(self).decode()

    def to_bytes(self) -> bytes:
        return _ENCODER.encode(self)

    def to_obj(self) -> dict[str, Any]:
        return msgspec.to_builtins(self)

    def tag_values(self, name: str) -> list[str]:
        """The first values of every tag called `name` (e.g. all `e` ids)."""
        return [t[1] for t in self.tags if len(t) >= 2 and t[0] == name]

    def first_tag_value(self, name: str) -> str | None:
        for t in self.tags:
            if len(t) >= 2 and t[0] == name:
                return t[1]
        return None


class EventTemplate(msgspec.Struct, frozen=True):
    """What an author decides; `sign` adds pubkey, id and sig."""

    kind: int
    content: str
    tags: list[list[str]] = []
    created_at: int = 0


def canonical_bytes(pubkey: str, created_at: int, kind: int, tags: list[list[str]], content: str) -> bytes:
    try:
        return _ENCODER.encode([0, pubkey, created_at, kind, tags, content])
    except (UnicodeEncodeError, TypeError, OverflowError) as exc:
        raise InvalidEvent(f"cannot serialize event: {exc}") from None


def sign(template: EventTemplate, secret: SecretKey, *, aux_rand: bytes) -> Event:
    """Sign locally. `aux_rand` (32 bytes) comes from the caller: the core has no RNG."""
    kind, created_at, tags, content = _checked_template(template)
    pubkey = secret.public_key
    data = canonical_bytes(pubkey, created_at, kind, tags, content)
    digest = hashlib.sha256(data).digest()
    sig = secret.sign_schnorr(digest, aux_rand)
    return Event(digest.hex(), pubkey, created_at, kind, tags, content, sig.hex())


def _checked_template(template: EventTemplate) -> tuple[int, int, list[list[str]], str]:
    """The template's fields under the same rules as a parsed event, so a signed event always parses.

    (Without this, a negative created_at, a bool kind or int tag items were signed into events that
    every relay rejects, and a tag given as a string "ab" became ["a", "b"].) The tags come back as
    fresh lists, so the caller's later edits cannot reach the frozen event.
    """
    return (
        _convert(template.kind, Kind, "kind"),
        _convert(template.created_at, Timestamp, "created_at"),
        _convert(template.tags, list[list[str]], "tags"),
        _convert(template.content, str, "content"),
    )


def _convert(value: Any, type_: Any, name: str) -> Any:
    try:
        return msgspec.convert(value, type_, strict=True)
    except msgspec.ValidationError as exc:
        raise InvalidEvent(f"cannot sign: {name}: {exc}") from None


def parse_verified(data: str | bytes) -> Event:
    """Parse, check the shape, the id and the signature: the full validation of one event.

    Also refuses a second `"id"` key: msgspec keeps the last one, while `peek_event_id` (used to
    de-duplicate raw events before parsing) reads the first; an accepted event must agree with both.
    """
    event = Event.from_json(data).verify()
    if peek_event_id(data) != event.id:
        raise InvalidEvent("the id must appear once, as plain lowercase hex", event_id=event.id)
    return event


def peek_event_id(raw_event: bytes | str) -> str | None:
    """The `"id"` of a raw event object without parsing it (cheap: for de-duplication and errors).

    Only an `"id"` key counts: one right after `{` or `,`. Inside a JSON string every quote is
    escaped, so text in the content or tags (`\\"id\\":...`) cannot pass for the key.
    """
    if isinstance(raw_event, str):
        raw_event = raw_event.encode("utf-8", "surrogatepass")
    match = _ID_KEY.search(raw_event)
    return match.group(1).decode("ascii") if match else None


_ID_KEY = re.compile(rb'[{,][ \t\r\n]*"id"[ \t\r\n]*:[ \t\r\n]*"([0-9a-f]{64})"')


def _shape_message(exc: Exception) -> str:
    text = str(exc)
    # msgspec reports a lone surrogate as truncation; say what it is.
    if "truncated" in text:
        return "malformed JSON (truncated input or an invalid \\u escape)"
    return f"malformed event: {text}"


_DECODER = msgspec.json.Decoder(Event)
_ENCODER = msgspec.json.Encoder()
