"""The live feedback as text, for SSH sessions, a headless Raspberry Pi and CI.

Shows what the window shows that a person mid-set needs: connection state, weight, CoP zone,
rep count and the last rep's cues. On a terminal the block redraws in place a few times a
second; piped into a file it prints one line a second and one line per rep instead, so a
log stays readable. No Qt is imported here.
"""

from __future__ import annotations

import math
import signal
import sys
import threading
import time
from typing import TextIO

from gui.live_session import LiveReadout, LiveSession

REFRESH_S = 0.2
PLAIN_LINE_EVERY_S = 1.0


def status_line(r: LiveReadout) -> str:
    """One line: state, rate, drops, CRC errors, weight, zone, reps."""
    st = r.status
    rate = "--- Hz" if math.isnan(st.rate_hz) else f"{st.rate_hz:5.1f} Hz"
    weight = "  --.- kg" if math.isnan(r.weight_kg) else f"{r.weight_kg:6.1f} kg"
    pbw = r.percent_body_weight
    pbw_text = f" ({pbw:3.0f} % BW)" if pbw is not None else ""
    sim = " SIMULATED" if st.simulated else ""
    cal = "" if r.calibrated else " uncalibrated"
    return (
        f"[{st.state.upper()}{sim}{cal}] {rate} dropped {st.dropped} CRC {st.crc_errors} | "
        f"weight {weight}{pbw_text} | zone {r.zone:<8} | reps {r.reps}"
    )


def rep_lines(rep: object) -> list[str]:
    """The lines printed for a finished rep: its number, then one cue per fault."""
    head = f"rep {rep.index + 1}: bottom over the {rep.zone_at_bottom}"
    if not rep.faults:
        return [head + " - good rep"]
    return [head] + [f"  - {f.cue}" for f in rep.faults]


def screen_block(r: LiveReadout, last_rep: object | None) -> list[str]:
    """The lines of the redrawn block on a terminal."""
    lines = [status_line(r)]
    if r.hold_s is not None:
        lines.append(f"hold {r.hold_s:4.1f} s")
    else:
        lines.append("")
    if last_rep is not None:
        lines += rep_lines(last_rep)
    else:
        lines.append("waiting for the first rep...")
    if r.message:
        lines.append(r.message)
    if r.status.state == "disconnected":
        lines.append("plate unplugged: reconnecting by itself...")
    return lines


def run_terminal(
    session: LiveSession,
    seconds: float | None = None,
    out: TextIO | None = None,
    interactive: bool | None = None,
) -> int:
    """Show the live feedback as text until ``seconds`` pass, Ctrl-C or SIGTERM.

    Parameters
    ----------
    session : LiveSession
        A started session.
    seconds : float, optional
        Stop after this long.
    out : TextIO
        Where to write (stdout by default).
    interactive : bool, optional
        Redraw in place (default: whether ``out`` is a terminal).
    """
    out = out or sys.stdout
    if interactive is None:
        interactive = out.isatty()
    stop = threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():

        def on_signal(signum: int, frame: object) -> None:
            stop.set()

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    t0 = time.monotonic()
    drawn = 0
    last_plain = -math.inf
    try:
        while not stop.is_set():
            if seconds is not None and time.monotonic() - t0 >= seconds:
                break
            events = session.poll()
            readout = session.readout()
            last_rep = session.reps[-1] if session.reps else None
            if interactive:
                lines = screen_block(readout, last_rep)
                # Move up over the previous block and overwrite it, clearing each line.
                text = ("\x1b[F" * drawn) + "".join(f"\x1b[2K{line}\n" for line in lines)
                out.write(text)
                drawn = len(lines)
            else:
                for event in events:
                    name = type(event).__name__
                    if name == "RepCompleted":
                        for line in rep_lines(event.rep):
                            out.write(line + "\n")
                    elif name == "BodyMassMeasured":
                        out.write(f"body mass {event.body_mass_kg:.1f} kg\n")
                now = time.monotonic()
                if now - last_plain >= PLAIN_LINE_EVERY_S:
                    out.write(status_line(readout) + "\n")
                    if readout.message:
                        out.write(f"  {readout.message}\n")
                        session.message = None
                    last_plain = now
            out.flush()
            stop.wait(REFRESH_S)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
