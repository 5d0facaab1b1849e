"""C3D force-plate files: midfoot recordings out, lab force plates (types 2 and 4) in.

Conventions (docs/interop.md states them for users):

- **Lab frame of a midfoot export** = the plate frame of PROTOCOL.md: origin at the centre
  of the plate's top surface, +x to the person's right, +y forward, +z up, millimetres.
- **Force platform** (type 2): six analog channels Fx, Fy, Fz (N), Mx, My, Mz (N mm) in the
  plate's own frame, whose z axis points *down* into the plate (the C3D habit, read off
  CORNERS: x = corner1 - corner2, y = corner1 - corner4, z = x cross y). midfoot writes the
  ground reaction force, the force on the person: in the lab frame it points up, so the Fz
  channel is *negative* under load (as Vicon/AMTI files are). Fx = Fy = 0 (four vertical
  load cells measure no shear) and the moments are about the centre of the top surface, so
  ORIGIN = (0, 0, 0). The cells' own forces follow as extra analog channels ``Cell0`` ...,
  and a ``MIDFOOT`` parameter group holds the cell layout, stance and athlete.
- **ORIGIN** is read as ezc3d and BTK read it: the vector from the sensor origin to the
  centre of the working surface in plate coordinates, made z <= 0 by negating it when its
  z is positive; moments about the surface centre are M + F x ORIGIN.
- **CoP** about the surface centre, in plate coordinates: (-My/Fz, Mx/Fz), then into the lab
  frame with the corners; NaN where the vertical force is below ``gate_n``.
- **Reading a lab file**: the lab's +z must be vertical (up); which horizontal lab axis is
  the person's forward is the caller's ``forward`` ("+y" by default, "+x" for the usual gait
  lab), and "right" is forward x up. Each plate's CoP is given about its own centre
  (``meta.extra["centre_mm"]`` holds where that centre is in the mapped lab frame). The
  vertical force is made positive under load whichever sign the file uses.

Opening an untrusted C3D is done in a child process with a time and memory limit: the C3D
library aborts, hangs or crashes on some damaged files (measured: see tests/test_c3d.py),
and none of that may take midfoot down with it.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from daq.calibration import DEFAULT_COP_GATE_N
from daq.errors import MidfootError
from daq.events import STANCES, StanceChanged, _Event, register_event
from daq.plate import PlateGeometry, load_plate
from daq.series import PlateSeries, SeriesMeta

INSTALL_HINT = "install the lab extras with `pip install 'midfoot[interop]'`"
C3D_PARAMETER_KEY = 0x50  # byte 2 of every C3D file
SUPPORTED_TYPES = (2, 4)
# The C3D header counts frames in 16 bits (ezc3d writes no longer form), so a long
# recording is stored as fewer frames of several analog samples each.
MAX_FRAMES = 65535
# Gaps between valid samples up to this long are bridged by linear interpolation (a C3D is
# uniformly sampled); longer ones are written as zero force between "Gap" events.
MAX_FILL_S = 0.25
MAX_PLATES = 4
LENGTH_TO_MM = {"mm": 1.0, "cm": 10.0, "dm": 100.0, "m": 1000.0}
FORWARD_AXES = ("+y", "-y", "+x", "-x")
# The child that opens an untrusted file: this much time, plus this much per MB of file;
# this much memory, plus this much per byte (ezc3d holds every analog value as an object).
CHILD_BASE_TIMEOUT_S = 20.0
CHILD_TIMEOUT_S_PER_MB = 0.5
CHILD_BASE_MEMORY_BYTES = 1 << 30
CHILD_MEMORY_PER_FILE_BYTE = 40
CHILD_MAX_MEMORY_BYTES = 12 << 30
MAX_FILE_BYTES = 1 << 30


@register_event
@dataclass(frozen=True)
class LabEvent(_Event):
    """An event of a C3D file: its ``label`` and ``context`` (``General``, ``Left``, ...)."""

    label: str
    context: str = ""
    KIND = "c3d-event"


def _require_ezc3d():
    try:
        import ezc3d
    except ImportError:
        raise MidfootError(f"C3D files need the ezc3d package: {INSTALL_HINT}") from None
    return ezc3d


def looks_like_c3d(head: bytes) -> bool:
    """Whether ``head`` (a file's first bytes) starts like a C3D file."""
    return len(head) >= 2 and head[1] == C3D_PARAMETER_KEY and 1 <= head[0] <= 127


# -- writing -------------------------------------------------------------------------------
def _analogs_per_frame(n_samples: int, rate_hz: float) -> int:
    """Analog samples per C3D frame: few enough frames for the header, a round point rate."""
    k_min = max(1, math.ceil(n_samples / MAX_FRAMES))
    for k in range(k_min, 4 * k_min + 1):
        point_rate = rate_hz / k
        if abs(point_rate - round(point_rate)) < 1e-9:
            return k
    return k_min


def _on_grid(series: PlateSeries, rate_hz: float) -> tuple[np.ndarray, dict, list]:
    """The series resampled onto a uniform grid: times, columns, and gap (t0, t1) pairs."""
    good = series.valid & np.isfinite(series.fz_n) & np.isfinite(series.t_s)
    if series.n_cells:
        good &= np.all(np.isfinite(series.force_n), axis=1)
    t = series.t_s[good]
    if t.shape[0] < 2:
        raise MidfootError(
            "the recording has fewer than two valid samples: there is nothing to export"
        )
    n = int(math.floor((t[-1] - t[0]) * rate_hz + 1e-6)) + 1
    grid = t[0] + np.arange(n) / rate_hz
    cells = series.force_n[good]
    if series.n_cells and series.meta.plate is not None:
        moment = cells @ series.meta.plate.cells_mm
        fz = cells.sum(axis=1)
    else:
        fz = series.fz_n[good]
        moment = np.nan_to_num(series.cop_mm[good]) * fz[:, None]
    columns = {
        "fz": np.interp(grid, t, fz),
        "fx_mm": np.interp(grid, t, moment[:, 0]),
        "fy_mm": np.interp(grid, t, moment[:, 1]),
        "cells": np.column_stack([np.interp(grid, t, c) for c in cells.T])
        if series.n_cells
        else np.zeros((n, 0)),
    }
    gaps = []
    steps = np.diff(t)
    for i in np.flatnonzero(steps > MAX_FILL_S):
        t0, t1 = float(t[i]), float(t[i + 1])
        inside = (grid > t0) & (grid < t1)
        for key in columns:
            columns[key][inside] = 0.0
        gaps.append((t0, t1))
    return grid, columns, gaps


def _corners_lab_mm(plate: PlateGeometry) -> np.ndarray:
    """(4, 3) corners in the C3D order for a plate frame with z down, x right, y back."""
    w, d = plate.width_mm / 2.0, plate.depth_mm / 2.0
    return np.array([[w, -d, 0.0], [-w, -d, 0.0], [-w, d, 0.0], [w, d, 0.0]])


def write_c3d(
    series: PlateSeries,
    path: str | Path,
    events: Sequence[tuple[str, str, float]] = (),
    *,
    plate: PlateGeometry | None = None,
    rate_hz: float | None = None,
) -> Path:
    """Write ``series`` as a C3D file with one type 2 force platform.

    Parameters
    ----------
    series : PlateSeries
        Calibrated samples (cell forces when it has them, else total force and CoP).
    path : str or Path
        The .c3d file to create (replaced if it exists).
    events : sequence of (label, context, t_s)
        C3D events at series times ``t_s`` (e.g. ``("Rep start", "General", 12.3)``);
        the series' own stance changes are added as ``Stance <name>`` events.
    plate : PlateGeometry, optional
        The plate (width and depth give CORNERS); default the series', else the default
        preset.
    rate_hz : float, optional
        Analog rate; default the plate's nominal rate, else the series' measured rate.
        Samples are placed on that uniform grid by linear interpolation of the forces.

    Returns
    -------
    Path
        ``path``.
    """
    ezc3d = _require_ezc3d()
    path = Path(path)
    if path.suffix.lower() != ".c3d":
        raise MidfootError(f"{path} does not end in .c3d: give the C3D file a .c3d name")
    geometry = plate or series.meta.plate or load_plate()
    rate = rate_hz or series.meta.nominal_rate_hz
    if not rate or not math.isfinite(rate):
        rate = series.rate_hz
    if not rate or not math.isfinite(rate) or rate <= 0:
        raise MidfootError("the recording has no sample rate: it needs two samples at least")
    if series.n_cells and series.n_cells != geometry.n_channels:
        raise MidfootError(
            f"the recording has {series.n_cells} cells but plate {geometry.name!r} has "
            f"{geometry.n_channels}: give the plate it was recorded on"
        )
    series = (
        series
        if series.meta.plate is not None
        else replace(series, meta=replace(series.meta, plate=geometry))
    )
    grid, col, gaps = _on_grid(series, float(rate))
    n = grid.shape[0]
    k = _analogs_per_frame(n, float(rate))
    frames = math.ceil(n / k)
    pad = frames * k - n

    def padded(x: np.ndarray) -> np.ndarray:
        return np.concatenate([x, np.repeat(x[-1:], pad, axis=0)]) if pad else x

    fz = padded(col["fz"])
    # Ground reaction force in the plate frame (z down): Fz < 0 under load; moments about
    # the surface centre of a vertical force at (x, -y) in that frame.
    channels = [
        np.zeros_like(fz),
        np.zeros_like(fz),
        -fz,
        padded(col["fy_mm"]),
        padded(col["fx_mm"]),
    ]
    channels.append(np.zeros_like(fz))
    labels = ["Fx1", "Fy1", "Fz1", "Mx1", "My1", "Mz1"]
    units = ["N", "N", "N", "Nmm", "Nmm", "Nmm"]
    descriptions = [f"force plate 1 {name[:2]}, plate frame (z down)" for name in labels]
    cells = col["cells"]
    for i in range(cells.shape[1]):
        channels.append(padded(cells[:, i]))
        labels.append(f"Cell{i}")
        units.append("N")
        descriptions.append(f"midfoot load cell {i} (PROTOCOL.md channel order)")
    analogs = np.vstack(channels)[None, :, :]

    with np.errstate(invalid="ignore", divide="ignore"):
        cop_x = col["fx_mm"] / col["fz"]
        cop_y = col["fy_mm"] / col["fz"]
    gated = ~(col["fz"] >= DEFAULT_COP_GATE_N)
    cop_x[gated] = np.nan
    cop_y[gated] = np.nan
    first = np.arange(frames) * k
    first = np.minimum(first, n - 1)
    points = np.zeros((4, 1, frames))
    points[0, 0] = cop_x[first]
    points[1, 0] = cop_y[first]
    points[3, 0] = 1.0
    points[:3, 0, np.isnan(points[0, 0])] = np.nan

    c = ezc3d.c3d()
    c["parameters"]["POINT"]["RATE"]["value"] = [rate / k]
    c["parameters"]["POINT"]["LABELS"]["value"] = ("COP",)
    c["parameters"]["POINT"]["DESCRIPTIONS"]["value"] = ("midfoot centre of pressure (z = 0)",)
    c["parameters"]["POINT"]["UNITS"]["value"] = ("mm",)
    c["data"]["points"] = points
    c["parameters"]["ANALOG"]["RATE"]["value"] = [float(rate)]
    c["parameters"]["ANALOG"]["LABELS"]["value"] = tuple(labels)
    c["parameters"]["ANALOG"]["DESCRIPTIONS"]["value"] = tuple(descriptions)
    c["parameters"]["ANALOG"]["UNITS"]["value"] = tuple(units)
    c["data"]["analogs"] = analogs
    # Assigning the values of ezc3d's own parameters keeps their C3D types (TYPE, USED and
    # CHANNEL must be integers for every reader); add_parameter would store floats.
    params = c["parameters"]
    params["ANALOG"]["SCALE"]["value"] = np.ones(len(labels))
    params["ANALOG"]["OFFSET"]["value"] = np.zeros(len(labels), dtype=np.int64)
    params["ANALOG"]["GEN_SCALE"]["value"] = np.array([1.0])
    plates = params["FORCE_PLATFORM"]
    plates["USED"]["value"] = np.array([1])
    plates["TYPE"]["value"] = np.array([2])
    plates["ZERO"]["value"] = np.array([0, 0])
    plates["CORNERS"]["value"] = _corners_lab_mm(geometry).T[:, :, None].copy()
    plates["ORIGIN"]["value"] = np.zeros((3, 1))
    plates["CHANNEL"]["value"] = np.arange(1, 7)[:, None]

    t0 = float(grid[0])
    midfoot: dict[str, object] = {
        "VERSION": 1.0,
        "SAMPLES": float(n),
        "T0_S": t0,
        "PLATE": geometry.name,
        "CELLS_MM": geometry.cells_mm.T.astype(float),
        "PLATE_SIZE_MM": [geometry.width_mm, geometry.depth_mm],
        "ATHLETE": series.meta.athlete,
        "STANCE": series.meta.stance or "",
        "PLATE_ID": series.meta.plate_id,
    }
    for key, value in series.meta.foot.items():
        if value is not None and math.isfinite(value):
            midfoot[key.upper()] = [float(value)]
    if series.meta.body_mass_kg:
        midfoot["BODY_MASS_KG"] = [float(series.meta.body_mass_kg)]
    for key, value in midfoot.items():
        if isinstance(value, str):
            if value:
                c.add_parameter("MIDFOOT", key, (value,))
        else:
            c.add_parameter("MIDFOOT", key, value)

    all_events = list(events)
    for e in series.events:
        if isinstance(e, StanceChanged) and math.isfinite(e.t_s):
            all_events.append((f"Stance {e.stance}", "General", e.t_s))
    for g0, g1 in gaps:
        all_events += [("Gap start", "General", g0), ("Gap end", "General", g1)]
    all_events.sort(key=lambda e: e[2])
    for label, context, t_s in all_events:
        rel = float(t_s) - t0
        if not math.isfinite(rel):
            continue
        minutes = math.floor(max(rel, 0.0) / 60.0)
        c.add_event([float(minutes), max(rel, 0.0) - 60.0 * minutes], context or "General", label)

    tmp = path.with_name(path.name + ".part.c3d")
    why = ""
    try:
        c.write(str(tmp))
        # ezc3d reports no write error (a missing folder, a full disk): check the file.
        with open(tmp, "rb") as f:
            head = f.read(1024)
        # Samples alone: frames x (one point of 4 floats + every analog sample), 4 bytes each.
        data_bytes = frames * (4 + len(labels) * k) * 4
        if not looks_like_c3d(head) or tmp.stat().st_size < data_bytes + 1024:
            why = "the file came out incomplete"
        else:
            os.replace(tmp, path)
            return path
    except (OSError, RuntimeError) as exc:
        why = getattr(exc, "strerror", None) or str(exc)
    tmp.unlink(missing_ok=True)
    raise MidfootError(
        f"could not write {path} ({why}): check that the folder exists, is writable and the "
        "disk has room"
    )


# -- reading -------------------------------------------------------------------------------
# Runs in a child interpreter (argv: c3d path, output .npz path). It only asks ezc3d for the
# raw analog table and the parameter groups midfoot reads; everything else is computed in
# the parent with numpy, where a bad value is an error message rather than a crash.
_CHILD = r"""
import json, resource, sys
path, out, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
# Limits first (set here, not in a preexec_fn, which is unsafe in a threaded parent).
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
import numpy as np
import ezc3d
try:
    c = ezc3d.c3d(path)
except Exception as exc:
    print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
    sys.exit(3)
groups = {}
for g in ("ANALOG", "POINT", "FORCE_PLATFORM", "EVENT", "MIDFOOT"):
    if g not in c["parameters"]:
        continue
    params = {}
    for name, p in c["parameters"][g].items():
        if name.startswith("__") or not isinstance(p, dict) or "value" not in p:
            continue
        v = p["value"]
        if isinstance(v, np.ndarray):
            flat = v.astype(float).ravel(order="F").tolist()
            params[name] = {"shape": list(v.shape), "value": flat}
        else:
            params[name] = {"text": [str(s) for s in v]}
    groups[g] = params
analogs = np.asarray(c["data"]["analogs"], dtype=np.float64)
header = c["header"]["analogs"]
np.savez(out, analogs=analogs, rate=float(header["frame_rate"]),
         groups=np.frombuffer(json.dumps(groups).encode(), dtype=np.uint8))
"""


def _open_in_child(path: Path, timeout_s: float | None) -> tuple[np.ndarray, float, dict]:
    size = path.stat().st_size
    timeout = timeout_s or CHILD_BASE_TIMEOUT_S + CHILD_TIMEOUT_S_PER_MB * size / 1e6
    memory = min(
        CHILD_BASE_MEMORY_BYTES + CHILD_MEMORY_PER_FILE_BYTE * size, CHILD_MAX_MEMORY_BYTES
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["OPENBLAS_NUM_THREADS"] = "1"
    env["OMP_NUM_THREADS"] = "1"
    with tempfile.TemporaryDirectory(prefix="midfoot-c3d-") as tmp:
        out = Path(tmp) / "c3d.npz"
        try:
            proc = subprocess.run(
                [sys.executable, "-I", "-c", _CHILD, str(path), str(out), str(memory)],
                capture_output=True,
                timeout=timeout,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise MidfootError(
                f"{path.name} took more than {timeout:.0f} s to open: it is damaged or not a "
                "C3D file; export it again from the lab software"
            ) from None
        if proc.returncode != 0 or not out.exists():
            why = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            last = why[-1][:160] if why else ""
            if "No module named 'ezc3d'" in last:
                raise MidfootError(f"C3D files need the ezc3d package: {INSTALL_HINT}")
            if proc.returncode < 0 or not last:
                detail = "the C3D library crashed on it"
            elif "MemoryError" in last or "bad_alloc" in last:
                detail = "it asks for more memory than a recording can need"
            else:
                first = last.split(": ", 1)[-1].split(". ")[0].replace(": iostream error", "")
                detail = f"ezc3d says: {first.rstrip('.')}"
            raise MidfootError(
                f"{path.name} is damaged or not a C3D file ({detail}); export it again from "
                "the lab software"
            )
        with np.load(out, allow_pickle=False) as z:
            analogs = z["analogs"]
            rate = float(z["rate"])
            groups = json.loads(z["groups"].tobytes().decode())
    return analogs, rate, groups


def _short_by_bytes(head: bytes, size: int) -> int:
    """How many bytes an Intel-format C3D is shorter than its header announces (0 if none).

    ezc3d reads a cut-short file without complaint and shrinks its frame count to what it
    found, so this is checked from the raw header. Files of other processor formats (DEC,
    MIPS) and frame counts past the header's 16 bits are left unchecked.
    """
    if len(head) < 516 or head[512 + 3] != 84:  # 84: Intel byte order
        return 0
    points, analog_per_frame, first, last = (int(v) for v in np.frombuffer(head[2:10], dtype="<u2"))
    scale = float(np.frombuffer(head[12:16], dtype="<f4")[0])
    data_start = int(np.frombuffer(head[16:18], dtype="<u2")[0])
    frames = last - first + 1
    if frames <= 0 or last >= MAX_FRAMES or data_start < 2 or not math.isfinite(scale):
        return 0
    word = 4 if scale < 0 else 2
    need = (data_start - 1) * 512 + frames * (4 * points + analog_per_frame) * word
    return max(0, need - size)


class _Params:
    """Typed access to the parameter groups the child returned; errors name the file."""

    def __init__(self, groups: dict, name: str) -> None:
        self.groups = groups
        self.name = name

    def fail(self, what: str) -> MidfootError:
        return MidfootError(
            f"{self.name} {what}; export it again from the lab software with its force platforms"
        )

    def has(self, group: str, param: str) -> bool:
        return param in self.groups.get(group, {})

    def numbers(self, group: str, param: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
        entry = self.groups.get(group, {}).get(param)
        if entry is None or "value" not in entry:
            raise self.fail(f"has no {group}:{param} parameter")
        values = np.asarray(entry["value"], dtype=np.float64)
        dims = tuple(int(d) for d in entry["shape"])
        if not np.all(np.isfinite(values)):
            raise self.fail(f"has a {group}:{param} value that is not a number")
        if shape is None:
            return values
        need = int(np.prod(shape))
        if values.size < need:
            raise self.fail(f"has {values.size} values in {group}:{param} where {need} are needed")
        if len(dims) == len(shape) and all(a >= b for a, b in zip(dims, shape, strict=True)):
            full = values.reshape(dims, order="F")
            return full[tuple(slice(0, s) for s in shape)]
        return values[:need].reshape(shape, order="F")

    def text(self, group: str, param: str) -> list[str]:
        entry = self.groups.get(group, {}).get(param)
        if entry is None:
            return []
        if "text" in entry:
            return [s.strip() for s in entry["text"]]
        return [str(v) for v in entry.get("value", [])]


def _frame_of(corners: np.ndarray) -> np.ndarray:
    """(3, 3) rotation whose columns are the plate's x, y, z axes in the lab frame."""
    ax = corners[0] - corners[1]
    ay = corners[0] - corners[3]
    az = np.cross(ax, ay)
    ay = np.cross(az, ax)
    norms = np.array([np.linalg.norm(ax), np.linalg.norm(ay), np.linalg.norm(az)])
    if not np.all(norms > 1e-9):
        raise ValueError("degenerate corners")
    return np.column_stack([ax / norms[0], ay / norms[1], az / norms[2]])


def _horizontal(forward: str) -> np.ndarray:
    """(2, 2) map from lab (x, y) to (ML right, AP forward) for a vertical lab z."""
    return {
        "+y": np.array([[1.0, 0.0], [0.0, 1.0]]),
        "-y": np.array([[-1.0, 0.0], [0.0, -1.0]]),
        "+x": np.array([[0.0, -1.0], [1.0, 0.0]]),
        "-x": np.array([[0.0, 1.0], [-1.0, 0.0]]),
    }[forward]


def _midfoot_meta(p: _Params) -> dict[str, object]:
    if "MIDFOOT" not in p.groups:
        return {}
    out: dict[str, object] = {}
    try:
        cells = p.numbers("MIDFOOT", "CELLS_MM")
        size = p.numbers("MIDFOOT", "PLATE_SIZE_MM", (2,))
        cells = cells.reshape(2, -1, order="F").T
        if 1 <= cells.shape[0] <= 8 and np.all(size > 0):
            names = p.text("MIDFOOT", "PLATE")
            out["plate"] = PlateGeometry(
                name=names[0] if names else "from-c3d",
                cells_mm=cells,
                width_mm=float(size[0]),
                depth_mm=float(size[1]),
            )
        out["samples"] = int(p.numbers("MIDFOOT", "SAMPLES", (1,))[0])
        out["t0_s"] = float(p.numbers("MIDFOOT", "T0_S", (1,))[0])
    except (MidfootError, ValueError):
        return {}
    for key in ("ATHLETE", "STANCE", "PLATE_ID"):
        values = p.text("MIDFOOT", key)
        out[key.lower()] = values[0] if values else ""
    foot = {}
    for key in ("FOOT_LENGTH_MM", "HEEL_Y_MM", "STANCE_WIDTH_MM", "BODY_MASS_KG"):
        if p.has("MIDFOOT", key):
            try:
                foot[key.lower()] = float(p.numbers("MIDFOOT", key, (1,))[0])
            except MidfootError:
                continue
    out["foot"] = foot
    return out


def _events(p: _Params, t0_s: float) -> tuple[LabEvent, ...]:
    if "EVENT" not in p.groups or not p.has("EVENT", "TIMES"):
        return ()
    labels = p.text("EVENT", "LABELS")
    contexts = p.text("EVENT", "CONTEXTS")
    try:
        times = p.numbers("EVENT", "TIMES", (2, len(labels)))
    except MidfootError:
        return ()
    events = []
    for i, label in enumerate(labels):
        t_s = 60.0 * times[0, i] + times[1, i] + t0_s
        if math.isfinite(t_s):
            context = contexts[i] if i < len(contexts) else ""
            events.append(LabEvent(label=label, context=context, t_s=float(t_s)))
    events.sort(key=lambda e: e.t_s)
    return tuple(events)


def read_c3d(
    path: str | Path,
    *,
    forward: str = "+y",
    gate_n: float = DEFAULT_COP_GATE_N,
    timeout_s: float | None = None,
) -> list[PlateSeries]:
    """Every force platform of a C3D file (types 2 and 4) as one series each.

    Parameters
    ----------
    path : str or Path
        The C3D file (midfoot's export or a lab's AMTI, Kistler or Bertec recording).
    forward : {"+y", "-y", "+x", "-x"}
        The lab axis the person faces (the module docstring); midfoot's own files use +y.
    gate_n : float
        Below this vertical force the CoP is NaN.
    timeout_s : float, optional
        Time limit for opening the file (default grows with its size).

    Returns
    -------
    list of PlateSeries
        One per platform, in FORCE_PLATFORM order, at the analog rate: ``fz_n`` positive
        under load, ``cop_mm`` about the plate's centre in the mapped lab axes, cell forces
        for a midfoot export (else no cells), the file's events as :class:`LabEvent`.
        ``meta.extra`` holds ``plate_index``, ``plate_type``, ``corners_mm``,
        ``centre_mm``, ``origin_mm``, ``forward`` and ``fz_sign``.

    Raises
    ------
    MidfootError
        One sentence for a missing, truncated, random or damaged file, missing groups,
        plates of other types, and channel or corner tables that do not fit.
    """
    if forward not in FORWARD_AXES:
        raise MidfootError(f"forward must be one of {', '.join(FORWARD_AXES)}, not {forward!r}")
    path = Path(path)
    name = path.name
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(1024)
    except OSError:
        raise MidfootError(f"{path} does not exist or cannot be read: check the name") from None
    if size > MAX_FILE_BYTES:
        raise MidfootError(f"{name} is {size / 1e9:.1f} GB, more than a force-plate trial")
    if len(head) < 512 or not looks_like_c3d(head):
        raise MidfootError(f"{name} is not a C3D file (its header is wrong): give a .c3d trial")
    missing = _short_by_bytes(head, size)
    if missing:
        raise MidfootError(
            f"{name} is cut short ({missing} bytes of samples are missing at its end): copy "
            "or export the file again"
        )
    analogs, header_rate, groups = _open_in_child(path, timeout_s)
    p = _Params(groups, name)
    if "FORCE_PLATFORM" not in groups:
        raise p.fail("has no FORCE_PLATFORM group (no force plates)")
    used = int(p.numbers("FORCE_PLATFORM", "USED", (1,))[0])
    if not 1 <= used <= MAX_PLATES:
        raise p.fail(f"says it has {used} force plates (midfoot reads 1 to {MAX_PLATES})")
    types = p.numbers("FORCE_PLATFORM", "TYPE", (used,)).astype(int)
    for i, kind in enumerate(types):
        if kind not in SUPPORTED_TYPES:
            raise MidfootError(
                f"{name}: force plate {i + 1} is of type {kind}; midfoot reads types 2 and 4 "
                "(six channels Fx Fy Fz Mx My Mz): export the trial with that type"
            )
    if analogs.ndim != 3 or analogs.shape[0] != 1 or analogs.shape[2] < 2:
        raise p.fail("holds fewer than two analog samples")
    data = analogs[0]
    n_analog, n = data.shape
    rate = header_rate
    if p.has("ANALOG", "RATE"):
        rate = float(p.numbers("ANALOG", "RATE", (1,))[0]) or header_rate
    if not (math.isfinite(rate) and 0.0 < rate <= 1e6):
        raise p.fail(f"has an analog rate of {rate!r} Hz")
    channel = p.numbers("FORCE_PLATFORM", "CHANNEL", (6, used)).astype(int)
    if channel.min() < 1 or channel.max() > n_analog:
        raise p.fail(
            f"points its force plates at analog channel {int(channel.max())} but holds {n_analog}"
        )
    corners = p.numbers("FORCE_PLATFORM", "CORNERS", (3, 4, used))
    origins = p.numbers("FORCE_PLATFORM", "ORIGIN", (3, used))
    units = p.text("POINT", "UNITS")
    unit = (units[0] if units else "mm").lower()
    to_mm = LENGTH_TO_MM.get(unit)
    if to_mm is None:
        raise p.fail(f"measures positions in {unit!r} (midfoot reads mm, cm, dm or m)")
    mine = _midfoot_meta(p)
    t0 = float(mine.get("t0_s", 0.0))
    events = _events(p, t0)
    samples = min(int(mine.get("samples", n)), n) if mine else n
    labels = p.text("ANALOG", "LABELS")
    horizontal = _horizontal(forward)
    out = []
    for i in range(used):
        raw = data[channel[:, i] - 1, :samples]
        if types[i] == 4:
            cal = p.numbers("FORCE_PLATFORM", "CAL_MATRIX", (6, 6, used))[:, :, i]
            raw = cal @ raw
        force = raw[:3]
        moment = raw[3:] * to_mm  # N x (file length unit) -> N mm
        origin = origins[:, i] * to_mm
        if origin[2] > 0:
            origin = -origin
        corner_mm = corners[:, :, i].T * to_mm
        try:
            frame = _frame_of(corner_mm)
        except ValueError:
            raise p.fail(
                f"gives force plate {i + 1} corners that do not span a rectangle"
            ) from None
        if abs(frame[2, 2]) < 0.99:
            raise p.fail(f"gives force plate {i + 1} corners that are not level in the lab's x-y")
        centre = corner_mm.mean(axis=0)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            # A damaged or clipped file may hold inf or NaN samples: they come out invalid.
            m_surface = moment + np.cross(force.T, origin).T
            cop_local = np.vstack(
                [-m_surface[1] / force[2], m_surface[0] / force[2], np.zeros(samples)]
            )
            cop_lab = frame @ cop_local  # about the plate centre
            force_lab = frame @ force
        vertical = force_lab[2]
        loaded = np.abs(vertical) >= gate_n
        sign = float(np.sign(np.median(vertical[loaded]))) if loaded.any() else 1.0
        fz = sign * vertical if sign else vertical
        cop = (horizontal @ cop_lab[:2]).T
        finite = np.all(np.isfinite(raw), axis=0)
        with np.errstate(invalid="ignore"):
            cop[~(fz >= gate_n)] = np.nan
        plate_geometry = mine.get("plate") if mine and i == 0 else None
        cells = np.zeros((samples, 0))
        if isinstance(plate_geometry, PlateGeometry):
            cell_rows = [
                labels.index(f"Cell{c}")
                for c in range(plate_geometry.n_channels)
                if f"Cell{c}" in labels
            ]
            if len(cell_rows) == plate_geometry.n_channels:
                cells = data[cell_rows, :samples].T.copy()
        stance = str(mine.get("stance", "")) if mine else ""
        foot = dict(mine.get("foot", {})) if mine else {}
        body = foot.pop("body_mass_kg", None)
        meta = SeriesMeta(
            source=str(path),
            kind="c3d",
            plate=plate_geometry if isinstance(plate_geometry, PlateGeometry) else None,
            calibrated=True,
            nominal_rate_hz=rate,
            athlete=str(mine.get("athlete", "")) if mine else "",
            stance=stance if stance in STANCES else None,
            foot=foot,
            body_mass_kg=body,
            plate_id=str(mine.get("plate_id", "")) if mine else "",
            extra={
                "plate_index": i,
                "plate_type": int(types[i]),
                "plates_in_file": used,
                "corners_mm": corner_mm.tolist(),
                "centre_mm": (horizontal @ centre[:2]).tolist(),
                "origin_mm": origin.tolist(),
                "forward": forward,
                "fz_sign": sign,
            },
        )
        out.append(
            PlateSeries(
                t_s=t0 + np.arange(samples) / rate,
                fz_n=np.where(finite, fz, np.nan),
                cop_mm=cop,
                force_n=cells,
                valid=finite,
                events=events,
                meta=meta,
            )
        )
    return out


def combine_plates(
    plates: Sequence[PlateSeries], gate_n: float = DEFAULT_COP_GATE_N
) -> PlateSeries:
    """One series from the plates of one trial: total force and the combined CoP.

    Parameters
    ----------
    plates : sequence of PlateSeries
        From :func:`read_c3d` (same length and rate).
    gate_n : float
        Below this total force the CoP is NaN.

    Returns
    -------
    PlateSeries
        One plate: itself. Several: ``fz_n`` their sum, ``cop_mm`` the force-weighted mean
        of their CoPs in the lab axes, about the mean of the plate centres; ``force_n`` each
        plate's vertical force as a column (so a two-plate stance is a left/right pair);
        ``meta.extra["plates"]`` each plate's extra.
    """
    if not plates:
        raise MidfootError("there are no force plates to combine")
    if len(plates) == 1:
        return plates[0]
    n = min(len(s) for s in plates)
    centres = np.array([s.meta.extra["centre_mm"] for s in plates])
    middle = centres.mean(axis=0)
    fz = np.column_stack([np.nan_to_num(s.fz_n[:n]) for s in plates])
    total = fz.sum(axis=1)
    moment = np.zeros((n, 2))
    for j, s in enumerate(plates):
        cop = s.cop_mm[:n] + (centres[j] - middle)
        # A plate below the gate has no CoP but also carries (almost) nothing.
        moment += np.where(np.isfinite(cop), cop, 0.0) * fz[:, j : j + 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        cop = moment / total[:, None]
    cop[~(total >= gate_n)] = np.nan
    first = plates[0]
    valid = np.all(np.column_stack([s.valid[:n] for s in plates]), axis=1)
    extra = {"plates": [s.meta.extra for s in plates], "centre_mm": middle.tolist()}
    return PlateSeries(
        t_s=first.t_s[:n],
        fz_n=total,
        cop_mm=cop,
        force_n=fz,
        valid=valid,
        events=first.events,
        meta=replace(first.meta, plate=None, extra=extra),
    )


def read_c3d_recording(path: str | Path, *, forward: str = "+y") -> PlateSeries:
    """A C3D trial as the one series analysis takes: its plate, or its plates combined."""
    return combine_plates(read_c3d(path, forward=forward))
