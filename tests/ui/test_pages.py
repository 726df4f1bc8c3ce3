"""Local relay, Monitor and Settings pages with real services: stop/start, export/import with progress
and cancel, compact; chart history across a restart, windows, toggles, hover read-outs; settings."""

from __future__ import annotations

import json
import time

import pytest
from PySide6.QtCore import QPointF

from nostr_desk.app.services import Services
from nostr_desk.ui.pages.local_relay import LocalRelayPage
from nostr_desk.ui.pages.monitor import MonitorPage
from nostr_desk.ui.pages.settings import SettingsPage
from tests.pool.events import make_event
from tests.pool.fault_relay import FaultRelay
from tests.ui.helpers import fast_pool, open_window


def test_stop_start_and_copy(qtbot, config, services, run):
    window = open_window(qtbot, config, services)
    page = window.page(LocalRelayPage)
    window.show_page(3)
    assert page.state.text() == "● Running" and page.url.text() == services.relay.url
    page.copy_button.click()
    from PySide6.QtWidgets import QApplication
    assert QApplication.clipboard().text() == services.relay.url
    run(page.stop_relay())
    assert page.state.text() == "● Stopped" and page.start_button.isEnabled()
    window.refresh_status()
    assert window.local_state.text() == "Local relay: stopped"
    run(page.start_relay())
    assert page.state.text() == "● Running"


def test_export_import_with_progress_and_cancel(qtbot, config, services, run, tmp_path, vectors):
    window = open_window(qtbot, config, services)
    page = window.page(LocalRelayPage)
    source = vectors / "real-events.jsonl"
    result = run(page.run_transfer("import", source), timeout=120)
    assert result.done > 2000 and not result.cancelled
    assert "new" in page.progress_text.text() and "refused" in page.progress_text.text()
    stored = services.store.stats().events
    assert stored > 2000
    page.refresh()  # the count runs in a worker thread, then fills in
    qtbot.waitUntil(lambda: page.fields["events"].text() == f"{stored:,}", timeout=5000)
    out = tmp_path / "out.jsonl"
    result = run(page.run_transfer("export", out), timeout=120)
    assert result.done == stored and len(out.read_text().splitlines()) == stored
    # cancel: the flag is set before the worker's first chunk, so nothing is written
    page.cancel_flag.set()
    original = page.cancel_flag.clear
    page.cancel_flag.clear = lambda: None  # keep it set through run_transfer's reset
    try:
        result = run(page.run_transfer("export", tmp_path / "cancelled.jsonl"))
    finally:
        page.cancel_flag.clear = original
    assert result.cancelled and not (tmp_path / "cancelled.jsonl").exists()
    assert "cancelled" in page.progress_text.text()
    run(page.compact(), timeout=120)
    assert "Compacted" in page.progress_text.text()


def test_bad_import_file_is_a_message(qtbot, config, services, run, tmp_path):
    window = open_window(qtbot, config, services)
    page = window.page(LocalRelayPage)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"not": "an event"}\nnonsense\n' + make_event(1).to_json() + "\n")
    result = run(page.run_transfer("import", bad))
    assert (result.refused, result.outcomes.get("saved")) == (2, 1)
    run(page.run_transfer("import", tmp_path / "missing.jsonl"))
    assert "Import failed" in page.progress_text.text()


