"""`midfoot drill NAME`: a weight-shift drill with visual feedback, scored.

Without a plate it runs on the virtual plate, which plays a scripted person doing the drill
(``--person``). ``--json`` prints the scores as one JSON object when the drill ends;
``--record`` writes samples, targets, hits and scores to HDF5 from the plate's first sample;
``--terminal`` (or no display) shows it as text. Qt is imported only for the window.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

from analysis.drills import (
    DRILL_HELP,
    DRILL_NAMES,
    LEVELS,
    DrillSettings,
    DrillView,
    result_from_dict,
)
from analysis.stance import StanceSetup
from daq.errors import MidfootError
from daq.events import DrillTargetHit, DrillTrialScored
from daq.lsl import LslFeed, require_pylsl
from daq.source import DEFAULT_BAUD, plate_ports
from gui.cli import CommandParser
from gui.display import has_display, platform_problem, qt_application
from gui.drill_session import DrillSession
from gui.session import STANCES, LiveSession, virtual_plate_url
from gui.stop_signals import catch_stop_signals, qt_quit_on_signals, restore_signals
from hardware.drill_people import BEHAVIOURS, forget_screen, watch_screen

REFRESH_S = 0.1
BAR_WIDTH = 41
# The drill's own end plus this long for the last events; --seconds caps it.
END_GRACE_S = 3.0


def build_parser() -> argparse.ArgumentParser:
    """The command line of `midfoot drill`."""
    p = CommandParser(
        prog="midfoot drill",
        description="A weight-shift drill with visual feedback, scored (docs/drills.md). "
        "Drills: " + "; ".join(f"{k}: {v}" for k, v in DRILL_HELP.items()),
    )
    p.add_argument("name", choices=DRILL_NAMES, nargs="+",
                   help="which drill; several run one after another into one recording")
    p.add_argument("--port", help="device path or pyserial URL (default: the plate found, "
                   "else the virtual plate)")
    p.add_argument("--stance", choices=STANCES, default="bilateral")
    p.add_argument("--seconds", type=float,
                   help="stop after this long (the weight drill: how long it runs)")
    p.add_argument("--record", type=Path, metavar="FILE", help="record the drill into FILE")
    p.add_argument("--terminal", action="store_true", help="text feedback, no window")
    p.add_argument("--json", action="store_true",
                   help="print the scores as one JSON object when the drill ends")
    p.add_argument("--lsl", action="store_true",
                   help="publish force and marker streams on Lab Streaming Layer")
    p.add_argument("--sound", action="store_true", help="a sound when a target is held")
    d = p.add_argument_group("difficulty")
    d.add_argument("--level", choices=LEVELS, default="medium")
    d.add_argument("--target-pct", type=float, help="lateral: target at this %% of the range")
    d.add_argument("--band-pct", type=float, help="lateral: band width as %% of the range")
    d.add_argument("--hold-s", type=float, help="lateral: seconds to hold each target")
    d.add_argument("--targets", type=int, default=8, help="lateral: number of targets")
    d.add_argument("--order", choices=("alternate", "random"), default="alternate")
    d.add_argument("--timing", choices=("fixed", "random"), default="fixed")
    d.add_argument("--axis", choices=("ml", "ap"), default="ml",
                   help="rhythmic: left-right (ml) or front-back (ap)")
    d.add_argument("--pace", type=float, nargs="+", metavar="S",
                   help="rhythmic: seconds per cycle of each pace (default 3 2 1)")
    d.add_argument("--cycles", type=int, default=4, help="rhythmic: cycles per pace")
    d.add_argument("--range-mm", metavar="LEFT,RIGHT",
                   help="the person's range (skip measuring it): left,right (or back,forward)")
    d.add_argument("--limits", type=Path, metavar="FILE",
                   help="take the lateral range from a `midfoot drill limits --json` result")
    d.add_argument("--height-m", type=float, default=1.75, help="limits: body height")
    d.add_argument("--band-weight-pct", type=float, help="weight: +- band (default 7 %%)")
    d.add_argument("--seed", type=int, help="seed of the random order and timing")
    v = p.add_argument_group("virtual plate (no plate plugged in)")
    v.add_argument("--person", choices=BEHAVIOURS, default="perfect",
                   help="who the virtual plate plays (hardware/drill_people.py)")
    v.add_argument("--rate", type=float, default=80.0, help="sample rate, Hz (10, 80, 1000)")
    v.add_argument("--speed", type=float, default=1.0, help="plate seconds per second")
    p.add_argument("--baud", type=int, default=DEFAULT_BAUD, help="serial speed of a real plate")
    return p


def _range_of(args: argparse.Namespace) -> tuple[float, float] | None:
    if args.range_mm and args.limits:
        raise MidfootError("give --range-mm or --limits, not both")
    if args.range_mm:
        try:
            left, right = (float(v) for v in args.range_mm.split(","))
        except ValueError:
            raise MidfootError("--range-mm takes two distances in mm: LEFT,RIGHT") from None
        return left, right
    if args.limits:
        try:
            data = json.loads(Path(args.limits).read_text())
        except (OSError, ValueError) as exc:
            raise MidfootError(f"cannot read {args.limits} as a drill result ({exc})") from None
        if isinstance(data, list):
            # A sequence's --json: its limits drill's result.
            data = next((d for d in data if isinstance(d, dict)
                         and d.get("drill") == "limits"), None)
        if not isinstance(data, dict):
            raise MidfootError(f"{args.limits} is not a midfoot drill result")
        got = result_from_dict(data).lateral_range_mm()
        if got is None:
            raise MidfootError(f"{args.limits} holds no left and right limits to take")
        return got
    return None


def settings_from_args(args: argparse.Namespace, name: str | None = None) -> DrillSettings:
    """The settings of drill ``name`` (default: the first named) from the command line.

    Raises
    ------
    MidfootError
        A setting is out of range.
    """
    name = name or _names(args)[0]
    rng = _range_of(args)
    kw: dict[str, object] = {}
    if name == "weight" and args.seconds is not None:
        kw["duration_s"] = args.seconds
    if args.pace:
        kw["cycle_s"] = tuple(args.pace)
    return DrillSettings(
        drill=name,
        level=args.level,
        target_pct=args.target_pct,
        band_pct=args.band_pct,
        hold_s=args.hold_s,
        targets=args.targets,
        order=args.order,
        timing=args.timing,
        axis=args.axis,
        cycles=args.cycles,
        range_left_mm=None if rng is None else rng[0],
        range_right_mm=None if rng is None else rng[1],
        height_m=args.height_m,
        weight_band_pct=args.band_weight_pct,
        seed=int(time.time()) % 100000 if args.seed is None else args.seed,
        **kw,
    ).resolved()


def _names(args: argparse.Namespace) -> list[str]:
    """The drills named on the command line, in order (``name`` is one or a list)."""
    return [args.name] if isinstance(args.name, str) else list(args.name)


def choose_drill_source(
    args: argparse.Namespace, settings: DrillSettings | list[DrillSettings]
) -> tuple[str, str | None]:
    """The plate to use and a note: ``--port``, the one plate found, else a drill person.

    The drill person does every drill of a sequence in turn (the ``drill`` parameter
    holds each drill's settings, separated by ``;``).
    """
    if args.port:
        return args.port, None
    found = plate_ports()
    if found:
        return found[0][0], None
    sequence = [settings] if isinstance(settings, DrillSettings) else list(settings)
    first = sequence[0]
    url = virtual_plate_url(
        f"drill-{first.drill}-{args.person}", args.rate, seed=first.seed,
        speed=args.speed,
        extra={"drill": ";".join(s.to_text() for s in sequence), "loop": "0"},
    )
    what = "the drill" if len(sequence) == 1 else "the drills"
    return url, f"no plate found: the virtual plate plays a {args.person} person doing {what}"


def run(argv: list[str]) -> int:
    """Run `midfoot drill` with ``argv``; returns the exit code."""
    args = build_parser().parse_args(argv)
    if args.seconds is not None and not args.seconds > 0:
        raise MidfootError("--seconds must be more than 0")
    names = _names(args)
    if "weight" in names and args.stance != "bilateral":
        raise MidfootError("the weight drill is for the bilateral stance: use --stance bilateral")
    sequence = [settings_from_args(args, name) for name in names]
    url, note = choose_drill_source(args, sequence)
    terminal = args.terminal or not has_display()
    if not terminal and (problem := platform_problem()) is not None:
        print(f"midfoot drill: {problem}; until then the drill runs here in the terminal")
        terminal = True
    if args.lsl:
        require_pylsl()
    stance = StanceSetup(stance=args.stance)
    session = LiveSession(url, stance, baudrate=args.baud)
    feed = None
    if args.lsl:
        feed = LslFeed([f"drill start {' '.join(s.drill for s in sequence)}"], "drill stop")
        session.add_feed(feed)
    if args.record:
        # Armed before the plate opens, so the file's clock is the drill's.
        session.start_recording(str(args.record))
    drill = DrillSession(session, sequence, stance, feed)
    if note is not None:
        # The virtual person watches this drill's screen, as a real one would: they start
        # when it shows the drill started, however late the start-up tare let it start.
        drill.watchers.append(watch_screen(url).see)
    info = sys.stderr if args.json else sys.stdout
    session.start()
    try:
        if note:
            print(note, file=info)
        limit_s = args.seconds if args.seconds is not None and "weight" not in names else None
        if terminal:
            run_terminal_drill(drill, limit_s, out=info, sound=args.sound)
        else:
            _run_window(drill, limit_s, args.sound)
        results = drill.finish_all()
        path = session.stop_recording() if args.record else None
    finally:
        session.stop()
        forget_screen(url)
    if args.json:
        # One drill: its result; a sequence: the list of them, in order.
        data = [r.to_dict() for r in results]
        print(json.dumps(data[0] if len(names) == 1 else data, allow_nan=False))
    else:
        for result in results:
            print(result.summary_text())
            for trial in result.trials:
                print("  " + _trial_line(trial))
    if path:
        print(f"recorded the drill to {path}", file=info)
    return 0


def _trial_line(trial: dict) -> str:
    shown = {k: v for k, v in trial.items() if k not in ("index", "kind")}
    bits = []
    for k, v in shown.items():
        if isinstance(v, float):
            bits.append(f"{k} {v:.3g}")
        elif v is not None:
            bits.append(f"{k} {v}")
    return ", ".join(bits)


def _run_window(drill: DrillSession, limit_s: float | None, sound: bool) -> None:
    import pyqtgraph as pg

    from gui.drill_window import DrillWindow

    pg.setConfigOptions(antialias=True)
    app = qt_application()
    window = DrillWindow(drill, sound=sound, limit_s=limit_s)
    window.show()
    # Ctrl-C or kill ends the drill as closing the window does: scores so far, file kept.
    with qt_quit_on_signals(app, threading.Event()):
        app.exec()
    window.close()


# -- the terminal view ------------------------------------------------------------------------


def drill_bar(view: DrillView, width: int = BAR_WIDTH) -> str:
    """The axis as text: the band ``[==]`` and the CoP ``o``, from -reach to +reach."""
    reach = max(v for v in (*view.range_mm, 60.0) if v == v)
    reach *= 1.1
    cells = [" "] * width

    def col(mm: float) -> int:
        return int(round((mm / reach + 1.0) / 2.0 * (width - 1)))

    cells[col(0.0)] = "|"
    if view.target_mm == view.target_mm and view.half_width_mm == view.half_width_mm:
        lo = max(0, col(view.target_mm - view.half_width_mm))
        hi = min(width - 1, col(view.target_mm + view.half_width_mm))
        for i in range(lo, hi + 1):
            cells[i] = "="
        cells[lo], cells[hi] = "[", "]"
    if view.cursor_mm == view.cursor_mm:
        cells[max(0, min(width - 1, col(view.cursor_mm)))] = "O" if view.inside else "o"
    neg, pos = ("L", "R") if view.axis == "ml" else ("B", "F")
    return f"{neg} {''.join(cells)} {pos}"


def drill_line(view: DrillView) -> str:
    """One line of the drill's feedback: progress, instruction, the bar, hold and cue."""
    done, total = view.progress
    head = f"[{view.drill} {done}/{total}]"
    if view.state == "waiting":
        return f"{head} {view.instruction}"
    if view.state == "done":
        return f"{head} done: {view.instruction}"
    if view.drill == "weight" and view.right_pct == view.right_pct:
        left = 100.0 - view.right_pct
        mark = "IN BAND" if view.inside else "out"
        body = f"left {left:4.0f} % | right {view.right_pct:4.0f} %  (+-{view.band_pct:g} %) {mark}"
    elif view.drill == "limits" and view.direction_deg == view.direction_deg:
        dx, dy = view.cursor_xy_mm
        body = f"lean {view.direction_deg:3.0f} deg | CoP x {dx:+5.0f} mm y {dy:+5.0f} mm"
    else:
        body = drill_bar(view)
    ring = ""
    if view.phase == "target":
        filled = int(round(10 * view.hold_fraction))
        ring = f" hold {'#' * filled}{'-' * (10 - filled)}"
    left_s = f" {view.time_left_s:4.1f} s" if view.time_left_s == view.time_left_s else ""
    cue = f"  ** {view.cue} **" if view.cue else ""
    return f"{head} {view.instruction}{left_s} | {body}{ring}{cue}"


def run_terminal_drill(
    drill: DrillSession,
    limit_s: float | None = None,
    out: TextIO | None = None,
    interactive: bool | None = None,
    sound: bool = False,
) -> None:
    """Show a running drill as text until it ends, ``limit_s`` pass, or a stop signal.

    On a terminal one line redraws in place; piped, a line is printed for each new
    instruction and each trial's scores.
    """
    out = out or sys.stdout
    if interactive is None:
        interactive = out.isatty()
    stop = threading.Event()
    previous = catch_stop_signals(lambda signum, frame: stop.set())
    t0 = time.monotonic()
    said = ""
    warned = False
    try:
        while not stop.is_set() and not drill.finished:
            warning = drill.session.status.calibration_warning
            if warning and not warned and drill.run.settings.drill == "weight":
                # The shares come from the absolute CoP: say how far to trust them.
                print(f"warning: {warning}; the weight shares are approximate", file=out)
                warned = True
            if limit_s is not None and time.monotonic() - t0 >= limit_s:
                break
            if drill.session.status.state == "failed":
                raise MidfootError(drill.session.status.message or "the plate stopped")
            view = drill.view()
            for event in drill.poll():
                if isinstance(event, DrillTargetHit) and sound:
                    out.write("\a")
                if isinstance(event, DrillTrialScored) and not interactive:
                    print(f"  {event.text}", file=out)
            if interactive:
                out.write("\r\x1b[2K" + drill_line(view)[:200])
                out.flush()
            elif view.instruction != said:
                said = view.instruction
                print(drill_line(view), file=out)
            stop.wait(REFRESH_S)
    finally:
        if interactive:
            out.write("\n")
        restore_signals(previous)


__all__ = ["drill_bar", "drill_line", "run", "run_terminal_drill", "settings_from_args"]
