"""What the Relays and Monitor pages ask of the pool, in one place: rows, add/remove, flags, NIP-11.

Changes go through the app's relay list (`services.relay_list`), which updates the running pool and
the saved settings together; reads come from the pool's health snapshots.
"""

from __future__ import annotations

from typing import Any

from nostr_desk.protocol import nip65
from nostr_desk.protocol.filters import Filter
from nostr_desk.protocol.relay_url import normalize
from nostr_desk.ui.models.relays import RelayRow


class UrlError(ValueError):
    """A relay address the user typed that cannot be used; the message says why."""


def check_url(text: str) -> str:
    text = text.strip()
    if not text:
        raise UrlError("Type a relay address first, e.g. wss://relay.example.com")
    if "://" not in text:
        text = "wss://" + text  # people paste bare host names
    try:
        return normalize(text)
    except ValueError as exc:
        raise UrlError(f"That is not a relay address: {exc}") from None


class PoolAccess:
    def __init__(self, pool: Any, services: Any) -> None:
        self.pool = pool
        self.services = services

    @property
    def relay_list(self) -> Any:
        return self.services.relay_list

    def snapshots(self) -> list[Any]:
        return list(self.pool.health().values())

    def rows(self) -> list[RelayRow]:
        rows = []
        for snap in self.snapshots():
            item = self.relay_list.get(snap.url) if self.relay_list is not None else None
            if item is None:  # a relay the pool reached for someone's outbox, not one of the user's
                continue
            rows.append(RelayRow.from_snapshot(snap, read=item.read, write=item.write, policy=item.auth))
        return rows

    async def add(self, url: str, *, read: bool = True, write: bool = True) -> str:
        return self.relay_list.add(url, read=read, write=write).url

    async def remove(self, url: str) -> None:
        await self.relay_list.remove(url)

    def set_flags(self, url: str, *, read: bool, write: bool) -> None:
        self.relay_list.set_flags(url, read=read, write=write)

    def set_policy(self, url: str, policy: str) -> None:
        self.relay_list.set_policy(url, policy)

    async def nip11(self, url: str) -> Any:
        return await self.pool.relay_info(url)

    def me(self) -> str:
        keys = self.services.vault
        account = keys.active if keys is not None else None
        if account is None:
            raise LookupError("there is no account yet: add one on the Accounts page")
        return account.pubkey

    async def import_list(self) -> int:
        """The account's newest published kind 10002 → the user's relays (added or re-flagged)."""
        me = self.me()
        events = await self.pool.fetch([Filter(authors=frozenset({me}), kinds=frozenset({10002}))])
        events = [e for e in events if e.kind == 10002 and e.pubkey == me]
        if not events:
            return 0
        newest = max(events, key=lambda e: (e.created_at, e.id))
        count = 0
        for entry in nip65.parse_event(newest):
            try:
                url = normalize(entry.url)
            except ValueError:
                continue  # someone else's client wrote a bad URL: skip it, keep the rest
            if self.relay_list.get(url) is None:
                self.relay_list.add(url, read=entry.read, write=entry.write)
            else:
                self.relay_list.set_flags(url, read=entry.read, write=entry.write)
            count += 1
        return count

    async def publish_list(self) -> str:
        """The user's relays and flags, signed and published as their kind 10002 list."""
        entries = [nip65.RelayEntry(i.url, i.read, i.write) for i in self.relay_list.items.values()
                   if i.read or i.write]
        _event, delivery = await self.services.actions.publish_relay_list(entries)
        return delivery.summary() if delivery is not None else "stored locally; no write relays to send it to"
