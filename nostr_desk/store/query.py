"""Filters -> parameterised SQL, read in NIP-01 order without sorting, paged, merged lazily.

A filter is answered by one or more *streams*, each an index range already in result order
(`created_at DESC, id`): one per author, per kind, per value of one tag, or a scan of the time index;
authors with only replaceable kinds are looked up by address instead. Every other condition is a WHERE clause on the same statement. Streams are
read in keyset pages (`created_at <= ? AND (created_at < ? OR id > ?)`), so no single statement runs
long and a filter reads only as many rows as its limit needs, and merged with `heapq.merge`.
Multi-value `IN` lists are split into streams on purpose: one `IN` over an index needs a temp B-tree
sort of every matching row, a merge of per-value ranges stops after `limit` rows.

NIP-50 `search` narrows candidates with the FTS5 trigram index (search.py: casefolded text, so the
index and `filters.matches_search` agree on "ß" -> "ss"), then checks each row exactly; encrypted
content is never a search hit.
"""

from __future__ import annotations

import heapq
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from nostr_desk.protocol.filters import Filter
from nostr_desk.protocol.keys import is_hex
from nostr_desk.protocol.kinds import is_replaceable

from . import search as fts

PROTECTED_KINDS = (4, 1059)  # readable only by their author or a p-tagged recipient (NIP-42 relays)
PAGE_MIN = 4  # smallest first page, when many streams (e.g. 1,000 authors) share one limit
PAGE_MAX = 1000
COUNT_CHUNK = 256  # rows checked between GIL hand-offs when a count runs the search check

Row = tuple[int, bytes, bytes]  # created_at, id (32 bytes), raw


@dataclass(frozen=True)
class Stream:
    sql: str  # "SELECT created_at, id, raw FROM ... WHERE ..." (no ORDER BY / LIMIT)
    params: tuple
    created_col: str
    id_col: str


@dataclass(frozen=True)
class Plan:
    streams: list[Stream]
    by_ids: bool  # one statement over an explicit id list: read it whole, sort in Python
    predicate: Callable[[bytes], bool] | None


# --- building conditions ---------------------------------------------------------------------------
def as_blobs(values) -> list[bytes]:
    """Hex ids/pubkeys as stored (32 bytes); anything else cannot match and is dropped."""
    return [bytes.fromhex(v) for v in values if is_hex(v, 64)]


def _in(column: str, values) -> tuple[str, list]:
    vals = sorted(values)
    if len(vals) == 1:
        return f"{column} = ?", vals
    return f"{column} IN ({','.join('?' * len(vals))})", vals


class _Where:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.params: list = []

    def add(self, sql: str, params=()) -> None:
        self.parts.append(sql)
        self.params.extend(params)

    def sql(self) -> str:
        return " AND ".join(self.parts) if self.parts else "1"


def has_tag(name_param: str, values, alias: str = "e") -> tuple[str, list]:
    """The event at `alias` has tag `name` with one of `values`: key lookups in the tag table."""
    cond, vals = _in("x.value", values)
    sql = f"EXISTS (SELECT 1 FROM tags x WHERE x.name = {name_param} AND {cond} AND x.created_at = {alias}.created_at AND x.eid = {alias}.id)"
    return sql, vals


def readers_clause(readers: frozenset[str] | None, alias: str = "e") -> tuple[str, list] | None:
    """Kinds 4 and 1059 only for their author or a p-tagged recipient among `readers`."""
    if readers is None:
        return None
    kinds = f"{alias}.kind NOT IN ({','.join(str(k) for k in PROTECTED_KINDS)})"
    if not readers:
        return kinds, []
    who, vals = _in(f"{alias}.pubkey", as_blobs(readers)) if as_blobs(readers) else ("0", [])
    tag, tvals = has_tag("'p'", readers, alias)
    return f"({kinds} OR {who} OR {tag})", vals + tvals


