"""`RelayConnection`: one websocket to one relay URL, kept alive.

Connects with a timeout; reconnects with capped exponential backoff + jitter (longer after HTTP
errors on the upgrade and after repeated rejections); a circuit breaker short-circuits a relay that
keeps failing; pings for round-trip time; resubscribes after a reconnect with `since` set to when the
subscription was last known complete (its EOSE, or the drop of a connection that was streaming it
live) minus a safety margin for late notes and skewed clocks. NIP-42: a challenge is answered
through an injected async signer when the per-relay policy allows (always / ask / never); whatever
failed with `auth-required:` is retried after authenticating. A rate-limit signal pauses the relay:
no reconnect, publish or REQ (new, re-sent or resubscribed) goes out until the pause is over, even
on a socket that is still open. Helper tasks are owned by the connection and cancelled on close.

What arrives is dispatched by the `FrameHandler` mixin (receiving.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from nostr_desk.protocol.errors import Prefix
from nostr_desk.protocol.event import Event
from nostr_desk.protocol.filters import Filter
from nostr_desk.protocol.messages import ClientAuth, ClientClose, ClientEvent, ClientReq, encode

from .auth import AuthGate
from .backoff import Backoff, Failure
from .breaker import BreakerState, CircuitBreaker
from .config import PoolConfig
from .health import RelayHealth
from .notices import NoticeHub, StatusChanged
from .receiving import FrameHandler
from .requests import NotConnected, RequestSender

EventSink = Callable[[str, str, bytes], None]          # (url, sub_id, raw event)
DOWN_STATES = frozenset({"backoff", "waiting", "breaker-open", "closed"})
SubSink = Callable[[str, str, str], None]              # (url, sub_id, message) for EOSE / CLOSED


@dataclass
class SubState:
    sub_id: str
    filters: tuple[Filter, ...]
    on_event: EventSink
    on_eose: SubSink
    on_closed: SubSink
    sent_at: float = 0.0
    first_event_seen: bool = False
    eose: bool = False
    complete_at: int | None = None    # wall time up to which this sub is known complete
    closed: str | None = None
    auth_retried: bool = False
    rate_retries: int = 0
    eose_event: asyncio.Event = field(default_factory=asyncio.Event)
    # Backpressure: `behind()` says the consumer's unverified backlog is full; the connection then
    # stops reading this relay until `caught_up()` returns (TCP slows the relay down).
    behind: Callable[[], bool] | None = None
    caught_up: Callable[[], Awaitable[None]] | None = None


class RelayConnection(FrameHandler, RequestSender):
    def __init__(self, url: str, config: PoolConfig, *, notices: NoticeHub | None = None,
                 health: RelayHealth | None = None, auth: AuthGate | None = None,
                 clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time,
                 rng: random.Random | None = None) -> None:
        self.url = url
        self.config = config
        self.notices = notices or NoticeHub()
        self.clock, self.wall = clock, wall
        self.health = health or RelayHealth(url, window=config.health_window, history=config.health_history,
                                            clock=clock, wall=wall)
        self.backoff = Backoff(config.backoff_base, config.backoff_cap, http_floor=config.backoff_http_floor,
                               rejection_floor=config.backoff_rejection_floor, rng=rng)
        self.breaker = CircuitBreaker(config.breaker_failure_threshold, config.breaker_open_seconds,
                                      half_open_successes=config.breaker_half_open_successes, clock=clock)
        self.auth = auth or AuthGate(url, config.auth_policy(url), None, None, config.auth_timeout)
        self.subs: dict[str, SubState] = {}
        self._ws: ClientConnection | None = None
        self._ok_waiters: dict[str, asyncio.Future[tuple[bool, str]]] = {}
        self._connected = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._helpers: set[asyncio.Task] = set()      # auth answers, deferred REQs: cancelled on close
        self._deferred: dict[str, SubState] = {}      # REQs held back while the relay asked us to pause
        self._stalled: SubState | None = None         # set by the frame handler: wait before reading on
        self._answered_unasked = False                # NIP-42 "always": the first challenge answered
        self._closing = False
        self.next_attempt_in = 0.0
        self.last_used = clock()      # the pool closes idle connections it opened on its own

    # --- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"relay {self.url}")

    async def close(self) -> None:
        self._closing = True
        self._wake.set()
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._ws.close(1001), self.config.close_timeout)
        tasks = [t for t in (self._task, *self._helpers) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._helpers.clear()
        self._set_status("closed")

    def _spawn(self, coro) -> asyncio.Task:
        """A helper task owned by this connection: referenced until done, cancelled by `close`."""
        task = asyncio.get_running_loop().create_task(coro, name=f"{self.url} helper")
        self._helpers.add(task)
        task.add_done_callback(self._helper_done)
        return task

    def _helper_done(self, task: asyncio.Task) -> None:
        self._helpers.discard(task)
        if not task.cancelled() and task.exception() is not None:   # retrieved: no "never retrieved"
            self.health.last_error = f"{task.get_name()}: {task.exception()!r}"[:300]

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def down(self) -> bool:
        """Not connected and not trying right now (backing off, breaker open, closed): a fetch
        does not wait for it."""
        return not self.connected and self.health.status in DOWN_STATES

    async def wait_connected(self, timeout: float) -> bool:
        self.start()
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    def kick(self) -> None:
        """Try again now rather than after the current backoff delay (e.g. the user pressed retry)."""
        self._wake.set()

    def _set_status(self, new: str, detail: str = "") -> None:
        old = self.health.status
        self.health.breaker = self.breaker.state.value
        if old != new:
            self.health.status = new
            self.notices.emit(StatusChanged(self.url, old, new, detail, self.wall()))

    # --- the connect / read / reconnect loop ---------------------------------------------------------
    async def _run(self) -> None:
        while not self._closing:
            wait = max(self.breaker.retry_in(), self.health.paused_for())
            if wait > 0:
                self._set_status("waiting", f"breaker {self.breaker.state.value}, retry in {wait:.1f}s")
                await self._sleep(wait)
                continue
            failure = await self._connect_once()
            if self._closing:
                break
            if failure is None:
                try:
                    await self._serve()
                except Exception as exc:   # a bug must not leave this relay dead for the session
                    self.health.failure(f"connection task failed: {exc!r}"[:300])
                    await self._sleep(self.backoff.failed(Failure.NETWORK))
                continue
            kind, detail = failure
            self.breaker.record_failure()
            self.health.failure(detail)
            delay = self.backoff.failed(kind)
            self.next_attempt_in = delay
            self._set_status("backoff" if self.breaker.allow() else "breaker-open", f"{detail}; retry in {delay:.1f}s")
            await self._sleep(delay)

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def _connect_once(self) -> tuple[Failure, str] | None:
        self._set_status("connecting")
        started = self.clock()
        try:
            self._ws = await asyncio.wait_for(
                connect(self.url, open_timeout=None, ping_interval=None, close_timeout=self.config.close_timeout,
                        max_size=self.config.max_message_bytes, compression=None, proxy=None),
                self.config.connect_timeout)
        except InvalidStatus as exc:
            return Failure.HTTP, f"HTTP {exc.response.status_code} on upgrade"
        except asyncio.TimeoutError:
            return Failure.NETWORK, f"connect timed out after {self.config.connect_timeout:g}s"
        except (OSError, InvalidHandshake, ConnectionClosed) as exc:
            return Failure.NETWORK, f"connect failed: {exc}"[:300]
        except Exception as exc:    # InvalidURI, proxy and TLS oddities: a failure, never a dead task
            return Failure.NETWORK, f"connect failed: {exc!r}"[:300]
        self.health.sample("connect_ms", (self.clock() - started) * 1000)
        self.health.connects += 1
        # Not a breaker success yet: a relay that accepts and drops at once would reset the count
        # of consecutive failures every time and never be short-circuited. `_proved_stable` is.
        self.health.success()
        return None

    def _proved_stable(self) -> None:
        """The connection lived `stable_after` seconds: the relay works; forget past failures."""
        self.breaker.record_success()
        self.backoff.succeeded()
        self.health.breaker = self.breaker.state.value

    async def _serve(self) -> None:
        ws = self._ws
        assert ws is not None
        up_since = self.clock()
        self.auth.reset()
        self._answered_unasked = False
        self.health.auth = self.auth.state
        for sub in self.subs.values():
            sub.auth_retried = False      # a new connection, a new challenge: one auth retry each
        self._connected.set()
        self._set_status("connected")
        pinger = asyncio.get_running_loop().create_task(self._ping_loop(ws))
        stable = asyncio.get_running_loop().call_later(self.config.stable_after, self._proved_stable)
        detail = "closed"
        try:
            await self._resubscribe()
            while True:
                # decode=False: text frames stay bytes. Duplicates are dropped without ever decoding
                # UTF-8; new events are validated by the strict parser anyway.
                frame = await ws.recv(decode=False)
                try:
                    self._on_frame(frame)
                except Exception as exc:   # a bug in one handler must not kill the connection
                    self.health.last_error = f"frame handler failed: {exc!r}"[:300]
                if self._stalled is not None:
                    await self._wait_caught_up()
        except ConnectionClosed as exc:
            detail = f"connection lost ({_close_reason(exc)})"
        except (OSError, asyncio.TimeoutError) as exc:
            detail = f"connection lost: {exc}"
        finally:
            stable.cancel()
            pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pinger          # gone before we go (no task left pending at shutdown)
            self._connected.clear()
            self._ws = None
            self.health.disconnects += 1
            self._mark_complete()
            self._fail_waiters(NotConnected(f"{self.url}: {detail}"))
        if self._closing:
            return
        # A connection that died young counts as a failure, so a relay that accepts and then drops
        # at once is backed off (and eventually short-circuited) instead of hammered.
        if self.clock() - up_since < self.config.stable_after:
            self.breaker.record_failure()
            self.health.failure(detail)
            delay = self.backoff.failed(Failure.NETWORK)
        else:
            self._proved_stable()
            # A long-lived connection that drops: reconnect soon, but jittered, so a relay that
            # restarts is not hit by every client (or all our subscriptions) in the same instant.
            delay = self.backoff.rng.random() * self.config.backoff_base
        self.next_attempt_in = delay
        self._set_status("disconnected" if self.breaker.allow() else "breaker-open", detail)
        if delay:
            await self._sleep(delay)

    async def _wait_caught_up(self) -> None:
        """Read no more from this relay until the subscription has verified its backlog (bounded:
        after `stall_timeout` we read on, so a stuck consumer cannot wedge the connection)."""
        sub, self._stalled = self._stalled, None
        if sub is not None and sub.caught_up is not None:
            self.health.stalls += 1
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(sub.caught_up(), self.config.stall_timeout)

    def _fail_waiters(self, exc: Exception) -> None:
        for fut in self._ok_waiters.values():
            if not fut.done():
                fut.set_exception(exc)
        self._ok_waiters.clear()
        for sub in self.subs.values():
            sub.eose_event.set()   # a fetch waiting on this relay stops waiting: partial results

    async def _ping_loop(self, ws: ClientConnection) -> None:
        if self.config.ping_interval <= 0:
            return
        with contextlib.suppress(ConnectionClosed, asyncio.CancelledError):
            while True:
                if await self.ping(ws) is None and ws is self._ws:
                    # No pong: the TCP connection may be half-open. Drop it; the loop reconnects.
                    ws.transport.abort()
                    return
                await asyncio.sleep(self.config.ping_interval)

    async def ping(self, ws: ClientConnection | None = None) -> float | None:
        """Round trip of a websocket ping in ms (recorded as `ping_ms`), or None if it timed out."""
        ws = ws or self._ws
        if ws is None:
            return None
        started = self.clock()
        try:
            async with asyncio.timeout(self.config.ping_timeout):   # sending the ping may block too
                waiter = await ws.ping()
                await waiter
        except asyncio.TimeoutError:
            self.health.failure("ping timed out")
            return None
        except ConnectionClosed:
            return None
        rtt = (self.clock() - started) * 1000
        self.health.sample("ping_ms", rtt)
        return rtt

    # --- sending -----------------------------------------------------------------------------------
    async def send(self, text: str) -> None:
        ws = self._ws
        if ws is None:
            raise NotConnected(f"{self.url}: not connected")
        try:
            await asyncio.wait_for(ws.send(text), self.config.send_timeout)
        except ConnectionClosed as exc:
            raise NotConnected(f"{self.url}: {exc}") from None
        except asyncio.TimeoutError:
            # The relay stopped reading (or the path is dead): this socket is useless. Drop it;
            # the run loop reconnects, and whatever was waiting on it fails over at once.
            self.health.failure(f"send timed out after {self.config.send_timeout:g}s")
            if ws is self._ws:
                ws.transport.abort()
            raise NotConnected(f"{self.url}: send timed out") from None
        self.health.bytes_out += len(text.encode())

    async def publish(self, event: Event) -> tuple[bool, str]:
        """Send EVENT and wait for the relay's OK: (accepted, message). Raises NotConnected or
        TimeoutError; an `auth-required:` answer is retried once after authenticating."""
        self.last_used = self.clock()
        accepted, message = await self._publish_once(event)
        if not accepted and Prefix.of(message) is Prefix.AUTH_REQUIRED and await self._authenticate():
            accepted, message = await self._publish_once(event)
        if accepted:
            self.health.success()
        elif Prefix.of(message) in (Prefix.RATE_LIMITED, Prefix.BLOCKED):
            self.health.failure(message)
        return accepted, message

    async def _publish_once(self, event: Event) -> tuple[bool, str]:
        fut = asyncio.get_running_loop().create_future()
        self._ok_waiters[event.id] = fut
        started = self.clock()
        try:
            await self.send(encode(ClientEvent(event)))
            accepted, message = await asyncio.wait_for(asyncio.shield(fut), self.config.ok_timeout)
        except asyncio.TimeoutError:
            self.health.failure("no OK before the timeout")
            raise
        finally:
            if self._ok_waiters.get(event.id) is fut:
                del self._ok_waiters[event.id]
        self.health.sample("ok_ms", (self.clock() - started) * 1000)
        if not accepted:
            with self._rejections():
                self.health.ok_false(message, self.config.rate_limit_pause)
        return accepted, message

    # --- NIP-42 --------------------------------------------------------------------------------------
    async def _authenticate(self) -> bool:
        try:
            return await self.auth.authenticate(self._publish_once_auth)
        finally:
            self.health.auth = self.auth.state

    async def _publish_once_auth(self, event: Event) -> tuple[bool, str]:
        fut = asyncio.get_running_loop().create_future()
        self._ok_waiters[event.id] = fut
        try:
            await self.send(encode(ClientAuth(event)))
            return await asyncio.wait_for(asyncio.shield(fut), self.config.auth_timeout)
        finally:
            self._ok_waiters.pop(event.id, None)

    def breaker_state(self) -> BreakerState:
        return self.breaker.state


def _close_reason(exc: ConnectionClosed) -> str:
    """Who closed and why: the relay's close frame, else ours (1009 when its frame was too big)."""
    if exc.rcvd is not None:
        return f"relay sent {exc.rcvd.code} {exc.rcvd.reason}".strip()
    if exc.sent is not None:
        return f"we sent {exc.sent.code} {exc.sent.reason}".strip()
    return "no close frame"
