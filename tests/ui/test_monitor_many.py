"""The Monitor with a power user's dozen-plus relays: every line tellable apart, hover names them all,
toggles hide exactly one, charts start at zero and the status axis reads in words."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QPointF

from nostr_desk.ui.charts.palette import PALETTE
from nostr_desk.ui.pages.monitor import MonitorPage

URLS = [f"wss://relay{n:02d}.example.com" for n in range(14)]


def _page(qtbot) -> MonitorPage:
    page = MonitorPage()
    qtbot.addWidget(page)
    page.resize(1200, 800)
    page.show()
    page.build_charts()
    now = time.time()
    for n, url in enumerate(URLS):
        page._ensure_relay(url)
        for k in range(20):
            page.book.add(url, "ping_ms", now - 60 + 3 * k, 100.0 + n)  # 100..113 ms, one level per relay
            page.book.add(url, "status", now - 60 + 3 * k, 2.0)
    return page


def test_fourteen_relays_are_distinguishable(qtbot):
    page = _page(qtbot)
    assert page.redraw() > 0
    pens = [page.latency.curves[url].opts["pen"] for url in URLS]
    first_round = {(p.color().name(), p.style()) for p in pens[:len(PALETTE)]}
    assert len(first_round) == len(PALETTE)                     # twelve different colours
    assert len({(p.color().name(), p.style()) for p in pens}) == len(URLS)   # and no two lines alike
    assert "(dashed)" in page.toggles[URLS[-1]].text()          # the legend says which are dashed
    # the y axis starts at zero, not at the lowest sample
    (_x0, _x1), (y0, y1) = page.latency.viewRange()
    assert y0 == 0 and y1 >= 113
    # status reads in words
    ticks = page.status.getAxis("left")._tickLevels
    assert ticks and [label for _v, label in ticks[0]] == ["down", "trying", "connected"]


def test_hover_names_every_visible_relay_and_toggle_hides_one(qtbot):
    page = _page(qtbot)
    page.redraw()
    plot = page.latency
    plot._hover(QPointF(plot.mapToScene(plot.viewport().rect().center())))
    for n, url in enumerate(URLS):
        assert f"{url}: {100 + n} ms" in plot.last_hover
    assert plot.last_hover.splitlines()[0].count(":") == 2      # first line: the time hovered (HH:MM:SS)
    page.toggles[URLS[3]].setChecked(False)
    t, _v = plot.curves[URLS[3]].getData()
    assert t is None or len(t) == 0
    assert all(len(plot.curves[u].getData()[0]) for u in URLS if u != URLS[3])
    plot._hover(QPointF(plot.mapToScene(plot.viewport().rect().center())))
    assert URLS[3] not in plot.last_hover and URLS[4] in plot.last_hover
    assert np.isfinite(page.status.curves[URLS[0]].getData()[1]).all()


def test_hide_all_then_pick_two_to_compare(qtbot):
    page = _page(qtbot)
    page.none_button.click()
    assert page.visible_relays() == {}
    assert all(len(c.getData()[0] if c.getData()[0] is not None else []) == 0 for c in page.latency.curves.values())
    page.toggles[URLS[1]].setChecked(True)
    page.toggles[URLS[12]].setChecked(True)
    assert set(page.visible_relays()) == {URLS[1], URLS[12]}
    page.all_button.click()
    assert len(page.visible_relays()) == len(URLS)
