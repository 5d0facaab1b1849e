"""A recorded drill, read back: its kind, targets over time, trials and scores (Qt-free).

``midfoot review`` (gui/review_model.py) and ``midfoot report`` (gui/report_page.py) show a
drill file through :func:`recorded_drills` (every drill of the file, a sequence holds
several): the recording's own typed drill events
(daq/events.py) give the targets as they were shown and the scores the live drill computed;
a file without a ``drill-score`` event (the drill was killed, or an older midfoot wrote it)
is scored again from its samples by :func:`analysis.drills.score_series`, the code the live
drill runs.

Targets are placed on the plate's own coordinates (CoP mm, as the traces are drawn): a band
or a moving target is stored from the person's standing baseline, so the baseline the drill
measured is added back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from analysis.drills import (
    DrillResult,
    DrillSettings,
    drill_plan,
    drill_starts,
    recorded_stance,
    result_from_dict,
    score_series,
    side_names,
    theoretical_limit_mm,
    track_target_mm,
)
from analysis.stance import StanceSetup
from daq.errors import MidfootError
from daq.events import DrillScored, DrillTargetShown
from daq.reader import read_recording
from daq.series import PlateSeries

# A moving target is drawn with this many points per second (smooth at any zoom that
# still shows a whole cycle).
TARGET_POINTS_PER_S = 40.0

# The trial table of each drill: (key, heading). ``trial`` and the label column are the
# trial's own; the others are score names (analysis/drills.py).
TRIAL_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "lateral": (
        ("trial", "Trial"),
        ("side", "Side"),
        ("reaction_time_s", "Reaction (s)"),
        ("time_to_target_s", "Time to target (s)"),
        ("overshoot_mm", "Overshoot (mm)"),
        ("hold_sway_mm", "Hold sway (mm)"),
        ("success", "Held"),
    ),
    "rhythmic": (
        ("trial", "Trial"),
        ("side", "Pace"),
        ("directional_control_pct", "Directional control (%)"),
        ("tracking_error_mm", "Tracking error (mm)"),
        ("amplitude_pct", "Amplitude (%)"),
        ("lag_s", "Lag (s)"),
        ("on_axis_velocity_mm_s", "On-axis speed (mm/s)"),
    ),
    "limits": (
        ("trial", "Trial"),
        ("side", "Direction"),
        ("reaction_time_s", "Reaction (s)"),
        ("movement_velocity_mm_s", "Velocity (mm/s)"),
        ("endpoint_excursion_pct", "Endpoint (%)"),
        ("maximum_excursion_pct", "Maximum (%)"),
        ("directional_control_pct", "Directional control (%)"),
    ),
    "weight": (
        ("trial", "Trial"),
        ("side", "Task"),
        ("mean_left_pct", "Left (%)"),
        ("mean_right_pct", "Right (%)"),
        ("time_in_band_pct", "In band (%)"),
        ("max_deviation_pct", "Worst deviation (%)"),
        ("longest_out_s", "Longest out (s)"),
    ),
}
_DIGITS = {"_s": 2, "_mm": 1, "_pct": 0, "_mm_s": 0}


def _cell(key: str, value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        if not math.isfinite(value):
            return "-"
        digits = next((d for end, d in sorted(_DIGITS.items(), key=lambda kv: -len(kv[0]))
                       if key.endswith(end)), 2)
        return f"{value:.{digits}f}"
    return str(value)


@dataclass(frozen=True)
class DrillTarget:
    """One target the drill showed, on the plate's CoP axes.

    Attributes
    ----------
    kind : str
        ``band`` (lateral: a band to reach and hold), ``moving`` (rhythmic: a target to
        follow), ``direction`` (limits: a direction to lean) or ``weight`` (the weight
        drill's even-weight band).
    index : int
        The trial it belongs to.
    label : str
        Its side, pace or direction.
    shown_s, until_s : float
        When it was on the screen (series seconds).
    axis : str
        ``ml`` or ``ap``: the CoP trace it is drawn on.
    lo_mm, hi_mm : float
        A band's edges on that trace (plate mm; NaN for the others).
    direction_deg : float
        Limits: the lean direction (0 forward, 90 right; NaN otherwise).
    limit_mm : float
        Limits: the theoretical limit of stability that way (NaN otherwise).
    t_s, target_mm : ndarray
        A moving target's path on its trace (plate mm; empty for the others).
    """

    kind: str
    index: int
    label: str
    shown_s: float
    until_s: float
    axis: str = "ml"
    lo_mm: float = math.nan
    hi_mm: float = math.nan
    direction_deg: float = math.nan
    limit_mm: float = math.nan
    t_s: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    target_mm: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)


@dataclass(frozen=True)
class DrillTrialRow:
    """One trial of the drill's table, as shown (text) and as scored (its dict).

    Attributes
    ----------
    drill : str
        The drill's name (which columns apply).
    trial : dict
        The trial as :attr:`analysis.drills.DrillResult.trials` holds it.
    shown_s, until_s : float
        When the trial's target was shown (series seconds; NaN if not recorded).
    """

    drill: str
    trial: dict[str, Any]
    shown_s: float = math.nan
    until_s: float = math.nan

    def cells(self) -> dict[str, str]:
        """The row's text by column key (:data:`TRIAL_COLUMNS`)."""
        out = {}
        for key, _ in TRIAL_COLUMNS[self.drill]:
            if key == "trial":
                out[key] = str(int(self.trial.get("index", 0)) + 1)
            elif key == "side":
                out[key] = str(self.trial.get("label", ""))
            else:
                out[key] = _cell(key, self.trial.get(key))
        return out


@dataclass(frozen=True)
class RecordedDrill:
    """A recorded drill: what it was, what it showed and how the person scored.

    Attributes
    ----------
    drill : str
        ``lateral``, ``rhythmic``, ``limits`` or ``weight``.
    settings : DrillSettings
        The resolved settings it ran with.
    stance : StanceSetup
        The stance it was recorded in.
    result : DrillResult
        Its scores (overall, per side / pace / direction, per trial).
    recorded : bool
        True: the scores are the live drill's, as stored; False: recomputed from the
        samples (the file has no ``drill-score`` event).
    targets : list of DrillTarget
        What the drill showed, in time order.
    rows : list of DrillTrialRow
        One per scored trial.
    """

    drill: str
    settings: DrillSettings
    stance: StanceSetup
    result: DrillResult
    recorded: bool
    targets: list[DrillTarget]
    rows: list[DrillTrialRow]

    @property
    def axis(self) -> str:
        """The CoP trace the drill's targets lie along (``ml`` or ``ap``)."""
        return self.settings.axis if self.drill == "rhythmic" else "ml"

    @property
    def columns(self) -> tuple[tuple[str, str], ...]:
        """The trial table's (key, heading) columns."""
        return TRIAL_COLUMNS[self.drill]

    def source_text(self) -> str:
        """Where the scores come from, in words."""
        if self.recorded:
            return "scores as the drill computed them live"
        return "scores recomputed from the samples (the file holds no drill scores)"

    def summary_lines(self) -> list[str]:
        """The scores summary: the headlines, then each side (pace, direction) in words."""
        s = self.result.scores
        lines = [f"{self.drill} drill ({self.settings.level})"
                 + ("" if self.result.completed else ", stopped early")]
        lines += self.result.headlines()
        if self.drill == "lateral":
            for side in ("left", "right"):
                p = s.get("per_side", {}).get(side) or {}
                lines.append(
                    f"{side}: {_cell('success_pct', _pct(p.get('success')))} % held of "
                    f"{p.get('targets', 0)}, time to target "
                    f"{_cell('time_to_target_s', p.get('time_to_target_s'))} s, reaction "
                    f"{_cell('reaction_time_s', p.get('reaction_time_s'))} s"
                )
            a = s.get("asymmetry") or {}
            lines.append(
                "asymmetry (right vs left): time to target "
                f"{_signed(a.get('time_to_target_pct'))} %, reaction "
                f"{_signed(a.get('reaction_time_pct'))} %"
            )
        elif self.drill == "rhythmic":
            names = side_names(self.axis)
            ex = s.get("excursion_mm") or {}
            lines.append(
                f"excursion {names[0]} {_cell('x_mm', ex.get(names[0]))} mm, {names[1]} "
                f"{_cell('x_mm', ex.get(names[1]))} mm (asymmetry "
                f"{_signed(s.get('excursion_asymmetry_pct'))} %)"
            )
        elif self.drill == "limits":
            lines.append(f"left / right maximum: {_signed(self.limits_asymmetry_pct())} % "
                         "asymmetry (right vs left)")
        return [*lines, self.source_text()]

    def limits_asymmetry_pct(self) -> float:
        """Limits: 100 (right - left) / mean of the left and right maximum excursions."""
        by = {t.get("label"): t.get("maximum_excursion_pct") for t in self.result.trials}
        return _asymmetry_pct(by.get("left"), by.get("right"))

    def trial_index_at(self, t_s: float) -> int | None:
        """The row whose target was on the screen at ``t_s`` (None: none)."""
        for k, row in enumerate(self.rows):
            if row.shown_s <= t_s < row.until_s:
                return k
        return None


def _pct(fraction: object) -> float:
    if isinstance(fraction, int | float) and math.isfinite(fraction):
        return 100.0 * float(fraction)
    return math.nan


def _signed(value: object) -> str:
    if isinstance(value, int | float) and math.isfinite(value):
        # Rounded first, so -0.3 % reads +0 rather than -0.
        return f"{round(value):+d}"
    return "-"


def _asymmetry_pct(left: object, right: object) -> float:
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in (left, right)):
        return math.nan
    mean = 0.5 * (float(left) + float(right))
    return 100.0 * (float(right) - float(left)) / mean if mean else math.nan


