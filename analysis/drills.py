"""Weight-shift drills: their plans, live feedback state and scores (Qt-free).

Four drills (docs/drills.md gives the definitions, formulas and sources):

- ``lateral``: the person's own lateral range is measured first (or given, e.g. from a
  ``limits`` result), then target bands appear left or right at a percentage of that range;
  each is to be reached and held for ``hold_s``. Scores per side and overall.
- ``rhythmic``: the target moves left-right (or front-back) at 3, 2 and 1 s per cycle, as in
  the NeuroCom rhythmic weight shift; scores per pace.
- ``limits``: lean toward 8 directions and hold, as in the NeuroCom limits of stability
  test; excursions as % of the theoretical limit from body height. The result gives a
  functional base of support for the hinge coaching's foot zones.
- ``weight``: in the bilateral stance, the share of weight on each foot with a +-7 % band.

A drill is a fixed plan of phases in drill time (seconds from its start), so a scripted
virtual person can follow it and the same plan is rebuilt from a recording. The start is
found in the data: the first moment a person has stood on the plate for
:data:`SETTLE_S`. :class:`DrillRun` is fed PlateSeries blocks as they arrive; each phase is
scored from its own samples once the data has passed its end, so a run fed a whole recorded
series gives the same result as one fed block by block (:func:`score_series`).

Coordinates: CoP x + right, y + forward (plate mm), always taken relative to the person's
standing baseline measured at the start of the drill.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import numpy as np
from scipy import signal

from analysis.stance import BaseOfSupport, StanceSetup
from daq.calibration import G_M_S2
from daq.errors import MidfootError
from daq.events import (
    DrillScored,
    DrillStarted,
    DrillTargetHit,
    DrillTargetShown,
    DrillTrialScored,
    Tared,
)
from daq.series import PlateSeries

DRILL_NAMES = ("lateral", "rhythmic", "limits", "weight")
DRILL_HELP = {
    "lateral": "shift into a band left or right of centre and hold it",
    "rhythmic": "follow a target moving side to side (or front-back) at 3, 2 and 1 s a cycle",
    "limits": "lean as far as you can toward 8 directions and hold (limits of stability)",
    "weight": "keep your weight even on both feet, within +-7 %",
}
LEVELS = ("easy", "medium", "hard")
# A person is on the plate above this load, and the drill starts once they have stood
# there for SETTLE_S (the same 20 kg the weigh-in waits for).
PERSON_MIN_KG = 20.0
SETTLE_S = 2.0
BASELINE_S = 2.0
RANGE_S = 4.0
CENTRE_S = 2.0
PACE_REST_S = 2.0
LEAN_S = 8.0  # NeuroCom limits of stability: 8 s per direction
LEAN_REST_S = 3.0
# Causal mean of the CoP that decides "inside the band" (what the person sees), and the
# moving mean a range is read from (a sustained lean, not a single sample).
BAND_MEAN_S = 0.1
RANGE_MEAN_S = 0.5
PRE_S = 0.5  # samples before a trial that its filters start on
LOWPASS_HZ = 6.0
# Movement onset from where the velocity crosses 10 % and 40 % of its peak (see
# movement_onset_s); the end of a primary movement where it falls below 5 %.
ONSET_LOW = 0.10
ONSET_HIGH = 0.40
ONSET_FRACTION = 0.05
ONSET_BACK_FRACTION = 0.5
REACTION_MIN_S = 0.15  # nobody reacts sooner: the velocity before it is standing drift
OVERSHOOT_AFTER_ENTRY_S = 1.0
DRIFT_STAY_S = 0.3  # inside this long, then out: drifting out (shorter: passing through)
# NeuroCom limits of stability (docs/drills.md): the centre of gravity at 0.5527 of body
# height, and the theoretical limits of the sway envelope, 12.5 deg front to back (8 deg
# forward, 4.5 deg backward) and 16 deg side to side (8 deg each way).
COG_HEIGHT_FRACTION = 0.5527
LIMIT_FORWARD_DEG = 8.0
LIMIT_BACKWARD_DEG = 4.5
LIMIT_LATERAL_DEG = 8.0
# NeuroCom order: forward, forward-right, right, back-right, back, back-left, left,
# forward-left (0 deg forward, 90 deg right).
LIMIT_DIRECTIONS = (
    ("forward", 0.0),
    ("forward-right", 45.0),
    ("right", 90.0),
    ("backward-right", 135.0),
    ("backward", 180.0),
    ("backward-left", 225.0),
    ("left", 270.0),
    ("forward-left", 315.0),
)
ASYMMETRY_FLAG_PCT = 20.0
SUCCESS_GAP_FLAG = 0.25

# Per level: lateral target (% of range), band width (% of range), hold (s); rhythmic
# amplitude (% of range); weight band (+- % of body weight).
LEVEL_DEFAULTS: dict[str, dict[str, float]] = {
    "easy": {"target_pct": 50.0, "band_pct": 30.0, "hold_s": 1.0, "amplitude_pct": 40.0,
             "weight_band_pct": 10.0},
    "medium": {"target_pct": 70.0, "band_pct": 20.0, "hold_s": 2.0, "amplitude_pct": 50.0,
               "weight_band_pct": 7.0},
    "hard": {"target_pct": 85.0, "band_pct": 12.0, "hold_s": 3.0, "amplitude_pct": 65.0,
             "weight_band_pct": 5.0},
}


@dataclass(frozen=True)
class DrillSettings:
    """What a drill asks of the person: its name, difficulty and timing.

    ``None`` fields take the level's default (:data:`LEVEL_DEFAULTS`); :meth:`resolved`
    fills them in. Text form (``to_text``/``from_text``) is ``key=value`` pairs joined by
    commas, for a ``sim://`` URL and the command line.

    Attributes
    ----------
    drill : str
        One of :data:`DRILL_NAMES`.
    level : str
        ``easy``, ``medium`` or ``hard``.
    target_pct : float or None
        Lateral: target centre as % of the measured range on that side.
    band_pct : float or None
        Lateral: band width as % of the range (rhythmic: the tracking band shown).
    hold_s : float or None
        Lateral: seconds to hold inside the band.
    targets : int
        Lateral: number of targets (split between the sides).
    order : str
        Lateral: ``alternate`` (left first) or ``random`` (balanced, seeded).
    timing : str
        Lateral: ``fixed`` rests of ``rest_s`` or ``random`` rests (0.5-1.5 x ``rest_s``).
    rest_s : float
        Lateral: back at the centre between targets.
    time_limit_s : float
        Lateral: time to reach a target; the target stays ``time_limit_s + hold_s``.
    axis : str
        Rhythmic: ``ml`` (left-right) or ``ap`` (front-back).
    cycle_s : tuple of float
        Rhythmic: seconds per cycle of each pace.
    cycles : int
        Rhythmic: cycles per pace.
    amplitude_pct : float or None
        Rhythmic: target amplitude as % of the range on each side.
    range_left_mm, range_right_mm : float or None
        The person's range on the negative and positive side of the axis (left/right, or
        back/forward for ``ap``); measured at the start of the drill when not given.
    height_m : float
        Limits: body height, for the theoretical limits of stability.
    duration_s : float
        Weight: how long the distribution is shown and scored.
    weight_band_pct : float or None
        Weight: +- band around 50 % on each foot.
    seed : int
        Seed of the random order and timing.
    """

    drill: str
    level: str = "medium"
    target_pct: float | None = None
    band_pct: float | None = None
    hold_s: float | None = None
    targets: int = 8
    order: str = "alternate"
    timing: str = "fixed"
    rest_s: float = 2.0
    time_limit_s: float = 4.0
    axis: str = "ml"
    cycle_s: tuple[float, ...] = (3.0, 2.0, 1.0)
    cycles: int = 4
    amplitude_pct: float | None = None
    range_left_mm: float | None = None
    range_right_mm: float | None = None
    height_m: float = 1.75
    duration_s: float = 30.0
    weight_band_pct: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        _check(self.drill in DRILL_NAMES, f"there is no drill {self.drill!r}: use one of "
               f"{', '.join(DRILL_NAMES)}")
        _check(self.level in LEVELS, f"level must be one of {', '.join(LEVELS)}")
        _check(self.order in ("alternate", "random"), "order must be alternate or random")
        _check(self.timing in ("fixed", "random"), "timing must be fixed or random")
        _check(self.axis in ("ml", "ap"), "axis must be ml (left-right) or ap (front-back)")
        _check(1 <= int(self.targets) <= 100, "targets must be between 1 and 100")
        _check(1 <= int(self.cycles) <= 50, "cycles must be between 1 and 50")
        cycle = tuple(float(c) for c in self.cycle_s)
        _check(bool(cycle) and all(0.5 <= c <= 20.0 for c in cycle),
               "each pace must be 0.5 to 20 s per cycle")
        object.__setattr__(self, "cycle_s", cycle)
        for name, lo, hi in (
            ("target_pct", 10.0, 100.0), ("band_pct", 2.0, 80.0), ("hold_s", 0.2, 30.0),
            ("amplitude_pct", 10.0, 100.0), ("weight_band_pct", 1.0, 25.0),
            ("range_left_mm", 10.0, 400.0), ("range_right_mm", 10.0, 400.0),
        ):
            value = getattr(self, name)
            if value is not None:
                _check(lo <= float(value) <= hi, f"{name} must be between {lo:g} and {hi:g}")
        _check(0.0 <= self.rest_s <= 30.0, "rest_s must be between 0 and 30 s")
        _check(0.5 <= self.time_limit_s <= 30.0, "time_limit_s must be between 0.5 and 30 s")
        _check(0.8 <= self.height_m <= 2.5, "height_m must be between 0.8 and 2.5 m")
        _check(5.0 <= self.duration_s <= 3600.0, "duration_s must be between 5 s and 1 h")
        _check((self.range_left_mm is None) == (self.range_right_mm is None),
               "give both range_left_mm and range_right_mm, or neither")

    def resolved(self) -> DrillSettings:
        """These settings with every level default filled in."""
        defaults = LEVEL_DEFAULTS[self.level]
        changes = {k: v for k, v in defaults.items() if getattr(self, k) is None}
        return replace(self, **changes)

    @property
    def range_given(self) -> bool:
        """Whether the range was given, so no range phases are run."""
        return self.range_left_mm is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (lists for tuples)."""
        out = asdict(self)
        out["cycle_s"] = list(self.cycle_s)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DrillSettings:
        """Settings from :meth:`to_dict` (unknown keys are a MidfootError)."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        _check(not unknown, f"drill settings do not take {', '.join(unknown)}")
        kwargs = dict(data)
        if "cycle_s" in kwargs and kwargs["cycle_s"] is not None:
            kwargs["cycle_s"] = tuple(float(c) for c in kwargs["cycle_s"])
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise MidfootError(f"drill settings are not valid: {exc}") from None

    def to_text(self) -> str:
        """``key=value,...`` of the fields that differ from the defaults (with ``drill``)."""
        base = DrillSettings(self.drill)
        parts = [f"drill={self.drill}"]
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "drill" or value == getattr(base, f.name):
                continue
            text = "/".join(f"{c:g}" for c in value) if f.name == "cycle_s" else (
                f"{value:g}" if isinstance(value, float) else str(value)
            )
            parts.append(f"{f.name}={text}")
        return ",".join(parts)

    @classmethod
    def from_text(cls, text: str) -> DrillSettings:
        """Settings from :meth:`to_text` (MidfootError naming what is wrong)."""
        types = {f.name: str(f.type) for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, sep, value = part.partition("=")
            _check(bool(sep) and key in types, f"drill setting {part!r} is not key=value of "
                   f"{', '.join(types)}")
            kind = types[key]
            try:
                if key == "cycle_s":
                    kwargs[key] = tuple(float(v) for v in value.split("/"))
                elif kind.startswith("float"):
                    kwargs[key] = float(value)
                elif kind.startswith("int"):
                    kwargs[key] = int(value)
                else:
                    kwargs[key] = value
            except ValueError:
                raise MidfootError(f"drill setting {key}={value!r} is not a number") from None
        _check("drill" in kwargs, "drill settings must name the drill (drill=lateral)")
        return cls(**kwargs)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise MidfootError(message)


# -- the plan ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phase:
    """One stretch of a drill with one instruction, in drill seconds.

    Attributes
    ----------
    kind : str
        ``baseline``, ``range``, ``centre``, ``target``, ``track``, ``lean`` or ``weight``.
    t0_s, t1_s : float
        Start and end, seconds from the drill's start.
    side : int
        -1 (left / back) or +1 (right / forward) for range and target phases; 0 otherwise.
    index : int
        Trial number among the phases of its kind (-1 for the others).
    label : str
        ``left``, ``right``, ``3 s per cycle``, ``forward-right``, ...
    cycle_s : float
        Seconds per cycle of a track phase (NaN otherwise).
    direction_deg : float
        Lean direction of a limits phase (0 forward, 90 right; NaN otherwise).
    """

    kind: str
    t0_s: float
    t1_s: float
    side: int = 0
    index: int = -1
    label: str = ""
    cycle_s: float = math.nan
    direction_deg: float = math.nan

    @property
    def scored(self) -> bool:
        """Whether this phase is a trial with scores."""
        return self.kind in ("target", "track", "lean", "weight")


def side_names(axis: str) -> tuple[str, str]:
    """Names of the negative and positive side of ``axis``."""
    return ("left", "right") if axis == "ml" else ("backward", "forward")


def drill_plan(settings: DrillSettings) -> list[Phase]:
    """The phases of a drill, in order, from its (resolved) settings.

    Parameters
    ----------
    settings : DrillSettings
        The drill; random order and timing come from its ``seed``.

    Returns
    -------
    list of Phase
        Back to back from 0 s; the drill ends at the last phase's ``t1_s``.
    """
    s = settings.resolved()
    rng = np.random.default_rng([int(s.seed), zlib.crc32(s.drill.encode())])
    phases = [Phase("baseline", 0.0, BASELINE_S)]
    t = BASELINE_S
    axis = "ml" if s.drill == "lateral" else s.axis
    if s.drill in ("lateral", "rhythmic") and not s.range_given:
        for side, name in zip((-1, 1), side_names(axis), strict=True):
            phases.append(Phase("range", t, t + RANGE_S, side=side, label=name))
            phases.append(Phase("centre", t + RANGE_S, t + RANGE_S + CENTRE_S))
            t += RANGE_S + CENTRE_S
    if s.drill == "lateral":
        n = int(s.targets)
        sides = [(-1 if i % 2 == 0 else 1) for i in range(n)]
        if s.order == "random":
            sides = [int(v) for v in rng.permutation(sides)]
        hold = float(s.hold_s)
        for i, side in enumerate(sides):
            t1 = t + s.time_limit_s + hold
            phases.append(Phase("target", t, t1, side=int(side), index=i,
                                label=side_names("ml")[side > 0]))
            rest = s.rest_s if s.timing == "fixed" else float(rng.uniform(0.5, 1.5)) * s.rest_s
            rest = max(rest, 0.5)
            phases.append(Phase("centre", t1, t1 + rest))
            t = t1 + rest
    elif s.drill == "rhythmic":
        for i, cycle in enumerate(s.cycle_s):
            t1 = t + cycle * int(s.cycles)
            phases.append(Phase("track", t, t1, index=i, label=f"{cycle:g} s per cycle",
                                cycle_s=float(cycle)))
            phases.append(Phase("centre", t1, t1 + PACE_REST_S))
            t = t1 + PACE_REST_S
    elif s.drill == "limits":
        for i, (name, deg) in enumerate(LIMIT_DIRECTIONS):
            phases.append(Phase("lean", t, t + LEAN_S, index=i, label=name, direction_deg=deg))
            phases.append(Phase("centre", t + LEAN_S, t + LEAN_S + LEAN_REST_S))
            t += LEAN_S + LEAN_REST_S
    else:
        phases.append(Phase("weight", t, t + s.duration_s, index=0, label="both feet even"))
    return phases


def theoretical_limit_mm(direction_deg: float, height_m: float) -> float:
    """The theoretical limit of stability toward ``direction_deg``, as a CoP distance in mm.

    The sway angle limits (8 deg forward, 4.5 back, 8 to each side) are joined by an
    ellipse for the diagonals and turned into a distance at the centre of gravity's height
    (:data:`COG_HEIGHT_FRACTION` of body height).
    """
    theta = math.radians(direction_deg)
    ap = LIMIT_FORWARD_DEG if math.cos(theta) >= 0 else LIMIT_BACKWARD_DEG
    a = math.radians(LIMIT_LATERAL_DEG)
    b = math.radians(ap)
    angle = 1.0 / math.sqrt((math.sin(theta) / a) ** 2 + (math.cos(theta) / b) ** 2)
    return 1000.0 * COG_HEIGHT_FRACTION * height_m * math.tan(angle)


def foot_shares_pct(x_mm: np.ndarray, stance_width_mm: float) -> tuple[np.ndarray, np.ndarray]:
    """Percent of the weight on the left and the right foot, from the CoP's x (lever rule).

    With the feet's centre lines at -w/2 and +w/2, the right foot carries
    (x + w/2) / w of the load. Clipped to 0-100 %.

    Parameters
    ----------
    x_mm : array_like
        CoP x in plate mm (+ right).
    stance_width_mm : float
        Distance between the feet's centre lines.
    """
    w = max(float(stance_width_mm), 1.0)
    right = np.clip(100.0 * (np.asarray(x_mm, dtype=float) + w / 2.0) / w, 0.0, 100.0)
    return 100.0 - right, right


# -- signal helpers (deterministic on a slice, so live and offline agree) ---------------------


def _rate_hz(t_s: np.ndarray) -> float:
    if t_s.shape[0] < 2:
        return 80.0
    step = float(np.median(np.diff(t_s)))
    return 1.0 / step if step > 0 else 80.0


def causal_mean(x: np.ndarray, n: int) -> np.ndarray:
    """The mean of the last ``n`` samples at each sample (fewer at the start)."""
    x = np.asarray(x, dtype=float)
    if x.size == 0:
        return x
    n = max(1, int(n))
    c = np.cumsum(np.concatenate([[0.0], x]))
    idx = np.arange(1, x.size + 1)
    lo = np.maximum(idx - n, 0)
    return (c[idx] - c[lo]) / (idx - lo)


def _centred_mean(x: np.ndarray, n: int) -> np.ndarray:
    n = max(1, int(n))
    if x.size < n:
        return np.full(x.shape, float(np.mean(x)) if x.size else np.nan)
    kernel = np.ones(n) / n
    return np.convolve(x, kernel, mode="same")


def _lowpass(x: np.ndarray, rate_hz: float) -> np.ndarray:
    """Zero-phase 2nd-order Butterworth at :data:`LOWPASS_HZ` (plain copy if too short)."""
    cutoff = min(LOWPASS_HZ, 0.4 * rate_hz)
    if x.size < 16 or cutoff <= 0:
        return np.asarray(x, dtype=float).copy()
    b, a = signal.butter(2, cutoff, fs=rate_hz)
    return signal.filtfilt(b, a, x, padlen=min(3 * max(len(a), len(b)), x.size - 1))


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) index of each run of True."""
    f = np.concatenate([[False], np.asarray(flags, dtype=bool), [False]])
    d = np.diff(f.astype(np.int8))
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1) - 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _crossing_time(t: np.ndarray, v: np.ndarray, k: int, thr: float) -> float:
    """Time between samples k-1 and k where v crosses ``thr`` upward (interpolated)."""
    if k <= 0:
        return float(t[0])
    dv = v[k] - v[k - 1]
    frac = 0.0 if dv == 0 else float(np.clip((thr - v[k - 1]) / dv, 0.0, 1.0))
    return float(t[k - 1] + frac * (t[k] - t[k - 1]))


