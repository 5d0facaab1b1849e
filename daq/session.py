"""Reading a recorded session back: raw samples, unwrapped time, calibration and events."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from daq.calibration import Calibration
from daq.decoder import _unwrap
from daq.errors import MidfootError
from daq.recorder import FORMAT_NAME


@dataclass
class Session:
    """One recording, as stored (see docs/file-format.md)."""

    path: Path
    seq: np.ndarray  # (N,) int64, unwrapped within each connected segment
    t_s: np.ndarray  # (N,) float64, device time from the first sample, continuous over gaps
    host_t_s: np.ndarray  # (N,) float64, host clock (Unix seconds) when the chunk arrived
    stale: np.ndarray  # (N,) uint8
    counts: np.ndarray  # (N, n) int32
    calibration: Calibration
    attrs: dict[str, object]
    infos: list[dict[str, str]] = field(default_factory=list)
    logs: list[tuple[float, str]] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    raw_seq: np.ndarray | None = None
    raw_t_us: np.ndarray | None = None

    @property
    def rate_hz(self) -> float:
        """Measured sample rate from device time (NaN with fewer than two samples)."""
        if self.t_s.shape[0] < 2 or self.t_s[-1] <= self.t_s[0]:
            return float("nan")
        return (self.t_s.shape[0] - 1) / (self.t_s[-1] - self.t_s[0])

    def forces_n(self, calibration: Calibration | None = None) -> np.ndarray:
        """(N, n) cell forces with the stored calibration, or another (re-calibration)."""
        return (calibration or self.calibration).forces_n(self.counts)


def _segments(n: int, events: list[dict]) -> list[int]:
    """Sample indices where a new connected segment starts (the plate rebooted)."""
    starts = sorted({int(e["sample_index"]) for e in events if e.get("kind") == "reconnect"})
    return [0] + [s for s in starts if 0 < s < n]


def load_session(path: Path | str, swmr: bool = True) -> Session:
    """Open a session file (also while it is being written); one-sentence errors."""
    path = Path(path)
    if not path.exists():
        raise MidfootError(f"{path} does not exist: check the file name")
    try:
        f = h5py.File(path, "r", libver="latest", swmr=swmr)
    except (OSError, RuntimeError) as exc:  # h5py raises RuntimeError for a damaged superblock
        raise MidfootError(
            f"{path} is not an HDF5 file midfoot can open: give a .h5 recording "
            "made by `midfoot record`"
        ) from exc
    with f:
        if f.attrs.get("format") != FORMAT_NAME or "samples" not in f:
            raise MidfootError(
                f"{path} is an HDF5 file but not a midfoot session: give a recording made by "
                "`midfoot record`"
            )
        s = f["samples"]
        # Under SWMR the datasets may grow while read; take one consistent length.
        n = min(s[name].shape[0] for name in ("seq", "t_us", "stale", "counts", "host_t_s"))
        raw_seq = s["seq"][:n].astype(np.int64)
        raw_t = s["t_us"][:n].astype(np.int64)
        host = s["host_t_s"][:n]
        stale = s["stale"][:n]
        counts = s["counts"][:n]
        attrs = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in f.attrs.items()}

        def texts(group: str) -> list[tuple[float, str]]:
            g = f[group]
            k = min(g["host_t_s"].shape[0], g["text"].shape[0])
            return [
                (float(t), s.decode("utf-8") if isinstance(s, bytes) else str(s))
                for t, s in zip(g["host_t_s"][:k], g["text"][:k], strict=True)
            ]

        infos = [dict(p.split("=", 1) for p in t.split(";") if "=" in p) for _, t in texts("info")]
        logs = texts("log")
        events = []
        for _, text in texts("events"):
            try:
                events.append(json.loads(text))
            except json.JSONDecodeError:
                continue
    try:
        calibration = Calibration.from_dict(json.loads(attrs["calibration_json"]))
    except (KeyError, ValueError, TypeError, MidfootError) as exc:
        raise MidfootError(
            f"{path} has a damaged calibration record: it cannot be analysed as it is"
        ) from exc

    seq = np.zeros(n, np.int64)
    t_s = np.zeros(n, np.float64)
    bounds = _segments(n, events) + [n]
    offset_s = 0.0
    for a, b in zip(bounds[:-1], bounds[1:], strict=False):
        if b <= a:
            continue
        seq[a:b], _ = _unwrap(raw_seq[a:b], None, 0, 1 << 16)
        t_us, _ = _unwrap(raw_t[a:b], None, 0, 1 << 32)
        seg_t = (t_us - t_us[0]) / 1e6
        if a > 0:
            # Bridge a reconnect with the host clock: the device clock restarted.
            offset_s = t_s[a - 1] + max(host[a] - host[a - 1], 0.0)
        t_s[a:b] = offset_s + seg_t
    return Session(
        path=path,
        seq=seq,
        t_s=t_s,
        host_t_s=host,
        stale=stale,
        counts=counts,
        calibration=calibration,
        attrs=attrs,
        infos=infos,
        logs=logs,
        events=events,
        raw_seq=raw_seq.astype(np.uint16),
        raw_t_us=raw_t.astype(np.uint32),
    )
