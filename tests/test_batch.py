"""Batch re-analysis on a real Dask scheduler and workers: the same rows as the plain loop."""

from __future__ import annotations

import csv
import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from distributed import LocalCluster

from analysis.batch import CSV_COLUMNS, file_rows, load_recalibration, run_dask, run_loop, write_csv
from analysis.library import find_recordings
from analysis.report import analyse_file
from daq.calibration import Calibration
from daq.errors import MidfootError
from daq.reader import read_recording
from gui.cli import run_command

sys.path.insert(0, str(Path(__file__).parent))
from session_files import write_session  # noqa: E402


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("batch")
    write_session(root / "a" / "left.h5", athlete="Ann", seed=61, n_reps=2)
    write_session(root / "a" / "right.h5", scenario="hinge-kickstand-right-reversed",
                  athlete="Ann", seed=62, n_reps=2)
    write_session(root / "bo.h5", scenario="hinge-bilateral-leanback", athlete="Bo", seed=63,
                  n_reps=2)
    (root / "broken.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
    return root


@pytest.fixture(scope="module")
def scheduler():
    """A real scheduler and two workers on localhost over TCP (in-process, for speed)."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp",
                      host="127.0.0.1", dashboard_address=":0",
                      silence_logs=logging.ERROR) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        yield cluster.scheduler_address


def _csv_text(result, tmp_path: Path, name: str) -> str:
    return write_csv(result, tmp_path / name).read_text()


def test_rows_are_the_analysis_of_each_file(folder: Path) -> None:
    result = run_loop(find_recordings(folder), folder)
    assert result.n_files == 4
    for path in find_recordings(folder):
        if path.name == "broken.h5":
            continue
        report = analyse_file(path)
        rel = path.relative_to(folder).as_posix()
        mine = [r for r in result.rows if r["file"] == rel]
        assert len(mine) == len(report.reps) > 0
        for row, rep in zip(mine, report.reps, strict=True):
            assert row["athlete"] == read_recording(path).meta.athlete
            assert float(row["bottom_s"]) == pytest.approx(rep.bottom_s, abs=5e-4)
            assert row["faults"] == ";".join(rep.fault_names)
            assert row["zone_at_bottom"] == rep.zone_at_bottom
    assert [r["file"] for r in result.rows] == sorted(r["file"] for r in result.rows)
    assert any("backward_lean" in r["faults"] for r in result.rows if r["file"] == "bo.h5")
    assert len(result.problems) == 1
    assert result.problems[0].startswith("broken.h5: ")
    assert "\n" not in result.problems[0]


def test_a_scheduler_with_two_workers_gives_the_same_csv(
    folder: Path, scheduler: str, tmp_path: Path
) -> None:
    paths = find_recordings(folder)
    done = []
    on_dask = run_dask(paths, folder, scheduler=scheduler, on_done=lambda: done.append(1))
    plain = run_loop(paths, folder)
    assert len(done) == len(paths)
    assert on_dask.rows == plain.rows
    assert on_dask.problems == plain.problems
    assert _csv_text(on_dask, tmp_path, "d.csv") == _csv_text(plain, tmp_path, "p.csv")


def test_recalibration_reaches_the_workers(folder: Path, scheduler: str, tmp_path: Path) -> None:
    path = folder / "a" / "left.h5"
    cal = read_recording(path).meta.calibration
    assert cal is not None
    gains = np.asarray(cal.gain_n_per_count, dtype=float) * np.array([1.3, 1.0, 1.0, 0.8])
    new = Calibration(plate_id=cal.plate_id, plate=cal.plate, offset_counts=cal.offset_counts,
                      gain_n_per_count=gains, calibrated=True)
    cal_file = tmp_path / "cal.json"
    cal_file.write_text(json.dumps(new.to_dict()))
    loaded = load_recalibration(cal_file)
    rows_dask = run_dask([path], folder, loaded, scheduler=scheduler).rows
    rows_plain, _ = file_rows(str(path), str(folder), loaded)
    original, _ = file_rows(str(path), str(folder))
    assert rows_dask == rows_plain
    assert [r["lateral_shift_mm"] for r in rows_dask] != [r["lateral_shift_mm"] for r in original]
    bad = tmp_path / "bad.json"
    bad.write_text('{"gains": 3}')
    with pytest.raises(MidfootError, match="not a midfoot calibration"):
        load_recalibration(bad)


def test_batch_command_on_a_local_cluster(
    folder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "results.csv"
    done = subprocess.run(
        [sys.executable, "-m", "gui.cli", "batch", str(folder), "--out", str(out),
         "--workers", "2"],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 1, done.stderr  # one file could not be analysed
    problems = [line for line in done.stderr.splitlines() if line]
    assert len(problems) == 1, done.stderr  # piped: no progress bar, only the one line
    assert problems[0].startswith("midfoot batch: broken.h5: ")
    plain = run_loop(find_recordings(folder), folder)
    assert out.read_text() == _csv_text(plain, tmp_path, "plain.csv")
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert f"{len(plain.rows)} reps from 3 of 4 files" in done.stdout


def test_batch_command_mistakes_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_command("batch", [str(tmp_path / "nowhere"), "--out", str(tmp_path / "r.csv")])
    _, err = capsys.readouterr()
    assert code == 2
    assert "does not exist" in err
    assert err.count("\n") == 1
    code = run_command("batch", [str(tmp_path), "--out", str(tmp_path / "r.csv"),
                                 "--scheduler", "tcp://127.0.0.1:1"])
    _, err = capsys.readouterr()
    assert code == 2
    assert "cannot reach the Dask scheduler" in err
    assert err.count("\n") == 1
