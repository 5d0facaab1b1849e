"""The live feedback as text, for SSH sessions, a headless Raspberry Pi and CI.

Shows what the window shows that a person mid-set needs: connection state, weight, CoP zone,
rep count, the last rep's cues and, once both kickstand sides have reps, left against
right. On a terminal the block redraws in place a few times a second and takes the live
window's keys; piped into a file it prints one line a second and one line per rep instead,
so a log stays readable. No Qt is imported here.
"""

from __future__ import annotations

import contextlib
import math
import os
import select
import sys
import termios
import threading
import time
import tty
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from analysis.events import BodyMassMeasured, RepCompleted
from analysis.reps import Rep
from daq.errors import MidfootError
from daq.events import STANCES
from gui.session import (
    LiveReadout,
    LiveSession,
    StanceSet,
    Tared,
    asymmetry_text,
    default_sessions_dir,
)
from gui.stop_signals import catch_stop_signals, restore_signals

REFRESH_S = 0.2
PLAIN_LINE_EVERY_S = 1.0
KEYS_HELP = "keys: t tare  w weigh-in  1/2/3 stance  n new set  space record  q quit"


def status_line(r: LiveReadout) -> str:
    """One line: state, rate, drops, CRC errors, weight, zone, reps."""
    st = r.status
    rate = "--- Hz" if math.isnan(st.rate_hz) else f"{st.rate_hz:5.1f} Hz"
    kg = 0.0 if round(r.weight_kg, 1) == 0.0 else r.weight_kg  # never "-0.0 kg"
    weight = "  --.- kg" if math.isnan(r.weight_kg) else f"{kg:6.1f} kg"
    pbw = r.percent_body_weight
    pbw_text = f" ({pbw:3.0f} % BW)" if pbw is not None else ""
    sim = " SIMULATED" if st.simulated else ""
    cal = "" if r.calibrated else " uncalibrated"
    rec = " REC" if st.recording_path else ""
    return (
        f"[{st.state.upper()}{sim}{cal}{rec}] {rate} dropped {st.dropped} CRC {st.crc_errors} | "
        f"weight {weight}{pbw_text} | zone {r.zone:<8} | reps {r.reps}"
    )


def rep_lines(rep: Rep) -> list[str]:
    """The lines printed for a finished rep: its number, then one cue per fault."""
    head = f"rep {rep.index + 1}: bottom over the {rep.zone_at_bottom}"
    if rep.lateral_shift_mm is not None:
        head += f", hips {rep.lateral_shift_mm:+.0f} mm toward the lead leg"
    if not rep.faults:
        return [head + " - good rep"]
    return [head] + [f"  - {f.cue}" for f in rep.faults]


def asymmetry_line(r: LiveReadout) -> str | None:
    """Left against right lateral shift, once both kickstand sides have reps."""
    return asymmetry_text(r.asymmetry)


def screen_block(r: LiveReadout, last_rep: Rep | None, stance: str = "") -> list[str]:
    """The lines of the redrawn block on a terminal."""
    lines = [status_line(r), f"stance {stance}" if stance else ""]
    lines.append(f"hold {r.hold_s:4.1f} s" if r.hold_s is not None else "")
    if last_rep is not None:
        lines += rep_lines(last_rep)
    else:
        lines.append("waiting for the first rep...")
    side = asymmetry_line(r)
    if side:
        lines.append(side)
    if r.message:
        lines.append(r.message)
    if r.status.state == "disconnected":
        lines.append("plate unplugged: reconnecting by itself...")
    lines.append(KEYS_HELP)
    return lines


def handle_key(session: LiveSession, key: str, sessions_dir: Path) -> bool:
    """Carry out one key of the live window's; False when it asks to quit."""
    if key in ("q", "\x1b"):
        return False
    if key == "t":
        session.request_tare()
    elif key == "w":
        session.request_weigh_in()
    elif key in ("1", "2", "3"):
        session.set_stance(STANCES[int(key) - 1])
    elif key == "n":
        session.reset_set()
        session.message = "new set"
    elif key == " ":
        try:
            session.message = session.toggle_recording(sessions_dir)
        except MidfootError as exc:
            session.message = str(exc)
    return True


