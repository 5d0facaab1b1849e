"""A scripted person on a force plate: total force, centre of pressure and per-cell forces.

The person is a handful of smooth time paths (how much of the body is on the plate, the
mass carried, the height of the centre of mass, and the CoP), each a chain of minimum-jerk
moves between knots, plus zero-mean postural sway and a small vertical-force tremor. Every
path is a closed-form function of time, so any array of times is evaluated exactly and in
one numpy pass, whatever rate the plate samples at.

Vertical force is Newtonian: ``Fz = m (g * presence + z'')`` with ``z`` the centre-of-mass
height, so a descent first dips below body weight and then rises above it while braking,
and an ascent does the reverse, by an amount set by depth and tempo.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import signal

from daq.calibration import G_M_S2
from daq.plate import PlateGeometry

SWAY_GRID_HZ = 100.0
PATH_NAMES = ("presence", "mass_kg", "com_m", "cop_x_mm", "cop_y_mm", "sway_gain")


def min_jerk_fraction(tau: np.ndarray) -> np.ndarray:
    """Minimum-jerk progress 10t^3 - 15t^4 + 6t^5 of a move, for tau in [0, 1]."""
    return tau**3 * (10.0 + tau * (-15.0 + 6.0 * tau))


def _min_jerk_accel(tau: np.ndarray) -> np.ndarray:
    # Second derivative of min_jerk_fraction with respect to tau.
    return tau * (60.0 + tau * (-180.0 + 120.0 * tau))


class SmoothPath:
    """A value that holds at knots and moves between them along minimum-jerk curves.

    Position, velocity and acceleration are continuous everywhere, so forces derived from
    the acceleration have no steps. Before the first knot the first value holds, after the
    last the last.

    Parameters
    ----------
    t_s : (K,) float
        Knot times in seconds, strictly increasing.
    values : (K,) float
        Value at each knot.
    """

    def __init__(self, t_s: np.ndarray, values: np.ndarray) -> None:
        self.t_s = np.asarray(t_s, dtype=float)
        self.values = np.asarray(values, dtype=float)
        if self.t_s.ndim != 1 or self.t_s.shape != self.values.shape or self.t_s.size == 0:
            raise ValueError("a path needs equal-length, non-empty 1-D knot times and values")
        if np.any(np.diff(self.t_s) <= 0):
            raise ValueError("path knot times must be strictly increasing")
        # Precomputed per segment so evaluation is a lookup and a polynomial.
        if self.t_s.size > 1:
            self._dt = np.diff(self.t_s)
            self._dv = np.diff(self.values)
        else:
            self._dt = np.ones(1)
            self._dv = np.zeros(1)

    def _segments(self, t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = np.searchsorted(self.t_s, t_s, side="right") - 1
        k = np.clip(k, 0, self._dt.size - 1)
        tau = np.clip((t_s - self.t_s[k]) / self._dt[k], 0.0, 1.0)
        return k, tau

    def value(self, t_s: np.ndarray) -> np.ndarray:
        """The path's value at times ``t_s`` (any shape)."""
        t_s = np.asarray(t_s, dtype=float)
        if self.t_s.size == 1:
            return np.full(t_s.shape, self.values[0])
        k, tau = self._segments(t_s)
        return self.values[k] + self._dv[k] * min_jerk_fraction(tau)

    def accel(self, t_s: np.ndarray) -> np.ndarray:
        """Second time derivative of the path at ``t_s``, in value units per s^2."""
        t_s = np.asarray(t_s, dtype=float)
        if self.t_s.size == 1:
            return np.zeros(t_s.shape)
        k, tau = self._segments(t_s)
        # tau is clipped to [0, 1], where the acceleration is zero: no mask needed outside.
        return self._dv[k] * _min_jerk_accel(tau) / self._dt[k] ** 2


class MotionScript:
    """Builds the knot lists of a person's paths, one timed move after another.

    Each move says "between t0 and t1 take this path to this value"; the path holds its
    previous value until t0. Moves on one path must come in time order.

    Parameters
    ----------
    initial : dict[str, float]
        Starting value of every path in :data:`PATH_NAMES`.
    """

    def __init__(self, initial: dict[str, float]) -> None:
        initial = {"sway_gain": 1.0, **initial}
        missing = set(PATH_NAMES) - set(initial)
        if missing:
            raise ValueError(f"initial values missing for {sorted(missing)}")
        self._knots: dict[str, list[tuple[float, float]]] = {
            name: [(0.0, float(initial[name]))] for name in PATH_NAMES
        }

    def current(self, name: str) -> float:
        """The value a path has after its last move."""
        return self._knots[name][-1][1]

    def last_time_s(self, name: str) -> float:
        """Time of a path's last knot."""
        return self._knots[name][-1][0]

    def move(self, name: str, t0_s: float, t1_s: float, value: float) -> None:
        """Move path ``name`` to ``value`` between ``t0_s`` and ``t1_s``."""
        knots = self._knots[name]
        last_t, last_v = knots[-1]
        if t0_s < last_t - 1e-9 or t1_s <= t0_s:
            raise ValueError(
                f"move of {name} from {t0_s:.3f} s to {t1_s:.3f} s overlaps the previous "
                f"one ending at {last_t:.3f} s"
            )
        if t0_s > last_t + 1e-9:
            knots.append((t0_s, last_v))
        knots.append((t1_s, float(value)))

    def jump(self, name: str, t_s: float, value: float) -> None:
        """Set a path to ``value`` within 1 ms at ``t_s`` (only where it is not seen)."""
        self.move(name, t_s, t_s + 1e-3, value)

    def paths(self) -> dict[str, SmoothPath]:
        """The finished paths."""
        return {
            name: SmoothPath(np.array([k[0] for k in kn]), np.array([k[1] for k in kn]))
            for name, kn in self._knots.items()
        }


