"""`Ingest`: what the pool writes to the store — verified events (with the relay they came from),
provenance of copies dropped as duplicates, health samples — batched through the store's single
writer thread so the event loop never waits on SQLite."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Callable

from nostr_desk.protocol.event import Event
from nostr_desk.store import StoreError, health_log
from nostr_desk.store import outbox as ob

if TYPE_CHECKING:
    from nostr_desk.store import EventStore


BATCH_CAP = 20_000      # rows an Ingest batch holds before it goes to the writer without waiting for a tick


class Ingest:
    """What the pool writes to the store: verified events (with their relay), provenance of copies
    dropped as duplicates, health samples. Batched, through the store's single writer."""

    def __init__(self, store: EventStore | None, persist_health: bool, wall: Callable[[], float]) -> None:
        self._store = store
        self.persist_health = persist_health and store is not None
        self.wall = wall
        self._sources: list[tuple[str, str, int]] = []
        self._samples: list[tuple[str, float, str, float]] = []
        self.stored = 0
        self.store_errors = 0

    def store(self, event: Event, url: str) -> None:
        """Hand a verified event to the store's writer (it records `url` as provenance)."""
        if self._store is not None:
            try:
                self._store.submit(event, source=url)
            except StoreError:         # closed during shutdown: the event was still delivered
                self.store_errors += 1
                return
            self.stored += 1

    def duplicate_seen(self, event_id: str | None, url: str) -> None:
        if self._store is not None and event_id is not None:
            self._sources.append((event_id, url, int(self.wall())))
            if len(self._sources) >= BATCH_CAP:     # five relays streaming fast: bound the batch
                self.flush()

    def sample(self, url: str, at: float, metric: str, value: float) -> None:
        if self.persist_health:
            self._samples.append((url, at, metric, value))
            if len(self._samples) >= BATCH_CAP:
                self.flush()

    def flush(self) -> asyncio.Future | None:
        """Hand the batches to the writer thread; a future for the last write (or None). A closed
        store drops the batches (counted in `store_errors`) rather than raising into the ticker."""
        if self._store is None:
            return None
        fut = None
        sources, self._sources = self._sources, []
        samples, self._samples = self._samples, []
        try:
            if sources:
                fut = self._store.run_in_writer(lambda conn: ob.add_sources(conn, sources))
            if samples:
                fut = self._store.run_in_writer(lambda conn: health_log.append(conn, samples))
        except StoreError:
            self.store_errors += 1
        return asyncio.wrap_future(fut) if fut is not None else None

