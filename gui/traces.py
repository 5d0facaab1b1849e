"""Scrolling traces: AP and ML CoP, total force and the cell forces, with reps and faults marked.

Time runs from -window to 0 s (now), so the x range never changes and the axes are not
re-laid out on every frame; only the curves (and the few rep marks) move.

Painting, not setData, is what a frame costs, and 30 s at 1 kHz is far more points than a
plot is pixels wide. So every curve is clipped to the window and peak-downsampled to one
min/max pair per pixel before it reaches pyqtgraph: the same picture as pyqtgraph's own
clipToView + peak downsampling, but done incrementally for all curves together
(:class:`PeakCache`): finished buckets are kept, and a frame reduces only the samples that
arrived since the last one, where pyqtgraph re-reduces and re-scans every full array of
every curve on every frame. The newest, still partial bucket is drawn too, so a sample
shows up in the very next frame. The benchmark (bench/bench_gui.py) compares this with
pyqtgraph's built-in downsampling and with drawing every point.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from daq.calibration import G_M_S2
from daq.ring import Columns
from daq.series import glitch_free
from gui.colours import (
    AP_RGB,
    BACKGROUND,
    CELL_RGB,
    FAULT_REP,
    FZ_RGB,
    GOOD_REP,
    ML_RGB,
    MUTED,
)
from gui.plot_items import remove_items
from gui.type_scale import scaled_px

WINDOW_CHOICES_S = (5, 10, 20, 30, 60)
DRAWING_MODES = ("peak", "pyqtgraph", "naive")
FORCE_RANGE_EVERY_S = 0.5
PIXELS_PER_BUCKET = 2


@dataclass
class RepMark:
    """One rep on the time axis (absolute plate seconds); end None while in progress."""

    index: int
    start_s: float
    bottom_s: float | None = None
    end_s: float | None = None
    faults: tuple[str, ...] = ()


CELL_NAMES = ("front-left", "front-right", "back-right", "back-left")  # PROTOCOL.md order


def cell_name(channel: int) -> str:
    """A load cell's place; with two plates (8 channels) prefixed A or B."""
    name = CELL_NAMES[channel % 4]
    return name if channel < 4 else f"B {name}"


def traced_columns(data: dict[str, np.ndarray], n_cells: int) -> np.ndarray:
    """(N, 3 + n_cells) float32: ML and AP CoP (mm), total load and cell loads (kg)."""
    force = data["force_n"][:, :n_cells]
    columns = np.empty((data["t_s"].shape[0], 3 + force.shape[1]), dtype=np.float32)
    columns[:, 0:2] = data["cop_mm"]
    columns[:, 2] = data["fz_n"] * (1.0 / G_M_S2)
    columns[:, 3:] = force * (1.0 / G_M_S2)
    return columns


def display_window(view: Columns, seconds: float) -> Columns:
    """Copies of the newest ``seconds`` of t_s, host_t_s, fz_n, cop_mm and force_n for drawing.

    Copies, because the ring keeps moving under its views while Qt paints. Samples where a
    cell read a known HX711 glitch value hold the previous sample instead: a one-sample
    400 kg spike says nothing about the person and would squash every trace's scale. The
    recording and the analyser still get the raw samples.
    """
    t = view["t_s"]
    lo = int(np.searchsorted(t, t[-1] - seconds)) if t.shape[0] else 0
    out = {
        "t_s": t[lo:].copy(),
        "host_t_s": view["host_t_s"][lo:].copy(),
        "fz_n": view["fz_n"][lo:].copy(),
        "cop_mm": view["cop_mm"][lo:].copy(),
        "force_n": view["force_n"][lo:].copy(),
    }
    bad = ~glitch_free(view["counts"][lo:])
    if bad.any():
        idx = np.arange(bad.shape[0])
        idx[bad] = 0
        # Each glitch takes the index of the last good sample before it.
        np.maximum.accumulate(idx, out=idx)
        for name in ("fz_n", "cop_mm", "force_n"):
            out[name] = out[name][idx]
    return out


