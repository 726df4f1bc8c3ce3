"""Idempotent projections of stored events into the cache tables, resuming from the store's `seq`.

Each event is applied by kind; every write is keyed by event id (or by the replaceable slot with
NIP-01's "newest wins, lowest id on a tie"), so applying an event twice, or re-running everything
from seq 0, changes nothing. Rows depend only on the events themselves, never on arrival order:
a deletion (kind 5) removes what it names *by the same author* and is remembered, so a target that
arrives later is never projected. The batch and the resume point commit in one transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import msgspec

from nostr_desk.protocol import nip10, nip65
from nostr_desk.protocol.event import Event
from nostr_desk.protocol.keys import is_hex
from nostr_desk.protocol.kinds import CONTACTS, DELETION, METADATA, REACTION, RELAY_LIST, REPOST, TEXT_NOTE

from . import forget, schema


class EventSource(Protocol):
    """The slice of the event store the projector reads (`EventStore` satisfies it)."""

    def events_since(self, seq: int, limit: int = 1000) -> list[tuple[int, bytes]]: ...


@dataclass(frozen=True)
class ProjectionConfig:
    batch: int = 5000  # events per transaction: amortises COMMIT (and WAL checkpoints); ~0.3 s of writer lock


class Projector:
    """Brings the cache tables up to date with the store. One projector per store file at a time."""

    def __init__(self, source: EventSource, conn: sqlite3.Connection, config: ProjectionConfig = ProjectionConfig()):
        self.source = source
        self.conn = conn
        self.config = config
        conn.isolation_level = None  # we issue BEGIN/COMMIT ourselves
        # The cache is derived data: a power cut may undo its last commits (WAL keeps them atomic,
        # rows and resume point together), and the next run re-projects them. So no fsync per batch.
        conn.execute("PRAGMA synchronous = NORMAL")
        schema.migrate(conn)

    @property
    def last_seq(self) -> int:
        value = schema.get_meta(self.conn, "last_seq")
        return int(value) if value is not None else 0

    def catch_up(self, max_events: int | None = None) -> int:
        """Project every event stored since the last run (at most `max_events`); return how many."""
        done = 0
        while max_events is None or done < max_events:
            want = self.config.batch if max_events is None else min(self.config.batch, max_events - done)
            rows = self.source.events_since(self.last_seq, want)
            if not rows:
                break
            with schema.transaction(self.conn):
                apply_raw(self.conn, (raw for _, raw in rows))
                schema.set_meta(self.conn, "last_seq", rows[-1][0])
            done += len(rows)
        return done

    def forget_missing(self) -> int:
        """Drop the rows of events the store no longer holds (after retention); return how many."""
        return forget.forget_missing(self.conn)

    def rebuild(self) -> int:
        """Forget every projection and project the whole store again."""
        schema.reset(self.conn)
        return self.catch_up()


class StoredEvent(msgspec.Struct, frozen=True):
    """The fields projections read. Stored events were verified on the way in, so decoding skips the
    signature and the hex checks of `Event` (a fifth of the projection's Python time)."""

    id: str
    pubkey: str
    created_at: int
    kind: int
    tags: list[list[str]]
    content: str


# Anything with these attributes projects: a decoded stored row, or a protocol `Event`.
Projectable = StoredEvent | Event

_DECODER = msgspec.json.Decoder(StoredEvent)


def apply_raw(conn: sqlite3.Connection, raws: Iterable[bytes]) -> None:
    """Apply stored events (already verified by the store) inside the caller's transaction."""
    apply_events(conn, [_DECODER.decode(raw) for raw in raws])


def apply_event(conn: sqlite3.Connection, ev: Projectable) -> None:
    apply_events(conn, [ev])


def apply_events(conn: sqlite3.Connection, events: list[Projectable]) -> None:
    """Apply a batch. Deletions go first, so a target in the same batch is hidden in either order;
    the many small events (notes, reactions, reposts) are written with one statement per table."""
    regular: list[Projectable] = []
    for ev in events:
        if ev.kind == DELETION:
            _deletion(conn, ev)
        elif ev.kind in _REGULAR:
            regular.append(ev)
    replaceable = [ev for ev in events if ev.kind in _REPLACEABLE]
    if replaceable:
        gone = _deleted_pairs(conn, replaceable)
        for ev in replaceable:
            if (ev.id, ev.pubkey) not in gone:
                _REPLACEABLE[ev.kind](conn, ev)
    if regular:
        _regular(conn, regular)


# --- replaceable lists: newest wins, lowest id on a tie --------------------------------------------

_WINS = "excluded.created_at > {t}.created_at OR (excluded.created_at = {t}.created_at AND excluded.event_id < {t}.event_id)"


def _profile(conn: sqlite3.Connection, ev: Projectable) -> None:
    fields = profile_fields(ev.content)
    conn.execute(
        "INSERT INTO cache_profiles (pubkey, event_id, created_at, name, display_name, picture, about, nip05,"
        " lud16, content) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT(pubkey) DO UPDATE SET event_id = excluded.event_id, created_at = excluded.created_at,"
        " name = excluded.name, display_name = excluded.display_name, picture = excluded.picture,"
        " about = excluded.about, nip05 = excluded.nip05, lud16 = excluded.lud16, content = excluded.content"
        " WHERE " + _WINS.format(t="cache_profiles"),
        (_b(ev.pubkey), _b(ev.id), ev.created_at, *fields, ev.content),
    )


PROFILE_FIELDS = ("name", "display_name", "picture", "about", "nip05", "lud16")


def profile_fields(content: str) -> tuple[str | None, ...]:
    """The kind-0 fields we show, as strings or None; malformed JSON gives all None (not an error)."""
    try:
        meta = msgspec.json.decode(content)
    except msgspec.DecodeError:
        return (None,) * len(PROFILE_FIELDS)
    if not isinstance(meta, dict):
        return (None,) * len(PROFILE_FIELDS)
    if not meta.get("display_name") and meta.get("displayName"):  # an older spelling still in use
        meta["display_name"] = meta["displayName"]
    return tuple(_text(meta.get(key)) for key in PROFILE_FIELDS)


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _replace_slot(conn: sqlite3.Connection, table: str, key: str, ev: Projectable) -> bool:
    """Claim the replaceable slot `table[key]` for `ev` if it wins; True when the lists must be rewritten."""
    before = conn.total_changes
    conn.execute(
        f"INSERT INTO {table} ({key}, event_id, created_at) VALUES (?, ?, ?)"  # noqa: S608 - fixed names
        f" ON CONFLICT({key}) DO UPDATE SET event_id = excluded.event_id, created_at = excluded.created_at"
        f" WHERE {_WINS.format(t=table)}",
        (_b(ev.pubkey), _b(ev.id), ev.created_at),
    )
    return conn.total_changes != before


def _contacts(conn: sqlite3.Connection, ev: Projectable) -> None:
    if not _replace_slot(conn, "cache_contact_lists", "owner", ev):
        return
    owner = _b(ev.pubkey)
    conn.execute("DELETE FROM cache_contacts WHERE owner = ?", (owner,))
    rows = {}
    for tag in ev.tags:
        if len(tag) >= 2 and tag[0] == "p" and is_hex(tag[1], 64) and tag[1] not in rows:
            rows[tag[1]] = (owner, _b(tag[1]), tag[2] if len(tag) > 2 else "", tag[3] if len(tag) > 3 else "")
    conn.executemany("INSERT INTO cache_contacts VALUES (?, ?, ?, ?)", rows.values())


def _relay_list(conn: sqlite3.Connection, ev: Projectable) -> None:
    if not _replace_slot(conn, "cache_relay_lists", "pubkey", ev):
        return
    conn.execute("DELETE FROM cache_relays WHERE pubkey = ?", (_b(ev.pubkey),))
    conn.executemany("INSERT INTO cache_relays VALUES (?, ?, ?, ?)", relay_rows(ev))


def relay_rows(ev: Projectable) -> list[tuple[bytes, str, int, int]]:
    """NIP-65 `r` tags as (pubkey, url, read, write): URLs normalised, repeats merged (protocol/nip65)."""
    pubkey = _b(ev.pubkey)
    return [(pubkey, r.url, int(r.read), int(r.write)) for r in nip65.parse_tags(ev.tags) if r.read or r.write]


def thread_links(tags: list[list[str]]) -> tuple[str | None, str | None]:
    """(root id, direct parent id) per NIP-10, marked or positional (protocol/nip10); a top-level note
    has neither. Fast path: most notes carry no `e` tag at all."""
    if not any(t and t[0] == "e" for t in tags):
        return None, None
    thread = nip10.parse(tags)
    return (thread.root.id if thread.root else None), (thread.reply.id if thread.reply else None)


# --- deletions ----------------------------------------------------------------------------------

_DELETABLE = ("cache_notes", "cache_reactions", "cache_reposts")
# (slot table, the author column of it and of its rows, the rows it owns)
_LIST_SLOTS = (("cache_contact_lists", "owner", "cache_contacts"), ("cache_relay_lists", "pubkey", "cache_relays"))


def _deletion(conn: sqlite3.Connection, ev: Projectable) -> None:
    author, deletion_id = _b(ev.pubkey), _b(ev.id)
    for target in {_b(t) for t in _values(ev.tags, "e") if is_hex(t, 64)}:
        conn.execute("INSERT OR IGNORE INTO cache_deletions VALUES (?, ?, ?)", (target, author, deletion_id))
        for table in _DELETABLE:  # only the author's own event goes (NIP-09)
            conn.execute(f"DELETE FROM {table} WHERE id = ? AND pubkey = ?", (target, author))  # noqa: S608
        conn.execute("DELETE FROM cache_mentions WHERE event_id = ? AND author = ?", (target, author))
        # A deleted profile or list empties its slot (the store drops that version too, so a rebuild
        # agrees); an older version only comes back if it is stored again.
        conn.execute("DELETE FROM cache_profiles WHERE event_id = ? AND pubkey = ?", (target, author))
        for slots, key, rows in _LIST_SLOTS:
            hit = conn.execute(f"DELETE FROM {slots} WHERE event_id = ? AND {key} = ?", (target, author))  # noqa: S608
            if hit.rowcount:
                conn.execute(f"DELETE FROM {rows} WHERE {key} = ?", (author,))  # noqa: S608


def _deleted_pairs(conn: sqlite3.Connection, events: list[Projectable]) -> set[tuple[str, str]]:
    """Which of these (id hex, author hex) pairs a deletion already names: indexed lookups, 500 at a time."""
    if conn.execute("SELECT 1 FROM cache_deletions LIMIT 1").fetchone() is None:
        return set()  # the common case: nothing was ever deleted
    ids = [_b(e.id) for e in events]
    found: set[tuple[str, str]] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(f"SELECT target_id, pubkey FROM cache_deletions WHERE target_id IN ({marks})", chunk)  # noqa: S608
        found.update((t.hex(), p.hex()) for t, p in rows)
    return found


# --- notes, reactions, reposts, mentions ------------------------------------------------------------


def _regular(conn: sqlite3.Connection, events: list[Projectable]) -> None:
    gone = _deleted_pairs(conn, events)
    notes, reactions, reposts, mentions = [], [], [], []
    for ev in events:
        if (ev.id, ev.pubkey) in gone:
            continue
        eid, author = _b(ev.id), _b(ev.pubkey)
        if ev.kind == TEXT_NOTE:
            root, parent = thread_links(ev.tags)
            notes.append((eid, author, ev.created_at, root and _b(root), parent and _b(parent)))
        elif ev.kind == REACTION:
            target = _last_e(ev)  # NIP-25: the reacted-to event is the last `e` tag
            if target is None:
                continue
            reactions.append((eid, _b(target), author, ev.created_at, ev.content))
        else:
            target = next((t for t in _values(ev.tags, "e") if is_hex(t, 64)), None)  # NIP-18: the `e` tag
            if target is None:
                continue
            reposts.append((eid, _b(target), author, ev.created_at))
        named = {p for p in _values(ev.tags, "p") if is_hex(p, 64)}
        mentions.extend((_b(p), ev.created_at, eid, ev.kind, author) for p in named)
    conn.executemany("INSERT OR IGNORE INTO cache_notes VALUES (?, ?, ?, ?, ?)", notes)
    conn.executemany("INSERT OR IGNORE INTO cache_reactions VALUES (?, ?, ?, ?, ?)", reactions)
    conn.executemany("INSERT OR IGNORE INTO cache_reposts VALUES (?, ?, ?, ?)", reposts)
    conn.executemany("INSERT OR IGNORE INTO cache_mentions VALUES (?, ?, ?, ?, ?)", mentions)


def _values(tags: list[list[str]], name: str) -> list[str]:
    return [t[1] for t in tags if len(t) >= 2 and t[0] == name]


def _last_e(ev: Projectable) -> str | None:
    ids = [t for t in _values(ev.tags, "e") if is_hex(t, 64)]
    return ids[-1] if ids else None


# Ids and pubkeys are 32-byte BLOBs in the cache tables (hex in, hex out at the edges).
_b = bytes.fromhex

_REGULAR = frozenset({TEXT_NOTE, REACTION, REPOST})
_REPLACEABLE = {METADATA: _profile, CONTACTS: _contacts, RELAY_LIST: _relay_list}
