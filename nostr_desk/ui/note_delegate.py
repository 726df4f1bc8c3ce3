"""Draws a note in a list: author and age on top, the wrapped text, then counts and delivery.

Text is laid out with QTextDocument (wrapping, any script); heights are cached per (note, width) so a
long list scrolls without re-laying out every row on every paint.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt
from PySide6.QtGui import QAbstractTextDocumentLayout, QPainter, QPalette, QTextDocument, QTextOption
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from nostr_desk.ui.models.base import ROW_ROLE
from nostr_desk.ui.models.notes import NoteRow, ago, counts

PAD = 10
INDENT = 22
MAX_CHARS = 1200  # very long notes are cut in the list; the thread view shows the rest


def note_html(row: NoteRow, muted: str) -> str:
    note = row.note
    text = note.content if len(note.content) <= MAX_CHARS else note.content[:MAX_CHARS] + " …"
    body = html.escape(text).replace("\n", "<br>")
    footer = counts(note)
    if row.delivery:
        footer = f"{footer} · {row.delivery}" if footer else row.delivery
    reply = " <span style='color:%s'>↪ reply</span>" % muted if note.parent_id else ""
    return (f"<div><b>{html.escape(note.author_name)}</b>"
            f" <span style='color:{muted}'>· {ago(note.created_at)}</span>{reply}</div>"
            f"<div style='margin-top:3px'>{body}</div>"
            + (f"<div style='color:{muted}; margin-top:4px'>{html.escape(footer)}</div>" if footer else ""))


class NoteDelegate(QStyledItemDelegate):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._heights: dict[tuple[str, str, int], int] = {}

    def _document(self, row: NoteRow, option: QStyleOptionViewItem, width: int) -> QTextDocument:
        doc = QTextDocument()
        doc.setDefaultFont(option.font)
        doc.setDocumentMargin(0)
        option_ = doc.defaultTextOption()
        option_.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)  # long URLs and ids
        doc.setDefaultTextOption(option_)
        muted = option.palette.color(QPalette.ColorRole.PlaceholderText).name()
        doc.setHtml(note_html(row, muted))
        doc.setTextWidth(max(width, 50))
        return doc

    def _row_width(self, option: QStyleOptionViewItem) -> int:
        # In sizeHint the option's rect is not laid out yet: the view's viewport is the real width.
        view = self.parent()
        return view.viewport().width() if view is not None else option.rect.width()

    def _text_width(self, option: QStyleOptionViewItem, row: NoteRow) -> int:
        return self._row_width(option) - 2 * PAD - row.depth * INDENT

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        row: NoteRow | None = index.data(ROW_ROLE)
        if row is None:
            return super().paint(painter, option, index)
        painter.save()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.fillRect(option.rect, option.palette.color(QPalette.ColorRole.Highlight))
        painter.setPen(option.palette.color(QPalette.ColorRole.Mid))
        painter.drawLine(option.rect.bottomLeft(), option.rect.bottomRight())
        left = option.rect.left() + PAD + row.depth * INDENT
        if row.depth:
            painter.setPen(option.palette.color(QPalette.ColorRole.Mid))
            painter.drawLine(left - INDENT // 2, option.rect.top(), left - INDENT // 2, option.rect.bottom())
        doc = self._document(row, option, self._text_width(option, row))
        painter.translate(left, option.rect.top() + PAD)
        ctx = QAbstractTextDocumentLayout.PaintContext()
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        ctx.palette.setColor(QPalette.ColorRole.Text, option.palette.color(role))
        ctx.clip = QRectF(0, 0, option.rect.width(), option.rect.height())
        doc.documentLayout().draw(painter, ctx)
        painter.restore()

    def on_name(self, rect: Any, row: NoteRow, pos: Any) -> bool:
        """Is `pos` on the author's name (the bold start of the first line) of the note drawn in `rect`?"""
        from PySide6.QtGui import QFont, QFontMetrics
        font = QFont(self.parent().font() if self.parent() is not None else QFont())
        font.setBold(True)
        metrics = QFontMetrics(font)
        left = rect.left() + PAD + row.depth * INDENT
        top = rect.top() + PAD
        return left <= pos.x() <= left + metrics.horizontalAdvance(row.note.author_name) \
            and top <= pos.y() <= top + metrics.height()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:  # noqa: N802
        row: NoteRow | None = index.data(ROW_ROLE)
        if row is None:
            return super().sizeHint(option, index)
        width = self._text_width(option, row)
        key = (row.note.id, row.delivery + str(row.note.replies + row.note.reactions + row.note.reposts), width)
        height = self._heights.get(key)
        if height is None:
            height = int(self._document(row, option, width).size().height()) + 2 * PAD
            if len(self._heights) > 20_000:
                self._heights.clear()
            self._heights[key] = height
        return QSize(self._row_width(option), height)
