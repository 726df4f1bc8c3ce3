"""NIP-65 outbox model: where to read an author (their write relays) and where to reach someone
(their read relays), from the kind 10002 lists in the event store, with caps.

Lists are read with the core's protocol/nip65.py; this module adds the store lookup and the caps.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from nostr_desk.protocol import nip65
from nostr_desk.protocol.filters import Filter
from nostr_desk.protocol.kinds import RELAY_LIST

if TYPE_CHECKING:
    from nostr_desk.store import EventStore


def relay_list(tags: list[list[str]]) -> tuple[list[str], list[str]]:
    """(read relays, write relays) of a kind 10002 event's tags (NIP-65 parsing is the core's)."""
    entries = nip65.parse_tags(tags)
    return nip65.read_relays(entries), nip65.write_relays(entries)


def lists_for(store: EventStore, authors: Iterable[str], now: int | None = None) -> dict[str, tuple[list[str], list[str]]]:
    """pubkey -> (read, write) from the newest stored kind 10002 of each author."""
    authors = list(dict.fromkeys(authors))
    if not authors:
        return {}
    raws = store.query([Filter.from_obj({"authors": authors, "kinds": [RELAY_LIST]})],
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
