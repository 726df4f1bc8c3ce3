"""Shared bits of the store commands (export, import, prune, compact): `--db`/`--data-dir`, and a
progress bar on stderr."""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import Callable
from pathlib import Path

from nostr_desk.app.paths import default_paths


def add_db_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="the event store file (default: events.sqlite3 in the data folder)")
    p.add_argument("--data-dir", help="the data folder (default: the per-user folder of this OS)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def reports_failures(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Wraps a command's `run` so a file that is not an event store, or a file that cannot be opened,
    ends in one line on stderr and exit code 1 instead of a traceback."""

    @functools.wraps(run)
    def guarded(args: argparse.Namespace) -> int:
        from nostr_desk.store import StoreError  # imported when the command runs, not for --help

        try:
            return run(args)
        except BrokenPipeError:  # `nostr-desk export | head`: the CLI's own handler exits quietly
            raise
        except StoreError as exc:
            return _fail(args, str(exc))
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            return _fail(args, f"{where}{exc.strerror or exc}")

    return guarded


def _fail(args: argparse.Namespace, message: str) -> int:
    print(f"nostr-desk {args.command}: {message}", file=sys.stderr)
    return 1


def db_path(args: argparse.Namespace) -> Path:
    if args.db:
        return Path(args.db)
    # `nostr-desk --data-dir X export` (global option) or `nostr-desk export --data-dir X`.
    return default_paths(args.data_dir or getattr(args, "app_data_dir", None)).event_db


def existing_db(args: argparse.Namespace) -> Path | None:
    """The store file, or None after telling the user it does not exist."""
    path = db_path(args)
    if not path.exists():
        print(f"nostr-desk: no event store at {path}", file=sys.stderr)
        return None
    return path


class ProgressBar:
    """`[#####.....]  52%  1.2 MB/2.3 MB` redrawn in place on a terminal, at most 10 times a second;
    silent when stderr is not a terminal (logs and pipes get only the final summary)."""

    WIDTH = 30

    def __init__(self, label: str, *, unit: str = "", quiet: bool = False) -> None:
        self.label, self.unit = label, unit
        self.enabled = not quiet and sys.stderr.isatty()
        self._last = 0.0

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self._last < 0.1 and (total is None or done < total)):
            return
        self._last = now
        if total:
            frac = min(1.0, done / total)
            bar = "#" * int(frac * self.WIDTH)
            text = f"{self.label} [{bar:<{self.WIDTH}}] {frac:4.0%}  {self._fmt(done)}/{self._fmt(total)}"
        else:
            text = f"{self.label} {self._fmt(done)}"
        sys.stderr.write("\r" + text + "\033[K")
        sys.stderr.flush()

    def finish(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")

    def _fmt(self, n: int) -> str:
        if self.unit != "B":
            return f"{n:,}{self.unit}"
        for suffix in ("B", "KB", "MB", "GB"):
            if n < 1024 or suffix == "GB":
                return f"{n:.0f} {suffix}" if suffix == "B" else f"{n:.1f} {suffix}"
            n /= 1024
        return str(n)


def parse_size(text: str) -> int:
    """'500M', '2G', '1.5GB', '100000' -> bytes."""
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    if t and t[-1] in scale:
        return int(float(t[:-1]) * scale[t[-1]])
    return int(t)
