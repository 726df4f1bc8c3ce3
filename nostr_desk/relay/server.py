"""The relay's I/O: websockets on one port, one `Connection` per client, and the shared pipeline
(ingest -> store -> OK -> fan-out; REQ -> query in a thread -> EOSE) that sessions' actions drive.

Per connection: a reader loop feeds frames to the sans-I/O `Session` and performs its actions; a
writer task drains the bounded `Outbox`. EVENTs are pipelined (up to `max_inflight_events` awaiting
their OK); when that many are in flight the reader stops reading, so a flooding client is slowed by
TCP, not by relay memory.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from nostr_desk.protocol.errors import Prefix, ProtocolError
from nostr_desk.protocol.event import Event
from nostr_desk.protocol.kinds import CLIENT_AUTH, is_ephemeral
from nostr_desk.protocol.messages import (
    RelayClosed,
    RelayCount,
    RelayEose,
    RelayNotice,
    RelayOk,
    encode,
    encode_event_frame,
    peek_event_id,
)
from nostr_desk.store import EventStore, SaveOutcome, SaveResult

from .auth import acceptable_relay_urls
from .completion import CompletionFunnel
from .config import RelayConfig
from .http import make_process_request
from .metrics import Metrics
from .outbox import Outbox
from .ratelimit import KeyedBuckets
from .session import Count, Ingest, Query, Send, Session, Subscribe, Unsubscribe, VerifyAuth
from .subscriptions import LiveSub, SubscriptionIndex
from .tail import FannedOut, StoreTail
from .verify import Verifier

log = logging.getLogger(__name__)

EPHEMERAL_OK = SaveResult(SaveOutcome.EPHEMERAL)
STORED_OUTCOMES = frozenset({SaveOutcome.SAVED, SaveOutcome.REPLACED})  # new rows: deliver live once
BACKLOG_MAX = 1_000  # live events held for one subscription while its stored events are sent
WRITE_BATCH = 256  # frames written to a socket in one go
PAGE = 128  # stored events queued per wait for outbox room


async def send_frames(ws: ServerConnection, frames: list[str | bytes]) -> None:
    """Send several text frames with one socket write. Frames queued together (a burst of OKs,
    a page of stored events) would otherwise cost a syscall and a flow-control round each.
    Uses websockets' documented `send_context` + sans-I/O `protocol`; falls back to plain `send`."""
    protocol = getattr(ws, "protocol", None)
    if len(frames) == 1 or protocol is None or not hasattr(ws, "send_context"):
        for frame in frames:
            await ws.send(frame, text=True)
        return
    async with ws.send_context():
        for frame in frames:
            protocol.send_text(frame.encode() if isinstance(frame, str) else frame)
        chunks = protocol.data_to_send()
        payload = b"".join(chunks)
        if payload:
            ws.transport.write(payload)
        if any(not c for c in chunks):  # an end-of-stream marker: hand it back to websockets' own path
            ws.send_data()


class Connection:
    """One client: its websocket, session, outbox, and the tasks working for it."""

    def __init__(self, relay: RelayServer, ws: ServerConnection) -> None:
        self.ws = ws
        config = relay.config
        host_header = ws.request.headers.get("Host") if ws.request else None
        self.session = Session(
            config,
            challenge=secrets.token_hex(16),
            relay_urls=acceptable_relay_urls(config.host, relay.port, config.public_urls, host_header),
            wall_clock=time.time,
            monotonic=time.monotonic,
            metrics=relay.metrics,
            owner=self,
        )
        self.outbox = Outbox(config.outbox_max_frames, config.outbox_max_bytes)
        self.inflight = asyncio.Semaphore(config.max_inflight_events)
        self.pending: list[Event] = []  # EVENTs read but not yet handed to the pipeline
        self.batch_scheduled = False
        self.dropped = False
        self.frames_sent = 0  # frames handed to the socket
        self.last_active = time.monotonic()  # last frame received, or last seen holding a subscription

    def may_read(self, event: Event) -> bool:
        """Kinds 4/1059: only for a party to them (author or p-tagged) that has AUTHed."""
        authed = self.session.authed
        if not authed:
            return False
        if event.pubkey in authed:
            return True
        return any(len(t) >= 2 and t[0] == "p" and t[1] in authed for t in event.tags)


