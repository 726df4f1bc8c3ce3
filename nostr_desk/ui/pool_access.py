"""What the Relays and Monitor pages ask of the pool, in one place: rows, add/remove, flags, NIP-11.

The pages speak only to this class, so a change in the pool's API is a change here. The user's
NIP-65 flags and AUTH policies are kept by the pool when it offers that, else here for the session.
"""

from __future__ import annotations

import inspect
from typing import Any

from nostr_desk.ui.models.relays import RelayRow


class UrlError(ValueError):
    """A relay address the user typed that cannot be used; the message says why."""


def normalize(url: str) -> str:
    try:
        from nostr_desk.protocol.relay_url import normalize_relay_url
    except ImportError:  # until protocol-nips lands it; the pool carries the same rules meanwhile
        from nostr_desk.pool._url_shim import normalize_relay_url
    return normalize_relay_url(url)


def check_url(text: str) -> str:
    text = text.strip()
    if not text:
        raise UrlError("Type a relay address first, e.g. wss://relay.example.com")
    if "://" not in text:
        text = "wss://" + text  # people paste bare host names
    try:
        return normalize(text)
    except ValueError as exc:
        raise UrlError(str(exc).replace("bad relay URL", "That is not a relay address:")) from None


async def _maybe(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class PoolAccess:
    def __init__(self, pool: Any, services: Any = None) -> None:
        self.pool = pool
        self.services = services
        self.flags: dict[str, tuple[bool, bool]] = {}
        self.policies: dict[str, str] = {}

    def snapshots(self) -> list[Any]:
        for name in ("health_snapshots", "snapshots"):
            method = getattr(self.pool, name, None)
            if callable(method):
                result = method()
                return list(result.values() if isinstance(result, dict) else result)
        return []

    def rows(self) -> list[RelayRow]:
        rows = []
        for snap in self.snapshots():
            read, write = self.get_flags(snap.url)
            rows.append(RelayRow.from_snapshot(snap, read=read, write=write, policy=self.get_policy(snap.url)))
        return rows

    def get_flags(self, url: str) -> tuple[bool, bool]:
        info = getattr(self.pool, "relay_info", None)
        if callable(info):
            data = info(url)
            if data is not None:
                return bool(getattr(data, "read", True)), bool(getattr(data, "write", True))
        return self.flags.get(url, (True, True))

    def get_policy(self, url: str) -> str:
        getter = getattr(self.pool, "auth_policy", None)
        if callable(getter):
            return str(getter(url))
        return self.policies.get(url, "ask")

    async def add(self, url: str, *, read: bool = True, write: bool = True) -> None:
        self.flags[url] = (read, write)
        add = self.pool.add_relay
        params = inspect.signature(add).parameters
        kwargs = {k: v for k, v in {"read": read, "write": write}.items() if k in params}
        await _maybe(add(url, **kwargs))

    async def remove(self, url: str) -> None:
        self.flags.pop(url, None)
        await _maybe(self.pool.remove_relay(url))

    def set_flags(self, url: str, *, read: bool, write: bool) -> None:
        self.flags[url] = (read, write)
        setter = getattr(self.pool, "set_flags", None)
        if callable(setter):
            setter(url, read=read, write=write)

    def set_policy(self, url: str, policy: str) -> None:
        self.policies[url] = policy
        setter = getattr(self.pool, "set_auth_policy", None)
        if callable(setter):
            setter(url, policy)

    async def nip11(self, url: str) -> Any:
        for name in ("fetch_nip11", "nip11", "relay_information"):
            method = getattr(self.pool, name, None)
            if callable(method):
                return await _maybe(method(url))
        raise LookupError("this pool cannot fetch NIP-11 documents")

    async def import_list(self) -> int:
        raise LookupError("importing a relay list needs an account and the cache")

    async def publish_list(self) -> str:
        raise LookupError("publishing a relay list needs an account with a key")
