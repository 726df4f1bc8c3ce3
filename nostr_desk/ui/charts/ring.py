"""Fixed-size ring buffers of (time, value) samples, and the per-relay series the charts read.

Samples arrive at any rate; memory stays fixed (the oldest sample is overwritten), and a chart asks
for the samples inside its time window as two numpy arrays, oldest first, once per redraw. No Qt.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable

import numpy as np


class Ring:
    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("a ring needs room for at least one sample")
        self.capacity = capacity
        self._t = np.zeros(capacity, dtype=np.float64)
        self._v = np.zeros(capacity, dtype=np.float64)
        self._next = 0
        self.size = 0

    def append(self, t: float, v: float) -> None:
        self._t[self._next] = t
        self._v[self._next] = v
        self._next = (self._next + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def extend(self, samples: Iterable[tuple[float, float]]) -> None:
        for t, v in samples:
            self.append(t, v)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """All samples, oldest first (copies: the caller may keep them)."""
        if self.size < self.capacity:
            return self._t[: self.size].copy(), self._v[: self.size].copy()
        order = np.r_[self._next: self.capacity, 0: self._next]
        return self._t[order], self._v[order]

    def window(self, since: float) -> tuple[np.ndarray, np.ndarray]:
        t, v = self.arrays()
        keep = t >= since
        return t[keep], v[keep]

    def last(self) -> tuple[float, float] | None:
        if not self.size:
            return None
        i = (self._next - 1) % self.capacity
        return float(self._t[i]), float(self._v[i])


class SeriesBook:
    """Rings keyed by (relay URL, metric name), created on first sample."""

    def __init__(self, capacity: int = 20_000) -> None:
        self.capacity = capacity
        self._rings: dict[tuple[str, str], Ring] = {}
        self._urls: dict[str, None] = {}  # insertion-ordered set
        self.counters: dict[tuple[str, str], int] = defaultdict(int)

    def add(self, url: str, metric: str, t: float, v: float) -> None:
        ring = self._rings.get((url, metric))
        if ring is None:
            ring = self._rings[(url, metric)] = Ring(self.capacity)
            self._urls.setdefault(url, None)
        ring.append(t, v)

    def add_count(self, url: str, metric: str, t: float, total: int) -> None:
        """Record a cumulative counter as a per-interval increase (0 when it did not move). Counters
        start at 0 with the pool, so the first call's whole total is its increase."""
        key = (url, metric)
        previous = self.counters.get(key, 0)
        self.counters[key] = total
        self.add(url, metric, t, max(total - previous, 0))

    def ring(self, url: str, metric: str) -> Ring | None:
        return self._rings.get((url, metric))

    def urls(self) -> list[str]:
        return list(self._urls)

    def window(self, url: str, metric: str, since: float) -> tuple[np.ndarray, np.ndarray]:
        ring = self._rings.get((url, metric))
        if ring is None:
            return np.zeros(0), np.zeros(0)
        return ring.window(since)
