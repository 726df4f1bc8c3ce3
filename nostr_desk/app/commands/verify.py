"""`nostr-desk verify FILE|-`: check every event of a JSONL file (shape, id, signature)."""

from __future__ import annotations

import argparse
import sys

from nostr_desk.protocol.errors import ProtocolError
from nostr_desk.protocol.event import parse_verified


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="check the events of a JSONL file (shape, id, signature)")
    p.add_argument("file", help="a JSONL file of events, or - for standard input")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the summary")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        stream = sys.stdin.buffer if args.file == "-" else open(args.file, "rb")
    except OSError as exc:  # a missing or unreadable file is a usage error, not a traceback
        print(f"error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    good = bad = 0
    with stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                parse_verified(line)
                good += 1
            except ProtocolError as exc:
                bad += 1
                if not args.quiet:
                    print(f"line {number}: {exc.reason}")
    print(f"{good} valid, {bad} invalid")
    return 1 if bad else 0
