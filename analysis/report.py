"""``midfoot analyse``: hinge reps, sets and left/right asymmetry of one or more recordings.

Each file is read by :func:`daq.reader.read_recording` (the one reader) and run through the
same streaming analyser the live screen uses (:func:`analysis.analyser.feed_series`), in the
stance told, else the stances the file's stance events say, else the stance the analyser
infers from the data each time the feet are placed (``stance_source`` says which; a told or
recorded stance the data disagree with is noted in ``stance_notes``). Reps are
grouped into sets by file and stance (:func:`analysis.reps.group_sets`), and the lateral
shift of kickstand reps led by the left foot is compared with those led by the right
(:func:`analysis.reps.lateral_asymmetry`) across all files, since each side is usually a
separate recording.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from analysis.analyser import feed_series
from analysis.edits import EditedReps, apply_rep_edits, edited_athlete, with_stance_edits
from analysis.events import StanceInferred
from analysis.hinge import OFFLINE_BLOCK_SAMPLES, HingeAnalyser
from analysis.reps import (
    Asymmetry,
    Rep,
    SetSummary,
    Thresholds,
    group_sets,
    lateral_asymmetry,
    summarise_set,
)
from analysis.stance import StanceSetup, stance_timeline
from daq.calibration import Calibration
from daq.errors import MidfootError
from daq.reader import read_recording
from daq.series import PlateSeries

__all__ = [
    "FileReport",
    "SessionReport",
    "analyse_files",
]


@dataclass
class FileReport:
    """The reps of one file and what is known about it."""

    file: str
    stance: StanceSetup
    meta: dict[str, object]
    reps: list[Rep]
    body_mass_kg: float | None
    series: PlateSeries | None = field(default=None, repr=False)
    edits: EditedReps | None = field(default=None, repr=False)

    @property
    def detected_reps(self) -> list[Rep]:
        """The detector's own reps, before any review edit."""
        return self.edits.detected if self.edits is not None else self.reps

    @property
    def sets(self) -> list[SetSummary]:
        """One summary per run of reps in the same stance."""
        return [summarise_set(s, self.file) for s in group_sets(self.reps)]


@dataclass
class SessionReport:
    """Everything ``midfoot analyse`` reports."""

    files: list[FileReport]
    thresholds: Thresholds
    asymmetry: Asymmetry
    zone_cuts: tuple[float, float] = (0.0, 0.0)
    sets: list[SetSummary] = field(default_factory=list)

    @property
    def body_mass_kg(self) -> float | None:
        """Median body mass over the files that know it."""
        known = [f.body_mass_kg for f in self.files if f.body_mass_kg is not None]
        return float(np.median(known)) if known else None

    def to_dict(self) -> dict[str, object]:
        """The ``--json`` document."""
        reps = []
        for f in self.files:
            for rep in f.reps:
                reps.append({"file": f.file, **rep.to_dict()})
        thresholds: dict[str, object] = self.thresholds.to_dict()
        thresholds["heel_zone_cut_fraction"] = self.zone_cuts[0]
        thresholds["zone_cuts"] = list(self.zone_cuts)
        body = self.body_mass_kg
        return {
            "reps": reps,
            "sets": [s.to_dict() for s in self.sets],
            "asymmetry": self.asymmetry.to_dict(),
            "body_mass_kg": None if body is None else round(body, 2),
            "thresholds": thresholds,
            "files": [
                {
                    "file": f.file,
                    "kind": f.meta.get("kind"),
                    "rate_hz": round(float(f.meta.get("rate_hz", float("nan"))), 2),
                    "samples": f.meta.get("samples"),
                    "duration_s": round(float(f.meta.get("duration_s", 0.0)), 3),
                    "stance": f.stance.to_dict(),
                    "stance_source": f.meta.get("stance_source"),
                    "stance_notes": list(f.meta.get("stance_notes") or []),
                    "body_mass_kg": None if f.body_mass_kg is None else round(f.body_mass_kg, 2),
                    "reps": len(f.reps),
                    "athlete": f.meta.get("athlete", ""),
                    "detected_reps": len(f.detected_reps),
                    "edit_problems": [] if f.edits is None else f.edits.problems,
                }
                for f in self.files
            ],
        }


# The analyser needs its rate probe and a weigh-in: anything shorter is not a recording.
MIN_SAMPLES = 20
BODY_MASS_RANGE_KG = (10.0, 400.0)


def _body_mass_kg(series: PlateSeries, overrides: dict[str, object]) -> float | None:
    source = Path(series.meta.source).name
    given = overrides.get("body_mass_kg")
    value = series.meta.body_mass_kg if given is None else given
    if value is None:
        return None
    try:
        body = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise MidfootError(f"{source}: body_mass_kg {value!r} is not a number; give kg") from None
    if not np.isfinite(body):
        return None
    if not BODY_MASS_RANGE_KG[0] <= body <= BODY_MASS_RANGE_KG[1]:
        raise MidfootError(f"{source}: body_mass_kg {body:g} is implausible; give 10-400 kg")
    return body


