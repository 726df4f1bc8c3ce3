"""Forgetting projections whose events the store no longer holds (retention evicted them, or NIP-40
expiry swept them), so the cache tables shrink with the store and match what a rebuild would give.

The cache tables live in the store's SQLite file (DESIGN.md, "One event store"), so "still stored" is
one indexed lookup into the store's `events` table by its 32-byte id. The dead ids are found with a
read, then deleted a few hundred per short transaction, so the store's writer is never held up long.
Deletion requests (`cache_deletions`) are kept on purpose: they keep a target hidden if it comes back.
"""

from __future__ import annotations

import sqlite3

from .schema import transaction

CHUNK = 500

# Rows owned by one event: (table, the column holding that event's id).
_BY_EVENT = (("cache_notes", "id"), ("cache_reactions", "id"), ("cache_reposts", "id"),
             ("cache_mentions", "event_id"))
# Replaceable slots: (slot table, its key column, the table of rows the slot owns or None).
_SLOTS = (("cache_profiles", "pubkey", None), ("cache_contact_lists", "owner", "cache_contacts"),
          ("cache_relay_lists", "pubkey", "cache_relays"))


def forget_missing(conn: sqlite3.Connection) -> int:
    """Delete every projection row whose event is gone from the store; return how many rows went."""
    removed = 0
    for table, column in _BY_EVENT:
        gone = _missing(conn, table, column)
        for start in range(0, len(gone), CHUNK):
            chunk = gone[start : start + CHUNK]
            with transaction(conn):
                removed += conn.execute(
                    f"DELETE FROM {table} WHERE {column} IN ({','.join('?' * len(chunk))})", chunk  # noqa: S608
                ).rowcount
    for slots, key, rows in _SLOTS:
        # An evicted or expired list has no older version in the store (replacing removed it), so
        # the slot empties, as in a rebuild.
        gone = (f"SELECT {key} FROM {slots} s"  # noqa: S608 - names from the constants above
                " WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = s.event_id)")
        owners = [k for (k,) in conn.execute(gone)]
        for start in range(0, len(owners), CHUNK):
            chunk = owners[start : start + CHUNK]
            marks = ",".join("?" * len(chunk))
            with transaction(conn):
                removed += conn.execute(f"DELETE FROM {slots} WHERE {key} IN ({marks})", chunk).rowcount  # noqa: S608
                if rows is not None:
                    cur = conn.execute(f"DELETE FROM {rows} WHERE {key} IN ({marks})", chunk)  # noqa: S608
                    removed += cur.rowcount
    return removed


def _missing(conn: sqlite3.Connection, table: str, column: str) -> list[bytes]:
    sql = (f"SELECT DISTINCT {column} FROM {table} t"  # noqa: S608 - names from the constants above
           f" WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = t.{column})")
    return [eid for (eid,) in conn.execute(sql)]
