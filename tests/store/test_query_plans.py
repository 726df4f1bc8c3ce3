"""The common queries read an index in NIP-01 order: no temp B-tree sort, no full scan (EXPLAIN)."""

from __future__ import annotations

import pytest

from nostr_desk.protocol.filters import Filter
from nostr_desk.store import query as q

from .conftest import ALICE, BOB, NOW, make

CASES = {
    "author": Filter(authors=frozenset({ALICE.public_key}), limit=500),
    "authors": Filter(authors=frozenset({ALICE.public_key, BOB.public_key}), limit=500),
    "author+kinds": Filter(authors=frozenset({ALICE.public_key}), kinds=frozenset({1, 7}), limit=500),
    "feed": Filter(authors=frozenset({ALICE.public_key, BOB.public_key}), kinds=frozenset({1, 6}), since=NOW - 86400, limit=500),
    "profiles": Filter(authors=frozenset({ALICE.public_key, BOB.public_key}), kinds=frozenset({0, 3, 10002})),
    "articles": Filter(authors=frozenset({ALICE.public_key}), kinds=frozenset({30023}), limit=20),
    "kind+since": Filter(kinds=frozenset({1}), since=NOW - 3600, limit=500),
    "tag": Filter(tags={"p": frozenset({BOB.public_key})}, limit=500),
    "tag+kind": Filter(tags={"e": frozenset({"a" * 64})}, kinds=frozenset({7}), limit=500),
    "ids": Filter(ids=frozenset({"a" * 64, "b" * 64})),
    "recent": Filter(limit=50),
}


def plan_text(conn, sql: str, params) -> str:
    return "\n".join(row[-1] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))


@pytest.mark.parametrize("name", sorted(CASES))
def test_no_sort_no_scan(store, name):
    store.save_many([make(content="x", tags=[["p", BOB.public_key]]), make(BOB, kind=7)])
    conn = store.connect()
    try:
        conn.execute("ANALYZE")  # plans must hold with statistics too
        p = q.plan(CASES[name], NOW, readers=frozenset({ALICE.public_key}))
        for s in p.streams:
            first = s.sql + f" ORDER BY {s.created_col} DESC, {s.id_col} LIMIT ?"
            after = f"{s.sql} AND {s.created_col} <= ? AND ({s.created_col} < ? OR {s.id_col} > ?) ORDER BY {s.created_col} DESC, {s.id_col} LIMIT ?"
            sqls = [(s.sql, s.params)] if p.by_ids else [(first, (*s.params, 10)), (after, (*s.params, NOW, NOW, "0", 10))]
            for sql, params in sqls:
                text = plan_text(conn, sql, params)
                assert "TEMP B-TREE" not in text, text
                if name != "recent":
                    assert "SCAN e" not in text and "SCAN t" not in text, text
    finally:
        conn.close()
