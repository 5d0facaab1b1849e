"""Tests of analysis.baseline: the standing baseline."""

from __future__ import annotations

import pytest

from analysis.baseline import BASELINE_RESET_MM, StandingBaseline


def test_time_weighted_mean_and_reset_when_the_feet_move() -> None:
    b = StandingBaseline()
    assert b.position_mm is None
    assert b.weight_n is None
    assert not b.add(0.0, -20.0, 700.0, 1.0)
    assert not b.add(3.0, -20.0, 710.0, 3.0)
    assert b.position_mm == pytest.approx((2.25, -20.0))
    assert b.weight_n == pytest.approx(707.5)
    assert b.seconds == 4.0
    # A stretch far from it: the feet were re-placed; start afresh from that stretch.
    assert b.add(2.25 + BASELINE_RESET_MM + 1, -20.0, 690.0, 0.5)
    assert b.position_mm == pytest.approx((2.25 + BASELINE_RESET_MM + 1, -20.0))
    assert b.seconds == 0.5
    b.reset()
    assert b.position_mm is None
