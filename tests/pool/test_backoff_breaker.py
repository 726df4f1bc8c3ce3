"""Backoff delays and the circuit breaker, driven by an injected rng and clock (no sleeping)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings, strategies as st

from nostr_desk.pool.backoff import Backoff, Failure
from nostr_desk.pool.breaker import BreakerState, CircuitBreaker


class FixedRng:
    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_backoff_grows_exponentially_to_the_cap_with_top_jitter():
    b = Backoff(0.5, 8.0, rng=FixedRng(0.999999))
    delays = [round(b.failed(), 3) for _ in range(7)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_full_jitter_can_be_zero_and_success_resets():
    b = Backoff(1.0, 60.0, rng=FixedRng(0.0))
    assert b.failed() == 0.0
    b2 = Backoff(1.0, 60.0, rng=FixedRng(0.5))
    for _ in range(5):
        b2.failed()
    assert b2.peek_ceiling() == 32.0
    b2.succeeded()
    assert b2.failed() == 0.5


def test_http_failure_has_a_floor():
    b = Backoff(0.5, 120.0, http_floor=30.0, rng=FixedRng(0.1))
    assert b.failed(Failure.HTTP) == 30.0
    assert b.failed(Failure.NETWORK) < 1.0


def test_repeated_rejections_get_the_rejection_floor():
    b = Backoff(0.5, 120.0, rejection_floor=15.0, rng=FixedRng(0.1))
    first = b.failed(Failure.REJECTED)
    second = b.failed(Failure.REJECTED)
    assert first < 1.0 and second == 15.0


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32), st.floats(0.01, 5), st.floats(5, 300), st.integers(1, 80))
def test_delays_always_within_zero_and_cap(seed, base, cap, n):
    b = Backoff(base, cap, rng=random.Random(seed))
    for _ in range(n):
        assert 0.0 <= b.failed() <= cap


def test_breaker_opens_after_threshold_then_half_opens_after_cooldown():
    clock = Clock()
    br = CircuitBreaker(3, 60.0, clock=clock)
    for _ in range(2):
        br.record_failure()
    assert br.state is BreakerState.CLOSED and br.allow()
    br.record_failure()
    assert br.state is BreakerState.OPEN and not br.allow()
    clock.now += 59.0
    assert not br.allow() and br.retry_in() == pytest.approx(1.0)
    clock.now += 1.0
    assert br.state is BreakerState.HALF_OPEN and br.allow()
    br.record_success()
    assert br.state is BreakerState.CLOSED and br.failures == 0


def test_half_open_failure_reopens_immediately():
    clock = Clock()
    br = CircuitBreaker(2, 10.0, clock=clock)
    br.record_failure(); br.record_failure()
    clock.now += 10.0
    assert br.state is BreakerState.HALF_OPEN
    br.record_failure()
    assert br.state is BreakerState.OPEN and br.times_opened == 2


def test_success_resets_the_consecutive_count():
    br = CircuitBreaker(3, 10.0, clock=Clock())
    br.record_failure(); br.record_failure(); br.record_success(); br.record_failure(); br.record_failure()
    assert br.state is BreakerState.CLOSED


def test_half_open_needs_configured_successes():
    clock = Clock()
    br = CircuitBreaker(1, 5.0, half_open_successes=2, clock=clock)
    br.record_failure()
    clock.now += 5
    br.record_success()
    assert br.state is BreakerState.HALF_OPEN
    br.record_success()
    assert br.state is BreakerState.CLOSED