class PeakCache:
    """Min/max per bucket of ``size`` samples, extended as samples arrive.

    Completed buckets are reduced once and kept; each frame reduces only the samples that
    arrived since (at 1 kHz and 60 fps about 17) plus the newest, partial bucket. Bucket
    edges fall on multiples of ``size`` in absolute sample numbers, so peaks stay put as
    the trace scrolls.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget everything (window, width or layout changed)."""
        self.size = 0
        self.n_cells = -1
        self.next_abs = -1  # absolute number of the first sample of the first open bucket
        self.t_first = np.zeros(0)
        self.mins = np.zeros((0, 0), np.float32)
        self.maxs = np.zeros((0, 0), np.float32)

    def update(
        self, view: dict[str, np.ndarray], end: int, size: int, n_cells: int, keep_from_s: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Bucket start times (twice each) and alternating min/max rows of the traced columns.

        Parameters
        ----------
        view : dict
            Ring views of the newest samples (t_s, fz_n, cop_mm, force_n, counts).
        end : int
            Absolute number of samples written when ``view`` was taken.
        size : int
            Samples per bucket; a change of more than 15 % rebuilds the cache.
        n_cells : int
            Cell curves drawn.
        keep_from_s : float
            Buckets starting before this time are dropped.
        """
        if self.size == 0 or abs(size - self.size) > 0.15 * self.size or n_cells != self.n_cells:
            self.reset()
            self.size, self.n_cells = size, n_cells
        size = self.size
        n = view["t_s"].shape[0]
        first_abs = end - n
        if self.next_abs < first_abs:
            # First frame, or the GUI fell more than a window behind: start afresh.
            self.reset()
            self.size, self.n_cells = size, n_cells
            self.next_abs = first_abs + (-first_abs) % size
        closed_end = (end // size) * size
        if closed_end > self.next_abs:
            i0, i1 = self.next_abs - first_abs, closed_end - first_abs
            cols = self._columns(view, i0, i1)
            k = (i1 - i0) // size
            block = cols.reshape(k, size, cols.shape[1])
            self.mins = np.concatenate([self.mins.reshape(-1, cols.shape[1]), block.min(axis=1)])
            self.maxs = np.concatenate([self.maxs.reshape(-1, cols.shape[1]), block.max(axis=1)])
            self.t_first = np.concatenate([self.t_first, view["t_s"][i0:i1:size]])
            self.next_abs = closed_end
        keep = int(np.searchsorted(self.t_first, keep_from_s))
        if keep:
            self.t_first = self.t_first[keep:]
            self.mins, self.maxs = self.mins[keep:], self.maxs[keep:]
        k = self.t_first.shape[0]
        tail0 = max(self.next_abs - first_abs, 0)
        has_tail = tail0 < n
        rows = k + (1 if has_tail else 0)
        m = 3 + n_cells
        out = np.empty((2 * rows, m), np.float32)
        x = np.empty(2 * rows)
        if k:
            out[0 : 2 * k : 2] = self.mins
            out[1 : 2 * k : 2] = self.maxs
            x[0 : 2 * k] = np.repeat(self.t_first, 2)
        if has_tail:
            tail = self._columns(view, tail0, n)
            out[-2] = tail.min(axis=0)
            out[-1] = tail.max(axis=0)
            x[-2:] = view["t_s"][-1]
        return x, out

    def _columns(self, view: dict[str, np.ndarray], i0: int, i1: int) -> np.ndarray:
        """Traced columns of view rows i0..i1, HX711 glitch rows holding the row before."""
        lo = max(i0 - 1, 0)
        part = {name: view[name][lo:i1] for name in ("t_s", "fz_n", "cop_mm", "force_n")}
        cols = traced_columns(part, self.n_cells)
        bad = ~glitch_free(view["counts"][lo:i1])
        if bad.any():
            idx = np.arange(bad.shape[0])
            idx[bad] = 0
            np.maximum.accumulate(idx, out=idx)
            cols = cols[idx]
        return cols[i0 - lo :]


class TraceCurve(pg.PlotCurveItem):
    """A curve whose data bounds come with its data instead of being scanned for.

    pyqtgraph finds a curve's bounding rectangle with NaN-aware min/max scans of both
    arrays after every setData; the peak cache has the y extremes of every column from one
    reduction over all of them, and x is sorted.
    """

    _given: tuple[tuple[float, float], tuple[float, float]] | None = None

    def set_trace(self, x: np.ndarray, y: np.ndarray, y_lo: float, y_hi: float) -> None:
        """Draw ``y`` over ``x`` (sorted), whose finite values lie within ``y_lo..y_hi``."""
        if x.shape[0] and y_lo == y_lo and y_hi == y_hi:
            self._given = ((float(x[0]), float(x[-1])), (float(y_lo), float(y_hi)))
        else:
            self._given = None  # nothing finite to draw: an empty rectangle
        self.setData(x, y)

    def dataBounds(  # noqa: N802 - pyqtgraph API
        self,
        ax: int,
        frac: float = 1.0,
        orthoRange: tuple[float, float] | None = None,  # noqa: N803
    ) -> tuple[float | None, float | None]:
        """pyqtgraph: the given bounds when the whole range is asked for."""
        if frac >= 1.0 and orthoRange is None:
            return self._given[ax] if self._given is not None else (None, None)
        return super().dataBounds(ax, frac, orthoRange)


@dataclass
class _Band:
    start_s: float
    end_s: float | None  # None while the rep is in progress: the band runs to now
    brush: QtGui.QBrush
    pen: QtGui.QPen


class RepBands(QtWidgets.QGraphicsItem):
    """The rep shading of one plot: a band per rep (start to lockout), all in one item.

    Bands sit at absolute plate times and the item is shifted by -now each frame, so
    scrolling moves one item per plot. pyqtgraph's LinearRegionItem (a fill and two
    InfiniteLine children per plot, signals and bounds recomputed on every move) took
    about 9 ms of a 14 ms frame with four reps (twelve regions) on screen.

    Only the plot's plain background lies under a band (reps do not overlap; grid and
    curves are drawn over it), so a translucent shade is drawn as the opaque colour it
    blends to: an opaque fill is a plain memory fill, where alpha blending a dozen bands
    took ~0.9 ms a frame in Qt's software rasteriser here.

    Parameters
    ----------
    background : tuple of int
        RGB of the plot background the shades are blended onto.
    """

    def __init__(self, background: tuple[int, int, int] = BACKGROUND) -> None:
        super().__init__()
        self._background = background
        self._bands: dict[int, _Band] = {}
        self._now_s = 0.0
        self._window_s = 10.0
        self._y = (0.0, 1.0)
        self._rect = QtCore.QRectF()
        self.setZValue(-10)  # under the curves

    def set_band(
        self, index: int, start_s: float, end_s: float | None, rgb: tuple[int, int, int], alpha: int
    ) -> None:
        """Shade rep ``index`` from ``start_s`` to ``end_s`` (None: to now) in ``rgb``.

        ``alpha`` (0-255) is the shade's opacity over the background; the edges are drawn
        at 160.
        """
        pen = QtGui.QPen(self._blend(rgb, 160))
        pen.setCosmetic(True)
        pen.setWidth(1)
        brush = QtGui.QBrush(self._blend(rgb, alpha))
        self._bands[index] = _Band(start_s, end_s, brush, pen)
        self._refresh()

    def _blend(self, rgb: tuple[int, int, int], alpha: int) -> QtGui.QColor:
        a = alpha / 255.0
        r, g, b = (round(bg + (c - bg) * a) for c, bg in zip(rgb, self._background, strict=True))
        return QtGui.QColor(r, g, b)

    def remove(self, index: int) -> None:
        """Forget rep ``index``'s band."""
        if self._bands.pop(index, None) is not None:
            self._refresh()

    def spans(self) -> list[tuple[int, float, float | None, tuple[int, int, int]]]:
        """Every band as (rep index, start, end or None, RGB of its fill), by index."""
        return [
            (i, b.start_s, b.end_s, b.brush.color().getRgb()[:3])
            for i, b in sorted(self._bands.items())
        ]

    def set_now(self, now_s: float, window_s: float) -> None:
        """Scroll so that plate time ``now_s`` is at x = 0, showing ``window_s`` seconds."""
        self._now_s, self._window_s = now_s, window_s
        self.setPos(-now_s, 0.0)
        self._refresh()

    def set_y_span(self, lo: float, hi: float) -> None:
        """Bands run over the plot's whole height, ``lo..hi`` in data units."""
        self._y = (float(lo), float(hi))
        self._refresh()

    def _visible(self) -> list[tuple[float, float, _Band]]:
        lo = self._now_s - self._window_s
        out = []
        for band in self._bands.values():
            end = self._now_s if band.end_s is None else band.end_s
            if end > lo and end > band.start_s:
                out.append((max(band.start_s, lo), end, band))
        return out

    def _refresh(self) -> None:
        shown = self._visible()
        if shown:
            # Pad by ~a pixel so the cosmetic edge lines are inside the repainted area.
            pad = self._window_s / 500.0
            x0 = min(s for s, _, _ in shown) - pad
            x1 = max(e for _, e, _ in shown) + pad
            y0, y1 = self._y
            rect = QtCore.QRectF(x0, y0, x1 - x0, y1 - y0)
        else:
            rect = QtCore.QRectF()
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = rect
        self.update()

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 - Qt API
        """Qt: the visible bands."""
        return self._rect

    def paint(self, painter: QtGui.QPainter, *args: object) -> None:
        """Qt: fills first, then the edge lines."""
        y0, y1 = self._y
        shown = self._visible()
        for start, end, band in shown:
            painter.fillRect(QtCore.QRectF(start, y0, end - start, y1 - y0), band.brush)
        lo = self._now_s - self._window_s
        for _, end, band in shown:
            painter.setPen(band.pen)
            if band.start_s >= lo:
                painter.drawLine(QtCore.QLineF(band.start_s, y0, band.start_s, y1))
            painter.drawLine(QtCore.QLineF(end, y0, end, y1))


