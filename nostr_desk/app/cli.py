"""The `nostr-desk` command line: global options, then one subcommand per job."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Collection

from nostr_desk import __version__
from nostr_desk.app.commands import COMMANDS


def build_parser(load: Collection[str] | None = None) -> argparse.ArgumentParser:
    """The full parser; with `load`, only those subcommands' modules are imported (see `_to_load`)."""
    parser = argparse.ArgumentParser(
        prog="nostr-desk",
        description="A Nostr relay manager and personal client: an embedded local relay, "
        "a multi-relay pool, keys in the OS keyring.",
    )
    parser.add_argument("--version", action="version", version=f"nostr-desk {__version__}")
    parser.add_argument("--data-dir", dest="app_data_dir", metavar="DIR",
                        help="the data folder (events, settings, logs); default: the per-user one")
    parser.add_argument("--relay-port", type=int, metavar="PORT",
                        help="the local relay's port for this run (window only)")
    parser.add_argument("--no-relay", action="store_true", help="do not start the local relay (window only)")
    parser.add_argument("--page", choices=["home", "relays", "monitor", "local-relay", "accounts", "settings"],
                        help="the page the window opens on (window only)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _describe_with_help(sub)
    for module in COMMANDS:
        if load is None or _command(module) in load:
            importlib.import_module(f"nostr_desk.app.commands.{module}").register(sub)
        else:  # a placeholder that keeps the name a valid choice; never chosen (see _to_load)
            stub = sub.add_parser(_command(module), add_help=False)
            stub.add_argument("rest", nargs=argparse.REMAINDER)
            stub.set_defaults(stub=True)
    return parser


def _describe_with_help(sub: argparse._SubParsersAction) -> None:
    """`nostr-desk COMMAND --help` opens with the line `nostr-desk --help` shows for COMMAND (commands
    register only `help=`; without a description their own --help said nothing about what they do)."""
    add_parser = sub.add_parser

    def add_described(name: str, **kwargs):
        kwargs.setdefault("description", kwargs.get("help"))
        return add_parser(name, **kwargs)

    sub.add_parser = add_described


def _command(module: str) -> str:
    return module.rstrip("_")  # import_ -> import


def _to_load(argv: list[str]) -> set[str] | None:
    """Which subcommand modules this run needs: those named in argv, or all (None) for the top-level
    --help, which lists them. Importing every command pulls in asyncio, the pool, the store, keyring
    and websockets (~0.25 s) — paid by every run, the window's launch included, if done eagerly."""
    names = {_command(m) for m in COMMANDS}
    wanted: set[str] = set()
    for token in argv:
        if token in ("-h", "--help") and not wanted:
            return None
        if token in names:
            wanted.add(token)
    return wanted


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(_to_load(argv)).parse_args(argv)
    if getattr(args, "stub", False):  # cannot happen (the chosen name is in argv); stay correct anyway
        args = build_parser().parse_args(argv)
    if args.command is None:
        return _default(args)
    if getattr(args, "data_dir", "") is None and args.app_data_dir:
        args.data_dir = args.app_data_dir  # `nostr-desk --data-dir X relay` means the same folder
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `nostr-desk ... | head`
        return 0


def _default(args: argparse.Namespace) -> int:
    """No subcommand: open the desktop window. Subcommands stay headless (no Qt imported)."""
    if _no_display():
        print("nostr-desk: no display to open the window on (DISPLAY and WAYLAND_DISPLAY are unset). "
              "Headless, run a command instead (`nostr-desk --help` lists them: relay, monitor, post, ...).",
              file=sys.stderr)
        return 2
    from nostr_desk.app.config import build_config
    from nostr_desk.app.gui import run_gui

    config = build_config(args.app_data_dir, relay_port=args.relay_port,
                          relay_enabled=False if args.no_relay else None)
    return run_gui(config, page=args.page)


def _no_display() -> bool:
    # Without a display Qt aborts the process (SIGABRT) after a page of plugin errors; say it plainly.
    # An explicit QT_QPA_PLATFORM (offscreen, vnc, ...) is the user's choice and is left to Qt.
    env = os.environ
    return sys.platform.startswith("linux") and not (
        env.get("DISPLAY") or env.get("WAYLAND_DISPLAY") or env.get("QT_QPA_PLATFORM"))


if __name__ == "__main__":
    sys.exit(main())
