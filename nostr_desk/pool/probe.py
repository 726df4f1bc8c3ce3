"""Active measuring for the headless monitor: each round pings every relay and sends a tiny REQ
(`limit: 1`) so connect time, ping RTT, REQ->first event and REQ->EOSE keep being sampled even when
nothing else is going on. Results are health snapshots flattened into JSON-ready rows.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from nostr_desk.protocol.filters import Filter

from .health import HealthSnapshot
from .pool import RelayPool

PROBE = (Filter.from_obj({"limit": 1}),)


async def probe_round(pool: RelayPool, urls: list[str], timeout: float) -> None:
    """Ping and REQ every relay once, concurrently, the whole round bounded by `timeout` (a relay
    that has not answered by then is measured as such: its figures simply do not move)."""
    await asyncio.gather(*(_bounded(_probe(pool, url, timeout), timeout) for url in urls), return_exceptions=True)


async def _bounded(probe, timeout: float) -> None:
    try:
        await asyncio.wait_for(probe, timeout)
    except asyncio.TimeoutError:
        pass


async def _probe(pool: RelayPool, url: str, timeout: float) -> None:
    conn = pool.relay(url)
    if not await conn.wait_connected(timeout / 2):
        return
    # Ping and REQ side by side: sequential, a slow pong would eat the REQ's share of the round.
    await asyncio.gather(conn.ping(), pool.fetch(PROBE, timeout=timeout, relays=[url], background=True))


def row(snap: HealthSnapshot, at: float | None = None) -> dict[str, Any]:
    """One monitor sample: url, status, latencies, rate-limit and verification-failure counts."""
    latest = snap.latest
    return {
        "t": round(time.time() if at is None else at, 3),
        "url": snap.url,
        "status": snap.status,
        "breaker": snap.breaker,
        "connect_ms": _ms(latest.get("connect_ms")),
        "ping_ms": _ms(latest.get("ping_ms")),
        "first_event_ms": _ms(latest.get("first_event_ms")),
        "eose_ms": _ms(latest.get("eose_ms")),
        "ok_ms": _ms(latest.get("ok_ms")),
        "success_rate": None if snap.success_rate is None else round(snap.success_rate, 3),
        "rate_limited": snap.rate_limited,
        "verify_failures": snap.verify_failures,
        "events_received": snap.events_received,
        "bytes_in": snap.bytes_in,
        "bytes_out": snap.bytes_out,
        "duplicates": snap.duplicates,
        "unrequested": snap.unrequested,
        "stalls": snap.stalls,
        "connects": snap.connects,
        "disconnects": snap.disconnects,
        "paused_for": round(snap.paused_for, 1),
        "auth": snap.auth,
        "last_error": snap.last_error,
        "last_notice": snap.last_notice,
        "last_closed": snap.last_closed,
        "last_ok_false": snap.last_ok_false,
    }


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
