"""A second person model for the virtual plate: two feet, other tempos, bells and plates.

Written apart from :mod:`hardware.scenarios` (which scripts one CoP path and one mass) so
the analyser can be scored on movement it was not tuned on. Here the plate carries two
feet, each with its own share of the load and its own centre of pressure; the combined CoP
is their weighted mean and the vertical force is Newtonian on a centre-of-mass height
drawn on a fine grid:

- velocity profiles: ``minjerk`` (bell-shaped), ``asymmetric`` (time-warped so the peak
  velocity comes early or late), ``paused`` (a still bottom of 0.5-1.5 s), ``jerky`` (the
  descent and the ascent each stall part-way and carry a small hitch);
- tempo: ``fast`` / ``medium`` / ``slow`` / ``uneven`` (each rep drawn from the whole range);
- postural sway of 1-5 mm rms from a sum of random sinusoids (0.05-1.2 Hz);
- a lean back whose onset comes before, at or after the lockout (settling in over the first
  0.3-0.5 s of the hold), held until the person relaxes out of the lockout;
- a kettlebell held throughout, set down touch-and-go at each bottom for 0.1-0.7 s, or
  picked up at the first rep's bottom and put down at the last rep's bottom;
- in a kickstand stance a back-foot share that varies per person and unloads during the rep;
- stance changes inside one recording, re-placing the feet while standing or stepping off
  and back on, with no stance event recorded.

Each :class:`PeopleRecording` carries its truth (:class:`PeopleRep`, :class:`PeopleSet`).
Cell gain errors of an uncalibrated plate are applied by whoever calibrates the stream
(:func:`gain_errors`), since the person does not change with the plate.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np
from scipy import signal

from daq.calibration import G_M_S2
from daq.plate import PlateGeometry, load_plate
from hardware.person import cell_forces_n

GRID_HZ = 2000.0
PROFILES = ("minjerk", "asymmetric", "paused", "jerky")
TEMPOS = ("fast", "medium", "slow", "uneven")
BELLS = ("none", "held", "touch", "pickup")
LEAN_ONSETS = ("before", "at", "after")
CHANGES = ("replace", "step-off")
# (descent, ascent) duration ranges in seconds per tempo.
TEMPO_S = {
    "fast": ((0.7, 1.1), (0.6, 0.9)),
    "medium": ((1.1, 1.8), (0.9, 1.5)),
    "slow": ((1.8, 3.0), (1.5, 2.5)),
    "uneven": ((0.7, 3.0), (0.6, 2.5)),
}
# Truth ranges. Bottom CoP of the (lead) foot along its length from the heel; the lateral
# shift of the combined CoP toward the lead leg at the bottom; the lockout AP offset from
# the standing position. Gaps around the analyser's limits (1/3 of the foot, 10 mm, 8 mm)
# keep the truth unambiguous under sway.
GOOD_BOTTOM_FRAC = (0.40, 0.58)
HEEL_BOTTOM_FRAC = (0.06, 0.22)
GOOD_SHIFT_MM = (18.0, 40.0)
NO_SHIFT_MM = (-12.0, 3.0)
GOOD_LOCK_AP_MM = (-3.5, 3.5)
LEAN_LOCK_AP_MM = (-30.0, -13.0)
# Vertical force noise standing (fraction of the weight, rms) and its band: 0.3 % over
# 1-10 Hz moves the centre of mass 0.3 mm rms (the old 0.15-3.6 Hz band, 1/f, moved it
# 11 mm: a person bobbing, not standing).
TREMOR_FRACTION = 0.003
TREMOR_BAND_HZ = (1.0, 10.0)
# Default geometry the analyser also assumes (analysis.stance), with a personal scatter.
HEEL_Y_MM = {"bilateral": -130.0, "kickstand-left": -60.0, "kickstand-right": -60.0}
KICKSTANDS = ("kickstand-left", "kickstand-right")
STANCE_SETS = (
    ("bilateral", "kickstand-left", "kickstand-right"),
    ("kickstand-right", "kickstand-left"),
    ("kickstand-left", "kickstand-right"),
    ("bilateral", "kickstand-right", "kickstand-left"),
)


@dataclass(frozen=True)
class PeopleRep:
    """The truth of one rep.

    Attributes
    ----------
    start_s, bottom_s, lockout_s : float
        Descent begins; middle of the lowest position (of the set-down, with a bell put on
        the floor); standing tall again.
    hold_end_s : float
        The next movement begins (the next descent, re-placing the feet or stepping off):
        the hold is ``hold_end_s - lockout_s``, the time standing at the top, leaning or
        not (issue 10).
    relax_s : float
        The person relaxes out of the lockout: a lean is let go over the next 0.5 s (the
        lockout's own AP offset likewise); standing at the top goes on until
        ``hold_end_s``.
    stance : str
        Stance of the rep.
    faults : frozenset[str]
        Scripted faults.
    profile : str
        Velocity profile (:data:`PROFILES`).
    descent_s, ascent_s, bottom_dwell_s : float
        Phase durations (the dwell includes a set-down and its transfers).
    set_down_s : float
        Time the bell rests on the floor at this bottom (0: no set-down).
    bell : str
        ``none``, ``held``, ``touch`` (set down and picked up), ``pickup`` (on the floor
        before, held after) or ``putdown`` (held before, on the floor after).
    load_kg : float
        The bell's mass (0 without one).
    lean_onset_s : float or None
        When the lean begins relative to the lockout (negative = before); None, no lean.
    lateral_shift_mm : float
        Combined-CoP ML shift toward the lead leg at the bottom (0 bilateral).
    bottom_frac : float
        The (lead) foot's own CoP at the bottom, fraction of foot length from the heel.
    lockout_ap_mm : float
        Combined-CoP AP offset from the standing position once the lockout has settled.
    back_share : float
        Back foot's share of the weight standing (0 bilateral).
    back_unload : float
        Fraction of that share the back foot gives up at the bottom.
    """

    start_s: float
    bottom_s: float
    lockout_s: float
    hold_end_s: float
    relax_s: float
    stance: str
    faults: frozenset[str]
    profile: str
    descent_s: float
    ascent_s: float
    bottom_dwell_s: float
    set_down_s: float
    bell: str
    load_kg: float
    lean_onset_s: float | None
    lateral_shift_mm: float
    bottom_frac: float
    lockout_ap_mm: float
    back_share: float
    back_unload: float

    @property
    def hold_s(self) -> float:
        """Time standing at the top (s)."""
        return self.hold_end_s - self.lockout_s


@dataclass(frozen=True)
class PeopleSet:
    """One set: standing still, then reps in one stance.

    Attributes
    ----------
    stance : str
        The stance.
    start_s, end_s : float
        From the feet being in place (after stepping on or re-placing them) to the end of
        the last hold.
    still_s : tuple[float, float]
        Standing still before the first rep.
    rep_indices : tuple[int, ...]
        Indices into :attr:`PeopleRecording.reps`.
    arrived_by : str
        ``step-on`` (first set), ``replace`` (feet re-placed while standing) or
        ``step-off`` (stepped off the plate and back on).
    heel_y_mm, foot_length_mm, stance_width_mm : float
        Where the feet stand.
    baseline_mm : tuple[float, float]
        Scripted standing CoP (x, y) before the first rep.
    """

    stance: str
    start_s: float
    end_s: float
    still_s: tuple[float, float]
    rep_indices: tuple[int, ...]
    arrived_by: str
    heel_y_mm: float
    foot_length_mm: float
    stance_width_mm: float
    baseline_mm: tuple[float, float]


@dataclass(frozen=True)
class PersonPlan:
    """What one generated recording does (every field has a range the seed draws in).

    Attributes
    ----------
    stances : tuple[str, ...]
        Stance of each set, in order (stances change with no event recorded).
    n_reps : int
        Reps per set.
    profile : str
        One of :data:`PROFILES`, or ``mixed`` (a profile drawn per rep).
    tempo : str
        One of :data:`TEMPOS`.
    bell : str
        One of :data:`BELLS`.
    load_kg : float
        Bell mass (ignored for ``none``).
    set_down_s : tuple[float, float]
        Range of the touch-and-go rest on the floor.
    lean_onset : str
        One of :data:`LEAN_ONSETS`: when the lean of a ``backward_lean`` rep starts.
    sway_mm : float
        RMS of the postural sway along each axis (1-5 mm).
    back_share : tuple[float, float]
        Range of the back foot's standing share in a kickstand stance.
    back_unload : tuple[float, float]
        Range of the fraction of that share given up at the bottom.
    change : str
        How the stance changes between sets (:data:`CHANGES`).
    fault_rate : float
        Share of reps with at least one fault.
    asymmetric : bool
        Left-lead and right-lead sets shift by clearly different amounts (else alike).
    body_mass_kg : float
        The person's mass.
    """

    stances: tuple[str, ...] = ("kickstand-left", "kickstand-right")
    n_reps: int = 5
    profile: str = "mixed"
    tempo: str = "uneven"
    bell: str = "none"
    load_kg: float = 16.0
    set_down_s: tuple[float, float] = (0.1, 0.7)
    lean_onset: str = "after"
    sway_mm: float = 2.5
    back_share: tuple[float, float] = (0.1, 0.3)
    back_unload: tuple[float, float] = (0.0, 0.6)
    change: str = "replace"
    fault_rate: float = 0.5
    asymmetric: bool = False
    body_mass_kg: float = 75.0

    def check(self) -> None:
        """Raise ValueError naming the first out-of-range field."""
        from daq.events import STANCES

        def need(ok: bool, message: str) -> None:
            if not ok:
                raise ValueError(message)

        need(len(self.stances) >= 1, "a plan needs at least one stance")
        need(all(s in STANCES for s in self.stances), f"stances must be among {STANCES}")
        need(1 <= self.n_reps <= 50, "n_reps must be 1-50")
        need(self.profile in (*PROFILES, "mixed"), f"profile must be one of {PROFILES} or mixed")
        need(self.tempo in TEMPOS, f"tempo must be one of {TEMPOS}")
        need(self.bell in BELLS, f"bell must be one of {BELLS}")
        need(0.0 <= self.load_kg <= 60.0, "load_kg must be 0-60")
        need(0.05 <= self.set_down_s[0] <= self.set_down_s[1] <= 2.0, "set_down_s 0.05-2 s")
        need(self.lean_onset in LEAN_ONSETS, f"lean_onset must be one of {LEAN_ONSETS}")
        need(0.5 <= self.sway_mm <= 8.0, "sway_mm must be 0.5-8")
        need(0.0 < self.back_share[0] <= self.back_share[1] <= 0.45, "back_share 0-0.45")
        need(0.0 <= self.back_unload[0] <= self.back_unload[1] <= 0.8, "back_unload 0-0.8")
        need(self.change in CHANGES, f"change must be one of {CHANGES}")
        need(0.0 <= self.fault_rate <= 1.0, "fault_rate must be 0-1")
        need(30.0 <= self.body_mass_kg <= 200.0, "body_mass_kg must be 30-200")


def _smoothstep(u: np.ndarray) -> np.ndarray:
    """Minimum-jerk progress of a move, u clipped to [0, 1]."""
    u = np.clip(u, 0.0, 1.0)
    return u**3 * (10.0 + u * (-15.0 + 6.0 * u))


def _progress(u: np.ndarray, profile: str, warp: float, stall: float) -> np.ndarray:
    """Progress 0..1 of one phase at normalised time ``u`` for a velocity profile.

    ``asymmetric`` warps time by a power (peak velocity early for warp < 1, late above);
    ``jerky`` goes to ``stall`` of the way in 45 % of the phase, stops for 15 %, then
    finishes.
    """
    u = np.clip(u, 0.0, 1.0)
    if profile == "asymmetric":
        return _smoothstep(u**warp)
    if profile == "jerky":
        first = _smoothstep(u / 0.45)
        second = _smoothstep((u - 0.6) / 0.4)
        return stall * first + (1.0 - stall) * second
    return _smoothstep(u)


class _Sway:
    """Sum of random sinusoids with a 1/f-like amplitude spectrum, scaled to an rms.

    Postural sway by default (0.05-1.2 Hz); ``band_hz`` and ``slope`` (the amplitude goes
    as f ** -slope) give other noises.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        rms_mm: float,
        n: int = 24,
        band_hz: tuple[float, float] = (0.05, 1.2),
        slope: float = 0.5,
    ) -> None:
        self.f_hz = np.exp(rng.uniform(np.log(band_hz[0]), np.log(band_hz[1]), n))
        amp = self.f_hz**-slope
        self.amp = amp * rms_mm / np.sqrt(0.5 * np.sum(amp**2))
        self.phase = rng.uniform(0.0, 2.0 * np.pi, n)

    def at(self, t_s: np.ndarray) -> np.ndarray:
        out = np.zeros_like(t_s)
        for f, a, p in zip(self.f_hz, self.amp, self.phase, strict=True):
            out += a * np.sin(2.0 * np.pi * f * t_s + p)
        return out


