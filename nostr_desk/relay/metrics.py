"""Relay counters for the app's health charts: a mutable tally and the frozen snapshot it hands out.

Counting is a few dict/int operations on the event loop; percentiles are computed only when a
snapshot is taken, over a fixed-size ring of recent query latencies (memory stays bounded).
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field


@dataclass(frozen=True)
class MetricsSnapshot:
    accepted: dict[str, int]  # store outcome name -> count (saved, replaced, duplicate, ephemeral)
    rejected: dict[str, int]  # OK prefix -> count (invalid, pow, rate-limited, auth-required, ...)
    verify_failures: int
    connections: int
    connections_total: int
    subscriptions: int
    queue_depth_total: int  # frames waiting in all outboxes
    queue_depth_max: int  # the deepest single outbox
    slow_consumers: int  # subscriptions closed or clients dropped for not reading
    notices: int
    queries: int
    query_p50_ms: float
    query_p95_ms: float
    query_max_ms: float
    events_delivered: int  # live fan-out frames queued
    idle_closed: int = 0  # connections closed for holding no subscription and sending nothing


@dataclass
class Metrics:
    accepted: Counter = field(default_factory=Counter)
    rejected: Counter = field(default_factory=Counter)
    verify_failures: int = 0
    connections: int = 0
    connections_total: int = 0
    slow_consumers: int = 0
    notices: int = 0
    queries: int = 0
    events_delivered: int = 0
    idle_closed: int = 0
    latencies_ms: deque = field(default_factory=lambda: deque(maxlen=2048))

    def reject(self, prefix: str) -> None:
        self.rejected[prefix] += 1

    def query_done(self, ms: float) -> None:
        self.queries += 1
        self.latencies_ms.append(ms)

    def snapshot(self, *, subscriptions: int, queue_depths: list[int]) -> MetricsSnapshot:
        lat = sorted(self.latencies_ms)
        return MetricsSnapshot(
            accepted=dict(self.accepted),
            rejected=dict(self.rejected),
            verify_failures=self.verify_failures,
            connections=self.connections,
            connections_total=self.connections_total,
            subscriptions=subscriptions,
            queue_depth_total=sum(queue_depths),
            queue_depth_max=max(queue_depths, default=0),
            slow_consumers=self.slow_consumers,
            notices=self.notices,
            queries=self.queries,
            query_p50_ms=_pct(lat, 0.50),
            query_p95_ms=_pct(lat, 0.95),
            query_max_ms=lat[-1] if lat else 0.0,
            events_delivered=self.events_delivered,
            idle_closed=self.idle_closed,
        )


def _pct(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]
