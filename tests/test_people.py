"""The second person model produces what its truth says."""

from __future__ import annotations

import numpy as np
import pytest

from daq.calibration import G_M_S2
from hardware.people import PersonPlan, gain_errors, make_person
from hardware.virtual_plate import VirtualPlate


def _mass_kg(rec, t_s: float) -> float:
    return float(rec.fz_n(np.array([t_s]))[0] / G_M_S2)


def test_touch_and_go_bell_rests_on_the_floor_for_its_set_down_length() -> None:
    rec = make_person(PersonPlan(bell="touch", load_kg=20.0, set_down_s=(0.1, 0.15)), seed=4)
    for rep in rec.reps:
        assert 0.1 <= rep.set_down_s <= 0.15
        # The force at the bottom is the body alone; before the rep it is body and bell.
        assert _mass_kg(rec, rep.bottom_s) == pytest.approx(rec.body_mass_kg, abs=2.0)
        assert _mass_kg(rec, rep.start_s - 0.3) == pytest.approx(rec.body_mass_kg + 20, abs=2.0)
        # Measured width of the drop below body + half the bell: the rest plus its transfers.
        t = np.arange(rep.bottom_s - 0.45, rep.bottom_s + 0.45, 1e-3)
        low = rec.fz_n(t) / G_M_S2 < rec.body_mass_kg + 10.0
        width = low.sum() * 1e-3
        assert rep.set_down_s <= width <= rep.set_down_s + 0.25


def test_bell_picked_up_at_the_first_rep_and_put_down_at_the_last() -> None:
    plan = PersonPlan(stances=("bilateral",), bell="pickup", load_kg=16.0, n_reps=4)
    rec = make_person(plan, seed=2)
    first, last = rec.reps[0], rec.reps[-1]
    assert first.bell == "pickup"
    assert last.bell == "putdown"
    assert _mass_kg(rec, first.start_s - 0.5) == pytest.approx(plan.body_mass_kg, abs=2.0)
    assert _mass_kg(rec, first.relax_s) == pytest.approx(plan.body_mass_kg + 16, abs=2.0)
    assert _mass_kg(rec, last.relax_s) == pytest.approx(plan.body_mass_kg, abs=2.0)


@pytest.mark.parametrize("onset", ["before", "at", "after"])
def test_lean_onset_relative_to_lockout(onset: str) -> None:
    plan = PersonPlan(
        stances=("bilateral",), fault_rate=1.0, lean_onset=onset, n_reps=8, sway_mm=1.0
    )
    rec = make_person(plan, seed=11)
    leans = [r for r in rec.reps if "backward_lean" in r.faults]
    assert leans
    for rep in leans:
        assert rep.lean_onset_s is not None
        if onset == "before":
            assert rep.lean_onset_s <= -0.3
        elif onset == "at":
            assert -0.25 <= rep.lean_onset_s <= 0.0
        else:
            assert 0.0 <= rep.lean_onset_s <= 0.1
        # Settled 0.6 s after its onset: the CoP sits the scripted amount behind standing.
        base_y = rec.cop_mm(np.array([rep.start_s - 0.2]))[1][0]
        settled_t = rep.lockout_s + rep.lean_onset_s + 0.6
        y = rec.cop_mm(np.array([max(settled_t, rep.lockout_s + 0.1)]))[1][0]
        assert y - base_y == pytest.approx(rep.lockout_ap_mm, abs=4.0)


def test_back_foot_unloads_at_the_bottom_and_shifts_toward_the_lead_leg() -> None:
    plan = PersonPlan(
        stances=("kickstand-left",),
        fault_rate=0.0,
        back_share=(0.3, 0.3),
        back_unload=(0.5, 0.5),
        sway_mm=1.0,
        n_reps=3,
    )
    rec = make_person(plan, seed=5)
    x0 = rec.sets[0].baseline_mm[0]
    assert x0 < -30  # a kickstand-left stance carries the load toward the left foot
    for rep in rec.reps:
        assert rep.back_unload == 0.5
        x_bottom = rec.cop_mm(np.array([rep.bottom_s]))[0][0]
        assert -(x_bottom - x0) == pytest.approx(rep.lateral_shift_mm, abs=4.0)


