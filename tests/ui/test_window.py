"""The main window with real services: navigation, shortcuts, status bar, and ordered shutdown."""

from __future__ import annotations

from PySide6.QtCore import Qt

from nostr_desk.ui.bridge import Bridge
from nostr_desk.ui.main_window import MainWindow


def make_window(qtbot, config, services):
    bridge = Bridge()
    window = MainWindow(config, bridge)
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)  # shortcuts go to the active window
    bridge.ready.emit(services)
    return window, bridge


def test_pages_and_shortcuts(qtbot, config, services):
    window, _ = make_window(qtbot, config, services)
    titles = [p.title for p in window.pages]
    assert titles == ["Home", "Relays", "Monitor", "Local relay", "Accounts", "Settings"]
    for number in range(1, 7):
        qtbot.keyClick(window, Qt.Key.Key_0 + number, Qt.KeyboardModifier.ControlModifier)
        assert window.stack.currentIndex() == number - 1
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert window.stack.currentIndex() == 0


def test_status_bar_shows_local_relay(qtbot, config, services):
    window, _ = make_window(qtbot, config, services)
    text = window.local_state.text()
    if services.relay is not None:
        assert f"running at ws://127.0.0.1:{config.relay_port}" in text
    else:
        assert "Local relay" in text
