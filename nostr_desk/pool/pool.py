"""`RelayPool`: the pool's public object. Reads fan out to relays chosen by health (or by the
authors' NIP-65 write relays), merged, de-duplicated before verification, verified, stored with
provenance; publishes go through the durable outbox; health is measured per relay and emitted as
typed notices and stored as time series.

Bulkheads: the user's own actions (publish, fetch with `background=False`) and background work
(`background=True`: backfill, profile fetching) take separate semaphores, so a backfill never makes
the user's publish wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Callable

from nostr_desk.protocol.event import Event
from nostr_desk.protocol.filters import Filter, sort_key
from nostr_desk.protocol.nip11 import RelayInfo
from nostr_desk.protocol.relay_url import normalize as normalize_relay_url
from nostr_desk.store import health_log
from nostr_desk.store import outbox as ob

from .auth import AuthGate, Asker, Signer
from .config import AuthPolicy, PoolConfig
from .connection import RelayConnection
from .dedup import VerifiedCache
from .health import HealthSnapshot, RelayHealth
from .ingest import Ingest
from .nip11_fetch import Nip11Cache
from .notices import HealthSample, NoticeCallback, NoticeHub
from .outbox_model import lists_for, plan
from .publisher import PublishReport, Publisher
from .selection import choose
from .subscription import Subscription

if TYPE_CHECKING:
    from nostr_desk.store import EventStore


class PoolFull(RuntimeError):
    """More relays than `max_connections` were asked for."""


class PoolClosed(RuntimeError):
    """The pool was closed: nothing new is started (a task nobody closes would leak)."""


def narrow(filters: Sequence[Filter], authors: set[str]) -> tuple[Filter, ...]:
    """`filters` with their author lists cut to `authors` (filters naming none of them dropped;
    filters without authors kept as they are)."""
    out = []
    for f in filters:
        if f.authors is None:
            out.append(f)
        elif keep := sorted(f.authors & authors):
            out.append(Filter.from_obj({**f.to_obj(), "authors": keep}))
    return tuple(out)


def fetch_cap(filters: Sequence[Filter], relays: int, ceiling: int) -> int:
    """How many events a fetch keeps: every relay's full answer to the filters' limits (the relays
    may hold different events), never more than `ceiling`, so a relay that ignores `limit` (or a
    filter without one) cannot grow a fetch without end."""
    if all(f.limit is not None for f in filters):
        return max(1, min(ceiling, sum(f.limit or 0 for f in filters) * max(relays, 1)))
    return ceiling


class RelayPool:
    def __init__(self, config: PoolConfig, store: EventStore | None, *, signer: Signer | None = None,
                 ask_auth: Asker | None = None, notices: NoticeHub | None = None,
                 clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time,
                 rng: random.Random | None = None) -> None:
        self.config = config
        self.store = store
        self.signer, self.ask_auth = signer, ask_auth
        self.notices = notices or NoticeHub()
        self.clock, self.wall = clock, wall
        self.rng = rng or random.Random()
        self.connections: dict[str, RelayConnection] = {}
        self.read_relays: list[str] = []
        self.write_relays: list[str] = []
        self.ingest = Ingest(store, config.health_persist, wall)
        self.verified = VerifiedCache()
        self.nip11 = Nip11Cache(config.nip11_timeout)
        self.publisher = Publisher(store, self.relay, notices=self.notices, connect_timeout=config.connect_timeout,
                                   max_attempts=config.publish_max_attempts, wall=wall,
                                   retry_base=config.publish_retry_base or config.outbox_retry_interval,
                                   retry_cap=config.publish_retry_cap, connected=self._is_connected)
        self._user = asyncio.Semaphore(config.user_concurrency)
        self._background = asyncio.Semaphore(config.background_concurrency)
        self._subs: dict[str, Subscription] = {}
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task] = set()          # the ticker
        self._retrying: dict[str, asyncio.Task] = {}    # event id -> its retry, started by the ticker
        self._following: set[asyncio.Task] = set()      # live subscriptions catching up with a flag change
        self._follow_lock = asyncio.Lock()
        self.ticker_errors = 0
        self.ticks = 0                                   # ticker rounds done (tests wait on it, no sleeping)
        self.last_ticker_error = ""
        self._closed = False

    # --- relays ----------------------------------------------------------------------------------------
    def relay(self, url: str) -> RelayConnection:
        """The connection for `url` (normalised), made and started on first use. ValueError for a bad URL."""
        if self._closed:
            raise PoolClosed("the relay pool is closed")
        norm = normalize_relay_url(url)
        conn = self.connections.get(norm)
        if conn is None:
            if len(self.connections) >= self.config.max_connections:
                raise PoolFull(f"the pool already has {len(self.connections)} relays (max_connections)")
            health = RelayHealth(norm, window=self.config.health_window, history=self.config.health_history,
                                 clock=self.clock, wall=self.wall, on_sample=self._on_sample)
            auth = AuthGate(norm, self.config.auth_policy(norm), self.signer, self.ask_auth,
                            self.config.auth_timeout, wall=self.wall, sign_timeout=self.config.signer_timeout)
            conn = RelayConnection(norm, self.config, notices=self.notices, health=health, auth=auth,
                                   clock=self.clock, wall=self.wall, rng=self.rng)
            self.connections[norm] = conn
            self._ensure_ticker()
        conn.start()
        return conn

    def _is_connected(self, url: str) -> bool:
        conn = self.connections.get(url)
        return conn is not None and conn.connected

    def add_relay(self, url: str, *, read: bool = True, write: bool = True) -> str:
        """Use `url` for the flags given (a flag already on stays on; see `set_flags` to turn one off)."""
        self.relay(url)
        return self.set_flags(url, read=read or None, write=write or None)

    def set_flags(self, url: str, *, read: bool | None = None, write: bool | None = None) -> str:
        """The user's read/write flags for a relay (None leaves a flag as it is); the normalised URL.
        Read on: live subscriptions join it; read off: they leave it (CLOSE sent, what it sent kept).
        Write off: no longer a primary of publishes made from now on."""
        norm = normalize_relay_url(url)
        if read or write or norm in self.connections:
            norm = self.relay(norm).url
        for flag, urls in ((read, self.read_relays), (write, self.write_relays)):
            if flag and norm not in urls:
                urls.append(norm)
            elif flag is False and norm in urls:
                urls.remove(norm)
        if read is not None:
            self._follow_soon()
        return norm

    async def remove_relay(self, url: str) -> None:
        norm = normalize_relay_url(url)
        for lst in (self.read_relays, self.write_relays):
            if norm in lst:
                lst.remove(norm)
        for sub in list(self._subs.values()):
            await sub.leave(norm)
        conn = self.connections.pop(norm, None)
        if conn is not None:
            await conn.close()

    def set_auth_policy(self, url: str, policy: AuthPolicy) -> None:
        """Change a relay's NIP-42 policy (always / ask / never) while the pool runs."""
        if policy not in ("always", "ask", "never"):
            raise ValueError(f"unknown AUTH policy {policy!r}")
        conn = self.relay(url)
        conn.auth.policy = policy
        conn.auth.reset_answer()
        conn.health.auth = conn.auth.state

    def on_notice(self, callback: NoticeCallback) -> Callable[[], None]:
        return self.notices.subscribe(callback)

    def health(self) -> dict[str, HealthSnapshot]:
        return {url: c.health.snapshot() for url, c in self.connections.items()}

    async def relay_info(self, url: str) -> RelayInfo:
        """NIP-11 document (cached); raises Nip11Error."""
        return await self.nip11.get(normalize_relay_url(url))

    def _on_sample(self, url: str, at: float, metric: str, value: float) -> None:
        self.ingest.sample(url, at, metric, value)
        self.notices.emit(HealthSample(url, at, metric, value))

    # --- reading ---------------------------------------------------------------------------------------
    async def _read_targets(self, filters: Sequence[Filter], relays: Iterable[str] | None
                            ) -> tuple[list[RelayConnection], dict[str, tuple[Filter, ...]]]:
        """The connections to ask, and narrowed filters for those asked only about some authors
        (NIP-65: an author's write relay hears about that author, not the whole list)."""
        if relays is not None:
            return [self.relay(u) for u in dict.fromkeys(relays)], {}
        planned: dict[str, set[str]] = {}
        authors = sorted({a for f in filters for a in (f.authors or ())})
        if authors and self.store is not None:
            # A store query (thousands of authors' relay lists for a home feed): off the event loop.
            lists = await asyncio.to_thread(lists_for, self.store, authors)
            planned = plan(lists, authors, per_author=self.config.max_relays_per_author,
                           total=self.config.max_read_relays, prefer=self.read_relays)
        snapshots = [self.relay(u).health.snapshot() for u in self.read_relays]
        defaults = choose(snapshots, self.config.max_read_relays)
        urls = list(planned) + [u for u in defaults if u not in planned]
        conns: list[RelayConnection] = []
        narrowed: dict[str, tuple[Filter, ...]] = {}
        for url in urls[: max(self.config.max_read_relays, 1)]:
            conn = self._maybe_relay(url)
            if conn is None:
                continue
            if url not in defaults and url in planned:     # a default read relay hears everything
                narrowed[conn.url] = narrow(filters, planned[url])
            conns.append(conn)
        return conns, narrowed

    def _follow_soon(self) -> None:
        """Bring live subscriptions up to date with the readable set now, not at the next tick."""
        with contextlib.suppress(RuntimeError):       # no running loop: the ticker will do it
            task = asyncio.get_running_loop().create_task(self._follow_readable(), name="pool follow")
            self._following.add(task)
            task.add_done_callback(self._following.discard)

    async def _follow_readable(self) -> None:
        """Live subscriptions follow the readable set: leave relays no longer readable, join usable
        read relays they lack (a relay added later, one whose breaker was open when they started),
        up to `max_read_relays` default relays each."""
        async with self._follow_lock:
            readable = [u for u in self.read_relays if u in self.connections]
            for sub in [s for s in self._subs.values() if s.follow]:
                for url in [u for u in sub.defaults if u not in readable]:
                    await sub.leave(url)
                room = self.config.max_read_relays - len(sub.defaults)
                missing = [self.connections[u].health.snapshot() for u in readable if u not in sub.connections]
                for url in choose(missing, max(room, 0)):
                    await sub.join(self.connections[url])
                    sub.defaults.add(url)

    def _maybe_relay(self, url: str) -> RelayConnection | None:
        """For relays the pool picked itself (someone's NIP-65 list): a full pool skips them."""
        try:
            return self.relay(url)
        except PoolFull:
            return None

    async def subscribe(self, filters: Sequence[Filter], relays: Iterable[str] | None = None, *,
                        emit_events: bool = False, max_queue: int | None = None,
                        _fetch: bool = False) -> Subscription:
        """A live subscription: `async for event in sub`, `await sub.close()` (or `async with`).
        Up to `max_queue` unread events are kept (default `subscription_queue`; 0 = unbounded)."""
        filters = tuple(filters)
        targets, narrowed = await self._read_targets(filters, relays)
        if _fetch:
            max_queue = fetch_cap(filters, len(targets), self.config.fetch_max_events)
        sub = Subscription(f"nd{next(self._ids)}", filters, targets,
                           ingest=self.ingest, notices=self.notices, shared=self.verified,
                           offload_at=self.config.verify_batch_offload, emit_events=emit_events,
                           on_close=lambda s: self._subs.pop(s.id, None), keep_first=_fetch,
                           backlog=self.config.verify_backlog, per_relay=narrowed,
                           max_queue=self.config.subscription_queue if max_queue is None else max_queue)
        if relays is None and not _fetch:
            sub.follow = True
            sub.defaults = {c.url for c in targets if c.url not in narrowed}
        self._subs[sub.id] = sub
        await sub.start()
        return sub

    async def fetch(self, filters: Sequence[Filter], timeout: float | None = None,
                    relays: Iterable[str] | None = None, *, background: bool = False) -> list[Event]:
        """Stored events matching `filters` from the chosen relays, NIP-01 order. Waits for every
        relay's EOSE up to `timeout` (default `eose_timeout`); slow relays' partial results count."""
        async with (self._background if background else self._user):
            sub = await self.subscribe(filters, relays, _fetch=True)   # keeps what it asked for, no more
            try:
                await sub.wait_eose(self.config.eose_timeout if timeout is None else timeout)
                return sorted(sub.drain(), key=sort_key)
            finally:
                await sub.close()

    def inbox_relays(self, pubkeys: Iterable[str]) -> list[str]:
        """NIP-65: the read relays of `pubkeys` (to reach them: replies, mentions, reactions),
        capped per person and in total; pass them to `publish` as extra primaries or fallbacks.
        It queries the store: from a coroutine, call it through `asyncio.to_thread`."""
        pubkeys = list(dict.fromkeys(pubkeys))
        if self.store is None or not pubkeys:
            return []
        planned = plan(lists_for(self.store, pubkeys), pubkeys, per_author=self.config.max_relays_per_author,
                       total=self.config.max_read_relays, use="read", prefer=self.write_relays)
        return list(planned)

    # --- publishing ------------------------------------------------------------------------------------
    async def publish(self, event: Event, primaries: Iterable[str] | None = None,
                      fallbacks: Iterable[str] = ()) -> PublishReport:
        """Deliver an already-signed event; durable until at least one relay accepted it."""
        prim = [self.relay(u).url for u in (self.write_relays if primaries is None else primaries)]
        fall = [self.relay(u).url for u in fallbacks]
        async with self._user:
            return await self.publisher.submit(event, prim, fall)

    async def resume(self, *, force: bool = False) -> list[PublishReport]:
        """Load the pending publishes from the store (after a restart) and try those that are due; the
        pool keeps retrying the rest in the background. `force` (the user said "retry now", e.g.
        `nostr-desk post` with no text): every pending relay now, whatever its backoff schedule says."""
        if self.store is None:
            return []
        conn = self.store.connect()
        try:
            entries = await asyncio.to_thread(ob.pending, conn)
        finally:
            conn.close()
        for entry in entries:
            for r in entry.relays:
                self.relay(r.relay)
            await self.publisher.load(entry)
        async with self._background:
            return list(await asyncio.gather(*(self.publisher.deliver(e.event_id, force=force) for e in entries)))

    # --- background ticker: retries, health persistence ------------------------------------------------
    def _ensure_ticker(self) -> None:
        if not self._tasks and not self._closed:
            task = asyncio.get_running_loop().create_task(self._ticker(), name="pool ticker")
            self._tasks.add(task)

    async def _ticker(self) -> None:
        last_prune: float | None = None
        while not self._closed:
            await asyncio.sleep(self.config.outbox_retry_interval)
            try:
                self.ingest.flush()
                if self.store is not None and (last_prune is None or self.clock() - last_prune > 3600):
                    last_prune = self.clock()
                    cutoff = self.wall() - self.config.health_retention_days * 86400
                    self.store.run_in_writer(lambda conn: health_log.prune(conn, cutoff))
                self._start_retries()
                await self._follow_readable()
                await self._close_idle()
                self.ticks += 1
            except Exception as exc:   # one bad tick (a closed store, a bug) must not end the retries
                self.ticker_errors += 1
                self.last_ticker_error = repr(exc)[:300]

    def _start_retries(self) -> None:
        """One retry task per pending publish, side by side within the background budget: a publish
        waiting on a relay that never answers does not hold up the others on every tick."""
        for event_id in self.publisher.retry_ids():
            if event_id in self._retrying or self.publisher.busy(event_id):
                continue
            task = asyncio.get_running_loop().create_task(self._retry(event_id), name=f"retry {event_id[:8]}")
            self._retrying[event_id] = task
            task.add_done_callback(lambda _t, i=event_id: self._retrying.pop(i, None))

    async def _retry(self, event_id: str) -> None:
        async with self._background:
            try:
                await self.publisher.deliver(event_id)
            except Exception as exc:       # the outbox keeps it; the next tick tries again
                self.ticker_errors += 1
                self.last_ticker_error = repr(exc)[:300]

    async def _close_idle(self) -> None:
        """Close connections the pool opened for someone else's relay list once nothing uses them."""
        mine = set(self.read_relays) | set(self.write_relays) | self.publisher.relays_in_use()
        for url, conn in list(self.connections.items()):
            if url not in mine and not conn.subs and self.clock() - conn.last_used > self.config.idle_close_after:
                await self.remove_relay(url)

    async def close(self) -> None:
        """Stop: close subscriptions, connections, and flush what is due to the store."""
        self._closed = True
        tasks = [*self._tasks, *self._retrying.values(), *self._following]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        for sub in list(self._subs.values()):
            await sub.close()
        await asyncio.gather(*(c.close() for c in self.connections.values()), return_exceptions=True)
        fut = self.ingest.flush()
        if fut is not None:
            try:
                await fut
            except Exception:       # the store went first (or failed): what was due is counted lost
                self.ingest.store_errors += 1
