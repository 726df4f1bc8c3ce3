"""The verify benchmark runs and measures the right things (no speed assertions: those are its job)."""

from __future__ import annotations

import pytest
from coincurve import PublicKeyXOnly

from benchmarks import verify as bench
from nostr_desk.protocol.event import Event


@pytest.fixture
def lines(vectors, monkeypatch) -> list[bytes]:
    monkeypatch.setenv("NOSTR_DESK_SHARED", str(vectors.parent))
    return bench.load_lines()


def test_the_benchmark_finds_the_corpus_and_measures_both_rates(lines):
    assert len(lines) == 2391 and all(line.startswith(b'{"id":"') for line in lines)
    raw, full = bench.measure(lines[:30], rounds=2, chunk=7)
    assert raw > 0 and full > 0


def test_the_raw_round_really_verifies(lines):
    ev = Event.from_json(lines[0])
    wrong_message = (PublicKeyXOnly(bytes.fromhex(ev.pubkey)), bytes(32), bytes.fromhex(ev.sig))
    with pytest.raises(AssertionError, match="failed raw verification"):
        bench.raw_chunk([wrong_message])
