"""First-run backfill through the pool: the user's own lists, then the follows' lists and recent notes.

Stages, each reported through a progress callback:
1. "own lists": the user's profile (0), contact list (3) and relay list (10002) from the read relays;
2. "follows' lists": the follows' profiles and NIP-65 relay lists, in chunks of authors;
3. "notes": the follows' notes and reposts of the last `days`, in chunks of authors. The pool reads
   each author from their NIP-65 write relays (the outbox model), which stage 2 just stored.

Everything runs on the pool's background budget (the user's own actions never wait behind it) and
inside one time budget: a fetch never outlives it, and no new chunk starts after it. Events land in
the store through the pool (with provenance); the cache projects them like any others.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from nostr_desk.protocol.event import Event
from nostr_desk.protocol.filters import Filter
from nostr_desk.protocol.keys import is_hex
from nostr_desk.protocol.kinds import CONTACTS, METADATA, RELAY_LIST, REPOST, TEXT_NOTE


@dataclass(frozen=True)
class BackfillConfig:
    days: int = 7                  # how far back the follows' notes go
    authors_per_chunk: int = 100   # many relays refuse a REQ naming thousands of authors
    notes_per_chunk: int = 500     # the limit of each notes REQ
    budget: float = 60.0           # seconds for the whole backfill
    fetch_timeout: float = 8.0     # one fetch's EOSE wait (capped by what is left of the budget)


@dataclass(frozen=True)
class BackfillProgress:
    stage: str   # "own lists" | "follows' lists" | "notes"
    done: int    # chunks finished in this stage
    total: int
    events: int  # events fetched so far, all stages

    def line(self) -> str:
        return f"{self.stage}: {self.done}/{self.total} ({self.events} events so far)"


@dataclass(frozen=True)
class BackfillResult:
    follows: int
    events: int
    complete: bool   # False when the time budget ran out first
    seconds: float


Progress = Callable[[BackfillProgress], None]


class _Budget:
    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.start = clock()
        self.end = self.start + seconds

    def left(self) -> float:
        return self.end - self.clock()

    def elapsed(self) -> float:
        return self.clock() - self.start


async def backfill(pool: Any, user: str, config: BackfillConfig = BackfillConfig(), progress: Progress = lambda _: None,
                   *, relays: Sequence[str] | None = None, clock: Callable[[], float] = time.monotonic,
                   wall: Callable[[], float] = time.time) -> BackfillResult:
    """Fetch the user's lists, then the follows' lists and notes; `relays` overrides where stage 1 reads."""
    budget = _Budget(config.budget, clock)
    fetched = 0

    async def fetch(filters: list[Filter], where: Sequence[str] | None) -> list[Event] | None:
        nonlocal fetched
        left = budget.left()
        if left <= 0:
            return None
        events = await pool.fetch(filters, timeout=min(config.fetch_timeout, left), relays=where, background=True)
        fetched += len(events)
        return events

    mine = Filter(authors=frozenset({user}), kinds=frozenset({METADATA, CONTACTS, RELAY_LIST}))
    own = await fetch([mine], relays)
    follows = follows_of(own or [], user) or _stored_follows(pool, user, wall)
    if own is None and not follows:
        return BackfillResult(0, fetched, False, budget.elapsed())
    progress(BackfillProgress("own lists", 1, 1, fetched))

    chunks = [follows[i : i + config.authors_per_chunk] for i in range(0, len(follows), config.authors_per_chunk)]
    stages = [
        ("follows' lists", lambda c: [Filter(authors=frozenset(c), kinds=frozenset({METADATA, RELAY_LIST}))], relays),
        ("notes", lambda c: [Filter(authors=frozenset(c), kinds=frozenset({TEXT_NOTE, REPOST}),
                                    since=int(wall()) - config.days * 86_400, limit=config.notes_per_chunk)], None),
    ]
    for stage, filters_for, where in stages:
        lists: list[str] = []
        for done, chunk in enumerate(chunks, 1):
            # Notes: no relays named, so the pool plans by each author's write relays (outbox model).
            events = await fetch(filters_for(chunk), where)
            if events is None:
                return BackfillResult(len(follows), fetched, False, budget.elapsed())
            lists += [e.id for e in events if e.kind == RELAY_LIST]
            progress(BackfillProgress(stage, done, len(chunks), fetched))
        # The pool plans the notes stage from the relay lists in the store; the pool hands events to
        # the store's writer without waiting, so wait (briefly) until the lists are committed.
        await _committed(getattr(pool, "store", None), lists, min(2.0, max(0.0, budget.left())))
    return BackfillResult(len(follows), fetched, True, budget.elapsed())


async def _committed(store: Any, ids: list[str], timeout: float) -> None:
    if store is None or not ids:
        return
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end and any(store.get(i) is None for i in ids):
        await asyncio.sleep(0.02)


def follows_of(events: list[Event], user: str) -> list[str]:
    """The `p` entries of the user's newest contact list (NIP-01 replaceable: newest, then lowest id)."""
    lists = [e for e in events if e.kind == CONTACTS and e.pubkey == user]
    if not lists:
        return []
    newest = min(lists, key=lambda e: (-e.created_at, e.id))
    return list(dict.fromkeys(t[1] for t in newest.tags if len(t) > 1 and t[0] == "p" and is_hex(t[1], 64)))


def _stored_follows(pool: Any, user: str, wall: Callable[[], float]) -> list[str]:
    """No relay had the contact list: use the one already in the store, if any."""
    store = getattr(pool, "store", None)
    if store is None:
        return []
    raws = store.query([Filter(authors=frozenset({user}), kinds=frozenset({CONTACTS}), limit=1)], now=int(wall()))
    return follows_of([Event.from_json(r) for r in raws], user)
