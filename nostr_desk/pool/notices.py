"""Typed notices the pool emits for the UI and the monitor: status changes, health samples, events
received, publish results. No Qt here; the UI bridge turns them into signals.

A `NoticeHub` fans notices out to callbacks and to bounded asyncio queues (a slow reader loses the
oldest notices, never blocks the pool).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Callable, Union

from nostr_desk.protocol.event import Event


@dataclass(frozen=True, slots=True)
class StatusChanged:
    url: str
    old: str
    new: str
    detail: str = ""
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class HealthSample:
    url: str
    at: float          # wall-clock seconds
    metric: str        # e.g. "connect_ms", "ping_ms", "eose_ms", "ok_ms", "first_event_ms"
    value: float


@dataclass(frozen=True, slots=True)
class EventReceived:
    url: str
    sub_id: str
    event: Event


@dataclass(frozen=True, slots=True)
class PublishResult:
    event_id: str
    url: str
    accepted: bool
    message: str
    final: bool        # no more retries for this relay


Notice = Union[StatusChanged, HealthSample, EventReceived, PublishResult]
NoticeCallback = Callable[[Notice], None]


class NoticeHub:
    """Fan-out of notices. Callbacks run synchronously and must be quick; errors in one are contained."""

    def __init__(self) -> None:
        self._callbacks: list[NoticeCallback] = []
        self._queues: list[asyncio.Queue[Notice]] = []
        self.dropped = 0

    def subscribe(self, callback: NoticeCallback) -> Callable[[], None]:
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback) if callback in self._callbacks else None

    def queue(self, maxsize: int = 1000) -> asyncio.Queue[Notice]:
        q: asyncio.Queue[Notice] = asyncio.Queue(maxsize)
        self._queues.append(q)
        return q

    def unqueue(self, q: asyncio.Queue[Notice]) -> None:
        if q in self._queues:
            self._queues.remove(q)

    def emit(self, notice: Notice) -> None:
        for cb in list(self._callbacks):
            try:
                cb(notice)
            except Exception:  # a broken listener must not break the pool
                self.dropped += 1
        for q in self._queues:
            if q.full():
                q.get_nowait()          # keep the newest: charts want now, not a backlog
                self.dropped += 1
            q.put_nowait(notice)
