"""The drill window: one large-print canvas a person reads from across the room.

Everything is drawn by :class:`DrillCanvas` from :class:`analysis.drills.DrillView` (the
logic lives there, Qt-free); every size comes from the canvas's own height, so the same
picture fills 1024x700 and 4K. The layout (:meth:`DrillCanvas.canvas_layout`) is computed apart
from the painting so a test can check that nothing leaves the window. F11 toggles full
screen, Esc leaves it, Q closes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from analysis.drills import LIMIT_DIRECTIONS, DrillView, theoretical_limit_mm, trial_text
from daq.events import DrillTargetHit
from gui.colours import BACKGROUND, MUTED, PANEL, RECORDING, SIMULATED, STATE_RGB, TEXT, css
from gui.drill_session import DrillSession

FRAME_INTERVAL_MS = 33
GOOD = (52, 178, 102)
AWAY = (240, 178, 42)
CUE = (232, 70, 58)
CURSOR = (86, 170, 255)
TRACK = (60, 64, 76)
# Sizes as fractions of the canvas height: the instruction is the main figure (at least
# 5 % of the window's height, the floor for reading at 2-3 m).
INSTRUCTION_FRAC = 0.075
INFO_FRAC = 0.045
CUE_FRAC = 0.065
CURSOR_FRAC = 0.055
MIN_FONT_PX = 12


def _qcolor(rgb: tuple[int, int, int], alpha: int = 255) -> QtGui.QColor:
    return QtGui.QColor(rgb[0], rgb[1], rgb[2], alpha)


def fitted_font(text: str, width: float, px: float, bold: bool = False) -> QtGui.QFont:
    """A font of ``px`` pixels, smaller if needed so ``text`` fits in ``width``."""
    font = QtGui.QFont()
    font.setBold(bold)
    size = max(MIN_FONT_PX, int(px))
    while True:
        font.setPixelSize(size)
        if size <= MIN_FONT_PX or QtGui.QFontMetricsF(font).horizontalAdvance(text) <= width:
            return font
        size = max(MIN_FONT_PX, int(size * 0.92))


@dataclass
class TextItem:
    """One line of text placed on the canvas.

    Elided with ... if even the smallest font is too wide, so nothing is ever cut off at
    the window's edge.
    """

    text: str
    rect: QtCore.QRectF
    font: QtGui.QFont
    rgb: tuple[int, int, int]
    align: QtCore.Qt.AlignmentFlag = QtCore.Qt.AlignmentFlag.AlignCenter

    def __post_init__(self) -> None:
        metrics = QtGui.QFontMetricsF(self.font)
        if self.text and metrics.horizontalAdvance(self.text) > self.rect.width():
            self.text = metrics.elidedText(self.text, QtCore.Qt.TextElideMode.ElideRight,
                                           self.rect.width())


@dataclass
class CanvasLayout:
    """Where everything goes for one view at one size (canvas pixels)."""

    texts: list[TextItem]
    figure: QtCore.QRectF  # the track, the polar plot or the weight bars


class DrillCanvas(QtWidgets.QWidget):
    """Draws one :class:`DrillView`: instruction, track or polar plot, cursor, ring, cue."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.view: DrillView | None = None
        self.headlines: list[str] = []
        self.summary: list[str] = []  # one line per trial, under the headlines
        self.reached: dict[float, float] = {}  # limits: direction (deg) -> max excursion %
        self.height_m = 1.75
        self.sequence = (1, 1)  # which drill of a sequence runs, and how many there are
        self.setMinimumSize(320, 240)
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def set_view(self, view: DrillView) -> None:
        """Show ``view`` (repaints)."""
        self.view = view
        self.update()

    # -- layout -----------------------------------------------------------------------------
    def canvas_layout(self, view: DrillView | None = None) -> CanvasLayout:
        """The text items and the figure's rectangle for ``view`` at the current size."""
        view = view or self.view or DrillView(drill="")
        w, h = float(self.width()), float(self.height())
        pad = 0.03 * h
        inner = w - 2 * pad
        texts: list[TextItem] = []
        y = pad
        ins_h = INSTRUCTION_FRAC * h * 1.3
        instruction = view.instruction
        texts.append(TextItem(instruction, QtCore.QRectF(pad, y, inner, ins_h),
                              fitted_font(instruction, inner, INSTRUCTION_FRAC * h, bold=True),
                              TEXT))
        y += ins_h
        info_h = INFO_FRAC * h * 1.4
        done, total = view.progress
        k, n = self.sequence
        bits = [f"{view.drill}" + (f" (drill {k} of {n})" if n > 1 else ""),
                f"trial {min(done + 1, total)} of {total}" if total else ""]
        if view.time_left_s == view.time_left_s and view.state == "running":
            bits.append(f"{max(view.time_left_s, 0.0):.0f} s left")
        info = "   ".join(b for b in bits if b)
        texts.append(TextItem(info, QtCore.QRectF(pad, y, inner, info_h),
                              fitted_font(info, inner, INFO_FRAC * h), MUTED))
        y += info_h
        bottom = h - pad
        cue_h = CUE_FRAC * h * 1.4
        last_h = INFO_FRAC * h * 1.4
        if view.state == "done":
            # Results: the headlines in large print, then each trial smaller.
            title = f"{view.drill} done"
            texts[0] = TextItem(title, texts[0].rect,
                                fitted_font(title, inner, INSTRUCTION_FRAC * h, bold=True), GOOD)
            rows = [(line, INFO_FRAC * h * 1.5, TEXT) for line in self.headlines]
            rows += [(line, INFO_FRAC * h, MUTED) for line in self.summary]
            need = sum(px * 1.3 for _, px, _ in rows)
            shrink = min(1.0, (bottom - y) / need) if need > 0 else 1.0
            for line, px, rgb in rows:
                line_h = px * 1.3 * shrink
                if line_h < MIN_FONT_PX * 1.2 or y + line_h > bottom + 0.5:
                    break
                texts.append(TextItem(line, QtCore.QRectF(pad, y, inner, line_h),
                                      fitted_font(line, inner, line_h / 1.3), rgb))
                y += line_h
            return CanvasLayout(texts, QtCore.QRectF(pad, y, inner, max(0.0, bottom - y)))
        texts.append(TextItem(view.last_trial, QtCore.QRectF(pad, bottom - last_h, inner, last_h),
                              fitted_font(view.last_trial, inner, INFO_FRAC * h), MUTED))
        bottom -= last_h
        texts.append(TextItem(view.cue, QtCore.QRectF(pad, bottom - cue_h, inner, cue_h),
                              fitted_font(view.cue, inner, CUE_FRAC * h, bold=True), CUE))
        bottom -= cue_h
        figure = QtCore.QRectF(pad, y + pad, inner, max(0.0, bottom - y - 2 * pad))
        if view.drill == "weight" and view.right_pct == view.right_pct:
            left = f"left {100.0 - view.right_pct:.0f} %"
            right = f"right {view.right_pct:.0f} %"
            half = figure.width() / 2.0
            num_h = min(0.16 * h, figure.height() * 0.45)
            for i, text in enumerate((left, right)):
                rect = QtCore.QRectF(figure.left() + i * half, figure.top(), half, num_h)
                texts.append(TextItem(text, rect, fitted_font(text, half * 0.92, num_h / 1.25,
                                                              bold=True),
                                      GOOD if view.inside else AWAY))
            figure = QtCore.QRectF(figure.left(), figure.top() + num_h, figure.width(),
                                   max(0.0, figure.height() - num_h))
        return CanvasLayout(texts, figure)

    # -- painting ---------------------------------------------------------------------------
    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        """Draw the current view."""
        p = QtGui.QPainter(self)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), _qcolor(BACKGROUND))
        view = self.view or DrillView(drill="")
        lay = self.canvas_layout(view)
        for item in lay.texts:
            if not item.text:
                continue
            p.setFont(item.font)
            p.setPen(_qcolor(item.rgb))
            p.drawText(item.rect, int(item.align), item.text)
        if view.state != "done" and lay.figure.height() > 10:
            if view.drill == "limits":
                self._paint_polar(p, view, lay.figure)
            elif view.drill == "weight":
                self._paint_weight(p, view, lay.figure)
            else:
                self._paint_track(p, view, lay.figure)
        p.end()

    def _reach_mm(self, view: DrillView) -> float:
        known = [v for v in view.range_mm if v == v]
        return 1.15 * max([*known, 60.0])

    def _paint_track(self, p: QtGui.QPainter, view: DrillView, fig: QtCore.QRectF) -> None:
        h = float(self.height())
        vertical = view.axis == "ap"
        reach = self._reach_mm(view)
        thick = min(0.14 * h, (fig.width() if vertical else fig.height()) * 0.3)
        cx, cy = fig.center().x(), fig.center().y()
        ring_box = None
        if view.phase == "target":
            # The hold ring gets its own place: under a horizontal track, beside a vertical.
            if vertical:
                ring_box = QtCore.QRectF(fig.left() + 0.62 * fig.width(), fig.top(),
                                         0.38 * fig.width(), fig.height())
                cx = fig.left() + 0.35 * fig.width()
            else:
                ring_box = QtCore.QRectF(fig.left(), fig.top() + 0.58 * fig.height(),
                                         fig.width(), 0.42 * fig.height())
                cy = fig.top() + 0.3 * fig.height()
        length = (fig.height() if vertical else fig.width()) - 2 * CURSOR_FRAC * h

        def at(mm: float) -> QtCore.QPointF:
            u = max(-1.0, min(1.0, mm / reach)) * length / 2.0
            return QtCore.QPointF(cx, cy - u) if vertical else QtCore.QPointF(cx + u, cy)

        track = (QtCore.QRectF(cx - thick / 2, cy - length / 2, thick, length) if vertical
                 else QtCore.QRectF(cx - length / 2, cy - thick / 2, length, thick))
        p.setPen(QtCore.Qt.PenStyle.NoPen)
        p.setBrush(_qcolor(TRACK))
        p.drawRoundedRect(track, thick / 4, thick / 4)
        if view.target_mm == view.target_mm and view.half_width_mm == view.half_width_mm:
            a, b = at(view.target_mm - view.half_width_mm), at(view.target_mm + view.half_width_mm)
            colour = GOOD if view.inside else AWAY
            p.setBrush(_qcolor(colour, 210))
            band = (QtCore.QRectF(cx - thick * 0.7, min(a.y(), b.y()), thick * 1.4,
                                  abs(a.y() - b.y())) if vertical
                    else QtCore.QRectF(min(a.x(), b.x()), cy - thick * 0.7, abs(a.x() - b.x()),
                                       thick * 1.4))
            p.drawRoundedRect(band, thick / 6, thick / 6)
        # The middle: where the person stood at the start.
        p.setPen(QtGui.QPen(_qcolor(MUTED), max(2.0, 0.004 * h)))
        mid = at(0.0)
        if vertical:
            p.drawLine(QtCore.QPointF(cx - thick * 0.6, mid.y()),
                       QtCore.QPointF(cx + thick * 0.6, mid.y()))
        else:
            p.drawLine(QtCore.QPointF(mid.x(), cy - thick * 0.6),
                       QtCore.QPointF(mid.x(), cy + thick * 0.6))
        neg, pos = ("B", "F") if vertical else ("L", "R")
        box = INFO_FRAC * h * 1.6
        p.setFont(fitted_font("L", box, INFO_FRAC * h, bold=True))
        p.setPen(_qcolor(MUTED))
        for mm, text in ((-reach, neg), (reach, pos)):
            end = at(mm)
            # Beside the track's ends (right of a vertical one, under a horizontal one).
            corner = (QtCore.QPointF(end.x() + thick / 2 + box * 0.2, end.y() - box / 2)
                      if vertical else QtCore.QPointF(end.x() - box / 2, end.y() + thick * 0.75))
            p.drawText(QtCore.QRectF(corner, QtCore.QSizeF(box, box)),
                       int(QtCore.Qt.AlignmentFlag.AlignCenter), text)
        if view.cursor_mm == view.cursor_mm:
            self._paint_cursor(p, at(view.cursor_mm), view)
        if ring_box is not None:
            self._paint_ring(p, view, ring_box)

    def _paint_ring(self, p: QtGui.QPainter, view: DrillView, box: QtCore.QRectF) -> None:
        """The hold ring: fills clockwise while the person holds inside the band."""
        h = float(self.height())
        r = min(box.width(), box.height()) * 0.36
        if r < 8:
            return
        c = box.center()
        ring = QtCore.QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r)
        width = 0.22 * r
        p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        p.setPen(QtGui.QPen(_qcolor(TRACK), width))
        p.drawEllipse(ring)
        if view.hold_fraction > 0:
            pen = QtGui.QPen(_qcolor(GOOD), width)
            pen.setCapStyle(QtCore.Qt.PenCapStyle.RoundCap)
            p.setPen(pen)
            p.drawArc(ring, 90 * 16, -int(360 * 16 * min(1.0, view.hold_fraction)))
        text = "held" if view.hold_fraction >= 1.0 else "hold"
        p.setFont(fitted_font(text, 1.4 * r, min(0.5 * r, INFO_FRAC * h * 1.2), bold=True))
        p.setPen(_qcolor(GOOD if view.hold_fraction >= 1.0 else MUTED))
        p.drawText(ring, int(QtCore.Qt.AlignmentFlag.AlignCenter), text)

    def _paint_cursor(self, p: QtGui.QPainter, centre: QtCore.QPointF, view: DrillView,
                      scale: float = 1.0) -> None:
        """The CoP: a large disc, see-through so the band's edges show under it."""
        h = float(self.height())
        r = CURSOR_FRAC * h * scale
        p.setPen(QtGui.QPen(_qcolor(TEXT), max(3.0, 0.12 * r)))
        p.setBrush(_qcolor(GOOD if view.inside else CURSOR, 150))
        p.drawEllipse(centre, r, r)
        p.setBrush(_qcolor(TEXT))
        p.setPen(QtCore.Qt.PenStyle.NoPen)
        p.drawEllipse(centre, 0.15 * r, 0.15 * r)

    def _paint_polar(self, p: QtGui.QPainter, view: DrillView, fig: QtCore.QRectF) -> None:
        h = float(self.height())
        side = min(fig.width(), fig.height())
        cx, cy = fig.center().x(), fig.center().y()
        label_px = INFO_FRAC * h
        radius = side / 2.0 - 1.6 * label_px
        if radius < 10:
            return
        limits = {deg: theoretical_limit_mm(deg, self.height_m) for _, deg in LIMIT_DIRECTIONS}
        scale = radius / max(limits.values())

        def at(deg: float, mm: float) -> QtCore.QPointF:
            th = math.radians(deg)
            return QtCore.QPointF(cx + mm * scale * math.sin(th), cy - mm * scale * math.cos(th))

        outline = QtGui.QPolygonF([at(d, limits[d]) for _, d in LIMIT_DIRECTIONS])
        p.setPen(QtGui.QPen(_qcolor(MUTED), max(1.5, 0.003 * h)))
        p.setBrush(_qcolor(TRACK, 160))
        p.drawPolygon(outline)
        # The polar plot of the result so far: each direction's maximum excursion.
        points = [at(d, limits[d] * self.reached[d] / 100.0) for _, d in LIMIT_DIRECTIONS
                  if d in self.reached]
        p.setPen(QtGui.QPen(_qcolor(GOOD), max(2.0, 0.004 * h)))
        if len(points) >= 3:
            p.setBrush(_qcolor(GOOD, 90))
            p.drawPolygon(QtGui.QPolygonF(points))
        p.setBrush(_qcolor(GOOD))
        for point in points:
            p.drawEllipse(point, 0.012 * h, 0.012 * h)
        font = fitted_font("backward-right", 4 * label_px, label_px * 0.8)
        p.setFont(font)
        for name, deg in LIMIT_DIRECTIONS:
            active = view.direction_deg == view.direction_deg and abs(view.direction_deg - deg) < 1
            pen = QtGui.QPen(_qcolor(AWAY if active else TRACK), max(2.0, (0.012 if active else
                                                                            0.004) * h))
            p.setPen(pen)
            p.drawLine(QtCore.QPointF(cx, cy), at(deg, limits[deg]))
            tip = at(deg, limits[deg] + 1.0 * label_px / scale)
            p.setPen(_qcolor(TEXT if active else MUTED))
            short = "".join(part[0].upper() for part in name.split("-"))
            p.drawText(QtCore.QRectF(tip.x() - label_px, tip.y() - label_px / 2, 2 * label_px,
                                     label_px), int(QtCore.Qt.AlignmentFlag.AlignCenter), short)
        dx, dy = view.cursor_xy_mm
        if dx == dx and dy == dy:
            point = QtCore.QPointF(cx + dx * scale, cy - dy * scale)
            self._paint_cursor(p, point, view, 0.6)

    def _paint_weight(self, p: QtGui.QPainter, view: DrillView, fig: QtCore.QRectF) -> None:
        if view.right_pct != view.right_pct:
            return
        h = float(self.height())
        bar_h = min(0.12 * h, fig.height() * 0.5)
        rect = QtCore.QRectF(fig.left(), fig.center().y() - bar_h / 2, fig.width(), bar_h)
        p.setPen(QtCore.Qt.PenStyle.NoPen)
        p.setBrush(_qcolor(TRACK))
        p.drawRoundedRect(rect, bar_h / 4, bar_h / 4)
        band = view.band_pct if view.band_pct == view.band_pct else 7.0
        lo = rect.left() + rect.width() * (50.0 - band) / 100.0
        hi = rect.left() + rect.width() * (50.0 + band) / 100.0
        p.setBrush(_qcolor(GOOD if view.inside else AWAY, 200))
        p.drawRect(QtCore.QRectF(lo, rect.top(), hi - lo, rect.height()))
        x = rect.left() + rect.width() * view.right_pct / 100.0
        self._paint_cursor(p, QtCore.QPointF(x, rect.center().y()), view)


