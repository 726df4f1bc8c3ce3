"""`nostr-desk decode STRING`: show what a NIP-19 string holds, as JSON (an nsec shows only its pubkey)."""

from __future__ import annotations

import argparse
import json
import sys

from nostr_desk.protocol.errors import ProtocolError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("decode", help="decode a NIP-19 string (npub, note, nprofile, nevent, naddr...)")
    p.add_argument("value", help="the bech32 string, with or without a nostr: prefix")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from nostr_desk.protocol import nip19

    try:
        decoded = nip19.decode(args.value.removeprefix("nostr:"))
    except ProtocolError as exc:
        print(f"error: {exc.text}", file=sys.stderr)
        return 2
    print(json.dumps(nip19.describe(decoded), indent=2))
    return 0
