"""Recordings as a force and CoP series: HDF5 sessions and the two delimited-text forms.

:func:`load_series` turns any file ``midfoot analyse`` accepts into sample times, total
vertical force, centre of pressure, the stance setup and a metadata dict:

- an HDF5 session written by ``midfoot record`` or the live app (:mod:`daq.session`): raw
  counts through the session's calibration (and any calibration events recorded later, e.g.
  a tare) into cell forces, then :func:`daq.calibration.fz_and_cop`;
- text with the header ``t,f0,f1,f2,f3``: time (s) and the four corner forces (N) in the
  channel order and axes of PROTOCOL.md (0 front-left, 1 front-right, 2 back-right,
  3 back-left), on the plate named by ``# plate:`` (default preset otherwise);
- text with the header ``t,ap_mm,ml_mm,fz_n``: time, CoP antero-posterior and
  medio-lateral (mm, plate coordinates) and total force (N).

Text files may start with ``# key: value`` lines carrying ``plate``, ``stance``,
``foot_length_mm``, ``heel_y_mm``, ``stance_width_mm`` and ``body_mass_kg`` (other keys are
kept as metadata); comma, tab or semicolon separated. Options given on the command line
override them. Every problem a person can meet is a one-sentence
:class:`daq.errors.MidfootError`.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from analysis.stance import STANCES, StanceSetup, foot_length_from_shoe_size
from daq.calibration import Calibration, fz_and_cop
from daq.errors import MidfootError
from daq.plate import PlateGeometry, load_plate

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
FORCE_COLUMNS = ("f0", "f1", "f2", "f3")
COP_COLUMNS = ("ap_mm", "ml_mm", "fz_n")
TIME_COLUMNS = ("t", "t_s")
STANCE_KEYS = ("stance", "foot_length_mm", "heel_y_mm", "stance_width_mm")
# The analyser needs its rate probe and a weigh-in: anything shorter is not a recording.
MIN_SAMPLES = 20
_SPLIT = re.compile(r"[,;\t]")


def _number(key: str, value: object, source: str) -> float | None:
    """A metadata value as a finite float, None for blank/NaN (unknown)."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text == "" or text.lower() in ("nan", "none", "null", "unknown"):
            return None
        try:
            number = float(text)
        except ValueError:
            raise MidfootError(
                f"{source}: {key} is {value!r}, not a number; give it in the unit its name "
                "says (e.g. foot_length_mm: 260)"
            ) from None
    else:
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise MidfootError(f"{source}: {key} is {value!r}, not a number") from None
    return None if math.isnan(number) else number


def stance_from_metadata(meta: dict[str, object], source: str) -> StanceSetup:
    """The :class:`StanceSetup` a file's (merged) metadata describes.

    Parameters
    ----------
    meta : dict
        ``stance``, ``foot_length_mm`` (or ``shoe_size_eu``), ``heel_y_mm``,
        ``stance_width_mm``; missing or blank values take the defaults.
    source : str
        Name used in error messages.
    """
    stance = str(meta.get("stance") or "bilateral").strip()
    if stance not in STANCES:
        raise MidfootError(
            f"{source}: stance {stance!r} is not one of {', '.join(STANCES)}; fix the stance "
            "line or pass --stance"
        )
    kwargs: dict[str, object] = {"stance": stance}
    foot = _number("foot_length_mm", meta.get("foot_length_mm"), source)
    shoe = _number("shoe_size_eu", meta.get("shoe_size_eu"), source)
    if foot is None and shoe is not None:
        foot = foot_length_from_shoe_size(shoe)
    if foot is not None:
        kwargs["foot_length_mm"] = foot
    heel = _number("heel_y_mm", meta.get("heel_y_mm"), source)
    if heel is not None:
        kwargs["heel_y_mm"] = heel
    width = _number("stance_width_mm", meta.get("stance_width_mm"), source)
    if width is not None:
        kwargs["stance_width_mm"] = width
    try:
        return StanceSetup(**kwargs)  # type: ignore[arg-type]
    except MidfootError as exc:
        raise MidfootError(f"{source}: {exc}") from None


def _merge(base: dict[str, object], overrides: dict[str, object] | None) -> dict[str, object]:
    merged = dict(base)
    for key, value in (overrides or {}).items():
        if value is not None:
            merged[key] = value
    if (
        overrides
        and overrides.get("shoe_size_eu") is not None
        and (overrides.get("foot_length_mm") is None)
    ):
        merged.pop("foot_length_mm", None)
    return merged


