"""Virtual-plate people who do the drills, each with the truth of what they were scripted to do.

A drill person watches the same screen a real one would: they are built from the drill's
own plan (:func:`analysis.drills.drill_plan`), step onto the plate at 1 s, and from the
moment the drill starts react to each instruction after their reaction time. When the
drill's screen is registered for the plate's URL (:func:`watch_screen`, which
``midfoot drill`` does), that moment is when the screen shows the drill started, however
late that is; without one it is when an idle machine would start it (they have stood
there :data:`analysis.drills.SETTLE_S`). How they move is their behaviour:

============= ===============================================================================
perfect       reacts in 0.3 s, moves in 0.8 s straight to the target and holds it
late          reacts in 0.8 s (tracks a moving target 0.45 s behind)
overshooting  goes 35 % past the target and corrects (tracks 30 % too wide)
weak-left     on the left side moves slowly and stops at 60 % of the target (right too)
drifting      drifts out of the band part way into each hold and comes back; wanders
              across the axis while tracking; leans 25 deg off the asked direction
============= ===============================================================================

In the weight drill a weak side means standing 70 % on the other foot, drifting a slow
wander of +-9 %, late finding the centre only after 3 s.

Names are ``drill-DRILL-BEHAVIOUR`` (``drill-lateral-late``); ``sim://`` plays them with the
drill's settings in its ``drill`` parameter (``DrillSettings.to_text``), e.g.
``sim://drill-lateral-late?drill=drill%3Dlateral%2Clevel%3Dhard&seed=3``.
"""

from __future__ import annotations

import math
import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from analysis.drills import (
    BASELINE_S,
    DRILL_NAMES,
    PERSON_MIN_KG,
    SETTLE_S,
    DrillSettings,
    Phase,
    drill_plan,
)
from analysis.stance import DEFAULT_FOOT_LENGTH_MM, DEFAULT_STANCE_WIDTH_MM
from daq.events import DrillStarted
from hardware.person import MotionScript, PersonMotion, make_sway
from hardware.scenarios import Scenario

BEHAVIOURS = ("perfect", "late", "overshooting", "weak-left", "weak-right", "drifting")
DRILL_PERSON_NAMES = tuple(f"drill-{d}-{b}" for d in DRILL_NAMES for b in BEHAVIOURS)
STEP_ON_S = 1.0
HEEL_Y_MM = -130.0
BASELINE_Y_MM = HEEL_Y_MM + 0.45 * DEFAULT_FOOT_LENGTH_MM
# How far this person can move their CoP from standing: left, right, back, forward (mm).
REACH_MM = {"left": 90.0, "right": 90.0, "backward": 45.0, "forward": 70.0}
SWAY_GAIN = 0.5  # someone concentrating on a target sways less than in quiet standing
RETURN_S = 0.8
# How much later than scripted a drill watched on a screen may start (a looping plate's
# scenario is this much longer).
SCREEN_WAIT_S = 15.0


@dataclass(frozen=True)
class Behaviour:
    """How a drill person moves (see the module docstring)."""

    name: str
    reaction_s: float = 0.30
    move_s: float = 0.8
    overshoot_frac: float = 0.0
    weak_side: str | None = None
    weak_reach_frac: float = 0.6
    weak_move_s: float = 1.4
    drifting: bool = False
    lag_s: float = 0.08
    amplitude_gain: float = 1.0
    sway_gain: float = SWAY_GAIN


def behaviour(name: str) -> Behaviour:
    """The behaviour called ``name`` (one of :data:`BEHAVIOURS`)."""
    table = {
        "perfect": Behaviour("perfect"),
        "late": Behaviour("late", reaction_s=0.80, lag_s=0.45),
        "overshooting": Behaviour("overshooting", overshoot_frac=0.35, amplitude_gain=1.3),
        "weak-left": Behaviour("weak-left", weak_side="left"),
        "weak-right": Behaviour("weak-right", weak_side="right"),
        "drifting": Behaviour("drifting", drifting=True, sway_gain=0.8),
    }
    if name not in table:
        raise ValueError(f"there is no drill behaviour {name!r}: use one of {', '.join(table)}")
    return table[name]


