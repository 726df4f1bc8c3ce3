"""JSONL export and import of the event store, in chunks, with progress and cancel (no Qt here).

Both run in a worker thread (`asyncio.to_thread`) and report `(done, total)` through a callback; a
`threading.Event` cancels between chunks. Import verifies every event (`parse_verified`) and counts
what was refused instead of stopping; a big file is streamed line by line, never held in memory.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from nostr_desk.protocol.errors import ProtocolError
from nostr_desk.protocol.event import parse_verified

Progress = Callable[[int, int], None]
CHUNK = 1000


@dataclass
class TransferResult:
    done: int = 0
    refused: int = 0
    cancelled: bool = False
    outcomes: dict[str, int] = field(default_factory=dict)


def export_jsonl(store: Any, path: Path, progress: Progress, cancel: threading.Event) -> TransferResult:
    """Every stored event in insertion order, one raw JSON per line (written as stored, not re-encoded)."""
    total = store.stats().events
    result = TransferResult()
    tmp = path.with_name(path.name + ".part")
    seq = 0
    with open(tmp, "wb") as out:
        while not cancel.is_set():
            rows = store.events_since(seq, CHUNK)
            if not rows:
                break
            for seq, raw in rows:
                out.write(raw + b"\n")
            result.done += len(rows)
            progress(result.done, total)
    if cancel.is_set():
        tmp.unlink(missing_ok=True)
        result.cancelled = True
    else:
        tmp.replace(path)
    return result


def import_jsonl(store: Any, path: Path, progress: Progress, cancel: threading.Event) -> TransferResult:
    total = path.stat().st_size
    result = TransferResult()
    batch: list[Any] = []
    with open(path, "rb") as src:
        for line in src:
            if cancel.is_set():
                result.cancelled = True
                break
            if not line.strip():
                continue
            try:
                batch.append(parse_verified(line))
            except ProtocolError:
                result.refused += 1
            if len(batch) >= CHUNK:
                _save(store, batch, result)
                progress(src.tell(), total)
        if batch and not result.cancelled:
            _save(store, batch, result)
    progress(total if not result.cancelled else result.done, total)
    return result


def _save(store: Any, batch: list[Any], result: TransferResult) -> None:
    for outcome in store.save_many(batch):
        name = outcome.outcome.name.lower()
        result.outcomes[name] = result.outcomes.get(name, 0) + 1
    result.done += len(batch)
    batch.clear()
