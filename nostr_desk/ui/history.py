"""Stored health history for the Monitor's 5 min / 1 h / 24 h windows (so charts survive a restart).

The pool keeps its samples in the event store; this asks the pool for them when it offers a history
call, and yields (url, metric, at, value) tuples. Without one, the charts start empty.
"""

from __future__ import annotations

import logging
from typing import Any, Iterator

log = logging.getLogger(__name__)


def load_history(services: Any, since: float) -> Iterator[tuple[str, str, float, float]]:
    pool = getattr(services, "pool", None)
    for name in ("health_history", "history"):
        method = getattr(pool, name, None)
        if callable(method):
            try:
                rows = method(since=since)
            except Exception:
                log.exception("could not load the stored health history")
                return
            for row in rows:
                if isinstance(row, tuple):
                    yield row
                else:
                    yield row.url, row.metric, row.at, row.value
            return
