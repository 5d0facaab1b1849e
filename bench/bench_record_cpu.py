"""CPU of ``midfoot record`` on a clean 1 kHz x 8-channel stream, beside a naive reader.

An independent emitter (this process) makes a raw pty, answers the host's ``info`` as a
plate does, and paces SAMPLE frames into it at ``--rate`` Hz, one frame per write as a USB
plate trickles them. Two readers take the same stream in turn, each as its own process:

* ``midfoot record --port PTY --out F.h5`` (decode, calibrate, ring, HDF5 recording);
* the baseline: a naive reader, ``os.read`` + one ``struct.unpack`` per frame, that stores
  nothing (the least any reader must do).

For each: frames sent, frames it got (record: samples in the file it wrote), CPU seconds
(user + system, from the child's rusage), % of one core and CPU ms per 1,000 frames. With
``--pin CORE`` the reader runs on that one core (``os.sched_setaffinity``), so a figure from
another machine (a Raspberry Pi) compares per core. Nothing is asserted.

Usage: python bench/bench_record_cpu.py [--seconds 30] [--rate 1000] [--channels 8]
       [--pin CORE]
"""

from __future__ import annotations

import argparse
import os
import select
import struct
import subprocess
import sys
import tempfile
import time
import tty
from pathlib import Path

from machine import machine_header
from pty_plate import Emitter, proc_cpu_s

from daq.frames import sample_frame_bytes

TARGET_RECORD_PCT = 10.0


def naive_main(port: str, seconds: float, n_channels: int) -> int:
    """The baseline reader: os.read and a per-frame struct decode, nothing stored."""
    fd = os.open(port, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
    frame = sample_frame_bytes(n_channels)
    fmt = struct.Struct(f"<2sBBHIB{n_channels}iH")
    buf = b""
    got = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if not r:
            continue
        buf += os.read(fd, 65536)
        i = 0
        while True:
            j = buf.find(b"\xa5\x5a", i)
            if j < 0 or len(buf) - j < frame:
                buf = buf[j:] if j >= 0 else b""
                break
            if buf[j + 2] == 1:
                fmt.unpack_from(buf, j)
                got += 1
                i = j + frame
            else:
                i = j + 4 + buf[j + 3] + 2
    print(got, flush=True)
    return 0


def run_reader(
    cmd: list[str], args: argparse.Namespace, asks_info: bool = False
) -> tuple[float, str, float, int]:
    """Start ``cmd``, feed it ``--seconds`` of frames: its stream CPU s, stdout, wall s, sent.

    A reader that ``asks_info`` (record) is fed once it has asked, so every frame sent
    reaches an open port; the naive reader asks nothing and gets two seconds to open it.
    """
    emitter = Emitter(args.rate, args.channels)
    pin = (lambda: os.sched_setaffinity(0, {args.pin})) if args.pin is not None else None
    cmd = [c.replace("{PORT}", emitter.port) for c in cmd]
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=pin
    )
    # Interpreter start-up and imports are not the stream's cost: CPU is read off /proc
    # from the first frame to the last.
    if asks_info and emitter.wait_for_host(60.0):
        time.sleep(0.5)  # record takes the INFO answer (and opens the file) first
    else:
        time.sleep(2.0)
    t0, cpu0 = time.monotonic(), proc_cpu_s(proc.pid)
    emitter.run(args.seconds)
    wall, cpu = time.monotonic() - t0, proc_cpu_s(proc.pid) - cpu0
    out, _ = emitter.wind_down(proc, " ".join(cmd[1:3]))
    return cpu, out, wall, emitter.sent


def main(argv: list[str] | None = None) -> int:
    """Measure record's CPU and the naive reader's on the same stream."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--rate", type=float, default=1000.0)
    p.add_argument("--channels", type=int, default=8)
    p.add_argument("--pin", type=int, help="run each reader on this one core")
    p.add_argument("--naive", nargs=3, help=argparse.SUPPRESS)  # PORT SECONDS CHANNELS
    args = p.parse_args(argv)
    if args.naive:
        return naive_main(args.naive[0], float(args.naive[1]), int(args.naive[2]))

    print(machine_header())
    pinned = f", pinned to core {args.pin}" if args.pin is not None else ""
    print(
        f"{args.rate:g} Hz x {args.channels} channels, {args.seconds:g} s, one frame per "
        f"write{pinned}"
    )
    env_root = Path(__file__).resolve().parents[1]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.h5"
        rec_cmd = [sys.executable, "-m", "gui.cli", "record", "--port", "{PORT}", "--out",
                   str(out), "--seconds", f"{args.seconds + 4:g}", "--quiet"]
        cwd = os.getcwd()
        os.chdir(env_root)
        try:
            cpu, _, wall, sent = run_reader(rec_cmd, args, asks_info=True)
        finally:
            os.chdir(cwd)
        import h5py

        try:
            with h5py.File(out, "r") as f:
                got = int(f["samples/seq"].shape[0])
        except OSError:
            got = 0
        rows.append(("midfoot record (h5 file)", sent, got, cpu, wall))
        naive_cmd = [sys.executable, str(Path(__file__).resolve()), "--naive", "{PORT}",
                     f"{args.seconds + 4:g}", str(args.channels)]
        cpu, stdout, wall, sent = run_reader(naive_cmd, args)
        got = int(stdout.strip() or 0)
        rows.append(("naive os.read + struct", sent, got, cpu, wall))
    print(f"{'reader':28s} {'sent':>7s} {'got':>7s} {'cpu s':>7s} {'% core':>7s} "
          f"{'ms/1000 fr':>10s}")
    for name, sent, got, cpu, wall in rows:
        pct = 100.0 * cpu / wall
        per_k = 1000.0 * cpu / max(sent, 1) * 1000.0
        print(f"{name:28s} {sent:7d} {got:7d} {cpu:7.2f} {pct:6.1f}% {per_k:10.2f}")
    rec_pct = 100.0 * rows[0][3] / rows[0][4]
    verdict = "met" if rec_pct <= TARGET_RECORD_PCT and rows[0][2] >= rows[0][1] else "MISSED"
    print(
        f"target: record <= {TARGET_RECORD_PCT:g} % of one core with every frame recorded: "
        f"{verdict} (CPU from the first frame sent to the last)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
