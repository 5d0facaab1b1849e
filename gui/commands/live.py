"""`midfoot live`: the live app, in a window when there is a display, else in the terminal.

Qt is imported only once a window is certain, so the terminal mode runs on a machine
without Qt's libraries (a headless Raspberry Pi) and `midfoot --help` stays fast.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from analysis.stance import StanceSetup
from daq.errors import MidfootError
from daq.lsl import LslFeed, require_pylsl
from daq.source import DEFAULT_BAUD
from gui.cli import CommandParser
from gui.display import has_display, platform_problem, qt_application
from gui.session import DEFAULT_SCENARIO, STANCES, LiveSession, choose_source
from gui.stop_signals import catch_stop_signals, qt_quit_on_signals, restore_signals


def build_parser() -> argparse.ArgumentParser:
    """The command line of `midfoot live`."""
    p = CommandParser(
        prog="midfoot live",
        description="The live app: stand on the plate, see the hinge. Without a plate it "
        "plays the virtual plate; without a display it runs in the terminal.",
    )
    p.add_argument(
        "--port",
        help="device path or pyserial URL (default: the plate found, else the virtual plate)",
    )
    p.add_argument(
        "--scenario",
        default=DEFAULT_SCENARIO,
        help="virtual plate scenario when no plate is used (default demo)",
    )
    p.add_argument("--rate", type=float, help="virtual plate sample rate in Hz (10, 80, 1000)")
    p.add_argument("--baud", type=int, default=DEFAULT_BAUD, help="serial speed of a real plate")
    p.add_argument("--stance", choices=STANCES, default="bilateral")
    p.add_argument("--foot-length-mm", type=float, default=260.0)
    p.add_argument("--window-s", type=float, default=10.0, help="trace window, 5-60 s")
    p.add_argument("--terminal", action="store_true", help="text feedback, no window")
    p.add_argument("--seconds", type=float, help="quit after this many seconds")
    p.add_argument("--record", type=Path, metavar="FILE", help="record into FILE from the start")
    p.add_argument("--sessions-dir", type=Path, help="where Record puts its files")
    p.add_argument("--debug", action="store_true", help="show the fps / latency overlay")
    p.add_argument(
        "--lsl",
        action="store_true",
        help="also publish force and marker streams on Lab Streaming Layer (docs/interop.md)",
    )
    return p


def run(argv: list[str]) -> int:
    """Run `midfoot live` with ``argv``; returns the exit code."""
    args = build_parser().parse_args(argv)
    if not 5.0 <= args.window_s <= 60.0:
        raise MidfootError("--window-s must be between 5 and 60 seconds")
    url, note = choose_source(args.port, args.scenario, args.rate)
    stance = StanceSetup(stance=args.stance, foot_length_mm=args.foot_length_mm)
    terminal = args.terminal
    if not terminal and not has_display():
        print(
            "midfoot live: there is no display (DISPLAY and WAYLAND_DISPLAY are unset), so the "
            "live feedback is shown here in the terminal; Ctrl-C stops it"
        )
        terminal = True
    if not terminal and (problem := platform_problem()) is not None:
        print(f"midfoot live: {problem}; until then the live feedback is shown here in the "
              "terminal; Ctrl-C stops it")
        terminal = True
    if args.lsl:
        require_pylsl()
    # A stop signal from here on closes any recording cleanly, even one that arrives while
    # the window is still being built (the faces' own handlers take over once they run).
    requested = threading.Event()
    previous = catch_stop_signals(lambda signum, frame: requested.set())
    session = LiveSession(url, stance, baudrate=args.baud)
    if args.lsl:
        session.add_feed(LslFeed(["live start", f"stance {stance.stance}"], "live stop"))
    try:
        session.start()
        if args.record:
            session.start_recording(str(args.record))
        if terminal:
            from gui.terminal import run_terminal

            if note:
                print(note)
            code = 0
            if not requested.is_set():
                code = run_terminal(session, seconds=args.seconds, sessions_dir=args.sessions_dir)
            if session.status.failure:
                print(f"midfoot live: {session.status.failure}", file=sys.stderr)
                return 1
            return code
        return _run_window(session, args, note, requested)
    finally:
        session.stop()
        restore_signals(previous)


def _run_window(
    session: LiveSession, args: argparse.Namespace, note: str | None, requested: threading.Event
) -> int:
    import pyqtgraph as pg
    from pyqtgraph.Qt import QtCore

    from gui.main_window import MainWindow

    pg.setConfigOptions(antialias=False)
    app = qt_application()
    window = MainWindow(
        session,
        window_s=args.window_s,
        scenario=args.scenario,
        note=note,
        sessions_dir=args.sessions_dir,
    )
    if args.debug:
        window.toggle_debug()
    window.show()
    if args.seconds is not None:
        # quit() closes every window first (Qt 6), which stops the plate.
        QtCore.QTimer.singleShot(int(args.seconds * 1000), app.quit)
    failed: list[str] = []

    def acquisition_failed() -> bool:
        if session.status.failure and not failed:
            failed.append(session.status.failure)
        return bool(failed)

    with qt_quit_on_signals(app, requested, acquisition_failed):
        app.exec()
    window.close()
    if failed:
        print(f"midfoot live: {failed[0]}", file=sys.stderr)
        return 1
    return 0
