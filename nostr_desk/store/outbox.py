"""The pool's durable outbox (schema version 2): signed events waiting to be delivered, their
per-relay state, every attempt, and the last message each relay gave. Owned by engineer "pool".

An outbox row stays `pending` until at least one relay accepted the event (`OK true`, or a
`duplicate:` answer); then it is `delivered`. A relay answering `invalid:`/`blocked:` is final for
that relay (`rejected`); when no relay is left to try, the row is `failed`. Writes go through the
store's single writer thread (`EventStore.run_in_writer`); reads use a caller-owned connection.

Also here: provenance of copies the pool de-duplicated without parsing (`add_sources`), so the store
knows every relay that had an event, not only the first.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

V2_OUTBOX = """
CREATE TABLE outbox (
    event_id     TEXT    PRIMARY KEY,
    raw          BLOB    NOT NULL,     -- the signed event, canonical JSON (the pool never sees a key)
    queued_at    INTEGER NOT NULL,
    state        TEXT    NOT NULL,     -- pending | delivered | failed
    finished_at  INTEGER
);
CREATE INDEX outbox_pending ON outbox (state) WHERE state = 'pending';

CREATE TABLE outbox_relays (
    event_id     TEXT    NOT NULL,
    relay        TEXT    NOT NULL,
    role         TEXT    NOT NULL,     -- primary | fallback
    state        TEXT    NOT NULL,     -- pending | accepted | rejected | gave_up
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_attempt INTEGER,
    last_message TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (event_id, relay)
) WITHOUT ROWID;

