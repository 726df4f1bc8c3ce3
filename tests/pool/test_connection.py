"""RelayConnection against the fault relay on 127.0.0.1: connect, REQ/EOSE, OK, refusals, drops, auth,
rate-limit pauses, resubscribe margins, hostile relays (accept-and-drop, stop reading, huge frames).
More NIP-42 cases are in test_connection_auth.py."""

from __future__ import annotations

import asyncio
import time

from nostr_desk.pool.auth import AuthGate
from nostr_desk.pool.connection import RelayConnection
from nostr_desk.pool.notices import NoticeHub, StatusChanged
from nostr_desk.protocol.messages import ClientEvent, encode

from .events import make_event
from .fault_relay import Faults, FaultRelay
from .helpers import _yes, arun, collector, fast_config, signer, until


def test_req_eose_and_metrics():
    async def go():
        relay = await FaultRelay().start()
        relay.add(*[make_event(i) for i in range(5)])
        hub = NoticeHub()
        statuses = []
        hub.subscribe(lambda n: statuses.append(n.new) if isinstance(n, StatusChanged) else None)
        conn = RelayConnection(relay.url, fast_config(), notices=hub)
        sub, got, eoses, _ = collector()
        await conn.subscribe(sub)
        await asyncio.wait_for(sub.eose_event.wait(), 5)
        assert len(got) == 5 and eoses == [relay.url]
        snap = conn.health.snapshot()
        assert {"connect_ms", "eose_ms", "first_event_ms"} <= set(snap.latest)
        assert snap.events_received == 5 and snap.bytes_in > 0 and snap.bytes_out > 0
        assert await conn.ping() is not None
        assert "connecting" in statuses and "connected" in statuses
        await conn.close()
        await relay.stop()
    arun(go())


def test_http_refusal_backs_off_with_the_http_floor():
    async def go():
        relay = await FaultRelay(faults=Faults(refuse_status=503)).start()
        conn = RelayConnection(relay.url, fast_config())
        conn.start()
        await until(lambda: conn.health.status == "backoff")
        assert "HTTP 503" in conn.health.last_error
        assert conn.next_attempt_in >= 0.5          # the floor, not the tiny network backoff
        relay.faults.refuse_status = None
        assert await conn.wait_connected(5)
        await conn.close()
        await relay.stop()
    arun(go())


def test_unreachable_relay_opens_the_breaker():
    async def go():
        relay = await FaultRelay().start()
        url = relay.url
        await relay.stop()
        conn = RelayConnection(url, fast_config(breaker_failure_threshold=2, breaker_open_seconds=30))
        conn.start()
        await until(lambda: conn.breaker.state.value == "open")
        assert not conn.connected and conn.health.success_rate == 0.0
        await conn.close()
    arun(go())


def test_drop_then_resubscribe_with_since():
    async def go():
        relay = await FaultRelay().start()
        relay.add(*[make_event(i) for i in range(3)])
        conn = RelayConnection(relay.url, fast_config())
        sub, got, eoses, _ = collector()
        await conn.subscribe(sub)
        await until(lambda: len(eoses) == 1)
        first_complete = sub.complete_at
        # Kill every client; the connection comes back and re-sends the REQ with `since`.
        for ws in list(relay._clients):
            ws.transport.abort()
        await until(lambda: len(eoses) == 2)
        assert relay.connections == 2 and conn.health.disconnects == 1
        assert len(got) == 3       # the old events (created 2023) are before `since`: not re-sent
        assert sub.complete_at >= first_complete
        await conn.close()
        await relay.stop()
    arun(go())


def test_resubscribe_catches_events_stamped_minutes_before_the_drop():
    # An author's clock runs two minutes behind (or a note reaches the relay late): its created_at
    # is before the moment our subscription was complete. The resubscribe's `since` must reach back
    # far enough to fetch it; duplicates re-fetched by the margin are cheap, a missed note is not.
    async def go():
        relay = await FaultRelay().start()
        conn = RelayConnection(relay.url, fast_config())
        sub, got, eoses, _ = collector()
        await conn.subscribe(sub)
        await until(lambda: len(eoses) == 1)
        late = make_event(0, created_at=int(time.time()) - 120)
        relay.add(late)                          # arrives while we are (about to be) away
        for ws in list(relay._clients):
            ws.transport.abort()
        await until(lambda: len(eoses) == 2)
        assert got == [late.to_bytes()]
        await conn.close()
        await relay.stop()
    arun(go())