def movement_onset_s(t_s: np.ndarray, d_mm: np.ndarray, t_from_s: float,
                     distance_mm: float) -> tuple[float, int, float]:
    """Onset of the first movement toward a target after ``t_from_s``.

    The movement is the first to cover 30 % of ``distance_mm``; its peak velocity is the
    highest within 0.5 s after that. Less the speed of any standing drift toward the
    target (its median over the first :data:`REACTION_MIN_S`), the velocity last rose
    through :data:`ONSET_LOW` of the peak at t_lo and then through :data:`ONSET_HIGH` at
    t_hi; a rise from rest grows as the square of time, so the line through sqrt(speed)
    at those two times meets zero at t_lo - (t_hi - t_lo). The onset is taken
    :data:`ONSET_BACK_FRACTION` of the way back: t_lo - (t_hi - t_lo) / 2.

    Returns
    -------
    onset_s : float
        NaN when no movement toward the target was found.
    peak_index : int
        Index of the peak velocity (-1 when none).
    peak_mm_s : float
        The peak velocity.
    """
    rate = _rate_hz(t_s)
    smooth = _lowpass(d_mm, rate)
    v = np.gradient(smooth, t_s) if t_s.size > 1 else np.zeros_like(smooth)
    after = t_s >= t_from_s
    if not after.any():
        return math.nan, -1, math.nan
    i0 = int(np.flatnonzero(after)[0])
    reach = np.flatnonzero(smooth[i0:] >= 0.3 * distance_mm)
    if reach.size == 0:
        return math.nan, -1, math.nan
    i30 = i0 + int(reach[0])
    i_end = int(np.searchsorted(t_s, t_s[i30] + 0.5))
    i_end = max(min(i_end, t_s.size), i30 + 1)
    i_peak = i0 + int(np.argmax(v[i0:i_end]))
    peak = float(v[i_peak])
    if not peak > 0:
        return math.nan, -1, math.nan
    # A slow standing drift toward the target before any reaction (the first
    # REACTION_MIN_S) is not the movement: its speed is taken off.
    early = (t_s >= t_from_s) & (t_s < t_from_s + REACTION_MIN_S)
    drift = max(0.0, float(np.median(v[early]))) if early.any() else 0.0
    rise = v - drift
    top = peak - drift
    if not top > 0:
        return math.nan, -1, math.nan
    lo_thr, hi_thr = ONSET_LOW * top, ONSET_HIGH * top
    below = np.flatnonzero(rise[i0 : i_peak + 1] < lo_thr)
    k_lo = i0 + int(below[-1]) + 1 if below.size else i0
    t_lo = _crossing_time(t_s, rise, k_lo, lo_thr)
    above = np.flatnonzero(rise[k_lo : i_peak + 1] >= hi_thr)
    k_hi = k_lo + int(above[0]) if above.size else i_peak
    t_hi = _crossing_time(t_s, rise, k_hi, hi_thr)
    # A movement from rest starts with its speed growing as the square of time (bell-shaped
    # velocity profiles, e.g. minimum jerk), so sqrt(speed) is a line in time through the
    # onset; with the 10 % and 40 % crossings it meets zero at t_lo - (t_hi - t_lo). Sway
    # on the slow start pulls that early, a threshold alone is late: the onset is taken
    # half way back (on a minimum-jerk move 3 % of its duration after the true start).
    onset = t_lo - ONSET_BACK_FRACTION * (t_hi - t_lo) * math.sqrt(ONSET_LOW) / (
        math.sqrt(ONSET_HIGH) - math.sqrt(ONSET_LOW)
    )
    return max(onset, float(t_from_s)), i_peak, peak


