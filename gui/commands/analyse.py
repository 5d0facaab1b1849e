"""`midfoot analyse`: hinge reps, sets and left/right asymmetry of recordings, table or JSON."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from analysis.report import SessionReport, analyse_files
from analysis.reps import Thresholds
from analysis.stance import STANCES
from gui.cli import CommandParser
from gui.progress import progress

# How the stance of a file was known, in the table's words.
STANCE_SOURCE_WORDS = {
    "told": " (as told)",
    "file": " (from the file's stance events)",
    "default": " (nothing said: taken as bilateral)",
    "inferred": " (inferred from the data)",
}


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
        source = STANCE_SOURCE_WORDS.get(str(f.meta.get("stance_source")), "")
        lines.append(
            f"{f.file}: {f.stance.stance}{source}, {rate:.0f} Hz, {duration:.1f} s, "
            f"{len(f.reps)} reps{body}"
        )
        lines.extend(f"  note: {n}" for n in f.meta.get("stance_notes") or [])
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


def run(argv: list[str]) -> int:
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
    args = _parser().parse_args(argv)
    overrides = {
        "stance": args.stance,
        "foot_length_mm": args.foot_length_mm,
        "shoe_size_eu": args.shoe_size,
        "heel_y_mm": args.heel_y_mm,
        "stance_width_mm": args.stance_width_mm,
        "body_mass_kg": args.body_mass_kg,
        "plate": args.plate,
    }
    thresholds = replace(
        Thresholds(),
        lateral_shift_min_mm=args.lateral_shift_mm,
        backward_lean_mm=args.backward_lean_mm,
        asymmetry_flag_pct=args.asymmetry_pct,
    )
    # analyse_files reads its list once, in order: the bar counts the files as they are read.
    files = progress(args.files, "analysing")
    report = analyse_files(files, overrides, thresholds)  # type: ignore[arg-type]
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(format_report(report))
    return 0
