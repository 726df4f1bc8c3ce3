"""Test helpers: run a coroutine with a hard timeout, a fast PoolConfig, polling without sleeps-as-asserts,
a recording SubState, a test NIP-42 signer."""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable, TypeVar

from nostr_desk.pool.config import PoolConfig

T = TypeVar("T")


def arun(coro: Awaitable[T], timeout: float = 30.0) -> T:
    async def guarded():
        return await asyncio.wait_for(coro, timeout)
    return asyncio.run(guarded())


def fast_config(**overrides) -> PoolConfig:
    base = dict(connect_timeout=2.0, eose_timeout=2.0, ok_timeout=2.0, nip11_timeout=2.0, auth_timeout=2.0,
                backoff_base=0.05, backoff_cap=0.3, backoff_http_floor=0.5, backoff_rejection_floor=0.4,
                rate_limit_pause=0.3, breaker_failure_threshold=50, breaker_open_seconds=1.0,
                ping_interval=0, outbox_retry_interval=0.1, auth_default="always")
    base.update(overrides)
    return PoolConfig(**base)


async def until(predicate: Callable[[], bool], timeout: float = 10.0, step: float = 0.02) -> None:
    """Wait until `predicate()` holds (bounded); fail the test with a clear message otherwise."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(step)


def collector():
    """A SubState for kind 1 that records events, EOSEs and CLOSED messages: (sub, got, eoses, closed)."""
    from nostr_desk.pool.connection import SubState
    from nostr_desk.protocol.filters import Filter

    got, eoses, closed = [], [], []
    sub = SubState("s1", (Filter.from_obj({"kinds": [1]}),),
                   on_event=lambda u, s, raw: got.append(raw),
                   on_eose=lambda u, s, m: eoses.append(u),
                   on_closed=lambda u, s, m: closed.append(m))
    return sub, got, eoses, closed


async def signer(template):
    """The NIP-42 signer tests hand the pool (a fixed test key)."""
    from nostr_desk.protocol.event import sign

    from .events import secret
    return sign(template, secret(9), aux_rand=bytes(32))


async def _yes(*_: object) -> bool:
    return True
