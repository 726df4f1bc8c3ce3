"""Pool ingest: 5 local relay processes serving the same 20,000 events, so 80 % of what the pool
receives are duplicates.

Targets (issue 4): a duplicate costs < 5 µs of CPU (no signature check, no JSON parse of the whole
event); a unique event stays within 1.5x the core's own validation (`parse_verified`).

Figures:
- core `parse_verified` per event (the baseline);
- the pool's de-duplication path in-process: per duplicate frame (slice + peek id + seen lookup) and
  per unique frame (the same + full verification), on the very frames a relay sends;
- end to end: `RelayPool.fetch` from the 5 relay processes (websockets, merging, EOSE aggregation),
  events/s and CPU per received frame, without and with the event store.
Data (signed events, relay databases) is generated into a temp dir at run time.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nostr_desk.pool.config import PoolConfig
from nostr_desk.pool.dedup import Deduplicator, split_event_frame
from nostr_desk.pool.pool import RelayPool
from nostr_desk.protocol.event import Event, EventTemplate, parse_verified, sign
from nostr_desk.protocol.filters import Filter
from nostr_desk.protocol.keys import SecretKey
from nostr_desk.protocol.messages import encode_event_frame
from nostr_desk.store import EventStore, StoreConfig

EVENTS = 20_000
RELAYS = 5
AUTHORS = 200
START = 1_700_000_000
ROOT = Path(__file__).resolve().parent.parent


def make_events(n: int) -> list[Event]:
    keys = [SecretKey(hashlib.sha256(b"bench-pool-%d" % i).digest()) for i in range(AUTHORS)]
    out = []
    for i in range(n):
        tags = [["e", hashlib.sha256(b"root%d" % (i // 7)).hexdigest()], ["t", "bench"]] if i % 3 else []
        text = f"note {i}: " + "lorem ipsum dolor sit amet " * (1 + i % 8)
        out.append(sign(EventTemplate(1, text, tags, START + i), keys[i % AUTHORS], aux_rand=hashlib.sha256(b"a%d" % i).digest()))
    return out


# --- in-process figures ---------------------------------------------------------------------------------
def cpu_per_item(fn, items, repeat: int = 3) -> float:
    """Best-of-`repeat` CPU seconds per item of `fn(items)`."""
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        fn(items)
        best = min(best, time.process_time() - started)
    return best / len(items)


def baseline(raws: list[bytes]) -> None:
    for raw in raws:
        parse_verified(raw)


def unique_path(frames: list[bytes]) -> Deduplicator:
    d = Deduplicator(offload_at=10**9)
    for start in range(0, len(frames), 500):          # batches, as the subscription flush does
        for f in frames[start:start + 500]:
            sub_id, raw = split_event_frame(f)
            d.offer("ws://r1", sub_id, raw)
        d.verify_now()
    return d


def in_process(events: list[Event]) -> dict[str, float]:
    raws = [e.to_bytes() for e in events]
    frames = [encode_event_frame("nd1", r) for r in raws]
    base = cpu_per_item(baseline, raws)
    uniq = cpu_per_item(unique_path, frames)
    primed = unique_path(frames)

    def dup_path(fs: list[bytes]) -> None:
        offer = primed.offer
        for f in fs:
            sub_id, raw = split_event_frame(f)
            offer("ws://r2", sub_id, raw)

    dup = cpu_per_item(dup_path, frames * (RELAYS - 1))
    assert primed.duplicates >= len(frames) * (RELAYS - 1)
    return {"baseline_us": base * 1e6, "unique_us": uniq * 1e6, "duplicate_us": dup * 1e6}


# --- relay processes ------------------------------------------------------------------------------------
SERVE = """
import asyncio, sys
from pathlib import Path
from nostr_desk.relay import LocalRelay, RelayConfig
from nostr_desk.store import EventStore, StoreConfig
async def main(db, port_file):
    store = EventStore.open(StoreConfig(Path(db), max_limit=100_000))
    relay = LocalRelay(RelayConfig(port=0, max_limit=100_000, default_limit=100_000,
                                   outbox_max_frames=200_000, outbox_max_bytes=1 << 30), store)
    await relay.start()
    Path(port_file).write_text(str(relay.port))
    await asyncio.Event().wait()
asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def start_relays(tmp: Path, events: list[Event]) -> tuple[list[subprocess.Popen], list[str]]:
    master = tmp / "relay0.db"
    store = EventStore.open(StoreConfig(master))
    store.save_many(events)
    store.close()
    procs, ports = [], []
    for i in range(RELAYS):
        db = tmp / f"relay{i + 1}.db"
        shutil.copy(master, db)
        port_file = tmp / f"port{i}"
        procs.append(subprocess.Popen([sys.executable, "-c", SERVE, str(db), str(port_file)], cwd=ROOT,
                                      env={**os.environ, "PYTHONPATH": str(ROOT)}))
        ports.append(port_file)
    urls = []
    deadline = time.monotonic() + 60
    for port_file in ports:
        while not port_file.exists() or not port_file.read_text():
            if time.monotonic() > deadline:
                raise RuntimeError("relay processes did not start")
            time.sleep(0.05)
        urls.append(f"ws://127.0.0.1:{port_file.read_text()}")
    return procs, urls


async def end_to_end(urls: list[str], store_path: Path | None) -> dict[str, float]:
    store = EventStore.open(StoreConfig(store_path)) if store_path else None
    config = PoolConfig(eose_timeout=300, connect_timeout=20, ping_interval=0, max_message_bytes=1 << 20)
    pool = RelayPool(config, store)
    for url in urls:
        assert await pool.relay(url).wait_connected(20), url
    wall, cpu = time.perf_counter(), time.process_time()
    got = await pool.fetch([Filter.from_obj({"kinds": [1], "limit": 100_000})], timeout=300, relays=urls)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    frames = sum(s.events_received for s in pool.health().values())
    dups = sum(s.duplicates for s in pool.health().values())
    failures = sum(s.verify_failures for s in pool.health().values())
    await pool.close()
    if store is not None:
        flush = time.perf_counter()
        store.close()                 # waits for the writer to commit everything
        wall += time.perf_counter() - flush
    return {"unique": len(got), "frames": frames, "duplicates": dups, "failures": failures,
            "wall_s": wall, "cpu_s": cpu}


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-pool-") as tmp_dir:
        tmp = Path(tmp_dir)
        t = time.perf_counter()
        events = make_events(EVENTS)
        print(f"generated {EVENTS:,} signed events in {time.perf_counter() - t:.1f} s", flush=True)

        f = in_process(events)
        print(f"core parse_verified:          {f['baseline_us']:7.2f} µs/event (baseline)")
        print(f"pool, unique frame:           {f['unique_us']:7.2f} µs/event  = {f['unique_us'] / f['baseline_us']:.2f}x "
              f"baseline (target <= 1.5x)")
        print(f"pool, duplicate frame:        {f['duplicate_us']:7.2f} µs/frame (target < 5 µs)", flush=True)

        procs, urls = start_relays(tmp, events)
        try:
            for label, path in (("no store", None), ("with store", tmp / "client.db")):
                r = asyncio.run(end_to_end(urls, path))
                print(f"end to end, {RELAYS} relay processes, {label}: {r['unique']:,} unique of {r['frames']:,} frames "
                      f"({r['duplicates']:,} duplicates, {r['failures']} bad) in {r['wall_s']:.2f} s = "
                      f"{r['frames'] / r['wall_s']:,.0f} frames/s, {r['unique'] / r['wall_s']:,.0f} unique events/s; "
                      f"pool CPU {r['cpu_s'] / r['frames'] * 1e6:.1f} µs/frame", flush=True)
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(10)
