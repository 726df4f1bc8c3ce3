"""Whole-app behaviour: the real entry point shows the window and exits cleanly; a busy local relay
port becomes a sentence in the status bar; an unexpected error opens a copyable dialog and the app
keeps running; NIP-42 'ask' puts the question to the user; shutdown is ordered and loses nothing."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from nostr_desk.app.services import Services
from nostr_desk.ui.errors import ErrorReporter
from nostr_desk.ui.pages.local_relay import LocalRelayPage
from tests.ui.helpers import fast_pool, open_window

NSEC = "nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5"


def test_entry_point_opens_the_window_and_quits_cleanly(tmp_path):
    code = ("import sys; from nostr_desk.app.config import build_config; from nostr_desk.app.gui import run_gui; "
            f"sys.exit(run_gui(build_config({str(tmp_path)!r}, relay_port=0), quit_after=3))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    log = (tmp_path / "logs" / "nostr-desk.log").read_text()
    assert "window shown" in log and "services stopped" in log


def test_busy_port_is_said_in_the_status_bar(qtbot, config, run):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", config.relay_port))
        blocker.listen()
        svc = Services(config, pool_config=fast_pool())
        run(svc.start())
        try:
            assert svc.relay is None and "already in use" in svc.problems["relay"]
            window = open_window(qtbot, config, svc)
            text = window.local_state.text()
            assert f"port {config.relay_port}" in text and "in use" in text
            page = window.page(LocalRelayPage)
            assert "Settings" in page.url.text() and page.state.text() == "● Not running"
            assert svc.store is not None  # everything else still runs
        finally:
            run(svc.aclose())


def test_unexpected_error_dialog_is_copyable_and_redacted(qtbot, qloop):
    from nostr_desk.app.logging_setup import redact
    reporter = ErrorReporter(None, redact)
    reporter.install(qloop)
    try:
        async def boom():
            raise ValueError(f"broken with {NSEC}")
        qloop.create_task(boom())
        qtbot.waitUntil(lambda: reporter.dialog is not None and reporter.dialog.isVisible(), timeout=5000)
        details = reporter.dialog.details.toPlainText()
        assert "ValueError: broken with [redacted]" in details and NSEC not in details
        reporter.dialog.copy_button.click()
        assert "ValueError" in QApplication.clipboard().text()
        sys.excepthook(RuntimeError, RuntimeError("second"), None)  # a Qt slot failing
        assert reporter.count == 2 and "second" in reporter.dialog.details.toPlainText()
        reporter.dialog.close()
    finally:
        reporter.uninstall(qloop)


def test_auth_ask_puts_the_question(qtbot, config, services, run):
    window = open_window(qtbot, config, services)
    task = asyncio.ensure_future(window.ask_auth("wss://relay.example.com"))
    qtbot.waitUntil(lambda: getattr(window, "auth_box", None) is not None and window.auth_box.isVisible(),
                    timeout=3000)
    assert "wss://relay.example.com" in window.auth_box.text()
    window.auth_box.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(task.done, timeout=3000)
    assert task.result() is True


def test_ordered_shutdown_keeps_acknowledged_events(config, run):
    """Stop pool -> relay -> writer -> SQLite: an event acknowledged before close is there after."""
    from nostr_desk.protocol.event import EventTemplate, sign
    from tests.pool.events import secret
    svc = Services(config, pool_config=fast_pool())
    run(svc.start())
    event = sign(EventTemplate(kind=1, content="kept", tags=[], created_at=1_700_000_000), secret(3),
                 aux_rand=bytes(32))
    result = run(svc.relay.publish_local(event))
    assert result.accepted
    run(svc.aclose())
    assert svc.store is None and svc.pool.connections == {}  # closed in order, nothing left open
    again = Services(config, pool_config=fast_pool())
    run(again.start())
    try:
        assert again.store.get(event.id) is not None
    finally:
        run(again.aclose())


def test_sigterm_shuts_down_in_order(tmp_path):
    import os
    import signal
    import time
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen([sys.executable, "-m", "nostr_desk", "--data-dir", str(tmp_path), "--relay-port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    log = tmp_path / "logs" / "nostr-desk.log"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (log.exists() and "services ready" in log.read_text()):
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "Traceback" not in err
    assert log.read_text().rstrip().endswith("services stopped")
