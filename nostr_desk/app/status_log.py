"""Relay status changes into the stored health history, so the Monitor's Status chart survives a restart.

The pool stores latency samples and counters itself; status changes it only announces. This records
each `StatusChanged` as a "status" sample (2 connected, 1 trying, 0 down) in the same table, batched
through the store's writer every few seconds and on close.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from nostr_desk.store import health_log
from nostr_desk.ui.models.relays import status_level

log = logging.getLogger(__name__)


class StatusLog:
    def __init__(self, store: Any, pool: Any, every: float = 5.0) -> None:
        self.store = store
        self.every = every
        self.rows: list[tuple[str, float, str, float]] = []
        self._unsubscribe = pool.notices.subscribe(self._on_notice)
        self._timer: asyncio.TimerHandle | None = None
        now = time.time()
        for url, snap in pool.health().items():  # where each relay stands now
            self.rows.append((url, now, "status", status_level(str(snap.status))))

    def _on_notice(self, notice: Any) -> None:
        if type(notice).__name__ != "StatusChanged":
            return
        self.rows.append((notice.url, notice.at or time.time(), "status", status_level(notice.new)))
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.every, self.flush)

    def flush(self) -> Any:
        self._timer = None
        rows, self.rows = self.rows, []
        if not rows:
            return None
        try:
            return self.store.run_in_writer(lambda conn: health_log.append(conn, rows))
        except Exception:  # the store is closing: the last few seconds of status are not worth a crash
            log.warning("could not store %d status samples", len(rows))
            return None

    async def close(self) -> None:
        self._unsubscribe()
        if self._timer is not None:
            self._timer.cancel()
        future = self.flush()
        if future is not None:
            await asyncio.wrap_future(future)