def check_analysable(series: PlateSeries) -> None:
    """Raise a one-sentence :class:`MidfootError` if the hinge analysis cannot run on it."""
    source = Path(series.meta.source).name
    if len(series) < MIN_SAMPLES:
        raise MidfootError(
            f"{source} holds only {len(series)} samples: record at least a few seconds"
        )
    if not np.isfinite(series.fz_n).any():
        raise MidfootError(
            f"{source} has no total force (only CoP): the hinge analysis needs it, so export "
            "t,ap_mm,ml_mm,fz_n or the plate's forces"
        )


def analyse_series_report(
    series: PlateSeries,
    overrides: dict[str, object] | None = None,
    thresholds: Thresholds | None = None,
) -> FileReport:
    """Analyse one recording already read.

    Parameters
    ----------
    series : PlateSeries
        From :func:`daq.reader.read_recording`.
    overrides : dict, optional
        What a person told: ``stance``, ``foot_length_mm``, ``shoe_size_eu``,
        ``heel_y_mm``, ``stance_width_mm``, ``body_mass_kg`` (None values ignored).
    thresholds : Thresholds, optional
        Fault limits.
    """
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    check_analysable(series)
    # Review edits (analysis/edits.py): stances edited for a stretch feed the detector, and
    # reps added or removed by a person change its result, which is kept beside.
    series = with_stance_edits(series)
    timeline = stance_timeline(series, overrides)
    body = _body_mass_kg(series, overrides)
    # Nothing said about the stance: the analyser reads it from the data each time the
    # feet are placed. Told or from the file, that stance wins and a disagreement is noted.
    inferring = timeline.source == "default"
    analyser = HingeAnalyser(
        timeline.initial, thresholds, body_mass_kg=body, stance_told=not inferring
    )
    events = feed_series(analyser, series, timeline.changes, OFFLINE_BLOCK_SAMPLES)
    detected = analyser.reps
    edits = apply_rep_edits(series, detected, timeline, thresholds, analyser.body_mass_kg)
    reps = edits.reps
    guesses = [e for e in events if isinstance(e, StanceInferred)]
    stance = timeline.initial
    source = timeline.source
    if inferring and guesses:
        source = "inferred"
        stance = timeline.initial.with_stance(guesses[0].stance)
    notes = list(dict.fromkeys(g.message() for g in guesses if g.mismatch))
    meta: dict[str, object] = {
        "kind": series.meta.kind,
        "rate_hz": series.rate_hz,
        "samples": len(series),
        "duration_s": series.duration_s,
        "athlete": edited_athlete(series),
        "stance_source": source,
        "stance_notes": notes,
        "stances_inferred": [g.stance for g in guesses],
        "calibrated": series.meta.calibrated,
        "plate": None if series.meta.plate is None else series.meta.plate.name,
        "body_mass_kg": body,
    }
    return FileReport(
        file=series.meta.source,
        stance=stance,
        meta=meta,
        reps=reps,
        body_mass_kg=analyser.body_mass_kg,
        series=series,
        edits=edits,
    )


def analyse_file(
    path: str | Path,
    overrides: dict[str, object] | None = None,
    thresholds: Thresholds | None = None,
    *,
    calibration: Calibration | None = None,
) -> FileReport:
    """Read and analyse one recording.

    Parameters
    ----------
    path : str or Path
        Any file :func:`daq.reader.read_recording` accepts.
    overrides : dict, optional
        What a person told (see :func:`analyse_series_report`), and ``plate`` (a preset
        name or .toml path that wins over the file's geometry).
    thresholds : Thresholds, optional
        Fault limits.
    calibration : Calibration, optional
        Re-calibrate a session with these gains.
    """
    plate = (overrides or {}).get("plate")
    series = read_recording(path, plate=plate or None, calibration=calibration)  # type: ignore[arg-type]
    report = analyse_series_report(series, overrides, thresholds)
    report.file = str(path)
    return report


def analyse_files(
    paths: list[str | Path],
    overrides: dict[str, object] | None = None,
    thresholds: Thresholds | None = None,
) -> SessionReport:
    """Analyse several recordings together (sets per file, asymmetry across them)."""
    thresholds = thresholds or Thresholds()
    files = [analyse_file(p, overrides, thresholds) for p in paths]
    all_reps = [r for f in files for r in f.reps]
    return SessionReport(
        files=files,
        thresholds=thresholds,
        asymmetry=lateral_asymmetry(all_reps, thresholds.asymmetry_flag_pct),
        zone_cuts=files[0].stance.zone_cuts if files else (0.0, 0.0),
        sets=[s for f in files for s in f.sets],
    )
