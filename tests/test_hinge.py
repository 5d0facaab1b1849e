"""Tests of analysis.hinge: the streaming hinge analyser, fed blocks like the live session."""

from __future__ import annotations

import numpy as np
import pytest
from test_reps import Synth, _reps

from analysis.analyser import analyse_series
from analysis.events import BodyMassMeasured, HoldUpdated, RepCompleted, RepStarted
from analysis.hinge import HingeAnalyser
from analysis.reps import G_M_S2
from analysis.stance import StanceSetup
from daq.errors import MidfootError
from daq.series import PlateSeries


# -- the streaming analyser --------------------------------------------------------------------
def _feed_in_blocks(an: HingeAnalyser, t, fz, cop, sizes: list[int]) -> list:
    events, i, k = [], 0, 0
    while i < t.shape[0]:
        n = sizes[k % len(sizes)]
        events += an.feed(PlateSeries.from_arrays(t[i : i + n], fz[i : i + n], cop[i : i + n]))
        i += n
        k += 1
    events += an.finish()
    return events


def _min_jerk(u: np.ndarray) -> np.ndarray:
    u = np.clip(u, 0.0, 1.0)
    return u**3 * (10.0 - 15.0 * u + 6.0 * u**2)


@pytest.mark.parametrize("fs", [80.0, 1000.0])
@pytest.mark.parametrize("stall_s", [0.2, 0.3])
def test_a_descent_that_stalls_part_way_is_one_rep_with_its_real_bottom(
    fs: float, stall_s: float
) -> None:
    # Down 7 cm, still for a moment, down to 20 cm, up. Between the second fall and its
    # braking the force crosses the weight: quiet for a sample or two, where a zero-impulse
    # path forced to end at rest shows a whole rep bottoming out at the stall.
    t = np.arange(0.0, 14.0, 1.0 / fs)
    z = np.zeros_like(t)
    bottoms = []
    for t0 in (3.0, 8.0):
        t1 = t0 + 0.45 + stall_s
        z += np.where(t >= t0, -0.07 * _min_jerk((t - t0) / 0.45), 0.0)
        z += np.where(t >= t1, -0.13 * _min_jerk((t - t1) / 0.5), 0.0)
        z += np.where(t >= t1 + 0.55, 0.20 * _min_jerk((t - t1 - 0.55) / 0.8), 0.0)
        bottoms.append(t1 + 0.525)
    acc = np.gradient(np.gradient(z, t), t)
    rng = np.random.default_rng(1)
    fz = 80.0 * (G_M_S2 + acc) + rng.normal(0.0, 0.5, t.shape)
    cop = np.column_stack([rng.normal(0.0, 0.5, t.shape), 100.0 + rng.normal(0.0, 0.5, t.shape)])
    reps = analyse_series(PlateSeries.from_arrays(t, fz, cop), StanceSetup())
    assert [r.bottom_s for r in reps] == pytest.approx(bottoms, abs=0.2)


@pytest.mark.parametrize("fs", [10.0, 80.0, 1000.0])
def test_analyser_finds_every_rep_and_its_bottom(fs: float) -> None:
    synth = Synth(_reps(3, descent_s=1.6, ascent_s=1.1), fs_hz=fs)
    t, fz, cop = synth.series()
    reps = analyse_series(PlateSeries.from_arrays(t, fz, cop), StanceSetup())
    assert len(reps) == 3
    for got, want in zip(reps, synth.reps, strict=True):
        assert got.bottom_s == pytest.approx(want.bottom_s, abs=0.2)
        assert got.lockout_hold_s is not None
        assert got.lockout_hold_s > 1.0


def test_events_in_order_and_states() -> None:
    synth = Synth(_reps(2))
    t, fz, cop = synth.series()
    an = HingeAnalyser(StanceSetup())
    assert an.state == "waiting"
    events = _feed_in_blocks(an, t, fz, cop, [5])
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "BodyMassMeasured"
    assert kinds.count("RepStarted") == 2
    assert kinds.count("RepCompleted") == 2
    # Each hold ends at the next onset; the first is revised to where rep 2's path began.
    assert kinds.count("HoldUpdated") == 3
    first = kinds.index("RepStarted")
    assert kinds[first : first + 4] == [
        "RepStarted",
        "RepCompleted",
        "LockoutMeasured",
        "HoldUpdated",
    ]
    weigh = events[0]
    assert isinstance(weigh, BodyMassMeasured)
    assert weigh.body_mass_kg == pytest.approx(75.0, abs=0.5)
    assert an.body_mass_kg == pytest.approx(75.0, abs=0.5)
    done = [e for e in events if isinstance(e, RepCompleted)]
    assert done[0].rep.lockout_hold_s is None  # not known yet when emitted
    holds = [e for e in events if isinstance(e, HoldUpdated)]
    last = {h.index: h for h in holds}
    for rep in an.reps:
        assert rep.lockout_hold_s == pytest.approx(last[rep.index].hold_s)
    assert holds[1].index == 0
    assert holds[1].hold_s < holds[0].hold_s
    assert an.reps[0].end_s == pytest.approx(an.reps[1].start_s)
    assert an.state in ("standing", "holding")


