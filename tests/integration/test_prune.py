"""`nostr-desk prune` keeps the user's own events without being told: the accounts of the data folder
are owners, as are `--owner` npubs/hex keys."""

from __future__ import annotations

import json
from pathlib import Path

from nostr_desk.protocol import nip19

from .conftest import nostr_desk


def _events_of(db: Path, pubkey: str) -> int:
    exported = nostr_desk("export", "--db", str(db))
    assert exported.returncode == 0, exported.stderr
    return sum(json.loads(line)["pubkey"] == pubkey for line in exported.stdout.splitlines())


def test_prune_keeps_the_data_folders_accounts(vectors: Path, real_event_lines: list[str], tmp_path: Path):
    kind1 = [json.loads(line) for line in real_event_lines if '"kind":1,' in line]
    author = kind1[len(kind1) // 2]["pubkey"]
    plain, mine = tmp_path / "plain.sqlite3", tmp_path / "mine.sqlite3"
    for db in (plain, mine):
        assert nostr_desk("import", str(vectors / "real-events.jsonl"), "--db", str(db)).returncode == 0
    before = _events_of(plain, author)
    watched = nostr_desk("keys", "import", "--npub", nip19.encode_npub(author), "--data-dir", str(tmp_path / "data"))
    assert watched.returncode == 0, watched.stderr

    for db, folder in ((plain, "no-accounts"), (mine, "data")):
        pruned = nostr_desk("prune", "--max-events", "10", "--db", str(db), "--data-dir", str(tmp_path / folder))
        assert pruned.returncode == 0 and pruned.stdout.startswith("removed "), pruned.stderr
    assert _events_of(mine, author) == before  # the account's events all stayed
    assert _events_of(plain, author) < before  # without an account they were fair game
