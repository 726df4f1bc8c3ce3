"""NIP-50 search in the store: casefolded index (ß -> ss), no ciphertext in the index or in answers,
index rows removed with their events, the v2 -> v3 migration, and a rebuild when the fold changes."""

from __future__ import annotations

import sqlite3

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nostr_desk.protocol import nip44
from nostr_desk.protocol.filters import Filter
from nostr_desk.store import EventStore, StoreConfig
from nostr_desk.store import search
from nostr_desk.store.schema import MIGRATIONS

from .conftest import ALICE, BOB, NOW, ids, make, reference

NIP44_TEXT = nip44.encrypt("secret alpha words", nip44.conversation_key(ALICE, BOB.public_key), bytes(32))
NIP04_TEXT = "c2VjcmV0IGFscGhhIHdvcmRzIGluIGhlcmU=?iv=YWJjZGVmZ2hpamtsbW5vcA=="


def fts_rowids(store: EventStore, trigram: str) -> set[int]:
    conn = store.connect()
    try:
        return {r[0] for r in conn.execute("SELECT rowid FROM events_fts WHERE events_fts MATCH ?", (f'"{trigram}"',))}
    finally:
        conn.close()


def fts_rows(store: EventStore) -> int:
    conn = store.connect()
    try:
        return conn.execute("SELECT count(*) FROM events_fts_docsize").fetchone()[0]
    finally:
        conn.close()


def test_casefold_that_changes_length_is_found():
    assert search.search_text(1, "Die Straße") == "die strasse"
    assert search.search_text(1, "ß") is None  # "ss": still too short for a trigram


def test_sharp_s_and_ligatures_match_like_the_pure_matcher(store):
    street, fine, other = make(content="Große Straße"), make(content="ﬁne print"), make(content="nothing")
    store.save_many([street, fine, other])
    assert ids(store.query([Filter(search="STRASSE")], now=NOW)) == [street.id]
    assert ids(store.query([Filter(search="grosse strasse")], now=NOW)) == [street.id]
    assert ids(store.query([Filter(search="fine")], now=NOW)) == [fine.id]
    assert store.count([Filter(search="straße")], now=NOW) == 1


def test_ciphertext_detection():
    assert search.looks_encrypted(NIP44_TEXT) and search.looks_encrypted(NIP04_TEXT)
    assert not search.looks_encrypted("A" * 200 + " plain words")
    assert not search.looks_encrypted("Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")  # base64-ish but far too short for NIP-44
    assert not search.searchable(1059, "plain") and not search.searchable(13, "plain")


def test_encrypted_content_is_not_indexed_nor_found(store):
    dm = make(kind=4, content="secret alpha words", tags=[["p", BOB.public_key]])
    wrap = make(kind=1059, content="alpha wrapped", tags=[["p", BOB.public_key]])
    seal = make(kind=13, content="alpha sealed")
    nip44_note = make(kind=30078, content=NIP44_TEXT, tags=[["d", "app"]])
    nip04_note = make(kind=1, content=NIP04_TEXT)
    plain = make(content="plain alpha words")
    store.save_many([dm, wrap, seal, nip44_note, nip04_note, plain])
    assert fts_rows(store) == 1  # only the plain note
    assert ids(store.query([Filter(search="alpha")], now=NOW)) == [plain.id]
    assert store.query([Filter(search=NIP44_TEXT[:12])], now=NOW) == []
    assert store.query([Filter(search="iv=")], now=NOW) == []  # no FTS term: the exact check refuses too
    assert store.count([Filter(search="alpha")], now=NOW) == 1
    # the events themselves are stored and served
    assert store.get(dm.id) is not None and store.get(nip44_note.id) is not None


def test_replaced_and_deleted_events_leave_no_index_rows(store):
    v1 = make(kind=0, content='{"name":"oldname"}', created_at=NOW - 10)
    v2 = make(kind=0, content='{"name":"newname"}', created_at=NOW - 5)
    note = make(content="doomed words")
    store.save_many([v1, note, v2])
    assert fts_rowids(store, "old") == set() and len(fts_rowids(store, "new")) == 1
    store.save_many([make(kind=5, tags=[["e", note.id]], created_at=NOW - 1)])
    assert fts_rowids(store, "doo") == set()
    assert fts_rows(store) == 1
    conn = store.connect()
    try:
        conn.execute("INSERT INTO events_fts (events_fts) VALUES ('integrity-check')")
        assert conn.execute("SELECT count(*) FROM tags WHERE eid = ?", (bytes.fromhex(note.id),)).fetchone()[0] == 0
    finally:
        conn.close()


