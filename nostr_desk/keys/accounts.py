"""Account metadata that is not secret: pubkey, label, watch-only flag, creation time, active account.

Kept in one JSON file (path passed in), rewritten atomically (temporary file, fsync, rename) with
mode 0600. The file never holds a secret: the vault owns those. An `AccountBook` with no path keeps
everything in memory, for session-only use.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from nostr_desk.protocol.keys import is_hex

FORMAT_VERSION = 1


class AccountsError(Exception):
    """The accounts file is unreadable, or an operation names an unknown account."""


@dataclass(frozen=True)
class Account:
    pubkey: str
    label: str = ""
    watch_only: bool = False
    created: int = 0
    # NIP-49 key-security byte for backups: 0 = the key was handled in plain text (imported from an
    # nsec/hex), 1 = not known to have been (generated here), 2 = unknown. Not meaningful when watch-only.
    key_security: int = 2

    @classmethod
    def from_obj(cls, obj: object) -> Account:
        if not isinstance(obj, dict) or not is_hex(obj.get("pubkey"), 64):
            raise AccountsError("an account entry needs a 64-character hex pubkey")
        return cls(
            pubkey=obj["pubkey"],
            label=str(obj.get("label", "")),
            watch_only=bool(obj.get("watch_only", False)),
            created=int(obj.get("created", 0)),
            key_security=_key_security(obj.get("key_security", 2)),
        )


def _key_security(value: object) -> int:
    number = int(value)  # type: ignore[call-overload]
    if number not in (0, 1, 2):
        raise AccountsError("key_security is 0, 1 or 2")
    return number


class AccountBook:
    """The accounts, in insertion order, and which one is active."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._accounts: dict[str, Account] = {}
        self._active: str | None = None
        if path is not None and path.exists():
            self._read(path)

    @property
    def path(self) -> Path | None:
        return self._path

    def accounts(self) -> list[Account]:
        return list(self._accounts.values())

    def get(self, pubkey: str) -> Account | None:
        return self._accounts.get(pubkey)

    def __contains__(self, pubkey: object) -> bool:
        return pubkey in self._accounts

    @property
    def active(self) -> Account | None:
        return self._accounts.get(self._active) if self._active else None

    def add(self, account: Account) -> Account:
        """Add or replace an account; the first one added becomes active."""
        self._accounts[account.pubkey] = account
        if self._active is None:
            self._active = account.pubkey
        self._save()
        return account

    def update(self, pubkey: str, **changes) -> Account:
        account = replace(self._require(pubkey), **changes)
        self._accounts[pubkey] = account
        self._save()
        return account

    def use(self, pubkey: str) -> Account:
        account = self._require(pubkey)
        self._active = pubkey
        self._save()
        return account

    def remove(self, pubkey: str) -> Account:
        account = self._require(pubkey)
        del self._accounts[pubkey]
        if self._active == pubkey:  # fall back to the first remaining account, if any
            self._active = next(iter(self._accounts), None)
        self._save()
        return account

    def _require(self, pubkey: str) -> Account:
        account = self._accounts.get(pubkey)
        if account is None:
            raise AccountsError(f"no account {pubkey}")
        return account

    def _read(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise AccountsError(f"cannot read the accounts file {path}: {type(exc).__name__}") from None
        if not isinstance(data, dict) or not isinstance(data.get("accounts"), list):
            raise AccountsError(f"the accounts file {path} is not a nostr-desk accounts file")
        for entry in data["accounts"]:
            account = _entry(entry, path)
            self._accounts[account.pubkey] = account
        active = data.get("active")
        known = isinstance(active, str) and active in self._accounts
        self._active = active if known else next(iter(self._accounts), None)

    def _save(self) -> None:
        if self._path is None:
            return
        data = {
            "version": FORMAT_VERSION,
            "active": self._active,
            "accounts": [asdict(a) for a in self._accounts.values()],
        }
        write_private_atomic(self._path, json.dumps(data, indent=2).encode("utf-8") + b"\n")


def _entry(obj: object, path: Path) -> Account:
    problem = None
    try:
        return Account.from_obj(obj)
    except AccountsError as exc:
        problem = str(exc)
    except (TypeError, ValueError, OverflowError):
        problem = "a field has the wrong type"
    raise AccountsError(f"the accounts file {path} has a bad entry: {problem}")


def write_private_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` in one step, readable only by the owner (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # mkstemp creates the file 0600 from the start: no moment where it is world-readable.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; not possible on Windows, where opening a folder fails.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
