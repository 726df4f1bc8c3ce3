"""The live subscription index: which open subscriptions does a new event match?

An inverted index, as strfry does it: each filter is filed under its most selective field (ids,
then authors, then one tag name's values, then kinds; filters with none of those go in a catch-all
bucket). An event looks up only the buckets for its own id, pubkey, kind and tag values, and the
few candidate filters found there get the full `Filter.matches` test. Cost per event grows with the
number of *candidates*, not with the number of subscriptions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from nostr_desk.protocol.event import Event
from nostr_desk.protocol.filters import Filter


@dataclass(eq=False, slots=True)
class LiveSub:
    """One open subscription of one connection. Identity-hashed: two REQs are two subscriptions."""

    owner: Any  # the connection that gets the events (opaque here)
    sub_id: str
    filters: tuple[Filter, ...]
    # Until EOSE, live matches wait here so they follow the stored ones without duplicates.
    backlog: list[tuple[str, bytes, Event]] | None = field(default_factory=list)
    closed: bool = False
    # The client reused the id in a new REQ, or CLOSEd it: frames still queued under it are dropped.
    replaced: bool = False
    # Ids its REQ served from the store that the store tail had not delivered yet: not sent again live.
    skip_ids: set[str] | None = None


_Entry = tuple[LiveSub, int]  # (subscription, index of the filter); Filter itself is unhashable


class SubscriptionIndex:
    def __init__(self) -> None:
        self._ids: dict[str, set[_Entry]] = {}
        self._authors: dict[str, set[_Entry]] = {}
        self._tags: dict[tuple[str, str], set[_Entry]] = {}
        self._kinds: dict[int, set[_Entry]] = {}
        self._all: set[_Entry] = set()
        self._subs: set[LiveSub] = set()

    def __len__(self) -> int:
        return len(self._subs)

    def add(self, sub: LiveSub) -> None:
        self._subs.add(sub)
        for n, flt in enumerate(sub.filters):
            if not flt.can_match():
                continue  # an empty list matches nothing, ever: no need to file it
            entry = (sub, n)
            for bucket in self._buckets_for(flt):
                bucket.add(entry)

    def remove(self, sub: LiveSub) -> None:
        if sub not in self._subs:
            return
        self._subs.discard(sub)
        for n, flt in enumerate(sub.filters):
            if not flt.can_match():
                continue
            entry = (sub, n)
            for table, key in self._keys_for(flt):
                bucket = table.get(key) if table is not None else self._all
                if bucket is None:
                    continue
                bucket.discard(entry)
                if not bucket and table is not None:
                    del table[key]

    def match(self, event: Event) -> list[LiveSub]:
        """The subscriptions with at least one filter matching `event`, each once."""
        hits: list[LiveSub] = []
        seen: set[int] = set()
        for bucket in self._candidate_buckets(event):
            for sub, n in bucket:
                if id(sub) in seen:
                    continue
                if sub.filters[n].matches(event):
                    seen.add(id(sub))
                    hits.append(sub)
        return hits

    # --- internals ---------------------------------------------------------------------------
    def _keys_for(self, flt: Filter) -> Iterable[tuple[dict | None, Any]]:
        """Where one filter is filed: (table, key) pairs; (None, None) is the catch-all bucket."""
        if flt.ids is not None:
            return [(self._ids, v) for v in flt.ids]
        if flt.authors is not None:
            return [(self._authors, v) for v in flt.authors]
        if flt.tags:
            # One tag name suffices: the event must carry one of its values anyway.
            name = min(flt.tags, key=lambda n: (len(flt.tags[n]), n))
            return [(self._tags, (name, v)) for v in flt.tags[name]]
        if flt.kinds is not None:
            return [(self._kinds, k) for k in flt.kinds]
        return [(None, None)]

    def _buckets_for(self, flt: Filter) -> Iterable[set[_Entry]]:
        for table, key in self._keys_for(flt):
            yield self._all if table is None else table.setdefault(key, set())

    def _candidate_buckets(self, event: Event) -> Iterable[set[_Entry]]:
        if self._all:
            yield self._all
        b = self._ids.get(event.id)
        if b:
            yield b
        b = self._authors.get(event.pubkey)
        if b:
            yield b
        b = self._kinds.get(event.kind)
        if b:
            yield b
        if self._tags:
            for tag in event.tags:
                if len(tag) >= 2:
                    b = self._tags.get((tag[0], tag[1]))
                    if b:
                        yield b
