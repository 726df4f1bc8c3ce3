"""The key vault: secret keys in the OS keyring, one entry per account, and nowhere else.

`KeyVault` wraps an injected `keyring` backend. Only backends that keep secrets encrypted under the
user's login are accepted (Secret Service, libsecret, KWallet, macOS Keychain, Windows Credential
Locker); a chainer is resolved to its best secure member so a write can never fall through to a
weaker one. Anything else (fail, null, plaintext files from keyrings.alt) is refused with
`KeyringUnavailable`, whose message names the backend found and how to fix it; the caller may then
use `KeyVault.session_only()`, which keeps keys in this process's memory and writes them nowhere.

The secret never appears in an error: keyring exceptions are re-raised as our own types `from None`
(their context could carry the value being written), and every read checks that the stored secret
really belongs to the account it is filed under.
"""

from __future__ import annotations

import logging
import os
import sys

import keyring
from keyring.backend import KeyringBackend
from keyring.backends.chainer import ChainerBackend
from keyring.errors import InitError, KeyringLocked, NoKeyringError, PasswordDeleteError

from nostr_desk.protocol.errors import InvalidKey
from nostr_desk.protocol.keys import SecretKey, is_hex

log = logging.getLogger(__name__)

SERVICE = "nostr-desk"

# Backends that store secrets encrypted and unlocked by the user's session, by exact class path:
# a subclass could override storage, so it is not trusted just because it inherits from one.
SECURE_BACKENDS = frozenset(
    {
        "keyring.backends.SecretService.Keyring",
        "keyring.backends.libsecret.Keyring",
        "keyring.backends.kwallet.DBusKeyring",
        "keyring.backends.kwallet.DBusKeyringKWallet4",
        "keyring.backends.macOS.Keyring",
        "keyring.backends.Windows.WinVaultKeyring",
    }
)


class VaultError(Exception):
    """Something kept the vault from doing its job. Messages never contain a secret."""


class KeyringUnavailable(VaultError):
    """No secure keyring backend: the message names what was found and how to fix it."""

    def __init__(self, message: str, backend_name: str) -> None:
        super().__init__(message)
        self.backend_name = backend_name


class VaultLocked(VaultError):
    """The keyring exists but is locked (or the unlock prompt was dismissed)."""


class NoSecret(VaultError):
    """The keyring holds no secret for this account."""


class SecretMismatch(VaultError):
    """The keyring entry for an account holds a key that is not that account's (or is unreadable)."""


def _default_backend() -> KeyringBackend:
    """keyring's choice, or KeyringUnavailable when its configuration names a backend that cannot be
    loaded (PYTHON_KEYRING_BACKEND=keyrings.alt.… without keyrings.alt installed raised a bare
    ModuleNotFoundError out of keyring, a traceback for the user)."""
    try:
        return keyring.get_keyring()
    except (ImportError, AttributeError, ValueError) as exc:
        name = os.environ.get("PYTHON_KEYRING_BACKEND")
        where = f"PYTHON_KEYRING_BACKEND={name!r}" if name is not None else "keyring's configuration (keyringrc.cfg)"
        raise KeyringUnavailable(
            f"the keyring backend named by {where} cannot be loaded ({exc}). Unset it, or install that "
            "backend, so that the system's Secret Service is used.", name or "unloadable backend") from None


def backend_name(backend: KeyringBackend) -> str:
    """The backend's class path. Not `str(backend)`: that asks for its priority, which may raise."""
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def resolve_secure(backend: KeyringBackend, trusted: frozenset[str] = frozenset()) -> KeyringBackend:
    """The secure backend to use for `backend` (a chainer's best secure member), or raise."""
    allowed = SECURE_BACKENDS | trusted
    if isinstance(backend, ChainerBackend):
        members = list(backend.backends)  # already sorted by priority, best first
        for member in members:
            if backend_name(member) in allowed:
                return member
        found = ", ".join(backend_name(m) for m in members) or "no backends at all"
        raise KeyringUnavailable(_refusal(f"a keyring chain of {found}", members), backend_name(backend))
    if backend_name(backend) in allowed:
        return backend
    raise KeyringUnavailable(_refusal(backend_name(backend), [backend]), backend_name(backend))


def _refusal(found: str, backends: list[KeyringBackend]) -> str:
    names = " ".join(backend_name(b) for b in backends)
    if "keyrings.alt" in names:
        why = "it keeps secrets in a file that is not protected by your login."
        fix = "Uninstall keyrings.alt (pip uninstall keyrings.alt) and use your desktop's keyring."
    elif "null" in names:
        why = "it silently discards secrets."
        fix = "Unset PYTHON_KEYRING_BACKEND (or the keyring config that selects the null backend)."
    elif "fail" in names or not backends:
        why = "no secure keyring service is running."
        fix = _platform_fix()
    else:
        why = "it is not a keyring nostr-desk trusts (Secret Service, KWallet, macOS Keychain, Windows Vault)."
        fix = _platform_fix()
    return (
        f"No secure keyring is available: found {found}, which nostr-desk will not use because {why} "
        f"{fix} Without one, nostr-desk can only use a session-only key, kept in memory and forgotten "
        "when the app exits."
    )