def test_complete_at_advances_to_the_drop_for_a_live_subscription():
    # A subscription past EOSE was streaming live until the drop: it is complete up to the drop,
    # so a reconnect hours later does not re-fetch hours of events.
    async def go():
        now = [1_000_000.0]
        relay = await FaultRelay().start()
        conn = RelayConnection(relay.url, fast_config(), wall=lambda: now[0])
        sub, got, eoses, _ = collector()
        await conn.subscribe(sub)
        await until(lambda: len(eoses) == 1)
        assert sub.complete_at == 1_000_000
        now[0] += 7200
        for ws in list(relay._clients):
            ws.transport.abort()
        await until(lambda: conn.health.disconnects == 1)
        assert sub.complete_at == 1_007_200
        since = conn._since_filters(sub)[0].since
        assert 1_007_200 - 3600 <= since <= 1_007_200 - 60
        await conn.close()
        await relay.stop()
    arun(go())


def test_nip42_auth_then_retry_closed_req_and_publish():
    async def go():
        relay = await FaultRelay(faults=Faults(require_auth=True)).start()
        relay.add(make_event(1))
        conn = RelayConnection(relay.url, fast_config(),
                               auth=AuthGate("x", "ask", signer, ask=lambda url: _yes(), timeout=2))
        sub, got, eoses, closed = collector()
        await conn.subscribe(sub)
        await until(lambda: len(eoses) == 1)
        assert closed == [] and len(got) == 1 and relay.auths == 1
        ok, msg = await conn.publish(make_event(2))
        assert ok and conn.health.auth == "authenticated"
        await conn.close()
        await relay.stop()
    arun(go())


def test_auth_policy_never_reports_closed():
    async def go():
        relay = await FaultRelay(faults=Faults(require_auth=True)).start()
        conn = RelayConnection(relay.url, fast_config(),
                               auth=AuthGate("x", "never", signer, ask=None, timeout=2))
        sub, got, eoses, closed = collector()
        await conn.subscribe(sub)
        await until(lambda: len(closed) == 1)
        assert closed[0].startswith("auth-required:") and relay.auths == 0
        ok, msg = await conn.publish(make_event(3))
        assert not ok and msg.startswith("auth-required:")
        await conn.close()
        await relay.stop()
    arun(go())


def test_rate_limited_ok_and_notice_pause_the_relay():
    async def go():
        relay = await FaultRelay(faults=Faults(ok_prefix="rate-limited: slow down",
                                               notice_on_connect="you are rate limited")).start()
        conn = RelayConnection(relay.url, fast_config(rate_limit_pause=5))
        assert await conn.wait_connected(5)
        ok, msg = await conn.publish(make_event(4))
        assert not ok and msg.startswith("rate-limited:")
        await until(lambda: conn.health.rate_limited >= 2)
        assert conn.health.paused_for() > 3 and conn.health.last_ok_false.startswith("rate-limited")
        await conn.close()
        await relay.stop()
    arun(go())


def test_publish_timeout_when_relay_is_silent():
    async def go():
        relay = await FaultRelay(faults=Faults(silent_on_event=True)).start()
        conn = RelayConnection(relay.url, fast_config(ok_timeout=0.3))
        assert await conn.wait_connected(5)
        try:
            await conn.publish(make_event(5))
        except asyncio.TimeoutError:
            pass
        else:
            raise AssertionError("expected a timeout")
        assert "no OK" in conn.health.last_error
        await conn.close()
        await relay.stop()
    arun(go())


def test_repeated_rate_limits_get_the_rejection_floor():
    async def go():
        relay = await FaultRelay(faults=Faults(ok_prefix="rate-limited: slow down")).start()
        conn = RelayConnection(relay.url, fast_config(rate_limit_pause=0.05, backoff_rejection_floor=3.0))
        assert await conn.wait_connected(5)
        await conn.publish(make_event(6))
        first = conn.health.paused_for()
        await conn.publish(make_event(7))
        second = conn.health.paused_for()
        assert first < 1.0 and second > 2.5
        await conn.close()
        await relay.stop()
    arun(go())


def test_req_closed_rate_limited_is_resent_after_the_pause():
    async def go():
        relay = await FaultRelay(faults=Faults(closed_prefix="rate-limited: too many REQs")).start()
        relay.add(make_event(1))
        conn = RelayConnection(relay.url, fast_config(rate_limit_pause=0.2, backoff_rejection_floor=0.2))
        sub, got, eoses, closed = collector()
        await conn.subscribe(sub)
        await until(lambda: conn.health.rate_limited == 1)
        relay.faults.closed_prefix = None
        await until(lambda: len(eoses) == 1)
        assert closed == [] and len(got) == 1 and conn.health.last_closed.startswith("rate-limited")
        await conn.close()
        await relay.stop()
    arun(go())


