"""Insert semantics, run on the writer connection inside its transaction (NIP-01, NIP-09, NIP-40).

`Inserter.apply` decides one event's fate: ephemeral, expired, duplicate, deleted, stale, or stored
(replacing an older version). `prefetch` first answers "is it stored?" and "did its author delete
it?" for the whole batch in two statements, so a plain event costs no lookup of its own; event, tag,
search and provenance rows are then gathered and written with `executemany` (`flush`), with seqs
assigned here (AUTOINCREMENT's sqlite_sequence + 1, upward). Replaceable/addressable events and
deletions look at the table itself, so pending rows are flushed before them, and anything that
removes events flushes first so no row is left pointing at a removed event.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

import msgspec

from nostr_desk.protocol.errors import InvalidEvent
from nostr_desk.protocol.event import Event
from nostr_desk.protocol.keys import is_hex
from nostr_desk.protocol.kinds import DELETION, address, is_ephemeral, parse_address

from . import model, search
from .model import SaveResult

# Plain INSERT: duplicates were filtered out already; a constraint error fails the batch, which the
# writer then replays one event per transaction.
_INSERT = "INSERT INTO events (seq, id, pubkey, created_at, kind, addr, expires_at, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT_TAG = "INSERT OR IGNORE INTO tags (name, value, created_at, eid, seq, kind) VALUES (?, ?, ?, ?, ?, ?)"
_INSERT_FTS = "INSERT INTO events_fts (rowid, content) VALUES (?, ?)"
_INSERT_RELAY = "INSERT OR IGNORE INTO event_relays (event_id, relay, first_seen) VALUES (?, ?, ?)"


def expiration(event: Event) -> int | None:
    """The NIP-40 expiration timestamp, or None (also for a malformed value, which is ignored)."""
    for tag in event.tags:
        if len(tag) >= 2 and tag[0] == "expiration":
            value = tag[1]
            return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None
    return None


def indexed_tags(event: Event) -> set[tuple[str, str]]:
    """The (name, value) pairs a `#x` filter can match: single-letter names with a value."""
    return tag_pairs(event.tags)


def tag_pairs(tags: list[list[str]]) -> set[tuple[str, str]]:
    return {(t[0], t[1]) for t in tags if len(t) >= 2 and len(t[0]) == 1 and t[0].isalpha() and t[0].isascii()}


class _Tags(msgspec.Struct):
    tags: list[list[str]] = []


_TAGS = msgspec.json.Decoder(_Tags)


class Inserter:
    """Applies events to the store through one connection that is inside a transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._events: list[tuple] = []
        self._tags: list[tuple] = []
        self._fts: list[tuple] = []
        self._relays: list[tuple] = []
        self._present: set[bytes] = set()  # ids stored, or pending in this transaction
        self._deleted: set[tuple[str, str]] = set()  # (event id, its author) with a NIP-09 deletion
        self._next_seq = 0

    def prefetch(self, events: list[Event]) -> None:
        """Look up, for a whole batch at once, which ids are stored and which their authors deleted."""
        conn = self.conn
        ids = list({e.id for e in events})
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            marks = ",".join("?" * len(chunk))
            self._deleted.update(conn.execute(f"SELECT target, pubkey FROM deletions WHERE target IN ({marks})", chunk))
            blobs = [bytes.fromhex(x) for x in chunk]
            self._present.update(r[0] for r in conn.execute(f"SELECT id FROM events WHERE id IN ({marks})", blobs))
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
        self._next_seq = (row[0] if row else 0) + 1

    def apply(self, event: Event, raw: bytes, source: str | None, now: int) -> SaveResult:
        if is_ephemeral(event.kind):
            return model.EPHEMERAL
        expires = expiration(event)
        if expires is not None and expires <= now:
            return model.EXPIRED
        # A stored event is never also deleted (deletion removes it), so this check can come first.
        if event.kind != DELETION and (event.id, event.pubkey) in self._deleted:
            return model.DELETED
        eid = bytes.fromhex(event.id)
        if eid in self._present:
            return self._duplicate(event, source, now)
        addr = address(event)
        result = model.SAVED
        if addr is not None:
            result = self._replace(event, eid, addr)
            if result is not model.REPLACED and result is not model.SAVED:
                return result
        seq = self._next_seq
        self._next_seq += 1
        created, kind = event.created_at, event.kind
        self._events.append((seq, eid, bytes.fromhex(event.pubkey), created, kind, addr, expires, raw))
        self._present.add(eid)
        self._tags.extend((n, v, created, eid, seq, kind) for n, v in tag_pairs(event.tags))
        text = search.search_text(kind, event.content)  # None for ciphertext and for "+"-like content
        if text is not None:
            self._fts.append((seq, text))
        if source:
            self._relays.append((event.id, source, now))
        if kind == DELETION:
            self._apply_deletion(event)
        return result

    def _replace(self, event: Event, eid: bytes, addr: str) -> SaveResult:
        """For a replaceable/addressable event: DELETED, STALE, or SAVED/REPLACED (older one removed)."""
        self.flush()  # the address lookups below must see this batch's pending versions
        conn = self.conn
        blocked = conn.execute("SELECT created_at FROM deletions WHERE target = ? AND pubkey = ?", (addr, event.pubkey)).fetchone()
        if blocked and event.created_at <= blocked[0]:
            return model.DELETED
        old = conn.execute("SELECT seq, created_at, id FROM events WHERE addr = ?", (addr,)).fetchone()
        if old is None:
            return model.SAVED
        if (event.created_at, old[2]) <= (old[1], eid):  # newer wins; tie -> lowest id
            return model.STALE
        self.remove([old[0]])
        return model.REPLACED

    def _duplicate(self, event: Event, source: str | None, now: int) -> SaveResult:
        if source:
            self._relays.append((event.id, source, now))
        return model.DUPLICATE

    def flush(self) -> None:
        """Write the gathered event, tag, search and provenance rows."""
        conn = self.conn
        if self._events:
            conn.executemany(_INSERT, self._events)
            self._events.clear()
        if self._tags:
            conn.executemany(_INSERT_TAG, self._tags)
            self._tags.clear()
        if self._fts:
            conn.executemany(_INSERT_FTS, self._fts)
            self._fts.clear()
        if self._relays:
            conn.executemany(_INSERT_RELAY, self._relays)
            self._relays.clear()

    def remove(self, seqs: Iterable[int]) -> int:
        """Remove events (with their tags, search entries and provenance) by seq."""
        self.flush()
        gone = remove_rows(self.conn, seqs)
        self._present.difference_update(gone)
        return len(gone)

    def _apply_deletion(self, deletion: Event) -> None:
        """NIP-09: remove the author's own targets and remember them so they cannot come back."""
        self.flush()  # targets may be pending in this batch
        conn, author, when = self.conn, deletion.pubkey, deletion.created_at
        victims: list[int] = []
        for tag in deletion.tags:
            if len(tag) < 2:
                continue
            if tag[0] == "e" and is_hex(tag[1], 64):
                conn.execute(
                    "INSERT INTO deletions (target, pubkey, created_at) VALUES (?, ?, ?) "
                    "ON CONFLICT DO UPDATE SET created_at = max(created_at, excluded.created_at)",
                    (tag[1], author, when),
                )
                self._deleted.add((tag[1], author))
                row = conn.execute(
                    "SELECT seq FROM events WHERE id = ? AND pubkey = ? AND kind != ?",
                    (bytes.fromhex(tag[1]), bytes.fromhex(author), DELETION),
                ).fetchone()
                if row:
                    victims.append(row[0])
            elif tag[0] == "a":
                victims.extend(self._delete_address(tag[1], author, when))
        if victims:
            self.remove(victims)

    def _delete_address(self, text: str, author: str, when: int) -> list[int]:
        try:
            kind, pubkey, _ = parse_address(text)
        except InvalidEvent:
            return []
        if pubkey != author or not (kind in (0, 3) or 10000 <= kind < 20000 or 30000 <= kind < 40000):
            return []
        if kind < 30000:
            text = f"{kind}:{pubkey}:"  # replaceable kinds have no d: normalise the address
        self.conn.execute(
            "INSERT INTO deletions (target, pubkey, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT DO UPDATE SET created_at = max(created_at, excluded.created_at)",
            (text, author, when),
        )
        rows = self.conn.execute("SELECT seq FROM events WHERE addr = ? AND created_at <= ?", (text, when))
        return [r[0] for r in rows]


