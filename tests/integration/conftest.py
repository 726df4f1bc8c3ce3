"""Helpers for the end-to-end tests: the installed `nostr-desk` console script run as a subprocess,
a `nostr-desk relay` process on a free port (port 0; its URL read from its first line), and a small
websockets client that asks a relay for events the way any Nostr client would."""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.sync.client import connect

CLI_TIMEOUT = 30  # seconds for one command; each normally takes well under one


def console_script() -> str:
    """The `nostr-desk` entry point pip installed beside this Python (what a user runs), else on PATH."""
    beside = Path(sys.executable).parent / "nostr-desk"
    found = str(beside) if beside.exists() else shutil.which("nostr-desk")
    if not found:
        pytest.fail("the nostr-desk console script is not installed: run ./dev setup (pip install -e .)")
    return found


def nostr_desk(*args: str, stdin: str = "", env: dict[str, str] | None = None,
               timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess:
    return subprocess.run([console_script(), *args], input=stdin, capture_output=True, text=True,
                          timeout=timeout, env=env if env is not None else dict(os.environ))


def assert_clean_failure(result: subprocess.CompletedProcess, code: int | None = None) -> str:
    """A refused command: non-zero exit (the given one), a message on stderr that starts with who is
    speaking, no traceback. Returns the first line of the message."""
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode != 0, output
    if code is not None:
        assert result.returncode == code, output
    # On stderr; `verify` reports its findings ("line N: why", a summary) as its output, on stdout.
    lines = [line for line in (result.stderr or result.stdout).splitlines() if line.strip()]
    assert lines, "no message"
    if lines[0].startswith("usage:"):  # argparse: the usage, then "nostr-desk CMD: error: ..."
        lines = lines[-1:]
    assert lines[0].startswith(("nostr-desk", "error:", "line ")), output  # "line N: why" from import
    return lines[0]


def closed_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago: nothing listens there."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RelayProcess:
    """`nostr-desk relay --port 0 --db FILE` in the background; `url` is what it says it listens on."""

    def __init__(self, db: Path, *extra: str, port: int = 0) -> None:
        self.db = db
        self.proc = subprocess.Popen(
            [console_script(), "relay", "--port", str(port), "--db", str(db), "--data-dir",
             str(db.parent / "relay-data"), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = self._readline(20)
        if "listening on " not in first:
            self.proc.kill()
            _, err = self.proc.communicate(timeout=10)
            raise AssertionError(f"the relay did not start: {first!r} {err!r}")
        self.url = first.split("listening on ", 1)[1].split()[0]
        self.port = int(self.url.rsplit(":", 1)[1])

    def _readline(self, timeout: float) -> str:
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        return self.proc.stdout.readline() if ready else ""

    def interrupt(self, timeout: float = 15) -> tuple[int, str, str]:
        """Ctrl-C (SIGINT) and wait: (exit code, rest of stdout, stderr)."""
        self.proc.send_signal(signal.SIGINT)
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate(timeout=10)


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[RelayProcess]:
    proc = RelayProcess(tmp_path / "relay.sqlite3")
    try:
        yield proc
    finally:
        proc.kill()


def fetch(url: str, filters: list[dict], timeout: float = 10) -> list[dict]:
    """REQ with these filters until EOSE (answering nothing else); the events, in the relay's order."""
    events: list[dict] = []
    deadline = time.monotonic() + timeout
    with connect(url, open_timeout=timeout, close_timeout=2, max_size=None) as ws:
        ws.send(json.dumps(["REQ", "qa", *filters]))
        while True:
            message = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message[0] == "EVENT" and message[1] == "qa":
                events.append(message[2])
            elif message[0] == "EOSE":
                return events
            elif message[0] in ("CLOSED", "NOTICE"):
                raise AssertionError(f"relay answered {message}")
