"""``midfoot analyse``: hinge reps, sets and left/right asymmetry of one or more recordings.

Each file is loaded by :func:`analysis.recording.load_series` and run through the same
streaming analyser the live screen uses (:func:`analysis.stream.analyse_series`). Reps are
grouped into sets by file and stance (:func:`analysis.reps.group_sets`), and the lateral
shift of kickstand reps led by the left foot is compared with those led by the right
(:func:`analysis.reps.lateral_asymmetry`) across all files, since each side is usually a
separate recording.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field, replace
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
from analysis.stance import STANCES, StanceSetup
from analysis.stream import HingeAnalyser, analyse_series
from daq.cli import CommandParser, UsageError
from daq.errors import MidfootError

__all__ = [
    "FileReport",
    "SessionReport",
    "analyse_files",
    "format_report",
    "run_analyse_command",
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


# -- text output ----------------------------------------------------------------------------
def _fmt(x: float | None, spec: str = ".2f", missing: str = "-") -> str:
    return missing if x is None or not np.isfinite(x) else format(x, spec)


def format_report(report: SessionReport) -> str:
    """The readable table printed without ``--json``."""
    lines: list[str] = []
    header = (
        f"{'#':>3} {'start':>7} {'bottom':>7} {'lockout':>7} {'desc':>5} {'asc':>5} "
        f"{'zone':<8} {'bias':<16} {'lat mm':>6} {'lock mm':>7} {'hold s':>6} "
        f"{'load kg':>7}  faults"
    )
    for f in report.files:
        rate = float(f.meta.get("rate_hz", float("nan")))
        duration = float(f.meta.get("duration_s", 0.0))
        body = f", body mass {f.body_mass_kg:.1f} kg" if f.body_mass_kg else ""
        lines.append(
            f"{f.file}: {f.stance.stance}, {rate:.0f} Hz, {duration:.1f} s, "
            f"{len(f.reps)} reps{body}"
        )
        if f.reps:
            lines.append(header)
        for r in f.reps:
            faults = ", ".join(f"{x.name} ({x.value:.0f} vs {x.threshold:.0f})" for x in r.faults)
            lines.append(
                f"{r.index + 1:>3} {r.start_s:>7.2f} {r.bottom_s:>7.2f} {r.lockout_s:>7.2f} "
                f"{r.descent_s:>5.2f} {r.ascent_s:>5.2f} {r.zone_at_bottom:<8} {r.bias:<16} "
                f"{_fmt(r.lateral_shift_mm, '.1f'):>6} {r.lockout_shift_mm:>7.1f} "
                f"{_fmt(r.lockout_hold_s, '.1f'):>6} {_fmt(r.load_kg, '.1f'):>7}  "
                f"{faults or '-'}"
            )
        lines.append("")
    if report.sets:
        lines.append("sets:")
        for s in report.sets:
            counts = ", ".join(f"{k} {v}" for k, v in s.fault_counts.items())
            lat = (
                f", lateral shift {s.mean_lateral_shift_mm:.1f} mm"
                if s.mean_lateral_shift_mm is not None
                else ""
            )
            lines.append(
                f"  {Path(s.file or '').name} {s.stance}: {s.n_reps} reps, descent "
                f"{_fmt(s.mean_descent_s, '.1f')} s, ascent {_fmt(s.mean_ascent_s, '.1f')} s, "
                f"hold {_fmt(s.mean_hold_s, '.1f')} s{lat}; {counts}"
            )
    a = report.asymmetry
    if a.index_pct is not None:
        verdict = "FLAGGED" if a.flag else "ok"
        lines.append(
            f"asymmetry: lateral shift index {a.index_pct:.1f} % (left lead "
            f"{a.left_mean_mm:.1f} mm, right lead {a.right_mean_mm:.1f} mm): {verdict} "
            f"(flag above {a.threshold_pct:g} %)"
        )
    else:
        lines.append(
            "asymmetry: needs kickstand reps led by each foot (kickstand-left and "
            "kickstand-right recordings)"
        )
    th = report.thresholds
    body = report.body_mass_kg
    lines.append(f"body mass: {_fmt(body, '.1f', 'unknown')} kg")
    lines.append(
        f"thresholds: heel_shift below {100 * report.zone_cuts[0]:.0f} % of foot length at the "
        f"bottom; lateral_shift below {th.lateral_shift_min_mm:g} mm toward the lead foot; "
        f"backward_lean beyond {th.backward_lean_mm:g} mm behind the standing baseline"
    )
    return "\n".join(lines)


# -- command line ---------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    p = CommandParser(
        prog="midfoot analyse",
        description=(
            "Hinge reps, faults (heel_shift, lateral_shift, backward_lean), sets and "
            "left/right asymmetry of recordings: HDF5 sessions or CSV (t,f0,f1,f2,f3 in N, "
            "or t,ap_mm,ml_mm,fz_n). Options override the files' own metadata."
        ),
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="session (.h5) or CSV file")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--stance", choices=STANCES, help="stance of every file")
    p.add_argument("--foot-length-mm", type=float, metavar="MM", help="foot length")
    p.add_argument("--shoe-size", type=float, metavar="EU", help="EU shoe size (sets foot length)")
    p.add_argument("--heel-y-mm", type=float, metavar="MM", help="AP position of the heel line")
    p.add_argument("--stance-width-mm", type=float, metavar="MM", help="feet centre-line distance")
    p.add_argument("--body-mass-kg", type=float, metavar="KG", help="the person's own mass")
    p.add_argument("--plate", metavar="NAME", help="plate preset or .toml (force CSV, sessions)")
    defaults = Thresholds()
    p.add_argument(
        "--lateral-shift-mm",
        type=float,
        default=defaults.lateral_shift_min_mm,
        metavar="MM",
        help=f"lateral_shift below this (default {defaults.lateral_shift_min_mm:g})",
    )
    p.add_argument(
        "--backward-lean-mm",
        type=float,
        default=defaults.backward_lean_mm,
        metavar="MM",
        help=f"backward_lean beyond this (default {defaults.backward_lean_mm:g})",
    )
    p.add_argument(
        "--asymmetry-pct",
        type=float,
        default=defaults.asymmetry_flag_pct,
        metavar="PCT",
        help=f"flag the asymmetry index above this (default {defaults.asymmetry_flag_pct:g})",
    )
    return p


def run_analyse_command(argv: list[str]) -> int:
    """Run ``midfoot analyse FILE... [--json] [options]``.

    Parameters
    ----------
    argv : list of str
        Arguments after ``analyse``.

    Returns
    -------
    int
        0 on success; 2 after printing ``midfoot analyse: <sentence>`` on stderr when the
        arguments or a file are wrong.
    """
    try:
        args = _parser().parse_args(argv)
    except UsageError as exc:
        print(f"midfoot analyse: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help prints and exits 0
        return int(exc.code or 0)
    overrides = {
        "stance": args.stance,
        "foot_length_mm": args.foot_length_mm,
        "shoe_size_eu": args.shoe_size,
        "heel_y_mm": args.heel_y_mm,
        "stance_width_mm": args.stance_width_mm,
        "body_mass_kg": args.body_mass_kg,
        "plate": args.plate,
    }
    try:
        thresholds = replace(
            Thresholds(),
            lateral_shift_min_mm=args.lateral_shift_mm,
            backward_lean_mm=args.backward_lean_mm,
            asymmetry_flag_pct=args.asymmetry_pct,
        )
        report = analyse_files(args.files, overrides, thresholds)
    except MidfootError as exc:
        print(f"midfoot analyse: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(format_report(report))
    return 0
