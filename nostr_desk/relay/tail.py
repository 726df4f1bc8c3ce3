"""Live fan-out of events the relay did not ingest itself: a tail of the event store.

The store is shared ("One event store" in DESIGN.md): the app's pool saves what it fetches, and
`nostr-desk post` / `import` write into the same SQLite file from other processes. None of that
passes through the relay's own ingest, so `StoreTail` reads the store's insert order
(`EventStore.events_since`) every `tail_interval` seconds, at most `tail_batch` rows per tick, off
the event loop, and hands each new row to the server's fan-out. It starts at the store's newest row
when the relay starts: history is served by REQs, never replayed as live.

`FannedOut` remembers the ids delivered live recently, so an event the relay ingested (or was told
about with `notify_stored`) is not delivered again when the tail reaches its row, and vice versa.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable

from nostr_desk.protocol.event import Event
from nostr_desk.protocol.kinds import is_ephemeral
from nostr_desk.protocol.messages import peek_event_id
from nostr_desk.store import EventStore

log = logging.getLogger(__name__)


class FannedOut:
    """A bounded memory of event ids already delivered live (oldest forgotten first)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._ids)

    def first_time(self, event_id: str) -> bool:
        """True (and remembered) the first time an id is offered; False if it was delivered already."""
        if event_id in self._ids:
            return False
        self._ids[event_id] = None
        if len(self._ids) > self.capacity:
            self._ids.popitem(last=False)
        return True

    def seen(self, event_id: str) -> bool:
        return event_id in self._ids

    def clear(self) -> None:
        self._ids.clear()


def expired(event: Event, now: int) -> bool:
    """NIP-40: an `expiration` tag at or before `now` (the store refuses and stops serving those)."""
    value = event.first_tag_value("expiration")
    if value is None:
        return False
    try:
        return int(value) <= now
    except ValueError:
        return False


def last_seq(store: EventStore) -> int:
    """The newest row's seq (0 for an empty store), found with `events_since(seq, 1)` alone:
    doubling, then bisecting — about 2*log2(seq) primary-key lookups, run once per start."""
    if not store.events_since(0, 1):
        return 0
    below, above = 0, 1  # invariant: some row has seq > below, none has seq > above
    while store.events_since(above, 1):
        below, above = above, above * 2
    while above - below > 1:
        mid = (below + above) // 2
        if store.events_since(mid, 1):
            below = mid
        else:
            above = mid
    return above


class StoreTail:
    """Polls the store for rows past its high-water mark and passes new ones to `deliver`."""

    def __init__(self, store: EventStore, *, interval: float, batch: int, fanned: FannedOut,
                 deliver: Callable[[Event, bytes], None], wanted: Callable[[], bool]) -> None:
        self.store = store
        self.interval = interval
        self.batch = batch
        self.fanned = fanned
        self.deliver = deliver
        self.wanted = wanted  # False while nobody subscribes: rows are skipped without decoding
        self.seq = 0
        self._task: asyncio.Task | None = None
        self._failing = False

    async def start(self) -> None:
        self.seq = await asyncio.to_thread(last_seq, self.store)
        self._task = asyncio.create_task(self._run(), name="relay store tail")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.tick()

    async def tick(self) -> int:
        """Read and deliver one batch; the number of rows read."""
        try:
            rows = await asyncio.to_thread(self.store.events_since, self.seq, self.batch)
        except Exception as exc:  # a closed or broken store: say so once, keep trying
            if not self._failing:
                log.warning("the relay cannot read the store for live delivery: %s", exc)
            self._failing = True
            return 0
        self._failing = False
        if not rows:
            return 0
        self.seq = rows[-1][0]
        if self.wanted():
            now = int(time.time())
            for _, raw in rows:
                self._offer(raw, now)
        return len(rows)

    def _offer(self, raw: bytes, now: int) -> None:
        event_id = peek_event_id(raw)
        if event_id is not None and self.fanned.seen(event_id):
            return  # the relay's own ingest (or notify_stored) delivered it already
        try:
            event = Event.from_json(raw)
        except Exception:  # the store holds only checked events; a bad row costs itself only
            log.warning("unreadable event row in the store (id %s)", event_id)
            return
        if is_ephemeral(event.kind) or expired(event, now):
            return
        if self.fanned.first_time(event.id):
            self.deliver(event, raw)
