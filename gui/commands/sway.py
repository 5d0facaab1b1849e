"""`midfoot sway`: balance metrics of a still stretch of a CoP trajectory."""

from __future__ import annotations

import argparse
import json
import sys

from analysis.sway import SwayMetrics, sway_metrics, sway_stretch
from daq.errors import MidfootError
from daq.reader import read_recording
from gui.cli import CommandParser

# ---------------------------------------------------------------------------------------
# Command line: midfoot sway FILE [--start S] [--end S] [--lowpass HZ] [--json]

# (field, label, unit) in the order a person reads the report.
_TABLE_ROWS = (
    ("ellipse95_area_mm2", "95 % prediction ellipse, F (Santos & Duarte)", "mm^2"),
    ("ellipse95_chi2_area_mm2", "95 % ellipse, chi-square", "mm^2"),
    ("circle95_area_mm2", "95 % circle (Prieto)", "mm^2"),
    ("path_length_mm", "path length", "mm"),
    ("mean_velocity_mm_s", "mean velocity (Santos & Duarte)", "mm/s"),
    ("mean_velocity_ap_mm_s", "mean velocity AP (Prieto)", "mm/s"),
    ("mean_velocity_ml_mm_s", "mean velocity ML (Prieto)", "mm/s"),
    ("rms_distance_mm", "RMS distance (Prieto)", "mm"),
    ("mean_distance_mm", "mean distance (Prieto)", "mm"),
    ("rms_ap_mm", "RMS AP", "mm"),
    ("rms_ml_mm", "RMS ML", "mm"),
    ("range_ap_mm", "range AP", "mm"),
    ("range_ml_mm", "range ML", "mm"),
    ("mean_frequency_hz", "mean frequency, Welch (Santos & Duarte)", "Hz"),
    ("median_frequency_ap_hz", "median frequency AP (Prieto)", "Hz"),
    ("median_frequency_ml_hz", "median frequency ML (Prieto)", "Hz"),
    ("f95_ap_hz", "95 % power frequency AP (Prieto)", "Hz"),
    ("f95_ml_hz", "95 % power frequency ML (Prieto)", "Hz"),
    ("duration_s", "duration (N / fs)", "s"),
    ("n_samples", "samples", ""),
    ("fs_hz", "sampling rate", "Hz"),
)


def _parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="midfoot sway",
        description=(
            "Sway metrics of a CoP trajectory (Santos & Duarte 2016 and Prieto et al. "
            "1996 definitions)."
        ),
    )
    parser.add_argument(
        "file", metavar="FILE", help="Santos & Duarte trial or CoP text (t,ap_mm,ml_mm,fz_n)"
    )
    parser.add_argument("--start", type=float, metavar="S", help="first time kept, in s")
    parser.add_argument("--end", type=float, metavar="S", help="time where the window ends, in s")
    parser.add_argument(
        "--lowpass",
        type=float,
        metavar="HZ",
        help="zero-phase 4th-order Butterworth low-pass cut-off in Hz (default: unfiltered)",
    )
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    return parser


def format_sway_table(metrics: SwayMetrics, source: str) -> str:
    """Render metrics as an aligned, human-readable table with units.

    Parameters
    ----------
    metrics : SwayMetrics
        The metrics to show.
    source : str
        What they were computed from (file name and window), shown first.

    Returns
    -------
    str
        Lines of ``label  value  unit``, without a trailing newline.
    """
    values = metrics.to_dict()
    cells = []
    for key, label, unit in _TABLE_ROWS:
        value = values[key]
        if value is None:
            text = "n/a"
        elif isinstance(value, int):
            text = str(value)
        else:
            text = f"{value:.4f}"
        cells.append((label, text, unit))
    label_w = max(len(label) for label, _, _ in cells)
    value_w = max(len(text) for _, text, _ in cells)
    lines = [f"{'source':<{label_w}}  {source}", f"{'filter':<{label_w}}  {metrics.filter}"]
    for label, text, unit in cells:
        lines.append(f"{label:<{label_w}}  {text:>{value_w}}  {unit}".rstrip())
    return "\n".join(lines)


def run(argv: list[str]) -> int:
    """Run ``midfoot sway FILE [--start S] [--end S] [--lowpass HZ] [--json]``.

    Parameters
    ----------
    argv : list of str
        Arguments after ``sway``.

    Returns
    -------
    int
        0 on success; 2 after printing ``midfoot sway: <sentence>`` to stderr when the
        arguments or the file are wrong.
    """
    args = _parser().parse_args(argv)

    stretch = sway_stretch(read_recording(args.file), args.start, args.end)
    try:
        metrics = sway_metrics(
            stretch.ap_mm, stretch.ml_mm, stretch.fs_hz, lowpass_hz=args.lowpass
        )
    except ValueError as exc:
        raise MidfootError(str(exc).rstrip(".")) from None
    if stretch.warning:
        print(f"midfoot sway: warning: {stretch.warning}", file=sys.stderr)
    if args.json:
        document = metrics.to_dict()
        document["warning"] = stretch.warning
        print(json.dumps(document, indent=2))
    else:
        source = f"{args.file} ({stretch.t_s[0]:g} s to {stretch.t_s[-1]:g} s)"
        print(format_sway_table(metrics, source))
    return 0
