"""Wrong input to every command ends in a clear message and a non-zero exit, never a traceback:
missing and garbage files, a file that is not an event store, bad URLs and ports, bad keys."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from .conftest import assert_clean_failure, nostr_desk

# (argv with {tmp} for the test's folder, expected exit code, words the message must hold)
CASES = [
    (["import", "{tmp}/missing.jsonl", "--db", "{tmp}/ok.sqlite3"], 1, "No such file"),
    (["import", "{tmp}", "--db", "{tmp}/ok.sqlite3"], 1, "Is a directory"),
    (["import", "{tmp}/garbage.bin", "--db", "{tmp}/ok.sqlite3"], 1, "invalid"),
    (["import", "{tmp}/garbage.bin", "--db", "{tmp}/garbage.bin"], 1, "not a database"),
    (["import", "{tmp}/store.sqlite3", "--db", "{tmp}/ok.sqlite3"], 1, "is an SQLite database"),
    (["export", "--db", "{tmp}/garbage.bin"], 1, "not a database"),
    (["export", "--db", "{tmp}/missing.sqlite3"], 2, "no event store"),
    (["compact", "--db", "{tmp}/garbage.bin"], 1, "not a database"),
    (["prune", "--max-events", "1", "--db", "{tmp}/garbage.bin"], 1, "not a database"),
    (["relay", "--port", "0", "--db", "{tmp}/garbage.bin"], 1, "not a database"),
    (["relay", "--port", "70000", "--db", "{tmp}/ok.sqlite3"], 2, "not a port"),
    (["verify", "{tmp}/missing.jsonl"], 2, "No such file"),
    (["verify", "{tmp}/garbage.bin"], 1, "invalid"),
    (["decode", "npub1notbech32"], 2, "bech32"),
    (["monitor", "http://127.0.0.1:1", "--duration", "1"], 2, "ws://"),
    (["monitor", "relay.example.com", "--duration", "1"], 2, "ws://"),
    (["post", "hi", "--relay", "https://example.com", "--data-dir", "{tmp}/data"], 2, "ws://"),
    (["keys", "import", "--stdin", "--data-dir", "{tmp}/data", "--npub", "npub1garbage"], 1, "npub"),
    (["keys", "use", "nobody", "--data-dir", "{tmp}/data"], 1, "label"),
]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "garbage.bin").write_bytes(bytes(range(256)) * 40)  # neither JSON lines nor SQLite
    with sqlite3.connect(tmp_path / "store.sqlite3") as db:  # an SQLite file given where JSONL is expected
        db.execute("CREATE TABLE t (x)")
    db.close()
    return tmp_path


@pytest.mark.parametrize(("argv", "code", "words"), CASES, ids=[" ".join(c[0][:2]) + f"-{i}" for i, c in
                                                                 enumerate(CASES)])
def test_bad_input_is_one_clear_refusal(folder: Path, argv: list[str], code: int, words: str):
    result = nostr_desk(*[a.replace("{tmp}", str(folder)) for a in argv], timeout=20)
    assert_clean_failure(result, code)
    assert words.lower() in (result.stdout + result.stderr).lower()


def test_garbage_is_not_written_into_a_new_store(folder: Path):
    nostr_desk("import", str(folder / "garbage.bin"), "--db", str(folder / "new.sqlite3"))
    exported = nostr_desk("export", "--db", str(folder / "new.sqlite3"))
    assert exported.returncode == 0 and exported.stdout == ""


def test_the_window_without_a_display_is_refused_in_one_line(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = nostr_desk("--data-dir", str(tmp_path / "data"), env=env)
    assert "no display" in assert_clean_failure(result, 2)  # not Qt's abort (exit -6) and its plugin dump


def test_a_keyring_backend_that_is_not_installed_is_named_not_a_traceback(tmp_path: Path):
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring")  # keyrings.alt: absent
    result = nostr_desk("keys", "generate", "--data-dir", str(tmp_path / "data"), env=env)
    assert "PYTHON_KEYRING_BACKEND" in assert_clean_failure(result, 3)


def test_a_failed_export_leaves_an_earlier_backup_alone(folder: Path):
    backup = folder / "backup.jsonl"
    backup.write_text("an earlier backup\n")
    result = nostr_desk("export", "--db", str(folder / "garbage.bin"), "-o", str(backup))
    assert_clean_failure(result, 1)
    assert backup.read_text() == "an earlier backup\n"  # it was truncated before the store failed to open
    leftovers = sorted(p.name for p in folder.iterdir())
    assert leftovers == ["backup.jsonl", "garbage.bin", "store.sqlite3"]  # no partial file left behind