def common_where(flt: Filter, now: int, readers, *, skip: frozenset[str] = frozenset(), tag_alias_time: str = "e") -> _Where:
    """Every condition of `flt` on alias `e`, except the `skip`ped ones (answered by the stream)."""
    w = _Where()
    t = tag_alias_time
    if flt.ids is not None and "ids" not in skip:
        w.add(*_in("e.id", as_blobs(flt.ids)))
    if flt.authors is not None and "authors" not in skip:
        w.add(*_in("e.pubkey", as_blobs(flt.authors)))
    if flt.kinds is not None and "kinds" not in skip:
        w.add(*_in(f"{t}.kind", flt.kinds))
    if flt.since is not None:
        w.add(f"{t}.created_at >= ?", [flt.since])
    if flt.until is not None:
        w.add(f"{t}.created_at <= ?", [flt.until])
    for name in sorted(flt.tags):
        if f"#{name}" in skip:
            continue
        cond, vals = has_tag("?", flt.tags[name])
        w.add(cond, [name, *vals])
    if flt.search is not None:
        match = fts.fts_query(flt.search)
        if match is not None:
            w.add("e.seq IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?)", [match])
    w.add("(e.expires_at IS NULL OR e.expires_at > ?)", [now])
    rc = None if flt.kinds is not None and flt.kinds.isdisjoint(PROTECTED_KINDS) else readers_clause(readers)
    if rc:
        w.add(*rc)
    return w


# --- planning ----------------------------------------------------------------------------------------
def plan(flt: Filter, now: int, readers: frozenset[str] | None) -> Plan:
    predicate = _search_predicate(flt.search)
    if flt.ids is not None:
        w = common_where(flt, now, readers)
        return Plan([Stream(f"SELECT e.created_at, e.id, e.raw FROM events e WHERE {w.sql()}", tuple(w.params), "e.created_at", "e.id")], True, predicate)
    if flt.tags:
        return Plan(_tag_streams(flt, now, readers), False, predicate)
    if flt.authors is not None and flt.kinds and all(is_replaceable(k) for k in flt.kinds):
        return Plan([_by_address(flt, now, readers)], True, predicate)
    if flt.authors is not None:
        return Plan(_author_streams(flt, now, readers), False, predicate)
    if flt.kinds is not None:
        w = common_where(flt, now, readers, skip=frozenset({"kinds"}))
        head = f"SELECT e.created_at, e.id, e.raw FROM events e INDEXED BY events_kind WHERE e.kind = ? AND {w.sql()}"
        return Plan([Stream(head, (k, *w.params), "e.created_at", "e.id") for k in sorted(flt.kinds)], False, predicate)
    w = common_where(flt, now, readers)
    # Search alone: let the planner start from the FTS hits (few) rather than scan by time.
    hint = "" if (flt.search is not None and fts.fts_query(flt.search)) else "INDEXED BY events_time"
    head = f"SELECT e.created_at, e.id, e.raw FROM events e {hint} WHERE {w.sql()}"
    return Plan([Stream(head, tuple(w.params), "e.created_at", "e.id")], False, predicate)


def _tag_streams(flt: Filter, now: int, readers) -> list[Stream]:
    # Drive by the tag with the fewest values; its index range holds created_at, eid and kind.
    name = min(sorted(flt.tags), key=lambda n: len(flt.tags[n]))
    w = common_where(flt, now, readers, skip=frozenset({f"#{name}"}), tag_alias_time="t")
    head = (
        "SELECT t.created_at, t.eid, e.raw FROM tags t CROSS JOIN events e ON e.seq = t.seq "
        f"WHERE t.name = ? AND t.value = ? AND {w.sql()}"
    )
    return [Stream(head, (name, v, *w.params), "t.created_at", "t.eid") for v in sorted(flt.tags[name])]


def _by_address(flt: Filter, now: int, readers) -> Stream:
    """Authors x replaceable kinds (profiles, contact and relay lists): at most one event per address,
    found by the unique address index; the few rows are sorted in Python."""
    addrs = [f"{k}:{a}:" for a in sorted(flt.authors or ()) if is_hex(a, 64) for k in sorted(flt.kinds or ())]
    w = common_where(flt, now, readers, skip=frozenset({"authors", "kinds"}))
    cond, vals = _in("e.addr", addrs)
    return Stream(f"SELECT e.created_at, e.id, e.raw FROM events e INDEXED BY events_addr WHERE {cond} AND {w.sql()}",
                  (*vals, *w.params), "e.created_at", "e.id")


def _author_streams(flt: Filter, now: int, readers) -> list[Stream]:
    # One index per author, (pubkey, created_at DESC, id, kind): kinds are checked in the index entry,
    # before the row is read (an (author, kind) index cost ~10% of ingest for little gain).
    authors = sorted(as_blobs(flt.authors or ()))
    w = common_where(flt, now, readers, skip=frozenset({"authors"}))
    head = f"SELECT e.created_at, e.id, e.raw FROM events e INDEXED BY events_author WHERE e.pubkey = ? AND {w.sql()}"
    return [Stream(head, (a, *w.params), "e.created_at", "e.id") for a in authors]


