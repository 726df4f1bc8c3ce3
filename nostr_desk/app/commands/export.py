"""`nostr-desk export [-o FILE]`: write every stored event to JSONL (stdout by default).

A file is written beside its target and renamed over it only once complete, so an export that fails
(a store that will not open, a full disk, Ctrl-C) never truncates an earlier backup of the same name.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from pathlib import Path

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
    target = None if args.output == "-" else _writable_target(Path(args.output))
    bar = ProgressBar("exporting", unit=" events", quiet=args.quiet)
    with EventStore.open(StoreConfig(path=path)) as store:
        count = export_store(store, sys.stdout.buffer, bar) if target is None else _to_file(store, target, bar)
    bar.finish()
    print(f"exported {count} events", file=sys.stderr)
    return 0


def _writable_target(target: Path) -> Path:
    """Refuse up front what the final rename would refuse, naming the user's path (not the temp file)."""
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(target))
    if not target.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(target))
    return target


def _to_file(store: EventStore, target: Path, bar: ProgressBar) -> int:
    partial = target.with_name(f".{target.name}.partial")
    try:
        with open(partial, "wb") as out:
            count = export_store(store, out, bar)
            out.flush()
            os.fsync(out.fileno())  # the data is on disk before the rename makes it the backup
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return count
