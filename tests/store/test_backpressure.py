"""Back-pressure: the writer's queue is bounded (count and bytes). A full queue refuses at once with
StoreBusy ("error: server busy ..."), or waits when asked to; bulk and async saves wait for room."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from nostr_desk.protocol.filters import Filter
from nostr_desk.store import EventStore, SaveOutcome, StoreBusy, StoreClosed, StoreConfig, StoreError

from .conftest import NOW, make


class Stall:
    """Holds the writer thread inside a maintenance job until released (a slow disk, in effect)."""

    def __init__(self, store: EventStore) -> None:
        self.started, self.release = threading.Event(), threading.Event()
        self.done = store.run_in_writer(self._job)
        assert self.started.wait(10)

    def _job(self, conn) -> None:
        self.started.set()
        self.release.wait(30)

    def __enter__(self) -> Stall:
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.done.result(10)


def test_full_queue_refuses_fast_with_server_busy(store_path):
    with EventStore.open(StoreConfig(path=store_path, max_queue=3)) as s:
        events = [make(content=f"n{i}") for i in range(5)]
        with Stall(s):
            queued = [s.submit(e) for e in events[:3]]
            t0 = time.monotonic()
            with pytest.raises(StoreBusy) as busy:
                s.submit(events[3])
            assert time.monotonic() - t0 < 1.0
            assert str(busy.value).startswith("error: server busy") and isinstance(busy.value, StoreError)
            assert s.stats().writer_queue == 3 and s.stats().extra["busy_refusals"] == 1
        assert [f.result(10).outcome for f in queued] == [SaveOutcome.SAVED] * 3
        # room again once the writer caught up
        assert s.submit(events[3]).result(10).outcome is SaveOutcome.SAVED
        assert s.count([Filter()], now=NOW) == 4


def test_byte_bound_counts_raw_sizes(store_path):
    big = [make(content="x" * 3000 + str(i)) for i in range(3)]
    with EventStore.open(StoreConfig(path=store_path, max_queue_bytes=5000)) as s:
        with Stall(s):
            first = s.submit(big[0])  # an empty queue always takes one, however large
            with pytest.raises(StoreBusy):
                s.submit(big[1])
            assert s.stats().extra["writer_queue_bytes"] == len(big[0].to_bytes())
        assert first.result(10).outcome is SaveOutcome.SAVED
        assert s.stats().extra["writer_queue_bytes"] == 0


def test_submit_with_wait_gets_in_when_room_appears(store_path):
    with EventStore.open(StoreConfig(path=store_path, max_queue=2)) as s:
        events = [make(content=f"w{i}") for i in range(3)]
        stall = Stall(s)
        s.submit(events[0]), s.submit(events[1])
        with pytest.raises(StoreBusy):
            s.submit(events[2], wait=0.05)
        threading.Timer(0.2, stall.release.set).start()
        fut = s.submit(events[2], wait=10)  # blocks until the writer takes the queued two
        assert fut.result(10).outcome is SaveOutcome.SAVED


def test_bulk_and_async_saves_wait_instead_of_failing(store_path):
    with EventStore.open(StoreConfig(path=store_path, max_queue=4)) as s:
        events = [make(content=f"b{i}") for i in range(40)]
        stall = Stall(s)
        threading.Timer(0.2, stall.release.set).start()
        assert [r.outcome for r in s.save_many(events[:30])] == [SaveOutcome.SAVED] * 30

        async def many() -> list[SaveOutcome]:
            return [r.outcome for r in await asyncio.gather(*(s.save(e) for e in events[30:]))]

        stall2 = Stall(s)
        threading.Timer(0.2, stall2.release.set).start()
        assert asyncio.run(many()) == [SaveOutcome.SAVED] * 10
        assert s.count([Filter()], now=NOW) == 40


def test_close_wakes_a_waiting_submitter_with_store_closed(store_path):
    s = EventStore.open(StoreConfig(path=store_path, max_queue=1))
    stall = Stall(s)
    s.submit(make(content="queued"))
    errors: list[BaseException] = []

    def wait_for_room() -> None:
        try:
            s.submit(make(content="late"), wait=30)
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertion
            errors.append(exc)

    waiter = threading.Thread(target=wait_for_room)
    waiter.start()
    time.sleep(0.1)
    closer = threading.Thread(target=s.close)
    closer.start()
    time.sleep(0.1)
    stall.release.set()
    closer.join(20), waiter.join(20)
    assert not closer.is_alive() and not waiter.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], StoreClosed)  # woken by close, not left hanging
