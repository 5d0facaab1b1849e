"""Stance and foot setup, with the zone calibration (a rocking trial fits the zones to a person).

The zones are cut along the foot by default; a rocking trial (back onto the heels, forward
onto the toes, then left and right) measures how far this person can really move their CoP,
and the zones are then cut inside that functional base of support instead.
"""

from __future__ import annotations

import time

import numpy as np
from pyqtgraph.Qt import QtCore, QtWidgets

from analysis.stance import (
    DEFAULT_HEEL_Y_MM,
    StanceSetup,
    fit_base_of_support,
    foot_length_from_shoe_size,
)
from daq.errors import MidfootError
from daq.series import PlateSeries
from gui.plate_view import PlateView
from gui.session import STANCE_LABELS, STANCES, LiveSession

ROCK_TRIAL_S = 12.0


class FootSetupDialog(QtWidgets.QDialog):
    """Edit the stance, foot length, heel line, stance width and zone cuts; fit zones.

    ``result_setup`` holds the accepted StanceSetup.
    """

    def __init__(self, session: LiveSession, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Stance, feet and zones")
        self.session = session
        self.result_setup: StanceSetup | None = None
        self._bos = session.stance.base_of_support
        self._trial: list[np.ndarray] = []
        self._trial_left_s = 0.0
        self._trial_end = 0.0
        st = session.stance

        form = QtWidgets.QFormLayout()
        self.stance = QtWidgets.QComboBox()
        for name in STANCES:
            self.stance.addItem(STANCE_LABELS[name], name)
        self.stance.setCurrentIndex(STANCES.index(st.stance))
        self._shown_stance = st.stance
        form.addRow("Stance", self.stance)
        self.foot = self._spin(100, 400, st.foot_length_mm, " mm")
        self.shoe = QtWidgets.QDoubleSpinBox()
        self.shoe.setRange(0, 56)
        self.shoe.setSpecialValueText("-")
        self.shoe.setDecimals(1)
        self.shoe.valueChanged.connect(self._shoe_changed)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.foot)
        row.addWidget(QtWidgets.QLabel("or EU shoe size"))
        row.addWidget(self.shoe)
        form.addRow("Foot length", row)
        self.heel = self._spin(-300, 300, float(st.heel_y_mm), " mm")
        form.addRow("Heel line (y, + forward)", self.heel)
        self.width = self._spin(0, 800, st.stance_width_mm, " mm")
        form.addRow("Stance width (centre to centre)", self.width)
        self.cut0 = self._spin(5, 90, 100 * st.zone_cuts[0], " %")
        self.cut1 = self._spin(10, 95, 100 * st.zone_cuts[1], " %")
        cuts = QtWidgets.QHBoxLayout()
        cuts.addWidget(QtWidgets.QLabel("heel | midfoot at"))
        cuts.addWidget(self.cut0)
        cuts.addWidget(QtWidgets.QLabel("midfoot | forefoot at"))
        cuts.addWidget(self.cut1)
        form.addRow("Zones (from the heel)", cuts)

        self.trial_button = QtWidgets.QPushButton("Fit zones to me: start rocking trial")
        self.trial_button.clicked.connect(self.start_trial)
        self.clear_bos = QtWidgets.QPushButton("Use foot-length zones")
        self.clear_bos.clicked.connect(self._clear_bos)
        self.trial_text = QtWidgets.QLabel(
            "Rocking trial: stand in the stance, then slowly rock back onto your heels, "
            f"forward onto your toes, then left and right, for {ROCK_TRIAL_S:.0f} s."
        )
        self.trial_text.setWordWrap(True)
        self.preview = PlateView(compact=True)
        self.preview.setMinimumSize(300, 320)
        cal = session.acquisition.calibration
        if cal is not None:
            self.preview.set_plate(cal.plate)
        self.error = QtWidgets.QLabel("")
        self.error.setStyleSheet("color: rgb(232, 93, 58);")
        self.error.setWordWrap(True)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept_setup)
        buttons.rejected.connect(self.reject)

        left = QtWidgets.QVBoxLayout()
        left.addLayout(form)
        left.addWidget(self.trial_text)
        trial_row = QtWidgets.QHBoxLayout()
        trial_row.addWidget(self.trial_button)
        trial_row.addWidget(self.clear_bos)
        left.addLayout(trial_row)
        left.addWidget(self.error)
        left.addStretch(1)
        left.addWidget(buttons)
        layout = QtWidgets.QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addWidget(self.preview, 1)

        for w in (self.foot, self.heel, self.width, self.cut0, self.cut1):
            w.valueChanged.connect(self._changed)
        self.stance.currentIndexChanged.connect(self._stance_changed)
        self.timer = QtCore.QTimer(self)
        self.timer.timeout.connect(self._tick)
        self.timer.start(100)
        self._changed()

    @staticmethod
    def _spin(lo: float, hi: float, value: float, suffix: str) -> QtWidgets.QDoubleSpinBox:
        box = QtWidgets.QDoubleSpinBox()
        box.setRange(lo, hi)
        box.setDecimals(0)
        box.setValue(value)
        box.setSuffix(suffix)
        return box

    def setup(self) -> StanceSetup:
        """The setup the form describes (MidfootError when it is implausible)."""
        return StanceSetup(
            stance=str(self.stance.currentData()),
            foot_length_mm=self.foot.value(),
            heel_y_mm=self.heel.value(),
            stance_width_mm=self.width.value(),
            zone_cuts=(self.cut0.value() / 100.0, self.cut1.value() / 100.0),
            base_of_support=self._bos,
        )

    def _shoe_changed(self, size: float) -> None:
        if size >= 16:
            try:
                self.foot.setValue(round(foot_length_from_shoe_size(size)))
            except MidfootError as exc:
                self.error.setText(str(exc))

    def _changed(self) -> None:
        try:
            setup = self.setup()
        except MidfootError as exc:
            self.error.setText(str(exc))
            return
        self.error.setText("")
        self.preview.set_stance(setup)

    def _stance_changed(self) -> None:
        # The heel line follows the stance's default unless it was set by hand.
        new = str(self.stance.currentData())
        if self.heel.value() == DEFAULT_HEEL_Y_MM.get(self._shown_stance):
            self.heel.setValue(DEFAULT_HEEL_Y_MM[new])
        self._shown_stance = new
        self._changed()

    def _clear_bos(self) -> None:
        self._bos = None
        self._changed()

    # -- the rocking trial ----------------------------------------------------------------------
    def start_trial(self) -> None:
        """Collect the CoP for ROCK_TRIAL_S, then fit the base of support."""
        self._trial = []
        # Timed by the clock, not by counting timer ticks, which a busy machine delays.
        self._trial_end = time.monotonic() + ROCK_TRIAL_S
        self._trial_left_s = ROCK_TRIAL_S
        self.session.add_tap(self._collect)
        self.trial_button.setEnabled(False)

    def _collect(self, block: PlateSeries) -> None:
        # Runs in the acquisition thread: only appends a copy, the dialog reads it later.
        self._trial.append(np.array(block.cop_mm, dtype=np.float64))

    def _tick(self) -> None:
        if self._trial_left_s <= 0:
            return
        self._trial_left_s = self._trial_end - time.monotonic()
        got = self.session.window(2.0)
        if got is not None:
            view, _ = got
            self.preview.update_cop(view["t_s"], view["cop_mm"])
        if self._trial_left_s > 0:
            left_s = self._trial_left_s
            self.trial_text.setText(f"Rock back, forward, left, right... {left_s:.0f} s")
            return
        self.session.remove_tap(self._collect)
        self.trial_button.setEnabled(True)
        cop = np.concatenate(self._trial) if self._trial else np.zeros((0, 2))
        try:
            self._bos = fit_base_of_support(cop[:, 0], cop[:, 1])
        except MidfootError as exc:
            self.trial_text.setText(str(exc))
            return
        self.trial_text.setText(
            f"Fitted: you reach {self._bos.ap_range_mm:.0f} mm heel to toe and "
            f"{self._bos.ml_range_mm:.0f} mm side to side; the zones now sit inside that."
        )
        self._changed()

    def accept_setup(self) -> None:
        """Take the form's setup (or show why it is implausible) and close."""
        try:
            self.result_setup = self.setup()
        except MidfootError as exc:
            self.error.setText(str(exc))
            return
        self.session.remove_tap(self._collect)
        self.accept()

    def reject(self) -> None:  # noqa: D102 - Qt API
        self.session.remove_tap(self._collect)
        super().reject()
