"""`midfoot batch DIR --out RESULTS.csv`: re-analyse every session under DIR on Dask."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from analysis.batch import load_recalibration, run_dask, write_csv
from analysis.library import find_recordings
from gui.cli import CommandParser, UsageError
from gui.progress import progress_bar


def _parser() -> argparse.ArgumentParser:
    p = CommandParser(
        prog="midfoot batch",
        description=(
            "Re-analyse every recording under DIR in parallel on Dask distributed (a "
            "LocalCluster here, or a running scheduler) and write one CSV row per rep. The "
            "rows are the same whatever runs them; an unreadable file is reported in one line "
            "and the rest go on."
        ),
    )
    p.add_argument("folder", type=Path, metavar="DIR")
    p.add_argument("--out", required=True, type=Path, metavar="RESULTS.csv")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="a running Dask scheduler")
    p.add_argument("--workers", type=int, metavar="N", help="LocalCluster worker processes")
    p.add_argument("--recalibrate", type=Path, metavar="CAL.json",
                   help="re-analyse sessions with this calibration's gains")
    return p


def run(argv: list[str]) -> int:
    """Run ``midfoot batch DIR --out RESULTS.csv [--scheduler URL] [--workers N]``.

    Returns
    -------
    int
        0 when every file was analysed; 1 when some could not be (their lines on stderr,
        the others in the CSV); 2 for a wrong argument, folder or scheduler.
    """
    args = _parser().parse_args(argv)
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be at least 1; see midfoot batch --help")
    if args.scheduler and args.workers is not None:
        raise UsageError("--workers is for the local cluster; a scheduler has its own workers")
    calibration = load_recalibration(args.recalibrate) if args.recalibrate else None
    paths = find_recordings(args.folder)
    with progress_bar(len(paths), "analysing") as bar:
        result = run_dask(
            paths,
            args.folder,
            calibration,
            scheduler=args.scheduler,
            workers=args.workers,
            on_done=lambda: bar.update(1),
        )
    write_csv(result, args.out)
    for line in result.problems:
        print(f"midfoot batch: {line}", file=sys.stderr)
    print(
        f"{len(result.rows)} reps from {result.n_files - len(result.problems)} of "
        f"{result.n_files} files written to {args.out}"
    )
    return 1 if result.problems else 0