class RelayServer:
    def __init__(self, config: RelayConfig, store: EventStore) -> None:
        self.config = config
        self.store = store
        self.metrics = Metrics()
        self.index = SubscriptionIndex()
        self.verifier = Verifier(config.verify_workers, config.verified_cache_size)
        self.pubkey_buckets = KeyedBuckets(config.pubkey_event_rate, time.monotonic)
        self.connections: set[Connection] = set()
        self.port = config.port
        self._server: Server | None = None
        self._tasks: set[asyncio.Task] = set()
        self._completions: CompletionFunnel | None = None
        self.fanned = FannedOut(config.fanned_out_memory)
        self.tail: StoreTail | None = None
        self._idle_task: asyncio.Task | None = None

    # --- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        cfg = self.config
        if self.verifier.closed:  # started again after a stop (the app's Start button)
            self.verifier = Verifier(cfg.verify_workers, cfg.verified_cache_size)
        # The tail's starting point is taken before clients can write, so nothing stored from here
        # on is missed and nothing stored before is replayed as live.
        self.fanned.clear()
        self.tail = StoreTail(self.store, interval=cfg.tail_interval, batch=cfg.tail_batch, fanned=self.fanned,
                              deliver=self._fan_out_tailed, wanted=lambda: len(self.index) > 0)
        await self.tail.start()
        self._server = await serve(
            self._handle,
            cfg.host,
            cfg.port,
            process_request=make_process_request(cfg, lambda: len(self.connections) >= cfg.max_connections),
            compression=None,  # loopback: deflate would cost CPU on every frame for nothing
            max_size=cfg.websocket_max_size,
            max_queue=16,
            write_limit=256 * 1024,
            ping_interval=30,
            ping_timeout=60,
            close_timeout=5,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        if cfg.idle_timeout is not None:
            self._idle_task = asyncio.create_task(self._close_idle(cfg.idle_timeout), name="relay idle sweep")

    async def stop(self) -> None:
        """Stop accepting, close clients with 1001, then let in-flight writes reach the store."""
        if self.tail is not None:
            await self.tail.stop()
            self.tail = None
        if self._idle_task is not None:
            self._idle_task.cancel()
            self._idle_task = None
        if self._server is not None:
            self._server.close()  # closes the listener, then every client with 1001 (going away)
            await self._server.wait_closed()
            self._server = None
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=10)
        self.verifier.close()
        self._completions = None

    # --- one connection ------------------------------------------------------------------------
    async def _handle(self, ws: ServerConnection) -> None:
        conn = Connection(self, ws)
        self.connections.add(conn)
        self.metrics.connections += 1
        self.metrics.connections_total += 1
        writer = asyncio.create_task(self._write_loop(conn))
        try:
            await self._perform(conn, conn.session.greeting())
            while not conn.dropped:
                data = await ws.recv(decode=False)
                conn.last_active = time.monotonic()
                try:
                    actions = conn.session.receive(data)
                except Exception:  # a bug must cost one answer, not the connection
                    log.exception("session failed on a frame")
                    actions = [Send(encode(RelayNotice("error: internal error handling that message")))]
                await self._perform(conn, actions)
        except ConnectionClosed:
            pass
        finally:
            self.connections.discard(conn)
            self.metrics.connections -= 1
            for action in conn.session.close_all():
                self.index.remove(action.sub)
            conn.outbox.close()
            writer.cancel()

    async def _write_loop(self, conn: Connection) -> None:
        ws = conn.ws
        try:
            while True:
                queued = await conn.outbox.get_many(WRITE_BATCH)
                # Frames of a subscription the client has since replaced (same id) or closed are
                # dropped here, at the last moment before the socket: after the relay processed a
                # REQ reusing an id, nothing of the old query may go out under it.
                frames = [frame for frame, sub in queued if sub is None or not sub.replaced]
                if frames:
                    conn.frames_sent += len(frames)  # counted when handed over (sending may then wait)
                    await send_frames(ws, frames)
        except (EOFError, ConnectionClosed):
            pass

    async def _perform(self, conn: Connection, actions: list) -> None:
        for action in actions:
            if isinstance(action, Send):
                await conn.outbox.put(action.frame)
            elif isinstance(action, Ingest):
                await conn.inflight.acquire()  # at the limit, stop reading this client
                conn.pending.append(action.event)
                if not conn.batch_scheduled:
                    # Events read in this loop iteration travel together: one verify hand-off, one
                    # wait for the writer, one socket write of their OKs.
                    conn.batch_scheduled = True
                    asyncio.get_running_loop().call_soon(self._start_batch, conn)
            elif isinstance(action, Subscribe):
                self.index.add(action.sub)
            elif isinstance(action, Unsubscribe):
                self.index.remove(action.sub)
            elif isinstance(action, Query):
                self._spawn(self._query(conn, action))
            elif isinstance(action, Count):
                self._spawn(self._count(conn, action))
            elif isinstance(action, VerifyAuth):
                # Awaited in line: a REQ right behind the AUTH must see the new auth state.
                try:
                    problem = await self.verifier.run(conn.session.check_auth, action.event)
                except RuntimeError:  # the verifier was shut down: the relay is stopping
                    problem = ProtocolError("the relay is shutting down", prefix=Prefix.ERROR, event_id=action.event.id)
                await self._perform(conn, conn.session.auth_checked(action.event, problem))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _close_idle(self, timeout: float) -> None:
        """Close connections that held no subscription and sent nothing for `timeout` seconds. One
        sweep over all connections every quarter timeout (at most 30 s) instead of a timer each."""
        while True:
            await asyncio.sleep(min(timeout / 4, 30.0))
            now = time.monotonic()
            for conn in list(self.connections):
                if conn.session.subs:
                    conn.last_active = now  # the idle clock starts when the last subscription ends
                elif now - conn.last_active >= timeout and not conn.dropped:
                    conn.dropped = True
                    self.metrics.idle_closed += 1
                    self._spawn(conn.ws.close(1000, "idle: no subscription and no message for too long"))

    # --- writes -------------------------------------------------------------------------------
    def _start_batch(self, conn: Connection) -> None:
        batch, conn.pending = conn.pending, []
        conn.batch_scheduled = False
        self._spawn(self._ingest_batch(conn, batch))

    async def _ingest_batch(self, conn: Connection, batch: list[Event]) -> None:
        try:
            answers = await self.accept_many(batch)
            for event, (accepted, message) in zip(batch, answers):
                if not await conn.outbox.put(encode(RelayOk(event.id, accepted, message))):
                    break
        finally:
            for _ in batch:
                conn.inflight.release()

    async def accept(self, event: Event) -> tuple[bool, str]:
        return (await self.accept_many([event]))[0]

    async def accept_many(self, events: list[Event]) -> list[tuple[bool, str]]:
        """Verify, rate-limit by author, store, fan out. Returns each event's OK (accepted, message)."""
        valid = await self.verifier.verify_many(events)
        answers: list[tuple[bool, str]] = [(False, "")] * len(events)
        waiting: list[tuple[int, Event, bytes, Future]] = []
        for i, (event, ok) in enumerate(zip(events, valid)):
            if not ok:
                self.metrics.verify_failures += 1
                answers[i] = self._refuse("invalid", "event id or signature is not valid")
            elif not self.pubkey_buckets.take(event.pubkey):
                answers[i] = self._refuse("rate-limited", f"more than {self.config.pubkey_event_rate.rate:g} events per second from this author")
            elif is_ephemeral(event.kind):
                answers[i] = self._settle(event, event.to_bytes(), EPHEMERAL_OK)  # live only: no store
            else:
                raw = event.to_bytes()
                try:
                    waiting.append((i, event, raw, self.store.submit(event, raw)))
                except Exception as exc:  # the store is closed or broken: the client must hear of it
                    log.warning("store refused an event: %s", exc)
                    answers[i] = self._refuse("error", "could not save the event")
        if waiting:
            await self._funnel().wait_all([w[3] for w in waiting])
            for i, event, raw, cfut in waiting:
                try:
                    answers[i] = self._settle(event, raw, cfut.result())
                except Exception as exc:
                    log.warning("store failed on an event: %s", exc)
                    answers[i] = self._refuse("error", "could not save the event")
        return answers

    def _refuse(self, prefix: str, text: str) -> tuple[bool, str]:
        self.metrics.reject(prefix)
        return False, f"{prefix}: {text}"

    def _settle(self, event: Event, raw: bytes, result: SaveResult) -> tuple[bool, str]:
        """Count a store outcome and deliver the event live if it is new."""
        if result.accepted:
            self.metrics.accepted[result.outcome.value] += 1
        else:
            self.metrics.reject(result.message.partition(":")[0] or "error")
        if result.outcome in STORED_OUTCOMES:
            self.fan_out_stored(event, raw)
        elif result.outcome is SaveOutcome.EPHEMERAL:
            self.fan_out(event, raw)
        return result.accepted, result.message

    async def store_and_fan_out(self, event: Event) -> SaveResult:
        """Store (ephemeral kinds skip the store), count the outcome, deliver live. Store errors raise."""
        raw = event.to_bytes()
        result = EPHEMERAL_OK if is_ephemeral(event.kind) else await self._funnel().wrap(self.store.submit(event, raw))
        self._settle(event, raw, result)
        return result

    def _funnel(self) -> CompletionFunnel:
        if self._completions is None:
            self._completions = CompletionFunnel(asyncio.get_running_loop())
        return self._completions

    # --- live delivery ------------------------------------------------------------------------
    def fan_out_stored(self, event: Event, raw: bytes) -> None:
        """Deliver a newly stored event live unless the store tail delivered it already (and note it,
        so the tail does not deliver it again when it reaches the row). With no subscriptions there
        is nobody to deliver to and nothing to remember."""
        if len(self.index) and self.fanned.first_time(event.id):
            self.fan_out(event, raw, stored=True)

    def _fan_out_tailed(self, event: Event, raw: bytes) -> None:
        self.fan_out(event, raw, stored=True)

    def fan_out(self, event: Event, raw: bytes, *, stored: bool = False) -> None:
        """Queue `raw` for every live subscription that matches; never waits. A `stored` event is
        skipped for a subscription whose REQ already served it from the store (see `_read`)."""
        if event.kind == CLIENT_AUTH:  # NIP-42: never broadcast
            return
        subs = self.index.match(event)
        if not subs:
            return
        restricted = event.kind in self.config.restricted_kinds
        for sub in subs:
            conn: Connection = sub.owner
            if restricted and not conn.may_read(event):
                continue
            if stored and sub.skip_ids and event.id in sub.skip_ids:
                sub.skip_ids.discard(event.id)
                continue
            frame = encode_event_frame(sub.sub_id, raw)
            if sub.backlog is not None:  # its stored events are still being sent
                if len(sub.backlog) < BACKLOG_MAX:
                    sub.backlog.append((event.id, frame, event))
                else:
                    self._slow(conn, sub)
            elif conn.outbox.offer(frame, sub):
                self.metrics.events_delivered += 1
            else:
                self._slow(conn, sub)

    def _slow(self, conn: Connection, sub: LiveSub) -> None:
        """A client that cannot keep up loses the subscription, and if even that cannot be said, the
        connection: memory per client stays bounded."""
        self.metrics.slow_consumers += 1
        conn.session.drop(sub)
        self.index.remove(sub)
        message = encode(RelayClosed(sub.sub_id, "error: client too slow to receive events; subscription closed"))
        if not conn.outbox.force(message, sub) and not conn.dropped:
            conn.dropped = True
            conn.outbox.close()
            self._spawn(conn.ws.close(1008, "client too slow"))

    # --- reads --------------------------------------------------------------------------------
    async def _query(self, conn: Connection, q: Query) -> None:
        sub = q.sub
        rows: list[bytes] = []
        if q.filters:
            started = time.perf_counter()
            try:
                rows, unseen = await asyncio.to_thread(self._read, q)
            except Exception as exc:
                log.warning("query failed: %s", exc)
                conn.session.drop(sub)
                self.index.remove(sub)
                await conn.outbox.put(encode(RelayClosed(sub.sub_id, "error: the query failed")), sub)
                return
            self.metrics.query_done((time.perf_counter() - started) * 1000)
            if unseen:
                # Rows the store tail has not delivered yet may be in this answer: the tail must not
                # send them again live to this subscription.
                not_yet = {peek_event_id(raw) for _, raw in unseen}
                sub.skip_ids = {i for i in map(peek_event_id, rows) if i in not_yet}
        for start in range(0, len(rows), PAGE):
            frames = [encode_event_frame(sub.sub_id, raw) for raw in rows[start : start + PAGE]]
            if sub.closed or not await conn.outbox.put_many(frames, sub):
                return
        if sub.closed or not await conn.outbox.put(encode(RelayEose(sub.sub_id)), sub):
            return
        backlog, sub.backlog = sub.backlog, None
        if backlog:
            sent = {peek_event_id(r) for r in rows}
            for event_id, frame, _ in backlog:
                if event_id in sent:
                    continue
                if not conn.outbox.offer(frame, sub):
                    self._slow(conn, sub)
                    return

    def _read(self, q: Query) -> tuple[list[bytes], list[tuple[int, bytes]]]:
        """(stored rows of a REQ, rows committed before it that the store tail has not read yet).
        The second read comes first and is one primary-key lookup when the tail is caught up."""
        tail = self.tail
        unseen = self.store.events_since(tail.seq, self.config.tail_batch) if tail is not None else []
        rows = self.store.query(q.filters, now=int(time.time()), readers=q.readers)
        return rows, unseen

    async def _count(self, conn: Connection, c: Count) -> None:
        n = 0
        if c.filters:
            try:
                n = await asyncio.to_thread(self.store.count, c.filters, now=int(time.time()), readers=c.readers)
            except Exception as exc:
                log.warning("count failed: %s", exc)
                await conn.outbox.put(encode(RelayClosed(c.sub_id, "error: the count failed")))
                return
        await conn.outbox.put(encode(RelayCount(c.sub_id, n)))

    # --- introspection ------------------------------------------------------------------------
    def queue_depths(self) -> list[int]:
        return [len(c.outbox) for c in self.connections]