def load_series(
    path: str | Path, overrides: dict[str, object] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, StanceSetup, dict[str, object]]:
    """Load a session or text file as a force and CoP series.

    Parameters
    ----------
    path : str or Path
        An HDF5 session or a delimited text file (see the module docstring).
    overrides : dict, optional
        Values that win over the file's own metadata: ``stance``, ``foot_length_mm``,
        ``shoe_size_eu``, ``heel_y_mm``, ``stance_width_mm``, ``body_mass_kg``, ``plate``.
        None values are ignored.

    Returns
    -------
    t_s : (N,) ndarray
        Sample times in seconds from the first sample.
    fz_n : (N,) ndarray
        Total vertical force, N.
    cop_mm : (N, 2) ndarray
        CoP x (ML) and y (AP), mm; NaN where the force is below the CoP gate.
    stance : StanceSetup
        The stance setup (file metadata, then overrides).
    meta : dict
        ``file``, ``kind`` (``session``, ``forces-csv``, ``cop-csv``), ``rate_hz``,
        ``samples``, ``body_mass_kg`` (float or None), ``stance_changes`` (list of
        (t_s, StanceSetup) from a session's stance events), and any other metadata.

    Raises
    ------
    MidfootError
        Missing, unreadable, empty or malformed file, or bad metadata.
    """
    path = Path(path)
    if not path.exists():
        raise MidfootError(f"{path} does not exist: check the file name")
    if not path.is_file():
        raise MidfootError(f"{path} is not a file: give a session (.h5) or a CSV file")
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise MidfootError(
            f"{path} cannot be read ({exc.strerror}): check its permissions"
        ) from None
    if head == HDF5_SIGNATURE:
        t, fz, cop, meta, changes = _load_session(path, overrides)
    else:
        t, fz, cop, meta = _load_text(path, overrides)
        changes = []
    source = path.name
    stance = stance_from_metadata(meta, source)
    body = _number("body_mass_kg", meta.get("body_mass_kg"), source)
    if body is not None and not 10.0 <= body <= 400.0:
        raise MidfootError(f"{source}: body_mass_kg {body:g} is implausible; give 10-400 kg")
    if t.shape[0] < MIN_SAMPLES:
        raise MidfootError(
            f"{source} holds only {t.shape[0]} samples: record at least a few seconds"
        )
    steps = np.diff(t)
    if np.any(~np.isfinite(t)) or np.any(steps <= 0):
        bad = int(np.argmax(~(steps > 0))) + 2 if steps.size else 1
        raise MidfootError(
            f"{source}: the times do not increase at sample {bad}; sort the samples or remove "
            "repeated ones"
        )
    rate = float((t.shape[0] - 1) / (t[-1] - t[0]))
    meta.update(
        {
            "file": str(path),
            "rate_hz": rate,
            "samples": int(t.shape[0]),
            "body_mass_kg": body,
            "stance_changes": [
                (ts, stance_from_metadata(_merge(meta, {**ch, **(overrides or {})}), source))
                for ts, ch in changes
            ],
        }
    )
    return t, fz, cop, stance, meta


# -- HDF5 sessions ------------------------------------------------------------------------
def _load_session(
    path: Path, overrides: dict[str, object] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, object], list]:
    from daq.session import load_session

    session = load_session(path, swmr=False)
    n = session.counts.shape[0]
    if n == 0:
        raise MidfootError(f"{path.name} is a session without samples: record again")
    cal = session.calibration
    plate_override = (overrides or {}).get("plate")
    if plate_override:
        plate = load_plate(str(plate_override))
        cal = Calibration(
            plate_id=cal.plate_id,
            plate=plate,
            offset_counts=cal.offset_counts,
            gain_n_per_count=cal.gain_n_per_count,
            calibrated=cal.calibrated,
        )
    # A calibration event (e.g. a tare during the session) applies from its sample on.
    pieces: list[tuple[int, Calibration]] = [(0, cal)]
    changes: list[tuple[float, dict[str, object]]] = []
    for event in session.events:
        kind = event.get("kind")
        index = int(event.get("sample_index", 0) or 0)
        if kind == "calibration" and isinstance(event.get("calibration"), dict):
            try:
                new = Calibration.from_dict(event["calibration"])
            except (KeyError, ValueError, TypeError, MidfootError):
                continue
            if plate_override:
                new = Calibration(new.plate_id, cal.plate, new.offset_counts, new.gain_n_per_count)
            pieces.append((min(max(index, 0), n), new))
        elif kind == "stance" and event.get("stance") in STANCES and 0 < index < n:
            fields = {k: event[k] for k in STANCE_KEYS if k in event}
            changes.append((float(session.t_s[index]), fields))
    pieces.sort(key=lambda p: p[0])
    force = np.zeros((n, cal.plate.n_channels))
    for k, (start, c) in enumerate(pieces):
        stop = pieces[k + 1][0] if k + 1 < len(pieces) else n
        if stop > start:
            force[start:stop] = c.forces_n(session.counts[start:stop])
    fz, cop = fz_and_cop(force, cal.plate.cells_mm)
    meta: dict[str, object] = {
        k: v for k, v in session.attrs.items() if k not in ("calibration_json", "plate_json")
    }
    meta["kind"] = "session"
    meta["plate"] = cal.plate.name
    merged = _merge(meta, overrides)
    merged["kind"] = "session"
    t = session.t_s - session.t_s[0]
    return t, fz, cop, merged, changes


