"""The review of recorded sessions, without Qt: files, cursor, traces, edits and exports.

``midfoot review`` (gui/review_window.py) draws this model; tests and scripts drive it
directly. Files are read by :func:`daq.reader.read_recording` and analysed by
:func:`analysis.report.analyse_series_report` (which honours the review edits stored in the
file); edits are appended to the file (:mod:`daq.annotate`) and the file is read again, so
what the window shows is always what ``midfoot analyse`` and ``midfoot report`` say.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from analysis.drill_review import (
    DrillTarget,
    DrillTrialRow,
    RecordedDrill,
    drill_table_columns,
    recorded_drills,
)
from analysis.edits import active_edits, edit_key
from analysis.report import FileReport, SessionReport, analyse_series_report
from analysis.reps import Thresholds, lateral_asymmetry
from analysis.review import (
    REP_COLUMNS,
    Mark,
    Overlays,
    RepRow,
    overlays,
    rep_rows,
    stance_at,
    sway_of_stretch,
    timeline_marks,
)
from analysis.stance import STANCES, stance_timeline
from analysis.sway import SwayMetrics
from daq.annotate import append_events, writable_reason
from daq.calibration import G_M_S2
from daq.errors import MidfootError
from daq.events import (
    AthleteSet,
    EditUndone,
    NoteAdded,
    RepAdded,
    RepRemoved,
    StanceEdited,
    event_kind,
)
from daq.export_csv import write_reps_csv, write_samples_csv
from daq.reader import read_recording
from daq.series import PlateSeries
from daq.session import load_session

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0)
# The plate view's trail: the CoP of the last moments before the cursor.
TRAIL_S = 2.0
# Peak envelopes are kept at bin sizes of powers of this; a view picks the coarsest level
# that still has a bin per pixel (so it draws 2-8 points per pixel).
PYRAMID_BASE = 4


class ReviewCursor:
    """Where the review is in a file and whether it plays: 0.25-4x, seek, end of file.

    Parameters
    ----------
    start_s, end_s : float
        The file's first and last sample times (s).
    """

    def __init__(self, start_s: float, end_s: float) -> None:
        self.start_s = float(start_s)
        self.end_s = float(max(end_s, start_s))
        self.position_s = self.start_s
        self.playing = False
        self.speed = 1.0

    @property
    def at_end(self) -> bool:
        """The cursor has reached the last sample."""
        return self.position_s >= self.end_s

    @property
    def state(self) -> str:
        """``playing``, ``paused`` or ``end of file``."""
        if self.at_end:
            return "end of file"
        return "playing" if self.playing else "paused"

    def play(self) -> None:
        """Play from here (from the start again when at the end)."""
        if self.at_end:
            self.position_s = self.start_s
        self.playing = True

    def pause(self) -> None:
        """Stop where it is."""
        self.playing = False

    def toggle(self) -> None:
        """Play if paused, pause if playing."""
        if self.playing and not self.at_end:
            self.pause()
        else:
            self.play()

    def set_speed(self, speed: float) -> None:
        """Play at ``speed`` times real time (0.25 to 4)."""
        if not (math.isfinite(speed) and SPEEDS[0] <= speed <= SPEEDS[-1]):
            raise MidfootError(
                f"a review plays at {SPEEDS[0]:g}x to {SPEEDS[-1]:g}x, not {speed!r}: pick one"
            )
        self.speed = float(speed)

    def faster(self) -> None:
        """The next speed up."""
        self.speed = next((s for s in SPEEDS if s > self.speed), SPEEDS[-1])

    def slower(self) -> None:
        """The next speed down."""
        self.speed = next((s for s in reversed(SPEEDS) if s < self.speed), SPEEDS[0])

    def seek(self, t_s: float) -> None:
        """Move to ``t_s`` (clamped to the file)."""
        if math.isfinite(t_s):
            self.position_s = float(min(max(t_s, self.start_s), self.end_s))
            if self.at_end:
                self.playing = False

    def advance(self, wall_s: float) -> float:
        """Move on by ``wall_s`` seconds of wall clock while playing; the new position."""
        if self.playing and wall_s > 0:
            self.position_s = min(self.position_s + wall_s * self.speed, self.end_s)
            if self.at_end:
                self.playing = False
        return self.position_s

    def extend(self, end_s: float) -> None:
        """The file grew: its last sample is now at ``end_s``."""
        self.end_s = float(max(end_s, self.start_s))


def _envelope(op: np.ufunc, x: np.ndarray) -> np.ndarray:
    """``op`` over each run of :data:`PYRAMID_BASE` rows of ``x`` ((N,) or (N, k)).

    A 2-D array is done for all its columns in one pass over its rows: column by column
    the strided reads of an hour's (N, 8) forces took three times as long.
    """
    n = (x.shape[0] // PYRAMID_BASE) * PYRAMID_BASE
    v = x[:n].reshape(n // PYRAMID_BASE, PYRAMID_BASE, *x.shape[1:])
    out = v[:, 0].copy()
    for k in range(1, PYRAMID_BASE):
        op(out, v[:, k], out=out)
    return out


class PeakPyramid:
    """Min/max envelopes of one long trace, so any view of it draws in constant time.

    Level k holds, for bins of ``PYRAMID_BASE ** k`` samples, each bin's minimum and
    maximum; a view reads the coarsest level with at least one bin per pixel and draws
    both ends of each bin, so a one-sample spike is never lost.

    Parameters
    ----------
    t_s, y : (N,) ndarray
        Times (increasing) and values (NaN allowed: a gap in the line). ``y`` may be a
        strided column of a bigger array: it is kept as a view, never copied.
    bad : (M,) int ndarray, optional
        Indices, in increasing order, of samples that are not measurements (HX711
        glitches): drawn as gaps and left out of every envelope.
    scale : float
        Drawn values are ``y * scale`` (newtons shown as kilograms without a scaled copy).
    first : (lo, hi) of (N // PYRAMID_BASE,) ndarrays, optional
        The first level's envelopes when already computed (:func:`_envelope` of a 2-D
        array gives them for all its columns at once).
    """

    def __init__(
        self,
        t_s: np.ndarray,
        y: np.ndarray,
        bad: np.ndarray | None = None,
        scale: float = 1.0,
        first: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        self.t_s = np.asarray(t_s, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        self.scale = float(scale)
        self.bad = np.zeros(0, np.intp) if bad is None else np.asarray(bad, dtype=np.intp)
        self.levels: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = [(self.t_s, y, y)]
        lo, hi, t = y, y, self.t_s
        while t.shape[0] > 2 * PYRAMID_BASE:
            n = (t.shape[0] // PYRAMID_BASE) * PYRAMID_BASE
            # fmin/fmax skip NaN (nobody on the plate) unless a whole bin is NaN: a gap.
            if len(self.levels) == 1 and first is not None:
                lo, hi = first
            else:
                lo = _envelope(np.fmin, lo[:n])
                hi = _envelope(np.fmax, hi[:n])
            if len(self.levels) == 1 and self.bad.size:
                lo, hi = self._without_bad(y, n, lo, hi)
            t = t[:n:PYRAMID_BASE]
            self.levels.append((t, lo, hi))

    def _without_bad(
        self, y: np.ndarray, n: int, lo: np.ndarray, hi: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The first level's bins that hold a bad sample, taken again without it."""
        bins = np.unique(self.bad[self.bad < n] // PYRAMID_BASE)
        idx = bins[:, None] * PYRAMID_BASE + np.arange(PYRAMID_BASE)
        values = y[idx]
        values[np.isin(idx, self.bad)] = np.nan
        with np.errstate(invalid="ignore"):
            lo[bins] = np.fmin.reduce(values, axis=1)
            hi[bins] = np.fmax.reduce(values, axis=1)
        return lo, hi

    def _samples(self, i0: int, i1: int) -> np.ndarray:
        """Samples ``i0:i1`` as drawn: scaled, bad ones NaN (a small copy)."""
        y = self.levels[0][1][i0:i1] * self.scale
        if self.bad.size:
            a, b = np.searchsorted(self.bad, [i0, i1])
            y[self.bad[a:b] - i0] = np.nan
        return y

    def overview(self, max_bins: int = 100_000) -> np.ndarray:
        """Minima and maxima of the finest level with at most ``max_bins`` bins (for ranges)."""
        for k, (_, lo, hi) in enumerate(self.levels):
            if lo.shape[0] <= max_bins or k == len(self.levels) - 1:
                if k == 0:
                    return self._samples(0, lo.shape[0])
                return np.concatenate([lo, hi]) * self.scale
        return np.zeros(0)

    def view(self, t0_s: float, t1_s: float, pixels: int) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) to draw of ``t0_s..t1_s`` at ``pixels`` wide."""
        pixels = max(int(pixels), 16)
        level = 0
        for k, (t, _, _) in enumerate(self.levels):
            i0, i1 = np.searchsorted(t, [t0_s, t1_s])
            if i1 - i0 >= pixels:
                level = k
            else:
                break
        t, lo, hi = self.levels[level]
        i0 = max(int(np.searchsorted(t, t0_s)) - 1, 0)
        i1 = min(int(np.searchsorted(t, t1_s)) + 1, t.shape[0])
        if level == 0:
            return t[i0:i1], self._samples(i0, i1)
        x = np.repeat(t[i0:i1], 2)
        y = np.empty(x.shape[0])
        y[0::2] = lo[i0:i1]
        y[1::2] = hi[i0:i1]
        if self.scale != 1.0:
            y *= self.scale
        return x, y


@dataclass(frozen=True)
class PlateFrame:
    """What the plate view shows at the cursor.

    Attributes
    ----------
    trail_xy_mm : (K, 2) ndarray
        CoP of the last :data:`TRAIL_S` seconds (oldest first).
    zone_idx : (K,) ndarray
        Zone code of each trail point.
    cop_mm : (float, float)
        The CoP at the cursor (NaN when nobody stands on the plate).
    zone : str
        Its zone.
    weight_kg : float
        Total force as kilograms.
    stance : object
        The :class:`~analysis.stance.StanceSetup` in force.
    """

    trail_xy_mm: np.ndarray
    zone_idx: np.ndarray
    cop_mm: tuple[float, float]
    zone: str
    weight_kg: float
    stance: object


@dataclass
class ReviewFile:
    """One reviewed file: its series, its (edited) analysis and what the timeline marks."""

    path: Path
    series: PlateSeries
    report: FileReport
    marks: list[Mark]
    rows: list[RepRow]
    problem: str | None = None
    stamp: tuple[int, int] = (0, 0)
    traces: dict[str, PeakPyramid] = field(default_factory=dict)
    analysed: bool = True
    drills: list[RecordedDrill] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The file's name."""
        return self.path.name

    @property
    def drill(self) -> RecordedDrill | None:
        """The file's first drill (None: not a drill file); :attr:`drills` holds them all."""
        return self.drills[0] if self.drills else None

    @property
    def drill_rows(self) -> list[DrillTrialRow]:
        """The trials of every drill of the file, in time order."""
        return [row for d in self.drills for row in d.rows]

    @property
    def drill_targets(self) -> list[DrillTarget]:
        """The targets of every drill of the file, in time order."""
        return [t for d in self.drills for t in d.targets]

    def drills_text(self) -> str:
        """The file's drills and trials in words (``lateral drill, 4 trials``)."""
        rows = len(self.drill_rows)
        names = " + ".join(d.drill for d in self.drills)
        return f"{names} drill{'s' if len(self.drills) > 1 else ''}, {rows} trials"


