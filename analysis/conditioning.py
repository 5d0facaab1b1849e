"""Signal conditioning for the streaming analysers: glitches out, down to ~100 Hz, filtered.

Per sample: (1) glitches (an HX711 reading all ones): above 150 Hz a centred median of three
raw samples (one sample of delay); at every rate a causal gate that holds a jump in force or
CoP until it has persisted; (2) averaging in groups of k samples down to at most
:data:`ANALYSIS_RATE_MAX_HZ`, each group stamped at the middle of the time it covers (an
HX711 sample is the mean over the conversion period before its time stamp); (3) a causal
2nd-order Butterworth low-pass (:data:`LOWPASS_HZ`) of force and CoP, the force's running
sum over :data:`VELOCITY_WINDOW_S` (the centre-of-mass velocity gained), the CoP speed and
the force's steadiness (:mod:`analysis.stillness`). Every filter is a recursion carried
across blocks, so however the samples are split the output is the same.
"""

from __future__ import annotations

import heapq
import math

import numpy as np
from scipy import signal

from analysis.presence import ON_PLATE_N
from analysis.stillness import Stillness

ANALYSIS_RATE_MAX_HZ = 100.0
LOWPASS_HZ = 4.0
# At 10 Hz a 4 Hz cutoff would sit on Nyquist; keep it a safe fraction of the rate.
LOWPASS_MAX_FRACTION = 0.35
# An HX711 reading all ones replaces one cell's load by about zero or by thousands of
# newtons, and throws the CoP towards or away from that corner. For the state machine's
# filters (the rep measurements use a centred median instead) a jump of more than 8 % of the
# force or 60 mm of CoP between two samples that does not persist into the next is a glitch.
SPIKE_FRACTION = 0.08
SPIKE_MIN_N = 30.0
SPIKE_COP_MM = 60.0
# A jump this large (or more than half the force) must persist for two samples: an
# all-ones reading can repeat once when the chip's next conversion is missed.
SPIKE_HUGE_N = 300.0
# The force summed over this window gives the centre-of-mass velocity gained over it.
VELOCITY_WINDOW_S = 0.8
# Below this rate the cells are HX711s whose own averaging over a period is filter enough
# for the quiet test; above it the low-passed values are used.
QUIET_LOWPASS_MIN_HZ = 40.0
# Names of the columns :meth:`Conditioner.push` returns, one value per analysis sample.
CONDITIONED_COLUMNS = (
    "t",
    "fz",
    "x",
    "y",
    "fz_lp",
    "fz_quiet",
    "x_lp",
    "y_lp",
    "fz_sum",
    "speed",
    "steady",
)


