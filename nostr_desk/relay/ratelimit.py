"""Token buckets for rate limiting, per connection and per author, with an injected clock.

A bucket that is empty answers False (the caller replies `rate-limited:`); nothing here sleeps or
stalls a client. The per-key table is bounded: the least recently used buckets are forgotten, which
only ever makes the limiter more lenient, never unbounded in memory.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from .config import RateLimit

Clock = Callable[[], float]


class TokenBucket:
    """`rate` tokens per second up to `burst`; starts full."""

    __slots__ = ("rate", "burst", "_tokens", "_stamp", "_clock")

    def __init__(self, limit: RateLimit, clock: Clock) -> None:
        self.rate = float(limit.rate)
        self.burst = float(limit.burst)
        self._clock = clock
        self._tokens = self.burst
        self._stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        elapsed = now - self._stamp
        if elapsed > 0:
            self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
        self._stamp = now

    def take(self, n: float = 1.0) -> bool:
        """Spend `n` tokens if there are that many; False (and nothing spent) otherwise."""
        self._refill()
        if self._tokens >= n:
            self._tokens -= n
            return True
        return False

    @property
    def tokens(self) -> float:
        self._refill()
        return self._tokens

    def retry_after(self, n: float = 1.0) -> float:
        """Seconds until `n` tokens will be available."""
        missing = n - self.tokens
        return 0.0 if missing <= 0 else missing / self.rate if self.rate > 0 else float("inf")


class KeyedBuckets:
    """One bucket per key (e.g. per pubkey), at most `max_keys` remembered (LRU)."""

    def __init__(self, limit: RateLimit, clock: Clock, max_keys: int = 50_000) -> None:
        self._limit = limit
        self._clock = clock
        self._max = max_keys
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def take(self, key: str, n: float = 1.0) -> bool:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self._limit, self._clock)
            if len(self._buckets) > self._max:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        return bucket.take(n)

    def __len__(self) -> int:
        return len(self._buckets)
