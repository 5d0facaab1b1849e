"""A monotonic time base for recorded samples from the plate's wrapping counters.

The wire carries a u16 sequence number and a u32 microsecond clock, both wrapping. Within a
connected stretch (between reconnects) the time of sample i follows from the clock's
increments; a step the sequence does not vouch for (a flipped bit in a damaged file, a clock
that jumped) is replaced by the sequence's count of sample periods, so one bad value costs
one sample's time, never an hour (a u32 wrap) or a reversal. Across a reconnect the device
clock restarts, so the stretches are joined on the host clock.
"""

from __future__ import annotations

import numpy as np

# A clock step is trusted when it is positive and at most this many times what the sequence
# says (plus two periods): HX711 conversions jitter and a 10 SPS chip waits up to 1.25
# periods for its deadline, while a damaged value is off by a power of two of microseconds.
STEP_SLACK = 2.0
# More missing samples than this in one step is not a dropout the sequence can vouch for.
MAX_SEQ_GAP = 4096


def _segment_time_s(seq: np.ndarray, t_us: np.ndarray, host_t_s: np.ndarray) -> np.ndarray:
    """Seconds from the segment's first sample, monotonic non-decreasing."""
    n = seq.shape[0]
    if n == 0:
        return np.zeros(0)
    if n == 1:
        return np.zeros(1)
    # Differences of the counters in their own widths wrap exactly as the counters do
    # (modulo 2**16 and 2**32), without an int64 copy and a division per sample.
    d_seq = np.diff(seq.astype(np.uint16, copy=False))
    d_t_u32 = np.diff(t_us.astype(np.uint32, copy=False))
    single = (d_seq == 1) & (d_t_u32 > 0)
    if single.any():
        period_us = float(np.median(d_t_u32[single]))
    else:
        period_us = 0.0
    d_t = d_t_u32.astype(np.float64)
    if period_us <= 0.0:
        # No device clock (a plain-text plate stores t_us = -1): space the samples evenly
        # over the host clock's span, the only clock there is.
        host = host_t_s[np.isfinite(host_t_s)]
        span = float(host[-1] - host[0]) if host.size > 1 else 0.0
        step = span / (n - 1) if span > 0 else 1.0 / 80.0
        return np.arange(n, dtype=np.float64) * step
    if bool(single.all()) and float(d_t.max()) <= (STEP_SLACK + 2.0) * period_us:
        # The common case, a clean stream: every step is one sample and trusted.
        return _running_s(d_t)
    gaps = np.where((d_seq >= 1) & (d_seq <= MAX_SEQ_GAP), d_seq, 1).astype(np.float64)
    expected = gaps * period_us
    ok = (d_t > 0) & (d_t <= STEP_SLACK * expected + 2.0 * period_us)
    steps = np.where(ok, d_t, expected)
    return _running_s(steps)


def _running_s(steps_us: np.ndarray) -> np.ndarray:
    """Seconds from the first sample given the steps between samples in microseconds."""
    # Into one array, in place: an hour's times are 29 MB, and concatenate-then-divide
    # touched three of them (on a VM, first-touched memory is most of a read's cost).
    out = np.empty(steps_us.shape[0] + 1)
    out[0] = 0.0
    np.cumsum(steps_us, out=out[1:])
    out /= 1e6
    return out


def device_time_s(
    seq: np.ndarray,
    t_us: np.ndarray,
    host_t_s: np.ndarray,
    segment_starts: list[int],
) -> np.ndarray:
    """Monotonic seconds from the first sample, continuous over reconnects.

    Parameters
    ----------
    seq : (N,) uint16
        Sequence numbers as received.
    t_us : (N,) uint32
        Device microseconds as received.
    host_t_s : (N,) float64
        Host clock at arrival (joins segments; NaN where unknown).
    segment_starts : list of int
        Sample indices where the plate reconnected (its counters restarted).

    Returns
    -------
    (N,) float64
        Device time; a reconnect gap lasts as long as the host clock says.
    """
    n = seq.shape[0]
    t_s = np.zeros(n, np.float64)
    bounds = [0] + sorted({s for s in segment_starts if 0 < s < n}) + [n]
    for a, b in zip(bounds[:-1], bounds[1:], strict=False):
        if b <= a:
            continue
        seg = _segment_time_s(seq[a:b], t_us[a:b], host_t_s[a:b])
        if a == 0:
            t_s[a:b] = seg
            continue
        gap = host_t_s[a] - host_t_s[a - 1]
        if not np.isfinite(gap) or gap < 0:
            gap = 0.0
        # At least one sample period, so times stay strictly increasing.
        period = seg[1] if seg.shape[0] > 1 and seg[1] > 0 else 1e-3
        t_s[a:b] = t_s[a - 1] + max(float(gap), period) + seg
    return t_s
