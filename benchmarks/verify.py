"""Event validation throughput against the floor set by raw BIP-340 verification, on one core.

raw:  coincurve `PublicKeyXOnly.verify` over pre-parsed keys, signatures and ids (nothing else).
full: `parse_verified(bytes)` per event: JSON parse + shape checks, canonical serialization and
      sha256 id check, then the same signature verification.
Both run over the 2,391 real events (../shared/vectors/real-events.jsonl, or $NOSTR_DESK_SHARED),
in interleaved rounds so that machine noise hits both alike. The corpus is timed in chunks of
CHUNK events and each chunk keeps its best round: on a shared machine a whole-corpus pass is
rarely free of preemption, a few milliseconds often are.
Target: full >= 75 % of raw (our overhead on top of the signature check stays small).
"""

from __future__ import annotations

import gc
import os
import time
from pathlib import Path

from coincurve import PublicKeyXOnly

from nostr_desk.protocol.event import parse_verified

ROUNDS = 9
CHUNK = 50
TARGET = 0.75


def corpus_path() -> Path:
    shared = os.environ.get("NOSTR_DESK_SHARED") or Path(__file__).resolve().parent.parent.parent / "shared"
    return Path(shared) / "vectors" / "real-events.jsonl"


def load_lines() -> list[bytes]:
    return [line for line in corpus_path().read_bytes().splitlines() if line.strip()]


def pin_to_one_core() -> str:
    """Run on a single CPU so that the figures are per core (Linux; elsewhere report and go on)."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity)"
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu}"


def raw_chunk(items: list[tuple[PublicKeyXOnly, bytes, bytes]]) -> float:
    start = time.perf_counter()
    for key, msg, sig in items:
        if not key.verify(sig, msg):
            raise AssertionError("a real event failed raw verification")
    return time.perf_counter() - start


def full_chunk(lines: list[bytes]) -> float:
    start = time.perf_counter()
    for line in lines:
        parse_verified(line)
    return time.perf_counter() - start


def measure(lines: list[bytes], rounds: int = ROUNDS, chunk: int = CHUNK) -> tuple[float, float]:
    """(raw verifies/s, full validations/s): per chunk the best of `rounds` interleaved rounds."""
    events = [parse_verified(line) for line in lines]  # also warms the x-only key cache
    items = [(PublicKeyXOnly(bytes.fromhex(e.pubkey)), bytes.fromhex(e.id), bytes.fromhex(e.sig)) for e in events]
    starts = range(0, len(lines), chunk)
    best_raw = [float("inf")] * len(starts)
    best_full = [float("inf")] * len(starts)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(rounds):
            for n, at in enumerate(starts):
                best_raw[n] = min(best_raw[n], raw_chunk(items[at:at + chunk]))
                best_full[n] = min(best_full[n], full_chunk(lines[at:at + chunk]))
    finally:
        if gc_was_enabled:
            gc.enable()
    return len(items) / sum(best_raw), len(lines) / sum(best_full)


def main() -> None:
    where = pin_to_one_core()
    lines = load_lines()
    raw, full = measure(lines)
    ratio = full / raw
    print(f"events: {len(lines)} real events ({sum(map(len, lines)) / 1e6:.2f} MB), {where}, "
          f"best of {ROUNDS} interleaved rounds per {CHUNK}-event chunk")
    print(f"raw coincurve verify:             {raw:9,.0f} /s  ({1e6 / raw:5.1f} us each)")
    print(f"full validation (parse_verified): {full:9,.0f} /s  ({1e6 / full:5.1f} us each)")
    print(f"ratio full/raw:                   {ratio:9.1%}  (target >= {TARGET:.0%}: "
          f"{'met' if ratio >= TARGET else 'MISSED'})")


if __name__ == "__main__":
    main()
