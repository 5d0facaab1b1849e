"""The calibration wizard in the window: the same state machine as `midfoot calibrate`.

:class:`analysis.calibration_wizard.CalibrationWizard` is fed every block in the acquisition
thread; this dialog only reads its prompt and step from a timer and draws where the mass
goes next, so nobody has to press anything with their hands full.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtWidgets

from analysis.calibration_wizard import CalibrationWizard, position_name
from daq.calibration import calibration_positions_mm, save_calibration
from daq.errors import MidfootError
from gui.colours import MUTED, SIMULATED, ZONE_RGB
from gui.plate_view import PlateView
from gui.session import LiveSession


class CalibrationDialog(QtWidgets.QDialog):
    """Tare, then a known mass at each marked position, then save the fitted gains."""

    def __init__(self, session: LiveSession, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Calibrate the plate")
        self.session = session
        self.wizard: CalibrationWizard | None = None
        cal = session.acquisition.calibration
        self.plate = cal.plate if cal is not None else None

        self.mass = QtWidgets.QDoubleSpinBox()
        self.mass.setRange(0.5, 200)
        self.mass.setValue(20.0)
        self.mass.setSuffix(" kg")
        self.start_button = QtWidgets.QPushButton("Start")
        self.start_button.clicked.connect(self.start)
        self.prompt = QtWidgets.QLabel(
            "Have a known mass ready (a 20 kg plate or kettlebell is ideal), enter it, and press "
            "Start. Each step captures by itself once the plate is still."
        )
        self.prompt.setWordWrap(True)
        self.prompt.setStyleSheet("font-size: 16px;")
        self.positions = QtWidgets.QLabel("")
        self.positions.setStyleSheet(f"color: rgb{MUTED};")
        self.view = PlateView(compact=True)
        self.view.legend.setVisible(False)
        self.view.setMinimumSize(320, 320)
        self.markers = pg.ScatterPlotItem(size=26)
        self.labels: list[pg.TextItem] = []
        if self.plate is not None:
            self.view.set_plate(self.plate)
            pos = calibration_positions_mm(self.plate)
            for k, (x, y) in enumerate(pos):
                label = pg.TextItem(str(k + 1), anchor=(0.5, 0.5), color=(0, 0, 0))
                label.setPos(float(x), float(y))
                label.setZValue(40)
                self.view.plot.addItem(label)
                self.labels.append(label)
            self.markers.setZValue(35)
            self.view.plot.addItem(self.markers)
            self.positions.setText(
                "Positions: " + "; ".join(f"{k + 1}. {position_name(p)}" for k, p in enumerate(pos))
            )
        self.save_button = QtWidgets.QPushButton("Save and use")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self.save)
        close = QtWidgets.QPushButton("Close")
        close.clicked.connect(self.reject)

        top = QtWidgets.QHBoxLayout()
        top.addWidget(QtWidgets.QLabel("Known mass"))
        top.addWidget(self.mass)
        top.addWidget(self.start_button)
        top.addStretch(1)
        left = QtWidgets.QVBoxLayout()
        left.addLayout(top)
        left.addWidget(self.prompt)
        left.addWidget(self.positions)
        left.addStretch(1)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.save_button)
        row.addWidget(close)
        left.addLayout(row)
        layout = QtWidgets.QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addWidget(self.view, 1)
        self._draw_markers()
        self.timer = QtCore.QTimer(self)
        self.timer.timeout.connect(self._tick)
        self.timer.start(100)

    def start(self) -> None:
        """Begin: tare on the empty plate, then the placements."""
        acq = self.session.acquisition
        cal = acq.calibration
        if cal is None or self.plate is None:
            self.prompt.setText("No samples from the plate yet: wait until it is streaming.")
            return
        plate_id = acq.status.info.get("plate_id", cal.plate_id)
        try:
            self.wizard = CalibrationWizard(plate_id, self.plate, self.mass.value(), cal)
        except MidfootError as exc:
            self.prompt.setText(str(exc))
            return
        self.session.cancel_job()
        self.session.add_tap(self.wizard.feed)
        self.start_button.setEnabled(False)
        self.mass.setEnabled(False)

    def _tick(self) -> None:
        w = self.wizard
        if w is None:
            return
        self.prompt.setText(w.prompt)
        self._draw_markers()
        if w.done:
            self.session.remove_tap(w.feed)
            self.save_button.setEnabled(True)
            self.timer.stop()

    def _draw_markers(self) -> None:
        if self.plate is None:
            return
        pos = calibration_positions_mm(self.plate)
        # The number of captures so far is the index of the marker the mass goes to next.
        k_next = len(self.wizard.captures) if self.wizard is not None else -1
        brushes = []
        for k in range(len(pos)):
            if k < k_next:
                brushes.append(pg.mkBrush(*ZONE_RGB["midfoot"]))
            elif k == k_next and self.wizard is not None and self.wizard.step == "place":
                brushes.append(pg.mkBrush(*SIMULATED))
            else:
                brushes.append(pg.mkBrush(200, 200, 200, 160))
        self.markers.setData(pos[:, 0], pos[:, 1], brush=brushes)

    def save(self) -> None:
        """Store the calibration for this plate and use it at once."""
        w = self.wizard
        if w is None or w.result is None:
            return
        try:
            path = save_calibration(w.result)
        except MidfootError as exc:
            self.prompt.setText(str(exc))
            return
        self.session.acquisition.set_calibration(w.result)
        worst = float(np.max(w.residual_cop_mm)) if w.residual_cop_mm is not None else 0.0
        self.prompt.setText(f"{w.prompt}\nSaved to {path} (worst position {worst:.1f} mm).")
        self.save_button.setEnabled(False)

    def reject(self) -> None:  # noqa: D102 - Qt API
        if self.wizard is not None:
            self.session.remove_tap(self.wizard.feed)
        self.timer.stop()
        super().reject()
