"""Hinge reps: what one rep is, how it is measured from force and CoP, and how sets summarise.

The movement itself is read from the vertical force. Newton's second law gives the
centre-of-mass (CoM) acceleration, a = g (Fz / W - 1), and integrating twice gives the CoM
height. Drift is removed by the one fact every rep obeys: it starts and ends at rest, so
over a window from still standing to still standing the net impulse is zero and W is the
mean force over the window ("zero-impulse" integration). A kettlebell set down on the
floor at the bottom is not an acceleration: that stretch is cut out (the CoM is at rest
there) and measured on its own, which also weighs the person without the bell.

Timing follows from the CoM path. Near the bottom the path is flat, so its lowest sample
is a poor marker; instead the two times the path crosses 90 % of its depth are found, and
the bottom is their midpoint, corrected for a slow descent paired with a quick ascent (or
the reverse) with the geometry of a bell-shaped (minimum-jerk) velocity profile. Rep start
and lockout are extrapolated the same way from the 20 % and 90 % crossings. Reasons,
thresholds and measured accuracy are in docs/analysis-methods.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from analysis.stance import OFF_CODE, ZONE_NAMES, ZONES, StanceSetup
from daq.calibration import G_M_S2

FAULT_NAMES = ("heel_shift", "lateral_shift", "backward_lean")
CUES = {
    "heel_shift": "weight drifted onto your heels: keep it over the midfoot",
    "lateral_shift": "shift your hips toward the lead leg",
    "backward_lean": "finish tall: you leaned back at the top",
}
# Which muscles a hinge with the weight in each zone at the bottom loads most: over the
# midfoot the hips stay over the base and the glutes work; back on the heels the hips
# travel far behind and the hamstrings take the stretch; on the toes the knees have come
# forward and the hinge has turned into a squat.
BIAS_LABELS = {
    "heel": "hamstring-biased",
    "midfoot": "glute-biased",
    "forefoot": "quad-biased",
    "off": "unknown",
}

# Minimum-jerk progress s(tau) = 10 tau^3 - 15 tau^4 + 6 tau^5 reaches 20 % and 90 % of a
# move at these fractions of its duration (and, by symmetry, 80 % at 1 - TAU20).
TAU20 = 0.32660
TAU90 = 0.75336
# Part of the model's asymmetry correction of the bottom time that is applied: the phase
# durations come from noisy crossings, and a full correction amplifies that noise.
ASYMMETRY_SHRINK = 0.8
# The CoP "at the bottom" and "at lockout" are means over these half-widths: long enough to
# average tremor, short enough to stay inside a 0.1 s pause at the bottom.
BOTTOM_HALF_WINDOW_S = 0.15
LOCKOUT_HALF_WINDOW_S = 0.1
# A kettlebell set down reduces the force by the bell's weight for the whole pause at the
# bottom; the dips of a fast descent or ascent are as deep but last under 0.5 s.
SET_DOWN_DROP_FRACTION = 0.04
SET_DOWN_MIN_S = 0.6
# Touch-and-go: a bell that rests on the floor for as little as 0.1 s. Such a short drop
# looks like the dip of a descent or of a stall, so it counts only where the body cannot
# be accelerating down: braking force (above the weight by SET_DOWN_FLANK_FRACTION) within
# SET_DOWN_FLANK_S on both sides (the bottom of a descent and the push of the ascent), and
# the path it implies must have its lowest point at the set-down (within
# SET_DOWN_AT_BOTTOM of the depth), which a stall part-way down or up does not.
SHORT_SET_DOWN_MIN_S = 0.1
SET_DOWN_FLANK_FRACTION = 0.02
SET_DOWN_FLANK_S = 0.5
SET_DOWN_AT_BOTTOM = 0.15
# At slow tempo the braking into the bottom and the push out of it stay under 2 % of the
# weight (0.1-1.5 % in a 2.5 s descent), so the flank test above misses every rest. The
# flanks are then judged against the dip instead: a dip of the body's own motion is paid
# back by force above the weight within about a second (the impulse of a fast descent's dip
# by its braking), a bell on the floor is not (its weight is missing, not accelerating). A
# drop whose impulse below the weight is UNPAID_RATIO times or more the impulse above the
# weight within UNPAID_REACH_S on both sides is therefore a candidate too.
UNPAID_RATIO = 2.0
UNPAID_REACH_S = 1.0
# ... and only where the path without a set-down does not close to within this share of
# its depth (the +-25 % scatter of a real lockout's zero-impulse path, see hinge.py).
PLAIN_CLOSURE = 0.25
# A drop read as a set-down only because that closes the path: the body at rest on both
# sides, the force before and after it averaging the standing weight to within what would
# move the body at this speed (cells 10 % off misread the weight by ~0.3 % per 30 mm of
# CoP travel: 0.06 m/s over a 2 s ascent; a cut part-way through a movement 0.2-0.5 m/s).
SET_DOWN_REST_V_M_S = 0.25
# Stretch either side of a set-down treated as at rest (the bell's weight moving on or off
# the plate, not the body accelerating).
SET_DOWN_MARGIN_S = 0.1
# Loads below this are reported as bodyweight: the lightest kettlebells weigh 4 kg and the
# standing weight of a person wanders by about a kilogram over a session.
MIN_LOAD_KG = 2.0


@dataclass(frozen=True)
class Thresholds:
    """Fault and report thresholds; every default is justified in docs/analysis-methods.md.

    The heel-shift threshold is the heel|midfoot zone cut of the :class:`StanceSetup`.

    Attributes
    ----------
    lateral_shift_min_mm : float
        A kickstand rep whose CoP shifts less than this toward the lead leg at the bottom
        (mm from the standing baseline; negative = away) has ``lateral_shift``.
    backward_lean_mm : float
        A lockout CoP more than this posterior of the standing baseline (mm) has
        ``backward_lean``.
    asymmetry_flag_pct : float
        Left/right asymmetry index of the lateral shift (%) above which it is flagged.
    min_depth_m : float
        Smallest centre-of-mass drop counted as a hinge rep (m).
    """

    lateral_shift_min_mm: float = 10.0
    backward_lean_mm: float = 8.0
    asymmetry_flag_pct: float = 15.0
    min_depth_m: float = 0.05

    def to_dict(self) -> dict[str, float]:
        """JSON-ready form."""
        return {k: float(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Fault:
    """One fault of one rep, with the measured value that triggered it.

    Attributes
    ----------
    name : str
        ``heel_shift``, ``lateral_shift`` or ``backward_lean``.
    value : float
        The measurement, in ``unit``.
    threshold : float
        The limit it crossed, in ``unit``.
    unit : str
        Unit and sense of ``value`` and ``threshold``.
    cue : str
        What to tell the person.
    """

    name: str
    value: float
    threshold: float
    unit: str
    cue: str

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "value": round(float(self.value), 3),
            "threshold": float(self.threshold),
            "unit": self.unit,
            "cue": self.cue,
        }


@dataclass(frozen=True)
class Rep:
    """One hinge rep. Times are seconds on the analysed series' clock.

    Attributes
    ----------
    index : int
        0-based count of reps in this analyser (or file).
    start_s, bottom_s, lockout_s, end_s : float
        Descent begins; the bottom (middle of the lowest position, or of the set-down);
        standing tall again; the lockout hold ends (next movement, CoP leaves, or the
        series ends).
    stance : str
        Stance of the set.
    zone_at_bottom : str
        Zone of the (lead) foot under the CoP at the bottom.
    zone_fractions : dict[str, float]
        Fraction of the rep (start to lockout) the CoP spent in each zone (and "off").
    lateral_shift_mm : float or None
        Kickstand: CoP shift toward the lead foot at the bottom from the standing baseline
        (mm, + toward the lead foot); None when bilateral.
    lockout_shift_mm : float
        AP CoP at lockout minus the standing baseline (mm, + forward, - backward).
    lockout_hold_s : float or None
        How long the lockout was held still; None until the hold has ended.
    load_kg : float or None
        Load lifted (kettlebell); None when the body mass is unknown.
    faults : list[Fault]
        Faults found.
    depth_m : float
        Centre-of-mass drop.
    bottom_foot_fraction : float
        (Lead) foot CoP at the bottom as a fraction of the zoned AP range from the heel.
    set_down : bool
        The load was put on the floor at the bottom.
    back_foot_fraction : float
        Share of weight on the back foot used for the lead-foot estimate (0 bilateral).
    """

    index: int
    start_s: float
    bottom_s: float
    lockout_s: float
    end_s: float
    stance: str
    zone_at_bottom: str
    zone_fractions: dict[str, float]
    lateral_shift_mm: float | None
    lockout_shift_mm: float
    lockout_hold_s: float | None
    load_kg: float | None
    faults: list[Fault] = field(default_factory=list)
    depth_m: float = 0.0
    bottom_foot_fraction: float = float("nan")
    set_down: bool = False
    back_foot_fraction: float = 0.0

    @property
    def descent_s(self) -> float:
        """Start to bottom, s."""
        return self.bottom_s - self.start_s

    @property
    def ascent_s(self) -> float:
        """Bottom to lockout, s."""
        return self.lockout_s - self.bottom_s

    @property
    def fault_names(self) -> list[str]:
        """Names of the faults, in :data:`FAULT_NAMES` order."""
        names = {f.name for f in self.faults}
        return [n for n in FAULT_NAMES if n in names]

    @property
    def bias(self) -> str:
        """``glute-biased`` (midfoot), ``hamstring-biased`` (heel) or ``quad-biased``."""
        return BIAS_LABELS.get(self.zone_at_bottom, "unknown")

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (keys of ``midfoot analyse --json``)."""

        def r(x: float | None, nd: int = 3) -> float | None:
            return None if x is None or not np.isfinite(x) else round(float(x), nd)

        return {
            "index": self.index,
            "start_s": r(self.start_s),
            "bottom_s": r(self.bottom_s),
            "lockout_s": r(self.lockout_s),
            "end_s": r(self.end_s),
            "descent_s": r(self.descent_s),
            "ascent_s": r(self.ascent_s),
            "stance": self.stance,
            "zone_at_bottom": self.zone_at_bottom,
            "zone_fractions": {k: round(float(v), 3) for k, v in self.zone_fractions.items()},
            "bias": self.bias,
            "bottom_foot_fraction": r(self.bottom_foot_fraction),
            "lateral_shift_mm": r(self.lateral_shift_mm, 1),
            "lockout_shift_mm": r(self.lockout_shift_mm, 1),
            "lockout_hold_s": r(self.lockout_hold_s, 2),
            "load_kg": r(self.load_kg, 1),
            "depth_m": r(self.depth_m),
            "set_down": self.set_down,
            "back_foot_fraction": r(self.back_foot_fraction),
            "faults": self.fault_names,
            "fault_details": [f.to_dict() for f in self.faults],
        }


