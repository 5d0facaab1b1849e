"""``midfoot analyse``: hinge reps, sets and left/right asymmetry of one or more recordings.

Each file is loaded by :func:`analysis.recording.load_series` and run through the same
streaming analyser the live screen uses (:func:`analysis.stream.analyse_series`). Reps are
grouped into sets by file and stance (:func:`analysis.reps.group_sets`), and the lateral
shift of kickstand reps led by the left foot is compared with those led by the right
(:func:`analysis.reps.lateral_asymmetry`) across all files, since each side is usually a
separate recording.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from analysis.recording import load_series
from analysis.reps import (
    Asymmetry,
    Rep,
    SetSummary,
    Thresholds,
    group_sets,
    lateral_asymmetry,
    summarise_set,
)
from analysis.stance import StanceSetup
from analysis.stream import HingeAnalyser, analyse_series

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
                    "body_mass_kg": None if f.body_mass_kg is None else round(f.body_mass_kg, 2),
                    "reps": len(f.reps),
                }
                for f in self.files
            ],
        }


def analyse_file(
    path: str | Path,
    overrides: dict[str, object] | None = None,
    thresholds: Thresholds | None = None,
) -> FileReport:
    """Load and analyse one recording.

    Parameters
    ----------
    path : str or Path
        A session or CSV file.
    overrides : dict, optional
        Metadata that wins over the file's (see :func:`analysis.recording.load_series`).
    thresholds : Thresholds, optional
        Fault limits.
    """
    t, fz, cop, stance, meta = load_series(path, overrides)
    meta["duration_s"] = float(t[-1] - t[0])
    analyser = HingeAnalyser(stance, thresholds, body_mass_kg=meta.get("body_mass_kg"))
    reps = analyse_series(
        t,
        fz,
        cop,
        stance,
        thresholds,
        body_mass_kg=meta.get("body_mass_kg"),  # type: ignore[arg-type]
        stance_changes=meta.get("stance_changes") or [],  # type: ignore[arg-type]
        analyser=analyser,
    )
    return FileReport(
        file=str(path), stance=stance, meta=meta, reps=reps, body_mass_kg=analyser.body_mass_kg
    )


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
