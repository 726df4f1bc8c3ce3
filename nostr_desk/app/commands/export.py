"""`nostr-desk export [-o FILE]`: write every stored event to JSONL (stdout by default)."""

from __future__ import annotations

import argparse
import sys

from nostr_desk.store import EventStore, StoreConfig
from nostr_desk.store.transfer import export_store

from ._store_args import ProgressBar, add_db_options, existing_db, reports_failures


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write the event store to a JSONL file (one event per line)")
    p.add_argument("-o", "--output", default="-", help="the JSONL file to write, or - for standard output (default)")
    add_db_options(p)
    p.set_defaults(run=reports_failures(run))


def run(args: argparse.Namespace) -> int:
    path = existing_db(args)
    if path is None:
        return 2
    bar = ProgressBar("exporting", unit=" events", quiet=args.quiet)
    out = sys.stdout.buffer if args.output == "-" else open(args.output, "wb")
    with EventStore.open(StoreConfig(path=path)) as store, out:
        count = export_store(store, out, bar)
    bar.finish()
    print(f"exported {count} events", file=sys.stderr)
    return 0
