"""A person's review edits applied to what the detector found.

Edits are events in the recording (daq/events.py: :class:`~daq.events.AthleteSet`,
:class:`~daq.events.RepAdded`, :class:`~daq.events.RepRemoved`,
:class:`~daq.events.StanceEdited`, :class:`~daq.events.NoteAdded`, and
:class:`~daq.events.EditUndone` taking one back). Nothing here changes the samples or the
detector: the detector runs on the recording as it is (with edited stances), and
:func:`apply_rep_edits` turns its reps into the reviewed list, keeping the detector's own
result beside it.

A rep a person adds is measured like a detected one (:func:`analysis.reps.measure_rep`) with
the person's start, bottom and lockout times, so its zone, shifts, load and faults mean the
same as the detector's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.signal import butter, sosfiltfilt

from analysis.reps import HingeTiming, Rep, Thresholds, hinge_path, measure_rep
from analysis.stance import StanceTimeline
from daq.errors import MidfootError
from daq.events import (
    STANCES,
    AthleteSet,
    EditUndone,
    NoteAdded,
    RepAdded,
    RepRemoved,
    StanceChanged,
    StanceEdited,
)
from daq.series import PlateSeries

EDIT_KINDS = (AthleteSet, RepAdded, RepRemoved, StanceEdited, NoteAdded)
# The standing baseline of an added rep: the still stretch just before its start, as the
# detector takes it (a second, ending a little before the descent).
ADDED_BASELINE_S = 1.0
ADDED_BASELINE_GAP_S = 0.2
# The low-pass the detector applies before measuring (analysis/conditioning.py).
ADDED_LOWPASS_HZ = 4.0


def edit_key(event: object) -> str:
    """The id an :class:`~daq.events.EditUndone` names ``event`` by ('' if not an edit).

    Notes predate edit ids: a note is named by where it is and what it says.
    """
    if isinstance(event, NoteAdded):
        return f"note:{event.sample_index}:{event.text}"
    return str(getattr(event, "edit_id", "") or "") if isinstance(event, EDIT_KINDS) else ""


def active_edits(events: tuple[object, ...] | list[object]) -> list[object]:
    """The edits among ``events`` that no later :class:`~daq.events.EditUndone` took back.

    Parameters
    ----------
    events : sequence of RecordedEvent
        A recording's events, in the order they were stored.

    Returns
    -------
    list of RecordedEvent
        Edit events still in force, in stored order.
    """
    undone = {e.edit_id for e in events if isinstance(e, EditUndone)}
    return [e for e in events if isinstance(e, EDIT_KINDS) and edit_key(e) not in undone]


def edited_athlete(series: PlateSeries) -> str:
    """Who the recording is of: the last athlete edit, else the name it was recorded with."""
    names = [e.athlete for e in active_edits(series.events) if isinstance(e, AthleteSet)]
    return names[-1] if names else series.meta.athlete


def _stance_at(events: list[StanceChanged], default: StanceChanged, t_s: float) -> StanceChanged:
    before = [e for e in events if e.t_s <= t_s]
    return before[-1] if before else default


def with_stance_edits(series: PlateSeries) -> PlateSeries:
    """``series`` with each stance edit turned into the stance changes it means.

    A :class:`~daq.events.StanceEdited` from ``start_s`` to ``end_s`` becomes a told
    :class:`~daq.events.StanceChanged` at ``start_s`` and, at ``end_s``, a change back to the
    stance that held there before; changes recorded inside the stretch are overruled.
    Later edits win over earlier ones where they overlap.

    Parameters
    ----------
    series : PlateSeries
        A recording with its events.

    Returns
    -------
    PlateSeries
        The same samples with the stance events edited (the series itself when there are
        no stance edits).
    """
    edits = [
        e
        for e in active_edits(series.events)
        if isinstance(e, StanceEdited)
        and e.stance in STANCES
        and math.isfinite(e.start_s)
        and math.isfinite(e.end_s)
        and e.start_s < e.end_s
    ]
    if not edits or not len(series):
        return series
    t0 = float(series.t_s[0]) if len(series) else 0.0
    foot = series.meta.foot
    default = StanceChanged(
        stance=series.meta.stance or "bilateral",
        foot_length_mm=foot.get("foot_length_mm"),
        heel_y_mm=foot.get("heel_y_mm"),
        stance_width_mm=foot.get("stance_width_mm"),
        t_s=t0,
    )
    changes = sorted(
        (e for e in series.events if isinstance(e, StanceChanged)), key=lambda e: e.t_s
    )
    for edit in edits:
        start, end = float(edit.start_s), float(edit.end_s)
        after = _stance_at(changes, default, end)
        at_start = _stance_at(changes, default, start)
        kept = [e for e in changes if not start <= e.t_s <= end]
        kept.append(replace(at_start, stance=edit.stance, told=True, t_s=max(start, t0)))
        if end < float(series.t_s[-1]):
            kept.append(replace(after, t_s=end))
        changes = sorted(kept, key=lambda e: e.t_s)
    others = tuple(e for e in series.events if not isinstance(e, StanceChanged))
    events = tuple(sorted(others + tuple(changes), key=lambda e: e.t_s))
    return replace(series, events=events)


def _lowpassed(x: np.ndarray, fs_hz: float) -> np.ndarray:
    """Zero-phase 4 Hz low-pass, as the detector measures (unchanged if too short)."""
    if not fs_hz > 2.5 * ADDED_LOWPASS_HZ or x.shape[0] < 30:
        return x
    sos = butter(2, ADDED_LOWPASS_HZ, fs=fs_hz, output="sos")
    return sosfiltfilt(sos, x)


def measure_added_rep(
    series: PlateSeries,
    edit: RepAdded,
    timeline: StanceTimeline,
    thresholds: Thresholds,
    body_mass_kg: float | None,
) -> Rep:
    """Measure a rep a person timed, the way the detector measures its own.

    Parameters
    ----------
    series : PlateSeries
        The recording.
    edit : RepAdded
        Start, bottom and lockout (series seconds).
    timeline : StanceTimeline
        The recording's stances (the rep takes the one in force at its start).
    thresholds : Thresholds
        Fault limits.
    body_mass_kg : float or None
        The person's own mass, for the load.

    Raises
    ------
    MidfootError
        The times are not in order, lie outside the recording, or nobody stands there.
    """
    name = series.meta.source or "the recording"
    start, bottom, lockout = float(edit.start_s), float(edit.bottom_s), float(edit.lockout_s)
    if not all(math.isfinite(v) for v in (start, bottom, lockout)) or not (
        start < bottom < lockout
    ):
        raise MidfootError(
            f"an added rep needs start < bottom < lockout, not {start:g}, {bottom:g}, "
            f"{lockout:g} s: mark the three times again"
        )
    t = series.t_s
    if len(series) < 2 or start < t[0] or lockout > t[-1]:
        raise MidfootError(
            f"the added rep at {start:g}-{lockout:g} s lies outside {name} "
            f"({t[0]:g}-{t[-1]:g} s): mark it inside the recording"
        )
    fs = series.rate_hz
    lo = int(np.searchsorted(t, start - ADDED_BASELINE_S - ADDED_BASELINE_GAP_S))
    hi = int(np.searchsorted(t, lockout, side="right"))
    sel = slice(lo, hi)
    ok = series.valid[sel] & np.isfinite(series.cop_mm[sel]).all(axis=1)
    if ok.sum() < 5:
        raise MidfootError(
            f"nobody stands on the plate during the added rep at {start:g} s of {name}: mark a "
            "rep where the person is on the plate"
        )
    tw = t[sel][ok]
    fz = _lowpassed(series.fz_n[sel][ok], fs)
    x = _lowpassed(series.cop_mm[sel, 0][ok], fs)
    y = _lowpassed(series.cop_mm[sel, 1][ok], fs)
    base = tw < start - ADDED_BASELINE_GAP_S
    if not base.any():
        # A rep marked at the very start of the file: its first samples stand in.
        base = tw <= tw[min(2, tw.shape[0] - 1)]
    weight_n = float(np.mean(fz[base]))
    baseline = (float(np.mean(x[base])), float(np.mean(y[base])))
    in_rep = tw >= start
    if in_rep.sum() < 3:
        raise MidfootError(
            f"the added rep at {start:g} s of {name} is too short to measure: mark its start, "
            "bottom and lockout further apart"
        )
    path = hinge_path(tw[in_rep], fz[in_rep], weight_n, closed=True)
    stance = timeline.initial
    for at_s, setup in timeline.changes:
        if at_s <= start:
            stance = setup
    timing = HingeTiming(start_s=start, bottom_s=bottom, lockout_s=lockout)
    return measure_rep(
        0,
        tw,
        fz,
        x,
        y,
        timing,
        path,
        stance,
        baseline,
        weight_n,
        body_mass_kg,
        thresholds,
    )


@dataclass
class EditedReps:
    """The reviewed reps beside the detector's own.

    Attributes
    ----------
    reps : list of Rep
        Detected reps not removed, plus added ones, in time order and renumbered.
    detected : list of Rep
        What the detector found, untouched.
    added : list of bool
        For each of ``reps``: a person added it.
    removed : list of Rep
        Detected reps a person removed.
    problems : list of str
        Edits that could not be applied (one sentence each).
    """

    reps: list[Rep]
    detected: list[Rep]
    added: list[bool] = field(default_factory=list)
    removed: list[Rep] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def apply_rep_edits(
    series: PlateSeries,
    detected: list[Rep],
    timeline: StanceTimeline,
    thresholds: Thresholds | None = None,
    body_mass_kg: float | None = None,
) -> EditedReps:
    """The reps after a person's rep edits.

    Edits apply in the order they were made: a removal takes out the rep (detected or added
    before it) whose start-to-lockout span holds its time, an addition measures a new rep.

    Parameters
    ----------
    series : PlateSeries
        The recording, with its edit events.
    detected : list of Rep
        The detector's reps of it.
    timeline : StanceTimeline
        Its stances (for added reps).
    thresholds : Thresholds, optional
        Fault limits.
    body_mass_kg : float, optional
        The person's own mass.

    Returns
    -------
    EditedReps
    """
    thresholds = thresholds or Thresholds()
    current: list[tuple[Rep, bool]] = [(r, False) for r in detected]
    removed: list[Rep] = []
    problems: list[str] = []
    for edit in active_edits(series.events):
        if isinstance(edit, RepRemoved):
            hits = [k for k, (r, _) in enumerate(current) if r.start_s <= edit.at_s <= r.lockout_s]
            if not hits:
                problems.append(f"no rep at {edit.at_s:g} s to remove")
                continue
            k = min(hits, key=lambda k: abs(current[k][0].bottom_s - edit.at_s))
            rep, was_added = current.pop(k)
            if not was_added:
                removed.append(rep)
        elif isinstance(edit, RepAdded):
            try:
                rep = measure_added_rep(series, edit, timeline, thresholds, body_mass_kg)
            except MidfootError as exc:
                problems.append(str(exc))
                continue
            current.append((rep, True))
    current.sort(key=lambda item: item[0].start_s)
    reps = [replace(r, index=i) for i, (r, _) in enumerate(current)]
    return EditedReps(
        reps=reps,
        detected=list(detected),
        added=[a for _, a in current],
        removed=removed,
        problems=problems,
    )