@dataclass(frozen=True)
class TrialTruth:
    """What the person was scripted to do in one trial.

    Attributes
    ----------
    index : int
        The trial's index in its drill.
    label : str
        Its side, pace or direction.
    move_start_s : float
        When the movement began (scenario time).
    reaction_s : float
        ``move_start_s`` minus when the target was shown.
    aim_mm : float
        Where they went (along the axis or the lean direction, from the baseline).
    peak_mm : float
        The furthest point of the movement (``aim_mm`` plus any overshoot).
    reaches_band : bool
        Whether they meant to reach the band at all (lateral).
    drift_outs : int
        Times they were scripted to drift out of the band.
    """

    index: int
    label: str
    move_start_s: float
    reaction_s: float
    aim_mm: float
    peak_mm: float
    reaches_band: bool = True
    drift_outs: int = 0


@dataclass(frozen=True, eq=False)
class DrillTruth:
    """A drill person's script: who, which drill, when it starts and each trial.

    Attributes
    ----------
    name : str
        ``drill-DRILL-BEHAVIOUR``.
    settings : DrillSettings
        The resolved drill settings the person followed.
    behaviour : Behaviour
        How they move.
    start_s : float
        When the drill starts (scenario time), as the drill finds it.
    baseline_mm : tuple of float
        Where they stand.
    reach_mm : dict of str to float
        How far they can move their CoP each way.
    trials : tuple of TrialTruth
        One per scored trial, in order.
    """

    name: str
    settings: DrillSettings
    behaviour: Behaviour
    start_s: float
    baseline_mm: tuple[float, float]
    reach_mm: dict[str, float]
    trials: tuple[TrialTruth, ...] = field(default=())


@dataclass(frozen=True, eq=False)
class DrillPerson:
    """A drill person: the scenario the virtual plate plays and its truth.

    Attributes
    ----------
    scenario : Scenario
        What the virtual plate plays.
    truth : DrillTruth
        The script of the (first) drill.
    truths : tuple of DrillTruth
        The script of each drill of a sequence, in order (``truth`` is the first).
    screen : DrillScreen or None
        The screen the person watches (None: they follow their script's timeline).
    """

    scenario: Scenario
    truth: DrillTruth
    truths: tuple[DrillTruth, ...] = ()
    screen: DrillScreen | None = None