def test_completed_within_300_ms_of_lockout() -> None:
    synth = Synth(_reps(3, descent_s=1.2, ascent_s=0.9), fs_hz=80.0)
    t, fz, cop = synth.series()
    an = HingeAnalyser(StanceSetup())
    block = 4  # 50 ms at 80 Hz
    late = []
    for i in range(0, t.shape[0], block):
        sl = slice(i, i + block)
        for e in an.feed(PlateSeries.from_arrays(t[sl], fz[sl], cop[sl])):
            if isinstance(e, RepCompleted):
                want = min(synth.reps, key=lambda r: abs(r.bottom_s - e.rep.bottom_s))
                late.append(t[sl][-1] - want.lockout_s)
    assert len(late) == 3
    assert max(late) <= 0.3


def test_streaming_and_offline_agree_exactly() -> None:
    synth = Synth(_reps(3), fs_hz=1000.0, seed=3)
    t, fz, cop = synth.series()
    offline = analyse_series(PlateSeries.from_arrays(t, fz, cop), StanceSetup())
    an = HingeAnalyser(StanceSetup())
    _feed_in_blocks(an, t, fz, cop, [50, 7, 333, 1, 64])
    assert an.reps == offline
    assert len(offline) == 3


def test_glitch_spikes_make_no_reps() -> None:
    synth = Synth(_reps(2), fs_hz=80.0, glitches=[4.0, 9.0, 9.2, 15.0, 18.5])
    t, fz, cop = synth.series()
    reps = analyse_series(PlateSeries.from_arrays(t, fz, cop), StanceSetup())
    assert len(reps) == 2
    for got, want in zip(reps, synth.reps, strict=True):
        assert got.bottom_s == pytest.approx(want.bottom_s, abs=0.2)


def test_standing_still_makes_no_reps_and_weighs() -> None:
    synth = Synth([], seed=5)
    synth.tail_s = 0.0
    t = np.arange(0, 60, 0.01)
    fz = 75 * G_M_S2 * (1 + 0.003 * np.random.default_rng(5).standard_normal(t.size))
    cop = np.column_stack([np.zeros_like(t), np.full_like(t, -20.0)])
    an = HingeAnalyser(StanceSetup())
    events = _feed_in_blocks(an, t, fz, cop, [100])
    assert an.reps == []
    assert not any(isinstance(e, RepStarted) for e in events)
    assert an.still_weight_kg() == pytest.approx(75.0, abs=0.5)
    assert an.baseline_mm == pytest.approx((0.0, -20.0), abs=0.5)


def test_stepping_off_and_a_gap_restart_the_analysis() -> None:
    synth = Synth(_reps(1))
    t, fz, cop = synth.series()
    off = np.zeros_like(fz)
    an = HingeAnalyser(StanceSetup())
    an.feed(PlateSeries.from_arrays(t, fz, cop))
    assert len(an.reps) == 1
    t_off = t[-1] + np.arange(1, 200) * 0.01
    an.feed(PlateSeries.from_arrays(t_off, off[: t_off.size], np.full((t_off.size, 2), np.nan)))
    assert an.state == "off"
    # A second recording after a 10 s gap is analysed from scratch.
    an.feed(PlateSeries.from_arrays(t + t_off[-1] + 10.0, fz, cop))
    an.finish()
    assert len(an.reps) == 2


def test_set_stance_reset_and_body_mass() -> None:
    an = HingeAnalyser(StanceSetup(), body_mass_kg=70.0)
    an.set_stance("kickstand-left")
    assert an.stance.stance == "kickstand-left"
    assert an.stance.heel_y_mm == -60.0
    an.set_stance(StanceSetup("kickstand-right", foot_length_mm=250))
    assert an.stance.foot_length_mm == 250.0
    with pytest.raises(MidfootError, match="unknown stance"):
        an.set_stance("lunge")
    an.reset()
    assert an.body_mass_kg == 70.0
    assert an.reps == []
    assert an.state == "waiting"
    with pytest.raises(MidfootError, match="implausible"):
        an.body_mass_kg = 5.0
    an.body_mass_kg = None
    assert an.body_mass_kg is None


def test_loaded_set_down_reports_load_and_body() -> None:
    synth = Synth(_reps(2, pause_s=1.6, set_down=True), load_kg=16.0, fs_hz=80.0)
    t, fz, cop = synth.series()
    an = HingeAnalyser(StanceSetup())
    events = _feed_in_blocks(an, t, fz, cop, [4])
    assert len(an.reps) == 2
    for rep in an.reps:
        assert rep.set_down
        assert rep.load_kg == pytest.approx(16.0, abs=0.7)
    sources = [e.source for e in events if isinstance(e, BodyMassMeasured)]
    assert sources[0] == "weigh-in"
    assert "set-down" in sources
    assert an.body_mass_kg == pytest.approx(75.0, abs=0.7)


def test_held_load_needs_the_body_mass() -> None:
    synth = Synth(_reps(1), load_kg=20.0)
    t, fz, cop = synth.series()
    unknown = analyse_series(PlateSeries.from_arrays(t, fz, cop), StanceSetup())
    assert unknown[0].load_kg == 0.0  # the weigh-in took the bell for the body
    known = analyse_series(PlateSeries.from_arrays(t, fz, cop), StanceSetup(), body_mass_kg=75.0)
    assert known[0].load_kg == pytest.approx(20.0, abs=0.5)


def test_feed_needs_one_row_per_sample() -> None:
    an = HingeAnalyser(StanceSetup())
    bad = PlateSeries(
        t_s=np.zeros(3),
        fz_n=np.zeros(2),
        cop_mm=np.zeros((3, 2)),
        force_n=np.zeros((3, 0)),
        valid=np.ones(3, bool),
    )
    with pytest.raises(MidfootError, match="one row per sample"):
        an.feed(bad)
    assert an.feed(PlateSeries.empty()) == []
