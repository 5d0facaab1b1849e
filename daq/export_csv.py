"""The CSV forms midfoot exports: calibrated samples, and a rep table.

Samples (``midfoot export FILE --csv OUT``)::

    # format: midfoot-samples
    # version: 1
    # plate: diy-4cell-600
    # cells_mm: -250 200 | 250 200 | 250 -200 | -250 -200
    # stance: bilateral
    # ... (athlete, foot_length_mm, heel_y_mm, stance_width_mm, body_mass_kg, ...)
    # event.0001: {"kind": "stance", "t_s": 12.5, "stance": "kickstand-left", ...}
    t_s,fz_n,cop_x_mm,cop_y_mm,f0_n,f1_n,f2_n,f3_n
    0.000000,702.114,-3.21,10.57,180.402,171.339,170.020,180.353

Times in device seconds from the recording's first sample; forces in newtons; CoP in plate
millimetres (x medio-lateral, + to the person's right; y antero-posterior, + forward), ``nan``
where the force is too small for a CoP. Cell columns are in PROTOCOL.md channel order. A
sample that was not a measurement (an HX711 glitch) is written with ``nan`` forces. The
metadata lines are ``# key: value``; events are JSON (:func:`daq.events.event_to_json`) plus
their ``t_s``, one per ``event.NNNN`` line, so stance changes survive the trip. The one
reader, :func:`daq.reader.read_recording`, reads the file back.

The rep table (``--reps``) has one row per rep of ``midfoot analyse --json``'s ``reps`` list,
nested values flattened (``zone_fractions.heel``) and lists joined with ``;``.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from daq.errors import MidfootError
from daq.events import event_to_json
from daq.series import PlateSeries

FORMAT_NAME = "midfoot-samples"
FORMAT_VERSION = 1
BASE_COLUMNS = ("t_s", "fz_n", "cop_x_mm", "cop_y_mm")
FOOT_KEYS = ("foot_length_mm", "heel_y_mm", "stance_width_mm")
# A comment block longer than this is not a header; a file bigger than this is refused
# rather than read into memory for minutes (an hour at 1 kHz is about 200 MB).
MAX_HEADER_LINES = 10_000
MAX_FILE_BYTES = 4_000_000_000
MAX_CELLS = 8
# Beyond these a value cannot come from a person on a plate.
MAX_ABS_FORCE_N = 1e6
MAX_ABS_COP_MM = 1e5
MAX_TIME_S = 7 * 24 * 3600.0
ROWS_PER_WRITE = 50_000


def _cells_text(cells_mm: np.ndarray) -> str:
    return " | ".join(f"{x:g} {y:g}" for x, y in cells_mm)


def _metadata_lines(series: PlateSeries) -> list[str]:
    meta = series.meta
    items: list[tuple[str, object]] = [("format", FORMAT_NAME), ("version", FORMAT_VERSION)]
    if meta.plate is not None:
        items += [("plate", meta.plate.name), ("cells_mm", _cells_text(meta.plate.cells_mm))]
        items += [("plate_width_mm", meta.plate.width_mm), ("plate_depth_mm", meta.plate.depth_mm)]
    for key, value in (
        ("source", meta.source),
        ("source_kind", meta.kind),
        ("plate_id", meta.plate_id),
        ("athlete", meta.athlete),
        ("created_utc", meta.created_utc),
        ("stance", meta.stance or ""),
        ("body_mass_kg", meta.body_mass_kg),
        ("nominal_rate_hz", meta.nominal_rate_hz),
        ("calibrated", str(meta.calibrated).lower()),
    ):
        if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
            continue
        items.append((key, value))
    items += [(k, meta.foot[k]) for k in FOOT_KEYS if meta.foot.get(k) is not None]
    lines = []
    for key, value in items:
        # One line each: a newline inside a value would end the header early.
        text = " ".join(str(value).splitlines())
        lines.append(f"# {key}: {text}\n")
    for i, event in enumerate(series.events, start=1):
        body = json.loads(event_to_json(event, event.sample_index))
        body["t_s"] = None if not math.isfinite(event.t_s) else round(float(event.t_s), 6)
        lines.append(f"# event.{i:04d}: {json.dumps(body, allow_nan=False)}\n")
    return lines


def write_samples_csv(series: PlateSeries, path: str | Path) -> Path:
    """Write ``series`` as a midfoot samples CSV (see the module docstring).

    Parameters
    ----------
    series : PlateSeries
        Calibrated samples; its ``meta`` fills the ``# key: value`` lines.
    path : str or Path
        The file to create (replaced if it exists; written to a temporary name first, so
        a failure never leaves half a file under the real name).

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    n_cells = series.n_cells
    header = list(BASE_COLUMNS) + [f"f{i}_n" for i in range(n_cells)]
    tmp = path.with_name(path.name + ".part")
    force = series.force_n.astype(np.float64, copy=True)
    if n_cells:
        force[~series.valid] = np.nan
    table = np.column_stack([series.t_s, series.fz_n, series.cop_mm, force])
    formats = ["%.6f", "%.3f", "%.2f", "%.2f"] + ["%.3f"] * n_cells
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.writelines(_metadata_lines(series))
            f.write(",".join(header) + "\n")
            for i0 in range(0, len(series), ROWS_PER_WRITE):
                np.savetxt(f, table[i0 : i0 + ROWS_PER_WRITE], fmt=formats, delimiter=",")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise MidfootError(
            f"could not write {path} ({exc.strerror}): check that the folder exists, is "
            "writable and the disk has room"
        ) from None
    return path


def _flat(row: dict[str, object], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flat(value, name + "."))
        elif isinstance(value, list | tuple):
            if value and all(isinstance(v, dict) for v in value):
                # fault_details: the names and cues, one cell each, in the faults' order.
                for field in sorted({k for v in value for k in v}):
                    out[f"{name}.{field}"] = ";".join(str(v.get(field, "")) for v in value)
            else:
                out[name] = ";".join(str(v) for v in value)
        elif value is None:
            out[name] = ""
        else:
            out[name] = str(value)
    return out


def write_reps_csv(rows: Iterable[dict[str, object]], path: str | Path) -> Path:
    """Write a rep table: one row per rep, one column per (flattened) key.

    Parameters
    ----------
    rows : iterable of dict
        Reps as in ``SessionReport.to_dict()["reps"]``; nested dicts become ``a.b``
        columns, lists ``;``-joined cells, None an empty cell.
    path : str or Path
        The file to create.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    flat = [_flat(dict(r)) for r in rows]
    columns: list[str] = []
    for r in flat:
        columns += [k for k in r if k not in columns]
    tmp = path.with_name(path.name + ".part")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns or ["index"], lineterminator="\n")
            writer.writeheader()
            writer.writerows(flat)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise MidfootError(
            f"could not write {path} ({exc.strerror}): check that the folder exists, is "
            "writable and the disk has room"
        ) from None
    return path
