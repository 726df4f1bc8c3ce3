"""The Accounts page and the first-run welcome: create a key (npub shown, ncryptsec backup offered),
import nsec / ncryptsec / hex, or watch an npub. Without a secure keyring it says so plainly and
offers a session-only key that is never written anywhere.
"""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QAbstractItemView, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView,
                               QLabel, QLineEdit, QPushButton, QTableView, QTabWidget, QVBoxLayout,
                               QWidget)

from nostr_desk.ui.models.accounts import AccountRow, AccountsModel
from nostr_desk.ui.models.base import ROW_ROLE
from nostr_desk.ui.pages.base import Page, page_layout
from nostr_desk.ui.tasks import spawn

WELCOME = ("<h3>Welcome to nostr-desk</h3>"
           "<p>On Nostr your account is a key pair: a <b>secret key</b> (nsec) that signs what you post, "
           "and a <b>public key</b> (npub) people follow. nostr-desk keeps the secret key in your "
           "system keyring and signs on this computer; it never leaves it.</p>"
           "<p>Create a new key, import one you already use elsewhere, or just watch someone's public "
           "key (read-only). Then add relays on the <b>Relays</b> page (Ctrl+2).</p>")
ERROR_STYLE = "color: #c0392b;"


def _password() -> QLineEdit:
    edit = QLineEdit()
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    return edit


