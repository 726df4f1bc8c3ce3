"""Fixtures for posting: real local relays on 127.0.0.1 (each with its own store file), a real pool,
and a real in-process signer. Relays can be started late on a port picked in advance ("down at first")."""

from __future__ import annotations

import asyncio
import hashlib
import socket
from pathlib import Path

from nostr_desk.app.posting import Poster
from nostr_desk.keys.signer import Signer
from nostr_desk.pool.config import PoolConfig
from nostr_desk.pool.pool import RelayPool
from nostr_desk.protocol.keys import SecretKey
from nostr_desk.relay import LocalRelay, RelayConfig
from nostr_desk.store import EventStore, StoreConfig


def signer(name: str, clock=None) -> Signer:
    secret = SecretKey(hashlib.sha256(name.encode()).digest())
    return Signer(secret, clock=clock) if clock else Signer(secret)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Relay:
    """A LocalRelay over its own store file, startable on a fixed port (so it can be 'down' first)."""

    def __init__(self, path: Path, port: int | None = None) -> None:
        self.path, self.port = path, port or free_port()
        self.store: EventStore | None = None
        self.relay: LocalRelay | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def start(self) -> Relay:
        self.store = EventStore.open(StoreConfig(path=self.path))
        self.relay = LocalRelay(RelayConfig(port=self.port), self.store)
        await self.relay.start()
        return self

    async def stop(self) -> None:
        if self.relay is not None:
            await self.relay.stop()
            self.relay = None
        if self.store is not None:
            self.store.close()
            self.store = None

    def has(self, event_id: str) -> bool:
        store = self.store or EventStore.open(StoreConfig(path=self.path))
        try:
            return store.get(event_id) is not None
        finally:
            if store is not self.store:
                store.close()


def fast_pool_config() -> PoolConfig:
    return PoolConfig(connect_timeout=1.0, eose_timeout=2.0, ok_timeout=2.0, ping_interval=0, backoff_base=0.05,
                      backoff_cap=0.3, backoff_http_floor=0.3, backoff_rejection_floor=0.3,
                      breaker_failure_threshold=1000, outbox_retry_interval=0.2, auth_default="always")


def arun(coro, timeout: float = 60.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def make_poster(tmp: Path, who: Signer, store: EventStore | None = None) -> tuple[Poster, EventStore]:
    store = store or EventStore.open(StoreConfig(path=tmp / "mine.sqlite3"))
    pool = RelayPool(fast_pool_config(), store)
    return Poster(who, store, pool), store
