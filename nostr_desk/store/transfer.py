"""Export to and import from JSONL (one event per line), streaming both ways.

Export pages through the events in insert order and writes each stored raw JSON as one line.
Import reads line by line, verifies every event (shape, id, signature), and submits them to the
writer a chunk at a time with at most two chunks in flight: memory stays bounded whatever the
file's size. Bad lines are reported by number; progress goes to a callback.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import BinaryIO

from nostr_desk.protocol.errors import ProtocolError
from nostr_desk.protocol.event import Event, parse_verified

from .model import SaveOutcome, SaveResult
from .store import EventStore

Progress = Callable[[int, int | None], None]  # (done, total or None when unknown)
PAGE = 1000
MAX_REPORTED = 1000  # bad lines kept with their reason; the rest are only counted


@dataclass
class ImportReport:
    lines: int = 0
    outcomes: Counter = field(default_factory=Counter)  # SaveOutcome -> count
    bad: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason), first MAX_REPORTED
    bad_count: int = 0

    @property
    def saved(self) -> int:
        return self.outcomes[SaveOutcome.SAVED] + self.outcomes[SaveOutcome.REPLACED]

    def summary(self) -> str:
        parts = [f"{self.lines} lines", f"{self.saved} saved"]
        parts += [f"{n} {o.value}" for o, n in sorted(self.outcomes.items(), key=lambda kv: kv[0].value)
                  if o not in (SaveOutcome.SAVED, SaveOutcome.REPLACED)]
        parts.append(f"{self.bad_count} invalid")
        return ", ".join(parts)


def export_jsonl(conn: sqlite3.Connection, out: BinaryIO, progress: Progress | None = None) -> int:
    """Write every stored event as one JSON line, oldest insert first; return how many."""
    total = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    done, last = 0, 0
    while True:
        rows = conn.execute("SELECT seq, raw FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (last, PAGE)).fetchall()
        if not rows:
            break
        out.write(b"".join(bytes(raw) + b"\n" for _, raw in rows))
        last = rows[-1][0]
        done += len(rows)
        if progress:
            progress(done, max(total, done))
    return done


def export_store(store: EventStore, out: BinaryIO, progress: Progress | None = None) -> int:
    conn = store.connect()
    try:
        conn.execute("BEGIN")  # one snapshot: the count and the pages agree
        return export_jsonl(conn, out, progress)
    finally:
        conn.close()


def import_jsonl(store: EventStore, lines: Iterable[bytes], *, source: str | None = None, chunk: int = PAGE,
                 total_bytes: int | None = None, progress: Progress | None = None) -> ImportReport:
    """Verify and store each line's event. `progress(bytes_read, total_bytes)` after each chunk."""
    report = ImportReport()
    pending: list[list[Future[SaveResult]]] = []
    batch: list[Future[SaveResult]] = []
    read = 0
    for number, line in enumerate(lines, 1):
        read += len(line)
        report.lines = number
        if not line.strip():
            continue
        event = _verified(line, number, report)
        if event is not None:
            batch.append(store.submit(event, source=source, wait=None))  # bulk: wait for room, never refuse
        if len(batch) >= chunk:
            pending.append(batch)
            batch = []
            if len(pending) > 1:  # keep the writer busy with the next chunk while we wait
                _collect(pending.pop(0), report)
            if progress:
                progress(read, total_bytes)
    pending.append(batch)
    for b in pending:
        _collect(b, report)
    if progress:
        progress(read, total_bytes)
    return report


def _verified(line: bytes, number: int, report: ImportReport) -> Event | None:
    try:
        return parse_verified(line)
    except ProtocolError as exc:
        reason = exc.reason
    except (ValueError, UnicodeError) as exc:
        reason = f"invalid: {exc}"
    report.bad_count += 1
    if len(report.bad) < MAX_REPORTED:
        report.bad.append((number, reason))
    return None


def _collect(futures: list[Future[SaveResult]], report: ImportReport) -> None:
    for f in futures:
        report.outcomes[f.result().outcome] += 1
