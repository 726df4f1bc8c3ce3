"""The `nostr-desk` command line: global options, then one subcommand per job."""

from __future__ import annotations

import argparse
import importlib
import sys

from nostr_desk import __version__
from nostr_desk.app.commands import COMMANDS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nostr-desk",
        description="A Nostr relay manager and personal client: an embedded local relay, "
        "a multi-relay pool, keys in the OS keyring.",
    )
    parser.add_argument("--version", action="version", version=f"nostr-desk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"nostr_desk.app.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        return _default(parser)
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `nostr-desk ... | head`
        return 0


def _default(parser: argparse.ArgumentParser) -> int:
    # The desktop window arrives with the UI issue; until then the run command shows what exists.
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
