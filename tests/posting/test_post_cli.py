"""End to end: `nostr-desk post` as a subprocess, a key in the real keyring, two relay processes on
127.0.0.1 — one of them down at first. Run under the test session (`./dev test tests/posting`)."""

from __future__ import annotations

import hashlib
import os
import re
import select
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import keyring
import pytest

from nostr_desk.protocol.keys import SecretKey
from nostr_desk.store import EventStore, StoreConfig

from .conftest import free_port

SECRET_SERVICE = "keyring.backends.SecretService.Keyring"
SECRET = SecretKey(hashlib.sha256(b"post-cli").digest())


def nostr_desk(*args: str, stdin: str = "", timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nostr_desk", *args], input=stdin, capture_output=True,
                          text=True, timeout=timeout, env=dict(os.environ))


class RelayProcess:
    """`nostr-desk relay` on a fixed port with its own store file."""

    def __init__(self, tmp: Path, name: str) -> None:
        self.db = tmp / f"{name}.sqlite3"
        self.data = tmp / f"{name}-data"
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> RelayProcess:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nostr_desk", "relay", "--port", str(self.port), "--db", str(self.db),
             "--data-dir", str(self.data)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        end = time.monotonic() + 30
        while time.monotonic() < end:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if ready:
                line = self.proc.stdout.readline()
                if "listening" in line:
                    return self
                if not line and self.proc.poll() is not None:
                    break
        raise AssertionError(f"relay on port {self.port} did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def has(self, event_id: str) -> bool:
        store = EventStore.open(StoreConfig(path=self.db))
        try:
            return store.get(event_id) is not None
        finally:
            store.close()


@pytest.fixture
def account(tmp_path):
    """A key imported into the session's real keyring under a private service; removed afterwards."""
    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__qualname__}"
    if name != SECRET_SERVICE:
        pytest.fail(f"keyring.get_keyring() is {name}, not SecretService: run this with ./dev test tests/posting")
    data = tmp_path / "data"
    service = f"nostr-desk-test-{uuid.uuid4().hex[:12]}"
    common = ["--data-dir", str(data), "--keyring-service", service]
    imported = nostr_desk("keys", "import", "--stdin", *common, stdin=SECRET.secret_bytes().hex() + "\n")
    assert imported.returncode == 0, imported.stderr
    yield common
    nostr_desk("keys", "remove", SECRET.public_key, "--yes", *common)


def _posted_id(output: str) -> str:
    match = re.search(r"stored locally: note1\w+ \(([0-9a-f]{64})\)", output)
    assert match, output
    return match.group(1)


def test_post_reaches_the_live_relay_now_and_the_other_when_it_is_back(tmp_path, account):
    live, late = RelayProcess(tmp_path, "live").start(), RelayProcess(tmp_path, "late")
    try:
        first = nostr_desk("post", "hello from the command line", "--relay", live.url, "--relay", late.url,
                           "--wait", "1", *account)
        assert first.returncode == 0, first.stdout + first.stderr
        assert "accepted by 1 of 2 relays" in first.stdout
        assert re.search(rf"{re.escape(late.url)}\s+pending", first.stdout)
        note_id = _posted_id(first.stdout)
        local = EventStore.open(StoreConfig(path=tmp_path / "data" / "events.sqlite3"))
        try:
            assert local.get(note_id) is not None  # in the local store at once
        finally:
            local.close()
        assert live.has(note_id)

        late.start()
        again = nostr_desk("post", "--wait", "5", *account)  # no text: deliver what is left
        assert again.returncode == 0, again.stdout + again.stderr
        assert f"earlier {note_id}: accepted by 2 of 2 relays" in again.stdout
        late.stop()
        assert late.has(note_id)
    finally:
        live.stop()
        late.stop()


def test_all_relays_down_means_queued_then_delivered_by_the_next_run(tmp_path, account):
    relay = RelayProcess(tmp_path, "later")
    try:
        queued = nostr_desk("post", "nobody home", "--relay", relay.url, "--wait", "0.5", *account)
        assert queued.returncode == 3, queued.stdout + queued.stderr
        assert "accepted by 0 of 1 relays" in queued.stdout
        note_id = _posted_id(queued.stdout)
        relay.start()
        reply = nostr_desk("post", "answering myself", "--reply-to", note_id, "--relay", relay.url,
                           "--wait", "5", *account)
        assert reply.returncode == 0, reply.stdout + reply.stderr
        assert f"earlier {note_id}: accepted by 1 of 1 relays" in reply.stdout
        relay.stop()
        assert relay.has(note_id) and relay.has(_posted_id(reply.stdout))
    finally:
        relay.stop()


def test_bad_relay_url_and_missing_account_are_clear(tmp_path):
    bad = nostr_desk("post", "x", "--relay", "http://nope", "--data-dir", str(tmp_path / "d"))
    assert bad.returncode == 2 and "nostr-desk post:" in bad.stderr