@dataclass(eq=False)
class PeopleRecording:
    """One generated recording: force and CoP on a grid, and the truth.

    Implements what :class:`hardware.virtual_plate.VirtualPlate` asks of a scenario
    (``name``, ``duration_s``, :meth:`cell_forces_n`) plus :meth:`fz_n` and :meth:`cop_mm`.
    """

    name: str
    plan: PersonPlan
    seed: int
    duration_s: float
    reps: list[PeopleRep]
    sets: list[PeopleSet]
    body_mass_kg: float
    load_kg: float
    foot_length_mm: float
    on_plate_s: tuple[float, float]
    t_grid_s: np.ndarray = field(repr=False)
    fz_grid_n: np.ndarray = field(repr=False)
    x_grid_mm: np.ndarray = field(repr=False)
    y_grid_mm: np.ndarray = field(repr=False)

    def fz_n(self, t_s: np.ndarray) -> np.ndarray:
        """Total vertical force (N) at ``t_s``."""
        return np.interp(np.asarray(t_s, dtype=float), self.t_grid_s, self.fz_grid_n)

    def cop_mm(self, t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Combined CoP (x, y) in plate mm at ``t_s``; NaN while the plate is empty."""
        t = np.asarray(t_s, dtype=float)
        x = np.interp(t, self.t_grid_s, self.x_grid_mm)
        y = np.interp(t, self.t_grid_s, self.y_grid_mm)
        empty = self.fz_n(t) <= 1e-6
        return np.where(empty, np.nan, x), np.where(empty, np.nan, y)

    def cell_forces_n(self, t_s: np.ndarray, plate: PlateGeometry | None = None) -> np.ndarray:
        """Per-cell forces (N, n) for ``plate`` (default preset) at ``t_s``."""
        plate = plate if plate is not None else load_plate()
        t = np.atleast_1d(np.asarray(t_s, dtype=float))
        x, y = self.cop_mm(t)
        return cell_forces_n(self.fz_n(t), x, y, plate)

    def stance_at(self, t_s: float) -> str | None:
        """Stance of the set under way at ``t_s`` (None between sets)."""
        for s in self.sets:
            if s.start_s <= t_s <= s.end_s:
                return s.stance
        return None


class _Builder:
    """Draws the timeline of one recording into per-foot arrays on a fine grid."""

    def __init__(self, plan: PersonPlan, rng: np.random.Generator) -> None:
        self.plan = plan
        self.rng = rng
        self.reps: list[PeopleRep] = []
        self.sets: list[PeopleSet] = []
        # Knot lists of piecewise-smooth signals: (t0, t1, value at t1) moves.
        self.moves: dict[str, list[tuple[float, float, float]]] = {
            k: [] for k in ("on", "z", "bell", "x", "y", "lean")
        }
        self.start: dict[str, float] = {
            "on": 0.0,
            "z": 0.0,
            "bell": 0.0,
            "x": 0.0,
            "y": 0.0,
            "lean": 0.0,
        }
        self.last: dict[str, float] = dict(self.start)
        self.last_t: dict[str, float] = dict.fromkeys(self.start, 0.0)
        self.profile_segments: list[tuple[float, float, str, float, float, float, float]] = []
        self.t = 0.0
        self.foot_length = float(rng.uniform(245.0, 275.0))
        self.width = float(rng.uniform(185.0, 215.0))
        # The bell's share on the plate: held from the start, or on the floor until picked up.
        self.start["bell"] = self.last["bell"] = 1.0 if plan.bell in ("held", "touch") else 0.0

    def move(self, key: str, t0: float, t1: float, value: float) -> None:
        t0 = max(t0, self.last_t[key])
        t1 = max(t1, t0 + 1e-3)
        self.moves[key].append((t0, t1, float(value)))
        self.last_t[key] = t1
        self.last[key] = float(value)

    def render(self, t: np.ndarray) -> dict[str, np.ndarray]:
        out = {}
        for key, moves in self.moves.items():
            v = np.full(t.shape, self.start[key])
            prev = self.start[key]
            for t0, t1, val in moves:
                s = _smoothstep((t - t0) / (t1 - t0))
                v = np.where(t >= t0, prev + (val - prev) * s, v)
                prev = val
            out[key] = v
        return out

    # -- pieces of the recording ------------------------------------------------------------
    def geometry(self, stance: str) -> dict[str, float]:
        rng, length = self.rng, self.foot_length
        heel = HEEL_Y_MM[stance] + rng.uniform(-10.0, 10.0)
        half = self.width / 2.0
        if stance == "bilateral":
            frac = rng.uniform(0.42, 0.48)
            return {
                "heel": heel,
                "x": rng.uniform(-6.0, 6.0),
                "y": heel + frac * length,
                "b": 0.0,
                "lead_x": 0.0,
                "back_x": 0.0,
                "back_y": 0.0,
                "lead_y": 0.0,
            }
        sign = -1.0 if stance == "kickstand-left" else 1.0
        b = float(rng.uniform(*self.plan.back_share))
        lead_x, back_x = sign * half, -sign * half
        lead_y = heel + rng.uniform(0.42, 0.50) * length
        back_y = heel + rng.uniform(0.02, 0.08) * length
        return {
            "heel": heel,
            "x": (1 - b) * lead_x + b * back_x,
            "y": (1 - b) * lead_y + b * back_y,
            "b": b,
            "lead_x": lead_x,
            "back_x": back_x,
            "back_y": back_y,
            "lead_y": lead_y,
        }

    def step_on(self, g: dict[str, float]) -> None:
        t0 = self.t
        self.move("x", t0 - 0.01, t0, g["x"] - 60.0 if g["x"] <= 0 else g["x"] + 60.0)
        self.move("y", t0 - 0.01, t0, g["y"])
        self.move("on", t0, t0 + 0.35, 0.5)
        self.move("on", t0 + 0.5, t0 + 0.8, 1.05)
        self.move("x", t0 + 0.5, t0 + 1.0, g["x"])
        self.move("on", t0 + 0.8, t0 + 1.2, 1.0)
        self.t = t0 + 1.2

    def step_off(self, g: dict[str, float]) -> None:
        t0 = self.t
        self.move("x", t0, t0 + 0.4, g["x"] + (60.0 if g["x"] >= 0 else -60.0))
        self.move("on", t0, t0 + 0.3, 1.04)
        self.move("on", t0 + 0.4, t0 + 0.7, 0.5)
        self.move("on", t0 + 0.8, t0 + 1.1, 0.0)
        self.t = t0 + 1.1

    def replace_feet(self, old: dict[str, float], new: dict[str, float]) -> None:
        """Lift one foot (weight onto the other), put it down in the new place, settle."""
        rng, t0 = self.rng, self.t
        stay_x = old["x"] + (-70.0 if rng.random() < 0.5 else 70.0)
        self.move("x", t0, t0 + 0.5, stay_x)
        self.move("on", t0, t0 + 0.25, 0.96)
        self.move("on", t0 + 0.25, t0 + 0.5, 1.03)
        self.move("on", t0 + 0.5, t0 + 0.8, 1.0)
        self.move("y", t0 + 0.6, t0 + 1.2, new["y"])
        self.move("x", t0 + 0.8, t0 + 1.4, new["x"])
        self.move("on", t0 + 0.9, t0 + 1.1, 1.04)
        self.move("on", t0 + 1.1, t0 + 1.4, 1.0)
        self.t = t0 + 1.4 + rng.uniform(0.0, 0.6)

    def hinge_set(
        self, stance: str, g: dict[str, float], arrived_by: str, first: bool, shift_centre: float
    ) -> None:
        rng, plan = self.rng, self.plan
        start = self.t
        still = (self.t, self.t + rng.uniform(3.5, 5.0))
        self.t = still[1]
        first_rep = len(self.reps)
        faults_plan = self.fault_plan(stance)
        for k, faults in enumerate(faults_plan):
            bell = "none"
            if plan.bell == "held":
                bell = "held"
            elif plan.bell == "touch":
                bell = "touch"
            elif plan.bell == "pickup":
                bell = "pickup" if k == 0 else ("putdown" if k == len(faults_plan) - 1 else "held")
                if len(faults_plan) == 1:
                    bell = "pickup"
            self.rep(stance, g, faults, bell, shift_centre, last=k == len(faults_plan) - 1)
        self.sets.append(
            PeopleSet(
                stance=stance,
                start_s=start,
                end_s=self.reps[-1].hold_end_s,
                still_s=still,
                rep_indices=tuple(range(first_rep, len(self.reps))),
                arrived_by=arrived_by,
                heel_y_mm=g["heel"],
                foot_length_mm=self.foot_length,
                stance_width_mm=self.width,
                baseline_mm=(g["x"], g["y"]),
            )
        )

    def fault_plan(self, stance: str) -> list[frozenset[str]]:
        rng, plan = self.rng, self.plan
        applicable = ["heel_shift", "backward_lean"]
        if stance != "bilateral":
            applicable.append("lateral_shift")
        out = []
        for _ in range(plan.n_reps):
            if rng.random() >= plan.fault_rate:
                out.append(frozenset())
                continue
            chosen = {f for f in applicable if rng.random() < 0.4}
            if not chosen:
                chosen = {applicable[int(rng.integers(len(applicable)))]}
            out.append(frozenset(chosen))
        return out

    def rep(
        self,
        stance: str,
        g: dict[str, float],
        faults: frozenset[str],
        bell: str,
        shift_centre: float,
        last: bool,
    ) -> None:
        rng, plan, length = self.rng, self.plan, self.foot_length
        profile = plan.profile if plan.profile != "mixed" else PROFILES[int(rng.integers(4))]
        (d_lo, d_hi), (a_lo, a_hi) = TEMPO_S[plan.tempo]
        descent = float(rng.uniform(d_lo, d_hi))
        ascent = float(rng.uniform(a_lo, a_hi))
        if profile == "jerky":
            # The stall adds to the phase: the moving parts keep a hinge's speed.
            descent += 0.4
            ascent += 0.3
        depth = float(rng.uniform(0.10, 0.24))
        set_down = 0.0
        transfer = 0.0
        if bell in ("touch", "pickup", "putdown"):
            set_down = float(rng.uniform(*plan.set_down_s))
            transfer = float(rng.uniform(0.06, 0.12))
        dwell = 2.0 * transfer + set_down
        if profile == "paused":
            dwell += float(rng.uniform(0.5, 1.5))
        elif set_down == 0.0:
            dwell += float(rng.uniform(0.0, 0.15))
        warp_d = float(rng.choice([rng.uniform(0.7, 0.85), rng.uniform(1.2, 1.5)]))
        warp_a = float(rng.choice([rng.uniform(0.7, 0.85), rng.uniform(1.2, 1.5)]))
        stall_d = float(rng.uniform(0.45, 0.7))
        stall_a = float(rng.uniform(0.3, 0.55))
        hold = float(rng.uniform(1.5, 3.5))
        rest = float(rng.uniform(0.8, 2.0)) if not last else float(rng.uniform(1.5, 2.5))

        t0 = self.t
        reach = t0 + descent
        leave = reach + dwell
        lockout = leave + ascent
        relax = lockout + hold
        # Letting go of the lockout moves the CoP a few mm (a lean 13-30 mm) while the
        # person stays standing tall: the hold lasts until the next movement.
        hold_end = relax + 0.5 + rest
        self.profile_segments.append((t0, reach, profile, warp_d, stall_d, -depth, 0.0))
        self.profile_segments.append((leave, lockout, profile, warp_a, stall_a, 0.0, -depth))

        # Bell transfers at the bottom (mass on the plate changes by the bell's).
        mid = 0.5 * (reach + leave)
        if set_down > 0:
            on_floor0 = mid - 0.5 * set_down
            on_floor1 = mid + 0.5 * set_down
            if bell in ("touch", "putdown"):
                self.move("bell", on_floor0 - transfer, on_floor0, 0.0)
            if bell in ("touch", "pickup"):
                self.move("bell", on_floor1, on_floor1 + transfer, 1.0)

        # CoP: bottom position, lateral shift, lean.
        if "heel_shift" in faults:
            frac = float(rng.uniform(*HEEL_BOTTOM_FRAC))
        else:
            frac = float(rng.uniform(*GOOD_BOTTOM_FRAC))
        if stance == "bilateral":
            shift = 0.0
        elif "lateral_shift" in faults:
            shift = float(rng.uniform(*NO_SHIFT_MM))
        else:
            shift = float(np.clip(shift_centre + rng.uniform(-3.0, 3.0), *GOOD_SHIFT_MM))
        lean = "backward_lean" in faults
        lock_ap = float(rng.uniform(*(LEAN_LOCK_AP_MM if lean else GOOD_LOCK_AP_MM)))

        b0 = g["b"]
        unload = float(rng.uniform(*plan.back_unload)) if b0 > 0 else 0.0
        b_bot = b0 * (1.0 - unload)
        if stance == "bilateral":
            x_bot = g["x"]
            y_bot = g["heel"] + frac * length
        else:
            sign = -1.0 if stance == "kickstand-left" else 1.0
            x_bot = g["x"] + sign * shift
            y_lead = g["heel"] + frac * length
            y_bot = (1.0 - b_bot) * y_lead + b_bot * g["back_y"]
        self.move("x", t0, reach, x_bot)
        self.move("y", t0, reach, y_bot)
        self.move("x", leave, lockout, g["x"])
        # The lean: an AP offset on top of the standing position.
        onset = None
        if lean:
            settle = float(rng.uniform(0.3, 0.5))
            if plan.lean_onset == "before":
                a = lockout - settle - rng.uniform(0.0, 0.2)
            elif plan.lean_onset == "at":
                a = lockout - 0.5 * settle
            else:
                a = lockout + rng.uniform(0.0, 0.1)
            a = max(a, leave + 0.1)
            onset = a - lockout
            self.move("y", leave, lockout, g["y"])
            self.move("lean", a, a + settle, lock_ap)
            self.move("lean", relax, relax + 0.5, 0.0)
        else:
            self.move("y", leave, lockout, g["y"] + lock_ap)
            self.move("y", relax, relax + 0.5, g["y"])
        self.reps.append(
            PeopleRep(
                start_s=t0,
                bottom_s=mid,
                lockout_s=lockout,
                hold_end_s=hold_end,
                relax_s=relax,
                stance=stance,
                faults=frozenset(faults),
                profile=profile,
                descent_s=descent,
                ascent_s=ascent,
                bottom_dwell_s=dwell,
                set_down_s=set_down,
                bell=bell,
                load_kg=plan.load_kg if plan.bell != "none" else 0.0,
                lean_onset_s=onset,
                lateral_shift_mm=shift,
                bottom_frac=frac,
                lockout_ap_mm=lock_ap,
                back_share=b0,
                back_unload=unload,
            )
        )
        self.t = hold_end

    def com_height(self, t: np.ndarray) -> np.ndarray:
        z = np.zeros_like(t)
        for t0, t1, profile, warp, stall, z_to, z_from in self.profile_segments:
            sel = t >= t0
            u = (t[sel] - t0) / (t1 - t0)
            p = _progress(u, profile, warp, stall)
            z[sel] = z_from + (z_to - z_from) * p
        return z


def make_person(plan: PersonPlan, seed: int = 0) -> PeopleRecording:
    """A recording of one generated person following ``plan``, the same for the same seed.

    Parameters
    ----------
    plan : PersonPlan
        What the person does.
    seed : int
        Every random choice (geometry, timing, depths, fault values, sway).

    Raises
    ------
    ValueError
        A plan field out of range.
    """
    plan.check()
    rng = np.random.default_rng([int(seed), zlib.crc32(repr(plan).encode())])
    bld = _Builder(plan, rng)
    bld.t = 1.0
    shift = {"kickstand-left": float(rng.uniform(22.0, 32.0))}
    if plan.asymmetric:
        # One side shifts about half as far as the other: an index near 60 %.
        shift["kickstand-right"] = shift["kickstand-left"] * float(rng.choice([0.55, 1.8]))
    else:
        shift["kickstand-right"] = shift["kickstand-left"] + float(rng.uniform(-1.0, 1.0))
    geoms = [bld.geometry(s) for s in plan.stances]
    bld.step_on(geoms[0])
    on_from = 1.0
    for i, (stance, g) in enumerate(zip(plan.stances, geoms, strict=True)):
        arrived = "step-on"
        if i:
            if plan.change == "step-off":
                bld.step_off(geoms[i - 1])
                bld.t += float(rng.uniform(2.0, 4.0))
                bld.step_on(g)
                arrived = "step-off"
            else:
                bld.replace_feet(geoms[i - 1], g)
                arrived = "replace"
        bld.hinge_set(stance, g, arrived, i == 0, shift.get(stance, 0.0))
    bld.step_off(geoms[-1])
    on_to = bld.t
    duration = bld.t + 1.5

    t = np.arange(0.0, duration + 0.5, 1.0 / GRID_HZ)
    paths = bld.render(t)
    z = bld.com_height(t)
    # Muscles do not step the acceleration: a gentle 6 Hz zero-phase low-pass of the height
    # (below the content of a 0.6 s phase) keeps the force finite at the jerky stalls.
    sos = signal.butter(2, 6.0, fs=GRID_HZ, output="sos")
    z = signal.sosfiltfilt(sos, z)
    dt = 1.0 / GRID_HZ
    acc = np.gradient(np.gradient(z, dt), dt)
    if plan.profile in ("jerky", "mixed"):
        # A hitch: a small 4-6 Hz force wobble (1.5 % of the weight) while a jerky rep moves.
        for t0, t1, profile, *_ in bld.profile_segments:
            if profile != "jerky":
                continue
            sel = (t >= t0) & (t <= t1)
            f = rng.uniform(4.0, 6.0)
            acc[sel] += (
                0.25
                * np.sin(2 * np.pi * f * (t[sel] - t0))
                * np.sin(np.pi * (t[sel] - t0) / (t1 - t0))
            )
    load = plan.load_kg if plan.bell != "none" else 0.0
    bell = np.clip(paths["bell"], 0.0, 1.0)
    mass = plan.body_mass_kg + load * bell
    sway_x, sway_y = _Sway(rng, plan.sway_mm), _Sway(rng, plan.sway_mm)
    # Standing still, the vertical force varies mostly with the heartbeat's recoil (the
    # ballistocardiogram, 1-10 Hz), a few tenths of a per cent of the weight, while the
    # centre of mass stays within a millimetre (docs/analysis-methods.md, "people model").
    tremor = _Sway(rng, TREMOR_FRACTION, band_hz=TREMOR_BAND_HZ, slope=0.0)
    presence = paths["on"]
    fz = (
        mass
        * (G_M_S2 * presence + acc * np.clip(presence, 0.0, 1.0))
        * (1.0 + tremor.at(t) * np.clip(presence, 0.0, 1.0))
    )
    fz = np.where(presence > 1e-4, np.maximum(fz, 0.0), 0.0)
    x = paths["x"] + sway_x.at(t)
    y = paths["y"] + paths["lean"] + sway_y.at(t)
    return PeopleRecording(
        name="people",
        plan=plan,
        seed=int(seed),
        duration_s=float(duration),
        reps=bld.reps,
        sets=bld.sets,
        body_mass_kg=plan.body_mass_kg,
        load_kg=load,
        foot_length_mm=bld.foot_length,
        on_plate_s=(on_from, on_to),
        t_grid_s=t,
        fz_grid_n=fz,
        x_grid_mm=x,
        y_grid_mm=y,
    )


def gain_errors(n_cells: int, error: float, seed: int) -> np.ndarray:
    """Relative gain errors of an uncalibrated plate's cells, each within +-``error``.

    The error's size is drawn near the limit (half to all of it) so a condition "10 %"
    means cells really 5-10 % off, with random signs.
    """
    rng = np.random.default_rng([int(seed), 0x6A1])
    size = rng.uniform(0.5, 1.0, n_cells) * float(error)
    sign = rng.choice([-1.0, 1.0], n_cells)
    return size * sign