class FrameClock:
    """Frames per second and arrival-to-drawn latency, over the last couple of seconds."""

    def __init__(self, span_s: float = 2.0) -> None:
        self.span_s = span_s
        self.paint_times: list[float] = []
        self.latencies_s: list[float] = []
        self.pending_arrival: float | None = None
        self.keep_all = False
        self.all_latencies_s: list[float] = []
        self.all_paint_times: list[float] = []

    def painted(self) -> None:
        """Record one finished paint (and the latency of the data it showed)."""
        now = time.perf_counter()
        self.paint_times.append(now)
        cut = now - self.span_s
        while self.paint_times and self.paint_times[0] < cut:
            self.paint_times.pop(0)
        if self.pending_arrival is not None:
            latency = time.time() - self.pending_arrival
            self.latencies_s.append(latency)
            if self.keep_all:
                self.all_latencies_s.append(latency)
            self.pending_arrival = None
            del self.latencies_s[:-200]
        if self.keep_all:
            self.all_paint_times.append(now)

    @property
    def fps(self) -> float:
        """Paints per second over the last span."""
        t = self.paint_times
        if len(t) < 2 or t[-1] <= t[0]:
            return 0.0
        return (len(t) - 1) / (t[-1] - t[0])

    @property
    def latency_ms(self) -> float:
        """Median arrival-to-drawn latency of recent frames, ms."""
        if not self.latencies_s:
            return float("nan")
        return 1000.0 * float(np.median(self.latencies_s))


