"""The leak scan's self-test: a secret planted in each channel must be found there, and only there."""

from __future__ import annotations

import logging
import os
import sys

import pytest

from nostr_desk.protocol import nip19
from nostr_desk.protocol.keys import SecretKey

from .leakscan import LeakScan, secret_forms


def test_planted_leaks_are_found_in_every_channel(leaks, tmp_path):
    secret = SecretKey(os.urandom(32))  # recorded by the scan's constructor hook
    raw = secret.secret_bytes()
    leaks.expected_channels = {"log", "stdout", "stderr", "file", "repr", "exception"}

    logging.getLogger("some.library").debug("connecting with key %s", raw.hex())  # via args, at DEBUG
    print(nip19.encode_nsec(secret))
    os.write(2, raw.hex().upper().encode())  # fd-level, as a C library or subprocess would
    (tmp_path / "deep" / "er").mkdir(parents=True)
    (tmp_path / "deep" / "er" / "dump.bin").write_bytes(b"\x00" + raw + b"\x00")  # raw bytes in a file

    class Holder:
        def __repr__(self):
            return f"Holder({raw!r})"  # the bytes' repr

    leaks.watch(Holder())
    try:
        try:
            raise KeyError(raw.hex())
        except KeyError:
            raise RuntimeError("harmless outer message") from None  # hidden context still counts
    except RuntimeError as exc:
        leaks.watch(exc)
    sys.stdout.flush()


def test_exceptions_caught_with_pytest_raises_are_scanned(leaks):
    secret = SecretKey(os.urandom(32))
    leaks.expected_channels = {"exception"}
    with pytest.raises(ValueError):
        try:
            raise LookupError(nip19.encode_nsec(secret))
        except LookupError as exc:
            raise ValueError("clean message") from exc  # the leak is in the cause


def test_scan_without_leaks_finds_nothing(tmp_path):
    scan = LeakScan(roots=[tmp_path])
    scan.add_secret(os.urandom(32))
    (tmp_path / "f").write_text("nothing to see")
    scan.add_text("log", "a message")
    scan.watch(ValueError("plain"), object())
    assert scan.findings() == []


def test_each_form_is_found_alone(tmp_path):
    secret = os.urandom(32)
    for form, needle in secret_forms(secret).items():
        scan = LeakScan()
        scan.add_secret(secret)
        if form == "raw":
            (tmp_path / form).write_bytes(needle)
            scan.roots.append(tmp_path)
        else:
            scan.add_text("log", "x" + needle.decode("latin-1") + "y")
        assert [f.form for f in scan.findings()] == [form], form
        (tmp_path / form).unlink(missing_ok=True)
