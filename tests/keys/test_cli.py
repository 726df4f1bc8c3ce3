"""`nostr-desk keys ...` as a user runs it: a subprocess in the test keyring session, secrets on stdin."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest

from nostr_desk.protocol import nip19, nip49
from nostr_desk.protocol.keys import SecretKey


def listed(cli) -> list[dict]:
    return json.loads(cli("list", "--json").stdout)


def test_generate_list_and_the_keyring_entry(cli, secret_service, service_name):
    out = cli("generate", "--label", "main").stdout
    [row] = listed(cli)
    assert row["npub"] in out and row["pubkey"] in out and row["label"] == "main" and row["active"]
    assert not row["watch_only"]
    stored = secret_service.get_password(service_name, row["pubkey"])
    assert SecretKey.from_hex(stored).public_key == row["pubkey"]  # the secret went to the keyring
    assert "export" in out  # reminds the user to make a backup
    text = cli("list").stdout
    assert text.startswith("* " + row["npub"]) and "key in keyring" in text


def test_import_nsec_hex_and_npub(cli, vectors):
    entries = json.loads((vectors / "nip19.json").read_text())
    nsec = next(v for v in entries if v["type"] == "nsec" and v["valid"])
    npub = next(v for v in entries if v["type"] == "npub" and v["valid"])
    hex_secret = SecretKey(os.urandom(32))
    cli("import", "--stdin", "--label", "from-nsec", stdin=nsec["bech32"] + "\n")
    cli("import", "--stdin", stdin=hex_secret.secret_bytes().hex().upper() + "\n")
    cli("import", "--npub", npub["bech32"], "--label", "watched")
    rows = {r["pubkey"]: r for r in listed(cli)}
    assert rows[SecretKey.from_hex(nsec["hex"]).public_key]["label"] == "from-nsec"
    assert not rows[hex_secret.public_key]["watch_only"]
    assert rows[npub["hex"]]["watch_only"] and rows[npub["hex"]]["label"] == "watched"


def test_import_ncryptsec_with_password_on_the_next_line(cli, vectors, secret_service, service_name):
    all_vectors = json.loads((vectors / "nip49.json").read_text())["vectors"]
    v = next(v for v in all_vectors if v["password"].startswith("\u212b"))  # needs NFKC
    out = cli("import", "--stdin", stdin=f"{v['ncryptsec']}\n{v['password']}\n").stdout
    pubkey = SecretKey.from_hex(v["secret_key"]).public_key
    assert nip19.encode_npub(pubkey) in out
    assert secret_service.get_password(service_name, pubkey) == v["secret_key"]
    bad = cli("import", "--stdin", stdin=f"{v['ncryptsec']}\nwrong\n", check_rc=1)
    assert "wrong password" in bad.stderr


def test_export_import_round_trip(cli, tmp_path, secret_service, service_name):
    cli("generate")
    [row] = listed(cli)
    backup = cli("export", "--stdin", stdin="a long passphrase\n").stdout.strip()
    assert backup.startswith("ncryptsec1") and nip19.decode(backup).log_n == 16  # the default cost
    original = secret_service.get_password(service_name, row["pubkey"])
    cli("remove", row["pubkey"], "--yes")
    assert secret_service.get_password(service_name, row["pubkey"]) is None
    cli("import", "--stdin", stdin=f"{backup}\na long passphrase\n")
    assert secret_service.get_password(service_name, row["pubkey"]) == original
    assert nip49.decrypt(backup, "a long passphrase").public_key == row["pubkey"]


def test_export_to_a_new_private_file(cli, tmp_path):
    cli("generate", "--label", "me")
    target = tmp_path / "backup.txt"
    cli("export", "me", "--stdin", "--log-n", "4", "--output", str(target), stdin="pw\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert nip19.decode(target.read_text().strip()).log_n == 4
    again = cli("export", "me", "--stdin", "--output", str(target), stdin="pw\n", check_rc=1)
    assert "exists" in again.stderr


def test_export_refuses_an_empty_password_and_watch_only(cli, vectors):
    cli("generate")
    assert "empty password" in cli("export", "--stdin", stdin="\n", check_rc=1).stderr
    npub = next(v for v in json.loads((vectors / "nip19.json").read_text()) if v["type"] == "npub" and v["valid"])
    cli("import", "--npub", npub["bech32"])
    assert "watch-only" in cli("export", npub["bech32"], "--stdin", stdin="pw\n", check_rc=1).stderr


def test_use_switches_the_active_account(cli):
    cli("generate", "--label", "a")
    cli("generate", "--label", "b")
    assert [r["label"] for r in listed(cli) if r["active"]] == ["a"]
    cli("use", "b")
    assert [r["label"] for r in listed(cli) if r["active"]] == ["b"]
    stranger = SecretKey(os.urandom(32)).public_key
    assert f"no account {stranger}" in cli("use", stranger, check_rc=1).stderr


def test_remove_needs_confirmation(cli, secret_service, service_name):
    cli("generate")
    [row] = listed(cli)
    refused = cli("remove", row["npub"], check_rc=1)  # stdin is not a terminal: cannot ask
    assert "--yes" in refused.stderr
    assert secret_service.get_password(service_name, row["pubkey"]) is not None
    cli("remove", row["npub"], "--yes")
    assert secret_service.get_password(service_name, row["pubkey"]) is None
    assert listed(cli) == []


def test_secrets_are_never_taken_from_arguments(cli):
    secret = SecretKey(os.urandom(32))
    nsec = nip19.encode_nsec(secret)
    attempts = [("use", nsec), ("remove", nsec, "--yes"), ("export", nsec, "--stdin"), ("import", "--npub", nsec)]
    for args in attempts:
        result = cli(*args, stdin="pw\n", check_rc=1)
        assert "never put one on the command line" in result.stderr
        assert nsec not in result.stderr + result.stdout
    positional = cli("import", nsec, check_rc=1)  # refused, and not echoed as argparse would
    assert "never put a secret key on the command line" in positional.stderr
    assert listed(cli) == []


def test_without_a_terminal_it_asks_for_stdin(cli):
    result = cli("import", check_rc=1, stdin="")
    assert "--stdin" in result.stderr


@pytest.mark.parametrize(
    "backend, expected",
    [("keyring.backends.fail.Keyring", "gnome-keyring"), ("keyring.backends.null.Keyring", "discards secrets")],
)
def test_no_secure_keyring_is_a_clear_error(cli, tmp_path, backend, expected, leaks):
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": backend}
    for args, stdin in ((["generate"], ""), (["import", "--stdin"], "ab" * 32 + "\n")):
        cmd = [sys.executable, "-m", "nostr_desk", "keys", *args, "--data-dir", str(tmp_path / "d")]
        result = subprocess.run(cmd, input=stdin, env=env, capture_output=True, text=True, timeout=60)
        leaks.add_text("stdout", result.stdout)
        leaks.add_text("stderr", result.stderr)
        assert result.returncode == 3, result.stderr
        assert backend in result.stderr and expected in result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "d" / "accounts.json").exists()
    # Listing needs no keyring: it is metadata only.
    cmd = [sys.executable, "-m", "nostr_desk", "keys", "list", "--data-dir", str(tmp_path / "d")]
    assert subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60).returncode == 0


def test_a_locked_keyring_tells_the_user_to_unlock_it(tmp_path, leaks):
    # Its own D-Bus + gnome-keyring (locking the shared test keyring would break other tests).
    home = tmp_path / "home"
    home.mkdir()
    data = tmp_path / "data"
    keys = f"{sys.executable} -m nostr_desk keys"
    lock = (
        "import secretstorage; from contextlib import closing\n"
        "with closing(secretstorage.dbus_init()) as c: secretstorage.get_default_collection(c).lock()"
    )
    script = (
        "echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; "
        f"{keys} import --stdin --data-dir {data} >/dev/null && {sys.executable} -c \"$0\" && "
        f"echo pw | {keys} export --stdin --data-dir {data}; echo rc=$?"
    )
    env = {**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(home), "XDG_DATA_HOME": str(home / "data")}
    result = subprocess.run(
        ["dbus-run-session", "--", "sh", "-c", script, lock],
        input=SecretKey(os.urandom(32)).secret_bytes().hex() + "\n",  # known to the scan, so it is looked for
        env=env, capture_output=True, text=True, timeout=90,
    )
    leaks.add_text("stdout", result.stdout)
    leaks.add_text("stderr", result.stderr)
    assert "rc=3" in result.stdout, result.stderr[-2000:]
    assert "Unlock your keyring" in result.stderr
    assert "Traceback" not in result.stderr
