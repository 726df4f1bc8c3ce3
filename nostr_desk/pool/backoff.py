"""Reconnect delays: capped exponential backoff with full jitter, and longer floors for failures
that will not heal soon (an HTTP 4xx/5xx answer to the websocket upgrade, repeated rejections).

Pure state: the random source is injected, so tests replay exact delays without sleeping.
"""

from __future__ import annotations

import enum
import random
from typing import Protocol


class Rng(Protocol):
    def random(self) -> float: ...


class Failure(enum.Enum):
    NETWORK = "network"        # refused, reset, timeout: may heal in seconds
    HTTP = "http"              # the server answered the upgrade with 4xx/5xx: an operator problem
    REJECTED = "rejected"      # rate-limited:/blocked: answers; the relay asked us to go away


class Backoff:
    """How long to wait before the next attempt. `failed()` returns that delay; `succeeded()` resets."""

    def __init__(self, base: float, cap: float, *, http_floor: float = 0.0,
                 rejection_floor: float = 0.0, rng: Rng | None = None) -> None:
        if base <= 0 or cap < base:
            raise ValueError("backoff needs 0 < base <= cap")
        self.base, self.cap = base, cap
        self.http_floor, self.rejection_floor = http_floor, rejection_floor
        self.rng = rng or random.Random()
        self.attempts = 0
        self.rejections = 0

    def failed(self, kind: Failure = Failure.NETWORK) -> float:
        """Record a failure; the delay before the next attempt."""
        ceiling = min(self.cap, self.base * 2.0 ** min(self.attempts, 60))
        self.attempts += 1
        # Full jitter (uniform in [0, ceiling]) spreads a crowd of clients reconnecting at once.
        delay = self.rng.random() * ceiling
        if kind is Failure.HTTP:
            delay = max(delay, self.http_floor)
        elif kind is Failure.REJECTED:
            self.rejections += 1
            # One rejection may be a blip; two in a row means the relay wants us gone for a while.
            if self.rejections >= 2:
                delay = max(delay, self.rejection_floor)
        return min(max(delay, 0.0), max(self.cap, self.http_floor, self.rejection_floor))

    def succeeded(self) -> None:
        self.attempts = 0
        self.rejections = 0

    def peek_ceiling(self) -> float:
        """The upper bound of the next delay (for display)."""
        return min(self.cap, self.base * 2.0 ** min(self.attempts, 60))
