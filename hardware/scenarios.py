"""Named, seeded scenarios for the virtual plate, each with its ground truth.

A scenario is a scripted person (or a calibration mass) on the plate: when they step on,
stand still, hinge, in which stance, with which faults, and when they step off. The script
becomes a :class:`hardware.person.PersonMotion`; the truth (:class:`RepTruth` per rep,
:class:`SetTruth` per set, :class:`CalibrationTruth`) records what was scripted, so the
analysis can be scored against it.

Geometry (plate coordinates, PROTOCOL.md): the feet point to +y. A foot spans
``heel_y_mm .. heel_y_mm + foot_length_mm``; the feet's centre lines are
``stance_width_mm`` apart, centred on x = 0. In a kickstand stance the lead foot is flat and
the back foot stands on its ball beside the lead heel carrying ``back_foot_fraction`` of
the weight.

Fault separation (scripted values, before the few millimetres of sway added on top):

- bottom CoP along the foot: good 0.38-0.55 of foot length from the heel, ``heel_shift``
  0.08-0.22;
- kickstand lateral shift toward the lead leg at the bottom: good 15-35 mm,
  ``lateral_shift`` -15..+4 mm (missing: -3..+4, reversed: -15..-5);
- lockout CoP relative to the pre-rep standing baseline (AP): good within +-4 mm,
  ``backward_lean`` 12-25 mm posterior.

During a set the sway is scaled to :data:`SET_SWAY_GAIN` of quiet standing so these margins
hold for what an analyser measures, not just for the script.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from analysis.reps import FAULT_NAMES
from analysis.stance import DEFAULT_FOOT_LENGTH_MM, DEFAULT_HEEL_Y_MM, DEFAULT_STANCE_WIDTH_MM
from daq.calibration import calibration_positions_mm
from daq.events import STANCES
from daq.plate import PlateGeometry, load_plate
from hardware.person import G_M_S2, MotionScript, PersonMotion, cell_forces_n, make_sway

FAULTS = frozenset(FAULT_NAMES)
SCENARIO_NAMES = (
    "quiet-stance",
    "step-on-off",
    "hinge-bilateral",
    "hinge-bilateral-heels",
    "hinge-bilateral-leanback",
    "hinge-kickstand-left",
    "hinge-kickstand-right",
    "hinge-kickstand-left-noshift",
    "hinge-kickstand-right-reversed",
    "hinge-mixed",
    "demo",
    "calibration",
)
# Where the back foot's ball sits in a kickstand stance, as a fraction of foot length
# ahead of the lead heel ("beside the lead heel").
BACK_FOOT_BALL_FRAC = 0.04

# Scripted ranges (see module docstring).
GOOD_BOTTOM_FRAC = (0.38, 0.55)
HEEL_BOTTOM_FRAC = (0.08, 0.22)
GOOD_LATERAL_MM = (15.0, 35.0)
NO_SHIFT_LATERAL_MM = (-3.0, 4.0)
REVERSED_LATERAL_MM = (-15.0, -5.0)
FAULT_LATERAL_MM = (-15.0, 4.0)
GOOD_LOCKOUT_AP_MM = (-4.0, 4.0)
LEAN_LOCKOUT_AP_MM = (-25.0, -12.0)
# Sway during a set, relative to quiet standing. Full sway drifts ~5 mm between a pre-rep
# baseline and a lockout several seconds later, as much as the gap between a good lockout
# and a backward lean; a person concentrating on a set sways less, and the truth stays
# unambiguous.
SET_SWAY_GAIN = 0.3


@dataclass(frozen=True)
class RepTruth:
    """What one scripted hinge rep really was.

    Attributes
    ----------
    start_s : float
        Descent begins (the person was standing still before).
    bottom_s : float
        Middle of the bottom position (the centre of mass stays at its lowest from
        ``bottom_reach_s`` to ``bottom_leave_s``).
    lockout_s : float
        Ascent ends: standing tall; the lockout hold starts.
    end_s : float
        Lockout hold ends.
    faults : frozenset[str]
        Subset of {"heel_shift", "lateral_shift", "backward_lean"}.
    load_kg : float
        Kettlebell held (0 for bodyweight).
    set_down : bool
        Whether the bell is put on the floor (off the plate) at the bottom and picked up.
    lateral_shift_mm : float
        CoP shift toward the lead leg at the bottom relative to the standing baseline
        (+ toward the lead leg); 0 in the bilateral stance.
    bottom_cop_frac : float
        The plate CoP's AP position at the bottom, measured from the (lead) heel line, as a
        fraction of foot length.
    stance : str
        Stance of this rep.
    lockout_ap_mm : float
        AP offset of the lockout CoP from the pre-rep standing baseline (+ forward).
    depth_m : float
        Drop of the centre of mass.
    bottom_reach_s, bottom_leave_s : float
        When the bottom position is reached and left.
    """

    start_s: float
    bottom_s: float
    lockout_s: float
    end_s: float
    faults: frozenset[str]
    load_kg: float
    set_down: bool
    lateral_shift_mm: float
    bottom_cop_frac: float
    stance: str = "bilateral"
    lockout_ap_mm: float = 0.0
    depth_m: float = 0.0
    bottom_reach_s: float = 0.0
    bottom_leave_s: float = 0.0


@dataclass(frozen=True)
class SetTruth:
    """One set of reps in one stance, and the still standing before it.

    Attributes
    ----------
    stance : str
        "bilateral", "kickstand-left" or "kickstand-right".
    heel_y_mm, stance_width_mm, back_foot_fraction : float
        The stance's geometry (see module docstring).
    baseline_cop_mm : tuple[float, float]
        Scripted standing CoP (x, y) before the set (sway comes on top).
    still_s : tuple[float, float]
        Standing still before the first rep (at least 3 s).
    rep_indices : tuple[int, ...]
        Indices into :attr:`Scenario.reps`.
    """

    stance: str
    heel_y_mm: float
    stance_width_mm: float
    back_foot_fraction: float
    baseline_cop_mm: tuple[float, float]
    still_s: tuple[float, float]
    rep_indices: tuple[int, ...]


@dataclass(frozen=True, eq=False)
class CalibrationTruth:
    """Where and when the known mass stood still.

    Attributes
    ----------
    mass_kg : float
        The known mass.
    positions_mm : (k, 2) float
        Placements in order (x, y).
    hold_windows_s : (k, 2) float
        Start and end of each still hold (transients excluded).
    empty_s : tuple[float, float]
        The empty plate at the start (for the tare).
    """

    mass_kg: float
    positions_mm: np.ndarray
    hold_windows_s: np.ndarray
    empty_s: tuple[float, float]


@dataclass(frozen=True, eq=False)
class Scenario:
    """A scripted scenario and its truth.

    Time functions take any array of scenario times in seconds; before 0 and after
    ``duration_s`` the first and last states hold.

    Attributes
    ----------
    name : str
        One of :data:`SCENARIO_NAMES`.
    duration_s : float
        Length; ``demo`` and every scenario but ``quiet-stance`` end with the plate empty.
    stance : str
        Stance of the hinge sets ("mixed" for ``demo``, "none" for ``calibration``).
    foot_length_mm, heel_y_mm, stance_width_mm : float
        Geometry of the (first) stance.
    body_mass_kg : float
        The person's mass (0 for calibration).
    reps : list[RepTruth]
        Every rep in time order.
    back_foot_fraction : float
        Share of weight on the back foot in a kickstand stance.
    load_kg : float
        Kettlebell held throughout the hinge scenarios (0 = bodyweight).
    set_down : bool
        Whether the bell goes to the floor at the bottom of every rep.
    seed : int
        What made it.
    sets : tuple[SetTruth, ...]
        Sets in time order.
    still_windows_s : tuple[tuple[float, float], ...]
        Stretches where the person (or mass) stands still with nothing else going on.
    on_plate_s : tuple[float, float] or None
        From the start of stepping on to the end of stepping off (or ``duration_s``).
    calibration : CalibrationTruth or None
        Truth of the ``calibration`` scenario.
    motion : PersonMotion
        The force and CoP paths behind the time functions.
    """

    name: str
    duration_s: float
    stance: str
    foot_length_mm: float
    heel_y_mm: float
    stance_width_mm: float
    body_mass_kg: float
    reps: list[RepTruth]
    back_foot_fraction: float
    load_kg: float
    set_down: bool
    seed: int
    sets: tuple[SetTruth, ...]
    still_windows_s: tuple[tuple[float, float], ...]
    on_plate_s: tuple[float, float] | None
    calibration: CalibrationTruth | None
    motion: PersonMotion = field(repr=False)

    def fz_n(self, t_s: np.ndarray) -> np.ndarray:
        """Total vertical force in newtons at scenario times ``t_s``."""
        return self.motion.fz_n(t_s)

    def cop_mm(self, t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """True CoP (x_mm, y_mm) at ``t_s``; NaN where the plate is empty."""
        return self.motion.cop_mm(t_s)

    def cell_forces_n(self, t_s: np.ndarray, plate: PlateGeometry | None = None) -> np.ndarray:
        """True per-cell forces (N, n) in newtons at ``t_s`` for ``plate`` (default preset).

        Four cells at a rectangle share the load bilinearly, so the forces' CoP equals
        :meth:`cop_mm` exactly; see :func:`hardware.person.cell_forces_n`.
        """
        plate = plate if plate is not None else load_plate()
        t = np.atleast_1d(np.asarray(t_s, dtype=float))
        x, y = self.cop_mm(t)
        return cell_forces_n(self.fz_n(t), x, y, plate)


# -- stance geometry ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Stance:
    stance: str
    heel_y_mm: float
    foot_length_mm: float
    width_mm: float
    back_fraction: float

    @property
    def lead_sign(self) -> float:
        """-1 if the left foot leads, +1 if the right, 0 bilateral."""
        return {"bilateral": 0.0, "kickstand-left": -1.0, "kickstand-right": 1.0}[self.stance]

    def foot_centres_mm(self) -> dict[str, tuple[float, float]]:
        """Where each foot carries its load (x, y) when it stands alone."""
        half = self.width_mm / 2.0
        mid = self.heel_y_mm + 0.45 * self.foot_length_mm
        ball = self.heel_y_mm + BACK_FOOT_BALL_FRAC * self.foot_length_mm
        if self.stance == "bilateral":
            return {"left": (-half, mid), "right": (half, mid)}
        if self.stance == "kickstand-left":
            return {"left": (-half, mid), "right": (half, ball)}
        return {"left": (-half, ball), "right": (half, mid)}

    def lead_foot(self) -> str:
        return "right" if self.stance == "kickstand-right" else "left"

    def baseline_cop_mm(self, rng: np.random.Generator) -> tuple[float, float]:
        """A standing CoP for this stance: over the midfoot, weighted between the feet."""
        length = self.foot_length_mm
        if self.stance == "bilateral":
            x0 = rng.uniform(-6.0, 6.0)  # nobody stands perfectly symmetric
            frac = rng.uniform(0.40, 0.47)
            return x0, self.heel_y_mm + frac * length
        b = self.back_fraction
        half = self.width_mm / 2.0
        x0 = self.lead_sign * half * (1.0 - 2.0 * b)
        frac = (1.0 - b) * rng.uniform(0.42, 0.48) + b * BACK_FOOT_BALL_FRAC
        return x0, self.heel_y_mm + frac * length


# -- choreography ---------------------------------------------------------------------------


class _Choreographer:
    """Writes one scenario's script and its truth, moving a time cursor forward."""

    def __init__(self, rng: np.random.Generator, body_mass_kg: float, load_kg: float) -> None:
        self.rng = rng
        self.body_mass_kg = body_mass_kg
        self.load_kg = load_kg
        self.script = MotionScript(
            {
                "presence": 0.0,
                "mass_kg": body_mass_kg + load_kg,
                "com_m": 0.0,
                "cop_x_mm": 0.0,
                "cop_y_mm": 0.0,
            }
        )
        self.t_s = 0.0
        self.reps: list[RepTruth] = []
        self.sets: list[SetTruth] = []
        self.still: list[tuple[float, float]] = []
        self.step_on_s: float | None = None
        self.step_off_end_s: float | None = None
        self.baseline = (0.0, 0.0)

    def _cop_to(self, t0: float, t1: float, x: float, y: float) -> None:
        self.script.move("cop_x_mm", t0, t1, x)
        self.script.move("cop_y_mm", t0, t1, y)

    def _bounce(self, t0: float, up: float, down: float) -> float:
        """Force wobble of lifting and replacing a foot; returns when it has settled."""
        p = self.script
        p.move("presence", t0, t0 + 0.25, up)
        p.move("presence", t0 + 0.25, t0 + 0.5, down)
        p.move("presence", t0 + 0.5, t0 + 0.8, 1.0)
        return t0 + 0.8

    def empty(self, duration_s: float) -> None:
        self.t_s += duration_s

    def step_on(self, st: _Stance) -> None:
        """First foot, then second with a push overshoot, CoP settling at the baseline."""
        rng, p = self.rng, self.script
        feet = st.foot_centres_mm()
        if st.stance == "bilateral":
            first = "left" if rng.random() < 0.5 else "right"
        else:
            first = st.lead_foot()
        second = "right" if first == "left" else "left"
        k = rng.uniform(0.9, 1.3)  # some step on briskly, some carefully
        t0 = self.t_s
        self.step_on_s = t0
        self.baseline = st.baseline_cop_mm(rng)
        x0, y0 = self.baseline
        fx, fy = feet[first]
        sx, _ = feet[second]
        p.jump("cop_x_mm", t0 - 0.005, fx)
        p.jump("cop_y_mm", t0 - 0.005, fy)
        p.move("presence", t0, t0 + 0.30 * k, 0.55)
        p.move("presence", t0 + 0.40 * k, t0 + 0.75 * k, rng.uniform(1.04, 1.09))
        self._cop_to(t0 + 0.40 * k, t0 + 0.85 * k, x0 + 0.12 * (sx - x0), y0)
        p.move("presence", t0 + 0.75 * k, t0 + 1.0 * k, rng.uniform(0.96, 0.985))
        p.move("presence", t0 + 1.0 * k, t0 + 1.3 * k, 1.0)
        p.move("cop_x_mm", t0 + 0.85 * k, t0 + 1.4 * k, x0)
        self.t_s = t0 + 1.4 * k

    def step_off(self, st: _Stance) -> None:
        """Weight onto one foot, a push, then the plate unloads."""
        rng, p = self.rng, self.script
        feet = st.foot_centres_mm()
        stay = st.lead_foot() if st.stance != "bilateral" else rng.choice(["left", "right"])
        t0 = self.t_s
        self._cop_to(t0, t0 + 0.5, *feet[stay])
        p.move("presence", t0, t0 + 0.25, 0.985)
        p.move("presence", t0 + 0.25, t0 + 0.5, 1.0)
        p.move("presence", t0 + 0.5, t0 + 0.7, rng.uniform(1.03, 1.06))
        p.move("presence", t0 + 0.7, t0 + 1.1, 0.0)
        self.t_s = t0 + 1.1
        self.step_off_end_s = self.t_s

    def change_stance(self, old: _Stance, new: _Stance) -> None:
        """Move both feet: weight onto one, re-place the other, and the same again."""
        old_feet, new_feet = old.foot_centres_mm(), new.foot_centres_mm()
        b = new.lead_foot() if new.stance != "bilateral" else "right"
        a = "left" if b == "right" else "right"
        t0 = self.t_s
        self._cop_to(t0, t0 + 0.6, *old_feet[a])  # stand on a, move b
        t1 = self._bounce(t0 + 0.6, 1.06, 0.95)
        self._cop_to(t1, t1 + 0.6, *new_feet[b])  # stand on b, move a
        t2 = self._bounce(t1 + 0.6, 1.05, 0.96)
        self.baseline = new.baseline_cop_mm(self.rng)
        self._cop_to(t2, t2 + 0.7, *self.baseline)
        self.t_s = t2 + 0.7

    def stand_still(self, duration_s: float) -> tuple[float, float]:
        window = (self.t_s, self.t_s + duration_s)
        self.still.append(window)
        self.t_s += duration_s
        return window

    def hinge_set(
        self,
        st: _Stance,
        fault_plan: list[frozenset[str]],
        *,
        set_down: bool,
        lateral_fault_mm: tuple[float, float],
        still_s: float,
    ) -> None:
        """Still standing, then one rep per entry of ``fault_plan``."""
        window = self.stand_still(still_s)
        self.script.move("sway_gain", window[0] + 0.5, window[0] + 1.5, SET_SWAY_GAIN)
        first = len(self.reps)
        for faults in fault_plan:
            self._rep(st, faults, set_down=set_down, lateral_fault_mm=lateral_fault_mm)
        self.script.move("sway_gain", self.t_s - 1.0, self.t_s, 1.0)
        self.sets.append(
            SetTruth(
                stance=st.stance,
                heel_y_mm=st.heel_y_mm,
                stance_width_mm=st.width_mm,
                back_foot_fraction=st.back_fraction if st.stance != "bilateral" else 0.0,
                baseline_cop_mm=self.baseline,
                still_s=window,
                rep_indices=tuple(range(first, len(self.reps))),
            )
        )

    def _rep(
        self,
        st: _Stance,
        faults: frozenset[str],
        *,
        set_down: bool,
        lateral_fault_mm: tuple[float, float],
    ) -> None:
        rng, p = self.rng, self.script
        x0, y0 = self.baseline
        length = st.foot_length_mm
        descent = rng.uniform(1.0, 2.5)
        ascent = rng.uniform(0.8, 2.0)
        hold = rng.uniform(2.0, 4.0)
        gap = rng.uniform(1.8, 3.0)
        down = set_down and self.load_kg > 0
        pause = rng.uniform(1.4, 2.0) if down else rng.uniform(0.1, 0.4)
        depth = rng.uniform(0.12, 0.22)

        frac = rng.uniform(*(HEEL_BOTTOM_FRAC if "heel_shift" in faults else GOOD_BOTTOM_FRAC))
        if st.stance == "bilateral":
            shift = 0.0
        elif "lateral_shift" in faults:
            shift = rng.uniform(*lateral_fault_mm)
        else:
            shift = rng.uniform(*GOOD_LATERAL_MM)
        lock_ap = rng.uniform(
            *(LEAN_LOCKOUT_AP_MM if "backward_lean" in faults else GOOD_LOCKOUT_AP_MM)
        )

        start = self.t_s
        reach = start + descent
        leave = reach + pause
        lockout = leave + ascent
        end = lockout + hold
        y_bottom = st.heel_y_mm + frac * length
        x_bottom = x0 + st.lead_sign * shift

        p.move("com_m", start, reach, -depth)
        p.move("com_m", leave, lockout, 0.0)
        self._cop_to(start, reach, x_bottom, y_bottom)
        self._cop_to(leave, lockout, x0, y0 + lock_ap)
        p.move("cop_y_mm", end, end + 0.6, y0)  # back to the usual stance after the hold
        if down:
            carried = self.body_mass_kg + self.load_kg
            p.move("mass_kg", reach + 0.15, reach + 0.40, self.body_mass_kg)
            p.move("mass_kg", leave - 0.45, leave - 0.15, carried)

        self.reps.append(
            RepTruth(
                start_s=start,
                bottom_s=0.5 * (reach + leave),
                lockout_s=lockout,
                end_s=end,
                faults=frozenset(faults),
                load_kg=self.load_kg,
                set_down=down,
                lateral_shift_mm=shift,
                bottom_cop_frac=frac,
                stance=st.stance,
                lockout_ap_mm=lock_ap,
                depth_m=depth,
                bottom_reach_s=reach,
                bottom_leave_s=leave,
            )
        )
        self.t_s = end + gap


