"""What a review of recorded sessions shows, computed once for the window and the report.

Everything here is plain data from a :class:`~analysis.report.FileReport`: the rep table's
rows, the marks along the timeline (reps and their faults, stance changes, reconnect gaps,
notes, and any other event by its kind name), every rep aligned at its bottom for the
overlays, each rep's CoP path on the foot, left-lead against right-lead, and the stance and
zone at any moment. The review window (gui/review_window.py) and the HTML report
(gui/report_page.py) draw the same numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from analysis.edits import active_edits, edit_key
from analysis.report import FileReport
from analysis.reps import CUES, FAULT_NAMES, Asymmetry, Rep, Thresholds, lateral_asymmetry
from analysis.stance import StanceSetup, stance_timeline
from analysis.sway import SwayMetrics, sway_metrics, sway_stretch
from daq.calibration import G_M_S2
from daq.errors import MidfootError
from daq.events import (
    CalibrationChanged,
    Disconnected,
    DrillScored,
    DrillStarted,
    DrillTargetHit,
    DrillTargetShown,
    DrillTrialScored,
    NoteAdded,
    Reconnected,
    RepMarked,
    StanceChanged,
    Tared,
    WeighedIn,
    event_kind,
)
from daq.series import PlateSeries

# Overlays show each rep from this long before its bottom to this long after.
ALIGN_BEFORE_S = 2.0
ALIGN_AFTER_S = 2.0
# Points of an aligned curve: enough for a smooth line at any window size, few enough that
# a hundred reps draw at once.
ALIGN_POINTS = 400
# A step this many times the median sample period is a gap in the recording.
GAP_FACTOR = 5.0
# Quiet standing worth sway metrics: at least this long, clear of reps by this margin.
QUIET_MIN_S = 3.0
QUIET_MARGIN_S = 0.5
# The longest stretches are tried first; past this many, shorter ones are not worth it.
QUIET_TRIES = 12


# -- the rep table --------------------------------------------------------------------------
REP_COLUMNS = (
    ("rep", "Rep"),
    ("start_s", "Start (s)"),
    ("bottom_s", "Bottom (s)"),
    ("lockout_s", "Lockout (s)"),
    ("stance", "Stance"),
    ("zone", "Zone at bottom"),
    ("lateral_mm", "Lateral shift (mm)"),
    ("lockout_mm", "Lockout shift (mm)"),
    ("hold_s", "Hold (s)"),
    ("load_kg", "Load (kg)"),
    ("faults", "Faults"),
    ("cues", "Cues"),
)


def _num(value: float | None, digits: int) -> str:
    if value is None or not np.isfinite(value):
        return "-"
    return f"{value:.{digits}f}"


@dataclass(frozen=True)
class RepRow:
    """One row of the rep table, as shown (text) and as measured (the rep)."""

    file: str
    rep: Rep
    added: bool = False

    def cells(self) -> dict[str, str]:
        """The row's text by column key (:data:`REP_COLUMNS`)."""
        r = self.rep
        return {
            "rep": f"{r.index + 1}{' (added)' if self.added else ''}",
            "start_s": _num(r.start_s, 2),
            "bottom_s": _num(r.bottom_s, 2),
            "lockout_s": _num(r.lockout_s, 2),
            "stance": r.stance,
            "zone": r.zone_at_bottom,
            "lateral_mm": _num(r.lateral_shift_mm, 1),
            "lockout_mm": _num(r.lockout_shift_mm, 1),
            "hold_s": _num(r.lockout_hold_s, 1),
            "load_kg": _num(r.load_kg, 1),
            "faults": ", ".join(n.replace("_", " ") for n in r.fault_names) or "none",
            "cues": "; ".join(f.cue for f in r.faults),
        }

    def to_dict(self) -> dict[str, object]:
        """The row for a CSV or JSON export (the rep's own keys, its file, whether added)."""
        return {"file": self.file, "added": self.added, **self.rep.to_dict()}


def rep_rows(report: FileReport) -> list[RepRow]:
    """The rep table of one file (reviewed reps, added ones marked)."""
    added = report.edits.added if report.edits is not None else [False] * len(report.reps)
    return [RepRow(report.file, r, a) for r, a in zip(report.reps, added, strict=True)]


