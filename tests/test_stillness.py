"""Tests of analysis.stillness: the one stillness detector."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.stillness import Stillness, first_still_index, run_lengths


def test_run_lengths_carry_across_blocks() -> None:
    flags = np.array([1, 1, 0, 1, 1, 1], dtype=bool)
    assert run_lengths(flags).tolist() == [1, 2, 0, 1, 2, 3]
    assert run_lengths(flags[:2], carry=5).tolist() == [6, 7]
    assert first_still_index(flags, 3) == 5
    assert first_still_index(flags, 4) == -1


def test_standing_tremor_is_still_and_a_step_is_not() -> None:
    rng = np.random.default_rng(1)
    fs = 100.0
    weight = 750.0 * (1 + 0.003 * rng.standard_normal(300))  # tremor, ~0.3 % rms
    still = Stillness(fs)
    still.prime(750.0)
    assert still.push(weight).all()
    assert still.still_s == pytest.approx(3.0)
    shift = np.full(50, 750.0 * 1.06)  # a weight shift of 6 %
    flags = still.push(shift)
    assert not flags[0]
    assert still.still_s < 0.5


def test_blocks_give_the_same_flags_as_one_push() -> None:
    rng = np.random.default_rng(2)
    x = 700 + np.cumsum(rng.standard_normal(1000))
    whole = Stillness(80.0).push(x)
    parts = Stillness(80.0)
    split = np.concatenate([parts.push(x[a:b]) for a, b in ((0, 3), (3, 400), (400, 1000))])
    np.testing.assert_array_equal(whole, split)


def test_following_jumps_sees_stillness_soon_after_stepping_off() -> None:
    fs = 100.0
    t = np.arange(0, 6, 1 / fs)
    force = np.where(t < 2.0, 780.0, 0.0) + 0.02 * np.random.default_rng(3).standard_normal(t.size)
    lagging = Stillness(fs, reference_n=100.0)
    jumping = Stillness(fs, reference_n=100.0, follow_jumps=True)
    lag_flags = lagging.push(force)
    jump_flags = jumping.push(force)
    after = t >= 2.0
    # The plain mean creeps toward zero for ~2 s; followed, it is at the new level at once.
    first_lag = t[after][np.argmax(lag_flags[after])]
    first_jump = t[after][np.argmax(jump_flags[after])]
    assert first_jump < 2.05
    assert first_lag > 3.5
    assert not jump_flags[np.searchsorted(t, 2.0)]  # the jump itself is not still