def test_monitor_history_survives_restart_and_toggles(qtbot, config, run):
    relay = run(FaultRelay().start())
    try:
        svc = Services(config, pool_config=fast_pool(ping_interval=0.2))
        run(svc.start())
        svc.relay_list.add(relay.url)
        window = open_window(qtbot, config, svc)
        monitor = window.page(MonitorPage)
        window.show_page(2)
        qtbot.waitUntil(lambda: (monitor.book.ring(relay.url, "ping_ms") or _Empty).size >= 3
                        and relay.url in monitor.toggles, timeout=10000)
        # hover over the latency chart: the read-out names the relay and a value
        plot = monitor.latency
        monitor.redraw()
        centre = plot.mapToScene(plot.viewport().rect().center())
        plot._hover(QPointF(centre))
        assert relay.url in plot.last_hover and "ms" in plot.last_hover
        monitor.toggles[relay.url].setChecked(False)
        assert monitor.latency.curves[relay.url].getData()[0] is None or \
            len(monitor.latency.curves[relay.url].getData()[0]) == 0
        window.close()
        run(svc.aclose())  # flushes the pool's health samples to the store
        from nostr_desk.app.config import build_config
        config = build_config(config.data_dir, relay_port=config.relay_port)  # a new start reads settings
        assert [r.url for r in config.relays] == [relay.url]
        again = Services(config, pool_config=fast_pool())
        run(again.start())
        try:
            window2 = open_window(qtbot, config, again)
            monitor2 = window2.page(MonitorPage)
            ring = monitor2.book.ring(relay.url, "ping_ms")
            assert ring is not None and ring.size >= 3  # drawn from the stored history
            status = monitor2.book.ring(relay.url, "status")
            assert status is not None and 2.0 in status.arrays()[1]  # "connected" was stored too
            monitor2.window_box.setCurrentText("24 hours")
            assert monitor2.redraw() > 0
        finally:
            run(again.aclose())
    finally:
        run(relay.stop())


class _Empty:
    size = 0


def test_settings_save_and_apply_next_start(qtbot, config, services):
    window = open_window(qtbot, config, services)
    page = window.page(SettingsPage)
    assert page.data_dir.text() == str(config.data_dir) and page.port.value() == config.relay_port
    page.port.setValue(5123)
    page.limits["max_limit"].setValue(321)
    page.save_button.click()
    assert "Restart" in page.message.text()
    saved = json.loads(config.paths.settings_file.read_text())
    assert saved["relay_port"] == 5123 and saved["limits"]["max_limit"] == 321
    from nostr_desk.app.config import build_config
    assert build_config(config.data_dir).relay_port == 5123
    page.host.setText("")  # an empty bind address falls back to loopback, never to "all interfaces"
    page.save_button.click()
    assert json.loads(config.paths.settings_file.read_text())["relay_host"] == "127.0.0.1"


def test_failure_history_comes_back_as_increases(qtbot, config, run):
    """Signature failures stored by the pool (running totals) are charted as increases after a restart."""
    from nostr_desk.protocol.filters import Filter
    from nostr_desk.ui.pages.monitor import FAILURES
    from tests.pool.events import bad_sig
    relay = run(FaultRelay().start())
    try:
        relay.add(*[bad_sig(make_event(i)) for i in range(4)])
        svc = Services(config, pool_config=fast_pool())
        run(svc.start())
        svc.relay_list.add(relay.url)
        run(svc.pool.fetch([Filter(kinds=frozenset({1}))], relays=[relay.url]))
        assert svc.pool.health()[relay.url].verify_failures == 4
        run(svc.aclose())
        from nostr_desk.app.config import build_config
        config = build_config(config.data_dir, relay_port=config.relay_port)
        again = Services(config, pool_config=fast_pool())
        run(again.start())
        try:
            window = open_window(qtbot, config, again)
            ring = window.page(MonitorPage).book.ring(relay.url, FAILURES)
            assert ring is not None and ring.arrays()[1].sum() == 4
        finally:
            run(again.aclose())
    finally:
        run(relay.stop())


def test_charts_follow_a_palette_change(qtbot, config, services):
    from PySide6.QtGui import QColor, QPalette
    window = open_window(qtbot, config, services)
    plot = window.page(MonitorPage).latency
    dark = QPalette(plot.palette())
    dark.setColor(QPalette.ColorRole.Base, QColor("#202020"))
    plot.setPalette(dark)  # what a system switch to dark delivers
    assert plot.backgroundBrush().color().name() == "#202020"
