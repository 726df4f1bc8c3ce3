"""Retention: sweep expired events (NIP-40), prune to a size or count quota, compact the file.

These run on the writer thread (`EventStore.run_in_writer`) so the store keeps a single writer.
Pruning evicts oldest first, in small transactions so ingest keeps flowing, and never evicts what
the user cannot get back easily: the owners' own events, kinds 0, 3 and 10002 (profiles, contacts,
relay lists), and events that p-tag an owner (replies, mentions, DMs to the user).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from .events import remove_events
from .query import _in, as_blobs, has_tag

PROTECTED_KINDS = (0, 3, 10002)
CHUNK = 1000


@dataclass(frozen=True)
class PruneResult:
    removed: int
    events: int  # left in the store
    used_bytes: int  # pages in use after pruning


def used_bytes(conn: sqlite3.Connection) -> int:
    """Bytes of database pages holding data (the file size minus its free pages)."""
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    return (pages - free) * size


def sweep_expired(conn: sqlite3.Connection, now: int) -> int:
    """Remove every event whose NIP-40 expiration has passed; return how many."""
    removed = 0
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            seqs = [r[0] for r in conn.execute(
                "SELECT seq FROM events INDEXED BY events_expiry WHERE expires_at <= ? LIMIT ?", (now, CHUNK))]
            remove_events(conn, seqs)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        removed += len(seqs)
        if len(seqs) < CHUNK:
            return removed


def _evictable_sql(owners: frozenset[str]) -> tuple[str, list]:
    kinds = ",".join(str(k) for k in PROTECTED_KINDS)
    sql = f"e.kind NOT IN ({kinds})"
    params: list = []
    if owners:
        who, vals = _in("e.pubkey", as_blobs(owners)) if as_blobs(owners) else ("0", [])
        tag, tvals = has_tag("'p'", owners)
        sql += f" AND NOT {who} AND NOT {tag}"
        params = vals + tvals
    return sql, params


def _evict_oldest(conn: sqlite3.Connection, owners: frozenset[str], count: int) -> int:
    cond, params = _evictable_sql(owners)
    conn.execute("BEGIN IMMEDIATE")
    try:
        seqs = [r[0] for r in conn.execute(
            f"SELECT e.seq FROM events e INDEXED BY events_time WHERE {cond} ORDER BY e.created_at, e.id DESC LIMIT ?",
            (*params, count))]
        remove_events(conn, seqs)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return len(seqs)


def prune(conn: sqlite3.Connection, owners: frozenset[str], *, quota_bytes: int | None = None,
          max_events: int | None = None) -> PruneResult:
    """Evict the oldest evictable events until under `max_events` and under `quota_bytes` in use."""
    removed = 0
    if max_events is not None:
        excess = conn.execute("SELECT count(*) FROM events").fetchone()[0] - max_events
        while excess > 0:
            n = _evict_oldest(conn, owners, min(CHUNK, excess))
            removed += n
            excess -= n
            if n == 0:
                break
    if quota_bytes is not None:
        while used_bytes(conn) > quota_bytes:
            # Free pages appear as rows go; evict in chunks sized to the overshoot.
            total = conn.execute("SELECT count(*) FROM events").fetchone()[0] or 1
            per_event = max(1, used_bytes(conn) // total)
            want = max(10, min(CHUNK, (used_bytes(conn) - quota_bytes) // per_event + 1))
            n = _evict_oldest(conn, owners, want)
            removed += n
            if n == 0:
                break
    left = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    return PruneResult(removed=removed, events=left, used_bytes=used_bytes(conn))


def compact(conn: sqlite3.Connection) -> int:
    """VACUUM (rebuild the file without free pages), checkpoint the log, refresh planner statistics.
    Returns the file's page bytes afterwards."""
    conn.execute("INSERT INTO events_fts (events_fts) VALUES ('optimize')")
    conn.execute("VACUUM")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA optimize")
    return used_bytes(conn)
