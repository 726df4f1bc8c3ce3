"""What every page shares: `attach(services, bridge)` when the services are up, and readable empty states."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class Page(QWidget):
    title = "Page"
    tooltip = ""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services: Any = None
        self.bridge: Any = None

    def attach(self, services: Any, bridge: Any) -> None:
        """Called once the services have started (the window is shown before that)."""
        self.services, self.bridge = services, bridge

    def shown(self) -> None:
        """Called when the page becomes the visible one (refresh what is cheap to refresh)."""


def heading(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 1.5)
    font.setBold(True)
    label.setFont(font)
    return label


def empty_state(text: str) -> QLabel:
    """A centred, wrapped, muted sentence for a page or list with nothing to show yet."""
    label = QLabel(text)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setStyleSheet("color: palette(placeholder-text); padding: 24px;")
    label.setObjectName("emptyState")
    return label


def page_layout(page: QWidget, title: str, subtitle: str = "") -> QVBoxLayout:
    layout = QVBoxLayout(page)
    layout.setContentsMargins(18, 14, 18, 14)
    layout.addWidget(heading(title))
    if subtitle:
        sub = QLabel(subtitle)
        sub.setWordWrap(True)
        sub.setStyleSheet("color: palette(placeholder-text);")
        layout.addWidget(sub)
    return layout
