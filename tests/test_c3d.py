"""C3D: midfoot's export read back by ezc3d, by Kinetics Toolkit and by read_c3d; lab force
plates of types 2 and 4 (one and two plates, non-zero ORIGIN, rotated, both Fz signs);
hostile files give one sentence and never take the process down."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from analysis.report import analyse_file
from daq.c3d import LabEvent, combine_plates, read_c3d, write_c3d
from daq.calibration import Calibration
from daq.errors import MidfootError
from daq.export_csv import write_samples_csv
from daq.plate import load_plate
from daq.reader import read_recording
from daq.recorder import SessionRecorder
from daq.series import PlateSeries, SeriesMeta
from gui.cli import run_command

try:
    import ezc3d
except ImportError:  # pragma: no cover - the interop extra is installed by make setup
    if os.environ.get("CI") == "true":
        pytest.fail("ezc3d (the 'interop' extra) must be installed under CI", pytrace=False)
    pytest.skip("ezc3d is not installed: pip install -e '.[interop]'", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[1]
if "fault_table" in sys.modules:
    fault_table = sys.modules["fault_table"]
else:
    _spec = importlib.util.spec_from_file_location("fault_table", ROOT / "bench" / "fault_table.py")
    assert _spec is not None
    assert _spec.loader is not None
    fault_table = importlib.util.module_from_spec(_spec)
    sys.modules["fault_table"] = fault_table
    _spec.loader.exec_module(fault_table)


def write_session(rec, path: Path) -> Path:
    """The recording as `midfoot record` stores it, calibrated with the plate's truth."""
    cal = Calibration(
        plate_id="virt",
        plate=rec.plate.plate,
        offset_counts=rec.plate.truth.offsets_counts,
        gain_n_per_count=1.0 / rec.plate.truth.gains_counts_per_n,
        calibrated=True,
    )
    meta = {
        "stance": rec.stance.stance,
        "foot_length_mm": rec.stance.foot_length_mm,
        "heel_y_mm": rec.stance.heel_y_mm,
        "stance_width_mm": rec.stance.stance_width_mm,
        "athlete": "tester",
    }
    recorder = SessionRecorder(path, cal, 4, meta)
    recorder.add_text("info", f"proto=1;rate_hz={rec.case.rate_hz};plate_id=virt")
    recorder.write(rec.block, 1.7e9)
    recorder.close()
    return path


