"""NIP-01: a REQ reusing an open subscription id replaces it. Once the relay has processed the new
REQ, nothing from the old subscription's query (stored events, its EOSE) may go out under that id,
even what was already queued for a client that reads slowly."""

from __future__ import annotations

import asyncio

from .helpers import ALICE, BOB, WAIT, Client, make, now, running_relay

BIG = "x" * 30_000  # 500 of these (15 MB) cannot all sit in socket buffers: the relay must queue them


async def _until(condition, timeout: float = WAIT) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


async def test_a_replaced_subscription_sends_nothing_of_its_old_query_after_the_new_req(tmp_path):
    async with running_relay(tmp_path) as relay:
        old_events = [make(ALICE, content=BIG + str(i), created_at=now() - i) for i in range(500)]
        assert all(r.accepted for r in relay.store.save_many(old_events))
        new_event = make(BOB, content="the new query's only match")
        assert (await relay.store.save(new_event)).accepted
        server = relay._server
        async with Client.open(relay.url, max_queue=1) as c:
            (conn,) = server.connections
            await c.send("REQ", "s", {"authors": [ALICE.public_key]})
            # The client reads nothing, so the relay's writer blocks and old frames wait in the outbox.
            await _until(lambda: len(conn.outbox) > 0)
            await c.send("REQ", "s", {"authors": [BOB.public_key]})
            await _until(lambda: conn.session.subs["s"].filters[0].authors == frozenset({BOB.public_key}))
            handed_over = conn.frames_sent  # frames already given to the socket when the REQ was processed
            messages = []
            while True:
                msg = await c.next(lambda m: m[1] == "s")
                messages.append(msg)
                if msg[0] == "EVENT" and msg[2]["id"] == new_event.id:
                    break
            eose = await c.next(lambda m: m[0] == "EOSE" and m[1] == "s")
            assert eose
            old_ids = {e.id for e in old_events}
            old_seen = [m for m in messages if m[0] == "EVENT" and m[2]["id"] in old_ids]
            assert len(old_seen) <= handed_over - 1  # minus the AUTH greeting
            assert len(old_seen) < len(old_events)
            assert all(m[0] == "EVENT" for m in messages)  # no EOSE of the old query either
            await c.nothing(lambda m: m[1] == "s", wait=0.3)
