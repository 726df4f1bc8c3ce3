"""The cache, run for the window: projections and read models on one worker thread of their own.

SQLite connections belong to the thread that made them, and the projector and the read models share
one; so both live on a single-thread executor and every call is awaited from the GUI loop
(`await cache.call(queries_method, ...)`) without blocking it. A small loop catches the projections
up with the store about once a second (and at once when `poke()` says new events arrived).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

log = logging.getLogger(__name__)


class CacheService:
    def __init__(self, store: Any, interval: float = 1.0) -> None:
        self.store = store
        self.interval = interval
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="cache")
        self._conn: Any = None
        self.projector: Any = None
        self.queries: Any = None
        self.projected = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self.listeners: list[Callable[[int], None]] = []  # called with the number of newly projected events

    async def start(self) -> None:
        await self._run(self._open)
        await self.catch_up()
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="cache catch-up")

    def _open(self) -> None:
        from nostr_desk.cache import CacheQueries, Projector

        self._conn = self.store.connect()
        self.projector = Projector(self.store, self._conn)
        self.queries = CacheQueries(self.store, self._conn)

    async def _run(self, fn: Callable, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """`await cache.call("home", user, cursor, 50)`: a read model method, on the cache thread."""
        method = getattr(self.queries, name)
        return await self._run(lambda: method(*args, **kwargs))

    async def catch_up(self) -> int:
        done = await self._run(self.projector.catch_up, 20_000)
        if done:
            self.projected += done
            for listener in list(self.listeners):
                listener(done)
        return done

    async def forget_missing(self) -> int:
        """After retention evicted events: drop their projections (on the cache thread)."""
        return await self._run(self.projector.forget_missing)

    def poke(self) -> None:
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()
            try:
                await self.catch_up()
            except Exception:  # a bad batch must not stop the timeline for good
                log.exception("cache catch-up failed")
                await asyncio.sleep(self.interval * 5)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._conn is not None:
            await self._run(self._conn.close)
        self._executor.shutdown(wait=True)