def _platform_fix() -> str:
    if sys.platform == "darwin":
        return "The macOS Keychain should always be there: check that keyring can reach it."
    if sys.platform.startswith("win"):
        return "The Windows Credential Locker should always be there: check that keyring can reach it."
    return (
        "Install and start a Secret Service, e.g. `sudo apt install gnome-keyring` (or KWallet) and log in "
        "to a desktop session; on a headless machine run nostr-desk under `dbus-run-session` after "
        "`gnome-keyring-daemon --unlock --components=secrets`."
    )


class _MemoryBackend(KeyringBackend):
    """The session-only store: a dict in this process. Never registered as a usable keyring."""

    priority = -1  # type: ignore[assignment]  # never chosen by keyring.get_keyring()
    viable = False  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self._entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self._entries.pop((service, username), None) is None:
            raise PasswordDeleteError("no such entry")

    def __reduce__(self):  # its whole content is secrets
        raise TypeError("the session key store cannot be pickled")


_MemoryBackend._classes.discard(_MemoryBackend)  # keep it out of keyring's backend discovery


class KeyVault:
    """Secret keys by account pubkey, in a secure keyring (or only in memory: `session_only()`)."""

    def __init__(
        self,
        backend: KeyringBackend | None = None,
        *,
        service: str = SERVICE,
        trusted: frozenset[str] = frozenset(),
    ) -> None:
        """`trusted` names extra backend classes the caller vouches for (test doubles)."""
        found = _default_backend() if backend is None else backend
        self._backend = resolve_secure(found, trusted)
        self._service = service
        self._session_only = False

    @classmethod
    def session_only(cls, *, service: str = SERVICE) -> KeyVault:
        """A vault that keeps keys in memory for this process only, for machines without a keyring."""
        vault = cls.__new__(cls)
        vault._backend = _MemoryBackend()
        vault._service = service
        vault._session_only = True
        return vault

    @property
    def is_session_only(self) -> bool:
        return self._session_only

    @property
    def backend_name(self) -> str:
        return "memory (session only)" if self._session_only else backend_name(self._backend)

    def store(self, secret: SecretKey) -> str:
        """File the secret under its pubkey; returns the pubkey."""
        pubkey = secret.public_key
        # The hex is made inside the call, so no frame of ours holds it as a local a traceback could show.
        def write(service: str, user: str) -> None:
            self._backend.set_password(service, user, secret.secret_bytes().hex())

        self._call("store the key for", pubkey, write)
        log.info("stored the key for %s in %s", pubkey, self.backend_name)
        return pubkey

    def load(self, pubkey: str) -> SecretKey:
        """The secret of `pubkey`, checked to be that account's key."""
        _check_pubkey(pubkey)
        stored = self._call("read the key for", pubkey, self._backend.get_password)
        if stored is None:
            raise NoSecret(f"the keyring has no secret key for {pubkey}")
        secret = _parse_stored(stored, pubkey)
        if secret.public_key != pubkey:
            raise SecretMismatch(f"the keyring entry for {pubkey} holds the key of a different account")
        return secret

    def has(self, pubkey: str) -> bool:
        _check_pubkey(pubkey)
        return self._call("look up the key for", pubkey, self._backend.get_password) is not None

    def delete(self, pubkey: str) -> bool:
        """Remove the entry; False when there was none."""
        _check_pubkey(pubkey)
        if not self.has(pubkey):
            return False
        self._call("delete the key for", pubkey, self._backend.delete_password)
        log.info("deleted the key for %s from %s", pubkey, self.backend_name)
        return True

    def _call(self, doing: str, pubkey: str, method):
        # Only what we are doing and for whom goes into messages. The error is raised after the
        # `except` block ends, so it has no __context__ either: a backend's exception (and its
        # traceback's locals) could hold the value being written.
        try:
            return method(self._service, pubkey)
        except Exception as exc:  # secretstorage/D-Bus errors are not all KeyringErrors
            failure = exc
        kind, name = _classify(failure), type(failure).__name__
        del failure
        if kind == "locked":
            raise VaultLocked(
                f"could not {doing} {pubkey}: the keyring ({self.backend_name}) is locked. "
                "Unlock your keyring (log in to your desktop session, or unlock it in your keyring "
                "manager such as Seahorse) and try again."
            )
        if kind == "unreachable":
            raise KeyringUnavailable(
                f"could not {doing} {pubkey}: the keyring service behind {self.backend_name} is not "
                f"reachable ({name}). {_platform_fix()}",
                self.backend_name,
            )
        raise VaultError(f"could not {doing} {pubkey}: the keyring ({self.backend_name}) failed ({name})")

    def __repr__(self) -> str:
        return f"KeyVault(backend={self.backend_name!r}, service={self._service!r})"

    def __reduce__(self):
        raise TypeError("a KeyVault cannot be pickled")


def _classify(exc: Exception) -> str:
    if isinstance(exc, KeyringLocked):
        return "locked"
    # No daemon, no D-Bus session: keyring's InitError/NoKeyringError, secretstorage's own
    # SecretServiceNotAvailableException, or the socket error itself (a bus path that is gone).
    if isinstance(exc, (InitError, NoKeyringError, OSError)) or "NotAvailable" in type(exc).__name__:
        return "unreachable"
    return "failed"


def _check_pubkey(pubkey: str) -> None:
    if not is_hex(pubkey, 64):
        raise VaultError("an account is named by its 64-character lowercase hex public key")


def _parse_stored(stored: str, pubkey: str) -> SecretKey:
    try:
        return SecretKey.from_hex(stored)
    except InvalidKey:
        raise SecretMismatch(f"the keyring entry for {pubkey} is not a valid secret key") from None
