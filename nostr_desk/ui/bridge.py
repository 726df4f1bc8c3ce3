"""The one crossing point from services to Qt: service notices in, Qt signals out.

Services know nothing of Qt; they call back with plain notices (pool.notices: StatusChanged,
HealthSample, EventReceived, PublishResult). The bridge re-emits status, samples and publish results
as they come (they are rare), but *batches* received events: at thousands per second a signal per
event would flood the GUI thread, so they are counted per relay and handed over once per tick.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any, Callable

from PySide6.QtCore import QObject, QTimer, Signal

from nostr_desk.ui.relay_messages import RelayMessages

log = logging.getLogger(__name__)

MAX_BATCH = 500  # newest events kept per tick for the timeline banner; the rest are only counted


class Bridge(QObject):
    # Start-up of the services (app/services.py)
    progress = Signal(str)
    ready = Signal(object)                # the Services object, once start() returned
    problem = Signal(str, str)            # service name, a readable sentence
    # Pool notices
    status_changed = Signal(object)       # pool.notices.StatusChanged
    health_sample = Signal(object)        # pool.notices.HealthSample
    publish_result = Signal(object)       # pool.notices.PublishResult
    events_tick = Signal(object, object)  # Counter[url -> events this tick], list[Event] (newest last)
    # Anything else that changed and wants a refresh (relay started/stopped, accounts changed…)
    changed = Signal(str)

    def __init__(self, tick_ms: int = 1000, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._counts: Counter[str] = Counter()
        self._events: list[Any] = []
        self._unsubscribe: list[Callable[[], None]] = []
        self._pool: Any = None
        # Each relay's recent NOTICE / CLOSED / OK-false: the pool's health keeps only the last of each.
        self.messages = RelayMessages()
        self._tick = QTimer(self)
        self._tick.setInterval(tick_ms)
        self._tick.timeout.connect(self.flush)
        self._tick.start()
        self.last_tick = time.monotonic()

    def attach_pool(self, pool: Any) -> None:
        """Listen to the pool's notice hub (a callback per notice; runs on the asyncio=Qt thread)."""
        self._pool = pool
        hub = getattr(pool, "notices", None)
        if hub is not None:
            self._unsubscribe.append(hub.subscribe(self.on_notice))

    def detach(self) -> None:
        for undo in self._unsubscribe:
            undo()
        self._unsubscribe.clear()
        self._pool = None

    def on_notice(self, notice: Any) -> None:
        kind = type(notice).__name__
        if kind == "EventReceived":
            self._counts[notice.url] += 1
            self._events.append(notice.event)
            if len(self._events) > 2 * MAX_BATCH:
                del self._events[:-MAX_BATCH]
        elif kind == "HealthSample":
            self.health_sample.emit(notice)
        elif kind == "StatusChanged":
            self.status_changed.emit(notice)
        elif kind == "PublishResult":
            self.publish_result.emit(notice)

    def flush(self) -> None:
        counts, events = self._counts, self._events[-MAX_BATCH:]
        self._counts, self._events = Counter(), []
        self.last_tick = time.monotonic()
        if self._pool is not None:
            try:
                self.messages.observe(self._pool.health().values())
            except Exception:  # a closing pool must not break the tick that feeds every page
                log.debug("relay messages: health snapshot failed", exc_info=True)
        self.events_tick.emit(counts, events)
