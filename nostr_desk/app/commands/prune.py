"""`nostr-desk prune --quota SIZE | --max-events N`: evict the oldest events to fit, keeping the
owners' events, kinds 0/3/10002 and events that p-tag an owner.

The owners are the accounts of the data folder (`nostr-desk keys list`) plus any `--owner`: pruning
must never evict the user's own notes just because they forgot to name themselves.
"""

from __future__ import annotations

import argparse
import sys

from nostr_desk.app.paths import default_paths
from nostr_desk.keys.accounts import AccountBook, AccountsError
from nostr_desk.keys.manager import KeyImportError, resolve_pubkey
from nostr_desk.store import EventStore, StoreConfig

from ._store_args import add_db_options, existing_db, parse_size, reports_failures


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("prune", help="evict the oldest events to fit a size or count quota")
    p.add_argument("--quota", type=size, help="bytes in use to stay under (e.g. 500M, 2G)")
    p.add_argument("--max-events", type=count, help="most events to keep")
    p.add_argument("--owner", action="append", default=[], metavar="PUBKEY",
                   help="a hex public key or npub whose events (and events addressed to it) are never evicted, "
                        "besides the accounts of the data folder; repeatable")
    p.add_argument("--compact", action="store_true", help="VACUUM afterwards to shrink the file")
    add_db_options(p)
    p.set_defaults(run=reports_failures(run))


def size(text: str) -> int:
    """argparse type ('500M', '2G'); errors read "invalid size value", after this name."""
    value = parse_size(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def count(text: str) -> int:
    """argparse type: a count of events, zero or more."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def run(args: argparse.Namespace) -> int:
    if args.quota is None and args.max_events is None:
        print("nostr-desk prune: give --quota and/or --max-events", file=sys.stderr)
        return 2
    owners = _owners(args)
    if owners is None:
        return 2
    path = existing_db(args)
    if path is None:
        return 2
    config = StoreConfig(path=path, owner_pubkeys=frozenset(owners))
    with EventStore.open(config) as store:
        result = store.prune(quota_bytes=args.quota, max_events=args.max_events)
        if args.compact:
            store.compact()
    kept = f" (kept the events of {len(owners)} owner{'s' if len(owners) != 1 else ''})" if owners else ""
    print(f"removed {result.removed} events; {result.events} left, {result.used_bytes:,} bytes in use{kept}")
    return 0


def _owners(args: argparse.Namespace) -> set[str] | None:
    """--owner values and the data folder's accounts as hex pubkeys, or None after saying what is wrong."""
    owners = set()
    for text in args.owner:
        try:
            owners.add(resolve_pubkey(text))
        except KeyImportError:
            print(f"nostr-desk prune: not a hex public key or npub: {text[:80]}", file=sys.stderr)
            return None
    try:
        owners.update(a.pubkey for a in AccountBook(default_paths(args.data_dir).accounts_file).accounts())
    except AccountsError as exc:
        print(f"nostr-desk prune: cannot read the accounts, so cannot tell whose events to keep: {exc}",
              file=sys.stderr)
        return None
    return owners
