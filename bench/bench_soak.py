"""Soak: ``midfoot record`` fed a 1 kHz x 8-channel pty stream for an hour; loss, RSS, CPU.

The emitter of ``pty_plate.py`` paces SAMPLE frames into a raw pty, one frame per write, for
``--minutes``; ``midfoot record`` (a child process) records them. Every ``--every`` seconds
the child's resident set (VmRSS from /proc/PID/status) and CPU seconds are sampled. Printed:
frames sent, frames in the file (lost = the difference), RSS when the acquisition's ring
buffer has filled (``RING_SECONDS`` into the stream) and at the end, the RSS slope after the
ring filled in MB/h (a least-squares line through the samples), and CPU % of one core over
the stream. Target: 0 lost, slope < 1 MB/h. Nothing is asserted.

Usage: python bench/bench_soak.py [--minutes 60] [--rate 1000] [--channels 8] [--every 5]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from machine import machine_header
from pty_plate import Emitter, proc_cpu_s, proc_rss_mb

from daq.acquisition import RING_SECONDS

TARGET_SLOPE_MB_H = 1.0


def sample_child(
    pid: int, every_s: float, stop: threading.Event, rows: list[tuple[float, float, float]]
) -> None:
    """Append (monotonic s, RSS MB, CPU s) of ``pid`` to ``rows`` every ``every_s``."""
    while not stop.wait(every_s):
        try:
            rows.append((time.monotonic(), proc_rss_mb(pid), proc_cpu_s(pid)))
        except OSError:
            return


def slope_mb_per_h(rows: list[tuple[float, float, float]]) -> float:
    """Least-squares slope of RSS against time, MB/h (nan with fewer than two samples)."""
    if len(rows) < 2:
        return float("nan")
    t_s = np.array([r[0] for r in rows])
    rss_mb = np.array([r[1] for r in rows])
    return float(np.polyfit(t_s, rss_mb, 1)[0] * 3600.0)


def main(argv: list[str] | None = None) -> int:
    """Run the soak and print its figures."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=60.0)
    p.add_argument("--rate", type=float, default=1000.0)
    p.add_argument("--channels", type=int, default=8)
    p.add_argument("--every", type=float, default=5.0, help="seconds between RSS samples")
    args = p.parse_args(argv)
    seconds = 60.0 * args.minutes
    print(machine_header())
    print(f"{args.rate:g} Hz x {args.channels} channels for {args.minutes:g} min into "
          f"midfoot record, one frame per write; RSS and CPU every {args.every:g} s")
    env_root = Path(__file__).resolve().parents[1]
    rows: list[tuple[float, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "soak.h5"
        emitter = Emitter(args.rate, args.channels)
        cmd = [sys.executable, "-m", "gui.cli", "record", "--port", emitter.port, "--out",
               str(out), "--seconds", f"{seconds + 4:g}", "--quiet"]
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and package
            cmd, cwd=env_root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        # Start-up and imports are not the stream's cost: measured from the first frame,
        # sent once record has opened the port (so every frame sent can be in the file).
        if not emitter.wait_for_host(60.0):
            print("  (record never asked the plate for its info)")
        time.sleep(0.5)
        t0, cpu0 = time.monotonic(), proc_cpu_s(proc.pid)
        stop = threading.Event()
        sampler = threading.Thread(
            target=sample_child, args=(proc.pid, args.every, stop, rows), daemon=True
        )
        sampler.start()
        emitter.run(seconds)
        wall_s, cpu_s = time.monotonic() - t0, proc_cpu_s(proc.pid) - cpu0
        stop.set()
        sampler.join()
        emitter.wind_down(proc, "record")
        import h5py

        try:
            with h5py.File(out, "r") as f:
                got = int(f["samples/seq"].shape[0])
        except OSError:
            got = 0
    ring_full = [r for r in rows if r[0] - t0 >= RING_SECONDS]
    slope = slope_mb_per_h(ring_full)
    rss_ring = ring_full[0][1] if ring_full else float("nan")
    rss_end = rows[-1][1] if rows else float("nan")
    lost = emitter.sent - got
    print(f"{'frames sent':32s} {emitter.sent:10d}")
    print(f"{'frames in the file':32s} {got:10d}")
    print(f"{'lost':32s} {lost:10d}")
    print(f"{'RSS at ring-full (MB)':32s} {rss_ring:10.1f}   ({RING_SECONDS:g} s in)")
    print(f"{'RSS at the end (MB)':32s} {rss_end:10.1f}")
    print(f"{'RSS slope after ring-full':32s} {slope:10.2f} MB/h   ({len(ring_full)} samples)")
    print(f"{'CPU':32s} {100.0 * cpu_s / wall_s:10.1f} % of one core   ({cpu_s:.1f} s in "
          f"{wall_s:.0f} s)")
    verdict = "met" if lost == 0 and slope < TARGET_SLOPE_MB_H else "MISSED"
    print(f"target: 0 lost and RSS slope < {TARGET_SLOPE_MB_H:g} MB/h after ring-full: "
          f"{verdict}")
    if os.environ.get("BENCH_SOAK_TRACE"):
        for t_s, rss_mb, c_s in rows:
            print(f"  {t_s - t0:7.1f} s  {rss_mb:7.1f} MB  {c_s:7.1f} cpu s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
