"""`nostr-desk relay`: run the local relay without a window, until Ctrl-C or SIGTERM.

Shutdown is ordered: stop accepting, close clients with 1001, wait for in-flight events to commit,
flush the store's writer and close SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import errno
import ipaddress
import signal
import sys
from pathlib import Path

from nostr_desk import relay as relay_mod
from nostr_desk.app.config import build_config
from nostr_desk.app.services import relay_config
from nostr_desk.store import EventStore, StoreConfig

from ._store_args import reports_failures


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("relay", help="run the local relay headless (no window) until Ctrl-C / SIGTERM")
    p.add_argument("--host", help="address to bind (default 127.0.0.1; anything else is reachable from elsewhere)")
    p.add_argument("--port", type=port, help="port to listen on (default 4869; 0 picks a free one)")
    p.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                   help="let web pages from ORIGIN (e.g. https://client.example) connect, beyond local ones; "
                        "repeatable; * allows any page")
    p.add_argument("--db", help="the event store file (default: events.sqlite3 in the data folder)")
    p.add_argument("--data-dir", help="the data folder (default: the per-user folder of this OS)")
    p.set_defaults(run=reports_failures(run))  # a --db that is not an event store: one line, exit 1


def port(text: str) -> int:
    """argparse type: a TCP port (a ValueError reads "invalid port value: 'x'", after this name)."""
    number = int(text)
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"{number} is not a port (0-65535)")
    return number


def run(args: argparse.Namespace) -> int:
    config = build_config(args.data_dir, relay_host=args.host, relay_port=args.port)
    db = Path(args.db) if args.db else config.paths.ensure().event_db
    store_config = StoreConfig(path=db, max_limit=config.limits.max_limit)
    if not _loopback(config.relay_host):
        print(f"nostr-desk relay: warning: binding {config.relay_host} makes the relay reachable from other "
              "machines, not only this one", file=sys.stderr)
    try:
        return asyncio.run(_serve(_with_origins(relay_config(config), args.allow_origin), store_config))
    except OSError as exc:  # e.g. the port is taken
        print(f"nostr-desk relay: {_bind_failure(exc, config.relay_host, config.relay_port)}", file=sys.stderr)
        return 1


def _bind_failure(exc: OSError, host: str, port: int) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (f"port {port} on {host} is already in use (another relay, or nostr-desk's window?); "
                "choose another with --port")
    if exc.errno == errno.EACCES:
        return f"not allowed to listen on port {port} (ports below 1024 need privileges); choose another with --port"
    return str(exc.strerror or exc)


def _with_origins(config: relay_mod.RelayConfig, origins: list[str]) -> relay_mod.RelayConfig:
    # Browsers send the Origin without a path or trailing slash, scheme and host in lowercase.
    allowed = frozenset(o.strip().rstrip("/").lower() for o in origins if o.strip())
    return dataclasses.replace(config, allowed_origins=config.allowed_origins | allowed) if allowed else config


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


async def _serve(config: relay_mod.RelayConfig, store_config: StoreConfig) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    store = EventStore.open(store_config)
    try:
        relay = relay_mod.LocalRelay(config, store)
        await relay.start()
        try:
            print(f"relay listening on {relay.url} (store {store_config.path})", flush=True)
            await stop.wait()
            print("stopping: closing clients, flushing the store", flush=True)
        finally:
            await relay.stop()
    finally:
        store.close()
    print("relay stopped", flush=True)
    return 0
