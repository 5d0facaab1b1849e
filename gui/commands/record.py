"""`midfoot record`: record a plate to an HDF5 session, with a live status line."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

from analysis.library import register_recording
from analysis.stance import STANCES
from daq.acquisition import Acquisition
from daq.calibration import G_M_S2
from daq.lsl import LslFeed, require_pylsl
from daq.source import COALESCE_S, DEFAULT_BAUD, UNWATCHED_COALESCE_S, resolve_port
from gui.cli import CommandParser
from gui.session import StartupTare
from gui.stop_signals import catch_stop_signals, restore_signals


def _status_line(acq: Acquisition, elapsed_s: float) -> str:
    st = acq.status
    weight = ""
    if acq.ring is not None and len(acq.ring):
        # Average the last quarter second so the number is readable, not flickering.
        n = int(st.rate_hz * 0.25) if st.rate_hz == st.rate_hz else 1
        view, _ = acq.ring.latest(max(n, 1))
        weight = f"  weight {float(view['fz_n'].mean()) / G_M_S2:6.1f} kg"
    state = "" if st.state == "streaming" else f"  [{st.state.upper()}]"
    rate = f"{st.rate_hz:6.1f} Hz" if st.rate_hz == st.rate_hz else "   --- Hz"
    return (
        f"REC {int(elapsed_s // 60):02d}:{elapsed_s % 60:04.1f}  {rate}  "
        f"{st.recording_samples:8d} samples  drops {st.dropped}  CRC {st.crc_errors}{weight}{state}"
    )


def run(argv: list[str]) -> int:
    """`midfoot record`: record a plate to an HDF5 session until --seconds or a signal."""
    parser = CommandParser(prog="midfoot record", description=run.__doc__)
    parser.add_argument("--port", help="device path or pyserial URL (default: the one plate found)")
    parser.add_argument("--out", required=True, type=Path, help="the .h5 file to create")
    parser.add_argument("--seconds", type=float, help="stop after this long (default: Ctrl-C)")
    parser.add_argument("--stance", choices=STANCES, default="bilateral")
    parser.add_argument("--athlete", default="")
    parser.add_argument("--baud", type=int, default=DEFAULT_BAUD)
    parser.add_argument("--foot-length-mm", type=float)
    parser.add_argument("--body-mass-kg", type=float)
    parser.add_argument("--quiet", action="store_true", help="no live status line")
    parser.add_argument(
        "--no-tare",
        action="store_true",
        help="do not tare on the empty plate at the start (the raw counts are kept either way)",
    )
    parser.add_argument(
        "--lsl",
        action="store_true",
        help="also publish force and marker streams on Lab Streaming Layer (docs/interop.md)",
    )
    args = parser.parse_args(argv)
    if args.lsl:
        require_pylsl()
    url = resolve_port(args.port)

    stop = threading.Event()
    # Ctrl-C, `kill` and a closed terminal (SIGHUP) all close the file cleanly.
    previous = catch_stop_signals(lambda signum, frame: stop.set())
    # Nothing watches a recording live unless it is published on LSL: read in bigger bites.
    acq = Acquisition(
        url, baudrate=args.baud, coalesce_s=COALESCE_S if args.lsl else UNWATCHED_COALESCE_S
    )
    feed = LslFeed(["record start", f"stance {args.stance}"], "record stop") if args.lsl else None
    if feed is not None:
        acq.add_consumer(feed)
    # As the live app: tared once the plate is still and empty in the first seconds, so
    # the empty plate reads 0 kg and the CoP is free of the cells' offsets in every review.
    tare = None if args.no_tare else StartupTare(acq)
    if tare is not None:
        acq.add_consumer(tare)
    tare_said = False
    reconnects = 0
    try:
        meta = {
            "stance": args.stance,
            "athlete": args.athlete,
            "foot_length_mm": args.foot_length_mm,
            "body_mass_kg": args.body_mass_kg,
        }
        # Armed before the port opens, so the file starts with the plate's very first sample.
        acq.start_recording(str(args.out), meta)
        acq.start()
        acq.wait_for_ring(timeout_s=10.0)
        if acq.status.calibration_warning:
            print(f"warning: {acq.status.calibration_warning}", file=sys.stderr)
        t0 = time.monotonic()
        tty = sys.stderr.isatty() and not args.quiet
        last_print = 0.0
        told = 0
        while not stop.is_set():
            elapsed = time.monotonic() - t0
            if args.seconds is not None and elapsed >= args.seconds:
                break
            if acq.status.recording_error or acq.status.failure:
                break
            if tare is not None and tare.message and not tare_said:
                # A tare made is news (stdout); one not made is a warning, as the others.
                tare_said = True
                if tare.tared:
                    print(tare.message, flush=True)
                else:
                    print(("\n" if tty else "") + f"warning: {tare.message}", file=sys.stderr)
            notices = acq.status.notices
            while told < len(notices):
                print(("\n" if tty else "") + f"warning: {notices[told]}", file=sys.stderr)
                told += 1
            if feed is not None and acq.status.reconnects != reconnects:
                reconnects = acq.status.reconnects
                feed.mark("reconnect")
            if not args.quiet and elapsed - last_print >= (0.25 if tty else 5.0):
                line = _status_line(acq, elapsed)
                # On a terminal the line is rewritten in place and cleared to its end, so a
                # shorter line (streaming again after [DISCONNECTED]) leaves nothing stale.
                print(
                    ("\r" + line + "\x1b[K") if tty else line,
                    end="" if tty else "\n",
                    file=sys.stderr,
                    flush=True,
                )
                last_print = elapsed
            stop.wait(0.05)
    finally:
        acq.stop()
        if feed is not None:
            feed.close()
        restore_signals(previous)
    if sys.stderr.isatty() and not args.quiet:
        print(file=sys.stderr)
    st = acq.status
    print(
        f"recorded {st.recording_samples} samples to {args.out} (dropped {st.dropped}, "
        f"CRC errors {st.crc_errors}, reconnects {st.reconnects})"
    )
    if feed is not None:
        if feed.error:
            print(f"midfoot record: {feed.error}", file=sys.stderr)
        elif feed.outlet is not None:
            print(
                f"published {feed.outlet.samples_pushed} samples and "
                f"{feed.outlet.markers_pushed} markers on LSL"
            )
    if args.out.exists():  # every recording goes into the session index (docs/library.md)
        note = register_recording(args.out)
        if note:
            print(f"midfoot record: {note}", file=sys.stderr)
    if st.rejected_frames:
        print(
            f"{st.rejected_frames} frames could not be stored as they came; each is counted in "
            "the file's events (FramesRejected)",
            file=sys.stderr,
        )
    if st.failure:
        print(f"midfoot record: {st.failure}", file=sys.stderr)
        return 1
    if st.recording_error:
        print(f"midfoot record: {st.recording_error}", file=sys.stderr)
        return 1
    return 0
