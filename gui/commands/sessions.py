"""`midfoot sessions`: list the indexed sessions, or `sessions scan DIR` to index a folder."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from analysis.library import SessionIndex, SessionRow, open_index
from gui.cli import CommandParser
from gui.progress import progress


def _open(folder: Path | None, db_url: str | None) -> SessionIndex:
    """The index: ``--db``, else $MIDFOOT_DB_URL, else index.sqlite in the folder."""
    return open_index(db_url, folder)


def scan_folder(index: SessionIndex, folder: Path) -> list[str]:
    """Index ``folder`` with a progress bar; one line per unreadable file, then a summary."""
    result = index.scan(folder, progress=lambda files: progress(files, "indexing"))
    return [*result.problems, f"{folder}: {result.summary()}"]


def format_sessions(rows: list[SessionRow]) -> str:
    """The table ``midfoot sessions`` prints."""
    if not rows:
        return "no sessions (index a folder with `midfoot sessions scan DIR`)"
    width = max(12, *(len(r.athlete) for r in rows))
    lines = [
        f"{'date (UTC)':<16}  {'athlete':<{width}}  {'kind':<5}  {'stance':<15}  "
        f"{'min':>5}  {'reps':>4}  {'faults':>6}  file"
    ]
    for r in rows:
        lines.append(
            f"{r.recorded_utc:%Y-%m-%d %H:%M}  {r.athlete or '-':<{width}}  {r.kind:<5}  "
            f"{r.stance:<15}  {r.duration_s / 60:>5.1f}  {r.n_reps:>4}  {r.n_faults:>6}  "
            f"{r.path}"
        )
    return "\n".join(lines)


def _list_parser() -> argparse.ArgumentParser:
    p = CommandParser(
        prog="midfoot sessions",
        description=(
            "List indexed sessions (date, athlete, kind, duration, reps, faults). With DIR, "
            "that folder is indexed first (its index.sqlite unless --db) and only its "
            "sessions are listed. `midfoot sessions scan DIR` only indexes."
        ),
    )
    p.add_argument("folder", nargs="?", type=Path, metavar="DIR", help="a sessions folder")
    p.add_argument("--athlete", metavar="A", help="only this athlete's sessions")
    p.add_argument("--since", metavar="D", help="only from this date on (YYYY-MM-DD, UTC)")
    p.add_argument("--until", metavar="D", help="only up to this date (YYYY-MM-DD, UTC)")
    p.add_argument("--db", metavar="URL", help="SQLAlchemy URL of a shared index (PostgreSQL)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return p


def _scan_parser() -> argparse.ArgumentParser:
    p = CommandParser(
        prog="midfoot sessions scan",
        description=(
            "Index every recording under DIR: new and changed files (by size and modification "
            "time) are analysed, files that are gone are taken out, unreadable ones are "
            "reported one line each."
        ),
    )
    p.add_argument("folder", type=Path, metavar="DIR")
    p.add_argument("--db", metavar="URL", help="SQLAlchemy URL of a shared index (PostgreSQL)")
    return p


def run(argv: list[str]) -> int:
    """Run ``midfoot sessions [DIR] [filters]`` or ``midfoot sessions scan DIR``.

    Returns
    -------
    int
        0; 2 after one line on stderr for a wrong argument, folder, date or database.
    """
    if argv[:1] == ["scan"]:
        args = _scan_parser().parse_args(argv[1:])
        with _open(args.folder, args.db) as index:
            lines = scan_folder(index, args.folder)
        for line in lines[:-1]:
            print(f"midfoot sessions scan: {line}", file=sys.stderr)
        print(lines[-1])
        return 0
    args = _list_parser().parse_args(argv)
    with _open(args.folder, args.db) as index:
        if args.folder is not None:
            lines = scan_folder(index, args.folder)
            for line in lines[:-1]:
                print(f"midfoot sessions: {line}", file=sys.stderr)
        rows = index.sessions(
            athlete=args.athlete, since=args.since, until=args.until, under=args.folder
        )
    if args.json:
        print(json.dumps([r.to_dict() for r in rows], indent=2))
    else:
        print(format_sessions(rows))
    return 0
