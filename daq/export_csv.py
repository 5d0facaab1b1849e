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
their ``t_s``, one per ``event.NNNN`` line, so stance changes survive the trip.

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
from daq.events import STANCES, RecordedEvent, event_from_json, event_to_json, with_time
from daq.plate import PlateGeometry, load_plate
from daq.series import PlateSeries, SeriesMeta

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


# -- reading back ---------------------------------------------------------------------------
def _fail(name: str, what: str) -> MidfootError:
    return MidfootError(f"{name} {what}")


def _cells_from_text(text: str) -> np.ndarray | None:
    try:
        pairs = [p.split() for p in text.split("|")]
        cells = np.array([[float(a), float(b)] for a, b in pairs])
    except ValueError:
        return None
    if not 1 <= cells.shape[0] <= MAX_CELLS or not np.all(np.isfinite(cells)):
        return None
    return cells


def _finite_number(meta: dict[str, str], key: str, name: str) -> float | None:
    text = meta.get(key, "").strip()
    if text == "" or text.lower() in ("nan", "none"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise _fail(name, f"says {key} is {text[:30]!r}, not a number; fix that line") from None
    if not math.isfinite(value):
        return None
    return value


def _plate_of(meta: dict[str, str], n_cells: int, name: str) -> PlateGeometry | None:
    if n_cells == 0:
        return None
    cells = _cells_from_text(meta.get("cells_mm", ""))
    if cells is not None and cells.shape[0] == n_cells:
        width = _finite_number(meta, "plate_width_mm", name)
        depth = _finite_number(meta, "plate_depth_mm", name)
        return PlateGeometry(
            name=meta.get("plate", "") or "from-csv",
            cells_mm=cells,
            width_mm=width if width else float(2 * np.abs(cells[:, 0]).max()),
            depth_mm=depth if depth else float(2 * np.abs(cells[:, 1]).max()),
        )
    plate = load_plate(meta["plate"]) if meta.get("plate") else load_plate()
    if plate.n_channels != n_cells:
        raise _fail(
            name,
            f"gives {n_cells} cell forces but plate {plate.name!r} has {plate.n_channels} "
            "cells; add a '# cells_mm:' line with one x y pair per cell",
        )
    return plate


def _events_of(meta: dict[str, str]) -> tuple[RecordedEvent, ...]:
    events: list[RecordedEvent] = []
    for key in sorted(k for k in meta if k.startswith("event.")):
        text = meta[key]
        event = event_from_json(text)
        if event is None:
            continue
        try:
            t_s = json.loads(text).get("t_s")
        except (ValueError, RecursionError, AttributeError):
            continue
        if isinstance(t_s, int | float) and not isinstance(t_s, bool) and math.isfinite(t_s):
            events.append(with_time(event, float(t_s)))
    events.sort(key=lambda e: e.t_s)
    return tuple(events)


def _header_block(path: Path, name: str) -> tuple[dict[str, str], list[str], int]:
    """The ``# key: value`` lines, the column names and the byte offset of the first row."""
    meta: dict[str, str] = {}
    with open(path, "rb") as f:
        for _ in range(MAX_HEADER_LINES):
            raw = f.readline(1 << 20)
            if not raw:
                raise _fail(name, "has no header line: export the recording again")
            try:
                line = raw.decode("utf-8-sig" if not meta else "utf-8").strip()
            except UnicodeDecodeError:
                raise _fail(name, "is not a text file: give a CSV from `midfoot export`") from None
            if not line:
                continue
            if line.startswith("#"):
                key, sep, value = line.lstrip("#").partition(":")
                if sep and 0 < len(key.strip()) < 64:
                    meta[key.strip().lower()] = value.strip()
                continue
            return meta, [c.strip().lower() for c in line.split(",")], f.tell()
    raise _fail(name, f"starts with more than {MAX_HEADER_LINES} comment lines, not samples")


def read_samples_csv(path: str | Path) -> PlateSeries:
    """Read a midfoot samples CSV (:func:`write_samples_csv`) back as a series.

    Parameters
    ----------
    path : str or Path
        The CSV.

    Returns
    -------
    PlateSeries
        Times as written (not shifted), forces, CoP, cell forces; samples whose cells read
        ``nan`` are not valid; the metadata and events of the header.

    Raises
    ------
    MidfootError
        One sentence naming the file and what is wrong with it, for every kind of bad
        input (missing, binary, wrong columns, ragged or non-numeric rows, times that do
        not increase, impossible values).
    """
    path = Path(path)
    name = path.name
    try:
        size = path.stat().st_size
    except OSError:
        raise MidfootError(f"{path} does not exist or cannot be read: check the name") from None
    if size > MAX_FILE_BYTES:
        raise _fail(name, f"is {size / 1e9:.1f} GB, too big for one recording; split it")
    try:
        meta, columns, start = _header_block(path, name)
    except OSError as exc:
        raise _fail(name, f"cannot be read ({exc.strerror}): check its permissions") from None
    if tuple(columns[:4]) != BASE_COLUMNS:
        raise _fail(
            name,
            f"has the columns {','.join(columns)[:60]!r}; a midfoot samples CSV starts with "
            f"{','.join(BASE_COLUMNS)}",
        )
    cells = columns[4:]
    if len(cells) > MAX_CELLS or cells != [f"f{i}_n" for i in range(len(cells))]:
        raise _fail(name, "has cell columns other than f0_n, f1_n, ... (at most 8)")
    n_cols = len(columns)
    try:
        with open(path, "rb") as f:
            f.seek(start)
            body = f.read()
        text = body.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        raise _fail(name, "holds bytes that are not text after its header") from None
    if "\x00" in text:
        raise _fail(name, "holds binary data after its header: export the recording again")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if len(lines) < 2:
        raise _fail(name, "holds fewer than two samples: record a few seconds at least")
    try:
        table = np.loadtxt(lines, delimiter=",", ndmin=2, dtype=np.float64)
    except ValueError:
        table = None
    if table is None or table.shape[1] != n_cols:
        for k, line in enumerate(lines):
            cells_k = line.split(",")
            if len(cells_k) != n_cols:
                raise _fail(
                    name,
                    f"has {len(cells_k)} values on sample line {k + 1} but {n_cols} columns; "
                    "fix or remove that line",
                )
            for cell in cells_k:
                try:
                    float(cell)
                except ValueError:
                    raise _fail(
                        name,
                        f"has {cell.strip()[:20]!r} on sample line {k + 1}, not a number; fix "
                        "or remove that line",
                    ) from None
        raise _fail(name, "could not be read as numbers: export the recording again")
    t = table[:, 0]
    if not np.all(np.isfinite(t)) or np.abs(t).max() > MAX_TIME_S:
        raise _fail(name, "has a time that is missing or beyond a week; fix the t_s column")
    if np.any(np.diff(t) <= 0):
        k = int(np.argmax(np.diff(t) <= 0)) + 2
        raise _fail(name, f"has times that do not increase at sample {k}; sort the samples")
    fz = table[:, 1]
    cop = table[:, 2:4].copy()
    force = table[:, 4:]
    for label, values, limit in (
        ("force", np.column_stack([fz[:, None], force]), MAX_ABS_FORCE_N),
        ("CoP", cop, MAX_ABS_COP_MM),
    ):
        finite = values[np.isfinite(values)]
        if finite.size and np.abs(finite).max() > limit:
            raise _fail(
                name,
                f"has a {label} of {np.abs(finite).max():.3g}, which no plate measures; check "
                "the units and the columns",
            )
    valid = np.isfinite(fz) & (np.all(np.isfinite(force), axis=1) if len(cells) else True)
    stance = meta.get("stance") or None
    if stance is not None and stance not in STANCES:
        raise _fail(name, f"says stance {stance[:30]!r}, not one of {', '.join(STANCES)}")
    foot = {k: v for k in FOOT_KEYS if (v := _finite_number(meta, k, name)) is not None}
    rate = _finite_number(meta, "nominal_rate_hz", name)
    known = {
        "format",
        "version",
        "plate",
        "cells_mm",
        "plate_width_mm",
        "plate_depth_mm",
        "athlete",
        "created_utc",
        "stance",
        "body_mass_kg",
        "nominal_rate_hz",
        "calibrated",
        "plate_id",
        *FOOT_KEYS,
    }
    series_meta = SeriesMeta(
        source=str(path),
        kind="forces-csv" if cells else "cop-csv",
        plate=_plate_of(meta, len(cells), name),
        calibrated=meta.get("calibrated", "true").lower() != "false",
        nominal_rate_hz=float("nan") if rate is None else rate,
        athlete=meta.get("athlete", ""),
        created_utc=meta.get("created_utc", ""),
        stance=stance,
        foot=foot,
        body_mass_kg=_finite_number(meta, "body_mass_kg", name),
        plate_id=meta.get("plate_id", ""),
        extra={k: v for k, v in meta.items() if k not in known and not k.startswith("event.")},
    )
    return PlateSeries(
        t_s=t,
        fz_n=fz,
        cop_mm=cop,
        force_n=np.nan_to_num(force),
        valid=valid,
        events=_events_of(meta),
        meta=series_meta,
    )
