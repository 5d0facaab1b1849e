"""`midfoot report`: one self-contained HTML page about recordings, to send to the athlete."""

from __future__ import annotations

import sys
from pathlib import Path

from analysis.athlete_history import AthleteHistory, build_history
from analysis.drills import drill_settings_of
from analysis.library import open_index
from analysis.report import SessionReport, analyse_files
from analysis.stance import STANCES
from daq.errors import MidfootError
from gui.cli import CommandParser
from gui.commands.sessions import scan_folder
from gui.report_page import write_report


def drill_history(report: SessionReport, db_url: str | None = None,
                  sessions_dir: Path | None = None) -> AthleteHistory | None:
    """The history of the athlete of the report's drill files, as `midfoot history` has it.

    The same source as ``midfoot history ATHLETE [--db URL] [--sessions-dir DIR]``: the
    session index (``sessions_dir`` indexed first, and only its sessions used). None when
    the drill files name no athlete, or several, or the index has no sessions of them.
    """
    athletes = {str(f.meta.get("athlete") or "") for f in report.files
                if f.series is not None and drill_settings_of(f.series) is not None}
    if len(athletes - {""}) != 1 or "" in athletes:
        return None
    athlete = athletes.pop()
    with open_index(db_url, sessions_dir) as index:
        if sessions_dir is not None:
            for line in scan_folder(index, sessions_dir)[:-1]:
                print(f"midfoot report: {line}", file=sys.stderr)
        rows, reps, scores = index.history_rows(athlete, under=sessions_dir)
    if not rows:
        return None
    return build_history(athlete, rows, reps, scores)


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
    parser.add_argument("--sessions-dir", type=Path, metavar="DIR",
                        help="drill trend: index this folder and take the athlete's earlier "
                        "sessions from it (as `midfoot history --sessions-dir`)")
    parser.add_argument("--db", metavar="URL",
                        help="drill trend: SQLAlchemy URL of a shared index (PostgreSQL)")
    args = parser.parse_args(argv)
    if args.out.exists() and not args.overwrite:
        raise MidfootError(f"{args.out} already exists: pass --overwrite or choose another name")
    overrides = {"stance": args.stance, "body_mass_kg": args.body_mass_kg}
    report = analyse_files(args.files, overrides)
    try:
        history = drill_history(report, args.db, args.sessions_dir)
    except MidfootError as exc:
        if args.db or args.sessions_dir:
            raise
        # The default index is only a bonus here: the page is still worth writing.
        print(f"midfoot report: no drill trend ({exc})", file=sys.stderr)
        history = None
    path = write_report(report, args.out, history)
    n = sum(len(f.reps) for f in report.files)
    drills = sum(1 for f in report.files if f.series is not None
                 and drill_settings_of(f.series) is not None)
    also = f", {drills} drill file(s)" if drills else ""
    if history is not None:
        also += f", the drill trend over {len(history.visits)} visit(s) of {history.athlete}"
    print(f"wrote {path} ({n} reps{also} from {len(report.files)} file(s))")
    return 0
