"""Per-relay health: status, latencies as time series, success rate, rate-limit signals, auth state,
verification failures, traffic counters and the last NOTICE / CLOSED / OK-false messages.

`RelayHealth` only records; the connection and pool feed it. Every latency sample is also handed to
`on_sample` (the pool turns it into a `HealthSample` notice and a row in the store). Clocks are
injected: `clock` (monotonic, for durations and pauses) and `wall` (for timestamps on samples).
"""

from __future__ import annotations

import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from nostr_desk.protocol.errors import Prefix

LATENCY_METRICS = ("connect_ms", "ping_ms", "first_event_ms", "eose_ms", "ok_ms")
# "too many" alone also covers "too many tags/filters", a limit on one message, not on our pace.
_RATE_LIMIT_TEXT = re.compile(
    r"rate.?limit|too many (requests|reqs?\b|messages|events|connections|subscriptions|concurrent)"
    r"|slow down|too fast|throttl", re.IGNORECASE)


def mentions_rate_limit(text: str) -> bool:
    return Prefix.of(text) is Prefix.RATE_LIMITED or bool(_RATE_LIMIT_TEXT.search(text))


@dataclass(frozen=True)
class HealthSnapshot:
    url: str
    status: str
    breaker: str
    auth: str
    latest: dict[str, float]          # last value of each latency metric seen
    success_rate: float | None        # over the recent window; None before any attempt
    rate_limited: int
    paused_for: float                 # seconds the pool still leaves this relay alone
    verify_failures: int
    events_received: int
    duplicates: int
    bytes_in: int
    bytes_out: int
    connects: int
    disconnects: int
    last_notice: str
    last_closed: str
    last_ok_false: str
    last_error: str
    stalls: int = 0                   # times reading it paused while verification caught up
    unrequested: int = 0              # valid events it sent outside our filters (dropped)

    def to_json_obj(self) -> dict:
        return dict(self.__dict__)


@dataclass
class RelayHealth:
    url: str
    window: int = 50
    history: int = 512
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    on_sample: Callable[[str, float, str, float], None] | None = None   # (url, at, metric, value)

    status: str = "idle"
    breaker: str = "closed"
    auth: str = "none"
    rate_limited: int = 0
    paused_until: float = 0.0
    verify_failures: int = 0
    events_received: int = 0
    duplicates: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    connects: int = 0
    disconnects: int = 0
    stalls: int = 0                   # times we stopped reading it while verification caught up
    unrequested: int = 0              # valid events outside the subscription's filters (dropped)
    last_notice: str = ""
    last_closed: str = ""
    last_ok_false: str = ""
    last_error: str = ""
    series: dict[str, deque] = field(default_factory=dict)
    _outcomes: deque = field(default_factory=deque)

    # --- latencies -------------------------------------------------------------------------------------
    def sample(self, metric: str, value: float) -> None:
        at = self.wall()
        self.series.setdefault(metric, deque(maxlen=self.history)).append((at, value))
        if self.on_sample:
            self.on_sample(self.url, at, metric, value)

    def latest(self, metric: str) -> float | None:
        s = self.series.get(metric)
        return s[-1][1] if s else None

    def average(self, metric: str, last: int = 10) -> float | None:
        s = self.series.get(metric)
        if not s:
            return None
        values = [v for _, v in list(s)[-last:]]
        return sum(values) / len(values)

    # --- outcomes ------------------------------------------------------------------------------------
    def success(self) -> None:
        self._push(True)

    def failure(self, error: str = "") -> None:
        self._push(False)
        if error:
            self.last_error = error[:300]

    def _push(self, ok: bool) -> None:
        self._outcomes.append(ok)
        while len(self._outcomes) > self.window:
            self._outcomes.popleft()

    @property
    def success_rate(self) -> float | None:
        return sum(self._outcomes) / len(self._outcomes) if self._outcomes else None

    # --- relay messages -------------------------------------------------------------------------------
    def rate_limit_signal(self, pause: float) -> None:
        """The relay said slow down: count it and leave the relay alone for `pause` seconds."""
        self.rate_limited += 1
        self.paused_until = max(self.paused_until, self.clock() + pause)
        self.sample("rate_limited", float(self.rate_limited))

    def paused_for(self) -> float:
        return max(0.0, self.paused_until - self.clock())

    def notice(self, text: str, pause: float) -> None:
        self.last_notice = text[:300]
        if mentions_rate_limit(text):
            self.rate_limit_signal(pause)

    def closed(self, text: str, pause: float) -> None:
        self.last_closed = text[:300]
        if Prefix.of(text) is Prefix.RATE_LIMITED:
            self.rate_limit_signal(pause)

    def ok_false(self, text: str, pause: float) -> None:
        self.last_ok_false = text[:300]
        if Prefix.of(text) is Prefix.RATE_LIMITED:
            self.rate_limit_signal(pause)

    def verify_failed(self) -> None:
        self.verify_failures += 1
        self.sample("verify_failures", float(self.verify_failures))

    def snapshot(self) -> HealthSnapshot:
        return HealthSnapshot(
            url=self.url, status=self.status, breaker=self.breaker, auth=self.auth,
            latest={m: s[-1][1] for m, s in self.series.items() if m in LATENCY_METRICS and s},
            success_rate=self.success_rate, rate_limited=self.rate_limited,
            paused_for=self.paused_for(), verify_failures=self.verify_failures,
            events_received=self.events_received, duplicates=self.duplicates,
            bytes_in=self.bytes_in, bytes_out=self.bytes_out, connects=self.connects,
            disconnects=self.disconnects, last_notice=self.last_notice,
            last_closed=self.last_closed, last_ok_false=self.last_ok_false, last_error=self.last_error,
            stalls=self.stalls, unrequested=self.unrequested,
        )