class AccountsPage(Page):
    title = "Accounts"
    tooltip = "Your keys and watch-only accounts"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.keys: Any = None
        layout = page_layout(self, "Accounts")
        self.intro = QLabel(WELCOME)
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)
        self.keyring_box = self._build_keyring_box()
        layout.addWidget(self.keyring_box)

        self.model = AccountsModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setMaximumHeight(180)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._selection_changed())
        layout.addWidget(self.table)
        actions = QHBoxLayout()
        self.use_button = QPushButton("Use this account")
        self.use_button.setToolTip("Post and read as the selected account")
        self.use_button.clicked.connect(self.use_selected)
        self.remove_button = QPushButton("Remove…")
        self.remove_button.setToolTip("Delete the secret from the keyring and forget the account "
                                      "(click twice to confirm)")
        self.remove_button.clicked.connect(self.remove_selected)
        actions.addWidget(self.use_button)
        actions.addWidget(self.remove_button)
        actions.addStretch(1)
        layout.addLayout(actions)
        layout.addWidget(self._build_backup_box())
        self.add_label = QLabel("<b>Add an account</b>")
        layout.addWidget(self.add_label)
        self.tabs = self._build_add_tabs()
        layout.addWidget(self.tabs)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message)
        layout.addStretch(1)
        self._confirm_remove: str | None = None
        self._set_enabled(False)

    # --- building -----------------------------------------------------------------------------------
    def _build_keyring_box(self) -> QGroupBox:
        box = QGroupBox("No secure keyring")
        inner = QVBoxLayout(box)
        self.keyring_text = QLabel("")
        self.keyring_text.setWordWrap(True)
        self.keyring_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.session_button = QPushButton("Use a session-only key")
        self.session_button.setToolTip("Keep keys in memory until nostr-desk quits; nothing is saved")
        self.session_button.clicked.connect(self.use_session_only)
        inner.addWidget(self.keyring_text)
        inner.addWidget(self.session_button, 0, Qt.AlignmentFlag.AlignLeft)
        box.hide()
        return box

    def _build_add_tabs(self) -> QTabWidget:
        tabs = QTabWidget()
        create = QWidget()
        c = QVBoxLayout(create)
        self.create_hint = hint = QLabel("A new secret key is made on this computer and kept in your system keyring. You get "
                      "your npub to share at once, and can make an encrypted backup (ncryptsec) below.")
        hint.setWordWrap(True)
        c.addWidget(hint)
        self.create_button = QPushButton("Create a new key")
        self.create_button.setToolTip("Generate a key; you can back it up as an encrypted ncryptsec next")
        self.create_button.clicked.connect(lambda: spawn(self.create(), "create key"))
        c.addWidget(self.create_button, 0, Qt.AlignmentFlag.AlignLeft)
        c.addStretch(1)
        tabs.addTab(create, "Create")

        imp = QWidget()
        f = QFormLayout(imp)
        self.import_text = QLineEdit()
        self.import_text.setEchoMode(QLineEdit.EchoMode.Password)
        self.import_text.setPlaceholderText("nsec1…, ncryptsec1… or 64 hex characters")
        self.import_text.setToolTip("Your secret key. It goes straight into the keyring and is never shown.")
        self.import_password = _password()
        self.import_password.setPlaceholderText("only for ncryptsec")
        self.import_password.setToolTip("The password the ncryptsec backup was made with (NIP-49)")
        self.import_button = QPushButton("Import")
        self.import_button.setToolTip("Check the key and keep it in the system keyring (Enter)")
        self.import_button.clicked.connect(lambda: spawn(self.import_key(), "import key"))
        for edit in (self.import_text, self.import_password):  # Enter imports, as the button does
            edit.returnPressed.connect(self.import_button.click)
        f.addRow("Secret key", self.import_text)
        f.addRow("Password", self.import_password)
        f.addRow(self.import_button)
        tabs.addTab(imp, "Import")

        watch = QWidget()
        w = QFormLayout(watch)
        self.watch_text = QLineEdit()
        self.watch_text.setPlaceholderText("npub1… or 64 hex characters")
        self.watch_text.setToolTip("A public key: you can read this account's feed but not post")
        self.watch_button = QPushButton("Watch")
        self.watch_button.setToolTip("Follow this account's feed read-only; nothing secret is stored (Enter)")
        self.watch_button.clicked.connect(lambda: spawn(self.watch(), "watch npub"))
        self.watch_text.returnPressed.connect(self.watch_button.click)
        w.addRow("Public key", self.watch_text)
        w.addRow(self.watch_button)
        tabs.addTab(watch, "Watch only")
        return tabs

    def _build_backup_box(self) -> QGroupBox:
        box = QGroupBox("Back up the selected key (encrypted ncryptsec, NIP-49)")
        f = QFormLayout(box)
        self.npub_view = QLineEdit()
        self.npub_view.setReadOnly(True)
        self.npub_view.setToolTip("Your public key (npub): share it so people can follow you")
        self.backup_password = _password()
        self.backup_password.setToolTip("At least 8 characters. Without it the backup cannot be opened: "
                                        "keep it apart from the backup")
        self.backup_confirm = _password()
        self.backup_confirm.setToolTip("The same password again, to catch a typo")
        self.backup_button = QPushButton("Make backup")
        self.backup_button.setToolTip("Encrypt the secret key with this password; store the result safely")
        self.backup_button.clicked.connect(lambda: spawn(self.backup(), "backup"))
        self.backup_view = QLineEdit()
        self.backup_view.setReadOnly(True)
        self.backup_view.setPlaceholderText("the ncryptsec appears here")
        self.backup_view.setToolTip("Your secret key encrypted with the password (ncryptsec, NIP-49): "
                                    "safe to store, useless without the password")
        copy = QPushButton("Copy")
        copy.setToolTip("Copy the encrypted backup")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.backup_view.text()))
        row = QHBoxLayout()
        row.addWidget(self.backup_view, 1)
        row.addWidget(copy)
        f.addRow("npub", self.npub_view)
        f.addRow("Password", self.backup_password)
        f.addRow("Again", self.backup_confirm)
        f.addRow(self.backup_button)
        f.addRow("Backup", row)
        self.backup_box = box
        return box

    # --- services -------------------------------------------------------------------------------------
    def attach(self, services: Any, bridge: Any) -> None:
        super().attach(services, bridge)
        self.keys = services.vault
        problem = services.problems.get("vault")
        if self.keys is None and problem:
            self.keyring_text.setText(
                f"{problem}\n\nnostr-desk keeps secret keys only in a secure system keyring and never in "
                "a plain file. You can still use a session-only key: it lives in memory until you quit.")
            self.keyring_box.show()
        self._set_enabled(self.keys is not None)
        self.refresh()

    def use_session_only(self) -> None:
        self.keys = self.services.use_session_keys()
        self.keyring_box.hide()
        self.create_hint.setText("A new secret key is made for this session only: it is kept in memory and "
                                 "forgotten when nostr-desk quits. Make an encrypted backup to keep it.")
        self._set_enabled(True)
        self.say("Session-only keys: they are forgotten when nostr-desk quits. Make an ncryptsec backup "
                 "if you want to keep one.")
        self.refresh()

    def refresh(self) -> None:
        active = self.keys.active if self.keys is not None else None
        accounts = self.keys.accounts() if self.keys is not None else []
        self.model.set_rows([AccountRow.of(a, active.pubkey if active else None) for a in accounts])
        first_run = self.model.rowCount() == 0
        self.intro.setVisible(first_run)
        self.table.setVisible(not first_run)
        self.backup_box.setVisible(not first_run)
        for w in (self.use_button, self.remove_button, self.add_label):
            w.setVisible(not first_run)
        if self.selected() is None and active is not None:
            self.table.selectRow(self.model.find(active.pubkey))
        self._selection_changed()

    def selected(self) -> AccountRow | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].data(ROW_ROLE) if rows else None

    def _selection_changed(self) -> None:
        row = self.selected()
        self._confirm_remove = None
        self.remove_button.setText("Remove…")
        self.npub_view.setText(row.npub if row else "")
        self.backup_view.clear()
        can_backup = row is not None and not row.watch_only
        for w in (self.backup_password, self.backup_confirm, self.backup_button):
            w.setEnabled(can_backup)

    def _changed(self) -> None:
        self.refresh()
        if self.bridge is not None:
            self.bridge.changed.emit("accounts")

    # --- actions --------------------------------------------------------------------------------------
    async def create(self) -> None:
        account = await asyncio.to_thread(self.keys.generate)
        if self.keys.active is None or self.model.rowCount() == 0:
            self.keys.use(account.pubkey)
        self._changed()
        self.table.selectRow(self.model.find(account.pubkey))
        self.say(f"Created your key. Your public key is {AccountRow.of(account, None).npub}. "
                 "Make an encrypted backup below: without it, losing this computer loses the account.")

    async def import_key(self) -> None:
        from nostr_desk.keys.manager import KeyImportError, PasswordRequired
        text, password = self.import_text.text().strip(), self.import_password.text() or None
        try:
            account = await asyncio.to_thread(self.keys.import_key, text, password)
        except PasswordRequired:
            self.say("This is an encrypted key (ncryptsec): type its password too.", error=True)
            return
        except KeyImportError as exc:
            self.say(f"Not imported: {exc}", error=True)
            return
        self.import_text.clear()
        self.import_password.clear()
        self._adopt(account, "Imported")

    async def watch(self) -> None:
        from nostr_desk.keys.manager import KeyImportError
        try:
            account = await asyncio.to_thread(self.keys.watch, self.watch_text.text().strip())
        except (KeyImportError, ValueError) as exc:
            self.say(f"Not added: {exc}", error=True)
            return
        self.watch_text.clear()
        self._adopt(account, "Watching")

    def _adopt(self, account: Any, verb: str) -> None:
        if self.keys.active is None:
            self.keys.use(account.pubkey)
        self._changed()
        self.table.selectRow(self.model.find(account.pubkey))
        self.say(f"{verb} {AccountRow.of(account, None).npub}.")

    async def backup(self) -> None:
        row = self.selected()
        password, again = self.backup_password.text(), self.backup_confirm.text()
        if row is None:
            return
        if len(password) < 8:
            self.say("Choose a password of at least 8 characters.", error=True)
            return
        if password != again:
            self.say("The two passwords differ.", error=True)
            return
        self.backup_button.setEnabled(False)
        self.say("Encrypting (this takes a moment on purpose)…")
        try:
            backup = await asyncio.to_thread(self.keys.export_ncryptsec, row.pubkey, password)
        finally:
            self.backup_button.setEnabled(True)
        self.backup_password.clear()
        self.backup_confirm.clear()
        self.backup_view.setText(backup)
        self.say("Backup ready: copy it somewhere safe. It needs the password to be used.")

    def use_selected(self) -> None:
        row = self.selected()
        if row is not None:
            self.keys.use(row.pubkey)
            self._changed()
            self.say(f"Now using {row.label or row.npub}.")

    def remove_selected(self) -> None:
        row = self.selected()
        if row is None:
            return
        if self._confirm_remove != row.pubkey:  # two clicks, no modal dialog
            self._confirm_remove = row.pubkey
            self.remove_button.setText("Click again to remove")
            self.say("Removing deletes the secret key from the keyring. Without a backup it is gone.",
                     error=True)
            return
        self.keys.remove(row.pubkey)
        self._changed()
        self.say("Account removed.")

    def say(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(ERROR_STYLE if error else "")

    def _set_enabled(self, on: bool) -> None:
        self.tabs.setEnabled(on)
