"""Benchmark of the session library and batch re-analysis.

* Batch: sessions per second re-analysing N one-minute kickstand sessions (80 Hz, 6 reps,
  real HDF5 files of the virtual plate) with the plain loop in this process (the baseline),
  and on a Dask LocalCluster of 1 and of 2 worker processes (starting the cluster and
  importing the analysis in each worker timed apart).
  Scheduling overhead per session: a task that does nothing, mapped over the same N paths on
  the 1-worker cluster, per task. The CSV rows of every run are compared: they must match.
* Index: `sessions` (all, one athlete, a date range) and `history` (the index's three
  queries plus building the history) over M indexed sessions (20 athletes; each session the
  reps of a real recording), against the target of 0.5 s; and a plain baseline from the same
  run, `SELECT count(*) FROM reps`.

Timing is only printed. Usage: python bench/bench_library.py [--sessions 40] [--index 1000]
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import sqlalchemy as sa  # noqa: E402
from machine import machine_header  # noqa: E402
from session_files import write_session  # noqa: E402

from analysis.athlete_history import build_history  # noqa: E402
from analysis.batch import run_dask, run_loop  # noqa: E402
from analysis.library import find_recordings, open_index  # noqa: E402
from analysis.report import analyse_file  # noqa: E402
from daq.reader import read_recording  # noqa: E402

TARGET_S = 0.5
SCENARIOS = ("hinge-kickstand-left", "hinge-kickstand-right", "hinge-bilateral")


def _noop(path: str) -> str:
    return path


def make_sessions(folder: Path, n: int) -> list[Path]:
    """N one-minute sessions (6 reps at 80 Hz)."""
    for k in range(n):
        write_session(folder / f"s{k:03d}.h5", scenario=SCENARIOS[k % 3], athlete=f"A{k % 5}",
                      seed=100 + k, n_reps=6)
    return find_recordings(folder)


def bench_batch(folder: Path, n: int) -> None:
    from distributed import Client, LocalCluster

    paths = make_sessions(folder, n)
    minutes = sum(read_recording(p).duration_s for p in paths[:3]) / 3 / 60
    print(f"batch: {len(paths)} sessions of {minutes:.2f} min each")
    t0 = time.perf_counter()
    plain = run_loop(paths, folder)
    loop_s = time.perf_counter() - t0
    print(f"  plain loop (baseline)    {loop_s:6.2f} s  {len(paths) / loop_s:6.2f} sessions/s")
    for workers in (1, 2):
        t0 = time.perf_counter()
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          host="127.0.0.1", dashboard_address=":0",
                          silence_logs=logging.ERROR) as cluster:
            with Client(cluster.scheduler_address) as client:
                # Each worker imports the analysis (numpy, scipy, h5py) once: warm them so the
                # figure is the steady rate a long batch runs at; the start-up is shown apart.
                client.run(importlib.import_module, "analysis.batch")
            start_s = time.perf_counter() - t0
            t1 = time.perf_counter()
            result = run_dask(paths, folder, scheduler=cluster.scheduler_address)
            run_s = time.perf_counter() - t1
            same = result.rows == plain.rows
            if workers == 1:
                with Client(cluster.scheduler_address) as client:
                    client.gather(client.map(_noop, [str(p) for p in paths], pure=False))  # warm
                    t2 = time.perf_counter()
                    client.gather(client.map(_noop, [str(p) for p in paths], pure=False))
                    noop_s = time.perf_counter() - t2
        print(f"  LocalCluster {workers} worker{'s' if workers > 1 else ' '}    {run_s:6.2f} s  "
              f"{len(paths) / run_s:6.2f} sessions/s  (+{start_s:.1f} s to start and warm the "
              f"cluster; rows {'identical' if same else 'DIFFER'})")
        if workers == 1:
            print(f"  scheduling overhead      {1e3 * noop_s / len(paths):6.2f} ms per session "
                  f"(empty task); {1e3 * (run_s - loop_s) / len(paths):+.1f} ms per session "
                  "against the loop (1 worker)")


def bench_index(folder: Path, n: int) -> None:
    rec = write_session(folder / "real.h5", scenario="hinge-kickstand-left", seed=7, n_reps=6)
    series = read_recording(rec)
    report = analyse_file(rec)
    url = f"sqlite:///{folder / 'index.sqlite'}"
    t0 = time.perf_counter()
    with open_index(url) as index:
        for k in range(n):
            path = folder / "files" / f"a{k % 20:02d}" / f"s{k:04d}.h5"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
            day = 1 + (k // 20) % 28
            month = 1 + (k // (20 * 28)) % 12
            meta = dataclasses.replace(series.meta, athlete=f"Athlete {k % 20:02d}",
                                       created_utc=f"2026-{month:02d}-{day:02d}T09:00:00Z")
            index.register(path, series=dataclasses.replace(series, meta=meta), report=report)
        fill_s = time.perf_counter() - t0
        print(f"index: {n} sessions, {n * len(report.reps)} reps in SQLite "
              f"(filled in {fill_s:.1f} s)")

        def timed(label: str, fn) -> None:
            best = float("inf")
            for _ in range(3):
                t = time.perf_counter()
                out = fn()
                best = min(best, time.perf_counter() - t)
            verdict = "ok" if best < TARGET_S else "OVER"
            print(f"  {label:<34} {1e3 * best:7.1f} ms  ({out}; target {TARGET_S} s: {verdict})")

        with index.engine.connect() as conn:
            t = time.perf_counter()
            conn.execute(sa.text("SELECT count(*) FROM reps")).scalar()
            print(f"  baseline SELECT count(*) FROM reps {1e3 * (time.perf_counter() - t):7.1f} ms")
        timed("sessions (all)", lambda: f"{len(index.sessions())} rows")
        timed("sessions --athlete", lambda: f"{len(index.sessions(athlete='athlete 03'))} rows")
        timed("sessions --since --until",
              lambda: f"{len(index.sessions(since='2026-01-05', until='2026-01-20'))} rows")

        def history() -> str:
            h = build_history("athlete 03", *index.history_rows("athlete 03"))
            return f"{len(h.visits)} visits, {len(h.trends)} metrics"

        timed("history ATHLETE (queries + MDC)", history)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sessions", type=int, default=40, help="one-minute sessions to batch")
    p.add_argument("--index", type=int, default=1000, help="sessions in the index")
    args = p.parse_args(argv)
    print(machine_header())
    with tempfile.TemporaryDirectory() as tmp:
        bench_batch(Path(tmp) / "batch", args.sessions)
        bench_index(Path(tmp) / "index", args.index)
    return 0


if __name__ == "__main__":
    sys.exit(main())
