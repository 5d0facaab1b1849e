"""Benchmark of the lab interop paths: LSL publishing, C3D export/import, samples CSV.

* LSL: :meth:`daq.lsl.LslOutlet.publish` of 1 kHz blocks (clock map, per-sample stamps from
  the plate clock, push with explicit timestamps) against the naive baseline in the same
  run: ``push_chunk(data)`` with no timestamps (liblsl stamps the chunk on arrival), which is
  what the clock mapping replaces. Microseconds per block and the share of one core at 1 kHz.
* C3D: :func:`daq.c3d.write_c3d` of ten minutes at 1 kHz against ezc3d writing the same six
  analog channels directly; :func:`daq.c3d.read_c3d` (the file opened in a time- and
  memory-limited child process) against ``ezc3d.c3d(path)`` in this process, the cost of
  surviving hostile files.
* CSV: :func:`daq.export_csv.write_samples_csv` / :func:`read_recording` of the same ten
  minutes against bare ``np.savetxt`` / ``np.loadtxt`` of the same table.

Timing is only printed. Usage: python bench/bench_interop.py [--minutes 10]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from machine import machine_header

from daq.c3d import read_c3d, write_c3d
from daq.calibration import fz_and_cop
from daq.export_csv import write_samples_csv
from daq.lsl import LslOutlet
from daq.plate import load_plate
from daq.reader import read_recording
from daq.series import PlateSeries, SeriesMeta

RATE_HZ = 1000.0


def series_of(seconds: float) -> PlateSeries:
    """A person swaying on a four-cell plate at 1 kHz."""
    plate = load_plate()
    n = int(seconds * RATE_HZ)
    t = np.arange(n) / RATE_HZ
    x, y = 30 * np.sin(0.4 * t), 50 * np.sin(0.25 * t + 1)
    w = 720.0 + 15 * np.sin(3 * t)
    wx, wy = (x + 250) / 500, (y + 250) / 500
    f = np.column_stack(
        [w * (1 - wx) * wy, w * wx * wy, w * wx * (1 - wy), w * (1 - wx) * (1 - wy)]
    )
    fz, cop = fz_and_cop(f, plate.cells_mm)
    return PlateSeries.from_arrays(
        t, fz, cop, f, meta=SeriesMeta(plate=plate, nominal_rate_hz=RATE_HZ, stance="bilateral")
    )


def timed(fn, repeat: int = 1) -> tuple[float, float]:
    """(wall s, CPU s incl. children) of the best of ``repeat`` runs."""
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        fn()
        wall = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) + (
            c1.ru_utime + c1.ru_stime - c0.ru_utime - c0.ru_stime
        )
        best = min(best, (wall, cpu))
    return best


def bench_lsl(seconds: float = 20.0, block: int = 16) -> None:
    import pylsl

    s = series_of(seconds)
    blocks = [s.slice(i, i + block) for i in range(0, len(s), block)]
    outlet = LslOutlet(f"bench-{uuid.uuid4().hex[:6]}", nominal_rate_hz=RATE_HZ, n_cells=4)
    t_lsl = pylsl.local_clock()

    def ours() -> None:
        for b in blocks:
            outlet.publish(b, arrival_s=t_lsl + float(b.t_s[-1]) + 0.002)
        outlet.flush()

    info = pylsl.StreamInfo("bench naive", "Force", 7, RATE_HZ, "float32", uuid.uuid4().hex)
    naive = pylsl.StreamOutlet(info)
    arrays = [np.column_stack([b.fz_n, b.cop_mm, b.force_n]).astype(np.float32) for b in blocks]

    def baseline() -> None:
        for a in arrays:
            naive.push_chunk(a)

    rows = [
        ("LslOutlet.publish (plate-clock stamps)", *timed(ours)),
        ("baseline push_chunk, arrival stamps", *timed(baseline)),
    ]
    print(f"LSL, {len(blocks)} blocks of {block} samples ({seconds:g} s at 1 kHz):")
    print(f"  {'path':<42} {'wall s':>7} {'cpu s':>7} {'us/block':>9} {'% core @1kHz':>13}")
    for name, wall, cpu in rows:
        per_block = wall / len(blocks) * 1e6
        share = 100.0 * cpu / seconds
        print(f"  {name:<42} {wall:7.3f} {cpu:7.3f} {per_block:9.1f} {share:12.2f}%")
    outlet.close()


def bench_files(minutes: float) -> None:
    import ezc3d

    s = series_of(minutes * 60.0)
    n = len(s)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        ours_w = timed(lambda: write_c3d(s, out / "ours.c3d"))

        def ezc3d_write() -> None:
            c = ezc3d.c3d()
            c["parameters"]["POINT"]["RATE"]["value"] = [RATE_HZ / 10]
            c["parameters"]["POINT"]["LABELS"]["value"] = ("COP",)
            pts = np.zeros((4, 1, n // 10))
            pts[3] = 1
            c["data"]["points"] = pts
            c["parameters"]["ANALOG"]["RATE"]["value"] = [RATE_HZ]
            c["parameters"]["ANALOG"]["LABELS"]["value"] = tuple(f"A{i}" for i in range(6))
            mom = s.force_n @ s.meta.plate.cells_mm
            data = np.vstack([0 * s.fz_n, 0 * s.fz_n, -s.fz_n, mom[:, 1], mom[:, 0], 0 * s.fz_n])
            c["data"]["analogs"] = data[None, :, : (n // 10) * 10]
            c.write(str(out / "base.c3d"))

        base_w = timed(ezc3d_write)
        ours_r = timed(lambda: read_c3d(out / "ours.c3d"))
        base_r = timed(lambda: ezc3d.c3d(str(out / "ours.c3d"))["data"]["analogs"])
        size_mb = (out / "ours.c3d").stat().st_size / 1e6
        csv_w = timed(lambda: write_samples_csv(s, out / "ours.csv"))
        table = np.column_stack([s.t_s, s.fz_n, s.cop_mm, s.force_n])
        savetxt = timed(lambda: np.savetxt(out / "base.csv", table, fmt="%.6f", delimiter=","))
        csv_r = timed(lambda: read_recording(out / "ours.csv"))
        loadtxt = timed(lambda: np.loadtxt(out / "base.csv", delimiter=","))
        csv_mb = (out / "ours.csv").stat().st_size / 1e6
    print(
        f"\nFiles, {minutes:g} min at 1 kHz ({n} samples; "
        f"C3D {size_mb:.1f} MB, CSV {csv_mb:.1f} MB):"
    )
    print(f"  {'path':<50} {'wall s':>7} {'cpu s':>7} {'Msamples/s':>11}")
    for name, (wall, cpu) in (
        ("write_c3d", ours_w),
        ("baseline: ezc3d write of the six channels", base_w),
        ("read_c3d (child process, limits)", ours_r),
        ("baseline: ezc3d.c3d() in process", base_r),
        ("write_samples_csv", csv_w),
        ("baseline: np.savetxt", savetxt),
        ("read_recording", csv_r),
        ("baseline: np.loadtxt", loadtxt),
    ):
        print(f"  {name:<50} {wall:7.2f} {cpu:7.2f} {n / wall / 1e6:11.2f}")


def main() -> None:
    """Run both parts."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=10.0, help="length of the file benchmark")
    args = p.parse_args()
    print(machine_header())
    bench_lsl()
    bench_files(args.minutes)


if __name__ == "__main__":
    main()
