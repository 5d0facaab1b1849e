"""Tests of daq.reader: the one reader of every recording kind, and that every command that
reads recordings (analyse, sway, replay) sees the same series."""

from __future__ import annotations

import os
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from analysis.report import analyse_file
from analysis.sway import load_cop
from daq.acquisition import Acquisition
from daq.calibration import Calibration, save_calibration
from daq.decoder import FrameDecoder
from daq.errors import MidfootError
from daq.events import CalibrationChanged, Reconnected, StanceChanged, Tared
from daq.reader import read_recording
from daq.recorder import SessionRecorder
from daq.samples import SampleBlock
from daq.series import concat_series
from hardware.scenarios import make_scenario
from hardware.virtual_plate import VirtualPlate

BDS = Path(__file__).resolve().parents[2] / "shared" / "data" / "bds"


def _sentence(message: str) -> bool:
    return "\n" not in message and len(message) < 300 and "Traceback" not in message


def _write(path: Path, text: str) -> Path:
    path.write_text(text, newline="")
    return path


@pytest.fixture(scope="module")
def bds_dir() -> Path:
    folder = Path(os.environ.get("MIDFOOT_SHARED_DATA", BDS.parent)) / "bds"
    if not (folder / "BDS00001.txt").is_file():
        reason = f"Santos & Duarte data not found in {folder}; set MIDFOOT_SHARED_DATA"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return folder


def _write(path: Path, text: str) -> Path:
    path.write_text(text, newline="")
    return path


def test_cop_text_with_comments_comma(tmp_path):
    lines = ["# subject: s01", "# plate: virtual", "t,ap_mm,ml_mm,fz_n"]
    lines += [f"{i * 0.025:.3f},{i * 0.5},{-i * 0.25},700" for i in range(40)]
    path = _write(tmp_path / "trial.csv", "\n".join(lines) + "\n\n")
    series = read_recording(path)
    assert series.rate_hz == pytest.approx(40.0)
    assert series.meta.extra["subject"] == "s01"
    assert series.cop_mm[3, 1] == pytest.approx(1.5)  # AP is y
    assert series.cop_mm[3, 0] == pytest.approx(-0.75)  # ML is x
    assert series.fz_n[0] == 700
    assert series.meta.kind == "cop-csv"


def test_cop_text_tab_crlf_and_t_s_alias(tmp_path):
    lines = ["t_s\tap_mm\tml_mm\tfz_n"]
    lines += [f"{1 + i / 30:.3f}\t{i}\t{2 * i}\t650" for i in range(60)]
    path = _write(tmp_path / "trial.tsv", "\r\n".join(lines) + "\r\n")
    t_s, ap_mm, ml_mm, fs_hz = load_cop(path)
    assert fs_hz == pytest.approx(30.0, rel=1e-3)
    assert t_s[0] == 0.0  # times run from the first sample, whatever the file's clock
    assert ap_mm[-1] == 59
    assert ml_mm[-1] == 118


def test_santos_duarte_layout_is_detected_from_header(tmp_path):
    header = "Time[s]\tFx[N]\tFy[N]\tFz[N]\tMx[Nm]\tMy[Nm]\tMz[Nm]\tCOPx[cm]\tCOPy[cm]"
    rows = [f"{(i + 1) / 100:.3f}\t0\t0\t600\t0\t0\t0\t{0.1 * i}\t{-0.2 * i}" for i in range(50)]
    path = _write(tmp_path / "BDS99999.txt", "\r\n".join([header, *rows]) + "\r\n")
    series = read_recording(path)
    assert series.meta.kind == "santos-duarte"
    assert series.rate_hz == pytest.approx(100.0)
    # COPx is AP and COPy ML, converted from cm to mm.
    assert series.cop_mm[10, 1] == pytest.approx(10.0)
    assert series.cop_mm[10, 0] == pytest.approx(-20.0)


