"""The review window (``midfoot review``): draws a :class:`gui.review_model.ReviewModel`.

Timeline tab: AP and ML CoP, load and cell forces on one time axis (wheel zooms, drag pans,
keys too), reps shaded and named with their faults, stance changes, gaps, notes and any
other event by its kind; a cursor that scrubs (click or drag), plays at 0.25-4x and says
when the file has ended; the plate view replays the CoP trail and zone at the cursor; the
rep table jumps to a rep (click, or n / p). A shift-drag selects a stretch for its sway, a
stance edit or an added rep. Overlays tab: every rep aligned at its bottom, left-lead
against right-lead, and each side's CoP paths on the foot. All logic is in the model; this
module only draws it and forwards the person's actions.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from analysis.review import Mark
from analysis.stance import STANCES
from daq.errors import MidfootError
from gui.colours import (
    AP_RGB,
    BACKGROUND,
    CELL_RGB,
    FAULT_REP,
    FZ_RGB,
    GOOD_REP,
    ML_RGB,
    MUTED,
    PANEL,
    TEXT,
    ZONE_RGB,
    css,
)
from gui.plate_view import PlateView
from gui.plot_items import remove_items
from gui.review_model import ReviewModel
from gui.traces import TraceCurve, cell_name

FRAME_MS = 33
ANALYSIS_DELAY_MS = 200
FOLLOW_EVERY_S = 1.0
# Rep labels are written while fewer than this many reps are in view (else they overlap).
MAX_LABELS = 40
SIDE_RGB = {"left": (86, 170, 255), "right": (255, 140, 60), "bilateral": (190, 190, 190)}
MARK_RGB = {
    "stance": (240, 178, 42),
    "note": (120, 200, 255),
    "gap": (232, 70, 58),
    "calibration": (150, 156, 170),
    "tare": (150, 156, 170),
    "weigh-in": (150, 156, 170),
}
OTHER_MARK_RGB = (200, 140, 255)
# A drill's targets: the colour the drill window draws its bands in.
TARGET_RGB = GOOD_REP


def _blend(rgb: tuple[int, int, int], alpha: int) -> QtGui.QColor:
    """``rgb`` at ``alpha`` over the background, as an opaque colour.

    Opaque fills are several times cheaper to paint than translucent ones, and the bands
    lie under everything else.
    """
    a = alpha / 255.0
    mixed = (int(round(a * c + (1 - a) * b)) for c, b in zip(rgb, BACKGROUND, strict=True))
    return QtGui.QColor(*mixed)


class SpanBands(pg.GraphicsObject):
    """Shaded time spans (reps, gaps, a selection) of one plot, painted as one item."""

    def __init__(self) -> None:
        super().__init__()
        self._spans: list[tuple[float, float, QtGui.QBrush]] = []
        self._y = (-1e6, 1e6)
        self._rect = QtCore.QRectF()

    def set_spans(self, spans: list[tuple[float, float, tuple[int, int, int], int]]) -> None:
        """Spans as (start s, end s, colour, alpha 0-255 over the background)."""
        self.prepareGeometryChange()
        self._spans = [(a, b, QtGui.QBrush(_blend(rgb, alpha))) for a, b, rgb, alpha in spans]
        self._update_rect()

    def set_y_span(self, lo: float, hi: float) -> None:
        """The plot's y range (the bands fill it)."""
        self.prepareGeometryChange()
        self._y = (lo, hi)
        self._update_rect()

    def _update_rect(self) -> None:
        if not self._spans:
            self._rect = QtCore.QRectF()
            return
        a = min(s[0] for s in self._spans)
        b = max(s[1] for s in self._spans)
        self._rect = QtCore.QRectF(a, self._y[0], max(b - a, 1e-9), self._y[1] - self._y[0])
        self.update()

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 - Qt API
        """Qt: everything the spans cover."""
        return self._rect

    def paint(self, painter: QtGui.QPainter, *args: object) -> None:
        """Qt: the spans in view."""
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        lo, hi = self._y
        view = self.getViewBox()
        x0, x1 = view.viewRange()[0] if view is not None else (-np.inf, np.inf)
        for a, b, brush in self._spans:
            if b < x0 or a > x1:
                continue
            painter.setBrush(brush)
            painter.drawRect(QtCore.QRectF(a, lo, max(b - a, 1e-9), hi - lo))


