"""At a small window size (1024x640, a laptop) the Relays table keeps each address whole: it is what
tells the rows apart; the status text gives way instead (elided, full text in its tooltip)."""

from __future__ import annotations

from nostr_desk.ui.pages.relays import RelaysPage
from tests.pool.fault_relay import FaultRelay
from tests.ui.helpers import open_window


def test_relay_addresses_stay_whole_at_1024_px(qtbot, config, services, run):
    relay = run(FaultRelay().start())
    try:
        window = open_window(qtbot, config, services)
        window.resize(1024, 640)
        page = window.page(RelaysPage)
        window.show_page(1)
        long_url = "wss://relay.a-rather-long-relay-name.example.com"
        services.relay_list.add(relay.url)
        services.relay_list.add(long_url)
        page.refresh()
        qtbot.waitUntil(lambda: page.model.find(long_url) >= 0, timeout=5000)
        qtbot.wait(50)  # let the header lay out
        needed = page.table.fontMetrics().horizontalAdvance(long_url)
        assert page.table.columnWidth(0) >= needed
        assert window.width() <= 1024 and window.minimumWidth() <= 1024
    finally:
        run(relay.stop())