@pytest.mark.parametrize(
    ("name", "text", "match"),
    [
        ("empty.csv", "", "is empty"),
        ("comments.csv", "# a: b\n\n", "no samples"),
        ("header.csv", "t,ap_mm,ml_mm,fz_n\n", "no samples"),
        ("columns.csv", "t,x,y\n0,1,2\n0.1,1,2\n", "neither"),
        ("notime.csv", "time,x,y\n0,1,2\n0.1,1,2\n", "names no time column"),
        ("text.csv", "t,ap_mm,ml_mm,fz_n\n0,1,2,3\n0.1,abc,2,3\n", "'abc' in column ap_mm"),
        ("ragged.csv", "t,ap_mm,ml_mm,fz_n\n0,1,2,3\n0.1,1,2\n", "has 3 values"),
        ("back.csv", "t,ap_mm,ml_mm\n0,1,2\n1,1,2\n1,1,2\n", "do not increase"),
        ("one.csv", "t,ap_mm,ml_mm\n0,1,2\n", "only one sample"),
        ("nan.csv", "t,ap_mm,ml_mm,fz_n\n0,nan,nan,nan\n1,nan,nan,nan\n", "no usable values"),
        ("huge.csv", "t,ap_mm,ml_mm,fz_n\n0,1,2,3\n1e300,1,2,3\n", "cannot be a recording"),
        ("inf.csv", "t,ap_mm,ml_mm,fz_n\n0,1,2,3\ninf,1,2,3\n", "cannot be a recording"),
        ("units.csv", "t,ap_mm,ml_mm,fz_n\n0,1,2,3\n1,1e9,2,3\n", "cannot come from a plate"),
        # Forces CSVs (cell forces only): all NaN, absurd and non-monotonic times.
        ("fnan.csv", "t_s,f0_n,f1_n,f2_n,f3_n\n" + "".join(f"{i},nan,nan,nan,nan\n"
                                                           for i in range(50)),
         "no usable values"),
        ("fhuge.csv", "t_s,f0_n,f1_n,f2_n,f3_n\n0,1,1,1,1\n1e300,1,1,1,1\n",
         "time 1e\\+300, which cannot be a recording"),
        ("fback.csv", "t_s,f0_n,f1_n,f2_n,f3_n\n0,1,1,1,1\n2,1,1,1,1\n1,1,1,1,1\n",
         "do not increase"),
    ],
)
def test_bad_files_raise_one_sentence(tmp_path, name, text, match):
    path = _write(tmp_path / name, text)
    with pytest.raises(MidfootError, match=match) as info:
        read_recording(path)
    assert _sentence(str(info.value))


def test_missing_and_foreign_files(tmp_path):
    with pytest.raises(MidfootError, match="does not exist"):
        read_recording(tmp_path / "nothing.csv")
    with pytest.raises(MidfootError, match="is not a file"):
        read_recording(tmp_path)
    fake = tmp_path / "session.h5"
    fake.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    with pytest.raises(MidfootError, match="not an HDF5 file midfoot can open") as info:
        read_recording(fake)
    assert _sentence(str(info.value))
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(MidfootError, match="not a midfoot session"):
        read_recording(other)




@pytest.mark.realdata
def test_santos_duarte_reader_maps_copx_to_ap_in_mm(bds_dir):
    series = read_recording(bds_dir / "BDS00001.txt")
    # First data row of BDS00001.txt, as published: COPx -7.988789 cm, COPy 0.998673 cm.
    # Times run from the first sample (published 0.010 s).
    assert series.t_s[0] == 0.0
    assert series.t_s[1] == pytest.approx(0.010)
    assert series.cop_mm[0, 1] == pytest.approx(-79.88789)
    assert series.cop_mm[0, 0] == pytest.approx(9.98673)
    assert series.meta.kind == "santos-duarte"
    assert series.rate_hz == pytest.approx(100.0)


# -- one recording, every command -----------------------------------------------------------
def _stitched_session(path: Path) -> dict:
    """A demo session recorded with a mid-file tare, a stance change and a reconnect.

    Two boots of the virtual plate (the second one's seq and clock start again), written
    as `midfoot record` writes them, with the events the live app writes.
    """
    sc = make_scenario("demo", n_reps=2, seed=21)
    first = VirtualPlate(sc, rate_hz=80, seed=21)
    block_a = FrameDecoder().feed(first.render(50.0)).samples
    second = VirtualPlate(sc, rate_hz=80, seed=21, start_s=51.0, boot=1)
    block_b = FrameDecoder().feed(second.render()).samples
    truth_cal = Calibration(
        plate_id="virt-0021",
        plate=first.plate,
        offset_counts=first.truth.offsets_counts,
        gain_n_per_count=1.0 / first.truth.gains_counts_per_n,
        calibrated=True,
    )
    # Recorded with offsets 3 kg off, then tared right (the mid-file tare).
    per_cell_counts = 3.0 * 9.80665 / 4 * first.truth.gains_counts_per_n
    wrong = truth_cal.with_tare(truth_cal.offset_counts - per_cell_counts)
    tare_at = int(np.searchsorted(block_a.t_us, 0.5e6))
    stance_at = int(np.searchsorted(block_a.t_us, (sc.sets[1].still_s[0] - 2.0) * 1e6))
    rec = SessionRecorder(path, wrong, 4, {"stance": "bilateral", "athlete": "Ana"})

    def part(block: SampleBlock, a: int, b: int, host_t: float) -> None:
        rec.write(
            SampleBlock(block.seq[a:b], block.t_us[a:b], block.stale[a:b], block.counts[a:b]),
            host_t,
        )

    part(block_a, 0, tare_at, 1e9)
    rec.add_event(CalibrationChanged(calibration=truth_cal.to_dict()))
    rec.add_event(Tared(automatic=True))
    part(block_a, tare_at, stance_at, 1e9 + 5)
    rec.add_event(StanceChanged(stance=sc.sets[1].stance, heel_y_mm=sc.sets[1].heel_y_mm))
    part(block_a, stance_at, len(block_a), 1e9 + 50)
    rec.add_event(Reconnected())
    part(block_b, 0, len(block_b), 1e9 + 51)
    rec.close()
    return {"scenario": sc, "n_a": len(block_a), "tare_at": tare_at, "stance_at": stance_at}


