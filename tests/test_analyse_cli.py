"""``midfoot analyse``: sessions and both CSV forms, JSON and table output, asymmetry, errors."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from analysis.report import analyse_files
from daq.calibration import Calibration
from daq.reader import read_recording
from daq.recorder import SessionRecorder
from gui.cli import main as midfoot_main
from gui.cli import run_command

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

REP_KEYS = {
    "file",
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
}


def run_analyse_command(argv: list[str]) -> int:
    return run_command('analyse', argv)


@pytest.fixture(scope="module")
def left() -> object:
    """A kickstand-left set (the left lead shifts well), 80 Hz."""
    return fault_table.record(
        fault_table.Case(scenario="hinge-kickstand-left", rate_hz=80, seed=31, n_reps=3)
    )


@pytest.fixture(scope="module")
def right() -> object:
    """A kickstand-right set whose lateral shift is missing or reversed."""
    return fault_table.record(
        fault_table.Case(scenario="hinge-kickstand-right-reversed", rate_hz=80, seed=32, n_reps=3)
    )


def _header(rec, extra: dict | None = None) -> str:
    meta = {
        "stance": rec.stance.stance,
        "foot_length_mm": rec.stance.foot_length_mm,
        "heel_y_mm": rec.stance.heel_y_mm,
        "stance_width_mm": rec.stance.stance_width_mm,
        **(extra or {}),
    }
    return "".join(f"# {k}: {v}\n" for k, v in meta.items())


def write_forces_csv(rec, path: Path, extra: dict | None = None) -> Path:
    """t,f0,f1,f2,f3 with comment metadata."""
    rows = np.column_stack([rec.t_s, rec.force_n])
    body = "\n".join(",".join(f"{v:.6f}" for v in row) for row in rows)
    path.write_text(_header(rec, extra) + "t,f0,f1,f2,f3\n" + body + "\n", encoding="utf-8")
    return path


def write_cop_csv(rec, path: Path, extra: dict | None = None, header: bool = True) -> Path:
    """t,ap_mm,ml_mm,fz_n (tab separated) with comment metadata."""
    cop = np.nan_to_num(rec.cop_mm)
    rows = np.column_stack([rec.t_s, cop[:, 1], cop[:, 0], rec.fz_n])
    body = "\n".join("\t".join(f"{v:.5f}" for v in row) for row in rows)
    head = _header(rec, extra) if header else ""
    path.write_text(head + "t\tap_mm\tml_mm\tfz_n\n" + body + "\n", encoding="utf-8")
    return path


def write_session(rec, path: Path, metadata: dict | None = None) -> Path:
    """An HDF5 session as `midfoot record` writes it, calibrated with the plate's truth."""
    plate = rec.plate
    cal = Calibration(
        plate_id="virt",
        plate=plate.plate,
        offset_counts=plate.truth.offsets_counts,
        gain_n_per_count=1.0 / plate.truth.gains_counts_per_n,
        calibrated=True,
    )
    meta = {
        "stance": rec.stance.stance,
        "foot_length_mm": rec.stance.foot_length_mm,
        "heel_y_mm": rec.stance.heel_y_mm,
        "stance_width_mm": rec.stance.stance_width_mm,
        "body_mass_kg": float("nan"),
        **(metadata or {}),
    }
    recorder = SessionRecorder(path, cal, 4, meta)
    recorder.write(rec.block, 1.7e9)
    recorder.close()
    return path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = run_analyse_command(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_session_json(left, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    h5 = write_session(left, tmp_path / "left.h5")
    code, out, err = run([str(h5), "--json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc) >= {"reps", "sets", "asymmetry", "body_mass_kg", "thresholds"}
    assert len(doc["reps"]) == 3
    for rep, true in zip(doc["reps"], left.scenario.reps, strict=True):
        assert REP_KEYS <= set(rep)
        assert rep["file"] == str(h5)
        assert rep["stance"] == "kickstand-left"
        assert rep["bottom_s"] == pytest.approx(true.bottom_s, abs=0.25)
        assert rep["faults"] == []
        assert rep["lateral_shift_mm"] > 10
    assert doc["sets"][0]["n_reps"] == 3
    assert doc["body_mass_kg"] == pytest.approx(75.0, abs=0.5)
    assert set(doc["asymmetry"]) >= {"lateral_shift_index_pct", "flag"}
    assert doc["asymmetry"]["lateral_shift_index_pct"] is None
    th = doc["thresholds"]
    assert th["backward_lean_mm"] == 8.0
    assert th["lateral_shift_min_mm"] == 10.0
    assert th["heel_zone_cut_fraction"] == pytest.approx(1 / 3)


def test_times_are_from_the_start_of_each_file(left, tmp_path: Path) -> None:
    h5 = write_session(left, tmp_path / "left.h5")
    series = read_recording(h5)
    assert series.t_s[0] == 0.0
    assert series.meta.kind == "session"
    assert series.rate_hz == pytest.approx(80, rel=0.05)


def test_csv_forms_agree_with_the_session(left, tmp_path: Path) -> None:
    h5 = write_session(left, tmp_path / "s.h5")
    forces = write_forces_csv(left, tmp_path / "forces.csv")
    cop = write_cop_csv(left, tmp_path / "cop.tsv")
    report = analyse_files([h5, forces, cop])
    bottoms = [[r.bottom_s for r in f.reps] for f in report.files]
    assert [len(b) for b in bottoms] == [3, 3, 3]
    # Each file's clock starts at its first sample; the CSVs carry the same samples.
    np.testing.assert_allclose(bottoms[1], bottoms[2], atol=0.02)
    np.testing.assert_allclose(bottoms[0], bottoms[1], atol=0.02)
    assert [f.meta["kind"] for f in report.files] == ["session", "forces-csv", "cop-csv"]
    assert all(f.stance.stance == "kickstand-left" for f in report.files)


def test_multi_file_asymmetry(
    left, right, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = write_forces_csv(left, tmp_path / "left.csv")
    b = write_cop_csv(right, tmp_path / "right.csv")
    code, out, err = run([str(a), str(b), "--json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    files = {r["file"] for r in doc["reps"]}
    assert files == {str(a), str(b)}
    assert [s["stance"] for s in doc["sets"]] == ["kickstand-left", "kickstand-right"]
    asym = doc["asymmetry"]
    lmean = np.mean([r["lateral_shift_mm"] for r in doc["reps"] if r["file"] == str(a)])
    rmean = np.mean([r["lateral_shift_mm"] for r in doc["reps"] if r["file"] == str(b)])
    expected = 100 * abs(lmean - rmean) / ((abs(lmean) + abs(rmean)) / 2)
    assert asym["lateral_shift_index_pct"] == pytest.approx(expected, abs=0.1)
    assert asym["flag"] is True
    right_reps = [r for r in doc["reps"] if r["file"] == str(b)]
    assert all("lateral_shift" in r["faults"] for r in right_reps)


def test_table_output(left, right, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = write_forces_csv(left, tmp_path / "left.csv")
    b = write_forces_csv(right, tmp_path / "right.csv")
    code, out, err = run([str(a), str(b)], capsys)
    assert code == 0, err
    assert "bottom" in out
    assert "lockout" in out
    assert "faults" in out
    assert "kickstand-left" in out
    assert "kickstand-right" in out
    assert "lateral_shift" in out
    assert "asymmetry: lateral shift index" in out
    assert "thresholds:" in out
    assert "{" not in out  # not JSON


def test_comment_metadata_and_overrides(left, tmp_path: Path) -> None:
    path = write_cop_csv(left, tmp_path / "meta.csv", extra={"body_mass_kg": 74.0})
    report = analyse_files([path])
    f = report.files[0]
    assert f.stance.stance == "kickstand-left"
    assert f.stance.heel_y_mm == left.stance.heel_y_mm
    assert f.body_mass_kg == pytest.approx(74.0)
    overridden = analyse_files([path], {"stance": "bilateral", "body_mass_kg": 80.0})
    g = overridden.files[0]
    assert g.stance.stance == "bilateral"
    assert g.body_mass_kg == 80.0
    assert all(r.lateral_shift_mm is None for r in g.reps)
    shoe = analyse_files([path], {"shoe_size_eu": 44})
    assert shoe.files[0].stance.foot_length_mm == pytest.approx(44 * 20 / 3 - 15)


def test_session_stance_events_split_sets(left, tmp_path: Path) -> None:
    """A stance event mid-session starts a new set from that sample on."""
    h5 = write_session(left, tmp_path / "events.h5")
    index = int(np.searchsorted(left.t_s, left.scenario.reps[1].start_s - 1.5))
    with h5py.File(h5, "a") as f:
        text = f["events"]["text"]
        host = f["events"]["host_t_s"]
        n = text.shape[0]
        text.resize(n + 1, axis=0)
        host.resize(n + 1, axis=0)
        text[n] = json.dumps({"kind": "stance", "sample_index": index, "stance": "kickstand-right"})
        host[n] = 1.7e9
    report = analyse_files([h5])
    assert [s.stance for s in report.sets] == ["kickstand-left", "kickstand-right"]
    assert [s.n_reps for s in report.sets] == [1, 2]


def test_dispatch_through_the_midfoot_command(
    left, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_cop_csv(left, tmp_path / "x.csv")
    assert midfoot_main(["analyse", str(path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["reps"]) == 3
    assert run_analyse_command(["--help"]) == 0


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    files = {}
    p = tmp_path / "empty.csv"
    p.write_text("", encoding="utf-8")
    files["empty"] = (p, "no samples")
    p = tmp_path / "comments.csv"
    p.write_text("# stance: bilateral\n", encoding="utf-8")
    files["only comments"] = (p, "no samples")
    p = tmp_path / "header.csv"
    p.write_text("time,a,b\n1,2,3\n", encoding="utf-8")
    files["unknown header"] = (p, "names no time column")
    p = tmp_path / "columns.csv"
    p.write_text("t,x,y\n1,2,3\n", encoding="utf-8")
    files["unknown columns"] = (p, "neither")
    p = tmp_path / "nofz.csv"
    p.write_text("t,ap_mm,ml_mm\n" + "".join(f"{i / 100},1,2\n" for i in range(40)), "utf-8")
    files["no force"] = (p, "fz_n")
    rows = "\n".join(f"{i * 0.01},{100},{100},{100},{100}" for i in range(50))
    p = tmp_path / "word.csv"
    p.write_text("t,f0,f1,f2,f3\n" + rows + "\n0.5,1,2,oops,4\n", encoding="utf-8")
    files["non-numeric"] = (p, "oops")
    p = tmp_path / "ragged.csv"
    p.write_text("t,f0,f1,f2,f3\n" + rows + "\n0.5,1,2\n", encoding="utf-8")
    files["ragged"] = (p, "has 3 values")
    p = tmp_path / "back.csv"
    p.write_text("t,f0,f1,f2,f3\n" + rows + "\n0.1,1,2,3,4\n", encoding="utf-8")
    files["time backwards"] = (p, "do not increase")
    p = tmp_path / "short.csv"
    p.write_text("t,f0,f1,f2,f3\n0,1,1,1,1\n0.1,1,1,1,1\n", encoding="utf-8")
    files["too short"] = (p, "only 2 samples")
    p = tmp_path / "stance.csv"
    p.write_text("# stance: lunge\nt,f0,f1,f2,f3\n" + rows + "\n", encoding="utf-8")
    files["bad stance"] = (p, "stance 'lunge'")
    p = tmp_path / "mass.csv"
    p.write_text("# body_mass_kg: heavy\nt,f0,f1,f2,f3\n" + rows + "\n", encoding="utf-8")
    files["bad number"] = (p, "not a number")
    p = tmp_path / "plate.csv"
    p.write_text("# plate: nosuchplate\nt,f0,f1,f2,f3\n" + rows + "\n", encoding="utf-8")
    files["unknown plate"] = (p, "no plate preset")
    p = tmp_path / "binary.dat"
    p.write_bytes(bytes(range(256)) * 4)
    files["binary"] = (p, "neither an HDF5 session nor a text file")
    p = tmp_path / "other.h5"
    with h5py.File(p, "w") as f:
        f["x"] = np.arange(3)
    files["foreign hdf5"] = (p, "not a midfoot session")
    files["missing"] = (tmp_path / "nope.csv", "does not exist")
    files["directory"] = (tmp_path, "is not a file")
    return files


def test_bad_files_give_one_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for label, (path, needle) in _bad_files(tmp_path).items():
        code, out, err = run([str(path)], capsys)
        assert code == 2, label
        assert out == "", label
        lines = err.strip().splitlines()
        assert len(lines) == 1, (label, err)
        assert lines[0].startswith("midfoot analyse: "), label
        assert needle in lines[0], (label, lines[0])
        assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [[], ["x.csv", "--stance", "lunge"], ["x.csv", "--body-mass-kg", "heavy"], ["--nope"]],
)
def test_bad_arguments_give_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(argv, capsys)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("midfoot analyse: ")
    assert "see midfoot analyse --help" in err
