"""Event id and signature verification off the event loop, batched, with a verified-signature cache.

`Verifier.verify(event)` is awaited by the relay for each incoming event. Calls made in the same
loop iteration are gathered into batches and checked in a small thread pool, so a flood costs one
thread hand-off per batch instead of one per event, and the loop keeps serving other clients while
signatures are checked (coincurve releases the GIL inside libsecp256k1).

The cache remembers `(id, sig)` pairs whose signature verified. The id is always recomputed from the
content (a cheap hash), so a cached pair can never vouch for altered content.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

from nostr_desk.protocol.event import Event

BATCH_MAX = 128


def _check_batch(events: list[Event], known: list[bool]) -> list[bool]:
    out = []
    for event, cached in zip(events, known):
        ok = event.has_valid_id() and (cached or event.has_valid_signature())
        out.append(ok)
    return out


class Verifier:
    def __init__(self, workers: int = 2, cache_size: int = 65_536) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="verify")
        self._workers = max(1, workers)
        self._cache: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._cache_size = cache_size
        self._pending: list[tuple[Event, asyncio.Future[bool]]] = []
        self._flush_scheduled = False
        self.checked = 0
        self.cache_hits = 0
        self.failures = 0

    async def verify(self, event: Event) -> bool:
        """True when the event's id matches its content and its signature is valid."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[bool] = loop.create_future()
        self._pending.append((event, fut))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            loop.call_soon(self._flush, loop)
        return await fut

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        self._flush_scheduled = False
        pending, self._pending = self._pending, []
        # Split so every worker gets a share, but no batch grows past BATCH_MAX.
        size = max(1, min(BATCH_MAX, -(-len(pending) // self._workers)))
        for start in range(0, len(pending), size):
            chunk = pending[start : start + size]
            events = [e for e, _ in chunk]
            known = [(e.id, e.sig) in self._cache for e in events]
            self.cache_hits += sum(known)
            job = loop.run_in_executor(self._pool, _check_batch, events, known)
            job.add_done_callback(lambda f, chunk=chunk: self._resolve(chunk, f))

    def _resolve(self, chunk: list[tuple[Event, asyncio.Future[bool]]], job: asyncio.Future[list[bool]]) -> None:
        try:
            results = job.result()
        except (Exception, asyncio.CancelledError):  # never leave waiters hanging: treat as invalid
            results = [False] * len(chunk)
        for (event, fut), ok in zip(chunk, results):
            self.checked += 1
            if ok:
                self._remember(event)
            else:
                self.failures += 1
            if not fut.done():
                fut.set_result(ok)

    def _remember(self, event: Event) -> None:
        key = (event.id, event.sig)
        self._cache[key] = None
        self._cache.move_to_end(key)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
