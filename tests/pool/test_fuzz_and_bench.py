"""Whatever a relay sends, the connection's frame handler answers with bookkeeping, never an
exception (hypothesis); and the pool benchmark's in-process figures still run on a small set."""

from __future__ import annotations

import asyncio
import json

from hypothesis import given, settings, strategies as st

from benchmarks import pool as bench
from nostr_desk.pool.connection import RelayConnection, SubState
from nostr_desk.protocol.filters import Filter

from .events import make_event
from .helpers import fast_config

GOOD = make_event(1)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=10,
)
frames = st.one_of(
    st.binary(max_size=200),
    st.lists(json_values, max_size=4).map(lambda v: json.dumps(v).encode()),
    st.tuples(st.sampled_from(["EVENT", "OK", "EOSE", "CLOSED", "NOTICE", "AUTH", "COUNT"]),
              st.lists(json_values, max_size=3)).map(lambda t: json.dumps([t[0], "s", *t[1]]).encode()),
    st.just(b'["EVENT","s",' + GOOD.to_bytes()[:-3] + b"]"),
    st.tuples(st.sampled_from(["CLOSED", "NOTICE"]), st.sampled_from(["rate-limited:", "auth-required:", "blocked:"]),
              st.text(max_size=10)).map(lambda t: json.dumps([t[0], "s", t[1] + t[2]] if t[0] == "CLOSED"
                                                               else [t[0], t[1] + t[2]]).encode()),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(frames, max_size=5))
def test_any_frame_is_handled_without_raising(batch):
    async def feed():
        conn = RelayConnection("ws://127.0.0.1:1", fast_config(auth_default="never"))
        conn.subs["s"] = SubState("s", (Filter.from_obj({}),), lambda u, s, raw: None,
                                  lambda *a: None, lambda *a: None)
        for frame in batch:
            conn._on_frame(frame)
        return conn

    conn = asyncio.run(feed())
    assert conn.health.bytes_in == sum(len(f) for f in batch)


def test_benchmark_in_process_figures_on_a_small_set():
    figures = bench.in_process(bench.make_events(60))
    assert figures["baseline_us"] > 0 and figures["unique_us"] > 0
    assert 0 < figures["duplicate_us"] < figures["baseline_us"]    # a duplicate skips verification
