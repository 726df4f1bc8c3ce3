"""Import, serve, export: real events imported with `nostr-desk import` into the store of a running
`nostr-desk relay` are served to a websockets client, and `nostr-desk export` writes them back out,
byte for byte as received, in a file `nostr-desk verify` and a second import accept."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from .conftest import RelayProcess, fetch, nostr_desk


def test_imported_events_are_served_by_the_running_relay_and_export_round_trips(
        relay: RelayProcess, vectors: Path, real_event_lines: list[str], tmp_path: Path):
    source = vectors / "real-events.jsonl"
    imported = nostr_desk("import", str(source), "--db", str(relay.db), "--source", "wss://vectors.example")
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.startswith(f"{len(real_event_lines)} lines, ")
    assert "0 invalid" in imported.stdout

    # The relay, running all along on the same file, serves what was imported.
    by_author = Counter(json.loads(line)["pubkey"] for line in real_event_lines)
    author = max(sorted(by_author), key=by_author.__getitem__)
    served = fetch(relay.url, [{"authors": [author], "kinds": [1], "limit": 20}])
    assert served and all(e["pubkey"] == author and e["kind"] == 1 for e in served)
    assert [e["created_at"] for e in served] == sorted((e["created_at"] for e in served), reverse=True)

    out = tmp_path / "export.jsonl"
    exported = nostr_desk("export", "--db", str(relay.db), "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    lines = out.read_text().splitlines()
    assert f"exported {len(lines)} events" in exported.stderr
    # Each exported line is a line of the input exactly as received (raw JSON kept, never re-encoded);
    # what is missing is only what the store must drop (expired, ephemeral, replaced).
    assert set(lines) <= set(real_event_lines)
    assert len(lines) > 0.9 * len(real_event_lines)
    assert {e["id"] for e in served} <= {json.loads(line)["id"] for line in lines}

    checked = nostr_desk("verify", "--quiet", str(out))
    assert checked.returncode == 0 and checked.stdout.strip() == f"{len(lines)} valid, 0 invalid"

    again = nostr_desk("import", str(out), "--db", str(tmp_path / "copy.sqlite3"))
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(f"{len(lines)} lines, {len(lines)} saved")

    code, _, err = relay.interrupt()
    assert code == 0, err
