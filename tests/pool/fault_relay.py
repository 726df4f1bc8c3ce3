"""A small NIP-01 relay for tests, with fault switches the test flips at run time.

Switches (`Faults`): refuse upgrades with an HTTP status; accept and close at once; drop the connection
after N messages sent;
delay EOSE; corrupt the events it serves (bad signatures / wrong ids); answer EVENTs with an OK-false
prefix (rate-limited:, auth-required:, blocked:, invalid:) for the next N publishes or always; stay
silent on EVENT (no OK); require NIP-42 AUTH for REQ and EVENT; send NOTICEs. Events live in memory
and are matched with the core's reference `select`, so the relay is small and obviously right.
It records what it received (`received` per event id) so tests can check "delivered once".
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from nostr_desk.protocol.event import Event
from nostr_desk.protocol.filters import Filter, select


@dataclass
class Faults:
    refuse_status: int | None = None      # answer the upgrade with this HTTP status
    drop_after: int | None = None         # close after sending this many messages on a connection
    eose_delay: float = 0.0
    bad_sigs: bool = False
    wrong_ids: bool = False
    ok_prefix: str | None = None          # e.g. "rate-limited: slow down"
    ok_prefix_times: int | None = None    # None = always; else the next N EVENTs
    silent_on_event: bool = False         # never answer OK (and do not store)
    require_auth: bool = False
    closed_prefix: str | None = None      # answer REQs with CLOSED <prefix>
    notice_on_connect: str | None = None
    late_challenge: bool = False          # send AUTH only after the first auth-required: answer
    close_on_connect: bool = False        # accept the upgrade, then close at once
    ignore_limit: bool = False            # serve every match, whatever the filter's limit says
    ignore_filters: bool = False          # serve every event it has, whatever was asked for
    auth_spam: int = 0                    # send this many AUTH challenges on connect...
    auth_spam_interval: float = 0.0       # ...this far apart


@dataclass
class FaultRelay:
    faults: Faults = field(default_factory=Faults)
    host: str = "127.0.0.1"
    port: int = 0
    events: dict[str, Event] = field(default_factory=dict)
    received: dict[str, int] = field(default_factory=dict)   # event id -> EVENT messages received
    auths: int = 0
    auth_messages: int = 0                                   # AUTH messages received, good or not
    connections: int = 0
    req_times: list[float] = field(default_factory=list)    # time.monotonic() of every REQ received
    req_filters: list[list[dict]] = field(default_factory=list)   # the filters of every REQ received

    async def start(self) -> "FaultRelay":
        self._server = await serve(self._handle, self.host, self.port,
                                   process_request=self._process_request, compression=None)
        self.port = self._server.sockets[0].getsockname()[1]
        self._clients: set[ServerConnection] = set()
        self._spammers: set[asyncio.Future] = set()     # referenced until the relay stops
        self._stopping = asyncio.Event()
        return self

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    async def stop(self) -> None:
        """Kill it: close the listener and every client (the port can be reused by `start`)."""
        self._stopping.set()
        self._server.close()
        for ws in list(self._clients):
            ws.transport.abort()
        for task in self._spammers:
            task.cancel()
        await self._server.wait_closed()

    def add(self, *events: Event) -> None:
        for ev in events:
            self.events[ev.id] = ev

    def _process_request(self, connection, request):
        if self.faults.refuse_status:
            return connection.respond(self.faults.refuse_status, "go away\n")
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        self.connections += 1
        self._clients.add(ws)
        state = {"sent": 0, "authed": False, "challenge": f"chal-{self.connections}"}
        try:
            if self.faults.close_on_connect:
                await ws.close(1011, "going away")
                return
            if self.faults.require_auth and not self.faults.late_challenge:
                await self._send(ws, state, ["AUTH", state["challenge"]])
            if self.faults.auth_spam:       # while reading what the client answers
                self._spammers.add(asyncio.ensure_future(self._spam_challenges(ws, state)))
            if self.faults.notice_on_connect:
                await self._send(ws, state, ["NOTICE", self.faults.notice_on_connect])
            async for text in ws:
                await self._on_message(ws, state, json.loads(text))
        except (ConnectionClosed, _Dropped):
            pass
        finally:
            self._clients.discard(ws)

    async def _spam_challenges(self, ws, state) -> None:
        try:
            for i in range(self.faults.auth_spam):
                state["challenge"] = f"spam-{self.connections}-{i}"
                await self._send(ws, state, ["AUTH", state["challenge"]])
                await asyncio.sleep(self.faults.auth_spam_interval)
        except (ConnectionClosed, _Dropped):
            pass

    async def _send(self, ws, state, msg) -> None:
        drop = self.faults.drop_after
        if drop is not None and state["sent"] >= drop:
            await ws.close()
            raise _Dropped()
        state["sent"] += 1
        await ws.send(json.dumps(msg, separators=(",", ":"), ensure_ascii=False))

    async def _on_message(self, ws, state, msg: list) -> None:
        verb = msg[0]
        if verb == "REQ":
            self.req_times.append(time.monotonic())
            self.req_filters.append(msg[2:])
            await self._req(ws, state, msg[1], msg[2:])
        elif verb == "EVENT":
            await self._event(ws, state, msg[1])
        elif verb == "AUTH":
            self.auth_messages += 1
            ev = Event.from_obj(msg[1])
            ok = ev.kind == 22242 and ["challenge", state["challenge"]] in ev.tags and ev.has_valid_signature()
            state["authed"] = state["authed"] or ok
            self.auths += ok
            await self._send(ws, state, ["OK", ev.id, ok, "" if ok else "invalid: bad auth"])

    async def _req(self, ws, state, sub_id: str, filters: list) -> None:
        if self.faults.require_auth and not state["authed"]:
            await self._send(ws, state, ["CLOSED", sub_id, "auth-required: log in first"])
            return
        if self.faults.closed_prefix:
            await self._send(ws, state, ["CLOSED", sub_id, self.faults.closed_prefix])
            return
        if self.faults.ignore_limit:
            filters = [{k: v for k, v in f.items() if k != "limit"} for f in filters]
        if self.faults.ignore_filters:
            filters = [{}]
        parsed = [Filter.from_obj(f) for f in filters]
        for ev in select(list(self.events.values()), parsed):
            await self._send(ws, state, ["EVENT", sub_id, self._corrupt(ev.to_obj())])
        if self.faults.eose_delay:
            try:   # a delay that a stop() cuts short, so tests do not wait for it
                await asyncio.wait_for(self._stopping.wait(), self.faults.eose_delay)
                return
            except asyncio.TimeoutError:
                pass
        await self._send(ws, state, ["EOSE", sub_id])

    def _corrupt(self, obj: dict) -> dict:
        if self.faults.bad_sigs:
            obj["sig"] = ("0" if obj["sig"][0] != "0" else "1") + obj["sig"][1:]
        if self.faults.wrong_ids:
            obj["content"] += "!"
        return obj

    async def _event(self, ws, state, obj: dict) -> None:
        ev = Event.from_obj(obj)
        self.received[ev.id] = self.received.get(ev.id, 0) + 1
        f = self.faults
        if f.silent_on_event:
            return
        if f.require_auth and not state["authed"]:
            await self._send(ws, state, ["OK", ev.id, False, "auth-required: log in first"])
            if f.late_challenge:
                await self._send(ws, state, ["AUTH", state["challenge"]])
            return
        if f.ok_prefix and (f.ok_prefix_times is None or f.ok_prefix_times > 0):
            if f.ok_prefix_times is not None:
                f.ok_prefix_times -= 1
            await self._send(ws, state, ["OK", ev.id, False, f.ok_prefix])
            return
        try:
            ev.verify()
        except Exception as exc:
            await self._send(ws, state, ["OK", ev.id, False, f"invalid: {exc}"])
            return
        dup = ev.id in self.events
        self.events[ev.id] = ev
        await self._send(ws, state, ["OK", ev.id, True, "duplicate: have it" if dup else ""])


class _Dropped(Exception):
    pass