# -- public ---------------------------------------------------------------------------------

_COMMON_KW = ("foot_length_mm", "heel_y_mm", "stance_width_mm", "sway_ml_mm", "sway_ap_mm")
_EXTRA_KW = {
    "quiet-stance": ("duration_s",),
    "step-on-off": ("duration_s",),
    "hinge-mixed": ("stance", "fault_rate"),
    "calibration": ("mass_kg", "plate"),
}
# Fixed plans of the single-fault hinge scenarios: (stance, faults of every rep, lateral range).
# The fault the demo's second rep shows in each stance.
_DEMO_FAULTS = {
    "bilateral": "heel_shift",
    "kickstand-left": "lateral_shift",
    "kickstand-right": "backward_lean",
}

_HINGE_SETS: dict[str, tuple[str, frozenset[str], tuple[float, float]]] = {
    "hinge-bilateral": ("bilateral", frozenset(), FAULT_LATERAL_MM),
    "hinge-bilateral-heels": ("bilateral", frozenset({"heel_shift"}), FAULT_LATERAL_MM),
    "hinge-bilateral-leanback": ("bilateral", frozenset({"backward_lean"}), FAULT_LATERAL_MM),
    "hinge-kickstand-left": ("kickstand-left", frozenset(), FAULT_LATERAL_MM),
    "hinge-kickstand-right": ("kickstand-right", frozenset(), FAULT_LATERAL_MM),
    "hinge-kickstand-left-noshift": (
        "kickstand-left",
        frozenset({"lateral_shift"}),
        NO_SHIFT_LATERAL_MM,
    ),
    "hinge-kickstand-right-reversed": (
        "kickstand-right",
        frozenset({"lateral_shift"}),
        REVERSED_LATERAL_MM,
    ),
}


