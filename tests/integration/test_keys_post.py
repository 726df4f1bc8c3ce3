"""A new user's first note: `nostr-desk keys generate`, then `nostr-desk post` to a running
`nostr-desk relay`, and a websockets client sees the note there, signed by the new key. The key lives
in the session's real Secret Service (run with `./dev test tests/integration`)."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from websockets.sync.client import connect

from nostr_desk.protocol import nip19
from nostr_desk.protocol.event import parse_verified

from .conftest import RelayProcess, assert_clean_failure, closed_port, console_script, fetch, nostr_desk

SECRET_SERVICE = "keyring.backends.SecretService.Keyring"


@pytest.fixture
def keyring_options(tmp_path: Path) -> Iterator[list[str]]:
    """--data-dir and a private keyring service name, so the test never touches a real account."""
    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__qualname__}"
    if name != SECRET_SERVICE:
        pytest.fail(f"keyring.get_keyring() is {name}, not SecretService: run ./dev test tests/integration")
    options = ["--data-dir", str(tmp_path / "data"), "--keyring-service", f"nostr-desk-qa-{uuid.uuid4().hex[:12]}"]
    yield options
    listed = nostr_desk("keys", "list", "--json", *options[:2])
    for pubkey in re.findall(r'"pubkey": "([0-9a-f]{64})"', listed.stdout):
        nostr_desk("keys", "remove", pubkey, "--yes", *options)


def test_generate_a_key_and_post_a_note_that_reaches_the_relay(relay: RelayProcess, keyring_options):
    generated = nostr_desk("keys", "generate", "--label", "qa", *keyring_options)
    assert generated.returncode == 0, generated.stderr
    pubkey = re.search(r"^pubkey ([0-9a-f]{64})$", generated.stdout, re.M).group(1)
    assert nip19.encode_npub(pubkey) in generated.stdout

    posted = nostr_desk("post", "hello from a fresh install", "--relay", relay.url, "--wait", "5", *keyring_options)
    assert posted.returncode == 0, posted.stdout + posted.stderr
    assert "accepted by 1 of 1 relays" in posted.stdout
    note_id = re.search(r"stored locally: note1\w+ \(([0-9a-f]{64})\)", posted.stdout).group(1)

    [event] = fetch(relay.url, [{"authors": [pubkey]}])
    assert event["id"] == note_id and event["kind"] == 1
    assert event["content"] == "hello from a fresh install"
    parse_verified(json.dumps(event))  # a valid signature by the new key

    empty = nostr_desk("post", "", "--relay", relay.url, "--wait", "1", *keyring_options)
    assert "nothing to post" in assert_clean_failure(empty, 1)  # not a silent success

    code, out, err = relay.interrupt()
    assert code == 0 and "relay stopped" in out, err


def test_without_a_keyring_keys_and_post_say_so_in_plain_words(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    env.pop("PYTHON_KEYRING_BACKEND", None)  # let keyring look for itself: it finds no Secret Service
    data = ["--data-dir", str(tmp_path / "data")]
    generated = nostr_desk("keys", "generate", *data, env=env)
    assert "No secure keyring is available" in generated.stderr
    assert_clean_failure(generated, 3)
    posted = nostr_desk("post", "hello", "--relay", f"ws://127.0.0.1:{closed_port()}", *data, env=env)
    assert_clean_failure(posted)


def test_a_queued_note_keeps_exit_3_until_a_relay_takes_it(tmp_path: Path, keyring_options):
    assert nostr_desk("keys", "generate", *keyring_options).returncode == 0
    port = closed_port()
    url = f"ws://127.0.0.1:{port}"
    queued = nostr_desk("post", "for later", "--relay", url, "--wait", "0.5", *keyring_options)
    assert queued.returncode == 3, queued.stdout + queued.stderr
    note_id = re.search(r"\(([0-9a-f]{64})\)", queued.stdout).group(1)

    still = nostr_desk("post", "--wait", "0.5", *keyring_options)  # retry only, relay still down
    assert f"earlier {note_id}: accepted by 0 of 1 relays" in still.stdout
    assert still.returncode == 3, still.stdout + still.stderr

    relay = RelayProcess(tmp_path / "late.sqlite3", port=port)
    try:
        done = nostr_desk("post", "--wait", "5", *keyring_options)
        assert f"earlier {note_id}: accepted by 1 of 1 relays" in done.stdout
        assert done.returncode == 0, done.stdout + done.stderr
        assert [e["id"] for e in fetch(relay.url, [{"ids": [note_id]}])] == [note_id]
    finally:
        relay.kill()


def test_a_live_subscriber_of_the_local_relay_sees_a_note_posted_from_the_same_data_folder(tmp_path: Path,
                                                                                        keyring_options):
    data = Path(keyring_options[1])
    relay = RelayProcess(data / "events.sqlite3")  # the relay of the user's own data folder, as by default
    try:
        assert nostr_desk("keys", "generate", *keyring_options).returncode == 0
        with connect(relay.url, open_timeout=10) as client:
            client.send(json.dumps(["REQ", "live", {"kinds": [1], "limit": 0}]))
            while json.loads(client.recv(timeout=10))[0] != "EOSE":
                pass
            posted = nostr_desk("post", "live?", "--relay", relay.url, "--wait", "5", *keyring_options)
            assert posted.returncode == 0, posted.stdout + posted.stderr
            pushed = []
            try:
                while not pushed:
                    message = json.loads(client.recv(timeout=3))
                    pushed += [m for m in [message] if m[0] == "EVENT"]
            except TimeoutError:
                pass
        assert pushed and pushed[0][2]["content"] == "live?"
    finally:
        relay.kill()


def _at_a_terminal(argv: list[str], answer: bytes, timeout: float = 20) -> tuple[int, str]:
    """Run argv with a pseudo-terminal as its controlling terminal (getpass reads /dev/tty); type
    `answer` at the first prompt. (exit code, everything it wrote)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: exec at once (nothing else runs between fork and exec)
        os.execv(argv[0], argv)
    out, typed, end = b"", False, time.monotonic() + timeout
    try:
        while time.monotonic() < end:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
            if not typed and out.rstrip().endswith(b":"):
                os.write(fd, answer)
                typed = True
    finally:
        if time.monotonic() >= end:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


def test_ctrl_d_at_a_key_prompt_cancels_without_a_traceback(keyring_options):
    code, shown = _at_a_terminal([console_script(), "keys", "import", *keyring_options], b"\x04")
    assert "Secret key" in shown and "cancelled" in shown and "Traceback" not in shown
    assert code == 1
