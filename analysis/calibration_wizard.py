"""Guided calibration: tare on a still empty plate, then a known mass at marked positions.

:class:`CalibrationWizard` is a small state machine fed with sample blocks; it captures only
once the load has been still for a while (:class:`analysis.stillness.Stillness`, the one
stillness detector), so nobody has to press a key with their hands full. The command line
(`midfoot calibrate`) and the GUI's wizard both drive it.
"""

from __future__ import annotations

import threading

import numpy as np

from analysis.stillness import Stillness
from daq.calibration import (
    G_M_S2,
    Calibration,
    calibration_positions_mm,
    fit_gains,
    tare_offsets,
)
from daq.errors import MidfootError
from daq.plate import PlateGeometry
from daq.series import PlateSeries

STILL_WINDOW_S = 1.5
# While "still" the load stays within 1 % of its recent mean, and within 1.5 N when light
# (the empty plate): a person standing sways more, a mass being set down far more.
STILL_FRACTION = 0.01
STILL_REFERENCE_N = 150.0
RATE_PROBE_SAMPLES = 16
LOADED_FRACTION = 0.6  # with provisional gains +/-20 %, the mass reads at least this much
EMPTY_FRACTION = 0.2


def position_name(xy_mm: np.ndarray) -> str:
    """Where a marked position is, in words a person at the plate understands."""
    x, y = float(xy_mm[0]), float(xy_mm[1])
    if abs(x) < 1 and abs(y) < 1:
        return "the centre"
    ap = "front" if y > 0 else "back"
    ml = "right" if x > 0 else "left"
    return f"{ap}-{ml} ({x:+.0f}, {y:+.0f}) mm"


class CalibrationWizard:
    """Tare, then capture the mass at each marked position, then fit gains.

    Parameters
    ----------
    plate_id : str
        Whose calibration this is.
    plate : PlateGeometry
        Cell positions.
    mass_kg : float
        The known mass.
    provisional : Calibration
        Gains used to judge "loaded", "empty" and "still" before the fit.
    """

    def __init__(
        self, plate_id: str, plate: PlateGeometry, mass_kg: float, provisional: Calibration
    ) -> None:
        if mass_kg <= 0:
            raise MidfootError("the calibration mass must be positive, e.g. --mass-kg 20")
        self.plate_id = plate_id
        self.plate = plate
        self.mass_kg = mass_kg
        self.positions_mm = calibration_positions_mm(plate)
        self._gain = np.abs(provisional.gain_n_per_count[: plate.n_channels])
        self._offsets: np.ndarray | None = None
        self._t = np.zeros(0)
        self._counts = np.zeros((0, plate.n_channels))
        self._captures: list[np.ndarray] = []
        self._waiting_for_empty = False
        self._stillness: Stillness | None = None
        self.step = "tare"  # tare | place | lift | done
        self.result: Calibration | None = None
        self.residual_cop_mm: np.ndarray | None = None
        self.prompt = "Step off and leave the plate empty: taring once it is still..."
        self.changed = threading.Event()

    @property
    def done(self) -> bool:
        """Whether the fit is finished."""
        return self.step == "done"

    @property
    def captures(self) -> tuple[np.ndarray, ...]:
        """The captures so far, in the order of ``positions_mm``: read-only.

        One array per position done, the mean raw counts (one per cell, before tare) of the
        still stretch that captured it; so ``len(captures)`` is the index of the position
        the mass goes to next. A tuple copy, since :meth:`feed` appends from the
        acquisition thread.
        """
        return tuple(self._captures)

    def feed(self, block: PlateSeries) -> None:
        """Take a new block of samples (its raw ``counts`` and ``t_s``)."""
        if self.done or block.counts is None or len(block) == 0:
            return
        n = self.plate.n_channels
        # A glitched sample (an HX711 reading all ones) is neither still nor a load.
        keep = np.asarray(block.valid, dtype=bool)
        counts = block.counts[keep, :n].astype(float)
        new_t = np.asarray(block.t_s, dtype=float)[keep]
        if new_t.shape[0] == 0:
            return
        signed_new = counts - (self._offsets if self._offsets is not None else 0.0)
        self._t = np.concatenate([self._t, new_t])
        self._counts = np.concatenate([self._counts, counts])
        if self._stillness is None:
            if self._t.shape[0] < RATE_PROBE_SAMPLES:
                return
            step = float(np.median(np.diff(self._t)))
            if not step > 0:
                return
            self._stillness = Stillness(
                1.0 / step, fraction=STILL_FRACTION, reference_n=STILL_REFERENCE_N
            )
            signed_new = self._counts - (self._offsets if self._offsets is not None else 0.0)
        # Cells may be mounted either way up (negative gain): judge load by magnitude.
        self._stillness.push((np.abs(signed_new) * self._gain).sum(axis=1))
        keep = self._t >= self._t[-1] - STILL_WINDOW_S
        self._t, self._counts = self._t[keep], self._counts[keep]
        if self._t[-1] - self._t[0] < STILL_WINDOW_S * 0.95:
            return
        signed = self._counts - (self._offsets if self._offsets is not None else 0.0)
        load_n = (np.abs(signed) * self._gain).sum(axis=1)
        weight_n = self.mass_kg * G_M_S2
        still = self._stillness.still_s >= STILL_WINDOW_S
        if self.step == "tare":
            if still:
                self._offsets = tare_offsets(self._counts)
                # The load is now judged from the tared counts: its recent mean restarts.
                self._stillness.reset()
                self._advance("place")
        elif self.step == "place":
            if still and load_n.mean() > LOADED_FRACTION * weight_n:
                self._captures.append(self._counts.mean(axis=0))
                if len(self._captures) == len(self.positions_mm):
                    self._finish()
                else:
                    self._advance("lift")
        elif self.step == "lift":
            if load_n.mean() < EMPTY_FRACTION * weight_n:
                self._advance("place")

    def _advance(self, step: str) -> None:
        self.step = step
        k = len(self._captures)
        if step == "place":
            where = position_name(self.positions_mm[k])
            self.prompt = (
                f"Set the {self.mass_kg:g} kg mass down at {where} "
                f"[{k + 1}/{len(self.positions_mm)}] and let go..."
            )
        elif step == "lift":
            self.prompt = f"Captured position {k}. Lift the mass off the plate."
        self._t = self._t[-1:]
        self._counts = self._counts[-1:]
        self.changed.set()

    def _finish(self) -> None:
        assert self._offsets is not None
        fit = fit_gains(
            np.asarray(self._captures),
            self.positions_mm,
            self._offsets,
            self.mass_kg,
            self.plate.cells_mm,
        )
        self.residual_cop_mm = fit.cop_error_mm
        self.result = Calibration(
            plate_id=self.plate_id,
            plate=self.plate,
            offset_counts=self._offsets,
            gain_n_per_count=fit.gain_n_per_count,
            calibrated=True,
            residual_cop_mm=fit.rms_cop_error_mm,
        )
        self.step = "done"
        self.prompt = (
            f"Done: CoP error {fit.rms_cop_error_mm:.1f} mm RMS "
            f"(worst {float(fit.cop_error_mm.max()):.1f} mm) over {len(self._captures)} positions."
        )
        self.changed.set()
