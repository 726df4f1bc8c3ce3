"""`nostr-desk monitor URL... [--duration S] [--interval S] [--json]`: measure relays headless.

Connects to each relay through the pool, probes every `--interval` seconds (ping + a `limit:1` REQ)
for `--duration` seconds, and prints one JSON line per relay per sample with `--json`, else a table
at the end (medians and worst ping over the run, the relay's last NOTICE / CLOSED / OK-false; also
on Ctrl-C). A bad URL or an unreachable relay is reported in the output, never a crash; the exit
code is 1 when a relay could not be reached at all, 2 for usage errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time

from nostr_desk.pool.config import PoolConfig
from nostr_desk.pool.health import RelayHealth
from nostr_desk.pool.pool import RelayPool
from nostr_desk.pool.probe import probe_round, row
from nostr_desk.protocol.relay_url import InvalidRelayUrl, normalize

COLUMNS = [("url", 34), ("status", 12), ("connect_ms", 10), ("ping_ms", 8), ("ping_max", 8), ("eose_ms", 8),
           ("success_rate", 8), ("rate_limited", 6), ("verify_failures", 6), ("events_received", 7),
           ("disconnects", 6)]
HEADERS = {"connect_ms": "connect", "ping_ms": "ping", "ping_max": "ping max", "eose_ms": "eose",
           "success_rate": "success", "rate_limited": "rl", "verify_failures": "badsig",
           "events_received": "events", "disconnects": "drops"}


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
    summary: list[dict] = []       # filled as the run goes, so Ctrl-C still prints what was measured
    try:
        asyncio.run(_measure(good, args.duration, args.interval, args.json, summary))
    except KeyboardInterrupt:
        if not args.json:
            _table(summary)
        return 130
    if not args.json:
        _table(summary)
    # Like ping(8): exit 1 when a relay could not be reached at all, so scripts and health checks
    # can act on it; the output says which and why.
    return 0 if all(r["connects"] > 0 for r in summary) else 1


def _report_bad(url: str, error: str, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"t": round(time.time(), 3), "url": url, "status": "invalid-url", "error": error}), flush=True)
    else:
        print(f"nostr-desk monitor: {url}: {error}", file=sys.stderr)


def monitor_config(interval: float, relays: int = 1) -> PoolConfig:
    # Timeouts shorter than a sample interval so one dead relay does not delay the others' samples,
    # and a concurrency budget for every relay at once (probes of many relays must not queue).
    t = max(0.5, min(interval, 10.0))
    return PoolConfig(connect_timeout=t, eose_timeout=t, ok_timeout=t, nip11_timeout=t, ping_timeout=t,
                      ping_interval=0, backoff_base=0.5, backoff_cap=max(1.0, interval * 2),
                      backoff_http_floor=max(1.0, interval * 2), health_persist=False, auth_default="never",
                      # A relay restarted while watched is seen again within a few intervals.
                      breaker_open_seconds=max(1.0, interval * 2),
                      background_concurrency=max(4, relays), user_concurrency=max(8, relays))


async def _measure(urls: list[str], duration: float, interval: float, as_json: bool, summary: list[dict]) -> None:
    pool = RelayPool(monitor_config(interval, len(urls)), None)
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
            summary[:] = [_summarize(r, pool.connections[r["url"]].health) for r in rows]
            if as_json:
                for r in rows:
                    print(json.dumps(r, ensure_ascii=False), flush=True)
            left = end - loop.time()
            if left <= 0:
                break
            await asyncio.sleep(min(left, max(0.0, interval - (loop.time() - started))))
    finally:
        await pool.close()


def _summarize(r: dict, health: RelayHealth) -> dict:
    """The table's view of a relay: medians and worst cases over the whole run, not the last sample."""
    out = dict(r)
    for metric in ("connect_ms", "ping_ms", "eose_ms"):
        values = sorted(v for _, v in health.series.get(metric, ()))
        out[metric] = round(statistics.median(values), 1) if values else None
        if metric == "ping_ms":
            out["ping_max"] = round(values[-1], 1) if values else None
    return out


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
        for key, label in (("last_notice", "NOTICE"), ("last_closed", "CLOSED"), ("last_ok_false", "OK false")):
            if r.get(key):
                print(f"    last {label}: {r[key]}")
    if rows:
        print("(connect, ping, eose: medians over the run in ms; rl: rate-limit signals; badsig: events "
              "that failed verification; drops: connections lost)")