def test_stance_changes_inside_one_file_and_truth_per_rep() -> None:
    plan = PersonPlan(stances=("bilateral", "kickstand-right", "kickstand-left"), n_reps=3)
    rec = make_person(plan, seed=8)
    assert [s.stance for s in rec.sets] == list(plan.stances)
    assert [s.arrived_by for s in rec.sets] == ["step-on", "replace", "replace"]
    for s in rec.sets:
        assert all(rec.reps[i].stance == s.stance for i in s.rep_indices)
        assert all(s.start_s <= rec.reps[i].bottom_s <= s.end_s for i in s.rep_indices)
    xs = [s.baseline_mm[0] for s in rec.sets]
    assert abs(xs[0]) < 10
    assert xs[1] > 30
    assert xs[2] < -30


def test_step_off_between_sets_empties_the_plate() -> None:
    rec = make_person(PersonPlan(change="step-off", n_reps=2), seed=3)
    # Stepping on again takes 1.2 s; the plate was empty for at least 2 s before that.
    gap = np.linspace(rec.sets[1].start_s - 3.1, rec.sets[1].start_s - 1.3, 20)
    assert np.all(rec.fz_n(gap) < 1.0)


def test_gain_errors_are_within_the_limit_and_reach_half_of_it() -> None:
    err = gain_errors(4, 0.10, seed=1)
    assert np.all(np.abs(err) <= 0.10)
    assert np.all(np.abs(err) >= 0.05)
    assert np.array_equal(err, gain_errors(4, 0.10, seed=1))


def test_tempo_and_sway_follow_the_plan() -> None:
    fast = make_person(PersonPlan(tempo="fast", profile="minjerk"), seed=1)
    slow = make_person(PersonPlan(tempo="slow", profile="minjerk"), seed=1)
    assert max(r.descent_s for r in fast.reps) <= 1.1
    assert min(r.descent_s for r in slow.reps) >= 1.8
    quiet = make_person(PersonPlan(sway_mm=4.0, stances=("bilateral",)), seed=1)
    w = quiet.sets[0].still_s
    t = np.arange(w[0] + 0.5, w[1], 0.01)
    assert 1.5 < float(np.std(quiet.cop_mm(t)[0])) < 8.0


def test_the_virtual_plate_plays_a_generated_person() -> None:
    rec = make_person(PersonPlan(stances=("bilateral",), n_reps=1), seed=0)
    plate = VirtualPlate(rec, rate_hz=80, seed=0)  # type: ignore[arg-type]
    forces = plate.true_forces_n(np.array([rec.sets[0].still_s[0] + 1.0]))
    assert forces.sum() == pytest.approx(rec.body_mass_kg * G_M_S2, rel=0.03)


def test_bad_plan_is_refused_with_the_field_named() -> None:
    with pytest.raises(ValueError, match="tempo"):
        make_person(PersonPlan(tempo="warp"))


def test_standing_still_the_centre_of_mass_moves_under_a_millimetre() -> None:
    # The vertical force standing still is the weight plus the heartbeat's recoil (1-10 Hz):
    # integrated twice it moves the centre of mass well under a millimetre, as a person's
    # does, and gives no velocity a hinge's onset (30 mm/s) could mistake for a movement.
    plan = PersonPlan(stances=("bilateral",), n_reps=1, sway_mm=5.0)
    for seed in (31, 32, 33):
        rec = make_person(plan, seed=seed)
        a, b = rec.sets[0].still_s
        sel = (rec.t_grid_s >= a + 0.5) & (rec.t_grid_s <= b)
        fz = rec.fz_grid_n[sel]
        dt = 1.0 / 2000.0
        acc = G_M_S2 * (fz / rec.body_mass_kg / G_M_S2 - 1.0)
        v = np.cumsum(acc - acc.mean()) * dt
        z = np.cumsum(v - v.mean()) * dt
        z -= np.polyval(np.polyfit(np.arange(z.size), z, 1), np.arange(z.size))
        assert np.std(z) < 1e-3
        # The analyser's velocity proxy: the force integrated over 0.8 s.
        n = 1600
        v_window = np.convolve(acc, np.ones(n), "valid") * dt
        assert np.abs(v_window).max() < 0.015