def _search_predicate(search: str | None) -> Callable[[bytes], bool] | None:
    return None if search is None else fts.predicate(search)


# --- running -------------------------------------------------------------------------------------------
def _pages(conn: sqlite3.Connection, s: Stream, first: int) -> Iterator[Row]:
    order = f" ORDER BY {s.created_col} DESC, {s.id_col} LIMIT ?"
    rows = conn.execute(s.sql + order, (*s.params, first)).fetchall()
    page = first
    after = f"{s.sql} AND {s.created_col} <= ? AND ({s.created_col} < ? OR {s.id_col} > ?){order}"
    while rows:
        yield from rows
        if len(rows) < page:
            return
        created, last = rows[-1][0], rows[-1][1]
        page = min(page * 2, PAGE_MAX)
        rows = conn.execute(after, (*s.params, created, created, last, page)).fetchall()


def run_filter(conn: sqlite3.Connection, flt: Filter, limit: int, now: int, readers) -> Iterator[Row]:
    """Up to `limit` distinct rows matching `flt`, in NIP-01 order."""
    if limit <= 0 or not flt.can_match() or not _hex_ok(flt):
        return
    p = plan(flt, now, readers)
    if p.by_ids:
        s = p.streams[0]
        source: Iterator[Row] = iter(sorted(conn.execute(s.sql, s.params).fetchall(), key=lambda r: (-r[0], r[1])))
    else:
        first = min(limit, PAGE_MAX, max(PAGE_MIN, 2 * -(-limit // len(p.streams))))
        gens = [_pages(conn, s, first) for s in p.streams]
        source = gens[0] if len(gens) == 1 else heapq.merge(*gens, key=lambda r: (-r[0], r[1]))
    last_id = None
    taken = 0
    for row in source:
        if row[1] == last_id:  # the same event from two streams (or twice in one tag stream)
            continue
        last_id = row[1]
        if p.predicate is not None and not p.predicate(row[2]):
            continue
        yield row
        taken += 1
        if taken >= limit:
            return


def _hex_ok(flt: Filter) -> bool:
    """False when `ids` or `authors` hold no well-formed value (then nothing can match)."""
    return all(v is None or as_blobs(v) for v in (flt.ids, flt.authors))


def run_query(conn, filters: Sequence[Filter], *, max_limit: int, now: int, readers) -> list[bytes]:
    chosen: dict[str, Row] = {}
    for flt in filters:
        limit = max_limit if flt.limit is None else min(flt.limit, max_limit)
        for row in run_filter(conn, flt, limit, now, readers):
            chosen[row[1]] = row
    rows = sorted(chosen.values(), key=lambda r: (-r[0], r[1]))
    return [r[2] for r in rows]


def run_count(conn, filters: Sequence[Filter], *, now: int, readers) -> int:
    """NIP-45: distinct events matching any filter; `limit` does not apply to a count."""
    live = [f for f in filters if f.can_match() and _hex_ok(f)]
    if not live:
        return 0
    if any(f.search is not None for f in live):
        return _count_checked(conn, live, now, readers)
    parts, params = [], []
    for flt in live:
        w = common_where(flt, now, readers)
        parts.append(f"({w.sql()})")
        params.extend(w.params)
    return conn.execute(f"SELECT count(*) FROM events e WHERE {' OR '.join(parts)}", params).fetchone()[0]


def _count_checked(conn, filters: Sequence[Filter], now: int, readers) -> int:
    """Count when rows need the exact search check in Python: one unordered statement per filter read
    in chunks (paging in result order would re-run the FTS lookup for every page), yielding the GIL
    between chunks so the writer thread is not starved. The reader's time budget bounds the whole."""
    seen: set[bytes] = set()
    for flt in filters:
        check = _search_predicate(flt.search)
        w = common_where(flt, now, readers)
        cur = conn.execute(f"SELECT e.id, e.raw FROM events e WHERE {w.sql()}", w.params)
        while rows := cur.fetchmany(COUNT_CHUNK):
            seen.update(r[0] for r in rows if check is None or check(r[1]))
            time.sleep(0)
    return len(seen)
