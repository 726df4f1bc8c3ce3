"""The compose box: text with a live character count, post or reply, and a readable failure line."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from nostr_desk.ui.tasks import spawn

LIMIT = 8_000        # what the app accepts (app/actions.py)
SOFT_LIMIT = 280     # past this, many clients fold the note: say so, do not refuse
WARN = "#d35400"     # amber-orange: readable on light and dark backgrounds


class Composer(QFrame):
    def __init__(self, page: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.page = page
        self.reply_to: Any = None
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        self.context = QLabel("")
        self.context.setWordWrap(True)
        self.context.setStyleSheet("color: palette(placeholder-text);")
        self.edit = QPlainTextEdit()
        self.edit.setPlaceholderText("What's happening? (Ctrl+Enter to post)")
        self.edit.setMaximumHeight(130)
        self.edit.textChanged.connect(self._count)
        self.count = QLabel("0")
        self.count.setToolTip(f"Characters. Up to {LIMIT:,}; past {SOFT_LIMIT} many clients fold the note.")
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c0392b;")
        self.post_button = QPushButton("Post")
        self.post_button.setToolTip("Sign with your key and publish to your write relays (Ctrl+Enter)")
        self.post_button.clicked.connect(self.submit)
        cancel = QPushButton("Cancel")
        cancel.setToolTip("Close without posting (Escape); the text is kept until you post")
        cancel.clicked.connect(self.hide)
        row = QHBoxLayout()
        row.addWidget(self.count)
        row.addWidget(self.error, 1)
        row.addWidget(cancel)
        row.addWidget(self.post_button)
        layout.addWidget(self.context)
        layout.addWidget(self.edit)
        layout.addLayout(row)
        QShortcut(QKeySequence("Ctrl+Return"), self.edit, self.submit)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.hide)  # like a dialog's Cancel
        escape.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._count()

    def open(self, reply_to: Any = None) -> None:
        self.reply_to = reply_to
        self.context.setText(f"Replying to {reply_to.author_name}: “{reply_to.content[:120]}”" if reply_to else "")
        self.context.setVisible(reply_to is not None)
        self.post_button.setText("Reply" if reply_to else "Post")
        # Say before the user types a long note that it cannot go out (or only stays on this computer).
        warning = self.page.compose_warning() if hasattr(self.page, "compose_warning") else ""
        self.error.setText(warning)
        self.error.setStyleSheet(f"color: {WARN};" if warning else "color: #c0392b;")
        self.show()
        self.edit.setFocus()

    def _count(self) -> None:
        n = len(self.edit.toPlainText())
        self.count.setText(f"{n:,} / {LIMIT:,}" if n > SOFT_LIMIT else f"{n:,}")
        self.count.setStyleSheet("color: #c0392b;" if n > LIMIT else "")
        self.post_button.setEnabled(0 < len(self.edit.toPlainText().strip()) and n <= LIMIT)

    def submit(self) -> None:
        if not self.post_button.isEnabled():
            return
        self.post_button.setEnabled(False)
        self.error.clear()
        self.task = spawn(self.page._submit(self.edit.toPlainText(), self.reply_to.id if self.reply_to else ""),
                          "post")

    def done(self) -> None:
        self.edit.clear()
        self.reply_to = None
        self.hide()

    def fail(self, text: str) -> None:
        self.error.setText(text)
        self.error.setStyleSheet("color: #c0392b;")
        self._count()
