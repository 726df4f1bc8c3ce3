"""The Relays page: the user's relays with flags and live health; add (URL check + NIP-11), remove,
change flags and AUTH policy; the selected relay's NIP-11 document and its recent NOTICE/CLOSED/OK-false.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QItemSelection, Qt, QTimer
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QFormLayout, QGroupBox,
                               QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPlainTextEdit, QPushButton,
                               QSplitter, QStackedWidget, QTableView, QTabWidget, QVBoxLayout, QWidget)

from nostr_desk.pool.pool import PoolFull
from nostr_desk.ui.models.base import ROW_ROLE
from nostr_desk.ui.models.relays import RelayRow, RelaysModel
from nostr_desk.ui.nip11_view import describe_nip11
from nostr_desk.ui.pages.base import Page, empty_state, page_layout
from nostr_desk.ui.pool_access import PoolAccess, UrlError, check_url
from nostr_desk.ui.tasks import spawn

log = logging.getLogger(__name__)


class RelaysPage(Page):
    title = "Relays"
    tooltip = "Your relays: read/write flags, health, NIP-11 details"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.access: PoolAccess | None = None
        self.nip11: dict[str, Any] = {}
        layout = page_layout(self, "Relays", "Where you read from and publish to. Green is connected, "
                             "amber is trying, red is down. Select a relay for its details.")
        add_row = QHBoxLayout()
        self.url_edit = QLineEdit()
        self.url_edit.setPlaceholderText("wss://relay.example.com")
        self.url_edit.setToolTip("A relay address: ws:// or wss://, then the host")
        self.url_edit.returnPressed.connect(self.add_clicked)
        self.add_button = QPushButton("Add relay")
        self.add_button.setToolTip("Check the address, fetch its NIP-11 document and connect")
        self.add_button.clicked.connect(self.add_clicked)
        self.import_button = QPushButton("Import my list")
        self.import_button.setToolTip("Load your published relay list (kind 10002) from the relays")
        self.import_button.clicked.connect(lambda: spawn(self.import_list(), "import relay list"))
        self.publish_button = QPushButton("Publish list")
        self.publish_button.setToolTip("Sign and publish these relays and flags as your kind 10002 list")
        self.publish_button.clicked.connect(lambda: spawn(self.publish_list(), "publish relay list"))
        for w in (self.url_edit, self.add_button, self.import_button, self.publish_button):
            add_row.addWidget(w, 1 if w is self.url_edit else 0)
        layout.addLayout(add_row)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message)

        self.model = RelaysModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # The address is what tells rows apart: always whole. The status text is the one that gives way
        # on a small window (elided; its tooltip has it all). A stretched address column shrank to
        # "w… 12…" at 1024 px while the other columns kept their width.
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(60)
        self.table.selectionModel().selectionChanged.connect(self._selected)
        self.empty = empty_state("No relays yet. Add one above (for example wss://relay.damus.io), "
                                 "or import the list you published from another client.")
        self.table_stack = QStackedWidget()
        self.table_stack.addWidget(self.empty)
        self.table_stack.addWidget(self.table)

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table_stack)
        split.addWidget(self._build_detail())
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([420, 260])
        layout.addWidget(split, 1)
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.refresh)

    def _build_detail(self) -> QWidget:
        box = QGroupBox("Selected relay")
        outer = QHBoxLayout(box)
        left = QFormLayout()
        self.detail_url = QLabel("–")
        self.detail_url.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.read_box = QCheckBox("Read")
        self.read_box.setToolTip("Fetch your feed and mentions from this relay")
        self.write_box = QCheckBox("Write")
        self.write_box.setToolTip("Publish your notes to this relay")
        flags = QHBoxLayout()
        flags.addWidget(self.read_box)
        flags.addWidget(self.write_box)
        flags.addStretch(1)
        self.read_box.toggled.connect(lambda _v: self._flags_changed())
        self.write_box.toggled.connect(lambda _v: self._flags_changed())
        self.policy = QComboBox()
        self.policy.addItems(["always", "ask", "never"])
        self.policy.setToolTip("NIP-42: sign AUTH challenges from this relay always, ask each time, or never")
        self.policy.currentTextChanged.connect(self._policy_changed)
        self.auth_state = QLabel("–")
        self.remove_button = QPushButton("Remove relay")
        self.remove_button.setToolTip("Disconnect and forget this relay")
        self.remove_button.clicked.connect(self.remove_clicked)
        left.addRow("Address", self.detail_url)
        left.addRow("Use for", flags)
        left.addRow("AUTH policy", self.policy)
        left.addRow("AUTH state", self.auth_state)
        left.addRow(self.remove_button)
        self.info = QPlainTextEdit()
        self.info.setReadOnly(True)
        self.info.setPlaceholderText("The relay's NIP-11 document (name, software, supported NIPs, "
                                     "limitations, contact) appears here.")
        # Own tab, newest first with times: under a long NIP-11 document they were out of sight.
        self.messages_view = QPlainTextEdit()
        self.messages_view.setReadOnly(True)
        self.messages_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.messages_view.setPlaceholderText("Select a relay to see what it told us lately.")
        self.tabs = QTabWidget()
        self.tabs.addTab(self.info, "NIP-11")
        self.tabs.addTab(self.messages_view, "Messages")
        self.tabs.setTabToolTip(0, "The relay's NIP-11 information document")
        self.tabs.setTabToolTip(1, "What the relay told us lately, newest first: NOTICE, CLOSED and "
                                "OK-false answers, and the last connection error")
        left_w = QWidget()
        left_w.setLayout(left)
        outer.addWidget(left_w, 2)
        outer.addWidget(self.tabs, 3)
        self._set_detail_enabled(False)
        return box

    # --- services ------------------------------------------------------------------------------------
    def attach(self, services: Any, bridge: Any) -> None:
        super().attach(services, bridge)
        if services.pool is None:
            self.empty.setText("The relay pool is not running, so relays cannot be managed. "
                               + services.problems.get("pool", ""))
            for w in (self.add_button, self.import_button, self.publish_button, self.url_edit):
                w.setEnabled(False)
            return
        self.access = PoolAccess(services.pool, services)
        bridge.status_changed.connect(self._on_status)
        self.refresh()
        self._timer.start()

    def _on_status(self, _notice: Any) -> None:
        self.refresh()

    def refresh(self) -> None:
        if self.access is None:
            return
        self.model.set_rows(self.access.rows())
        self.table_stack.setCurrentIndex(1 if self.model.rowCount() else 0)
        if self.model.rowCount() and not self.table.selectionModel().hasSelection():
            self.table.selectRow(0)  # the detail panel is never a blank box
        self._show_selected()

    def selected_row(self) -> RelayRow | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].data(ROW_ROLE) if rows else None

    # --- add / remove / flags -------------------------------------------------------------------------
    def add_clicked(self) -> None:
        try:
            url = check_url(self.url_edit.text())
        except UrlError as exc:
            self.say(str(exc), error=True)
            return
        if self.access is None:
            self.say("The relay pool is not running yet.", error=True)
            return
        if self.model.find(url) >= 0:
            self.say(f"{url} is already in your list.", error=True)
            return
        self.url_edit.clear()
        spawn(self.add_relay(url), f"add {url}")

    async def add_relay(self, url: str) -> None:
        assert self.access is not None
        self.say(f"Adding {url}…")
        try:
            await self.access.add(url)
        except (ValueError, PoolFull) as exc:  # the pool's own URL check, or the pool is full
            self.say(f"Could not add {url}: {exc}", error=True)
            return
        self._changed()
        self.refresh()
        self.select(url)
        self.say(f"Added {url}. Fetching its NIP-11 document…")
        await self.load_nip11(url, announce=True)

    async def load_nip11(self, url: str, *, announce: bool = False) -> None:
        """Fetch and show the relay's NIP-11 document. `announce`: also say the outcome in the message
        line (after an add); on a mere selection the detail pane shows it and the line stays quiet."""
        assert self.access is not None
        try:
            doc = await self.access.nip11(url)
        except Exception as exc:  # an unreachable or odd relay is normal: say so
            self.nip11[url] = {"_error": str(exc) or type(exc).__name__}
            if announce:
                self.say(f"Added {url}, but it has no NIP-11 document ({self.nip11[url]['_error']}).")
        else:
            self.nip11[url] = doc
            name = (doc or {}).get("name") if isinstance(doc, dict) else None
            if announce:
                self.say(f"Added {url}: {name or 'NIP-11 document loaded'}.")
        self._show_selected()

    def remove_clicked(self) -> None:
        row = self.selected_row()
        if row is not None and self.access is not None:
            spawn(self._remove(row.url), f"remove {row.url}")

    async def _remove(self, url: str) -> None:
        assert self.access is not None
        await self.access.remove(url)
        self._changed()
        self.nip11.pop(url, None)
        if self.bridge is not None:
            self.bridge.messages.forget(url)
        self.refresh()
        self.say(f"Removed {url}.")

    def _flags_changed(self) -> None:
        row = self.selected_row()
        if row is None or self.access is None or self._loading_detail:
            return
        read, write = self.read_box.isChecked(), self.write_box.isChecked()
        if (read, write) != (row.read, row.write):
            self.access.set_flags(row.url, read=read, write=write)
            self._changed()
            self.refresh()

    def _policy_changed(self, policy: str) -> None:
        row = self.selected_row()
        if row is None or self.access is None or self._loading_detail:
            return
        self.access.set_policy(row.url, policy)
        self.refresh()

    async def import_list(self) -> None:
        if self.access is None:
            return
        self.say("Looking for your relay list (kind 10002)…")
        try:
            count = await self.access.import_list()
        except (LookupError, ValueError, PoolFull) as exc:
            self.say(f"Could not import your relay list: {exc}", error=True)
            return
        self._changed()
        self.refresh()
        self.say(f"Imported {count} relay{'s' if count != 1 else ''} from your published list." if count
                 else "No published relay list found for this account.")

    async def publish_list(self) -> None:
        if self.access is None:
            return
        try:
            report = await self.access.publish_list()
        except Exception as exc:
            if not getattr(exc, "user_facing", False):
                raise  # a bug: the error dialog shows it
            self.say(f"Could not publish your relay list: {exc}", error=True)
            return
        self.say(f"Relay list published: {report}.")

    # --- detail ------------------------------------------------------------------------------------------
    _loading_detail = False

    def select(self, url: str) -> None:
        row = self.model.find(url)
        if row >= 0:
            self.table.selectRow(row)

    def _selected(self, _sel: QItemSelection, _old: QItemSelection) -> None:
        row = self.selected_row()
        if row is not None and row.url not in self.nip11 and self.access is not None:
            self.nip11[row.url] = {}
            spawn(self.load_nip11(row.url), f"nip11 {row.url}")
        self._show_selected()

    def _show_selected(self) -> None:
        row = self.selected_row()
        self._set_detail_enabled(row is not None)
        if row is None:
            self.detail_url.setText("–")
            self.info.setPlainText("")
            self.messages_view.setPlainText("")
            self.tabs.setTabText(1, "Messages")
            return
        self._loading_detail = True
        try:
            self.detail_url.setText(row.url)
            self.read_box.setChecked(row.read)
            self.write_box.setChecked(row.write)
            self.policy.setCurrentText(row.policy)
            self.auth_state.setText(row.auth or "not asked")
        finally:
            self._loading_detail = False
        text = describe_nip11(self.nip11.get(row.url))
        if text != self.info.toPlainText():
            self.info.setPlainText(text)
        self._show_messages(row)

    def _show_messages(self, row: RelayRow) -> None:
        ring = self.bridge.messages.recent(row.url) if self.bridge is not None else []
        lines = [m.line() for m in ring] or ["\n".join(row.messages) or
                                             "No NOTICE, CLOSED or OK-false from this relay so far."]
        if row.last_error:
            lines.insert(0, f"Last connection error: {row.last_error}\n")
        text = "\n".join(lines)
        self.tabs.setTabText(1, f"Messages ({len(ring)})" if ring else "Messages")
        if text != self.messages_view.toPlainText():
            self.messages_view.setPlainText(text)

    def _set_detail_enabled(self, on: bool) -> None:
        for w in (self.read_box, self.write_box, self.policy, self.remove_button):
            w.setEnabled(on)

    def _changed(self) -> None:
        if self.bridge is not None:
            self.bridge.changed.emit("relays")

    def say(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #c0392b;" if error else "")
