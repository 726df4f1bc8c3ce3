"""Local relay benchmark, over real websockets against the headless relay in its own process
(`python -m nostr_desk relay`), with the client here:

- ingest: pre-signed events over 4 connections, each OK'd only after signature check and COMMIT;
- REQ -> EOSE latency (p50/p95) on a 200,000-event store: author, kind+since, tag, ids filters;
- fan-out: one event to 1,000 live subscriptions (100 connections x 10), delivery p50/p99;
- 1,000 idle connections: the relay process's resident memory.

Events come from the store benchmark's generator (signed once, cached under the system temp dir as
`nostr-desk-bench/`); every store is built in a fresh temp dir. NOSTR_DESK_BENCH_EVENTS changes the
store size (default 200000); NOSTR_DESK_BENCH_INGEST the ingest count (default 40000).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from websockets.asyncio.client import connect

from benchmarks.store import generate, ingest as store_ingest
from nostr_desk.protocol.event import Event, EventTemplate, sign
from nostr_desk.protocol.keys import SecretKey
from nostr_desk.store import EventStore, StoreConfig

URL = re.compile(r"listening on (ws://\S+)")
WARMUP = 20
REQ_INTERVAL = 0.012
WS = dict(compression=None, max_size=None, open_timeout=30, ping_interval=None)


class RelayProcess:
    """`nostr-desk relay` in a subprocess, on a free port, over `db`."""

    def __init__(self, db: Path) -> None:
        # Output goes to a file, not a pipe: a pipe nobody drains would block the relay once full.
        self.log_path = db.with_suffix(".log")
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nostr_desk", "relay", "--port", "0", "--db", str(db), "--data-dir", str(db.parent)],
            stdout=self._log, stderr=subprocess.STDOUT, text=True,
        )
        deadline = time.monotonic() + 60
        while not (match := URL.search(self.log_path.read_text())):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                raise RuntimeError(f"relay did not start: {self.log_path.read_text()[-2000:]}")
            time.sleep(0.05)
        self.url = match.group(1)

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def cpu_seconds(self) -> float:
        """User + system CPU the relay process has used so far (all its threads)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


def pct(samples: list[float], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(q * len(s)))] * 1000


def load_events(path: Path, n: int, kinds: frozenset[int]) -> list[bytes]:
    out = []
    with open(path, "rb") as f:
        for line in f:
            if len(out) >= n:
                break
            ev = Event.from_json(line)
            if ev.kind in kinds:
                out.append(line.rstrip(b"\n"))
    return out


# --- ingest ---------------------------------------------------------------------------------------
async def _publish_all(url: str, raws: list[bytes], conns: int) -> tuple[float, int, int]:
    shards = [[b'["EVENT",' + r + b"]" for r in raws[i::conns]] for i in range(conns)]
    sockets = [await connect(url, **WS) for _ in range(conns)]
    for ws in sockets:
        await ws.recv()  # the AUTH challenge

    async def one(ws, frames) -> tuple[int, int]:
        async def send() -> None:
            for fr in frames:
                await ws.send(fr, text=True)

        sender = asyncio.create_task(send())
        good = bad = 0
        while good + bad < len(frames):
            msg = json.loads(await ws.recv())
            if msg[0] == "OK":
                if msg[2]:
                    good += 1
                else:
                    bad += 1
        await sender
        return good, bad

    t0 = time.perf_counter()
    results = await asyncio.gather(*(one(ws, fr) for ws, fr in zip(sockets, shards)))
    elapsed = time.perf_counter() - t0
    for ws in sockets:
        await ws.close()
    return elapsed, sum(g for g, _ in results), sum(b for _, b in results)


