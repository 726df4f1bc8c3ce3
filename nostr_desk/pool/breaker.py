"""A circuit breaker per relay: closed (normal) -> open (short-circuit) -> half-open (one trial).

After `threshold` consecutive failures the breaker opens and `allow()` says no until `open_seconds`
have passed; then it lets trials through (half-open). A trial success closes it; a failure re-opens
it. The clock is injected so the state machine is tested without sleeping.
"""

from __future__ import annotations

import enum
import time
from typing import Callable


class BreakerState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class CircuitBreaker:
    def __init__(self, threshold: int, open_seconds: float, *, half_open_successes: int = 1,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if threshold < 1 or half_open_successes < 1:
            raise ValueError("breaker thresholds must be >= 1")
        self.threshold = threshold
        self.open_seconds = open_seconds
        self.half_open_successes = half_open_successes
        self._clock = clock
        self._state = BreakerState.CLOSED
        self.failures = 0              # consecutive
        self._trial_successes = 0
        self.opened_at: float | None = None
        self.times_opened = 0

    @property
    def state(self) -> BreakerState:
        # Open turns half-open by itself once the cool-down has passed.
        if self._state is BreakerState.OPEN and self._clock() - (self.opened_at or 0.0) >= self.open_seconds:
            self._state = BreakerState.HALF_OPEN
            self._trial_successes = 0
        return self._state

    def allow(self) -> bool:
        return self.state is not BreakerState.OPEN

    def retry_in(self) -> float:
        """Seconds until an open breaker lets a trial through (0 when it already does)."""
        if self.state is not BreakerState.OPEN:
            return 0.0
        return max(0.0, self.open_seconds - (self._clock() - (self.opened_at or 0.0)))

    def record_success(self) -> None:
        state = self.state
        self.failures = 0
        if state is BreakerState.HALF_OPEN:
            self._trial_successes += 1
            if self._trial_successes >= self.half_open_successes:
                self._state = BreakerState.CLOSED
        elif state is BreakerState.OPEN:
            # A success reported while open (a late answer) does not bypass the cool-down.
            return

    def record_failure(self) -> None:
        state = self.state
        self.failures += 1
        if state is BreakerState.HALF_OPEN or (state is BreakerState.CLOSED and self.failures >= self.threshold):
            self._trip()

    def _trip(self) -> None:
        self._state = BreakerState.OPEN
        self.opened_at = self._clock()
        self.times_opened += 1
        self._trial_successes = 0
