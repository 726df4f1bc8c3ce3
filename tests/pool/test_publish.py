"""Publishing through the durable outbox against real relays: OK prefixes, fallbacks, NIP-42,
a relay killed mid-publish, and a pool restarted with a pending publish."""

from __future__ import annotations

import pytest

from nostr_desk.pool.notices import PublishResult
from nostr_desk.pool.pool import RelayPool
from nostr_desk.protocol.event import sign
from nostr_desk.store import EventStore, StoreConfig
from nostr_desk.store import outbox as ob

from .events import make_event, secret
from .fault_relay import Faults, FaultRelay
from .helpers import arun, fast_config, until


@pytest.fixture
def db(tmp_path):
    return tmp_path / "events.db"


def open_store(path):
    return EventStore.open(StoreConfig(path))


def outbox_entry(store, event_id):
    conn = store.connect()
    try:
        return ob.entry(conn, event_id), ob.attempts(conn, event_id)
    finally:
        conn.close()


async def signer(template):
    return sign(template, secret(3), aux_rand=bytes(32))


def test_accepted_by_all_primaries(db):
    store = open_store(db)
    ev = make_event(1)

    async def go():
        a, b = await FaultRelay().start(), await FaultRelay().start()
        pool = RelayPool(fast_config(), store)
        seen = []
        pool.on_notice(lambda n: seen.append(n) if isinstance(n, PublishResult) else None)
        report = await pool.publish(ev, [a.url, b.url], [])
        assert report.summary() == "accepted by 2 of 2" and report.delivered
        assert ev.id in a.events and ev.id in b.events
        assert {n.url for n in seen} == {a.url, b.url} and all(n.accepted and n.final for n in seen)
        assert "ok_ms" in pool.health()[a.url].latest
        await pool.close()
        await a.stop(); await b.stop()

    arun(go())
    entry, _ = outbox_entry(store, ev.id)
    assert entry.state == "delivered"
    store.close()


def test_blocked_primary_then_fallback_and_duplicate_counts_as_delivered(db):
    store = open_store(db)
    ev = make_event(2)

    async def go():
        blocked = await FaultRelay(faults=Faults(ok_prefix="blocked: not on the list")).start()
        fallback = await FaultRelay().start()
        fallback.add(ev)                                   # it already has it: answers duplicate:
        unused = await FaultRelay().start()
        pool = RelayPool(fast_config(), store)
        report = await pool.publish(ev, [blocked.url], [fallback.url])
        assert report.delivered and report.accepted == 1 and report.tried == 2
        assert f"{blocked.url} (blocked: not on the list)" in report.summary()
        # Primaries that accept mean fallbacks are never contacted.
        report2 = await pool.publish(make_event(3), [fallback.url], [unused.url])
        assert report2.tried == 2 and unused.received == {}
        await pool.close()
        for r in (blocked, fallback, unused):
            await r.stop()

    arun(go())
    entry, attempts = outbox_entry(store, ev.id)
    assert entry.state == "delivered"
    states = {r.relay: (r.state, r.last_message) for r in entry.relays}
    assert [s for s, _ in states.values()].count("rejected") == 1
    assert sorted(o for _, o, _ in attempts) == ["accepted", "rejected"]
    store.close()


def test_invalid_everywhere_is_final_and_reported(db):
    store = open_store(db)
    ev = make_event(4)

    async def go():
        a = await FaultRelay(faults=Faults(ok_prefix="invalid: bad")).start()
        pool = RelayPool(fast_config(), store)
        report = await pool.publish(ev, [a.url])
        assert not report.delivered and not report.pending and "invalid: bad" in report.summary()
        assert pool.publisher.pending_ids() == []
        await pool.close()
        await a.stop()

    arun(go())
    assert outbox_entry(store, ev.id)[0].state == "failed"
    store.close()


def test_rate_limited_backs_off_then_delivers(db):
    store = open_store(db)
    ev = make_event(5)

    async def go():
        a = await FaultRelay(faults=Faults(ok_prefix="rate-limited: slow down", ok_prefix_times=1)).start()
        pool = RelayPool(fast_config(rate_limit_pause=0.4), store)
        report = await pool.publish(ev, [a.url])
        assert report.pending and not report.delivered
        assert pool.health()[a.url].rate_limited == 1 and pool.health()[a.url].paused_for > 0
        await until(lambda: ev.id in a.events, timeout=5)
        await until(lambda: pool.publisher.pending_ids() == [])
        assert a.received[ev.id] == 2
        await pool.close()
        await a.stop()

    arun(go())
    assert outbox_entry(store, ev.id)[0].state == "delivered"
    store.close()


