"""Unexpected errors become a dialog with copyable details; the app keeps running.

`ErrorReporter.install(loop)` hooks both places an exception can escape to: `sys.excepthook` (Qt slots
and callbacks) and the asyncio loop's exception handler (tasks nobody awaited). Details are redacted
with the same filter as the log file, so a secret cannot be copied out of the dialog either.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import traceback
from typing import Any, Callable

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

log = logging.getLogger(__name__)

Redactor = Callable[[str], str]


class ErrorDialog(QDialog):
    def __init__(self, summary: str, details: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("nostr-desk: something went wrong")
        self.resize(640, 380)
        layout = QVBoxLayout(self)
        head = QLabel(f"<b>{_escape(summary)}</b><br>nostr-desk is still running. "
                      "If this keeps happening, copy the details into a bug report.")
        head.setWordWrap(True)
        layout.addWidget(head)
        self.details = QPlainTextEdit(details)
        self.details.setReadOnly(True)
        layout.addWidget(self.details)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = buttons.addButton("Copy details", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.details.toPlainText())


class ErrorReporter:
    """Shows at most one dialog at a time and counts the rest (an error loop must not bury the screen)."""

    def __init__(self, parent: QWidget | None, redact: Redactor = lambda s: s) -> None:
        self.parent = parent
        self.redact = redact
        self.dialog: ErrorDialog | None = None
        self.count = 0
        self._old_hook: Any = None

    def install(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._old_hook = sys.excepthook
        sys.excepthook = self.excepthook
        if loop is not None:
            loop.set_exception_handler(self.loop_handler)

    def uninstall(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        if self._old_hook is not None:
            sys.excepthook = self._old_hook
        if loop is not None:
            loop.set_exception_handler(None)

    def excepthook(self, etype: type, value: BaseException, tb: Any) -> None:
        if issubclass(etype, KeyboardInterrupt):
            return
        self.report(f"{etype.__name__}: {value}", "".join(traceback.format_exception(etype, value, tb)))

    def loop_handler(self, loop: asyncio.AbstractEventLoop, context: dict) -> None:
        exc = context.get("exception")
        message = context.get("message", "error in a background task")
        if isinstance(exc, asyncio.CancelledError):
            return
        if exc is None:
            log.warning("asyncio: %s", message)
            return
        details = f"{message}\n\n" + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.report(f"{type(exc).__name__}: {exc}", details)

    def report(self, summary: str, details: str) -> None:
        self.count += 1
        summary, details = self.redact(summary), self.redact(details)
        log.error("unexpected error: %s\n%s", summary, details)
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.details.appendPlainText(f"\n--- and then ---\n{details}")
            return
        self.dialog = ErrorDialog(summary, details, self.parent)
        self.dialog.show()  # not exec(): a nested loop would stall asyncio


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