def _mixed_faults(
    rng: np.random.Generator, stance: str, n_reps: int, fault_rate: float
) -> list[frozenset[str]]:
    applicable = ["heel_shift", "backward_lean"]
    if stance != "bilateral":
        applicable.append("lateral_shift")
    plan = []
    for _ in range(n_reps):
        if rng.random() >= fault_rate:
            plan.append(frozenset())
            continue
        chosen = {f for f in applicable if rng.random() < 0.45}
        if not chosen:
            chosen = {applicable[int(rng.integers(len(applicable)))]}
        plan.append(frozenset(chosen))
    return plan


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def make_scenario(
    name: str,
    *,
    body_mass_kg: float = 75.0,
    load_kg: float = 0.0,
    set_down: bool = False,
    back_foot_fraction: float = 0.2,
    n_reps: int | None = None,
    seed: int = 0,
    **kw: object,
) -> Scenario:
    """A named scenario, the same for the same arguments.

    Parameters
    ----------
    name : str
        One of :data:`SCENARIO_NAMES`.
    body_mass_kg : float
        The person's mass.
    load_kg : float
        Kettlebell held in the hinge sets (0 = bodyweight).
    set_down : bool
        Put the bell on the floor at the bottom of each rep (needs ``load_kg`` > 0).
    back_foot_fraction : float
        Share of weight on the back foot in a kickstand stance (0.1-0.3 is typical).
    n_reps : int, optional
        Reps per set (default 5; 4 per set in ``demo``, which has three sets).
    seed : int
        Seed of every random choice (timing, depth, fault values, sway).
    **kw
        ``foot_length_mm`` (260), ``heel_y_mm`` (-130 bilateral, -60 kickstand),
        ``stance_width_mm`` (200), ``sway_ml_mm`` (2.5), ``sway_ap_mm`` (3.5) for every
        person; ``duration_s`` of standing for quiet-stance (60) and step-on-off (10);
        ``stance`` ("kickstand-left") and ``fault_rate`` (0.5) for hinge-mixed;
        ``mass_kg`` (20) and ``plate`` (PlateGeometry or preset name) for calibration.

    Raises
    ------
    ValueError
        Unknown name or keyword, or a value out of range; the message lists what is valid.
    """
    if name not in SCENARIO_NAMES:
        raise ValueError(
            f"there is no scenario {name!r}: use one of {', '.join(SCENARIO_NAMES)}"
        )
    allowed = _COMMON_KW + _EXTRA_KW.get(name, ())
    unknown = sorted(set(kw) - set(allowed))
    _check(
        not unknown,
        f"scenario {name!r} does not take {', '.join(unknown)}: it takes body_mass_kg, "
        f"load_kg, set_down, back_foot_fraction, n_reps, seed, {', '.join(allowed)}",
    )
    _check(20.0 <= body_mass_kg <= 250.0, "body_mass_kg must be between 20 and 250")
    _check(0.0 <= load_kg <= 100.0, "load_kg must be between 0 and 100")
    _check(0.0 <= back_foot_fraction <= 0.45, "back_foot_fraction must be between 0 and 0.45")
    reps_per_set = n_reps if n_reps is not None else (4 if name == "demo" else 5)
    _check(1 <= int(reps_per_set) <= 500, "n_reps must be between 1 and 500")
    reps_per_set = int(reps_per_set)

    rng = np.random.default_rng([int(seed), zlib.crc32(name.encode())])
    foot_length = float(kw.get("foot_length_mm", DEFAULT_FOOT_LENGTH_MM))
    width = float(kw.get("stance_width_mm", DEFAULT_STANCE_WIDTH_MM))
    _check(150.0 <= foot_length <= 350.0, "foot_length_mm must be between 150 and 350")
    _check(0.0 <= width <= 500.0, "stance_width_mm must be between 0 and 500")

    def stance_geometry(stance: str) -> _Stance:
        _check(stance in STANCES, f"stance must be one of {', '.join(STANCES)}")
        heel = float(kw.get("heel_y_mm", DEFAULT_HEEL_Y_MM[stance]))
        return _Stance(stance, heel, foot_length, width, back_foot_fraction)

    if name == "calibration":
        return _calibration_scenario(rng, seed, kw)

    ch = _Choreographer(rng, body_mass_kg, load_kg)
    stance = "bilateral"
    ch.empty(1.0)

    if name in ("quiet-stance", "step-on-off"):
        standing_s = float(kw.get("duration_s", 60.0 if name == "quiet-stance" else 10.0))
        _check(3.0 <= standing_s <= 24 * 3600.0, "duration_s must be between 3 s and 24 h")
        st = stance_geometry("bilateral")
        ch.step_on(st)
        settle = 0.3
        ch.t_s += settle
        ch.stand_still(standing_s - settle)
        if name == "step-on-off":
            ch.step_off(st)
            ch.empty(1.5)
        geometry = st
    elif name == "demo":
        stance = "mixed"
        plan = [stance_geometry(s) for s in STANCES]
        ch.step_on(plan[0])
        for i, st in enumerate(plan):
            if i:
                ch.change_stance(plan[i - 1], st)
            # The second rep of each set shows one fault, so a first look at the app
            # sees every coaching cue once: heels (bilateral), no lateral shift
            # (kickstand-left), leaning back at lockout (kickstand-right).
            demo_faults = [frozenset()] * reps_per_set
            if reps_per_set >= 2:
                demo_faults[1] = frozenset({_DEMO_FAULTS[st.stance]})
            ch.hinge_set(
                st,
                demo_faults,
                set_down=set_down,
                lateral_fault_mm=FAULT_LATERAL_MM,
                still_s=5.0 if i == 0 else rng.uniform(3.5, 4.5),
            )
        ch.step_off(plan[-1])
        ch.empty(1.5)
        geometry = plan[0]
    else:
        if name == "hinge-mixed":
            stance = str(kw.get("stance", "kickstand-left"))
            _check(stance in STANCES, f"stance must be one of {', '.join(STANCES)}")
            fault_rate = float(kw.get("fault_rate", 0.5))
            _check(0.0 <= fault_rate <= 1.0, "fault_rate must be between 0 and 1")
            lateral = FAULT_LATERAL_MM
            plan_faults = _mixed_faults(rng, stance, reps_per_set, fault_rate)
        else:
            stance, faults, lateral = _HINGE_SETS[name]
            plan_faults = [faults] * reps_per_set
        geometry = stance_geometry(stance)
        ch.step_on(geometry)
        ch.hinge_set(
            geometry,
            plan_faults,
            set_down=set_down,
            lateral_fault_mm=lateral,
            still_s=rng.uniform(3.5, 4.5),
        )
        ch.step_off(geometry)
        ch.empty(1.5)

    duration = ch.t_s
    sway = make_sway(
        duration + 1.0,
        rng,
        ml_rms_mm=float(kw.get("sway_ml_mm", 2.5)),
        ap_rms_mm=float(kw.get("sway_ap_mm", 3.5)),
    )
    end_on = ch.step_off_end_s if ch.step_off_end_s is not None else duration
    return Scenario(
        name=name,
        duration_s=duration,
        stance=stance,
        foot_length_mm=foot_length,
        heel_y_mm=geometry.heel_y_mm,
        stance_width_mm=width,
        body_mass_kg=float(body_mass_kg),
        reps=ch.reps,
        back_foot_fraction=float(back_foot_fraction),
        load_kg=float(load_kg),
        set_down=bool(set_down and load_kg > 0),
        seed=int(seed),
        sets=tuple(ch.sets),
        still_windows_s=tuple(ch.still),
        on_plate_s=(float(ch.step_on_s or 0.0), float(end_on)),
        calibration=None,
        motion=PersonMotion(paths=ch.script.paths(), sway=sway),
    )


