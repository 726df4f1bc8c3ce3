"""The Monitor page: live per-relay charts of latency, status, events/s, rate limits, bad signatures.

Data flow: bridge signals (samples, status changes, event counts per tick) and a once-a-second poll of
the pool's counters go into ring buffers (`SeriesBook`); a 1 s timer redraws the visible charts from
them. Nothing is drawn per event. History for the 5 min / 1 h / 24 h windows is loaded from the
health samples the pool stores, so charts survive a restart.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QCheckBox, QComboBox, QGridLayout, QHBoxLayout, QLabel, QPushButton,
                               QScrollArea, QVBoxLayout, QWidget)

from nostr_desk.ui.charts.palette import colour_for, dashed
from nostr_desk.ui.charts.ring import SeriesBook
from nostr_desk.ui.history import load_history
from nostr_desk.ui.models.relays import status_level
from nostr_desk.ui.pages.base import Page, empty_state, page_layout
from nostr_desk.ui.pool_access import PoolAccess

log = logging.getLogger(__name__)

WINDOWS = {"5 minutes": 300, "1 hour": 3600, "24 hours": 86400}
RATE_LIMITS, FAILURES = "rate_limited/tick", "verify_failures/tick"  # increases per poll (1 s)
LATENCY = {"Ping": "ping_ms", "REQ → EOSE": "eose_ms", "Publish → OK": "ok_ms", "Connect": "connect_ms"}


class MonitorPage(Page):
    title = "Monitor"
    tooltip = "Live health charts per relay"

    def __init__(self, parent: QWidget | None = None, redraw_ms: int = 1000) -> None:
        super().__init__(parent)
        self.book = SeriesBook()
        self.access: PoolAccess | None = None
        self.colours: dict[str, str] = {}
        self.dashed: set[str] = set()       # relays past the palette's 12 colours: dashed lines
        self.toggles: dict[str, QCheckBox] = {}
        self.redraws = 0
        layout = page_layout(self, "Monitor", "Each relay's health over time. Hover a chart for values; "
                             "untick a relay to hide it.")
        controls = QHBoxLayout()
        self.window_box = QComboBox()
        self.window_box.addItems(list(WINDOWS))
        self.window_box.setToolTip("How much history the charts show (kept across restarts)")
        self.window_box.currentTextChanged.connect(lambda _t: self.redraw())
        self.latency_box = QComboBox()
        self.latency_box.addItems(list(LATENCY))
        self.latency_box.setToolTip("Which latency the first chart shows")
        self.latency_box.currentTextChanged.connect(lambda _t: self.redraw())
        controls.addWidget(QLabel("Window"))
        controls.addWidget(self.window_box)
        controls.addSpacing(12)
        controls.addWidget(QLabel("Latency"))
        controls.addWidget(self.latency_box)
        controls.addStretch(1)
        # With a dozen relays, ticking boxes one by one to compare two of them is tedious.
        self.all_button = QPushButton("Show all")
        self.all_button.setToolTip("Show every relay in the charts")
        self.all_button.clicked.connect(lambda: self.show_only(None))
        self.none_button = QPushButton("Hide all")
        self.none_button.setToolTip("Hide every relay; then tick the ones to compare")
        self.none_button.clicked.connect(lambda: self.show_only(set()))
        controls.addWidget(self.all_button)
        controls.addWidget(self.none_button)
        layout.addLayout(controls)

        body = QHBoxLayout()
        self.legend = QVBoxLayout()
        self.legend.setAlignment(Qt.AlignmentFlag.AlignTop)
        legend_w = QWidget()
        legend_w.setLayout(self.legend)
        scroll = QScrollArea()
        scroll.setWidget(legend_w)
        scroll.setWidgetResizable(True)
        scroll.setFixedWidth(230)
        scroll.setToolTip("Relays: tick to show, untick to hide")
        body.addWidget(scroll)
        self.empty = empty_state("No relays to watch yet. Add relays on the Relays page; their health "
                                 "appears here within seconds.")
        self.legend.addWidget(self.empty)

        self.grid = QGridLayout()
        self.charts_ready = False
        body.addLayout(self.grid, 1)
        layout.addLayout(body, 1)
        self.timer = QTimer(self)
        self.timer.setInterval(redraw_ms)
        self.timer.timeout.connect(self.tick)

    def build_charts(self) -> None:
        """pyqtgraph costs ~0.6 s to import: the charts are made once the window is already shown."""
        if self.charts_ready:
            return
        from nostr_desk.ui.charts.plots import RelayPlot
        self.latency = RelayPlot("Latency", "ms")
        self.status = RelayPlot("Status", "", step=True,
                                fmt=lambda v: {2: "connected", 1: "trying", 0: "down"}.get(round(v), "?"))
        self.status.fix_y(2.3, [(0, "down"), (1, "trying"), (2, "connected")])
        self.events = RelayPlot("Events received", "per s")
        self.rate_limits = RelayPlot("Rate-limit signals", "per s")
        self.failures = RelayPlot("Signature failures", "per s")
        self.grid.addWidget(self.latency, 0, 0, 1, 2)
        self.grid.addWidget(self.status, 1, 0)
        self.grid.addWidget(self.events, 1, 1)
        self.grid.addWidget(self.rate_limits, 2, 0)
        self.grid.addWidget(self.failures, 2, 1)
        self.charts_ready = True

    # --- feeding the rings ------------------------------------------------------------------------------
    def attach(self, services: Any, bridge: Any) -> None:
        super().attach(services, bridge)
        self.build_charts()
        bridge.health_sample.connect(self.on_sample)
        bridge.status_changed.connect(self.on_status)
        bridge.events_tick.connect(self.on_events)
        if services.pool is not None:
            self.access = PoolAccess(services.pool, services)
            for url, metric, t, v in load_history(services, since=time.time() - max(WINDOWS.values())):
                self.book.add(url, metric, t, v)
            relay_list = services.relay_list
            for url in self.book.urls():  # the user's relays have their history drawn at once
                if relay_list is None or relay_list.get(url) is not None:
                    self._ensure_relay(url)
        else:
            self.empty.setText("The relay pool is not running, so there is nothing to chart. "
                               + services.problems.get("pool", ""))
        self.timer.start()

    def on_sample(self, sample: Any) -> None:
        # Latencies only: the pool also samples its running counters (verify_failures, …), which
        # the poll turns into per-second increases below.
        if sample.metric.endswith("_ms"):
            self.book.add(sample.url, sample.metric, sample.at or time.time(), sample.value)

    def on_status(self, notice: Any) -> None:
        self.book.add(notice.url, "status", notice.at or time.time(), status_level(notice.new))

    def on_events(self, counts: Any, _events: Any) -> None:
        now = time.time()
        for url in self.colours:
            self.book.add(url, "events", now, counts.get(url, 0))

    def poll(self) -> None:
        """Counters and status from the pool's snapshots, once a tick."""
        if self.access is None:
            return
        now = time.time()
        for snap in self.access.snapshots():
            self._ensure_relay(snap.url)
            self.book.add(snap.url, "status", now, status_level(str(snap.status)))
            self.book.add_count(snap.url, RATE_LIMITS, now, snap.rate_limited)
            self.book.add_count(snap.url, FAILURES, now, snap.verify_failures)

    def _ensure_relay(self, url: str) -> None:
        if url in self.colours:
            return
        index = len(self.colours)
        self.colours[url] = colour = colour_for(index)
        box = QCheckBox(url + ("  (dashed)" if dashed(index) else ""))
        if dashed(index):
            self.dashed.add(url)
        box.setChecked(True)
        box.setToolTip(f"Show {url} in the charts")
        box.setStyleSheet(f"QCheckBox {{ color: {colour}; font-weight: bold; }}")
        box.toggled.connect(lambda _v: self.redraw())
        self.toggles[url] = box
        self.empty.hide()
        self.legend.addWidget(box)

    # --- drawing ----------------------------------------------------------------------------------------
    def tick(self) -> None:
        self.poll()
        if self.isVisible():
            self.redraw()

    def show_only(self, urls: set[str] | None) -> None:
        """Tick exactly `urls` (None: all), then redraw once rather than once per box."""
        for url, box in self.toggles.items():
            box.blockSignals(True)
            box.setChecked(urls is None or url in urls)
            box.blockSignals(False)
        self.redraw()

    def visible_relays(self) -> dict[str, str]:
        return {url: c for url, c in self.colours.items() if self.toggles[url].isChecked()}

    def redraw(self) -> int:
        if not self.charts_ready:
            return 0
        now = time.time()
        since = now - WINDOWS[self.window_box.currentText()]
        urls = self.visible_relays()
        metric = LATENCY[self.latency_box.currentText()]
        gap = 3 * (self.services.pool.config.ping_interval if self._has_ping() else 30.0)
        dash = frozenset(self.dashed)
        drawn = self.latency.redraw(self.book, metric, urls, since, now, gap=gap, dashed=dash)
        drawn += self.status.redraw(self.book, "status", urls, since, now, gap=5.0,
                                    spread=0.15 / max(len(urls), 1), dashed=dash)
        for chart, series in ((self.events, "events"), (self.rate_limits, RATE_LIMITS),
                              (self.failures, FAILURES)):
            drawn += chart.redraw(self.book, series, urls, since, now, gap=5.0, dashed=dash)
        self.redraws += 1
        return drawn

    def _has_ping(self) -> bool:
        pool = getattr(self.services, "pool", None)
        return bool(getattr(getattr(pool, "config", None), "ping_interval", 0))

    def shown(self) -> None:
        self.redraw()
