"""The plate seen from above: outline, cells, feet with their zones, and the CoP with a trail.

Plate coordinates (PROTOCOL.md): origin at the centre, +x to the person's right, +y toward
the toes; on screen forward is up, as a coach standing behind the person sees it.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from daq.plate import PlateGeometry
from daq.series import glitch_free
from gui.colours import (
    BACKGROUND,
    FOOT_EDGE,
    MUTED,
    PLATE_EDGE,
    PLATE_FILL,
    TEXT,
    ZONE_ORDER,
    ZONE_RGB,
    css,
)
from gui.plot_items import remove_items
from gui.type_scale import MIN_PX, scaled_px, set_font_px

TRAIL_S = 2.0
TRAIL_POINTS = 80  # the 2 s trail is drawn as this many segments whatever the sample rate
DOT_MM = 26.0
PLATE_MARGIN_MM = 40.0  # around the plate, for the L/R labels (FRONT/BACK: see _fit_range)
ALPHA_LEVELS = 16


def _qcolor(rgb: tuple[int, int, int], alpha: int = 255) -> QtGui.QColor:
    return QtGui.QColor(rgb[0], rgb[1], rgb[2], alpha)


def _polygon(points_mm: np.ndarray) -> QtGui.QPolygonF:
    return QtGui.QPolygonF([QtCore.QPointF(float(x), float(y)) for x, y in points_mm])


class FadingTrail(pg.GraphicsObject):
    """A polyline whose segments fade with age and take the colour of their CoP zone.

    Pens come from a table built once (zone x opacity). Consecutive segments with the
    same pen are drawn as one polyline, so a frame issues a couple of dozen antialiased
    strokes instead of one per segment: each stroke has a set-up cost, and the 80 separate
    lines took ~0.7 ms a frame here against ~0.2 ms for the runs.
    """

    def __init__(self) -> None:
        super().__init__()
        self._runs: list[tuple[QtGui.QPen, QtGui.QPolygonF]] = []
        self._pens = {
            (z, a): self._pen(ZONE_RGB[name], int(255 * (a + 1) / ALPHA_LEVELS))
            for z, name in enumerate(ZONE_ORDER)
            for a in range(ALPHA_LEVELS)
        }
        self._bounds = QtCore.QRectF()

    @staticmethod
    def _pen(rgb: tuple[int, int, int], alpha: int) -> QtGui.QPen:
        pen = QtGui.QPen(_qcolor(rgb, alpha))
        pen.setWidthF(3.0)
        pen.setCosmetic(True)
        pen.setCapStyle(QtCore.Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(QtCore.Qt.PenJoinStyle.RoundJoin)
        return pen

    def set_trail(self, xy_mm: np.ndarray, zone_idx: np.ndarray) -> None:
        """Points oldest first and the index (in ZONE_ORDER) of each point's zone."""
        self.prepareGeometryChange()
        self._runs = self._pen_runs(xy_mm, zone_idx)
        finite = xy_mm[np.isfinite(xy_mm[:, 0])] if len(xy_mm) else xy_mm
        if len(finite):
            lo = finite.min(axis=0)
            hi = finite.max(axis=0)
            self._bounds = QtCore.QRectF(lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]).adjusted(
                -5, -5, 5, 5
            )
        else:
            self._bounds = QtCore.QRectF()
        self.update()

    def _pen_runs(
        self, xy: np.ndarray, zone_idx: np.ndarray
    ) -> list[tuple[QtGui.QPen, QtGui.QPolygonF]]:
        """Runs of consecutive segments sharing a pen, as (pen, polyline) pairs."""
        n = len(xy)
        if n < 2:
            return []
        # Segment i joins points i-1 and i: its pen is point i's zone and the opacity of
        # its age; a NaN end (the CoP was gated off: nobody on the plate) breaks the line.
        seg = np.arange(1, n)
        alpha = np.minimum(ALPHA_LEVELS - 1, seg * ALPHA_LEVELS // n)
        key = np.asarray(zone_idx[1:], dtype=np.int64) * ALPHA_LEVELS + alpha
        ok = np.isfinite(xy[1:, 0]) & np.isfinite(xy[:-1, 0])
        key = np.where(ok, key, -1)
        cut = np.flatnonzero(np.diff(key)) + 1
        # All points go into one QPolygonF through its memory (no QPointF per point);
        # each run is a slice of it.
        points = pg.functions.create_qpolygonf(n)
        pg.functions.ndarray_from_qpolygonf(points)[:] = xy
        runs = []
        for a, b in zip(np.r_[0, cut].tolist(), np.r_[cut, n - 1].tolist(), strict=True):
            k = int(key[a])
            if k < 0:
                continue
            pen = self._pens[(k // ALPHA_LEVELS, k % ALPHA_LEVELS)]
            runs.append((pen, points.mid(a, b - a + 1)))
        return runs

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 - Qt API
        """Qt: the area the trail covers."""
        return self._bounds

    def paint(self, painter: QtGui.QPainter, *args: object) -> None:
        """Qt: draw the runs, oldest (faintest) first."""
        if not self._runs:
            return
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        for pen, line in self._runs:
            painter.setPen(pen)
            painter.drawPolyline(line)


class PlateView(QtWidgets.QWidget):
    """Plate outline, feet and zones, the live CoP, and the load in kg and % body weight."""

    def __init__(self, parent: QtWidgets.QWidget | None = None, compact: bool = False) -> None:
        super().__init__(parent)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        header = QtWidgets.QHBoxLayout()
        weight_box = QtWidgets.QVBoxLayout()
        weight_box.setSpacing(0)
        self.weight_label = QtWidgets.QLabel("-- kg")
        self.weight_label.setObjectName("weight")
        self.weight_label.setStyleSheet(f"color: {css(TEXT)}; font-size: 34px; font-weight: 600;")
        self.percent_label = QtWidgets.QLabel("")
        self.percent_label.setStyleSheet(f"color: {css(MUTED)}; font-size: 16px;")
        weight_box.addWidget(self.weight_label)
        weight_box.addWidget(self.percent_label)
        zone_box = QtWidgets.QVBoxLayout()
        zone_box.setSpacing(0)
        zone_caption = QtWidgets.QLabel("PRESSURE OVER")
        zone_caption.setAlignment(QtCore.Qt.AlignmentFlag.AlignRight)
        zone_caption.setStyleSheet(f"color: {css(MUTED)}; font-size: 12px; letter-spacing: 1px;")
        self.zone_label = QtWidgets.QLabel("")
        self.zone_label.setAlignment(QtCore.Qt.AlignmentFlag.AlignRight)
        self.zone_label.setStyleSheet("font-size: 28px; font-weight: 700;")
        zone_box.addWidget(zone_caption)
        zone_box.addWidget(self.zone_label)
        header.addLayout(weight_box)
        header.addStretch(1)
        # The zone word is the figure read from across the room: a row of its own, as wide
        # as the view, so it grows with the window without pushing the weight aside.
        zone_caption.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.zone_label.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.zone_caption = zone_caption
        rows = QtWidgets.QVBoxLayout()
        rows.setContentsMargins(0, 0, 0, 0)
        rows.setSpacing(0)
        rows.addLayout(header)
        rows.addLayout(zone_box)
        self._zone_px = 28
        # Compact (inside a dialog): the plate only, no readout.
        self.header = QtWidgets.QWidget()
        self.header.setLayout(rows)
        self.header.setVisible(not compact)
        layout.addWidget(self.header)

        self.plot = pg.PlotWidget(background=BACKGROUND)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        item = self.plot.getPlotItem()
        item.setAspectLocked(True)
        for side in ("left", "bottom"):
            item.hideAxis(side)
        item.vb.sigResized.connect(lambda *_: self._fit_range())
        layout.addWidget(self.plot)
        legend = QtWidgets.QHBoxLayout()
        legend.addStretch(1)
        for zone in ZONE_ORDER[:3]:
            chip = QtWidgets.QLabel(f"\u25a0 {zone}")
            chip.setObjectName("zone_chip")
            chip.setStyleSheet(f"color: {css(ZONE_RGB[zone])}; font-size: 14px;")
            legend.addWidget(chip)
        legend.addStretch(1)
        self.legend = QtWidgets.QWidget()
        self.legend.setLayout(legend)
        layout.addWidget(self.legend)
        self.note = QtWidgets.QLabel("")
        self.note.setWordWrap(True)
        self.note.setAlignment(QtCore.Qt.AlignmentFlag.AlignHCenter)
        self.note.setStyleSheet(f"color: {css(MUTED)}; font-size: 13px;")
        layout.addWidget(self.note)
        layout.addStretch(1)
        self._aspect = 1.0
        self._plate_mm: tuple[float, float] | None = None

        self._static: list[QtWidgets.QGraphicsItem] = []
        self._stance_items: list[QtWidgets.QGraphicsItem] = []
        self.trail = FadingTrail()
        self.trail.setZValue(20)
        self.plot.addItem(self.trail)
        # A plain ellipse item: a ScatterPlotItem costs several times more per frame.
        self.dot = QtWidgets.QGraphicsEllipseItem(-DOT_MM / 2, -DOT_MM / 2, DOT_MM, DOT_MM)
        dot_pen = QtGui.QPen(_qcolor(TEXT))
        dot_pen.setCosmetic(True)
        dot_pen.setWidthF(2)
        self.dot.setPen(dot_pen)
        self.dot.setZValue(30)
        self.dot.setVisible(False)
        self.plot.addItem(self.dot)
        self._brushes = {z: QtGui.QBrush(_qcolor(ZONE_RGB[z])) for z in ZONE_ORDER}
        self._dot_zone = ""
        self._zone_index = {z: i for i, z in enumerate(ZONE_ORDER)}
        self._last_zone = ""
        self._last_weight_text: tuple[str, str] = ("", "")

    # -- static drawing -----------------------------------------------------------------------
    def set_plate(self, plate: PlateGeometry) -> None:
        """Draw the plate outline, its cells and the front/left/right labels."""
        remove_items(self.plot, self._static)
        self._static.clear()
        w, d = plate.width_mm, plate.depth_mm
        rect = QtWidgets.QGraphicsRectItem(-w / 2, -d / 2, w, d)
        rect.setBrush(QtGui.QBrush(_qcolor(PLATE_FILL)))
        pen = QtGui.QPen(_qcolor(PLATE_EDGE))
        pen.setCosmetic(True)
        pen.setWidthF(2)
        rect.setPen(pen)
        rect.setZValue(-10)
        self._static.append(rect)
        for x, y in plate.cells_mm:
            cell = QtWidgets.QGraphicsEllipseItem(x - 12, y - 12, 24, 24)
            cell.setBrush(QtGui.QBrush(_qcolor(PLATE_EDGE, 120)))
            cell.setPen(QtGui.QPen(QtCore.Qt.PenStyle.NoPen))
            cell.setZValue(-9)
            self._static.append(cell)
        for text, x, y, anchor in (
            ("FRONT (toes)", 0.0, d / 2, (0.5, 1.0)),
            ("BACK", 0.0, -d / 2, (0.5, 0.0)),
            ("L", -w / 2, 0.0, (1.0, 0.5)),
            ("R", w / 2, 0.0, (0.0, 0.5)),
        ):
            label = pg.TextItem(text, color=MUTED, anchor=anchor)
            label.setFont(self._label_font())
            label.setPos(x, y)
            self._static.append(label)
        for it in self._static:
            self.plot.addItem(it)
        self._plate_mm = (w, d)
        self._aspect = (d + 2 * PLATE_MARGIN_MM) / (w + 2 * PLATE_MARGIN_MM)
        self._fit_height()
        self._fit_range()

    def _fit_range(self) -> None:
        # The FRONT/BACK labels are a fixed size in pixels outside the plate: drawn small
        # (a short side panel), a margin fixed in mm left them under the plate's edge.
        # Solve m * h / (d + 2 m) >= label height for the margin m in mm.
        if self._plate_mm is None:
            return
        w, d = self._plate_mm
        h_px = float(self.plot.getPlotItem().vb.height())
        labels = [it for it in self._static if isinstance(it, pg.TextItem)]
        label_px = max((it.textItem.boundingRect().height() for it in labels), default=20.0)
        margin = PLATE_MARGIN_MM
        if h_px > 2.5 * label_px:
            margin = max(margin, label_px * d / (h_px - 2.0 * label_px))
        self.plot.setRange(
            xRange=(-w / 2 - PLATE_MARGIN_MM, w / 2 + PLATE_MARGIN_MM),
            yRange=(-d / 2 - margin, d / 2 + margin),
            padding=0,
        )

    def _fit_height(self) -> None:
        # Only as tall as the plate needs: the space below goes to the legend and the note
        # instead of empty bands above and below an aspect-locked plot.
        # At most that: in a short window it gives way (the plate is drawn smaller, its
        # aspect locked) rather than forcing the window taller than the screen.
        self.plot.setMinimumHeight(120)
        self.plot.setMaximumHeight(max(120, int(self.width() * self._aspect)))

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 - Qt API
        """Qt: keep the plate's aspect, and fit the zone word to the new width."""
        super().resizeEvent(event)
        self._fit_height()
        if getattr(self, "_scale_h", None) is not None:
            self.apply_scale(self._scale_h)

    def set_stance(self, stance: object) -> None:
        """Draw the feet of ``stance`` (a StanceSetup) with their heel/midfoot/forefoot zones."""
        remove_items(self.plot, self._stance_items)
        self._stance_items.clear()
        self.stance = stance
        for zone, poly in stance.zone_boundaries_mm():
            item = QtWidgets.QGraphicsPolygonItem(_polygon(np.asarray(poly)))
            item.setBrush(QtGui.QBrush(_qcolor(ZONE_RGB.get(zone, ZONE_RGB["off"]), 120)))
            item.setPen(QtGui.QPen(QtCore.Qt.PenStyle.NoPen))
            item.setZValue(-5)
            self._stance_items.append(item)
        for outline in stance.feet_outlines_mm():
            item = QtWidgets.QGraphicsPolygonItem(_polygon(np.asarray(outline)))
            pen = QtGui.QPen(_qcolor(FOOT_EDGE, 220))
            pen.setCosmetic(True)
            pen.setWidthF(2)
            item.setPen(pen)
            item.setBrush(QtGui.QBrush(QtCore.Qt.BrushStyle.NoBrush))
            item.setZValue(-4)
            self._stance_items.append(item)
        for it in self._stance_items:
            self.plot.addItem(it)
        if stance.is_kickstand:
            self.note.setText(
                f"Kickstand, {stance.lead_side} foot leads: the dot is the lead foot's own CoP "
                "(the back foot's share taken out)."
            )
        else:
            self.note.setText("Both feet: the dot is the centre of pressure of both feet.")

    # -- per frame ----------------------------------------------------------------------------
    def update_cop(
        self,
        t_s: np.ndarray,
        cop_mm: np.ndarray,
        back_fraction: float = 0.0,
        counts: np.ndarray | None = None,
    ) -> str:
        """Show the newest CoP and its 2 s trail; returns the zone the CoP is in now.

        Takes ring views as they are: only the TRAIL_POINTS samples drawn are read. In a
        kickstand stance (``back_fraction`` > 0) the lead foot's own CoP is shown, solved
        from the plate's combined CoP, since the zones and cues are about it. With
        ``counts``, a drawn sample that is an HX711 glitch is replaced by the one before.
        """
        n = t_s.shape[0]
        if n == 0:
            self.trail.set_trail(np.zeros((0, 2)), np.zeros(0, dtype=int))
            self.dot.setVisible(False)
            return "off"
        lo = int(np.searchsorted(t_s, t_s[-1] - TRAIL_S))
        step = max(1, (n - lo) // TRAIL_POINTS)
        # Sample backwards from the newest so the head of the trail is the newest sample.
        idx = np.arange(n - 1, lo - 1, -step)[::-1]
        if counts is not None:
            bad = ~glitch_free(counts[idx])
            idx[bad] = np.maximum(idx[bad] - 1, 0)
        xy = cop_mm[idx].astype(np.float64)
        if back_fraction > 0:
            lx, ly = self.stance.lead_foot_cop_mm(xy[:, 0], xy[:, 1], back_fraction)
            xy = np.column_stack([lx, ly])
        # zone_codes: 0 heel, 1 midfoot, 2 forefoot, 3 off (NaN included) = ZONE_ORDER.
        zone_idx = np.asarray(self.stance.zone_codes(xy[:, 0], xy[:, 1]), dtype=int)
        self.trail.set_trail(xy, zone_idx)
        head = xy[-1]
        if np.isfinite(head).all():
            zone = ZONE_ORDER[int(zone_idx[-1])]
            if zone != self._dot_zone:
                self.dot.setBrush(self._brushes.get(zone, self._brushes["off"]))
                self._dot_zone = zone
            self.dot.setPos(float(head[0]), float(head[1]))
            self.dot.setVisible(True)
        else:
            zone = "off"
            self.dot.setVisible(False)
        return zone

    def set_readout(self, weight_kg: float, percent_bw: float | None, zone: str) -> None:
        """Update the weight, % body weight and zone labels (only when their text changes)."""
        if round(weight_kg, 1) == 0.0:
            weight_kg = 0.0  # an empty plate's noise reads "0.0 kg", not "-0.0 kg"
        text = "-- kg" if weight_kg != weight_kg else f"{weight_kg:5.1f} kg"
        percent = "" if percent_bw is None else f"{percent_bw:4.0f} % body weight"
        if (text, percent) != self._last_weight_text:
            self.weight_label.setText(text)
            self.percent_label.setText(percent)
            self._last_weight_text = (text, percent)
        if zone != self._last_zone:
            rgb = ZONE_RGB.get(zone, ZONE_RGB["off"])
            self.zone_label.setText("no CoP" if zone == "off" else zone.upper())
            self.zone_label.setStyleSheet(
                f"color: {css(rgb)}; font-size: {self._zone_px}px; font-weight: 700;"
            )
            self._last_zone = zone

    # -- large print ----------------------------------------------------------------------------
    def _label_font(self) -> QtGui.QFont:
        font = QtGui.QFont()
        font.setPixelSize(int(getattr(self, "_label_px", 13)))
        return font

    def apply_scale(self, height_px: float) -> None:
        """Size every text for a window ``height_px`` tall (gui/type_scale.py).

        The zone word is the main figure: 5.5 % of the window's height, smaller only if
        the longest zone name would not fit the view's width.
        """
        h = float(height_px)
        self._scale_h = h
        set_font_px(self.weight_label, scaled_px(34, h))
        set_font_px(self.percent_label, scaled_px(16, h))
        # Room for the widest reading, so a changing number never waits on a re-layout.
        for label, widest, bold in ((self.weight_label, "888.8 kg", True),
                                    (self.percent_label, "888 % body weight", False)):
            font = QtGui.QFont(label.font())
            font.setBold(bold)
            font.setPixelSize(scaled_px(34 if bold else 16, h))
            label.setMinimumWidth(QtGui.QFontMetrics(font).horizontalAdvance(widest) + 4)
        set_font_px(self.zone_caption, scaled_px(12, h))
        zone_px = max(MIN_PX, int(0.055 * h))
        font = QtGui.QFont(self.zone_label.font())
        font.setBold(True)
        font.setPixelSize(zone_px)
        widest = QtGui.QFontMetrics(font).horizontalAdvance("FOREFOOT")
        room = max(1, self.width() - 8)
        if widest > room:
            zone_px = max(MIN_PX, int(zone_px * room / widest))
        self._zone_px = zone_px
        set_font_px(self.zone_label, zone_px)
        self._label_px = scaled_px(13, h)
        for item in self._static:
            if isinstance(item, pg.TextItem):
                item.setFont(self._label_font())
        self._fit_range()  # the FRONT/BACK labels' room follows their size
        for chip in self.legend.findChildren(QtWidgets.QLabel, "zone_chip"):
            set_font_px(chip, scaled_px(14, h))
        set_font_px(self.note, scaled_px(13, h))