def _targets(events: list[object], settings: DrillSettings, stance: StanceSetup,
             result: DrillResult) -> list[DrillTarget]:
    """The targets the drill showed, from its ``drill-shown`` events, on plate axes."""
    axis = settings.axis if settings.drill == "rhythmic" else "ml"
    bx, by = result.baseline_mm
    base = bx if axis == "ml" else by
    plan = {(p.kind, p.index): p for p in drill_plan(settings) if p.scored}
    out: list[DrillTarget] = []
    for e in events:
        if not isinstance(e, DrillTargetShown) or (e.phase, e.index) not in plan:
            continue
        common = {"index": e.index, "label": e.label, "shown_s": e.shown_s,
                  "until_s": e.until_s, "axis": axis}
        if e.phase == "target" and math.isfinite(base):
            out.append(DrillTarget("band", lo_mm=base + e.centre_mm - e.half_width_mm,
                                   hi_mm=base + e.centre_mm + e.half_width_mm, **common))
        elif e.phase == "track" and math.isfinite(base):
            phase = plan[("track", e.index)]
            n = max(int((e.until_s - e.shown_s) * TARGET_POINTS_PER_S), 2)
            t = np.linspace(e.shown_s, e.until_s, n)
            path = track_target_mm(t, e.shown_s, phase.cycle_s, result.range_mm,
                                   float(settings.amplitude_pct))
            out.append(DrillTarget("moving", t_s=t, target_mm=base + path, **common))
        elif e.phase == "lean":
            out.append(DrillTarget(
                "direction", direction_deg=e.direction_deg,
                limit_mm=theoretical_limit_mm(e.direction_deg, settings.height_m), **common,
            ))
        elif e.phase == "weight":
            # The lever rule (analysis.drills.foot_shares_pct): 50 +- b % on the right foot
            # is the CoP's x within +- b % of the stance width of the feet's middle.
            half = float(settings.weight_band_pct) / 100.0 * max(stance.stance_width_mm, 1.0)
            out.append(DrillTarget("weight", lo_mm=-half, hi_mm=half, **common))
    return sorted(out, key=lambda t: t.shown_s)


