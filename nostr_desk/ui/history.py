"""Stored health history for the Monitor's 5 min / 1 h / 24 h windows (so charts survive a restart).

The pool writes its samples to the store's `health_samples` table (store/health_log.py); this reads
them back on a reader connection of its own, as (url, metric, at, value) tuples.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any, Iterator

from nostr_desk.store import health_log

log = logging.getLogger(__name__)

METRICS = ("connect_ms", "ping_ms", "first_event_ms", "eose_ms", "ok_ms", "status")  # status: app/status_log
# Running totals the pool also samples; the charts want their increases, so they come back as diffs.
COUNTERS = {"rate_limited": "rate_limited/tick", "verify_failures": "verify_failures/tick"}


def load_history(services: Any, since: float, per_series: int = 5000) -> Iterator[tuple[str, str, float, float]]:
    store = getattr(services, "store", None)
    if store is None:
        return
    try:
        conn = store.connect()
    except Exception:
        log.exception("could not open the store for the health history")
        return
    try:
        for url in health_log.relays(conn):
            for metric in METRICS:
                for at, value in health_log.series(conn, url, metric, since, per_series):
                    yield url, metric, at, value
            for metric, series in COUNTERS.items():
                previous = 0.0  # totals restart at 0 with each run of the pool
                for at, value in health_log.series(conn, url, metric, since, per_series):
                    yield url, series, at, value - previous if value >= previous else value
                    previous = value
    except sqlite3.Error:
        log.exception("could not read the stored health history")
    finally:
        conn.close()