class Conditioner:
    """Spike gate, group averaging and the causal filters, carried across blocks.

    Parameters
    ----------
    fs_hz : float
        The plate's sample rate; the output rate :attr:`fs` is it divided by :attr:`k`.
    """

    def __init__(self, fs_hz: float) -> None:
        self.fs_raw = float(fs_hz)
        self.k = max(1, int(round(self.fs_raw / ANALYSIS_RATE_MAX_HZ)))
        if self.fs_raw / self.k < 0.5 * ANALYSIS_RATE_MAX_HZ and self.k > 1:
            self.k -= 1
        self.fs = self.fs_raw / self.k
        self.dt = 1.0 / self.fs
        # An HX711 glitch can repeat once (the chip's next conversion missed, the sample
        # marked stale): a median of five removes both; at 10 Hz five samples would blunt
        # the movement itself, and a repeat is rare, so three.
        self.median_half = 2 if self.fs >= QUIET_LOWPASS_MIN_HZ else 1
        cutoff = min(LOWPASS_HZ, LOWPASS_MAX_FRACTION * self.fs)
        self.cutoff_hz = cutoff
        self.sos = signal.butter(2, cutoff, fs=self.fs, output="sos")
        self._sos_zi_unit = signal.sosfilt_zi(self.sos)
        self._pad = 3 * (2 * self.sos.shape[0] + 1)
        # The running sum over L samples as the recursion s[n] = s[n-1] + x[n] - x[n-L]: a
        # recursive filter gives the same bits however the samples are split into blocks
        # (scipy runs an FIR filter through a convolution, which does not).
        self.sum_len = max(2, int(round(VELOCITY_WINDOW_S * self.fs)))
        self.sum_b = np.zeros(self.sum_len + 1)
        self.sum_b[0], self.sum_b[-1] = 1.0, -1.0
        self.sum_a = np.array([1.0, -1.0])
        self.stillness = Stillness(self.fs, reference_n=ON_PLATE_N)
        self._zi: dict[str, np.ndarray] | None = None
        self._gate_tail: np.ndarray | None = None  # (fz, x, y) of the last two groups
        self._prev_out: np.ndarray | None = None  # last gated output
        self._holding = False  # the last output is a held value, not the last sample
        self._tail: np.ndarray | None = None  # last two raw (t, fz, x, y), for the median
        self._carry = np.zeros((4, 0))  # raw (t, fz, x, y) waiting to fill a group
        self._prev_lp_xy: np.ndarray | None = None

    def zero_phase(self, x: np.ndarray) -> np.ndarray:
        """The low-pass run forwards and backwards over the rows of ``x`` (no delay).

        Odd extension at both ends (as scipy's sosfiltfilt), filter state started at the
        first value; the rows are filtered together in one call.
        """
        pad = min(self._pad, x.shape[1] - 1)
        left = 2 * x[:, :1] - x[:, pad:0:-1]
        right = 2 * x[:, -1:] - x[:, -2 : -pad - 2 : -1]
        ext = np.concatenate([left, x, right], axis=1)
        y, _ = signal.sosfilt(self.sos, ext, axis=1, zi=self._zi_rows(ext[:, 0]))
        y, _ = signal.sosfilt(self.sos, y[:, ::-1], axis=1, zi=self._zi_rows(y[:, -1]))
        return y[:, ::-1][:, pad : pad + x.shape[1]]

    def _zi_rows(self, first: np.ndarray) -> np.ndarray:
        """Sosfilt state (n_sections, rows, 2) for rows starting at ``first``."""
        return self._sos_zi_unit[:, None, :] * first[None, :, None]

    def _gate(self, rows: np.ndarray) -> np.ndarray:
        """Causal spike gate over (N, 3) analysis-rate (fz, x, y); returns the gated copy.

        A sample close to the last output is kept. One that is not is kept only once the
        new level has persisted (the previous sample agrees with it; for a jump of more
        than half the force, the previous two), else the last output is held. Only jumps
        and the samples after a held one need this sequential rule, so the loop is short.
        """
        out = rows.copy()
        tail = rows[:1] if self._gate_tail is None else self._gate_tail
        ext = np.vstack([tail, rows])
        k0 = tail.shape[0]
        before = ext[k0 - 1 : -1]
        thr = np.maximum(SPIKE_MIN_N, SPIKE_FRACTION * np.abs(before[:, 0]))
        jump = (np.abs(rows[:, 0] - before[:, 0]) > thr) | (
            np.hypot(rows[:, 1] - before[:, 1], rows[:, 2] - before[:, 2]) > SPIKE_COP_MM
        )
        last_out = ext[k0 - 1] if self._prev_out is None else self._prev_out

        def close(a: np.ndarray, b: np.ndarray) -> bool:
            limit = max(SPIKE_MIN_N, SPIKE_FRACTION * abs(b[0]))
            return abs(a[0] - b[0]) <= limit and math.hypot(a[1] - b[1], a[2] - b[2]) <= (
                SPIKE_COP_MM
            )

        todo = [int(n) for n in np.flatnonzero(jump)]
        if self._holding:
            todo.append(0)  # the previous block ended on a held sample
        heapq.heapify(todo)
        done: set[int] = set()
        while todo:
            n = heapq.heappop(todo)
            if n in done:
                continue
            done.add(n)
            last = out[n - 1] if n > 0 else last_out
            if close(rows[n], last):
                continue
            huge = abs(rows[n, 0] - last[0]) > max(SPIKE_HUGE_N, 0.5 * abs(last[0]))
            need = 2 if huge else 1
            i = k0 + n
            if i - need >= 0 and all(close(ext[i - k], rows[n]) for k in range(1, need + 1)):
                continue
            out[n] = last
            if n + 1 < rows.shape[0]:
                heapq.heappush(todo, n + 1)
        self._gate_tail = ext[-2:].copy()
        self._prev_out = out[-1].copy()
        self._holding = (rows.shape[0] - 1) in done and not np.array_equal(out[-1], rows[-1])
        return out

    def _columns(self, t_s: np.ndarray, fz_n: np.ndarray, cop_mm: np.ndarray) -> np.ndarray:
        """Raw (t, fz, x, y) as the rows of one (4, tail + N) array, the median's tail first.

        Rows, not columns: the median and the group means below then read contiguous
        memory (over an hour at 1 kHz the strided (N, 4) form took twice as long).
        Non-finite force and CoP become 0.
        """
        n = t_s.shape[0]
        tail = self._tail if self.k > 1 and self._tail is not None else np.zeros((4, 0))
        m = tail.shape[1]
        ext = np.empty((4, m + n))
        ext[:, :m] = tail
        ext[0, m:] = t_s
        ext[1, m:] = fz_n
        ext[2, m:] = cop_mm[:, 0]
        ext[3, m:] = cop_mm[:, 1]
        np.nan_to_num(ext[1:, m:], copy=False, nan=0.0, posinf=0.0, neginf=0.0)
        if self.k > 1 and self._tail is None and n:
            # The first sample stands in for the one before it.
            ext = np.concatenate([ext[:, m : m + 1], ext], axis=1)
        return ext

    def _median3(self, ext: np.ndarray) -> np.ndarray:
        """Centred median of three over raw (t, fz, x, y) rows, one sample behind."""
        self._tail = ext[:, -2:].copy()
        if ext.shape[1] < 3:
            return np.zeros((4, 0))
        a, b, c = ext[1:, :-2], ext[1:, 1:-1], ext[1:, 2:]
        out = np.empty((4, ext.shape[1] - 2))
        out[0] = ext[0, 1:-1]
        out[1:] = median_of_three(a, b, c)
        return out

    def push(self, t_s: np.ndarray, fz_n: np.ndarray, cop_mm: np.ndarray) -> dict | None:
        """Condition new raw samples; returns new analysis-rate columns (or None)."""
        rows = self._columns(t_s, fz_n, cop_mm)
        k = self.k
        if k > 1:
            # Above 150 Hz a one-sample delay costs nothing: a centred median removes
            # single-sample spikes before they are averaged into a group.
            rows = self._median3(rows)
        if self._carry.shape[1]:
            rows = np.concatenate([self._carry, rows], axis=1)
        n_groups = rows.shape[1] // k
        self._carry = rows[:, n_groups * k :].copy()
        if n_groups == 0:
            return None
        if k > 1:
            # Summed in order within each group (the bits the (N, k, 4) mean gave).
            v = rows[:, : n_groups * k].reshape(4, n_groups, k)
            sums = v[:, :, 0].copy()
            for j in range(1, k):
                sums += v[:, :, j]
            sums /= k
            grouped = sums
        else:
            grouped = rows
        t = grouped[0] - 0.5 / self.fs_raw
        fz_g, x_g, y_g = grouped[1], grouped[2], grouped[3]
        gated = self._gate(grouped[1:].T)
        fz_q, x_q, y_q = gated[:, 0], gated[:, 1], gated[:, 2]
        if self._zi is None:
            first = np.array([fz_g[0], x_g[0], y_g[0]])
            self._zi = {
                "fz": self._sos_zi_unit * first[0],
                "x": self._sos_zi_unit * first[1],
                "y": self._sos_zi_unit * first[2],
                "sum": signal.lfiltic(
                    self.sum_b,
                    self.sum_a,
                    np.full(self.sum_len, self.sum_len * first[0]),
                    np.full(self.sum_len, first[0]),
                ),
            }
            self.stillness.prime(first[0])
            self._prev_lp_xy = np.vstack([first[1:], first[1:]])
        zi = self._zi
        fz_lp, zi["fz"] = signal.sosfilt(self.sos, fz_q, zi=zi["fz"])
        x_lp, zi["x"] = signal.sosfilt(self.sos, x_q, zi=zi["x"])
        y_lp, zi["y"] = signal.sosfilt(self.sos, y_q, zi=zi["y"])
        # Sum of the force over the last VELOCITY_WINDOW_S: with the standing weight W it
        # gives the CoM velocity gained over that window, g dt (sum / W - L).
        fz_sum, zi["sum"] = signal.lfilter(self.sum_b, self.sum_a, fz_lp, zi=zi["sum"])
        # The quiet test must not lag: at low rates the ADC's own averaging over a sample
        # period is filter enough, while the low-pass (or the gate holding a fast but real
        # change for a sample) would delay the lockout by ~0.1 s. A glitch there only makes
        # one sample not quiet.
        # Unfiltered, the speed is taken over two sample periods to calm its noise.
        unfiltered = self.fs < QUIET_LOWPASS_MIN_HZ
        xy = np.column_stack([x_g, y_g] if unfiltered else [x_lp, y_lp])
        lag = 2 if unfiltered else 1
        assert self._prev_lp_xy is not None
        ext = np.vstack([self._prev_lp_xy, xy])
        step = ext[2:] - ext[2 - lag : ext.shape[0] - lag]
        self._prev_lp_xy = ext[-2:].copy()
        speed = np.hypot(step[:, 0], step[:, 1]) * self.fs / lag
        steady = self.stillness.push(fz_lp)
        fz_quiet = fz_g if unfiltered else fz_lp
        return {
            "t": t,
            "fz": fz_g,
            "x": x_g,
            "y": y_g,
            "fz_lp": fz_lp,
            "fz_quiet": fz_quiet,
            "x_lp": x_lp,
            "y_lp": y_lp,
            "fz_sum": fz_sum,
            "speed": speed,
            "steady": steady,
        }


def median_of_three(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Elementwise median of three arrays."""
    return np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))


def _first_true(mask: np.ndarray) -> int:
    """Index of the first True, or -1."""
    idx = int(np.argmax(mask)) if mask.size else 0
    return idx if mask.size and mask[idx] else -1
