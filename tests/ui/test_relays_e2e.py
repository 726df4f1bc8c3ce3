"""End to end on 127.0.0.1, real pool and relays: add a relay on the Relays page → it connects and shows
status and latency; stop it → the light turns red and the chart shows the gap; a relay sending bad
signatures → the failure count rises on the Monitor; `rate-limited:` answers → shown."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nostr_desk.protocol.filters import Filter
from nostr_desk.ui.models.relays import light_colour
from nostr_desk.ui.pages.monitor import FAILURES, RATE_LIMITS, MonitorPage
from nostr_desk.ui.pages.relays import RelaysPage
from tests.pool.events import bad_sig, make_event
from tests.pool.fault_relay import FaultRelay, Faults
from tests.ui.helpers import open_window

RED, GREEN = "#e74c3c", "#2ecc71"


@pytest.fixture
def fault_relay(run):
    relay = run(FaultRelay().start())
    yield relay
    run(relay.stop())


def add_via_page(qtbot, page: RelaysPage, url: str) -> None:
    page.url_edit.setText(url)
    page.add_button.click()
    qtbot.waitUntil(lambda: page.model.find(url) >= 0, timeout=5000)


def row_of(page: RelaysPage, url: str):
    return page.model.row(page.model.find(url))


def test_add_connect_latency_then_stop_turns_red(qtbot, config, services, fault_relay, run):
    window = open_window(qtbot, config, services)
    page = window.page(RelaysPage)
    window.show_page(1)
    url = fault_relay.url
    add_via_page(qtbot, page, url)
    qtbot.waitUntil(lambda: row_of(page, url).status == "connected", timeout=5000)
    qtbot.waitUntil(lambda: row_of(page, url).ping_ms is not None, timeout=5000)
    row = page.model.find(url)
    assert page.model.data(page.model.index(row, 4)).endswith(" ms")
    assert light_colour(row_of(page, url).status) == GREEN
    assert "1 of 1 connected" in window.relays_state.text()
    # the choice is remembered in the settings file (survives a restart)
    saved = json.loads(config.paths.settings_file.read_text())["relays"]
    assert saved == [{"url": url, "read": True, "write": True, "auth": "ask"}]
    # the selected relay's detail: NIP-11 is not served by this relay, and that is said plainly
    page.select(url)
    qtbot.waitUntil(lambda: "NIP-11" in page.info.toPlainText() and "loading" not in page.info.toPlainText(),
                    timeout=5000)

    monitor = window.page(MonitorPage)
    window.show_page(2)
    qtbot.waitUntil(lambda: url in monitor.toggles, timeout=3000)
    run(fault_relay.stop())
    qtbot.waitUntil(lambda: light_colour(row_of(page, url).status) == RED, timeout=5000)
    assert "0 of 1 connected" in window.relays_state.text()
    # the status chart has a drop to 0 (down) after having been at 2 (connected)
    qtbot.waitUntil(lambda: _status_values(monitor, url)[-1:] == [0.0], timeout=5000)
    assert 2.0 in _status_values(monitor, url)
    monitor.redraw()
    t, v = monitor.latency.curves[url].getData()
    assert len(t) > 0  # latency was drawn while it was up


def _status_values(monitor: MonitorPage, url: str) -> list[float]:
    ring = monitor.book.ring(url, "status")
    return [] if ring is None else [float(x) for x in ring.arrays()[1]]


def test_flags_policy_and_remove(qtbot, config, services, fault_relay):
    window = open_window(qtbot, config, services)
    page = window.page(RelaysPage)
    add_via_page(qtbot, page, fault_relay.url)
    page.select(fault_relay.url)
    page.write_box.setChecked(False)
    page.policy.setCurrentText("never")
    assert fault_relay.url not in services.pool.write_relays
    assert services.pool.connections[fault_relay.url].auth.policy == "never"
    assert row_of(page, fault_relay.url).policy == "never" and not row_of(page, fault_relay.url).write
    page.remove_button.click()
    qtbot.waitUntil(lambda: page.model.rowCount() == 0, timeout=5000)
    assert page.table_stack.currentWidget() is page.empty
    assert json.loads(config.paths.settings_file.read_text())["relays"] == []


@pytest.mark.parametrize("text, why", [("", "Type a relay"), ("http://example.com", "not a relay address"),
                                       ("wss://", "not a relay address")])
def test_bad_urls_get_a_readable_message(qtbot, config, services, text, why):
    window = open_window(qtbot, config, services)
    page = window.page(RelaysPage)
    page.url_edit.setText(text)
    page.add_button.click()
    assert why in page.message.text() and page.model.rowCount() == 0


def test_bad_signatures_raise_the_failure_count(qtbot, config, services, fault_relay, run):
    window = open_window(qtbot, config, services)
    relays, monitor = window.page(RelaysPage), window.page(MonitorPage)
    window.show_page(2)
    fault_relay.add(*[bad_sig(make_event(i)) for i in range(5)], make_event(99))
    add_via_page(qtbot, relays, fault_relay.url)
    events = run(services.pool.fetch([Filter(kinds=frozenset({1}))], relays=[fault_relay.url]))
    assert [e.id for e in events] == [make_event(99).id]  # only the good one gets through
    qtbot.waitUntil(lambda: row_of(relays, fault_relay.url).verify_failures == 5, timeout=5000)
    qtbot.waitUntil(lambda: _sum(monitor, fault_relay.url, FAILURES) == 5, timeout=5000)
    monitor.redraw()
    t, v = monitor.failures.curves[fault_relay.url].getData()
    assert np.nansum(v) == 5  # the chart shows the five failures


def _sum(monitor: MonitorPage, url: str, metric: str) -> float:
    ring = monitor.book.ring(url, metric)
    return 0.0 if ring is None else float(ring.arrays()[1].sum())


def test_rate_limited_answers_are_shown(qtbot, config, services, run):
    relay = run(FaultRelay(Faults(ok_prefix="rate-limited: slow down", ok_prefix_times=2)).start())
    try:
        window = open_window(qtbot, config, services)
        page, monitor = window.page(RelaysPage), window.page(MonitorPage)
        add_via_page(qtbot, page, relay.url)
        qtbot.waitUntil(lambda: row_of(page, relay.url).status == "connected", timeout=5000)
        report = run(services.pool.publish(make_event(7), primaries=[relay.url]))
        assert report.outcomes[0].message.startswith("rate-limited:")
        qtbot.waitUntil(lambda: row_of(page, relay.url).rate_limited >= 1, timeout=5000)
        row = page.model.find(relay.url)
        assert int(page.model.data(page.model.index(row, 7))) >= 1
        assert any("rate-limited" in m for m in row_of(page, relay.url).messages)
        status = page.model.data(page.model.index(row, 1))
        assert "rate-limited: paused" in status or row_of(page, relay.url).paused_for == 0
        qtbot.waitUntil(lambda: _sum(monitor, relay.url, RATE_LIMITS) >= 1, timeout=5000)
        # the outbox keeps retrying after the relay's back-off: delivered in the end
        qtbot.waitUntil(lambda: bool(relay.events), timeout=10000)
        qtbot.waitUntil(lambda: "No pending publishes" in window.pending_state.text(), timeout=5000)
    finally:
        run(relay.stop())


def test_publish_then_import_relay_list(qtbot, config, services, run, tmp_path):
    """Publish the edited list (kind 10002) to a relay; a fresh install with the same key imports it."""
    from nostr_desk.app.services import Services
    from tests.ui.helpers import fast_pool
    if services.vault is None:
        pytest.skip("no keyring")
    account = services.vault.generate("me")
    services.vault.use(account.pubkey)
    relay = run(FaultRelay().start())
    try:
        window = open_window(qtbot, config, services)
        page = window.page(RelaysPage)
        add_via_page(qtbot, page, relay.url)
        page.select(relay.url)
        page.read_box.setChecked(False)  # write-only
        qtbot.waitUntil(lambda: row_of(page, relay.url).status == "connected", timeout=5000)
        run(page.publish_list())
        assert "accepted by 1 of 1" in page.message.text()
        lists = [e for e in relay.events.values() if e.kind == 10002]
        assert len(lists) == 1 and lists[0].tags == [["r", relay.url, "write"]]

        other = Services(config.__class__(data_dir=tmp_path / "other", relay_port=0), pool_config=fast_pool())
        run(other.start())
        try:
            other.vault.import_key(services.vault.vault.load(account.pubkey).secret_bytes().hex())
            other.relay_list.add(relay.url)  # somewhere to read from
            window2 = open_window(qtbot, other.config, other)
            page2 = window2.page(RelaysPage)
            run(page2.import_list())
            assert "Imported 1 relay from" in page2.message.text()
            item = other.relay_list.get(relay.url)
            assert (item.read, item.write) == (False, True)
        finally:
            run(other.aclose())
    finally:
        run(relay.stop())
