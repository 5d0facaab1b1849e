"""A session file as stored: raw samples, the text groups, events and attributes.

This is the HDF5 layer under :func:`daq.reader.read_recording` (which calibrates) and the
``replay://`` port (which re-encodes the raw frames). It opens every file midfoot writes:
cleanly closed, killed mid-write (``kill -9``, power loss: the file is still marked as open
by a SWMR writer) or still being written, without HDF5's file locking getting in the way.
Anything that is not such a file, or is damaged, is one :class:`daq.errors.MidfootError`
sentence; nothing here lets an h5py or numpy exception through.
"""

from __future__ import annotations

import math
import select
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from daq.errors import MidfootError
from daq.events import RecordedEvent, event_from_json

FORMAT_NAME = "midfoot-session"
SAMPLE_DATASETS = ("seq", "t_us", "stale", "counts", "host_t_s")
MAX_CHANNELS = 8
# Texts longer than this are not something midfoot wrote; they are cut, not trusted.
MAX_TEXT_CHARS = 65536
_READ_ERRORS = (OSError, RuntimeError, KeyError, ValueError, TypeError, IndexError)
# A file a SWMR writer still has (or had, when killed) is read in SWMR mode, where HDF5
# retries a metadata read whose checksum fails, for ever on a damaged file; such a file is
# first read once in a child process, stopped after this long (plus the time to read a
# large file: an hour at 1 kHz is ~50 MB and reads in about a second).
SWMR_PROBE_TIMEOUT_S = 2.0
SWMR_PROBE_S_PER_MB = 0.05
_SUPERBLOCK_SIGNATURE = b"\x89HDF\r\n\x1a\n"
# The child says when its imports are done, so a slow start-up on a loaded machine (a
# second or more for Python and h5py) is not counted as a slow read.
PROBE_START_TIMEOUT_S = 60.0
_PROBE = """
import sys, h5py
sys.stdout.write("ready\\n")
sys.stdout.flush()
with h5py.File(sys.argv[1], "r", libver="latest", swmr=True, locking=False) as f:
    def visit(name, obj):
        dict(obj.attrs)
        if isinstance(obj, h5py.Dataset):
            try:
                obj[()]
            except Exception:
                pass  # unreadable data is reported by the reader; only a hang matters here
    dict(f.attrs)
    f.visititems(visit)
"""


@dataclass(frozen=True)
class Superblock:
    """What an HDF5 file's superblock (version 2 or 3) says about the file.

    Attributes
    ----------
    version : int
        Superblock version.
    writer_flags : int
        File consistency flags: non-zero while a writer has it open (or was killed).
    stored_eof : int
        The end of file the last flush recorded, bytes.
    """

    version: int
    writer_flags: int
    stored_eof: int


def read_superblock(path: Path) -> Superblock | None:
    """The superblock of an HDF5 file at offset 0, or None if it is not a version 2/3 one."""
    try:
        with path.open("rb") as fh:
            head = fh.read(48)
    except OSError:
        return None
    if len(head) < 12 or head[:8] != _SUPERBLOCK_SIGNATURE or head[8] not in (2, 3):
        return None
    offsets = head[9]
    start = 12 + 2 * offsets
    if offsets not in (2, 4, 8) or len(head) < start + offsets:
        return None
    eof = int.from_bytes(head[start : start + offsets], "little")
    return Superblock(version=head[8], writer_flags=head[11], stored_eof=eof)


@dataclass
class RawSession:
    """One session file's raw content (see docs/file-format.md).

    Attributes
    ----------
    path : Path
        The file.
    seq : (N,) uint16
        Sequence numbers as received.
    t_us : (N,) uint32
        Device microseconds as received.
    stale : (N,) uint8
        Stale-channel bit masks.
    counts : (N, n) int32
        Raw ADC counts.
    host_t_s : (N,) float64
        Host clock when each sample's chunk arrived (NaN where unreadable).
    attrs : dict
        Root attributes (plain Python values).
    infos : list of dict
        The plate's INFO messages, parsed.
    logs : list of (float, str)
        Device LOG lines with their host time.
    events : list of RecordedEvent
        Typed events with ``sample_index`` (``t_s`` not yet set).
    problems : list of str
        What could not be read and was left out (damaged events or texts).
    """

    path: Path
    seq: np.ndarray
    t_us: np.ndarray
    stale: np.ndarray
    counts: np.ndarray
    host_t_s: np.ndarray
    attrs: dict[str, object]
    infos: list[dict[str, str]] = field(default_factory=list)
    logs: list[tuple[float, str]] = field(default_factory=list)
    events: list[RecordedEvent] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.seq.shape[0])