# -- the timeline's marks -------------------------------------------------------------------
@dataclass(frozen=True)
class Mark:
    """Something to show on the timeline.

    Attributes
    ----------
    kind : str
        ``rep``, ``stance``, ``gap``, ``note``, ``calibration``, ``tare``, ``weigh-in`` or
        any other event's kind name (drills, newer versions).
    t_s : float
        Where it starts (series seconds).
    end_s : float
        Where it ends (= ``t_s`` for a moment).
    label : str
        What to write beside it.
    faults : tuple of str
        A rep's fault names.
    key : str
        An edit's id (to undo it), '' otherwise.
    """

    kind: str
    t_s: float
    end_s: float
    label: str
    faults: tuple[str, ...] = ()
    key: str = ""


def gaps_s(series: PlateSeries) -> list[tuple[float, float]]:
    """Stretches with no samples: a reconnect or lost data (start, end in series s)."""
    if len(series) < 3:
        return []
    steps = np.diff(series.t_s)
    median = float(np.median(steps))
    if not median > 0:
        return []
    idx = np.flatnonzero(steps > GAP_FACTOR * median)
    return [(float(series.t_s[i]), float(series.t_s[i + 1])) for i in idx]


# Events the timeline draws in their own way or leaves out: the live analyser's rep marks
# are the detector's view at the time (the file's analysis is the truth), and the edit
# kinds are shown through what they change.
_SHOWN_AS_THEMSELVES = (StanceChanged, Disconnected, Reconnected, RepMarked)
# A drill's targets and trials are drawn as targets and table rows
# (analysis/drill_review.py), not as a line each.
_SHOWN_AS_DRILL = (DrillTargetShown, DrillTargetHit, DrillTrialScored)


def timeline_marks(report: FileReport) -> list[Mark]:
    """Every mark of one file's timeline, in time order.

    Parameters
    ----------
    report : FileReport
        From :func:`analysis.report.analyse_series_report` (with its series).
    """
    series = report.series
    assert series is not None
    marks: list[Mark] = []
    for row in rep_rows(report):
        r = row.rep
        label = f"rep {r.index + 1}"
        if r.fault_names:
            label += ": " + ", ".join(n.replace("_", " ") for n in r.fault_names)
        marks.append(Mark("rep", r.start_s, r.lockout_s, label, tuple(r.fault_names)))
    timeline = stance_timeline(series)
    t0 = float(series.t_s[0])
    marks.append(Mark("stance", t0, t0, timeline.initial.stance))
    for at_s, setup in timeline.changes:
        marks.append(Mark("stance", at_s, at_s, setup.stance))
    for a, b in gaps_s(series):
        marks.append(Mark("gap", a, b, f"gap {b - a:.1f} s (reconnect or lost data)"))
    edits = set(map(id, active_edits(series.events)))
    for e in series.events:
        if isinstance(e, NoteAdded):
            if id(e) in edits:
                marks.append(Mark("note", e.t_s, e.t_s, e.text, key=edit_key(e)))
        elif isinstance(e, CalibrationChanged | Tared | WeighedIn):
            label = {"calibration": "calibration", "tare": "tare"}.get(event_kind(e), "")
            if isinstance(e, WeighedIn):
                label = f"weigh-in {e.body_mass_kg:.1f} kg"
            marks.append(Mark(event_kind(e), e.t_s, e.t_s, label))
        elif isinstance(e, Disconnected):
            marks.append(Mark("gap", e.t_s, e.t_s, f"disconnected {e.message}".strip()))
        elif isinstance(e, DrillStarted | DrillScored):
            label = e.text if isinstance(e, DrillStarted) else f"{e.drill} drill ended"
            # A drill starts at a sample inside a block and its event is recorded after
            # that block: its own field places it, not its sample index.
            at = e.start_s if isinstance(e, DrillStarted) and math.isfinite(e.start_s) else e.t_s
            marks.append(Mark(event_kind(e), at, at, label or event_kind(e)))
        elif isinstance(e, _SHOWN_AS_DRILL):
            continue
        elif not isinstance(e, _SHOWN_AS_THEMSELVES) and not edit_key(e):
            kind = event_kind(e)
            if kind in ("undo",):
                continue
            marks.append(Mark(kind, e.t_s, e.t_s, kind))
    return sorted(marks, key=lambda m: m.t_s)


# -- stance and zone at a moment --------------------------------------------------------------
def stance_at(series: PlateSeries, t_s: float) -> StanceSetup:
    """The stance in force at ``t_s`` (the file's stances and stance edits)."""
    timeline = stance_timeline(series)
    setup = timeline.initial
    for at_s, later in timeline.changes:
        if at_s <= t_s:
            setup = later
    return setup