# -- centre-of-mass path ------------------------------------------------------------------
@dataclass(frozen=True)
class HingePath:
    """The centre-of-mass path of one candidate rep, from :func:`hinge_path`.

    Attributes
    ----------
    z_m : (N,) ndarray
        CoM height relative to the window's start (m, negative = lower).
    depth_m : float
        Deepest drop (m, positive).
    i_bottom : int
        Index of the deepest sample.
    recovery : float
        How much of the drop has been regained at the window's last sample (0..1+).
    set_down : tuple[int, int] or None
        First and last index of a set-down (load on the floor), if any.
    set_down_fz_n : float
        Mean force during the set-down (the body alone), NaN without one.
    load_change : int or None
        Index of the moment a load was picked up or put down for good at the bottom
        (:func:`load_change_path`), if one was.
    unexplained_drop : bool
        The window holds a drop that may be a touch-and-go set-down, the path read without
        one does not close, and no reading with one fits (bottom at the drop, and for an
        unflanked drop a closed path with the body at rest around it): the window does not
        (yet) end at rest, so the plain reading cannot be trusted either.
    """

    z_m: np.ndarray
    depth_m: float
    i_bottom: int
    recovery: float
    set_down: tuple[int, int] | None
    set_down_fz_n: float
    load_change: int | None = None
    unexplained_drop: bool = False


