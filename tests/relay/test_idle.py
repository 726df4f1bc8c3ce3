"""Connections that hold no subscription and send nothing for `idle_timeout` seconds are closed
(a forgotten tab or a crashed client's half-open socket must not hold a slot for ever); a client
with an open subscription, or one that keeps talking, stays."""

from __future__ import annotations

import asyncio

from websockets.exceptions import ConnectionClosed

from .helpers import ALICE, WAIT, Client, make, running_relay

IDLE = 0.4


async def _closed_within(client: Client, seconds: float) -> int | None:
    """The close code if the relay closes the connection within `seconds`, else None."""
    try:
        async with asyncio.timeout(seconds):
            while True:
                await client.ws.recv()
    except ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd else -1
    except TimeoutError:
        return None


async def test_an_idle_connection_is_closed_and_busy_ones_stay(tmp_path):
    async with running_relay(tmp_path, idle_timeout=IDLE) as relay, Client.open(relay.url) as idle, \
            Client.open(relay.url) as subscribed, Client.open(relay.url) as talking:
        await subscribed.req("s", {"kinds": [1]})

        async def keep_talking():
            for n in range(int(4 * IDLE / 0.1)):
                await talking.count(f"c{n}", {"kinds": [1]})
                await asyncio.sleep(0.1)

        chatter = asyncio.create_task(keep_talking())
        assert await _closed_within(idle, 4 * IDLE + WAIT) == 1000
        await chatter
        note = make(ALICE, content="still here")
        assert (await talking.publish(note))[0]
        assert (await subscribed.live("s"))["id"] == note.id
        assert relay.metrics().idle_closed == 1


async def test_a_connection_whose_last_subscription_closed_becomes_idle(tmp_path):
    async with running_relay(tmp_path, idle_timeout=IDLE) as relay, Client.open(relay.url) as c:
        await c.req("s", {"kinds": [1]})
        assert await _closed_within(c, 2 * IDLE) is None  # subscribed: not idle
        await c.send("CLOSE", "s")
        assert await _closed_within(c, 4 * IDLE + WAIT) == 1000


async def test_idle_timeout_none_never_closes(tmp_path):
    async with running_relay(tmp_path, idle_timeout=None) as relay, Client.open(relay.url) as c:
        assert await _closed_within(c, 1.0) is None
        assert relay.metrics().idle_closed == 0
