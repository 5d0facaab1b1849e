"""`midfoot info --port PORT`: the plate's INFO and its measured sample rate."""

from __future__ import annotations

import time

from daq.decoder import FrameDecoder
from daq.errors import MidfootError
from daq.frames import check_info
from daq.source import DEFAULT_BAUD, PlateConnection, resolve_port
from gui.cli import CommandParser


def run(argv: list[str]) -> int:
    """Ask a plate who it is and measure its rate."""
    parser = CommandParser(prog="midfoot info", description=run.__doc__)
    parser.add_argument("--port", help="device path or pyserial URL (default: the one plate found)")
    parser.add_argument("--baud", type=int, default=DEFAULT_BAUD)
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
    else:
        for problem in check_info(infos[-1]).problems:
            print(f"warning: {problem}")
    if decoder.stats.wrong_channels:
        print(
            f"warning: {decoder.stats.wrong_channels} frames had another channel count than "
            f"the first ({decoder.n_channels})"
        )
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
