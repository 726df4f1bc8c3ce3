"""`EventStore`: the one SQLite event store (local relay + client cache) behind a small facade.

Writes go through the single writer thread (`submit`/`save`/`save_many`); reads use one connection
per calling thread (WAL lets them run beside the writer). See the team brief for the contract.

Reads are bounded and safe at shutdown (`readers.py`): each runs under a time budget
(`StoreConfig.max_query_seconds`), and `close` lets reads in flight finish (briefly) or interrupts
them, so a caller sees its answer or a `StoreClosed`/`StoreError`, never a closed-connection error.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from typing import Any, Callable

from nostr_desk.protocol.event import Event
from nostr_desk.protocol.filters import Filter

from . import query as q
from . import retention
from .model import SaveResult, StoreConfig, StoreStats
from .readers import Readers
from .schema import migrate
from .sqlite import StoreBusy, StoreClosed, db_bytes, open_connection
from .writer import Writer

SAVE_WAIT = 10.0  # seconds `save` waits (off the event loop) for room in a full writer queue


class EventStore:
    def __init__(self, config: StoreConfig, writer_conn: sqlite3.Connection) -> None:
        self.config = config
        self._writer_conn = writer_conn
        self._writer = Writer(writer_conn, max_batch=config.max_batch, max_queue=config.max_queue,
                              max_queue_bytes=config.max_queue_bytes)
        self._readers = Readers(config.path, max_seconds=config.max_query_seconds)
        self._closed = False

    @classmethod
    def open(cls, config: StoreConfig) -> EventStore:
        """Create or migrate the file, then start the writer thread."""
        config.path.parent.mkdir(parents=True, exist_ok=True)
        conn = open_connection(config.path, writer=True)
        try:
            migrate(conn)
        except Exception:
            conn.close()
            raise
        return cls(config, conn)

    # --- writing -------------------------------------------------------------------------------------
    def submit(self, event: Event, raw: bytes | None = None, *, source: str | None = None, now: int | None = None,
               wait: float | None = 0.0) -> Future[SaveResult]:
        """Queue a save. If the writer's queue is full: wait up to `wait` seconds (None: as long as it
        takes), then raise `StoreBusy` ("error: server busy ..."). The default never blocks."""
        return self._writer.submit(event, event.to_bytes() if raw is None else raw, source, now, wait)

    async def save(self, event: Event, raw: bytes | None = None, *, source: str | None = None, now: int | None = None) -> SaveResult:
        try:
            fut = self.submit(event, raw, source=source, now=now)
        except StoreBusy:  # wait for room on a worker thread, never on the event loop
            fut = await asyncio.to_thread(self.submit, event, raw, source=source, now=now, wait=SAVE_WAIT)
        return await asyncio.wrap_future(fut)

    def save_many(self, events: Iterable[Event], *, source: str | None = None, now: int | None = None) -> list[SaveResult]:
        """Bulk, blocking: waits for room in the writer's queue rather than failing."""
        futures = [self.submit(e, source=source, now=now, wait=None) for e in events]
        return [f.result() for f in futures]

    def run_in_writer(self, fn: Callable[[sqlite3.Connection], Any]) -> Future:
        """Run `fn(conn)` on the writer thread, between batches; `fn` manages its own transaction."""
        return self._writer.run(fn)

    # --- maintenance (on the writer thread) ------------------------------------------------------------
    def sweep_expired(self, now: int) -> int:
        """NIP-40: remove events whose expiration has passed; return how many."""
        return self._writer.run(lambda conn: retention.sweep_expired(conn, now)).result()

    def prune(self, *, quota_bytes: int | None = None, max_events: int | None = None) -> retention.PruneResult:
        """Evict oldest first to fit the quota, keeping the owners' events, kinds 0/3/10002, and events
        p-tagging an owner (`StoreConfig.owner_pubkeys`)."""
        owners = self.config.owner_pubkeys
        job = lambda conn: retention.prune(conn, owners, quota_bytes=quota_bytes, max_events=max_events)  # noqa: E731
        return self._writer.run(job).result()

    def compact(self) -> int:
        """VACUUM and PRAGMA optimize; returns the file's size afterwards (as `stats().db_bytes`)."""
        self._writer.run(retention.compact).result()
        return db_bytes(self.config.path)

    # --- reading -------------------------------------------------------------------------------------
    def query(self, filters: Sequence[Filter], *, now: int, readers: frozenset[str] | None = None) -> list[bytes]:
        limit = self.config.max_limit
        return self._readers.run(lambda conn: q.run_query(conn, filters, max_limit=limit, now=now, readers=readers))

    def count(self, filters: Sequence[Filter], *, now: int, readers: frozenset[str] | None = None) -> int:
        return self._readers.run(lambda conn: q.run_count(conn, filters, now=now, readers=readers))

    def get(self, event_id: str) -> bytes | None:
        blobs = q.as_blobs([event_id])
        if not blobs:
            return None
        row = self._readers.fetchone("SELECT raw FROM events WHERE id = ?", (blobs[0],))
        return None if row is None else row[0]

    def events_since(self, seq: int, limit: int = 1000) -> list[tuple[int, bytes]]:
        """(seq, raw) of events stored after `seq`, in insert order (seq never goes back)."""
        return self._readers.fetchall("SELECT seq, raw FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit))

    def relays_of(self, event_id: str) -> list[tuple[str, int]]:
        """Provenance: (relay URL, first seen) for each relay that sent this event."""
        return self._readers.fetchall("SELECT relay, first_seen FROM event_relays WHERE event_id = ? ORDER BY first_seen, relay", (event_id,))

    def stats(self) -> StoreStats:
        events = self._readers.fetchone("SELECT count(*) FROM events", ())[0]
        return StoreStats(events=events, db_bytes=db_bytes(self.config.path), writer_queue=self._writer.depth(),
                          extra={"writer_queue_bytes": self._writer.queued_bytes, "busy_refusals": self._writer.busy_refusals})

    @property
    def writer_queue_depth(self) -> int:
        return self._writer.depth()

    def connect(self) -> sqlite3.Connection:
        """A new connection with the store's pragmas, for other modules' own tables (caller closes it)."""
        self._check_open()
        return open_connection(self.config.path)

    # --- lifecycle -------------------------------------------------------------------------------------
    def close(self) -> None:
        """Flush the writer, then close every connection. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._readers.closing()  # new reads fail with StoreClosed from here on
        self._writer.close()
        try:
            self._writer_conn.execute("PRAGMA optimize")
        except sqlite3.Error:
            pass
        self._writer_conn.close()
        self._readers.close()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosed("the event store is closed")
