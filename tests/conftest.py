"""Shared fixtures: where the public test vectors live, and loaders for them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent


# CI runs the fuzzers with a fixed seed so a submission's result does not depend on the draw; a
# developer's run keeps exploring new inputs (and hypothesis prints the seed of any failure).
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def shared_dir() -> Path:
    """`../shared` beside the checkout (as in CI), or $NOSTR_DESK_SHARED."""
    return Path(os.environ.get("NOSTR_DESK_SHARED") or ROOT.parent / "shared")


@pytest.fixture(scope="session")
def vectors() -> Path:
    path = shared_dir() / "vectors"
    if not (path / "README.md").exists():
        pytest.fail(f"test vectors not found at {path}: set NOSTR_DESK_SHARED to the shared/ folder")
    return path


def read_jsonl(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def real_event_lines(vectors: Path) -> list[str]:
    return read_jsonl(vectors / "real-events.jsonl")


@pytest.fixture(scope="session")
def sample_event_lines(vectors: Path) -> list[str]:
    return read_jsonl(vectors / "events-sample.jsonl")


@pytest.fixture(scope="session")
def invalid_events(vectors: Path) -> list[dict]:
    return [json.loads(line) for line in read_jsonl(vectors / "events-invalid.jsonl")]
