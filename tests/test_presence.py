"""Tests of analysis.presence: who is on the plate, and whether a still plate is empty."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.presence import Occupancy, Presence, PresenceTracker, plate_occupancy
from daq.calibration import G_M_S2, Calibration, fz_and_cop
from daq.decoder import FrameDecoder
from daq.series import PlateSeries, SeriesMeta, glitch_free
from hardware.scenarios import make_scenario
from hardware.virtual_plate import VirtualPlate


def _plate_series(name: str, seed: int, rate_hz: int = 80, calibrated: bool = False):
    """A scenario through the virtual plate's bytes, on nominal gains unless calibrated."""
    sc = make_scenario(name, seed=seed)
    plate = VirtualPlate(sc, rate_hz=rate_hz, seed=seed)
    block = FrameDecoder().feed(plate.render(20.0)).samples
    gains = 1.0 / plate.truth.gains_counts_per_n if calibrated else np.full(4, 1 / 2000.0)
    cal = Calibration("virt", plate.plate, plate.truth.offsets_counts, gains, calibrated)
    force = cal.forces_n(block.counts)
    fz, cop = fz_and_cop(force, plate.plate.cells_mm)
    t = block.t_us / 1e6  # the plate booted at scenario time 0
    series = PlateSeries(
        t_s=t, fz_n=fz, cop_mm=cop, force_n=force, valid=glitch_free(block.counts),
        counts=block.counts, meta=SeriesMeta(calibrated=calibrated),
    )
    return sc, series


@pytest.mark.parametrize("rate_hz", [10, 80, 1000])
def test_a_standing_person_is_never_an_empty_plate(rate_hz: int) -> None:
    sc, series = _plate_series("quiet-stance", seed=7, rate_hz=rate_hz)
    on_s, _ = sc.on_plate_s
    # Uncalibrated: the load cannot be trusted, only the cells' sway tells.
    for t0 in np.arange(on_s + 2.0, on_s + 10.0, 1.0):
        window = series.between(t0, t0 + 1.0)
        assert plate_occupancy(window, calibrated=False) == Occupancy.PERSON
    # After the chips' start-up (a 10 SPS HX711 settles for 0.4 s), before stepping on.
    empty = series.between(0.45, on_s - 0.05)
    assert plate_occupancy(empty, calibrated=False) == Occupancy.EMPTY


def test_occupancy_uses_the_load_on_a_calibrated_plate() -> None:
    n = 100
    still_load = PlateSeries.from_arrays(
        np.arange(n) / 100, np.full(n, 200.0), np.zeros((n, 2)), np.full((n, 4), 50.0)
    )
    assert plate_occupancy(still_load, calibrated=True) == Occupancy.PERSON
    assert plate_occupancy(still_load, calibrated=False) == Occupancy.EMPTY
    assert plate_occupancy(still_load.slice(0, 2), calibrated=False) == Occupancy.UNSURE


def test_tracker_follows_step_on_weigh_and_step_off() -> None:
    sc, series = _plate_series("step-on-off", seed=11, calibrated=True)
    tracker = PresenceTracker(series.rate_hz)
    changes = []
    for i in range(0, len(series), 7):
        changes += tracker.feed(series.slice(i, i + 7))
    kinds = [c.presence for c in changes]
    assert kinds[:3] == [Presence.WEIGHING, Presence.ON, Presence.STEPPED_OFF]
    on_s, off_s = sc.on_plate_s
    assert changes[0].t_s == pytest.approx(on_s, abs=1.0)
    assert changes[1].weight_n / G_M_S2 == pytest.approx(sc.body_mass_kg, abs=1.0)
    assert on_s < changes[2].t_s < off_s + 0.5
