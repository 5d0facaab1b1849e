"""Benchmark of the review: an hour at 1 kHz x 8 channels opens, draws, pans, zooms, reports.

The recording is a real session file: a scripted person doing kickstand hinges on the
8-channel virtual plate at 1 kHz, decoded by the real decoder and written by the recorder,
its minute of samples repeated (sequence numbers and plate clock running on) to an hour:
3.6 million samples, ~60 sets of reps. It is made once into build/bench/ and reused.

Three figures, each beside a plain baseline from the same run:

- open and draw: ``ReviewModel`` + ``ReviewWindow`` shown and painted once (read, analyse,
  peak pyramids, marks, table, overlays), against reading the file and drawing the same
  seven traces with every sample in a plain pyqtgraph plot;
- pan and zoom: frames per second over a scripted sequence of zooms (the hour down to 5 s)
  and pans, each frame redrawn and painted synchronously, against pyqtgraph's own
  clipToView + peak downsampling of the full arrays;
- the report: ``midfoot report`` of that hour (analysis and page), against the analysis
  alone (``midfoot analyse``'s work).

Targets (issue 11): open and draw < 2 s, pan/zoom >= 30 fps, report < 5 s.

Usage: python bench/bench_review.py [--minutes 60] [--frames 120]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from machine import machine_header  # noqa: E402

RATE_HZ = 1000
CHANNELS = 8
TARGETS = {"open_s": 2.0, "fps": 30.0, "report_s": 5.0}


def make_recording(path: Path, minutes: int) -> Path:
    """The hour-long session file (made once)."""
    from daq.calibration import Calibration
    from daq.decoder import FrameDecoder
    from daq.recorder import SessionRecorder
    from daq.samples import SampleBlock
    from hardware.scenarios import make_scenario
    from hardware.virtual_plate import VirtualPlate

    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    sc = make_scenario("hinge-kickstand-left", n_reps=5, seed=11)
    plate = VirtualPlate(sc, rate_hz=RATE_HZ, channels=CHANNELS, seed=11)
    block = FrameDecoder().feed(plate.render()).samples
    n = len(block)
    cal = Calibration(
        plate_id="bench",
        plate=plate.plate,
        offset_counts=plate.truth.offsets_counts[: plate.plate.n_channels],
        gain_n_per_count=1.0 / plate.truth.gains_counts_per_n[: plate.plate.n_channels],
        calibrated=True,
    )
    period_us = int(np.median(np.diff(block.t_us.astype(np.int64))))
    span_us = int(block.t_us[-1]) - int(block.t_us[0]) + period_us
    meta = {"stance": "kickstand-left", "athlete": "bench", "foot_length_mm": sc.foot_length_mm,
            "heel_y_mm": sc.heel_y_mm, "stance_width_mm": sc.stance_width_mm}
    target = minutes * 60 * RATE_HZ
    with SessionRecorder(path, cal, CHANNELS, meta) as rec:
        k = 0
        while k * n < target:
            take = min(n, target - k * n)
            rec.write(
                SampleBlock(
                    seq=(block.seq[:take].astype(np.int64) + k * n) & 0xFFFF,
                    t_us=(block.t_us[:take].astype(np.int64) + k * span_us) & 0xFFFFFFFF,
                    stale=block.stale[:take],
                    counts=block.counts[:take],
                ),
                1.7e9 + k * span_us / 1e6,
            )
            k += 1
    return path


def paint(widget: object) -> None:
    """Paint ``widget`` now (a synchronous repaint, as a frame on screen)."""
    widget.repaint()


class PaintCounter:
    """Counts the paints a widget receives (a frame is a paint of the plots' viewport)."""

    def __init__(self, widget: object) -> None:
        from pyqtgraph.Qt import QtCore

        class _Filter(QtCore.QObject):
            count = 0

            def eventFilter(self, obj: object, event: object) -> bool:  # noqa: N802
                if event.type() == QtCore.QEvent.Type.Paint:
                    _Filter.count += 1
                return False

        self._filter = _Filter()
        self._type = _Filter
        widget.installEventFilter(self._filter)

    @property
    def count(self) -> int:
        return self._type.count


def frames_per_s(app: object, widget: object, set_view: object, views: list) -> float:
    """Frames per second over ``views``: each view set, then the event loop paints it once."""
    counter = PaintCounter(widget)
    app.processEvents()
    before = counter.count
    t0 = time.perf_counter()
    for a, b in views:
        set_view(a, b)
        app.processEvents()
    elapsed = time.perf_counter() - t0
    painted = counter.count - before
    if painted < len(views):
        raise RuntimeError(f"only {painted} of {len(views)} views were painted")
    return len(views) / elapsed


def bench_open(path: Path) -> tuple[float, object, object]:
    from pyqtgraph.Qt import QtWidgets

    from gui.review_model import ReviewModel
    from gui.review_window import ReviewWindow

    # Imports and the Qt application are the program starting, not the file opening.
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    t0 = time.perf_counter()
    model = ReviewModel([path], analyse=False)  # as `midfoot review` opens files
    window = ReviewWindow(model)
    window.resize(1600, 1000)
    window.show()
    app.processEvents()
    paint(window.canvas.viewport())
    drawn_s = time.perf_counter() - t0
    window.wait_for_analysis()
    app.processEvents()
    paint(window.canvas.viewport())
    return drawn_s, time.perf_counter() - t0, window, app


def bench_open_baseline(path: Path) -> tuple[float, object]:
    import pyqtgraph as pg

    from daq.reader import read_recording

    t0 = time.perf_counter()  # pyqtgraph and the reader imported before, as for the review
    s = read_recording(path)
    read_s = time.perf_counter() - t0
    canvas = pg.GraphicsLayoutWidget()
    canvas.resize(1200, 800)
    plots = [canvas.addPlot(row=r, col=0) for r in range(3)]
    plots[0].plot(s.t_s, s.cop_mm[:, 1])
    plots[0].plot(s.t_s, s.cop_mm[:, 0])
    plots[1].plot(s.t_s, s.fz_n)
    for k in range(s.n_cells):
        plots[2].plot(s.t_s, s.force_n[:, k])
    canvas.show()
    paint(canvas.viewport())
    return time.perf_counter() - t0, read_s, (canvas, plots, s)


def view_sequence(t0: float, t1: float, frames: int) -> list[tuple[float, float]]:
    """Zoom from the whole file to 5 s about its middle and back, panning as it goes."""
    spans = np.geomspace(t1 - t0, 5.0, frames // 2)
    spans = np.concatenate([spans, spans[::-1]])
    mids = np.linspace(t0 + 0.3 * (t1 - t0), t0 + 0.7 * (t1 - t0), spans.size)
    return [(m - s / 2, m + s / 2) for m, s in zip(mids, spans, strict=True)]


def bench_fps(window: object, app: object, frames: int) -> float:
    t = window.model.file.series.t_s
    views = view_sequence(float(t[0]), float(t[-1]), frames)
    plot = window.plots[0]
    # setXRange redraws the traces through sigXRangeChanged; the event loop paints them.
    return frames_per_s(
        app, window.canvas.viewport(), lambda a, b: plot.setXRange(a, b, padding=0), views
    )


def bench_fps_baseline(held: object, app: object, frames: int) -> float:
    canvas, plots, s = held
    for p in plots:
        p.setClipToView(True)
        p.setDownsampling(auto=True, mode="peak")
        if p is not plots[0]:
            p.setXLink(plots[0])
    views = view_sequence(float(s.t_s[0]), float(s.t_s[-1]), frames)
    return frames_per_s(
        app, canvas.viewport(), lambda a, b: plots[0].setXRange(a, b, padding=0), views
    )


def bench_report(path: Path, out: Path) -> tuple[float, float, int]:
    from analysis.report import analyse_files
    from gui.report_page import write_report

    t0 = time.perf_counter()
    report = analyse_files([path])
    analysed = time.perf_counter() - t0
    write_report(report, out)
    total = time.perf_counter() - t0
    return total, analysed, sum(len(f.reps) for f in report.files)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=int, default=60)
    p.add_argument("--frames", type=int, default=120)
    args = p.parse_args(argv)
    print(machine_header())
    path = make_recording(ROOT / "build" / "bench" / f"review_{args.minutes}min.h5", args.minutes)
    print(f"recording: {path.name}, {path.stat().st_size / 1e6:.0f} MB, "
          f"{args.minutes} min at {RATE_HZ} Hz x {CHANNELS} channels")
    open_s, reps_s, window, app = bench_open(path)
    n = len(window.model.file.series)
    print(f"open and draw   review {open_s:6.2f} s   ({n} samples)  target < "
          f"{TARGETS['open_s']:g} s")
    print(f"                ... with the {len(window.model.file.rows)} reps analysed and "
          f"drawn {reps_s:6.2f} s")
    base_open_s, read_s, held = bench_open_baseline(path)
    print(f"                read_recording + plain pyqtgraph, every sample {base_open_s:6.2f} s "
          f"(of which reading the file {read_s:.2f} s)")
    fps = bench_fps(window, app, args.frames)
    print(f"pan and zoom    review {fps:6.1f} fps  ({args.frames} frames, the hour down to "
          f"5 s)  target >= {TARGETS['fps']:g} fps")
    base_fps = bench_fps_baseline(held, app, args.frames)
    print(f"                pyqtgraph clipToView + peak downsampling {base_fps:6.1f} fps")
    window.timer.stop()
    window.close()
    total, analysed, reps = bench_report(path, path.with_suffix(".html"))
    print(f"report          midfoot report {total:6.2f} s  ({reps} reps)  target < "
          f"{TARGETS['report_s']:g} s")
    print(f"                analysis alone (midfoot analyse) {analysed:6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
