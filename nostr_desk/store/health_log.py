"""Relay health samples as a time series (schema version 2, table `health_samples`), so the charts'
history survives a restart. Owned by engineer "pool": the pool batches samples and writes them
through the store's writer thread; the UI reads ranges back.
"""

from __future__ import annotations

import sqlite3

V2_HEALTH = """
CREATE TABLE health_samples (
    relay   TEXT NOT NULL,
    ts      REAL NOT NULL,      -- wall-clock seconds
    metric  TEXT NOT NULL,      -- connect_ms, ping_ms, first_event_ms, eose_ms, ok_ms, rate_limited, ...
    value   REAL NOT NULL
);
CREATE INDEX health_samples_series ON health_samples (relay, metric, ts);
CREATE INDEX health_samples_ts ON health_samples (ts);
"""


def append(conn: sqlite3.Connection, rows: list[tuple[str, float, str, float]]) -> None:
    """Insert (relay, ts, metric, value) rows in one transaction."""
    if not rows:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany("INSERT INTO health_samples (relay, ts, metric, value) VALUES (?, ?, ?, ?)", rows)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def series(conn: sqlite3.Connection, relay: str, metric: str, since: float = 0.0,
           limit: int = 10_000) -> list[tuple[float, float]]:
    """(ts, value) of one relay's metric from `since` on, oldest first (the last `limit` of them)."""
    rows = conn.execute("SELECT ts, value FROM health_samples WHERE relay = ? AND metric = ? AND ts >= ? "
                        "ORDER BY ts DESC LIMIT ?", (relay, metric, since, limit)).fetchall()
    rows.reverse()
    return rows


def relays(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT DISTINCT relay FROM health_samples ORDER BY relay")]


def prune(conn: sqlite3.Connection, before: float) -> int:
    """Drop samples older than `before` (retention); returns how many went."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        cur = conn.execute("DELETE FROM health_samples WHERE ts < ?", (before,))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return cur.rowcount
