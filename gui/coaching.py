"""The coaching panel: rep counter, the last rep's cues, the lockout hold timer, the set summary.

Cues are the analyser's own sentences (``Fault.cue``), shown as they are: a person mid-set
reads one short line, so the panel never rephrases or abbreviates them.
"""

from __future__ import annotations

from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from analysis.reps import Rep, SetSummary
from gui.colours import FAULT_REP, GOOD_REP, MUTED, PANEL, TEXT, ZONE_RGB, css
from gui.type_scale import scaled_px, set_font_px

_SHORT_STANCE = {"kickstand-left": "kick L", "kickstand-right": "kick R", "bilateral": "both"}
SUMMARY_COLUMNS = ("rep", "stance", "bottom", "shift mm", "hold s", "faults")


def signed_mm(value_mm: float) -> str:
    """Whole millimetres with a sign, and no "-0"."""
    whole = int(round(value_mm))
    return f"{whole:+d}" if whole else "0"


def fault_label(name: str) -> str:
    """A fault's short name for tables and trace labels (``heel_shift`` -> ``heel shift``)."""
    return name.replace("_", " ")


class CoachingPanel(QtWidgets.QFrame):
    """Rep count, cues, hold timer and set summary; optionally beeps on a faulty rep."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("coaching")
        self.setStyleSheet(
            f"#coaching {{ background: {css(PANEL)}; border-radius: 6px; }}"
            f" QLabel {{ color: {css(TEXT)}; }}"
        )
        self.sound = False
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        top = QtWidgets.QHBoxLayout()
        count_box = QtWidgets.QVBoxLayout()
        caption = QtWidgets.QLabel("REPS")
        caption.setObjectName("caption")
        caption.setStyleSheet(f"color: {css(MUTED)}; font-size: 13px; letter-spacing: 2px;")
        self.rep_count = QtWidgets.QLabel("0")
        self.rep_count.setObjectName("rep_count")
        self.rep_count.setStyleSheet("font-size: 64px; font-weight: 700;")
        count_box.addWidget(caption)
        count_box.addWidget(self.rep_count)
        top.addLayout(count_box)
        top.addSpacing(16)
        state_box = QtWidgets.QVBoxLayout()
        self.phase = QtWidgets.QLabel("waiting for the first rep")
        self.phase.setStyleSheet(f"color: {css(MUTED)}; font-size: 15px;")
        self.hold = QtWidgets.QLabel("")
        self.hold.setObjectName("hold")
        self.hold.setStyleSheet(f"color: {css(ZONE_RGB['midfoot'])}; font-size: 26px;")
        # The kickstand's lateral shift of the last rep, large (not only in the table).
        self.shift = QtWidgets.QLabel("")
        self.shift.setObjectName("shift")
        self.shift.setStyleSheet(f"color: {css(TEXT)}; font-size: 22px; font-weight: 600;")
        state_box.addStretch(1)
        state_box.addWidget(self.phase)
        state_box.addWidget(self.hold)
        top.addLayout(state_box, 1)
        layout.addLayout(top)
        layout.addWidget(self.shift)

        self.cue_title = QtWidgets.QLabel("LAST REP")
        self.cue_title.setObjectName("caption")
        self.cue_title.setStyleSheet(f"color: {css(MUTED)}; font-size: 13px; letter-spacing: 2px;")
        layout.addWidget(self.cue_title)
        self.cues = QtWidgets.QLabel("")
        self.cues.setObjectName("cues")
        self.cues.setWordWrap(True)
        self.cues.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.cues.setMinimumHeight(90)
        self.cues.setAlignment(QtCore.Qt.AlignmentFlag.AlignTop)
        self.cues.setStyleSheet("font-size: 19px;")
        layout.addWidget(self.cues)

        summary_title = QtWidgets.QLabel("SET SUMMARY")
        summary_title.setObjectName("caption")
        summary_title.setStyleSheet(f"color: {css(MUTED)}; font-size: 13px; letter-spacing: 2px;")
        layout.addWidget(summary_title)
        self.summary = QtWidgets.QTableWidget(0, len(SUMMARY_COLUMNS))
        self.summary.setHorizontalHeaderLabels(list(SUMMARY_COLUMNS))
        self.summary.verticalHeader().setVisible(False)
        self.summary.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.summary.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.summary.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        header = self.summary.horizontalHeader()
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        # Long fault names wrap inside their cell instead of being cut to "backward ...".
        self.summary.setWordWrap(True)
        self.summary.setTextElideMode(QtCore.Qt.TextElideMode.ElideNone)
        self.summary.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.summary.setStyleSheet(
            f"QTableWidget {{ background: {css(PANEL)}; color: {css(TEXT)}; border: none;"
            f" gridline-color: rgb(60, 64, 74); font-size: 13px; }}"
            f" QHeaderView::section {{ background: rgb(44, 48, 56); color: {css(MUTED)};"
            " border: none; padding: 3px; }"
        )
        layout.addWidget(self.summary, 1)
        self.sides = QtWidgets.QLabel("")
        self.sides.setObjectName("sides")
        self.sides.setWordWrap(True)
        self.sides.setStyleSheet("font-size: 15px; font-weight: 600;")
        layout.addWidget(self.sides)
        self.totals = QtWidgets.QLabel("")
        self.totals.setStyleSheet(f"color: {css(MUTED)}; font-size: 14px;")
        self.totals.setWordWrap(True)
        # A wrapped label's height is not always asked for by the layout: keep room for
        # three lines so the set totals are never clipped.
        self.totals.setMinimumHeight(64)
        layout.addWidget(self.totals)
        self._hold_text = ""
        self._sides_px = 15
        self.clear()

    def clear(self) -> None:
        """A new set: no reps, no cues."""
        self.rep_count.setText("0")
        self.cues.setText(f"<span style='color:{css(MUTED)}'>Cues for each rep appear here.</span>")
        self.summary.setRowCount(0)
        self._rows: dict[int, int] = {}
        self.totals.setText("")
        self.hold.setText("")
        self.shift.setText("")
        self.phase.setText("waiting for the first rep")

    def rep_started(self, index: int) -> None:
        """A rep is under way (``index`` counts from 0, as the analyser does)."""
        self.phase.setText(f"rep {index + 1} in progress")
        self.set_hold(None, False)

    def rep_aborted(self) -> None:
        """The movement under way did not become a rep."""
        self.phase.setText("not a full rep: it did not count")

    def set_sides(self, text: str | None) -> None:
        """Left against right (both kickstand sides done), or nothing yet."""
        shown = "" if text is None else f"LEFT vs RIGHT  {text}"
        if self.sides.text() != shown:
            self.sides.setText(shown)
            flagged = text is not None and "UNEVEN" in text
            colour = FAULT_REP if flagged else GOOD_REP
            self.sides.setStyleSheet(
                f"font-size: {self._sides_px}px; font-weight: 600; color: {css(colour)};"
            )

    def set_hold(self, hold_s: float | None, holding: bool) -> None:
        """The lockout hold timer: counting while ``holding``, then the final time."""
        if hold_s is None:
            text = ""
        elif holding:
            text = f"hold {hold_s:4.1f} s"
        else:
            text = f"held {hold_s:4.1f} s"
        if text != self._hold_text:
            self.hold.setText(text)
            self._hold_text = text

    def hold_updated(self, rep: Rep, summaries: list[SetSummary]) -> None:
        """A hold ended: refresh its rep's row and the set summary."""
        row = self._rows.get(rep.index)
        if row is not None:
            self._fill_row(row, rep)
        self._update_totals(summaries)

    def rep_completed(self, rep: Rep, reps: list[Rep], summaries: list[SetSummary]) -> None:
        """Show the finished rep's cues and add it to the summary."""
        self.rep_count.setText(str(len(reps)))
        self.phase.setText(f"rep {rep.index + 1} done: stand tall and hold")
        if rep.faults:
            items = "".join(
                f"<p style='margin:2px 0'><span style='color:{css(FAULT_REP)}'>&#9679;</span> "
                f"{f.cue}</p>"
                for f in rep.faults
            )
            self.cues.setText(items)
        else:
            self.cues.setText(
                f"<p><span style='color:{css(GOOD_REP)}'>&#10003;</span> Good rep: pressure "
                "stayed over the midfoot.</p>"
            )
        shift = getattr(rep, "lateral_shift_mm", None)
        kickstand = str(getattr(rep, "stance", "")).startswith("kickstand")
        self.shift.setText(
            f"shift to lead leg {signed_mm(shift)} mm"
            if kickstand and shift is not None and shift == shift
            else ""
        )
        if self.sound and rep.faults:
            QtWidgets.QApplication.beep()
        row = self.summary.rowCount()
        self.summary.insertRow(row)
        self._rows[rep.index] = row
        self._fill_row(row, rep)
        self._fit_columns()
        self.summary.scrollToBottom()
        self._update_totals(summaries)

    def _update_totals(self, summaries: list[SetSummary]) -> None:
        """Show the summary of the current set (the analyser's, since the last stance change)."""
        if not summaries:
            self.totals.setText("")
            return
        summary = summaries[-1]
        clean = summary.n_reps - summary.n_faulty
        parts = [
            f"This set ({summary.stance}): {summary.n_reps} reps, {clean} clean",
        ]
        faults = ", ".join(
            f"{fault_label(name)} x{count}" for name, count in summary.fault_counts.items() if count
        )
        if faults:
            parts.append(f"faults: {faults}")
        if summary.mean_hold_s == summary.mean_hold_s:
            parts.append(f"mean hold {summary.mean_hold_s:.1f} s")
        if summary.mean_lateral_shift_mm is not None:
            parts.append(f"mean shift to lead leg {signed_mm(summary.mean_lateral_shift_mm)} mm")
        self.totals.setText("; ".join(parts))

    def _fill_row(self, row: int, rep: Rep) -> None:
        shift = getattr(rep, "lateral_shift_mm", None)
        hold = getattr(rep, "lockout_hold_s", None)
        values = (
            str(rep.index + 1),
            # Short stance names leave the faults column room in the panel's width.
            _SHORT_STANCE.get(str(rep.stance), str(rep.stance)),
            str(rep.zone_at_bottom),
            "" if shift is None or shift != shift else signed_mm(shift),
            "" if hold is None or hold != hold else f"{hold:.1f}",
            ", ".join(fault_label(f.name) for f in rep.faults) or "-",
        )
        for col, value in enumerate(values):
            item = QtWidgets.QTableWidgetItem(value)
            item.setToolTip(value)
            if col == len(values) - 1 and rep.faults:
                item.setForeground(QtGui.QBrush(QtGui.QColor(*FAULT_REP)))
            if col == 2:
                rgb = ZONE_RGB.get(str(rep.zone_at_bottom), ZONE_RGB["off"])
                item.setForeground(QtGui.QBrush(QtGui.QColor(*rgb)))
            self.summary.setItem(row, col, item)
        self.summary.resizeRowToContents(row)

    # -- large print ----------------------------------------------------------------------------
    def apply_scale(self, height_px: float) -> None:
        """Size every text for a window ``height_px`` tall (gui/type_scale.py).

        The rep count and the hold time are read from across the room; the cues are one
        short sentence each, large enough to read mid-set.
        """
        h = float(height_px)
        self._scale_h = h
        for caption in self.findChildren(QtWidgets.QLabel, "caption"):
            set_font_px(caption, scaled_px(13, h))
        set_font_px(self.rep_count, scaled_px(64, h))
        set_font_px(self.phase, scaled_px(15, h))
        set_font_px(self.hold, scaled_px(30, h))
        shift_px = scaled_px(22, h)
        font = QtGui.QFont(self.shift.font())
        font.setBold(True)
        font.setPixelSize(shift_px)
        widest = QtGui.QFontMetrics(font).horizontalAdvance("shift to lead leg +88 mm")
        room = max(1, self.width() - 30)
        if widest > room:
            shift_px = max(11, int(shift_px * room / widest))
        set_font_px(self.shift, shift_px)
        set_font_px(self.cues, scaled_px(21, h))
        self.cues.setMinimumHeight(scaled_px(90, h, 40))
        set_font_px(self.summary, scaled_px(13, h))
        self._sides_px = scaled_px(15, h)
        set_font_px(self.sides, self._sides_px)
        set_font_px(self.totals, scaled_px(14, h))
        self.totals.setMinimumHeight(scaled_px(64, h, 40))
        self.summary.horizontalHeader().setStyleSheet(f"font-size: {scaled_px(13, h)}px;")
        self._fit_columns()

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 - Qt API
        """Qt: the panel's width changed (after the window's), so fit the columns again."""
        super().resizeEvent(event)
        if getattr(self, "_scale_h", None) is not None:
            self.apply_scale(self._scale_h)
        # Once more after the table itself has been laid out at the new width.
        QtCore.QTimer.singleShot(0, self._fit_columns)

    def _fit_columns(self) -> None:
        """Column widths set here, within the panel's width (never cut at its edge).

        Each column is as wide as its contents and the faults column takes the rest; in a
        narrow panel the stance column goes first (the set's stance is in the totals
        below), then every column shrinks in proportion and the text wraps.
        """
        table = self.summary
        header = table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(16)
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Fixed)
        # The panel's own width bounds it: the table's viewport may not be laid out yet.
        m = self.layout().contentsMargins()
        room = min(table.viewport().width(),
                   self.width() - m.left() - m.right() - 2 * table.frameWidth()) - 1
        pad = 12

        def want(c: int) -> int:
            return max(table.sizeHintForColumn(c), header.sectionSizeHint(c)) + pad

        cols = list(range(table.columnCount()))
        stance_col = SUMMARY_COLUMNS.index("stance")
        narrow = sum(want(c) for c in cols) > room
        table.setColumnHidden(stance_col, narrow)
        shown = [c for c in cols if not (narrow and c == stance_col)]
        widths = {c: want(c) for c in shown}
        total = sum(widths.values())
        if total > room:
            widths = {c: max(16, int(w * room / total)) for c, w in widths.items()}
        else:
            widths[shown[-1]] += room - total  # the faults column takes what is left
        for c, width in widths.items():
            table.setColumnWidth(c, width)
        for row in range(table.rowCount()):
            table.resizeRowToContents(row)
