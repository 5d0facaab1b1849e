"""Ring buffer of samples: one producer appending chunks, several readers.

Every column is stored twice over (a double-length buffer), so the newest ``n`` samples are
always one contiguous slice: :meth:`SampleRing.latest` returns numpy views, no copy. The
producer writes the data first and only then advances the published count, so a reader never
sees a sample that is half written; a view stays intact until the producer has written
``capacity - n`` more samples, which :meth:`SampleRing.intact` checks.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

Columns = dict[str, np.ndarray]


@dataclass(frozen=True)
class Column:
    """One named column: dtype and the shape of one sample (``()`` for scalars)."""

    dtype: np.dtype | type
    shape: tuple[int, ...] = ()


class SampleRing:
    """Preallocated, fixed-capacity ring of named numpy columns.

    Parameters
    ----------
    capacity : int
        Samples kept; older ones are overwritten.
    columns : dict[str, Column]
        Column layout, e.g. ``{"t_s": Column(np.float64), "force_n": Column(np.float32, (4,))}``.
    """

    def __init__(self, capacity: int, columns: dict[str, Column]) -> None:
        if capacity < 1:
            raise ValueError("ring capacity must be at least one sample")
        self.capacity = int(capacity)
        self.columns = dict(columns)
        self._data = {
            name: np.zeros((2 * self.capacity, *col.shape), dtype=col.dtype)
            for name, col in self.columns.items()
        }
        self._written = 0  # samples ever appended; published after the data is in place
        # ... and how far the append in progress reaches, published before it writes: a
        # reader whose oldest slot that append overwrites must copy again.
        self._writing = 0
        self._lock = threading.Lock()  # serialises producers only; readers never take it

    @property
    def written(self) -> int:
        """Samples appended since the ring was made (monotonic)."""
        return self._written

    def __len__(self) -> int:
        return min(self._written, self.capacity)

    @property
    def oldest(self) -> int:
        """Global index (count of samples ever appended) of the oldest sample kept."""
        return self._written - len(self)

    def span(self, name: str, g0: int, g1: int) -> np.ndarray:
        """View of column ``name`` for global sample indices [g0, g1), clipped to what is kept.

        For a single thread that appends and reads in turn (an analyser's own history);
        other readers use :meth:`latest` and :meth:`intact`.
        """
        # Called tens of thousands of times a minute by the analyser: plain arithmetic,
        # no property or len() calls (written - len(self) is the oldest index kept).
        written = self._written
        cap = self.capacity
        lo = max(g0, written - cap, 0)
        hi = max(min(g1, written), lo)
        stop = written % cap + cap
        return self._data[name][stop - (written - lo) : stop - (written - hi)]

    def at(self, name: str, g: int) -> object:
        """The value of column ``name`` at global sample index ``g`` (which must be kept).

        As :meth:`span`, for a single thread that appends and reads in turn.
        """
        written = self._written
        if not max(written - self.capacity, 0) <= g < written:
            raise IndexError(f"sample {g} is not in the ring (it keeps up to {written})")
        return self._data[name][written % self.capacity + self.capacity - (written - g)]

    def append(self, block: Columns) -> None:
        """Append a chunk: every column an array of the same length N (N may exceed capacity)."""
        lengths = {len(block[name]) for name in self.columns}
        if len(lengths) != 1:
            raise ValueError("every column of an appended block must have the same length")
        n = lengths.pop()
        if n == 0:
            return
        with self._lock:
            start = self._written
            self._writing = start + n
            skip = max(0, n - self.capacity)  # only the newest `capacity` samples can be kept
            cap = self.capacity
            for name, buf in self._data.items():
                src = np.asarray(block[name])[skip:]
                pos = (start + skip) % cap
                first = min(src.shape[0], cap - pos)
                buf[pos : pos + first] = src[:first]
                buf[pos + cap : pos + cap + first] = src[:first]
                rest = src.shape[0] - first
                if rest:
                    buf[:rest] = src[first:]
                    buf[cap : cap + rest] = src[first:]
            self._written = start + n

    def latest(self, n: int) -> tuple[Columns, int]:
        """Views of the newest ``min(n, len(self))`` samples, and the count they end at.

        Pass that count to :meth:`intact` after using the views to learn whether the producer
        overwrote them meanwhile.
        """
        end = self._written
        n = min(int(n), end, self.capacity)
        stop = end % self.capacity + self.capacity
        return {name: buf[stop - n : stop] for name, buf in self._data.items()}, end

    def intact(self, end: int, n: int) -> bool:
        """Whether views from :meth:`latest` ending at ``end`` with ``n`` samples are untouched."""
        return self._writing - end <= self.capacity - n

    def reader(self) -> RingReader:
        """A cursor that starts at the current end and reads every later sample once."""
        return RingReader(self)


class RingReader:
    """One consumer's position in a :class:`SampleRing`."""

    def __init__(self, ring: SampleRing) -> None:
        self.ring = ring
        self.position = ring.written
        self.missed_total = 0

    def read(self, max_samples: int | None = None) -> tuple[Columns, int]:
        """Copies of the samples appended since the last read, and how many were missed.

        ``missed`` counts samples overwritten before this reader got to them: the reader fell
        more than ``capacity`` behind.
        """
        ring = self.ring
        while True:
            end = ring.written
            oldest = end - ring.capacity
            missed = max(0, oldest - self.position)
            begin = max(self.position, oldest)
            if max_samples is not None:
                end = min(end, begin + max_samples)
            n = end - begin
            stop = end % ring.capacity + ring.capacity if n else ring.capacity
            data = {name: buf[stop - n : stop].copy() for name, buf in ring._data.items()}
            # The producer may have lapped us while copying (an append in progress counts):
            # then try again from further on.
            if ring._writing - begin <= ring.capacity:
                break
        self.position = end
        self.missed_total += missed
        return data, missed