def _old_store(path) -> None:
    """A file as the store wrote it at schema version 2: old tag table, old FTS with raw content."""
    conn = sqlite3.connect(path, isolation_level=None)
    for version, sql in MIGRATIONS:
        if version <= 2:
            conn.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;")
    for n, ev in enumerate([make(content="Alte Straße", tags=[["t", "x"]]), make(BOB, kind=4, content="psst ciphertext")], 1):
        conn.execute("INSERT INTO events (seq, id, pubkey, created_at, kind, raw) VALUES (?, ?, ?, ?, ?, ?)",
                     (n, bytes.fromhex(ev.id), bytes.fromhex(ev.pubkey), ev.created_at, ev.kind, ev.to_bytes()))
        for name, value in [(t[0], t[1]) for t in ev.tags]:
            conn.execute("INSERT INTO tags VALUES (?, ?, ?, ?, ?, ?)", (n, name, value, ev.created_at, bytes.fromhex(ev.id), ev.kind))
        conn.execute("INSERT INTO events_fts (rowid, content) VALUES (?, ?)", (n, ev.content))
    conn.close()


def test_version_2_file_is_migrated_with_its_rows(store_path):
    _old_store(store_path)
    with EventStore.open(StoreConfig(path=store_path)) as s:
        assert len(s.query([Filter(search="strasse")], now=NOW)) == 1
        assert len(s.query([Filter(tags={"t": frozenset({"x"})})], now=NOW)) == 1
        assert s.query([Filter(search="psst")], now=NOW) == []
        assert fts_rows(s) == 1


def test_index_is_rebuilt_when_the_fold_version_changes(store_path):
    note = make(content="Große Straße")
    with EventStore.open(StoreConfig(path=store_path)) as s:
        s.save_many([note])
        conn = s.connect()
        try:  # as if written by a Python with other Unicode tables, whose fold left "ß" alone
            conn.execute("UPDATE store_meta SET value = 'casefold/0' WHERE key = 'fts_fold'")
            conn.execute("INSERT INTO events_fts (events_fts) VALUES ('delete-all')")
            conn.execute("INSERT INTO events_fts (rowid, content) SELECT seq, 'große straße' FROM events")
        finally:
            conn.close()
        assert s.query([Filter(search="strasse")], now=NOW) == []
    with EventStore.open(StoreConfig(path=store_path)) as s:
        assert ids(s.query([Filter(search="strasse")], now=NOW)) == [note.id]
        conn = s.connect()
        try:
            assert conn.execute("SELECT value FROM store_meta WHERE key = 'fts_fold'").fetchone()[0] == search.FOLD_VERSION
        finally:
            conn.close()


def test_long_terms_use_a_few_spread_trigrams():
    q = search.fts_query("abcdefghijklmnop")
    grams = q.split(" AND ")
    assert len(grams) == search.TRIGRAMS_PER_TERM and grams[0] == '"abc"' and grams[-1] == '"nop"'
    assert search.fts_query("ab zz x:long") is None
    assert search.fts_query('a"b') == '"a""b"'


# --- hypothesis: FTS path == pure matcher over text whose casefold changes length or letters ----------
ALPHABET = "aAbsSßẞﬁﬀİiıΣσςΐkK ǅ\u0301é"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(contents=st.lists(st.text(ALPHABET, min_size=0, max_size=12), min_size=1, max_size=8),
       search_=st.text(ALPHABET, min_size=1, max_size=8))
def test_search_agrees_with_the_pure_matcher(tmp_path_factory, contents, search_):
    events = [make(content=c, created_at=NOW - i) for i, c in enumerate(contents)]
    path = tmp_path_factory.mktemp("fold") / "s.sqlite3"
    queries = [search_, search_.casefold(), search_.upper()] + [c.casefold()[1:7] for c in contents]
    with EventStore.open(StoreConfig(path=path)) as s:
        s.save_many(events, now=NOW)
        for text in queries:
            if not text.strip():
                continue
            fs = [Filter(search=text)]
            assert ids(s.query(fs, now=NOW)) == [e.id for e in reference(events, fs)], text
            assert s.count(fs, now=NOW) == len(reference(events, fs)), text
