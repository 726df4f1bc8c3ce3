"""The single writer thread: it batches submissions into one transaction and answers after COMMIT.

Callers on any thread (or an asyncio loop, through `asyncio.wrap_future`) queue work and get a
`concurrent.futures.Future`. The thread takes everything waiting (up to `max_batch`), applies it in
one `BEGIN IMMEDIATE ... COMMIT`, and only then resolves the futures: a resolved future means the
event is on disk. If a batch fails, it is rolled back and replayed one submission per transaction, so
one bad submission fails alone (SQLite failures reach the submitter as `StoreError`, which a relay
answers with `OK false "error: ..."`). Maintenance jobs (`run`) execute on the same thread between batches,
so the store never has two writers.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from typing import Any

from nostr_desk.protocol.event import Event

from .events import Inserter
from .model import SaveResult
from .sqlite import StoreBusy, StoreClosed, StoreError

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Save:
    event: Event
    raw: bytes
    source: str | None
    now: int | None
    future: Future


@dataclass(slots=True)
class _Job:
    fn: Callable[[sqlite3.Connection], Any]
    future: Future


_STOP = object()


class Writer:
    def __init__(self, conn: sqlite3.Connection, *, max_batch: int = 2000, max_queue: int = 20_000,
                 max_queue_bytes: int = 64 << 20, name: str = "store-writer") -> None:
        self._conn = conn
        self._max_batch = max_batch
        self._max_queue = max_queue
        self._max_bytes = max_queue_bytes
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._closed = False
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)  # notified when the thread takes saves off the queue
        self._waiting = 0  # saves queued and not yet taken by the thread
        self._waiting_bytes = 0
        self.batches = 0  # transactions committed (for metrics and tests)
        self.saved = 0
        self.busy_refusals = 0  # submissions refused with StoreBusy
        self.cpu_seconds = 0.0  # the thread's CPU time (benchmarks: cost per event)
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    # --- submitting ----------------------------------------------------------------------------------
    def submit(self, event: Event, raw: bytes, source: str | None, now: int | None, wait: float | None = 0.0) -> Future[SaveResult]:
        """Queue a save. When the queue is full, wait up to `wait` seconds (None: until there is room)
        for the thread to catch up, then raise `StoreBusy`."""
        fut: Future[SaveResult] = Future()
        size = _size(raw)
        with self._lock:  # so nothing slips in behind the stop marker
            if self._closed:
                raise StoreClosed("the event store is closed")
            if self._full(size):
                self._wait_for_room(size, wait)
            self._waiting += 1
            self._waiting_bytes += size
            self._queue.put(_Save(event, raw, source, now, fut))
        return fut

    def _full(self, size: int) -> bool:
        # An empty queue always takes one save, however large, so no event is refused forever.
        return self._waiting > 0 and (self._waiting >= self._max_queue or self._waiting_bytes + size > self._max_bytes)

    def _wait_for_room(self, size: int, wait: float | None) -> None:
        """Called with the lock held and the queue full: wait for room, or raise StoreBusy/StoreClosed."""
        deadline = None if wait is None else time.monotonic() + wait
        while self._full(size):
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                self.busy_refusals += 1
                raise StoreBusy(f"error: server busy, {self._waiting} events are waiting to be written; try again shortly")
            self._room.wait(left)
            if self._closed:
                raise StoreClosed("the event store is closed")

    def _taken(self, batch: list) -> None:
        """The thread took `batch` off the queue: make room for waiting submitters."""
        count = size = 0
        for item in batch:
            if isinstance(item, _Save):
                count += 1
                size += _size(item.raw)
        if count:
            with self._lock:
                self._waiting -= count
                self._waiting_bytes -= size
                self._room.notify_all()

    def run(self, fn: Callable[[sqlite3.Connection], Any]) -> Future:
        """Run `fn(conn)` on the writer thread (it manages its own transaction)."""
        fut: Future = Future()
        with self._lock:
            if self._closed:
                raise StoreClosed("the event store is closed")
            self._queue.put(_Job(fn, fut))
        return fut

    def depth(self) -> int:
        return self._queue.qsize()

    @property
    def queued_bytes(self) -> int:
        return self._waiting_bytes

    def close(self, timeout: float | None = 60) -> None:
        """Finish everything queued, then stop the thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(_STOP)
            self._room.notify_all()  # submitters waiting for room give up with StoreClosed
        self._thread.join(timeout)

    # --- the thread ----------------------------------------------------------------------------------
    def _loop(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            if item is _STOP:
                break
            batch = [item]
            while len(batch) < self._max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stopping = True
                    break
                batch.append(nxt)
            self._taken(batch)
            cpu = time.thread_time()
            self._process(batch)
            self.cpu_seconds += time.thread_time() - cpu

    def _process(self, batch: list) -> None:
        saves: list[_Save] = []
        for item in batch:
            if isinstance(item, _Job):
                self._save_all(saves)
                saves = []
                _resolve_call(item.future, item.fn, self._conn)
            else:
                saves.append(item)
        self._save_all(saves)

    def _save_all(self, saves: list[_Save]) -> None:
        if not saves:
            return
        try:
            results = self._transaction(saves)
        except Exception:
            log.exception("store batch of %d failed; retrying one by one", len(saves))
            self._rollback()
            for item in saves:
                try:
                    results = self._transaction([item])
                except sqlite3.Error as exc:  # known: disk full, I/O error, locked too long
                    self._rollback()
                    _settle(item.future, exc=StoreError(f"could not store the event: {exc}"))
                except Exception as exc:  # noqa: BLE001 - a bug: the submitter gets it as is
                    self._rollback()
                    _settle(item.future, exc=exc)
                else:
                    _settle(item.future, results[0])
            return
        for item, result in zip(saves, results):
            _settle(item.future, result)

    def _transaction(self, saves: list[_Save]) -> list[SaveResult]:
        conn = self._conn
        ins = Inserter(conn)
        conn.execute("BEGIN IMMEDIATE")
        ins.prefetch([s.event for s in saves])
        clock = int(time.time())
        results = [ins.apply(s.event, s.raw, s.source, clock if s.now is None else s.now) for s in saves]
        ins.flush()
        conn.execute("COMMIT")
        self.batches += 1
        self.saved += len(saves)
        return results

    def _rollback(self) -> None:
        try:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
        except sqlite3.Error:
            log.exception("rollback failed")


def _size(raw: Any) -> int:
    # Not bytes (a caller's bug) still gets queued, to fail alone in its transaction with StoreError.
    return len(raw) if isinstance(raw, (bytes, bytearray, memoryview)) else 0


def _settle(fut: Future, result: Any = None, *, exc: BaseException | None = None) -> None:
    try:  # the caller may have cancelled (e.g. asyncio.wrap_future of a cancelled task)
        if exc is not None:
            fut.set_exception(exc)
        else:
            fut.set_result(result)
    except InvalidStateError:
        pass


def _resolve_call(fut: Future, fn: Callable, conn: sqlite3.Connection) -> None:
    try:
        result = fn(conn)
    except BaseException as exc:  # noqa: BLE001 - handed to the caller
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        _settle(fut, exc=exc)
    else:
        _settle(fut, result)
