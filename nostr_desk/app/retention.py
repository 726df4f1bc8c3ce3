"""Keeps the event store within the Settings' quota ("Store quota (MB)"), in the background.

Shortly after start and then every hour, off the GUI thread: sweep NIP-40-expired events, prune the
oldest evictable events until the file's used pages fit the quota, and have the cache forget what went.
The owners (whose events, and events addressed to them, are never evicted) are read from the accounts
file at each run, so an account added while the app runs is protected from its next run on. When the
accounts file cannot be read, nothing is pruned: guessing wrong would delete the user's own notes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nostr_desk.app.services import Services
    from nostr_desk.store import EventStore

log = logging.getLogger(__name__)

HOUR = 3600.0
MB = 1024 * 1024


@dataclass(frozen=True)
class RetentionRun:
    swept: int        # expired events removed
    removed: int      # events evicted for the quota
    events: int       # events left
    used_bytes: int   # database pages in use afterwards
    forgotten: int    # cache rows dropped with them
    owners: int       # accounts whose events were kept


class Retention:
    def __init__(self, services: Services, *, interval: float = HOUR, first_delay: float = 5.0) -> None:
        self.s = services
        self.interval = interval
        self.first_delay = first_delay  # let the window and the first fetches settle first
        self.last: RetentionRun | None = None
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="retention")

    async def _loop(self) -> None:
        await asyncio.sleep(self.first_delay)
        while True:
            try:
                await self.run_once()
            except Exception:  # a failed run (disk full, store closing) must not stop the next ones
                log.exception("retention run failed")
            await asyncio.sleep(self.interval)

    async def run_once(self) -> RetentionRun | None:
        """One sweep + prune + forget; None when the owners are unknown (nothing is touched then)."""
        from nostr_desk.app.services import owner_pubkeys
        from nostr_desk.keys.accounts import AccountsError

        store = self.s.store
        if store is None:
            return None
        try:
            owners = await asyncio.to_thread(owner_pubkeys, self.s)
        except AccountsError as exc:
            log.warning("retention skipped: the accounts file cannot be read (%s)", exc)
            return None
        quota = self.s.config.limits.store_quota_mb * MB
        swept = await asyncio.to_thread(store.sweep_expired, int(time.time()))
        result = await asyncio.to_thread(_prune, store, owners, quota)
        forgotten = 0
        if (swept or result.removed) and self.s.cache is not None:
            forgotten = await self.s.cache.forget_missing()
        self.last = RetentionRun(swept, result.removed, result.events, result.used_bytes, forgotten, len(owners))
        log.info("retention: %d expired and %d evicted for the %d MB quota; %d events, %.1f MB in use; "
                 "%d cache rows forgotten; %d owner(s) kept", swept, result.removed,
                 self.s.config.limits.store_quota_mb, result.events, result.used_bytes / MB, forgotten, len(owners))
        return self.last

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def _prune(store: EventStore, owners: frozenset[str], quota_bytes: int):  # -> retention.PruneResult
    # `EventStore.prune` keeps the owners fixed when the store was opened; the store's own retention
    # step on its writer thread takes them per call, so accounts added since start are protected.
    # TODO(store): an `owners=` argument on EventStore.prune would make this a plain call.
    from nostr_desk.store import retention

    job = lambda conn: retention.prune(conn, owners, quota_bytes=quota_bytes)  # noqa: E731
    return store.run_in_writer(job).result()
