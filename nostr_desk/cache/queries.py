"""Read models the UI pages through: home timeline, a profile's notes, threads, notifications, search.

Selection, ordering, names and counts come from the cache tables in one index-backed SQL statement
per page; the note bodies come from the event store by id (the store's raw JSON is the one copy).
Pages use a cursor `(created_at, id)` and the condition "strictly after it in NIP-01 order", which a
(created_at DESC, id ASC) index answers as a range scan, so the next page costs what the first did.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from typing import Protocol

import msgspec

from nostr_desk.protocol.event import Event
from nostr_desk.protocol.filters import Filter

from . import schema
from .views import Cursor, Notification, NoteView, Page, Profile, ThreadNode, shown_name


class RawEvents(Protocol):
    """The slice of the event store the read models use (`EventStore` satisfies it)."""

    def get(self, event_id: str) -> bytes | None: ...

    def query(self, filters: Sequence[Filter], *, now: int, readers: frozenset[str] | None = None) -> list[bytes]: ...


MAX_PAGE = 500
# Below this many follows the home timeline merges per-author index ranges instead of walking time.
SPARSE_FOLLOWS = 40

# The columns every note view needs; `n` is cache_notes, `p` the author's profile.
_NOTE_COLUMNS = """
    n.id, n.pubkey, n.created_at, n.root_id, n.parent_id, p.display_name, p.name, p.picture,
    (SELECT count(*) FROM cache_reactions r WHERE r.target_id = n.id),
    (SELECT count(*) FROM cache_reposts s WHERE s.target_id = n.id),
    (SELECT count(*) FROM cache_notes c WHERE c.parent_id = n.id)
