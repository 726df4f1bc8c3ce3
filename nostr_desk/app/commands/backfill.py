"""`nostr-desk backfill [--npub N] [--relay URL ...] [--days D] [--budget S]`: fill the cache headless.

Fetches through the pool the account's profile, contacts and relay list, then the follows' lists and
recent notes (each author from their NIP-65 write relays), printing progress, within a time budget.
No key is needed: the account (or `--npub`) only says whose follows to read.
Exit codes: 0 complete; 3 incomplete: stopped by the time budget (what arrived is kept) or no relay could be
reached; 1 no account; 2 usage.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from nostr_desk.app.backfill import BackfillConfig, BackfillProgress, backfill
from nostr_desk.app.config import build_config
from nostr_desk.keys.accounts import AccountBook, AccountsError
from nostr_desk.keys.manager import resolve_pubkey
from nostr_desk.pool.config import PoolConfig
from nostr_desk.pool.pool import RelayPool
from nostr_desk.protocol.errors import ProtocolError
from nostr_desk.protocol.relay_url import InvalidRelayUrl, normalize
from nostr_desk.store import EventStore, StoreConfig, StoreError

EXIT_OK, EXIT_NO_ACCOUNT, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("backfill", help="fetch your lists and your follows' recent notes into the local store")
    p.add_argument("--npub", help="whose follows to read (npub or hex; default: the active account)")
    p.add_argument("--relay", action="append", default=[], metavar="URL",
                   help="read from here (repeatable; default: the relays in your settings)")
    p.add_argument("--days", type=int, default=7, help="how many days of notes (default 7)")
    p.add_argument("--budget", type=float, default=60.0, metavar="S", help="stop after this many seconds (default 60)")
    p.add_argument("--db", help="the event store file (default: events.sqlite3 in the data folder)")
    p.add_argument("--data-dir", help="the data folder (default: the per-user folder of this OS)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.days < 1 or args.budget <= 0:
        return _fail("--days and --budget must be positive", EXIT_USAGE)
    config = build_config(args.data_dir)
    try:
        relays = [normalize(u) for u in args.relay] or [r.url for r in config.relays if r.read]
    except InvalidRelayUrl as exc:
        return _fail(str(exc), EXIT_USAGE)
    if not relays:
        return _fail("no relays to read from: pass --relay URL (or add relays in the settings)", EXIT_USAGE)
    try:
        book = AccountBook(config.paths.accounts_file)
        user = resolve_pubkey(args.npub, book) if args.npub else (book.active.pubkey if book.active else None)
    except (AccountsError, ProtocolError, ValueError) as exc:
        return _fail(str(exc), EXIT_USAGE)
    if user is None:
        return _fail("no account: pass --npub, or create/import one with `nostr-desk keys`", EXIT_NO_ACCOUNT)
    db = Path(args.db) if args.db else config.paths.ensure().event_db
    try:
        store = EventStore.open(StoreConfig(path=db))
    except StoreError as exc:
        return _fail(str(exc), EXIT_NO_ACCOUNT)
    try:
        return asyncio.run(_backfill(store, user, relays, BackfillConfig(days=args.days, budget=args.budget)))
    finally:
        store.close()


async def _backfill(store: EventStore, user: str, relays: list[str], config: BackfillConfig) -> int:
    pool = RelayPool(PoolConfig(auth_default="never"), store)
    for url in relays:
        pool.add_relay(url, write=False)
    try:
        result = await backfill(pool, user, config, _show, relays=relays)
        health = pool.health()
    finally:
        await pool.close()  # flushes what the pool still holds for the store
    # A relay never reached looks like an empty one to the backfill: say which, and why.
    unreached = [health[u] for u in relays if u in health and health[u].connects == 0]
    for snap in unreached:
        print(f"nostr-desk backfill: could not reach {snap.url}: {snap.last_error or snap.status}", file=sys.stderr)
    if len(unreached) == len(relays):
        print("nostr-desk backfill: no relay could be reached; nothing was fetched", file=sys.stderr)
        return EXIT_PARTIAL
    state = "done" if result.complete else "stopped by the time budget"
    print(f"{state}: {result.events} events from {result.follows} follows in {result.seconds:.1f} s", flush=True)
    return EXIT_OK if result.complete else EXIT_PARTIAL


def _show(p: BackfillProgress) -> None:
    print(p.line(), flush=True)


def _fail(message: str, code: int) -> int:
    print(f"nostr-desk backfill: {message}", file=sys.stderr)
    return code
