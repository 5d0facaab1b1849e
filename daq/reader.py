"""The one reader: every file midfoot accepts, as a :class:`daq.series.PlateSeries`.

``analyse``, ``sway``, ``replay://``, review, export and batch all read recordings here, so
they all see the same series:

- an HDF5 session (``midfoot record`` or the live app; cleanly closed, killed mid-write or
  still being written): raw counts through the file's calibration, each
  :class:`~daq.events.CalibrationChanged` applying from its sample on; time from the
  plate's clock, joined over reconnects on the host clock (:mod:`daq.timebase`); the file's
  events with their times;
- text with the header ``t,f0,f1,f2,f3`` (time in s, the four corner forces in N, channel
  order and axes of PROTOCOL.md) on the plate named by ``# plate:`` (default preset);
- text with the header ``t_s,fz_n,cop_x_mm,cop_y_mm[,f0_n,...]`` (``midfoot export --csv``);
- text with the header ``t,ap_mm,ml_mm[,fz_n]`` (CoP in plate mm);
- a Santos & Duarte (2016) trial as published: tab separated, ``Time[s] ... Fz[N] ...
  COPx[cm] COPy[cm]``, where COPx is antero-posterior and COPy medio-lateral;
- a C3D trial of lab force plates (types 2 and 4, one or more plates combined;
  :mod:`daq.c3d`, read in a bounded child process).

``midfoot export --csv`` files also carry ``# cells_mm:`` (the plate's geometry) and
``# event.NNNN:`` lines (the recording's events as JSON with their ``t_s``).

Text files may start with ``# key: value`` lines (``plate``, ``stance``, ``athlete``,
``foot_length_mm``, ``heel_y_mm``, ``stance_width_mm``, ``body_mass_kg``; others are kept in
``meta.extra``); comma, tab or semicolon separated. Every problem is one
:class:`daq.errors.MidfootError` sentence naming the file, what is wrong and what to do.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace
from pathlib import Path

import numpy as np

from daq.c3d import looks_like_c3d, read_c3d_recording
from daq.calibration import Calibration, fz_and_cop
from daq.errors import MidfootError
from daq.events import (
    STANCES,
    CalibrationChanged,
    Reconnected,
    RecordedEvent,
    event_from_json,
    with_time,
)
from daq.plate import PlateGeometry, load_plate
from daq.series import PlateSeries, SeriesMeta, glitch_free
from daq.session import RawSession, load_session
from daq.timebase import device_time_s

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
FORCE_COLUMNS = ("f0", "f1", "f2", "f3")
TIME_COLUMNS = ("t", "t_s")
SANTOS_DUARTE_TIME = "Time[s]"
SANTOS_DUARTE_AP = "COPx[cm]"
SANTOS_DUARTE_ML = "COPy[cm]"
MM_PER_CM = 10.0
FOOT_KEYS = ("foot_length_mm", "heel_y_mm", "stance_width_mm")
# CoP from a text file's total force is gated like the plate's (daq.calibration).
COP_GATE_N = 20.0
# A header longer than this is not a header; a time beyond this many seconds is not a
# recording (a week), nor a step shorter than a microsecond.
MAX_HEADER_CHARS = 4096
MAX_TIME_S = 7 * 24 * 3600.0
MIN_STEP_S = 1e-6
# A text recording bigger than this is refused rather than read into memory for minutes.
MAX_TEXT_BYTES = 2_000_000_000
BODY_MASS_RANGE_KG = (10.0, 400.0)
MAX_META_CHARS = 65536
MAX_HEADER_LINES = 10_000
_SPLIT = re.compile(r"[,;\t]")
EXPECTED_TEXT = (
    "a CSV with the header t,f0,f1,f2,f3 (forces, N), t_s,fz_n,cop_x_mm,cop_y_mm "
    "(midfoot export) or t,ap_mm,ml_mm,fz_n (CoP, mm), or a Santos & Duarte trial"
)


def read_recording(
    path: str | Path,
    *,
    plate: str | PlateGeometry | None = None,
    calibration: Calibration | None = None,
    forward: str = "+y",
) -> PlateSeries:
    """Read any recording midfoot accepts as one calibrated series.

    Parameters
    ----------
    path : str or Path
        An HDF5 session or a text file (see the module docstring).
    plate : str or PlateGeometry, optional
        Plate preset name, .toml path or geometry that wins over the file's (sessions and
        force CSVs).
    calibration : Calibration, optional
        Re-calibrate a session: these gains (and, until the file's own later tares, these
        offsets) instead of the ones recorded.
    forward : str
        A C3D trial's lab axis the person faces (``+y``, ``-y``, ``+x``, ``-x``).

    Returns
    -------
    PlateSeries
        With ``events`` at their times and ``meta`` filled from the file.

    Raises
    ------
    MidfootError
        A missing, unreadable, empty, damaged or unknown file, in one sentence.
    """
    path = Path(path)
    if not path.exists():
        raise MidfootError(f"{path} does not exist: check the file name")
    if not path.is_file():
        raise MidfootError(f"{path} is not a file: give a session (.h5) or a CSV file")
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
        size = path.stat().st_size
    except OSError as exc:
        raise MidfootError(
            f"{path.name} cannot be read ({exc.strerror}): check its permissions"
        ) from None
    geometry = _plate(plate, path.name) if plate is not None else None
    if head == HDF5_SIGNATURE:
        return session_series(load_session(path), plate=geometry, calibration=calibration)
    if size == 0:
        raise MidfootError(f"{path.name} is empty: it has no samples; give a recording")
    if looks_like_c3d(head):
        return read_c3d_recording(path, forward=forward)
    if size > MAX_TEXT_BYTES:
        raise MidfootError(
            f"{path.name} is {size / 1e9:.1f} GB, too big for a text recording: split it or "
            "record to HDF5"
        )
    return _text_series(path, geometry)


# -- HDF5 sessions ------------------------------------------------------------------------
def _session_calibration(raw: RawSession) -> tuple[Calibration, list[str]]:
    """The calibration a session starts with; a damaged record falls back to nominal."""
    problems = []
    try:
        cal = Calibration.from_dict(json.loads(str(raw.attrs["calibration_json"])))
    except (KeyError, ValueError, TypeError, RecursionError, MidfootError):
        problems.append("its calibration record is damaged, so forces use nominal gains")
        try:
            geometry = PlateGeometry.from_dict(json.loads(str(raw.attrs["plate_json"])))
        except (KeyError, ValueError, TypeError, RecursionError, MidfootError):
            geometry = load_plate()
        cal = Calibration.nominal(str(raw.attrs.get("plate_id", "unknown")), geometry)
    return cal, problems


def _finite(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _recalibrated(base: Calibration, new: Calibration | None, geometry: PlateGeometry | None):
    """``base`` with another calibration's gains and/or another plate's geometry."""
    cal = base
    if new is not None:
        cal = replace(new, offset_counts=np.asarray(base.offset_counts, dtype=float))
    if geometry is not None:
        cal = replace(cal, plate=geometry)
    return cal


def session_series(
    raw: RawSession,
    *,
    plate: PlateGeometry | None = None,
    calibration: Calibration | None = None,
) -> PlateSeries:
    """Calibrate a raw session into a series (see :func:`read_recording`).

    Parameters
    ----------
    raw : RawSession
        From :func:`daq.session.load_session`.
    plate : PlateGeometry, optional
        Geometry that wins over the file's.
    calibration : Calibration, optional
        Gains (and starting offsets) that win over the file's.
    """
    name = raw.path.name
    n = len(raw)
    if n == 0:
        raise MidfootError(
            f"{name} holds no samples (the recording stopped before the plate sent any): "
            "record again"
        )
    file_cal, problems = _session_calibration(raw)
    start_cal = file_cal if calibration is None else replace(calibration)
    start_cal = _recalibrated(start_cal, None, plate)
    n_cells = start_cal.plate.n_channels
    if raw.counts.shape[1] < n_cells:
        raise MidfootError(
            f"{name} holds {raw.counts.shape[1]} channel(s) per sample but its plate has "
            f"{n_cells} cells: give the plate with --plate, or record again"
        )
    events = sorted(raw.events, key=lambda e: e.sample_index)
    starts = [e.sample_index for e in events if isinstance(e, Reconnected)]
    t_s = device_time_s(raw.seq, raw.t_us, raw.host_t_s, starts)
    pieces: list[tuple[int, Calibration]] = [(0, start_cal)]
    for event in events:
        if isinstance(event, CalibrationChanged):
            try:
                new = Calibration.from_dict(event.calibration)
            except (KeyError, ValueError, TypeError, MidfootError):
                problems.append("a damaged calibration event was left out")
                continue
            if new.plate.n_channels != n_cells:
                continue
            if calibration is not None:
                # Re-calibrating keeps the file's tares (offsets) but not its gains.
                new = replace(calibration, offset_counts=new.offset_counts)
            pieces.append((min(max(event.sample_index, 0), n), _recalibrated(new, None, plate)))
    force = np.empty((n, n_cells), np.float64)
    for k, (start, cal) in enumerate(pieces):
        stop = pieces[k + 1][0] if k + 1 < len(pieces) else n
        if stop > start:
            cal.forces_n(raw.counts[start:stop], out=force[start:stop])
    fz, cop = fz_and_cop(force, start_cal.plate.cells_mm)
    timed = tuple(
        with_time(e, t_s[min(max(e.sample_index, 0), n - 1)]) for e in events
    )
    attrs = raw.attrs
    info = raw.infos[-1] if raw.infos else {}
    stance = attrs.get("stance")
    body = _finite(attrs.get("body_mass_kg"))
    if body is not None and not BODY_MASS_RANGE_KG[0] <= body <= BODY_MASS_RANGE_KG[1]:
        body = None
    skip = {"calibration_json", "plate_json", "format", "format_version", "stance",
            "athlete", "created_utc", "body_mass_kg", "plate_id", *FOOT_KEYS}
    extra = {k: v for k, v in attrs.items() if k not in skip}
    extra["infos"] = raw.infos
    extra["logs"] = raw.logs
    if raw.problems or problems:
        extra["problems"] = raw.problems + problems
    meta = SeriesMeta(
        source=str(raw.path),
        kind="session",
        plate=start_cal.plate,
        calibration=start_cal,
        calibrated=bool(start_cal.calibrated),
        nominal_rate_hz=_finite(info.get("rate_hz")) or math.nan,
        athlete=str(attrs.get("athlete", "") or ""),
        created_utc=str(attrs.get("created_utc", "") or ""),
        stance=str(stance) if stance in STANCES else None,
        foot={k: v for k in FOOT_KEYS if (v := _finite(attrs.get(k))) is not None},
        body_mass_kg=body,
        plate_id=str(attrs.get("plate_id", "") or start_cal.plate_id),
        extra=extra,
    )
    return PlateSeries(
        t_s=t_s,
        fz_n=fz,
        cop_mm=cop,
        force_n=force,
        valid=glitch_free(raw.counts),
        host_t_s=raw.host_t_s,
        counts=raw.counts,
        events=timed,
        meta=meta,
    )


# -- delimited text -------------------------------------------------------------------------
def _plate(plate: str | PlateGeometry, source: str) -> PlateGeometry:
    if isinstance(plate, PlateGeometry):
        return plate
    try:
        return load_plate(plate) if plate else load_plate()
    except MidfootError as exc:
        raise MidfootError(f"{source}: {exc}") from None


def _cells_plate(meta: dict[str, str], source: str) -> PlateGeometry | None:
    """The plate a ``# cells_mm: x y | x y | ...`` line describes, if there is one."""
    text = meta.get("cells_mm")
    if not text:
        return None
    try:
        cells = np.array([[float(v) for v in pair.split()] for pair in text.split("|")])
        if cells.ndim != 2 or cells.shape[1] != 2 or not 1 <= cells.shape[0] <= 8:
            raise ValueError
        if not np.all(np.isfinite(cells)) or np.abs(cells).max() > 1e4:
            raise ValueError
    except ValueError:
        raise MidfootError(
            f"{source}: the cells_mm line is not a list of 'x y' positions in mm separated by "
            "'|'; fix it or remove it and name the plate"
        ) from None
    span = np.ptp(cells, axis=0)
    width = _finite(meta.get("plate_width_mm")) or float(span[0]) * 1.2 or 600.0
    depth = _finite(meta.get("plate_depth_mm")) or float(span[1]) * 1.2 or 600.0
    return PlateGeometry(
        name=meta.get("plate", "") or "from-file",
        cells_mm=cells,
        width_mm=width,
        depth_mm=depth,
        description="cell positions given in the file",
    )


