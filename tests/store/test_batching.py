"""The writer's batch path (one lookup per batch, executemany inserts, seqs assigned in Python) gives
the same outcomes and the same stored set as saving the events one transaction at a time, for any
order of duplicates, replaceable/addressable versions, and NIP-09 deletions by `e` and `a` — some of
them forged (by another author) — landing in the same batch."""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nostr_desk.protocol.filters import Filter
from nostr_desk.store import EventStore, StoreConfig

from .conftest import NOW, ids, key, make

SCRATCH = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
KEYS = [key(60), key(61)]
BASE = [
    make(KEYS[0], kind=1, content="note a", created_at=NOW - 50),
    make(KEYS[0], kind=1, content="note b", created_at=NOW - 40),
    make(KEYS[1], kind=1, content="note c", created_at=NOW - 30),
    make(KEYS[0], kind=0, content='{"name":"v1"}', created_at=NOW - 20),
    make(KEYS[0], kind=0, content='{"name":"v2"}', created_at=NOW - 10),
    make(KEYS[0], kind=30023, content="article 1", tags=[["d", "x"]], created_at=NOW - 20),
    make(KEYS[0], kind=30023, content="article 2", tags=[["d", "x"]], created_at=NOW - 10),
    make(KEYS[1], kind=30023, content="other's", tags=[["d", "x"]], created_at=NOW - 15),
]
DELETIONS = [
    make(KEYS[0], kind=5, tags=[["e", BASE[0].id]], created_at=NOW - 5),
    make(KEYS[1], kind=5, tags=[["e", BASE[1].id]], created_at=NOW - 5),  # forged: not the author
    make(KEYS[0], kind=5, tags=[["a", f"30023:{KEYS[0].public_key}:x"]], created_at=NOW - 15),
    make(KEYS[0], kind=5, tags=[["a", f"0:{KEYS[0].public_key}:"]], created_at=NOW - 1),
    make(KEYS[0], kind=5, tags=[["e", BASE[2].id], ["e", BASE[0].id]], created_at=NOW - 4),
]
POOL = BASE + DELETIONS


def store_at(tmp: str, name: str) -> EventStore:
    return EventStore.open(StoreConfig(path=Path(tmp) / name))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order=st.lists(st.integers(0, len(POOL) - 1), min_size=1, max_size=20),
       split=st.integers(1, 20))
def test_batches_equal_one_by_one(order, split):
    events = [POOL[i] for i in order]
    with tempfile.TemporaryDirectory(dir=SCRATCH) as tmp, store_at(tmp, "a") as batched, store_at(tmp, "b") as single:
        got: list = []
        for i in range(0, len(events), split):  # each slice queued behind a held writer: one batch
            gate = threading.Event()
            held = batched.run_in_writer(lambda conn: gate.wait(10))
            futures = [batched.submit(e, now=NOW) for e in events[i:i + split]]
            gate.set()
            held.result(10)
            got += [f.result(10) for f in futures]
        assert batched._writer.batches <= -(-len(events) // split)  # the slices really were batches
        want = [single.submit(e, now=NOW).result(10) for e in events]  # each alone in its transaction
        assert [r.outcome for r in got] == [r.outcome for r in want], events
        everything = [Filter()]
        assert ids(batched.query(everything, now=NOW)) == ids(single.query(everything, now=NOW))
        assert [s for s, _ in batched.events_since(0)] == sorted(s for s, _ in batched.events_since(0))
