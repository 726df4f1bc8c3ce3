"""The `nostr-desk` command line: global options, then one subcommand per job."""

from __future__ import annotations

import argparse
import importlib
import os
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
    parser.add_argument("--data-dir", dest="app_data_dir", metavar="DIR",
                        help="the data folder (events, settings, logs); default: the per-user one")
    parser.add_argument("--relay-port", type=int, metavar="PORT",
                        help="the local relay's port for this run (window only)")
    parser.add_argument("--no-relay", action="store_true", help="do not start the local relay (window only)")
    parser.add_argument("--page", choices=["home", "relays", "monitor", "local-relay", "accounts", "settings"],
                        help="the page the window opens on (window only)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"nostr_desk.app.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        return _default(args)
    if getattr(args, "data_dir", "") is None:
        # `nostr-desk --data-dir X keys list` means the same as `nostr-desk keys list --data-dir X`.
        args.data_dir = args.app_data_dir
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
