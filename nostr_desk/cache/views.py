"""The read models' value types: cursors, pages, note views, thread nodes, notifications, profiles.

Pages are addressed by a cursor `(created_at, id)` — the last item shown — never by an offset, so
a page stays correct while new notes arrive above it (NIP-01 order: newest first, lowest id on a tie).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from nostr_desk.protocol.errors import InvalidMessage, ProtocolError
from nostr_desk.protocol.keys import is_hex
from nostr_desk.protocol.nip19 import encode_npub

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Cursor:
    """The position after an item in NIP-01 order; pass `Page.next` back to get the next page."""

    created_at: int
    id: str

    def encode(self) -> str:
        return f"{self.created_at}:{self.id}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        stamp, _, event_id = text.partition(":")
        if not stamp.isdigit() or not is_hex(event_id, 64):
            raise InvalidMessage(f"not a page cursor: {text[:80]!r}")
        return cls(int(stamp), event_id)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next: Cursor | None  # None when this was the last page


@dataclass(frozen=True, slots=True)
class NoteView:
    id: str
    pubkey: str
    created_at: int
    content: str
    tags: list[list[str]]
    author_name: str
    author_picture: str | None
    root_id: str | None
    parent_id: str | None
    reactions: int
    reposts: int
    replies: int

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.created_at, self.id)


@dataclass(slots=True)
class ThreadNode:
    """A note in a thread and its direct replies (oldest first). `note` is None for a missing root."""

    id: str
    note: NoteView | None
    children: list[ThreadNode] = field(default_factory=list)

    def size(self) -> int:
        return (self.note is not None) + sum(child.size() for child in self.children)


@dataclass(frozen=True, slots=True)
class Notification:
    kind: str  # "mention" | "reply" | "reaction" | "repost"
    event_id: str
    author: str
    author_name: str
    created_at: int
    target_id: str | None  # the user's note reacted to / replied to / reposted
    content: str

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.created_at, self.event_id)


@dataclass(frozen=True, slots=True)
class Profile:
    pubkey: str
    event_id: str
    created_at: int
    name: str | None
    display_name: str | None
    picture: str | None
    about: str | None
    nip05: str | None
    lud16: str | None
    content: str

    @property
    def shown_name(self) -> str:
        return self.display_name or self.name or short_npub(self.pubkey)


def shown_name(pubkey: str, display_name: str | None, name: str | None) -> str:
    return display_name or name or short_npub(pubkey)


def short_npub(pubkey: str) -> str:
    """What to show for someone without a profile: the start of their npub."""
    try:
        text = encode_npub(pubkey)
    except ProtocolError:  # a malformed key still needs a label
        return pubkey[:12]
    return f"{text[:12]}…{text[-4:]}"
