"""One client connection as a sans-I/O state machine: frames in, actions out.

The session parses each frame, applies the per-connection rules (size, rate limits, auth state,
subscription limits, the pure write checks) and answers with `Action`s. It does no I/O and reads
no clock of its own (clocks are passed in), so tests drive it with plain strings. The server
performs the actions: sending frames, verifying signatures, storing, querying, indexing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from nostr_desk.protocol.errors import Prefix, ProtocolError
from nostr_desk.protocol.event import Event
from nostr_desk.protocol.filters import Filter
from nostr_desk.protocol.messages import (
    ClientAuth,
    ClientClose,
    ClientCount,
    ClientEvent,
    ClientReq,
    RelayAuth,
    RelayClosed,
    RelayNotice,
    RelayOk,
    encode,
    parse_client_message,
    peek_event_id,
)

from .auth import check_auth
from .config import RelayConfig
from .metrics import Metrics
from .policy import Reject, WriteContext, check_frame_size, precheck
from .ratelimit import TokenBucket
from .subscriptions import LiveSub


# --- actions ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Send:
    frame: str


@dataclass(frozen=True, slots=True)
class Ingest:
    """Verify (off the loop), rate-limit by author, store, answer OK, fan out."""

    event: Event


@dataclass(frozen=True, slots=True)
class VerifyAuth:
    """Run `Session.check_auth` off the event loop (it verifies a signature), then pass its result
    to `Session.auth_checked`."""

    event: Event


@dataclass(frozen=True, slots=True)
class Subscribe:
    sub: LiveSub


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    sub: LiveSub


@dataclass(frozen=True, slots=True)
class Query:
    """Send stored events matching `filters` (limits already clamped), then EOSE."""

    sub: LiveSub
    filters: tuple[Filter, ...]
    readers: frozenset[str]


@dataclass(frozen=True, slots=True)
class Count:
    sub_id: str
    filters: tuple[Filter, ...]
    readers: frozenset[str]


Action = Send | Ingest | VerifyAuth | Subscribe | Unsubscribe | Query | Count


class Session:
    def __init__(
        self,
        config: RelayConfig,
        *,
        challenge: str,
        relay_urls: tuple[str, ...],
        wall_clock: Callable[[], float],
        monotonic: Callable[[], float],
        metrics: Metrics | None = None,
        owner: object = None,
    ) -> None:
        self.config = config
        self.challenge = challenge
        self.relay_urls = relay_urls
        self.authed: frozenset[str] = frozenset()
        self.subs: dict[str, LiveSub] = {}
        self.owner = owner
        self.metrics = metrics or Metrics()
        self._wall = wall_clock
        self._event_bucket = TokenBucket(config.event_rate, monotonic)
        self._req_bucket = TokenBucket(config.req_rate, monotonic)

    # --- entry points ---------------------------------------------------------------------------
    def greeting(self) -> list[Action]:
        """NIP-42: challenge the client as soon as it connects."""
        return [Send(encode(RelayAuth(self.challenge)))]

    def receive(self, data: str | bytes) -> list[Action]:
        """Everything a frame leads to. Every malformed frame gets an answer; none raises."""
        size = _byte_length(data)
        too_big = check_frame_size(size, self.config)
        if too_big is not None:
            return self._oversized(data, too_big)
        try:
            msg = parse_client_message(data)
        except ProtocolError as exc:
            return self._malformed(exc)
        if isinstance(msg, ClientEvent):
            return self._on_event(msg.event)
        if isinstance(msg, ClientReq):
            return self._on_req(msg.sub_id, msg.filters)
        if isinstance(msg, ClientCount):
            return self._on_count(msg.sub_id, msg.filters)
        if isinstance(msg, ClientClose):
            return self._on_close(msg.sub_id)
        return self._on_auth(msg.event)

    def check_auth(self, event: Event) -> ProtocolError | None:
        """NIP-42's check of an AUTH event for this connection; None when it authenticates. Pure but
        for the clock; it verifies the signature, so the server runs it off the event loop."""
        try:
            check_auth(event, relay_urls=self.relay_urls, challenge=self.challenge, now=int(self._wall()),
                       window=self.config.auth_window)
        except ProtocolError as exc:
            return exc
        return None

    def auth_checked(self, event: Event, problem: ProtocolError | None) -> list[Action]:
        if problem is not None:
            return self._ok_false(event.id, Reject(problem.prefix, problem.text))
        self.authed = self.authed | {event.pubkey}  # NIP-42: every AUTHed pubkey counts
        return [Send(encode(RelayOk(event.id, True, "")))]

    def drop(self, sub: LiveSub) -> None:
        """The server ended `sub` (e.g. a slow consumer); forget it if it is still current."""
        sub.closed = True
        if self.subs.get(sub.sub_id) is sub:
            del self.subs[sub.sub_id]

    def close_all(self) -> list[Action]:
        subs, self.subs = list(self.subs.values()), {}
        for sub in subs:
            sub.closed = True
        return [Unsubscribe(s) for s in subs]

    # --- messages -------------------------------------------------------------------------------
    def _on_event(self, event: Event) -> list[Action]:
        if self.config.auth_required and not self.authed:
            return self._ok_false(event.id, Reject(Prefix.AUTH_REQUIRED, "this relay needs AUTH before anything else"))
        if not self._event_bucket.take():
            return self._ok_false(event.id, Reject(Prefix.RATE_LIMITED, f"more than {self.config.event_rate.rate:g} events per second"))
        verdict = precheck(event, self.config, WriteContext(now=int(self._wall()), authed=self.authed))
        if isinstance(verdict, Reject):
            return self._ok_false(event.id, verdict)
        return [Ingest(event)]

    def _on_req(self, sub_id: str, filters: tuple[Filter, ...]) -> list[Action]:
        refusal = self._read_refusal(filters)
        if refusal is not None:
            return self._closed(sub_id, refusal)
        actions: list[Action] = []
        old = self.subs.pop(sub_id, None)
        if old is not None:  # NIP-01: a REQ reusing an id replaces that subscription
            old.closed = old.replaced = True
            actions.append(Unsubscribe(old))
        if len(self.subs) >= self.config.max_subscriptions:
            return [*actions, *self._closed(sub_id, Reject(Prefix.BLOCKED, f"too many subscriptions (at most {self.config.max_subscriptions})"))]
        sub = LiveSub(self.owner, sub_id, filters)
        self.subs[sub_id] = sub
        wanted = tuple(self._clamp(f) for f in filters if f.limit != 0 and f.can_match())
        actions += [Subscribe(sub), Query(sub, wanted, self.authed)]
        return actions

    def _on_count(self, sub_id: str, filters: tuple[Filter, ...]) -> list[Action]:
        refusal = self._read_refusal(filters)
        if refusal is not None:
            return self._closed(sub_id, refusal)
        # COUNT ignores `limit` (NIP-45 counts everything that matches).
        wanted = tuple(dataclasses.replace(f, limit=None) for f in filters if f.can_match())
        return [Count(sub_id, wanted, self.authed)]

    def _on_close(self, sub_id: str) -> list[Action]:
        sub = self.subs.pop(sub_id, None)
        if sub is None:
            return []
        sub.closed = sub.replaced = True
        return [Unsubscribe(sub)]

    def _on_auth(self, event: Event) -> list[Action]:
        return [VerifyAuth(event)]

    # --- rules ----------------------------------------------------------------------------------
    def _read_refusal(self, filters: tuple[Filter, ...]) -> Reject | None:
        """Why a REQ/COUNT is refused outright (CLOSED), or None."""
        if not self._req_bucket.take():
            return Reject(Prefix.RATE_LIMITED, f"more than {self.config.req_rate.rate:g} requests per second")
        if self.config.auth_required and not self.authed:
            return Reject(Prefix.AUTH_REQUIRED, "this relay needs AUTH before anything else")
        if len(filters) > self.config.max_filters:
            return Reject(Prefix.INVALID, f"too many filters (at most {self.config.max_filters})")
        if not self.authed:
            restricted = self.config.restricted_kinds
            if any(f.kinds is not None and f.kinds & restricted for f in filters):
                kinds = ", ".join(str(k) for k in sorted(restricted))
                return Reject(Prefix.AUTH_REQUIRED, f"kinds {kinds} are served only to an authenticated party")
        return None

    def _clamp(self, flt: Filter) -> Filter:
        limit = self.config.default_limit if flt.limit is None else flt.limit
        limit = min(limit, self.config.max_limit)
        return flt if limit == flt.limit else dataclasses.replace(flt, limit=limit)

    # --- answers --------------------------------------------------------------------------------
    def _ok_false(self, event_id: str, reject: Reject) -> list[Action]:
        self.metrics.reject(reject.prefix.value)
        return [Send(encode(RelayOk(event_id, False, reject.message)))]

    def _closed(self, sub_id: str, reject: Reject) -> list[Action]:
        self.metrics.reject(reject.prefix.value)
        return [Send(encode(RelayClosed(sub_id, reject.message)))]

    def _notice(self, message: str) -> list[Action]:
        self.metrics.notices += 1
        return [Send(encode(RelayNotice(message)))]

    def _malformed(self, exc: ProtocolError) -> list[Action]:
        if exc.event_id:
            return self._ok_false(exc.event_id, Reject(exc.prefix, exc.text))
        if exc.sub_id:
            return self._closed(exc.sub_id, Reject(exc.prefix, exc.text))
        self.metrics.reject(exc.prefix.value)
        return self._notice(exc.reason)

    def _oversized(self, data: str | bytes, reject: Reject) -> list[Action]:
        head = data[:4096]
        head_bytes = head.encode("utf-8", "replace") if isinstance(head, str) else bytes(head)
        if head_bytes.lstrip().startswith(b'["EVENT"'):
            event_id = peek_event_id(head_bytes)
            if event_id:
                return self._ok_false(event_id, reject)
        self.metrics.reject(reject.prefix.value)
        return self._notice(reject.message)


def _byte_length(data: str | bytes) -> int:
    if isinstance(data, str):
        return len(data) if data.isascii() else len(data.encode("utf-8", "surrogatepass"))
    return len(data)
