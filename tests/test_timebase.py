"""Tests of daq.timebase: device time from wrapping counters, damage costs one sample."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daq.timebase import MAX_SEQ_GAP, STEP_SLACK, device_time_s


def _stream(n: int, period_us: int, seq0: int, t0_us: int) -> tuple[np.ndarray, np.ndarray]:
    seq = ((seq0 + np.arange(n)) % (1 << 16)).astype(np.uint16)
    t_us = ((t0_us + np.arange(n, dtype=np.int64) * period_us) % (1 << 32)).astype(np.uint32)
    return seq, t_us


def test_clean_stream_across_both_wraps_is_the_clock() -> None:
    n = 200_000
    seq, t_us = _stream(n, 1000, 65_000, (1 << 32) - 50_000)  # both counters wrap early
    t_s = device_time_s(seq, t_us, np.full(n, np.nan), [])
    np.testing.assert_allclose(t_s, np.arange(n) * 1e-3, atol=1e-9)


def test_a_flipped_clock_bit_costs_one_sample_time() -> None:
    n = 5000
    seq, t_us = _stream(n, 12_500, 7, 1_000_000)
    t_us[2500] ^= np.uint32(1 << 30)
    t_s = device_time_s(seq, t_us, np.full(n, np.nan), [])
    want = np.arange(n) * 0.0125
    assert np.all(np.diff(t_s) >= 0)
    np.testing.assert_allclose(t_s[:2500], want[:2500], atol=1e-9)
    np.testing.assert_allclose(t_s[2501:], want[2501:], atol=1e-9)


def test_dropped_samples_keep_the_clock_gap() -> None:
    seq, t_us = _stream(100, 1000, 0, 0)
    keep = np.r_[0:40, 43:100]  # three samples lost on the wire
    t_s = device_time_s(seq[keep], t_us[keep], np.full(keep.size, np.nan), [])
    assert t_s[40] - t_s[39] == pytest.approx(0.004)
    np.testing.assert_allclose(t_s, keep * 1e-3, atol=1e-9)


def test_a_plate_without_a_clock_is_spaced_over_the_host_clock() -> None:
    n = 81
    seq = np.arange(n, dtype=np.uint16)
    t_us = np.full(n, -1, dtype=np.int64)  # a plain-text plate has no device clock
    host = 1000.0 + np.linspace(0.0, 2.0, n)
    np.testing.assert_allclose(device_time_s(seq, t_us, host, []), np.linspace(0, 2.0, n))


def test_a_reconnect_is_joined_on_the_host_clock() -> None:
    a_seq, a_t = _stream(100, 1000, 500, 9_000_000)
    b_seq, b_t = _stream(100, 1000, 0, 0)  # the plate restarted its counters
    host = np.r_[100.0 + np.arange(100) * 1e-3, 105.0 + np.arange(100) * 1e-3]
    t_s = device_time_s(np.r_[a_seq, b_seq], np.r_[a_t, b_t], host, [100])
    assert t_s[100] - t_s[99] == pytest.approx(105.0 - (100.0 + 0.099))
    np.testing.assert_allclose(t_s[100:] - t_s[100], np.arange(100) * 1e-3, atol=1e-9)


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(0, 400),
    period_us=st.sampled_from([1000, 12_500, 100_000]),
    seed=st.integers(0, 2**32 - 1),
    flips=st.integers(0, 5),
    skips=st.integers(0, 5),
)
def test_damaged_streams_stay_monotonic_whatever_the_integer_types(
    n: int, period_us: int, seed: int, flips: int, skips: int
) -> None:
    rng = np.random.default_rng(seed)
    seq, t_us = _stream(n, period_us, int(rng.integers(0, 1 << 16)), int(rng.integers(0, 1 << 32)))
    jitter = rng.normal(0.0, 0.02 * period_us, n).astype(np.int64)
    t_us = ((t_us.astype(np.int64) + jitter) % (1 << 32)).astype(np.uint32)
    if n:
        for i in rng.integers(0, n, flips):
            t_us[i] ^= np.uint32(1 << int(rng.integers(0, 32)))
        for i in rng.integers(0, n, skips):
            seq[i] = rng.integers(0, 1 << 16)
    host = 1e9 + np.cumsum(rng.random(n))
    t_s = device_time_s(seq, t_us, host, [])
    assert t_s.shape == (n,)
    assert np.all(np.isfinite(t_s))
    assert np.all(np.diff(t_s) >= 0)
    if n >= 50:
        # With clean steps to learn the period from, a damaged value costs at most the
        # longest dropout the sequence can vouch for, never a u32 wrap (71 min).
        worst = STEP_SLACK * MAX_SEQ_GAP + 2.0
        assert t_s[-1] <= (n + 2 * (flips + skips) * worst) * period_us * 1e-6 * 1.1
    # The same counters as plain int64 (a text source, a hostile file) give the same times.
    np.testing.assert_array_equal(
        device_time_s(seq.astype(np.int64), t_us.astype(np.int64), host, []), t_s
    )