def _measured_path(z: np.ndarray, **how: object) -> HingePath:
    """The path ``z`` (m) with its bottom, depth and recovery; ``how`` it was read."""
    i_b = int(np.argmin(z))
    depth = float(-z[i_b])
    recovery = float((z[-1] - z[i_b]) / depth) if depth > 0 else 0.0
    return HingePath(z_m=z, depth_m=depth, i_bottom=i_b, recovery=recovery, **how)


def set_down_span(t_s: np.ndarray, fz_n: np.ndarray, weight_n: float) -> tuple[int, int] | None:
    """The longest stretch where a held load sits on the floor, if it is one.

    Parameters
    ----------
    t_s : (N,) ndarray
        Times (s), evenly spaced.
    fz_n : (N,) ndarray
        Low-passed vertical force (N).
    weight_n : float
        Standing weight with the load held (N).

    Returns
    -------
    (i0, i1) or None
        Indices of the first and last sample below ``weight_n`` by more than
        :data:`SET_DOWN_DROP_FRACTION`, when that stretch lasts at least
        :data:`SET_DOWN_MIN_S`.
    """
    low = fz_n < weight_n * (1.0 - SET_DOWN_DROP_FRACTION)
    if not low.any():
        return None
    edges = np.diff(np.concatenate([[0], low.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    k = int(np.argmax(ends - starts))
    i0, i1 = int(starts[k]), int(ends[k])
    if t_s[i1] - t_s[i0] < SET_DOWN_MIN_S:
        return None
    return i0, i1


def _drops(fz: np.ndarray, weight_n: float, dt: float) -> list[tuple[int, int]]:
    """Drops below the weight by :data:`SET_DOWN_DROP_FRACTION` for :data:`SHORT_SET_DOWN_MIN_S`.

    First and last index of each, in time order.
    """
    low = fz < weight_n * (1.0 - SET_DOWN_DROP_FRACTION)
    if not low.any():
        return []
    edges = np.diff(np.concatenate([[0], low.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    return [
        (i0, i1)
        for i0, i1 in zip(starts.tolist(), ends.tolist(), strict=True)
        if (i1 - i0 + 1) * dt >= SHORT_SET_DOWN_MIN_S - 1e-9
    ]


def short_set_down_spans(
    t_s: np.ndarray, fz_n: np.ndarray, weight_n: float
) -> list[tuple[int, int]]:
    """Drops of at least :data:`SHORT_SET_DOWN_MIN_S` flanked by braking force on both sides.

    Candidates for a touch-and-go set-down (longest first); :func:`hinge_path` keeps one
    only if the path it implies has its bottom there.
    """
    fz = np.asarray(fz_n, dtype=float)
    t = np.asarray(t_s, dtype=float)
    n = fz.shape[0]
    if n < 3:
        return []
    dt = float(t[1] - t[0])
    drops = _drops(fz, weight_n, dt)
    if not drops:
        return []
    high = fz > weight_n * (1.0 + SET_DOWN_FLANK_FRACTION)
    reach = max(1, int(round(SET_DOWN_FLANK_S / max(dt, 1e-9))))
    unpaid_reach = max(1, int(round(UNPAID_REACH_S / max(dt, 1e-9))))
    below = fz < weight_n
    out = []
    for i0, i1 in drops:
        flanked = high[max(0, i0 - reach) : i0].any() and high[i1 + 1 : i1 + 1 + reach].any()
        if not flanked:
            lo, hi = i0, i1
            while lo > 0 and below[lo - 1]:
                lo -= 1
            while hi < n - 1 and below[hi + 1]:
                hi += 1
            deficit = float(np.sum(weight_n - fz[lo : hi + 1]))
            around = np.concatenate(
                [fz[max(0, lo - unpaid_reach) : lo], fz[hi + 1 : hi + 1 + unpaid_reach]]
            )
            surplus = float(np.sum(np.clip(around - weight_n, 0.0, None)))
            if deficit < UNPAID_RATIO * surplus:
                continue
        out.append((i0, i1))
    out.sort(key=lambda s: s[0] - s[1])
    return out


def hinge_path(
    t_s: np.ndarray,
    fz_n: np.ndarray,
    weight_n: float,
    *,
    closed: bool = False,
    zero_impulse: bool = True,
    skew_cop_mm: np.ndarray | None = None,
    skew_limit_s_per_mm: float = 0.0,
    rest_before_s: float | None = None,
    set_down_hint: tuple[int, int] | None = None,
) -> HingePath:
    """Centre-of-mass height over a window that starts with the person standing still.

    A load set down for :data:`SET_DOWN_MIN_S` or longer is always taken as one; a shorter
    flanked drop (:func:`short_set_down_spans`) only when the path it implies has its
    bottom at the set-down, and any other drop only when reading it as one closes a path
    that does not close without it. ``set_down_hint`` (first and last index of a set-down
    an earlier reading of the same window found) is taken as given, so that the final,
    filtered reading of a rep does not decide otherwise on a borderline drop. Other
    parameters and the result as :func:`path_with_set_down`.
    """
    kw = {
        "closed": closed,
        "zero_impulse": zero_impulse,
        "skew_cop_mm": skew_cop_mm,
        "skew_limit_s_per_mm": skew_limit_s_per_mm,
        "rest_before_s": rest_before_s,
    }
    long = set_down_span(t_s, fz_n, weight_n)
    if long is not None:
        return path_with_set_down(t_s, fz_n, weight_n, long, **kw)  # type: ignore[arg-type]
    t = np.asarray(t_s, dtype=float)
    fz = np.asarray(fz_n, dtype=float)
    drops = _drops(fz, weight_n, float(t[1] - t[0])) if t.shape[0] >= 3 else []
    if set_down_hint is not None:
        # The drop of this reading that overlaps the hint (filtering moves its edges).
        a, b = set_down_hint
        span = next((d for d in drops if d[0] <= b and a <= d[1]), (a, b))
        return path_with_set_down(t_s, fz_n, weight_n, span, **kw)  # type: ignore[arg-type]
    if not drops:
        return path_with_set_down(t_s, fz_n, weight_n, None, **kw)  # type: ignore[arg-type]
    # The open reading, as :func:`path_with_set_down` gives it with only ``rest_before_s``,
    # is what the tests below judge; when that is what was asked for it is also the result.
    open_kw = not closed and zero_impulse and skew_cop_mm is None

    def read(span: tuple[int, int] | None, trial: HingePath | None = None) -> HingePath:
        if trial is not None and open_kw:
            return trial
        return path_with_set_down(t_s, fz_n, weight_n, span, **kw)  # type: ignore[arg-type]

    # A rep read without a set-down that comes back to where it started (within the
    # scatter of a zero-impulse path) needs none: a bell really set down leaves its
    # weight missing from the impulse and the path without it does not close.
    plain = path_with_set_down(t_s, fz_n, weight_n, None, rest_before_s=rest_before_s)
    if abs(plain.recovery - 1.0) <= PLAIN_CLOSURE:
        return read(None, plain)
    spans = short_set_down_spans(t_s, fz_n, weight_n)
    for span in spans:
        path = read(span)
        if _bottom_at(path, span):
            return path
    # A drop with no braking seen around it (a slow hinge brakes at 1-1.5 % of the
    # weight) is a set-down only if reading it as one closes the path the plain reading
    # could not: down to a bottom at the drop and back up to the start (judged open: a
    # closed reading ends at the start by construction). The body must also be at rest
    # on both sides of it, which it is not at a dip part-way down.
    for span in sorted(set(drops) - set(spans), key=lambda s: s[0] - s[1]):
        if not _at_rest_around(t, fz, weight_n, span):
            continue
        trial = path_with_set_down(t_s, fz_n, weight_n, span, rest_before_s=rest_before_s)
        if _bottom_at(trial, span) and abs(trial.recovery - 1.0) <= PLAIN_CLOSURE:
            return read(span, trial)
    return replace(read(None, plain), unexplained_drop=True)


def _at_rest_around(t: np.ndarray, fz: np.ndarray, weight_n: float, span: tuple[int, int]) -> bool:
    """The stretches before and after ``span`` each run from rest to rest.

    Each starts and ends standing still (the window's ends, the set-down), so the force
    over each must average the standing weight: the velocity that the difference would
    give over the stretch stays under :data:`SET_DOWN_REST_V_M_S`. A window cut at a dip
    part-way through a movement leaves the body moving at the cut, at 0.2-0.5 m/s.
    """
    i0, i1 = span
    for a, b in ((0, i0), (i1 + 1, t.shape[0])):
        if b - a < 2:
            continue
        v = G_M_S2 * (float(np.mean(fz[a:b])) / weight_n - 1.0) * float(t[b - 1] - t[a])
        if abs(v) > SET_DOWN_REST_V_M_S:
            return False
    return True


def _bottom_at(path: HingePath, span: tuple[int, int]) -> bool:
    """The path's lowest point is at the set-down (within :data:`SET_DOWN_AT_BOTTOM`)."""
    at_rest = float(path.z_m[span[0]])
    return path.depth_m > 0 and at_rest + path.depth_m <= SET_DOWN_AT_BOTTOM * path.depth_m


def path_with_set_down(
    t_s: np.ndarray,
    fz_n: np.ndarray,
    weight_n: float,
    span: tuple[int, int] | None,
    *,
    closed: bool = False,
    zero_impulse: bool = True,
    skew_cop_mm: np.ndarray | None = None,
    skew_limit_s_per_mm: float = 0.0,
    rest_before_s: float | None = None,
) -> HingePath:
    """Centre-of-mass height over a window that starts still, with a given set-down.

    Parameters
    ----------
    t_s : (N,) ndarray
        Sample times (s), evenly spaced, N >= 3.
    fz_n : (N,) ndarray
        Vertical force (N), low-passed.
    weight_n : float
        Standing weight (N): recognises a set-down, and is the reference force when
        ``zero_impulse`` is False.
    span : (int, int) or None
        First and last index of the set-down (load on the floor), or None.
    closed : bool
        The window also ends standing still at the starting height (a finished rep): the
        leftover drift is removed so the path ends at zero.
    zero_impulse : bool
        The window ends at rest, so the reference force is the window's own mean (no drift
        from an error in ``weight_n``). False for a window ending mid-movement, where only
        ``weight_n`` can serve (and its error drifts the path quadratically).
    skew_cop_mm : (N, 2) ndarray, optional
        CoP of a closed window from a plate whose cells convert at different moments (an
        HX711 each, up to one conversion period apart). Such a plate misreads the force in
        proportion to the CoP velocity, fz_err = -fz k . dCoP/dt; the closure then fits k
        along the CoP's main direction of travel instead of a constant drift.
    skew_limit_s_per_mm : float
        Largest physical |k| (two conversion periods over the cell spacing).
    rest_before_s : float, optional
        The person is known to stand still before this time (a first pass found the
        start): that stretch adds no tremor to the path.

    Returns
    -------
    HingePath
    """
    t = np.asarray(t_s, dtype=float)
    fz = np.asarray(fz_n, dtype=float)
    n = t.shape[0]
    rest = np.zeros(n, dtype=bool)
    if rest_before_s is not None:
        rest[: int(np.searchsorted(t, rest_before_s))] = True
    set_down_fz = float("nan")
    if span is not None:
        i0, i1 = span
        # The bell's weight comes off and goes back on at the edges; the body is at rest
        # from a little before the first drop to a little after the last.
        drop = weight_n - float(np.median(fz[i0 : i1 + 1]))
        edge = fz < weight_n - 0.25 * drop
        lo = i0
        while lo > 0 and edge[lo - 1]:
            lo -= 1
        hi = i1
        while hi < n - 1 and edge[hi + 1]:
            hi += 1
        dt = float(t[1] - t[0])
        margin = int(round(SET_DOWN_MARGIN_S / max(dt, 1e-9)))
        if dt >= SET_DOWN_MARGIN_S - 1e-9 and t[i1] - t[i0] < SET_DOWN_MIN_S:
            # A touch-and-go bell goes down and comes up in one movement, its transfer
            # inside the drop's own edges; at 10 Hz a margin sample is the push's first
            # 0.1 s (13 % of the weight in a fast ascent, 0.13 m/s lost from the climb).
            margin = 0
        rest[max(lo - margin, 0) : min(hi + margin, n - 1) + 1] = True
        core = slice(i0 + (i1 - i0) // 4, i1 - (i1 - i0) // 4 + 1)
        set_down_fz = float(np.mean(fz[core]))
    z = _path_between_rests(
        t, fz, rest, weight_n, closed, zero_impulse, skew_cop_mm, skew_limit_s_per_mm
    )
    return _measured_path(z, set_down=span, set_down_fz_n=set_down_fz)


def _path_between_rests(
    t: np.ndarray,
    fz: np.ndarray,
    rest: np.ndarray,
    weight_n: float,
    closed: bool,
    zero_impulse: bool,
    skew_cop_mm: np.ndarray | None,
    skew_limit_s_per_mm: float,
) -> np.ndarray:
    """CoM height (m) integrated over the stretches of movement between ``rest`` samples."""
    n = t.shape[0]
    # Each stretch of movement between rests starts at rest (v = 0) and, except perhaps the
    # last, ends at rest: its own mean force is the weight it moved against.
    v = np.zeros(n)
    z = np.zeros(n)
    edges = np.diff(np.concatenate([[1], rest.astype(np.int8), [1]]))
    starts = np.flatnonzero(edges == -1)
    ends = np.flatnonzero(edges == 1) - 1
    level = 0.0
    last = None
    for a, b in zip(starts, ends, strict=True):
        seg = slice(a, b + 1)
        f = fz[seg]
        if b == n - 1 and not zero_impulse:
            w_n = float(weight_n)
        else:
            w_n = float(np.mean(f))
        acc = (f / w_n - 1.0) * G_M_S2
        ts = t[seg]
        dt = np.diff(ts)
        vs = np.concatenate([[0.0], np.cumsum(0.5 * (acc[1:] + acc[:-1]) * dt)])
        zs = level + np.concatenate([[0.0], np.cumsum(0.5 * (vs[1:] + vs[:-1]) * dt)])
        v[seg] = vs
        z[seg] = zs
        level = float(zs[-1])
        z[b + 1 :] = level  # a rest keeps the height it was reached at
        last = (a, b)
    if closed and last is not None and last[1] == n - 1 and n - last[0] > 2:
        a = last[0]
        cop = None if skew_cop_mm is None else np.asarray(skew_cop_mm, dtype=float)[a:]
        z[a:] = _close_path(t[a:], v[a:], z[a:], cop, skew_limit_s_per_mm)
    return z


def load_change_path(
    t_s: np.ndarray,
    fz_n: np.ndarray,
    before_n: float,
    after_n: float,
    *,
    closed: bool = False,
) -> HingePath:
    """CoM height over a rep at whose bottom a load is picked up or put down for good.

    A kettlebell lifted off the floor at the first rep's bottom (or left there at the last)
    makes the person stand heavier (lighter) after the rep than before it, so no single
    weight closes the impulse. The body is at rest while the bell's weight comes on or off
    the plate, so the force is taken against ``before_n`` up to the transfer and against
    ``after_n`` from then on. The moment of the transfer is the one that balances the
    impulse, int fz dt = before_n (tau - t0) + after_n (T - tau), so the rep ends at rest;
    a transfer lasting 0.1-0.2 s about that moment misreads the height by millimetres.
    The ascent may begin the moment the bell is off the floor, so no stretch around the
    transfer is assumed to be at rest.

    Parameters
    ----------
    t_s : (N,) ndarray
        Times (s), evenly spaced, from standing still to standing still.
    fz_n : (N,) ndarray
        Vertical force (N), low-passed.
    before_n, after_n : float
        Standing weight before and after the rep (N); they must differ.
    closed : bool
        The window ends standing at the starting height (a finished rep): the path's
        leftover drift is removed so it ends at zero.

    Returns
    -------
    HingePath
        ``set_down`` is None (no set-down weight is measured).
    """
    t = np.asarray(t_s, dtype=float)
    fz = np.asarray(fz_n, dtype=float)
    w0, w1 = float(before_n), float(after_n)
    dt = np.diff(t)
    impulse = np.concatenate([[0.0], np.cumsum(0.5 * (fz[1:] + fz[:-1]) * dt)])
    span_s = t - t[0]
    tau_s = float(np.clip((w1 * span_s[-1] - impulse[-1]) / (w1 - w0), 0.0, span_s[-1]))
    # The reference force's own impulse, exact about the transfer moment (a sample's worth
    # misplaced would misread the velocity by (w1 - w0) / w0 g dt: 0.3 m/s at 10 Hz).
    ref = w0 * np.minimum(span_s, tau_s) + w1 * np.maximum(span_s - tau_s, 0.0)
    mass_kg = np.where(span_s < tau_s, w0, w1) / G_M_S2
    v = (impulse - ref) / mass_kg
    z = np.concatenate([[0.0], np.cumsum(0.5 * (v[1:] + v[:-1]) * dt)])
    if closed and t.shape[0] > 2:
        z = _close_path(t, v, z, None, 0.0)
    return _measured_path(
        z, set_down=None, set_down_fz_n=float("nan"),
        load_change=int(np.searchsorted(span_s, tau_s)),
    )


def _close_path(
    t: np.ndarray,
    v: np.ndarray,
    z: np.ndarray,
    skew_cop_mm: np.ndarray | None,
    limit: float,
) -> np.ndarray:
    """The last stretch of a finished rep's path, corrected to end at height zero.

    The stretch starts at rest at height ``z[0]`` (the start, or the end of a set-down);
    the corrections are zero there and grow with time.
    """
    span_s = t - t[0]
    big_t = span_s[-1]
    if skew_cop_mm is None or limit <= 0:
        return z - z[-1] * span_s / big_t
    d = skew_cop_mm - skew_cop_mm[0]
    i = int(np.argmax(np.hypot(d[:, 0], d[:, 1])))
    reach = float(np.hypot(*d[i]))
    if reach < 1.0:
        return z - z[-1] * span_s / big_t
    p = d @ (d[i] / reach)
    dt = np.diff(t)
    big_p = np.concatenate([[0.0], np.cumsum(0.5 * (p[1:] + p[:-1]) * dt)])
    # Unknowns: a constant acceleration bias b and the skew k. With the velocity error
    # g k p(t) and the height error g k P(t), a finished rep ends at rest at height zero:
    #   v[-1] - b T + g k p[-1] = 0,   z[-1] - b T^2 / 2 + g k P[-1] = 0.
    m = np.array([[big_t, -G_M_S2 * p[-1]], [0.5 * big_t**2, -G_M_S2 * big_p[-1]]])
    rhs = np.array([v[-1], z[-1]])
    k = float(np.linalg.solve(m, rhs)[1]) if abs(np.linalg.det(m)) > 1e-12 else 0.0
    k = float(np.clip(k, -limit, limit))
    b = 2.0 * (z[-1] + G_M_S2 * k * big_p[-1]) / big_t**2
    return z - 0.5 * b * span_s**2 + G_M_S2 * k * big_p


def _crossing_s(t: np.ndarray, zn: np.ndarray, i_bottom: int, level: float) -> tuple[float, float]:
    """Times the normalised drop ``zn`` crosses ``level`` before and after the bottom.

    ``zn`` is 0 standing and 1 at the bottom; crossings are linearly interpolated, and the
    window's ends stand in where it never crosses.
    """
    before = np.flatnonzero(zn[: i_bottom + 1] < level)
    if before.size:
        k = int(before[-1])
        frac = (level - zn[k]) / max(zn[k + 1] - zn[k], 1e-12)
        t_down = t[k] + frac * (t[k + 1] - t[k])
    else:
        t_down = t[0]
    after = np.flatnonzero(zn[i_bottom:] < level)
    if after.size:
        k = i_bottom + int(after[0])
        frac = (zn[k - 1] - level) / max(zn[k - 1] - zn[k], 1e-12)
        t_up = t[k - 1] + frac * (t[k] - t[k - 1])
    else:
        t_up = t[-1]
    return float(t_down), float(t_up)


@dataclass(frozen=True)
class HingeTiming:
    """Start, bottom and lockout of a rep from its CoM path (s)."""

    start_s: float
    bottom_s: float
    lockout_s: float


def hinge_timing(t_s: np.ndarray, path: HingePath, fz_n: np.ndarray | None = None) -> HingeTiming:
    """Start, bottom and lockout times from a closed :class:`HingePath`.

    With a set-down the bottom is the middle of the set-down, between the times the force
    crosses half-way down and half-way back up. Otherwise it is the midpoint of the 90 %
    depth crossings, shifted by the minimum-jerk asymmetry correction.

    Parameters
    ----------
    t_s : (N,) ndarray
        Sample times of the path (s).
    path : HingePath
        From :func:`hinge_path` with ``closed=True``.
    fz_n : (N,) ndarray, optional
        The force the path came from; needed only to time a set-down at half depth.
    """
    t = np.asarray(t_s, dtype=float)
    zn = -path.z_m / max(path.depth_m, 1e-9)
    d90, u90 = _crossing_s(t, zn, path.i_bottom, 0.9)
    d20, u20 = _crossing_s(t, zn, path.i_bottom, 0.2)
    k = path.load_change
    z = path.z_m
    n = t.shape[0]
    i_down = int(np.argmin(z[: k + 1])) if k is not None and 0 < k < n - 1 else 0
    i_up = k + int(np.argmin(z[k:])) if k is not None and 0 < k < n - 1 else n - 1
    # Both sides must reach most of the depth, each from a rest at either end.
    split = 0 < i_down and i_up < n - 1
    split &= min(-float(z[i_down]), -float(z[i_up])) >= 0.5 * path.depth_m > 0
    if split:
        # A bell picked up (put down) at the bottom: the path's error grows at another rate
        # either side of the transfer, so the flat bottom can tilt by a fifth of the depth.
        # The descent is read against its own lowest point and the ascent against its own.
        zn_down = -z / max(-float(z[i_down]), 1e-9)
        zn_up = -z / max(-float(z[i_up]), 1e-9)
        d90, _ = _crossing_s(t, zn_down, i_down, 0.9)
        d20, _ = _crossing_s(t, zn_down, i_down, 0.2)
        _, u90 = _crossing_s(t, zn_up, i_up, 0.9)
        _, u20 = _crossing_s(t, zn_up, i_up, 0.2)
    width = TAU90 - TAU20
    descent_s = max(d90 - d20, 0.0) / width
    ascent_s = max(u20 - u90, 0.0) / width
    start = d20 - TAU20 * descent_s
    lockout = u20 + TAU20 * ascent_s
    bottom = 0.5 * (d90 + u90) + ASYMMETRY_SHRINK * 0.5 * (1.0 - TAU90) * (descent_s - ascent_s)
    if path.set_down is not None and fz_n is not None:
        i0, i1 = path.set_down
        fz = np.asarray(fz_n, dtype=float)
        # Half-way crossings of the drop: the edges found by set_down_span are only 4 %
        # down, so walk inward to where the force is half-way between the standing weight
        # (the window's first samples) and the set-down level.
        standing = float(np.median(fz[: max(3, i0 // 4)]))
        level = 0.5 * (standing + path.set_down_fz_n)
        below = fz < level
        a = i0
        while a < i1 and not below[a]:
            a += 1
        b = i1
        while b > a and not below[b]:
            b -= 1
        bottom = 0.5 * (t[a] + t[b])
    bottom = float(np.clip(bottom, start, lockout))
    return HingeTiming(start_s=float(start), bottom_s=bottom, lockout_s=float(lockout))


# -- measuring a rep ----------------------------------------------------------------------
def _window_mean(t: np.ndarray, x: np.ndarray, centre_s: float, half_s: float) -> float:
    sel = (t >= centre_s - half_s) & (t <= centre_s + half_s)
    if not sel.any():
        sel = np.zeros(t.shape[0], dtype=bool)
        sel[int(np.argmin(np.abs(t - centre_s)))] = True
    return float(np.mean(x[sel]))


def measure_rep(
    index: int,
    t_s: np.ndarray,
    fz_n: np.ndarray,
    x_mm: np.ndarray,
    y_mm: np.ndarray,
    timing: HingeTiming,
    path: HingePath,
    stance: StanceSetup,
    baseline_mm: tuple[float, float],
    weight_n: float,
    body_mass_kg: float | None,
    thresholds: Thresholds,
) -> Rep:
    """Zones, shifts, load and faults of one rep whose timing is known.

    Parameters
    ----------
    index : int
        Rep number.
    t_s, fz_n, x_mm, y_mm : (N,) ndarray
        The rep's window: times (s), low-passed force (N) and combined CoP (mm).
    timing : HingeTiming
        From :func:`hinge_timing`.
    path : HingePath
        From :func:`hinge_path`.
    stance : StanceSetup
        Feet and zones.
    baseline_mm : (float, float)
        Standing CoP (x, y) before the rep (mm).
    weight_n : float
        Standing weight with any load (N).
    body_mass_kg : float or None
        The person's own mass, if known.
    thresholds : Thresholds
        Fault limits.
    """
    t = np.asarray(t_s, dtype=float)
    x_base, y_base = baseline_mm
    b = stance.back_foot_fraction(x_base)

    x_bot = _window_mean(t, x_mm, timing.bottom_s, BOTTOM_HALF_WINDOW_S)
    y_bot = _window_mean(t, y_mm, timing.bottom_s, BOTTOM_HALF_WINDOW_S)
    xl_bot, yl_bot = stance.lead_foot_cop_mm(x_bot, y_bot, b)
    zone_bottom = str(stance.zone_of(xl_bot, yl_bot))
    frac_bottom = float(stance.foot_fraction(yl_bot))

    in_rep = (t >= timing.start_s) & (t <= timing.lockout_s)
    if not in_rep.any():
        in_rep[:] = True
    xl, yl = stance.lead_foot_cop_mm(x_mm[in_rep], y_mm[in_rep], b)
    codes = stance.zone_codes(xl, yl)
    counts = np.bincount(codes.astype(np.int64), minlength=OFF_CODE + 1)
    fractions = {str(ZONE_NAMES[k]): float(counts[k] / codes.shape[0]) for k in range(OFF_CODE + 1)}

    lateral = None
    if stance.is_kickstand:
        lateral = stance.lead_sign * (x_bot - x_base)
    lock_from = max(timing.lockout_s - LOCKOUT_HALF_WINDOW_S, t[0])
    lock_sel = (t >= lock_from) & (t <= timing.lockout_s + LOCKOUT_HALF_WINDOW_S)
    if not lock_sel.any():
        lock_sel[-1] = True
    lockout_shift = float(np.mean(y_mm[lock_sel])) - y_base

    body = body_mass_kg
    set_down = path.set_down is not None
    if set_down and np.isfinite(path.set_down_fz_n):
        load = (weight_n - path.set_down_fz_n) / G_M_S2
    elif body is not None:
        load = weight_n / G_M_S2 - body
    else:
        load = None
    if load is not None and load < MIN_LOAD_KG:
        load = 0.0

    faults: list[Fault] = []
    cut = stance.zone_cuts[0]
    if zone_bottom == ZONES[0]:
        faults.append(
            Fault(
                "heel_shift",
                100.0 * frac_bottom,
                100.0 * cut,
                "% of foot length from the heel",
                CUES["heel_shift"],
            )
        )
    if lateral is not None and lateral < thresholds.lateral_shift_min_mm:
        faults.append(
            Fault(
                "lateral_shift",
                lateral,
                thresholds.lateral_shift_min_mm,
                "mm toward the lead foot",
                CUES["lateral_shift"],
            )
        )
    lean = _lean_fault(lockout_shift, thresholds)
    if lean is not None:
        faults.append(lean)
    return Rep(
        index=index,
        start_s=timing.start_s,
        bottom_s=timing.bottom_s,
        lockout_s=timing.lockout_s,
        end_s=timing.lockout_s,
        stance=stance.stance,
        zone_at_bottom=zone_bottom,
        zone_fractions=fractions,
        lateral_shift_mm=None if lateral is None else float(lateral),
        lockout_shift_mm=lockout_shift,
        lockout_hold_s=None,
        load_kg=None if load is None else float(load),
        faults=faults,
        depth_m=path.depth_m,
        bottom_foot_fraction=frac_bottom,
        set_down=set_down,
        back_foot_fraction=b,
    )


def _lean_fault(lockout_shift_mm: float, thresholds: Thresholds) -> Fault | None:
    if lockout_shift_mm >= -thresholds.backward_lean_mm:
        return None
    return Fault(
        "backward_lean",
        lockout_shift_mm,
        -thresholds.backward_lean_mm,
        "mm AP from the standing baseline (+ forward)",
        CUES["backward_lean"],
    )


def revise_lockout(rep: Rep, lockout_shift_mm: float, thresholds: Thresholds) -> Rep:
    """``rep`` with the lockout shift of its sustained top position and the lean it implies.

    Parameters
    ----------
    rep : Rep
        A rep measured at its lockout instant.
    lockout_shift_mm : float
        AP CoP of the top position (lockout and the hold's first second) minus the
        standing baseline (mm, + forward).
    thresholds : Thresholds
        Fault limits.
    """
    faults = [f for f in rep.faults if f.name != "backward_lean"]
    lean = _lean_fault(lockout_shift_mm, thresholds)
    if lean is not None:
        faults.append(lean)
    return replace(rep, lockout_shift_mm=float(lockout_shift_mm), faults=faults)


# -- sets and sessions ----------------------------------------------------------------------
@dataclass(frozen=True)
class SetSummary:
    """A set: consecutive reps of one file in one stance.

    Attributes
    ----------
    file : str or None
        Where the reps came from.
    stance : str
        Their stance.
    n_reps : int
        Number of reps.
    rep_indices : tuple[int, ...]
        Rep indices in the file.
    mean_descent_s, mean_ascent_s, mean_hold_s : float
        Means over the set (NaN when no rep has the value).
    mean_lateral_shift_mm : float or None
        Mean lateral shift (kickstand only).
    mean_lockout_shift_mm : float
        Mean lockout AP shift.
    load_kg : float or None
        Median load.
    zone_at_bottom_counts : dict[str, int]
        Reps per zone at the bottom.
    fault_counts : dict[str, int]
        Reps per fault.
    n_faulty : int
        Reps with at least one fault.
    """

    file: str | None
    stance: str
    n_reps: int
    rep_indices: tuple[int, ...]
    mean_descent_s: float
    mean_ascent_s: float
    mean_hold_s: float
    mean_lateral_shift_mm: float | None
    mean_lockout_shift_mm: float
    load_kg: float | None
    zone_at_bottom_counts: dict[str, int]
    fault_counts: dict[str, int]
    n_faulty: int = 0

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""

        def r(x: float | None, nd: int = 2) -> float | None:
            return None if x is None or not np.isfinite(x) else round(float(x), nd)

        return {
            "file": self.file,
            "stance": self.stance,
            "n_reps": self.n_reps,
            "rep_indices": list(self.rep_indices),
            "mean_descent_s": r(self.mean_descent_s),
            "mean_ascent_s": r(self.mean_ascent_s),
            "mean_hold_s": r(self.mean_hold_s),
            "mean_lateral_shift_mm": r(self.mean_lateral_shift_mm, 1),
            "mean_lockout_shift_mm": r(self.mean_lockout_shift_mm, 1),
            "load_kg": r(self.load_kg, 1),
            "zone_at_bottom_counts": dict(self.zone_at_bottom_counts),
            "fault_counts": dict(self.fault_counts),
            "n_faulty": self.n_faulty,
        }


def _nanmean(values: Iterable[float | None]) -> float:
    arr = np.array([v for v in values if v is not None and np.isfinite(v)], dtype=float)
    return float(arr.mean()) if arr.size else float("nan")


def summarise_set(reps: Sequence[Rep], file: str | None = None) -> SetSummary:
    """Summary of one set (all ``reps`` share a file and stance).

    Parameters
    ----------
    reps : sequence of Rep
        The set's reps, at least one.
    file : str, optional
        The file they came from.
    """
    if not reps:
        raise ValueError("a set needs at least one rep")
    lateral = [r.lateral_shift_mm for r in reps if r.lateral_shift_mm is not None]
    loads = [r.load_kg for r in reps if r.load_kg is not None]
    return SetSummary(
        file=file,
        stance=reps[0].stance,
        n_reps=len(reps),
        rep_indices=tuple(r.index for r in reps),
        mean_descent_s=_nanmean(r.descent_s for r in reps),
        mean_ascent_s=_nanmean(r.ascent_s for r in reps),
        mean_hold_s=_nanmean(r.lockout_hold_s for r in reps),
        mean_lateral_shift_mm=_nanmean(lateral) if lateral else None,
        mean_lockout_shift_mm=_nanmean(r.lockout_shift_mm for r in reps),
        load_kg=float(np.median(loads)) if loads else None,
        zone_at_bottom_counts={
            z: sum(r.zone_at_bottom == z for r in reps) for z in (*ZONES, "off")
        },
        fault_counts={f: sum(f in r.fault_names for r in reps) for f in FAULT_NAMES},
        n_faulty=sum(1 for r in reps if r.faults),
    )


def group_sets(reps: Sequence[Rep]) -> list[list[Rep]]:
    """Split reps (in time order) into sets: a new set whenever the stance changes."""
    sets: list[list[Rep]] = []
    for rep in reps:
        if not sets or sets[-1][-1].stance != rep.stance:
            sets.append([])
        sets[-1].append(rep)
    return sets


@dataclass(frozen=True)
class Asymmetry:
    """Left/right asymmetry of the kickstand lateral shift.

    ``index_pct`` = 100 * |L - R| / ((|L| + |R|) / 2), with L and R the mean lateral shift
    (mm toward the lead foot) of the reps led by the left and by the right foot: 0 % is
    perfect symmetry, 100 % one side shifting three times as far as the other. None when a
    side has no reps or neither side shifts at all.
    """

    left_mean_mm: float | None
    right_mean_mm: float | None
    index_pct: float | None
    flag: bool
    threshold_pct: float

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (``lateral_shift_index_pct``, ``flag``, ...)."""

        def r(x: float | None) -> float | None:
            return None if x is None else round(float(x), 1)

        return {
            "lateral_shift_index_pct": r(self.index_pct),
            "flag": self.flag,
            "threshold_pct": self.threshold_pct,
            "left_lead_mean_shift_mm": r(self.left_mean_mm),
            "right_lead_mean_shift_mm": r(self.right_mean_mm),
        }


# Below this mean shift on both sides there is nothing to compare (noise over noise).
ASYMMETRY_MIN_SHIFT_MM = 1.0


def lateral_asymmetry(reps: Iterable[Rep], threshold_pct: float) -> Asymmetry:
    """Asymmetry index of the lateral shift between left-lead and right-lead kickstand reps.

    Parameters
    ----------
    reps : iterable of Rep
        Any reps; only kickstand reps with a lateral shift count.
    threshold_pct : float
        Flag when the index exceeds this (:attr:`Thresholds.asymmetry_flag_pct`).
    """
    reps = list(reps)
    left = [r.lateral_shift_mm for r in reps if r.stance == "kickstand-left"]
    right = [r.lateral_shift_mm for r in reps if r.stance == "kickstand-right"]
    left_mean = _nanmean(left) if left else None
    right_mean = _nanmean(right) if right else None
    index = None
    if left_mean is not None and right_mean is not None:
        scale = 0.5 * (abs(left_mean) + abs(right_mean))
        if scale >= ASYMMETRY_MIN_SHIFT_MM:
            index = 100.0 * abs(left_mean - right_mean) / scale
    return Asymmetry(
        left_mean_mm=left_mean,
        right_mean_mm=right_mean,
        index_pct=index,
        flag=index is not None and index > threshold_pct,
        threshold_pct=float(threshold_pct),
    )
