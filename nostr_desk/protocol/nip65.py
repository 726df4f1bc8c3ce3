"""NIP-65 relay lists (kind 10002): `r` tags to (url, read, write) entries and back.

Reading is forgiving because real lists hold junk: URLs are normalised (relay_url), invalid ones are
skipped, a repeated relay merges its flags into its first position, and a missing or unknown marker
means read and write (only "read" and "write" narrow it). Building is strict: a bad URL raises.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import InvalidEvent
from .event import Event, EventTemplate
from .kinds import RELAY_LIST
from .relay_url import InvalidRelayUrl, normalize


@dataclass(frozen=True)
class RelayEntry:
    url: str
    read: bool = True
    write: bool = True


def parse_tags(tags: list[list[str]]) -> list[RelayEntry]:
    """The relays of a kind-10002 list, in order, normalised and de-duplicated."""
    merged: dict[str, tuple[bool, bool]] = {}
    for tag in tags:
        if len(tag) < 2 or tag[0] != "r":
            continue
        try:
            url = normalize(tag[1])
        except InvalidRelayUrl:
            continue
        marker = tag[2] if len(tag) > 2 else ""
        read, write = marker != "write", marker != "read"
        old_read, old_write = merged.get(url, (False, False))
        merged[url] = (old_read or read, old_write or write)
    return [RelayEntry(url, read, write) for url, (read, write) in merged.items()]


def parse_event(event: Event) -> list[RelayEntry]:
    if event.kind != RELAY_LIST:
        raise InvalidEvent(f"a relay list is kind {RELAY_LIST}, not {event.kind}", event_id=event.id)
    return parse_tags(event.tags)


def build_tags(entries: list[RelayEntry]) -> list[list[str]]:
    """`r` tags for the entries: normalised, repeats merged, entries neither read nor write left out."""
    merged: dict[str, tuple[bool, bool]] = {}
    for entry in entries:
        url = normalize(entry.url)  # raises InvalidRelayUrl: a list we publish must be clean
        old_read, old_write = merged.get(url, (False, False))
        merged[url] = (old_read or entry.read, old_write or entry.write)
    tags: list[list[str]] = []
    for url, (read, write) in merged.items():
        if read and write:
            tags.append(["r", url])
        elif read or write:
            tags.append(["r", url, "read" if read else "write"])
    return tags


def template(entries: list[RelayEntry], created_at: int) -> EventTemplate:
    return EventTemplate(kind=RELAY_LIST, content="", tags=build_tags(entries), created_at=created_at)


def read_relays(entries: list[RelayEntry]) -> list[str]:
    """Where to look for events that mention the user."""
    return [e.url for e in entries if e.read]


def write_relays(entries: list[RelayEntry]) -> list[str]:
    """Where to look for the user's own events (the outbox model)."""
    return [e.url for e in entries if e.write]
