"""The analyser on the second person model (hardware/people.py), and each change it needed.

Recordings go through the real byte path (bench/people_table.py: virtual plate -> bytes ->
decoder -> calibration -> analysis) and are scored against their own truth.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from analysis.analyser import analyse_series
from analysis.events import RepCompleted, StanceInferred
from analysis.hinge import HingeAnalyser
from analysis.report import analyse_series_report
from analysis.reps import FAULT_NAMES, hinge_path, short_set_down_spans
from analysis.stance import StanceSetup, StanceTimeline, infer_stance
from daq.calibration import G_M_S2
from daq.series import PlateSeries
from hardware.people import PersonPlan

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("people_table", ROOT / "bench" / "people_table.py")
assert _spec is not None
assert _spec.loader is not None
people_table = importlib.util.module_from_spec(_spec)
sys.modules["people_table"] = people_table
_spec.loader.exec_module(people_table)


def _case(plan: PersonPlan, seed: int, rate_hz: int, gain: float = 0.0):
    return people_table.PeopleCase(
        model="people", seed=seed, rate_hz=rate_hz, gain_error=gain, plan=plan
    )


THREE_STANCES = PersonPlan(
    stances=("bilateral", "kickstand-left", "kickstand-right"),
    profile="minjerk",
    tempo="medium",
    sway_mm=2.0,
    n_reps=4,
)


def test_feet_replaced_twice_counts_every_set_exactly_and_infers_each_stance() -> None:
    _, s = people_table.run(_case(THREE_STANCES, seed=1, rate_hz=80))
    assert s.sets_exact == s.sets == 3  # re-placing the feet was never a rep
    assert s.bottom_ok == s.reps_true == 12
    assert s.stance_right == s.stance_reps  # no stance told: every rep in the right one
    for f in FAULT_NAMES:
        assert s.precision(f) == 1.0, f
    assert s.recall("heel_shift") == 1.0


def test_stepping_off_between_the_two_kickstand_sides() -> None:
    plan = PersonPlan(
        stances=("kickstand-right", "kickstand-left"),
        profile="minjerk",
        tempo="medium",
        change="step-off",
        sway_mm=2.0,
        n_reps=4,
    )
    for rate in (10, 1000):
        _, s = people_table.run(_case(plan, seed=1, rate_hz=rate))
        assert s.sets_exact == s.sets == 2
        assert s.stance_right == s.stance_reps == 8
        assert all(s.precision(f) == 1.0 and s.recall(f) == 1.0 for f in FAULT_NAMES)
        assert s.pairs_right == s.pairs == 1


@pytest.mark.parametrize("rate_hz", [10, 80, 1000])
def test_touch_and_go_set_downs_of_a_fraction_of_a_second_keep_every_rep(rate_hz: int) -> None:
    plan = PersonPlan(
        stances=("kickstand-left",),
        profile="minjerk",
        tempo="medium",
        bell="touch",
        set_down_s=(0.1, 0.3),
        load_kg=16.0,
        sway_mm=2.0,
        n_reps=5,
    )
    played = people_table.play(_case(plan, seed=2, rate_hz=rate_hz))
    reps = analyse_series(played.series, played.told)
    assert len(reps) == 5
    for rep, truth in zip(reps, played.reps, strict=True):
        assert abs(rep.bottom_s - truth.bottom_s) <= 0.25
        assert rep.set_down


def test_a_lean_that_settles_in_after_lockout_is_a_lean_and_the_hold_counts_it() -> None:
    plan = PersonPlan(
        stances=("bilateral",),
        profile="minjerk",
        tempo="medium",
        fault_rate=1.0,
        lean_onset="after",
        sway_mm=2.0,
        n_reps=5,
    )
    played = people_table.play(_case(plan, seed=2, rate_hz=80))
    reps = analyse_series(played.series, played.told)
    pairs = people_table._match(played.reps, reps)
    leans = [(t, r) for t, r in pairs if "backward_lean" in t.faults]
    assert leans
    for truth, rep in leans:
        assert rep is not None
        assert "backward_lean" in rep.fault_names
        assert rep.lockout_shift_mm < -8.0
        # Timed while standing at the top, leaning or not (not only until the CoP moved).
        assert rep.lockout_hold_s is not None
        assert rep.lockout_hold_s >= 0.5 * truth.hold_s
    for truth, rep in pairs:
        if rep is not None and "backward_lean" not in truth.faults:
            assert "backward_lean" not in rep.fault_names


def test_streaming_in_50_ms_blocks_equals_offline_on_the_second_model() -> None:
    plan = PersonPlan(
        stances=("bilateral", "kickstand-right"), bell="touch", set_down_s=(0.2, 0.5), n_reps=3
    )
    played = people_table.play(_case(plan, seed=5, rate_hz=80, gain=0.05))
    setup = StanceSetup()
    live = HingeAnalyser(setup, stance_told=False)
    series = played.series
    edges = np.searchsorted(series.t_s, np.arange(series.t_s[0], series.t_s[-1] + 0.05, 0.05))
    completed = 0
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        if b > a:
            completed += sum(isinstance(e, RepCompleted) for e in live.feed(series.slice(a, b)))
    live.finish()
    offline = HingeAnalyser(setup, stance_told=False)
    analyse_series(series, StanceTimeline(setup, (), "default"), analyser=offline)
    assert completed == len(live.reps) > 0
    assert live.reps == offline.reps


def _kickstand_left_series() -> PlateSeries:
    plan = PersonPlan(
        stances=("kickstand-left",), profile="minjerk", tempo="medium", n_reps=3, sway_mm=2.0
    )
    return people_table.play(_case(plan, seed=3, rate_hz=80)).series


def test_analyse_infers_the_stance_when_none_is_told_and_says_so() -> None:
    report = analyse_series_report(_kickstand_left_series())
    assert report.meta["stance_source"] == "inferred"
    assert report.stance.stance == "kickstand-left"
    assert len(report.reps) == 3
    assert all(r.stance == "kickstand-left" for r in report.reps)
    assert report.meta["stance_notes"] == []


def test_a_told_stance_wins_but_the_mismatch_is_said_in_one_line() -> None:
    report = analyse_series_report(_kickstand_left_series(), {"stance": "bilateral"})
    assert report.meta["stance_source"] == "told"
    assert all(r.stance == "bilateral" for r in report.reps)
    notes = report.meta["stance_notes"]
    assert len(notes) == 1
    assert "kickstand-left" in notes[0]
    assert "bilateral" in notes[0]
    assert "\n" not in notes[0]


def test_stance_inferred_event_live_carries_the_told_stance() -> None:
    series = _kickstand_left_series()
    an = HingeAnalyser(StanceSetup("kickstand-right"))
    events = []
    for i in range(0, len(series), 400):
        events += an.feed(series.slice(i, min(i + 400, len(series))))
    guesses = [e for e in events if isinstance(e, StanceInferred)]
    assert guesses
    assert guesses[0].mismatch
    assert guesses[0].stance == "kickstand-left"
    assert an.stance.stance == "kickstand-right"  # told wins


def test_infer_stance_from_where_the_load_sits() -> None:
    feet = StanceSetup(stance_width_mm=200.0)
    assert infer_stance(3.0, feet).stance == "bilateral"
    assert infer_stance(-20.0, feet).stance == "bilateral"
    left = infer_stance(-60.0, feet)
    assert left.stance == "kickstand-left"
    assert left.back_foot_fraction == pytest.approx(0.2, abs=0.01)
    assert infer_stance(45.0, feet).stance == "kickstand-right"
    assert infer_stance(float("nan"), feet).stance == "bilateral"


def test_a_short_drop_is_a_set_down_only_between_braking_and_push() -> None:
    fs = 100.0
    t = np.arange(0.0, 3.0, 1.0 / fs)
    w = 90.0 * G_M_S2
    fz = np.full(t.shape, w)
    fz[(t >= 1.0) & (t < 1.3)] = 1.08 * w  # braking into the bottom
    fz[(t >= 1.3) & (t < 1.5)] = w - 16 * G_M_S2  # bell on the floor for 0.2 s
    fz[(t >= 1.5) & (t < 1.8)] = 1.08 * w  # the push up
    spans = short_set_down_spans(t, fz, w)
    assert len(spans) == 1
    i0, i1 = spans[0]
    assert t[i0] == pytest.approx(1.3, abs=0.02)
    assert t[i1] == pytest.approx(1.49, abs=0.02)
    # The same drop straight out of standing (the first dip of a descent) is not one.
    fz2 = np.full(t.shape, w)
    fz2[(t >= 1.3) & (t < 1.5)] = w - 16 * G_M_S2
    fz2[(t >= 1.5) & (t < 1.8)] = 1.08 * w
    assert short_set_down_spans(t, fz2, w) == []


def test_a_short_rest_is_a_set_down_at_slow_tempo_when_the_dip_is_not_paid_back() -> None:
    # A slow hinge brakes at under 1 % of the weight, far below the 2 % flank test; the
    # bell's missing weight is not paid back by any push within a second, a dip is.
    fs = 100.0
    t = np.arange(0.0, 4.0, 1.0 / fs)
    w = 90.0 * G_M_S2
    fz = np.full(t.shape, w)
    fz[(t >= 1.0) & (t < 1.8)] = 1.008 * w  # slow braking into the bottom
    fz[(t >= 1.8) & (t < 2.2)] = w - 16 * G_M_S2  # bell on the floor for 0.4 s
    fz[(t >= 2.2) & (t < 3.0)] = 1.008 * w  # a slow push up
    spans = short_set_down_spans(t, fz, w)
    assert len(spans) == 1
    assert t[spans[0][0]] == pytest.approx(1.8, abs=0.02)
    # The same dip paid back by braking (the body accelerating, then stopped) is not one.
    fz2 = np.full(t.shape, w)
    fz2[(t >= 1.8) & (t < 2.2)] = 0.9 * w
    fz2[(t >= 2.2) & (t < 2.6)] = 1.09 * w
    assert short_set_down_spans(t, fz2, w) == []


@pytest.mark.parametrize(
    ("set_down_s", "seeds"),
    [
        # Before the unpaid-dip rule these kept 1 of 30 reps (each movement ran to the 12 s
        # limit).
        ((0.3, 0.5), (51, 52)),
        # Rests of 0.1-0.3 s: no braking above 2 % around them, and the push of the ascent
        # pays back most of the dip within a second, so neither the flank nor the
        # unpaid-dip test sees them. Before the closure rule 18 of these 30 were found.
        ((0.1, 0.3), (61, 62)),
    ],
)
def test_slow_touch_and_go_reps_on_unseen_people_keep_every_rep(
    set_down_s: tuple[float, float], seeds: tuple[int, int]
) -> None:
    # Seeds the set-down rules were not tuned on (the bench walk uses 7000-7035).
    plan = PersonPlan(
        stances=("bilateral",),
        profile="minjerk",
        tempo="slow",
        bell="touch",
        set_down_s=set_down_s,
        load_kg=16.0,
        sway_mm=2.0,
        n_reps=5,
    )
    for rate_hz in (10, 80, 1000):
        for seed in seeds:
            played = people_table.play(_case(plan, seed=seed, rate_hz=rate_hz))
            reps = analyse_series(played.series, played.told)
            assert len(reps) == 5, (rate_hz, seed)
            for rep, truth in zip(reps, played.reps, strict=True):
                assert abs(rep.bottom_s - truth.bottom_s) <= 0.25, (rate_hz, seed)
                assert rep.set_down, (rate_hz, seed)


def test_at_10_hz_the_push_after_a_touch_and_go_rest_is_not_taken_as_rest() -> None:
    # Fast touch-and-go at 10 Hz: a sample on either side of the bell's drop was treated
    # as at rest, and the one after it is the push's first 0.1 s (13 % of the weight), so
    # the climb's path never came back up. 20 of these 30 reps were kept with that margin.
    plan = PersonPlan(
        stances=("kickstand-left",),
        profile="minjerk",
        tempo="fast",
        bell="touch",
        set_down_s=(0.3, 0.5),
        load_kg=16.0,
        sway_mm=2.0,
        n_reps=5,
    )
    kept = 0
    for seed in range(81, 87):
        played = people_table.play(_case(plan, seed=seed, rate_hz=10))
        reps = analyse_series(played.series, played.told)
        for truth, rep in people_table._match(played.reps, reps):
            kept += (
                rep is not None and abs(rep.bottom_s - truth.bottom_s) <= 0.25 and rep.set_down
            )
    assert kept >= 26


def test_a_drop_read_as_a_set_down_only_if_that_closes_the_path() -> None:
    # A slow rep (braking under 1 % of the weight) with a bell on the floor for 0.2 s:
    # read plainly its path does not come back up; read with the rest it does.
    fs = 100.0
    t = np.arange(0.0, 7.0, 1.0 / fs)
    w = 90.0 * G_M_S2
    depth = 0.15

    def hinge(u: np.ndarray) -> np.ndarray:
        # Minimum-jerk height change and its acceleration, u in [0, 1] over 2.5 s.
        return depth * (60 * u - 180 * u**2 + 120 * u**3) / 2.5**2

    fz = np.full(t.shape, w)
    down = (t >= 1.0) & (t < 3.5)
    up = (t >= 3.7) & (t < 6.2)
    body_w = w - 16 * G_M_S2
    fz[down] = w * (1.0 - hinge((t[down] - 1.0) / 2.5) / G_M_S2)
    fz[(t >= 3.5) & (t < 3.7)] = body_w  # the bell rests on the floor
    fz[up] = w * (1.0 + hinge((t[up] - 3.7) / 2.5) / G_M_S2)
    assert short_set_down_spans(t, fz, w) == []  # no flank, and the push pays it back
    path = hinge_path(t, fz, w)
    assert path.set_down is not None
    assert t[path.set_down[0]] == pytest.approx(3.5, abs=0.02)
    assert path.depth_m == pytest.approx(depth, rel=0.05)
    assert path.recovery == pytest.approx(1.0, abs=0.05)
    # The same dip with nothing missing (the body's own motion, paid back) is no set-down.
    fz2 = np.full(t.shape, w)
    fz2[(t >= 3.5) & (t < 3.7)] = body_w
    fz2[(t >= 3.7) & (t < 3.9)] = 2 * w - body_w
    assert hinge_path(t, fz2, w).set_down is None


@pytest.mark.parametrize("rate_hz", [10, 80, 1000])
def test_a_bell_picked_up_at_the_first_rep_and_put_down_at_the_last_keeps_every_rep(
    rate_hz: int,
) -> None:
    # The person stands 20-30 % heavier between the first rep's bottom and the last's:
    # every rep of the set is still found, at its bottom, and the held ones carry the load.
    plan = PersonPlan(
        stances=("kickstand-right",),
        profile="minjerk",
        tempo="medium",
        bell="pickup",
        set_down_s=(0.2, 0.6),
        load_kg=16.0,
        sway_mm=2.0,
        n_reps=5,
    )
    for seed in (41, 42):
        played = people_table.play(_case(plan, seed=seed, rate_hz=rate_hz))
        reps = analyse_series(played.series, played.told)
        assert len(reps) == 5, seed
        for rep, truth in zip(reps, played.reps, strict=True):
            assert abs(rep.bottom_s - truth.bottom_s) <= 0.25, seed
        for rep in reps[1:-1]:
            assert rep.load_kg is not None
            assert abs(rep.load_kg - 16.0) < 3.0, seed


def test_streaming_equals_offline_with_a_bell_picked_up_and_put_down() -> None:
    plan = PersonPlan(
        stances=("bilateral",), profile="minjerk", tempo="medium", bell="pickup", n_reps=3
    )
    played = people_table.play(_case(plan, seed=43, rate_hz=80))
    setup = played.told.initial
    live = HingeAnalyser(setup)
    series = played.series
    edges = np.searchsorted(series.t_s, np.arange(series.t_s[0], series.t_s[-1] + 0.05, 0.05))
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        if b > a:
            live.feed(series.slice(a, b))
    live.finish()
    offline = HingeAnalyser(setup)
    analyse_series(series, StanceTimeline(setup, (), "told"), analyser=offline)
    assert len(live.reps) == 3
    assert live.reps == offline.reps


@pytest.mark.parametrize(("seed", "rate_hz"), [(8101, 10), (8102, 1000)])
def test_the_hold_is_the_time_standing_at_the_top_until_the_next_movement(
    seed: int, rate_hz: int
) -> None:
    # Strong sway (5 mm rms) and leans let go during the hold: neither ends it, the next
    # descent (or stepping off) does.
    plan = PersonPlan(
        stances=("bilateral", "kickstand-right"),
        profile="minjerk",
        tempo="medium",
        fault_rate=0.6,
        lean_onset="at",
        sway_mm=5.0,
        n_reps=5,
    )
    played = people_table.play(_case(plan, seed=seed, rate_hz=rate_hz))
    reps = analyse_series(played.series, played.told)
    errors_s = []
    for truth, rep in people_table._match(played.reps, reps):
        assert rep is not None
        assert rep.lockout_hold_s is not None
        errors_s.append(rep.lockout_hold_s - truth.hold_s)
    errors_s = np.abs(errors_s)
    assert any("backward_lean" in t.faults for t in played.reps)
    # The onset of the next descent is found 0.1-0.4 s after it begins.
    assert np.median(errors_s) < 0.4
    assert errors_s.max() < 0.8


def test_a_slow_descent_found_late_still_ends_the_hold_where_it_began() -> None:
    # A slow descent's onset shows 0.3-0.8 s after it begins; the rep's own path says when
    # it began, and the hold before it ends there.
    plan = PersonPlan(
        stances=("kickstand-left",),
        profile="minjerk",
        tempo="slow",
        fault_rate=0.3,
        sway_mm=3.0,
        n_reps=5,
    )
    played = people_table.play(_case(plan, seed=8103, rate_hz=80))
    reps = analyse_series(played.series, played.told)
    pairs = people_table._match(played.reps, reps)
    # The holds that end with the next rep (the last ends by stepping off; on this seed its
    # lockout is found 0.5 s early, mid-ascent, and the rest of the ascent ends its hold:
    # docs/analysis-methods.md, section 9).
    errors_s = [
        abs(rep.lockout_hold_s - truth.hold_s)
        for truth, rep in pairs[:-1]
        if rep is not None and rep.lockout_hold_s is not None
    ]
    assert len(errors_s) == 4
    assert np.median(errors_s) < 0.25
    # A slow descent's start and a slow ascent's lockout are each uncertain by ~0.3 s.
    assert max(errors_s) < 0.8
