"""Tests of analysis.calibration_wizard: tare, captures at still moments, gain fit."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.calibration_wizard import CalibrationWizard, position_name
from daq.calibration import Calibration, fz_and_cop
from daq.decoder import FrameDecoder
from daq.series import PlateSeries, glitch_free
from hardware.scenarios import make_scenario
from hardware.virtual_plate import VirtualPlate


def _blocks(rate_hz: int, seed: int, block_s: float = 0.05):
    sc = make_scenario("calibration", seed=seed)
    plate = VirtualPlate(sc, rate_hz=rate_hz, seed=seed)
    block = FrameDecoder().feed(plate.render()).samples
    t = block.t_us / 1e6
    step = max(1, int(round(block_s * rate_hz)))
    for i in range(0, len(block), step):
        sl = slice(i, i + step)
        n = t[sl].shape[0]
        yield PlateSeries(
            t_s=t[sl], fz_n=np.zeros(n), cop_mm=np.zeros((n, 2)), force_n=np.zeros((n, 4)),
            valid=glitch_free(block.counts[sl]), counts=block.counts[sl],
        ), plate, sc


@pytest.mark.parametrize("rate_hz", [80, 1000])
def test_wizard_recovers_the_plate_and_measures_its_cop_error(rate_hz: int) -> None:
    wizard = None
    for block, plate, sc in _blocks(rate_hz, seed=5):
        if wizard is None:
            nominal = Calibration.nominal("virt", plate.plate)
            wizard = CalibrationWizard("virt", plate.plate, sc.calibration.mass_kg, nominal)
            assert wizard.step == "tare"
        wizard.feed(block)
        if wizard.done:
            break
    assert wizard is not None
    assert wizard.done, wizard.prompt
    assert len(wizard.captures) == len(wizard.positions_mm)
    true_gains = 1.0 / plate.truth.gains_counts_per_n
    np.testing.assert_allclose(wizard.result.gain_n_per_count, true_gains, rtol=0.02)
    assert wizard.result.calibrated
    assert float(np.max(wizard.residual_cop_mm)) < 3.0
    # The fitted calibration puts the mass where it was set down.
    cal = wizard.result
    for capture, xy in zip(wizard.captures, wizard.positions_mm, strict=True):
        _, cop = fz_and_cop(cal.forces_n(capture[None, :]), plate.plate.cells_mm)
        assert np.hypot(*(cop[0] - xy)) < 3.0


def test_positions_are_named_for_a_person() -> None:
    assert position_name(np.array([0.0, 0.0])) == "the centre"
    assert position_name(np.array([-100.0, 120.0])).startswith("front-left")
