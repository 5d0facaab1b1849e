"""`midfoot review`: review recordings in a window (timeline, reps, overlays, edits, exports)."""

from __future__ import annotations

import argparse
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.stance import STANCES
from daq.errors import MidfootError
from gui.cli import CommandParser
from gui.display import qt_application
from gui.stop_signals import catch_stop_signals, qt_quit_on_signals, restore_signals

if TYPE_CHECKING:
    from gui.review_model import ReviewModel

TABS = ("timeline", "overlays")


def run(argv: list[str]) -> int:
    """`midfoot review FILE [FILE ...] [--screenshot PNG]`."""
    parser = CommandParser(
        prog="midfoot review",
        description=(
            "Review recordings: the whole session on one zoomable time axis with reps, faults, "
            "stance changes, gaps and notes; the plate at the cursor; the rep table; overlays "
            "of every rep, left against right; sway of a selected stretch; edits stored in the "
            "file; exports. A drill file shows its targets, one row per trial and its "
            "scores. Keys: space play/pause, n/p next/previous rep, arrows pan, +/- "
            "zoom, [ ] speed, ctrl+z undo; shift-drag selects a stretch (docs/review.md)."
        ),
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="recordings (.h5 or CSV)")
    parser.add_argument(
        "--screenshot",
        type=Path,
        metavar="PNG",
        help="render the window offscreen to this PNG and exit",
    )
    parser.add_argument("--tab", choices=TABS, default="timeline", help="tab to show first")
    parser.add_argument("--at", type=float, metavar="S", help="put the cursor at this time")
    parser.add_argument("--select", type=float, nargs=2, metavar=("S0", "S1"),
                        help="select this stretch (its sway is shown)")
    parser.add_argument("--file", type=int, default=1, metavar="N", help="show file N first")
    parser.add_argument("--size", default="1600x1000", help="window size WxH (default 1600x1000)")
    parser.add_argument("--stance", choices=STANCES, help="override the files' stance")
    args = parser.parse_args(argv)
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        parser.error(f"--size {args.size!r} is not WxH, e.g. 1600x1000")
    if args.screenshot is not None:
        # Rendering to a file needs no screen (docs, tests and scripts run headless).
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        if not args.screenshot.parent.is_dir():
            raise MidfootError(
                f"cannot write {args.screenshot}: its folder does not exist"
            )

    from gui.review_model import ReviewModel  # noqa: PLC0415 - Qt only once arguments are good

    # The window opens on the traces; the reps follow from a worker thread.
    model = ReviewModel(args.files, {"stance": args.stance}, analyse=False)
    if not 1 <= args.file <= len(model.files):
        raise MidfootError(f"--file {args.file}: give 1 to {len(model.files)}")

    # From here a stop signal closes the window, even one that comes while it is being
    # built (the loop honours it as soon as it runs).
    requested = threading.Event()
    previous = catch_stop_signals(lambda signum, frame: requested.set())
    try:
        return _show(model, args, requested, width, height)
    finally:
        restore_signals(previous)


def _show(
    model: ReviewModel,
    args: argparse.Namespace,
    requested: threading.Event,
    width: int,
    height: int,
) -> int:
    """Build the review window on ``model`` and run it (or write its screenshot)."""
    import pyqtgraph as pg  # noqa: PLC0415

    from gui.review_window import ReviewWindow  # noqa: PLC0415

    pg.setConfigOptions(antialias=True)
    app = qt_application()
    window = ReviewWindow(model)
    if args.screenshot is not None:
        window.wait_for_analysis()
    if args.file != 1:
        window.file_box.setCurrentIndex(args.file - 1)
    window.resize(width, height)
    window.tabs.setCurrentIndex(TABS.index(args.tab))
    if args.select is not None:
        window.set_selection(*args.select)
    if args.at is not None:
        window.seek(args.at)
    window.show()
    if args.screenshot is not None:
        for _ in range(3):
            app.processEvents()
        window.redraw_traces()
        app.processEvents()
        path = window.export_png(args.screenshot)
        window.timer.stop()
        window.close()
        print(f"wrote {path}")
        return 0
    with qt_quit_on_signals(app, requested):
        code = int(app.exec())
    window.close()
    return code
