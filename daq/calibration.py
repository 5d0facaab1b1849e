"""Calibration: raw counts -> per-cell forces -> total force and centre of pressure.

force_n[i] = (counts[i] - offset_counts[i]) * gain_n_per_count[i]

Offsets come from a tare (mean of a still, empty plate). Gains come from one known mass set
down at several marked positions: the total force and both moments of every placement give
three linear equations in the n unknown gains, solved by least squares. That is determinate
even though the split of load between four cells under a rigid top is not, and the fit's
residual is the plate's CoP error in millimetres.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from daq.errors import MidfootError
from daq.paths import config_dir
from daq.plate import PlateGeometry, load_plate

G_M_S2 = 9.80665
# An HX711 at gain 128 on a 1 mV/V 50 kg cell gives roughly 2,000 counts per newton; used
# only until the plate is calibrated, so weights are in the right range but not trusted.
NOMINAL_GAIN_N_PER_COUNT = 1.0 / 2000.0
# Below this total force the CoP is noise divided by almost nothing: report no CoP.
DEFAULT_COP_GATE_N = 20.0


def calibration_positions_mm(plate: PlateGeometry) -> np.ndarray:
    """Where to set the known mass down, in order: the centre, then halfway to each cell."""
    return np.vstack([[0.0, 0.0], 0.5 * plate.cells_mm])


@dataclass
class Calibration:
    """Offsets, gains and geometry of one plate."""

    plate_id: str
    plate: PlateGeometry
    offset_counts: np.ndarray
    gain_n_per_count: np.ndarray
    calibrated: bool = False
    residual_cop_mm: float | None = None
    created_utc: str = field(
        default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    )

    @classmethod
    def nominal(cls, plate_id: str, plate: PlateGeometry | None = None) -> Calibration:
        """An uncalibrated plate: zero offsets and the nominal HX711 gain."""
        plate = plate or load_plate()
        n = plate.n_channels
        return cls(
            plate_id=plate_id,
            plate=plate,
            offset_counts=np.zeros(n),
            gain_n_per_count=np.full(n, NOMINAL_GAIN_N_PER_COUNT),
        )

    def forces_n(self, counts: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """(N, n) per-cell forces in newtons from (N, >= n) raw counts.

        ``out``, an (N, n) float64 array, receives them when given (a reader filling one
        array piece by piece between calibration changes).
        """
        n = self.plate.n_channels
        # One float64 array, scaled in place: an hour at 1 kHz is 14 M values, and the
        # product-then-astype form made three copies of them.
        force = np.subtract(counts[:, :n], self.offset_counts, dtype=np.float64, out=out)
        force *= self.gain_n_per_count
        return force

    def with_tare(self, offset_counts: np.ndarray) -> Calibration:
        """A copy with new offsets (the gains stay)."""
        return Calibration(
            plate_id=self.plate_id,
            plate=self.plate,
            offset_counts=np.asarray(offset_counts, dtype=float),
            gain_n_per_count=self.gain_n_per_count.copy(),
            calibrated=self.calibrated,
            residual_cop_mm=self.residual_cop_mm,
        )

    def to_dict(self) -> dict:
        """JSON-ready form (the file stored per plate_id, and a session's /calibration)."""
        return {
            "format": "midfoot-calibration",
            "version": 1,
            "plate_id": self.plate_id,
            "plate": self.plate.to_dict(),
            "offset_counts": self.offset_counts.tolist(),
            "gain_n_per_count": self.gain_n_per_count.tolist(),
            "calibrated": self.calibrated,
            "residual_cop_mm": self.residual_cop_mm,
            "created_utc": self.created_utc,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Calibration:
        """Inverse of :meth:`to_dict`; raises ValueError or KeyError when malformed."""
        plate = PlateGeometry.from_dict(data["plate"])
        offsets = np.asarray(data["offset_counts"], dtype=float)
        gains = np.asarray(data["gain_n_per_count"], dtype=float)
        if offsets.shape != (plate.n_channels,) or gains.shape != (plate.n_channels,):
            raise ValueError("offsets and gains must have one value per cell")
        if not (np.all(np.isfinite(offsets)) and np.all(np.isfinite(gains))):
            raise ValueError("offsets and gains must be finite")
        return cls(
            plate_id=str(data["plate_id"]),
            plate=plate,
            offset_counts=offsets,
            gain_n_per_count=gains,
            calibrated=bool(data.get("calibrated", True)),
            residual_cop_mm=data.get("residual_cop_mm"),
            created_utc=str(data.get("created_utc", "")),
        )


def fz_and_cop(
    force_n: np.ndarray, cells_mm: np.ndarray, gate_n: float = DEFAULT_COP_GATE_N
) -> tuple[np.ndarray, np.ndarray]:
    """Total vertical force (N,) and CoP (N, 2) in mm; CoP is NaN where fz < ``gate_n``."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        fz = force_n.sum(axis=1)
        cop = force_n @ cells_mm
        cop /= fz[:, None]  # in place: an hour's moments are 58 MB
    cop[fz < gate_n] = np.nan
    return fz, cop


def tare_offsets(counts: np.ndarray) -> np.ndarray:
    """Per-channel offsets: the mean of counts from a still, empty plate."""
    if counts.shape[0] == 0:
        raise MidfootError("no samples to tare from: check that the plate is streaming")
    return counts.astype(np.float64).mean(axis=0)


@dataclass(frozen=True)
class GainFit:
    """Result of :func:`fit_gains`."""

    gain_n_per_count: np.ndarray
    cop_error_mm: np.ndarray  # (k,) distance between measured and marked position
    weight_error_n: np.ndarray  # (k,) measured total force minus the mass's weight

    @property
    def rms_cop_error_mm(self) -> float:
        """RMS CoP error over the placements."""
        return float(np.sqrt(np.mean(self.cop_error_mm**2)))


def fit_gains(
    mean_counts: np.ndarray,
    positions_mm: np.ndarray,
    offset_counts: np.ndarray,
    mass_kg: float,
    cells_mm: np.ndarray,
) -> GainFit:
    """Per-cell gains from a known mass set down at several positions (least squares).

    Parameters
    ----------
    mean_counts : (k, n)
        Mean raw counts while the mass sat still at each of k positions.
    positions_mm : (k, 2)
        Where the mass's centre was (x, y), in plate coordinates.
    offset_counts : (n,)
        Empty-plate offsets from :func:`tare_offsets`.
    mass_kg : float
        The known mass.
    cells_mm : (n, 2)
        Cell positions of the plate.
    """
    delta = np.asarray(mean_counts, float) - offset_counts
    positions_mm = np.asarray(positions_mm, float)
    k, n = delta.shape
    if k * 3 < n:
        raise MidfootError(f"{k} placements cannot determine {n} gains: use at least {n // 3 + 1}")
    weight_n = mass_kg * G_M_S2
    rows, rhs = [], []
    for j in range(k):
        rows.append(delta[j])
        rhs.append(weight_n)
        # Moments are scaled to newtons so that force and moment equations weigh alike.
        for axis in range(2):
            rows.append(delta[j] * cells_mm[:, axis] / 1000.0)
            rhs.append(weight_n * positions_mm[j, axis] / 1000.0)
    gains, *_ = np.linalg.lstsq(np.asarray(rows), np.asarray(rhs), rcond=None)
    force = delta * gains
    fz, cop = fz_and_cop(force, cells_mm, gate_n=0.0)
    return GainFit(
        gain_n_per_count=gains,
        cop_error_mm=np.linalg.norm(cop - positions_mm, axis=1),
        weight_error_n=fz - weight_n,
    )


# -- storage ------------------------------------------------------------------------------
def calibration_path(plate_id: str) -> Path:
    """Where the calibration of ``plate_id`` is kept."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in plate_id) or "unknown"
    return config_dir() / "calibrations" / f"{safe}.json"


def save_calibration(cal: Calibration) -> Path:
    """Write ``cal`` atomically (a crash never leaves half a file) and return its path."""
    path = calibration_path(cal.plate_id)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(cal.to_dict(), indent=2), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise MidfootError(
            f"could not save the calibration to {path} ({exc.strerror}): check that the folder "
            "is writable and the disk has room, then calibrate again"
        ) from exc
    return path


def load_calibration(
    plate_id: str, plate: PlateGeometry | None = None
) -> tuple[Calibration, str | None]:
    """The stored calibration of ``plate_id``, or a nominal one and a one-line warning.

    Never raises for a missing or corrupt file: acquisition must go on, uncalibrated, and the
    warning says what to do.
    """
    path = calibration_path(plate_id)
    if not path.exists():
        return Calibration.nominal(plate_id, plate), (
            f"plate {plate_id} has no calibration yet: weights and CoP are approximate until you "
            "run `midfoot calibrate`"
        )
    try:
        return Calibration.from_dict(json.loads(path.read_text(encoding="utf-8"))), None
    except (OSError, ValueError, KeyError, TypeError, MidfootError):
        return Calibration.nominal(plate_id, plate), (
            f"the calibration file {path} is unreadable or corrupt: using an uncalibrated plate; "
            "run `midfoot calibrate` to make a new one"
        )
