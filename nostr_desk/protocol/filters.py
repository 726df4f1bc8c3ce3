"""REQ/COUNT filters (NIP-01): parsing and validation, matching, and the NIP-01 result order.

`select` is the naive reference engine: the SQL query path and the live subscription index are
tested against it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidFilter
from .event import Event
from .keys import is_hex

_TAG_KEY = re.compile(r"#[a-zA-Z]")
_KNOWN = frozenset({"ids", "authors", "kinds", "since", "until", "limit", "search"})


@dataclass(frozen=True, slots=True)
class Filter:
    """One filter. `None` means "no condition"; an empty set matches nothing (NIP-01)."""

    ids: frozenset[str] | None = None
    authors: frozenset[str] | None = None
    kinds: frozenset[int] | None = None
    tags: dict[str, frozenset[str]] = field(default_factory=dict)  # "e" -> values
    since: int | None = None
    until: int | None = None
    limit: int | None = None
    search: str | None = None

    @classmethod
    def from_obj(cls, obj: Any) -> Filter:
        if not isinstance(obj, dict):
            raise InvalidFilter("a filter must be a JSON object")
        tags: dict[str, frozenset[str]] = {}
        for key, value in obj.items():
            if not isinstance(key, str):
                raise InvalidFilter("filter field names must be strings")
            if key.startswith("#"):
                # fullmatch: with match(), `$` also accepts a trailing newline ("#e\n").
                if not _TAG_KEY.fullmatch(key):
                    raise InvalidFilter(f"tag filter {key[:20]!r} must be '#' and one letter")
                tags[key[1:]] = frozenset(_strings(key, value))
            elif key not in _KNOWN:
                raise InvalidFilter(f"unknown filter field {key[:20]!r}")
        return cls(
            ids=_hex_set(obj, "ids"),
            authors=_hex_set(obj, "authors"),
            kinds=_int_set(obj, "kinds"),
            tags=tags,
            since=_int_or_none(obj, "since"),
            until=_int_or_none(obj, "until"),
            limit=_limit(obj),
            search=_search(obj),
        )

    def to_obj(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.ids is not None:
            out["ids"] = sorted(self.ids)
        if self.authors is not None:
            out["authors"] = sorted(self.authors)
        if self.kinds is not None:
            out["kinds"] = sorted(self.kinds)
        for name in sorted(self.tags):
            out["#" + name] = sorted(self.tags[name])
        for key in ("since", "until", "limit", "search"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    def matches(self, event: Event) -> bool:
        if self.ids is not None and event.id not in self.ids:
            return False
        if self.authors is not None and event.pubkey not in self.authors:
            return False
        if self.kinds is not None and event.kind not in self.kinds:
            return False
        if self.since is not None and event.created_at < self.since:
            return False
        if self.until is not None and event.created_at > self.until:
            return False
        for name, wanted in self.tags.items():
            if not any(len(t) >= 2 and t[0] == name and t[1] in wanted for t in event.tags):
                return False
        if self.search is not None and not matches_search(self.search, event.content):
            return False
        return True

    def can_match(self) -> bool:
        """False when the filter can match nothing (an empty list, since > until)."""
        if any(s is not None and not s for s in (self.ids, self.authors, self.kinds)):
            return False
        if any(not v for v in self.tags.values()):
            return False
        return not (self.since is not None and self.until is not None and self.since > self.until)


def sort_key(event: Event) -> tuple[int, str]:
    """NIP-01 result order: newest first, then lowest id first."""
    return (-event.created_at, event.id)


def select(events: Iterable[Event], filters: Sequence[Filter]) -> list[Event]:
    """The naive engine: every filter applied (each with its own limit), OR'd, de-duplicated, ordered."""
    pool = sorted(events, key=sort_key)
    chosen: dict[str, Event] = {}
    for flt in filters:
        if flt.limit == 0 or not flt.can_match():
            continue
        hits = [e for e in pool if flt.matches(e)]
        if flt.limit is not None:
            hits = hits[: flt.limit]
        for e in hits:
            chosen[e.id] = e
    return sorted(chosen.values(), key=sort_key)


def search_terms(query: str) -> list[str]:
    """NIP-50 terms, without `key:value` extensions (which relays may ignore)."""
    return [w.casefold() for w in query.split() if ":" not in w]


def matches_search(query: str, content: str) -> bool:
    text = content.casefold()
    return all(term in text for term in search_terms(query))


def _hex_set(obj: dict, key: str) -> frozenset[str] | None:
    if key not in obj:
        return None
    values = obj[key]
    if not isinstance(values, list) or not all(is_hex(v, 64) for v in values):
        raise InvalidFilter(f"{key!r} must be a list of 64-character lowercase hex strings")
    return frozenset(values)


def _int_set(obj: dict, key: str) -> frozenset[int] | None:
    if key not in obj:
        return None
    values = obj[key]
    if not isinstance(values, list) or not all(_is_int(v) and 0 <= v <= 2**31 for v in values):
        raise InvalidFilter(f"{key!r} must be a list of non-negative integers")
    return frozenset(values)


def _strings(key: str, values: Any) -> list[str]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise InvalidFilter(f"{key!r} must be a list of strings")
    return values


def _int_or_none(obj: dict, key: str) -> int | None:
    if key not in obj:
        return None
    value = obj[key]
    if not _is_int(value) or abs(value) >= 2**63:
        raise InvalidFilter(f"{key!r} must be an integer timestamp")
    return value


def _limit(obj: dict) -> int | None:
    value = _int_or_none(obj, "limit")
    if value is not None and value < 0:
        raise InvalidFilter("'limit' must not be negative")
    return value


def _search(obj: dict) -> str | None:
    value = obj.get("search")
    if value is not None and not isinstance(value, str):
        raise InvalidFilter("'search' must be a string")
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
