"""Backfill through a real pool from real local relays: own lists, follows' lists, then notes read from
each follow's NIP-65 write relay (outbox model); progress reported; bounded by the time budget."""

from __future__ import annotations

import time

from nostr_desk.app.backfill import BackfillConfig, backfill, follows_of
from nostr_desk.cache import CacheQueries, Projector
from nostr_desk.pool.pool import RelayPool
from nostr_desk.protocol.event import EventTemplate
from nostr_desk.store import EventStore, StoreConfig

from .conftest import Relay, arun, fast_pool_config, free_port, signer

USER, F1, F2, STRANGER = signer("user"), signer("f1"), signer("f2"), signer("stranger")
NOW = int(time.time())


def _ev(who, kind, content="", tags=None, ago=3600):
    return who.sign(EventTemplate(kind, content, tags or [], NOW - ago))


def test_backfill_follows_the_outbox_model(tmp_path):
    async def go():
        index, f1_home = await Relay(tmp_path / "index.db").start(), await Relay(tmp_path / "f1.db").start()
        own = [_ev(USER, 0, '{"name":"me"}'), _ev(USER, 3, "", [["p", F1.pubkey], ["p", F2.pubkey]]),
               _ev(USER, 10002, "", [["r", index.url]])]
        lists = [_ev(F1, 10002, "", [["r", f1_home.url, "write"]]), _ev(F1, 0, '{"name":"Friend One"}'),
                 _ev(F2, 0, '{"display_name":"Friend Two"}')]
        f1_notes = [_ev(F1, 1, f"f1 note {i}", ago=600 + i) for i in range(5)]
        f1_old = _ev(F1, 1, "too old", ago=30 * 86_400)
        f2_notes = [_ev(F2, 1, f"f2 note {i}", ago=900 + i) for i in range(3)]
        stranger = _ev(STRANGER, 1, "not followed")
        index.store.save_many(own + lists + f2_notes + [stranger])
        f1_home.store.save_many(f1_notes + [f1_old])  # only F1's write relay has F1's notes

        store = EventStore.open(StoreConfig(path=tmp_path / "mine.sqlite3"))
        pool = RelayPool(fast_pool_config(), store)
        pool.add_relay(index.url)
        seen = []
        try:
            result = await backfill(pool, USER.pubkey, BackfillConfig(days=7, budget=30), seen.append,
                                    relays=[index.url])
        finally:
            await pool.close()
            await index.stop(); await f1_home.stop()
        assert result.complete and result.follows == 2
        assert [p.stage for p in seen] == ["own lists", "follows' lists", "notes"]
        assert all(p.done == p.total for p in seen) and seen[-1].events == result.events
        for e in f1_notes + f2_notes + own:
            assert store.get(e.id) is not None, e.content
        assert store.get(f1_old.id) is None and store.get(stranger.id) is None

        conn = store.connect()
        Projector(store, conn).catch_up()
        page = CacheQueries(store, conn).home(USER.pubkey, limit=50)
        conn.close()
        store.close()
        assert {n.content for n in page.items} == {e.content for e in f1_notes + f2_notes}
        assert {n.author_name for n in page.items} == {"Friend One", "Friend Two"}

    arun(go())


def test_backfill_stops_at_its_time_budget(tmp_path):
    """F1's only write relay is dead: its notes fetch waits, is cut at the budget, and no chunk follows."""

    async def go():
        index = await Relay(tmp_path / "index.db").start()
        dead = f"ws://127.0.0.1:{free_port()}"  # nothing listens there
        index.store.save_many([_ev(USER, 3, "", [["p", F1.pubkey], ["p", F2.pubkey]]),
                               _ev(F1, 10002, "", [["r", dead, "write"]])])
        store = EventStore.open(StoreConfig(path=tmp_path / "mine.sqlite3"))
        pool = RelayPool(fast_pool_config(), store)
        pool.add_relay(index.url)
        seen = []
        started = time.monotonic()
        try:
            result = await backfill(pool, USER.pubkey, BackfillConfig(budget=1.5, fetch_timeout=30, authors_per_chunk=1),
                                    seen.append, relays=[index.url])
        finally:
            await pool.close()
            store.close()
            await index.stop()
        took = time.monotonic() - started
        assert result.follows == 2 and not result.complete
        assert seen[-1].stage == "notes" and seen[-1].done < seen[-1].total
        assert took < 5.0, took

    arun(go())


def test_follows_of_takes_the_newest_list_only():
    old = _ev(USER, 3, "", [["p", F1.pubkey]], ago=100)
    new = _ev(USER, 3, "", [["p", F2.pubkey], ["p", F2.pubkey], ["p", "nothex"]], ago=10)
    forged = _ev(STRANGER, 3, "", [["p", STRANGER.pubkey]], ago=1)
    assert follows_of([old, new, forged], USER.pubkey) == [F2.pubkey]


def test_backfill_cli_prints_progress(tmp_path):
    from .test_post_cli import RelayProcess, nostr_desk

    relay = RelayProcess(tmp_path, "index")
    seed = EventStore.open(StoreConfig(path=relay.db))
    note = _ev(F1, 1, "hello from f1")
    seed.save_many([_ev(USER, 3, "", [["p", F1.pubkey]]), _ev(F1, 0, '{"name":"Friend One"}'), note])
    seed.close()
    relay.start()
    try:
        db = tmp_path / "mine.sqlite3"
        done = nostr_desk("backfill", "--npub", USER.pubkey, "--relay", relay.url, "--budget", "20",
                          "--db", str(db), "--data-dir", str(tmp_path / "data"))
        assert done.returncode == 0, done.stdout + done.stderr
        assert "own lists: 1/1" in done.stdout and "notes: 1/1" in done.stdout
        assert "from 1 follows" in done.stdout
        store = EventStore.open(StoreConfig(path=db))
        try:
            assert store.get(note.id) is not None
        finally:
            store.close()
        no_account = nostr_desk("backfill", "--relay", relay.url, "--data-dir", str(tmp_path / "empty"))
        assert no_account.returncode == 1 and "no account" in no_account.stderr
    finally:
        relay.stop()
