"""Bring results from the store's writer thread back to the event loop in bulk.

`asyncio.wrap_future` costs one `call_soon_threadsafe` (a self-pipe write, a syscall) per event.
The writer resolves a whole batch of futures at once after each COMMIT, so here completions are
queued and the loop is woken once per burst, then resolves every waiting asyncio future in one go.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from concurrent.futures import Future


class CompletionFunnel:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._done: deque[tuple[asyncio.Future, Future]] = deque()
        self._lock = threading.Lock()
        self._wake_pending = False

    def wrap(self, cfut: Future) -> asyncio.Future:
        """An asyncio future on our loop that completes with `cfut`."""
        afut = self._loop.create_future()
        cfut.add_done_callback(lambda f: self._completed(afut, f))
        return afut

    def wait_all(self, cfuts: list[Future]) -> asyncio.Future:
        """An asyncio future that completes (with None) once every one of `cfuts` is done."""
        afut = self._loop.create_future()
        remaining = [len(cfuts)]
        lock = threading.Lock()

        def one_done(_: Future) -> None:
            with lock:
                remaining[0] -= 1
                last = remaining[0] == 0
            if last:
                self._completed(afut, None)

        if not cfuts:
            afut.set_result(None)
        for cfut in cfuts:
            cfut.add_done_callback(one_done)
        return afut

    def _completed(self, afut: asyncio.Future, cfut: Future | None) -> None:  # any thread
        self._done.append((afut, cfut))
        with self._lock:
            if self._wake_pending:
                return
            self._wake_pending = True
        try:
            self._loop.call_soon_threadsafe(self._drain)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass

    def _drain(self) -> None:
        with self._lock:
            self._wake_pending = False
        while self._done:
            afut, cfut = self._done.popleft()
            if afut.done():
                continue
            if cfut is None:
                afut.set_result(None)
                continue
            exc = cfut.exception() if not cfut.cancelled() else asyncio.CancelledError()
            if exc is not None:
                afut.set_exception(exc)
            else:
                afut.set_result(cfut.result())
