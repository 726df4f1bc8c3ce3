"""A relay's recent NOTICE / CLOSED / OK-false messages, plural and with times, in its detail.

The pool's health keeps only the last of each; the bridge keeps a ring of every change it sees.
"""

from __future__ import annotations

from nostr_desk.pool.health import RelayHealth
from nostr_desk.ui.pages.relays import RelaysPage
from nostr_desk.ui.relay_messages import RelayMessages
from tests.pool.events import make_event
from tests.pool.fault_relay import FaultRelay, Faults
from tests.ui.helpers import open_window

URL = "wss://relay.example.com"


def test_ring_keeps_each_change_newest_first_and_bounded():
    health, book = RelayHealth(URL), RelayMessages(keep=3)
    health.notice("hello from the relay", 0)
    assert book.observe([health.snapshot()], now=100.0) == 1
    assert book.recent(URL)[0].at is None          # was there before the first look: "earlier"
    assert book.observe([health.snapshot()], now=101.0) == 0   # unchanged: not added twice
    health.closed("rate-limited: slow down", 0)
    health.ok_false("blocked: you are banned", 0)
    assert book.observe([health.snapshot()], now=102.0) == 2
    health.notice("second notice", 0)
    book.observe([health.snapshot()], now=103.0)
    recent = book.recent(URL)
    assert [m.kind for m in recent] == ["NOTICE", "OK false", "CLOSED"]   # the oldest fell off (keep=3)
    assert recent[0].text == "second notice" and recent[0].at == 103.0
    assert "NOTICE: second notice" in recent[0].line() and ":" in recent[0].line()[:8]
    book.forget(URL)
    assert book.recent(URL) == []


def test_detail_lists_notice_and_ok_false_with_times(qtbot, config, services, run):
    relay = run(FaultRelay(Faults(notice_on_connect="welcome, be nice",
                                  ok_prefix="blocked: not on the allow list")).start())
    try:
        window = open_window(qtbot, config, services)
        page = window.page(RelaysPage)
        window.show_page(1)
        page.url_edit.setText(relay.url)
        page.add_button.click()
        qtbot.waitUntil(lambda: page.model.find(relay.url) >= 0, timeout=5000)
        page.select(relay.url)
        qtbot.waitUntil(lambda: "welcome, be nice" in page.messages_view.toPlainText(), timeout=5000)
        run(services.pool.publish(make_event(3), primaries=[relay.url]))
        run(services.pool.publish(make_event(4), primaries=[relay.url]))
        qtbot.waitUntil(lambda: "OK false: blocked: not on the allow list" in page.messages_view.toPlainText(),
                        timeout=5000)
        text = page.messages_view.toPlainText()
        # newest first, both kept, each with a time of day
        assert text.index("OK false") < text.index("NOTICE")
        assert all(line[:2].isdigit() and line[2] == ":" for line in text.splitlines() if "OK false" in line)
        assert page.tabs.tabText(1).startswith("Messages (")
        page.remove_clicked()
        qtbot.waitUntil(lambda: page.model.find(relay.url) < 0, timeout=5000)
        assert window.bridge.messages.recent(relay.url) == []
    finally:
        run(relay.stop())
