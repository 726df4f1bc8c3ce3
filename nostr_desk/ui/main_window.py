"""The main window: navigation between the six pages, shortcuts, and the status bar.

The window is built and shown before any service starts; pages get `attach(services, bridge)` once the
services are up and fill in from there. The status bar is refreshed from the services once a second
and on every status notice (cheap: counts only).
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMainWindow,
                               QMessageBox, QStackedWidget, QWidget)

from nostr_desk.ui.bridge import Bridge
from nostr_desk.ui.pages.base import Page
from nostr_desk.ui.resources import app_icon
from nostr_desk.ui.status import StatusSummary, summarize

PageFactory = Callable[[], Page]


def default_pages() -> list[PageFactory]:
    # Imported here so that `main_window` stays importable without pyqtgraph loaded at module import.
    from nostr_desk.ui.pages.accounts import AccountsPage
    from nostr_desk.ui.pages.home import HomePage
    from nostr_desk.ui.pages.local_relay import LocalRelayPage
    from nostr_desk.ui.pages.monitor import MonitorPage
    from nostr_desk.ui.pages.relays import RelaysPage
    from nostr_desk.ui.pages.settings import SettingsPage
    return [HomePage, RelaysPage, MonitorPage, LocalRelayPage, AccountsPage, SettingsPage]


def initial_size() -> QSize:
    """1180x760, but never more than 95 % of the screen: on a small laptop screen the bottom of a
    bigger window (the status bar, the Home buttons) sat below the screen's edge."""
    screen = QGuiApplication.primaryScreen()
    if screen is None:
        return QSize(1180, 760)
    room = screen.availableGeometry()
    return QSize(min(1180, int(room.width() * 0.95)), min(760, int(room.height() * 0.95)))


class MainWindow(QMainWindow):
    closing = Signal()

    def __init__(self, config: Any, bridge: Bridge, pages: list[PageFactory] | None = None) -> None:
        super().__init__()
        self.config = config
        self.bridge = bridge
        self.services: Any = None
        self.setWindowTitle("nostr-desk")
        self.setWindowIcon(app_icon())
        self.resize(initial_size())
        self.setMinimumSize(QSize(760, 480))

        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setFixedWidth(170)
        self.nav.setSpacing(2)
        self.stack = QStackedWidget()
        self.pages: list[Page] = [factory() for factory in (pages or default_pages())]
        for number, page in enumerate(self.pages, 1):
            self.stack.addWidget(page)
            item = QListWidgetItem(page.title)
            item.setToolTip(f"{page.tooltip} (Ctrl+{number})".strip())
            item.setSizeHint(QSize(150, 34))
            self.nav.addItem(item)
            QShortcut(QKeySequence(f"Ctrl+{number}"), self, lambda n=number - 1: self.show_page(n))
        self.nav.currentRowChanged.connect(self._switch)
        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.nav)
        row.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        QShortcut(QKeySequence("Ctrl+N"), self, self.new_note)
        QShortcut(QKeySequence.StandardKey.Quit, self, self.close)

        self._build_status_bar()
        bridge.progress.connect(self.local_state.setText)
        bridge.ready.connect(self.attach)
        bridge.status_changed.connect(self._on_status)  # a bound slot: disconnected when we are deleted
        self.nav.setCurrentRow(0)
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(1000)
        self._status_timer.timeout.connect(self.refresh_status)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.relays_state = QLabel("Relays: starting…")
        self.relays_state.setToolTip("Relays of the pool that are connected now, of all configured")
        self.local_state = QLabel("Starting services…")
        self.local_state.setToolTip("The embedded relay other Nostr clients on this machine can use")
        self.local_state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.pending_state = QLabel("")
        self.pending_state.setToolTip("Publishes waiting in the durable outbox for a relay to accept them")
        for label in (self.relays_state, self.local_state, self.pending_state):
            label.setContentsMargins(6, 0, 6, 0)
            bar.addPermanentWidget(label)

    def page(self, cls: type) -> Any:
        return next(p for p in self.pages if isinstance(p, cls))

    def show_page(self, index: int) -> None:
        if 0 <= index < len(self.pages):
            self.nav.setCurrentRow(index)

    def open_page_named(self, name: str) -> None:
        """`--page local-relay` → the Local relay page; also keeps it over the first-run welcome."""
        titles = [p.title.lower().replace(" ", "-") for p in self.pages]
        if name in titles:
            self.requested_page = titles.index(name)
            self.show_page(self.requested_page)

    requested_page: int | None = None

    def _switch(self, index: int) -> None:
        self.stack.setCurrentIndex(index)
        self.pages[index].shown()

    def new_note(self) -> None:
        """Ctrl+N: go Home and open the composer."""
        self.show_page(0)
        home = self.pages[0]
        if hasattr(home, "compose"):
            home.compose()

    def attach(self, services: Any) -> None:
        self.services = services
        for page in self.pages:
            page.attach(services, self.bridge)
        self.refresh_status()
        self._status_timer.start()
        # Problems no page owns (an unusable settings file, a data folder we cannot write) stay in
        # the status bar until the next message replaces them.
        shown = [services.problems[k] for k in ("store", "settings") if services.problems.get(k)]
        if shown:
            self.statusBar().showMessage("  ".join(shown))
        if self._needs_welcome(services) and self.requested_page is None:
            self.show_page(self.pages.index(next(p for p in self.pages if p.title == "Accounts")))

    @staticmethod
    def _needs_welcome(services: Any) -> bool:
        """First run (no account yet) or no keyring: the Accounts page explains what to do."""
        keys = getattr(services, "vault", None)
        if keys is None:
            return "vault" in services.problems and "not part of this build" not in services.problems["vault"]
        return not keys.accounts()

    def _on_status(self, _notice: Any) -> None:
        self.refresh_status()

    def refresh_status(self) -> None:
        if self.services is None:
            return
        self.show_summary(summarize(self.services))

    def show_summary(self, s: StatusSummary) -> None:
        self.relays_state.setText(s.relays_text)
        self.local_state.setText(s.local_text)
        self.local_state.setStyleSheet("color: #c0392b;" if s.local_problem else "")
        self.pending_state.setText(s.pending_text)

    async def ask_auth(self, url: str, timeout: float = 120.0) -> bool:
        """NIP-42 with policy "ask": a non-modal question (a modal one would nest the event loop)."""
        box = QMessageBox(QMessageBox.Icon.Question, "Sign in to a relay?",
                          f"{url} asks you to authenticate (NIP-42).\n\nIf you allow it, nostr-desk signs a "
                          "short proof with your key, and the relay learns which account you are. Some "
                          "relays need it to accept your notes or to show you direct messages.",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setInformativeText("Set the relay's AUTH policy on the Relays page to stop being asked.")
        future = asyncio.get_running_loop().create_future()
        box.finished.connect(lambda result: future.done() or future.set_result(
            result == QMessageBox.StandardButton.Yes.value))
        box.open()
        self.auth_box = box
        try:
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            box.close()
            return False

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt naming)
        self._status_timer.stop()
        self.closing.emit()
        super().closeEvent(event)