CREATE TABLE outbox_attempts (
    event_id     TEXT    NOT NULL,
    relay        TEXT    NOT NULL,
    at           REAL    NOT NULL,
    outcome      TEXT    NOT NULL,     -- accepted | rejected | retry | timeout | disconnected
    message      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX outbox_attempts_event ON outbox_attempts (event_id, at);
"""

# Version 5: each pending (event, relay) has its own retry schedule, kept across restarts: when it is
# next due (wall time), how many rounds in a row it has failed (the backoff's exponent), and whether
# the last failure never reached the relay (then it is due as soon as the relay is connected).
V5_OUTBOX_SCHEDULE = """
ALTER TABLE outbox_relays ADD COLUMN next_attempt REAL NOT NULL DEFAULT 0;
ALTER TABLE outbox_relays ADD COLUMN misses INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox_relays ADD COLUMN unsent INTEGER NOT NULL DEFAULT 0;
"""

RELAY_PENDING, RELAY_ACCEPTED, RELAY_REJECTED, RELAY_GAVE_UP = "pending", "accepted", "rejected", "gave_up"


@dataclass(frozen=True)
class OutboxRelay:
    relay: str
    role: str
    state: str
    attempts: int
    last_message: str
    next_attempt: float = 0.0
    misses: int = 0
    unsent: bool = False


@dataclass(frozen=True)
class OutboxEntry:
    event_id: str
    raw: bytes
    state: str
    relays: tuple[OutboxRelay, ...]


# --- writes (run on the writer thread: fn(conn)) ------------------------------------------------------
def enqueue(conn: sqlite3.Connection, event_id: str, raw: bytes, relays: list[tuple[str, str]], now: int) -> None:
    """Add a publish with its (relay, role) targets; re-enqueueing an id only adds new relays (and
    reopens a settled row when one is added)."""
    with _txn(conn):
        conn.execute("INSERT OR IGNORE INTO outbox (event_id, raw, queued_at, state) VALUES (?, ?, ?, 'pending')",
                     (event_id, raw, now))
        added = conn.executemany("INSERT OR IGNORE INTO outbox_relays (event_id, relay, role, state) "
                                 "VALUES (?, ?, ?, 'pending')", [(event_id, url, role) for url, role in relays])
        if added.rowcount > 0:
            # Published again to a new relay after it settled: pending again, so a restart resumes it.
            conn.execute("UPDATE outbox SET state = 'pending', finished_at = NULL WHERE event_id = ?", (event_id,))


def record_attempt(conn: sqlite3.Connection, event_id: str, relay: str, at: float, outcome: str,
                   message: str, relay_state: str, next_attempt: float = 0.0, misses: int = 0,
                   unsent: bool = False) -> None:
    with _txn(conn):
        conn.execute("INSERT INTO outbox_attempts (event_id, relay, at, outcome, message) VALUES (?, ?, ?, ?, ?)",
                     (event_id, relay, at, outcome, message[:500]))
        conn.execute("UPDATE outbox_relays SET attempts = attempts + 1, last_attempt = ?, last_message = ?, state = ?, "
                     "next_attempt = ?, misses = ?, unsent = ? WHERE event_id = ? AND relay = ?",
                     (int(at), message[:500], relay_state, next_attempt, misses, unsent, event_id, relay))


def schedule(conn: sqlite3.Connection, event_id: str, relay: str, next_attempt: float, misses: int) -> None:
    """A round that could not reach the relay (not connected in time): only the schedule changes."""
    with _txn(conn):
        conn.execute("UPDATE outbox_relays SET next_attempt = ?, misses = ?, unsent = 1 "
                     "WHERE event_id = ? AND relay = ?",
                     (next_attempt, misses, event_id, relay))


def finish(conn: sqlite3.Connection, event_id: str, state: str, now: int) -> None:
    with _txn(conn):
        conn.execute("UPDATE outbox SET state = ?, finished_at = ? WHERE event_id = ?", (state, now, event_id))


def add_sources(conn: sqlite3.Connection, rows: list[tuple[str, str, int]]) -> None:
    """Provenance (event_id, relay, first_seen) for copies recognised as duplicates before parsing.

    Only for events the store holds: an id the pool saw but the store declined (ephemeral, expired,
    deleted, stale) or never got (every copy failed verification) must not gain rows pointing at
    nothing. The writer thread runs jobs in order, so the event's own save, submitted earlier, is
    already committed when this runs."""
    params = [(eid, relay, first_seen, bytes.fromhex(eid)) for eid, relay, first_seen in rows if _is_id(eid)]
    with _txn(conn):
        conn.executemany("INSERT OR IGNORE INTO event_relays (event_id, relay, first_seen) "
                         "SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM events WHERE id = ?)", params)


def _is_id(event_id: str) -> bool:
    return len(event_id) == 64 and all(c in "0123456789abcdef" for c in event_id)


# --- reads ---------------------------------------------------------------------------------------------
def pending(conn: sqlite3.Connection) -> list[OutboxEntry]:
    ids = [r[0] for r in conn.execute("SELECT event_id FROM outbox WHERE state = 'pending' ORDER BY queued_at")]
    return [e for e in (entry(conn, i) for i in ids) if e is not None]


def entry(conn: sqlite3.Connection, event_id: str) -> OutboxEntry | None:
    row = conn.execute("SELECT raw, state FROM outbox WHERE event_id = ?", (event_id,)).fetchone()
    if row is None:
        return None
    # 'primary' sorts after 'fallback': DESC puts it first
    relays = tuple(OutboxRelay(*r[:7], bool(r[7])) for r in conn.execute(
        "SELECT relay, role, state, attempts, last_message, next_attempt, misses, unsent "
        "FROM outbox_relays WHERE event_id = ? ORDER BY role DESC, relay", (event_id,)))
    return OutboxEntry(event_id, bytes(row[0]), row[1], relays)


def attempts(conn: sqlite3.Connection, event_id: str) -> list[tuple[str, str, str]]:
    return conn.execute("SELECT relay, outcome, message FROM outbox_attempts WHERE event_id = ? ORDER BY at",
                        (event_id,)).fetchall()


class _txn:
    """BEGIN IMMEDIATE ... COMMIT on an autocommit connection (the store's connections are)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, *_: object) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")
