"""Kind classes (NIP-01): regular, replaceable, ephemeral, addressable; and `kind:pubkey:d` addresses."""

from __future__ import annotations

import enum

from .errors import InvalidEvent
from .event import Event
from .keys import is_hex

METADATA = 0
TEXT_NOTE = 1
CONTACTS = 3
ENCRYPTED_DM = 4
DELETION = 5
REPOST = 6
REACTION = 7
SEAL = 13
GENERIC_REPOST = 16
GIFT_WRAP = 1059
RELAY_LIST = 10002
CLIENT_AUTH = 22242


class KindClass(enum.Enum):
    REGULAR = "regular"
    REPLACEABLE = "replaceable"
    EPHEMERAL = "ephemeral"
    ADDRESSABLE = "addressable"


def classify(kind: int) -> KindClass:
    if kind in (0, 3) or 10000 <= kind < 20000:
        return KindClass.REPLACEABLE
    if 20000 <= kind < 30000:
        return KindClass.EPHEMERAL
    if 30000 <= kind < 40000:
        return KindClass.ADDRESSABLE
    return KindClass.REGULAR


def is_replaceable(kind: int) -> bool:
    return classify(kind) is KindClass.REPLACEABLE


def is_ephemeral(kind: int) -> bool:
    return 20000 <= kind < 30000


def is_addressable(kind: int) -> bool:
    return 30000 <= kind < 40000


def d_tag(event: Event) -> str:
    """The `d` identifier; a missing `d` tag counts as the empty string (NIP-01)."""
    value = event.first_tag_value("d")
    return value if value is not None else ""


def address(event: Event) -> str | None:
    """`kind:pubkey:d` for addressable events, `kind:pubkey:` for replaceable ones, else None."""
    cls = classify(event.kind)
    if cls is KindClass.ADDRESSABLE:
        return f"{event.kind}:{event.pubkey}:{d_tag(event)}"
    if cls is KindClass.REPLACEABLE:
        return f"{event.kind}:{event.pubkey}:"
    return None


def parse_address(text: str) -> tuple[int, str, str]:
    """Split `kind:pubkey:d` (the `d` part may itself contain colons)."""
    parts = text.split(":", 2)
    # ASCII digits only: str.isdigit() also accepts "１" and "²" (which int() then rejects or reads).
    if len(parts) != 3 or not _is_decimal(parts[0]) or not is_hex(parts[1], 64):
        raise InvalidEvent(f"not an event address: {text[:80]!r}")
    kind = int(parts[0])
    if kind > 65535:
        raise InvalidEvent("address kind out of range")
    return kind, parts[1], parts[2]


def _is_decimal(text: str) -> bool:
    return 0 < len(text) <= 5 and text.isascii() and text.isdigit()


def replacement_wins(new: Event, old: Event) -> bool:
    """NIP-01: the newer one is kept; on equal created_at the lowest id wins."""
    if new.created_at != old.created_at:
        return new.created_at > old.created_at
    return new.id < old.id