# -- overlays -------------------------------------------------------------------------------
@dataclass(frozen=True)
class AlignedRep:
    """One rep resampled about its bottom (t = 0), and its CoP path on the foot.

    Attributes
    ----------
    file : str
        Its recording.
    rep : Rep
        The rep.
    rel_t_s : (M,) ndarray
        Time from the bottom (s).
    ap_mm, ml_mm : (M,) ndarray
        CoP AP and ML relative to the rep's start (mm; NaN off the plate or outside the file).
    load_kg : (M,) ndarray
        Total vertical force as kilograms.
    path_xy_mm : (K, 2) ndarray
        Plate CoP from start to lockout (mm).
    stance : StanceSetup
        The rep's stance (for drawing its feet and zones).
    """

    file: str
    rep: Rep
    rel_t_s: np.ndarray
    ap_mm: np.ndarray
    ml_mm: np.ndarray
    load_kg: np.ndarray
    path_xy_mm: np.ndarray
    stance: StanceSetup


def align_rep(
    series: PlateSeries,
    rep: Rep,
    file: str = "",
    before_s: float = ALIGN_BEFORE_S,
    after_s: float = ALIGN_AFTER_S,
    points: int = ALIGN_POINTS,
) -> AlignedRep:
    """``rep`` of ``series`` resampled on a common time axis about its bottom."""
    rel = np.linspace(-before_s, after_s, points)
    at = rep.bottom_s + rel
    # Only the rep's own stretch is read: a rep of an hour-long file costs what one of a
    # minute does.
    lo = max(int(np.searchsorted(series.t_s, min(at[0], rep.start_s))) - 1, 0)
    hi = min(int(np.searchsorted(series.t_s, max(at[-1], rep.lockout_s))) + 2, len(series))
    part = series.slice(lo, hi)
    t = part.t_s
    bad = ~part.valid

    def resampled(y: np.ndarray) -> np.ndarray:
        # An HX711 glitch sample is not a measurement: it is a gap, not a spike.
        if bad.any():
            y = np.where(bad, np.nan, y)
        return np.interp(at, t, y, left=np.nan, right=np.nan)

    i0 = int(np.searchsorted(t, rep.start_s))
    ref = part.cop_mm[min(i0, len(part) - 1)]
    ap = resampled(part.cop_mm[:, 1]) - ref[1]
    ml = resampled(part.cop_mm[:, 0]) - ref[0]
    load = resampled(part.fz_n) / G_M_S2
    # Stepping off the plate after the last rep is not part of the rep.
    standing = float(np.nanmedian(load)) if np.isfinite(load).any() else np.nan
    off = ~(load > 0.5 * standing)
    ap[off], ml[off], load[off] = np.nan, np.nan, np.nan
    i1 = int(np.searchsorted(t, rep.lockout_s, side="right"))
    path = part.cop_mm[i0:i1]
    path = path[np.isfinite(path).all(axis=1) & part.valid[i0:i1]]
    if path.shape[0] > points:
        path = path[:: int(np.ceil(path.shape[0] / points))]
    return AlignedRep(file, rep, rel, ap, ml, load, path, stance_at(series, rep.start_s))


@dataclass
class Overlays:
    """Every rep of the reviewed files aligned at its bottom, grouped by lead side.

    Attributes
    ----------
    by_side : dict of str to list of AlignedRep
        ``left`` (kickstand-left), ``right`` (kickstand-right) and ``bilateral``.
    asymmetry : Asymmetry
        Left against right lateral shift (:func:`analysis.reps.lateral_asymmetry`).
    """

    by_side: dict[str, list[AlignedRep]] = field(default_factory=dict)
    asymmetry: Asymmetry | None = None

    def summary(self) -> str:
        """Left against right in one sentence."""
        a = self.asymmetry
        if a is None or (a.left_mean_mm is None and a.right_mean_mm is None):
            return "No kickstand reps: nothing to compare left against right"
        if a.left_mean_mm is None:
            return "Only right-lead reps: record the left-lead side too to compare them"
        if a.right_mean_mm is None:
            return "Only left-lead reps: record the right-lead side too to compare them"
        text = (
            "Mean lateral shift toward the lead foot (negative: away from it): "
            f"left lead {a.left_mean_mm:.0f} mm, right lead {a.right_mean_mm:.0f} mm"
        )
        if a.index_pct is not None:
            text += f": asymmetry {a.index_pct:.0f} %"
            text += f" (more than the {a.threshold_pct:.0f} % limit)" if a.flag else ""
        return text


def side_of(stance: str) -> str:
    """``left``, ``right`` or ``bilateral``: which foot leads."""
    return stance.removeprefix("kickstand-") if stance.startswith("kickstand-") else "bilateral"