def test_unanswered_ping_drops_and_reconnects():
    async def go():
        relay = await FaultRelay().start()
        conn = RelayConnection(relay.url, fast_config(ping_interval=0.1, ping_timeout=0.2))
        assert await conn.wait_connected(5)
        # Stop the server from answering pings: pause reading on its side of the socket.
        for ws in list(relay._clients):
            ws.transport.pause_reading()
        await until(lambda: conn.health.disconnects >= 1, timeout=5)
        await until(lambda: conn.connected and relay.connections >= 2, timeout=5)
        assert conn.health.success_rate < 1.0          # the missed pong counted as a failure
        await conn.close()
        await relay.stop()
    arun(go())


def _pool_tasks() -> list[asyncio.Task]:
    """Pending tasks running pool code (the fault relay's own tasks are not ours to judge)."""
    me = asyncio.current_task()
    code = lambda t: getattr(t.get_coro(), "cr_code", None)
    return [t for t in asyncio.all_tasks() if t is not me and not t.done()
            and "nostr_desk/pool/" in getattr(code(t), "co_filename", "")]


def test_a_rate_limit_holds_back_new_reqs_on_the_open_connection():
    async def go():
        relay = await FaultRelay(faults=Faults(notice_on_connect="rate limited: slow down")).start()
        relay.add(make_event(1))
        conn = RelayConnection(relay.url, fast_config(rate_limit_pause=0.6, backoff_rejection_floor=0.6))
        assert await conn.wait_connected(5)
        await until(lambda: conn.health.rate_limited == 1)
        resume_at = conn.health.paused_until
        sub, got, eoses, _ = collector()
        await conn.subscribe(sub)           # the socket is open, but the relay asked us to wait
        await until(lambda: len(eoses) == 1)
        assert relay.req_times[0] >= resume_at - 0.01 and len(got) == 1
        await conn.close()
        await relay.stop()
    arun(go())


def test_close_cancels_a_pending_resend():
    async def go():
        relay = await FaultRelay(faults=Faults(closed_prefix="rate-limited: too many REQs")).start()
        conn = RelayConnection(relay.url, fast_config(rate_limit_pause=30, backoff_rejection_floor=30))
        sub, got, eoses, closed = collector()
        await conn.subscribe(sub)
        await until(lambda: conn.health.rate_limited == 1)
        await asyncio.sleep(0.05)
        await conn.close()
        assert _pool_tasks() == []
        await relay.stop()
    arun(go())


def test_a_relay_that_accepts_then_drops_at_once_opens_the_breaker():
    # Each connect "succeeds", but the connection never lives: that is a failing relay, and the
    # breaker must short-circuit it like one that refuses outright.
    async def go():
        relay = await FaultRelay(faults=Faults(close_on_connect=True)).start()
        conn = RelayConnection(relay.url, fast_config(breaker_failure_threshold=3, breaker_open_seconds=30))
        conn.start()
        await until(lambda: conn.breaker.state.value == "open", timeout=10)
        assert relay.connections == 3 and conn.health.status in ("breaker-open", "waiting")
        await conn.close()
        await relay.stop()
    arun(go())


def test_a_relay_that_stops_reading_cannot_hang_a_send():
    # The relay's side stops reading: our socket buffers fill and a send would wait forever for
    # them to drain. Every send is bounded; the stuck connection is dropped and comes back.
    async def go():
        relay = await FaultRelay().start()
        conn = RelayConnection(relay.url, fast_config(send_timeout=0.5, ok_timeout=0.1))
        assert await conn.wait_connected(5)
        for ws in list(relay._clients):
            ws.transport.pause_reading()
        loop = asyncio.get_running_loop()
        errors = []
        for i in range(60):
            started = loop.time()
            try:
                await asyncio.wait_for(conn.publish(make_event(i, content="x" * 400_000)), 10)
            except asyncio.TimeoutError:
                errors.append(loop.time() - started)
            except ConnectionError:
                errors.append(loop.time() - started)
                break
        assert errors and max(errors) < 3        # each gave up in its own time, none hung
        await until(lambda: conn.health.disconnects >= 1 and conn.connected, timeout=5)
        await conn.close()
        await relay.stop()
    arun(go(), timeout=60)


def test_a_huge_frame_drops_the_connection_with_a_reason_and_bytes_count_utf8():
    async def go():
        relay = await FaultRelay(faults=Faults(notice_on_connect="x" * 50_000)).start()
        conn = RelayConnection(relay.url, fast_config(max_message_bytes=10_000))
        conn.start()
        await until(lambda: conn.health.disconnects >= 1)
        assert "1009" in conn.health.last_error          # "message too big", not a bare "closed"
        relay.faults.notice_on_connect = None
        started = relay.connections          # a connection made from now on gets no huge frame
        await until(lambda: relay.connections > started and conn.connected)
        before = conn.health.bytes_out
        ev = make_event(1, content="ü€" * 50)
        await conn.publish(ev)
        assert conn.health.bytes_out - before == len(encode(ClientEvent(ev)).encode())
        await conn.close()
        await relay.stop()
    arun(go())
