"""`LocalRelay`: the relay as the rest of the app sees it (start, stop, URL, metrics, local posts).

The app builds one with its `RelayConfig` and the shared `EventStore`, starts it in its event loop,
Events that other parts of the app (the pool) or other processes (`nostr-desk post`, `import`) save
into the same store reach live subscribers on their own: the relay tails the store (relay/tail.py).
`notify_stored` only makes that delivery immediate instead of up to `tail_interval` later.
"""

from __future__ import annotations

from nostr_desk.protocol.errors import InvalidEvent
from nostr_desk.protocol.event import Event
from nostr_desk.store import EventStore, SaveResult

from .config import RelayConfig
from .metrics import MetricsSnapshot
from .server import RelayServer


class LocalRelay:
    def __init__(self, config: RelayConfig, store: EventStore) -> None:
        self.config = config
        self.store = store
        self._server = RelayServer(config, store)
        self._running = False

    async def start(self) -> None:
        await self._server.start()
        self._running = True

    @property
    def running(self) -> bool:
        """True between a successful `start` and `stop` (read by the UI's status displays)."""
        return self._running

    @property
    def url(self) -> str:
        host = self.config.host
        if ":" in host:
            host = f"[{host}]"
        return f"ws://{host}:{self._server.port}"

    @property
    def port(self) -> int:
        return self._server.port

    async def stop(self) -> None:
        """Stop accepting, close clients with 1001, wait for in-flight events to be committed.
        The store itself belongs to the caller, who closes it after this returns."""
        if self._running:
            self._running = False
            await self._server.stop()

    def metrics(self) -> MetricsSnapshot:
        return self._server.metrics.snapshot(
            subscriptions=len(self._server.index), queue_depths=self._server.queue_depths()
        )

    async def publish_local(self, event: Event) -> SaveResult:
        """Store the app's own event and deliver it to live subscribers. The event is verified
        (off the loop) even though we signed it: the store must never hold a bad signature."""
        if not await self._server.verifier.verify(event):
            raise InvalidEvent("event id or signature is not valid", event_id=event.id)
        return await self._server.store_and_fan_out(event)

    async def notify_stored(self, raw: bytes, event: Event) -> None:
        """Deliver an event that another part of the app already saved to live subscribers now
        (the store tail would deliver it within `tail_interval`; it is never delivered twice)."""
        self._server.fan_out_stored(event, raw)