def test_auth_required_authenticates_then_retries(db):
    store = open_store(db)
    ev = make_event(6)

    async def go():
        a = await FaultRelay(faults=Faults(require_auth=True)).start()
        pool = RelayPool(fast_config(auth_default="ask"), store, signer=signer, ask_auth=_allow)
        report = await pool.publish(ev, [a.url])
        assert report.delivered and a.auths == 1
        assert pool.health()[a.url].auth == "authenticated"
        await pool.close()
        await a.stop()

    arun(go())
    store.close()


async def _allow(url: str) -> bool:
    return True


def test_relay_killed_mid_publish_then_back_delivers_once(db):
    store = open_store(db)
    ev = make_event(7)

    async def go():
        relay = await FaultRelay(faults=Faults(silent_on_event=True)).start()
        pool = RelayPool(fast_config(ok_timeout=5), store)
        publishing = __import__("asyncio").ensure_future(pool.publish(ev, [relay.url]))
        await until(lambda: relay.received.get(ev.id) == 1)
        await relay.stop()                                   # killed before it answered OK
        report = await publishing
        assert report.pending and not report.delivered
        relay.faults.silent_on_event = False
        await relay.start()                                  # back, same port, same data
        await until(lambda: ev.id in relay.events, timeout=10)
        await until(lambda: pool.publisher.pending_ids() == [])
        sends = relay.received[ev.id]
        await __import__("asyncio").sleep(0.5)               # several retry ticks: nothing more is sent
        assert relay.received[ev.id] == sends == 2
        await pool.close()
        await relay.stop()

    arun(go())
    entry, attempts = outbox_entry(store, ev.id)
    assert entry.state == "delivered"
    assert [o for _, o, _ in attempts][-1] == "accepted" and "disconnected" in [o for _, o, _ in attempts]
    store.close()


def test_restart_with_a_pending_publish_delivers(db):
    ev = make_event(8)

    async def first_run(url):
        store = open_store(db)
        pool = RelayPool(fast_config(connect_timeout=0.3), store)
        report = await pool.publish(ev, [url])
        assert report.pending
        await pool.close()
        store.close()

    async def second_run(relay):
        store = open_store(db)
        pool = RelayPool(fast_config(), store)
        reports = await pool.resume()
        assert [r.event_id for r in reports] == [ev.id]
        # Due by its schedule (kept in the outbox) or as soon as the relay is connected, whichever first.
        await until(lambda: pool.publisher.pending_ids() == [])
        await pool.close()
        entry, _ = outbox_entry(store, ev.id)
        store.close()
        return entry

    async def go():
        relay = await FaultRelay().start()
        url = relay.url
        await relay.stop()                       # down during the first run
        await first_run(url)
        await relay.start()
        entry = await second_run(relay)
        assert entry.state == "delivered" and relay.received[ev.id] == 1
        await relay.stop()

    arun(go())


def test_republishing_while_the_retry_ticker_runs_gives_a_full_report(db):
    store = open_store(db)

    async def go():
        a = await FaultRelay().start()
        pool = RelayPool(fast_config(outbox_retry_interval=0.001), store)
        for i in range(30):
            ev = make_event(100 + i)
            first = await pool.publish(ev, [a.url])
            again = await pool.publish(ev, [a.url])
            assert first.delivered and again.delivered and again.tried == 1
        await pool.close()
        await a.stop()

    arun(go())
    store.close()


def test_auth_policy_changed_at_run_time(db):
    store = open_store(db)
    asked = []

    async def ask(url):
        asked.append(url)
        return len(asked) > 1          # the user says no, then yes

    async def go():
        a = await FaultRelay(faults=Faults(require_auth=True)).start()
        pool = RelayPool(fast_config(auth_default="ask"), store, signer=signer, ask_auth=ask)
        first = await pool.publish(make_event(40), [a.url])
        assert not first.delivered and first.outcomes[0].state == "rejected"
        pool.set_auth_policy(a.url, "always")
        second = await pool.publish(make_event(41), [a.url])
        assert second.delivered and a.auths == 1 and asked == [a.url]
        with pytest.raises(ValueError):
            pool.set_auth_policy(a.url, "sometimes")
        await pool.close()
        await a.stop()

    arun(go())
    store.close()