def _calibration_scenario(rng: np.random.Generator, seed: int, kw: dict) -> Scenario:
    """Empty plate, then the known mass set down, held and lifted at each position."""
    mass_kg = float(kw.get("mass_kg", 20.0))
    _check(0.5 <= mass_kg <= 200.0, "mass_kg must be between 0.5 and 200")
    plate = kw.get("plate")
    if plate is None:
        plate = load_plate()
    elif isinstance(plate, str):
        plate = load_plate(plate)
    _check(isinstance(plate, PlateGeometry), "plate must be a PlateGeometry or a preset name")
    positions = np.asarray(calibration_positions_mm(plate), dtype=float)

    script = MotionScript(
        {"presence": 0.0, "mass_kg": mass_kg, "com_m": 0.0, "cop_x_mm": 0.0, "cop_y_mm": 0.0}
    )
    empty = (0.0, rng.uniform(4.8, 5.2))
    t = empty[1]
    holds = []
    for i, (x, y) in enumerate(positions):
        if i:
            t += rng.uniform(2.0, 3.0)  # carried to the next mark: plate empty
        script.jump("cop_x_mm", t - 0.01, x)
        script.jump("cop_y_mm", t - 0.01, y)
        # Set down: a quick load with an impact overshoot and a short settle.
        script.move("presence", t, t + 0.15, rng.uniform(1.08, 1.15))
        script.move("presence", t + 0.15, t + 0.30, rng.uniform(0.93, 0.97))
        script.move("presence", t + 0.30, t + 0.50, 1.0)
        hold = (t + 0.5, t + 0.5 + rng.uniform(3.8, 4.2))
        holds.append(hold)
        t = hold[1]
        # Lift: a little extra pull first, then the plate unloads.
        script.move("presence", t, t + 0.10, 0.98)
        script.move("presence", t + 0.10, t + 0.35, 0.0)
        t += 0.35
    duration = t + 2.0
    return Scenario(
        name="calibration",
        duration_s=duration,
        stance="none",
        foot_length_mm=DEFAULT_FOOT_LENGTH_MM,
        heel_y_mm=0.0,
        stance_width_mm=0.0,
        body_mass_kg=0.0,
        reps=[],
        back_foot_fraction=0.0,
        load_kg=0.0,
        set_down=False,
        seed=int(seed),
        sets=(),
        still_windows_s=(empty, *holds),
        on_plate_s=None,
        calibration=CalibrationTruth(
            mass_kg=mass_kg,
            positions_mm=positions,
            hold_windows_s=np.array(holds),
            empty_s=empty,
        ),
        motion=PersonMotion(paths=script.paths(), sway=None),
    )


def static_weight_n(scenario: Scenario) -> float:
    """Weight of the person plus a held bell while standing still, in newtons."""
    return (scenario.body_mass_kg + scenario.load_kg) * G_M_S2
