"""Acquisition subcommands: `midfoot ports`, `midfoot info` and `midfoot record`."""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path

from daq.acquisition import Acquisition
from daq.calibration import G_M_S2
from daq.cli import CommandParser
from daq.decoder import FrameDecoder
from daq.errors import MidfootError
from daq.source import PlateConnection, plate_ports

STANCES = ("bilateral", "kickstand-left", "kickstand-right")


def resolve_port(port: str | None) -> str:
    """The port to use: the one given, else the only plate found, else a plain error."""
    if port:
        return port
    found = plate_ports()
    if len(found) == 1:
        return found[0][0]
    if not found:
        raise MidfootError(
            "no plate found: plug one in, or pass --port sim://demo to use the virtual plate"
        )
    names = ", ".join(dev for dev, _ in found)
    raise MidfootError(f"several ports look like plates ({names}): choose one with --port")


def run_ports_command(argv: list[str]) -> int:
    """`midfoot ports`: list serial ports that look like plates."""
    CommandParser(prog="midfoot ports", description=run_ports_command.__doc__).parse_args(
        argv
    )
    found = plate_ports()
    if not found:
        print("no plate found (the virtual plate is always there: --port sim://demo)")
        return 0
    for device, label in found:
        print(f"{device}\t{label}")
    return 0


def run_info_command(argv: list[str]) -> int:
    """`midfoot info --port PORT`: the plate's INFO and its measured sample rate."""
    parser = CommandParser(prog="midfoot info", description=run_info_command.__doc__)
    parser.add_argument("--port", help="device path or pyserial URL (default: the one plate found)")
    parser.add_argument("--baud", type=int, default=115200)
    parser.add_argument("--seconds", type=float, default=2.0, help="how long to measure the rate")
    args = parser.parse_args(argv)
    url = resolve_port(args.port)
    decoder = FrameDecoder()
    infos: list[dict[str, str]] = []
    logs: list[str] = []
    first_t = last_t = None
    n_samples = 0
    stale = 0
    with PlateConnection(url, baudrate=args.baud) as conn:
        conn.write_command("info")
        deadline = time.monotonic() + max(args.seconds, 0.5)
        while time.monotonic() < deadline:
            out = decoder.feed(conn.read_chunk())
            infos += out.infos
            logs += out.logs
            if len(out.samples):
                first_t = first_t if first_t is not None else int(out.samples.t_us[0])
                last_t = int(out.samples.t_us[-1])
                n_samples += len(out.samples)
                stale += int((out.samples.stale != 0).sum())
    if not infos and not n_samples:
        raise MidfootError(
            f"{url} sent nothing midfoot understands in {args.seconds:.0f} s: check the baud rate "
            "and that the plate runs the midfoot firmware"
        )
    print(f"port: {url}")
    for key, value in (infos[-1] if infos else {}).items():
        print(f"{key}: {value}")
    if not infos:
        print("info: (the plate sent no INFO frame)")
    if decoder.fallback_message:
        print(f"note: {decoder.fallback_message}")
    if first_t is not None and last_t is not None and last_t > first_t and first_t >= 0:
        rate = (n_samples - 1) / ((last_t - first_t) / 1e6)
        print(f"measured rate: {rate:.1f} Hz over {n_samples} samples")
    print(
        f"stale samples: {stale}  dropped: {decoder.stats.dropped}  CRC errors: "
        f"{decoder.stats.crc_errors}"
    )
    for line in logs:
        print(f"log: {line}")
    return 0


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


def run_record_command(argv: list[str]) -> int:
    """`midfoot record`: record a plate to an HDF5 session until --seconds, Ctrl-C or SIGTERM."""
    parser = CommandParser(prog="midfoot record", description=run_record_command.__doc__)
    parser.add_argument("--port", help="device path or pyserial URL (default: the one plate found)")
    parser.add_argument("--out", required=True, type=Path, help="the .h5 file to create")
    parser.add_argument("--seconds", type=float, help="stop after this long (default: Ctrl-C)")
    parser.add_argument("--stance", choices=STANCES, default="bilateral")
    parser.add_argument("--athlete", default="")
    parser.add_argument("--baud", type=int, default=115200)
    parser.add_argument("--foot-length-mm", type=float)
    parser.add_argument("--body-mass-kg", type=float)
    parser.add_argument("--quiet", action="store_true", help="no live status line")
    args = parser.parse_args(argv)
    url = resolve_port(args.port)

    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    acq = Acquisition(url, baudrate=args.baud)
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
        while not stop.is_set():
            elapsed = time.monotonic() - t0
            if args.seconds is not None and elapsed >= args.seconds:
                break
            if acq.status.recording_error:
                break
            if not args.quiet and elapsed - last_print >= (0.25 if tty else 5.0):
                line = _status_line(acq, elapsed)
                print(
                    ("\r" + line) if tty else line,
                    end="" if tty else "\n",
                    file=sys.stderr,
                    flush=True,
                )
                last_print = elapsed
            stop.wait(0.05)
    finally:
        acq.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if sys.stderr.isatty() and not args.quiet:
        print(file=sys.stderr)
    st = acq.status
    print(
        f"recorded {st.recording_samples} samples to {args.out} (dropped {st.dropped}, "
        f"CRC errors {st.crc_errors}, reconnects {st.reconnects})"
    )
    if st.recording_error:
        print(f"midfoot record: {st.recording_error}", file=sys.stderr)
        return 1
    return 0
