"""KeyManager over the in-memory double and the real Secret Service: every import format, the NIP-49
vectors, export -> import round trips, watch-only accounts, removal, and signers from accounts."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nostr_desk.keys.accounts import AccountBook, AccountsError
from nostr_desk.keys.manager import KeyImportError, KeyManager, PasswordRequired, parse_key_text
from nostr_desk.keys.vault import NoSecret
from nostr_desk.protocol import nip19, nip49
from nostr_desk.protocol.event import EventTemplate
from nostr_desk.protocol.keys import SecretKey


def nip19_vectors(vectors, kind, valid=True):
    entries = json.loads((vectors / "nip19.json").read_text())
    return [v for v in entries if v["type"] == kind and v["valid"] is valid]


def nip49_vectors(vectors):
    return json.loads((vectors / "nip49.json").read_text())["vectors"]


@pytest.fixture
def mem_manager(mem_vault, tmp_path) -> KeyManager:
    return KeyManager(mem_vault, AccountBook(tmp_path / "data" / "accounts.json"))


# --- import formats (each over both backends) ------------------------------------------------------
def test_import_nsec(manager, vectors, leaks):
    for v in nip19_vectors(vectors, "nsec"):
        account = manager.import_key(v["bech32"])
        expected = SecretKey.from_hex(v["hex"])
        assert account.pubkey == expected.public_key and not account.watch_only
        assert manager.vault.load(account.pubkey) == expected
        assert account.key_security == nip49.KeySecurity.INSECURE  # it was handled in plain text


@pytest.mark.parametrize("shape", [str.lower, str.upper, lambda h: f"  {h}\n"])
def test_import_hex(manager, shape):
    secret = SecretKey(os.urandom(32))
    account = manager.import_key(shape(secret.secret_bytes().hex()), label="hexed")
    assert account.pubkey == secret.public_key and account.label == "hexed"
    assert manager.vault.load(account.pubkey) == secret


def test_import_nostr_uri_nsec(manager):
    secret = SecretKey(os.urandom(32))
    assert manager.import_key("nostr:" + nip19.encode_nsec(secret)).pubkey == secret.public_key


def test_import_ncryptsec_on_the_real_keyring(manager, vectors):
    v = next(v for v in nip49_vectors(vectors) if v["log_n"] <= 8)
    account = manager.import_key(v["ncryptsec"], v["password"])
    assert manager.vault.load(account.pubkey) == SecretKey.from_hex(v["secret_key"])


def test_nip49_vectors_import(mem_manager, vectors):
    for v in nip49_vectors(vectors):  # includes empty and NFKC-normalised passwords, log_n 1..16
        account = mem_manager.import_key(v["ncryptsec"], v["password"])
        assert mem_manager.vault.load(account.pubkey) == SecretKey.from_hex(v["secret_key"]), v["password"]
        assert account.key_security == v["key_security_byte"]
        mem_manager.remove(account.pubkey)  # some vectors share a key with another security byte


def test_ncryptsec_needs_the_right_password(mem_manager, vectors, leaks):
    v = next(v for v in nip49_vectors(vectors) if v["log_n"] <= 4 and v["password"])
    with pytest.raises(PasswordRequired) as missing:
        mem_manager.import_key(v["ncryptsec"])
    with pytest.raises(KeyImportError, match="wrong password") as wrong:
        mem_manager.import_key(v["ncryptsec"], v["password"] + "x")
    leaks.watch(missing.value, wrong.value)
    assert mem_manager.accounts() == []


def test_npub_import_is_watch_only(manager, vectors):
    v = nip19_vectors(vectors, "npub")[0]
    account = manager.import_key(v["bech32"], label="someone")
    assert account.watch_only and account.pubkey == v["hex"] and account.label == "someone"
    with pytest.raises(NoSecret):
        manager.vault.load(account.pubkey)
    with pytest.raises(AccountsError, match="watch-only"):
        manager.signer(account.pubkey)
    with pytest.raises(AccountsError, match="watch-only"):
        manager.export_ncryptsec(account.pubkey, "pw", log_n=1)


def test_importing_the_secret_upgrades_a_watch_only_account(mem_manager):
    secret = SecretKey(os.urandom(32))
    watched = mem_manager.watch(nip19.encode_npub(secret.public_key), "me")
    upgraded = mem_manager.import_key(nip19.encode_nsec(secret))
    assert not upgraded.watch_only and upgraded.label == "me" and upgraded.created == watched.created
    assert mem_manager.signer().pubkey == secret.public_key


BAD_INPUTS = [
    "",
    "nsec1",
    "npub1xyz",
    "zz" * 32,
    "00" * 32,  # out of range for secp256k1
    "ff" * 32,
    "note1" + "q" * 58,
    "hello world",
]


@pytest.mark.parametrize("text", BAD_INPUTS)
def test_bad_inputs_are_refused_without_echo(mem_manager, text, leaks):
    with pytest.raises(KeyImportError) as info:
        mem_manager.import_key(text)
    leaks.watch(info.value)
    assert len(text) < 8 or text not in str(info.value)
    assert info.value.__context__ is None


def test_invalid_nip19_vectors_are_refused_without_echo(mem_manager, vectors, leaks):
    for v in [*nip19_vectors(vectors, "nsec", False), *nip19_vectors(vectors, "npub", False),
              *nip19_vectors(vectors, "ncryptsec", False)]:
        with pytest.raises(KeyImportError) as info:
            mem_manager.import_key(v["bech32"], "pw")
        leaks.watch(info.value)
        assert v["bech32"][8:40] not in str(info.value)


def test_a_mistyped_nsec_is_not_echoed(mem_manager, leaks):
    secret = SecretKey(os.urandom(32))
    nsec = nip19.encode_nsec(secret)
    typo = nsec[:20] + ("q" if nsec[20] != "q" else "p") + nsec[21:]
    with pytest.raises(KeyImportError, match="not an nsec") as info:
        mem_manager.import_key(typo)
    leaks.watch(info.value)
    assert typo[5:] not in str(info.value) and typo[5:] not in repr(info.value)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(max_size=120), st.from_regex(r"(nsec|npub|ncryptsec)1[a-z0-9]{0,100}", fullmatch=True)))
def test_parse_key_text_only_ever_raises_key_import_error(text):
    try:
        parsed = parse_key_text(text, "password")
    except KeyImportError as exc:
        assert exc.__context__ is None
        return
    assert len(parsed.pubkey) == 64


# --- generate, export, remove, use ----------------------------------------------------------------
def test_generate(manager):
    first = manager.generate("main")
    second = manager.generate()
    assert first.pubkey != second.pubkey
    assert manager.active == first  # the first account becomes active
    assert manager.vault.load(second.pubkey).public_key == second.pubkey
    assert first.key_security == nip49.KeySecurity.SECURE and first.created > 0


def test_export_then_import_round_trip(manager, tmp_path):
    account = manager.generate("backup me")
    original = manager.vault.load(account.pubkey)
    backup = manager.export_ncryptsec(account.pubkey, "correct horse", log_n=4)
    assert backup.startswith("ncryptsec1")
    decoded = nip19.decode(backup)
    assert decoded.log_n == 4 and decoded.key_security_byte == nip49.KeySecurity.SECURE
    manager.remove(account.pubkey)
    restored = manager.import_key(backup, "correct horse")
    assert restored.pubkey == account.pubkey
    assert manager.vault.load(restored.pubkey) == original
    assert restored.key_security == nip49.KeySecurity.SECURE


def test_export_defaults_to_log_n_16(mem_manager):
    account = mem_manager.import_key(SecretKey(os.urandom(32)).secret_bytes().hex())
    backup = mem_manager.export_ncryptsec(account.pubkey, "pw")
    decoded = nip19.decode(backup)
    assert decoded.log_n == 16 and decoded.key_security_byte == nip49.KeySecurity.INSECURE
    assert nip49.decrypt(backup, "pw").public_key == account.pubkey


def test_remove_deletes_the_keyring_entry(manager):
    keep, gone = manager.generate("keep"), manager.generate("gone")
    manager.use(gone.pubkey)
    manager.remove(gone.pubkey)
    assert not manager.vault.has(gone.pubkey)
    assert manager.vault.has(keep.pubkey)
    assert [a.pubkey for a in manager.accounts()] == [keep.pubkey]
    assert manager.active.pubkey == keep.pubkey
    with pytest.raises(AccountsError):
        manager.remove(gone.pubkey)


def test_remove_deletes_the_real_keyring_entry(real_vault, secret_service, service_name, tmp_path):
    manager = KeyManager(real_vault, AccountBook(tmp_path / "accounts.json"))
    account = manager.generate()
    assert secret_service.get_password(service_name, account.pubkey) is not None
    manager.remove(account.pubkey)
    assert secret_service.get_password(service_name, account.pubkey) is None


def test_use_by_hex_npub_or_label(mem_manager):
    a, b = mem_manager.generate("alice"), mem_manager.generate("bob")
    assert mem_manager.use("bob") == b
    assert mem_manager.use(nip19.encode_npub(a.pubkey)) == a
    assert mem_manager.use(b.pubkey.upper()) == b
    with pytest.raises((AccountsError, KeyImportError)):
        mem_manager.use("carol")


def test_accounts_survive_a_restart(mem_vault, tmp_path):
    path = tmp_path / "accounts.json"
    first = KeyManager(mem_vault, AccountBook(path))
    made = first.generate("persisted")
    again = KeyManager(mem_vault, AccountBook(path))
    assert again.accounts() == [made] and again.active == made
    assert again.signer().pubkey == made.pubkey


def test_a_failed_metadata_write_leaves_no_orphan_secret(mem_vault, mem_backend, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    manager = KeyManager(mem_vault, AccountBook(blocker / "accounts.json"))
    with pytest.raises(OSError):
        manager.generate()
    assert mem_backend.entries == {}


def test_session_only_manager_writes_nothing(secret_service, tmp_path):
    manager = KeyManager.session_only()
    account = manager.generate()
    event = manager.signer().sign(EventTemplate(1, "hi", [], 1700000000))
    assert event.pubkey == account.pubkey and event.verify()
    assert list(tmp_path.rglob("*")) == []
    assert secret_service.get_password("nostr-desk", account.pubkey) is None


# --- signers from accounts --------------------------------------------------------------------------
def test_signer_of_the_active_account_signs_verifying_events(manager):
    account = manager.generate()
    signer = manager.signer()
    event = signer.sign(EventTemplate(1, "hello from the keyring", [["t", "test"]], 1700000000))
    assert event.pubkey == account.pubkey
    event.verify()  # raises if the id or signature is wrong
    assert repr(signer) == f"Signer(pubkey={account.pubkey})"


def test_no_active_account_no_signer(mem_manager):
    with pytest.raises(AccountsError, match="no active account"):
        mem_manager.signer()