# -- delimited text -----------------------------------------------------------------------
def _load_text(
    path: Path, overrides: dict[str, object] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, object]]:
    source = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise MidfootError(
            f"{source} is neither an HDF5 session nor a text file: give a .h5 recording or a "
            "CSV with the header t,f0,f1,f2,f3 or t,ap_mm,ml_mm,fz_n"
        ) from None
    except OSError as exc:
        raise MidfootError(
            f"{source} cannot be read ({exc.strerror}): check its permissions"
        ) from None
    lines = text.splitlines()
    meta: dict[str, object] = {}
    i = 0
    while i < len(lines) and (lines[i].lstrip().startswith("#") or not lines[i].strip()):
        key, sep, value = lines[i].lstrip().lstrip("#").partition(":")
        if not sep:
            key, sep, value = lines[i].lstrip().lstrip("#").partition("=")
        if sep and key.strip():
            meta[key.strip().lower()] = value.strip()
        i += 1
    if i == len(lines):
        raise MidfootError(
            f"{source} has no samples: it needs a header line (t,f0,f1,f2,f3 or "
            "t,ap_mm,ml_mm,fz_n) and one sample per line"
        )
    names = [n.strip().lower() for n in _SPLIT.split(lines[i])]
    delimiter = next((d for d in (",", "\t", ";") if d in lines[i]), ",")
    rows = [line for line in lines[i + 1 :] if line.strip() and not line.lstrip().startswith("#")]
    time_names = [n for n in names if n in TIME_COLUMNS]
    if len(time_names) != 1:
        raise MidfootError(
            f"{source} has the header {lines[i][:60]!r}, which names no time column: use "
            "t,f0,f1,f2,f3 (forces, N) or t,ap_mm,ml_mm,fz_n (CoP)"
        )
    if all(c in names for c in FORCE_COLUMNS):
        kind = "forces-csv"
    elif all(c in names for c in COP_COLUMNS):
        kind = "cop-csv"
    elif all(c in names for c in COP_COLUMNS[:2]):
        raise MidfootError(
            f"{source} has CoP columns but no fz_n: the hinge analysis needs the total force, "
            "so export t,ap_mm,ml_mm,fz_n"
        )
    else:
        raise MidfootError(
            f"{source} has the header {lines[i][:60]!r}, which is neither t,f0,f1,f2,f3 nor "
            "t,ap_mm,ml_mm,fz_n"
        )
    if not rows:
        raise MidfootError(f"{source} has a header but no samples: export the recording again")
    table = _numeric_table(source, names, rows, delimiter, first_line=i + 2)
    t = table[:, names.index(time_names[0])]
    merged = _merge(meta, overrides)
    merged["kind"] = kind
    if kind == "forces-csv":
        plate_name = str(merged.get("plate") or "").strip()
        plate = _plate(plate_name, source)
        if plate.n_channels != 4:
            raise MidfootError(
                f"{source}: plate {plate.name!r} has {plate.n_channels} cells, but the file gives "
                "four forces f0..f3"
            )
        forces = np.column_stack([table[:, names.index(c)] for c in FORCE_COLUMNS])
        fz, cop = fz_and_cop(forces, plate.cells_mm)
        merged["plate"] = plate.name
    else:
        fz = table[:, names.index("fz_n")]
        cop = np.column_stack(
            [table[:, names.index("ml_mm")], table[:, names.index("ap_mm")]]
        ).astype(float)
        cop[~(fz >= 20.0)] = np.nan
    return t - t[0], fz, cop, merged


def _plate(name: str, source: str) -> PlateGeometry:
    try:
        return load_plate(name) if name else load_plate()
    except MidfootError as exc:
        raise MidfootError(f"{source}: {exc}") from None


def _numeric_table(
    source: str, names: list[str], rows: list[str], delimiter: str, first_line: int
) -> np.ndarray:
    """Parse data lines into (N, len(names)) floats, naming the first bad line."""
    try:
        table = np.loadtxt(rows, delimiter=delimiter, ndmin=2, dtype=float)
    except ValueError:
        table = None
    if table is not None and table.shape[1] == len(names) and np.all(np.isfinite(table[:, 0])):
        return table
    for offset, line in enumerate(rows):
        cells = [c.strip() for c in line.split(delimiter)]
        number = first_line + offset
        if len(cells) != len(names):
            raise MidfootError(
                f"line {number} of {source} has {len(cells)} values but the header names "
                f"{len(names)}; fix or remove that line"
            )
        for name, cell in zip(names, cells, strict=True):
            try:
                value = float(cell)
            except ValueError:
                raise MidfootError(
                    f"line {number} of {source} has {cell!r} in column {name}, not a number; "
                    "fix or remove that line"
                ) from None
            if name in TIME_COLUMNS and not math.isfinite(value):
                raise MidfootError(f"line {number} of {source} has no valid time; fix that line")
    raise MidfootError(f"{source} could not be read as numbers: check its separators")
