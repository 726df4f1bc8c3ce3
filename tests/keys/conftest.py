"""Fixtures for the key tests: the leak scan (on for every test here; it also scans every exception
caught with `pytest.raises` and the repr of every SecretKey, Signer, KeyVault and KeyManager made),
vaults over the in-memory double and over the real Secret Service of the test session, and a CLI
runner (subprocess, secrets on stdin)."""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import uuid
from contextlib import closing
from pathlib import Path

import keyring
import pytest

from nostr_desk.keys.accounts import AccountBook
from nostr_desk.keys.manager import KeyManager
from nostr_desk.keys.signer import Signer
from nostr_desk.keys.vault import KeyVault
from nostr_desk.protocol.keys import SecretKey

from .doubles import MEMORY_TRUST, MemoryKeyring
from .leakscan import LeakScan, RecordingHandler

SECRET_SERVICE = "keyring.backends.SecretService.Keyring"


@pytest.fixture(autouse=True)
def leaks(tmp_path, capfd, monkeypatch):
    """Fails the test if any secret it handled shows up in logs, output, files, reprs or exceptions."""
    scan = LeakScan(roots=[tmp_path])
    original_init = SecretKey.__init__

    def recording_init(self, secret):
        original_init(self, secret)
        scan.add_secret(bytes(secret))
        scan.watch(self)  # its own repr must not show it either

    monkeypatch.setattr(SecretKey, "__init__", recording_init)
    for cls in (Signer, KeyVault, KeyManager):  # every one made during the test has its repr scanned
        monkeypatch.setattr(cls, "__init__", _watching_init(cls.__init__, scan))
    monkeypatch.setattr(pytest, "raises", _watching_raises(pytest.raises, scan))
    handler, root = RecordingHandler(), logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield scan
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    out, err = capfd.readouterr()
    scan.add_text("stdout", out)
    scan.add_text("stderr", err)
    for text in handler.texts:
        scan.add_text("log", text)
    for service in scan.services:
        for secret in harvest_and_clear(service):
            scan.add_secret(secret)
    findings = scan.findings()
    if scan.expected_channels:  # the scanner's self-test planted these
        assert {f.channel for f in findings} == scan.expected_channels, findings
    else:
        assert not findings, f"secret leaked: {findings}"


def _watching_init(original, scan: LeakScan):
    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        scan.watch(self)

    return init


def _watching_raises(original, scan: LeakScan):
    """`pytest.raises` that hands every expected exception (with its chain) to the scan."""

    @contextlib.contextmanager
    def as_context(*args, **kwargs):
        with original(*args, **kwargs) as info:
            yield info
        scan.watch(info.value)

    def raises(*args, **kwargs):
        if len(args) > 1 and callable(args[1]):  # the old call form: raises(Exc, func, *args)
            info = original(*args, **kwargs)
            scan.watch(info.value)
            return info
        return as_context(*args, **kwargs)

    return raises


def harvest_and_clear(service: str) -> list[bytes]:
    """Every secret filed under `service` in the session's Secret Service, deleting the entries."""
    import secretstorage

    found = []
    with closing(secretstorage.dbus_init()) as conn:
        collection = secretstorage.get_default_collection(conn)
        for item in collection.search_items({"service": service}):
            try:
                found.append(bytes.fromhex(item.get_secret().decode()))
            except ValueError:
                pass
            item.delete()
    return found


@pytest.fixture
def mem_backend() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def mem_vault(mem_backend) -> KeyVault:
    return KeyVault(mem_backend, service="nostr-desk-test", trusted=MEMORY_TRUST)


@pytest.fixture
def secret_service():
    """The session's real Secret Service backend. FAILS (never skips) without one: CI provides it."""
    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__qualname__}"
    if name != SECRET_SERVICE:
        pytest.fail(f"keyring.get_keyring() is {name}, not SecretService: run these with ./dev test tests/keys")
    return backend


@pytest.fixture
def service_name(leaks) -> str:
    """A keyring service of this test's own, harvested by the leak scan and emptied afterwards."""
    name = f"nostr-desk-test-{uuid.uuid4().hex[:12]}"
    leaks.services.append(name)
    return name


@pytest.fixture
def real_vault(secret_service, service_name) -> KeyVault:
    return KeyVault(secret_service, service=service_name)


@pytest.fixture(params=["memory", "secret-service"])
def vault(request) -> KeyVault:
    """The same tests over the in-memory double and over the real Secret Service."""
    if request.param == "memory":
        return request.getfixturevalue("mem_vault")
    return request.getfixturevalue("real_vault")


@pytest.fixture
def manager(vault, tmp_path) -> KeyManager:
    return KeyManager(vault, AccountBook(tmp_path / "data" / "accounts.json"))


class Cli:
    """Runs `python -m nostr_desk keys ...` in this keyring session; output goes to the leak scan."""

    def __init__(self, data_dir: Path, service: str, leaks: LeakScan) -> None:
        self.data_dir, self.service, self.leaks = data_dir, service, leaks

    def __call__(self, *args: str, stdin: str = "", check_rc: int | None = 0) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "nostr_desk", "keys", *args]
        cmd += ["--data-dir", str(self.data_dir), "--keyring-service", self.service]
        result = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=60, env=dict(os.environ))
        self.leaks.add_text("stdout", result.stdout)
        self.leaks.add_text("stderr", result.stderr)
        if check_rc is not None:
            assert result.returncode == check_rc, (result.returncode, result.stdout, result.stderr)
        return result


@pytest.fixture
def cli(tmp_path, service_name, secret_service, leaks) -> Cli:
    return Cli(tmp_path / "data", service_name, leaks)
