"""`nostr-desk backfill` from a running `nostr-desk relay` that holds real events: the user's contact
list and the follows' profiles land in the local store; an unreachable relay is named, not hidden."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import RelayProcess, assert_clean_failure, closed_port, nostr_desk


def test_backfill_fills_the_local_store_from_the_relay(relay: RelayProcess, vectors: Path,
                                                         real_event_lines: list[str], tmp_path: Path):
    assert nostr_desk("import", str(vectors / "real-events.jsonl"), "--db", str(relay.db)).returncode == 0
    events = [json.loads(line) for line in real_event_lines]
    contacts = max((e for e in events if e["kind"] == 3), key=lambda e: len(e["tags"]))
    user = contacts["pubkey"]

    data = tmp_path / "data"
    result = nostr_desk("backfill", "--npub", user, "--relay", relay.url, "--budget", "8", "--data-dir", str(data))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1].startswith("done: ")

    exported = nostr_desk("export", "--data-dir", str(data))
    got = [json.loads(line) for line in exported.stdout.splitlines()]
    assert any(e["id"] == contacts["id"] for e in got)  # the user's own contact list
    follows = {t[1] for t in contacts["tags"] if t[0] == "p"}
    assert any(e["kind"] == 0 and e["pubkey"] in follows for e in got)  # and the follows' profiles


def test_backfill_from_an_unreachable_relay_says_so(tmp_path: Path):
    dead = f"ws://127.0.0.1:{closed_port()}"
    result = nostr_desk("backfill", "--npub", "32e1827635450ebb3c5a7d12c1f8e7b2b514439ac10a67eef3d9fd9c5c68e245",
                        "--relay", dead, "--budget", "1", "--data-dir", str(tmp_path / "data"))
    assert f"could not reach {dead}" in assert_clean_failure(result, 3)
