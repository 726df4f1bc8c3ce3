"""NIP-50 search in the store: what is indexed, how it is folded, and the FTS5 MATCH expressions.

The reference semantics are `filters.matches_search` (every casefolded term is a substring of the
casefolded content), with one store rule on top: encrypted content (kinds 4, 13, 1059, 1060, and any
content shaped like a NIP-04 or NIP-44 payload) is never searched, so ciphertext is neither indexed
nor matched (`searchable`).

The FTS5 table is contentless, `detail=none`, with the trigram tokenizer made case-sensitive: we
store the *casefolded* text ourselves, so "Straße" is indexed as "strasse" and an ASCII term finds it
(the tokenizer's own one-to-one folding could not). With `detail=none` there are no positions, so a
term becomes an AND of some of its trigrams: a superset of the true hits, which every query then
checks exactly against the content (`predicate`). Contentless rows are deleted by giving the indexed
text back (`fts_delete_rows`); the fold depends on Python's Unicode tables, so the store records their
version (`FOLD_VERSION`) and rebuilds the index when it changes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import msgspec

from nostr_desk.protocol.filters import matches_search, search_terms

ENCRYPTED_KINDS = frozenset({4, 13, 1059, 1060})  # NIP-04 DMs, NIP-59 seals and gift wraps
FOLD_VERSION = f"casefold/{unicodedata.unidata_version}"
MIN_TEXT = 3  # a trigram index has nothing for shorter text
TRIGRAMS_PER_TERM = 6  # enough to make a term selective; the exact check does the rest

FTS_TABLE = "CREATE VIRTUAL TABLE events_fts USING fts5 (content, tokenize = 'trigram case_sensitive 1', detail = none, content = '')"

_NIP04 = re.compile(r"[A-Za-z0-9+/]+={0,2}\?iv=[A-Za-z0-9+/]+={0,2}")
# NIP-44 v2: base64 of version byte 0x02 (so it starts with "A") + nonce + ciphertext + MAC >= 132 chars.
_NIP44 = re.compile(r"A[A-Za-z0-9+/]{131,}={0,2}")


class _Doc(msgspec.Struct):
    kind: int = 0
    content: str = ""


_DOC = msgspec.json.Decoder(_Doc)


def looks_encrypted(content: str) -> bool:
    """Content shaped like a NIP-04 (`base64?iv=base64`) or NIP-44 v2 payload."""
    if " " in content or len(content) < 20:  # ciphertext has no spaces; most notes do
        return False
    return _NIP04.fullmatch(content) is not None or _NIP44.fullmatch(content) is not None


def searchable(kind: int, content: str) -> bool:
    return kind not in ENCRYPTED_KINDS and not looks_encrypted(content)


def search_text(kind: int, content: str) -> str | None:
    """The text the FTS index holds for an event, or None when it gets no FTS row."""
    if len(content) * 3 < MIN_TEXT or not searchable(kind, content):  # casefold grows text at most 3x
        return None
    text = content.casefold()
    return text if len(text) >= MIN_TEXT else None


def raw_search_text(raw: bytes) -> str | None:
    """`search_text` of a stored event's raw JSON."""
    doc = _DOC.decode(raw)
    return search_text(doc.kind, doc.content)


def _trigrams(term: str) -> list[str]:
    grams = list(dict.fromkeys(term[i:i + 3] for i in range(len(term) - 2)))
    if len(grams) <= TRIGRAMS_PER_TERM:
        return grams
    step = (len(grams) - 1) / (TRIGRAMS_PER_TERM - 1)  # spread over the term, first and last included
    return [grams[round(i * step)] for i in range(TRIGRAMS_PER_TERM)]


def fts_query(search: str) -> str | None:
    """An FTS5 MATCH expression whose hits include every event `search` matches, or None when no term
    is long enough to use the index (then candidates come from the other conditions)."""
    grams: dict[str, None] = {}
    for term in search_terms(search):
        if len(term) >= MIN_TEXT:
            grams.update(dict.fromkeys(_trigrams(term)))
    if not grams:
        return None
    return " AND ".join('"' + g.replace('"', '""') + '"' for g in grams)


def predicate(search: str) -> Callable[[bytes], bool]:
    """The exact check of one stored event (raw JSON) against a search string."""
    def check(raw: bytes) -> bool:
        doc = _DOC.decode(raw)
        return searchable(doc.kind, doc.content) and matches_search(search, doc.content)
    return check


# --- the index (writer connection) ----------------------------------------------------------------------
def fts_delete_rows(conn, rows) -> None:
    """Remove FTS rows given (seq, raw) of events about to be deleted (contentless: the text is given back)."""
    gone = [(seq, text) for seq, raw in rows if (text := raw_search_text(raw)) is not None]
    if gone:
        conn.executemany("INSERT INTO events_fts (events_fts, rowid, content) VALUES ('delete', ?, ?)", gone)


def check_fold(conn) -> None:
    """Rebuild the index if it was folded with other Unicode tables than this Python's (an upgrade):
    deleting with a differently folded text would corrupt a contentless index. Needs nd_search_text."""
    row = conn.execute("SELECT value FROM store_meta WHERE key = 'fts_fold'").fetchone()
    if row is not None and row[0] == FOLD_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("INSERT INTO events_fts (events_fts) VALUES ('delete-all')")
        conn.execute("INSERT INTO events_fts (rowid, content) "
                     "SELECT seq, t FROM (SELECT seq, nd_search_text(raw) AS t FROM events) WHERE t IS NOT NULL")
        conn.execute("INSERT OR REPLACE INTO store_meta (key, value) VALUES ('fts_fold', ?)", (FOLD_VERSION,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
