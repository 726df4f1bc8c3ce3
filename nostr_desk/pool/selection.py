"""Health-aware choice of relays to read from: skip open breakers and relays that asked us to back
off, prefer high success and low latency. Pure: it reads health snapshots, it does not measure.
"""

from __future__ import annotations

from collections.abc import Iterable

from .health import HealthSnapshot

UNKNOWN_SUCCESS = 0.75      # a relay we have not measured yet gets a fair, not a perfect, chance
UNKNOWN_LATENCY_MS = 400.0


def usable(s: HealthSnapshot) -> bool:
    return s.breaker != "open" and s.paused_for <= 0 and s.status not in ("breaker-open", "closed")


def score(s: HealthSnapshot) -> float:
    """Higher is better: success rate, discounted by latency (EOSE time, else connect time)."""
    success = UNKNOWN_SUCCESS if s.success_rate is None else s.success_rate
    latency = s.latest.get("eose_ms") or s.latest.get("connect_ms") or UNKNOWN_LATENCY_MS
    return success / (1.0 + latency / 1000.0)


def choose(snapshots: Iterable[HealthSnapshot], n: int) -> list[str]:
    """Up to `n` usable relays, best first (ties by URL so the choice is stable)."""
    ranked = sorted((s for s in snapshots if usable(s)), key=lambda s: (-score(s), s.url))
    return [s.url for s in ranked[:n]]