@dataclass(frozen=True)
class Sway:
    """Zero-mean postural sway and vertical-force tremor on a regular grid.

    Attributes
    ----------
    dt_s : float
        Grid step.
    ml_mm, ap_mm : (M,) float
        Medio-lateral and antero-posterior CoP sway.
    fz_frac : (M,) float
        Vertical-force fluctuation as a fraction of the static weight.
    """

    dt_s: float
    ml_mm: np.ndarray
    ap_mm: np.ndarray
    fz_frac: np.ndarray

    def at(self, t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """ML sway, AP sway (mm) and force fraction at ``t_s``, linearly interpolated."""
        idx = np.asarray(t_s, dtype=float) / self.dt_s
        grid = np.arange(self.ml_mm.size, dtype=float)
        return (
            np.interp(idx, grid, self.ml_mm),
            np.interp(idx, grid, self.ap_mm),
            np.interp(idx, grid, self.fz_frac),
        )


def _ou_noise(n: int, dt_s: float, tau_s: float, rng: np.random.Generator) -> np.ndarray:
    # A random walk with a restoring force (Ornstein-Uhlenbeck), the usual model of CoP
    # drift: it wanders like a walk over a second and is pulled back over several.
    a = np.exp(-dt_s / tau_s)
    return signal.lfilter([np.sqrt(1.0 - a * a)], [1.0, -a], rng.standard_normal(n))


def _lowpass_noise(n: int, dt_s: float, cutoff_hz: float, rng: np.random.Generator) -> np.ndarray:
    b, a = signal.butter(2, cutoff_hz, fs=1.0 / dt_s)
    return signal.lfilter(b, a, rng.standard_normal(n))


def _unit_rms(x: np.ndarray) -> np.ndarray:
    x = x - x.mean()
    return x / max(float(np.sqrt(np.mean(x * x))), 1e-12)


def make_sway(
    duration_s: float,
    rng: np.random.Generator,
    *,
    ml_rms_mm: float = 2.5,
    ap_rms_mm: float = 3.5,
    fz_rms_frac: float = 0.003,
) -> Sway:
    """Quiet-standing sway for ``duration_s`` seconds, most of its power below 1 Hz.

    Each axis is a slow Ornstein-Uhlenbeck drift (time constant ~2 s) plus a smaller
    low-passed component up to ~1 Hz, scaled to exactly the requested RMS.

    Parameters
    ----------
    duration_s : float
        Length to cover (a little more is generated).
    rng : numpy.random.Generator
        Source of randomness (the scenario's seed).
    ml_rms_mm, ap_rms_mm : float
        RMS of the medio-lateral and antero-posterior sway.
    fz_rms_frac : float
        RMS of the vertical-force tremor as a fraction of static weight.
    """
    dt_s = 1.0 / SWAY_GRID_HZ
    warm = int(20 * SWAY_GRID_HZ)  # filter start-up transient, thrown away
    n = int(np.ceil(duration_s * SWAY_GRID_HZ)) + 2
    total = n + warm

    def axis(rms_mm: float, tau_s: float) -> np.ndarray:
        x = _ou_noise(total, dt_s, tau_s, rng) + 0.35 * _unit_rms(
            _lowpass_noise(total, dt_s, 0.8, rng)
        )
        return rms_mm * _unit_rms(x[warm:])

    ml = axis(ml_rms_mm, 1.6)
    ap = axis(ap_rms_mm, 2.2)
    fz = fz_rms_frac * _unit_rms(_lowpass_noise(total, dt_s, 3.0, rng)[warm:])
    return Sway(dt_s=dt_s, ml_mm=ml, ap_mm=ap, fz_frac=fz)


@dataclass(frozen=True, eq=False)
class PersonMotion:
    """Total vertical force and CoP of whatever stands on the plate, as functions of time.

    Attributes
    ----------
    paths : dict[str, SmoothPath]
        ``presence`` (0 = plate empty, 1 = whole weight on it; transients overshoot),
        ``mass_kg`` (mass carried, body plus a held kettlebell), ``com_m`` (centre-of-mass
        height relative to standing), ``cop_x_mm`` and ``cop_y_mm`` (CoP without sway),
        ``sway_gain`` (scale of the CoP sway).
    sway : Sway or None
        Added to the CoP and force whenever something is on the plate; None for a dead
        weight (calibration mass).
    clock : callable or None
        The script's time at scenario times (None: the same). A person who follows what a
        screen shows waits for it: their script runs late by as much as the screen does
        (hardware/drill_people.py). The sway runs on scenario time.
    """

    paths: dict[str, SmoothPath]
    sway: Sway | None
    clock: Callable[[np.ndarray], np.ndarray] | None = None

    def _script_s(self, t_s: np.ndarray) -> np.ndarray:
        return t_s if self.clock is None else np.asarray(self.clock(t_s), dtype=float)

    def fz_n(self, t_s: np.ndarray) -> np.ndarray:
        """Total vertical force in newtons at ``t_s`` (never negative)."""
        t_s = np.asarray(t_s, dtype=float)
        tau = self._script_s(t_s)
        presence = self.paths["presence"].value(tau)
        mass = self.paths["mass_kg"].value(tau)
        fz = mass * (G_M_S2 * presence + self.paths["com_m"].accel(tau))
        if self.sway is not None:
            fz = fz + mass * G_M_S2 * np.clip(presence, 0.0, 1.0) * self.sway.at(t_s)[2]
        return np.where(presence > 1e-6, np.maximum(fz, 0.0), 0.0)

    def cop_mm(self, t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """CoP x (ML) and y (AP) in plate millimetres; NaN where the plate is empty."""
        t_s = np.asarray(t_s, dtype=float)
        tau = self._script_s(t_s)
        x = self.paths["cop_x_mm"].value(tau)
        y = self.paths["cop_y_mm"].value(tau)
        if self.sway is not None:
            ml, ap, _ = self.sway.at(t_s)
            gain = self.paths["sway_gain"].value(tau)
            x = x + gain * ml
            y = y + gain * ap
        empty = self.paths["presence"].value(tau) <= 1e-6
        return np.where(empty, np.nan, x), np.where(empty, np.nan, y)


def _rectangle_corners(cells_mm: np.ndarray) -> tuple[float, float, float, float] | None:
    """x_min, x_max, y_min, y_max if four cells sit at the corners of an axis-aligned box."""
    if cells_mm.shape[0] != 4:
        return None
    xs, ys = np.unique(cells_mm[:, 0]), np.unique(cells_mm[:, 1])
    if xs.size != 2 or ys.size != 2:
        return None
    corners = {(float(x), float(y)) for x, y in cells_mm}
    if len(corners) != 4:
        return None
    return float(xs[0]), float(xs[1]), float(ys[0]), float(ys[1])


def cell_forces_n(
    fz_n: np.ndarray, x_mm: np.ndarray, y_mm: np.ndarray, plate: PlateGeometry
) -> np.ndarray:
    """Per-cell forces (N, n) that sum to ``fz_n`` with their CoP exactly at (x_mm, y_mm).

    Four cells at the corners of a rectangle share the load bilinearly,
    F_i = Fz * w_x(x) * w_y(y), the statically consistent split of a rigid top on four
    supports. Any other layout gets the least-norm forces meeting the same three equations
    (total force and both moments), which can be negative near the edges.

    Parameters
    ----------
    fz_n : (N,) float
        Total vertical force; 0 where the plate is empty (the CoP may then be NaN).
    x_mm, y_mm : (N,) float
        Centre of pressure in plate coordinates.
    plate : PlateGeometry
        Where the cells are.
    """
    fz_n = np.asarray(fz_n, dtype=float)
    loaded = fz_n > 0
    x = np.where(loaded, np.nan_to_num(np.asarray(x_mm, dtype=float)), 0.0)
    y = np.where(loaded, np.nan_to_num(np.asarray(y_mm, dtype=float)), 0.0)
    cells = plate.cells_mm
    box = _rectangle_corners(cells)
    if box is not None:
        x0, x1, y0, y1 = box
        wx_hi = (x - x0) / (x1 - x0)
        wy_hi = (y - y0) / (y1 - y0)
        wx = np.where(cells[:, 0] == x1, wx_hi[:, None], 1.0 - wx_hi[:, None])
        wy = np.where(cells[:, 1] == y1, wy_hi[:, None], 1.0 - wy_hi[:, None])
        return fz_n[:, None] * wx * wy
    a = np.vstack([np.ones(cells.shape[0]), cells[:, 0], cells[:, 1]])  # (3, n)
    rhs = np.vstack([fz_n, fz_n * x, fz_n * y])  # (3, N)
    return (np.linalg.pinv(a) @ rhs).T
