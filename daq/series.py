"""The one series type: calibrated plate data over time, with its events and metadata.

A :class:`PlateSeries` is what the acquisition hands to live consumers (one block at a
time, as it arrives) and what :func:`daq.reader.read_recording` makes of a whole file:
every analysis, view and export takes one. Times are device seconds from the first sample,
continuous over reconnects; forces in newtons; the centre of pressure in plate millimetres
(PROTOCOL.md: x medio-lateral, + to the person's right; y antero-posterior, + forward).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from daq.calibration import Calibration
from daq.events import RecordedEvent
from daq.plate import PlateGeometry


@dataclass(frozen=True)
class SeriesMeta:
    """What is known about where a series came from.

    Attributes
    ----------
    source : str
        The file path or the plate's URL.
    kind : str
        ``live``, ``session`` (HDF5), ``forces-csv``, ``cop-csv``, ``santos-duarte`` or
        ``c3d``.
    plate : PlateGeometry or None
        Cell positions, when the source has cell forces.
    calibration : Calibration or None
        The calibration the series starts with (sessions and live plates).
    calibrated : bool
        Whether forces come from a real calibration (False: nominal gains, approximate).
    nominal_rate_hz : float
        The plate's stated rate (NaN when it did not say).
    athlete : str
        Who stood on the plate ('' when unknown).
    created_utc : str
        When the recording began (ISO 8601, '' when unknown).
    stance : str or None
        The stance the file says the series starts in (None: not said).
    foot : dict of str to float
        ``foot_length_mm``, ``heel_y_mm``, ``stance_width_mm`` as far as the file says.
    body_mass_kg : float or None
        The person's own mass, when known.
    plate_id : str
        The plate's stable identifier ('' when unknown).
    extra : dict
        Everything else the source carried (a session's other root attributes, a CSV's
        ``# key: value`` lines).
    """

    source: str = ""
    kind: str = "live"
    plate: PlateGeometry | None = None
    calibration: Calibration | None = None
    calibrated: bool = False
    nominal_rate_hz: float = float("nan")
    athlete: str = ""
    created_utc: str = ""
    stance: str | None = None
    foot: dict[str, float] = field(default_factory=dict)
    body_mass_kg: float | None = None
    plate_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class PlateSeries:
    """N samples of calibrated plate data, as numpy arrays of equal length.

    Attributes
    ----------
    t_s : (N,) float64
        Device time in seconds from the recording's first sample.
    fz_n : (N,) float64
        Total vertical force, N.
    cop_mm : (N, 2) float64
        Centre of pressure x (ML) and y (AP), mm; NaN where the force is too small for a
        CoP to mean anything.
    force_n : (N, n) float64
        Each cell's force, N (n = 0 for sources that give only the total and the CoP).
    valid : (N,) bool
        The sample is a measurement: False where a cell read an HX711 glitch or
        saturation value, or a source marked it missing.
    host_t_s : (N,) float64 or None
        Host clock (Unix seconds) when the sample arrived, where known.
    counts : (N, n) int32 or None
        Raw ADC counts (plate sources only), exactly as received.
    events : tuple of RecordedEvent
        Events of this stretch, in time order, with ``t_s`` set.
    meta : SeriesMeta
        Where the series came from.
    """

    t_s: np.ndarray
    fz_n: np.ndarray
    cop_mm: np.ndarray
    force_n: np.ndarray
    valid: np.ndarray
    host_t_s: np.ndarray | None = None
    counts: np.ndarray | None = None
    events: tuple[RecordedEvent, ...] = ()
    meta: SeriesMeta = field(default_factory=SeriesMeta)

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    @property
    def n_cells(self) -> int:
        """Cells with a force column (0 for CoP-only sources)."""
        return int(self.force_n.shape[1]) if self.force_n.ndim == 2 else 0

    @property
    def duration_s(self) -> float:
        """Time from the first to the last sample (0 with fewer than two)."""
        return float(self.t_s[-1] - self.t_s[0]) if len(self) > 1 else 0.0

    @property
    def rate_hz(self) -> float:
        """Sample rate over the steps that are not gaps (a reconnect does not lower it).

        Steps longer than 1.5 times the median are gaps; the rate is the number of the
        other steps over their total time, so rounded time stamps average out. NaN with
        fewer than two samples or without a time step.
        """
        if len(self) < 2:
            return float("nan")
        steps = np.diff(self.t_s)
        median = float(np.median(steps))
        if not median > 0:
            return float("nan")
        kept = steps[steps <= 1.5 * median]
        return float(kept.size / kept.sum())

    def slice(self, i0: int, i1: int) -> PlateSeries:
        """Samples ``i0`` to ``i1`` (views) with the events at their times."""
        n = len(self)
        i0, i1 = max(0, min(i0, n)), max(0, min(i1, n))
        sl = slice(i0, i1)
        events: tuple[RecordedEvent, ...] = ()
        if self.events and i1 > i0:
            # By time: an event's sample_index counts samples of the whole recording.
            lo = self.t_s[i0]
            hi = self.t_s[i1] if i1 < n else np.inf
            events = tuple(e for e in self.events if lo <= e.t_s < hi)
        return replace(
            self,
            t_s=self.t_s[sl],
            fz_n=self.fz_n[sl],
            cop_mm=self.cop_mm[sl],
            force_n=self.force_n[sl],
            valid=self.valid[sl],
            host_t_s=None if self.host_t_s is None else self.host_t_s[sl],
            counts=None if self.counts is None else self.counts[sl],
            events=events,
        )

    def between(self, t0_s: float, t1_s: float) -> PlateSeries:
        """The samples with ``t0_s <= t_s < t1_s`` (views)."""
        i0 = int(np.searchsorted(self.t_s, t0_s, side="left"))
        i1 = int(np.searchsorted(self.t_s, t1_s, side="left"))
        return self.slice(i0, i1)

    @classmethod
    def empty(cls, n_cells: int = 4, meta: SeriesMeta | None = None) -> PlateSeries:
        """A series without samples."""
        return cls(
            t_s=np.zeros(0),
            fz_n=np.zeros(0),
            cop_mm=np.zeros((0, 2)),
            force_n=np.zeros((0, n_cells)),
            valid=np.zeros(0, dtype=bool),
            meta=meta or SeriesMeta(),
        )

    @classmethod
    def from_arrays(
        cls,
        t_s: np.ndarray,
        fz_n: np.ndarray,
        cop_mm: np.ndarray,
        force_n: np.ndarray | None = None,
        *,
        valid: np.ndarray | None = None,
        meta: SeriesMeta | None = None,
        events: tuple[RecordedEvent, ...] = (),
    ) -> PlateSeries:
        """A series from plain arrays (float64 copies where needed, every sample valid).

        Parameters
        ----------
        t_s, fz_n : (N,) array_like
            Times (s) and total force (N).
        cop_mm : (N, 2) array_like
            CoP x and y (mm).
        force_n : (N, n) array_like, optional
            Cell forces (N); none for a CoP-only source.
        valid : (N,) array_like of bool, optional
            Which samples are measurements (default all).
        meta : SeriesMeta, optional
            Where it came from.
        events : tuple, optional
            Its events, with ``t_s`` set.
        """
        t = np.asarray(t_s, dtype=np.float64).reshape(-1)
        n = t.shape[0]
        return cls(
            t_s=t,
            fz_n=np.asarray(fz_n, dtype=np.float64).reshape(n),
            cop_mm=np.asarray(cop_mm, dtype=np.float64).reshape(n, 2),
            force_n=np.zeros((n, 0))
            if force_n is None
            else np.asarray(force_n, dtype=np.float64).reshape(n, -1),
            valid=np.ones(n, dtype=bool) if valid is None else np.asarray(valid, dtype=bool),
            meta=meta or SeriesMeta(),
            events=events,
        )


def concat_series(parts: list[PlateSeries]) -> PlateSeries:
    """One series from consecutive parts (the first part's metadata).

    Parameters
    ----------
    parts : list of PlateSeries
        In time order, with the same number of cells.
    """
    if not parts:
        return PlateSeries.empty()
    if len(parts) == 1:
        return parts[0]
    first = parts[0]

    def cat(name: str) -> np.ndarray | None:
        arrays = [getattr(p, name) for p in parts]
        if any(a is None for a in arrays):
            return None
        return np.concatenate(arrays)

    return PlateSeries(
        t_s=np.concatenate([p.t_s for p in parts]),
        fz_n=np.concatenate([p.fz_n for p in parts]),
        cop_mm=np.concatenate([p.cop_mm for p in parts]),
        force_n=np.concatenate([p.force_n for p in parts]),
        valid=np.concatenate([p.valid for p in parts]),
        host_t_s=cat("host_t_s"),
        counts=cat("counts"),
        events=tuple(e for p in parts for e in p.events),
        meta=first.meta,
    )


# HX711 glitch: a sample reading all ones (REFERENCE.md), as a signed or an unsigned
# 24-bit value; and saturation at either end of the range.
GLITCH_COUNTS = (0x7FFFFF, -1, -0x800000)
# How glitch_free reads counts: rows per block, and the integer a row of flags is read as.
GLITCH_BLOCK_ROWS = 32768
_ROW_FLAGS = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def glitch_free(counts: np.ndarray) -> np.ndarray:
    """(N,) bool: rows where no cell read a known HX711 glitch or saturation value."""
    counts = np.asarray(counts)
    n = counts.shape[0]
    out = np.empty(n, dtype=bool)
    # In blocks that stay in the cache, and a row of 1, 2, 4 or 8 cells' flags read as one
    # integer: an hour at 1 kHz x 8 took 0.2 s as three whole-array compares and any().
    for start in range(0, n, GLITCH_BLOCK_ROWS):
        block = counts[start : start + GLITCH_BLOCK_ROWS]
        bad = block == GLITCH_COUNTS[0]
        for value in GLITCH_COUNTS[1:]:
            bad |= block == value
        as_int = _ROW_FLAGS.get(bad.shape[1]) if bad.ndim == 2 else None
        if as_int is not None and bad.flags.c_contiguous:
            out[start : start + block.shape[0]] = bad.view(as_int).reshape(-1) == 0
        else:
            out[start : start + block.shape[0]] = ~bad.reshape(block.shape[0], -1).any(axis=1)
    return out

