"""Stance geometry, zones, the kickstand lead-foot estimator and the base-of-support fit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.stance import (
    DEFAULT_ZONE_CUTS,
    STANCES,
    ZONE_NAMES,
    BaseOfSupport,
    StanceSetup,
    fit_base_of_support,
    foot_length_from_shoe_size,
)
from daq.errors import MidfootError


def test_stances_and_defaults() -> None:
    assert STANCES == ("bilateral", "kickstand-left", "kickstand-right")
    s = StanceSetup()
    assert s.stance == "bilateral"
    assert s.foot_length_mm == 260.0
    assert s.heel_y_mm == -130.0
    assert s.stance_width_mm == 200.0
    assert s.zone_cuts == DEFAULT_ZONE_CUTS
    assert StanceSetup("kickstand-left").heel_y_mm == -60.0
    assert StanceSetup("kickstand-right", heel_y_mm=-80).heel_y_mm == -80.0


def test_lead_side_and_foot_positions() -> None:
    left = StanceSetup("kickstand-left")
    right = StanceSetup("kickstand-right")
    both = StanceSetup("bilateral")
    assert (left.lead_side, right.lead_side, both.lead_side) == ("left", "right", None)
    assert left.lead_foot_x_mm == -100.0
    assert right.lead_foot_x_mm == 100.0
    assert both.lead_foot_x_mm == 0.0
    assert left.back_contact_mm[0] == 100.0
    # The back foot's ball sits beside the lead heel, just ahead of the heel line.
    assert left.heel_y_mm <= left.back_contact_mm[1] < left.heel_y_mm + 20


def test_shoe_size() -> None:
    assert foot_length_from_shoe_size(42) == pytest.approx(265.0)
    assert foot_length_from_shoe_size(38) == pytest.approx(238.3, abs=0.1)
    with pytest.raises(MidfootError, match="shoe size"):
        foot_length_from_shoe_size(70)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"stance": "squat"}, "unknown stance"),
        ({"foot_length_mm": 50}, "foot length"),
        ({"stance_width_mm": -5}, "stance width"),
        ({"zone_cuts": (0.6, 0.3)}, "zone cuts"),
        ({"zone_cuts": (0.0, 0.5)}, "zone cuts"),
    ],
)
def test_bad_setups(kwargs: dict, match: str) -> None:
    with pytest.raises(MidfootError, match=match):
        StanceSetup(**kwargs)


def test_zone_of_bilateral_along_the_foot() -> None:
    s = StanceSetup()
    heel = s.heel_y_mm
    ys = heel + np.array([0.1, 0.2, 0.4, 0.6, 0.8, 0.95]) * s.foot_length_mm
    assert list(s.zone_of(np.zeros_like(ys), ys)) == [
        "heel",
        "heel",
        "midfoot",
        "midfoot",
        "forefoot",
        "forefoot",
    ]
    # Behind the heel, past the toes, and beside the feet are off; NaN (nobody) too.
    assert s.zone_of(0.0, heel - 40.0) == "off"
    assert s.zone_of(0.0, s.toe_y_mm + 40.0) == "off"
    assert s.zone_of(250.0, 0.0) == "off"
    assert s.zone_of(np.nan, np.nan) == "off"


def test_zone_codes_match_names_and_cuts() -> None:
    s = StanceSetup(zone_cuts=(0.25, 0.5))
    c0, c1 = s.zone_cuts_y_mm()
    assert c0 == pytest.approx(s.heel_y_mm + 0.25 * 260)
    assert c1 == pytest.approx(s.heel_y_mm + 0.5 * 260)
    ys = np.array([c0 - 1, c0 + 1, c1 - 1, c1 + 1])
    codes = s.zone_codes(np.zeros(4), ys)
    assert codes.tolist() == [0, 1, 1, 2]
    assert list(ZONE_NAMES[codes]) == list(s.zone_of(np.zeros(4), ys))


def test_zone_of_is_vectorised_over_any_shape() -> None:
    s = StanceSetup("kickstand-right")
    x = np.full((3, 4), s.lead_foot_x_mm)
    y = np.linspace(s.heel_y_mm + 5, s.toe_y_mm - 5, 12).reshape(3, 4)
    z = s.zone_of(x, y)
    assert z.shape == (3, 4)
    assert z[0, 0] == "heel"
    assert z[-1, -1] == "forefoot"


def test_kickstand_zone_only_on_the_lead_foot() -> None:
    s = StanceSetup("kickstand-left")
    mid_y = s.heel_y_mm + 0.5 * s.foot_length_mm
    assert s.zone_of(s.lead_foot_x_mm, mid_y) == "midfoot"
    assert s.zone_of(s.back_foot_x_mm, mid_y) == "off"


def test_outlines_lead_first_and_zones_inside_them() -> None:
    for stance in STANCES:
        s = StanceSetup(stance)
        feet = s.feet_outlines_mm()
        assert len(feet) == 2
        for poly in feet:
            assert poly.ndim == 2
            assert poly.shape[1] == 2
            assert poly.shape[0] >= 6
        lead = feet[0]
        assert lead[:, 0].mean() == pytest.approx(s.lead_foot_x_mm if s.is_kickstand else -100)
        assert lead[:, 1].min() == pytest.approx(s.heel_y_mm)
        assert lead[:, 1].max() == pytest.approx(s.toe_y_mm)
        zones = s.zone_boundaries_mm()
        assert len(zones) == (3 if s.is_kickstand else 6)
        assert [name for name, _ in zones[:3]] == ["heel", "midfoot", "forefoot"]
        for name, poly in zones:
            # Every zone polygon lies within its foot's AP extent and is classified as itself.
            centre = poly.mean(axis=0)
            assert s.zone_of(centre[0] if not s.is_kickstand else s.lead_foot_x_mm, centre[1]) in (
                name,
                "off",
            )


def test_back_foot_fraction_lever_rule() -> None:
    s = StanceSetup("kickstand-right")
    assert s.back_foot_fraction(s.lead_foot_x_mm) == 0.0
    x = s.lead_foot_x_mm + 0.25 * (s.back_foot_x_mm - s.lead_foot_x_mm)
    assert s.back_foot_fraction(x) == pytest.approx(0.25)
    assert StanceSetup().back_foot_fraction(30.0) == 0.0


@settings(max_examples=60, deadline=None)
@given(
    b=st.floats(0.0, 0.45),
    frac=st.floats(0.0, 1.0),
    lateral=st.floats(-30, 30),
    stance=st.sampled_from(["kickstand-left", "kickstand-right"]),
)
def test_lead_foot_estimator_inverts_the_mixture(
    b: float, frac: float, lateral: float, stance: str
) -> None:
    s = StanceSetup(stance)
    lead = np.array([s.lead_foot_x_mm + lateral, s.heel_y_mm + frac * s.foot_length_mm])
    back = np.array(s.back_contact_mm)
    combined = (1 - b) * lead + b * back
    x, y = s.lead_foot_cop_mm(combined[0], combined[1], b)
    assert x == pytest.approx(lead[0], abs=1e-9)
    assert y == pytest.approx(lead[1], abs=1e-9)


def test_bilateral_estimator_is_identity() -> None:
    s = StanceSetup()
    x, y = s.lead_foot_cop_mm(np.array([1.0, 2.0]), np.array([3.0, 4.0]), 0.3)
    assert x.tolist() == [1.0, 2.0]
    assert y.tolist() == [3.0, 4.0]


def _rocking_trial(n: int = 4000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 4 * np.pi, n)
    y = -10 + 80 * np.sin(t) + rng.normal(0, 2, n)  # heels -90, toes +70
    x = 60 * np.sin(2 * t + 0.3) + rng.normal(0, 2, n)
    x[100] = 900.0  # a glitch must not become the limit
    return x, y


def test_fit_base_of_support_limits_and_hull() -> None:
    x, y = _rocking_trial()
    bos = fit_base_of_support(x, y)
    assert isinstance(bos, BaseOfSupport)
    assert bos.y_min_mm == pytest.approx(-90, abs=4)
    assert bos.y_max_mm == pytest.approx(70, abs=4)
    assert bos.x_max_mm < 70
    assert bos.hull_mm.shape[1] == 2
    assert bos.hull_mm.shape[0] >= 3
    d = bos.to_dict()
    assert set(d) == {"x_min_mm", "x_max_mm", "y_min_mm", "y_max_mm", "hull_mm"}


def test_zones_placed_inside_the_base_of_support() -> None:
    x, y = _rocking_trial()
    bos = fit_base_of_support(x, y)
    s = StanceSetup().with_base_of_support(bos)
    c0, c1 = s.zone_cuts_y_mm()
    span = bos.y_max_mm - bos.y_min_mm
    assert c0 == pytest.approx(bos.y_min_mm + s.zone_cuts[0] * span)
    assert c1 == pytest.approx(bos.y_min_mm + s.zone_cuts[1] * span)
    assert s.zone_of(0.0, bos.y_min_mm + 0.1 * span) == "heel"
    assert s.to_dict()["base_of_support"]["y_min_mm"] == pytest.approx(bos.y_min_mm)


def test_fit_base_of_support_refuses_a_trial_that_did_not_rock() -> None:
    rng = np.random.default_rng(1)
    with pytest.raises(MidfootError, match="rock"):
        fit_base_of_support(rng.normal(0, 3, 500), rng.normal(0, 3, 500))
    with pytest.raises(MidfootError, match="fewer than 10"):
        fit_base_of_support(np.array([np.nan] * 20), np.zeros(20))


def test_with_stance_moves_a_default_heel_line_only() -> None:
    s = StanceSetup().with_stance("kickstand-left")
    assert s.heel_y_mm == -60.0
    custom = StanceSetup(heel_y_mm=-100).with_stance("kickstand-left")
    assert custom.heel_y_mm == -100.0
