"""Store test helpers: real signed events, and stores on real SQLite files in tmp_path."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from nostr_desk.protocol.event import Event, EventTemplate, sign
from nostr_desk.protocol.filters import Filter, select, sort_key
from nostr_desk.protocol.keys import SecretKey
from nostr_desk.store import EventStore, StoreConfig
from nostr_desk.store.search import searchable

NOW = 1_700_000_000


def key(n: int) -> SecretKey:
    """A deterministic secret key (n >= 1)."""
    return SecretKey(hashlib.sha256(b"store-test-%d" % n).digest())


ALICE, BOB, CAROL = key(1), key(2), key(3)


def make(secret: SecretKey = ALICE, kind: int = 1, content: str = "", tags=(), created_at: int = NOW - 100) -> Event:
    template = EventTemplate(kind=kind, content=content, tags=[list(t) for t in tags], created_at=created_at)
    return sign(template, secret, aux_rand=bytes(32))


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "events.sqlite3"


@pytest.fixture
def store(store_path: Path) -> Iterator[EventStore]:
    s = EventStore.open(StoreConfig(path=store_path))
    yield s
    s.close()


def ids(raws: list[bytes]) -> list[str]:
    return [Event.from_json(r).id for r in raws]


def reference(events: list[Event], filters: list[Filter]) -> list[Event]:
    """The reference engine `filters.select`, plus the store's one rule on top: a filter with `search`
    never matches encrypted content (kinds 4, 13, 1059, 1060, NIP-04/NIP-44 payloads)."""
    chosen: dict[str, Event] = {}
    for f in filters:
        pool = events if f.search is None else [e for e in events if searchable(e.kind, e.content)]
        chosen.update((e.id, e) for e in select(pool, [f]))
    return sorted(chosen.values(), key=sort_key)