def test_challenge_sent_only_after_auth_required(db):
    store = open_store(db)

    async def go():
        a = await FaultRelay(faults=Faults(require_auth=True, late_challenge=True)).start()
        pool = RelayPool(fast_config(), store, signer=signer)
        report = await pool.publish(make_event(42), [a.url])
        assert report.delivered and a.auths == 1
        await pool.close()
        await a.stop()

    arun(go())
    store.close()


def test_a_stuck_retry_does_not_hold_up_other_publishes(db):
    # One pending publish waits on a relay that never answers OK; another's relay comes back.
    # Retries run side by side (within the background budget), so the second is not queued
    # behind the first one's timeout on every tick.
    store = open_store(db)

    async def go():
        import asyncio
        silent = await FaultRelay(faults=Faults(silent_on_event=True)).start()
        back = await FaultRelay().start()
        back_url = back.url
        await back.stop()
        pool = RelayPool(fast_config(ok_timeout=2.0, connect_timeout=0.2), store)
        stuck, later = make_event(30), make_event(31)
        assert (await pool.publish(stuck, [silent.url])).pending
        assert (await pool.publish(later, [back_url])).pending
        await back.start()
        loop = asyncio.get_running_loop()
        started = loop.time()
        await until(lambda: later.id in back.events, timeout=10)
        assert loop.time() - started < 1.2
        await pool.close()
        for r in (silent, back):
            await r.stop()

    arun(go())
    store.close()


def test_closing_the_store_first_does_not_break_the_pool(db):
    # Shutdown order mistakes happen: the pool's background work and close() survive a closed
    # store (what could not be written is counted), and no task is left behind.
    store = open_store(db)

    async def go():
        import asyncio
        relay = await FaultRelay().start()
        relay.add(make_event(1))
        pool = RelayPool(fast_config(outbox_retry_interval=0.05), store)
        from nostr_desk.protocol.filters import Filter
        await pool.fetch([Filter.from_obj({"kinds": [1]})], timeout=3, relays=[relay.url])
        store.close()
        await asyncio.sleep(0.2)                 # a few ticks with nowhere to write
        ticker = next(iter(pool._tasks))
        assert not ticker.done()
        await pool.close()
        assert pool.ingest.store_errors >= 1
        await relay.stop()

    arun(go())


def test_a_flapping_relay_never_exhausts_a_publish(db):
    # Each try is cut off before the OK (the relay drops the socket). That is the network, not the
    # relay's verdict: the publish stays pending, however many tries it takes, until accepted.
    store = open_store(db)
    ev = make_event(40)

    async def go():
        relay = await FaultRelay(faults=Faults(drop_after=0)).start()
        pool = RelayPool(fast_config(publish_max_attempts=2, stable_after=0.0), store)
        report = await pool.publish(ev, [relay.url])
        assert report.pending
        await until(lambda: relay.received.get(ev.id, 0) >= 4, timeout=15)
        assert ev.id in pool.publisher.pending_ids()
        relay.faults.drop_after = None
        await until(lambda: pool.publisher.pending_ids() == [], timeout=10)
        await pool.close()
        await relay.stop()

    arun(go(), timeout=40)
    entry, attempts = outbox_entry(store, ev.id)
    assert entry.state == "delivered" and attempts[-1][1] == "accepted"
    store.close()


def test_a_relay_that_keeps_answering_error_is_given_up_after_max_attempts(db):
    store = open_store(db)
    ev = make_event(41)

    async def go():
        relay = await FaultRelay(faults=Faults(ok_prefix="error: database busy")).start()
        pool = RelayPool(fast_config(publish_max_attempts=3), store)
        await pool.publish(ev, [relay.url])
        await until(lambda: pool.publisher.pending_ids() == [], timeout=10)
        assert relay.received[ev.id] == 3
        await pool.close()
        await relay.stop()

    arun(go())
    entry, _ = outbox_entry(store, ev.id)
    assert entry.state == "failed" and entry.relays[0].state == "gave_up"
    store.close()
