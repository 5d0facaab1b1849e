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


def open_hdf5(path: Path) -> h5py.File:
    """Open an HDF5 file read-only whatever state its writer left it in.

    SWMR read mode opens files a SWMR writer still has open or was killed in; file
    locking is off so another process writing it does not block the open.
    """
    try:
        return h5py.File(path, "r", libver="latest", swmr=True, locking=False)
    except _READ_ERRORS:
        pass
    try:
        # Files written without SWMR (another tool's HDF5) open plainly.
        return h5py.File(path, "r", locking=False)
    except _READ_ERRORS as exc:
        raise MidfootError(
            f"{path.name} is not an HDF5 file midfoot can open (it may be truncated or "
            "damaged): give a .h5 recording made by `midfoot record` or the live app"
        ) from exc


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
    host = arrays["host_t_s"].astype(np.float64)
    host[~np.isfinite(host)] = math.nan
    return RawSession(
        path=path,
        seq=arrays["seq"].astype(np.uint16),
        t_us=arrays["t_us"].astype(np.uint32),
        stale=arrays["stale"].astype(np.uint8),
        counts=arrays["counts"].astype(np.int32),
        host_t_s=host,
        attrs=attrs,
        infos=infos,
        logs=logs,
        events=events,
        problems=problems,
    )
