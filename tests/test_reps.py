"""Rep kinematics, measurements and the streaming analyser on synthetic force and CoP signals.

The signals here are built in the test from minimum-jerk moves (no virtual plate), so the
analysis is checked against exactly known timing; tests/test_analysis_library.py checks it
against the virtual plate's bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from analysis.reps import (
    CUES,
    FAULT_NAMES,
    G_M_S2,
    Fault,
    HingeTiming,
    Rep,
    Thresholds,
    group_sets,
    hinge_path,
    hinge_timing,
    lateral_asymmetry,
    load_change_path,
    measure_rep,
    set_down_span,
    summarise_set,
)
from analysis.stance import StanceSetup


# -- a synthetic person ------------------------------------------------------------------------
def _mj(tau: np.ndarray) -> np.ndarray:
    tau = np.clip(tau, 0.0, 1.0)
    return tau**3 * (10 - 15 * tau + 6 * tau**2)


def _mj_acc(tau: np.ndarray) -> np.ndarray:
    inside = (tau > 0) & (tau < 1)
    return np.where(inside, 60 * tau - 180 * tau**2 + 120 * tau**3, 0.0)


@dataclass
class SynthRep:
    """One scripted rep: timing (s), depth (m), bottom and lockout CoP offsets (mm)."""

    start_s: float
    descent_s: float = 1.5
    pause_s: float = 0.2
    ascent_s: float = 1.2
    depth_m: float = 0.16
    bottom_dx_mm: float = 0.0
    bottom_dy_mm: float = 0.0
    lockout_dy_mm: float = 0.0
    set_down: bool = False

    @property
    def reach_s(self) -> float:
        return self.start_s + self.descent_s

    @property
    def leave_s(self) -> float:
        return self.reach_s + self.pause_s

    @property
    def bottom_s(self) -> float:
        return 0.5 * (self.reach_s + self.leave_s)

    @property
    def lockout_s(self) -> float:
        return self.leave_s + self.ascent_s


@dataclass
class Synth:
    """A synthetic recording: step on at 0.5 s, stand, then the reps."""

    reps: list[SynthRep]
    fs_hz: float = 100.0
    body_kg: float = 75.0
    load_kg: float = 0.0
    base_mm: tuple[float, float] = (0.0, -20.0)
    tremor: float = 0.002
    seed: int = 0
    tail_s: float = 4.0
    glitches: list[float] = field(default_factory=list)

    def series(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        end = self.reps[-1].lockout_s + self.tail_s if self.reps else 10.0
        t = np.arange(0.0, end, 1.0 / self.fs_hz)
        rng = np.random.default_rng(self.seed)
        on = _mj((t - 0.5) / 0.6)
        mass = np.full(t.shape, self.body_kg + self.load_kg)
        acc = np.zeros_like(t)
        x = np.full_like(t, self.base_mm[0])
        y = np.full_like(t, self.base_mm[1])
        for r in self.reps:
            acc += -r.depth_m * _mj_acc((t - r.start_s) / r.descent_s) / r.descent_s**2
            acc += r.depth_m * _mj_acc((t - r.leave_s) / r.ascent_s) / r.ascent_s**2
            down = _mj((t - r.start_s) / r.descent_s)
            up = _mj((t - r.leave_s) / r.ascent_s)
            x += r.bottom_dx_mm * (down - up)
            y += r.bottom_dy_mm * (down - up) + r.lockout_dy_mm * up
            # the lockout offset is held until 2 s after lockout, then returns
            y -= r.lockout_dy_mm * _mj((t - r.lockout_s - 2.0) / 0.6)
            if r.set_down and self.load_kg:
                mass -= self.load_kg * (
                    _mj((t - r.reach_s - 0.15) / 0.25) - _mj((t - r.leave_s + 0.4) / 0.25)
                )
        # tremor: smoothed noise, ~0.2 % of weight
        k = max(1, int(self.fs_hz / 10))
        tremor = np.convolve(rng.standard_normal(t.size), np.ones(k) / np.sqrt(k), mode="same")
        fz = mass * (G_M_S2 * on + acc) * (1 + self.tremor * tremor * on)
        for tg in self.glitches:
            fz[np.searchsorted(t, tg)] += 4000.0
        cop = np.column_stack([x, y])
        cop[fz < 20.0] = np.nan
        return t, fz, cop


def _reps(n: int = 3, gap_s: float = 7.0, first_s: float = 6.0, **kw: float) -> list[SynthRep]:
    return [SynthRep(start_s=first_s + i * gap_s, **kw) for i in range(n)]


# -- kinematics --------------------------------------------------------------------------------
def test_hinge_path_zero_impulse_depth_and_recovery() -> None:
    rep = SynthRep(start_s=6.0, descent_s=1.8, ascent_s=1.0, depth_m=0.18)
    t, fz, _ = Synth([rep], tremor=0.0).series()
    w = 75 * G_M_S2
    window = (t >= 5.0) & (t <= rep.lockout_s + 0.5)
    path = hinge_path(t[window], fz[window], w)
    assert path.depth_m == pytest.approx(0.18, rel=0.03)
    assert path.recovery == pytest.approx(1.0, abs=0.05)
    at_bottom = (t >= 5.0) & (t <= rep.bottom_s)
    assert hinge_path(t[at_bottom], fz[at_bottom], w).recovery < 0.05


@pytest.mark.parametrize(("descent", "ascent"), [(1.0, 2.0), (2.5, 0.8), (1.5, 1.5)])
def test_hinge_timing_recovers_scripted_times(descent: float, ascent: float) -> None:
    rep = SynthRep(start_s=6.0, descent_s=descent, ascent_s=ascent, pause_s=0.3)
    t, fz, _ = Synth([rep], tremor=0.0).series()
    window = (t >= 5.0) & (t <= rep.lockout_s + 0.3)
    path = hinge_path(t[window], fz[window], 75 * G_M_S2, closed=True)
    timing = hinge_timing(t[window], path)
    assert timing.bottom_s == pytest.approx(rep.bottom_s, abs=0.08)
    assert timing.start_s == pytest.approx(rep.start_s, abs=0.15)
    assert timing.lockout_s == pytest.approx(rep.lockout_s, abs=0.15)


def test_set_down_is_found_and_weighs_the_body() -> None:
    rep = SynthRep(start_s=6.0, pause_s=1.6, set_down=True)
    t, fz, _ = Synth([rep], load_kg=16.0, tremor=0.0).series()
    w = 91 * G_M_S2
    window = (t >= 5.0) & (t <= rep.lockout_s + 0.3)
    span = set_down_span(t[window], fz[window], w)
    assert span is not None
    path = hinge_path(t[window], fz[window], w, closed=True)
    assert path.set_down_fz_n / G_M_S2 == pytest.approx(75.0, abs=0.3)
    assert path.depth_m == pytest.approx(rep.depth_m, rel=0.05)
    timing = hinge_timing(t[window], path, fz[window])
    assert timing.bottom_s == pytest.approx(rep.bottom_s, abs=0.1)
    # A quick, deep descent dips the force as far, but not for long: no set-down.
    fast = SynthRep(start_s=6.0, descent_s=0.9, depth_m=0.22)
    t2, fz2, _ = Synth([fast], tremor=0.0).series()
    standing = t2 >= 5.0
    assert set_down_span(t2[standing], fz2[standing], 75 * G_M_S2) is None


# -- measuring a rep ---------------------------------------------------------------------------
def _measure(stance: StanceSetup, rep: SynthRep, base: tuple[float, float]) -> Rep:
    synth = Synth([rep], base_mm=base, tremor=0.0)
    t, fz, cop = synth.series()
    window = (t >= 5.0) & (t <= rep.lockout_s + 0.3)
    path = hinge_path(t[window], fz[window], 75 * G_M_S2, closed=True)
    timing = HingeTiming(rep.start_s, rep.bottom_s, rep.lockout_s)
    return measure_rep(
        0,
        t[window],
        fz[window],
        cop[window, 0],
        cop[window, 1],
        timing,
        path,
        stance,
        base,
        75 * G_M_S2,
        75.0,
        Thresholds(),
    )


def test_measure_rep_good_bilateral() -> None:
    s = StanceSetup()
    base = (0.0, s.heel_y_mm + 0.45 * s.foot_length_mm)
    rep = _measure(s, SynthRep(6.0, bottom_dy_mm=5.0), base)
    assert rep.zone_at_bottom == "midfoot"
    assert rep.bias == "glute-biased"
    assert rep.faults == []
    assert rep.lateral_shift_mm is None
    assert rep.zone_fractions["midfoot"] == pytest.approx(1.0)
    assert sum(rep.zone_fractions.values()) == pytest.approx(1.0)
    assert rep.load_kg == 0.0


def test_measure_rep_heel_shift_and_backward_lean() -> None:
    s = StanceSetup()
    base = (0.0, s.heel_y_mm + 0.45 * s.foot_length_mm)
    rep = _measure(s, SynthRep(6.0, bottom_dy_mm=-0.3 * 260, lockout_dy_mm=-15.0), base)
    assert rep.zone_at_bottom == "heel"
    assert rep.bias == "hamstring-biased"
    assert rep.fault_names == ["heel_shift", "backward_lean"]
    heel = rep.faults[0]
    assert isinstance(heel, Fault)
    assert heel.value == pytest.approx(15.0, abs=1.0)  # % of foot length from the heel
    assert heel.threshold == pytest.approx(100 / 3)
    assert heel.cue == CUES["heel_shift"]
    lean = rep.faults[1]
    assert lean.value == pytest.approx(-15.0, abs=0.5)
    assert lean.threshold == -8.0
    assert lean.cue == "finish tall: you leaned back at the top"
    assert rep.zone_fractions["heel"] > 0.2


@pytest.mark.parametrize(
    ("stance", "shift_mm", "faulty"),
    [
        ("kickstand-left", 25.0, False),
        ("kickstand-left", 2.0, True),
        ("kickstand-right", 25.0, False),
        ("kickstand-right", -10.0, True),
    ],
)
def test_measure_rep_lateral_shift_toward_the_lead_foot(
    stance: str, shift_mm: float, faulty: bool
) -> None:
    s = StanceSetup(stance)
    b = 0.2
    base_x = s.lead_foot_x_mm + b * (s.back_foot_x_mm - s.lead_foot_x_mm)
    base = (base_x, s.heel_y_mm + 0.4 * s.foot_length_mm)
    rep = _measure(s, SynthRep(6.0, bottom_dx_mm=s.lead_sign * shift_mm), base)
    assert rep.lateral_shift_mm == pytest.approx(shift_mm, abs=0.5)
    assert rep.back_foot_fraction == pytest.approx(b, abs=1e-6)
    assert ("lateral_shift" in rep.fault_names) is faulty
    if faulty:
        f = rep.faults[0]
        assert f.unit == "mm toward the lead foot"
        assert f.cue == "shift your hips toward the lead leg"


def test_rep_to_dict_and_properties() -> None:
    rep = Rep(
        index=2,
        start_s=1.0,
        bottom_s=2.5,
        lockout_s=3.7,
        end_s=6.0,
        stance="kickstand-left",
        zone_at_bottom="heel",
        zone_fractions={"heel": 0.5, "midfoot": 0.5, "forefoot": 0.0, "off": 0.0},
        lateral_shift_mm=3.0,
        lockout_shift_mm=-1.0,
        lockout_hold_s=2.3,
        load_kg=None,
        faults=[
            Fault("lateral_shift", 3.0, 10.0, "mm toward the lead foot", CUES["lateral_shift"])
        ],
    )
    assert rep.descent_s == pytest.approx(1.5)
    assert rep.ascent_s == pytest.approx(1.2)
    d = rep.to_dict()
    for key in (
        "start_s",
        "bottom_s",
        "lockout_s",
        "end_s",
        "stance",
        "zone_at_bottom",
        "zone_fractions",
        "lateral_shift_mm",
        "lockout_shift_mm",
        "lockout_hold_s",
        "faults",
        "descent_s",
        "ascent_s",
        "load_kg",
    ):
        assert key in d
    assert d["faults"] == ["lateral_shift"]
    assert d["fault_details"][0]["threshold"] == 10.0
    assert d["load_kg"] is None


def test_thresholds_to_dict() -> None:
    d = Thresholds().to_dict()
    assert d["lateral_shift_min_mm"] == 10.0
    assert d["backward_lean_mm"] == 8.0
    assert d["asymmetry_flag_pct"] == 15.0
    assert FAULT_NAMES == ("heel_shift", "lateral_shift", "backward_lean")


# -- sets and asymmetry ------------------------------------------------------------------------
def _rep(index: int, stance: str, lateral: float | None, faults: tuple[str, ...] = ()) -> Rep:
    return Rep(
        index=index,
        start_s=10.0 * index,
        bottom_s=10.0 * index + 1.5,
        lockout_s=10.0 * index + 3.0,
        end_s=10.0 * index + 6.0,
        stance=stance,
        zone_at_bottom="midfoot",
        zone_fractions={"heel": 0.0, "midfoot": 1.0, "forefoot": 0.0, "off": 0.0},
        lateral_shift_mm=lateral,
        lockout_shift_mm=0.0,
        lockout_hold_s=3.0,
        load_kg=16.0,
        faults=[Fault(f, 0.0, 0.0, "", CUES[f]) for f in faults],
    )


def test_sets_group_by_stance_and_summarise() -> None:
    reps = [
        _rep(0, "kickstand-left", 20.0),
        _rep(1, "kickstand-left", 2.0, ("lateral_shift",)),
        _rep(2, "kickstand-right", 18.0),
    ]
    sets = group_sets(reps)
    assert [len(s) for s in sets] == [2, 1]
    summary = summarise_set(sets[0], "a.csv")
    assert summary.n_reps == 2
    assert summary.mean_lateral_shift_mm == pytest.approx(11.0)
    assert summary.fault_counts == {"heel_shift": 0, "lateral_shift": 1, "backward_lean": 0}
    assert summary.mean_descent_s == pytest.approx(1.5)
    assert summary.load_kg == 16.0
    assert summary.to_dict()["file"] == "a.csv"
    with pytest.raises(ValueError, match="at least one rep"):
        summarise_set([])


def test_lateral_asymmetry_index_and_flag() -> None:
    reps = [_rep(0, "kickstand-left", 20.0), _rep(1, "kickstand-right", 15.0)]
    a = lateral_asymmetry(reps, 15.0)
    assert a.index_pct == pytest.approx(100 * 5 / 17.5)
    assert a.flag is True
    b = lateral_asymmetry(reps, 40.0)
    assert b.flag is False
    only_left = lateral_asymmetry(reps[:1], 15.0)
    assert only_left.index_pct is None
    assert only_left.flag is False
    d = a.to_dict()
    assert set(d) >= {"lateral_shift_index_pct", "flag"}


def _load_change_rep(
    picked_up: bool, ascent_s: float = 1.2
) -> tuple[np.ndarray, np.ndarray, float, float, float]:
    """A 0.15 m min-jerk hinge whose 16 kg bell comes off (onto) the floor at the bottom.

    The body rests 0.4 s at the bottom; the bell's weight moves over 0.1 s, ending the
    moment the ascent begins (picked up) or starting the moment the descent ends (put down).
    Returns times, force, weight before, weight after, and the true bottom (s).
    """
    fs, body_kg, bell_kg = 100.0, 75.0, 16.0
    t = np.arange(0.0, 7.0, 1.0 / fs)
    t0, descent_s, dwell_s = 1.0, 1.5, 0.4
    reach, leave = t0 + descent_s, t0 + descent_s + dwell_s
    acc = -0.15 * _mj_acc((t - t0) / descent_s) / descent_s**2
    acc += 0.15 * _mj_acc((t - leave) / ascent_s) / ascent_s**2
    on = np.clip((t - (leave - 0.1)) / 0.1, 0.0, 1.0) if picked_up else 1.0 - np.clip(
        (t - reach) / 0.1, 0.0, 1.0
    )
    mass = body_kg + bell_kg * on
    fz = mass * (G_M_S2 + acc)
    return t, fz, float(mass[0] * G_M_S2), float(mass[-1] * G_M_S2), 0.5 * (reach + leave)


@pytest.mark.parametrize("picked_up", [True, False])
def test_load_change_path_reads_a_hinge_with_a_bell_picked_up_or_put_down(
    picked_up: bool,
) -> None:
    t, fz, before_n, after_n, bottom_s = _load_change_rep(picked_up)
    # No single weight closes the impulse: the plain path is far off ...
    plain = hinge_path(t, fz, before_n)
    assert abs(plain.depth_m - 0.15) > 0.05 or abs(plain.recovery - 1.0) > 0.25
    # ... and with the weight changing at the bottom the path is the hinge's.
    path = load_change_path(t, fz, before_n, after_n, closed=True)
    assert path.depth_m == pytest.approx(0.15, abs=0.005)
    assert path.recovery == pytest.approx(1.0, abs=0.02)
    assert path.set_down is None
    assert path.load_change is not None
    assert abs(t[path.load_change] - bottom_s) < 0.25
    timing = hinge_timing(t, path)
    assert timing.bottom_s == pytest.approx(bottom_s, abs=0.05)
    assert timing.start_s == pytest.approx(1.0, abs=0.1)
    assert timing.lockout_s == pytest.approx(bottom_s + 0.2 + 1.2, abs=0.1)


def test_load_change_path_needs_no_rest_after_a_pickup() -> None:
    # The ascent starts the moment the bell is off the floor, and a quick one: still read.
    t, fz, before_n, after_n, _ = _load_change_rep(True, ascent_s=0.6)
    path = load_change_path(t, fz, before_n, after_n, closed=True)
    assert path.depth_m == pytest.approx(0.15, abs=0.005)
