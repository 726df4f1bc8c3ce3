"""Export -> import round trip, import verification and bad-line reporting, and the CLI commands
(export, import, compact, prune) run as real subprocesses."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from nostr_desk.protocol.event import Event
from nostr_desk.protocol.filters import Filter
from nostr_desk.store import EventStore, SaveOutcome, StoreConfig
from nostr_desk.store.transfer import export_store, import_jsonl

from .conftest import ALICE, BOB, NOW, make

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nostr_desk", *args], input=stdin, capture_output=True, cwd=ROOT, timeout=100)


def test_export_import_round_trip(tmp_path, real_event_lines):
    evs = [Event.from_json(line) for line in real_event_lines[:400]]
    with EventStore.open(StoreConfig(path=tmp_path / "a.sqlite3")) as a:
        a.save_many(evs, now=NOW)
        want = sorted(a.query([Filter()], now=NOW))
        buf = io.BytesIO()
        seen = []
        assert export_store(a, buf, lambda done, total: seen.append((done, total))) == len(want)
    assert seen[-1] == (len(want), len(want))
    lines = buf.getvalue().splitlines(keepends=True)
    assert len(lines) == len(want)
    progress = []
    with EventStore.open(StoreConfig(path=tmp_path / "b.sqlite3")) as b:
        report = import_jsonl(b, iter(lines), chunk=50, total_bytes=len(buf.getvalue()), progress=lambda d, t: progress.append((d, t)))
        assert report.bad_count == 0 and report.saved == len(want)
        assert sorted(b.query([Filter()], now=NOW)) == want
        again = import_jsonl(b, iter(lines))
        assert again.outcomes[SaveOutcome.DUPLICATE] == len(want) and again.saved == 0
    assert progress[-1] == (len(buf.getvalue()), len(buf.getvalue()))
    assert len(progress) >= len(want) // 50


def test_import_reports_bad_lines_by_number(tmp_path, invalid_events):
    good = [make(content=f"good {i}") for i in range(3)]
    broken = [json.dumps({k: v for k, v in e.items() if k != "_defect"}).encode() for e in invalid_events[:5]]
    lines = [good[0].to_bytes(), b"not json", broken[0], b"", good[1].to_bytes(), *broken[1:], good[2].to_bytes()]
    with EventStore.open(StoreConfig(path=tmp_path / "c.sqlite3")) as s:
        report = import_jsonl(s, iter(line + b"\n" for line in lines))
        assert report.saved == 3
        bad_lines = [n for n, _ in report.bad]
        assert bad_lines == [2, 3, 6, 7, 8, 9]
        assert all(reason.startswith("invalid:") for _, reason in report.bad)
        assert s.count([Filter()], now=NOW) == 3


def test_cli_import_export_round_trip(tmp_path, sample_event_lines):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(sample_event_lines[:20]) + "\nnot an event\n")
    db = tmp_path / "cli.sqlite3"
    r = cli("import", str(src), "--db", str(db), "--source", "wss://relay.example")
    assert r.returncode == 1, r.stderr  # one bad line
    assert b"line 21: invalid:" in r.stderr
    assert b"invalid" in r.stdout and b"saved" in r.stdout
    out = tmp_path / "out.jsonl"
    r = cli("export", "--db", str(db), "-o", str(out))
    assert r.returncode == 0, r.stderr
    exported = {Event.from_json(line).id for line in out.read_text().splitlines()}
    wanted = {Event.from_json(line).id for line in sample_event_lines[:20]}
    with EventStore.open(StoreConfig(path=db)) as s:
        stored = {Event.from_json(raw).id for raw in s.query([Filter()], now=2**40)}
        assert s.relays_of(next(iter(stored))) [0][0] == "wss://relay.example"
    assert exported == stored and stored <= wanted and len(stored) >= 15
    r = cli("export", "--db", str(db))  # to stdout
    assert r.returncode == 0 and len(r.stdout.splitlines()) == len(stored)
    r = cli("import", "-", "--db", str(tmp_path / "d.sqlite3"), stdin=out.read_bytes())
    assert r.returncode == 0, r.stderr


def test_cli_missing_store_is_a_clear_error(tmp_path):
    for cmd in ("export", "compact"):
        r = cli(cmd, "--db", str(tmp_path / "nope.sqlite3"))
        assert r.returncode == 2 and b"no event store" in r.stderr
    r = cli("prune", "--db", str(tmp_path / "nope.sqlite3"))
    assert r.returncode == 2 and b"--quota" in r.stderr


def test_cli_prune_and_compact(tmp_path):
    db = tmp_path / "p.sqlite3"
    with EventStore.open(StoreConfig(path=db)) as s:
        s.save_many([make(BOB, content="x" * 500 + str(i), created_at=NOW - 1000 + i) for i in range(300)])
        s.save_many([make(ALICE, content="mine"), make(BOB, kind=0, content="profile")])
    r = cli("prune", "--db", str(db), "--max-events", "50", "--owner", ALICE.public_key, "--compact")
    assert r.returncode == 0, r.stderr
    assert b"removed 252 events" in r.stdout
    r = cli("compact", "--db", str(db))
    assert r.returncode == 0 and b"compacted" in r.stdout
    with EventStore.open(StoreConfig(path=db)) as s:
        assert s.stats().events == 50
        assert s.count([Filter(authors=frozenset({ALICE.public_key}))], now=NOW) == 1
    r = cli("prune", "--db", str(db), "--max-events", "1", "--owner", "zz")
    assert r.returncode == 2 and b"not a hex public key" in r.stderr


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_VALID = [make(content=f"valid {i}", created_at=NOW - i) for i in range(4)]
_LINES = st.lists(st.one_of(st.binary(max_size=200), st.sampled_from([e.to_bytes() for e in _VALID]),
                            st.sampled_from([e.to_bytes()[:-3] + b"}}" for e in _VALID])), max_size=12)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=_LINES)
def test_import_of_arbitrary_lines_never_crashes(tmp_path_factory, lines):
    db = tmp_path_factory.mktemp("fuzz") / "f.sqlite3"
    with EventStore.open(StoreConfig(path=db)) as s:
        report = import_jsonl(s, iter(lines))
        good = {e.to_bytes() for e in _VALID}
        valid_lines = [ln for ln in lines if ln in good]
        assert report.saved == len(set(valid_lines))
        assert report.saved + report.outcomes[SaveOutcome.DUPLICATE] == len(valid_lines)
        assert report.bad_count == sum(1 for ln in lines if ln.strip() and ln not in good)
        assert [n for n, _ in report.bad] == [i for i, ln in enumerate(lines, 1) if ln.strip() and ln not in good]