def _finite_mean(values: list[float]) -> float:
    vals = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.mean(vals)) if vals else math.nan


def json_ready(value: Any) -> Any:
    """``value`` with NaN and infinities as None and numpy scalars as Python numbers."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


# -- one trial's scores -----------------------------------------------------------------------


@dataclass(frozen=True)
class BandHold:
    """How the person did against one band: entry, hold and drifting out.

    Attributes
    ----------
    entered_s : float
        First time inside the band (NaN: never).
    held_s : float
        When the hold was complete (NaN: never held for the whole hold time).
    drift_outs : int
        Times the person left the band after a stay of at least :data:`DRIFT_STAY_S`,
        before the hold was complete.
    inside_now : bool
        Inside at the last sample.
    holding_for_s : float
        Seconds of the current stay inside (0 when outside).
    best_i : tuple of int
        First and last index of the stay the hold sway is read from (-1, -1 if none).
    """

    entered_s: float
    held_s: float
    drift_outs: int
    inside_now: bool
    holding_for_s: float
    best_i: tuple[int, int]


def band_hold(t_s: np.ndarray, d_band_mm: np.ndarray, t_from_s: float, centre_mm: float,
              half_width_mm: float, hold_s: float) -> BandHold:
    """Entry, hold and drift-outs of a band, on the causally smoothed CoP ``d_band_mm``."""
    after = t_s >= t_from_s
    inside = after & (np.abs(d_band_mm - centre_mm) <= half_width_mm)
    runs = _runs(inside)
    dt = 1.0 / _rate_hz(t_s)
    entered = float(t_s[runs[0][0]]) if runs else math.nan
    held = math.nan
    outs = 0
    best = (-1, -1)
    best_len = -1.0
    for a, b in runs:
        length = float(t_s[b] - t_s[a]) + dt
        if length >= hold_s - 1e-9:
            held = float(t_s[a]) + hold_s
            stop = int(np.searchsorted(t_s, held))
            best = (a, max(a, min(b, stop - 1)))
            break
        if length > best_len:
            best_len, best = length, (a, b)
        # Leaving after a real stay is drifting out; passing through (an overshoot) is not.
        if b < t_s.size - 1 and length >= DRIFT_STAY_S:
            outs += 1
    inside_now = bool(inside[-1]) if inside.size else False
    holding = 0.0
    if inside_now and runs:
        a, b = runs[-1]
        holding = float(t_s[b] - t_s[a]) + dt
    return BandHold(entered, held, outs, inside_now, holding, best)


def score_target(t_s: np.ndarray, d_mm: np.ndarray, shown_s: float, centre_mm: float,
                 half_width_mm: float, hold_s: float) -> dict[str, Any]:
    """Scores of one lateral target from its samples (``d_mm`` toward the target side).

    Parameters
    ----------
    t_s : (N,) ndarray
        Sample times, from :data:`PRE_S` before ``shown_s`` to the target's end.
    d_mm : (N,) ndarray
        CoP displacement from the baseline toward the target's side (mm).
    shown_s : float
        When the target appeared.
    centre_mm, half_width_mm : float
        The band, as a distance from the baseline toward the target's side.
    hold_s : float
        Seconds to hold.

    Returns
    -------
    dict
        ``reaction_time_s``, ``time_to_target_s``, ``overshoot_mm``, ``overshoot_pct``,
        ``hold_sway_mm``, ``success``, ``drift_outs``, ``held_s``, ``distance_mm``.
    """
    rate = _rate_hz(t_s)
    d_band = causal_mean(d_mm, round(BAND_MEAN_S * rate))
    hold = band_hold(t_s, d_band, shown_s, centre_mm, half_width_mm, hold_s)
    onset, _, _ = movement_onset_s(t_s, d_mm, shown_s, centre_mm)
    smooth = _lowpass(d_mm, rate)
    stop_s = (hold.entered_s + OVERSHOOT_AFTER_ENTRY_S) if math.isfinite(hold.entered_s) else (
        math.inf
    )
    window = (t_s >= shown_s) & (t_s <= stop_s)
    over = max(0.0, float(np.max(smooth[window])) - centre_mm) if window.any() else math.nan
    a, b = hold.best_i
    sway = float(np.sqrt(np.mean((d_mm[a : b + 1] - np.mean(d_mm[a : b + 1])) ** 2))) if (
        a >= 0
    ) else math.nan
    return {
        "distance_mm": centre_mm,
        "reaction_time_s": onset - shown_s if math.isfinite(onset) else math.nan,
        "time_to_target_s": hold.entered_s - shown_s,
        "overshoot_mm": over,
        "overshoot_pct": 100.0 * over / centre_mm if centre_mm > 0 else math.nan,
        "hold_sway_mm": sway,
        "success": bool(math.isfinite(hold.held_s)),
        "drift_outs": int(hold.drift_outs),
        "held_after_s": hold.held_s - shown_s,
    }


def score_track(t_s: np.ndarray, on_mm: np.ndarray, off_mm: np.ndarray,
                target_mm: np.ndarray, t0_s: float, cycle_s: float) -> dict[str, Any]:
    """Scores of one rhythmic pace from its samples (skipping the first half cycle).

    ``on_mm`` is the displacement along the drill's axis, ``off_mm`` across it and
    ``target_mm`` the moving target, all from the baseline.

    Returns
    -------
    dict
        ``on_axis_velocity_mm_s`` (mean speed along the axis), ``directional_control_pct``
        (100 (on-axis path - off-axis path) / on-axis path), ``tracking_error_mm`` (RMS of
        CoP minus target along the axis), ``amplitude_pct`` (excursion against the
        target's), ``lag_s`` (the delay that best lines the CoP up with the target),
        ``negative_excursion_mm`` and ``positive_excursion_mm``.
    """
    rate = _rate_hz(t_s)
    on = _lowpass(on_mm, rate)
    off = _lowpass(off_mm, rate)
    keep = t_s >= t0_s + 0.5 * cycle_s
    if keep.sum() < 4:
        return {}
    on_k, off_k, tgt_k, t_k = on[keep], off[keep], target_mm[keep], t_s[keep]
    on_path = float(np.sum(np.abs(np.diff(on_k))))
    off_path = float(np.sum(np.abs(np.diff(off_k))))
    duration = float(t_k[-1] - t_k[0])
    err = on_k - tgt_k
    # The lag: the shift of the target (within half a cycle) that matches the CoP best.
    lags = np.arange(0, int(0.5 * cycle_s * rate) + 1)
    full_t = t_s
    best_lag, best_err = 0.0, math.inf
    for k in lags:
        shifted = np.interp(t_k - k / rate, full_t, target_mm)
        e = float(np.mean((on_k - shifted) ** 2))
        if e < best_err:
            best_err, best_lag = e, k / rate
    tgt_pp = float(np.max(tgt_k) - np.min(tgt_k))
    neg = float(-np.percentile(on_k, 2))
    pos = float(np.percentile(on_k, 98))
    return {
        "cycle_s": cycle_s,
        "on_axis_velocity_mm_s": on_path / duration if duration > 0 else math.nan,
        "directional_control_pct": 100.0 * (on_path - off_path) / on_path if on_path > 0
        else math.nan,
        "tracking_error_mm": float(np.sqrt(np.mean(err * err))),
        "amplitude_pct": 100.0 * (pos + neg) / tgt_pp if tgt_pp > 0 else math.nan,
        "lag_s": best_lag,
        "negative_excursion_mm": neg,
        "positive_excursion_mm": pos,
    }


def score_lean(t_s: np.ndarray, p_mm: np.ndarray, q_mm: np.ndarray, shown_s: float,
               limit_mm: float) -> dict[str, Any]:
    """Scores of one limits-of-stability direction from its samples.

    ``p_mm`` is the CoP's displacement from the baseline toward the direction and
    ``q_mm`` across it.

    Returns
    -------
    dict
        ``reaction_time_s``, ``movement_velocity_mm_s`` and ``movement_velocity_pct_s``
        (between 5 % and 95 % of the endpoint), ``endpoint_excursion_pct`` (the end of the
        primary movement) and ``maximum_excursion_pct`` (the furthest point), both of the
        theoretical limit, ``directional_control_pct``, ``endpoint_mm``, ``maximum_mm``,
        ``limit_mm``.
    """
    rate = _rate_hz(t_s)
    p = _lowpass(p_mm, rate)
    q = _lowpass(q_mm, rate)
    after = t_s >= shown_s
    out: dict[str, Any] = {"limit_mm": limit_mm}
    if not after.any():
        return out
    i0 = int(np.flatnonzero(after)[0])
    out["maximum_mm"] = float(np.max(p[i0:]))
    out["maximum_excursion_pct"] = 100.0 * out["maximum_mm"] / limit_mm
    # The primary movement: whatever the person reached, the first 30 % of it starts it.
    onset, i_peak, peak = movement_onset_s(t_s, p_mm, shown_s, max(out["maximum_mm"], 1.0))
    if not math.isfinite(onset):
        return out
    v = np.gradient(p, t_s)
    slow = np.flatnonzero(v[i_peak:] < ONSET_FRACTION * peak)
    i_end = i_peak + int(slow[0]) if slow.size else t_s.size - 1
    endpoint = float(p[i_end])
    i_on = int(np.searchsorted(t_s, onset))
    seg = slice(i_on, i_end + 1)
    on_path = float(np.sum(np.abs(np.diff(p[seg]))))
    off_path = float(np.sum(np.abs(np.diff(q[seg]))))
    base = float(p[i_on]) if i_on < p.size else 0.0
    lo = np.flatnonzero(p[i_on : i_end + 1] >= base + 0.05 * (endpoint - base))
    hi = np.flatnonzero(p[i_on : i_end + 1] >= base + 0.95 * (endpoint - base))
    velocity = math.nan
    if lo.size and hi.size and hi[0] > lo[0]:
        velocity = 0.9 * (endpoint - base) / float(t_s[i_on + hi[0]] - t_s[i_on + lo[0]])
    out.update(
        reaction_time_s=onset - shown_s,
        movement_velocity_mm_s=velocity,
        movement_velocity_pct_s=100.0 * velocity / limit_mm,
        endpoint_mm=endpoint,
        endpoint_excursion_pct=100.0 * endpoint / limit_mm,
        directional_control_pct=100.0 * (on_path - off_path) / on_path if on_path > 0
        else math.nan,
    )
    return out


def score_weight(t_s: np.ndarray, right_pct: np.ndarray, band_pct: float) -> dict[str, Any]:
    """Scores of a weight-distribution stretch: mean shares, time in band, worst deviation."""
    if t_s.size == 0:
        return {}
    rate = _rate_hz(t_s)
    r = causal_mean(right_pct, round(0.25 * rate))
    inside = np.abs(r - 50.0) <= band_pct
    runs = _runs(~inside)
    longest = max(((t_s[b] - t_s[a]) + 1.0 / rate for a, b in runs), default=0.0)
    mean_right = float(np.mean(right_pct))
    return {
        "mean_right_pct": mean_right,
        "mean_left_pct": 100.0 - mean_right,
        "time_in_band_pct": 100.0 * float(np.mean(inside)),
        "max_deviation_pct": float(np.max(np.abs(r - 50.0))),
        "longest_out_s": float(longest),
        "band_pct": band_pct,
        "heavier_side": None if abs(mean_right - 50.0) <= band_pct
        else ("right" if mean_right > 50.0 else "left"),
    }


# -- the result -------------------------------------------------------------------------------


@dataclass
class DrillResult:
    """A drill's scores: overall, per side (or pace, direction) and per trial.

    Attributes
    ----------
    drill : str
        Its name.
    settings : dict
        The resolved settings it ran with.
    completed : bool
        Whether the whole plan ran (False when stopped early: the trials done are scored).
    start_s : float
        Plate time of the drill's start (NaN if it never started).
    baseline_mm : tuple of float
        Standing CoP (x, y) the drill measured from.
    range_mm : tuple of float
        Negative- and positive-side range along the axis (lateral, rhythmic).
    trials : list of dict
        One per scored trial: ``index``, ``label`` and its scores.
    scores : dict
        The summary: overall, ``per_side`` / ``per_pace`` / ``per_direction``, asymmetry.
    """

    drill: str
    settings: dict[str, Any]
    completed: bool = False
    start_s: float = math.nan
    baseline_mm: tuple[float, float] = (math.nan, math.nan)
    range_mm: tuple[float, float] = (math.nan, math.nan)
    trials: list[dict[str, Any]] = field(default_factory=list)
    scores: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (NaN as null)."""
        return json_ready(
            {
                "drill": self.drill,
                "completed": self.completed,
                "start_s": self.start_s,
                "baseline_mm": list(self.baseline_mm),
                "range_mm": list(self.range_mm),
                "settings": self.settings,
                "scores": self.scores,
                "trials": self.trials,
            }
        )

    def headlines(self) -> list[str]:
        """The headline scores, one short line each (a window's results, a report)."""
        s = self.scores
        if self.drill == "lateral":
            weak = s.get("asymmetry", {}).get("weaker_side")
            return [
                f"{_fmt(s.get('success'), '{:.0%}')} of targets held",
                f"reaction {_fmt(s.get('reaction_time_s'), '{:.2f} s')}",
                f"time to target {_fmt(s.get('time_to_target_s'), '{:.2f} s')}",
                f"overshoot {_fmt(s.get('overshoot_pct'), '{:.0f} %')}",
                f"weaker side {weak}" if weak else "sides even",
            ]
        if self.drill == "rhythmic":
            if not s.get("per_pace"):
                return ["no pace completed"]
            return [
                f"directional control {_fmt(s.get('directional_control_pct'), '{:.0f} %')}",
                f"tracking error {_fmt(s.get('tracking_error_mm'), '{:.0f} mm')}",
                f"on-axis speed {_fmt(s.get('on_axis_velocity_mm_s'), '{:.0f} mm/s')}",
                f"lag {_fmt(s.get('lag_s'), '{:.2f} s')}",
            ]
        if self.drill == "limits":
            return [
                f"reaction {_fmt(s.get('reaction_time_s'), '{:.2f} s')}",
                f"endpoint {_fmt(s.get('endpoint_excursion_pct'), '{:.0f} %')}",
                f"max {_fmt(s.get('maximum_excursion_pct'), '{:.0f} %')}",
                f"DCL {_fmt(s.get('directional_control_pct'), '{:.0f} %')}",
            ]
        return [
            f"left {_fmt(s.get('mean_left_pct'), '{:.0f} %')} / right "
            f"{_fmt(s.get('mean_right_pct'), '{:.0f} %')}",
            f"in band {_fmt(s.get('time_in_band_pct'), '{:.0f} %')} of the time",
        ]

    def summary_text(self) -> str:
        """The headline scores on one line."""
        lines = self.headlines()
        if self.drill == "lateral":
            lines = [f"{lines[0]}", *lines[1:]]
        return f"{self.drill}: " + ", ".join(lines)

    def base_of_support(self) -> BaseOfSupport | None:
        """Limits: the functional base of support the 8 maximum excursions span (plate mm).

        Hinge coaching places its foot zones inside it (``StanceSetup.base_of_support``).
        """
        if self.drill != "limits" or not self.trials:
            return None
        x0, y0 = self.baseline_mm
        pts = []
        for trial in self.trials:
            reach = trial.get("maximum_mm")
            deg = trial.get("direction_deg")
            if reach is None or deg is None or not math.isfinite(reach):
                continue
            th = math.radians(deg)
            pts.append((x0 + reach * math.sin(th), y0 + reach * math.cos(th)))
        if len(pts) < 3:
            return None
        arr = np.array(pts)
        from scipy.spatial import ConvexHull  # only here: limits results are rare

        try:
            hull = arr[ConvexHull(arr).vertices]
        except Exception:  # noqa: BLE001 - degenerate (collinear) reaches: no hull
            return None
        return BaseOfSupport(
            x_min_mm=float(arr[:, 0].min()), x_max_mm=float(arr[:, 0].max()),
            y_min_mm=float(arr[:, 1].min()), y_max_mm=float(arr[:, 1].max()), hull_mm=hull,
        )

    def lateral_range_mm(self) -> tuple[float, float] | None:
        """Limits: the left and right maximum excursions, for a lateral drill's targets."""
        if self.drill != "limits":
            return None
        by = {t.get("label"): t.get("maximum_mm") for t in self.trials}
        left, right = by.get("left"), by.get("right")
        if left is None or right is None or not (left > 0 and right > 0):
            return None
        return float(left), float(right)


def _fmt(value: object, pattern: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return pattern.format(value)


def result_from_dict(data: dict[str, Any]) -> DrillResult:
    """A :class:`DrillResult` from :meth:`DrillResult.to_dict` (e.g. a --json file)."""
    try:
        return DrillResult(
            drill=str(data["drill"]),
            settings=dict(data.get("settings") or {}),
            completed=bool(data.get("completed")),
            start_s=float(data.get("start_s") or math.nan),
            baseline_mm=tuple(math.nan if v is None else float(v)
                              for v in data.get("baseline_mm") or (None, None)),
            range_mm=tuple(math.nan if v is None else float(v)
                           for v in data.get("range_mm") or (None, None)),
            trials=list(data.get("trials") or []),
            scores=dict(data.get("scores") or {}),
        )
    except (KeyError, TypeError, ValueError):
        raise MidfootError("that is not a midfoot drill result (no drill, or damaged)") from None


def _side_summary(trials: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("reaction_time_s", "time_to_target_s", "overshoot_mm", "overshoot_pct",
            "hold_sway_mm")
    out: dict[str, Any] = {k: _finite_mean([t.get(k, math.nan) for t in trials]) for k in keys}
    out["success"] = float(np.mean([bool(t.get("success")) for t in trials])) if trials else (
        math.nan
    )
    out["drift_outs"] = int(sum(int(t.get("drift_outs", 0)) for t in trials))
    out["targets"] = len(trials)
    return out


def _asymmetry_pct(left: float, right: float) -> float:
    """100 (right - left) / mean of the two; NaN when either is missing."""
    if not (math.isfinite(left) and math.isfinite(right)) or left + right == 0:
        return math.nan
    return 100.0 * (right - left) / (0.5 * (left + right))


def lateral_asymmetry(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    """Left against right of a lateral drill, and which side is weaker (None if even).

    A side is weaker when it held a quarter of the targets fewer, or (successes even) took
    :data:`ASYMMETRY_FLAG_PCT` longer to reach its targets than the other.
    """
    ttt = _asymmetry_pct(left["time_to_target_s"], right["time_to_target_s"])
    rt = _asymmetry_pct(left["reaction_time_s"], right["reaction_time_s"])
    gap = right["success"] - left["success"] if (
        math.isfinite(left["success"]) and math.isfinite(right["success"])
    ) else math.nan
    weaker = None
    if math.isfinite(gap) and abs(gap) >= SUCCESS_GAP_FLAG:
        weaker = "left" if gap > 0 else "right"
    elif math.isfinite(ttt) and abs(ttt) >= ASYMMETRY_FLAG_PCT:
        weaker = "right" if ttt > 0 else "left"
    return {
        "time_to_target_pct": ttt,
        "reaction_time_pct": rt,
        "success_difference": gap,
        "weaker_side": weaker,
        "flag_pct": ASYMMETRY_FLAG_PCT,
    }


def track_target_mm(t_s: np.ndarray, shown_s: float, cycle_s: float,
                    range_mm: tuple[float, float], amplitude_pct: float) -> np.ndarray:
    """The rhythmic drill's moving target along its axis, from the baseline (mm).

    One function for the live drill, its scores and a review of the recording, so all three
    draw and score the same target.

    Parameters
    ----------
    t_s : array_like
        Plate times (s).
    shown_s : float
        When the pace began (the target is at 0 and moves toward + first).
    cycle_s : float
        Seconds per cycle.
    range_mm : tuple of float
        The person's range on the negative and positive side.
    amplitude_pct : float
        The target's amplitude as % of the range on each side.

    Returns
    -------
    ndarray
        The target at each time (mm, + right or forward).
    """
    tau = np.asarray(t_s, dtype=float) - shown_s
    wave = np.sin(2.0 * np.pi * tau / cycle_s)
    amp = np.where(wave >= 0, range_mm[1], range_mm[0]) * amplitude_pct / 100.0
    return amp * wave


# -- the live run -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DrillView:
    """What every drill view draws right now (all distances from the baseline, mm).

    Attributes
    ----------
    drill : str
        The drill's name.
    state : str
        ``waiting`` (for a person to stand on the plate), ``running`` or ``done``.
    phase : str
        The current phase's kind ('' before the start).
    instruction : str
        What to do, in words.
    axis : str
        ``ml`` or ``ap``: what ``cursor_mm`` and the band are along.
    cursor_mm : float
        The CoP along the axis (NaN when unknown).
    cursor_xy_mm : tuple of float
        The CoP (x, y).
    target_mm, half_width_mm : float
        The band along the axis (NaN: none shown).
    direction_deg : float
        Limits: the direction to lean (NaN otherwise).
    inside : bool
        The CoP is in the band.
    hold_fraction : float
        0-1: how much of the hold is done (the ring).
    cue : str
        A short warning ('' when none): drifting out, off the plate.
    time_left_s : float
        Seconds left in this phase.
    progress : tuple of int
        Trials done and trials in all.
    right_pct : float
        Weight drill: % of the weight on the right foot (NaN otherwise).
    band_pct : float
        Weight drill: the +- band.
    range_mm : tuple of float
        Negative and positive range (NaN until measured).
    last_trial : str
        The last trial's scores in words.
    hits : int
        Targets held so far (a view sounds a cue when it grows).
    """

    drill: str
    state: str = "waiting"
    phase: str = ""
    instruction: str = "step onto the plate and stand still"
    axis: str = "ml"
    cursor_mm: float = math.nan
    cursor_xy_mm: tuple[float, float] = (math.nan, math.nan)
    target_mm: float = math.nan
    half_width_mm: float = math.nan
    direction_deg: float = math.nan
    inside: bool = False
    hold_fraction: float = 0.0
    cue: str = ""
    time_left_s: float = math.nan
    progress: tuple[int, int] = (0, 0)
    right_pct: float = math.nan
    band_pct: float = math.nan
    range_mm: tuple[float, float] = (math.nan, math.nan)
    last_trial: str = ""
    hits: int = 0


class DrillRun:
    """One drill fed with plate data as it arrives, block by block.

    Parameters
    ----------
    settings : DrillSettings
        The drill and its difficulty.
    stance : StanceSetup, optional
        The person's stance (the weight drill's feet; recorded with the drill).
    start_s : float, optional
        Plate time the drill started at, when it is known (rescoring a recording whose
        ``drill-start`` event says when the live drill started); by default it is found in
        the samples, :data:`SETTLE_S` after the person is seen on the plate.
    not_before_s : float
        Ignore samples before this plate time (a drill of a sequence starts after the one
        before it ended).

    Notes
    -----
    :meth:`feed` returns the recorded events (``daq.events`` drill kinds) the block
    produced; :meth:`view` is the feedback now; :attr:`result` the scores so far.
    """

    def __init__(self, settings: DrillSettings, stance: StanceSetup | None = None,
                 start_s: float | None = None, not_before_s: float = -math.inf) -> None:
        self.settings = settings.resolved()
        self.stance = stance or StanceSetup()
        self.plan = drill_plan(self.settings)
        self.duration_s = self.plan[-1].t1_s
        self.axis = "ml" if self.settings.drill in ("lateral", "weight") else (
            "ml" if self.settings.drill == "limits" else self.settings.axis
        )
        self.start_s = math.nan
        self._given_start_s = math.nan if start_s is None else float(start_s)
        self.not_before_s = float(not_before_s)
        self._run_from: float | None = None  # first time of the current on-plate stretch
        self._t_buf = np.empty(0)
        self._fz_buf = np.empty(0)
        self._xy_buf = np.empty((0, 2))
        self._n = 0
        self._next = 0  # next phase to finish
        self._shown = 0  # phases announced so far
        self.baseline_mm: tuple[float, float] = (math.nan, math.nan)
        self.range_mm: list[float] = (
            [float(self.settings.range_left_mm), float(self.settings.range_right_mm)]
            if self.settings.range_given else [math.nan, math.nan]
        )
        self.trials: list[dict[str, Any]] = []
        self.hits = 0
        self._hit_announced: set[int] = set()
        self.finished = False
        self.last_t_s = math.nan

    # -- data in ----------------------------------------------------------------------------
    def feed(self, block: PlateSeries) -> list[object]:
        """Take one block; the drill events it produced (to record), in time order."""
        if self.finished or len(block) == 0:
            return []
        ok = block.valid & np.isfinite(block.fz_n) & (block.t_s >= self.not_before_s)
        t = block.t_s[ok]
        fz = block.fz_n[ok]
        xy = block.cop_mm[ok]
        if t.size == 0:
            return []
        self.last_t_s = float(t[-1])
        events: list[object] = []
        if not math.isfinite(self.start_s):
            if math.isfinite(self._given_start_s):
                if t[-1] >= self._given_start_s:
                    self.start_s = self._given_start_s
            else:
                self._find_start(t, fz)
            if not math.isfinite(self.start_s):
                self._keep(t, fz, xy, keep_s=SETTLE_S + 1.0)
                return []
            events.append(self._started_event())
        self._keep(t, fz, xy, keep_s=None)
        events += self._advance()
        return events

    def finish(self) -> list[object]:
        """End the drill now (the data ended, or the person stopped): the final events."""
        if self.finished:
            return []
        events = self._advance() if math.isfinite(self.start_s) else []
        if not self.finished:
            self.finished = True
            events.append(self._scored_event())
        return events

    def _find_start(self, t: np.ndarray, fz: np.ndarray) -> None:
        """Set :attr:`start_s` at the first sample that completes SETTLE_S on the plate."""
        on = fz >= PERSON_MIN_KG * G_M_S2
        runs = _runs(on)
        for a, b in runs:
            # A stretch running on from the previous block started where that one did.
            first = self._run_from if a == 0 and self._run_from is not None else float(t[a])
            done = np.flatnonzero(t[a : b + 1] - first >= SETTLE_S)
            if done.size:
                self.start_s = float(t[a + int(done[0])])
                return
        if runs and runs[-1][1] == on.size - 1:
            a = runs[-1][0]
            self._run_from = self._run_from if a == 0 and self._run_from is not None else (
                float(t[a])
            )
        else:
            self._run_from = None

    def _keep(self, t: np.ndarray, fz: np.ndarray, xy: np.ndarray, keep_s: float | None) -> None:
        """Append samples to the drill's buffer (growing by doubling: no copy per block)."""
        n = t.shape[0]
        if self._n + n > self._t_buf.shape[0]:
            size = max(1024, 2 * (self._n + n))
            for name, width in (("_t_buf", None), ("_fz_buf", None), ("_xy_buf", 2)):
                old = getattr(self, name)
                new = np.empty((size,) if width is None else (size, width))
                new[: self._n] = old[: self._n]
                setattr(self, name, new)
        self._t_buf[self._n : self._n + n] = t
        self._fz_buf[self._n : self._n + n] = fz
        self._xy_buf[self._n : self._n + n] = xy
        self._n += n
        if keep_s is not None:
            # Before the start only the last seconds matter.
            cut = int(np.searchsorted(self._t_buf[: self._n], self._t_buf[self._n - 1] - keep_s))
            if cut > 0:
                m = self._n - cut
                self._t_buf[:m] = self._t_buf[cut : self._n]
                self._fz_buf[:m] = self._fz_buf[cut : self._n]
                self._xy_buf[:m] = self._xy_buf[cut : self._n]
                self._n = m

    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = self._n
        return self._t_buf[:n], self._fz_buf[:n], self._xy_buf[:n]

    def _slice(self, t0_s: float, t1_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        t, fz, xy = self._arrays()
        i0 = int(np.searchsorted(t, t0_s, side="left"))
        i1 = int(np.searchsorted(t, t1_s, side="left"))
        t, fz, xy = t[i0:i1], fz[i0:i1], xy[i0:i1]
        on = (fz >= PERSON_MIN_KG * G_M_S2) & np.all(np.isfinite(xy), axis=1)
        return t[on], fz[on], xy[on]

    # -- phases -----------------------------------------------------------------------------
    def _advance(self) -> list[object]:
        events: list[object] = []
        t_now = self.last_t_s - self.start_s
        while self._shown < len(self.plan) and self.plan[self._shown].t0_s <= t_now:
            # A phase is announced once the phases before it are finished.
            while self._next < self._shown:
                events += self._finish_phase(self.plan[self._next])
                self._next += 1
            events.append(self._shown_event(self.plan[self._shown]))
            self._shown += 1
        while self._next < len(self.plan) and self.plan[self._next].t1_s <= t_now:
            events += self._finish_phase(self.plan[self._next])
            self._next += 1
        events += self._live_hits()
        if self._next >= len(self.plan):
            self.finished = True
            events.append(self._scored_event())
        return events

    def _finish_phase(self, phase: Phase) -> list[object]:
        t0 = self.start_s + phase.t0_s
        t1 = self.start_s + phase.t1_s
        t, _, xy = self._slice(t0 - (PRE_S if phase.scored else 0.0), t1)
        if phase.kind == "baseline":
            if t.size:
                self.baseline_mm = (float(np.median(xy[:, 0])), float(np.median(xy[:, 1])))
            return []
        if phase.kind == "range":
            on, _ = self._axes(xy)
            if on.size:
                n = round(RANGE_MEAN_S * _rate_hz(t))
                reach = float(np.max(phase.side * _centred_mean(on, n)))
                self.range_mm[0 if phase.side < 0 else 1] = max(reach, 10.0)
            return []
        if not phase.scored:
            return []
        scores = self._score_phase(phase, t, xy)
        trial = {"index": phase.index, "label": phase.label, "kind": phase.kind, **scores}
        if phase.kind == "lean":
            trial["direction_deg"] = phase.direction_deg
        self.trials.append(json_ready(trial))
        events: list[object] = []
        if phase.kind == "target" and scores.get("success") and (
            phase.index not in self._hit_announced
        ):
            events.append(self._hit_event(phase, scores["held_after_s"] + t0,
                                          scores["time_to_target_s"] + t0))
        return [*events, DrillTrialScored(
            drill=self.settings.drill, index=phase.index, label=phase.label,
            scores=json_ready(scores), text=trial_text(self.settings.drill, phase.label, scores),
            t_s=t1,
        )]

    def _axes(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Displacement from the baseline along and across the drill's axis."""
        dx = xy[:, 0] - self.baseline_mm[0]
        dy = xy[:, 1] - self.baseline_mm[1]
        return (dx, dy) if self.axis == "ml" else (dy, dx)

    def band_of(self, phase: Phase) -> tuple[float, float]:
        """A lateral target's centre and half width (mm from the baseline, toward its side)."""
        s = self.settings
        r = self.range_mm[0 if phase.side < 0 else 1]
        return s.target_pct / 100.0 * r, s.band_pct / 200.0 * r

    def track_target_mm(self, phase: Phase, t_s: np.ndarray) -> np.ndarray:
        """The rhythmic target along the axis at plate times ``t_s`` (starts at 0, goes +)."""
        return track_target_mm(t_s, self.start_s + phase.t0_s, phase.cycle_s,
                               (self.range_mm[0], self.range_mm[1]),
                               float(self.settings.amplitude_pct))

    def _score_phase(self, phase: Phase, t: np.ndarray, xy: np.ndarray) -> dict[str, Any]:
        shown = self.start_s + phase.t0_s
        if t.size < 8 or not math.isfinite(self.baseline_mm[0]):
            return {"success": False} if phase.kind == "target" else {}
        on, off = self._axes(xy)
        if phase.kind == "target":
            centre, half = self.band_of(phase)
            return score_target(t, phase.side * on, shown, centre, half, self.settings.hold_s)
        if phase.kind == "track":
            keep = t >= shown
            return score_track(t[keep], on[keep], off[keep],
                               self.track_target_mm(phase, t[keep]), shown, phase.cycle_s)
        if phase.kind == "lean":
            th = math.radians(phase.direction_deg)
            dx = xy[:, 0] - self.baseline_mm[0]
            dy = xy[:, 1] - self.baseline_mm[1]
            p = dx * math.sin(th) + dy * math.cos(th)
            q = dx * math.cos(th) - dy * math.sin(th)
            limit = theoretical_limit_mm(phase.direction_deg, self.settings.height_m)
            return score_lean(t, p, q, shown, limit)
        keep = t >= shown
        _, right = foot_shares_pct(xy[keep, 0], self.stance.stance_width_mm)
        return score_weight(t[keep], right, self.settings.weight_band_pct)

    def _live_hits(self) -> list[object]:
        """A hit event as soon as the current target's hold is complete (the sound cue)."""
        phase = self.current_phase()
        if phase is None or phase.kind != "target" or phase.index in self._hit_announced:
            return []
        shown = self.start_s + phase.t0_s
        t, _, xy = self._slice(shown - PRE_S, math.inf)
        if t.size < 2:
            return []
        on, _ = self._axes(xy)
        centre, half = self.band_of(phase)
        d_band = causal_mean(phase.side * on, round(BAND_MEAN_S * _rate_hz(t)))
        hold = band_hold(t, d_band, shown, centre, half, self.settings.hold_s)
        if not math.isfinite(hold.held_s):
            return []
        return [self._hit_event(phase, hold.held_s, hold.entered_s)]

    def _hit_event(self, phase: Phase, held_s: float, entered_s: float) -> DrillTargetHit:
        self._hit_announced.add(phase.index)
        self.hits += 1
        return DrillTargetHit(
            drill=self.settings.drill, index=phase.index, label=phase.label,
            entered_s=entered_s, held_s=held_s,
            text=f"{phase.label} target held for {self.settings.hold_s:g} s", t_s=held_s,
        )

    def current_phase(self) -> Phase | None:
        """The phase at the newest sample (None before the start or after the end)."""
        if not math.isfinite(self.start_s) or self._shown == 0:
            return None
        phase = self.plan[self._shown - 1]
        tau = self.last_t_s - self.start_s
        return phase if phase.t0_s <= tau < phase.t1_s else None

    # -- events -----------------------------------------------------------------------------
    def _started_event(self) -> DrillStarted:
        return DrillStarted(
            drill=self.settings.drill, settings=json_ready(self.settings.to_dict()),
            stance=self.stance.stance, start_s=self.start_s,
            text=f"{self.settings.drill} drill ({self.settings.level}) started",
            t_s=self.start_s,
        )

    def _shown_event(self, phase: Phase) -> DrillTargetShown:
        centre = half = math.nan
        if phase.kind == "target":
            c, half = self.band_of(phase)
            centre = phase.side * c
        return DrillTargetShown(
            drill=self.settings.drill, index=phase.index, phase=phase.kind, label=phase.label,
            shown_s=self.start_s + phase.t0_s, until_s=self.start_s + phase.t1_s,
            centre_mm=centre, half_width_mm=half, direction_deg=phase.direction_deg,
            text=self.instruction(phase), t_s=self.start_s + phase.t0_s,
        )

    def _scored_event(self) -> DrillScored:
        result = self.result
        return DrillScored(
            drill=self.settings.drill, result=result.to_dict(), completed=result.completed,
            text=result.summary_text(), t_s=self.last_t_s,
        )

    def instruction(self, phase: Phase) -> str:
        """What the person is asked to do in ``phase``, in words."""
        s = self.settings
        match phase.kind:
            case "baseline":
                return "stand still, weight in the middle"
            case "range":
                return f"shift {phase.label} as far as you can, feet flat, and hold"
            case "centre":
                return "back to the middle"
            case "target":
                return f"shift {phase.label} into the band and hold {s.hold_s:g} s"
            case "track":
                what = "side to side" if self.axis == "ml" else "forward and back"
                return f"follow the target {what}: {phase.label}"
            case "lean":
                return f"lean {phase.label} as far as you can, and hold"
            case _:
                return f"keep your weight even on both feet (+-{s.weight_band_pct:g} %)"

    # -- out --------------------------------------------------------------------------------
    @property
    def result(self) -> DrillResult:
        """The scores of the trials finished so far."""
        s = self.settings
        trials = list(self.trials)
        scores: dict[str, Any] = {}
        if s.drill == "lateral":
            left = _side_summary([t for t in trials if t["label"] == "left"])
            right = _side_summary([t for t in trials if t["label"] == "right"])
            scores = {**_side_summary(trials), "per_side": {"left": left, "right": right},
                      "asymmetry": lateral_asymmetry(left, right)}
        elif s.drill == "rhythmic":
            keys = ("on_axis_velocity_mm_s", "directional_control_pct", "tracking_error_mm",
                    "amplitude_pct", "lag_s")
            scores = {k: _finite_mean([t.get(k, math.nan) for t in trials]) for k in keys}
            scores["per_pace"] = {t["label"]: {k: v for k, v in t.items()
                                               if k not in ("index", "label", "kind")}
                                  for t in trials}
            neg = _finite_mean([t.get("negative_excursion_mm", math.nan) for t in trials])
            pos = _finite_mean([t.get("positive_excursion_mm", math.nan) for t in trials])
            names = side_names(self.axis)
            scores["excursion_mm"] = {names[0]: neg, names[1]: pos}
            scores["excursion_asymmetry_pct"] = _asymmetry_pct(neg, pos)
        elif s.drill == "limits":
            keys = ("reaction_time_s", "movement_velocity_mm_s", "movement_velocity_pct_s",
                    "endpoint_excursion_pct", "maximum_excursion_pct", "directional_control_pct")
            scores = {k: _finite_mean([t.get(k, math.nan) for t in trials]) for k in keys}
            scores["per_direction"] = {t["label"]: {k: t.get(k) for k in (*keys, "limit_mm")}
                                       for t in trials}
            scores["height_m"] = s.height_m
        elif trials:
            scores = {k: v for k, v in trials[0].items() if k not in ("index", "label", "kind")}
        return DrillResult(
            drill=s.drill, settings=json_ready(s.to_dict()),
            completed=self._next >= len(self.plan), start_s=self.start_s,
            baseline_mm=self.baseline_mm, range_mm=(self.range_mm[0], self.range_mm[1]),
            trials=trials, scores=json_ready(scores),
        )

    def view(self) -> DrillView:
        """The feedback to draw now (computed from the newest samples)."""
        s = self.settings
        n_trials = sum(1 for p in self.plan if p.scored)
        progress = (len(self.trials), n_trials)
        base = DrillView(drill=s.drill, axis=self.axis, progress=progress,
                         range_mm=(self.range_mm[0], self.range_mm[1]), hits=self.hits,
                         band_pct=float(s.weight_band_pct or math.nan),
                         last_trial=self._last_trial_text())
        if self.finished:
            return replace(base, state="done", instruction=self.result.summary_text())
        if not math.isfinite(self.start_s):
            return base
        phase = self.current_phase()
        t, _, xy = self._slice(self.last_t_s - 0.6, math.inf)
        if t.size == 0:
            return replace(base, state="running", cue="step back onto the plate",
                           phase=phase.kind if phase else "")
        n = round(BAND_MEAN_S * _rate_hz(t))
        x_now = float(causal_mean(xy[:, 0], n)[-1])
        y_now = float(causal_mean(xy[:, 1], n)[-1])
        if not math.isfinite(self.baseline_mm[0]):
            # The baseline is being measured: show the cursor about the current mean.
            bx, by = float(np.mean(xy[:, 0])), float(np.mean(xy[:, 1]))
        else:
            bx, by = self.baseline_mm
        dx, dy = x_now - bx, y_now - by
        cursor = dx if self.axis == "ml" else dy
        view = replace(base, state="running", cursor_mm=cursor, cursor_xy_mm=(dx, dy))
        if phase is None:
            return view
        tau = self.last_t_s - self.start_s
        view = replace(view, phase=phase.kind, instruction=self.instruction(phase),
                       time_left_s=phase.t1_s - tau, direction_deg=phase.direction_deg)
        if phase.kind == "target":
            centre, half = self.band_of(phase)
            shown = self.start_s + phase.t0_s
            tt, _, txy = self._slice(shown - PRE_S, math.inf)
            on, _ = self._axes(txy)
            d_band = causal_mean(phase.side * on, round(BAND_MEAN_S * _rate_hz(tt)))
            hold = band_hold(tt, d_band, shown, centre, half, s.hold_s)
            held = phase.index in self._hit_announced
            cue = ""
            if not hold.inside_now and math.isfinite(hold.entered_s) and not held:
                cue = "drifting out: back into the band"
            return replace(
                view, target_mm=phase.side * centre, half_width_mm=half,
                inside=hold.inside_now,
                hold_fraction=1.0 if held else min(1.0, hold.holding_for_s / s.hold_s),
                cue=cue,
            )
        if phase.kind == "track":
            target = float(self.track_target_mm(phase, np.array([self.last_t_s]))[0])
            half = s.band_pct / 200.0 * float(np.nanmean(self.range_mm))
            return replace(view, target_mm=target, half_width_mm=half,
                           inside=abs(cursor - target) <= half)
        if phase.kind == "weight":
            _, right = foot_shares_pct(np.array([x_now]), self.stance.stance_width_mm)
            r = float(right[0])
            inside = abs(r - 50.0) <= s.weight_band_pct
            cue = "" if inside else f"too much on the {'right' if r > 50 else 'left'} foot"
            return replace(view, right_pct=r, inside=inside, cue=cue)
        return view

    def _last_trial_text(self) -> str:
        if not self.trials:
            return ""
        last = self.trials[-1]
        return trial_text(self.settings.drill, str(last.get("label", "")), last)


def trial_text(drill: str, label: str, s: dict[str, Any]) -> str:
    """One trial's scores in words (``s`` as in :attr:`DrillResult.trials`)."""
    if drill == "lateral":
        if s.get("success"):
            return (f"{label}: held; reaction {_fmt(s.get('reaction_time_s'), '{:.2f} s')}"
                    f", reached in {_fmt(s.get('time_to_target_s'), '{:.2f} s')}, overshoot "
                    f"{_fmt(s.get('overshoot_mm'), '{:.0f} mm')}")
        return f"{label}: not held"
    if drill == "rhythmic":
        return (f"{label}: DCL {_fmt(s.get('directional_control_pct'), '{:.0f} %')}, "
                f"error {_fmt(s.get('tracking_error_mm'), '{:.0f} mm')}, lag "
                f"{_fmt(s.get('lag_s'), '{:.2f} s')}")
    if drill == "limits":
        return (f"{label}: max {_fmt(s.get('maximum_excursion_pct'), '{:.0f} %')}, "
                f"endpoint {_fmt(s.get('endpoint_excursion_pct'), '{:.0f} %')}, reaction "
                f"{_fmt(s.get('reaction_time_s'), '{:.2f} s')}")
    return (f"left {_fmt(s.get('mean_left_pct'), '{:.0f} %')} / right "
            f"{_fmt(s.get('mean_right_pct'), '{:.0f} %')}, in band "
            f"{_fmt(s.get('time_in_band_pct'), '{:.0f} %')}")


# -- the main scores across sessions --------------------------------------------------------

# The scores a drill's history follows, per side: (drill, trial score, label, unit, scale).
# A trial's side is its label (lateral and limits: left / right); each trial is one value,
# so the athlete's trial-to-trial noise (analysis/athlete_history.py) comes with it.
HISTORY_SCORES = (
    ("lateral", "time_to_target_s", "time to target", "s", 1.0),
    ("lateral", "reaction_time_s", "reaction time", "s", 1.0),
    ("lateral", "success", "targets held", "%", 100.0),
    ("limits", "maximum_excursion_pct", "maximum excursion", "%", 1.0),
)


@dataclass(frozen=True)
class HistoryScore:
    """One trial's value of a score a drill's history follows.

    Attributes
    ----------
    key : str
        ``drill:DRILL:SCORE:SIDE`` (``drill:lateral:time_to_target_s:left``).
    label : str
        In words (``lateral time to target, left``).
    unit : str
        ``s`` or ``%``.
    drill, score, side : str
        What it is a value of.
    value : float
        The trial's value (a held target 100 %, a missed one 0 %).
    """

    key: str
    label: str
    unit: str
    drill: str
    score: str
    side: str
    value: float


def history_scores(result: dict[str, Any]) -> list[HistoryScore]:
    """The per-side trial values of a drill result (:meth:`DrillResult.to_dict`) to follow.

    Trials without a value (a target never reached has no time to target) are left out,
    as the drill's own per-side means leave them out.
    """
    drill = str(result.get("drill", ""))
    out = []
    for trial in result.get("trials") or []:
        side = str(trial.get("label", ""))
        if side not in ("left", "right"):
            continue
        for name, score, label, unit, scale in HISTORY_SCORES:
            if name != drill:
                continue
            value = trial.get(score)
            if isinstance(value, bool):
                value = float(value)
            if not isinstance(value, int | float) or not math.isfinite(value):
                continue
            out.append(HistoryScore(
                key=f"drill:{drill}:{score}:{side}", label=f"{drill} {label}, {side}",
                unit=unit, drill=drill, score=score, side=side, value=scale * float(value),
            ))
    return out


# -- a whole recorded series ------------------------------------------------------------------


def drill_starts(series: PlateSeries) -> list[tuple[DrillStarted, DrillSettings]]:
    """Every drill a recording carries, in order: its ``drill-start`` event and settings.

    A drill whose stored settings are not valid settings is left out.
    """
    out = []
    for event in series.events:
        if isinstance(event, DrillStarted):
            try:
                out.append((event, DrillSettings.from_dict(dict(event.settings))))
            except MidfootError:
                continue
    return out


def drill_settings_of(series: PlateSeries) -> DrillSettings | None:
    """The settings of the first drill a recording carries (None: no drill in it)."""
    found = drill_starts(series)
    return found[0][1] if found else None


def recorded_stance(series: PlateSeries) -> StanceSetup:
    """The stance a recording was made in, with its feet (bilateral when it names none)."""
    foot = {k: v for k, v in series.meta.foot.items() if v is not None and v == v}
    return StanceSetup(series.meta.stance or "bilateral", **foot) if (
        (series.meta.stance or "bilateral") in ("bilateral", "kickstand-left",
                                                "kickstand-right")
    ) else StanceSetup()


def score_series(series: PlateSeries, settings: DrillSettings | None = None,
                 stance: StanceSetup | None = None, start_s: float | None = None,
                 end_s: float = math.inf) -> DrillResult:
    """Score a drill on a whole recorded series (the same result as it got live).

    Parameters
    ----------
    series : PlateSeries
        A recording (e.g. from ``daq.reader.read_recording``).
    settings : DrillSettings, optional
        The drill; by default the first one the recording's ``drill-start`` events name.
    stance : StanceSetup, optional
        The stance (default: the recording's, else bilateral).
    start_s : float, optional
        When the drill started (plate s). By default the start its ``drill-start`` event
        recorded, when ``settings`` are taken from it: the live drill started when it first
        saw the person settled, which hangs on when the start-up tare let it see the plate,
        so the rescoring takes that moment as stored rather than finding it again. Without
        either, it is found as live, from the first tare on.
    end_s : float
        Ignore samples from this plate time on (the next drill of a sequence).

    Raises
    ------
    MidfootError
        No settings given and the recording holds no drill.
    """
    if settings is None:
        found = drill_starts(series)
        if not found:
            raise MidfootError(
                "this recording holds no drill: name the drill to score it as one"
            )
        event, settings = found[0]
        if start_s is None and math.isfinite(event.start_s):
            start_s = float(event.start_s)
    if stance is None:
        stance = recorded_stance(series)
    # Live, a drill sees data only once the start-up tare is done: the same here.
    tares = [e.t_s for e in series.events if isinstance(e, Tared) and math.isfinite(e.t_s)]
    first = min(tares) if tares else -math.inf
    if start_s is not None:
        # Only a scored trial's lead-in (PRE_S) reaches before its own start.
        first = max(first, start_s - SETTLE_S - 1.0)
    run = DrillRun(settings, stance, start_s=start_s)
    run.feed(series.between(first, end_s))
    run.finish()
    return run.result