def bench_ingest(tmp: Path, source: Path) -> None:
    n = int(os.environ.get("NOSTR_DESK_BENCH_INGEST", "40000"))
    raws = load_events(source, n, frozenset({1, 6, 7}))  # regular kinds: every one should be saved
    relay = RelayProcess(tmp / "ingest.sqlite3")
    try:
        cpu0 = relay.cpu_seconds()
        elapsed, good, bad = asyncio.run(_publish_all(relay.url, raws, 4))
        cpu = relay.cpu_seconds() - cpu0
    finally:
        relay.stop()
    print(f"ingest: {len(raws)} pre-signed events over 4 connections in {elapsed:.2f} s: "
          f"{len(raws) / elapsed:,.0f} events/s verified+committed ({good} OK true, {bad} OK false)  [target >= 6,000]\n"
          f"        relay used {cpu:.2f} CPU-s ({len(raws) / cpu:,.0f} events per relay CPU-second); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)


# --- REQ -> EOSE ----------------------------------------------------------------------------------
def sample_values(db: Path) -> dict[str, list]:
    store = EventStore.open(StoreConfig(path=db))
    try:
        conn = store.connect()
        try:
            authors = [_hex(r[0]) for r in conn.execute("SELECT DISTINCT pubkey FROM events LIMIT 500")]
            ids = [_hex(r[0]) for r in conn.execute("SELECT id FROM events ORDER BY random() LIMIT 4000")]
            etags = [_hex(r[0]) for r in conn.execute("SELECT value FROM tags WHERE name = 'e' ORDER BY random() LIMIT 500")]
            newest = conn.execute("SELECT max(created_at) FROM events").fetchone()[0]
        finally:
            conn.close()
    finally:
        store.close()
    return {"authors": authors, "ids": ids, "etags": etags, "newest": newest}


def _hex(value: str | bytes) -> str:
    """The store keeps ids and pubkeys as 32-byte blobs; filters speak hex."""
    return value.hex() if isinstance(value, bytes) else value


def query_cases(v: dict, rng: random.Random) -> dict:
    return {
        "author (limit 500)": lambda: {"authors": [rng.choice(v["authors"])], "limit": 500},
        "kind+since (limit 500)": lambda: {"kinds": [1], "since": v["newest"] - rng.randrange(3600, 86400), "limit": 500},
        "tag #p (limit 100)": lambda: {"#p": [rng.choice(v["authors"])], "limit": 100},
        "tag #e + kind 7 (limit 500)": lambda: {"#e": [rng.choice(v["etags"])], "kinds": [7], "limit": 500},
        "ids (20)": lambda: {"ids": rng.sample(v["ids"], 20)},
    }


async def _queries(url: str, cases: dict, rounds: int) -> dict[str, tuple[list[float], list[int]]]:
    out = {}
    async with connect(url, **WS) as ws:
        await ws.recv()
        for name, make in cases.items():
            times, sizes = [], []
            for i in range(-WARMUP, rounds):  # the first few warm the reader connection and page cache
                sub = f"q{i}"
                t0 = time.perf_counter()
                await ws.send(json.dumps(["REQ", sub, make()]))
                n = 0
                while True:
                    msg = await ws.recv(decode=False)
                    if msg.startswith(b'["EVENT"'):
                        n += 1
                    elif msg.startswith(b'["EOSE"'):
                        break
                    elif msg.startswith(b'["CLOSED"'):
                        raise RuntimeError(f"relay refused a REQ: {msg}")
                if i >= 0:
                    times.append(time.perf_counter() - t0)
                    sizes.append(n)
                await ws.send(json.dumps(["CLOSE", sub]))
                # Stay under the relay's default REQ rate limit (100/s per connection, burst 400).
                await asyncio.sleep(max(0.0, REQ_INTERVAL - (time.perf_counter() - t0)))
            out[name] = (times, sizes)
    return out


def bench_queries(tmp: Path, source: Path) -> None:
    db = tmp / "query.sqlite3"
    store = EventStore.open(StoreConfig(path=db, max_limit=5000))
    try:
        _, total = store_ingest(store, source)
    finally:
        store.close()
    v = sample_values(db)
    relay = RelayProcess(db)
    try:
        results = asyncio.run(_queries(relay.url, query_cases(v, random.Random(3)), 200))
    finally:
        relay.stop()
    print(f"REQ->EOSE on a {total:,}-event store, 200 requests each, over one websocket:  [target p95 <= 15 ms]")
    for name, (times, sizes) in results.items():
        print(f"  {name:30s} p50 {pct(times, 0.5):6.2f} ms  p95 {pct(times, 0.95):6.2f} ms  "
              f"(avg {sum(sizes) / len(sizes):.0f} events)", flush=True)


# --- fan-out --------------------------------------------------------------------------------------
async def _fanout(url: str, n_conns: int, subs_per_conn: int, rounds: int) -> list[float]:
    author = SecretKey(hashlib.sha256(b"bench-fanout").digest())
    sockets = []
    for i in range(n_conns):
        ws = await connect(url, **WS)
        await ws.recv()
        for j in range(subs_per_conn):
            await ws.send(json.dumps(["REQ", f"s{j}", {"kinds": [1], "authors": [author.public_key], "limit": 0}]))
        for _ in range(subs_per_conn):
            await ws.recv()  # EOSE
        sockets.append(ws)
    pub = await connect(url, **WS)
    await pub.recv()
    latencies: list[float] = []
    for r in range(rounds):
        ev = sign(EventTemplate(1, f"fan-out {r}", [], int(time.time())), author, aux_rand=bytes(32))
        expected = n_conns * subs_per_conn
        got = 0
        done = asyncio.Event()

        async def drain(ws) -> None:
            nonlocal got
            for _ in range(subs_per_conn):
                await ws.recv(decode=False)
                latencies.append(time.perf_counter() - t0)
                got += 1
            if got == expected:
                done.set()

        readers = [asyncio.create_task(drain(ws)) for ws in sockets]
        await asyncio.sleep(0.05)
        t0 = time.perf_counter()
        await pub.send(json.dumps(["EVENT", ev.to_obj()]))
        await asyncio.wait_for(done.wait(), 30)
        await asyncio.gather(*readers)
        await pub.recv()  # its OK
    for ws in [*sockets, pub]:
        await ws.close()
    return latencies


def bench_fanout(tmp: Path) -> None:
    relay = RelayProcess(tmp / "fanout.sqlite3")
    try:
        lat = asyncio.run(_fanout(relay.url, 100, 10, 20))
    finally:
        relay.stop()
    print(f"fan-out: one event to 1,000 subscriptions (100 connections x 10), 20 events: delivery "
          f"p50 {pct(lat, 0.5):.1f} ms  p99 {pct(lat, 0.99):.1f} ms  max {max(lat) * 1000:.1f} ms  [target p99 <= 50 ms]"
          f"  (load average {os.getloadavg()[0]:.1f})",
          flush=True)


# --- idle connections ---------------------------------------------------------------------------
async def _idle(url: str, n: int, relay: RelayProcess) -> tuple[float, float]:
    before = relay.rss_mb()
    sockets = []
    for i in range(n):
        ws = await connect(url, **WS)
        await ws.recv()
        sockets.append(ws)
    await asyncio.sleep(2)
    after = relay.rss_mb()
    for ws in sockets:
        await ws.close()
    return before, after


def bench_idle(tmp: Path) -> None:
    relay = RelayProcess(tmp / "idle.sqlite3")
    try:
        before, after = asyncio.run(_idle(relay.url, 1000, relay))
    finally:
        relay.stop()
    print(f"idle: relay RSS {before:.0f} MB at start, {after:.0f} MB with 1,000 idle connections "
          f"(+{(after - before) / 1000 * 1024:.0f} KB each)  [target <= 150 MB]", flush=True)


def main() -> None:
    n = int(os.environ.get("NOSTR_DESK_BENCH_EVENTS", "200000"))
    print(f"loading {n} pre-signed events (generated once, cached in the temp dir)", flush=True)
    source = generate(n)
    with tempfile.TemporaryDirectory(prefix="nostr-desk-relay-bench-") as d:
        tmp = Path(d)
        bench_ingest(tmp, source)
        bench_fanout(tmp)
        bench_idle(tmp)
        bench_queries(tmp, source)


if __name__ == "__main__":
    main()
