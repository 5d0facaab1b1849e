"""Stillness: is a force steady, and for how long? The one detector every part uses.

A sample is steady when the force is within a fraction of its own exponential mean over the
last 0.3 s (standing tremor is ~0.3 % of the weight rms, a weight shift or a step is
several per cent). The hinge analyser weighs a person after a second of it, the live
session tares and weighs in with it, the calibration wizard captures a mass with it, and
the drills wait for it before measuring a range.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import signal

# The low-passed force within 1.5 % of its own 0.3 s mean, for a whole second, is a person
# standing still for the weigh-in (docs/analysis-methods.md).
STEADY_TAU_S = 0.3
STEADY_FRACTION = 0.015
WEIGH_STILL_S = 1.0
# Below this force the fraction applies to it instead of the force itself: a person is on
# the plate above it (a 15 kg child), and an empty plate is judged by an absolute band.
STEADY_REFERENCE_N = 150.0
# A sample this many bands from the recent mean is a change of load, not sway.
JUMP_BANDS = 4.0


class Stillness:
    """Streaming steadiness of a force, carried across blocks.

    Parameters
    ----------
    fs_hz : float
        Rate of the samples pushed.
    fraction : float
        Allowed deviation from the recent mean, as a fraction of it.
    reference_n : float
        The fraction applies to at least this force (sets the band of a light load).
    tau_s : float
        Time constant of the recent mean.
    follow_jumps : bool
        Restart the recent mean at a sample far outside the band (the load changed: a
        person stepped off), so stillness is judged from the new level at once instead of
        after the mean has crept there. The hinge analyser's weigh-in keeps the plain mean.
    """

    def __init__(
        self,
        fs_hz: float,
        *,
        fraction: float = STEADY_FRACTION,
        reference_n: float = STEADY_REFERENCE_N,
        tau_s: float = STEADY_TAU_S,
        follow_jumps: bool = False,
    ) -> None:
        self.fs_hz = float(fs_hz)
        self.fraction = float(fraction)
        self.reference_n = float(reference_n)
        self.a = float(np.exp(-(1.0 / self.fs_hz) / tau_s))
        self._zi: np.ndarray | None = None
        self._run = 0
        self.follow_jumps = follow_jumps

    @property
    def still_s(self) -> float:
        """How long the force has been steady up to the last sample pushed (s)."""
        return self._run / self.fs_hz

    def prime(self, level_n: float) -> None:
        """Start the recent mean at ``level_n`` instead of the first sample pushed."""
        self._zi = np.array([self.a * float(level_n)])

    def push(self, fz_n: np.ndarray) -> np.ndarray:
        """Steadiness of each new sample.

        Parameters
        ----------
        fz_n : (N,) ndarray
            Force samples (N), in order.

        Returns
        -------
        (N,) bool
            True where the sample lies within the band around the recent mean.
        """
        fz = np.asarray(fz_n, dtype=np.float64)
        if fz.shape[0] == 0:
            return np.zeros(0, dtype=bool)
        if self._zi is None:
            self._zi = np.array([self.a * fz[0]])
        a = self.a
        zi = self._zi
        mean, self._zi = signal.lfilter([1.0 - a], [1.0, -a], fz, zi=zi)
        band = self.fraction * np.maximum(mean, self.reference_n)
        if self.follow_jumps:
            start = 0
            while True:
                jump = np.flatnonzero(np.abs(fz[start:] - mean[start:]) > JUMP_BANDS * band[start:])
                if jump.size == 0:
                    break
                k = start + int(jump[0])
                mean[k:], self._zi = signal.lfilter(
                    [1.0 - a], [1.0, -a], fz[k:], zi=np.array([a * fz[k]])
                )
                band[k:] = self.fraction * np.maximum(mean[k:], self.reference_n)
                # The jump sample itself is not steady: the load was moving.
                mean[k] = np.inf
                start = k + 1
        steady = np.abs(fz - mean) < band
        self._run = int(run_lengths(steady, self._run)[-1])
        return steady

    def reset(self) -> None:
        """Forget the recent mean (the load changed on purpose, e.g. after a tare)."""
        self._zi = None
        self._run = 0


def run_lengths(flags: np.ndarray, carry: int = 0) -> np.ndarray:
    """Length of the run of True ending at each sample (0 where False).

    Parameters
    ----------
    flags : (N,) bool
        Per-sample condition.
    carry : int
        Length of the run ending just before the first sample.
    """
    flags = np.asarray(flags, dtype=bool)
    idx = np.arange(flags.shape[0])
    last_bad = np.maximum.accumulate(np.where(~flags, idx, -1 - carry))
    return np.where(flags, idx - last_bad, 0)


def first_still_index(flags: np.ndarray, n_still: int, carry: int = 0) -> int:
    """Index of the first sample that completes ``n_still`` steady samples in a row; -1."""
    runs = run_lengths(flags, carry)
    hit = np.flatnonzero(runs >= n_still)
    return int(hit[0]) if hit.size else -1


def samples_for(seconds: float, fs_hz: float) -> int:
    """At least one sample, ``seconds`` long at ``fs_hz``."""
    return max(1, int(round(seconds * fs_hz))) if math.isfinite(seconds) else 1
