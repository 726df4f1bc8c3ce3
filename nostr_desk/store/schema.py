"""The store's schema and its migrations, applied in order and recorded in `PRAGMA user_version`.

Version 1 (store): events, their single-letter tags, NIP-09 deletions, the FTS5 search index and
provenance. Version 2 is the pool's (outbox and health_samples). Version 3 (store) cuts ingest cost:
the tag table becomes one B-tree keyed by (name, value, created_at DESC, eid) instead of a table by
seq plus an index, and the search index becomes contentless casefolded trigrams without positions,
for searchable kinds only (see search.py); `store_meta` records the fold's Unicode version.
Version 4 (store) merges the (author) and (author, kind) indexes into one that carries `kind` in its
entries; authors with replaceable kinds are answered through the address index.

Index design: NIP-01 returns newest first, ties by lowest id, so every index that serves a query ends
in `(created_at DESC, id)`. A query on one author / kind / tag value then reads an index range in
result order and stops at its limit, with no sort. Tags carry `created_at`, `eid` and `kind` copies so
a tag query is answered from the tag index alone before touching the event rows, and a tag condition
on another stream is one key lookup (name, value, the event's created_at and id).
"""

from __future__ import annotations

import sqlite3

from . import search
from .health_log import V2_HEALTH
from .outbox import V2_OUTBOX, V5_OUTBOX_SCHEDULE
from .sqlite import StoreError

V1 = """
CREATE TABLE events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,  -- insert order, never reused (projections follow it)
    id         BLOB    NOT NULL UNIQUE,  -- 32 bytes (half the index space of hex; same order)
    pubkey     BLOB    NOT NULL,         -- 32 bytes
    created_at INTEGER NOT NULL,
    kind       INTEGER NOT NULL,
    addr       TEXT,      -- kind:pubkey:d for replaceable and addressable events, else NULL
    expires_at INTEGER,   -- NIP-40
    raw        BLOB    NOT NULL  -- canonical JSON, served as is
);
CREATE INDEX events_time ON events (created_at DESC, id);
CREATE INDEX events_author ON events (pubkey, created_at DESC, id);
CREATE INDEX events_kind ON events (kind, created_at DESC, id);
CREATE INDEX events_author_kind ON events (pubkey, kind, created_at DESC, id);
CREATE UNIQUE INDEX events_addr ON events (addr) WHERE addr IS NOT NULL;
CREATE INDEX events_expiry ON events (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE tags (
    seq        INTEGER NOT NULL,  -- events.seq
    name       TEXT    NOT NULL,  -- one letter
    value      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    eid        BLOB    NOT NULL,  -- events.id
    kind       INTEGER NOT NULL,
    PRIMARY KEY (seq, name, value)
) WITHOUT ROWID;
CREATE INDEX tags_value ON tags (name, value, created_at DESC, eid, kind);

-- NIP-09: target is an event id (`e`) or an address kind:pubkey:d (`a`); pubkey is the deleter.
-- For addresses, created_at is the newest deletion's: versions up to it are blocked.
CREATE TABLE deletions (
    target     TEXT    NOT NULL,
    pubkey     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (target, pubkey)
) WITHOUT ROWID;

-- NIP-50: trigram tokens give substring matching; the rowid is events.seq.
CREATE VIRTUAL TABLE events_fts USING fts5 (content, tokenize = 'trigram');

CREATE TABLE event_relays (
    event_id   TEXT    NOT NULL,  -- hex, as everywhere outside the events and tags tables
    relay      TEXT    NOT NULL,
    first_seen INTEGER NOT NULL,
    PRIMARY KEY (event_id, relay)
) WITHOUT ROWID;
"""

# Existing rows are carried over; nd_search_text (registered by `migrate`) folds each event's content.
V3 = f"""
DROP TABLE events_fts;
{search.FTS_TABLE};
INSERT INTO events_fts (rowid, content)
    SELECT seq, t FROM (SELECT seq, nd_search_text(raw) AS t FROM events) WHERE t IS NOT NULL;

CREATE TABLE tags_v3 (
    name       TEXT    NOT NULL,  -- one letter
    value      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,  -- the event's
    eid        BLOB    NOT NULL,  -- events.id
    seq        INTEGER NOT NULL,  -- events.seq
    kind       INTEGER NOT NULL,
    PRIMARY KEY (name, value, created_at DESC, eid)
) WITHOUT ROWID;
INSERT OR IGNORE INTO tags_v3 (name, value, created_at, eid, seq, kind)
    SELECT name, value, created_at, eid, seq, kind FROM tags;
DROP TABLE tags;
ALTER TABLE tags_v3 RENAME TO tags;

CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
INSERT INTO store_meta (key, value) VALUES ('fts_fold', '{search.FOLD_VERSION}');
"""

V4 = """
DROP INDEX events_author_kind;
DROP INDEX events_author;
CREATE INDEX events_author ON events (pubkey, created_at DESC, id, kind);
"""

MIGRATIONS: list[tuple[int, str]] = [
    (1, V1),
    (2, V2_OUTBOX + V2_HEALTH),  # pool: durable outbox + relay health series (store/outbox.py, store/health_log.py)
    (3, V3),  # store: leaner tag and search indexes
    (4, V4),  # store: one author index instead of two
    (5, V5_OUTBOX_SCHEDULE),  # pool: per-relay retry schedule of pending publishes (store/outbox.py)
]


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the missing migrations, each in its own transaction; return the resulting version."""
    current = schema_version(conn)
    newest = max(v for v, _ in MIGRATIONS)
    if current > newest:
        raise StoreError(f"the event store has schema version {current}, newer than this program ({newest})")
    conn.create_function("nd_search_text", 1, search.raw_search_text, deterministic=True)
    for version, sql in sorted(MIGRATIONS):
        if version <= current:
            continue
        try:
            conn.executescript(f"BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise StoreError(f"migration to schema version {version} failed: {exc}") from exc
        current = version
    search.check_fold(conn)
    return current
