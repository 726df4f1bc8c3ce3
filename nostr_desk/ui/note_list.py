"""The list of notes used by Home's timeline, thread and profile views, and helpers they share."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from nostr_desk.ui.models.base import ROW_ROLE
from nostr_desk.ui.models.notes import NoteRow, NotesModel
from nostr_desk.ui.note_delegate import NoteDelegate


def flatten(node: Any, depth: int = 0) -> list[tuple[Any, int]]:
    """A thread tree as (note, depth) in reading order; missing notes (not fetched yet) skipped."""
    rows = [(node.note, depth)] if node.note is not None else []
    for child in node.children:
        rows.extend(flatten(child, depth + (1 if node.note is not None else 0)))
    return rows


class NoteList(QListView):
    name_clicked = Signal(str)  # the author's pubkey, when their name at the top of a note is clicked

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model_ = NotesModel(self)
        self.setModel(self.model_)
        self.setItemDelegate(NoteDelegate(self))
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setWordWrap(True)
        self.setUniformItemSizes(False)

    def mouseReleaseEvent(self, event: Any) -> None:  # noqa: N802 (Qt naming)
        super().mouseReleaseEvent(event)
        index = self.indexAt(event.position().toPoint())
        row = index.data(ROW_ROLE) if index.isValid() else None
        if row is not None and self.itemDelegate().on_name(self.visualRect(index), row, event.position().toPoint()):
            self.name_clicked.emit(row.note.pubkey)

    def selected(self) -> NoteRow | None:
        # selectedRows() wants every column selected; a list view selects column 0 only.
        indexes = self.selectionModel().selectedIndexes()
        return indexes[0].data(ROW_ROLE) if indexes else None


def is_user_error(exc: BaseException) -> bool:
    """Failures the user can act on (no account, watch-only, keyring locked, bad input): shown inline."""
    from nostr_desk.keys.accounts import AccountsError
    from nostr_desk.keys.vault import VaultError
    from nostr_desk.protocol.errors import ProtocolError
    return bool(getattr(exc, "user_facing", False)) or isinstance(exc, (ProtocolError, VaultError, AccountsError))
