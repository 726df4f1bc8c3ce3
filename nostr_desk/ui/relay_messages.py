"""A small per-relay history of what each relay told us: NOTICE, CLOSED and OK-false, with times.

The pool's health keeps only the *last* of each kind (`HealthSnapshot.last_notice`, `.last_closed`,
`.last_ok_false`) and sends no notice for them, so the bridge hands us the snapshots once a tick and we
keep a ring of every change we see. A message the relay repeats word for word between two ticks shows
once; that is the price of not reaching into the pool. Messages already there when the app first looks
are kept with no time ("before this session" is not true either: the pool may have just started), so
they show as "earlier".
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Iterable

KINDS = (("NOTICE", "last_notice"), ("CLOSED", "last_closed"), ("OK false", "last_ok_false"))
KEEP = 30  # per relay: enough to see a pattern (a burst of rate limits), small enough to read


@dataclass(frozen=True)
class RelayMessage:
    at: float | None   # wall-clock seconds when first seen; None if it was there before we looked
    kind: str          # "NOTICE", "CLOSED" or "OK false"
    text: str

    def line(self) -> str:
        when = time.strftime("%H:%M:%S", time.localtime(self.at)) if self.at is not None else "earlier "
        return f"{when}  {self.kind}: {self.text}"


class RelayMessages:
    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        self._rings: dict[str, deque[RelayMessage]] = {}
        self._last: dict[tuple[str, str], str] = {}   # (url, kind) -> text seen last tick

    def observe(self, snapshots: Iterable[Any], now: float | None = None) -> int:
        """Record each relay's NOTICE / CLOSED / OK-false that changed since the last look. New count."""
        now = time.time() if now is None else now
        added = 0
        for snap in snapshots:
            for kind, attr in KINDS:
                text = getattr(snap, attr, "") or ""
                key = (snap.url, kind)
                first_look = key not in self._last
                if text and text != self._last.get(key):
                    self.add(snap.url, kind, text, at=None if first_look else now)
                    added += 1
                self._last[key] = text
        return added

    def add(self, url: str, kind: str, text: str, *, at: float | None) -> None:
        ring = self._rings.setdefault(url, deque(maxlen=self.keep))
        ring.append(RelayMessage(at, kind, text))

    def recent(self, url: str) -> list[RelayMessage]:
        """Newest first."""
        return list(reversed(self._rings.get(url, ())))

    def forget(self, url: str) -> None:
        self._rings.pop(url, None)
        for kind, _attr in KINDS:
            self._last.pop((url, kind), None)
