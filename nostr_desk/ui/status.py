"""The status bar's figures, computed from the services without Qt (so they are easy to test).

Relays connected n of m, the local relay's state and URL (or why it is not running), and the number
of publishes still waiting in the durable outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CONNECTED = {"connected", "open", "ready", "authenticated"}


@dataclass(frozen=True)
class StatusSummary:
    relays_text: str
    local_text: str
    local_problem: bool
    pending_text: str


def relay_states(pool: Any) -> dict[str, str]:
    """url -> status for every relay in the pool (empty without a pool)."""
    if pool is None:
        return {}
    snapshots = pool_snapshots(pool)
    return {s.url: str(s.status) for s in snapshots}


def pool_snapshots(pool: Any) -> list[Any]:
    return list(pool.health().values())


def pending_publishes(pool: Any) -> int | None:
    """Publishes in the durable outbox that no relay has accepted yet."""
    if pool is None:
        return None
    return len(pool.publisher.pending_ids())


def relay_running(relay: Any) -> bool:
    running = getattr(relay, "running", relay is not None)
    return bool(running() if callable(running) else running)


def summarize(services: Any) -> StatusSummary:
    states = relay_states(services.pool)
    connected = sum(1 for s in states.values() if s.lower() in CONNECTED)
    if services.pool is None:
        relays = "Relays: pool not running"
    elif not states:
        relays = "Relays: none added"
    else:
        relays = f"Relays: {connected} of {len(states)} connected"
    problem = services.problems.get("relay")
    if problem:
        local, bad = problem.split(". ")[0], True  # the first sentence; the page has the rest
    elif services.relay is None:
        local, bad = "Local relay: off", False
    elif relay_running(services.relay):
        local, bad = f"Local relay: running at {services.relay.url}", False
    else:
        local, bad = "Local relay: stopped", False
    pending = pending_publishes(services.pool)
    pending_text = "" if pending is None else ("No pending publishes" if pending == 0
                                               else f"{pending} publish{'es' if pending != 1 else ''} pending")
    return StatusSummary(relays, local, bad, pending_text)