@pytest.fixture(scope="module")
def session_1khz(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    rec = fault_table.record(
        fault_table.Case(scenario="hinge-kickstand-left", rate_hz=1000, seed=31, n_reps=2)
    )
    path = tmp_path_factory.mktemp("c3d") / "left.h5"
    return write_session(rec, path), rec


@pytest.fixture(scope="module")
def exported(session_1khz, tmp_path_factory) -> tuple[Path, PlateSeries]:
    """`midfoot export left.h5 --c3d left.c3d` and the series it came from."""
    h5, _ = session_1khz
    out = tmp_path_factory.mktemp("c3d-out") / "left.c3d"
    assert run_command("export", [str(h5), "--c3d", str(out)]) == 0
    return out, read_recording(h5)


def cop_from_channels(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """CoP (lab x, y, mm) and lab Fz from the raw analog channels, by the textbook formula.

    Written here from the C3D definition, independently of daq.c3d: the plate frame from
    CORNERS, moments shifted by ORIGIN, CoP = (-My/Fz, Mx/Fz) in the plate frame.
    """
    c = ezc3d.c3d(str(path))
    fp = c["parameters"]["FORCE_PLATFORM"]
    assert int(fp["TYPE"]["value"][0]) == 2
    corners = np.asarray(fp["CORNERS"]["value"])[:, :, 0].T
    origin = np.asarray(fp["ORIGIN"]["value"])[:, 0]
    ch = np.asarray(fp["CHANNEL"]["value"])[:, 0] - 1
    a = c["data"]["analogs"][0]
    f, m = a[ch[:3]], a[ch[3:]]
    m = m + np.cross(f.T, -origin if origin[2] > 0 else origin).T
    x = corners[0] - corners[1]
    y = corners[0] - corners[3]
    z = np.cross(x, y)
    frame = np.column_stack([x / np.linalg.norm(x), y / np.linalg.norm(y), z / np.linalg.norm(z)])
    with np.errstate(invalid="ignore", divide="ignore"):
        local = np.vstack([-m[1] / f[2], m[0] / f[2], np.zeros(f.shape[1])])
    lab = frame @ local + corners.mean(axis=0)[:, None]
    return lab[:2].T, (frame @ f)[2]


def test_export_cop_from_forces_and_moments_matches_midfoot(exported) -> None:
    path, series = exported
    cop_c3d, fz_lab = cop_from_channels(path)
    n = len(series)
    assert cop_c3d.shape[0] >= n
    loaded = (series.fz_n > 100.0) & series.valid
    # 1 kHz plate: one C3D analog sample per plate sample, at the same times.
    diff = np.abs(cop_c3d[:n][loaded] - series.cop_mm[loaded])
    assert loaded.sum() > 10_000
    assert np.nanmax(diff) < 0.1
    # Ground reaction force: up in the lab, the person's weight.
    np.testing.assert_allclose(fz_lab[:n][loaded], series.fz_n[loaded], rtol=1e-5, atol=0.01)


def test_ezc3d_force_platform_module_agrees(exported) -> None:
    path, series = exported
    c = ezc3d.c3d(str(path), extract_forceplat_data=True)
    platform = c["data"]["platform"][0]
    n = len(series)
    loaded = (series.fz_n > 100.0) & series.valid
    cop = platform["center_of_pressure"][:2, :n].T
    assert np.nanmax(np.abs(cop[loaded] - series.cop_mm[loaded])) < 0.1
    assert platform["unit_moment"] == "Nmm"
    assert np.all(platform["force"][2, :n][loaded] > 0)
    assert c["header"]["analogs"]["frame_rate"] == pytest.approx(1000.0)


def test_read_c3d_gives_back_the_series_and_the_rep_events(exported, session_1khz) -> None:
    path, series = exported
    h5, rec = session_1khz
    (back,) = read_c3d(path)
    n = len(series)
    assert len(back) == n
    loaded = (series.fz_n > 100.0) & series.valid
    assert np.nanmax(np.abs(back.cop_mm[loaded] - series.cop_mm[loaded])) < 0.1
    ok = series.valid  # glitch samples are bridged in the C3D
    np.testing.assert_allclose(back.force_n[ok], series.force_n[ok], atol=0.01)
    np.testing.assert_allclose(back.t_s, series.t_s, atol=1e-9)
    assert back.meta.kind == "c3d"
    assert back.meta.plate is not None
    np.testing.assert_array_equal(back.meta.plate.cells_mm, series.meta.plate.cells_mm)
    assert back.meta.stance == "kickstand-left"
    assert back.meta.athlete == "tester"
    assert back.meta.nominal_rate_hz == pytest.approx(1000.0)
    # Rep events at the reps' times, from the same analysis `midfoot analyse` runs.
    reps = analyse_file(h5).reps
    assert len(reps) == 2
    starts = [e.t_s for e in back.events if isinstance(e, LabEvent) and e.label == "Rep start"]
    lockouts = [e.t_s for e in back.events if e.label == "Rep lockout"]
    np.testing.assert_allclose(starts, [r.start_s for r in reps], atol=1e-4)
    np.testing.assert_allclose(lockouts, [r.lockout_s for r in reps], atol=1e-4)
    # ... and they are near the scripted truth of the virtual person.
    truth = [r.start_s for r in rec.scenario.reps]
    assert np.max(np.abs(np.array(starts) - truth)) < 0.5


def test_long_recordings_fit_the_16_bit_frame_count(tmp_path: Path) -> None:
    """Ten minutes at 1 kHz: 600,000 samples, stored as fewer frames of several samples."""
    plate = load_plate()
    n = 600_000
    t = np.arange(n) / 1000.0
    x, y = 40 * np.sin(0.3 * t), 60 * np.cos(0.2 * t)
    fz = 700.0 + 30 * np.sin(2 * t)
    series = PlateSeries.from_arrays(
        t, fz, np.column_stack([x, y]), meta=SeriesMeta(plate=plate, nominal_rate_hz=1000.0)
    )
    path = write_c3d(series, tmp_path / "long.c3d")
    c = ezc3d.c3d(str(path))
    assert c["data"]["analogs"].shape[2] >= n
    (back,) = read_c3d(path)
    assert len(back) == n
    assert np.nanmax(np.abs(back.cop_mm - series.cop_mm)) < 0.1
    assert back.t_s[-1] == pytest.approx(t[-1])


def test_gaps_are_bridged_or_marked(tmp_path: Path) -> None:
    plate = load_plate()
    t = np.arange(4000) / 100.0
    keep = ~(((t > 10) & (t < 10.1)) | ((t > 20) & (t < 25)))  # a short and a long gap
    fz = np.full(t.shape, 650.0)
    cop = np.column_stack([np.full(t.shape, 12.0), np.full(t.shape, -30.0)])
    series = PlateSeries.from_arrays(
        t[keep], fz[keep], cop[keep], meta=SeriesMeta(plate=plate, nominal_rate_hz=100.0)
    )
    (back,) = read_c3d(write_c3d(series, tmp_path / "gaps.c3d"))
    assert len(back) == 4000
    short = (back.t_s > 10) & (back.t_s < 10.1)
    np.testing.assert_allclose(back.fz_n[short], 650.0)
    long = (back.t_s > 20.01) & (back.t_s < 24.99)
    assert np.all(back.fz_n[long] == 0.0)
    assert np.all(np.isnan(back.cop_mm[long]))
    labels = [(e.label, round(e.t_s, 2)) for e in back.events]
    assert ("Gap start", 20.0) in labels
    assert ("Gap end", 25.0) in labels


def test_kinetics_toolkit_reads_the_force_platform(exported, tmp_path: Path) -> None:
    """Kinetics Toolkit (a test dependency) in its own process: it pulls PyQt5."""
    if importlib.util.find_spec("kineticstoolkit") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("kineticstoolkit is a test dependency and must be installed under CI")
        pytest.skip("kineticstoolkit is not installed (pip install -e '.[test]')")
    path, series = exported
    script = (
        "import json, sys, warnings\n"
        "warnings.simplefilter('ignore')\n"
        "import kineticstoolkit as ktk\n"
        "d = ktk.read_c3d(sys.argv[1], convert_point_unit=False)\n"
        "fp = d['ForcePlatforms']\n"
        "print(json.dumps({'cop': fp.data['FP0_COP'][:, :2].tolist(),\n"
        "                  'fz': fp.data['FP0_Force'][:, 2].tolist(),\n"
        "                  'events': sorted({e.name for e in fp.events})}))\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    n = len(series)
    cop_m = np.array(data["cop"], dtype=float)[:n]
    loaded = (series.fz_n > 100.0) & series.valid
    assert np.nanmax(np.abs(cop_m[loaded] * 1000.0 - series.cop_mm[loaded])) < 0.1
    np.testing.assert_allclose(np.array(data["fz"])[:n][loaded], series.fz_n[loaded], rtol=1e-5)
    assert {"Rep start", "Rep bottom", "Rep lockout"} <= set(data["events"])


# -- lab force plates -----------------------------------------------------------------------
def lab_c3d(
    path: Path,
    *,
    plate_type: int,
    placements: list[tuple[tuple[float, float], float]],
    origin_mm: tuple[float, float, float],
    unit: str = "mm",
    action_force: bool = False,
    rate_hz: float = 500.0,
    seconds: float = 6.0,
) -> list[dict[str, np.ndarray]]:
    """A lab trial of one or more plates loaded by a known CoP path, written with ezc3d.

    Each placement is (centre in the lab, mm; yaw in degrees). The plate frame has z down,
    as AMTI and Bertec plates do. Returns each plate's truth: lab CoP, GRF.
    """
    scale = {"mm": 1.0, "m": 0.001}[unit]
    n = int(seconds * rate_hz)
    t = np.arange(n) / rate_hz
    rng = np.random.default_rng(len(placements) * 10 + plate_type)
    channels, corners_all, truths, cals = [], [], [], []
    for k, ((cx, cy), yaw_deg) in enumerate(placements):
        yaw = np.radians(yaw_deg)
        ax = np.array([np.cos(yaw), np.sin(yaw), 0.0])
        ay = np.array([np.sin(yaw), -np.cos(yaw), 0.0])
        frame = np.column_stack([ax, ay, np.cross(ax, ay)])
        centre = np.array([cx, cy, 0.0])
        a, b = 200.0, 300.0
        corners = [
            centre + sa * a * ax + sb * b * ay for sa, sb in ((1, 1), (-1, 1), (-1, -1), (1, -1))
        ]
        corners_all.append(np.array(corners))
        # Known CoP path (lab), vertical load, a little shear and free moment.
        p = np.column_stack(
            [cx + 60 * np.sin(1.1 * t + k), cy + 90 * np.sin(0.7 * t + 2 * k), np.zeros(n)]
        )
        weight = 350.0 + 40.0 * np.sin(2.0 * t + k)
        grf_lab = np.column_stack([8 * np.sin(3 * t), -5 * np.cos(2 * t), weight])
        tz = 1500.0 * np.sin(0.5 * t)
        f_local = grf_lab @ frame  # rows: R^T f
        p_local = (p - centre) @ frame
        m_surface = np.cross(p_local, f_local) + np.column_stack([0 * tz, 0 * tz, tz])
        o = np.array(origin_mm)
        o_eff = -o if o[2] > 0 else o
        m_sensor = m_surface - np.cross(f_local, o_eff)
        raw = np.column_stack([f_local, m_sensor * scale])  # moments in N x file unit
        if action_force:
            raw = -raw
        if plate_type == 4:
            cal = np.diag([2.0, 2.1, 4.0, 300.0, 310.0, 150.0]) + rng.normal(0, 0.02, (6, 6))
            raw = raw @ np.linalg.inv(cal).T  # the file holds what cal turns into F, M
            cals.append(cal)
        channels.append(raw.T)
        truths.append({"cop_lab": p[:, :2], "fz": weight, "centre": centre[:2]})
    c = ezc3d.c3d()
    c["parameters"]["POINT"]["RATE"]["value"] = [rate_hz / 5]
    c["parameters"]["POINT"]["LABELS"]["value"] = ("M1",)
    c["parameters"]["POINT"]["UNITS"]["value"] = (unit,)
    pts = np.zeros((4, 1, n // 5))
    pts[3] = 1.0
    c["data"]["points"] = pts
    data = np.vstack(channels)
    c["parameters"]["ANALOG"]["RATE"]["value"] = [rate_hz]
    labels = [
        f"{q}{k + 1}" for k in range(len(placements)) for q in ("Fx", "Fy", "Fz", "Mx", "My", "Mz")
    ]
    c["parameters"]["ANALOG"]["LABELS"]["value"] = tuple(labels)
    c["parameters"]["ANALOG"]["SCALE"]["value"] = np.ones(len(labels))
    c["parameters"]["ANALOG"]["OFFSET"]["value"] = np.zeros(len(labels), dtype=int)
    c["data"]["analogs"] = data[None]
    fp = c["parameters"]["FORCE_PLATFORM"]
    count = len(placements)
    fp["USED"]["value"] = np.array([count])
    fp["TYPE"]["value"] = np.full(count, plate_type)
    fp["CORNERS"]["value"] = np.stack([cn.T * scale for cn in corners_all], axis=2)
    fp["ORIGIN"]["value"] = np.tile(np.array(origin_mm)[:, None] * scale, (1, count))
    fp["CHANNEL"]["value"] = np.arange(1, 6 * count + 1).reshape(count, 6).T
    if plate_type == 4:
        fp["CAL_MATRIX"]["value"] = np.stack(cals, axis=2)
    c.add_event([0.0, 1.25], "Left", "Foot Strike")
    c.write(str(path))
    return truths


LAB_CASES = {
    "type2-one-plate-offset-origin": dict(
        plate_type=2, placements=[((150.0, 400.0), 0.0)], origin_mm=(1.5, -2.0, -41.0)
    ),
    "type2-rotated-positive-origin-z-metres": dict(
        plate_type=2,
        placements=[((-300.0, 250.0), 90.0)],
        origin_mm=(-0.8, 1.2, 38.0),
        unit="m",
    ),
    "type2-action-sign": dict(
        plate_type=2,
        placements=[((0.0, 0.0), 180.0)],
        origin_mm=(0.0, 0.0, -40.0),
        action_force=True,
    ),
    "type4-two-plates": dict(
        plate_type=4,
        placements=[((-250.0, 300.0), 0.0), ((250.0, 300.0), 0.0)],
        origin_mm=(0.5, 0.7, -45.0),
    ),
}


@pytest.mark.parametrize("case", LAB_CASES)
def test_lab_plates_give_the_cop_they_were_made_with(case: str, tmp_path: Path) -> None:
    path = tmp_path / f"{case}.c3d"
    truths = lab_c3d(path, **LAB_CASES[case])
    plates = read_c3d(path)
    assert len(plates) == len(truths)
    for series, truth in zip(plates, truths, strict=True):
        assert series.meta.kind == "c3d"
        assert series.meta.nominal_rate_hz == pytest.approx(500.0)
        np.testing.assert_allclose(series.fz_n, truth["fz"], rtol=1e-4)
        np.testing.assert_allclose(series.meta.extra["centre_mm"], truth["centre"], atol=1e-3)
        cop = series.cop_mm + np.array(series.meta.extra["centre_mm"])
        assert np.max(np.abs(cop - truth["cop_lab"])) < 0.1
        assert [(e.label, e.context, e.t_s) for e in series.events] == [
            ("Foot Strike", "Left", 1.25)
        ]
    # ezc3d's own force-platform module reads the same file to the same CoP.
    c = ezc3d.c3d(str(path), extract_forceplat_data=True)
    for platform, truth in zip(c["data"]["platform"], truths, strict=True):
        scale = 1000.0 if LAB_CASES[case].get("unit") == "m" else 1.0
        cop = platform["center_of_pressure"][:2].T * scale
        assert np.max(np.abs(cop - truth["cop_lab"])) < 0.1
    if len(plates) == 2:
        both = combine_plates(plates)
        weights = np.column_stack([t["fz"] for t in truths])
        expect = sum(t["cop_lab"] * t["fz"][:, None] for t in truths) / weights.sum(axis=1)[:, None]
        middle = np.mean([t["centre"] for t in truths], axis=0)
        assert np.max(np.abs(both.cop_mm + middle - expect)) < 0.1
        np.testing.assert_allclose(both.force_n, weights, rtol=1e-4)


def test_forward_axis_maps_a_gait_lab_onto_plate_axes(tmp_path: Path) -> None:
    """In a lab whose +x is the walking direction, +x is forward and -y is the right."""
    path = tmp_path / "gait.c3d"
    (truth,) = lab_c3d(path, plate_type=2, placements=[((0.0, 0.0), 0.0)], origin_mm=(0, 0, -40))
    (series,) = read_c3d(path, forward="+x")
    np.testing.assert_allclose(series.cop_mm[:, 1], truth["cop_lab"][:, 0], atol=0.1)
    np.testing.assert_allclose(series.cop_mm[:, 0], -truth["cop_lab"][:, 1], atol=0.1)


# -- hostile files --------------------------------------------------------------------------
def _variants(good: Path, tmp_path: Path) -> dict[str, Path]:
    data = good.read_bytes()
    rng = random.Random(14)
    out: dict[str, bytes] = {
        "empty": b"",
        "one-byte": b"\x02",
        "random": bytes(rng.randrange(256) for _ in range(6000)),
        "text": b"t,f0,f1,f2,f3\n0,1,2,3,4\n" * 100,
        "header-only": data[:512],
        "cut-in-parameters": data[:900],
        "cut-in-samples": data[: len(data) // 2],
    }
    for k in range(24):
        b = bytearray(data)
        for _ in range(rng.choice((1, 4, 16))):
            i = rng.randrange(512, min(len(b), 512 * 8))
            b[i] = rng.randrange(256)
        out[f"flipped-{k}"] = bytes(b)
    paths = {}
    for name, blob in out.items():
        p = tmp_path / f"{name}.c3d"
        p.write_bytes(blob)
        paths[name] = p
    return paths


def _structural(tmp_path: Path) -> dict[str, Path]:
    """Valid C3D files whose force-plate description is wrong."""
    made = {}

    def base(name: str, n_analogs: int = 6) -> tuple[object, Path]:
        c = ezc3d.c3d()
        c["parameters"]["POINT"]["RATE"]["value"] = [100.0]
        c["parameters"]["POINT"]["LABELS"]["value"] = ("M1",)
        pts = np.zeros((4, 1, 50))
        pts[3] = 1
        c["data"]["points"] = pts
        c["parameters"]["ANALOG"]["RATE"]["value"] = [1000.0]
        c["parameters"]["ANALOG"]["LABELS"]["value"] = tuple(f"A{i}" for i in range(n_analogs))
        c["data"]["analogs"] = np.random.default_rng(0).normal(size=(1, n_analogs, 500))
        return c, tmp_path / f"{name}.c3d"

    c, p = base("no-force-plates")
    c.write(str(p))
    made["no-force-plates"] = p
    for name, kind, channel, n_analogs in (
        ("channel-beyond-analogs", 2, np.arange(4, 10)[:, None], 6),
        ("too-few-channels", 2, np.arange(1, 4)[:, None], 6),
        ("type-3", 3, np.arange(1, 9)[:, None], 8),
        ("type-4-without-matrix", 4, np.arange(1, 7)[:, None], 6),
    ):
        c, p = base(name, n_analogs)
        fp = c["parameters"]["FORCE_PLATFORM"]
        fp["USED"]["value"] = np.array([1])
        fp["TYPE"]["value"] = np.array([kind])
        fp["CORNERS"]["value"] = (
            np.array([[1, 1, 0], [-1, 1, 0], [-1, -1, 0], [1, -1, 0]]).T[:, :, None] * 200.0
        )
        fp["ORIGIN"]["value"] = np.zeros((3, 1))
        fp["CHANNEL"]["value"] = channel
        c.write(str(p))
        made[name] = p
    return made


def test_hostile_files_give_one_sentence(exported, tmp_path: Path) -> None:
    good, _ = exported
    cases = {**_variants(good, tmp_path), **_structural(tmp_path)}
    outcomes: dict[str, str] = {}
    t0 = time.monotonic()
    for name, path in cases.items():
        try:
            plates = read_c3d(path, timeout_s=10.0)
        except MidfootError as exc:
            message = str(exc)
            assert "\n" not in message, name
            assert path.name in message, name
            outcomes[name] = message
            continue
        # A flipped byte in a sample or a description is still a readable file.
        assert name.startswith("flipped-"), name
        assert all(len(p) > 0 for p in plates)
        outcomes[name] = "read"
    elapsed = time.monotonic() - t0
    for name in (
        "empty",
        "random",
        "text",
        "cut-in-parameters",
        "cut-in-samples",
        "no-force-plates",
        "channel-beyond-analogs",
        "too-few-channels",
        "type-3",
        "type-4-without-matrix",
    ):
        assert outcomes[name] != "read", name
    assert "type 3" in outcomes["type-3"]
    assert "cut short" in outcomes["cut-in-samples"]
    assert sum(o != "read" for o in outcomes.values()) >= 12
    print(f"\n{len(cases)} hostile C3D files in {elapsed:.1f} s; outcomes:")
    for name, outcome in outcomes.items():
        print(f"  {name}: {outcome}")


def test_export_command_refuses_to_overwrite_and_names_bad_input(
    session_1khz, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    h5, _ = session_1khz
    out = tmp_path / "x.c3d"
    out.write_bytes(b"precious")
    assert run_command("export", [str(h5), "--c3d", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert out.read_bytes() == b"precious"
    assert run_command("export", [str(h5)]) == 2
    assert "--c3d" in capsys.readouterr().err
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 100)
    assert run_command("export", [str(bad), "--c3d", str(tmp_path / "y.c3d")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "bad.h5" in err
    assert not (tmp_path / "y.c3d").exists()


@pytest.fixture
def small_disk(tmp_path: Path):
    """A real 300 kB filesystem (tmpfs), too small for the exports."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if os.geteuid() != 0:
        reason = "the full-disk test mounts a small tmpfs, which needs root"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(mount_point)], check=True
    )
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_a_full_disk_gives_one_sentence_and_no_half_file(exported, small_disk: Path) -> None:
    """ezc3d reports no write error itself: the written file is checked."""
    _, series = exported
    for write, name in ((write_c3d, "full.c3d"), (write_samples_csv, "full.csv")):
        with pytest.raises(MidfootError, match="disk has room"):
            write(series, small_disk / name)
        assert list(small_disk.iterdir()) == [], name
