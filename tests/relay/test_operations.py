"""Operational behaviour: rate limits answered with `rate-limited:`, oversized frames answered, a
slow consumer cannot grow the relay's memory, shutdown with 1001, metrics, and the app-facing
`publish_local` / `notify_stored`."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from nostr_desk.relay import RateLimit
from nostr_desk.relay.outbox import FORCE_MARGIN
from nostr_desk.store import SaveOutcome

from .helpers import ALICE, BOB, Client, make, now, running_relay


async def test_connection_event_rate_limit(tmp_path):
    async with running_relay(tmp_path, event_rate=RateLimit(rate=0.5, burst=3)) as relay, Client.open(relay.url) as c:
        results = [await c.publish(make(ALICE, content=str(i))) for i in range(4)]
        assert [ok for ok, _ in results] == [True, True, True, False]
        assert results[3][1].startswith("rate-limited:")
        assert relay.metrics().rejected.get("rate-limited") == 1


async def test_req_rate_limit_answered_with_closed(tmp_path):
    async with running_relay(tmp_path, req_rate=RateLimit(rate=0.5, burst=2)) as relay, Client.open(relay.url) as c:
        await c.req("a", {})
        await c.count("b", {})
        assert (await c.closed_reason("c", {})).startswith("rate-limited:")


async def test_per_author_rate_limit_spans_connections(tmp_path):
    async with running_relay(tmp_path, pubkey_event_rate=RateLimit(rate=0.5, burst=2)) as relay, \
            Client.open(relay.url) as a, Client.open(relay.url) as b:
        assert (await a.publish(make(ALICE, content="1")))[0]
        assert (await b.publish(make(ALICE, content="2")))[0]
        ok, msg = await b.publish(make(ALICE, content="3"))
        assert not ok and msg.startswith("rate-limited:")
        assert (await b.publish(make(BOB, content="bob is fine")))[0]


async def test_oversized_frames_answered_and_connection_keeps_working(tmp_path):
    async with running_relay(tmp_path, max_message_length=10_000) as relay, Client.open(relay.url) as c:
        big = make(ALICE, content="x" * 12_000)
        ok, msg = await c.publish(big)
        assert not ok and msg.startswith("invalid:")
        await c.send_raw(json.dumps(["REQ", "s", {"search": "y" * 12_000}]))
        notice = await c.next(lambda m: m[0] == "NOTICE")
        assert notice[1].startswith("invalid:")
        assert (await c.publish(make(ALICE, content="small")))[0]
        # far past the hard cap websockets closes the connection (1009); others are unaffected
        async with Client.open(relay.url) as other:
            await c.send_raw("[" + " " * relay.config.websocket_max_size + "]")
            with pytest.raises(ConnectionClosed):
                await c.next(timeout=5)
            assert (await other.publish(make(BOB, content="still here")))[0]


async def test_slow_consumer_is_cut_off_with_bounded_memory(tmp_path):
    limits = dict(outbox_max_frames=50, outbox_max_bytes=1024 * 1024)
    async with running_relay(tmp_path, **limits) as relay, Client.open(relay.url) as pub, \
            Client.open(relay.url) as fast:
        # The slow client never reads: its socket and websockets' queue fill, then the relay's outbox.
        async with connect(relay.url, max_queue=1, compression=None) as slow:
            await slow.send(json.dumps(["REQ", "firehose", {"kinds": [1]}]))
            await fast.req("firehose", {"kinds": [1]})
            got: list[str] = []

            async def read_fast() -> None:
                while len(got) < 300:
                    got.append((await fast.live("firehose", timeout=10))["id"])

            reader = asyncio.create_task(read_fast())
            deepest = 0
            sent = []
            for i in range(300):  # 12 MB in all, far more than the socket buffers hold
                ev = make(ALICE, 1, f"{i} " + "z" * 40_000, created_at=now())
                assert (await pub.publish(ev))[0]
                sent.append(ev.id)
                deepest = max(deepest, relay.metrics().queue_depth_max)
            snap = relay.metrics()
            assert snap.slow_consumers >= 1
            assert deepest <= limits["outbox_max_frames"] + FORCE_MARGIN
            await reader
            assert sorted(got) == sorted(sent)  # a fast reader still gets everything
            # When the slow client finally reads, it learns why the events stopped.
            reasons = []
            try:
                async with asyncio.timeout(10):
                    while True:
                        msg = json.loads(await slow.recv())
                        if msg[0] == "CLOSED":
                            reasons.append(msg[2])
                            break
            except ConnectionClosed as closed:
                reasons.append(f"closed {closed.rcvd.code if closed.rcvd else ''}")
            assert reasons and (reasons[0].startswith("error:") or reasons[0].startswith("closed 1008"))


async def test_stop_closes_clients_with_1001(tmp_path):
    async with running_relay(tmp_path) as relay:
        async with Client.open(relay.url) as c:
            await c.req("s", {})
            await relay.stop()
            with pytest.raises(ConnectionClosed) as err:
                await c.next(timeout=5)
            assert err.value.rcvd.code == 1001


async def test_metrics_snapshot(tmp_path):
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c:
        ev = make(ALICE)
        await c.publish(ev)
        await c.publish(ev)
        bad = ev.to_obj() | {"sig": "f" * 128}
        await c.publish(make(BOB).to_obj() | {"sig": bad["sig"]})
        await c.req("s", {})
        await c.send_raw("nonsense")
        await c.next(lambda m: m[0] == "NOTICE")
        snap = relay.metrics()
        assert snap.accepted == {"saved": 1, "duplicate": 1}
        assert snap.verify_failures == 1 and snap.rejected["invalid"] == 2
        assert snap.connections == 1 and snap.subscriptions == 1 and snap.queries >= 1
        assert snap.query_p95_ms > 0 and snap.notices == 1


async def test_publish_local_and_notify_stored_reach_live_subscribers(tmp_path):
    async with running_relay(tmp_path) as relay, Client.open(relay.url) as c:
        await c.req("s", {"kinds": [1]})
        mine = make(ALICE, content="posted from the app")
        result = await relay.publish_local(mine)
        assert result.outcome is SaveOutcome.SAVED
        assert (await c.live("s"))["id"] == mine.id
        fetched = make(BOB, content="fetched by the pool")
        assert (await relay.store.save(fetched)).accepted
        await relay.notify_stored(fetched.to_bytes(), fetched)
        assert (await c.live("s"))["id"] == fetched.id
        bad = make(ALICE, content="x")
        from nostr_desk.protocol.errors import InvalidEvent
        from nostr_desk.protocol.event import Event

        forged = Event(bad.id, bad.pubkey, bad.created_at, bad.kind, bad.tags, "changed", bad.sig)
        with pytest.raises(InvalidEvent):
            await relay.publish_local(forged)


async def test_restart_after_stop_serves_again(tmp_path):
    async with running_relay(tmp_path) as relay:
        assert relay.running
        async with Client.open(relay.url) as c:
            assert (await c.publish(make(ALICE, content="before")))[0]
        await relay.stop()
        assert not relay.running  # what the UI's status bar and Local relay page show
        with pytest.raises(AttributeError):
            relay.running = True  # read-only: only start/stop change it
        await relay.start()  # the app's Local relay page can start it again
        assert relay.running
        async with Client.open(relay.url) as c:
            assert (await c.publish(make(ALICE, content="after restart")))[0]
            assert len(await c.req("s", {"authors": [ALICE.public_key]})) == 2
