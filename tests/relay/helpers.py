"""Relay test helpers: deterministic keys, signed events, a relay on a free port over a real store
file, and a small websockets client that reads NIP-01 replies without sleeps-as-asserts."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from nostr_desk.protocol.event import Event, EventTemplate, sign
from nostr_desk.protocol.keys import SecretKey
from nostr_desk.relay import LocalRelay, RelayConfig
from nostr_desk.store import EventStore, StoreConfig

WAIT = 5.0  # seconds any single expected reply may take


def key(n: int) -> SecretKey:
    return SecretKey(hashlib.sha256(f"relay-test-key-{n}".encode()).digest())


ALICE, BOB, CAROL = key(1), key(2), key(3)


def now() -> int:
    return int(time.time())


def make(sk: SecretKey, kind: int = 1, content: str = "", tags: list[list[str]] | None = None,
         created_at: int | None = None) -> Event:
    ts = now() if created_at is None else created_at
    aux = hashlib.sha256(f"{kind}{content}{tags}{ts}".encode()).digest()
    return sign(EventTemplate(kind, content, tags or [], ts), sk, aux_rand=aux)


def frame(*parts: Any) -> str:
    return json.dumps(list(parts), ensure_ascii=False)


@asynccontextmanager
async def running_relay(tmp_path: Path, **overrides: Any) -> AsyncIterator[LocalRelay]:
    """A relay on 127.0.0.1, a free port, over a real SQLite file in tmp_path."""
    store = EventStore.open(StoreConfig(path=tmp_path / "relay.sqlite3"))
    relay = LocalRelay(RelayConfig(port=0, **overrides), store)
    await relay.start()
    try:
        yield relay
    finally:
        await relay.stop()
        store.close()


class Client:
    """One websocket to the relay; keeps replies it has not been asked for yet."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.inbox: list[list] = []
        self.challenge: str | None = None

    @classmethod
    @asynccontextmanager
    async def open(cls, url: str, **kwargs: Any) -> AsyncIterator[Client]:
        async with connect(url, open_timeout=WAIT, close_timeout=2, **kwargs) as ws:
            client = cls(ws)
            first = await client.next(lambda m: m[0] == "AUTH")
            client.challenge = first[1]
            yield client

    async def send(self, *parts: Any) -> None:
        await self.ws.send(frame(*parts))

    async def send_raw(self, text: str | bytes) -> None:
        await self.ws.send(text)

    async def next(self, match: Callable[[list], bool] = lambda m: True, timeout: float = WAIT) -> list:
        """The first reply (buffered or new) for which `match` holds."""
        for i, msg in enumerate(self.inbox):
            if match(msg):
                return self.inbox.pop(i)
        async with asyncio.timeout(timeout):
            while True:
                msg = json.loads(await self.ws.recv())
                if match(msg):
                    return msg
                self.inbox.append(msg)

    async def nothing(self, match: Callable[[list], bool] = lambda m: True, wait: float = 0.3) -> None:
        """Assert no matching reply arrives within `wait` seconds (used only for must-not-deliver)."""
        try:
            msg = await self.next(match, timeout=wait)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected reply: {msg}")

    async def publish(self, event: Event | dict) -> tuple[bool, str]:
        obj = event.to_obj() if isinstance(event, Event) else event
        await self.send("EVENT", obj)
        reply = await self.next(lambda m: m[0] == "OK" and m[1] == obj["id"])
        return reply[2], reply[3]

    async def req(self, sub_id: str, *filters: dict) -> list[dict]:
        """Stored events of a REQ, in the order sent; raises if the relay answers CLOSED."""
        await self.send("REQ", sub_id, *filters)
        events = []
        while True:
            msg = await self.next(lambda m: m[0] in ("EVENT", "EOSE", "CLOSED") and m[1] == sub_id)
            if msg[0] == "EVENT":
                events.append(msg[2])
            elif msg[0] == "EOSE":
                return events
            else:
                raise Refused(msg[2])

    async def closed_reason(self, sub_id: str, *filters: dict) -> str:
        await self.send("REQ", sub_id, *filters)
        msg = await self.next(lambda m: m[0] in ("EOSE", "CLOSED") and m[1] == sub_id)
        assert msg[0] == "CLOSED", f"expected CLOSED, got {msg}"
        return msg[2]

    async def count(self, sub_id: str, *filters: dict) -> int:
        await self.send("COUNT", sub_id, *filters)
        msg = await self.next(lambda m: m[0] in ("COUNT", "CLOSED") and m[1] == sub_id)
        if msg[0] == "CLOSED":
            raise Refused(msg[2])
        return msg[2]["count"]

    async def live(self, sub_id: str, timeout: float = WAIT) -> dict:
        msg = await self.next(lambda m: m[0] == "EVENT" and m[1] == sub_id, timeout=timeout)
        return msg[2]

    async def auth(self, sk: SecretKey, url: str, *, challenge: str | None = None, kind: int = 22242,
                   created_at: int | None = None) -> tuple[bool, str]:
        tags = [["relay", url], ["challenge", self.challenge if challenge is None else challenge]]
        event = make(sk, kind, "", tags, created_at)
        await self.send("AUTH", event.to_obj())
        reply = await self.next(lambda m: m[0] == "OK" and m[1] == event.id)
        return reply[2], reply[3]


class Refused(Exception):
    """The relay answered a REQ/COUNT with CLOSED."""


def ids(events: list[dict]) -> list[str]:
    return [e["id"] for e in events]
