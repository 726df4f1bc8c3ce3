"""Event id and signature verification off the event loop, in batches, with a verified-signature cache.

The relay hands over a whole burst of events at once (`verify_many`): it is split into one chunk per
worker thread, so a flood costs a few thread hand-offs instead of one per event, and the loop keeps
serving other clients while signatures are checked (libsecp256k1 runs outside the GIL).

The cache remembers `(id, sig)` pairs whose signature verified. The id is always recomputed from the
content (a cheap hash), so a cached pair can never vouch for altered content.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from nostr_desk.protocol.event import Event

BATCH_MAX = 256
T = TypeVar("T")


def _check_batch(events: list[Event], known: list[bool]) -> list[bool]:
    return [e.has_valid_id() and (cached or e.has_valid_signature()) for e, cached in zip(events, known)]


class Verifier:
    def __init__(self, workers: int = 2, cache_size: int = 65_536) -> None:
        self._workers = max(1, workers)
        self._pool = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="verify")
        self._cache: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._cache_size = cache_size
        self.checked = 0
        self.cache_hits = 0
        self.failures = 0
        self.closed = False

    async def verify(self, event: Event) -> bool:
        """True when the event's id matches its content and its signature is valid."""
        return (await self.verify_many([event]))[0]

    async def verify_many(self, events: list[Event]) -> list[bool]:
        if not events:
            return []
        loop = asyncio.get_running_loop()
        known = [(e.id, e.sig) in self._cache for e in events]
        self.cache_hits += sum(known)
        size = max(1, min(BATCH_MAX, -(-len(events) // self._workers)))
        jobs = [
            loop.run_in_executor(self._pool, _check_batch, events[i : i + size], known[i : i + size])
            for i in range(0, len(events), size)
        ]
        results: list[bool] = []
        for job in jobs:
            try:
                results += await job
            except RuntimeError:  # the pool was shut down under us: nothing counts as verified
                results += [False] * min(size, len(events) - len(results))
        for event, ok in zip(events, results):
            if ok:
                self._remember(event)
            else:
                self.failures += 1
        self.checked += len(events)
        return results

    async def run(self, fn: Callable[[Event], T], event: Event) -> T:
        """Run another signature-checking function (NIP-42's AUTH check) on the verifier's threads."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, event)

    def _remember(self, event: Event) -> None:
        key = (event.id, event.sig)
        self._cache[key] = None
        self._cache.move_to_end(key)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def close(self) -> None:
        self.closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)
