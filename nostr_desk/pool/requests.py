"""The requesting half of a `RelayConnection`: REQ and CLOSE, resubscribing after a reconnect.

A REQ is held back while the relay has asked us to pause (a rate-limit signal): new, CLOSED-retried
and resubscribed REQs alike are queued in `_deferred` and sent in order by one helper task once the
pause is over, even though the socket stays open. A resubscribe asks only for events since the
subscription was last known complete (its EOSE, or the drop of a connection that was streaming it
live), minus `resubscribe_margin` for late notes and skewed author clocks. A mixin over the
connection's state (`subs`, `health`, `config`, ...).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from nostr_desk.protocol.filters import Filter
from nostr_desk.protocol.messages import ClientClose, ClientReq, encode

if TYPE_CHECKING:
    from .connection import RelayConnection, SubState


class NotConnected(ConnectionError):
    """The relay's socket is not open (or just went): the caller retries later."""


class RequestSender:
    def _mark_complete(self: RelayConnection) -> None:
        """Subscriptions past EOSE were streamed live until now: complete up to this moment."""
        now = int(self.wall())
        for sub in self.subs.values():
            if sub.eose and sub.closed is None:
                sub.complete_at = now

    async def subscribe(self: RelayConnection, sub: SubState) -> None:
        """Register and (when connected) send the REQ; it is re-sent after every reconnect.

        The send runs in a helper task: a relay whose socket is stuck (it stopped reading) holds
        up its own REQ for up to `send_timeout`, never the caller nor the other relays' REQs."""
        self.subs[sub.sub_id] = sub
        self.last_used = self.clock()
        self.start()
        if self.connected:
            self._spawn(self._send_req(sub, sub.filters))

    async def unsubscribe(self: RelayConnection, sub_id: str) -> None:
        self.last_used = self.clock()
        sub = self.subs.pop(sub_id, None)
        self._deferred.pop(sub_id, None)
        if sub is not None and sub.closed is None and self.connected:
            with contextlib.suppress(NotConnected):
                await self.send(encode(ClientClose(sub_id)))

    async def _send_req(self: RelayConnection, sub: SubState, filters: tuple[Filter, ...]) -> None:
        if self.subs.get(sub.sub_id) is not sub:
            return          # unsubscribed before this (spawned) send ran: no REQ after the CLOSE
        if self.health.paused_for() > 0:
            self._defer(sub)
            return
        self._deferred.pop(sub.sub_id, None)     # sent now (a reconnect's resubscribe): not again later
        sub.sent_at = self.clock()
        sub.first_event_seen = False
        sub.eose = False
        sub.closed = None
        sub.eose_event.clear()
        with contextlib.suppress(NotConnected):
            await self.send(encode(ClientReq(sub.sub_id, filters)))

    def _defer(self: RelayConnection, sub: SubState) -> None:
        """The relay asked us to slow down: hold this REQ until the pause is over. One task sends
        the held REQs in order, checking the pause again before each (a new signal stretches it)."""
        sub.eose = False
        sub.eose_event.clear()
        if not self._deferred:
            self._spawn(self._send_deferred())
        self._deferred[sub.sub_id] = sub

    async def _send_deferred(self: RelayConnection) -> None:
        while self._deferred:
            wait = self.health.paused_for()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            sub_id, sub = next(iter(self._deferred.items()))
            del self._deferred[sub_id]
            if self.subs.get(sub_id) is sub and self.connected:
                await self._send_req(sub, self._since_filters(sub))

    async def _resubscribe(self: RelayConnection) -> None:
        for sub in list(self.subs.values()):
            await self._send_req(sub, self._since_filters(sub))

    def _since_filters(self: RelayConnection, sub: SubState) -> tuple[Filter, ...]:
        if sub.complete_at is None:
            return sub.filters
        since = max(0, int(sub.complete_at - self.config.resubscribe_margin))
        return tuple(_with_since(f, since) for f in sub.filters)


def _with_since(f: Filter, since: int) -> Filter:
    obj = f.to_obj()
    obj["since"] = max(since, obj.get("since") or 0)
    return Filter.from_obj(obj)
