"""The receiving half of a `RelayConnection`: every frame a relay sends, dispatched.

EVENT frames are sliced without parsing and handed to the subscription's callback as raw bytes
(the pool de-duplicates before verifying); everything else goes through the core's
`parse_relay_message`: OK resolves a publish waiter, EOSE/CLOSED finish a subscription's first pass
(CLOSED `auth-required:` authenticates and re-sends, `rate-limited:` waits and re-sends), NOTICE and
OK-false feed rate-limit detection, AUTH stores the challenge (and answers at once when the policy
is "always"). A mixin: it uses the connection's state (`subs`, `health`, `auth`, `backoff`, ...);
REQs go out through requests.py.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from nostr_desk.protocol.errors import Prefix, ProtocolError
from nostr_desk.protocol.messages import (
    RelayAuth, RelayClosed, RelayEose, RelayEvent, RelayNotice, RelayOk, parse_relay_message,
)

from .backoff import Failure
from .dedup import split_event_frame, split_event_frame_slow

if TYPE_CHECKING:
    from .connection import RelayConnection, SubState


class FrameHandler:
    def _on_frame(self: RelayConnection, frame: bytes) -> None:
        self.health.bytes_in += len(frame)
        if frame.startswith(b'["EVENT"'):
            parts = split_event_frame(frame) or split_event_frame_slow(frame)
            if parts is None:
                self.health.last_error = "malformed EVENT frame"
                return
            sub = self.subs.get(parts[0])
            if sub is None:
                return
            self.health.events_received += 1
            if not sub.first_event_seen:
                sub.first_event_seen = True
                self.health.sample("first_event_ms", (self.clock() - sub.sent_at) * 1000)
            sub.on_event(self.url, parts[0], parts[1])
            if sub.behind is not None and sub.behind():
                self._stalled = sub
            return
        try:
            msg = parse_relay_message(frame)
        except ProtocolError as exc:
            self.health.last_error = exc.reason[:300]
            return
        match msg:
            case RelayOk(event_id, accepted, message):
                fut = self._ok_waiters.get(event_id)
                if fut is not None and not fut.done():
                    fut.set_result((accepted, message))
            case RelayEose(sub_id):
                self._on_eose(sub_id)
            case RelayClosed(sub_id, message):
                self._on_closed(sub_id, message)
            case RelayEvent(sub_id, event):   # a non-compact frame the fast path let through
                sub = self.subs.get(sub_id)
                if sub is not None:
                    self.health.events_received += 1
                    sub.on_event(self.url, sub_id, event.to_bytes())
            case RelayNotice(message):
                with self._rejections():
                    self.health.notice(message, self.config.rate_limit_pause)
            case RelayAuth(challenge):
                self.auth.set_challenge(challenge)
                self.health.auth = self.auth.state
                # "always" answers the first challenge of a connection unasked; later ones only
                # when the relay asks with auth-required:, so a relay rotating challenges cannot
                # make us sign (and reach into the keyring) once per AUTH message.
                if self.auth.policy == "always" and not self._answered_unasked:
                    self._answered_unasked = True
                    self._spawn(self._authenticate())

    def _on_eose(self: RelayConnection, sub_id: str) -> None:
        sub = self.subs.get(sub_id)
        if sub is None or sub.eose:
            return
        sub.eose = True
        sub.rate_retries = 0
        sub.complete_at = int(self.wall())
        self.health.sample("eose_ms", (self.clock() - sub.sent_at) * 1000)
        self.health.success()
        sub.eose_event.set()
        sub.on_eose(self.url, sub_id, "")

    @contextlib.contextmanager
    def _rejections(self: RelayConnection):
        """Around a health call that may count a rate-limit signal: if it did, stretch the pause by
        the backoff's rejection schedule (repeated rejections get the longer floor)."""
        before = self.health.rate_limited
        yield
        if self.health.rate_limited > before:
            delay = self.backoff.failed(Failure.REJECTED)
            self.health.paused_until = max(self.health.paused_until, self.clock() + delay)

    def _on_closed(self: RelayConnection, sub_id: str, message: str) -> None:
        sub = self.subs.get(sub_id)
        with self._rejections():
            self.health.closed(message, self.config.rate_limit_pause)
        if sub is None:
            return
        if Prefix.of(message) is Prefix.RATE_LIMITED and sub.rate_retries < self.config.closed_retries:
            sub.rate_retries += 1
            # The signal above set the pause, so this REQ is held back until it is over.
            self._spawn(self._send_req(sub, self._since_filters(sub)))
            return
        if Prefix.of(message) is Prefix.AUTH_REQUIRED and not sub.auth_retried and self.auth.may_try():
            sub.auth_retried = True
            self._spawn(self._auth_then_resend(sub))
            return
        sub.closed = message
        sub.eose_event.set()
        sub.on_closed(self.url, sub_id, message)

    async def _auth_then_resend(self: RelayConnection, sub: SubState) -> None:
        if await self._authenticate() and sub.sub_id in self.subs:
            await self._send_req(sub, self._since_filters(sub))
            return
        sub.closed = "auth-required: authentication refused or failed"
        sub.eose_event.set()
        sub.on_closed(self.url, sub.sub_id, sub.closed)
