"""The Settings' store quota is kept by the running app: a retention run shortly after start (and then
hourly) evicts the oldest events of strangers to fit, never the accounts' own (including an account
added while the app runs), and the cache forgets what was evicted so Home stops showing or counting it."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import replace

from nostr_desk.app.config import Limits
from nostr_desk.app.services import Services
from nostr_desk.keys.accounts import Account, AccountBook
from nostr_desk.protocol import nip19
from nostr_desk.protocol.event import Event, EventTemplate, sign
from nostr_desk.protocol.filters import Filter
from nostr_desk.store import EventStore, StoreConfig
from tests.cache.conftest import key
from tests.ui.helpers import fast_pool

NOW = 1_800_000_000


def _busiest_author(lines: list[str]) -> str:
    counts = Counter(json.loads(line)["pubkey"] for line in lines if '"kind":1,' in line)
    return counts.most_common(1)[0][0]


def _count(store, author: str) -> int:
    return store.count([Filter(authors=frozenset({author}))], now=NOW)


def _filled(config, lines: list[str]) -> None:
    config.paths.ensure()
    with EventStore.open(StoreConfig(path=config.paths.event_db)) as store:
        store.save_many([Event.from_json(line) for line in lines], now=NOW)


def test_quota_is_enforced_at_start_keeping_every_accounts_events(config, real_event_lines, run):
    me = _busiest_author(real_event_lines)
    _filled(config, real_event_lines)
    AccountBook(config.paths.accounts_file).add(Account(me, watch_only=True))
    config = replace(config, limits=replace(Limits(), store_quota_mb=1))
    svc = Services(config, pool_config=fast_pool(), retention_delay=0.0)
    run(svc.start())
    try:
        assert svc.store.config.owner_pubkeys == frozenset({me})  # opened with the accounts' keys
        mine, total = _count(svc.store, me), svc.store.stats().events
        run(_until(lambda: svc.retention.last is not None), timeout=30)  # the run at start, by itself
        first = svc.retention.last
        assert first.removed > 0 and first.owners == 1
        assert first.events == total - first.removed
        assert _count(svc.store, me) == mine  # every own event stayed

        # An account added while the app runs is protected from the next run on, without a restart:
        # its notes are the oldest in the store and push it over the quota again, so owners fixed
        # at open time would have them evicted first.
        newcomer = key("newcomer")
        notes = [sign(EventTemplate(1, f"{i} " + "x" * 4000, [], 1_000_000_000 + i), newcomer, aux_rand=bytes(32))
                 for i in range(400)]
        run(asyncio.to_thread(svc.store.save_many, notes, now=NOW))
        svc.vault.watch(nip19.encode_npub(newcomer.public_key))
        second = run(svc.retention.run_once())
        assert second.owners == 2
        assert _count(svc.store, newcomer.public_key) == 400 and _count(svc.store, me) == mine
    finally:
        run(svc.aclose())


def test_the_cache_forgets_what_retention_evicted(config, real_event_lines, run):
    _filled(config, real_event_lines)
    config = replace(config, limits=replace(Limits(), store_quota_mb=1))
    svc = Services(config, pool_config=fast_pool(), retention_delay=3600.0)
    run(svc.start())
    try:
        conn_count = "SELECT count(*) FROM cache_notes"
        before = run(svc.cache._run(lambda: svc.cache.projector.conn.execute(conn_count).fetchone()[0]))
        result = run(svc.retention.run_once())
        assert result.removed > 0 and result.forgotten > 0
        after = run(svc.cache._run(lambda: svc.cache.projector.conn.execute(conn_count).fetchone()[0]))
        assert after < before
        # No cached note row is left whose body the store lost.
        dead = run(svc.cache._run(lambda: svc.cache.projector.conn.execute(
            "SELECT count(*) FROM cache_notes n WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = n.id)"
        ).fetchone()[0]))
        assert dead == 0
    finally:
        run(svc.aclose())


def test_an_unreadable_accounts_file_means_no_pruning(config, real_event_lines, run):
    _filled(config, real_event_lines)
    config.paths.accounts_file.write_text("{not json")
    config = replace(config, limits=replace(Limits(), store_quota_mb=1))
    svc = Services(config, pool_config=fast_pool(), retention_delay=3600.0)
    run(svc.start())
    try:
        assert svc.store is not None  # the store still opens
        events = svc.store.stats().events
        assert run(svc.retention.run_once()) is None
        assert svc.store.stats().events == events
    finally:
        run(svc.aclose())


async def _until(predicate, step: float = 0.05) -> None:
    while not predicate():
        await asyncio.sleep(step)
