"""Sample blocks: what the decoder hands on, whole chunks at a time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SampleBlock:
    """Consecutive samples from one plate, as numpy arrays of equal length N.

    Attributes
    ----------
    seq : (N,) int64
        Sample counter unwrapped from the wire's u16 into a monotonic count.
    t_us : (N,) int64
        Device time of each latch in microseconds, unwrapped from the wire's u32.
        -1 where the plate gave no time (plain-text fallback without t_ms).
    stale : (N,) uint8
        Bit i set = channel i repeats its previous conversion.
    counts : (N, n) int32
        Raw signed ADC counts, exactly as received.
    """

    seq: np.ndarray
    t_us: np.ndarray
    stale: np.ndarray
    counts: np.ndarray

    def __len__(self) -> int:
        return int(self.seq.shape[0])

    @property
    def n_channels(self) -> int:
        """Channels per sample."""
        return int(self.counts.shape[1])

    @classmethod
    def empty(cls, n_channels: int = 4) -> SampleBlock:
        """A block with no samples."""
        return cls(
            seq=np.zeros(0, np.int64),
            t_us=np.zeros(0, np.int64),
            stale=np.zeros(0, np.uint8),
            counts=np.zeros((0, n_channels), np.int32),
        )

    @classmethod
    def concat(cls, blocks: list[SampleBlock]) -> SampleBlock:
        """One block from several with the same channel count."""
        if not blocks:
            return cls.empty()
        if len(blocks) == 1:
            return blocks[0]
        return cls(
            seq=np.concatenate([b.seq for b in blocks]),
            t_us=np.concatenate([b.t_us for b in blocks]),
            stale=np.concatenate([b.stale for b in blocks]),
            counts=np.concatenate([b.counts for b in blocks]),
        )
