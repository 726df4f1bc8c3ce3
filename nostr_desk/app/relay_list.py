"""The user's relays (URL, NIP-65 read/write flags, NIP-42 AUTH policy), applied to the pool and kept
in the settings file so they survive a restart.

The pool holds connections and read/write lists for this run; this is the one place that changes
both the running pool and the saved list, so the Relays page never has to keep two things in step.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable, Iterable

if TYPE_CHECKING:
    from nostr_desk.pool import RelayPool

log = logging.getLogger(__name__)

POLICIES = ("always", "ask", "never")


@dataclass(frozen=True)
class RelaySetting:
    url: str
    read: bool = True
    write: bool = True
    auth: str = "ask"

    @classmethod
    def from_obj(cls, obj: Any) -> "RelaySetting":
        """A settings entry: a bare URL string, or {"url", "read", "write", "auth"}."""
        if isinstance(obj, str):
            return cls(obj)
        if not isinstance(obj, dict) or not isinstance(obj.get("url"), str):
            raise ValueError("a relay entry is a URL or an object with a url")
        auth = obj.get("auth", "ask")
        if auth not in POLICIES:
            raise ValueError(f"auth must be one of {', '.join(POLICIES)}")
        return cls(obj["url"], bool(obj.get("read", True)), bool(obj.get("write", True)), auth)

    def to_obj(self) -> dict[str, Any]:
        return {"url": self.url, "read": self.read, "write": self.write, "auth": self.auth}


class RelayList:
    def __init__(self, pool: RelayPool, settings: Iterable[RelaySetting], save: Callable[[list[dict]], None]) -> None:
        self.pool = pool
        self._save = save
        self.items: dict[str, RelaySetting] = {}
        for item in settings:
            try:
                self._apply(item)
            except ValueError as exc:  # a hand-edited bad URL must not stop the others
                log.warning("skipping relay %r from the settings: %s", item.url, exc)

    def _apply(self, item: RelaySetting) -> RelaySetting:
        url = self.pool.add_relay(item.url, read=item.read, write=item.write)
        item = replace(item, url=url)
        self.items[url] = item
        self._set_policy(url, item.auth)
        return item

    def get(self, url: str) -> RelaySetting | None:
        return self.items.get(url)

    def add(self, url: str, *, read: bool = True, write: bool = True, auth: str = "ask") -> RelaySetting:
        """Connect and remember; ValueError for a bad URL (the pool's message)."""
        item = self._apply(RelaySetting(url, read, write, auth))
        self.persist()
        return item

    async def remove(self, url: str) -> None:
        self.items.pop(url, None)
        await self.pool.remove_relay(url)
        self.persist()

    def set_flags(self, url: str, *, read: bool, write: bool) -> None:
        item = self.items.get(url)
        if item is None:
            return
        self.items[url] = replace(item, read=read, write=write)
        self.pool.set_flags(url, read=read, write=write)  # live subscriptions join or leave at once
        self.persist()

    def set_policy(self, url: str, policy: str) -> None:
        if policy not in POLICIES or url not in self.items:
            return
        self.items[url] = replace(self.items[url], auth=policy)
        self._set_policy(url, policy)
        self.persist()

    def _set_policy(self, url: str, policy: str) -> None:
        # The pool's setter also forgets an earlier answer and shows the new AUTH state at once.
        self.pool.set_auth_policy(url, policy)

    def persist(self) -> None:
        try:
            self._save([item.to_obj() for item in self.items.values()])
        except (OSError, ValueError):
            log.exception("could not save the relay list")
