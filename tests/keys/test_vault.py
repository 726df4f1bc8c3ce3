"""KeyVault: secure backends only (refusals name the backend and the fix), the real Secret Service,
locked keyrings, errors that never carry a secret, and the stored-secret-matches-pubkey check."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null
from keyring.backends.chainer import ChainerBackend

from nostr_desk.keys.vault import (
    KeyringUnavailable,
    KeyVault,
    NoSecret,
    SecretMismatch,
    VaultError,
    VaultLocked,
)
from nostr_desk.protocol.keys import SecretKey

from .doubles import MEMORY_TRUST, BlabbingKeyring, LockedKeyring, MemoryKeyring


def new_secret() -> SecretKey:
    return SecretKey(os.urandom(32))


class PlaintextKeyring(MemoryKeyring):
    """Stands in for keyrings.alt's plaintext file backend (not installed: it would become the default)."""


PlaintextKeyring.__module__ = "keyrings.alt.file"
KeyringBackend._classes.discard(PlaintextKeyring)


# --- the real Secret Service -----------------------------------------------------------------------
def test_the_test_session_has_a_real_secret_service(secret_service):
    assert type(secret_service).__module__ == "keyring.backends.SecretService"
    vault = KeyVault()  # the default: keyring.get_keyring()
    assert vault.backend_name == "keyring.backends.SecretService.Keyring"


def test_store_load_delete_on_the_real_keyring(real_vault, secret_service, service_name, leaks):
    secret = new_secret()
    pubkey = real_vault.store(secret)
    assert pubkey == secret.public_key
    assert secret_service.get_password(service_name, pubkey) is not None  # really in the keyring
    assert KeyVault(secret_service, service=service_name).load(pubkey) == secret  # another instance reads it
    assert real_vault.delete(pubkey) is True
    assert secret_service.get_password(service_name, pubkey) is None
    assert real_vault.delete(pubkey) is False
    with pytest.raises(NoSecret) as info:
        real_vault.load(pubkey)
    leaks.watch(info.value, real_vault)


def test_a_real_chainer_resolves_to_the_secret_service(secret_service):
    vault = KeyVault(ChainerBackend())
    assert vault.backend_name == "keyring.backends.SecretService.Keyring"


def test_a_locked_real_keyring_says_unlock_it(tmp_path):
    # In a private D-Bus + gnome-keyring of its own (locking the shared test keyring would break
    # other tests): store, lock the collection, and read again. The unlock prompt cannot show
    # (no display), so Secret Service reports it dismissed, as when a user cancels it.
    script = textwrap.dedent(
        """
        import os, secretstorage
        from contextlib import closing
        from nostr_desk.keys.vault import KeyVault, VaultLocked
        from nostr_desk.protocol.keys import SecretKey
        vault = KeyVault(service="nostr-desk-locked-test")
        pubkey = vault.store(SecretKey(os.urandom(32)))
        with closing(secretstorage.dbus_init()) as conn:
            secretstorage.get_default_collection(conn).lock()
        try:
            vault.load(pubkey)
        except VaultLocked as exc:
            assert exc.__context__ is None and exc.__cause__ is None
            print("LOCKED:", exc)
        """
    )
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(home), "XDG_DATA_HOME": str(home / "data")}
    inner = (
        "echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; "
        f'exec {sys.executable} -c "$0"'
    )
    result = subprocess.run(
        ["dbus-run-session", "--", "sh", "-c", inner, script], env=env, capture_output=True, text=True, timeout=60
    )
    assert "LOCKED:" in result.stdout, result.stderr[-2000:]
    assert "Unlock your keyring" in result.stdout
    assert "nostr-desk-locked-test" not in result.stdout  # the service is not the point; the pubkey is named


# --- refusals ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "backend, named, fix",
    [
        (fail.Keyring(), "keyring.backends.fail.Keyring", "gnome-keyring"),
        (null.Keyring(), "keyring.backends.null.Keyring", "PYTHON_KEYRING_BACKEND"),
        (PlaintextKeyring(), "keyrings.alt.file.PlaintextKeyring", "Uninstall keyrings.alt"),
        (MemoryKeyring(), "tests.keys.doubles.MemoryKeyring", "gnome-keyring"),  # untrusted unless vouched for
    ],
)
def test_insecure_backends_are_refused_with_name_and_fix(backend, named, fix, leaks):
    with pytest.raises(KeyringUnavailable) as info:
        KeyVault(backend)
    message = str(info.value)
    leaks.watch(info.value)
    assert named in message and fix in message
    assert "session-only" in message
    assert info.value.backend_name == named


def test_a_subclass_of_a_secure_backend_is_not_trusted():
    from keyring.backends.SecretService import Keyring as SecretService

    class Imitation(SecretService):
        pass

    KeyringBackend._classes.discard(Imitation)
    with pytest.raises(KeyringUnavailable, match="Imitation"):
        KeyVault(Imitation())


def test_a_chainer_without_secure_members_is_refused_naming_them():
    class Chain(ChainerBackend):
        backends = [PlaintextKeyring(), null.Keyring()]  # type: ignore[assignment]

    KeyringBackend._classes.discard(Chain)
    with pytest.raises(KeyringUnavailable) as info:
        KeyVault(Chain())
    assert "keyrings.alt.file.PlaintextKeyring" in str(info.value)
    assert "keyring.backends.null.Keyring" in str(info.value)


