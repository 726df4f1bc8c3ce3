"""The `nostr-desk` console script: --version, --help, and `verify FILE` on good and broken event files.

One test runs the installed script from .venv/bin as a subprocess (proving the entry point is
wired); the rest call `cli.main` in-process, which is the same code without the start-up cost.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nostr_desk import __version__
from nostr_desk.app.cli import main

SCRIPT = Path(sys.executable).parent / "nostr-desk"


@pytest.fixture
def good_file(tmp_path, sample_event_lines) -> Path:
    path = tmp_path / "good.jsonl"
    path.write_text("\n".join(sample_event_lines[:5]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def bad_file(tmp_path, sample_event_lines) -> Path:
    forged = json.loads(sample_event_lines[2])
    forged["content"] += "!"  # changed after signing: the id no longer matches
    lines = [*sample_event_lines[:3], json.dumps(forged, ensure_ascii=False), "", "not json", sample_event_lines[3]]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_installed_script(bad_file):
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=60)

    version = run("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"nostr-desk {__version__}"
    bad = run("verify", str(bad_file))
    assert bad.returncode == 1
    out = bad.stdout.splitlines()
    assert out[0] == "line 4: invalid: event id does not match its content"
    assert out[1].startswith("line 6: invalid: malformed event: JSON is malformed")  # msgspec's wording
    assert out[2:] == ["4 valid, 2 invalid"]


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: nostr-desk") and "verify" in out and "--version" in out


def test_verify_a_good_file(good_file, capsys):
    assert main(["verify", str(good_file)]) == 0
    assert capsys.readouterr().out == "5 valid, 0 invalid\n"


def test_verify_reads_standard_input(good_file, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", open(good_file, encoding="utf-8"))
    try:
        assert main(["verify", "-"]) == 0
    finally:
        sys.stdin.close()
    assert capsys.readouterr().out == "5 valid, 0 invalid\n"


def test_version_in_process(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"nostr-desk {__version__}\n"
    with pytest.raises(SystemExit) as info:
        main(["verify", "--help"])
    assert info.value.code == 0
    assert "JSONL" in capsys.readouterr().out


def test_verify_every_real_event(tmp_path, vectors, capsys):
    assert main(["verify", "-q", str(vectors / "real-events.jsonl")]) == 0
    assert capsys.readouterr().out == "2391 valid, 0 invalid\n"


def test_verify_names_each_bad_line_and_its_reason(tmp_path, invalid_events, capsys):
    path = tmp_path / "invalid.jsonl"
    path.write_text("\n".join(json.dumps({k: v for k, v in e.items() if k != "_defect"}) for e in invalid_events))
    assert main(["verify", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "0 valid, 40 invalid"
    assert [line.split(":")[0] for line in lines[:-1]] == [f"line {n}" for n in range(1, 41)]
    assert all(": invalid: " in line for line in lines[:-1])


def test_verify_quiet_prints_only_the_summary(bad_file, capsys):
    assert main(["verify", "--quiet", str(bad_file)]) == 1
    assert capsys.readouterr().out == "4 valid, 2 invalid\n"


def test_verify_a_missing_file_is_a_clear_error(tmp_path, capsys):
    assert main(["verify", str(tmp_path / "nope.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "cannot read" in err and "nope.jsonl" in err


def test_verify_an_empty_file(tmp_path, capsys):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n")
    assert main(["verify", str(path)]) == 0
    assert capsys.readouterr().out == "0 valid, 0 invalid\n"