def remove_events(conn: sqlite3.Connection, seqs: Iterable[int]) -> int:
    """Delete events and everything hanging off them; the caller holds the transaction."""
    return len(remove_rows(conn, seqs))


def remove_rows(conn: sqlite3.Connection, seqs: Iterable[int]) -> list[bytes]:
    """`remove_events`, returning the removed ids. Tag keys and the search text are recomputed from
    each event's raw JSON (the tag table is keyed by value, the search index keeps no text)."""
    wanted = list(dict.fromkeys(seqs))  # once each: a second FTS 'delete' would corrupt the index
    rows: list[tuple[int, bytes, int, bytes]] = []
    for i in range(0, len(wanted), 500):
        chunk = wanted[i:i + 500]
        rows += conn.execute(f"SELECT seq, id, created_at, raw FROM events WHERE seq IN ({','.join('?' * len(chunk))})", chunk)
    if not rows:
        return []
    tag_keys = [(n, v, created, eid) for _, eid, created, raw in rows for n, v in tag_pairs(_TAGS.decode(raw).tags)]
    conn.executemany("DELETE FROM tags WHERE name = ? AND value = ? AND created_at = ? AND eid = ?", tag_keys)
    search.fts_delete_rows(conn, [(seq, raw) for seq, _, _, raw in rows])
    conn.executemany("DELETE FROM event_relays WHERE event_id = ?", [(eid.hex(),) for _, eid, _, _ in rows])
    conn.executemany("DELETE FROM events WHERE seq = ?", [(seq,) for seq, _, _, _ in rows])
    return [eid for _, eid, _, _ in rows]