def _text_events(meta: dict[str, str], t0_s: float) -> tuple[RecordedEvent, ...]:
    """The ``# event.NNNN: {json}`` lines of an exported CSV, at their times."""
    out = []
    for key in sorted(k for k in meta if k.startswith("event.")):
        event = event_from_json(meta[key])
        if event is None:
            continue
        try:
            t = float(json.loads(meta[key]).get("t_s"))
        except (TypeError, ValueError, AttributeError, RecursionError):
            continue
        if math.isfinite(t):
            out.append(with_time(event, t - t0_s))
    return tuple(sorted(out, key=lambda e: e.t_s))


def _split_text(path: Path) -> tuple[dict[str, str], str, list[str], int]:
    """Metadata comment lines, the header, the data lines and the header's line number."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise MidfootError(
            f"{name} is neither an HDF5 session nor a text file: give a .h5 recording or "
            f"{EXPECTED_TEXT}"
        ) from None
    except OSError as exc:
        raise MidfootError(
            f"{name} cannot be read ({exc.strerror}): check its permissions"
        ) from None
    if "\x00" in text:
        raise MidfootError(f"{name} holds binary data, not text: give {EXPECTED_TEXT}")
    lines = text.splitlines()
    meta: dict[str, str] = {}
    i = 0
    while i < len(lines) and (lines[i].lstrip().startswith("#") or not lines[i].strip()):
        if i >= MAX_HEADER_LINES:
            raise MidfootError(
                f"{name} starts with more than {MAX_HEADER_LINES} comment lines, not samples: "
                f"give {EXPECTED_TEXT}"
            )
        body = lines[i].lstrip().lstrip("#")
        key, sep, value = body.partition(":")
        if not sep:
            key, sep, value = body.partition("=")
        if sep and key.strip() and len(key) < 64:
            meta[key.strip().lower()] = value.strip()[:MAX_META_CHARS]
        i += 1
    if i == len(lines):
        raise MidfootError(
            f"{name} has no samples: it needs a header line and one sample per line "
            f"({EXPECTED_TEXT})"
        )
    header = lines[i]
    if len(header) > MAX_HEADER_CHARS:
        raise MidfootError(
            f"{name} starts with a {len(header)}-character line, not a header: give {EXPECTED_TEXT}"
        )
    rows = [line for line in lines[i + 1 :] if line.strip() and not line.lstrip().startswith("#")]
    if not rows:
        raise MidfootError(f"{name} has a header but no samples: export the recording again")
    return meta, header, rows, i + 1


def _numeric_table(
    name: str, names: list[str], rows: list[str], delimiter: str, header_line: int
) -> np.ndarray:
    """Data lines as an (N, len(names)) float array; the first bad line named otherwise.

    Empty cells and ``nan`` read as NaN (a missing value, judged later per column).
    """
    try:
        table = np.loadtxt(rows, delimiter=delimiter, ndmin=2, dtype=float)
        if table.shape[1] == len(names):
            return table
    except ValueError:
        pass
    out = np.empty((len(rows), len(names)))
    for k, line in enumerate(rows):
        cells = [c.strip() for c in line.split(delimiter)]
        number = header_line + 1 + k
        if len(cells) != len(names):
            raise MidfootError(
                f"line {number} of {name} has {len(cells)} values but the header names "
                f"{len(names)}; fix or remove that line"
            )
        for j, cell in enumerate(cells):
            if cell == "":
                out[k, j] = math.nan
                continue
            try:
                out[k, j] = float(cell)
            except ValueError:
                raise MidfootError(
                    f"line {number} of {name} has {cell[:30]!r} in column {names[j][:30]}, "
                    "not a number; fix or remove that line"
                ) from None
    return out


def _checked_time(name: str, t: np.ndarray) -> np.ndarray:
    if t.shape[0] < 2:
        raise MidfootError(f"{name} holds only one sample: record a few seconds at least")
    bad = ~np.isfinite(t) | (np.abs(t) > MAX_TIME_S)
    if bad.any():
        line = int(np.argmax(bad)) + 1
        raise MidfootError(
            f"{name}: sample {line} has the time {float(t[line - 1]):g}, which cannot be a "
            "recording's "
            "time in seconds; fix the time column"
        )
    steps = np.diff(t)
    if np.any(steps < MIN_STEP_S):
        bad_at = int(np.argmax(steps < MIN_STEP_S)) + 2
        raise MidfootError(
            f"{name}: the times do not increase at sample {bad_at}; sort the samples or remove "
            "repeated ones"
        )
    return t - t[0]


def _text_series(path: Path, geometry: PlateGeometry | None) -> PlateSeries:
    name = path.name
    meta, header, rows, header_line = _split_text(path)
    delimiter = next((d for d in ("\t", ";", ",") if d in header), ",")
    raw_names = [n.strip() for n in header.split(delimiter)]
    names = [n.lower() for n in raw_names]
    valid_extra: np.ndarray | None = None
    force = None
    plate_used: PlateGeometry | None = None
    if all(n in raw_names for n in (SANTOS_DUARTE_TIME, SANTOS_DUARTE_AP, SANTOS_DUARTE_ML)):
        kind = "santos-duarte"
        table = _numeric_table(name, raw_names, rows, delimiter, header_line)
        t = table[:, raw_names.index(SANTOS_DUARTE_TIME)]
        cop = np.column_stack(
            [
                table[:, raw_names.index(SANTOS_DUARTE_ML)] * MM_PER_CM,
                table[:, raw_names.index(SANTOS_DUARTE_AP)] * MM_PER_CM,
            ]
        )
        fz = table[:, raw_names.index("Fz[N]")] if "Fz[N]" in raw_names else np.full(len(t), np.nan)
    else:
        time_names = [n for n in names if n in TIME_COLUMNS]
        if len(time_names) != 1:
            raise MidfootError(
                f"{name} has the header {header[:60]!r}, which names no time column: give "
                f"{EXPECTED_TEXT}"
            )
        table = _numeric_table(name, names, rows, delimiter, header_line)
        t = table[:, names.index(time_names[0])]
        cell_names = [f"f{i}_n" for i in range(8) if f"f{i}_n" in names]
        if all(c in names for c in FORCE_COLUMNS) or len(cell_names) >= 3:
            kind = "forces-csv"
            columns = [c for c in FORCE_COLUMNS if c in names] if not cell_names else cell_names
            force = np.column_stack([table[:, names.index(c)] for c in columns])
            plate_used = geometry or _cells_plate(meta, name) or _plate(meta.get("plate", ""), name)
            if plate_used.n_channels != force.shape[1]:
                raise MidfootError(
                    f"{name}: plate {plate_used.name!r} has {plate_used.n_channels} cells, but "
                    f"the file gives {force.shape[1]} forces; name the plate with --plate or a "
                    "'# plate:' line"
                )
            valid_extra = np.all(np.isfinite(force), axis=1)
            if all(c in names for c in ("fz_n", "cop_x_mm", "cop_y_mm")):
                # An export: the calibrated total and CoP as written, the cells beside them.
                fz = table[:, names.index("fz_n")]
                cop = np.column_stack(
                    [table[:, names.index("cop_x_mm")], table[:, names.index("cop_y_mm")]]
                )
            else:
                fz, cop = fz_and_cop(np.nan_to_num(force), plate_used.cells_mm)
                # A sample with a missing cell has no total or CoP (not the zeros of nan_to_num).
                fz = np.where(valid_extra, fz, np.nan)
                cop = np.where(valid_extra[:, None], cop, np.nan)
        elif all(c in names for c in ("fz_n", "cop_x_mm", "cop_y_mm")):
            kind = "cop-csv"
            fz = table[:, names.index("fz_n")]
            cop = np.column_stack(
                [table[:, names.index("cop_x_mm")], table[:, names.index("cop_y_mm")]]
            )
        elif all(c in names for c in ("ap_mm", "ml_mm")):
            kind = "cop-csv"
            fz = table[:, names.index("fz_n")] if "fz_n" in names else np.full(len(t), np.nan)
            cop = np.column_stack([table[:, names.index("ml_mm")], table[:, names.index("ap_mm")]])
        else:
            raise MidfootError(
                f"{name} has the header {header[:60]!r}, which is neither of the layouts "
                f"midfoot knows: give {EXPECTED_TEXT}"
            )
    t0 = float(t[0]) if t.shape[0] and math.isfinite(t[0]) else 0.0
    t = _checked_time(name, t)
    events = _text_events(meta, t0)
    has_force = bool(np.isfinite(fz).any())
    cop = np.asarray(cop, dtype=np.float64)
    valid = np.all(np.isfinite(cop), axis=1) | np.isfinite(fz)
    if valid_extra is not None:
        valid &= valid_extra
    if not (np.isfinite(cop).any() or has_force):
        raise MidfootError(
            f"{name} has no usable values (every force and CoP is missing or NaN): export the "
            "recording again"
        )
    for column, values in (("force", fz), ("CoP", cop)):
        finite = values[np.isfinite(values)]
        if finite.size and np.abs(finite).max() > 1e7:
            raise MidfootError(
                f"{name}: a {column} value of {np.abs(finite).max():.3g} cannot come from a plate; "
                "check the units and the columns"
            )
    if has_force:
        with np.errstate(invalid="ignore"):
            cop[~(fz >= COP_GATE_N)] = np.nan
    body = _finite(meta.get("body_mass_kg"))
    if meta.get("body_mass_kg") not in (None, "") and body is None:
        raise MidfootError(
            f"{name}: body_mass_kg is {meta['body_mass_kg']!r}, not a number; give it in kg"
        )
    foot = {}
    for key in FOOT_KEYS:
        value = _finite(meta.get(key))
        if meta.get(key) not in (None, "", "nan", "none") and value is None:
            raise MidfootError(f"{name}: {key} is {meta[key]!r}, not a number; give it in mm")
        if value is not None:
            foot[key] = value
    stance = meta.get("stance") or None
    if stance is not None and stance not in STANCES:
        raise MidfootError(
            f"{name}: stance {stance!r} is not one of {', '.join(STANCES)}; fix the stance line "
            "or pass --stance"
        )
    skip = {"plate", "stance", "athlete", "body_mass_kg", "cells_mm", "calibrated",
            "nominal_rate_hz", "plate_id", "created_utc", *FOOT_KEYS}
    extra: dict[str, object] = {
        k: v for k, v in meta.items() if k not in skip and not k.startswith("event.")
    }
    extra["has_force"] = has_force
    n = t.shape[0]
    return PlateSeries(
        t_s=t,
        fz_n=np.asarray(fz, dtype=np.float64),
        cop_mm=cop,
        force_n=np.zeros((n, 0)) if force is None else np.nan_to_num(force),
        valid=valid,
        events=events,
        meta=SeriesMeta(
            source=str(path),
            kind=kind,
            plate=plate_used,
            calibrated=meta.get("calibrated", "true").strip().lower() != "false",
            nominal_rate_hz=_finite(meta.get("nominal_rate_hz")) or math.nan,
            plate_id=meta.get("plate_id", ""),
            created_utc=meta.get("created_utc", ""),
            athlete=meta.get("athlete", ""),
            stance=stance,
            foot=foot,
            body_mass_kg=body,
            extra=extra,
        ),
    )
