"""The virtual plate: person model, scenario truth, HX711 emulation, sim:// and the pty."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import serial
from scipy import signal

from daq.calibration import calibration_positions_mm
from daq.decoder import FrameDecoder
from daq.plate import PlateGeometry, load_plate
from gui.cli import run_command
from hardware import protocol_sim
from hardware.person import G_M_S2, cell_forces_n
from hardware.scenarios import FAULTS, SCENARIO_NAMES, make_scenario
from hardware.virtual_plate import DEADLINE_PERIODS, VirtualPlate

ROOT = Path(__file__).resolve().parents[1]
PLATE = load_plate()


def run_simulate_command(argv: list[str]) -> int:
    return run_command('simulate', argv)


def decode(data: bytes) -> tuple[FrameDecoder, object]:
    dec = FrameDecoder()
    return dec, dec.feed(data)


def window(t_s: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return (t_s >= lo) & (t_s < hi)


# -- person model and scenario truth -----------------------------------------------------------


@pytest.mark.parametrize("name", ["hinge-kickstand-left", "demo", "calibration", "step-on-off"])
def test_cell_forces_reproduce_scenario_force_and_cop(name):
    sc = make_scenario(name, seed=4)
    t = np.linspace(0.0, sc.duration_s, 20_000)
    forces = sc.cell_forces_n(t, PLATE)
    fz = sc.fz_n(t)
    x, y = sc.cop_mm(t)
    np.testing.assert_allclose(forces.sum(axis=1), fz, atol=1e-9)
    on = fz > 1.0
    assert on.mean() > 0.3
    cop = forces[on] @ PLATE.cells_mm / forces[on].sum(axis=1, keepdims=True)
    np.testing.assert_allclose(cop[:, 0], x[on], atol=1e-6)
    np.testing.assert_allclose(cop[:, 1], y[on], atol=1e-6)
    assert forces.min() >= 0.0  # CoP inside the cells: a rigid top never pulls
    assert np.all(np.isnan(x[fz == 0]))


def test_cell_forces_on_other_layouts():
    narrow = load_plate("diy-4cell-400x600")
    cells = np.array([[-200.0, -150.0], [200.0, -150.0], [0.0, 250.0]])
    tri = PlateGeometry("tri", cells, 500.0, 500.0)
    fz = np.array([700.0, 350.0])
    x, y = np.array([12.0, -40.0]), np.array([-30.0, 55.0])
    for plate in (narrow, tri):
        f = cell_forces_n(fz, x, y, plate)
        np.testing.assert_allclose(f.sum(axis=1), fz)
        np.testing.assert_allclose(f @ plate.cells_mm / fz[:, None], np.c_[x, y], atol=1e-9)


def test_quiet_stance_sway_is_realistic():
    sc = make_scenario("quiet-stance", seed=2, duration_s=120.0)
    (lo, hi), = sc.still_windows_s
    t = np.arange(lo, hi, 0.01)
    x, y = sc.cop_mm(t)
    for axis, rms_range in ((x, (1.0, 5.0)), (y, (2.0, 6.0))):
        d = axis - axis.mean()
        assert rms_range[0] < np.sqrt(np.mean(d * d)) < rms_range[1]
        f, p = signal.welch(d, fs=100.0, nperseg=4096)
        assert p[f < 1.0].sum() / p.sum() > 0.8
    fz = sc.fz_n(t)
    bw = 75.0 * G_M_S2
    assert abs(fz.mean() / bw - 1.0) < 0.005
    assert 0.001 < fz.std() / bw < 0.01


def test_step_on_ramps_to_body_weight_with_cop_transient():
    sc = make_scenario("step-on-off", seed=1, body_mass_kg=80.0)
    bw = 80.0 * G_M_S2
    t = np.arange(0.0, sc.duration_s, 0.001)
    fz = sc.fz_n(t)
    assert fz[0] == 0.0
    assert fz[-1] == 0.0
    t_on = t[np.argmax(fz > 0.05 * bw)]
    t_full = t[np.argmax(fz > 0.97 * bw)]
    assert 0.3 < t_full - t_on < 1.2
    x, _ = sc.cop_mm(t)
    ramp = window(t, t_on, t_on + 1.5)
    assert np.nanmax(x[ramp]) - np.nanmin(x[ramp]) > 40.0  # one foot, then both
    assert fz.max() < 1.15 * bw


def _descent_ascent(sc, rep):
    t = np.arange(rep.start_s - 0.5, rep.end_s, 0.002)
    return t, sc.fz_n(t)


def test_bodyweight_hinge_force_swings_a_few_percent_in_the_right_order():
    sc = make_scenario("hinge-bilateral", seed=7)
    bw = 75.0 * G_M_S2
    for rep in sc.reps:
        t, fz = _descent_ascent(sc, rep)
        down = window(t, rep.start_s, rep.bottom_reach_s)
        up = window(t, rep.bottom_leave_s, rep.lockout_s)
        for sel, first_low in ((down, True), (up, False)):
            seg, ts = fz[sel] / bw, t[sel]
            assert 0.005 < 1.0 - seg.min() < 0.12
            assert 0.005 < seg.max() - 1.0 < 0.12
            assert (ts[np.argmin(seg)] < ts[np.argmax(seg)]) == first_low


def test_kettlebell_set_down_drops_force_by_the_bell():
    sc = make_scenario("hinge-bilateral", seed=3, load_kg=16.0, set_down=True)
    assert all(r.set_down and r.load_kg == 16.0 for r in sc.reps)
    standing = sc.fz_n(np.array([sc.sets[0].still_s[0] + 1.0]))[0]
    assert standing == pytest.approx(91.0 * G_M_S2, rel=0.02)
    for rep in sc.reps:
        released = sc.fz_n(np.array([rep.bottom_s]))[0]
        assert released == pytest.approx(75.0 * G_M_S2, rel=0.02)
    held = make_scenario("hinge-bilateral", seed=3, load_kg=16.0)
    assert held.fz_n(np.array([held.reps[0].bottom_s]))[0] == pytest.approx(91 * G_M_S2, rel=0.02)


@pytest.mark.parametrize("name", SCENARIO_NAMES)
@pytest.mark.parametrize("seed", [0, 5])
def test_scenario_truth_is_consistent(name, seed):
    sc = make_scenario(name, seed=seed)
    again = make_scenario(name, seed=seed)
    assert sc.reps == again.reps
    assert sc.duration_s == again.duration_s
    t = np.arange(0.0, sc.duration_s, 0.01)
    assert np.array_equal(sc.fz_n(t), again.fz_n(t))
    assert sc.fz_n(np.array([0.0]))[0] == 0.0  # everything starts with an empty plate
    end_fz = sc.fz_n(np.array([sc.duration_s]))[0]
    assert (end_fz > 0) == (name == "quiet-stance")
    prev_end = 0.0
    for rep in sc.reps:
        assert prev_end <= rep.start_s < rep.bottom_reach_s < rep.bottom_s
        assert rep.bottom_s < rep.bottom_leave_s < rep.lockout_s < rep.end_s < sc.duration_s
        assert 2.0 <= rep.end_s - rep.lockout_s <= 4.0
        assert 1.0 <= rep.bottom_reach_s - rep.start_s <= 2.5
        assert 0.8 <= rep.lockout_s - rep.bottom_leave_s <= 2.0
        assert rep.faults <= FAULTS
        prev_end = rep.end_s
    for st in sc.sets:
        first = sc.reps[st.rep_indices[0]]
        assert st.still_s[1] - st.still_s[0] >= 3.0
        assert st.still_s[1] <= first.start_s
        ts = np.arange(*st.still_s, 0.01)
        assert np.all(sc.fz_n(ts) > 0.9 * 75 * G_M_S2)
    expected = {
        "hinge-bilateral": frozenset(),
        "hinge-kickstand-left": frozenset(),
        "hinge-kickstand-right": frozenset(),
        "hinge-bilateral-heels": frozenset({"heel_shift"}),
        "hinge-bilateral-leanback": frozenset({"backward_lean"}),
        "hinge-kickstand-left-noshift": frozenset({"lateral_shift"}),
        "hinge-kickstand-right-reversed": frozenset({"lateral_shift"}),
    }
    if name in expected:
        assert len(sc.reps) == 5
        assert all(r.faults == expected[name] for r in sc.reps)
    if name.startswith("hinge-"):
        assert sc.stance == sc.reps[0].stance
        assert len(sc.sets) == 1


def _measured_rep(sc, rep):
    """What an analyser can read off the true CoP: bottom frac, lateral shift, lockout AP."""
    st = next(s for s in sc.sets if sc.reps.index(rep) in s.rep_indices)
    x = lambda a, b: np.nanmean(sc.cop_mm(np.linspace(a, b, 200))[0])  # noqa: E731
    y = lambda a, b: np.nanmean(sc.cop_mm(np.linspace(a, b, 200))[1])  # noqa: E731
    base_x, base_y = x(rep.start_s - 1.0, rep.start_s), y(rep.start_s - 1.0, rep.start_s)
    frac = (y(rep.bottom_reach_s, rep.bottom_leave_s) - st.heel_y_mm) / sc.foot_length_mm
    lead = {"kickstand-left": -1.0, "kickstand-right": 1.0}.get(rep.stance, 0.0)
    shift = lead * (x(rep.bottom_reach_s, rep.bottom_leave_s) - base_x)
    lock = y(rep.lockout_s + 0.3, rep.end_s) - base_y
    return frac, shift, lock


def test_faults_are_realistic_and_separable_from_the_cop():
    good, bad = {"frac": [], "shift": [], "lock": []}, {"frac": [], "shift": [], "lock": []}
    for seed in range(4):
        sc = make_scenario("hinge-mixed", seed=seed, n_reps=12)
        for rep in sc.reps:
            frac, shift, lock = _measured_rep(sc, rep)
            assert frac == pytest.approx(rep.bottom_cop_frac, abs=0.02)
            assert shift == pytest.approx(rep.lateral_shift_mm, abs=4.0)
            assert lock == pytest.approx(rep.lockout_ap_mm, abs=5.0)
            for key, fault, value in (
                ("frac", "heel_shift", frac),
                ("shift", "lateral_shift", shift),
                ("lock", "backward_lean", lock),
            ):
                (bad if fault in rep.faults else good)[key].append(value)
            if "heel_shift" in rep.faults:
                assert 0.08 <= rep.bottom_cop_frac <= 0.22
            else:
                assert 0.38 <= rep.bottom_cop_frac <= 0.55
            if "lateral_shift" in rep.faults:
                assert -15.0 <= rep.lateral_shift_mm <= 4.0
            else:
                assert 15.0 <= rep.lateral_shift_mm <= 35.0
            if "backward_lean" in rep.faults:
                assert -25.0 <= rep.lockout_ap_mm <= -12.0
            else:
                assert abs(rep.lockout_ap_mm) <= 4.0
    for key in good:
        assert bad[key], key  # the mixed sets exercise every fault
        assert good[key], key
    assert min(good["frac"]) > max(bad["frac"]) + 0.1
    assert min(good["shift"]) > max(bad["shift"])
    assert min(good["lock"]) > max(bad["lock"])


def test_hinge_mixed_faults_are_a_seeded_subset():
    counts = []
    for seed in range(3):
        sc = make_scenario("hinge-mixed", seed=seed, n_reps=20, stance="bilateral")
        faulty = [r for r in sc.reps if r.faults]
        assert 0 < len(faulty) < 20
        assert all("lateral_shift" not in r.faults for r in sc.reps)
        counts.append(tuple(bool(r.faults) for r in sc.reps))
    assert len(set(counts)) == 3


def test_kickstand_geometry_leans_toward_the_lead_foot():
    for name, sign in (("hinge-kickstand-left", -1), ("hinge-kickstand-right", 1)):
        sc = make_scenario(name, seed=1, back_foot_fraction=0.2)
        base_x, _ = sc.sets[0].baseline_cop_mm
        assert base_x == pytest.approx(sign * 100.0 * (1 - 2 * 0.2))
        assert sc.heel_y_mm == -60.0
    assert make_scenario("hinge-bilateral").heel_y_mm == -130.0


def test_demo_is_about_two_minutes_with_three_stances_and_loops_on_an_empty_plate():
    sc = make_scenario("demo")
    assert 100.0 < sc.duration_s < 160.0
    assert [s.stance for s in sc.sets] == ["bilateral", "kickstand-left", "kickstand-right"]
    assert sc.sets[0].still_s[1] - sc.sets[0].still_s[0] >= 5.0
    assert sc.fz_n(np.array([0.0, sc.duration_s - 0.5, sc.duration_s]))[[0, 2]].max() == 0.0


def test_calibration_scenario_truth():
    sc = make_scenario("calibration", mass_kg=15.0)
    truth = sc.calibration
    np.testing.assert_array_equal(truth.positions_mm, calibration_positions_mm(PLATE))
    assert truth.empty_s[1] - truth.empty_s[0] >= 4.5
    assert np.all(sc.fz_n(np.linspace(*truth.empty_s, 100)) == 0.0)
    for (lo, hi), (px, py) in zip(truth.hold_windows_s, truth.positions_mm, strict=True):
        assert 3.5 <= hi - lo <= 4.5
        t = np.linspace(lo, hi, 50)
        np.testing.assert_allclose(sc.fz_n(t), 15.0 * G_M_S2, rtol=1e-9)
        x, y = sc.cop_mm(t)
        np.testing.assert_allclose(x, px)
        np.testing.assert_allclose(y, py)
    gaps = truth.hold_windows_s[1:, 0] - truth.hold_windows_s[:-1, 1]
    assert np.all(gaps > 2.0)


def test_make_scenario_rejects_bad_arguments():
    with pytest.raises(ValueError, match="quiet-stance"):
        make_scenario("hinge-sideways")
    with pytest.raises(ValueError, match="stance_width_mm"):
        make_scenario("demo", stance_widht_mm=100)
    with pytest.raises(ValueError, match="stance"):
        make_scenario("hinge-mixed", stance="lunge")


# -- HX711 emulation ---------------------------------------------------------------------------


def test_counts_are_force_times_gain_plus_offset():
    sc = make_scenario("hinge-bilateral", seed=2)
    vp = VirtualPlate(sc, rate_hz=80, seed=9, glitch_rate=0.0)
    assert np.all(np.abs(vp.truth.offsets_counts) <= 50_000)
    assert np.all(np.abs(vp.truth.gains_counts_per_n / 2000.0 - 1.0) <= 0.1)
    _, out = decode(vp.render())
    s = out.samples
    t = (s.t_us - vp.t0_us) / 1e6
    lo, hi = sc.sets[0].still_s
    sel = window(t, lo, hi)
    assert sel.sum() > 200
    force_est = (s.counts[sel].mean(axis=0) - vp.truth.offsets_counts) / vp.truth.gains_counts_per_n
    force_true = vp.true_forces_n(t[sel] - 0.5 / 80).mean(axis=0)
    assert force_true.min() > 100.0
    np.testing.assert_allclose(force_est, force_true, atol=0.2)


def test_fast_adc_counts_exactly_without_noise():
    sc = make_scenario("hinge-kickstand-right", seed=1)
    vp = VirtualPlate(sc, rate_hz=1000, seed=1, noise_counts=0.0, glitch_rate=0.0)
    block = vp.samples_between(8.0, 12.0)
    t_mid = (block.t_us - vp.t0_us) / 1e6 - 0.0005
    truth = vp.truth
    expected = np.rint(truth.offsets_counts + truth.gains_counts_per_n * vp.true_forces_n(t_mid))
    np.testing.assert_array_equal(block.counts, expected.astype(np.int32))


@pytest.mark.parametrize(("rate", "rms"), [(10, 22.0), (80, 40.0), (1000, 50.0)])
def test_noise_level_on_an_empty_plate(rate, rms):
    sc = make_scenario("calibration")
    vp = VirtualPlate(sc, rate_hz=rate, seed=3, glitch_rate=0.0)
    lo, hi = sc.calibration.empty_s
    block = vp.samples_between(lo + 0.5, hi)
    fresh = block.stale == 0
    noise = block.counts[fresh] - vp.truth.offsets_counts
    assert np.abs(noise.mean(axis=0)).max() < 5 * rms / np.sqrt(fresh.sum()) + 1
    np.testing.assert_allclose(noise.std(axis=0), rms, rtol=0.35 if rate == 10 else 0.12)


@pytest.mark.parametrize("rate", [10, 80])
def test_hx711_rates_drift_and_go_stale(rate):
    sc = make_scenario("demo")
    vp = VirtualPlate(sc, rate_hz=rate, seed=5, glitch_rate=0.0)
    periods = vp.truth.chip_periods_s
    assert np.ptp(periods) > 0
    assert np.all(np.abs(periods * rate - 1) <= 0.02)
    dec, out = decode(vp.render())
    s = out.samples
    assert dec.stats.crc_errors == 0
    assert dec.stats.dropped == 0
    assert np.all(np.diff(s.seq) == 1)
    measured = (len(s) - 1) / ((s.t_us[-1] - s.t_us[0]) / 1e6)
    assert measured == pytest.approx(rate, rel=0.03)
    # The firmware latches no later than its deadline after the previous latch.
    assert np.diff(s.t_us).max() <= DEADLINE_PERIODS * 1e6 / rate + 1
    stale = np.flatnonzero(s.stale)
    assert 0 < stale.size < 0.05 * len(s)
    for k in stale[stale > 0]:
        bits = [i for i in range(4) if s.stale[k] >> i & 1]
        assert np.array_equal(s.counts[k, bits], s.counts[k - 1, bits])
    # Clock spread alone never reaches the deadline: without missed conversions, no stale bit.
    clean = VirtualPlate(sc, rate_hz=rate, seed=5, miss_rate=0.0)
    assert not clean.samples_between(0.0, 60.0).stale.any()


def test_fast_adc_is_synchronous_and_never_stale():
    sc = make_scenario("hinge-bilateral")
    vp = VirtualPlate(sc, rate_hz=1000, channels=8, seed=2)
    assert vp.info()["adc"] == "fast"
    assert vp.info()["baud"] == 1_000_000
    dec, out = decode(vp.render(20.0))
    s = out.samples
    assert len(s) == 20_000
    assert s.counts.shape[1] == 8
    assert not s.stale.any()
    assert np.all(np.diff(s.t_us) == 1000)


def test_seq_and_t_us_wrap_with_a_start_near_the_u32_limit():
    vp = VirtualPlate(
        make_scenario("quiet-stance", duration_s=70.0), rate_hz=1000, t0_us=2**32 - 3_000_000
    )
    data = vp.render(70.0)
    dec, out = decode(data)
    s = out.samples
    assert dec.stats.dropped == 0
    assert dec.stats.crc_errors == 0
    assert len(s) == 70_000
    assert s.seq[-1] == 69_999
    assert np.all(np.diff(s.seq) == 1)
    assert np.all(np.diff(s.t_us) == 1000)
    assert s.t_us[0] < 2**32 < s.t_us[-1]
    # On the wire the 32-bit time really wrapped: a frame past the wrap carries a small t_us.
    frame = 29
    late = data[-frame:]
    assert int.from_bytes(late[6:10], "little") < 70_000_000


def test_glitches_appear_at_the_configured_rate_as_single_samples():
    sc = make_scenario("quiet-stance", duration_s=30.0)
    vp = VirtualPlate(sc, rate_hz=1000, seed=4, glitch_rate=0.01)
    s = vp.samples_between(5.0, 25.0)
    hit = (s.counts == 0x7FFFFF) | (s.counts == -1)
    expected = 0.01 * s.counts.size
    assert abs(hit.sum() - expected) < 4 * np.sqrt(expected)
    assert (s.counts == 0x7FFFFF).sum() > 0.3 * hit.sum()
    assert (s.counts == -1).sum() > 0.3 * hit.sum()
    rows, cols = np.nonzero(hit[1:-1])
    neighbours = hit[rows, cols] | hit[rows + 2, cols]
    assert neighbours.mean() < 0.05
    assert not ((VirtualPlate(sc, rate_hz=1000, glitch_rate=0.0).samples_between(5, 6).counts
                 == 0x7FFFFF).any())


def test_saturation_passes_through_unclipped_by_the_firmware():
    sc = make_scenario("hinge-bilateral")
    vp = VirtualPlate(sc, rate_hz=80, gains=[60_000.0, -60_000.0, 2000.0, 2000.0], glitch_rate=0)
    s = vp.samples_between(6.0, 8.0)
    assert np.all(s.counts[:, 0] == 0x7FFFFF)
    assert np.all(s.counts[:, 1] == -0x800000)
    assert np.all(np.abs(s.counts[:, 2:]) < 0x7FFFFF)


def test_eight_channels_put_an_empty_plate_b_beside_plate_a():
    sc = make_scenario("hinge-bilateral")
    vp = VirtualPlate(sc, rate_hz=80, channels=8, seed=6, glitch_rate=0.0)
    s = vp.samples_between(6.0, 9.0)
    load_n = (s.counts.mean(axis=0) - vp.truth.offsets_counts) / vp.truth.gains_counts_per_n
    a_load, b_load = load_n[:4], load_n[4:]
    assert np.abs(b_load).max() < 0.1
    assert a_load.sum() > 600.0
    quiet = make_scenario("quiet-stance", body_mass_kg=60.0, seed=1)
    vp2 = VirtualPlate(sc, rate_hz=80, channels=8, plate_b=quiet, glitch_rate=0.0)
    f = vp2.true_forces_n(np.array([10.0]))[0]
    assert f[4:].sum() == pytest.approx(60.0 * G_M_S2, rel=0.02)


def test_stream_in_any_blocks_equals_render_and_samples_between():
    sc = make_scenario("hinge-kickstand-left", seed=3)
    for rate in (80, 1000):
        vp = VirtualPlate(sc, rate_hz=rate, seed=8)
        whole = vp.render(20.0)
        live = VirtualPlate(sc, rate_hz=rate, seed=8)
        rng = np.random.default_rng(0)
        parts, t = [], 0.0
        while t < 20.0:
            t = min(20.0, t + rng.uniform(0.0005, 0.4))
            parts.append(live.frames_until(t))
        assert b"".join(parts) == whole
        _, out = decode(whole)
        part = vp.samples_between(5.0, 7.0)
        t_s = (out.samples.t_us - vp.t0_us) / 1e6
        sel = window(t_s, 5.0, 7.0)
        np.testing.assert_array_equal(part.counts, out.samples.counts[sel])
        np.testing.assert_array_equal(part.seq, out.samples.seq[sel])


def test_info_and_commands():
    vp = VirtualPlate(make_scenario("quiet-stance"), rate_hz=80, seed=12)
    info = vp.info()
    assert info["plate_id"] == "virt-0012"
    assert info["proto"] == 1
    assert info["fw"] == "virtual-1.0"
    assert VirtualPlate(make_scenario("demo"), seed=12).info()["plate_id"] == "virt-0012"
    dec = FrameDecoder()
    first = dec.feed(vp.frames_until(1.0))
    assert first.infos[0]["channels"] == "4"
    assert first.infos[0]["rate_hz"] == "80"
    assert dec.feed(vp.handle_command("info\n")).infos[0]["board"] == "virtual"
    assert dec.feed(vp.handle_command("dance")).logs == ["unknown command: dance"]
    last_seq = first.samples.seq[-1]
    vp.handle_command("stop")
    assert len(dec.feed(vp.frames_until(3.0)).samples) == 0
    vp.handle_command("start")
    resumed = dec.feed(vp.frames_until(4.0)).samples
    assert 60 < len(resumed) < 90
    assert resumed.seq[0] == last_seq + 1
    assert resumed.t_us[0] - vp.t0_us > 2.9e6


def test_rendering_is_fast():
    vp = VirtualPlate(make_scenario("demo"), rate_hz=1000, channels=8, loop=True)
    start = time.process_time()
    data = vp.render(300.0)
    assert len(data) > 300_000 * 45
    assert time.process_time() - start < 6.0  # typically ~0.4 s
    live = VirtualPlate(make_scenario("demo"), rate_hz=1000, channels=8, loop=True)
    start = time.process_time()
    for t in np.arange(0.01, 20.0, 0.005):
        live.frames_until(t)
    assert time.process_time() - start < 2.0  # 20 s of real time, typically ~0.3 s CPU


# -- sim:// --------------------------------------------------------------------------------------


@pytest.fixture
def sim():
    protocol_sim.register()
    protocol_sim.clear_registry()
    yield
    protocol_sim.clear_registry()


def read_for(port, seconds: float, dec: FrameDecoder) -> list:
    outs, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        outs.append(dec.feed(port.read(port.in_waiting or 1)))
    return outs


def test_sim_url_paces_in_real_time(sim):
    port = serial.serial_for_url("sim://quiet-stance?rate=80&seed=11", timeout=0.05)
    dec = FrameDecoder()
    outs = read_for(port, 1.0, dec)
    n = sum(len(o.samples) for o in outs)
    assert 45 <= n <= 110
    assert outs[0].infos or outs[1].infos
    assert dec.stats.crc_errors == 0
    assert dec.stats.dropped == 0
    port.close()
    fast = serial.serial_for_url("sim://quiet-stance?rate=80&seed=11&speed=5", timeout=0.05)
    n_fast = sum(len(o.samples) for o in read_for(fast, 0.6, FrameDecoder()))
    assert 150 <= n_fast <= 330
    fast.close()


def test_sim_read_honours_timeout_and_size(sim):
    port = serial.serial_for_url("sim://demo?rate=10", timeout=0.2)
    port.reset_input_buffer()
    start = time.monotonic()
    data = port.read(10_000)  # more than 0.2 s at 10 Hz can bring
    assert 0.18 < time.monotonic() - start < 1.0
    assert len(data) < 10_000
    port.timeout = None
    assert len(port.read(29)) == 29
    port.close()


def test_sim_commands_are_answered_in_the_stream(sim):
    port = serial.serial_for_url("sim://demo?rate=80&seed=2", timeout=0.05)
    dec = FrameDecoder()
    read_for(port, 0.2, dec)
    port.write(b"info\n")
    outs = read_for(port, 0.1, dec)
    assert any(o.infos and o.infos[0]["plate_id"] == "virt-0002" for o in outs)
    port.write(b"hop\n")
    assert any(o.logs == ["unknown command: hop"] for o in read_for(port, 0.1, dec))
    port.write(b"stop\n")
    read_for(port, 0.05, dec)
    assert sum(len(o.samples) for o in read_for(port, 0.3, dec)) == 0
    port.write(b"start\n")
    assert sum(len(o.samples) for o in read_for(port, 0.3, dec)) > 10
    assert dec.stats.dropped == 0
    port.close()


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("sim://pogo", "hinge-mixed"),
        ("sim://demo?rate=33", "10, 80 or 1000"),
        ("sim://demo?colour=red", "rate, channels"),
        ("sim://demo?unplug=5", "START:DURATION"),
        ("sim://demo?channels=6", "4 or 8"),
        ("sim://demo?mass=5", "body_mass_kg"),
    ],
)
def test_sim_url_errors_list_valid_values(sim, url, match):
    with pytest.raises(serial.SerialException, match=match):
        serial.serial_for_url(url)


def test_sim_reopen_continues_the_same_plate(sim):
    url = "sim://quiet-stance?rate=80&seed=4"
    dec = FrameDecoder()
    port = serial.serial_for_url(url, timeout=0.05)
    before = [o for o in read_for(port, 0.3, dec)]
    last = max(o.samples.seq[-1] for o in before if len(o.samples))
    with pytest.raises(serial.SerialException, match="busy"):
        serial.serial_for_url(url)
    port.close()
    time.sleep(0.2)
    port = serial.serial_for_url(url, timeout=0.05)
    dec2 = FrameDecoder()
    after = read_for(port, 0.2, dec2)
    assert not any(o.infos for o in after)
    first = next(o.samples.seq[0] for o in after if len(o.samples))
    assert first > last + 10  # the plate ran on while the port was closed
    port.close()


def test_sim_unplug_then_reconnect_to_a_rebooted_plate(sim):
    url = "sim://quiet-stance?rate=80&seed=21&unplug=0.5:0.6"
    port = serial.serial_for_url(url, timeout=0.05)
    dec = FrameDecoder()
    assert sum(len(o.samples) for o in read_for(port, 0.3, dec)) > 10
    time.sleep(0.3)
    with pytest.raises(serial.SerialException, match="device disconnected"):
        port.read(100)
    with pytest.raises(serial.SerialException, match="device disconnected"):
        port.in_waiting  # noqa: B018 - the property is what raises
    with pytest.raises(serial.SerialException, match="No such file or directory"):
        serial.serial_for_url(url)
    time.sleep(0.55)
    with pytest.raises(serial.SerialException, match="device disconnected"):
        port.read(1)  # the old handle stays dead
    port.close()
    port = serial.serial_for_url(url, timeout=0.05)
    dec = FrameDecoder()
    outs = read_for(port, 0.4, dec)
    assert outs[0].infos, "a rebooted plate announces itself first"
    seq = np.concatenate([o.samples.seq for o in outs])
    t_us = np.concatenate([o.samples.t_us for o in outs])
    assert seq[0] == 0
    assert t_us[0] < 200_000
    plate = protocol_sim.simulated_plate(url).plate
    assert plate.start_s >= 1.1  # the person kept moving while the plate was away
    port.close()


# -- midfoot simulate on a pty -----------------------------------------------------------------


def test_simulate_on_a_pty_reads_like_a_real_port(tmp_path):
    link = tmp_path / "plate"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from gui.commands.simulate import run as run_simulate_command; "
            "sys.exit(run_simulate_command(sys.argv[1:]))",
            "hinge-bilateral",
            "--rate",
            "80",
            "--seed",
            "3",
            "--link",
            str(link),
            "--seconds",
            "20",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        path = proc.stdout.readline().strip()
        assert path.startswith("/dev/")
        assert link.resolve() == Path(path).resolve()
        port = serial.Serial(str(link), timeout=0.05)
        dec = FrameDecoder()
        outs = read_for(port, 1.0, dec)
        n = sum(len(o.samples) for o in outs)
        assert 50 <= n <= 110
        assert dec.stats.crc_errors == 0
        port.write(b"info\n")
        outs = read_for(port, 0.3, dec)
        infos = [i for o in outs for i in o.infos]
        assert infos
        assert infos[0]["rate_hz"] == "80"
        assert infos[0]["plate_id"] == "virt-0003"
        port.close()
    finally:
        proc.terminate()
        code = proc.wait(timeout=5)
    assert code == 0
    assert not link.exists()
    assert not link.is_symlink()


@pytest.mark.parametrize(
    ("argv", "match"),
    [(["pogo"], "no scenario"), (["--rate", "33"], "10, 80 or 1000"), (["--bogus"], "bogus")],
)
def test_simulate_bad_arguments_exit_2_with_one_line(capsys, argv, match):
    assert run_simulate_command(argv) == 2
    err = capsys.readouterr().err.strip()
    assert match in err
    assert "\n" not in err
    assert err.startswith("midfoot simulate:")