def _damaged(path: Path, what: str) -> MidfootError:
    return MidfootError(
        f"{path.name} is a damaged midfoot session ({what}): it cannot be read as it is; "
        "keep the file and record again"
    )


def _cannot_open(path: Path, why: str = "it may be truncated or damaged") -> MidfootError:
    return MidfootError(
        f"{path.name} is not an HDF5 file midfoot can open ({why}): give a .h5 recording "
        "made by `midfoot record` or the live app"
    )


def _probe_swmr(path: Path, truncated: bool) -> None:
    """Read every object of a writer-flagged file in a child process, bounded in time."""
    why = "it is cut short and what is left cannot be read" if truncated else (
        "its metadata is damaged"
    )
    timeout_s = SWMR_PROBE_TIMEOUT_S + SWMR_PROBE_S_PER_MB * path.stat().st_size / 1e6
    try:
        child = subprocess.Popen(
            [sys.executable, "-c", _PROBE, str(path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    except OSError:
        return  # no child process possible here: read it directly
    with child:
        try:
            ready, _, _ = select.select([child.stdout], [], [], PROBE_START_TIMEOUT_S)
            if ready:
                child.stdout.readline()
            child.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
            raise _cannot_open(path, why) from None
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
    if child.returncode != 0:
        raise _cannot_open(path, why)


def open_hdf5(path: Path) -> h5py.File:
    """Open an HDF5 file read-only whatever state its writer left it in.

    A cleanly closed file opens plainly, where HDF5 checks its size and every checksum at
    once. One a SWMR writer still has open or was killed in (its consistency flags set),
    or one cut short, opens in SWMR read mode after a bounded read in a child process has
    shown that reading it ends. File locking is off so a writer never blocks the open.
    """
    block = read_superblock(path)
    truncated = block is not None and block.stored_eof > path.stat().st_size
    if block is not None and (block.writer_flags or truncated):
        # SWMR read mode also reads what a truncated copy still holds.
        _probe_swmr(path, truncated)
        try:
            return h5py.File(path, "r", libver="latest", swmr=True, locking=False)
        except _READ_ERRORS as exc:
            raise _cannot_open(path) from exc
    try:
        return h5py.File(path, "r", locking=False)
    except _READ_ERRORS as exc:
        raise _cannot_open(path) from exc


def _attr_value(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def _sample_arrays(path: Path, f: h5py.File) -> dict[str, np.ndarray]:
    group = f.get("samples")
    if not isinstance(group, h5py.Group):
        raise _damaged(path, "it has no samples group")
    out: dict[str, np.ndarray] = {}
    lengths = []
    for name in SAMPLE_DATASETS:
        ds = group.get(name)
        if not isinstance(ds, h5py.Dataset):
            raise _damaged(path, f"the samples/{name} dataset is missing")
        want_2d = name == "counts"
        if ds.ndim != (2 if want_2d else 1):
            raise _damaged(path, f"samples/{name} has the wrong shape {ds.shape}")
        kind = ds.dtype.kind
        if name == "host_t_s":
            if kind not in "fiu":
                raise _damaged(path, f"samples/{name} is not numeric")
        elif kind not in "iu":
            raise _damaged(path, f"samples/{name} is not integer")
        if want_2d and not 1 <= ds.shape[1] <= MAX_CHANNELS:
            raise _damaged(path, f"samples/counts has {ds.shape[1]} channels")
        lengths.append(ds.shape[0])
    # Under SWMR the datasets may grow while read, and a killed writer may have extended
    # one before the others: take the length they all have.
    n = min(lengths)
    for name in SAMPLE_DATASETS:
        try:
            out[name] = group[name][:n]
        except _READ_ERRORS:
            # A corrupt compressed chunk: keep everything before the first unreadable one.
            out[name] = _readable_prefix(group[name], n)
        n = min(n, out[name].shape[0])
    return {name: a[:n] for name, a in out.items()}


def _readable_prefix(ds: h5py.Dataset, n: int) -> np.ndarray:
    """The samples of ``ds`` before its first unreadable chunk."""
    chunk = ds.chunks[0] if ds.chunks else n
    parts = []
    for start in range(0, n, max(chunk, 1)):
        try:
            parts.append(ds[start : min(start + chunk, n)])
        except _READ_ERRORS:
            break
    if not parts:
        return np.zeros((0, *ds.shape[1:]), dtype=ds.dtype)
    return np.concatenate(parts)


def _texts(f: h5py.File, group_name: str, problems: list[str]) -> list[tuple[float, str]]:
    group = f.get(group_name)
    if not isinstance(group, h5py.Group):
        return []
    try:
        times = group["host_t_s"]
        texts = group["text"]
        k = min(times.shape[0], texts.shape[0])
        t_values = np.asarray(times[:k], dtype=np.float64).reshape(-1)
        raw = texts[:k]
    except _READ_ERRORS:
        problems.append(f"the {group_name} texts are unreadable")
        return []
    out = []
    for t, text in zip(t_values, np.asarray(raw).reshape(-1), strict=False):
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        out.append((float(t), str(text)[:MAX_TEXT_CHARS]))
    return out


def _parse_info(text: str) -> dict[str, str]:
    return dict(p.split("=", 1) for p in text.split(";") if "=" in p)


def load_session(path: Path | str) -> RawSession:
    """Read a session file's raw content; one-sentence errors for anything else.

    Parameters
    ----------
    path : Path or str
        A ``.h5`` session (closed, killed mid-write or still being written).

    Returns
    -------
    RawSession

    Raises
    ------
    MidfootError
        Missing file, not HDF5, not a midfoot session, or damaged beyond reading.
    """
    path = Path(path)
    if not path.exists():
        raise MidfootError(f"{path} does not exist: check the file name")
    if not path.is_file():
        raise MidfootError(f"{path} is not a file: give a session recording (.h5)")
    f = open_hdf5(path)
    block = read_superblock(path)
    cut_short = block is not None and block.stored_eof > path.stat().st_size
    try:
        with f:
            try:
                fmt = _attr_value(f.attrs.get("format"))
            except _READ_ERRORS:
                fmt = None
            if fmt != FORMAT_NAME:
                raise MidfootError(
                    f"{path.name} is an HDF5 file but not a midfoot session: give a recording "
                    "made by `midfoot record` or the live app"
                )
            arrays = _sample_arrays(path, f)
            attrs: dict[str, object] = {}
            for key in list(f.attrs.keys()):
                try:
                    attrs[key] = _attr_value(f.attrs[key])
                except _READ_ERRORS:
                    continue
            problems: list[str] = []
            if cut_short:
                problems.append("the file is cut short: what was written last is missing")
            infos = [_parse_info(t) for _, t in _texts(f, "info", problems)]
            logs = _texts(f, "log", problems)
            events = []
            skipped = 0
            for _, text in _texts(f, "events", problems):
                event = event_from_json(text)
                if event is None:
                    skipped += 1
                else:
                    events.append(event)
            if skipped:
                problems.append(f"{skipped} damaged events were left out")
    except MidfootError:
        raise
    except _READ_ERRORS as exc:
        raise _damaged(path, type(exc).__name__) from exc
    # copy=False: the arrays are fresh from h5py and already of these types in midfoot's own
    # files, and a copy of an hour's counts alone is 115 MB and a tenth of a second.
    host = arrays["host_t_s"].astype(np.float64, copy=False)
    host[~np.isfinite(host)] = math.nan
    return RawSession(
        path=path,
        seq=arrays["seq"].astype(np.uint16, copy=False),
        t_us=arrays["t_us"].astype(np.uint32, copy=False),
        stale=arrays["stale"].astype(np.uint8, copy=False),
        counts=arrays["counts"].astype(np.int32, copy=False),
        host_t_s=host,
        attrs=attrs,
        infos=infos,
        logs=logs,
        events=events,
        problems=problems,
    )
