"""`Subscription`: one logical REQ fanned out to several relays, merged into one stream of verified,
de-duplicated events.

Frames arrive synchronously from each `RelayConnection` (`_on_event`): the id is peeked and
duplicates dropped on the spot; new copies are batched and verified in a flush task that runs when
the reader yields (off the loop in a worker thread when the batch is large). Verified events go to
the consumer's queue, to the event store with their provenance, and out as `EventReceived` notices
(when asked for). Copies that fail verification are counted against the relay that sent them, and
so are valid events matching none of the filters (a relay pushing what nobody asked for): dropped.
Backpressure: when `backlog` new events wait unverified, the connections stop reading their relays
until the flush has caught up, so a relay faster than verification is slowed at the socket.

A live subscription made without naming relays follows the pool's readable set (`follow`): the pool
calls `join` when a read relay becomes usable or is added, `leave` when one is removed or its read
flag turned off. `defaults` holds the relays it joined that way (not the NIP-65 ones it was planned
with, which keep their narrowed filters).

EOSE is aggregated: `wait_eose(timeout)` returns when every relay has sent EOSE, CLOSED the
subscription, or dropped, or when the timeout passes, whichever is first; what arrived is delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Callable

from nostr_desk.protocol.event import Event
from nostr_desk.protocol.filters import Filter

from .connection import SubState
from .dedup import Deduplicator, VerifiedCache
from .notices import EventReceived, NoticeHub

if TYPE_CHECKING:
    from .connection import RelayConnection
    from .ingest import Ingest

_DONE = object()


class Subscription:
    def __init__(self, sub_id: str, filters: tuple[Filter, ...], connections: list[RelayConnection], *,
                 ingest: Ingest, notices: NoticeHub, shared: VerifiedCache, offload_at: int,
                 emit_events: bool, on_close: Callable[[Subscription], None], max_queue: int = 0,
                 keep_first: bool = False, backlog: int = 4096,
                 per_relay: dict[str, tuple[Filter, ...]] | None = None) -> None:
        self.id = sub_id
        self.filters = filters
        # What a received event must match. Search is left to the relay (NIP-50 relays rank and
        # stem as they like); everything else is exact, and a relay that sends more is told off.
        self._accept = _without_search(filters)
        self.connections = {c.url: c for c in connections}
        self.dedup = Deduplicator(offload_at=offload_at, shared=shared)
        self.ingest = ingest
        self.notices = notices
        self.emit_events = emit_events
        self._on_close = on_close
        # Bounded for live subscriptions: a consumer that stops reading loses the oldest events
        # (they are in the store anyway) instead of letting a chatty relay grow memory without end.
        # A fetch keeps the first arrivals instead (`keep_first`): relays send newest first, so what
        # a relay sends past its filters' limits is the least wanted part.
        self._queue: asyncio.Queue = asyncio.Queue(max_queue)
        self.keep_first = keep_first
        self.per_relay = per_relay or {}       # url -> the narrower filters that relay is sent
        self.backlog = backlog
        self.dropped = 0
        self._states: dict[str, SubState] = {}
        self._flush_task: asyncio.Task | None = None
        self._closed = False
        self.failures: dict[str, int] = {}
        self.closed_by: dict[str, str] = {}
        self.received = 0
        self.follow = False                    # set by the pool: joins and leaves with the readable set
        self.defaults: set[str] = set()        # relays joined as default read relays

    async def start(self) -> None:
        for url in self.connections:
            filters = self.per_relay.get(url, self.filters)
            self._states[url] = SubState(self.id, filters, self._on_event, self._on_eose, self._on_closed,
                                         behind=self._behind, caught_up=self._caught_up)
        for url, conn in self.connections.items():
            await conn.subscribe(self._states[url])     # returns at once: the REQ is sent by conn

    async def join(self, conn: RelayConnection) -> None:
        """Add a relay to a running subscription (sent the full filters)."""
        if self._closed or conn.url in self.connections:
            return
        self.connections[conn.url] = conn
        self._states[conn.url] = SubState(self.id, self.filters, self._on_event, self._on_eose, self._on_closed,
                                          behind=self._behind, caught_up=self._caught_up)
        await conn.subscribe(self._states[conn.url])

    async def leave(self, url: str) -> None:
        """Stop asking `url` (CLOSE sent); what it sends from now on is dropped, what it sent is kept."""
        conn = self.connections.pop(url, None)
        self._states.pop(url, None)
        self.defaults.discard(url)
        if conn is not None:
            await conn.unsubscribe(self.id)

    # --- hot path ------------------------------------------------------------------------------------
    def _on_event(self, url: str, sub_id: str, raw: bytes) -> None:
        if self._closed or url not in self.connections:     # closed, or a relay this one has left
            return
        if self.dedup.offer(url, sub_id, raw):
            self._schedule_flush()
        else:
            self.connections[url].health.duplicates += 1
            if self.dedup.last_seen:
                # A copy of a verified id. A copy waiting behind one still being verified is a
                # spare: its relay is recorded only if that id verifies (Verdict.also), so a
                # batch of bad copies never leaves provenance behind.
                self.ingest.duplicate_seen(self.dedup.last_id, url)

    def _behind(self) -> bool:
        return self.dedup.pending >= self.backlog

    async def _caught_up(self) -> None:
        """Returns once what has arrived is verified: a relay reader waits here (backpressure)."""
        while self.dedup.pending >= self.backlog and not self._closed:
            self._schedule_flush()
            task = self._flush_task
            assert task is not None
            await asyncio.wait({task})       # not cancelling the flush if this waiter is cancelled

    def _schedule_flush(self) -> None:
        if self._flush_task is None or self._flush_task.done():
            self._flush_task = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        await asyncio.sleep(0)       # let the readers queue more frames: verify in batches
        while self.dedup.pending:
            good, bad = await self.dedup.verify_pending()
            for v in bad:
                self.failures[v.url] = self.failures.get(v.url, 0) + 1
                conn = self.connections.get(v.url)
                if conn is not None:
                    conn.health.verify_failed()
                    conn.health.last_error = v.error[:300]
            for v in good:
                # Against the whole subscription, not the relay's narrowed share: an id is seen
                # once verified, so dropping a wanted event here would drop its other copies too.
                if not any(f.matches(v.event) for f in self._accept):
                    self._unrequested(v.url)
                    continue
                self.received += 1
                self.ingest.store(v.event, v.url)
                for other in v.also or ():
                    self.ingest.duplicate_seen(v.event_id, other)
                self._put(v.event)
                if self.emit_events:
                    self.notices.emit(EventReceived(v.url, self.id, v.event))

    def _unrequested(self, url: str) -> None:
        """A valid event the relay had no business sending here: neither stored nor delivered."""
        conn = self.connections.get(url)
        if conn is not None:
            conn.health.unrequested += 1
            conn.health.last_error = "sent an event outside the subscription's filters"

    def _put(self, item: object) -> None:
        if self._queue.full():
            if self.keep_first and item is not _DONE:
                self.dropped += 1
                return
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(item)

    async def settle(self) -> None:
        """Finish verifying what has arrived so far."""
        while self._flush_task is not None and not self._flush_task.done():
            await self._flush_task
        if self.dedup.pending:
            await self._flush()

    # --- EOSE / CLOSED -------------------------------------------------------------------------------
    def _on_eose(self, url: str, sub_id: str, _: str) -> None:
        pass     # SubState.eose_event carries it

    def _on_closed(self, url: str, sub_id: str, message: str) -> None:
        self.closed_by[url] = message

    async def wait_eose(self, timeout: float) -> set[str]:
        """Wait for every relay's EOSE (or CLOSED/drop) up to `timeout`; the URLs that finished.
        Relays that are down when the wait starts (backing off, breaker open) are not waited for:
        one dead relay must not make every fetch last its full timeout."""
        waits = [asyncio.ensure_future(s.eose_event.wait()) for url, s in self._states.items()
                 if not self.connections[url].down]
        try:
            if waits:
                await asyncio.wait(waits, timeout=timeout)
        finally:        # also when the caller is cancelled: no waiter outlives this call
            for fut in waits:
                fut.cancel()
        await self.settle()
        return {url for url, s in self._states.items() if s.eose}

    # --- consuming -------------------------------------------------------------------------------------
    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while True:
            item = await self._queue.get()
            if item is _DONE:
                return
            yield item

    def drain(self) -> list[Event]:
        out = []
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not _DONE:
                out.append(item)
        return out

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await asyncio.gather(*(c.unsubscribe(self.id) for c in self.connections.values()))
        if self._flush_task is not None:
            self._flush_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._flush_task
        self._put(_DONE)
        self._on_close(self)

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _without_search(filters: tuple[Filter, ...]) -> tuple[Filter, ...]:
    return tuple(Filter.from_obj({k: v for k, v in f.to_obj().items() if k != "search"}) for f in filters)
