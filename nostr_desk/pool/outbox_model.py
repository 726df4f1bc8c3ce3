"""NIP-65 outbox model: where to read an author (their write relays) and where to reach someone
(their read relays), from the kind 10002 lists in the event store, with caps.

The `r` tag is ["r", url] (read and write) or ["r", url, "read" | "write"].
TEMPORARY parsing here until protocol/nip65.py (engineer "protocol-nips") lands; then use theirs.
URLs are normalised with protocol/relay_url.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from nostr_desk.protocol.filters import Filter
from nostr_desk.protocol.relay_url import normalize as normalize_relay_url

if TYPE_CHECKING:
    from nostr_desk.store import EventStore

RELAY_LIST_KIND = 10002


def relay_list(tags: list[list[str]]) -> tuple[list[str], list[str]]:
    """(read relays, write relays) of a kind 10002 event's tags; bad URLs are skipped."""
    read, write = [], []
    for tag in tags:
        if len(tag) < 2 or tag[0] != "r":
            continue
        try:
            url = normalize_relay_url(tag[1])
        except ValueError:
            continue
        marker = tag[2] if len(tag) > 2 else ""
        if marker in ("", "read") and url not in read:
            read.append(url)
        if marker in ("", "write") and url not in write:
            write.append(url)
    return read, write


def lists_for(store: EventStore, authors: Iterable[str], now: int | None = None) -> dict[str, tuple[list[str], list[str]]]:
    """pubkey -> (read, write) from the newest stored kind 10002 of each author."""
    authors = list(dict.fromkeys(authors))
    if not authors:
        return {}
    raws = store.query([Filter.from_obj({"authors": authors, "kinds": [RELAY_LIST_KIND]})],
                       now=int(time.time()) if now is None else now)
    out: dict[str, tuple[list[str], list[str]]] = {}
    for raw in raws:       # newest first: keep the first per author
        obj = json.loads(raw)
        out.setdefault(obj["pubkey"], relay_list(obj["tags"]))
    return out


def plan(lists: dict[str, tuple[list[str], list[str]]], authors: Iterable[str], *, per_author: int,
         total: int, use: str = "write", prefer: Iterable[str] = ()) -> dict[str, set[str]]:
    """relay URL -> the authors to ask it about. Each author gets up to `per_author` relays, favouring
    relays already chosen for others (fewer connections) and those in `prefer` (healthy ones); at most
    `total` relays in all. Authors without a list are left out (the caller uses its default relays)."""
    index = 1 if use == "write" else 0
    ranked_pref = {u: i for i, u in enumerate(prefer)}
    chosen: dict[str, set[str]] = {}
    for author in authors:
        urls = lists.get(author, ([], []))[index]
        urls = sorted(urls, key=lambda u: (u not in chosen, ranked_pref.get(u, len(ranked_pref))))
        for url in urls[:per_author]:
            if url not in chosen and len(chosen) >= total:
                continue
            chosen.setdefault(url, set()).add(author)
    return chosen
