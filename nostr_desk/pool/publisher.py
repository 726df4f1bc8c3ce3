"""Publishing through the durable outbox: primaries first, fallbacks next, retry by the OK prefix.

The caller hands over an already-signed `Event` (the pool never sees a secret key). It is written to
the outbox (store/outbox.py) before anything is sent, so a crash or restart loses nothing. Each
relay's answer decides what happens next:

- `OK true`, or `duplicate:`      delivered by that relay
- `rate-limited:`                 back off that relay, retry later
- `auth-required:`                authenticate (NIP-42, by policy) and retry (RelayConnection does it)
- `invalid:` / `blocked:` / other final prefixes   final for that relay, reported
- timeout / connection lost       retry later (the outbox keeps it, never giving up for these)

Each pending (event, relay) has its own retry schedule: after a failed round it waits
`retry_base * 2^(misses - 1)` (capped) before the ticker tries it again, and the schedule is kept in
the outbox so a restart does not hammer a dead relay either. A round that could not reach the relay
at all is due again as soon as the relay's connection is up (no point waiting longer then).
A user's own publish call always sends to every pending relay at once.

A relay is given up for one publish after `max_attempts` answers asking for a retry (`error:`,
`rate-limited:`, ...), so a relay that keeps refusing does not keep a publish pending for ever.

The outbox row stays pending until at least one relay accepted; `PublishReport` says
"accepted by N of M".
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable

from nostr_desk.protocol.errors import Prefix
from nostr_desk.protocol.event import Event
from nostr_desk.store import outbox as ob

from .connection import NotConnected
from .notices import NoticeHub, PublishResult

if TYPE_CHECKING:
    from nostr_desk.store import EventStore

    from .connection import RelayConnection

# Prefixes after which sending the same event to the same relay again is pointless.
FINAL = frozenset({Prefix.INVALID, Prefix.BLOCKED, Prefix.POW, Prefix.RESTRICTED, Prefix.MUTE})


@dataclass(frozen=True)
class RelayOutcome:
    url: str
    role: str          # primary | fallback
    state: str         # accepted | rejected | pending | gave_up
    message: str
    attempts: int
    refusals: int = 0  # answers that asked for a retry (error:, rate-limited:, ...): these exhaust a relay
    next_attempt: float = 0.0   # wall time this relay is due again (the retry schedule, persisted)
    misses: int = 0             # failed rounds in a row: the schedule's exponent
    unsent: bool = False        # the last miss never reached the relay: due again once it is connected


@dataclass(frozen=True)
class PublishReport:
    event_id: str
    outcomes: tuple[RelayOutcome, ...]

    @property
    def accepted(self) -> int:
        return sum(o.state == ob.RELAY_ACCEPTED for o in self.outcomes)

    @property
    def tried(self) -> int:
        return len(self.outcomes)

    @property
    def delivered(self) -> bool:
        return self.accepted > 0

    @property
    def pending(self) -> bool:
        return not self.delivered and any(o.state == ob.RELAY_PENDING for o in self.outcomes)

    def summary(self) -> str:
        text = f"accepted by {self.accepted} of {self.tried}"
        rejected = [o for o in self.outcomes if o.state == ob.RELAY_REJECTED]
        if rejected:
            text += "; rejected: " + ", ".join(f"{o.url} ({o.message})" for o in rejected)
        if self.pending:
            text += "; still trying"
        return text


def classify(accepted: bool, message: str) -> tuple[str, str]:
    """(outcome for the attempts log, relay state) of one OK answer."""
    prefix = Prefix.of(message)
    if accepted or prefix is Prefix.DUPLICATE:
        return "accepted", ob.RELAY_ACCEPTED
    if prefix in FINAL:
        return "rejected", ob.RELAY_REJECTED
    return "retry", ob.RELAY_PENDING      # rate-limited:, auth-required: (auth refused), error:, none


class Publisher:
    """Runs deliveries for the pool; `connection(url)` gives (or makes) the relay's connection."""

    def __init__(self, store: EventStore | None, connection: Callable[[str], RelayConnection], *,
                 notices: NoticeHub, connect_timeout: float, max_attempts: int,
                 wall: Callable[[], float] = time.time, retry_base: float = 5.0, retry_cap: float = 600.0,
                 connected: Callable[[str], bool] = lambda url: False) -> None:
        self.store = store
        self.connection = connection
        self.connected = connected        # is the relay's connection up now (without making one)
        self.retry_base, self.retry_cap = retry_base, retry_cap
        self.notices = notices
        self.connect_timeout = connect_timeout
        self.max_attempts = max_attempts
        self.wall = wall
        self._memory: dict[str, dict[str, RelayOutcome]] = {}   # event id -> url -> outcome (this session)
        self._events: dict[str, Event] = {}
        # One lock per event, shared by everyone touching it (a publish's enqueue + first round, the
        # ticker's retries, a resume) and dropped only when the last holder or waiter is gone: a
        # lock dropped while someone still waited on it let two rounds of one event run at once.
        self._locks: dict[str, asyncio.Lock] = {}
        self._lock_users: dict[str, int] = {}
        self._tried: set[str] = set()                    # had at least one round: the ticker may retry
        self._finished: OrderedDict[str, PublishReport] = OrderedDict()   # recent final reports

    # --- outbox persistence (through the store's writer thread) ---------------------------------------
    async def _write(self, fn, *args) -> None:
        if self.store is not None:
            await asyncio.wrap_future(self.store.run_in_writer(lambda conn: fn(conn, *args)))

    @contextlib.asynccontextmanager
    async def _hold(self, event_id: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(event_id, asyncio.Lock())
        self._lock_users[event_id] = self._lock_users.get(event_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._lock_users[event_id] -= 1
            if not self._lock_users[event_id]:
                del self._lock_users[event_id], self._locks[event_id]

    async def submit(self, event: Event, primaries: list[str], fallbacks: list[str]) -> PublishReport:
        """Enqueue and run the first round under the event's lock: a retry of the same event
        cannot settle (and forget) it between the two and leave the new relays unsent."""
        async with self._hold(event.id):
            await self._enqueue(event, primaries, fallbacks)
            return await self._round(event.id, force=True)

    async def enqueue(self, event: Event, primaries: list[str], fallbacks: list[str]) -> None:
        async with self._hold(event.id):
            await self._enqueue(event, primaries, fallbacks)

    async def _enqueue(self, event: Event, primaries: list[str], fallbacks: list[str]) -> None:
        targets = [(u, "primary") for u in primaries] + [(u, "fallback") for u in fallbacks if u not in primaries]
        self._events[event.id] = event
        if event.id not in self._memory:
            # Published again after it settled: relays that already answered are not sent it twice.
            done = self._finished.get(event.id)
            self._memory[event.id] = {o.url: o for o in done.outcomes} if done else {}
        known = self._memory[event.id]
        for url, role in targets:
            known.setdefault(url, RelayOutcome(url, role, ob.RELAY_PENDING, "", 0))
        await self._write(ob.enqueue, event.id, event.to_bytes(), targets, int(self.wall()))

    async def load(self, entry: ob.OutboxEntry) -> None:
        """Bring a pending entry from the store back into memory (after a restart). An event this
        session already holds or settled is left alone: the row read may be older than memory."""
        async with self._hold(entry.event_id):
            if entry.event_id in self._memory or entry.event_id in self._finished:
                return
            event = Event.from_json(entry.raw)
            self._events[event.id] = event
            self._memory[event.id] = {r.relay: RelayOutcome(r.relay, r.role, r.state, r.last_message, r.attempts,
                                                            next_attempt=r.next_attempt, misses=r.misses,
                                                            unsent=r.unsent)
                                      for r in entry.relays}

    # --- delivery ----------------------------------------------------------------------------------
    async def deliver(self, event_id: str, *, force: bool = False) -> PublishReport:
        """One round: pending primaries in parallel; if none accepted, pending fallbacks.
        `force`: a retry the user asked for, so the backoff schedule does not hold it back."""
        async with self._hold(event_id):   # a resume and a retry tick never send the same event twice at once
            if event_id not in self._memory:      # settled while we waited for the lock
                return self._finished.get(event_id) or PublishReport(event_id, ())
            return await self._round(event_id, force=force)

    async def _round(self, event_id: str, force: bool = False) -> PublishReport:
        """Under the event's lock (the only place `_memory[event_id]` is changed or forgotten).
        `force` (the user's publish): every pending relay now, whatever its schedule says."""
        self._tried.add(event_id)
        for role in ("primary", "fallback"):
            if role == "fallback" and self.report(event_id).delivered:
                break
            now = self.wall()
            urls = [o.url for o in self._memory[event_id].values()
                    if o.role == role and o.state == ob.RELAY_PENDING and (force or self._due(o, now))]
            await asyncio.gather(*(self._attempt(event_id, u) for u in urls))
        return await self._settle(event_id)

    async def _attempt(self, event_id: str, url: str) -> None:
        conn = self.connection(url)
        previous = self._memory[event_id][url]
        if conn.health.paused_for() > 0 or not conn.breaker.allow():
            return      # rate-limited or short-circuited: the retry loop comes back later
        if not await conn.wait_connected(self.connect_timeout):
            await self._missed(event_id, url)
            return
        try:
            accepted, message = await conn.publish(self._events[event_id])
            outcome, state = classify(accepted, message)
            if Prefix.of(message) is Prefix.AUTH_REQUIRED and (conn.auth.state == "refused" or not conn.auth.may_try()):
                outcome, state = "rejected", ob.RELAY_REJECTED   # policy or the user said no: do not loop
        except asyncio.TimeoutError:
            outcome, state, message = "timeout", ob.RELAY_PENDING, "no OK before the timeout"
        except NotConnected as exc:
            outcome, state, message = "disconnected", ob.RELAY_PENDING, str(exc)
        except Exception as exc:       # a bug must not leave sibling attempts running unlocked
            outcome, state, message = "error", ob.RELAY_PENDING, f"error: {exc!r}"[:300]
        attempts = previous.attempts + 1
        # Only the relay's own retry answers count toward giving up. Timeouts and drops are the
        # network: the outbox keeps trying (it is durable until a relay accepts), however long.
        refusals = previous.refusals + (outcome == "retry")
        if state == ob.RELAY_PENDING and refusals >= self.max_attempts:
            state = ob.RELAY_GAVE_UP
        misses = previous.misses + 1 if state == ob.RELAY_PENDING else 0
        due = self.wall() + self._delay(misses) if misses else 0.0
        unsent = outcome == "disconnected"      # lost with the connection: due again once it is back
        self._memory[event_id][url] = RelayOutcome(url, previous.role, state, message, attempts, refusals,
                                                   due, misses, unsent)
        await self._write(ob.record_attempt, event_id, url, self.wall(), outcome, message, state, due, misses, unsent)
        self.notices.emit(PublishResult(event_id, url, state == ob.RELAY_ACCEPTED, message,
                                        final=state != ob.RELAY_PENDING))

    async def _missed(self, event_id: str, url: str) -> None:
        """The relay could not be reached for this round: later, or once its connection is up."""
        previous = self._memory[event_id][url]
        misses = previous.misses + 1
        due = self.wall() + self._delay(misses)
        self._memory[event_id][url] = replace(previous, next_attempt=due, misses=misses, unsent=True)
        await self._write(ob.schedule, event_id, url, due, misses)

    def _delay(self, misses: int) -> float:
        return min(self.retry_cap, self.retry_base * 2.0 ** min(max(misses - 1, 0), 40))

    def _due(self, o: RelayOutcome, now: float) -> bool:
        return o.next_attempt <= now or (o.unsent and self.connected(o.url))

    async def _settle(self, event_id: str) -> PublishReport:
        report = self.report(event_id)
        if report.delivered:
            await self._write(ob.finish, event_id, "delivered", int(self.wall()))
            self._forget(event_id)
        elif not report.pending:
            await self._write(ob.finish, event_id, "failed", int(self.wall()))
            self._forget(event_id)
        return report

    def _forget(self, event_id: str) -> None:
        self._finished[event_id] = self.report(event_id)
        while len(self._finished) > 1000:
            self._finished.popitem(last=False)
        self._tried.discard(event_id)
        self._events.pop(event_id, None)
        self._memory.pop(event_id, None)

    def report(self, event_id: str) -> PublishReport:
        return PublishReport(event_id, tuple(self._memory.get(event_id, {}).values()))

    def pending_ids(self) -> list[str]:
        return list(self._events)

    def retry_ids(self) -> list[str]:
        """Pending publishes that already had a round (a fresh one is being sent by its caller) and
        have a relay due by its schedule."""
        now = self.wall()
        return [i for i in self._events if i in self._tried
                and any(o.state == ob.RELAY_PENDING and self._due(o, now) for o in self._memory.get(i, {}).values())]

    def relays_in_use(self) -> set[str]:
        return {url for outcomes in self._memory.values() for url in outcomes}

    def busy(self, event_id: str) -> bool:
        lock = self._locks.get(event_id)
        return lock is not None and lock.locked()