def recorded_drills(series: PlateSeries) -> list[RecordedDrill]:
    """Every drill a recording holds, in order, with its targets and scores.

    Parameters
    ----------
    series : PlateSeries
        A recording as :func:`daq.reader.read_recording` gives it.

    Returns
    -------
    list of RecordedDrill
        One per ``drill-start`` event ([] for a file without drills): a sequence
        (``midfoot drill lateral rhythmic``) holds several. Each drill's events are those
        from its start to the next drill's start; its scores are those stored by the live
        drill (its ``drill-score`` event), else recomputed from its samples with
        :func:`analysis.drills.score_series` from the start it recorded.

    Raises
    ------
    MidfootError
        The file's drill events are damaged (a stored result that is not one).
    """
    starts = drill_starts(series)
    if not starts:
        return []
    stance = recorded_stance(series)
    # Each drill owns the events from its own start event to the next one's.
    at = [next(i for i, e in enumerate(series.events) if e is started) for started, _ in starts]
    bounds = [*at[1:], len(series.events)]
    out = []
    for k, ((started, settings), i0, i1) in enumerate(zip(starts, at, bounds, strict=True)):
        settings = settings.resolved()
        events = series.events[i0:i1]
        stored = next((e for e in events if isinstance(e, DrillScored)
                       and e.drill == settings.drill), None)
        if stored is not None and stored.result:
            result = result_from_dict(dict(stored.result))
        else:
            end_s = float(starts[k + 1][0].start_s) if k + 1 < len(starts) else math.inf
            start_s = float(started.start_s) if math.isfinite(started.start_s) else None
            result = score_series(series, settings, stance, start_s=start_s,
                                  end_s=end_s if math.isfinite(end_s) else math.inf)
        shown = {(e.phase, e.index): e for e in events if isinstance(e, DrillTargetShown)}
        rows = []
        for trial in result.trials:
            e = shown.get((str(trial.get("kind", "")), int(trial.get("index", -1))))
            rows.append(DrillTrialRow(settings.drill, trial,
                                      e.shown_s if e is not None else math.nan,
                                      e.until_s if e is not None else math.nan))
        out.append(RecordedDrill(
            drill=settings.drill, settings=settings, stance=stance, result=result,
            recorded=stored is not None and bool(stored.result),
            targets=_targets(events, settings, stance, result), rows=rows,
        ))
    return out


def drill_table_columns(drills: list[RecordedDrill]) -> list[tuple[str, str]]:
    """The (key, heading) columns of one table listing the trials of ``drills``.

    One drill: its own columns. Several: a ``Drill`` column, then each drill's columns
    in turn, a column the drills share (trial, side) once.
    """
    if len(drills) == 1:
        return list(drills[0].columns)
    out: list[tuple[str, str]] = [("drill", "Drill")] if drills else []
    for drill in drills:
        for key, heading in drill.columns:
            if all(key != k for k, _ in out):
                out.append((key, heading))
    return out


def read_recorded_drills(path: str | Path) -> list[RecordedDrill]:
    """The drills recorded in the file at ``path`` (:func:`recorded_drills` of its series).

    Raises
    ------
    MidfootError
        The file cannot be read, or holds no drill.
    """
    found = recorded_drills(read_recording(path))
    if not found:
        raise MidfootError(f"{path} holds no drill: record one with `midfoot drill NAME "
                           "--record FILE`")
    return found


__all__ = ["TRIAL_COLUMNS", "RecordedDrill", "DrillTarget", "DrillTrialRow",
           "drill_table_columns", "read_recorded_drills", "recorded_drills"]
