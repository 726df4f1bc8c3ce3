"""Start-up stays light: a command imports only its own module, so `nostr-desk decode`, `verify` and the
window's launch do not pay for asyncio, websockets, the pool, the store and keyring (~0.25 s on this
machine) that other commands need. Checked on the modules loaded, not on a clock."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

HEAVY = ("asyncio", "websockets", "keyring", "sqlite3", "nostr_desk.pool", "nostr_desk.store", "nostr_desk.keys")
PROBE = """
import sys
from nostr_desk.app import cli
code = cli.main({argv!r})
print(sorted(m for m in {heavy!r} if m in sys.modules))
"""


@pytest.mark.parametrize("argv", [
    ["decode", "npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg"],
    ["verify", "-"],
])
def test_light_commands_import_nothing_heavy(argv: list[str]):
    result = subprocess.run([sys.executable, "-c", PROBE.format(argv=argv, heavy=HEAVY)], input="", text=True,
                            capture_output=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"


def test_top_level_help_is_the_full_parsers_help(monkeypatch):
    """Loading commands on demand must not cost the overview: every command with its help line."""
    from nostr_desk.app.cli import build_parser

    monkeypatch.setenv("COLUMNS", "100")  # argparse wraps to the terminal width: the same for both
    result = subprocess.run([sys.executable, "-m", "nostr_desk", "--help"], capture_output=True, text=True,
                            timeout=30, env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert result.stdout == build_parser().format_help()
