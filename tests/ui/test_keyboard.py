"""Keyboard use: Ctrl+1…6 reach every page, Ctrl+N composes and Escape closes it, Enter in the
add-relay field submits, and nothing shows placeholder values before the services are up."""

from __future__ import annotations

from PySide6.QtCore import Qt

from nostr_desk.ui.bridge import Bridge
from nostr_desk.ui.main_window import MainWindow
from nostr_desk.ui.pages.home import HomePage
from nostr_desk.ui.pages.relays import RelaysPage
from nostr_desk.ui.pages.settings import SettingsPage
from tests.ui.helpers import open_window


def _focus(qtbot, window: MainWindow) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)


def test_ctrl_numbers_reach_every_page_and_ctrl_n_composes(qtbot, config, services):
    window = open_window(qtbot, config, services)
    _focus(qtbot, window)
    for n in range(6, 0, -1):
        qtbot.keyClick(window, Qt.Key(Qt.Key.Key_0 + n), Qt.KeyboardModifier.ControlModifier)
        assert window.stack.currentIndex() == n - 1, n
    window.show_page(3)
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    home = window.page(HomePage)
    assert window.stack.currentIndex() == 0 and home.composer.isVisible()
    assert home.composer.edit.hasFocus()
    qtbot.keyClicks(home.composer.edit, "draft")
    qtbot.keyClick(home.composer.edit, Qt.Key.Key_Escape)
    assert not home.composer.isVisible()
    home.compose()
    assert home.composer.edit.toPlainText() == "draft"   # Escape keeps the text, as Cancel does
    # every page and nav entry explains itself
    for i in range(window.nav.count()):
        assert "Ctrl+" in window.nav.item(i).toolTip()


def test_enter_in_the_add_relay_field_submits(qtbot, config, services):
    window = open_window(qtbot, config, services)
    page = window.page(RelaysPage)
    window.show_page(1)
    page.url_edit.setText("not a url at all")
    qtbot.keyClick(page.url_edit, Qt.Key.Key_Return)
    assert "not a relay address" in page.message.text() and "c0392b" in page.message.styleSheet()
    page.url_edit.setText("")
    qtbot.keyClick(page.url_edit, Qt.Key.Key_Return)
    assert "Type a relay address" in page.message.text()


def test_settings_form_waits_for_the_real_values(qtbot, config, services):
    bridge = Bridge()
    window = MainWindow(config, bridge)
    bridge.setParent(window)
    qtbot.addWidget(window)
    page = window.page(SettingsPage)
    assert not page.port.isEnabled() and not page.save_button.isEnabled()
    assert "Reading" in page.message.text()
    bridge.ready.emit(services)
    assert page.port.isEnabled() and page.port.value() == config.relay_port
    assert page.message.text() == ""


def test_every_control_explains_itself(qtbot, config, services):
    """Buttons, boxes and fields carry a tooltip (Qt's own scroll arrows and table corners aside)."""
    from PySide6.QtWidgets import QAbstractSpinBox, QCheckBox, QComboBox, QLineEdit, QPushButton
    window = open_window(qtbot, config, services)
    missing = []
    for page in window.pages:
        for cls in (QPushButton, QCheckBox, QComboBox, QAbstractSpinBox, QLineEdit):
            for w in page.findChildren(cls):
                inner = isinstance(w, QLineEdit) and isinstance(w.parent(), (QComboBox, QAbstractSpinBox))
                if not inner and not w.toolTip():
                    missing.append(f"{page.title}: {type(w).__name__} {getattr(w, 'text', lambda: '')()!r}")
    assert missing == []


def test_enter_in_the_watch_field_adds_the_account(qtbot, config, services):
    from nostr_desk.ui.pages.accounts import AccountsPage
    if services.vault is None:
        return
    window = open_window(qtbot, config, services)
    page = window.page(AccountsPage)
    page.watch_text.setText("npub1pmhevxtlt3478pvmdqt7dftnv6zc2mzpdc569yjm6ks4k2jhezcs53uksr")
    qtbot.keyClick(page.watch_text, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=5000)
    assert page.model.row(0).pubkey.startswith("0eef9619")
