"""Fixtures for the cache tests: a real event store file in tmp_path, and a deterministic signer."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from nostr_desk.cache.projections import Projector
from nostr_desk.cache.queries import CacheQueries
from nostr_desk.protocol.event import Event, EventTemplate, sign
from nostr_desk.protocol.keys import SecretKey
from nostr_desk.store import EventStore, StoreConfig

# A fixed "now" for the store, after every event in the corpus (NIP-40 expiry stays deterministic).
NOW = 1_800_000_000


def open_store(path: Path) -> EventStore:
    return EventStore.open(StoreConfig(path=path))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventStore]:
    s = open_store(tmp_path / "events.sqlite3")
    yield s
    s.close()


@pytest.fixture
def projector(store: EventStore) -> Iterator[Projector]:
    conn = store.connect()
    yield Projector(store, conn)
    conn.close()


@pytest.fixture
def queries(store: EventStore, projector: Projector) -> Iterator[CacheQueries]:
    conn = store.connect()
    yield CacheQueries(store, conn, clock=lambda: NOW)
    conn.close()


def key(name: str) -> SecretKey:
    """A stable test key per name."""
    return SecretKey(hashlib.sha256(name.encode()).digest())


def make(secret: SecretKey, kind: int, content: str = "", tags: list[list[str]] | None = None, at: int = 1_700_000_000) -> Event:
    return sign(EventTemplate(kind, content, tags or [], at), secret, aux_rand=bytes(32))
