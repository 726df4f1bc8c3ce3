"""pyqtgraph plots for per-relay time series: one curve per relay, a time axis, a hover read-out.

`RelayPlot.redraw(book, metric, urls, since, now)` copies the window's samples into the curves; it is
called from a timer, never per sample. Hovering shows the nearest sample of each visible relay.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QPalette

from nostr_desk.ui.charts.ring import SeriesBook

pg.setConfigOptions(antialias=True)

from nostr_desk.ui.charts.palette import colour_for  # noqa: F401 (re-exported)


class RelayPlot(pg.PlotWidget):
    def __init__(self, title: str, unit: str, *, step: bool = False,
                 fmt: Callable[[float], str] = lambda v: f"{v:.0f}") -> None:
        super().__init__(axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        self.apply_palette()
        self._palette_ready = True
        self.setTitle(title)
        self.setLabel("left", unit)
        self.showGrid(x=True, y=True, alpha=0.2)
        self.setMouseEnabled(x=False, y=False)
        self.setMenuEnabled(False)
        self.hideButtons()
        self.setMinimumHeight(150)
        # Nothing charted here goes below zero; without this, one sample of 0 auto-ranges to ±0.5.
        self.getPlotItem().vb.setLimits(yMin=0)
        # A 24 h window holds tens of thousands of samples per relay: draw at most a few per pixel,
        # keeping peaks (a one-second burst of failures must not vanish in the averaging).
        self.setDownsampling(auto=True, mode="peak")
        self.setClipToView(True)
        self.step = step
        self.fmt = fmt
        self.unit = unit
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.y_fixed = False   # True once a caller set its own y range (the status chart)
        self.readout = pg.TextItem(anchor=(0, 0), color="#888")
        self.readout.setZValue(10)
        self.addItem(self.readout, ignoreBounds=True)
        self.scene().sigMouseMoved.connect(self._hover)
        self.last_hover = ""

    def apply_palette(self) -> None:
        """Colours from the palette, so the charts follow the system's light or dark scheme."""
        palette = self.palette()
        self.setBackground(palette.color(QPalette.ColorRole.Base))
        text = palette.color(QPalette.ColorRole.Text)
        for side in ("left", "bottom"):
            axis = self.getAxis(side)
            axis.setPen(pg.mkPen(text))
            axis.setTextPen(pg.mkPen(text))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt naming)
        super().changeEvent(event)
        # the system switched light <-> dark (Qt also sends one while the widget is being built)
        if event.type() == QEvent.Type.PaletteChange and getattr(self, "_palette_ready", False):
            self.apply_palette()

    def fix_y(self, top: float, ticks: list[tuple[float, str]] | None = None) -> None:
        # a little room below zero, else the label of the bottom tick ("down") is clipped away
        self.getPlotItem().vb.setLimits(yMin=-0.25)
        self.setYRange(-0.2, top, padding=0)
        self.y_fixed = True
        if ticks:
            self.getAxis("left").setTicks([ticks])

    def curve(self, url: str, colour: str, dash: bool = False) -> pg.PlotDataItem:
        item = self.curves.get(url)
        if item is None:
            pen = pg.mkPen(colour, width=2, style=Qt.PenStyle.DashLine if dash else Qt.PenStyle.SolidLine)
            item = self.plot([], [], pen=pen, name=url, connect="finite")
            self.curves[url] = item
        return item

    def redraw(self, book: SeriesBook, metric: str, urls: dict[str, str], since: float, now: float,
               gap: float = 0.0, spread: float = 0.0, dashed: frozenset[str] = frozenset()) -> int:
        """Draw `metric` for the relays in `urls` (url → colour); hidden relays are cleared. Points drawn."""
        drawn, top = 0, 0.0
        for url, item in list(self.curves.items()):
            if url not in urls:
                item.setData([], [])
        for n, (url, colour) in enumerate(urls.items()):
            t, v = book.window(url, metric, since)
            if spread:  # lines at the same level (all "connected") drawn just apart, not on top
                v = v + n * spread
            if gap and len(t) > 1:
                t, v = break_gaps(t, v, gap)
            self.curve(url, colour, url in dashed).setData(t, v, stepMode="left" if self.step else None)
            drawn += len(t)
            finite = v[np.isfinite(v)] if len(v) else v
            top = max(top, float(finite.max())) if len(finite) else top
        self.setXRange(since, now, padding=0)
        if not self.y_fixed:  # from zero: auto-range made 2..18 events/s look like a swing from nothing
            self.setYRange(0, top * 1.1 if top > 0 else 1.0, padding=0)
        return drawn

    def _hover(self, pos: QPointF) -> None:
        if not self.sceneBoundingRect().contains(pos):
            return
        x = self.getPlotItem().vb.mapSceneToView(pos).x()
        lines = []
        for url, item in self.curves.items():
            t, v = item.getData()
            if t is None or len(t) == 0:
                continue
            i = int(np.clip(np.searchsorted(t, x), 0, len(t) - 1))
            if np.isfinite(v[i]):
                lines.append(f"{url}: {self.fmt(float(v[i]))} {self.unit}")
        if lines:  # which moment the values are from: the axis alone is too coarse at 24 h
            lines.insert(0, time.strftime("%H:%M:%S", time.localtime(x)) if x > 0 else "")
        self.last_hover = "\n".join(lines)
        self.readout.setText(self.last_hover)
        (x0, x1), (y0, y1) = self.viewRange()
        self.readout.setPos(x0, y1)


def break_gaps(t: np.ndarray, v: np.ndarray, gap: float) -> tuple[np.ndarray, np.ndarray]:
    """Insert a NaN where two samples are more than `gap` seconds apart, so the line shows the hole."""
    holes = np.nonzero(np.diff(t) > gap)[0]
    if not len(holes):
        return t, v
    t = np.insert(t, holes + 1, t[holes] + gap / 2)
    v = np.insert(v.astype(float), holes + 1, np.nan)
    return t, v
