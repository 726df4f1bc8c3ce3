"""The cache's own tables, kept in the event store's SQLite file and versioned in `cache_meta`.

The store owns `PRAGMA user_version` (its migrations, plus the pool's); the cache must not touch it,
so it records its own schema version as a row of `cache_meta`. Every table here is a projection that
can be rebuilt from the events (`reset` drops the rows and the resume point, never the events).

Tables hold only what an event itself says (plus replacement and deletion rules that give the same
result in any arrival order), so projecting the same events in any order yields identical rows.
"""

from __future__ import annotations

import sqlite3

# (version, sql). Append only; never edit a released step.
MIGRATIONS: list[tuple[int, str]] = [
    (
        2,
        # Ids and pubkeys as 32-byte BLOBs (as the store keeps them): half the size of every key in
        # five note B-trees, which made projecting 10k events ~35 % cheaper. Version 1 (TEXT keys)
        # existed only on development machines and is gone; the DROPs clear such a file's tables,
        # which are derived, and the projection starts again from seq 0.
        """
        DROP TABLE IF EXISTS cache_profiles;
        DROP TABLE IF EXISTS cache_contact_lists;
        DROP TABLE IF EXISTS cache_contacts;
        DROP TABLE IF EXISTS cache_relay_lists;
        DROP TABLE IF EXISTS cache_relays;
        DROP TABLE IF EXISTS cache_deletions;
        DROP TABLE IF EXISTS cache_notes;
        DROP TABLE IF EXISTS cache_reactions;
        DROP TABLE IF EXISTS cache_reposts;
        DROP TABLE IF EXISTS cache_mentions;
        CREATE TABLE cache_profiles (
            pubkey BLOB PRIMARY KEY,
            event_id BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            name TEXT, display_name TEXT, picture TEXT, about TEXT, nip05 TEXT, lud16 TEXT,
            content TEXT NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE cache_contact_lists (
            owner BLOB PRIMARY KEY,
            event_id BLOB NOT NULL,
            created_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE cache_contacts (
            owner BLOB NOT NULL,
            followed BLOB NOT NULL,
            relay TEXT NOT NULL DEFAULT '',
            petname TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (owner, followed)
        ) WITHOUT ROWID;
        CREATE INDEX cache_contacts_followed ON cache_contacts (followed);

        CREATE TABLE cache_relay_lists (
            pubkey BLOB PRIMARY KEY,
            event_id BLOB NOT NULL,
            created_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE cache_relays (
            pubkey BLOB NOT NULL,
            url TEXT NOT NULL,
            read INTEGER NOT NULL,
            write INTEGER NOT NULL,
            PRIMARY KEY (pubkey, url)
        ) WITHOUT ROWID;

        -- Every deletion request seen, kept so that a target arriving later stays hidden (NIP-09:
        -- only the author may delete, so the deleter's pubkey is part of the key).
        CREATE TABLE cache_deletions (
            target_id BLOB NOT NULL,
            pubkey BLOB NOT NULL,
            deletion_id BLOB NOT NULL,
            PRIMARY KEY (target_id, pubkey, deletion_id)
        ) WITHOUT ROWID;

        -- Kind 1 notes. parent_id is the direct parent (NIP-10 reply, else root); root_id the thread.
        CREATE TABLE cache_notes (
            id BLOB PRIMARY KEY,
            pubkey BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            root_id BLOB,
            parent_id BLOB
        ) WITHOUT ROWID;
        -- NIP-01 order is newest first, then lowest id: a DESC/ASC index walks it without sorting.
        CREATE INDEX cache_notes_time ON cache_notes (created_at DESC, id ASC, pubkey);
        CREATE INDEX cache_notes_author ON cache_notes (pubkey, created_at DESC, id ASC);
        CREATE INDEX cache_notes_root ON cache_notes (root_id) WHERE root_id IS NOT NULL;
        CREATE INDEX cache_notes_parent ON cache_notes (parent_id) WHERE parent_id IS NOT NULL;

        CREATE TABLE cache_reactions (
            id BLOB PRIMARY KEY,
            target_id BLOB NOT NULL,
            pubkey BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            content TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX cache_reactions_target ON cache_reactions (target_id);

        CREATE TABLE cache_reposts (
            id BLOB PRIMARY KEY,
            target_id BLOB NOT NULL,
            pubkey BLOB NOT NULL,
            created_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX cache_reposts_target ON cache_reposts (target_id);

        -- Who each note, reaction and repost names in a `p` tag: the notifications' source.
        CREATE TABLE cache_mentions (
            pubkey BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            event_id BLOB NOT NULL,
            kind INTEGER NOT NULL,
            author BLOB NOT NULL,
            PRIMARY KEY (pubkey, created_at DESC, event_id)
        ) WITHOUT ROWID;
        CREATE INDEX cache_mentions_event ON cache_mentions (event_id);
        INSERT INTO cache_meta (key, value) VALUES ('last_seq', 0)
            ON CONFLICT(key) DO UPDATE SET value = excluded.value;
        """,
    ),
]

# The projection tables, in a fixed order (tests dump them; `reset` empties them).
TABLES = (
    "cache_profiles",
    "cache_contact_lists",
    "cache_contacts",
    "cache_relay_lists",
    "cache_relays",
    "cache_deletions",
    "cache_notes",
    "cache_reactions",
    "cache_reposts",
    "cache_mentions",
)

SCHEMA_VERSION = MIGRATIONS[-1][0]


def migrate(conn: sqlite3.Connection) -> int:
    """Create or upgrade the cache tables; returns the version now in place."""
    conn.execute("CREATE TABLE IF NOT EXISTS cache_meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID")
    current = schema_version(conn)
    if current > SCHEMA_VERSION:
        raise RuntimeError(
            f"the cache tables are version {current}, newer than this nostr-desk ({SCHEMA_VERSION}); "
            "upgrade nostr-desk"
        )
    for version, sql in MIGRATIONS:
        if version <= current:
            continue
        with _transaction(conn):
            for statement in _statements(sql):
                conn.execute(statement)
            set_meta(conn, "schema_version", version)
    return SCHEMA_VERSION


def schema_version(conn: sqlite3.Connection) -> int:
    value = get_meta(conn, "schema_version")
    return int(value) if value is not None else 0


def get_meta(conn: sqlite3.Connection, key: str) -> object | None:
    row = conn.execute("SELECT value FROM cache_meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def set_meta(conn: sqlite3.Connection, key: str, value: object) -> None:
    conn.execute(
        "INSERT INTO cache_meta (key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def reset(conn: sqlite3.Connection) -> None:
    """Empty every projection and the resume point, so the next run re-projects from the start."""
    with _transaction(conn):
        for table in TABLES:
            conn.execute(f"DELETE FROM {table}")  # noqa: S608 - names from the constant above
        set_meta(conn, "last_seq", 0)


def dump(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    """Every projection row (ids as hex), sorted: what tests compare to prove runs and orders agree."""
    return {t: sorted(tuple(_hex(v) for v in row) for row in conn.execute(f"SELECT * FROM {t}"))  # noqa: S608
            for t in TABLES}


def _hex(value: object) -> object:
    return value.hex() if isinstance(value, bytes) else value


def _statements(sql: str) -> list[str]:
    # sqlite3's executescript would COMMIT behind our back; split instead (no ';' inside statements).
    lines = [ln for ln in sql.splitlines() if not ln.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


class _transaction:
    """BEGIN IMMEDIATE … COMMIT (ROLLBACK on error) on an autocommit-mode connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")


transaction = _transaction
