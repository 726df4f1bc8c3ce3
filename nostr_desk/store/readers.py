"""The event store's reader connections: one per calling thread, each read under a time budget, and a
shutdown that never closes a connection under a running query.

A read marks its thread's connection busy for its duration. A SQLite progress handler aborts a read
that outruns `max_seconds` (a broad COUNT or a search over millions of rows cannot hold a thread, or
the GIL between its pages, for long), or one still running after `close`'s grace period. `close`
closes idle connections at once; a busy one is closed by its own thread when its read ends. So a
caller gets its answer, or a `StoreClosed`/`StoreError` — never `sqlite3.ProgrammingError: Cannot
operate on a closed database` or a crash.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from .sqlite import StoreClosed, StoreError, open_connection

T = TypeVar("T")
PROGRESS_STEPS = 20_000  # SQLite VM steps between checks of the budget (well under a millisecond)


class _Slot:
    __slots__ = ("conn", "busy", "deadline")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn: sqlite3.Connection | None = conn
        self.busy = False
        self.deadline = 0.0


class Readers:
    def __init__(self, path: Path, *, max_seconds: float = 10.0) -> None:
        self._path = path
        self._max_seconds = max_seconds
        self._local = threading.local()
        self._slots: list[_Slot] = []
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)  # notified when a read ends
        self._closing = False
        self._abort = False  # set when close's grace period is over: running reads stop

    def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`fn(conn)` on this thread's connection; SQLite failures come out as StoreError."""
        slot = self._enter()
        try:
            return fn(slot.conn)
        except sqlite3.Error as exc:
            if self._closing:
                raise StoreClosed("the event store was closed during the query") from exc
            if isinstance(exc, sqlite3.OperationalError) and "interrupt" in str(exc):
                raise StoreError(f"error: query took longer than {self._max_seconds:g} s; narrow the filter") from exc
            raise StoreError(f"error: query failed: {exc}") from exc
        finally:
            self._leave(slot)

    def fetchone(self, sql: str, params: tuple) -> Any:
        return self.run(lambda conn: conn.execute(sql, params).fetchone())

    def fetchall(self, sql: str, params: tuple) -> list:
        return self.run(lambda conn: conn.execute(sql, params).fetchall())

    def closing(self) -> None:
        """From now on reads fail with StoreClosed; those running go on."""
        with self._lock:
            self._closing = True

    def close(self, grace: float = 2.0, abort_wait: float = 5.0) -> None:
        """Close idle connections, give running reads `grace` seconds, then interrupt them."""
        with self._lock:
            self._closing = True
            for slot in self._slots:
                if not slot.busy:
                    _close(slot)
            if not self._wait_idle(grace):
                self._abort = True
                self._wait_idle(abort_wait)
            # Any read still running closes its connection itself when it returns (`_leave`).

    # --- internals -----------------------------------------------------------------------------------
    def _enter(self) -> _Slot:
        with self._lock:
            if self._closing:
                raise StoreClosed("the event store is closed")
            slot = getattr(self._local, "slot", None)
            if slot is None or slot.conn is None:
                slot = _Slot(open_connection(self._path, readonly=True))
                slot.conn.set_progress_handler(lambda: self._stop(slot), PROGRESS_STEPS)
                self._local.slot = slot
                self._slots.append(slot)
            slot.busy = True
            slot.deadline = time.monotonic() + self._max_seconds
            return slot

    def _leave(self, slot: _Slot) -> None:
        with self._lock:
            slot.busy = False
            if self._closing:
                _close(slot)
            self._idle.notify_all()

    def _stop(self, slot: _Slot) -> int:
        """The progress handler: non-zero interrupts the running statement."""
        return 1 if self._abort or time.monotonic() > slot.deadline else 0

    def _wait_idle(self, timeout: float) -> bool:
        """With the lock held: wait until no read runs (True) or `timeout` passes (False)."""
        end = time.monotonic() + timeout
        while any(s.busy for s in self._slots):
            left = end - time.monotonic()
            if left <= 0:
                return False
            self._idle.wait(left)
        return True


def _close(slot: _Slot) -> None:
    if slot.conn is not None:
        try:
            slot.conn.close()
        except sqlite3.Error:
            pass
        slot.conn = None
