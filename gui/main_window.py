"""The live window: status strip, plate view, traces, coaching panel and the controls.

Everything on screen is refreshed from one QTimer in the GUI thread. A tick takes the
analyser's new events and the newest window of the ring (zero-copy views), draws, and
returns; acquisition and analysis never wait for it and it never waits for them.
"""

from __future__ import annotations

import math
import re
import time
from pathlib import Path

from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from analysis.events import (
    BodyMassMeasured,
    HoldUpdated,
    RepAborted,
    RepCompleted,
    RepStarted,
)
from analysis.stance import StanceSetup
from daq.errors import MidfootError
from daq.source import plate_ports
from gui.coaching import CoachingPanel
from gui.colours import (
    BACKGROUND,
    MUTED,
    PANEL,
    RECORDING,
    SIMULATED,
    STATE_RGB,
    TEXT,
    css,
)
from gui.plate_view import PlateView
from gui.session import (
    STANCE_LABELS,
    STANCES,
    LiveSession,
    SessionEvent,
    StanceSet,
    Tared,
    asymmetry_text,
    default_sessions_dir,
    new_recording_path,
    virtual_plate_url,
)
from gui.traces import WINDOW_CHOICES_S, TracesView
from gui.type_scale import DESIGN_HEIGHT_PX, scaled_px, set_font_px

_SIZE_PX = re.compile(r"font-size:\s*(\d+)px")
FRAME_INTERVAL_MS = 11  # ~90 ticks/s: frames are drawn only when new samples arrived
STATUS_INTERVAL_S = 0.2  # text labels re-lay out the window; 5 Hz is plenty for numbers


def _label(text: str = "", style: str = "") -> QtWidgets.QLabel:
    label = QtWidgets.QLabel(text)
    label.setStyleSheet(style)
    return label


def _show(label: QtWidgets.QLabel, text: str, style: str | None = None) -> None:
    """Set a label's text (and style sheet) only when they change.

    Each setText re-lays out the status strip and each setStyleSheet re-polishes the
    label, even with the same value; most of the strip is the same from one update to
    the next.
    """
    if label.text() != text:
        label.setText(text)
    if style is not None:
        # Design pixel sizes grow and shrink with the window (large print).
        scale = float(getattr(label.window(), "print_scale", 1.0))
        style = _SIZE_PX.sub(lambda m: f"font-size: {scaled_px(float(m[1]), 860 * scale)}px",
                             style)
        if label.styleSheet() != style:
            label.setStyleSheet(style)


def _use_dark_palette() -> None:
    """Use Fusion with the window's dark colours for the whole app.

    So the foot setup and calibration dialogs, menus and tooltips match the main window
    instead of the system's light theme.
    """
    app = QtWidgets.QApplication.instance()
    if not isinstance(app, QtWidgets.QApplication) or app.property("midfoot_dark"):
        return
    role = QtGui.QPalette.ColorRole
    palette = QtGui.QPalette()
    for r, rgb in (
        (role.Window, PANEL),
        (role.WindowText, TEXT),
        (role.Base, BACKGROUND),
        (role.AlternateBase, PANEL),
        (role.ToolTipBase, PANEL),
        (role.ToolTipText, TEXT),
        (role.Text, TEXT),
        (role.PlaceholderText, MUTED),
        (role.Button, (48, 52, 61)),
        (role.ButtonText, TEXT),
        (role.Highlight, (60, 110, 170)),
        (role.HighlightedText, TEXT),
    ):
        palette.setColor(r, QtGui.QColor(*rgb))
    for r in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(QtGui.QPalette.ColorGroup.Disabled, r, QtGui.QColor(*MUTED))
    app.setStyle("Fusion")
    app.setPalette(palette)
    app.setProperty("midfoot_dark", True)