def test_a_chainer_uses_its_secure_member_not_the_chain():
    secure = MemoryKeyring()
    plaintext = PlaintextKeyring()

    class Chain(ChainerBackend):
        backends = [plaintext, secure]  # the plaintext one first: writes must still not go there

    KeyringBackend._classes.discard(Chain)
    vault = KeyVault(Chain(), trusted=MEMORY_TRUST)
    vault.store(new_secret())
    assert len(secure.entries) == 1 and plaintext.entries == {}


def test_the_default_test_double_is_not_what_keyring_picks(secret_service):
    # The doubles are kept out of keyring's discovery, so they cannot shadow the real backend.
    assert all(type(b).__module__ != "tests.keys.doubles" for b in keyring.backend.get_all_keyring())


# --- errors never carry the secret ----------------------------------------------------------------
def test_a_locked_backend_gives_unlock_advice(leaks):
    vault = KeyVault(LockedKeyring(), trusted=MEMORY_TRUST)
    for call in (lambda: vault.store(new_secret()), lambda: vault.load("ab" * 32), lambda: vault.has("ab" * 32)):
        with pytest.raises(VaultLocked, match="Unlock your keyring") as info:
            call()
        leaks.watch(info.value)
        assert info.value.__context__ is None and info.value.__cause__ is None


def test_a_backend_error_quoting_the_secret_is_not_passed_on(leaks):
    vault = KeyVault(BlabbingKeyring(), trusted=MEMORY_TRUST)
    secret = new_secret()
    with pytest.raises(VaultError) as info:
        vault.store(secret)
    leaks.watch(info.value)  # the scan checks str, repr, args, cause, context and traceback text
    assert "PasswordSetError" in str(info.value)
    assert info.value.__context__ is None and info.value.__cause__ is None


# --- reads check the secret belongs to the account --------------------------------------------------
def test_a_swapped_entry_is_refused(mem_vault, mem_backend, leaks):
    a, b = new_secret(), new_secret()
    mem_vault.store(a)
    mem_backend.entries[("nostr-desk-test", a.public_key)] = b.secret_bytes().hex()
    with pytest.raises(SecretMismatch, match="different account") as info:
        mem_vault.load(a.public_key)
    leaks.watch(info.value)


@pytest.mark.parametrize("stored", ["", "zz" * 32, "00" * 32, "ff" * 32, "abc"])
def test_a_garbled_entry_is_refused(mem_vault, mem_backend, stored, leaks):
    pubkey = new_secret().public_key
    mem_backend.entries[("nostr-desk-test", pubkey)] = stored
    with pytest.raises(SecretMismatch) as info:
        mem_vault.load(pubkey)
    leaks.watch(info.value)
    assert stored not in str(info.value) or stored == ""


def test_a_swapped_entry_is_refused_on_the_real_keyring(real_vault, secret_service, service_name):
    a, b = new_secret(), new_secret()
    real_vault.store(a)
    secret_service.set_password(service_name, a.public_key, b.secret_bytes().hex())
    with pytest.raises(SecretMismatch):
        real_vault.load(a.public_key)


@pytest.mark.parametrize("bad", ["", "AB" * 32, "npub1xyz", "ab" * 31])
def test_account_names_must_be_hex_pubkeys(mem_vault, bad):
    with pytest.raises(VaultError):
        mem_vault.load(bad)


# --- session-only -------------------------------------------------------------------------------------
def test_session_only_keeps_keys_in_memory_only(secret_service, tmp_path, leaks):
    vault = KeyVault.session_only(service="nostr-desk-test-session")
    secret = new_secret()
    pubkey = vault.store(secret)
    assert vault.is_session_only and vault.load(pubkey) == secret
    assert secret_service.get_password("nostr-desk-test-session", pubkey) is None  # not in the keyring
    assert list(tmp_path.rglob("*")) == []  # nor in any file
    assert not KeyVault.session_only(service="nostr-desk-test-session").has(pubkey)  # nor shared
    leaks.watch(vault)
    assert "session only" in repr(vault)


def test_vault_and_its_session_store_refuse_pickling(mem_vault):
    session = KeyVault.session_only()
    session.store(new_secret())
    for obj in (mem_vault, session, session._backend):
        with pytest.raises(TypeError):
            pickle.dumps(obj)


def test_the_session_store_is_not_a_keyring_choice():
    from nostr_desk.keys.vault import _MemoryBackend

    assert _MemoryBackend not in KeyringBackend._classes


def test_an_unreachable_secret_service_is_reported_as_unavailable(tmp_path):
    # SecretService chosen explicitly, but no D-Bus session behind it (as in a bare ssh login).
    script = textwrap.dedent(
        """
        import os
        from keyring.backends.SecretService import Keyring
        from nostr_desk.keys.vault import KeyVault, KeyringUnavailable
        from nostr_desk.protocol.keys import SecretKey
        try:
            KeyVault(Keyring(), service="nostr-desk-unreachable").store(SecretKey(os.urandom(32)))
        except KeyringUnavailable as exc:
            assert exc.__context__ is None
            print("UNAVAILABLE:", exc)
        """
    )
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path}/no-bus"}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert "UNAVAILABLE:" in result.stdout, result.stderr[-2000:]
    assert "not reachable" in result.stdout and "gnome-keyring" in result.stdout


def test_the_keyring_daemon_stores_the_secret_encrypted_on_disk(real_vault, secret_service):
    from .leakscan import LeakScan

    secret = new_secret()
    real_vault.store(secret)
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    keyring_files = list((data_home / "keyrings").glob("*.keyring"))
    assert keyring_files and all(f.stat().st_size > 0 for f in keyring_files)
    scan = LeakScan(roots=[data_home / "keyrings"])
    scan.add_secret(secret.secret_bytes())
    assert scan.findings() == []
