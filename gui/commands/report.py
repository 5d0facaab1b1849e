"""`midfoot report`: one self-contained HTML page about recordings, to send to the athlete."""

from __future__ import annotations

from pathlib import Path

from analysis.drills import drill_settings_of
from analysis.report import analyse_files
from analysis.stance import STANCES
from daq.errors import MidfootError
from gui.cli import CommandParser
from gui.report_page import write_report


def run(argv: list[str]) -> int:
    """`midfoot report FILE [FILE ...] --out REPORT.html`."""
    parser = CommandParser(
        prog="midfoot report",
        description=(
            "Write one HTML page a coach can send (no network needed): who and when, plate and "
            "calibration, sets, reps, each rep's CoP path on the foot, left against right, sway "
            "of quiet standing and the cues; for a drill file its scores, sides, trials and "
            "targets. Review edits stored in the files are honoured."
        ),
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="recordings (.h5 or CSV)")
    parser.add_argument("--out", required=True, type=Path, help="the .html file to write")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    parser.add_argument("--stance", choices=STANCES, help="override the files' stance")
    parser.add_argument("--body-mass-kg", type=float, help="the athlete's own mass")
    args = parser.parse_args(argv)
    if args.out.exists() and not args.overwrite:
        raise MidfootError(f"{args.out} already exists: pass --overwrite or choose another name")
    overrides = {"stance": args.stance, "body_mass_kg": args.body_mass_kg}
    report = analyse_files(args.files, overrides)
    path = write_report(report, args.out)
    n = sum(len(f.reps) for f in report.files)
    drills = sum(1 for f in report.files if f.series is not None
                 and drill_settings_of(f.series) is not None)
    also = f", {drills} drill(s)" if drills else ""
    print(f"wrote {path} ({n} reps{also} from {len(report.files)} file(s))")
    return 0
