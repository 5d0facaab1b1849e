"""Benchmark of the live window: frames per second and frame-arrival-to-drawn latency.

The real window (acquisition thread, analyser, plate view, traces, coaching panel) runs
offscreen against a 1 kHz, 8-channel virtual plate with a 30 s trace window, three ways in
the same run: as the app draws (incremental per-pixel peak downsampling of the window),
with pyqtgraph's own clipToView + peak downsampling, and naively (every point drawn). Each
variant first runs until the window is full, then is measured.

Latency is the host clock from the moment the acquisition thread read the newest drawn
sample's chunk off the port to the end of the paint that showed it.

The window's timer caps the frame rate (gui.main_window.FRAME_INTERVAL_MS: 11 ms, ~91
fps); ``--interval-ms 1`` lifts the cap to see how many frames the machine could draw.

Usage: python bench/bench_gui.py [--measure-s 10] [--warmup-s 31] [--rate 1000]
       [--only peak] (just the app's own drawing, for quick iterations)
       [--interval-ms 1] (timer interval instead of the app's own)
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from machine import machine_header  # noqa: E402

DRAWINGS = ("peak", "pyqtgraph", "naive")
TARGET_FPS = 60.0
TARGET_LATENCY_MS = 50.0


def run_event_loop(app: object, seconds: float) -> None:
    """Run a Qt event loop (as the app does) for ``seconds``.

    A local QEventLoop, not app.exec()/app.quit(): in Qt 6 quit() closes every window.
    """
    from pyqtgraph.Qt import QtCore

    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def run_variant(
    drawing: str,
    rate_hz: int,
    channels: int,
    window_s: float,
    warmup_s: float,
    measure_s: float,
    interval_ms: int | None = None,
) -> dict[str, float]:
    """Run the window against a fresh virtual plate; fps and latency percentiles."""
    from pyqtgraph.Qt import QtWidgets

    from gui.main_window import MainWindow
    from gui.session import LiveSession, virtual_plate_url

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    # A different seed per variant: one sim:// URL is one physical plate per process.
    seed = 11 + DRAWINGS.index(drawing)
    url = virtual_plate_url("demo", rate_hz, channels=channels, seed=seed)
    session = LiveSession(url)
    session.start()
    window = MainWindow(session, window_s=window_s, drawing=drawing)
    window.resize(1440, 860)
    window.show()
    window.toggle_debug()
    if interval_ms is not None:
        window.timer.setInterval(interval_ms)
    clock = window.traces.clock
    run_event_loop(app, warmup_s)
    clock.keep_all = True
    clock.all_latencies_s.clear()
    clock.all_paint_times.clear()
    samples0 = session.status.samples
    t1 = time.monotonic()
    cpu_gui0 = time.thread_time()
    cpu_all0 = time.process_time()
    run_event_loop(app, measure_s)
    elapsed = time.monotonic() - t1
    cpu_gui = time.thread_time() - cpu_gui0
    cpu_all = time.process_time() - cpu_all0
    paints = len(clock.all_paint_times)
    lat = np.asarray(clock.all_latencies_s) * 1000.0
    got = session.window(window_s)
    shown = 0 if got is None else int(got[0]["t_s"].shape[0])
    result = {
        "fps": paints / elapsed,
        "latency_p50_ms": float(np.percentile(lat, 50)) if lat.size else float("nan"),
        "latency_p99_ms": float(np.percentile(lat, 99)) if lat.size else float("nan"),
        "rate_hz": float(session.status.rate_hz),
        "samples_per_s": (session.status.samples - samples0) / elapsed,
        "points_per_curve": shown,
        "dropped": float(session.status.dropped),
        # CPU the GUI thread spent per drawn frame, and the other threads' share of a core
        # (virtual plate + acquisition + analysis): what the frame rate competes with.
        "gui_cpu_ms_per_frame": 1000.0 * cpu_gui / max(paints, 1),
        "other_threads_core_share": (cpu_all - cpu_gui) / elapsed,
    }
    window.close()
    app.processEvents()
    return result


def main(argv: list[str] | None = None) -> int:
    """Run both variants and print a table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rate", type=int, default=1000)
    p.add_argument("--channels", type=int, default=8)
    p.add_argument("--window-s", type=float, default=30.0)
    p.add_argument("--warmup-s", type=float, default=31.0)
    p.add_argument("--measure-s", type=float, default=10.0)
    p.add_argument("--only", nargs="+", choices=DRAWINGS, help="run only these variants")
    p.add_argument("--interval-ms", type=int, help="window timer interval (default: the app's own)")
    args = p.parse_args(argv)
    import pyqtgraph as pg
    from pyqtgraph.Qt import QtCore

    print(machine_header())
    binding = getattr(QtCore, "PYQT_VERSION_STR", "")
    print(f"{pg.Qt.QT_LIB} {binding} (Qt {QtCore.qVersion()}), pyqtgraph {pg.__version__}")
    print(
        f"midfoot live, offscreen, virtual plate {args.rate} Hz x {args.channels} channels, "
        f"{args.window_s:g} s window, 1440x860; warm-up {args.warmup_s:g} s, measured "
        f"{args.measure_s:g} s"
        + (f"; timer {args.interval_ms} ms" if args.interval_ms is not None else "")
    )
    print(
        f"{'variant':<34} {'fps':>6} {'lat p50 ms':>11} {'lat p99 ms':>11} "
        f"{'points/curve':>13} {'GUI ms/frame':>13} {'other threads':>14}"
    )
    variants = [
        ("peak", "incremental peak (the app)"),
        ("pyqtgraph", "pyqtgraph clipToView + peak"),
        ("naive", "naive (every point)"),
    ]
    app_result = None
    for drawing, name in variants:
        if args.only and drawing not in args.only:
            continue
        r = run_variant(
            drawing,
            args.rate,
            args.channels,
            args.window_s,
            args.warmup_s,
            args.measure_s,
            args.interval_ms,
        )
        if drawing == "peak":
            app_result = r
        print(
            f"{name:<34} {r['fps']:6.1f} {r['latency_p50_ms']:11.1f} {r['latency_p99_ms']:11.1f} "
            f"{r['points_per_curve']:13d} {r['gui_cpu_ms_per_frame']:13.1f} "
            f"{100 * r['other_threads_core_share']:12.0f} %",
            flush=True,
        )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"targets: >= {TARGET_FPS:g} fps, latency < {TARGET_LATENCY_MS:g} ms; "
        f"{os.cpu_count()} cores, load average {load:.2f}"
    )
    if app_result is not None:
        fps_ok = app_result["fps"] >= TARGET_FPS
        # The target is for every frame but the rare outlier: the p99, not the median.
        lat_ok = app_result["latency_p99_ms"] < TARGET_LATENCY_MS
        print(
            f"the app: {app_result['fps']:.1f} fps {'met' if fps_ok else 'MISSED'}; "
            f"latency p99 {app_result['latency_p99_ms']:.1f} ms {'met' if lat_ok else 'MISSED'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
