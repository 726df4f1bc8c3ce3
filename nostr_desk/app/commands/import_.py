"""`nostr-desk import FILE|-`: verify and store the events of a JSONL file, streaming."""

from __future__ import annotations

import argparse
import os
import sys

from nostr_desk.store import EventStore, StoreConfig
from nostr_desk.store.transfer import import_jsonl

from ._store_args import ProgressBar, add_db_options, db_path, reports_failures

SQLITE_MAGIC = b"SQLite format 3\x00"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="verify and add the events of a JSONL file to the event store")
    p.add_argument("file", help="a JSONL file of events, or - for standard input")
    p.add_argument("--source", help="record this relay URL as where the events came from")
    add_db_options(p)
    p.set_defaults(run=reports_failures(run))


def run(args: argparse.Namespace) -> int:
    stdin = args.file == "-"
    stream = sys.stdin.buffer if stdin else open(args.file, "rb")
    if not stdin and stream.peek(len(SQLITE_MAGIC)).startswith(SQLITE_MAGIC):
        stream.close()  # one line, not a thousand "line N: invalid" for a binary file
        print(f"nostr-desk import: {args.file} is an SQLite database (an event store?), not JSONL: "
              "use it with --db, or export it to JSONL first", file=sys.stderr)
        return 1
    total = None if stdin else os.fstat(stream.fileno()).st_size
    bar = ProgressBar("importing", unit="B", quiet=args.quiet)
    with EventStore.open(StoreConfig(path=db_path(args))) as store, stream:
        report = import_jsonl(store, stream, source=args.source, total_bytes=total, progress=bar)
    bar.finish()
    for number, reason in report.bad:
        print(f"line {number}: {reason}", file=sys.stderr)
    if report.bad_count > len(report.bad):
        print(f"... and {report.bad_count - len(report.bad)} more invalid lines", file=sys.stderr)
    print(report.summary())
    return 1 if report.bad_count else 0
