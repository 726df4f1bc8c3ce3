"""Keyring test doubles: an in-memory backend that looks secure (for fast unit tests), and variants
that fail the way real keyrings do (locked; an error whose message quotes the value being written)."""

from __future__ import annotations

from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked, PasswordDeleteError, PasswordSetError


class MemoryKeyring(KeyringBackend):
    """Entries in a dict. Not viable for keyring's own discovery, so `keyring.get_keyring()` never
    picks it; a vault accepts it only when told to trust it (`trusted=MEMORY_TRUST`)."""

    priority = -1  # type: ignore[assignment]
    viable = False  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.entries.get((service, username))

    def set_password(self, service, username, password):
        self.entries[(service, username)] = password

    def delete_password(self, service, username):
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError("no such entry")


class LockedKeyring(MemoryKeyring):
    """Every call fails as Secret Service does when the unlock prompt is dismissed."""

    def get_password(self, service, username, *password):
        raise KeyringLocked("Failed to unlock the collection!")

    set_password = delete_password = get_password


class BlabbingKeyring(MemoryKeyring):
    """A backend whose write error quotes the secret: the vault must not pass it on, even as a cause."""

    def set_password(self, service, username, password):
        raise PasswordSetError(f"could not store {password!r} for {username}")


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


MEMORY_TRUST = frozenset(_qualname(c) for c in (MemoryKeyring, LockedKeyring, BlabbingKeyring))
KeyringBackend._classes.difference_update({MemoryKeyring, LockedKeyring, BlabbingKeyring})  # not discoverable