def overlays(reports: list[FileReport], thresholds: Thresholds | None = None) -> Overlays:
    """The overlays of several files (one per side is how people record)."""
    thresholds = thresholds or Thresholds()
    out = Overlays(by_side={"left": [], "right": [], "bilateral": []})
    reps: list[Rep] = []
    for report in reports:
        if report.series is None:
            continue
        for rep in report.reps:
            out.by_side[side_of(rep.stance)].append(align_rep(report.series, rep, report.file))
            reps.append(rep)
    out.asymmetry = lateral_asymmetry(reps, thresholds.asymmetry_flag_pct)
    return out


# -- sway of a stretch ------------------------------------------------------------------------
def sway_of_stretch(
    series: PlateSeries, start_s: float, end_s: float
) -> tuple[SwayMetrics, str | None]:
    """Sway metrics of ``start_s..end_s`` of a recording, with the movement warning.

    A plate's HX711s convert on their own clock, so its sample times jitter by up to a
    third of a period; the spectral metrics need even steps, so a stretch without gaps is
    resampled (linearly) at its mean rate first.

    Raises
    ------
    MidfootError
        The stretch holds a gap, too few samples, or nobody on the plate.
    """
    lo, hi = sorted((float(start_s), float(end_s)))
    part = series.between(lo, hi)
    for a, b in gaps_s(part):
        raise MidfootError(
            f"the stretch {lo:.1f}-{hi:.1f} s holds a {b - a:.1f} s gap in the recording "
            f"(at {a:.1f} s): choose a stretch without one"
        )
    if len(part) >= 3:
        even_t = np.linspace(part.t_s[0], part.t_s[-1], len(part))
        cop = np.column_stack([np.interp(even_t, part.t_s, part.cop_mm[:, k]) for k in range(2)])
        part = PlateSeries.from_arrays(
            even_t, np.interp(even_t, part.t_s, part.fz_n), cop, meta=part.meta
        )
    stretch = sway_stretch(part)
    return sway_metrics(stretch.ap_mm, stretch.ml_mm, stretch.fs_hz), stretch.warning


@dataclass(frozen=True)
class QuietSway:
    """Sway of one stretch of quiet standing between reps."""

    file: str
    start_s: float
    end_s: float
    metrics: SwayMetrics


def quiet_sway(report: FileReport) -> QuietSway | None:
    """Sway of the longest stretch of one file where the person stood still, if any.

    Candidates are the stretches with someone on the plate and no rep (clear of each rep by
    :data:`QUIET_MARGIN_S`); the longest one of at least :data:`QUIET_MIN_S` that
    :func:`analysis.sway.sway_stretch` does not call movement is measured.
    """
    series = report.series
    if series is None or len(series) < 3:
        return None
    on = np.isfinite(series.cop_mm).all(axis=1)
    busy = np.zeros(len(series), dtype=bool)
    for rep in report.reps:
        lo = np.searchsorted(series.t_s, rep.start_s - QUIET_MARGIN_S)
        end = rep.lockout_s + QUIET_MARGIN_S
        hi = np.searchsorted(series.t_s, end)
        busy[lo:hi] = True
    free = on & ~busy
    edges = np.diff(np.concatenate([[0], free.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    spans = sorted(
        ((series.t_s[b - 1] - series.t_s[a], a, b) for a, b in zip(starts, ends, strict=True)),
        reverse=True,
    )
    for length, a, b in spans[:QUIET_TRIES]:
        if length < QUIET_MIN_S:
            break
        # Stepping on or off settles over the first and last half second.
        t0, t1 = series.t_s[a] + QUIET_MARGIN_S, series.t_s[b - 1] - QUIET_MARGIN_S
        try:
            metrics, warning = sway_of_stretch(series, t0, t1)
        except MidfootError:
            continue
        if warning is None:
            return QuietSway(report.file, float(t0), float(t1), metrics)
    return None


# -- cues in plain words -------------------------------------------------------------------------
def cue_sentences(reps: list[Rep]) -> list[str]:
    """What to tell the athlete about these reps, one sentence per fault seen (or praise)."""
    if not reps:
        return ["No reps were found in this recording."]
    out = []
    n = len(reps)
    for name in FAULT_NAMES:
        k = sum(1 for r in reps if name in r.fault_names)
        if k:
            cue = CUES[name]
            out.append(f"{k} of {n} reps: {cue[0].upper()}{cue[1:]}.")
    if not out:
        out.append(
            f"All {n} reps kept the weight over the midfoot and finished tall: keep it up."
        )
    return out
