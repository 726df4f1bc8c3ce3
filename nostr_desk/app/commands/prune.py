"""`nostr-desk prune --quota SIZE | --max-events N`: evict the oldest events to fit, keeping the
owners' events, kinds 0/3/10002 and events that p-tag an owner."""

from __future__ import annotations

import argparse
import sys

from nostr_desk.protocol.keys import is_hex
from nostr_desk.store import EventStore, StoreConfig

from ._store_args import add_db_options, existing_db, parse_size, reports_failures


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("prune", help="evict the oldest events to fit a size or count quota")
    p.add_argument("--quota", type=parse_size, help="bytes in use to stay under (e.g. 500M, 2G)")
    p.add_argument("--max-events", type=int, help="most events to keep")
    p.add_argument("--owner", action="append", default=[], metavar="PUBKEY",
                   help="a hex public key whose events (and events addressed to it) are never evicted; repeatable")
    p.add_argument("--compact", action="store_true", help="VACUUM afterwards to shrink the file")
    add_db_options(p)
    p.set_defaults(run=reports_failures(run))


def run(args: argparse.Namespace) -> int:
    if args.quota is None and args.max_events is None:
        print("nostr-desk prune: give --quota and/or --max-events", file=sys.stderr)
        return 2
    bad = [o for o in args.owner if not is_hex(o, 64)]
    if bad:
        print(f"nostr-desk prune: not a hex public key: {bad[0][:80]}", file=sys.stderr)
        return 2
    path = existing_db(args)
    if path is None:
        return 2
    config = StoreConfig(path=path, owner_pubkeys=frozenset(args.owner))
    with EventStore.open(config) as store:
        result = store.prune(quota_bytes=args.quota, max_events=args.max_events)
        if args.compact:
            store.compact()
    print(f"removed {result.removed} events; {result.events} left, {result.used_bytes:,} bytes in use")
    return 0
