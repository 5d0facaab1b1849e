"""`midfoot export`: a recording as C3D (force platform, rep events) and/or CSV for lab tools.

    midfoot export session.h5 --c3d session.c3d
    midfoot export session.h5 --csv session.csv --reps      # also session_reps.csv

Formats and conventions: docs/interop.md. The input is a midfoot session (.h5), a midfoot
samples CSV or a C3D trial.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from analysis.report import analyse_file
from analysis.reps import Rep
from daq.c3d import FORWARD_AXES, write_c3d
from daq.errors import MidfootError
from daq.export_csv import write_reps_csv, write_samples_csv
from daq.reader import read_recording
from gui.cli import CommandParser


def rep_events(reps: list[Rep]) -> list[tuple[str, str, float]]:
    """C3D events of reps: start, bottom and lockout, and each fault at its lockout."""
    out: list[tuple[str, str, float]] = []
    for rep in reps:
        out += [
            ("Rep start", "General", rep.start_s),
            ("Rep bottom", "General", rep.bottom_s),
            ("Rep lockout", "General", rep.lockout_s),
        ]
        out += [(f"Fault {name}", "General", rep.lockout_s) for name in rep.fault_names]
    return [e for e in out if np.isfinite(e[2])]


def _check_output(path: Path, source: Path, overwrite: bool) -> None:
    if path.resolve() == source.resolve():
        raise MidfootError(f"{path} is the recording itself: give the export another name")
    if path.exists() and not overwrite:
        raise MidfootError(f"{path} already exists: give another name or add --overwrite")


def run(argv: list[str]) -> int:
    """`midfoot export FILE --c3d OUT.c3d | --csv OUT.csv [--reps]`."""
    parser = CommandParser(
        prog="midfoot export",
        description="Export a recording for lab tools: C3D with a force platform and rep "
        "events, CSV of calibrated samples, and the rep table (docs/interop.md).",
    )
    parser.add_argument("file", type=Path, help="a session (.h5), samples CSV or C3D trial")
    parser.add_argument("--c3d", type=Path, help="write a C3D file (one type 2 force platform)")
    parser.add_argument("--csv", type=Path, help="write the calibrated samples as CSV")
    parser.add_argument(
        "--reps",
        action="store_true",
        help="also write the rep table, as OUT_reps.csv beside the --csv (or --c3d) file",
    )
    parser.add_argument(
        "--forward",
        choices=FORWARD_AXES,
        default="+y",
        help="C3D input: the lab axis the person faces (default +y)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    args = parser.parse_args(argv)
    if args.c3d is None and args.csv is None:
        parser.error("give --c3d OUT.c3d, --csv OUT.csv or both")
    outputs = [p for p in (args.c3d, args.csv) if p is not None]
    reps_path = None
    if args.reps:
        base = args.csv or args.c3d
        reps_path = base.with_name(f"{base.stem}_reps.csv")
        outputs.append(reps_path)
    for out in outputs:
        _check_output(out, args.file, args.overwrite)

    series = read_recording(args.file, forward=args.forward)
    reps: list[Rep] = []
    report = None
    if args.c3d is not None or reps_path is not None:
        try:
            report = analyse_file(args.file)
            reps = report.reps
        except MidfootError as exc:
            if reps_path is not None:
                raise
            print(f"midfoot export: no rep events in the C3D ({exc})", file=sys.stderr)
    written = []
    if args.csv is not None:
        written.append(write_samples_csv(series, args.csv))
    if args.c3d is not None:
        written.append(write_c3d(series, args.c3d, rep_events(reps)))
    if reps_path is not None and report is not None:
        rows = [{"file": str(args.file), **rep.to_dict()} for rep in reps]
        written.append(write_reps_csv(rows, reps_path))
    for path in written:
        print(f"wrote {path}")
    return 0
