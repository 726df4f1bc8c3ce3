"""Live subscriptions follow the pool's readable set, and `RelayPool.set_flags` drives it: a relay
started (and added) after the subscription joins it; one whose breaker was open when the
subscription started joins once it recovers; read turned off or the relay removed: it leaves,
cleanly, while the others keep delivering. Write off: no longer a publish primary."""

from __future__ import annotations

import asyncio

from nostr_desk.pool.pool import RelayPool
from nostr_desk.protocol.filters import Filter

from .events import make_event
from .fault_relay import Faults, FaultRelay
from .helpers import arun, fast_config, until

KIND1 = [Filter.from_obj({"kinds": [1]})]


async def next_event(sub, timeout: float = 5.0):
    return await asyncio.wait_for(anext(aiter(sub)), timeout)


def test_a_relay_started_later_joins_and_read_off_leaves():
    async def go():
        a = await FaultRelay().start()
        a.add(make_event(900))
        pool = RelayPool(fast_config(), None)
        pool.add_relay(a.url)
        sub = await pool.subscribe(KIND1)
        assert (await next_event(sub)).id == make_event(900).id

        b = await FaultRelay().start()                          # a relay that starts later
        b.add(make_event(901))
        url_b = pool.set_flags(b.url, read=True)
        assert (await next_event(sub)).id == make_event(901).id, "the new read relay never joined"
        assert url_b in sub.connections and sub.id in pool.connections[url_b].subs

        pool.set_flags(url_b, read=False)                       # read off: leave b, keep a
        await until(lambda: url_b not in sub.connections)
        assert sub.id not in pool.connections[url_b].subs       # no resubscribe after a reconnect
        assert pool.read_relays == [a.url]
        c = await FaultRelay().start()
        c.add(make_event(902))
        pool.add_relay(c.url)
        assert (await next_event(sub)).id == make_event(902).id  # still delivering
        await pool.remove_relay(a.url)
        assert a.url not in sub.connections and set(sub.connections) == {c.url}
        await sub.close()
        await pool.close()
        for r in (a, b, c):
            await r.stop()

    arun(go())


def test_a_relay_whose_breaker_was_open_joins_when_it_recovers():
    async def go():
        good = await FaultRelay().start()
        flaky = await FaultRelay(faults=Faults(refuse_status=503)).start()
        flaky.add(make_event(910))
        pool = RelayPool(fast_config(breaker_failure_threshold=1, breaker_open_seconds=0.3,
                                     backoff_http_floor=0.1), None)
        pool.add_relay(good.url)
        pool.add_relay(flaky.url)
        await until(lambda: pool.health()[flaky.url].breaker == "open")
        sub = await pool.subscribe(KIND1)
        assert flaky.url not in sub.connections                # short-circuited when the sub started
        flaky.faults.refuse_status = None
        assert (await next_event(sub, timeout=10)).id == make_event(910).id, "never joined after recovering"
        await sub.close()
        await pool.close()
        await good.stop(); await flaky.stop()

    arun(go())


def test_fixed_relays_and_fetches_do_not_follow():
    async def go():
        a, b = await FaultRelay().start(), await FaultRelay().start()
        pool = RelayPool(fast_config(), None)
        pool.add_relay(a.url)
        sub = await pool.subscribe(KIND1, relays=[a.url])       # the caller named its relays
        pool.add_relay(b.url)
        start = pool.ticks
        await until(lambda: pool.ticks >= start + 3)
        assert set(sub.connections) == {a.url}
        await sub.close()
        await pool.close()
        await a.stop(); await b.stop()

    arun(go())


def test_write_flag_decides_the_publish_primaries():
    async def go():
        a, b = await FaultRelay().start(), await FaultRelay().start()
        pool = RelayPool(fast_config(), None)
        pool.set_flags(a.url, read=False, write=True)
        pool.set_flags(b.url, write=True)
        assert pool.write_relays == [a.url, b.url] and pool.read_relays == []
        pool.set_flags(a.url, write=False)
        report = await pool.publish(make_event(920))
        assert report.tried == 1 and make_event(920).id in b.events and a.received == {}
        with __import__("pytest").raises(ValueError):
            pool.set_flags("http://not-a-relay", read=True)
        await pool.close()
        await a.stop(); await b.stop()

    arun(go())