class _TimedLayout(pg.GraphicsLayoutWidget):
    """A GraphicsLayoutWidget that tells a FrameClock when a paint has finished."""

    def __init__(self, clock: FrameClock, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.clock = clock

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:  # noqa: N802 - Qt API
        """Qt: paint, then stamp the frame."""
        super().paintEvent(event)
        self.clock.painted()


class TracesView(QtWidgets.QWidget):
    """Three stacked, x-linked plots scrolling over the newest ``window_s`` seconds.

    Parameters
    ----------
    n_cells : int
        Load cells (one curve each).
    drawing : str
        ``"peak"`` (own per-pixel min/max, the default), ``"pyqtgraph"`` (pyqtgraph's
        clipToView + auto peak downsampling) or ``"naive"`` (every point; benchmark only).
    """

    def __init__(
        self,
        n_cells: int = 4,
        window_s: float = 10.0,
        drawing: str = "peak",
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.clock = FrameClock()
        self.peaks = PeakCache()
        self.window_s = float(window_s)
        if drawing not in DRAWING_MODES:
            raise ValueError(f"drawing must be one of {', '.join(DRAWING_MODES)}")
        self.drawing = drawing
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.canvas = _TimedLayout(self.clock)
        self.canvas.setBackground(BACKGROUND)
        # Every frame moves every curve across the whole width: repainting the whole view
        # is cheaper than having Qt build a region of many dirty rectangles and clip every
        # item against it (~1 ms of a ~4 ms frame here).
        self.canvas.setViewportUpdateMode(
            QtWidgets.QGraphicsView.ViewportUpdateMode.FullViewportUpdate
        )
        layout.addWidget(self.canvas)
        self.cop_plot = self._plot(0, "CoP (mm)", "AP: + forward / ML: + right")
        self.force_plot = self._plot(1, "load (kg)", None)
        self.cell_plot = self._plot(2, "cells (kg)", None)
        self.cell_plot.setLabel("bottom", "seconds before now")
        for p in (self.cop_plot, self.force_plot):
            p.getAxis("bottom").setStyle(showValues=False)
        for p in (self.force_plot, self.cell_plot):
            p.setXLink(self.cop_plot)
        # Legends sit bottom-left, clear of the rep labels along the top.
        self.cop_plot.addLegend(
            offset=(8, -4), labelTextColor=MUTED, brush=(24, 26, 31, 180), colCount=2
        )
        self.cell_plot.addLegend(
            offset=(8, 4), labelTextColor=MUTED, brush=(24, 26, 31, 180), colCount=4
        )
        for legend in (self.cop_plot.legend, self.cell_plot.legend):
            # Legends lie over the curves and would re-render their text every frame.
            legend.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.ap_curve = self._curve(self.cop_plot, AP_RGB, "AP", finite=False)
        self.ml_curve = self._curve(self.cop_plot, ML_RGB, "ML", finite=False)
        self.fz_curve = self._curve(self.force_plot, FZ_RGB, None, finite=True)
        self.body_line = pg.InfiniteLine(
            angle=0, pen=pg.mkPen(MUTED, style=QtCore.Qt.PenStyle.DashLine)
        )
        self.body_line.setVisible(False)
        self.force_plot.addItem(self.body_line, ignoreBounds=True)
        self.cell_curves: list[pg.PlotDataItem] = []
        self.set_cells(n_cells)
        self._marks: list[RepMark] = []
        self.rep_bands: list[RepBands] = []
        for plot in (self.cop_plot, self.force_plot, self.cell_plot):
            bands = RepBands()
            plot.addItem(bands, ignoreBounds=True)
            plot.getViewBox().sigYRangeChanged.connect(
                lambda _vb, rng, bands=bands: bands.set_y_span(*rng)
            )
            bands.set_y_span(*plot.viewRange()[1])
            self.rep_bands.append(bands)
        self._labels: dict[int, QtWidgets.QGraphicsSimpleTextItem] = {}
        self._force_top = 100.0
        self._cell_top = 40.0
        self._last_range_t = 0.0
        self.set_cop_range(300.0)
        self.set_window(window_s)

    # -- construction -------------------------------------------------------------------------
    def _plot(self, row: int, label: str, hint: str | None) -> pg.PlotItem:
        p = self.canvas.addPlot(row=row, col=0)
        p.setLabel("left", label)
        p.showGrid(x=True, y=True, alpha=0.15)
        p.setMenuEnabled(False)
        p.setMouseEnabled(x=False, y=False)
        p.hideButtons()
        p.getAxis("left").setWidth(52)
        for side in ("left", "bottom"):
            # Axes (and the grid they draw) lie under the curves, so every curve update
            # would repaint them; cached as pixmaps they are blitted, not redrawn.
            p.getAxis(side).setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
        if self.drawing == "pyqtgraph":
            p.setClipToView(True)
            p.setDownsampling(auto=True, mode="peak")
        p.enableAutoRange(x=False, y=False)
        if hint:
            p.setTitle(hint, color=MUTED, size="9pt")
        return p

    def _curve(
        self, plot: pg.PlotItem, rgb: tuple[int, int, int], name: str | None, finite: bool
    ) -> pg.PlotDataItem:
        # Known-finite data (forces) skips the NaN scan; CoP is NaN while nobody stands on.
        # Width 1: wider pens go through Qt's stroker, several times slower per segment.
        pen = pg.mkPen(rgb, width=1)
        connect = "all" if finite else "finite"
        if self.drawing == "peak":
            # Already reduced to a few points per pixel: the lean curve item, without
            # PlotDataItem's per-frame bounds scans and downsampling bookkeeping.
            curve = TraceCurve(pen=pen, skipFiniteCheck=finite, connect=connect)
            plot.addItem(curve)
            if name and plot.legend is not None:
                plot.legend.addItem(curve, name)
            return curve
        curve = plot.plot(pen=pen, name=name, skipFiniteCheck=finite, connect=connect)
        # Peak downsampling keeps a min and a max per bucket: one bucket per pixel is enough
        # (pyqtgraph's default draws five).
        curve.opts["autoDownsampleFactor"] = 1.0
        return curve

    def set_cells(self, n_cells: int) -> None:
        """One cell-force curve per load cell."""
        remove_items(self.cell_plot, self.cell_curves)
        if self.cell_plot.legend is not None:
            self.cell_plot.legend.clear()
        self.cell_curves = [
            self._curve(self.cell_plot, CELL_RGB[i % len(CELL_RGB)], cell_name(i), finite=True)
            for i in range(n_cells)
        ]
        self.fit_legends()

    def set_window(self, window_s: float) -> None:
        """Scroll over the newest ``window_s`` seconds (5-60)."""
        self.window_s = float(min(max(window_s, 1.0), 600.0))
        self.cop_plot.setXRange(-self.window_s, 0.0, padding=0.0)
        self.peaks.reset()

    def set_cop_range(self, half_mm: float) -> None:
        """Fixed CoP range of +/- ``half_mm`` (half the plate's larger side)."""
        self.cop_plot.setYRange(-half_mm, half_mm, padding=0.02)

    def set_body_mass(self, body_mass_kg: float | None) -> None:
        """Dashed line at body weight on the load plot."""
        if body_mass_kg:
            self.body_line.setPos(body_mass_kg)
            self.body_line.setVisible(True)

    # -- reps ---------------------------------------------------------------------------------
    def rep_started(self, index: int, start_s: float) -> None:
        """Shade a rep from ``start_s`` on, while it is in progress."""
        mark = RepMark(index, start_s)
        self._marks.append(mark)
        self._shade(mark)

    def rep_completed(self, rep: object) -> None:
        """Shade a finished rep green (clean) or red (faults) and label its faults."""
        faults = tuple(f.name for f in rep.faults)
        mark = next((m for m in self._marks if m.index == rep.index), None)
        if mark is None:
            mark = RepMark(rep.index, float(rep.start_s))
            self._marks.append(mark)
        mark.start_s, mark.end_s = float(rep.start_s), float(rep.lockout_s)
        mark.bottom_s = float(rep.bottom_s)
        mark.faults = faults
        self._drop_items(rep.index)
        self._shade(mark)

    def rep_labels(self) -> list[str]:
        """The texts of the rep labels on the traces (e.g. "3: heel shift")."""
        return [label.text() for label in self._labels.values()]

    def rep_aborted(self, index: int) -> None:
        """Remove the shading of a movement that did not become a rep."""
        for mark in [m for m in self._marks if m.index == index and m.end_s is None]:
            self._drop_items(index)
            self._marks.remove(mark)

    def clear_reps(self) -> None:
        """Remove every rep mark (a new set)."""
        for mark in self._marks:
            self._drop_items(mark.index)
        for index in list(self._labels):
            self._drop_items(index)
        self._marks.clear()

    def _drop_items(self, index: int) -> None:
        for bands in self.rep_bands:
            bands.remove(index)
        label = self._labels.pop(index, None)
        if label is not None:
            remove_items(self.cop_plot, [label])

    def _shade(self, mark: RepMark) -> None:
        # The movement (start to lockout) is shaded; the hold after it stays unshaded.
        if mark.end_s is None:
            rgb, alpha = MUTED, 40
        else:
            rgb, alpha = (FAULT_REP if mark.faults else GOOD_REP), 55
        for bands in self.rep_bands:
            bands.set_band(mark.index, mark.start_s, mark.end_s, rgb, alpha)

    def _place_marks(self, t_end: float) -> None:
        lo = t_end - self.window_s
        for old in [m for m in self._marks if m.end_s is not None and m.end_s < lo - 60]:
            self._drop_items(old.index)
            self._marks.remove(old)
        for bands in self.rep_bands:
            bands.set_now(t_end, self.window_s)
        top = None
        for mark in self._marks:
            if mark.end_s is None:
                continue
            visible = mark.end_s > lo
            label = self._labels.get(mark.index)
            if label is None:
                if not visible:
                    continue
                label = self._make_label(mark)
                self._labels[mark.index] = label
            if label.isVisible() != visible:
                label.setVisible(visible)
            if visible:
                if top is None:
                    top = self.cop_plot.viewRange()[1][1]
                # Keep the label on screen while any part of its rep is.
                x = max(mark.start_s - t_end, -self.window_s)
                label.setPos(x, top)

    def _make_label(self, mark: RepMark) -> QtWidgets.QGraphicsSimpleTextItem:
        if mark.faults:
            text = f"{mark.index + 1}: " + ", ".join(f.replace("_", " ") for f in mark.faults)
            color = FAULT_REP
        else:
            text = f"{mark.index + 1}: good"
            color = GOOD_REP
        # A plain text item that ignores the view's scaling: moved, it is only blitted.
        # pyqtgraph's TextItem (a QGraphicsTextItem under a transform it recomputes on
        # every move) cost ~0.13 ms per label per frame as the traces scroll.
        label = QtWidgets.QGraphicsSimpleTextItem(text)
        if getattr(self, "_label_font", None) is not None:
            label.setFont(self._label_font)
        label.setBrush(QtGui.QBrush(QtGui.QColor(*color)))
        label.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        label.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
        label.setTransform(QtGui.QTransform.fromTranslate(4.0, 4.0))  # pixels, off the edge
        label.setZValue(5)
        self.cop_plot.addItem(label, ignoreBounds=True)
        return label

    # -- per frame ----------------------------------------------------------------------------
    def update_from_ring(self, view: dict[str, np.ndarray], end: int, rate_hz: float) -> None:
        """Draw the newest window straight from ring views ending at sample count ``end``.

        In "peak" mode only the samples since the last frame are reduced (see
        :class:`PeakCache`), so a frame costs the same whatever the window's length; the
        other modes copy the whole window (see :func:`display_window`).
        """
        t = view["t_s"]
        if t.shape[0] == 0:
            return
        t_end = float(t[-1])
        n_cells = len(self.cell_curves)
        width_px = max(50, int(self.cop_plot.getViewBox().width()))
        # One min/max pair per two pixels: indistinguishable from one per pixel at these
        # line widths, and half the path to stroke.
        size = int(self.window_s * max(rate_hz, 1.0) / (width_px / PIXELS_PER_BUCKET))
        if self.drawing == "peak" and size >= 3:
            x, columns = self.peaks.update(view, end, size, n_cells, t_end - self.window_s)
            x = x - t_end
        else:
            data = display_window(view, self.window_s * 1.02)
            x = data["t_s"] - t_end
            columns = traced_columns(data, n_cells)
        curves = [self.ml_curve, self.ap_curve, self.fz_curve, *self.cell_curves]
        curves = curves[: columns.shape[1]]
        if self.drawing == "peak":
            # One NaN-skipping reduction for every curve's y bounds (fmin/fmax ignore NaN
            # and give NaN only for an all-NaN column, without a warning).
            if columns.shape[0]:
                y_lo = np.fmin.reduce(columns, axis=0)
                y_hi = np.fmax.reduce(columns, axis=0)
            else:
                y_lo = y_hi = np.full(columns.shape[1], np.nan)
            for i, curve in enumerate(curves):
                curve.set_trace(x, columns[:, i], y_lo[i], y_hi[i])
        else:
            for i, curve in enumerate(curves):
                curve.setData(x, columns[:, i])
        now = time.monotonic()
        if now - self._last_range_t > FORCE_RANGE_EVERY_S:
            self._last_range_t = now
            self._rescale(columns[:, 2], columns[:, 3:])
        self._place_marks(t_end)
        self.clock.pending_arrival = float(view["host_t_s"][-1])

    def _rescale(self, fz_kg: np.ndarray, cells_kg: np.ndarray) -> None:
        # Ranges only ever step up by a round amount (or back down slowly), so the axes are
        # re-laid out rarely instead of on every frame as auto-range would.
        def step(top: float, peak: float, floor: float) -> float:
            want = max(floor, float(np.ceil(peak * 1.15 / 10.0) * 10.0))
            if want > top or want < 0.6 * top:
                return want
            return top

        peak_fz = float(np.max(fz_kg)) if fz_kg.size else 0.0
        peak_cell = float(np.max(cells_kg)) if cells_kg.size else 0.0
        low_cell = float(np.min(cells_kg)) if cells_kg.size else 0.0
        top = step(self._force_top, peak_fz, 20.0)
        if top != self._force_top or not self._ranged:
            self._force_top = top
            self.force_plot.setYRange(min(0.0, float(np.min(fz_kg))), top, padding=0.02)
        ctop = step(self._cell_top, peak_cell, 10.0)
        if ctop != self._cell_top or not self._ranged:
            self._cell_top = ctop
            self.cell_plot.setYRange(min(0.0, low_cell), ctop, padding=0.02)
        self._ranged = True

    _ranged = False

    # -- large print ----------------------------------------------------------------------------
    def apply_scale(self, height_px: float) -> None:
        """Size the axes' ticks and labels for a window ``height_px`` tall."""
        px = scaled_px(12, float(height_px))
        font = QtGui.QFont()
        font.setPixelSize(px)
        for plot in (self.cop_plot, self.force_plot, self.cell_plot):
            for side in ("left", "bottom"):
                axis = plot.getAxis(side)
                axis.setStyle(tickFont=font)
                axis.label.setFont(font)
            plot.getAxis("left").setWidth(int(52 * px / 12))
        title = self.cop_plot.titleLabel
        title.setText(title.text, size=f"{px}px")
        for legend in (self.cop_plot.legend, self.cell_plot.legend):
            legend.opts["labelTextSize"] = f"{px}px"
            for _, text in legend.items:
                text.setText(text.text, size=f"{px}px")
        self.fit_legends()
        for label in self._labels.values():
            label.setFont(font)
        self._label_font = font

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 - Qt API
        """Qt: the cell legend takes two rows when one would run past a narrow plot."""
        super().resizeEvent(event)
        self.fit_legends()

    def fit_legends(self) -> None:
        """One row of cell names while it fits the plot's width, else two."""
        legend = self.cell_plot.legend
        n = max(1, len(legend.items))
        per_name = max((text.boundingRect().width() + 30 for _, text in legend.items),
                       default=80.0)
        room = self.cell_plot.getViewBox().width() or self.width() * 0.8
        cols = n if per_name * n + 16 <= room else max(1, (n + 1) // 2)
        if legend.columnCount != cols:
            legend.setColumnCount(cols)
