"""`midfoot sway`: balance metrics of a still stretch of a CoP trajectory."""

from __future__ import annotations

import argparse
import json
import math

import numpy as np

from analysis.sway import MIN_SAMPLES, SwayMetrics, load_cop, sway_metrics
from daq.errors import MidfootError
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


def _window(t_s: np.ndarray, start_s: float | None, end_s: float | None) -> np.ndarray:
    """Boolean mask of samples with start_s <= t < end_s."""
    for name, value in (("--start", start_s), ("--end", end_s)):
        if value is not None and not math.isfinite(value):
            raise ValueError(f"{name} must be a finite time in s, got {value!r}.")
    if start_s is not None and end_s is not None and start_s >= end_s:
        raise ValueError(
            f"--start ({start_s:g} s) must be before --end ({end_s:g} s); swap or fix them."
        )
    keep = np.ones(t_s.size, dtype=bool)
    if start_s is not None:
        keep &= t_s >= start_s
    if end_s is not None:
        keep &= t_s < end_s
    if keep.sum() < MIN_SAMPLES:
        start_text = "the start" if start_s is None else f"{start_s:g} s"
        end_text = "the end" if end_s is None else f"{end_s:g} s"
        raise ValueError(
            f"the window from {start_text} to {end_text} holds {int(keep.sum())} samples "
            f"but at least {MIN_SAMPLES} are needed; choose times within the file's "
            f"{t_s[0]:g} s to {t_s[-1]:g} s."
        )
    return keep


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

    try:
        t_s, ap_mm, ml_mm, fs_hz = load_cop(args.file)
        keep = _window(t_s, args.start, args.end)
        metrics = sway_metrics(ap_mm[keep], ml_mm[keep], fs_hz, lowpass_hz=args.lowpass)
    except ValueError as exc:
        raise MidfootError(str(exc)) from None

    if args.json:
        print(json.dumps(metrics.to_dict(), indent=2))
    else:
        t_kept = t_s[keep]
        source = f"{args.file} ({t_kept[0]:g} s to {t_kept[-1]:g} s)"
        print(format_sway_table(metrics, source))
    return 0
