"""Calibration: tare, least-squares gains from a known mass, CoP, and the stored file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from daq.calibration import (
    G_M_S2,
    Calibration,
    calibration_path,
    calibration_positions_mm,
    fit_gains,
    fz_and_cop,
    load_calibration,
    save_calibration,
    tare_offsets,
)
from daq.errors import MidfootError
from daq.plate import load_plate, preset_names


def bilinear_forces(weight_n: float, xy_mm: np.ndarray, half_w: float, half_d: float):
    """Statically consistent split of a point load over four corner cells (FL, FR, BR, BL)."""
    wx = 0.5 + xy_mm[0] / (2 * half_w)  # share on the right
    wy = 0.5 + xy_mm[1] / (2 * half_d)  # share at the front
    return weight_n * np.array([(1 - wx) * wy, wx * wy, wx * (1 - wy), (1 - wx) * (1 - wy)])


def test_presets_load_with_cells_in_protocol_order():
    assert "diy-4cell-600" in preset_names()
    plate = load_plate("diy-4cell-600")
    fl, fr, br, bl = plate.cells_mm
    assert fl[0] < 0 < fl[1]
    assert fr[0] > 0 < fr[1]
    assert br[0] > 0 > br[1]
    assert bl[0] < 0 > bl[1]


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(MidfootError, match="diy-4cell-600"):
        load_plate("no-such-plate")


def test_cop_is_the_force_weighted_cell_position_and_gated():
    plate = load_plate()
    force = np.vstack([bilinear_forces(700.0, np.array([30.0, -80.0]), 250, 250), np.full(4, 1.0)])
    fz, cop = fz_and_cop(force, plate.cells_mm, gate_n=20.0)
    assert fz[0] == pytest.approx(700.0)
    assert cop[0] == pytest.approx([30.0, -80.0])
    assert np.all(np.isnan(cop[1]))  # 4 N total is below the gate


def test_fit_recovers_true_gains_and_reports_small_cop_error():
    plate = load_plate()
    rng = np.random.default_rng(3)
    true_gain = 1 / 2000 * rng.uniform(0.85, 1.15, 4) * np.array([1, -1, 1, 1])
    offsets = rng.uniform(-5e4, 5e4, 4)
    positions = calibration_positions_mm(plate)
    weight = 20 * G_M_S2
    counts = np.array(
        [bilinear_forces(weight, p, 250, 250) / true_gain + offsets for p in positions]
    )
    counts += rng.normal(0, 5, counts.shape)  # a little noise on the means
    fit = fit_gains(counts, positions, offsets, 20.0, plate.cells_mm)
    assert fit.gain_n_per_count == pytest.approx(true_gain, rel=2e-3)
    assert fit.rms_cop_error_mm < 0.5
    assert np.abs(fit.weight_error_n).max() < 0.5


def test_fit_with_a_wrong_mass_position_shows_in_the_residual():
    plate = load_plate()
    positions = calibration_positions_mm(plate)
    weight = 20 * G_M_S2
    counts = np.array([bilinear_forces(weight, p, 250, 250) * 2000 for p in positions])
    wrong = positions.copy()
    wrong[2] += [40.0, 0.0]  # the person put the mass 40 mm off its mark
    fit = fit_gains(counts, wrong, np.zeros(4), 20.0, plate.cells_mm)
    assert fit.cop_error_mm.max() > 10.0


def test_tare_of_no_samples_says_so():
    with pytest.raises(MidfootError, match="no samples to tare"):
        tare_offsets(np.zeros((0, 4)))
    assert tare_offsets(np.array([[1, 2], [3, 4]])) == pytest.approx([2, 3])


def test_save_and_load_round_trip():
    cal = Calibration(
        plate_id="plate/1",  # a slash must not escape the config folder
        plate=load_plate(),
        offset_counts=np.array([1.0, 2.0, 3.0, 4.0]),
        gain_n_per_count=np.array([5e-4, -5e-4, 4e-4, 6e-4]),
        calibrated=True,
        residual_cop_mm=1.2,
    )
    path = save_calibration(cal)
    assert path.parent.name == "calibrations"
    assert "/" not in path.name
    loaded, warning = load_calibration("plate/1")
    assert warning is None
    assert loaded.gain_n_per_count == pytest.approx(cal.gain_n_per_count)
    assert loaded.residual_cop_mm == 1.2


def test_missing_calibration_gives_nominal_and_a_warning():
    cal, warning = load_calibration("never-seen")
    assert not cal.calibrated
    assert "midfoot calibrate" in warning


@pytest.mark.parametrize("content", ["{not json", json.dumps({"plate_id": "x"}), ""])
def test_corrupt_calibration_file_never_crashes(content: str):
    path = calibration_path("broken")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    cal, warning = load_calibration("broken")
    assert not cal.calibrated
    assert "corrupt" in warning
    assert str(path) in warning
