"""The Local relay page: running or stopped, its URL (copy), live counters, an ingest-rate chart,
start / stop, JSONL export and import with progress and cancel, and compacting the database.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QProgressBar,
                               QPushButton, QVBoxLayout, QWidget)
import shiboken6

from nostr_desk.ui.charts.ring import SeriesBook
from nostr_desk.ui.pages.base import Page, page_layout
from nostr_desk.ui.tasks import spawn
from nostr_desk.ui.transfer import TransferResult, export_jsonl, import_jsonl

LOCAL = "local relay"


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def by_reason(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]) if v) or "none"


class LocalRelayPage(Page):
    title = "Local relay"
    tooltip = "The relay built into nostr-desk, for any client on this machine"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.book = SeriesBook(capacity=86_400)
        self._last_stored: int | None = None
        self.cancel_flag = threading.Event()
        self.job: asyncio.Task | None = None
        layout = page_layout(self, "Local relay", "A Nostr relay on this machine that serves everything "
                             "nostr-desk has cached. Point any client at its address.")
        top = QHBoxLayout()
        self.state = QLabel("Starting…")
        self.state.setStyleSheet("font-weight: bold;")
        self.url = QLabel("")
        self.url.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy_button = QPushButton("Copy address")
        self.copy_button.setToolTip("Copy the relay's ws:// address to the clipboard")
        self.copy_button.clicked.connect(self.copy_url)
        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Start accepting connections")
        self.start_button.clicked.connect(lambda: spawn(self.start_relay(), "start local relay"))
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop accepting connections and close clients (the data stays)")
        self.stop_button.clicked.connect(lambda: spawn(self.stop_relay(), "stop local relay"))
        for w in (self.state, self.url):
            top.addWidget(w)
        top.addStretch(1)
        for w in (self.copy_button, self.start_button, self.stop_button):
            top.addWidget(w)
        layout.addLayout(top)

        middle = QHBoxLayout()
        stats = QGroupBox("Now")
        form = QFormLayout(stats)
        self.fields: dict[str, QLabel] = {}
        for key, label, tip in (
                ("connections", "Connections", "Clients connected now"),
                ("subscriptions", "Subscriptions", "Open REQ subscriptions across all clients"),
                ("events", "Events stored", "Events in the database"),
                ("db", "Database size", "Size of the SQLite file"),
                ("accepted", "Accepted", "Events accepted since start, by outcome"),
                ("rejected", "Rejected", "Events refused since start, by reason (the OK prefix)"),
                ("queries", "Queries", "REQs served and their latency")):
            value = QLabel("–")
            value.setToolTip(tip)
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.fields[key] = value
            form.addRow(label, value)
        middle.addWidget(stats, 2)
        self.chart: Any = None  # made in attach(): pyqtgraph's import must not delay the window
        self.middle = middle
        layout.addLayout(middle, 1)

        data = QGroupBox("Data")
        row = QVBoxLayout(data)
        buttons = QHBoxLayout()
        self.export_button = QPushButton("Export JSONL…")
        self.export_button.setToolTip("Write every stored event to a JSON-lines file")
        self.export_button.clicked.connect(self.export_clicked)
        self.import_button = QPushButton("Import JSONL…")
        self.import_button.setToolTip("Read events from a JSON-lines file; each is verified first")
        self.import_button.clicked.connect(self.import_clicked)
        self.compact_button = QPushButton("Compact")
        self.compact_button.setToolTip("Reclaim free space in the database file (VACUUM)")
        self.compact_button.clicked.connect(lambda: spawn(self.compact(), "compact"))
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the export or import after the current chunk")
        self.cancel_button.clicked.connect(self.cancel_flag.set)
        self.cancel_button.setEnabled(False)
        for w in (self.export_button, self.import_button, self.compact_button):
            buttons.addWidget(w)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        row.addLayout(buttons)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.progress_text = QLabel("")
        self.progress_text.setWordWrap(True)
        row.addWidget(self.progress)
        row.addWidget(self.progress_text)
        layout.addWidget(data)
        self._set_enabled(False)
        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self.refresh)

    def attach(self, services: Any, bridge: Any) -> None:
        super().attach(services, bridge)
        from nostr_desk.ui.charts.plots import RelayPlot
        self.chart = RelayPlot("Events stored per second (last 5 minutes)", "events/s")
        self.middle.addWidget(self.chart, 3)
        self.refresh()
        self.timer.start()

    # --- state -----------------------------------------------------------------------------------------
    @property
    def relay(self) -> Any:
        return getattr(self.services, "relay", None)

    @property
    def store(self) -> Any:
        return getattr(self.services, "store", None)

    def running(self) -> bool:
        relay = self.relay
        if relay is None:
            return False
        flag = getattr(relay, "running", True)
        return bool(flag() if callable(flag) else flag)

    def refresh(self) -> None:
        if self.services is None:
            return
        problem = self.services.problems.get("relay") or self.services.problems.get("store")
        running = self.running()
        if running:
            self.state.setText("● Running")
            self.state.setStyleSheet("font-weight: bold; color: #27ae60;")
            self.url.setText(str(self.relay.url))
        else:
            self.state.setText("● Stopped" if not problem else "● Not running")
            self.state.setStyleSheet("font-weight: bold; color: #c0392b;")
            self.url.setText(problem or ("Relay turned off in Settings" if self.relay is None else ""))
        self.copy_button.setEnabled(running)
        self.start_button.setEnabled(self.relay is not None and not running)
        self.stop_button.setEnabled(running)
        self._set_enabled(self.store is not None and self.job is None)
        if self.store is not None and not self._stats_busy:
            self._stats_busy = True
            spawn(self._load_stats(), "store stats")
        elif self.store is None:
            self._show_stats(None)

    _stats_busy = False

    async def _load_stats(self) -> None:
        """count(*) over the events table takes tens of ms on a big store: never on the GUI thread."""
        try:
            store = self.store
            stats = await asyncio.to_thread(store.stats) if store is not None else None
        except Exception:  # the store closed meanwhile (shutdown)
            stats = None
        finally:
            self._stats_busy = False
        if shiboken6.isValid(self):  # the window may have been closed (and deleted) while we counted
            self._show_stats(stats)

    def _show_stats(self, stats: Any) -> None:
        now = time.time()
        if stats is not None:
            self.fields["events"].setText(f"{stats.events:,}")
            self.fields["db"].setText(human_bytes(stats.db_bytes))
            # Ingest = growth of the store, whoever wrote: the pool's fetches and local clients alike.
            if self._last_stored is not None:
                self.book.add(LOCAL, "ingest", now, max(stats.events - self._last_stored, 0))
            self._last_stored = stats.events
            if self.isVisible() and self.chart is not None:
                self.chart.redraw(self.book, "ingest", {LOCAL: "#8e44ef"}, now - 300, now, gap=5.0)
        metrics = self.relay.metrics() if self.relay is not None else None
        if metrics is None:
            return
        self.fields["connections"].setText(f"{metrics.connections:,} (of {metrics.connections_total:,} since start)")
        self.fields["subscriptions"].setText(f"{metrics.subscriptions:,}")
        self.fields["accepted"].setText(by_reason(dict(metrics.accepted)))
        self.fields["rejected"].setText(by_reason(dict(metrics.rejected)))
        self.fields["queries"].setText(f"{metrics.queries:,}, p95 {metrics.query_p95_ms:.1f} ms")

    def copy_url(self) -> None:
        if self.relay is not None:
            QGuiApplication.clipboard().setText(str(self.relay.url))
            self.progress_text.setText(f"Copied {self.relay.url}")

    async def start_relay(self) -> None:
        try:
            await self.relay.start()
        except OSError as exc:
            self.progress_text.setText(f"Could not start the local relay: {exc.strerror or exc}. "
                                       "Choose another port in Settings.")
        self.refresh()
        if self.bridge is not None:
            self.bridge.changed.emit("relay")

    async def stop_relay(self) -> None:
        await self.relay.stop()
        self.refresh()
        if self.bridge is not None:
            self.bridge.changed.emit("relay")

    # --- export / import / compact -------------------------------------------------------------------
    def export_clicked(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Export events", str(Path.home() / "nostr-events.jsonl"),
                                              "JSON lines (*.jsonl)")
        if name:
            self.job = spawn(self.run_transfer("export", Path(name)), "export")

    def import_clicked(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Import events", str(Path.home()), "JSON lines (*.jsonl)")
        if name:
            self.job = spawn(self.run_transfer("import", Path(name)), "import")

    async def run_transfer(self, kind: str, path: Path) -> TransferResult:
        self.cancel_flag.clear()
        self._busy(True)
        loop = asyncio.get_running_loop()

        def progress(done: int, total: int) -> None:  # called from the worker thread
            loop.call_soon_threadsafe(self._progress, done, total)

        fn = export_jsonl if kind == "export" else import_jsonl
        try:
            result = await asyncio.to_thread(fn, self.store, path, progress, self.cancel_flag)
        except OSError as exc:
            self.progress_text.setText(f"{kind.title()} failed: {exc.strerror or exc} ({path})")
            result = TransferResult(cancelled=True)
        else:
            self.progress_text.setText(describe_transfer(kind, path, result))
        finally:
            self.job = None
            self._busy(False)
            self.refresh()
        return result

    async def compact(self) -> None:
        self._busy(True)
        self.progress_text.setText("Compacting the database…")
        before = (await asyncio.to_thread(self.store.stats)).db_bytes
        try:
            after = await asyncio.to_thread(self.store.compact)
        finally:
            self._busy(False)
        self.progress_text.setText(f"Compacted: {human_bytes(before)} → {human_bytes(after)}.")
        self.refresh()

    def _progress(self, done: int, total: int) -> None:
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(min(done, max(total, 1)))

    def _busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.progress.setValue(0)
        self.cancel_button.setEnabled(busy)
        self._set_enabled(not busy and self.store is not None)

    def _set_enabled(self, on: bool) -> None:
        for w in (self.export_button, self.import_button, self.compact_button):
            w.setEnabled(on)


def describe_transfer(kind: str, path: Path, r: TransferResult) -> str:
    if r.cancelled:
        return f"{kind.title()} cancelled after {r.done:,} events." + (" The partial file was removed."
                                                                     if kind == "export" else "")
    if kind == "export":
        return f"Exported {r.done:,} events to {path}."
    new = r.outcomes.get("saved", 0) + r.outcomes.get("replaced", 0)
    return (f"Imported {path.name}: {new:,} new, {r.outcomes.get('duplicate', 0):,} already stored, "
            f"{r.refused:,} refused (bad signature or malformed).")
