"""De-duplication before verification: the cheap path every incoming EVENT frame takes.

A frame `["EVENT","<sub>",{...}]` is sliced without parsing (`split_event_frame`), the event id is
read with `peek_event_id`, and an id already seen costs a set lookup, no JSON parse and no signature
check. New ids are verified in full (`parse_verified`); only a copy that verifies marks its id as
seen, so a bad copy from one relay never hides the good copy from another. A copy whose real id is
not the id we peeked (a crafted frame) is a failure too.

Verification of a batch runs off the event loop (in a worker thread) when the batch is large.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass

from nostr_desk.protocol.errors import ProtocolError
from nostr_desk.protocol.event import Event, parse_verified
from nostr_desk.protocol.messages import peek_event_id, split_frame

_EVENT_HEAD = b'["EVENT",'


def split_event_frame(frame: bytes) -> tuple[str, bytes] | None:
    """(sub_id, raw event) of an EVENT frame in compact form, or None (use the full parser then).

    Relays send compact JSON; anything unusual (spaces, escapes in the sub id) takes the slow path.
    """
    if not frame.startswith(_EVENT_HEAD) or frame[9:10] != b'"':
        return None
    end = frame.find(b'"', 10)
    if end < 0 or frame[end + 1 : end + 2] != b"," or b"\\" in frame[10:end]:
        return None
    tail = frame.rstrip()
    if not tail.endswith(b"}]"):
        return None
    try:
        sub_id = frame[10:end].decode()
    except UnicodeDecodeError:
        return None
    return sub_id, tail[end + 2 : -1]


def split_event_frame_slow(frame: bytes) -> tuple[str, bytes] | None:
    """The same via the full frame splitter (whitespace, escapes): still no event parse."""
    try:
        parts = split_frame(frame)
    except ProtocolError:
        return None
    if len(parts) != 3 or bytes(parts[0]) != b'"EVENT"':
        return None
    try:
        import msgspec
        sub_id = msgspec.json.decode(parts[1], type=str)
    except Exception:
        return None
    return sub_id, bytes(parts[2])


@dataclass(slots=True)
class Verdict:
    """What became of one new copy: `event` when it verified, else `error` (NIP-01 reason)."""

    url: str
    sub_id: str
    event_id: str | None
    raw: bytes
    event: Event | None = None
    error: str = ""
    also: list[str] | None = None    # relays whose spare copies of this id arrived meanwhile (provenance)


class SeenIds:
    """A bounded set of verified ids (oldest forgotten first) with the relays each came from."""

    def __init__(self, capacity: int = 500_000) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, event_id: str) -> bool:
        return event_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, event_id: str) -> None:
        self._ids[event_id] = None
        if len(self._ids) > self.capacity:
            self._ids.popitem(last=False)


class VerifiedCache:
    """Recently verified events shared by every subscription of a pool: a second subscription that
    receives an id another one verified gets the verified `Event` without checking it again."""

    def __init__(self, capacity: int = 20_000) -> None:
        self.capacity = capacity
        self._events: OrderedDict[str, Event] = OrderedDict()

    def get(self, event_id: str) -> Event | None:
        return self._events.get(event_id)

    def put(self, event: Event) -> None:
        self._events[event.id] = event
        if len(self._events) > self.capacity:
            self._events.popitem(last=False)


def verify_one(v: Verdict) -> Verdict:
    if v.event is not None:          # already verified (from the shared cache)
        return v
    try:
        ev = parse_verified(v.raw)
    except ProtocolError as exc:
        v.error = exc.reason
        return v
    if v.event_id is not None and ev.id != v.event_id:
        v.error = "invalid: event id differs from the one the frame showed"
        return v
    v.event = ev
    v.event_id = ev.id
    return v


def verify_batch(batch: list[Verdict]) -> list[Verdict]:
    return [verify_one(v) for v in batch]


class Deduplicator:
    """Feeds raw EVENT payloads through peek -> seen? -> verify -> mark seen.

    `offer` is the hot path (sync, no parsing). `verify_pending` verifies what `offer` let through,
    in a worker thread when there are many, and marks verified ids as seen. When several relays send
    the same new id before it is verified, only the first copy is verified; the others wait as spares
    and are checked only if the first copy turns out bad.
    """

    def __init__(self, capacity: int = 500_000, offload_at: int = 64, shared: VerifiedCache | None = None) -> None:
        self.seen = SeenIds(capacity)
        self.shared = shared
        self.offload_at = offload_at
        self.duplicates = 0
        # The id `offer` peeked last and whether it had been verified already (then the copy is a
        # duplicate of a known-good event and its relay may be recorded as a source at once).
        self.last_id: str | None = None
        self.last_seen = False
        self._pending: list[Verdict] = []
        self._spares: dict[str, list[Verdict]] = {}
        self.max_pending = 0                # the largest backlog seen (a figure for tests and tuning)

    def offer(self, url: str, sub_id: str, raw_event: bytes) -> bool:
        """True when this copy was queued for verifying; False when its id is seen or already queued."""
        self.last_id = event_id = peek_event_id(raw_event)
        self.last_seen = False
        if event_id is not None:
            if event_id in self.seen:
                self.duplicates += 1
                self.last_seen = True
                return False
            spares = self._spares.get(event_id)
            if spares is not None:
                spares.append(Verdict(url, sub_id, event_id, raw_event))
                return False
            self._spares[event_id] = []
            cached = self.shared.get(event_id) if self.shared is not None else None
            if cached is not None:
                self._pending.append(Verdict(url, sub_id, event_id, raw_event, cached))
                return True
        self._pending.append(Verdict(url, sub_id, event_id, raw_event))
        if len(self._pending) > self.max_pending:
            self.max_pending = len(self._pending)
        return True

    @property
    def pending(self) -> int:
        return len(self._pending)

    def _take(self) -> tuple[list[Verdict], dict[str, list[Verdict]]]:
        # Spares stay registered until their id is settled: copies arriving while a batch is being
        # verified (in a worker thread) join as spares instead of being verified a second time.
        batch, self._pending = self._pending, []
        return batch, self._spares

    async def verify_pending(self) -> tuple[list[Verdict], list[Verdict]]:
        """(new verified copies, failed copies). Spares of a verified id count as duplicates."""
        batch, spares = self._take()
        if not batch:
            return [], []
        if sum(v.event is None for v in batch) >= self.offload_at:
            checked = await asyncio.to_thread(verify_batch, batch)
        else:
            checked = verify_batch(batch)
        return self._settle(checked, spares)

    def verify_now(self) -> tuple[list[Verdict], list[Verdict]]:
        batch, spares = self._take()
        return self._settle(verify_batch(batch), spares)

    def _settle(self, checked: list[Verdict], spares: dict[str, list[Verdict]]) -> tuple[list[Verdict], list[Verdict]]:
        good, bad = [], []
        for v in checked:
            waiting = spares.pop(v.event_id, []) if v.event_id is not None else []
            while v.event is None:
                bad.append(v)
                if not waiting:
                    break
                v = verify_one(waiting.pop(0))  # the next relay's copy gets its chance
            if v.event is None:
                continue
            self.duplicates += len(waiting)
            if waiting:
                v.also = [w.url for w in waiting]
            if v.event_id in self.seen:     # a peek-less copy of an id verified earlier
                self.duplicates += 1
                continue
            self.seen.add(v.event_id)
            if self.shared is not None:
                self.shared.put(v.event)
            good.append(v)
        return good, bad
