"""The global `--data-dir` (as `nostr-desk --help` shows it) is honoured by every subcommand, the same
as the subcommand's own `--data-dir`: accounts and the event store land in the folder the user named."""

from __future__ import annotations

import select
import subprocess
from pathlib import Path

from nostr_desk.protocol import nip19

from .conftest import console_script, nostr_desk

NPUB = nip19.encode_npub("32e1827635450ebb3c5a7d12c1f8e7b2b514439ac10a67eef3d9fd9c5c68e245")


def test_global_data_dir_reaches_keys_and_the_relay(tmp_path: Path):
    data = tmp_path / "data"
    added = nostr_desk("--data-dir", str(data), "keys", "import", "--npub", NPUB)  # watch-only: no keyring
    assert added.returncode == 0, added.stderr
    assert (data / "accounts.json").exists()
    listed = nostr_desk("keys", "list", "--data-dir", str(data))
    assert NPUB in listed.stdout

    relay = subprocess.Popen([console_script(), "--data-dir", str(data), "relay", "--port", "0"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([relay.stdout], [], [], 20)
        first = relay.stdout.readline() if ready else ""
    finally:
        relay.terminate()
        relay.communicate(timeout=15)
    assert "listening on ws://127.0.0.1:" in first
    assert str(data / "events.sqlite3") in first