class DrillScreen:
    """What a drill shows, as the person in front of it sees it.

    A real person starts the drill when the screen says so, however late the drill found
    its start (it waits for the start-up tare, and on a busy machine that can take a few
    blocks). A drill person given a screen does the same: until the screen shows the
    drill's start they stand as they stood when the script expected it, then their script
    runs from the start shown (:meth:`script_s`). The drill's own session reports what it
    shows through :meth:`see` (``DrillSession.watchers``).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.start_s = math.nan  # plate time the (first) drill started at, as shown

    def see(self, event: object) -> None:
        """Take one drill event as shown (only the first drill's start matters)."""
        if isinstance(event, DrillStarted) and math.isfinite(event.start_s):
            with self._lock:
                if not math.isfinite(self.start_s):
                    self.start_s = float(event.start_s)

    def script_s(self, t_s: np.ndarray, scripted_start_s: float) -> np.ndarray:
        """The script's time at scenario times ``t_s`` for a drill scripted to start then.

        Before the script's start it is the same; from it on the script waits at its start
        until the screen shows the drill started, then runs that much later. Later drills
        of a sequence start from the end of the one before, so one delay holds for all.
        """
        t = np.asarray(t_s, dtype=float)
        with self._lock:
            shown = self.start_s
        if not math.isfinite(shown):
            return np.minimum(t, scripted_start_s)
        delay = max(shown - scripted_start_s, 0.0)
        return np.where(t < scripted_start_s, t,
                        np.maximum(t - delay, scripted_start_s))


_SCREENS: dict[str, DrillScreen] = {}
_SCREENS_LOCK = threading.Lock()


def watch_screen(url: str) -> DrillScreen:
    """The screen the drill person behind ``url`` watches (made on first use).

    Call it before the plate opens: a drill person made for a URL that has a screen waits
    for the screen; one without a screen follows its script's own timeline.
    """
    with _SCREENS_LOCK:
        return _SCREENS.setdefault(url, DrillScreen())


def screen_of(url: str) -> DrillScreen | None:
    """The screen registered for ``url`` (None: nobody reports what the drill shows)."""
    with _SCREENS_LOCK:
        return _SCREENS.get(url)


def forget_screen(url: str) -> None:
    """Drop the screen of ``url`` (its drill ended)."""
    with _SCREENS_LOCK:
        _SCREENS.pop(url, None)


def parse_person_name(name: str) -> tuple[str, str]:
    """The drill and behaviour of ``drill-DRILL-BEHAVIOUR`` (ValueError if not one)."""
    if name not in DRILL_PERSON_NAMES:
        raise ValueError(
            f"there is no drill person {name!r}: use drill-DRILL-BEHAVIOUR with DRILL one of "
            f"{', '.join(DRILL_NAMES)} and BEHAVIOUR one of {', '.join(BEHAVIOURS)}"
        )
    _, drill, rest = name.split("-", 2)
    return drill, rest


class _Mover:
    """Moves the CoP (and nothing else) along minimum-jerk paths, never overlapping."""

    def __init__(self, script: MotionScript) -> None:
        self.script = script

    def to(self, t0_s: float, duration_s: float, x_mm: float, y_mm: float) -> float:
        """Move to (x, y) from ``t0_s`` (or when the last move ends); returns the end time."""
        last = max(self.script.last_time_s("cop_x_mm"), self.script.last_time_s("cop_y_mm"))
        t0 = max(t0_s, last)
        t1 = t0 + max(duration_s, 0.05)
        self.script.move("cop_x_mm", t0, t1, x_mm)
        self.script.move("cop_y_mm", t0, t1, y_mm)
        return t1


def make_drill_person(
    name: str,
    settings: DrillSettings | Sequence[DrillSettings] | None = None,
    *,
    body_mass_kg: float = 75.0,
    seed: int = 0,
    screen: DrillScreen | None = None,
) -> DrillPerson:
    """A scripted person doing a drill, and the truth of it.

    Parameters
    ----------
    name : str
        ``drill-DRILL-BEHAVIOUR`` (:data:`DRILL_PERSON_NAMES`).
    settings : DrillSettings or sequence of DrillSettings, optional
        The drill's settings (default: the drill at its medium level); its drill must be the
        one the name says. Several: a sequence, done one after another as
        the drill session runs it (each drill starts
        :data:`analysis.drills.SETTLE_S` after the one before it ended); the name says the
        first.
    body_mass_kg : float
        The person's mass.
    seed : int
        Seed of the sway.
    screen : DrillScreen, optional
        The drill's screen: the person starts when it shows the drill started, and reacts
        to each target from then (the truth's times are the script's, from its own start).
        Without one they follow their script's timeline from the start the drill would
        find on an idle machine.

    Raises
    ------
    ValueError
        Unknown name, or settings of another drill.
    """
    drill, how = parse_person_name(name)
    if settings is None:
        settings = DrillSettings(drill)
    sequence = [s.resolved() for s in
                ([settings] if isinstance(settings, DrillSettings) else settings)]
    if not sequence or sequence[0].drill != drill:
        first = sequence[0].drill if sequence else "no"
        raise ValueError(f"{name} does the {drill} drill first, not {first}")
    if not 20.0 <= body_mass_kg <= 250.0:
        raise ValueError("body_mass_kg must be between 20 and 250")
    b = behaviour(how)
    rng = np.random.default_rng([int(seed), zlib.crc32(name.encode())])
    x0, y0 = 0.0, BASELINE_Y_MM
    script = MotionScript(
        {"presence": 0.0, "mass_kg": body_mass_kg, "com_m": 0.0, "cop_x_mm": x0,
         "cop_y_mm": y0, "sway_gain": b.sway_gain}
    )
    # Step on: the load overshoots a little and settles.
    script.move("presence", STEP_ON_S, STEP_ON_S + 0.35, 1.04)
    script.move("presence", STEP_ON_S + 0.35, STEP_ON_S + 0.7, 1.0)
    paths = script.paths()
    grid = np.arange(0.0, STEP_ON_S + 1.0, 1e-4)
    on = np.flatnonzero(paths["presence"].value(grid) * body_mass_kg >= PERSON_MIN_KG)
    first_start = float(grid[on[0]]) + SETTLE_S
    mover = _Mover(script)
    truths = []
    start = first_start
    for settings in sequence:
        truths.append(_do_drill(mover, settings, b, start, x0, y0, rng, name))
        # The next drill of a sequence starts once the person has stood SETTLE_S again.
        start += drill_plan(settings)[-1].t1_s + SETTLE_S
    plan_end = start - SETTLE_S
    end = plan_end + 1.5
    script.move("presence", end, end + 0.4, 0.0)
    duration = end + 1.5
    clock = None
    if screen is not None:
        # Room for a drill that starts late (the start-up tare gives up after 8 plate s),
        # so a looping plate does not start over while the person is still at it.
        duration += SCREEN_WAIT_S

        def clock(t_s: np.ndarray) -> np.ndarray:
            return screen.script_s(t_s, first_start)
    sway = make_sway(duration + 1.0, rng, ml_rms_mm=2.0, ap_rms_mm=2.5)
    scenario = Scenario(
        name=name,
        duration_s=duration,
        stance="bilateral",
        foot_length_mm=DEFAULT_FOOT_LENGTH_MM,
        heel_y_mm=HEEL_Y_MM,
        stance_width_mm=DEFAULT_STANCE_WIDTH_MM,
        body_mass_kg=float(body_mass_kg),
        reps=[],
        back_foot_fraction=0.0,
        load_kg=0.0,
        set_down=False,
        seed=int(seed),
        sets=(),
        still_windows_s=((first_start, first_start + BASELINE_S),),
        on_plate_s=(STEP_ON_S, end + 0.4),
        calibration=None,
        motion=PersonMotion(paths=script.paths(), sway=sway, clock=clock),
    )
    return DrillPerson(scenario=scenario, truth=truths[0], truths=tuple(truths),
                       screen=screen)


def _do_drill(mover: _Mover, settings: DrillSettings, b: Behaviour, start: float, x0: float,
              y0: float, rng: np.random.Generator, name: str) -> DrillTruth:
    """Script one drill from ``start`` (scenario s) and return its truth."""
    plan = drill_plan(settings)
    reach = dict(REACH_MM)
    if settings.range_given:
        names = ("left", "right") if settings.drill == "lateral" or settings.axis == "ml" else (
            "backward", "forward")
        reach[names[0]] = float(settings.range_left_mm)
        reach[names[1]] = float(settings.range_right_mm)
    trials: list[TrialTruth] = []
    axis = "ap" if settings.drill == "rhythmic" and settings.axis == "ap" else "ml"

    def point(along: float, across: float = 0.0) -> tuple[float, float]:
        return (x0 + along, y0 + across) if axis == "ml" else (x0 + across, y0 + along)

    def side_name(side: int) -> str:
        if axis == "ml":
            return "left" if side < 0 else "right"
        return "backward" if side < 0 else "forward"

    for phase in plan:
        t0 = start + phase.t0_s
        t1 = start + phase.t1_s
        if phase.kind == "range":
            mover.to(t0 + b.reaction_s, 1.0, *point(phase.side * reach[side_name(phase.side)]))
        elif phase.kind == "centre":
            mover.to(t0 + b.reaction_s, RETURN_S, *point(0.0))
        elif phase.kind == "target":
            trials.append(_lateral_trial(mover, point, phase, t0, settings, reach, b))
        elif phase.kind == "track":
            trials.append(_track(mover, point, phase, t0, t1, settings, reach, b, rng))
        elif phase.kind == "lean":
            trials.append(_lean(mover, x0, y0, phase, t0, reach, b))
        elif phase.kind == "weight":
            trials.append(_weight(mover, y0, phase, t0, t1, b))
    return DrillTruth(name=name, settings=settings, behaviour=b, start_s=start,
                      baseline_mm=(x0, y0), reach_mm=reach, trials=tuple(trials))


def _lateral_trial(mover: _Mover, point, phase: Phase, t0: float, s: DrillSettings,
                   reach: dict[str, float], b: Behaviour) -> TrialTruth:
    side_name = "left" if phase.side < 0 else "right"
    aim = s.target_pct / 100.0 * reach[side_name]
    half = s.band_pct / 200.0 * reach[side_name]
    go = t0 + b.reaction_s
    if b.weak_side == side_name:
        short = b.weak_reach_frac * aim
        mover.to(go, b.weak_move_s, *point(phase.side * short))
        return TrialTruth(phase.index, side_name, go, b.reaction_s, short, short,
                          reaches_band=False)
    peak = aim * (1.0 + b.overshoot_frac)
    arrive = mover.to(go, b.move_s, *point(phase.side * peak))
    if b.overshoot_frac > 0:
        arrive = mover.to(arrive, 0.6, *point(phase.side * aim))
    outs = 0
    if b.drifting:
        # Part way into the hold the weight creeps back toward the middle, out of the band,
        # and the cue brings it back.
        start_drift = arrive + 0.4 * s.hold_s
        out_at = mover.to(start_drift, 0.8, *point(phase.side * (aim - 2.2 * half)))
        mover.to(out_at + 0.4, 0.6, *point(phase.side * aim))
        outs = 1
    return TrialTruth(phase.index, side_name, go, b.reaction_s, aim, peak, drift_outs=outs)


def _track(mover: _Mover, point, phase: Phase, t0: float, t1: float, s: DrillSettings,
           reach: dict[str, float], b: Behaviour, rng: np.random.Generator) -> TrialTruth:
    neg_name, pos_name = ("left", "right") if s.axis == "ml" else ("backward", "forward")
    period = phase.cycle_s
    amp = {+1: s.amplitude_pct / 100.0 * reach[pos_name] * b.amplitude_gain,
           -1: s.amplitude_pct / 100.0 * reach[neg_name] * b.amplitude_gain}
    if b.weak_side is not None:
        weak = -1 if b.weak_side in ("left", "backward") else +1
        amp[weak] *= b.weak_reach_frac
    lag = b.lag_s
    mover.to(t0 + lag, period / 4.0, *point(amp[+1]))
    sign, k = -1, 1
    while t0 + period / 4.0 + k * period / 2.0 < t1 - 1e-6:
        across = float(rng.uniform(-14.0, 14.0)) if b.drifting else 0.0
        mover.to(t0 + lag + period / 4.0 + (k - 1) * period / 2.0, period / 2.0,
                 *point(sign * amp[sign], across))
        sign, k = -sign, k + 1
    mover.to(t1 + lag - period / 4.0, period / 4.0, *point(0.0))
    return TrialTruth(phase.index, phase.label, t0 + lag, lag, amp[+1], amp[+1])


def _lean(mover: _Mover, x0: float, y0: float, phase: Phase, t0: float,
          reach: dict[str, float], b: Behaviour) -> TrialTruth:
    th = math.radians(phase.direction_deg + (25.0 if b.drifting else 0.0))
    sx, cy = math.sin(th), math.cos(th)
    side = "right" if sx >= 0 else "left"
    lateral = reach[side] * (b.weak_reach_frac if b.weak_side == side else 1.0)
    ap = reach["forward"] if cy >= 0 else reach["backward"]
    r = 1.0 / math.sqrt((sx / lateral) ** 2 + (cy / ap) ** 2)
    go = t0 + b.reaction_s
    move_s = b.weak_move_s if b.weak_side == side and abs(sx) > 0.3 else 1.0
    peak = r * (1.0 + b.overshoot_frac * 0.6)
    arrive = mover.to(go, move_s, x0 + peak * sx, y0 + peak * cy)
    if peak > r:
        mover.to(arrive, 0.6, x0 + r * sx, y0 + r * cy)
    # Reach along the asked direction (the drifting person's is off it).
    along = math.cos(math.radians(25.0)) if b.drifting else 1.0
    return TrialTruth(phase.index, phase.label, go, b.reaction_s, r * along, peak * along)


def _weight(mover: _Mover, y0: float, phase: Phase, t0: float, t1: float,
            b: Behaviour) -> TrialTruth:
    w = DEFAULT_STANCE_WIDTH_MM
    x_of = {"perfect": 0.0, "late": 0.0, "overshooting": 0.0, "drifting": 0.0,
            "weak-left": 0.2 * w, "weak-right": -0.2 * w}
    x = x_of[b.name]
    if b.name == "late":
        mover.to(t0 - 1.0, 0.5, -0.2 * w, y0)
        mover.to(t0 + 3.0, 1.0, 0.0, y0)
    elif b.name in ("drifting", "overshooting"):
        # A slow wander past the band's edge (drifting), or a quick one inside it.
        amp, period = (0.09 * w, 10.0) if b.drifting else (0.05 * w, 3.0)
        t, sign = t0, 1
        while t + period / 2.0 < t1:
            mover.to(t, period / 2.0, sign * amp, y0)
            t += period / 2.0
            sign = -sign
        mover.to(t, 0.5, 0.0, y0)
    else:
        mover.to(t0 - 1.0, 0.5, x, y0)
    right = 50.0 + 100.0 * x / w
    return TrialTruth(phase.index, phase.label, t0, 0.0, right, right)
