"""`nostr-desk monitor URL... [--duration S] [--interval S] [--json]`: measure relays headless.

Connects to each relay through the pool, probes every `--interval` seconds (ping + a `limit:1` REQ)
for `--duration` seconds, and prints one JSON line per relay per sample with `--json`, else a table
at the end. A bad URL or an unreachable relay is reported in the output, never a crash.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

from nostr_desk.pool.config import PoolConfig
from nostr_desk.pool.pool import RelayPool
from nostr_desk.pool.probe import probe_round, row
from nostr_desk.protocol.relay_url import InvalidRelayUrl, normalize

COLUMNS = [("url", 34), ("status", 12), ("connect_ms", 10), ("ping_ms", 8), ("eose_ms", 8),
           ("success_rate", 8), ("rate_limited", 6), ("verify_failures", 6), ("events_received", 7)]
HEADERS = {"success_rate": "success", "rate_limited": "rl", "verify_failures": "badsig", "events_received": "events"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("monitor", help="measure relays (latency, status, rate limits) without a window")
    p.add_argument("urls", nargs="+", metavar="URL", help="relay URLs (ws:// or wss://)")
    p.add_argument("--duration", type=float, default=10.0, help="seconds to measure (default 10)")
    p.add_argument("--interval", type=float, default=2.0, help="seconds between samples (default 2)")
    p.add_argument("--json", action="store_true", help="one JSON line per relay per sample")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    good, bad = [], []
    for url in args.urls:
        try:
            norm = normalize(url)
            if norm not in good:
                good.append(norm)
        except InvalidRelayUrl as exc:
            bad.append((url, str(exc)))
    for url, error in bad:
        _report_bad(url, error, args.json)
    if not good:
        return 2
    if args.duration <= 0 or args.interval <= 0:
        print("nostr-desk monitor: --duration and --interval must be positive", file=sys.stderr)
        return 2
    rows = asyncio.run(_measure(good, args.duration, args.interval, args.json))
    if not args.json:
        _table(rows)
    return 0


def _report_bad(url: str, error: str, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"t": round(time.time(), 3), "url": url, "status": "invalid-url", "error": error}), flush=True)
    else:
        print(f"nostr-desk monitor: {url}: {error}", file=sys.stderr)


def monitor_config(interval: float) -> PoolConfig:
    # Timeouts shorter than a sample interval so one dead relay does not delay the others' samples.
    t = max(0.5, min(interval, 10.0))
    return PoolConfig(connect_timeout=t, eose_timeout=t, ok_timeout=t, nip11_timeout=t, ping_timeout=t,
                      ping_interval=0, backoff_base=0.5, backoff_cap=max(1.0, interval * 2),
                      backoff_http_floor=max(1.0, interval * 2), health_persist=False, auth_default="never")


async def _measure(urls: list[str], duration: float, interval: float, as_json: bool) -> list[dict]:
    pool = RelayPool(monitor_config(interval), None)
    for url in urls:
        pool.add_relay(url)
    loop = asyncio.get_running_loop()
    end = loop.time() + duration
    rows: list[dict] = []
    try:
        while True:
            started = loop.time()
            await probe_round(pool, urls, timeout=max(0.2, min(interval, end - started) * 0.9))
            rows = [row(s) for s in pool.health().values()]
            if as_json:
                for r in rows:
                    print(json.dumps(r, ensure_ascii=False), flush=True)
            left = end - loop.time()
            if left <= 0:
                break
            await asyncio.sleep(min(left, max(0.0, interval - (loop.time() - started))))
    finally:
        await pool.close()
    return rows


def _table(rows: list[dict]) -> None:
    print("  ".join(HEADERS.get(name, name).ljust(width) for name, width in COLUMNS))
    for r in rows:
        cells = []
        for name, width in COLUMNS:
            value = r.get(name)
            cells.append(("-" if value is None else str(value))[: max(width, 60 if name == "url" else width)].ljust(width))
        print("  ".join(cells))
        if r.get("last_error") and r.get("status") != "connected":
            print(f"    last error: {r['last_error']}")