class MainWindow(QtWidgets.QMainWindow):
    """The live app's window.

    Parameters
    ----------
    session : LiveSession
        A started (or starting) live session; the window takes it over and stops it on close.
    window_s : float
        Initial trace window, 5-60 s.
    scenario : str
        Virtual-plate scenario offered in the plate menu.
    note : str, optional
        A first message for the status strip (e.g. why the virtual plate is shown).
    sessions_dir : Path, optional
        Where Record puts its files (default :func:`default_sessions_dir`).
    drawing : str
        How traces are downsampled (see :class:`gui.traces.TracesView`; benchmark only).
    """

    def __init__(
        self,
        session: LiveSession,
        window_s: float = 10.0,
        scenario: str = "demo",
        note: str | None = None,
        sessions_dir: Path | None = None,
        drawing: str = "peak",
    ) -> None:
        super().__init__()
        _use_dark_palette()
        self._drawing = drawing
        self.setWindowTitle("midfoot live")
        self.session = session
        self.scenario = scenario
        self.sessions_dir = sessions_dir or default_sessions_dir()
        self.setStyleSheet(
            f"QMainWindow, QWidget#central {{ background: {css(BACKGROUND)}; }}"
            f" QToolBar {{ background: {css(PANEL)}; border: none; spacing: 6px; padding: 4px; }}"
            f" QToolBar QLabel {{ color: {css(MUTED)}; }}"
            f" QToolButton {{ color: {css(TEXT)}; padding: 4px 8px; }}"
            f" QComboBox {{ padding: 2px 6px; }}"
        )
        self._build_toolbar(window_s)
        self._build_body(window_s)
        self._build_shortcuts()
        self._note = note
        self._last_end = -1
        self._last_status = 0.0
        self._plate_ready = False
        self._n_cells = 0
        self._attach(session)
        self.timer = QtCore.QTimer(self)
        self.timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self.tick)
        self.timer.start(FRAME_INTERVAL_MS)
        self._build_large_print()
        self.resize(1440, 860)

    # -- construction -------------------------------------------------------------------------
    def _build_toolbar(self, window_s: float) -> None:
        bar = QtWidgets.QToolBar("controls")
        bar.setMovable(False)
        self.addToolBar(bar)
        self.toolbar = bar
        bar.addWidget(_label("Plate"))
        self.source_box = QtWidgets.QComboBox()
        self.source_box.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        # Narrow enough that the whole toolbar, Sound included, fits the default 1440 px width.
        self.source_box.setMinimumWidth(150)
        self.source_box.activated.connect(self._source_chosen)
        bar.addWidget(self.source_box)
        self.act_refresh = bar.addAction("Find plates", self.refresh_sources)
        bar.addSeparator()
        self.act_tare = bar.addAction("Tare (T)", self.tare)
        self.act_weigh = bar.addAction("Weigh in (W)", self.weigh_in)
        bar.addSeparator()
        bar.addWidget(_label("Stance"))
        self.stance_box = QtWidgets.QComboBox()
        self.stance_box.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        for i, name in enumerate(STANCES):
            self.stance_box.addItem(f"{i + 1}  {STANCE_LABELS[name]}", name)
        self.stance_box.activated.connect(lambda i: self.set_stance(STANCES[i]))
        bar.addWidget(self.stance_box)
        self.act_feet = bar.addAction("Feet && zones...", self.open_foot_setup)
        bar = self._second_toolbar()
        self.act_record = bar.addAction("Record (space)", self.toggle_recording)
        self.act_new_set = bar.addAction("New set (N)", self.new_set)
        self.act_calibrate = bar.addAction("Calibrate...", self.open_calibration)
        bar.addSeparator()
        bar.addWidget(_label("Window"))
        self.window_box = QtWidgets.QComboBox()
        self.window_box.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        for s in WINDOW_CHOICES_S:
            self.window_box.addItem(f"{s} s", s)
        self.window_box.activated.connect(
            lambda i: self.set_window(float(self.window_box.itemData(i)))
        )
        bar.addWidget(self.window_box)
        self.sound_box = QtWidgets.QCheckBox("Sound")
        self.sound_box.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.sound_box.setStyleSheet(f"color: {css(TEXT)};")
        self.sound_box.toggled.connect(self._sound_toggled)
        bar.addWidget(self.sound_box)
        for bar in (self.toolbar, self.toolbar2):
            for action in bar.actions():
                widget = bar.widgetForAction(action)
                if widget is not None:
                    widget.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)

    def _build_body(self, window_s: float) -> None:
        central = QtWidgets.QWidget()
        central.setObjectName("central")
        outer = QtWidgets.QVBoxLayout(central)
        outer.setContentsMargins(8, 6, 8, 6)
        outer.setSpacing(6)

        self.banner = _label(
            "SIMULATED PLATE: the virtual plate is playing a scripted person, not a real one",
            f"background: {css(SIMULATED)}; color: black; font-weight: 700; font-size: 15px;"
            " padding: 4px; border-radius: 4px;",
        )
        self.banner.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.banner.setVisible(False)
        outer.addWidget(self.banner)

        strip = QtWidgets.QHBoxLayout()
        strip.setSpacing(14)
        self.state_label = _label("CONNECTING")
        self.state_label.setObjectName("state")
        self.rate_label = _label("--- Hz")
        self.rate_label.setObjectName("rate")
        self.drops_label = _label("dropped 0")
        self.crc_label = _label("CRC errors 0")
        self.source_label = _label("")
        self.cal_label = _label("")
        self.cal_label.setObjectName("calibration")
        self.rec_label = _label("")
        self.rec_label.setObjectName("recording")
        for w in (self.rate_label, self.drops_label, self.crc_label, self.source_label):
            w.setStyleSheet(f"color: {css(TEXT)}; font-size: 14px;")
        for w in (
            self.state_label,
            self.rate_label,
            self.drops_label,
            self.crc_label,
            self.cal_label,
            self.rec_label,
        ):
            strip.addWidget(w)
        strip.addSpacing(24)
        # Long texts (a sim:// URL, an error sentence) must not widen the window past the
        # screen: the source may be cut at its end (its tooltip has it whole) and the
        # message wraps.
        ignored = QtWidgets.QSizePolicy.Policy.Ignored
        self.source_label.setSizePolicy(ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        self.source_label.setAlignment(
            QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter
        )
        strip.addWidget(self.source_label, 1)
        outer.addLayout(strip)
        self.message_label = _label("", f"color: {css(MUTED)}; font-size: 14px;")
        self.message_label.setObjectName("message")
        self.message_label.setWordWrap(True)
        self.message_label.setSizePolicy(ignored, QtWidgets.QSizePolicy.Policy.Minimum)
        outer.addWidget(self.message_label)

        body = QtWidgets.QHBoxLayout()
        body.setSpacing(8)
        self.plate_view = PlateView()
        self.plate_view.setMinimumWidth(340)
        self.traces = TracesView(window_s=window_s, drawing=self._drawing)
        self.coaching = CoachingPanel()
        self.coaching.setMinimumWidth(380)
        self.coaching.setMaximumWidth(460)
        body.addWidget(self.plate_view, 3)
        body.addWidget(self.traces, 5)
        body.addWidget(self.coaching, 3)
        outer.addLayout(body, 1)
        self.setCentralWidget(central)

        self.fps_label = QtWidgets.QLabel(self.traces)
        self.fps_label.setStyleSheet(
            "background: rgba(0,0,0,160); color: rgb(120,255,120); font: 12px monospace;"
            " padding: 2px 6px;"
        )
        self.fps_label.setVisible(False)
        self.set_window(window_s)

    def _build_shortcuts(self) -> None:
        def key(seq: str, slot: object) -> None:
            sc = QtGui.QShortcut(QtGui.QKeySequence(seq), self)
            sc.setContext(QtCore.Qt.ShortcutContext.WindowShortcut)
            sc.activated.connect(slot)

        key("Space", self.toggle_recording)
        key("T", self.tare)
        key("W", self.weigh_in)
        key("N", self.new_set)
        key("F12", self.toggle_debug)
        key("D", self.toggle_debug)
        for i, name in enumerate(STANCES):
            key(str(i + 1), lambda name=name: self.set_stance(name))

    # -- the session --------------------------------------------------------------------------
    def _attach(self, session: LiveSession) -> None:
        self.session = session
        self._last_end = -1
        self._plate_ready = False
        self.plate_view.set_stance(session.stance)
        self.stance_box.setCurrentIndex(STANCES.index(session.stance.stance))
        self.coaching.clear()
        self.traces.clear_reps()
        self.refresh_sources()

    def refresh_sources(self) -> None:
        """List the plates found, the current source and the virtual plate."""
        current = self.session.url
        items: list[tuple[str, str]] = [(f"{dev}  {label}", dev) for dev, label in plate_ports()]
        virtual = virtual_plate_url(self.scenario)
        items.append((f"virtual plate ({self.scenario})", virtual))
        if not any(url == current for _, url in items):
            shown = "virtual plate" if current.startswith("sim://") else current
            items.insert(0, (shown, current))
        self.source_box.clear()
        for text, url in items:
            self.source_box.addItem(text, url)
        for i in range(self.source_box.count()):
            if self.source_box.itemData(i) == current:
                self.source_box.setCurrentIndex(i)

    def _source_chosen(self, index: int) -> None:
        url = self.source_box.itemData(index)
        if url and url != self.session.url:
            self.switch_source(url)

    def switch_source(self, url: str) -> None:
        """Stop the current plate and open ``url`` with the same stance.

        If ``url`` cannot be opened the previous plate is opened again, and the reason is
        shown: the window never ends up without a plate because of a wrong choice.
        """
        old = self.session
        old.stop()
        new = LiveSession(url, old.stance)
        try:
            new.start()
        except MidfootError as exc:
            new = LiveSession(old.url, old.stance)
            try:
                new.start()
            except MidfootError as again:
                new.message = str(again)
            new.message = str(exc)
        self._attach(new)

    # -- commands -----------------------------------------------------------------------------
    def tare(self) -> None:
        """Tare once the plate is empty and still."""
        self.session.request_tare()

    def weigh_in(self) -> None:
        """Weigh the person once they stand still."""
        self.session.request_weigh_in()

    def new_set(self) -> None:
        """Forget the reps of the current set."""
        self.session.reset_set()
        self.coaching.clear()
        self.traces.clear_reps()

    def set_stance(self, stance: str) -> None:
        """Switch to ``stance`` keeping the foot setup."""
        current = self.session.stance
        if stance == current.stance:
            return
        setup = current.with_stance(stance)
        self.apply_stance(setup)

    def apply_stance(self, setup: StanceSetup) -> None:
        """Use a new stance or foot setup (analyser, plate view and recording)."""
        self.session.set_stance(setup)
        self.plate_view.set_stance(setup)
        self.stance_box.setCurrentIndex(STANCES.index(setup.stance))

    def set_window(self, window_s: float) -> None:
        """Scroll the traces over ``window_s`` seconds."""
        self.traces.set_window(window_s)
        for i in range(self.window_box.count()):
            if float(self.window_box.itemData(i)) == float(window_s):
                self.window_box.setCurrentIndex(i)

    def toggle_recording(self) -> None:
        """Start a recording into a new timestamped file, or stop the running one."""
        if self.session.status.recording_path:
            path = self.session.stop_recording()
            self.message_label.setText(f"saved {path}")
            return
        self.start_recording(str(new_recording_path(self.sessions_dir, self.session.stance.stance)))

    def start_recording(self, path: str) -> None:
        """Record into ``path``; a problem is shown, never raised."""
        try:
            self.session.start_recording(path)
        except MidfootError as exc:
            self.message_label.setText(str(exc))

    def toggle_debug(self) -> None:
        """Show or hide the fps / latency overlay."""
        self.fps_label.setVisible(not self.fps_label.isVisible())
        self._place_fps()

    def _sound_toggled(self, on: bool) -> None:
        self.coaching.sound = on

    def open_foot_setup(self) -> None:
        """The stance, foot and zone setup dialog."""
        from gui.foot_setup import FootSetupDialog

        dialog = FootSetupDialog(self.session, self)
        if dialog.exec() == QtWidgets.QDialog.DialogCode.Accepted and dialog.result_setup:
            self.apply_stance(dialog.result_setup)

    def open_calibration(self) -> None:
        """The calibration wizard (tare, then a known mass at marked positions)."""
        from gui.wizard import CalibrationDialog

        CalibrationDialog(self.session, self).exec()

    # -- per frame ----------------------------------------------------------------------------
    def tick(self) -> None:
        """One frame: events, then the newest samples, then (at 5 Hz) the status texts."""
        session = self.session
        for event in session.poll():
            self._on_event(event)
        ring = session.ring
        if ring is not None and not self._plate_ready and session.acquisition.calibration:
            cal = session.acquisition.calibration
            self.plate_view.set_plate(cal.plate)
            self.traces.set_cop_range(max(cal.plate.width_mm, cal.plate.depth_mm) / 2)
            self._n_cells = ring.columns["force_n"].shape[0]
            self.traces.set_cells(self._n_cells)
            self._plate_ready = True
        got = session.window(self.traces.window_s)
        zone = None
        if got is not None:
            view, end = got
            if end != self._last_end:
                self._last_end = end
                self.traces.update_from_ring(view, end, self._rate_hz())
                zone = self.plate_view.update_cop(
                    view["t_s"], view["cop_mm"], session.back_foot_fraction(), view["counts"]
                )
        self.coaching.set_hold(session.live_hold_s(), session.holding)
        now = time.monotonic()
        if now - self._last_status >= STATUS_INTERVAL_S:
            self._last_status = now
            self._update_status(zone)

    def _rate_hz(self) -> float:
        st = self.session.status
        rate = st.rate_hz
        if rate != rate or rate <= 0:
            rate = self.session.acquisition.nominal_rate_hz or 80.0
        return rate

    def _on_event(self, event: SessionEvent) -> None:
        match event:
            case RepStarted(index=index, t_s=t_s):
                self.traces.rep_started(index, t_s)
                self.coaching.rep_started(index)
            case RepAborted(index=index):
                self.traces.rep_aborted(index)
                self.coaching.rep_aborted()
            case RepCompleted(rep=rep):
                self.traces.rep_completed(rep)
                self.coaching.rep_completed(rep, self.session.reps, self.session.set_summaries())
            case HoldUpdated(rep=rep) if rep is not None:
                self.coaching.hold_updated(rep, self.session.set_summaries())
            case BodyMassMeasured(body_mass_kg=kg):
                self.traces.set_body_mass(kg)
            case Tared():
                self.coaching.clear()
                self.traces.clear_reps()
            case StanceSet(stance=stance):
                # Also a replayed file's own stance changes.
                self.plate_view.set_stance(stance)
                if self.stance_box.currentIndex() != STANCES.index(stance.stance):
                    self.stance_box.setCurrentIndex(STANCES.index(stance.stance))

    def _update_status(self, zone: str | None) -> None:
        s = self.session
        st = s.status
        readout = s.readout()
        self.coaching.set_sides(asymmetry_text(readout.asymmetry))
        self.banner.setVisible(st.simulated)
        rgb = STATE_RGB.get(st.state, MUTED)
        _show(
            self.state_label,
            f"\u25cf {st.state.upper()}",
            f"color: {css(rgb)}; font-size: 15px; font-weight: 700;",
        )
        rate = "--- Hz" if math.isnan(st.rate_hz) else f"{st.rate_hz:5.1f} Hz"
        _show(self.rate_label, rate)
        _show(self.drops_label, f"dropped {st.dropped}")
        _show(self.crc_label, f"CRC errors {st.crc_errors}")
        kind = "virtual plate" if st.simulated else "plate"
        _show(self.source_label, f"{kind} {st.info.get('plate_id', '')}  {s.url}")
        if self.source_label.toolTip() != s.url:
            self.source_label.setToolTip(s.url)
        if readout.calibrated:
            _show(self.cal_label, "calibrated", f"color: {css(MUTED)}; font-size: 14px;")
        else:
            _show(
                self.cal_label,
                "UNCALIBRATED",
                f"color: {css(SIMULATED)}; font-size: 14px; font-weight: 700;",
            )
            tip = st.calibration_warning or ""
            if self.cal_label.toolTip() != tip:
                self.cal_label.setToolTip(tip)
        elapsed = s.recording_elapsed_s
        if elapsed is not None and st.recording_path:
            mins, secs = divmod(elapsed, 60)
            _show(
                self.rec_label,
                f"\u25cf REC {int(mins):02d}:{secs:04.1f}  {Path(st.recording_path).name}",
                f"color: {css(RECORDING)}; font-size: 15px; font-weight: 700;",
            )
            record_text = "Stop recording (space)"
        else:
            err = st.recording_error
            _show(self.rec_label, f"recording failed: {err}" if err else "")
            record_text = "Record (space)"
        if self.act_record.text() != record_text:
            self.act_record.setText(record_text)
        message = readout.message or self._note
        if st.state == "disconnected":
            message = f"PLATE UNPLUGGED, reconnecting by itself: {st.message or ''}"
        _show(self.message_label, message or "")
        if st.state == "disconnected":
            # No signal: the last weight and zone are no longer true, so do not show them.
            self.plate_view.set_readout(float("nan"), None, "off")
        else:
            self.plate_view.set_readout(
                readout.weight_kg, readout.percent_body_weight, zone or readout.zone
            )
        if self.fps_label.isVisible():
            clock = self.traces.clock
            self.fps_label.setText(f"{clock.fps:5.1f} fps  {clock.latency_ms:5.1f} ms")
            self.fps_label.adjustSize()
            self._place_fps()

    def _place_fps(self) -> None:
        self.fps_label.adjustSize()
        self.fps_label.move(self.traces.width() - self.fps_label.width() - 8, 4)
        self.fps_label.raise_()

    # -- large print --------------------------------------------------------------------------
    def _second_toolbar(self) -> QtWidgets.QToolBar:
        """The toolbar's second half (beside the first, or on a row of its own).

        A second row when the window is too narrow for one, so no control hides in an
        overflow menu.
        """
        bar = QtWidgets.QToolBar("view")
        bar.setMovable(False)
        self.addToolBar(bar)
        self.toolbar2 = bar
        return bar

    def _build_large_print(self) -> None:
        """Sizes that follow the window (gui/type_scale.py) and F11 for full screen."""
        self.print_scale = 1.0
        self._design_px = {
            self.banner: 15,
            self.rate_label: 14,
            self.drops_label: 14,
            self.crc_label: 14,
            self.source_label: 14,
            self.message_label: 14,
        }
        sc = QtGui.QShortcut(QtGui.QKeySequence("F11"), self)
        sc.setContext(QtCore.Qt.ShortcutContext.WindowShortcut)
        sc.activated.connect(self.toggle_full_screen)
        self.apply_large_print()

    def toggle_full_screen(self) -> None:
        """F11: full screen (for reading from across the room), or back."""
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()

    def apply_large_print(self) -> None:
        """Size every text and panel for the window's current size.

        Fonts scale with the height (the zone word, the main figure, stays at 5.5 % of
        it); the side panels' widths with the width, so the traces keep room at 1024 px;
        the toolbar takes a second row when one row would not hold it.
        """
        h = float(max(self.height(), 1))
        w = float(max(self.width(), 1))
        old, self.print_scale = self.print_scale, h / DESIGN_HEIGHT_PX
        # The status labels carry sizes scaled by _show: re-scale them now, not at the next
        # status update, so they are laid out with everything else.
        for label in (self.state_label, self.cal_label, self.rec_label):
            sheet = label.styleSheet()
            label.setStyleSheet(_SIZE_PX.sub(
                lambda m: f"font-size: {max(11, round(float(m[1]) * self.print_scale / old))}px",
                sheet,
            ))
        for label, px in self._design_px.items():
            set_font_px(label, scaled_px(px, h))
        bar_px = scaled_px(13, h)
        for bar in (self.toolbar, self.toolbar2):
            set_font_px(bar, bar_px)
        self.plate_view.setMinimumWidth(int(max(220.0, 0.22 * w)))
        self.coaching.setMinimumWidth(int(max(300.0, 0.28 * w)))
        self.coaching.setMaximumWidth(int(max(330.0, 0.32 * w)))
        self.plate_view.apply_scale(h)
        self.coaching.apply_scale(h)
        self.traces.apply_scale(h)
        self._fit_toolbars()

    def _fit_toolbars(self) -> None:
        both = self.toolbar.sizeHint().width() + self.toolbar2.sizeHint().width() + 16
        broken = self.toolBarBreak(self.toolbar2)
        if both > self.width() and not broken:
            self.insertToolBarBreak(self.toolbar2)
        elif both <= self.width() and broken:
            self.removeToolBarBreak(self.toolbar2)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 - Qt API
        """Qt: re-size the print for the new window size."""
        super().resizeEvent(event)
        self.apply_large_print()

    # -- Qt -----------------------------------------------------------------------------------
    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 - Qt API
        """Qt: stop the timer and the plate (a running recording is closed and kept)."""
        self.timer.stop()
        self.session.stop()
        super().closeEvent(event)