@contextlib.contextmanager
def _keys(enabled: bool) -> Iterator[int | None]:
    """The terminal's file descriptor in cbreak mode (keys without Enter), restored after."""
    if not enabled:
        yield None
        return
    try:
        fd = sys.stdin.fileno()
        saved = termios.tcgetattr(fd)
    except (OSError, ValueError, termios.error):
        yield None
        return
    try:
        tty.setcbreak(fd)
        yield fd
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _read_keys(fd: int | None, wait_s: float, stop: threading.Event) -> str:
    """Keys typed within ``wait_s`` (at once if one is waiting)."""
    if fd is None:
        stop.wait(wait_s)
        return ""
    try:
        ready, _, _ = select.select([fd], [], [], wait_s)
        return os.read(fd, 32).decode("utf-8", errors="ignore") if ready else ""
    except (OSError, InterruptedError):
        return ""


def _redraw(out: TextIO, drawn: int, session: LiveSession, readout: LiveReadout) -> int:
    """Rewrite the screen block in place; the number of lines now drawn."""
    reps = session.reps
    lines = screen_block(readout, reps[-1] if reps else None, session.stance.stance)
    # Up over the previous block, each line cleared and rewritten, then the rest of the
    # screen cleared so a shorter block leaves nothing behind.
    text = ("\x1b[F" * drawn) + "".join(f"\x1b[2K{line}\n" for line in lines)
    out.write(text + "\x1b[J")
    return len(lines)


def run_terminal(
    session: LiveSession,
    seconds: float | None = None,
    out: TextIO | None = None,
    interactive: bool | None = None,
    sessions_dir: Path | None = None,
) -> int:
    """Show the live feedback as text until ``seconds`` pass, q, Ctrl-C, SIGTERM or SIGHUP.

    Parameters
    ----------
    session : LiveSession
        A started session.
    seconds : float, optional
        Stop after this long.
    out : TextIO
        Where to write (stdout by default).
    interactive : bool, optional
        Redraw in place and take keys (default: whether ``out`` and stdin are terminals).
    sessions_dir : Path, optional
        Where the space key records to (default :func:`gui.session.default_sessions_dir`).
    """
    out = out or sys.stdout
    if interactive is None:
        interactive = out.isatty()
    sessions_dir = sessions_dir or default_sessions_dir()
    stop = threading.Event()
    previous = catch_stop_signals(lambda signum, frame: stop.set())
    t0 = time.monotonic()
    drawn = 0
    last_plain = -math.inf
    keys_on = interactive and sys.stdin.isatty()
    try:
        with _keys(keys_on) as fd:
            while not stop.is_set():
                if seconds is not None and time.monotonic() - t0 >= seconds:
                    break
                if session.status.failure:
                    break  # the acquisition stopped for good: `live` says why and exits 1
                events = session.poll()
                readout = session.readout()
                if interactive:
                    drawn = _redraw(out, drawn, session, readout)
                else:
                    for event in events:
                        match event:
                            case RepCompleted(rep=rep):
                                for line in rep_lines(rep):
                                    out.write(line + "\n")
                            case BodyMassMeasured(body_mass_kg=kg):
                                out.write(f"body mass {kg:.1f} kg\n")
                            case Tared(automatic=automatic):
                                out.write("tared at start-up\n" if automatic else "tared\n")
                            case StanceSet(stance=stance):
                                out.write(f"stance {stance.stance}\n")
                    now = time.monotonic()
                    if now - last_plain >= PLAIN_LINE_EVERY_S:
                        out.write(status_line(readout) + "\n")
                        side = asymmetry_line(readout)
                        if side:
                            out.write(f"  {side}\n")
                        if readout.message:
                            out.write(f"  {readout.message}\n")
                            session.message = None
                        last_plain = now
                out.flush()
                keys = _read_keys(fd, REFRESH_S, stop)
                for key in keys:
                    if not handle_key(session, key, sessions_dir):
                        stop.set()
                        break
                if keys and interactive and not stop.is_set():
                    # What a key did ("saved ...") is drawn now: the next turn's poll() may
                    # bring an event whose message replaces it before it was ever shown.
                    drawn = _redraw(out, drawn, session, session.readout())
                    out.flush()
    finally:
        restore_signals(previous)
    return 0
