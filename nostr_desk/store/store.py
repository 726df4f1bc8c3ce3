"""`EventStore`: the one SQLite event store (local relay + client cache) behind a small facade.

Writes go through the single writer thread (`submit`/`save`/`save_many`); reads use one connection
per calling thread (WAL lets them run beside the writer). See the team brief for the contract.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from typing import Any, Callable

from nostr_desk.protocol.event import Event
from nostr_desk.protocol.filters import Filter

from . import query as q
from . import retention
from .model import SaveResult, StoreConfig, StoreStats
from .schema import migrate
from .sqlite import StoreClosed, db_bytes, open_connection
from .writer import Writer


class EventStore:
    def __init__(self, config: StoreConfig, writer_conn: sqlite3.Connection) -> None:
        self.config = config
        self._writer_conn = writer_conn
        self._writer = Writer(writer_conn, max_batch=config.max_batch)
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
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
    def submit(self, event: Event, raw: bytes | None = None, *, source: str | None = None, now: int | None = None) -> Future[SaveResult]:
        return self._writer.submit(event, event.to_bytes() if raw is None else raw, source, now)

    async def save(self, event: Event, raw: bytes | None = None, *, source: str | None = None, now: int | None = None) -> SaveResult:
        return await asyncio.wrap_future(self.submit(event, raw, source=source, now=now))

    def save_many(self, events: Iterable[Event], *, source: str | None = None, now: int | None = None) -> list[SaveResult]:
        futures = [self.submit(e, source=source, now=now) for e in events]
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
        return q.run_query(self._reader(), filters, max_limit=self.config.max_limit, now=now, readers=readers)

    def count(self, filters: Sequence[Filter], *, now: int, readers: frozenset[str] | None = None) -> int:
        return q.run_count(self._reader(), filters, now=now, readers=readers)

    def get(self, event_id: str) -> bytes | None:
        blobs = q.as_blobs([event_id])
        if not blobs:
            return None
        row = self._reader().execute("SELECT raw FROM events WHERE id = ?", (blobs[0],)).fetchone()
        return None if row is None else row[0]

    def events_since(self, seq: int, limit: int = 1000) -> list[tuple[int, bytes]]:
        """(seq, raw) of events stored after `seq`, in insert order (seq never goes back)."""
        return self._reader().execute("SELECT seq, raw FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)).fetchall()

    def relays_of(self, event_id: str) -> list[tuple[str, int]]:
        """Provenance: (relay URL, first seen) for each relay that sent this event."""
        rows = self._reader().execute("SELECT relay, first_seen FROM event_relays WHERE event_id = ? ORDER BY first_seen, relay", (event_id,))
        return rows.fetchall()

    def stats(self) -> StoreStats:
        events = self._reader().execute("SELECT count(*) FROM events").fetchone()[0]
        return StoreStats(events=events, db_bytes=db_bytes(self.config.path), writer_queue=self._writer.depth())

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
        self._writer.close()
        try:
            self._writer_conn.execute("PRAGMA optimize")
        except sqlite3.Error:
            pass
        self._writer_conn.close()
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosed("the event store is closed")

    def _reader(self) -> sqlite3.Connection:
        self._check_open()
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = open_connection(self.config.path, readonly=True)
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn
