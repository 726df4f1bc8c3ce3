"""Event store benchmark: ingest throughput through `EventStore.submit` (durable commits) and
query latency (p50/p95) on a 200,000-event store for author, kind+since, tag, ids and feed filters.

Events are signed once and cached under the system temp dir (`nostr-desk-bench/`), never in the
repository; the store itself is built in a fresh temp dir each run. Sizes can be changed with
NOSTR_DESK_BENCH_EVENTS (default 200000).
"""

from __future__ import annotations

import hashlib
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from nostr_desk.protocol.event import Event, EventTemplate, sign
from nostr_desk.protocol.filters import Filter
from nostr_desk.protocol.keys import SecretKey
from nostr_desk.store import EventStore, StoreConfig

AUTHORS = 500
NOW = 1_760_000_000
SPAN = 90 * 86400
TOPICS = [f"topic{i}" for i in range(50)]
QUERY_ROUNDS = 200


def cache_file(n: int) -> Path:
    d = Path(tempfile.gettempdir()) / "nostr-desk-bench"
    d.mkdir(exist_ok=True)
    return d / f"store-events-{n}-v1.jsonl"


def generate(n: int) -> Path:
    """n signed events (pre-signed once and cached): notes, reactions, reposts, profiles, contacts."""
    path = cache_file(n)
    if path.exists():
        return path
    rng = random.Random(1)
    keys = [SecretKey(hashlib.sha256(b"bench-author-%d" % i).digest()) for i in range(AUTHORS)]
    pubs = [k.public_key for k in keys]
    recent: list[str] = []
    tmp = path.with_suffix(".part")
    t0 = time.perf_counter()
    with open(tmp, "wb") as out:
        for i in range(n):
            a = rng.randrange(AUTHORS)
            created = NOW - SPAN + (i * SPAN) // n + rng.randrange(60)
            r = rng.random()
            if r < 0.65 or not recent:
                tags = [["p", rng.choice(pubs)]] if rng.random() < 0.3 else []
                tags += [["t", rng.choice(TOPICS)]] if rng.random() < 0.4 else []
                tmpl = EventTemplate(1, f"note {i} about {rng.choice(TOPICS)} " + "lorem ipsum " * rng.randrange(1, 20), tags, created)
            elif r < 0.88:
                target = rng.choice(recent)
                tmpl = EventTemplate(7, "+", [["e", target], ["p", rng.choice(pubs)]], created)
            elif r < 0.95:
                tmpl = EventTemplate(6, "", [["e", rng.choice(recent)], ["p", rng.choice(pubs)]], created)
            elif r < 0.98:
                tmpl = EventTemplate(0, f'{{"name":"user{a}","about":"v{i}"}}', [], created)
            else:
                tmpl = EventTemplate(3, "", [["p", p] for p in rng.sample(pubs, 50)], created)
            ev = sign(tmpl, keys[a], aux_rand=bytes(32))
            if tmpl.kind == 1:
                recent.append(ev.id)
                if len(recent) > 2000:
                    recent.pop(0)
            out.write(ev.to_bytes() + b"\n")
            if i and i % 20000 == 0:
                print(f"  signed {i} events ({i / (time.perf_counter() - t0):.0f}/s)", flush=True)
    tmp.rename(path)
    return path


def ingest(store: EventStore, path: Path) -> tuple[float, int]:
    """Submit every event (parsed beforehand, chunk by chunk) and wait for its commit."""
    busy = 0.0
    total = 0
    pending = []
    with open(path, "rb") as f:
        while True:
            lines = [f.readline() for _ in range(5000)]
            lines = [ln for ln in lines if ln]
            if not lines:
                break
            events = [(Event.from_json(ln), ln.rstrip(b"\n")) for ln in lines]
            t0 = time.perf_counter()
            pending = [store.submit(ev, raw, now=NOW) for ev, raw in events]
            for fut in pending:
                fut.result()
            busy += time.perf_counter() - t0
            total += len(events)
    return busy, total


def percentiles(samples: list[float]) -> tuple[float, float]:
    s = sorted(samples)
    return statistics.median(s) * 1000, s[int(0.95 * (len(s) - 1))] * 1000


def sample_values(store: EventStore) -> dict[str, list]:
    conn = store.connect()
    try:
        # ids and pubkeys are stored as 32-byte blobs; filters speak hex.
        authors = [r[0].hex() for r in conn.execute("SELECT DISTINCT pubkey FROM events LIMIT 500")]
        ids = [r[0].hex() for r in conn.execute("SELECT id FROM events ORDER BY random() LIMIT 2000")]
        etags = [r[0] for r in conn.execute("SELECT value FROM tags WHERE name = 'e' ORDER BY random() LIMIT 500")]
        latest = conn.execute("SELECT max(created_at) FROM events").fetchone()[0]
    finally:
        conn.close()
    return {"authors": authors, "ids": ids, "etags": etags, "latest": latest}


def query_cases(v: dict, rng: random.Random) -> dict[str, callable]:
    fs = frozenset
    return {
        "author": lambda: [Filter(authors=fs({rng.choice(v["authors"])}), limit=500)],
        "kind+since": lambda: [Filter(kinds=fs({1}), since=v["latest"] - rng.randrange(3600, 7 * 86400), limit=500)],
        "tag #p": lambda: [Filter(tags={"p": fs({rng.choice(v["authors"])})}, limit=500)],
        "tag #e + kind 7": lambda: [Filter(tags={"e": fs({rng.choice(v["etags"])})}, kinds=fs({7}), limit=500)],
        "ids (20)": lambda: [Filter(ids=fs(rng.sample(v["ids"], 20)))],
        "feed (50 authors, kinds 1,6)": lambda: [Filter(authors=fs(rng.sample(v["authors"], 50)), kinds=fs({1, 6}), limit=500)],
        "readers (no kinds, limit 500)": lambda: [Filter(limit=500)],
    }


def main() -> None:
    n = int(os.environ.get("NOSTR_DESK_BENCH_EVENTS", "200000"))
    print(f"generating/loading {n} pre-signed events ({cache_file(n)})", flush=True)
    path = generate(n)
    with tempfile.TemporaryDirectory(prefix="nostr-desk-bench-") as tmp:
        store = EventStore.open(StoreConfig(path=Path(tmp) / "events.sqlite3", max_limit=5000))
        try:
            cpu0 = time.process_time()
            busy, total = ingest(store, path)
            cpu = time.process_time() - cpu0  # all threads, JSON parsing included
            writer_cpu = store._writer.cpu_seconds  # the writer thread alone: SQLite + insert logic
            print(f"ingest: {total} events in {busy:.1f} s through submit() -> commit: {total / busy:,.0f} events/s "
                  f"({store._writer.batches} transactions, synchronous=FULL); "
                  f"{total / cpu:,.0f} events per CPU-second (the machine is shared: see os.getloadavg {os.getloadavg()[0]:.1f})")
            print(f"ingest CPU: {cpu / total * 1e6:.0f} us/event in all threads (JSON parsing included), "
                  f"{writer_cpu / total * 1e6:.0f} us/event in the writer thread")
            stats = store.stats()
            print(f"store: {stats.events} events, {stats.db_bytes / 1e6:.0f} MB")
            rng = random.Random(2)
            v = sample_values(store)
            for name, make_filters in query_cases(v, rng).items():
                times, sizes = [], []
                readers = frozenset() if name.startswith("readers") else None
                for _ in range(QUERY_ROUNDS):
                    filters = make_filters()
                    t0 = time.perf_counter()
                    rows = store.query(filters, now=NOW, readers=readers)
                    times.append(time.perf_counter() - t0)
                    sizes.append(len(rows))
                p50, p95 = percentiles(times)
                print(f"query {name:32s} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  (avg {statistics.mean(sizes):.0f} events)")
        finally:
            store.close()


if __name__ == "__main__":
    main()