class _TimeAxisBox(pg.ViewBox):
    """Wheel zooms and drag pans time only; shift-drag selects a stretch; click moves the cursor."""

    def __init__(self, window: ReviewWindow) -> None:
        super().__init__()
        self._window = window
        self.setMouseEnabled(x=True, y=False)
        self._select_from: float | None = None

    def mouseClickEvent(self, ev: object) -> None:  # noqa: N802 - pyqtgraph API
        """Click: put the cursor there."""
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            ev.accept()
            self._window.seek(float(self.mapSceneToView(ev.scenePos()).x()))
        else:
            super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev: object, axis: int | None = None) -> None:  # noqa: N802
        """Drag pans; shift-drag selects the stretch it covers."""
        if ev.modifiers() & QtCore.Qt.KeyboardModifier.ShiftModifier:
            ev.accept()
            t = float(self.mapSceneToView(ev.scenePos()).x())
            if ev.isStart():
                self._select_from = float(self.mapSceneToView(ev.buttonDownScenePos()).x())
            if self._select_from is not None:
                self._window.set_selection(self._select_from, t)
            if ev.isFinish():
                self._select_from = None
            return
        super().mouseDragEvent(ev, axis=axis)


class ReviewWindow(QtWidgets.QMainWindow):
    """Review recordings: timeline, plate, rep table, overlays, sway, edits and exports.

    Parameters
    ----------
    model : ReviewModel
        The files under review.
    """

    def __init__(self, model: ReviewModel) -> None:
        super().__init__()
        self.model = model
        self.selection: tuple[float, float] | None = None
        self.setWindowTitle("midfoot review")
        self.setStyleSheet(
            f"QMainWindow, QWidget {{ background: {css(BACKGROUND)}; color: {css(TEXT)}; }}"
            f"QTableWidget {{ background: {css(PANEL)}; gridline-color: {css(MUTED, 0.3)}; }}"
            f"QHeaderView::section {{ background: {css(PANEL)}; color: {css(MUTED)}; }}"
            f"QPushButton, QComboBox {{ background: {css(PANEL)}; padding: 4px 8px; }}"
        )
        central = QtWidgets.QWidget()
        self.setCentralWidget(central)
        outer = QtWidgets.QVBoxLayout(central)
        outer.addLayout(self._toolbar())
        self.tabs = QtWidgets.QTabWidget()
        outer.addWidget(self.tabs, 1)
        self.tabs.addTab(self._timeline_tab(), "Timeline")
        self.tabs.addTab(self._overlay_tab(), "Overlays")
        self._overlays_stale = True
        self.tabs.currentChanged.connect(self._show_tab)
        self.message = QtWidgets.QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {css(MUTED)};")
        outer.addWidget(self.message)
        self._last_tick = time.monotonic()
        self._last_follow = self._last_tick
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        # Files opened without their analysis (an hour takes seconds) show their traces at
        # once; the reps arrive from a worker thread, which only computes (never draws).
        # One worker computes (never draws): the analysis of files opened without it, and
        # re-reading a file that grows (a recording in progress can be an hour long).
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="review-worker")
        self._pending: dict[int, Future] = {}
        self._started = False
        self._closed = False
        self._following: tuple[int, Future] | None = None
        self.load_file()
        # Started once the first frame is up: on a small machine the analysis would
        # otherwise compete with drawing it.
        QtCore.QTimer.singleShot(ANALYSIS_DELAY_MS, self._start_analysis)

    def _start_analysis(self) -> None:
        if self._started or self._closed:
            # Closed before the delayed start fired: the worker pool is shut down.
            return
        self._started = True
        unanalysed = [k for k, f in enumerate(self.model.files) if not f.analysed]
        self._pending = {k: self._pool.submit(self.model.analysed, k) for k in unanalysed}

    def _redraw_keeping_view(self) -> None:
        view = self.plots[0].viewRange()[0]
        self.load_file()
        self.plots[0].setXRange(*view, padding=0)

    def _adopt_finished(self, wait: bool = False) -> None:
        for k, future in list(self._pending.items()):
            if not (wait or future.done()):
                continue
            del self._pending[k]
            try:
                self.model.adopt(k, future.result())
            except MidfootError as exc:
                self.message.setText(str(exc))
                continue
            if k == self.model.current:
                self._redraw_keeping_view()
            elif self.tabs.currentIndex() == 1:
                self._draw_overlays()

    def _follow(self) -> None:
        """Look for growth of the current file in the worker; adopt what it found."""
        if self._following is not None:
            index, future = self._following
            if not future.done():
                return
            self._following = None
            fresh = future.result()
            if fresh is not None and not self._pending:
                self.model.take_grown(index, fresh)
                if index == self.model.current:
                    self._redraw_keeping_view()
            return
        if not self._pending:
            index = self.model.current
            self._following = (index, self._pool.submit(self.model.grown, index))

    def wait_for_analysis(self) -> None:
        """Block until every file's reps are in (for a screenshot or a script)."""
        self._start_analysis()
        self._adopt_finished(wait=True)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 - Qt API
        """Qt: stop the timer; a running analysis finishes in its thread and is dropped."""
        self.timer.stop()
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)
        super().closeEvent(event)

    # -- construction ---------------------------------------------------------------------
    def _button(self, text: str, slot: object, tip: str = "") -> QtWidgets.QPushButton:
        b = QtWidgets.QPushButton(text)
        b.clicked.connect(slot)
        b.setToolTip(tip)
        b.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        return b

    def _toolbar(self) -> QtWidgets.QHBoxLayout:
        bar = QtWidgets.QHBoxLayout()
        self.file_box = QtWidgets.QComboBox()
        self.file_box.addItems([f.name for f in self.model.files])
        self.file_box.currentIndexChanged.connect(self._select_file)
        self.file_box.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        bar.addWidget(self.file_box)
        self.play_button = self._button("Play", self.toggle_play, "space")
        bar.addWidget(self.play_button)
        self.speed_box = QtWidgets.QComboBox()
        self.speed_box.addItems(["0.25x", "0.5x", "1x", "2x", "4x"])
        self.speed_box.setCurrentIndex(2)
        self.speed_box.currentIndexChanged.connect(
            lambda k: self.model.cursor.set_speed((0.25, 0.5, 1.0, 2.0, 4.0)[k])
        )
        self.speed_box.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        bar.addWidget(self.speed_box)
        self.state_label = QtWidgets.QLabel("")
        self.state_label.setMinimumWidth(260)
        self.state_label.setStyleSheet("font-weight: 600;")
        bar.addWidget(self.state_label)
        bar.addStretch(1)
        self.hinge_buttons: list[QtWidgets.QPushButton] = []
        for text, slot, tip in (
            ("Note", self.ask_note, "a note at the cursor"),
            ("Athlete", self.ask_athlete, "who this recording is of"),
            ("Add rep", self.add_rep_from_selection, "the shift-dragged stretch is a rep"),
            ("Remove rep", self.remove_rep_at_cursor, "the rep under the cursor is not one"),
            ("Stance", self.ask_stance, "the stance of the shift-dragged stretch"),
            ("Undo", self.undo, "take back the last edit (ctrl+z)"),
            ("Export", self.ask_export, "PNG of this view, CSV of samples or reps, JSON"),
        ):
            button = self._button(text, slot, tip)
            bar.addWidget(button)
            if text in ("Add rep", "Remove rep"):
                # Reps are the hinge's: a drill file has trials instead.
                self.hinge_buttons.append(button)
        return bar

    def _timeline_tab(self) -> QtWidgets.QWidget:
        tab = QtWidgets.QWidget()
        layout = QtWidgets.QHBoxLayout(tab)
        left = QtWidgets.QVBoxLayout()
        layout.addLayout(left, 3)
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setBackground(BACKGROUND)
        # A pan or zoom moves everything: one full repaint is cheaper than Qt clipping every
        # item against many dirty rectangles.
        self.canvas.setViewportUpdateMode(
            QtWidgets.QGraphicsView.ViewportUpdateMode.FullViewportUpdate
        )
        left.addWidget(self.canvas, 3)
        self.plots: list[pg.PlotItem] = []
        self.bands: list[SpanBands] = []
        self.cursor_lines: list[pg.InfiniteLine] = []
        for row, label in enumerate(("CoP (mm)", "load (kg)", "cells (kg)")):
            plot = self.canvas.addPlot(row=row, col=0, viewBox=_TimeAxisBox(self))
            plot.setLabel("left", label)
            # No grid: its lines are redrawn across every plot on every pan and zoom, which
            # costs more than all the curves (bench/bench_review.py).
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.getAxis("left").setWidth(52)
            if self.plots:
                plot.setXLink(self.plots[0])
            bands = SpanBands()
            bands.setZValue(-20)
            plot.addItem(bands, ignoreBounds=True)
            plot.getViewBox().sigYRangeChanged.connect(
                lambda _vb, rng, bands=bands: bands.set_y_span(*rng)
            )
            line = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen(TEXT, width=1.5))
            line.setZValue(50)
            line.sigDragged.connect(lambda ln: self.seek(float(ln.value())))
            plot.addItem(line, ignoreBounds=True)
            self.plots.append(plot)
            self.bands.append(bands)
            self.cursor_lines.append(line)
        self.plots[-1].setLabel("bottom", "time (s)")
        for plot in self.plots[:-1]:
            # One time axis, at the bottom: the others would be redrawn on every pan for
            # the same numbers.
            plot.hideAxis("bottom")
        self.plots[0].addLegend(offset=(8, -4), labelTextColor=MUTED, colCount=2)
        self.ap_curve = TraceCurve(pen=pg.mkPen(AP_RGB, width=1), connect="finite")
        self.ml_curve = TraceCurve(pen=pg.mkPen(ML_RGB, width=1), connect="finite")
        self.load_curve = TraceCurve(pen=pg.mkPen(FZ_RGB, width=1), connect="finite")
        self.plots[0].addItem(self.ap_curve)
        self.plots[0].addItem(self.ml_curve)
        self.plots[0].legend.addItem(self.ap_curve, "AP (+ forward)")
        self.plots[0].legend.addItem(self.ml_curve, "ML (+ right)")
        self.plots[1].addItem(self.load_curve)
        self.cell_curves: list[TraceCurve] = []
        self.plots[0].getViewBox().sigXRangeChanged.connect(lambda *_: self.redraw_traces())
        self._mark_items: list[tuple[pg.PlotItem, QtWidgets.QGraphicsItem]] = []
        self._rep_labels: list[tuple[float, pg.TextItem]] = []
        self._drill_labels: list[pg.TextItem] = []
        self.table = QtWidgets.QTableWidget()
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.cellClicked.connect(lambda r, _c: self.jump_to_row(r))
        self.table.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        left.addWidget(self.table, 2)
        right = QtWidgets.QVBoxLayout()
        layout.addLayout(right, 1)
        self.plate = PlateView()
        right.addWidget(self.plate)
        self.drill_label = QtWidgets.QLabel("")
        self.drill_label.setWordWrap(True)
        self.drill_label.setAlignment(QtCore.Qt.AlignmentFlag.AlignTop)
        self.drill_label.setStyleSheet("font-size: 14px;")
        right.addWidget(self.drill_label)
        self.sway_label = QtWidgets.QLabel("Shift-drag on the timeline to select a stretch.")
        self.sway_label.setWordWrap(True)
        self.sway_label.setAlignment(QtCore.Qt.AlignmentFlag.AlignTop)
        right.addWidget(self.sway_label, 1)
        return tab

    def _overlay_tab(self) -> QtWidgets.QWidget:
        tab = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(tab)
        self.asym_label = QtWidgets.QLabel("")
        self.asym_label.setStyleSheet("font-size: 15px; font-weight: 600;")
        self.asym_label.setWordWrap(True)
        layout.addWidget(self.asym_label)
        self.overlay_canvas = pg.GraphicsLayoutWidget()
        self.overlay_canvas.setBackground(BACKGROUND)
        layout.addWidget(self.overlay_canvas, 1)
        self.overlay_plots: dict[str, pg.PlotItem] = {}
        for col, (key, label) in enumerate(
            (("ap_mm", "CoP AP from start (mm)"), ("ml_mm", "CoP ML from start (mm)"),
             ("load_kg", "load (kg)"))
        ):
            p = self.overlay_canvas.addPlot(row=0, col=col)
            p.setTitle(label, color=MUTED)
            p.setLabel("bottom", "time from the bottom (s)")
            p.showGrid(x=True, y=True, alpha=0.15)
            p.addLine(x=0, pen=pg.mkPen(MUTED, style=QtCore.Qt.PenStyle.DashLine))
            self.overlay_plots[key] = p
        self.path_plots: dict[str, pg.PlotItem] = {}
        for col, side in enumerate(("left", "right", "bilateral")):
            p = self.overlay_canvas.addPlot(row=1, col=col)
            p.setTitle(f"{side}-lead: CoP paths on the foot" if side != "bilateral"
                       else "bilateral: CoP paths", color=MUTED)
            p.setAspectLocked(True)
            p.hideAxis("left")
            p.hideAxis("bottom")
            self.path_plots[side] = p
        return tab

    # -- loading and drawing ----------------------------------------------------------------
    def load_file(self) -> None:
        """Draw the current file from scratch (after opening, an edit, or growth)."""
        f = self.model.file
        series = f.series
        for plot, item in self._mark_items:
            remove_items(plot, [item])
        remove_items(self.plots[2], self.cell_curves)
        self._mark_items.clear()
        self._rep_labels.clear()
        self._drill_labels.clear()
        self.cell_curves = []
        for k in range(series.n_cells):
            curve = TraceCurve(pen=pg.mkPen(CELL_RGB[k % len(CELL_RGB)], width=1), connect="finite")
            curve.setToolTip(cell_name(k))
            self.plots[2].addItem(curve)
            self.cell_curves.append(curve)
        if series.meta.plate is not None:
            self.plate.set_plate(series.meta.plate)
        self._draw_marks(f.marks)
        self._draw_drill_targets()
        self._fill_table()
        self._show_drill_summary()
        # The overlays are drawn when their tab is shown (an hour holds hundreds of reps).
        self._overlays_stale = True
        if self.tabs.currentIndex() == 1:
            self._draw_overlays()
        self._set_y_ranges()
        t = series.t_s
        self.plots[0].getViewBox().setLimits(xMin=t[0] - 5, xMax=t[-1] + 5)
        self.plots[0].setXRange(float(t[0]), float(t[-1]), padding=0.01)
        self.redraw_traces()
        self._stance_shown = None
        self.show_cursor()
        problem = f.problem or ""
        athlete = f.report.meta.get("athlete") or "athlete not named"
        what = f.drills_text() if f.drills else f"{len(f.rows)} reps"
        self.message.setText(
            f"{f.name}: {athlete}, {what}, {series.duration_s:.0f} s"
            + (f". {problem}" if problem else "")
        )

    def _set_y_ranges(self) -> None:
        """Each plot's y range from the whole file, fixed while panning and zooming.

        A y range that followed the view would re-lay out the axes on every frame, and the
        traces would jump in scale as one pans.
        """
        traces = self.model.file.traces
        groups = (
            ["ap_mm", "ml_mm"],
            ["load_kg"],
            [f"cell{k}_kg" for k in range(len(self.cell_curves))],
        )
        for plot, names in zip(self.plots, groups, strict=True):
            data = np.concatenate([traces[n].overview() for n in names if n in traces] or [[]])
            data = data[np.isfinite(data)]
            if not data.size:
                continue
            if names == ["ap_mm", "ml_mm"]:
                # Stepping on and off swings the CoP of a few newtons across the plate: the
                # range is where the person stood, not those moments.
                lo, hi = (float(v) for v in np.percentile(data, [1.0, 99.0]))
            else:
                lo, hi = min(float(data.min()), 0.0), float(data.max())
            pad = 0.08 * max(hi - lo, 1.0)
            plot.enableAutoRange(y=False)
            plot.setYRange(lo - pad, hi + pad, padding=0)

    def _draw_marks(self, marks: list[Mark]) -> None:
        spans: list[tuple[float, float, tuple[int, int, int], int]] = []
        # Point marks close together (stance, calibration and a drill's start in the first
        # seconds) get their labels at stepped heights, so none is written over another.
        near_s = 0.06 * max(self.model.file.series.duration_s, 1.0)
        last_s, level = -np.inf, 0
        for m in marks:
            if m.kind == "rep":
                rgb = FAULT_REP if m.faults else GOOD_REP
                spans.append((m.t_s, m.end_s, rgb, 60))
                label = pg.TextItem(m.label, color=rgb, anchor=(0, 0))
                label.setPos(m.t_s, 0)
                self._rep_labels.append((m.t_s, label))
                self._add_mark_item(self.plots[0], label)
            elif m.kind == "gap" and m.end_s > m.t_s:
                spans.append((m.t_s, m.end_s, MARK_RGB["gap"], 70))
            else:
                rgb = MARK_RGB.get(m.kind, OTHER_MARK_RGB)
                level = (level + 1) % 4 if m.t_s - last_s < near_s else 0
                last_s = m.t_s
                line = pg.InfiniteLine(
                    pos=m.t_s,
                    angle=90,
                    pen=pg.mkPen(rgb, style=QtCore.Qt.PenStyle.DashLine),
                    label=m.label if m.kind != "stance" else f"stance: {m.label}",
                    labelOpts={"position": 0.92 - 0.2 * level, "color": rgb,
                               "anchors": [(0, 0), (0, 0)]},
                )
                self._add_mark_item(self.plots[1], line)
        for target in self.model.file.drill_targets:
            if target.kind == "direction":
                # A lean has no band: its whole stretch is the target.
                spans.append((target.shown_s, target.until_s, TARGET_RGB, 35))
        if self.selection is not None:
            spans.append((*self.selection, (255, 255, 255), 40))
        for bands in self.bands:
            bands.set_spans(spans)

    def _add_mark_item(self, plot: pg.PlotItem, item: QtWidgets.QGraphicsItem) -> None:
        plot.addItem(item, ignoreBounds=True)
        self._mark_items.append((plot, item))

    def _draw_drill_targets(self) -> None:
        """A drill's targets on the CoP plot: bands shaded, a moving target as a line."""
        targets = self.model.file.drill_targets
        plot = self.plots[0]
        plot.legend.removeItem("targets")  # a hinge file after a drill file shows none
        if not targets:
            return
        for target in targets:
            if target.kind in ("band", "weight"):
                rect = QtWidgets.QGraphicsRectItem(
                    target.shown_s, target.lo_mm, target.until_s - target.shown_s,
                    target.hi_mm - target.lo_mm,
                )
                rect.setBrush(QtGui.QBrush(QtGui.QColor(*TARGET_RGB, 100)))
                rect.setPen(QtGui.QPen(QtCore.Qt.PenStyle.NoPen))
                rect.setZValue(-10)
                rect.setToolTip(f"{target.label} target")
                self._add_mark_item(plot, rect)
            elif target.kind == "moving":
                line = pg.PlotDataItem(
                    target.t_s, target.target_mm,
                    pen=pg.mkPen(TARGET_RGB, width=2, style=QtCore.Qt.PenStyle.DashLine),
                )
                line.setToolTip(f"moving target, {target.label}")
                self._add_mark_item(plot, line)
            elif target.kind == "direction":
                label = pg.TextItem(f"lean {target.label}", color=TARGET_RGB, anchor=(0, 1))
                label.setPos(target.shown_s, plot.viewRange()[1][0])
                self._add_mark_item(plot, label)
                self._drill_labels.append(label)
        swatch = pg.PlotDataItem([], [], pen=pg.mkPen(TARGET_RGB, width=3))
        plot.legend.addItem(swatch, "targets")

    def _show_drill_summary(self) -> None:
        lines = self.model.drill_summary()
        self.drill_label.setVisible(bool(lines))
        self.drill_label.setText(
            "<b>" + "</b><br>".join([lines[0], "<br>".join(lines[1:])]) if lines else ""
        )
        for button in self.hinge_buttons:
            button.setVisible(not self.model.is_drill)

    def _fill_table(self) -> None:
        columns = self.model.table_columns()
        cells = self.model.table_cells()
        reps = self.model.file.rows if not self.model.is_drill else []
        self.table.clear()
        self.table.setColumnCount(len(columns))
        self.table.setRowCount(len(cells))
        self.table.setHorizontalHeaderLabels([label for _, label in columns])
        for r, row in enumerate(cells):
            for c, (key, _) in enumerate(columns):
                item = QtWidgets.QTableWidgetItem(row[key])
                faulty = key == "faults" and reps and reps[r].rep.fault_names
                missed = key == "success" and row[key] == "no"
                if faulty or missed:
                    item.setForeground(QtGui.QBrush(QtGui.QColor(*FAULT_REP)))
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()

    def _show_tab(self, index: int) -> None:
        if index == 1 and self._overlays_stale:
            self._draw_overlays()

    def _draw_overlays(self) -> None:
        """Every rep aligned at its bottom: one curve per side and quantity (NaN-separated)."""
        self._overlays_stale = False
        ov = self.model.overlays()
        self.asym_label.setText(ov.summary())
        for key, plot in self.overlay_plots.items():
            remove_items(plot, plot.listDataItems())
            for side, reps in ov.by_side.items():
                if not reps:
                    continue
                x = np.concatenate([np.append(a.rel_t_s, np.nan) for a in reps])
                y = np.concatenate([np.append(getattr(a, key), np.nan) for a in reps])
                item = plot.plot(x, y, pen=pg.mkPen(SIDE_RGB[side], width=1), connect="finite")
                item.setProperty("reps", len(reps))
        for side, plot in self.path_plots.items():
            remove_items(plot, list(plot.items))
            reps = ov.by_side.get(side, [])
            if not reps:
                plot.addItem(pg.TextItem("no reps", color=MUTED))
                continue
            stance = reps[0].stance
            for zone, poly in stance.zone_boundaries_mm():
                item = QtWidgets.QGraphicsPolygonItem(
                    QtGui.QPolygonF([QtCore.QPointF(float(x), float(y)) for x, y in poly])
                )
                item.setBrush(QtGui.QBrush(QtGui.QColor(*ZONE_RGB[zone], 110)))
                item.setPen(QtGui.QPen(QtCore.Qt.PenStyle.NoPen))
                plot.addItem(item)
            for outline in stance.feet_outlines_mm():
                o = np.vstack([outline, outline[:1]])
                plot.plot(o[:, 0], o[:, 1], pen=pg.mkPen(TEXT, width=1.5))
            for faulty in (False, True):
                chosen = [a for a in reps if bool(a.rep.fault_names) == faulty]
                if not chosen:
                    continue
                xy = np.concatenate([np.vstack([a.path_xy_mm, [np.nan, np.nan]]) for a in chosen])
                rgb = FAULT_REP if faulty else SIDE_RGB[side]
                plot.plot(xy[:, 0], xy[:, 1], pen=pg.mkPen(rgb, width=1.2), connect="finite")

    def redraw_traces(self) -> None:
        """Draw the traces of the visible stretch at the canvas' width."""
        f = self.model.file
        x0, x1 = self.plots[0].viewRange()[0]
        px = max(self.canvas.width(), 200)
        pairs = [(self.ap_curve, "ap_mm"), (self.ml_curve, "ml_mm"), (self.load_curve, "load_kg")]
        pairs += [(c, f"cell{k}_kg") for k, c in enumerate(self.cell_curves)]
        for curve, name in pairs:
            x, y = f.traces[name].view(x0, x1, px)
            finite = y[np.isfinite(y)]
            lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
            curve.set_trace(x, y, lo, hi)
        visible = [lab for t, lab in self._rep_labels if x0 <= t <= x1]
        show = bool(len(visible) <= MAX_LABELS)
        top = self.plots[0].viewRange()[1][1]
        for t, label in self._rep_labels:
            label.setVisible(bool(show and x0 <= t <= x1))
            if show:
                label.setPos(t, top)
        bottom = self.plots[0].viewRange()[1][0]
        for label in self._drill_labels:
            label.setPos(label.pos().x(), bottom)

    # -- cursor -----------------------------------------------------------------------------
    def seek(self, t_s: float) -> None:
        """Move the cursor to ``t_s``."""
        self.model.cursor.seek(t_s)
        self.show_cursor()

    def show_cursor(self) -> None:
        """Draw the cursor, the plate at the cursor and the play state."""
        c = self.model.cursor
        for line in self.cursor_lines:
            line.blockSignals(True)
            line.setValue(c.position_s)
            line.blockSignals(False)
        frame = self.model.plate_frame()
        if frame.stance is not self._stance_shown:
            self.plate.set_stance(frame.stance)
            self._stance_shown = frame.stance
        s = self.model.file.series
        i1 = int(np.searchsorted(s.t_s, c.position_s, side="right"))
        i0 = int(np.searchsorted(s.t_s, c.position_s - 2.0))
        rows = [r.rep for r in self.model.file.rows if r.rep.start_s <= c.position_s]
        back = rows[-1].back_foot_fraction if rows else 0.0
        counts = None if s.counts is None else s.counts[i0:i1]
        self.plate.update_cop(s.t_s[i0:i1], s.cop_mm[i0:i1], back, counts)
        self.plate.set_readout(frame.weight_kg, None, frame.zone)
        state = c.state.upper()
        self.state_label.setText(
            f"{state}  {c.position_s:7.2f} / {c.end_s:.2f} s  at {c.speed:g}x"
        )
        colour = FAULT_REP if c.at_end else (GOOD_REP if c.playing else MUTED)
        self.state_label.setStyleSheet(f"font-weight: 600; color: {css(colour)};")
        self.play_button.setText("Pause" if c.playing else "Play")
        k = self.model.table_index_at()
        if k is not None and self.table.currentRow() != k:
            self.table.selectRow(k)

    def toggle_play(self) -> None:
        """Play or pause."""
        self.model.cursor.toggle()
        self._last_tick = time.monotonic()
        self.show_cursor()

    def jump_to_row(self, row: int) -> None:
        """Jump to row ``row`` of the table (a rep, or a drill's trial); bring it into view."""
        try:
            a, b = self.model.jump_to_row(row)
        except MidfootError as exc:
            self.message.setText(str(exc))
            return
        self._bring_into_view(a, b)
        self.show_cursor()

    def _bring_into_view(self, a: float, b: float) -> None:
        x0, x1 = self.plots[0].viewRange()[0]
        if a < x0 or b > x1:
            span = max(x1 - x0, (b - a) * 1.5)
            mid = 0.5 * (a + b)
            self.plots[0].setXRange(mid - span / 2, mid + span / 2, padding=0)

    def _tick(self) -> None:
        if self._pending:
            self._adopt_finished()
        now = time.monotonic()
        dt, self._last_tick = now - self._last_tick, now
        c = self.model.cursor
        if now - self._last_follow >= FOLLOW_EVERY_S or self._following is not None:
            self._last_follow = now
            self._follow()
        if c.playing:
            c.advance(dt)
            x0, x1 = self.plots[0].viewRange()[0]
            if c.position_s > x1:
                self.plots[0].setXRange(c.position_s - 0.1 * (x1 - x0),
                                        c.position_s + 0.9 * (x1 - x0), padding=0)
            self.show_cursor()

    # -- selection and sway ------------------------------------------------------------------
    def set_selection(self, a: float, b: float) -> None:
        """Select ``a..b`` (s) and show its sway."""
        lo, hi = sorted((a, b))
        self.selection = (lo, hi)
        self._draw_marks(self.model.file.marks)
        try:
            metrics, warning = self.model.sway(lo, hi)
        except MidfootError as exc:
            self.sway_label.setText(f"Selected {lo:.2f}-{hi:.2f} s. Sway: {exc}")
            return
        text = (
            f"Selected {lo:.2f}-{hi:.2f} s.\nSway: 95 % ellipse "
            f"{metrics.ellipse95_area_mm2:.0f} mm², mean velocity "
            f"{metrics.mean_velocity_mm_s:.1f} mm/s, RMS AP {metrics.rms_ap_mm:.1f} mm, "
            f"RMS ML {metrics.rms_ml_mm:.1f} mm."
        )
        if warning:
            text += f"\nWarning: {warning}"
        self.sway_label.setText(text)
        self.sway_label.setStyleSheet(f"color: {css(FAULT_REP if warning else TEXT)};")

    # -- edits ------------------------------------------------------------------------------
    def _edit(self, action: object, *args: object) -> bool:
        try:
            action(*args)
        except MidfootError as exc:
            self.message.setText(str(exc))
            return False
        view = self.plots[0].viewRange()[0]
        self.load_file()
        self.plots[0].setXRange(*view, padding=0)
        return True

    def ask_note(self) -> None:
        """Ask for a note at the cursor."""
        text, ok = QtWidgets.QInputDialog.getText(self, "Note", "Note at the cursor:")
        if ok:
            self._edit(self.model.add_note, text)

    def ask_athlete(self) -> None:
        """Ask who the recording is of."""
        current = str(self.model.file.report.meta.get("athlete") or "")
        text, ok = QtWidgets.QInputDialog.getText(self, "Athlete", "Athlete:", text=current)
        if ok:
            self._edit(self.model.set_athlete, text)

    def add_rep_from_selection(self) -> None:
        """The selected stretch is a rep: start and lockout at its ends, bottom at the cursor."""
        if self.selection is None:
            self.message.setText("shift-drag over the rep first, and put the cursor at its bottom")
            return
        lo, hi = self.selection
        bottom = self.model.cursor.position_s
        if not lo < bottom < hi:
            bottom = 0.5 * (lo + hi)
        self._edit(self.model.add_rep, lo, bottom, hi)

    def remove_rep_at_cursor(self) -> None:
        """The rep under the cursor is not a rep (or two merged)."""
        self._edit(self.model.remove_rep)

    def ask_stance(self) -> None:
        """Ask the stance of the selected stretch."""
        if self.selection is None:
            self.message.setText("shift-drag over the stretch first")
            return
        stance, ok = QtWidgets.QInputDialog.getItem(
            self, "Stance", "Stance of the selection:", list(STANCES), 0, False
        )
        if ok:
            self._edit(self.model.set_stance, *self.selection, stance)

    def undo(self) -> None:
        """Take back the last edit."""
        undone: list[str | None] = []
        if self._edit(lambda: undone.append(self.model.undo())):
            self.message.setText(f"undid: {undone[0]}" if undone[0] else "no edit to undo")

    # -- exports ----------------------------------------------------------------------------
    def export_png(self, path: str | Path, widget: QtWidgets.QWidget | None = None) -> Path:
        """A PNG of ``widget`` (default: the whole window)."""
        path = Path(path)
        if not (widget or self).grab().save(str(path)):
            raise MidfootError(f"cannot write {path}: choose a folder you can write to")
        return path

    def ask_export(self) -> None:
        """Ask what to export and where."""
        choices = {
            "PNG of this view": ("png", lambda p: self.export_png(p, self.tabs.currentWidget())),
            "PNG of the whole window": ("png", self.export_png),
            "CSV of calibrated samples": ("csv", self.model.export_samples_csv),
            "CSV of the rep table": ("csv", self.model.export_reps_csv),
            "JSON report": ("json", self.model.export_json),
        }
        what, ok = QtWidgets.QInputDialog.getItem(
            self, "Export", "Export:", list(choices), 0, False
        )
        if not ok:
            return
        ext, action = choices[what]
        stem = self.model.file.path.with_suffix("")
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, what, f"{stem}.{ext}", f"*.{ext}"
        )
        if path:
            try:
                self.message.setText(f"wrote {action(path)}")
            except MidfootError as exc:
                self.message.setText(str(exc))

    # -- keys and files ---------------------------------------------------------------------
    def _select_file(self, index: int) -> None:
        self.model.select(index)
        self.selection = None
        self.load_file()

    def zoom(self, factor: float) -> None:
        """Zoom the time axis about the cursor (factor < 1 zooms in)."""
        x0, x1 = self.plots[0].viewRange()[0]
        c = self.model.cursor.position_s
        c = c if x0 <= c <= x1 else 0.5 * (x0 + x1)
        self.plots[0].setXRange(c - (c - x0) * factor, c + (x1 - c) * factor, padding=0)

    def pan(self, fraction: float) -> None:
        """Pan the time axis by ``fraction`` of the view."""
        x0, x1 = self.plots[0].viewRange()[0]
        d = (x1 - x0) * fraction
        self.plots[0].setXRange(x0 + d, x1 + d, padding=0)

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:  # noqa: N802 - Qt API
        """Keys: space play, n/p reps, arrows pan, +/- zoom, [ ] speed, ctrl+z undo."""
        key = event.key()
        k = QtCore.Qt.Key
        c = self.model.cursor
        if key == k.Key_Space:
            self.toggle_play()
        elif key == k.Key_N:
            found = self.model.next_row()
            if found is not None:
                self.jump_to_row(found)
        elif key == k.Key_P:
            found = self.model.previous_row()
            if found is not None:
                self.jump_to_row(found)
        elif key == k.Key_Left:
            self.pan(-0.2)
        elif key == k.Key_Right:
            self.pan(0.2)
        elif key in (k.Key_Plus, k.Key_Equal):
            self.zoom(0.5)
        elif key == k.Key_Minus:
            self.zoom(2.0)
        elif key == k.Key_BracketRight:
            c.faster()
            self.speed_box.setCurrentIndex((0.25, 0.5, 1.0, 2.0, 4.0).index(c.speed))
        elif key == k.Key_BracketLeft:
            c.slower()
            self.speed_box.setCurrentIndex((0.25, 0.5, 1.0, 2.0, 4.0).index(c.speed))
        elif key == k.Key_Home:
            self.seek(c.start_s)
        elif key == k.Key_End:
            self.seek(c.end_s)
        elif key == k.Key_Z and event.modifiers() & QtCore.Qt.KeyboardModifier.ControlModifier:
            self.undo()
        else:
            super().keyPressEvent(event)
            return
        self.show_cursor()