def _stamp(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
    except OSError:
        return (0, 0)
    return (int(st.st_size), int(st.st_mtime_ns))


def _traces(series: PlateSeries) -> dict[str, PeakPyramid]:
    """Peak pyramids of the traces, with HX711 glitch samples left out (not measurements).

    Each pyramid keeps its column of the series as a view: an hour at 1 kHz x 8 cells is
    11 traces of 3.6 M samples, and a cleaned, scaled copy of each cost a third of a second.
    """
    t = series.t_s
    bad = np.flatnonzero(~series.valid)
    kg = 1.0 / G_M_S2
    cop_lo, cop_hi = _envelope(np.fmin, series.cop_mm), _envelope(np.fmax, series.cop_mm)
    out = {
        "ap_mm": PeakPyramid(t, series.cop_mm[:, 1], bad, first=(cop_lo[:, 1], cop_hi[:, 1])),
        "ml_mm": PeakPyramid(t, series.cop_mm[:, 0], bad, first=(cop_lo[:, 0], cop_hi[:, 0])),
        "load_kg": PeakPyramid(t, series.fz_n, bad, scale=kg),
    }
    if series.n_cells:
        cell_lo = _envelope(np.fmin, series.force_n)
        cell_hi = _envelope(np.fmax, series.force_n)
        for k in range(series.n_cells):
            out[f"cell{k}_kg"] = PeakPyramid(
                t, series.force_n[:, k], bad, scale=kg, first=(cell_lo[:, k], cell_hi[:, k])
            )
    return out


class ReviewModel:
    """Review one or more recordings.

    Parameters
    ----------
    paths : list of str or Path
        Recordings (any file :func:`daq.reader.read_recording` reads; edits need sessions).
    overrides : dict, optional
        What a person told (as for :func:`analysis.report.analyse_series_report`).
    thresholds : Thresholds, optional
        Fault limits.
    analyse : bool
        Analyse the reps now (False: traces only, until :meth:`analysed` is adopted).

    Raises
    ------
    MidfootError
        A file cannot be read (one sentence).
    """

    def __init__(
        self,
        paths: list[str | Path],
        overrides: dict[str, object] | None = None,
        thresholds: Thresholds | None = None,
        analyse: bool = True,
    ) -> None:
        if not paths:
            raise MidfootError("give at least one recording to review")
        self.overrides = dict(overrides or {})
        self.thresholds = thresholds or Thresholds()
        self.files = [self._load(Path(p), analyse) for p in paths]
        self.current = 0
        self.cursor = self._new_cursor()

    # -- files ----------------------------------------------------------------------------
    def _load(self, path: Path, analyse: bool = True) -> ReviewFile:
        stamp = _stamp(path)
        series = read_recording(path, plate=self.overrides.get("plate") or None)  # type: ignore[arg-type]
        return self._build(path, series, stamp, analyse)

    def _build(
        self,
        path: Path,
        series: PlateSeries,
        stamp: tuple[int, int],
        analyse: bool,
        traces: dict[str, PeakPyramid] | None = None,
    ) -> ReviewFile:
        problem = None
        report = None
        if analyse:
            try:
                report = analyse_series_report(series, self.overrides, self.thresholds)
            except MidfootError as exc:
                # A file just started (or CoP only) still shows its traces; it says why.
                problem = str(exc)
        else:
            problem = "analysing the reps..."
        if report is None:
            report = FileReport(
                file=str(path),
                stance=stance_timeline(series, self.overrides).initial,
                meta={"athlete": series.meta.athlete, "kind": series.meta.kind},
                reps=[],
                body_mass_kg=None,
                series=series,
            )
        report.file = str(path)
        if report.edits is not None and report.edits.problems:
            problem = "; ".join(report.edits.problems)
        shown = report.series if report.series is not None else series
        try:
            drills = recorded_drills(shown)
        except MidfootError as exc:
            drills, problem = [], str(exc)
        return ReviewFile(
            path=path,
            series=shown,
            report=report,
            marks=timeline_marks(report),
            rows=rep_rows(report),
            problem=problem,
            stamp=stamp,
            traces=traces if traces is not None else _traces(shown),
            analysed=analyse,
            drills=drills,
        )

    def analysed(self, index: int) -> ReviewFile:
        """File ``index`` with its reps analysed (safe to call from a worker thread).

        Opened with ``analyse=False`` a file shows its traces at once; the window runs
        this in the background and hands the result to :meth:`adopt`.
        """
        f = self.files[index]
        if f.analysed:
            return f
        # Not analysed yet, so its series is as read (stance edits not yet applied).
        return self._build(f.path, f.series, f.stamp, True, f.traces)

    def adopt(self, index: int, analysed: ReviewFile) -> None:
        """Use ``analysed`` (from :meth:`analysed`) for file ``index``."""
        if self.files[index].stamp == analysed.stamp:
            self.files[index] = analysed

    @property
    def file(self) -> ReviewFile:
        """The file on the timeline."""
        return self.files[self.current]

    def _new_cursor(self) -> ReviewCursor:
        t = self.file.series.t_s
        return ReviewCursor(float(t[0]), float(t[-1]))

    def select(self, index: int) -> None:
        """Put file ``index`` on the timeline (the cursor starts at its beginning)."""
        if not 0 <= index < len(self.files):
            raise MidfootError(f"there is no file {index + 1}: {len(self.files)} are open")
        self.current = index
        self.cursor = self._new_cursor()

    def grown(self, index: int) -> ReviewFile | None:
        """File ``index`` read and analysed again if it has grown, else None.

        Safe to call from a worker thread (it only reads); :meth:`take_grown` adopts it.
        """
        f = self.files[index]
        if _stamp(f.path) == f.stamp:
            return None
        try:
            return self._load(f.path)
        except MidfootError:
            return None  # caught mid-write: the next look will read it

    def take_grown(self, index: int, fresh: ReviewFile) -> None:
        """Use ``fresh`` (from :meth:`grown`) for file ``index``; the cursor's end moves on."""
        self.files[index] = fresh
        if index == self.current:
            self.cursor.extend(float(fresh.series.t_s[-1]))

    def follow(self) -> bool:
        """Read the current file again if it has grown (a recording in progress).

        Returns
        -------
        bool
            Whether anything changed.
        """
        fresh = self.grown(self.current)
        if fresh is None:
            return False
        self.take_grown(self.current, fresh)
        return True

    def _reload(self) -> None:
        position, playing, speed = self.cursor.position_s, self.cursor.playing, self.cursor.speed
        self.files[self.current] = self._load(self.file.path)
        self.cursor.extend(float(self.file.series.t_s[-1]))
        self.cursor.position_s, self.cursor.playing, self.cursor.speed = position, playing, speed

    # -- what is shown --------------------------------------------------------------------
    def trace_names(self) -> list[str]:
        """The traces of the current file (``ap_mm``, ``ml_mm``, ``load_kg``, cells)."""
        return list(self.file.traces)

    def all_rows(self) -> list[RepRow]:
        """The rep table of every open file."""
        return [row for f in self.files for row in f.rows]

    def overlays(self) -> Overlays:
        """Every rep of every open file aligned at its bottom, left against right."""
        return overlays([f.report for f in self.files], self.thresholds)

    def plate_frame(self, t_s: float | None = None) -> PlateFrame:
        """The plate view at ``t_s`` (default: the cursor)."""
        t = self.cursor.position_s if t_s is None else float(t_s)
        s = self.file.series
        i1 = int(np.searchsorted(s.t_s, t, side="right"))
        i0 = int(np.searchsorted(s.t_s, t - TRAIL_S))
        trail = s.cop_mm[i0:i1]
        trail = trail[np.isfinite(trail).all(axis=1)]
        setup = stance_at(s, t)
        codes = setup.zone_codes(trail[:, 0], trail[:, 1]) if trail.size else np.zeros(0, np.int8)
        k = max(i1 - 1, 0)
        x, y = (float(v) for v in s.cop_mm[k])
        if np.isfinite(x) and np.isfinite(y):
            # The back foot's share comes from standing still (the last rep's baseline); a
            # moving CoP's own ML position would misplace the lead foot's CoP.
            before = [r.rep for r in self.file.rows if r.rep.start_s <= t]
            b = before[-1].back_foot_fraction if before else setup.back_foot_fraction(x)
            lx, ly = setup.lead_foot_cop_mm(x, y, b) if setup.is_kickstand else (x, y)
            zone = str(setup.zone_of(lx, ly))
        else:
            zone = "off"
        return PlateFrame(trail, codes, (x, y), zone, float(s.fz_n[k] / G_M_S2), setup)

    def rep_index_at(self, t_s: float | None = None) -> int | None:
        """The current file's rep at ``t_s`` (default: the cursor), if any."""
        t = self.cursor.position_s if t_s is None else t_s
        for k, row in enumerate(self.file.rows):
            if row.rep.start_s <= t <= row.rep.lockout_s:
                return k
        return None

    def jump_to_rep(self, k: int) -> None:
        """Put the cursor at the start of the current file's rep ``k``."""
        rows = self.file.rows
        if not 0 <= k < len(rows):
            raise MidfootError(f"there is no rep {k + 1}: the file has {len(rows)}")
        self.cursor.pause()
        self.cursor.seek(rows[k].rep.start_s)

    def next_rep(self) -> int | None:
        """Jump to the first rep starting after the cursor; its index (None at the last)."""
        t = self.cursor.position_s
        for k, row in enumerate(self.file.rows):
            if row.rep.start_s > t + 1e-6:
                self.jump_to_rep(k)
                return k
        return None

    def previous_rep(self) -> int | None:
        """Jump to the last rep starting before the cursor; its index (None at the first)."""
        t = self.cursor.position_s
        for k in range(len(self.file.rows) - 1, -1, -1):
            if self.file.rows[k].rep.start_s < t - 1e-6:
                self.jump_to_rep(k)
                return k
        return None

    # -- drills ---------------------------------------------------------------------------
    # A file may hold several drills (a sequence): the table lists every drill's trials in
    # time order, and a row number counts over all of them.
    @property
    def is_drill(self) -> bool:
        """The current file is a drill: its table lists trials, not hinge reps."""
        return bool(self.file.drills)

    def table_columns(self) -> list[tuple[str, str]]:
        """The table's (key, heading) columns: the drills' trials, else the rep table."""
        if self.file.drills:
            return drill_table_columns(self.file.drills)
        return list(REP_COLUMNS)

    def table_cells(self) -> list[dict[str, str]]:
        """The table's rows as text by column key (trials of the drills, else reps)."""
        if not self.file.drills:
            return [row.cells() for row in self.file.rows]
        if len(self.file.drills) == 1:
            return [row.cells() for row in self.file.drill_rows]
        keys = [k for k, _ in self.table_columns()]
        out = []
        for row in self.file.drill_rows:
            cells = {"drill": row.drill, **row.cells()}
            out.append({k: cells.get(k, "") for k in keys})
        return out

    def table_index_at(self, t_s: float | None = None) -> int | None:
        """The table row at ``t_s`` (default: the cursor): a drill's trial or a rep."""
        t = self.cursor.position_s if t_s is None else float(t_s)
        if not self.file.drills:
            return self.rep_index_at(t)
        for k, row in enumerate(self.file.drill_rows):
            if row.shown_s <= t < row.until_s:
                return k
        return None

    def jump_to_row(self, k: int) -> tuple[float, float]:
        """Put the cursor at the start of table row ``k``; the stretch it covers (s)."""
        if not self.file.drills:
            self.jump_to_rep(k)
            rep = self.file.rows[k].rep
            return rep.start_s, rep.lockout_s
        rows = self.file.drill_rows
        if not 0 <= k < len(rows):
            raise MidfootError(f"there is no trial {k + 1}: the drills have {len(rows)}")
        row = rows[k]
        if not math.isfinite(row.shown_s):
            raise MidfootError(f"trial {k + 1} has no recorded time: its target was not stored")
        self.cursor.pause()
        self.cursor.seek(row.shown_s)
        return row.shown_s, row.until_s

    def next_row(self) -> int | None:
        """Jump to the first table row (trial or rep) starting after the cursor."""
        if not self.file.drills:
            return self.next_rep()
        t = self.cursor.position_s
        for k, row in enumerate(self.file.drill_rows):
            if row.shown_s > t + 1e-6:
                self.jump_to_row(k)
                return k
        return None

    def previous_row(self) -> int | None:
        """Jump to the last table row (trial or rep) starting before the cursor."""
        if not self.file.drills:
            return self.previous_rep()
        t = self.cursor.position_s
        rows = self.file.drill_rows
        for k in range(len(rows) - 1, -1, -1):
            if rows[k].shown_s < t - 1e-6:
                self.jump_to_row(k)
                return k
        return None

    def drill_summary(self) -> list[str]:
        """The drills' scores summaries, one line each ([] for a hinge file).

        The first line names the drill (or the drills of a sequence); each drill's own
        summary follows in turn.
        """
        drills = self.file.drills
        if len(drills) <= 1:
            return drills[0].summary_lines() if drills else []
        lines = [self.file.drills_text()]
        for d in drills:
            lines += d.summary_lines()
        return lines

    def sway(self, start_s: float, end_s: float) -> tuple[SwayMetrics, str | None]:
        """Sway metrics of a stretch of the current file, with the movement warning."""
        return sway_of_stretch(self.file.series, start_s, end_s)

    def session_report(self) -> SessionReport:
        """The report of every open file (as ``midfoot analyse`` gives it)."""
        reports = [f.report for f in self.files]
        reps = [r for rep in reports for r in rep.reps]
        return SessionReport(
            files=reports,
            thresholds=self.thresholds,
            asymmetry=lateral_asymmetry(reps, self.thresholds.asymmetry_flag_pct),
            zone_cuts=reports[0].stance.zone_cuts,
            sets=[s for rep in reports for s in rep.sets],
        )

    # -- edits ----------------------------------------------------------------------------
    @property
    def edit_problem(self) -> str | None:
        """Why edits cannot be saved to the current file, or None."""
        return writable_reason(self.file.path)

    def _append(self, event: object, t_s: float) -> None:
        index = int(np.searchsorted(self.file.series.t_s, t_s))
        append_events(self.file.path, [(event, index)])
        self._reload()

    @staticmethod
    def _id() -> str:
        return uuid.uuid4().hex[:12]

    def add_note(self, text: str, t_s: float | None = None) -> None:
        """A note at ``t_s`` (default: the cursor)."""
        text = text.strip()
        if not text:
            raise MidfootError("a note needs some text")
        t = self.cursor.position_s if t_s is None else t_s
        self._append(NoteAdded(text=text), t)

    def set_athlete(self, name: str) -> None:
        """Who the recording is of."""
        name = name.strip()
        if not name:
            raise MidfootError("give the athlete's name")
        self._append(AthleteSet(athlete=name, edit_id=self._id()), float(self.file.series.t_s[0]))

    def add_rep(self, start_s: float, bottom_s: float, lockout_s: float) -> None:
        """A rep the detector missed (series seconds)."""
        start, bottom, lockout = sorted((float(start_s), float(bottom_s), float(lockout_s)))
        self._append(RepAdded(start, bottom, lockout, edit_id=self._id()), start)

    def remove_rep(self, at_s: float | None = None) -> None:
        """Remove the rep at ``at_s`` (default: the cursor) as not a rep, or two merged."""
        t = self.cursor.position_s if at_s is None else float(at_s)
        if self.rep_index_at(t) is None:
            raise MidfootError(f"there is no rep at {t:.2f} s: put the cursor inside one")
        self._append(RepRemoved(at_s=t, edit_id=self._id()), t)

    def set_stance(self, start_s: float, end_s: float, stance: str) -> None:
        """The person stood in ``stance`` from ``start_s`` to ``end_s``."""
        if stance not in STANCES:
            raise MidfootError(f"unknown stance {stance!r}: use one of {', '.join(STANCES)}")
        lo, hi = sorted((float(start_s), float(end_s)))
        if hi - lo <= 0:
            raise MidfootError("select a stretch of the timeline for the stance")
        self._append(StanceEdited(lo, hi, stance, edit_id=self._id()), lo)

    def undo(self) -> str | None:
        """Take back the latest edit of the current file; what it was (None if none left)."""
        reason = self.edit_problem
        if reason is not None:
            raise MidfootError(reason)
        # The file's own order says which edit came last (a series sorts events by time).
        edits = active_edits(load_session(self.file.path).events)
        if not edits:
            return None
        last = edits[-1]
        self._append(EditUndone(edit_id=edit_key(last)), float(self.file.series.t_s[-1]))
        return event_kind(last)

    # -- exports --------------------------------------------------------------------------
    def export_samples_csv(self, path: str | Path) -> Path:
        """The current file's calibrated samples as CSV (docs/interop.md)."""
        return write_samples_csv(self.file.series, path)

    def export_reps_csv(self, path: str | Path) -> Path:
        """The rep table of every open file as CSV."""
        return write_reps_csv([row.to_dict() for row in self.all_rows()], path)

    def export_json(self, path: str | Path) -> Path:
        """The ``midfoot analyse --json`` report of every open file."""
        path = Path(path)
        try:
            path.write_text(json.dumps(self.session_report().to_dict(), indent=2) + "\n")
        except OSError as exc:
            raise MidfootError(
                f"cannot write {path} ({exc.strerror or exc}): choose a folder you can write to"
            ) from exc
        return path
