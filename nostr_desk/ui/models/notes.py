"""Notes for the timeline, thread and profile lists: one row per note, with its delivery state.

Rows wrap the cache's `NoteView`; `depth` indents replies in a thread; `delivery` is the per-note
"accepted by 3 of 5 relays" text for the user's own notes. The delegate (ui/note_delegate.py) draws
them; this model only holds and describes them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

from nostr_desk.ui.models.base import Column, RowTableModel


@dataclass(frozen=True)
class NoteRow:
    note: Any                  # cache.views.NoteView
    depth: int = 0
    delivery: str = ""
    mine: bool = False

    @property
    def id(self) -> str:
        return self.note.id


def ago(created_at: int, now: float | None = None) -> str:
    seconds = max(int((now or time.time()) - created_at), 0)
    for size, unit in ((86400 * 365, "y"), (86400 * 30, "mo"), (86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return "now"


def counts(note: Any) -> str:
    parts = [f"{n} {label}" for n, label in ((note.replies, "replies"), (note.reactions, "reactions"),
                                            (note.reposts, "reposts")) if n]
    return " · ".join(parts)


class NotesModel(RowTableModel[NoteRow]):
    columns = (
        Column("Note", lambda r: r.note.content, tooltip="A note; double-click for its thread",
               cell_tooltip=lambda r: f"{r.note.author_name} · {time.strftime('%Y-%m-%d %H:%M', time.localtime(r.note.created_at))}"),
        Column("Author", lambda r: r.note.author_name, tooltip="Who wrote it"),
        Column("When", lambda r: r.note.created_at, ago, tooltip="How long ago"),
        Column("Delivery", lambda r: r.delivery, tooltip="For your notes: how many relays accepted them"),
    )

    def __init__(self, parent: Any = None) -> None:
        super().__init__(key=lambda r: r.note.id, parent=parent)

    def ids(self) -> set[str]:
        return {r.note.id for r in self._rows}

    def set_delivery(self, event_id: str, text: str) -> None:
        i = self.find(event_id)
        if i >= 0 and self._rows[i].delivery != text:
            self._rows[i] = replace(self._rows[i], delivery=text)
            self.dataChanged.emit(self.index(i, 0), self.index(i, len(self.columns) - 1))