class DrillWindow(QtWidgets.QMainWindow):
    """A drill's window: the canvas and a thin status strip, refreshed from one QTimer.

    Parameters
    ----------
    drill : DrillSession
        A drill on a started (or starting) live session.
    sound : bool
        Sound a cue when a target is held (QApplication.beep).
    limit_s : float, optional
        Close after this many seconds.
    """

    def __init__(self, drill: DrillSession, sound: bool = False,
                 limit_s: float | None = None) -> None:
        super().__init__()
        self.drill = drill
        self.sound = sound
        self.setWindowTitle("midfoot drill: " + ", ".join(s.drill for s in drill.sequence))
        self.setStyleSheet(f"QMainWindow {{ background: {css(BACKGROUND)}; }}")
        central = QtWidgets.QWidget()
        box = QtWidgets.QVBoxLayout(central)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        self.status = QtWidgets.QLabel("")
        self.status.setStyleSheet(f"background: {css(PANEL)}; color: {css(MUTED)};"
                                  " padding: 2px 8px;")
        self.canvas = DrillCanvas()
        self.canvas.height_m = drill.run.settings.height_m
        box.addWidget(self.status)
        box.addWidget(self.canvas, 1)
        self.setCentralWidget(central)
        for key, slot in (("F11", self.toggle_full_screen), ("Esc", self.leave_full_screen),
                          ("Q", self.close)):
            QtGui.QShortcut(QtGui.QKeySequence(key), self, activated=slot)
        self.hits = 0
        self.beeps = 0
        self._done_shown = False
        self.timer = QtCore.QTimer(self)
        self.timer.timeout.connect(self.tick)
        self.timer.start(FRAME_INTERVAL_MS)
        if limit_s is not None:
            QtCore.QTimer.singleShot(int(limit_s * 1000), self.close)
        self.resize(1440, 860)
        self._scale_fonts()

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        """Re-scale the status strip's font with the window."""
        super().resizeEvent(event)
        self._scale_fonts()

    def _scale_fonts(self) -> None:
        font = self.status.font()
        font.setPixelSize(max(MIN_FONT_PX, int(0.022 * self.height())))
        self.status.setFont(font)

    def toggle_full_screen(self) -> None:
        """F11: full screen, or back."""
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()

    def leave_full_screen(self) -> None:
        """Esc: leave full screen."""
        if self.isFullScreen():
            self.showNormal()

    def tick(self) -> None:
        """Take the drill's new events and redraw."""
        for event in self.drill.poll():
            if isinstance(event, DrillTargetHit):
                self.hits += 1
                if self.sound:
                    self.beeps += 1
                    QtWidgets.QApplication.beep()
        run = self.drill.run
        self.canvas.sequence = self.drill.position
        if run.settings.drill == "limits":
            self.canvas.reached = {float(t["direction_deg"]): float(t["maximum_excursion_pct"])
                                   for t in run.trials
                                   if t.get("maximum_excursion_pct") is not None}
        view = self.drill.view()
        if view.state == "done" and not self._done_shown:
            self._done_shown = True
            result = run.result
            # A sequence's earlier drills keep a line each above the last one's results.
            earlier = [f"{r.drill}: " + ", ".join(r.headlines()) for r in self.drill.results]
            self.canvas.headlines = earlier + result.headlines()
            self.canvas.summary = [trial_text(run.settings.drill, str(t.get("label", "")), t)
                                   for t in result.trials]
        self.canvas.set_view(view)
        st = self.drill.session.status
        state = st.state.upper()
        sim = "  SIMULATED" if st.simulated else ""
        rec = "  REC" if st.recording_path else ""
        if not self.drill.session.calibrated and st.state == "streaming":
            sim += "  UNCALIBRATED"
        text = f"{state}{sim}{rec}   {st.rate_hz:.0f} Hz   drops {st.dropped}" if (
            st.rate_hz == st.rate_hz) else f"{state}{sim}{rec}"
        colour = RECORDING if rec else (SIMULATED if sim else STATE_RGB.get(st.state, MUTED))
        if self.status.text() != text:
            self.status.setText(text)
            self.status.setStyleSheet(f"background: {css(PANEL)}; color: {css(colour)};"
                                      " padding: 2px 8px;")

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        """Stop redrawing (the command finishes the drill and stops the plate)."""
        self.timer.stop()
        super().closeEvent(event)
