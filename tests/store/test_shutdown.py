"""Shutdown and read budgets: `close` while queries run on other threads gives each caller its answer
or a StoreClosed (never sqlite3.ProgrammingError, never a crash); a read past its time budget is
interrupted with a StoreError and the connection keeps serving."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from nostr_desk.protocol.filters import Filter
from nostr_desk.store import EventStore, StoreClosed, StoreConfig, StoreError
from nostr_desk.store.readers import Readers

from .conftest import ALICE, NOW, make

EVENTS = [make(content=f"lorem ipsum {i}", tags=[["t", "x"]], created_at=NOW - i) for i in range(1500)]


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    path = tmp_path_factory.mktemp("shutdown") / "events.sqlite3"
    with EventStore.open(StoreConfig(path=path)) as s:
        s.save_many(EVENTS, now=NOW)
    return path


QUERIES = [
    lambda s: len(s.query([Filter(limit=1000)], now=NOW)),
    lambda s: s.count([Filter(search="ipsum")], now=NOW),
    lambda s: len(s.query([Filter(tags={"t": frozenset({"x"})}, search="lorem")], now=NOW)),
    lambda s: s.count([Filter(authors=frozenset({ALICE.public_key}))], now=NOW),
    lambda s: s.get(EVENTS[0].id) is not None,
]
ANSWERS = [1000, 1500, 1500, 1500, True]


@pytest.mark.parametrize("round_", range(3))
def test_close_while_queries_run_on_other_threads(filled, round_):
    store = EventStore.open(StoreConfig(path=filled))
    failures: list[BaseException] = []
    answered = [0]

    def reader(n: int) -> None:
        for _ in range(10_000):  # bounded; ends at the first StoreClosed
            try:
                got = QUERIES[n](store)
            except StoreClosed:
                return
            except BaseException as exc:  # noqa: BLE001 - anything else is the bug this test hunts
                failures.append(exc)
                return
            if got != ANSWERS[n]:
                failures.append(AssertionError(f"query {n} answered {got!r}"))
                return
            answered[0] += 1

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(len(QUERIES))]
    for t in threads:
        t.start()
    time.sleep(0.3 + 0.1 * round_)
    store.close()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    assert failures == [] and answered[0] > 0
    with pytest.raises(StoreClosed):
        store.query([Filter()], now=NOW)


ENDLESS = "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT count(*) FROM c"


def test_read_past_its_budget_is_interrupted_then_the_thread_reads_again(filled):
    readers = Readers(filled, max_seconds=0.2)
    t0 = time.monotonic()
    with pytest.raises(StoreError, match="took longer"):
        readers.run(lambda conn: conn.execute(ENDLESS).fetchone())
    assert time.monotonic() - t0 < 10
    assert readers.fetchone("SELECT count(*) FROM events", ())[0] == 1500  # same thread, same connection
    readers.close()


def test_store_reads_have_the_budget(filled):
    with EventStore.open(StoreConfig(path=filled, max_query_seconds=0.0)) as s:
        with pytest.raises(StoreError, match="took longer"):  # a full scan of 1,500 rows outlasts zero
            s.count([Filter(tags={"t": frozenset({"x"})}), Filter(kinds=frozenset({1}), search="lorem")], now=NOW)
    with EventStore.open(StoreConfig(path=filled, max_query_seconds=5.0)) as s:
        assert s.count([Filter(search="ipsum")], now=NOW) == 1500


def test_close_interrupts_a_read_that_outlasts_the_grace_period(filled):
    readers = Readers(filled, max_seconds=60)
    started = threading.Event()
    outcome: list[object] = []

    def endless(conn: sqlite3.Connection) -> int:
        started.set()  # a statement that never ends on its own
        return conn.execute(ENDLESS).fetchone()[0]

    def run() -> None:
        try:
            outcome.append(readers.run(endless))
        except BaseException as exc:  # noqa: BLE001
            outcome.append(exc)

    t = threading.Thread(target=run)
    t.start()
    assert started.wait(10)
    t0 = time.monotonic()
    readers.close(grace=0.1)
    t.join(10)
    assert not t.is_alive() and time.monotonic() - t0 < 10
    assert len(outcome) == 1 and isinstance(outcome[0], StoreClosed)
