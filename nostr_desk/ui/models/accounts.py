"""The accounts table: label, npub, whether it can sign, which one is active."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nostr_desk.protocol.nip19 import encode_npub
from nostr_desk.ui.models.base import Column, RowTableModel


@dataclass(frozen=True)
class AccountRow:
    pubkey: str
    label: str
    watch_only: bool
    active: bool

    @property
    def npub(self) -> str:
        return encode_npub(self.pubkey)

    @classmethod
    def of(cls, account: Any, active_pubkey: str | None) -> "AccountRow":
        return cls(account.pubkey, account.label, account.watch_only, account.pubkey == active_pubkey)


def short_npub(npub: str) -> str:
    return f"{npub[:14]}…{npub[-6:]}"


class AccountsModel(RowTableModel[AccountRow]):
    columns = (
        Column("Active", lambda r: r.active, lambda v: "●" if v else "", tooltip="The account you post as"),
        Column("Name", lambda r: r.label or "(no name)", tooltip="Your label for this account"),
        Column("Public key", lambda r: r.npub, short_npub, tooltip="npub: share it freely",
               cell_tooltip=lambda r: r.npub),
        Column("Kind", lambda r: "watch-only" if r.watch_only else "can sign",
               tooltip="Watch-only accounts have no secret key: they can read, not post"),
    )

    def __init__(self, parent: Any = None) -> None:
        super().__init__(key=lambda r: r.pubkey, parent=parent)
