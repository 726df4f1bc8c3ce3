"""`nostr-desk compact`: VACUUM the event store and refresh the query planner's statistics."""

from __future__ import annotations

import argparse

from nostr_desk.store import EventStore, StoreConfig
from nostr_desk.store.sqlite import db_bytes

from ._store_args import add_db_options, existing_db, reports_failures


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compact", help="reclaim free space in the event store (VACUUM) and optimize it")
    add_db_options(p)
    p.set_defaults(run=reports_failures(run))


def run(args: argparse.Namespace) -> int:
    path = existing_db(args)
    if path is None:
        return 2
    before = db_bytes(path)
    with EventStore.open(StoreConfig(path=path)) as store:
        store.compact()
    after = db_bytes(path)
    print(f"compacted {path}: {before:,} -> {after:,} bytes")
    return 0