"""
# "Strictly after the cursor" in NIP-01 order, written so the first term is an index range.
_AFTER = "n.created_at <= :c_at AND (n.created_at < :c_at OR n.id > :c_id)"
_ORDER = "ORDER BY n.created_at DESC, n.id ASC LIMIT :limit"
_FIRST = Cursor(2**63 - 1, "")  # before every note


class CacheQueries:
    """Read-only queries over the cache tables; use one instance per thread (SQLite connections are)."""

    def __init__(self, store: RawEvents, conn: sqlite3.Connection, clock: Callable[[], float] = time.time):
        self.store = store
        self.conn = conn
        self.clock = clock
        schema.migrate(conn)  # a fresh file has no cache tables until the projector's first run

    # --- timelines -------------------------------------------------------------------------------
    def home(self, user: str, cursor: Cursor | None = None, limit: int = 50) -> Page[NoteView]:
        """Notes by the people `user` follows (and the user's own), newest first."""
        count = self.conn.execute("SELECT count(*) FROM cache_contacts WHERE owner = ?", (_b(user),)).fetchone()[0]
        if count < SPARSE_FOLLOWS:
            return self._home_sparse([user, *self.follows(user)], cursor, limit)
        # `+n.pubkey` keeps the planner on the time index: walking notes newest-first and testing
        # membership stops after `limit` hits, where the author index would gather and sort them all.
        sql = (
            f"SELECT {_NOTE_COLUMNS} FROM cache_notes n LEFT JOIN cache_profiles p ON p.pubkey = n.pubkey"
            " WHERE +n.pubkey IN (SELECT followed FROM cache_contacts WHERE owner = :user UNION SELECT :user)"
            f" AND {_AFTER} {_ORDER}"
        )
        return self._page(sql, {"user": _b(user)}, cursor, limit)

    def _home_sparse(self, authors: list[str], cursor: Cursor | None, limit: int) -> Page[NoteView]:
        """Few follows among many authors: the time index would walk past mostly strangers' notes, so
        take each author's newest `limit + 1` from the author index and merge (bounded by authors × page)."""
        authors = list(dict.fromkeys(authors))
        parts = " UNION ALL ".join(
            f"SELECT * FROM (SELECT n.id, n.created_at FROM cache_notes n INDEXED BY cache_notes_author"
            f" WHERE n.pubkey = :a{i} AND {_AFTER} {_ORDER})"
            for i in range(len(authors))
        )
        # MATERIALIZED: merge and cut to one page first, so names and counts are looked up for the
        # page only (SQLite would otherwise push the join into every author's branch).
        sql = (
            f"WITH m AS MATERIALIZED (SELECT * FROM ({parts}) ORDER BY created_at DESC, id ASC LIMIT :limit)"
            f" SELECT {_NOTE_COLUMNS} FROM m JOIN cache_notes n ON n.id = m.id"
            f" LEFT JOIN cache_profiles p ON p.pubkey = n.pubkey {_ORDER}"
        )
        return self._page(sql, {f"a{i}": _b(a) for i, a in enumerate(authors)}, cursor, limit)

    def profile_notes(self, pubkey: str, cursor: Cursor | None = None, limit: int = 50) -> Page[NoteView]:
        sql = (
            f"SELECT {_NOTE_COLUMNS} FROM cache_notes n INDEXED BY cache_notes_author"
            " LEFT JOIN cache_profiles p ON p.pubkey = n.pubkey"
            f" WHERE n.pubkey = :author AND {_AFTER} {_ORDER}"
        )
        return self._page(sql, {"author": _b(pubkey)}, cursor, limit)

    def search(self, text: str, cursor: Cursor | None = None, limit: int = 50) -> Page[NoteView]:
        """Notes whose text matches `text` (the store's FTS5 index), newest first."""
        limit = _clamp(limit)
        after = cursor or _FIRST
        want = limit + 1
        while True:  # ties at the cursor's second are skipped client-side; widen until the page fills
            flt = Filter(kinds=frozenset({1}), search=text, until=min(after.created_at, 2**62), limit=want)
            raws = self.store.query([flt], now=int(self.clock()))
            events = [e for e in map(_decode, raws) if _is_after(e, after)]
            if len(events) > limit or len(raws) < want:
                break
            want *= 2
        events = events[: limit + 1]
        views = self._views_for(events[:limit])
        return Page(views, views[-1].cursor if len(events) > limit and views else None)

    # --- threads ---------------------------------------------------------------------------------
    def thread(self, note_id: str) -> ThreadNode:
        """The whole thread `note_id` belongs to, as a tree from its root; replies oldest first."""
        row = self.conn.execute("SELECT root_id FROM cache_notes WHERE id = ?", (_b(note_id),)).fetchone()
        root = (row[0].hex() if row and row[0] else None) or note_id
        sql = (
            f"SELECT {_NOTE_COLUMNS} FROM cache_notes n LEFT JOIN cache_profiles p ON p.pubkey = n.pubkey"
            " WHERE n.id = :root UNION ALL "
            f"SELECT {_NOTE_COLUMNS} FROM cache_notes n LEFT JOIN cache_profiles p ON p.pubkey = n.pubkey"
            " WHERE n.root_id = :root AND n.id != :root"
        )
        views = self._views([_hexed(r) for r in self.conn.execute(sql, {"root": _b(root)})])
        return build_tree(root, views)

    # --- notifications ---------------------------------------------------------------------------
    def notifications(self, user: str, cursor: Cursor | None = None, limit: int = 50) -> Page[Notification]:
        """Mentions of `user`, replies to and reactions/reposts of the user's notes; newest first."""
        limit = _clamp(limit)
        after = cursor or _FIRST
        params = {"me": _b(user), "c_at": after.created_at, "c_id": _b(after.id), "limit": limit + 1}
        rows = [_hexed(r) for r in self.conn.execute(_NOTIFICATIONS_SQL, params)]
        items = [self._notification(user, *row) for row in rows[:limit]]
        items = [n for n in items if n is not None]
        last = rows[limit - 1] if len(rows) > limit else None
        return Page(items, Cursor(last[3], last[0]) if last else None)

    def _notification(self, user: str, event_id, kind, author, created_at, target) -> Notification | None:
        raw = self.store.get(event_id)
        if raw is None:
            return None
        event = _decode(raw)
        label = {7: "reaction", 6: "repost"}.get(kind, "mention")
        if kind == 1:
            parent = self.conn.execute("SELECT parent_id FROM cache_notes WHERE id = ?", (_b(event_id),)).fetchone()
            owner = parent and parent[0] and self.conn.execute(
                "SELECT pubkey FROM cache_notes WHERE id = ?", (parent[0],)
            ).fetchone()
            if owner and owner[0].hex() == user:
                label, target = "reply", parent[0].hex()
        return Notification(label, event_id, author, self.name(author), created_at, target, event.content)

    # --- people ----------------------------------------------------------------------------------
    def profile(self, pubkey: str) -> Profile | None:
        row = self.conn.execute(
            "SELECT pubkey, event_id, created_at, name, display_name, picture, about, nip05, lud16, content"
            " FROM cache_profiles WHERE pubkey = ?",
            (_b(pubkey),),
        ).fetchone()
        return Profile(*_hexed(row)) if row else None

    def name(self, pubkey: str) -> str:
        row = self.conn.execute("SELECT display_name, name FROM cache_profiles WHERE pubkey = ?", (_b(pubkey),)).fetchone()
        return shown_name(pubkey, *(row or (None, None)))

    def follows(self, user: str) -> list[str]:
        rows = self.conn.execute("SELECT followed FROM cache_contacts WHERE owner = ? ORDER BY followed", (_b(user),))
        return [r[0].hex() for r in rows]

    def relays(self, pubkey: str) -> list[tuple[str, bool, bool]]:
        """The NIP-65 list of `pubkey`: (url, read, write)."""
        rows = self.conn.execute("SELECT url, read, write FROM cache_relays WHERE pubkey = ? ORDER BY url", (_b(pubkey),))
        return [(url, bool(r), bool(w)) for url, r, w in rows]

    # --- helpers ---------------------------------------------------------------------------------
    def _page(self, sql: str, params: dict, cursor: Cursor | None, limit: int) -> Page[NoteView]:
        limit = _clamp(limit)
        after = cursor or _FIRST
        bound = {**params, "c_at": after.created_at, "c_id": _b(after.id), "limit": limit + 1}
        rows = [_hexed(r) for r in self.conn.execute(sql, bound)]
        # The cursor is the last *row* (not the last shown view): a note whose body the store no
        # longer has is skipped without ending the paging early or showing anything twice.
        last = rows[limit - 1] if len(rows) > limit else None
        return Page(self._views(rows[:limit]), Cursor(last[2], last[0]) if last else None)

    def _views(self, rows: list[tuple]) -> list[NoteView]:
        out = []
        for nid, pubkey, created_at, root, parent, display_name, name, picture, reactions, reposts, replies in rows:
            raw = self.store.get(nid)
            if raw is None:
                continue
            event = _decode(raw)
            out.append(
                NoteView(nid, pubkey, created_at, event.content, event.tags, shown_name(pubkey, display_name, name),
                         picture, root, parent, reactions, reposts, replies)
            )
        return out

    def _views_for(self, events: list[Event]) -> list[NoteView]:
        """Note views for events fetched from the store (names and counts from the cache)."""
        out = []
        for e in events:
            row = self.conn.execute(
                f"SELECT {_NOTE_COLUMNS} FROM (SELECT :id AS id) AS q"
                " LEFT JOIN cache_notes n ON n.id = q.id LEFT JOIN cache_profiles p ON p.pubkey = :pk",
                {"id": _b(e.id), "pk": _b(e.pubkey)},
            ).fetchone()
            row = _hexed(row)
            _, _, _, root, parent, display_name, name, picture, reactions, reposts, replies = row
            out.append(
                NoteView(e.id, e.pubkey, e.created_at, e.content, e.tags, shown_name(e.pubkey, display_name, name),
                         picture, root, parent, reactions or 0, reposts or 0, replies or 0)
            )
        return out


def _branch(select: str, where: str, at: str, eid: str) -> str:
    """One source of notifications, cut to a page after the cursor. Every event of the true page is in
    its source's first `limit + 1` (fewer distinct events rank above it), so the merge is exact."""
    return (
        f"SELECT * FROM ({select} WHERE {where} AND {at} <= :c_at AND ({at} < :c_at OR {eid} > :c_id)"
        f" ORDER BY {at} DESC, {eid} ASC LIMIT :limit)"
    )


# One event can arrive by two routes (a reaction both p-tags the user and targets the user's note);
# GROUP BY keeps one row, MAX(target) the route that knows the target.
_NOTIFICATIONS_SQL = (
    "SELECT u.id, u.kind, u.author, u.created_at, MAX(u.target) FROM ("
    + " UNION ALL ".join([
        _branch("SELECT m.event_id AS id, m.kind AS kind, m.author AS author, m.created_at AS created_at,"
                " NULL AS target FROM cache_mentions m", "m.pubkey = :me AND m.author != :me",
                "m.created_at", "m.event_id"),
        _branch("SELECT r.id, 7, r.pubkey, r.created_at, r.target_id FROM cache_notes mine"
                " JOIN cache_reactions r ON r.target_id = mine.id", "mine.pubkey = :me AND r.pubkey != :me",
                "r.created_at", "r.id"),
        _branch("SELECT s.id, 6, s.pubkey, s.created_at, s.target_id FROM cache_notes mine"
                " JOIN cache_reposts s ON s.target_id = mine.id", "mine.pubkey = :me AND s.pubkey != :me",
                "s.created_at", "s.id"),
        _branch("SELECT c.id, 1, c.pubkey, c.created_at, c.parent_id FROM cache_notes mine"
                " JOIN cache_notes c ON c.parent_id = mine.id", "mine.pubkey = :me AND c.pubkey != :me",
                "c.created_at", "c.id"),
    ])
    + ") AS u GROUP BY u.id ORDER BY u.created_at DESC, u.id ASC LIMIT :limit"
)


def build_tree(root: str, views: list[NoteView]) -> ThreadNode:
    """Hang each reply under its parent; a reply whose parent is missing hangs under the root."""
    nodes = {v.id: ThreadNode(v.id, v) for v in views}
    top = nodes.get(root) or ThreadNode(root, None)
    for view in sorted(views, key=lambda v: (v.created_at, v.id)):
        if view.id == root:
            continue
        parent = nodes.get(view.parent_id or root)
        if parent is None or parent is nodes[view.id] or _is_ancestor(nodes[view.id], parent):
            parent = top
        parent.children.append(nodes[view.id])
    return top


def _is_ancestor(node: ThreadNode, candidate: ThreadNode) -> bool:
    """True when `candidate` already sits below `node` (a cycle made of forged parent links)."""
    stack = list(node.children)
    while stack:
        current = stack.pop()
        if current is candidate:
            return True
        stack.extend(current.children)
    return False


def _b(hex_id: str) -> bytes:
    """Ids and pubkeys are 32-byte BLOBs in the cache tables; hex at the API (and b"" sorts first)."""
    return bytes.fromhex(hex_id)


def _hexed(row: tuple) -> tuple:
    return tuple(v.hex() if isinstance(v, bytes) else v for v in row)


def _clamp(limit: int) -> int:
    return max(1, min(int(limit), MAX_PAGE))


def _is_after(event: Event, cursor: Cursor) -> bool:
    return event.created_at < cursor.created_at or (event.created_at == cursor.created_at and event.id > cursor.id)


_DECODER = msgspec.json.Decoder(Event)


def _decode(raw: bytes) -> Event:
    return _DECODER.decode(raw)
