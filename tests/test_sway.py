"""Tests of analysis.sway and the `midfoot sway` command.

Expected values come from the published Santos & Duarte (2016) table, from closed-form
geometry (circles, sinusoids) or from the definitions' own statistics, never from
running the implementation.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from analysis.sway import (
    MIN_SAMPLES,
    SwayMetrics,
    load_cop,
    sway_metrics,
    sway_stretch,
)
from daq.errors import MidfootError
from daq.reader import read_recording
from gui.cli import run_command

BDS_TRIALS = ("BDS00001", "BDS00004", "BDS00007", "BDS00010")
MM2_PER_CM2 = 100.0
MM_PER_CM = 10.0

JSON_KEYS = {
    "ellipse95_area_mm2",
    "mean_velocity_mm_s",
    "mean_frequency_hz",
    "path_length_mm",
    "rms_ap_mm",
    "rms_ml_mm",
    "range_ap_mm",
    "range_ml_mm",
    "ellipse95_chi2_area_mm2",
    "rms_distance_mm",
    "mean_distance_mm",
    "circle95_area_mm2",
    "median_frequency_ap_hz",
    "median_frequency_ml_hz",
    "f95_ap_hz",
    "f95_ml_hz",
    "mean_velocity_ap_mm_s",
    "mean_velocity_ml_mm_s",
    "duration_s",
    "n_samples",
    "fs_hz",
    "filter",
}


def run_sway_command(argv: list[str]) -> int:
    return run_command('sway', argv)


# --------------------------------------------------------------------------------------
# Real data: Santos & Duarte (2016)


def _bds_dir() -> Path:
    """The shared BDS folder: ../shared/data/bds, or $MIDFOOT_SHARED_DATA[/bds]."""
    override = os.environ.get("MIDFOOT_SHARED_DATA")
    if override:
        root = Path(override)
        # Accept either the shared data folder or the bds folder itself.
        return root if (root / "BDSinfoCOP.txt").exists() else root / "bds"
    return Path(__file__).resolve().parents[2] / "shared" / "data" / "bds"


@pytest.fixture(scope="module")
def bds_dir() -> Path:
    folder = _bds_dir()
    needed = [folder / "BDSinfoCOP.txt"] + [folder / f"{t}.txt" for t in BDS_TRIALS]
    missing = [p.name for p in needed if not p.is_file()]
    if missing:
        reason = (
            f"Santos & Duarte data not found in {folder} (missing {', '.join(missing)}); "
            "set MIDFOOT_SHARED_DATA to the shared data folder"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return folder


@pytest.fixture(scope="module")
def published(bds_dir: Path) -> dict[str, dict[str, float]]:
    """COParea [cm^2], COPvelo [cm/s], COPmfreq [Hz] per trial, read from BDSinfoCOP.txt."""
    lines = (bds_dir / "BDSinfoCOP.txt").read_text().splitlines()
    names = lines[0].split("\t")
    cols = {k: names.index(k) for k in ("Trial", "COParea", "COPvelo", "COPmfreq")}
    table = {}
    for line in lines[1:]:
        cells = line.split("\t")
        trial = cells[cols["Trial"]]
        if trial in BDS_TRIALS:
            table[trial] = {k: float(cells[i]) for k, i in cols.items() if k != "Trial"}
    assert set(table) == set(BDS_TRIALS)
    return table


@pytest.mark.realdata
@pytest.mark.parametrize("trial", BDS_TRIALS)
def test_published_santos_duarte_values_are_reproduced(trial, bds_dir, published):
    t_s, ap_mm, ml_mm, fs_hz = load_cop(bds_dir / f"{trial}.txt")
    m = sway_metrics(ap_mm, ml_mm, fs_hz)
    ref = published[trial]
    assert m.n_samples == 6000
    assert m.fs_hz == pytest.approx(100.0, rel=1e-9)
    assert m.filter == "none"
    assert m.ellipse95_area_mm2 == pytest.approx(ref["COParea"] * MM2_PER_CM2, rel=1e-6)
    assert m.mean_velocity_mm_s == pytest.approx(ref["COPvelo"] * MM_PER_CM, rel=1e-6)
    assert m.mean_frequency_hz == pytest.approx(ref["COPmfreq"], rel=1e-6)


@pytest.mark.realdata
def test_cli_reads_santos_duarte_trial_without_options(bds_dir, published, capsys):
    assert run_sway_command([str(bds_dir / "BDS00004.txt"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    ref = published["BDS00004"]
    assert out["ellipse95_area_mm2"] == pytest.approx(ref["COParea"] * MM2_PER_CM2, rel=1e-6)
    assert out["mean_velocity_mm_s"] == pytest.approx(ref["COPvelo"] * MM_PER_CM, rel=1e-6)
    assert out["mean_frequency_hz"] == pytest.approx(ref["COPmfreq"], rel=1e-6)
    assert out["filter"] == "none"


@pytest.mark.realdata
def test_cli_table_shows_published_area(bds_dir, published, capsys):
    assert run_sway_command([str(bds_dir / "BDS00001.txt")]) == 0
    out = capsys.readouterr().out
    expected_mm2 = published["BDS00001"]["COParea"] * MM2_PER_CM2
    assert f"{expected_mm2:.4f}" in out
    for unit in ("mm^2", "mm/s", "Hz"):
        assert unit in out


# --------------------------------------------------------------------------------------
# Synthetic trajectories with closed-form answers


def _circle(radius_mm, samples_per_turn, turns, fs_hz, extra=0, centre=(30.0, -5.0)):
    n = samples_per_turn * turns + extra
    phase = 2 * np.pi * np.arange(n) / samples_per_turn
    return centre[0] + radius_mm * np.cos(phase), centre[1] + radius_mm * np.sin(phase), fs_hz


def test_circle_path_length_velocity_and_range():
    r_mm, m, k, fs = 12.0, 40, 5, 100.0
    # One extra sample closes the last turn: exactly k*m chords, all extremes visited.
    ap, ml, fs = _circle(r_mm, m, k, fs, extra=1)
    n = ap.size
    duration_s = n / fs
    chord_mm = 2 * r_mm * math.sin(math.pi / m)
    metrics = sway_metrics(ap, ml, fs)
    assert metrics.path_length_mm == pytest.approx(k * m * chord_mm, rel=1e-12)
    assert metrics.mean_velocity_mm_s == pytest.approx(k * m * chord_mm / duration_s, rel=1e-12)
    # |dAP| sums to 4 r per turn when the turn's extremes are samples (m divisible by 4).
    assert metrics.mean_velocity_ap_mm_s == pytest.approx(4 * r_mm * k / duration_s, rel=1e-12)
    assert metrics.mean_velocity_ml_mm_s == pytest.approx(4 * r_mm * k / duration_s, rel=1e-12)
    assert metrics.range_ap_mm == pytest.approx(2 * r_mm, rel=1e-12)
    assert metrics.range_ml_mm == pytest.approx(2 * r_mm, rel=1e-12)
    assert metrics.duration_s == pytest.approx(duration_s)
    assert metrics.n_samples == n


def test_circle_distance_rms_and_areas():
    r_mm, m, k, fs = 7.5, 36, 4, 50.0
    ap, ml, fs = _circle(r_mm, m, k, fs)  # whole turns: the mean is the centre
    n = ap.size
    metrics = sway_metrics(ap, ml, fs)
    assert metrics.rms_ap_mm == pytest.approx(r_mm / math.sqrt(2), rel=1e-12)
    assert metrics.rms_ml_mm == pytest.approx(r_mm / math.sqrt(2), rel=1e-12)
    assert metrics.rms_distance_mm == pytest.approx(r_mm, rel=1e-12)
    assert metrics.mean_distance_mm == pytest.approx(r_mm, rel=1e-12)
    # Distance never varies, so Prieto's circle is the trajectory's own circle.
    assert metrics.circle95_area_mm2 == pytest.approx(math.pi * r_mm**2, rel=1e-9)
    # Sample covariance is r^2/2 * N/(N-1) * I, so sqrt(l1 l2) = r^2/2 * N/(N-1).
    sqrt_l1l2 = r_mm**2 / 2 * n / (n - 1)
    chi2_95 = -2 * math.log(0.05)  # chi-square, 2 dof: closed-form quantile
    assert metrics.ellipse95_chi2_area_mm2 == pytest.approx(math.pi * chi2_95 * sqrt_l1l2)


def test_sinusoid_frequencies_match_its_frequency():
    fs, n = 100.0, 6000
    f0_hz = 1.0  # on a Welch bin: bins are fs / (n / 2) = 1/30 Hz apart
    bin_hz = fs / (n // 2)
    t = np.arange(n) / fs
    ap = 4.0 * np.sin(2 * np.pi * f0_hz * t)
    ml = 1.5 * np.sin(2 * np.pi * 3 * f0_hz * t + 0.3)
    metrics = sway_metrics(ap, ml, fs)
    assert metrics.median_frequency_ap_hz == pytest.approx(f0_hz, abs=bin_hz)
    assert metrics.median_frequency_ml_hz == pytest.approx(3 * f0_hz, abs=bin_hz)
    assert f0_hz <= metrics.f95_ap_hz <= f0_hz + 2 * bin_hz
    assert 3 * f0_hz <= metrics.f95_ml_hz <= 3 * f0_hz + 2 * bin_hz
    # Axes are combined weighted by their power, i.e. by amplitude squared.
    expected_hz = (f0_hz * 4.0**2 + 3 * f0_hz * 1.5**2) / (4.0**2 + 1.5**2)
    assert metrics.mean_frequency_hz == pytest.approx(expected_hz, rel=0.01)


def test_white_noise_frequencies_split_a_flat_spectrum():
    # White noise has a flat spectrum on [0, fs/2]: its mean and median frequency are
    # fs/4 and 95 % of its power lies below 0.95 * fs/2.
    fs = 100.0
    rng = np.random.default_rng(5)
    ap = rng.standard_normal(20000)
    ml = 0.5 * rng.standard_normal(20000)
    metrics = sway_metrics(ap, ml, fs)
    assert metrics.mean_frequency_hz == pytest.approx(fs / 4, rel=0.02)
    assert metrics.median_frequency_ap_hz == pytest.approx(fs / 4, rel=0.02)
    assert metrics.median_frequency_ml_hz == pytest.approx(fs / 4, rel=0.02)
    assert metrics.f95_ap_hz == pytest.approx(0.95 * fs / 2, rel=0.01)
    assert metrics.f95_ml_hz == pytest.approx(0.95 * fs / 2, rel=0.01)


def test_still_axis_has_undefined_frequencies_reported_as_null():
    fs, n = 100.0, 3000
    t = np.arange(n) / fs
    ap = np.sin(2 * np.pi * 0.5 * t)
    ml = np.full(n, 3.0)
    metrics = sway_metrics(ap, ml, fs)
    assert math.isnan(metrics.median_frequency_ml_hz)
    assert metrics.to_dict()["f95_ml_hz"] is None
    assert metrics.mean_frequency_hz == pytest.approx(0.5, rel=0.02)
    assert metrics.range_ml_mm == 0.0
    json.dumps(metrics.to_dict(), allow_nan=False)


def _gaussian_cloud(n, sd_ap_mm, sd_ml_mm, angle_rad, seed):
    rng = np.random.default_rng(seed)
    xy = rng.standard_normal((n, 2)) * (sd_ap_mm, sd_ml_mm)
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    rotated = xy @ np.array([[c, s], [-s, c]])
    return rotated[:, 0] + 100.0, rotated[:, 1] - 40.0


def test_gaussian_cloud_ellipses_match_population_ellipse():
    # The population 95 % ellipse of N(0, diag(3^2, 1^2)) has area pi * chi2_95 * 3 * 1.
    ap, ml = _gaussian_cloud(6000, 3.0, 1.0, 0.5, seed=7)
    metrics = sway_metrics(ap, ml, 100.0)
    population_mm2 = math.pi * stats.chi2.ppf(0.95, 2) * 3.0 * 1.0
    # sqrt(det) of a 6000-sample covariance is within ~2 % (1 SD ~ 1.3 %) of the truth.
    assert metrics.ellipse95_chi2_area_mm2 == pytest.approx(population_mm2, rel=0.04)
    assert metrics.ellipse95_area_mm2 == pytest.approx(population_mm2, rel=0.04)


@pytest.mark.parametrize(
    ("n", "area_shortfall", "axis_shortfall"),
    [
        # REFERENCE.md: the chi-square ellipse is ~0.1 % smaller at n = 6000 ...
        (6000, 0.001, 0.0005),
        # ... and "8.5 %" at n = 30, which is the shortfall of the semi-axes; the area
        # falls short by about twice that (16 %).
        (30, 0.162, 0.085),
    ],
)
def test_chi2_ellipse_is_smaller_than_f_prediction_ellipse(n, area_shortfall, axis_shortfall):
    ap, ml = _gaussian_cloud(n, 2.0, 1.2, 1.0, seed=n)
    metrics = sway_metrics(ap, ml, 100.0)
    ratio = metrics.ellipse95_chi2_area_mm2 / metrics.ellipse95_area_mm2
    assert 1 - ratio == pytest.approx(area_shortfall, abs=0.0003)
    assert 1 - math.sqrt(ratio) == pytest.approx(axis_shortfall, abs=0.0005)
    # Santos & Duarte's factor for n samples, from the F quantile they name.
    f_factor = stats.f.ppf(0.95, 2, n - 2) * 2 * (n - 1) * (n + 1) / (n * (n - 2))
    assert ratio == pytest.approx(stats.chi2.ppf(0.95, 2) / f_factor, rel=1e-12)


def test_prieto_circle_radius_is_mean_plus_1645_sd_of_distance():
    ap, ml = _gaussian_cloud(4000, 2.0, 2.0, 0.0, seed=3)
    metrics = sway_metrics(ap, ml, 100.0)
    d = np.hypot(ap - ap.mean(), ml - ml.mean())
    radius = d.mean() + 1.645 * d.std()
    assert metrics.circle95_area_mm2 == pytest.approx(math.pi * radius**2, rel=1e-12)
    # For an isotropic Gaussian the distance is Rayleigh: mean sigma*sqrt(pi/2),
    # RMS sigma*sqrt(2).
    assert metrics.mean_distance_mm == pytest.approx(2.0 * math.sqrt(math.pi / 2), rel=0.03)
    assert metrics.rms_distance_mm == pytest.approx(2.0 * math.sqrt(2), rel=0.03)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    angle_rad=st.floats(-math.pi, math.pi),
    scale=st.floats(0.1, 10.0),
    shift_mm=st.tuples(st.floats(-500, 500), st.floats(-500, 500)),
)
def test_metrics_are_invariant_to_rotation_and_shift_and_scale_with_size(
    seed, angle_rad, scale, shift_mm
):
    rng = np.random.default_rng(seed)
    ap = np.cumsum(rng.standard_normal(400)) * 0.3
    ml = np.cumsum(rng.standard_normal(400)) * 0.2
    base = sway_metrics(ap, ml, 50.0)
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    ap2 = scale * (c * ap - s * ml) + shift_mm[0]
    ml2 = scale * (s * ap + c * ml) + shift_mm[1]
    moved = sway_metrics(ap2, ml2, 50.0)
    for name in ("path_length_mm", "mean_velocity_mm_s", "rms_distance_mm", "mean_distance_mm"):
        assert getattr(moved, name) == pytest.approx(scale * getattr(base, name), rel=1e-6)
    for name in ("ellipse95_area_mm2", "ellipse95_chi2_area_mm2", "circle95_area_mm2"):
        assert getattr(moved, name) == pytest.approx(scale**2 * getattr(base, name), rel=1e-6)


# --------------------------------------------------------------------------------------
# Filtering


def test_unfiltered_by_default_and_filter_is_reported():
    ap, ml, fs = _circle(5.0, 40, 5, 100.0)
    assert sway_metrics(ap, ml, fs).filter == "none"
    filtered = sway_metrics(ap, ml, fs, lowpass_hz=10)
    assert filtered.filter == "butterworth 4th order zero-phase low-pass 10 Hz"
    assert sway_metrics(ap, ml, fs, lowpass_hz=12.5).filter.endswith("low-pass 12.5 Hz")


@pytest.mark.parametrize("freq_factor", [0.1, 0.5, 1.0, 2.0, 4.0])
def test_lowpass_gain_is_4th_order_butterworth_with_minus_3db_at_cutoff(freq_factor):
    fs, cutoff_hz = 200.0, 8.0
    f_hz = freq_factor * cutoff_hz
    # 40 s plus one sample: every test sine starts and ends on a zero crossing, so the
    # filter's odd edge extension continues it exactly and no edge transient remains.
    t = np.arange(8001) / fs
    ap = 5.0 * np.sin(2 * np.pi * f_hz * t)
    ml = np.cos(2 * np.pi * 0.25 * t)
    raw = sway_metrics(ap, ml, fs)
    filtered = sway_metrics(ap, ml, fs, lowpass_hz=cutoff_hz)
    # Zero-phase 4th-order Butterworth, -3 dB at the cut-off, on the bilinear
    # (pre-warped) frequency axis: amplitude 1 / (1 + (sqrt(2) - 1) (W / Wc)^4).
    w_ratio = math.tan(math.pi * f_hz / fs) / math.tan(math.pi * cutoff_hz / fs)
    expected_gain = 1 / (1 + (math.sqrt(2) - 1) * w_ratio**4)
    assert filtered.rms_ap_mm / raw.rms_ap_mm == pytest.approx(expected_gain, rel=0.01)


def test_lowpass_shortens_noisy_path_while_ellipse_hardly_moves():
    # REFERENCE.md: low-pass filtering halves path length but hardly moves the ellipse.
    fs, n = 100.0, 6000
    rng = np.random.default_rng(11)
    t = np.arange(n) / fs
    ap = 4 * np.sin(2 * np.pi * 0.2 * t) + 2 * np.sin(2 * np.pi * 0.7 * t + 1)
    ml = 2 * np.sin(2 * np.pi * 0.3 * t + 2) + np.sin(2 * np.pi * 0.9 * t)
    noise_mm = 0.15
    ap = ap + noise_mm * rng.standard_normal(n)
    ml = ml + noise_mm * rng.standard_normal(n)
    raw = sway_metrics(ap, ml, fs)
    filtered = sway_metrics(ap, ml, fs, lowpass_hz=5.0)
    assert filtered.path_length_mm < 0.5 * raw.path_length_mm
    assert filtered.ellipse95_area_mm2 == pytest.approx(raw.ellipse95_area_mm2, rel=0.02)


# --------------------------------------------------------------------------------------
# Input validation


def _sentence(message: str) -> bool:
    return "\n" not in message and message.endswith(".") and len(message) < 300


@pytest.mark.parametrize(
    ("ap", "ml", "fs", "lowpass", "match"),
    [
        (np.zeros(100), np.zeros(99), 100.0, None, "same number of samples"),
        (np.zeros(MIN_SAMPLES - 1), np.zeros(MIN_SAMPLES - 1), 100.0, None, "at least"),
        (np.r_[np.zeros(50), np.nan, np.zeros(49)], np.zeros(100), 100.0, None, "NaN"),
        (np.zeros(100), np.r_[np.zeros(99), np.inf], 100.0, None, "infinite"),
        (np.zeros(100), np.zeros(100), 0.0, None, "positive sampling rate"),
        (np.zeros(100), np.zeros(100), -5.0, None, "positive sampling rate"),
        (np.zeros(100), np.zeros(100), float("nan"), None, "positive sampling rate"),
        (np.zeros((50, 2)), np.zeros((50, 2)), 100.0, None, "one-dimensional"),
        (np.zeros(100), np.zeros(100), 100.0, 50.0, "half the sampling rate"),
        (np.zeros(100), np.zeros(100), 100.0, 0.0, "half the sampling rate"),
    ],
)
def test_bad_inputs_raise_clear_value_error(ap, ml, fs, lowpass, match):
    with pytest.raises(ValueError, match=match) as info:
        sway_metrics(ap, ml, fs, lowpass_hz=lowpass)
    assert _sentence(str(info.value))


def test_result_is_frozen_and_dict_keys_are_exact():
    ap, ml, fs = _circle(5.0, 40, 2, 100.0)
    metrics = sway_metrics(ap, ml, fs)
    assert isinstance(metrics, SwayMetrics)
    with pytest.raises(AttributeError):
        metrics.path_length_mm = 0.0  # type: ignore[misc]
    assert set(metrics.to_dict()) == JSON_KEYS


# --------------------------------------------------------------------------------------
# The stretch of a recording


def _write(path: Path, text: str) -> Path:
    path.write_text(text, newline="")
    return path


def test_uneven_sampling_is_refused(tmp_path):
    text = "t,ap_mm,ml_mm,fz_n\n" + "".join(f"{t},1,2,700\n" for t in range(30) if t != 9)
    series = read_recording(_write(tmp_path / "gap.csv", text))
    with pytest.raises(MidfootError, match="evenly"):
        sway_stretch(series)
    # Without the gap it is fine.
    assert sway_stretch(series, 10.0, 29.5).fs_hz == pytest.approx(1.0)


def test_movement_is_warned_about_not_quiet_standing(tmp_path):
    t = np.arange(0, 20, 0.01)
    quiet = 3 * np.sin(2 * np.pi * 0.3 * t)
    moving = np.where(t > 10, 80 * np.sin(2 * np.pi * 0.5 * t), quiet)
    for ap, warned in ((quiet, False), (moving, True)):
        lines = ["t,ap_mm,ml_mm,fz_n"] + [f"{a},{b},0,700" for a, b in zip(t, ap, strict=True)]
        series = read_recording(_write(tmp_path / f"s{warned}.csv", "\n".join(lines)))
        stretch = sway_stretch(series)
        assert (stretch.warning is not None) == warned
        if warned:
            assert "not quiet standing" in stretch.warning
        assert sway_stretch(series, 0.0, 9.0).warning is None


def test_nobody_on_the_plate_is_refused(tmp_path):
    lines = ["t,ap_mm,ml_mm,fz_n"] + [f"{i / 100},0,0,{700 if i < 50 else 0}" for i in range(100)]
    series = read_recording(_write(tmp_path / "off.csv", "\n".join(lines)))
    with pytest.raises(MidfootError, match="nobody stands"):
        sway_stretch(series)
    assert sway_stretch(series, 0.0, 0.45).ap_mm.shape[0] == 45


# --------------------------------------------------------------------------------------
# Command line


@pytest.fixture
def circle_csv(tmp_path) -> Path:
    ap, ml, fs = _circle(6.0, 40, 10, 40.0, extra=1)
    t = np.arange(ap.size) / fs
    lines = ["# note: synthetic circle", "t,ap_mm,ml_mm,fz_n"]
    lines += [f"{ti:.6f},{a:.9f},{b:.9f},700.0" for ti, a, b in zip(t, ap, ml, strict=True)]
    return _write(tmp_path / "circle.csv", "\n".join(lines) + "\n")


def test_cli_json_has_exact_keys_and_closed_form_values(circle_csv, capsys):
    assert run_sway_command([str(circle_csv), "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    out = json.loads(captured.out)
    assert set(out) == JSON_KEYS | {"warning"}
    assert out["warning"] is None
    assert out["n_samples"] == 401
    assert out["range_ap_mm"] == pytest.approx(12.0, rel=1e-6)
    assert out["path_length_mm"] == pytest.approx(400 * 12.0 * math.sin(math.pi / 40), rel=1e-6)
    assert out["filter"] == "none"


def test_cli_window_and_lowpass(circle_csv, capsys):
    # 40 Hz: t = 0.0 ... 10.0 s; [2.5, 7.5) keeps 200 samples.
    argv = [str(circle_csv), "--start", "2.5", "--end", "7.5", "--lowpass", "4", "--json"]
    assert run_sway_command(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_samples"] == 200
    assert out["duration_s"] == pytest.approx(5.0)
    assert out["filter"] == "butterworth 4th order zero-phase low-pass 4 Hz"


def test_cli_table_is_aligned_with_units(circle_csv, capsys):
    assert run_sway_command([str(circle_csv)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert any("circle.csv" in line for line in out)
    assert any(line.split()[-1] == "mm^2" for line in out)
    assert any(line.startswith("filter") and line.rstrip().endswith("none") for line in out)
    range_line = next(line for line in out if line.startswith("range AP"))
    assert range_line.split()[-2:] == ["12.0000", "mm"]
    # Values are right-aligned in one column.
    value_rows = [line for line in out if line.rstrip().endswith(("mm", "mm^2", "mm/s"))]
    ends = {len(line.rstrip().rsplit(" ", 1)[0].rstrip()) for line in value_rows}
    assert len(ends) == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["{missing}"],
        ["{csv}", "--start", "8", "--end", "2"],
        ["{csv}", "--start", "9.9"],
        ["{csv}", "--lowpass", "abc"],
        ["{csv}", "--lowpass", "30"],
        ["{csv}", "--bogus"],
        [],
        ["{h5}"],
    ],
)
def test_cli_errors_print_one_line_and_exit_2(argv, circle_csv, tmp_path, capsys):
    h5 = _write(tmp_path / "session.h5", "x")
    subs = {"{csv}": str(circle_csv), "{missing}": str(tmp_path / "gone.csv"), "{h5}": str(h5)}
    code = run_sway_command([subs.get(a, a) for a in argv])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("midfoot sway: ")
    assert "Traceback" not in captured.err


def test_cli_help_exits_zero(capsys):
    assert run_sway_command(["--help"]) == 0
    assert "midfoot sway" in capsys.readouterr().out