def _replay_series(path: Path):
    acq = Acquisition(f"replay://{path}?speed=0")
    blocks = []
    acq.add_consumer(blocks.append)
    acq.start()
    try:
        deadline = time.monotonic() + 60
        n = len(read_recording(path))
        while sum(len(b) for b in blocks) < n and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        acq.stop()
    return concat_series(blocks)


def test_every_command_sees_the_same_series(tmp_path: Path) -> None:
    path = tmp_path / "stitched.h5"
    made = _stitched_session(path)
    # Whatever calibration is stored for the plate now must not change a replay.
    stored = read_recording(path).meta.calibration
    save_calibration(stored.with_tare(stored.offset_counts + 50_000))
    series = read_recording(path)
    n = len(series)
    # The tare applies from its sample on: before it the plate read 3 kg heavy.
    empty_before = series.fz_n[: made["tare_at"]]
    assert np.median(empty_before) == pytest.approx(3 * 9.80665, abs=1.0)
    # One time base over the reconnect: increasing, and the gap as long as the host says.
    assert np.all(np.diff(series.t_s) > 0)
    gap = series.t_s[made["n_a"]] - series.t_s[made["n_a"] - 1]
    assert gap == pytest.approx(1.0, abs=0.05)
    kinds = [type(e) for e in series.events]
    assert kinds == [CalibrationChanged, Tared, StanceChanged, Reconnected]
    stance_event = series.events[2]
    assert stance_event.t_s == pytest.approx(series.t_s[made["stance_at"]])

    # sway reads the same CoP (x ML, y AP).
    t_s, ap_mm, ml_mm, _ = load_cop(path)
    np.testing.assert_array_equal(t_s, series.t_s)
    np.testing.assert_array_equal(ap_mm, series.cop_mm[:, 1])
    np.testing.assert_array_equal(ml_mm, series.cop_mm[:, 0])

    # analyse follows the file's stance event and says so.
    report = analyse_file(path)
    assert report.meta["stance_source"] == "file"
    stances = [r.stance for r in report.reps]
    assert stances[0] == "bilateral"
    assert made["scenario"].sets[1].stance in stances
    assert report.series is not None
    np.testing.assert_array_equal(report.series.fz_n, series.fz_n)

    # replay:// plays the same forces and times with the file's own calibration, and hands
    # the stance event to consumers at its sample.
    replayed = _replay_series(path)
    assert len(replayed) == n
    np.testing.assert_allclose(replayed.t_s, series.t_s, atol=2e-6)
    np.testing.assert_allclose(replayed.fz_n, series.fz_n, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(replayed.cop_mm, series.cop_mm, atol=1e-6)
    got = [e for e in replayed.events if isinstance(e, StanceChanged)]
    assert len(got) == 1
    assert got[0].t_s == pytest.approx(stance_event.t_s, abs=1e-5)


@pytest.mark.parametrize(("setting", "expected"), [(None, "False"), ("1", "True")])
def test_importing_daq_turns_numpy_huge_pages_off_unless_a_person_chose(setting, expected):
    """Huge-page faults stalled an hour's open by 0.5 s (daq/__init__.py); NUMPY_MADVISE_HUGEPAGE
    set by a person wins."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"}
    if setting is not None:
        env["NUMPY_MADVISE_HUGEPAGE"] = setting
    code = (
        "import daq.reader\n"
        "from numpy._core.multiarray import _get_madvise_hugepage\n"
        "print(_get_madvise_hugepage())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60,
        cwd=Path(__file__).resolve().parents[1], check=True,
    )
    assert out.stdout.strip() == expected
