"""Account operations over the vault and the account book: generate, import, watch, export, use, remove.

`KeyManager` is what the CLI and the UI call. It keeps the two stores consistent: a secret goes into
the vault before its account is listed, and an account is unlisted only after its secret is deleted.
Input that cannot be a key raises `KeyImportError` with a message that never echoes the input: a
mistyped nsec is still mostly a secret.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from nostr_desk.protocol import nip19, nip49
from nostr_desk.protocol.errors import CryptoError, ProtocolError
from nostr_desk.protocol.keys import SecretKey, is_hex, is_valid_pubkey

from .accounts import Account, AccountBook, AccountsError
from .signer import Signer
from .vault import KeyVault

log = logging.getLogger(__name__)

KS_INSECURE = nip49.KeySecurity.INSECURE  # handled in plain text (imported from nsec/hex)
KS_SECURE = nip49.KeySecurity.SECURE  # generated here, never shown
KS_UNKNOWN = nip49.KeySecurity.UNKNOWN
DEFAULT_LOG_N = 16


class KeyImportError(ValueError):
    """Text that is not a usable key (or a wrong ncryptsec password). Never contains the input."""


class PasswordRequired(KeyImportError):
    """An ncryptsec was given without its password."""


@dataclass(frozen=True)
class ParsedKey:
    """What an imported string turned out to be: a secret, or only a pubkey (watch-only)."""

    pubkey: str
    secret: SecretKey | None
    key_security: int


def parse_key_text(text: str, password: str | None = None) -> ParsedKey:
    """An nsec, 64-hex secret, ncryptsec (+password) or npub, as typed or pasted by the user."""
    text = text.strip().removeprefix("nostr:")
    if is_hex(text.lower(), 64):
        secret = _or_import_error(lambda: SecretKey.from_hex(text), "that hex is not a valid secret key")
        return ParsedKey(secret.public_key, secret, KS_INSECURE)
    decoded = _or_import_error(
        lambda: nip19.decode(text), "not an nsec, npub, ncryptsec or 64-character hex secret key"
    )
    if isinstance(decoded, nip19.Nsec):
        return ParsedKey(decoded.secret.public_key, decoded.secret, KS_INSECURE)
    if isinstance(decoded, nip19.Npub):
        if not is_valid_pubkey(decoded.pubkey):
            raise KeyImportError("that npub is not a valid public key")
        return ParsedKey(decoded.pubkey, None, KS_UNKNOWN)
    if isinstance(decoded, nip19.Ncryptsec):
        return _decrypt_ncryptsec(decoded, password)
    raise KeyImportError("that is a NIP-19 value, but not a key (expected nsec, npub or ncryptsec)")


def _decrypt_ncryptsec(value: nip19.Ncryptsec, password: str | None) -> ParsedKey:
    if password is None:
        raise PasswordRequired("an ncryptsec needs its password")
    problem = None
    try:
        secret = nip49.decrypt(value, password)
    except CryptoError as exc:  # its messages describe the failure, never the input or the password
        problem = exc.text
    if problem is not None:
        raise KeyImportError(f"cannot open the ncryptsec: {problem}")
    security = value.key_security_byte if value.key_security_byte in (0, 1) else KS_UNKNOWN
    return ParsedKey(secret.public_key, secret, security)


def _or_import_error(action: Callable, message: str):
    # The protocol error could quote part of the input; ours never does. Raised outside the
    # `except` block so the original is not even kept as __context__.
    try:
        return action()
    except (ProtocolError, ValueError):
        pass
    raise KeyImportError(message)


def resolve_pubkey(text: str, book: AccountBook | None = None) -> str:
    """A pubkey from hex or npub, or (given `book`) the label of one known account."""
    text = text.strip().removeprefix("nostr:")
    if is_hex(text.lower(), 64):
        pubkey = text.lower()
    elif text.startswith("npub1"):
        pubkey = _or_import_error(lambda: nip19.decode(text).pubkey, "that npub does not decode")
    else:
        matches = [a.pubkey for a in (book.accounts() if book else []) if a.label and a.label == text]
        if len(matches) != 1:
            raise KeyImportError("expected a hex pubkey, an npub, or the label of one account")
        pubkey = matches[0]
    if not is_valid_pubkey(pubkey):
        raise KeyImportError("that is not a valid public key")
    return pubkey


def find_account(book: AccountBook, ref: str) -> Account:
    """The account `ref` (hex pubkey, npub or label) names, or AccountsError."""
    account = book.get(ref) or book.get(resolve_pubkey(ref, book))
    if account is None:
        raise AccountsError(f"no account {ref.strip()}")
    return account


class KeyManager:
    """The accounts of one user: metadata in `book`, secrets in `vault`."""

    def __init__(
        self,
        vault: KeyVault,
        book: AccountBook,
        *,
        clock: Callable[[], float] = time.time,
        rng: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self.vault = vault
        self.book = book
        self._clock = clock
        self._rng = rng

    @classmethod
    def session_only(cls, **kwargs) -> KeyManager:
        """Keys and accounts in memory only: nothing is written to the keyring or to disk."""
        return cls(KeyVault.session_only(), AccountBook(None), **kwargs)

    def generate(self, label: str = "") -> Account:
        while True:  # a random 32 bytes is out of secp256k1's range with probability ~2^-128
            try:
                secret = SecretKey(self._rng(32))
                break
            except ProtocolError:
                continue
        return self._add_secret(secret, label, KS_SECURE)

    def import_key(self, text: str, password: str | None = None, label: str = "") -> Account:
        """Import an nsec, hex secret or ncryptsec; an npub becomes a watch-only account."""
        parsed = parse_key_text(text, password)
        if parsed.secret is None:
            return self.watch(parsed.pubkey, label)
        return self._add_secret(parsed.secret, label, parsed.key_security)

    def watch(self, npub_or_hex: str, label: str = "") -> Account:
        """A read-only account: its pubkey only, no secret."""
        pubkey = resolve_pubkey(npub_or_hex)
        existing = self.book.get(pubkey)
        if existing is not None:
            return existing  # already known, possibly with its secret: keep it as it is
        account = Account(pubkey, label, watch_only=True, created=int(self._clock()), key_security=KS_UNKNOWN)
        return self.book.add(account)

    def export_ncryptsec(self, pubkey: str, password: str, *, log_n: int = DEFAULT_LOG_N) -> str:
        """An encrypted NIP-49 backup of the account's secret."""
        account = self._require(pubkey)
        if account.watch_only:
            raise AccountsError("a watch-only account has no secret key to export")
        secret = self.vault.load(account.pubkey)
        return nip49.encrypt(
            secret, password, log_n=log_n, key_security=account.key_security, salt=self._rng(nip49.SALT_LEN),
            nonce=self._rng(nip49.NONCE_LEN),
        )

    def accounts(self) -> list[Account]:
        return self.book.accounts()

    @property
    def active(self) -> Account | None:
        return self.book.active

    def use(self, pubkey: str) -> Account:
        return self.book.use(self._require(pubkey).pubkey)

    def remove(self, pubkey: str) -> Account:
        """Delete the secret from the keyring, then forget the account."""
        account = self._require(pubkey)
        if not account.watch_only:
            self.vault.delete(account.pubkey)
        return self.book.remove(account.pubkey)

    def signer(self, pubkey: str | None = None) -> Signer:
        """A signer for `pubkey` (default: the active account)."""
        account = self._require(pubkey) if pubkey else self.book.active
        if account is None:
            raise AccountsError("no active account: generate or import one first")
        if account.watch_only:
            raise AccountsError(f"account {account.pubkey} is watch-only: it has no secret key to sign with")
        return Signer(self.vault.load(account.pubkey), rng=self._rng)

    def resolve_pubkey(self, text: str) -> str:
        return resolve_pubkey(text, self.book)

    def _require(self, ref: str) -> Account:
        return find_account(self.book, ref)

    def _add_secret(self, secret: SecretKey, label: str, key_security: int) -> Account:
        pubkey = self.vault.store(secret)  # first the secret: never list an account we cannot sign for
        existing = self.book.get(pubkey)
        account = Account(
            pubkey,
            label or (existing.label if existing else ""),
            watch_only=False,
            created=existing.created if existing else int(self._clock()),
            key_security=_merge_security(existing, key_security),
        )
        try:
            return self.book.add(account)
        except BaseException:
            if existing is None:  # do not leave an orphan secret behind
                self.vault.delete(pubkey)
            raise


def _merge_security(existing: Account | None, new: int) -> int:
    # Once a key has been handled in plain text it stays "insecure"; disagreement means unknown.
    if existing is None or existing.watch_only:
        return new
    old = existing.key_security
    return KS_INSECURE if KS_INSECURE in (old, new) else (old if old == new else KS_UNKNOWN)
