"""`midfoot export`: a recording as C3D (force platform, rep events) and/or CSV for lab tools.

    midfoot export session.h5 --c3d session.c3d
    midfoot export session.h5 --csv session.csv --reps      # also session_reps.csv

Formats and conventions: docs/interop.md. The input is a midfoot session (.h5), a midfoot
samples CSV or a C3D trial.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

from analysis.report import analyse_file
from analysis.reps import Rep
from daq.c3d import FORWARD_AXES, looks_like_c3d, read_c3d_recording, write_c3d
from daq.calibration import fz_and_cop
from daq.errors import MidfootError
from daq.events import event_from_json, with_time
from daq.export_csv import read_samples_csv, write_reps_csv, write_samples_csv
from daq.series import PlateSeries, SeriesMeta, glitch_free
from daq.session import load_session
from gui.cli import CommandParser

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _session_series(path: Path) -> PlateSeries:
    """An HDF5 session as a calibrated series, with its stance events.

    Only the session's starting calibration is applied (a tare recorded later is not).
    """
    # TODO(lead): replace with daq.reader.read_recording
    session = load_session(path)
    force = session.forces_n()
    fz, cop = fz_and_cop(force, session.calibration.plate.cells_mm)
    events = []
    n = session.t_s.shape[0]
    for raw in session.events:
        event = event_from_json(json.dumps(raw, default=str))
        if event is not None and 0 <= event.sample_index <= n:
            t = session.t_s[min(event.sample_index, n - 1)] if n else 0.0
            events.append(with_time(event, float(t)))
    attrs = session.attrs

    def number(key: str) -> float | None:
        try:
            value = float(attrs.get(key))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
        return value if math.isfinite(value) else None

    info = session.infos[-1] if session.infos else {}
    rate = number("rate_hz") or float(info.get("rate_hz", "nan") or "nan")
    stance = str(attrs.get("stance") or "") or None
    foot = {
        k: v
        for k in ("foot_length_mm", "heel_y_mm", "stance_width_mm")
        if (v := number(k)) is not None
    }
    meta = SeriesMeta(
        source=str(path),
        kind="session",
        plate=session.calibration.plate,
        calibration=session.calibration,
        calibrated=session.calibration.calibrated,
        nominal_rate_hz=rate,
        athlete=str(attrs.get("athlete") or ""),
        created_utc=str(attrs.get("created_utc") or ""),
        stance=stance,
        foot=foot,
        body_mass_kg=number("body_mass_kg"),
        plate_id=session.calibration.plate_id,
    )
    return PlateSeries(
        t_s=session.t_s,
        fz_n=fz,
        cop_mm=cop,
        force_n=force,
        valid=glitch_free(session.counts),
        host_t_s=session.host_t_s,
        counts=session.counts,
        events=tuple(sorted(events, key=lambda e: e.t_s)),
        meta=meta,
    )


def read_series(path: Path, forward: str = "+y") -> PlateSeries:
    """The recording at ``path`` as one series (session, samples CSV or C3D)."""
    try:
        with open(path, "rb") as f:
            head = f.read(1024)
    except OSError:
        raise MidfootError(f"{path} does not exist or cannot be read: check the name") from None
    if head.startswith(HDF5_SIGNATURE):
        return _session_series(path)
    if looks_like_c3d(head):
        return read_c3d_recording(path, forward=forward)
    return read_samples_csv(path)


def rep_events(reps: list[Rep]) -> list[tuple[str, str, float]]:
    """C3D events of reps: start, bottom and lockout, and each fault at its lockout."""
    out: list[tuple[str, str, float]] = []
    for rep in reps:
        out += [
            ("Rep start", "General", rep.start_s),
            ("Rep bottom", "General", rep.bottom_s),
            ("Rep lockout", "General", rep.lockout_s),
        ]
        out += [(f"Fault {name}", "General", rep.lockout_s) for name in rep.fault_names]
    return [e for e in out if np.isfinite(e[2])]


def _check_output(path: Path, source: Path, overwrite: bool) -> None:
    if path.resolve() == source.resolve():
        raise MidfootError(f"{path} is the recording itself: give the export another name")
    if path.exists() and not overwrite:
        raise MidfootError(f"{path} already exists: give another name or add --overwrite")


def run(argv: list[str]) -> int:
    """`midfoot export FILE --c3d OUT.c3d | --csv OUT.csv [--reps]`."""
    parser = CommandParser(
        prog="midfoot export",
        description="Export a recording for lab tools: C3D with a force platform and rep "
        "events, CSV of calibrated samples, and the rep table (docs/interop.md).",
    )
    parser.add_argument("file", type=Path, help="a session (.h5), samples CSV or C3D trial")
    parser.add_argument("--c3d", type=Path, help="write a C3D file (one type 2 force platform)")
    parser.add_argument("--csv", type=Path, help="write the calibrated samples as CSV")
    parser.add_argument(
        "--reps",
        action="store_true",
        help="also write the rep table, as OUT_reps.csv beside the --csv (or --c3d) file",
    )
    parser.add_argument(
        "--forward",
        choices=FORWARD_AXES,
        default="+y",
        help="C3D input: the lab axis the person faces (default +y)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    args = parser.parse_args(argv)
    if args.c3d is None and args.csv is None:
        parser.error("give --c3d OUT.c3d, --csv OUT.csv or both")
    outputs = [p for p in (args.c3d, args.csv) if p is not None]
    reps_path = None
    if args.reps:
        base = args.csv or args.c3d
        reps_path = base.with_name(f"{base.stem}_reps.csv")
        outputs.append(reps_path)
    for out in outputs:
        _check_output(out, args.file, args.overwrite)

    series = read_series(args.file, args.forward)
    reps: list[Rep] = []
    report = None
    if args.c3d is not None or reps_path is not None:
        try:
            report = analyse_file(args.file)
            reps = report.reps
        except MidfootError as exc:
            if reps_path is not None:
                raise
            print(f"midfoot export: no rep events in the C3D ({exc})", file=sys.stderr)
    written = []
    if args.csv is not None:
        written.append(write_samples_csv(series, args.csv))
    if args.c3d is not None:
        written.append(write_c3d(series, args.c3d, rep_events(reps)))
    if reps_path is not None and report is not None:
        rows = [{"file": str(args.file), **rep.to_dict()} for rep in reps]
        written.append(write_reps_csv(rows, reps_path))
    for path in written:
        print(f"wrote {path}")
    return 0
