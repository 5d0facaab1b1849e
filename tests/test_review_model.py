"""The Qt-free review: cursor, traces, rep jumps, plate view, sway, edits, follow, exports."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from daq.errors import MidfootError
from daq.reader import read_recording
from gui.review_model import PeakPyramid, ReviewCursor, ReviewModel

sys.path.insert(0, str(Path(__file__).parent))
from review_sessions import growing_writer, recording, write_session  # noqa: E402


@pytest.fixture(scope="module")
def rec():
    return recording("hinge-kickstand-left", seed=61, n_reps=3)


@pytest.fixture
def h5(rec, tmp_path: Path) -> Path:
    return write_session(rec, tmp_path / "left.h5")


def test_cursor_plays_pauses_seeks_and_ends() -> None:
    c = ReviewCursor(0.0, 10.0)
    assert c.state == "paused"
    c.play()
    c.set_speed(4.0)
    assert c.advance(1.0) == pytest.approx(4.0)
    c.set_speed(0.25)
    assert c.advance(2.0) == pytest.approx(4.5)
    c.pause()
    assert c.advance(5.0) == pytest.approx(4.5)
    c.seek(99.0)
    assert c.position_s == 10.0
    assert c.state == "end of file"
    c.play()  # from the start again
    assert c.position_s == 0.0
    c.seek(9.9)
    c.set_speed(1.0)
    c.advance(1.0)
    assert c.state == "end of file"
    assert not c.playing
    c.extend(20.0)
    assert c.state == "paused"
    with pytest.raises(MidfootError, match="0.25x to 4x"):
        c.set_speed(8.0)
    c.faster()
    assert c.speed == 2.0
    c.slower()
    c.slower()
    assert c.speed == 0.5


def test_peak_pyramid_keeps_a_one_sample_spike() -> None:
    t = np.arange(3_600_000) / 1000.0
    y = np.sin(t)
    y[1_234_567] = 50.0
    p = PeakPyramid(t, y)
    x, v = p.view(0.0, 3600.0, 1000)
    assert x.size < 8000
    assert v.max() == 50.0
    assert v.min() == pytest.approx(-1.0, abs=1e-3)
    x, v = p.view(1234.0, 1235.0, 1000)  # zoomed in: the samples themselves
    assert np.allclose(np.diff(x), 0.001)


def test_peak_pyramid_leaves_glitches_out_and_scales_without_copying() -> None:
    t = np.arange(400_000) / 1000.0
    y = np.cos(t)
    bad = np.array([10, 11, 123_457, 399_999])
    y[bad] = 8e6  # a glitch's absurd force
    p = PeakPyramid(t, y, bad, scale=0.5)
    assert p.levels[0][1] is y or np.shares_memory(p.levels[0][1], y)
    x, v = p.view(0.0, 400.0, 800)  # the whole trace: envelopes
    assert np.nanmax(v) == pytest.approx(0.5, abs=1e-6)
    assert np.nanmin(v) == pytest.approx(-0.5, abs=1e-3)
    x, v = p.view(123.4, 123.5, 1000)  # zoomed in: the glitch is a gap
    i = int(np.flatnonzero(x == t[123_457])[0])
    assert np.isnan(v[i])
    assert v[i + 1] == pytest.approx(0.5 * np.cos(t[123_458]))
    assert np.nanmax(p.overview()) == pytest.approx(0.5, abs=1e-6)
    assert y[123_457] == 8e6  # the series itself is left as it was


def test_rep_jumps_and_plate_at_the_cursor(h5: Path) -> None:
    m = ReviewModel([h5])
    assert m.cursor.position_s == m.file.series.t_s[0]
    assert m.next_rep() == 0
    first = m.file.rows[0].rep
    assert m.cursor.position_s == pytest.approx(first.start_s)
    assert m.next_rep() == 1
    assert m.previous_rep() == 0
    m.cursor.seek(first.bottom_s)
    frame = m.plate_frame()
    assert frame.zone != "off"
    np.testing.assert_allclose(frame.trail_xy_mm[-1], frame.cop_mm)
    assert frame.trail_xy_mm.shape[0] > 50
    assert frame.weight_kg > 30
    assert m.rep_index_at() == 0


def test_sway_of_a_stretch_warns_about_movement(h5: Path) -> None:
    m = ReviewModel([h5])
    rep = m.file.rows[0].rep
    _, warning = m.sway(rep.start_s, rep.lockout_s)
    assert warning is not None
    assert "movement" in warning
    # Standing still between stepping on and the first rep (an 80 Hz plate's times jitter).
    metrics, quiet = m.sway(rep.start_s - 3.0, rep.start_s - 0.5)
    assert quiet is None
    assert metrics.ellipse95_area_mm2 < 2000


def test_edits_and_undo_through_the_model(h5: Path) -> None:
    m = ReviewModel([h5])
    n = len(m.file.rows)
    m.jump_to_rep(1)
    m.cursor.seek(m.file.rows[1].rep.bottom_s)
    m.remove_rep()
    assert len(m.file.rows) == n - 1
    m.add_note("strap loose")
    assert [k.label for k in m.file.marks if k.kind == "note"] == ["strap loose"]
    m.set_athlete("Robin")
    assert m.file.report.meta["athlete"] == "Robin"
    assert m.undo() == "athlete"
    assert m.file.report.meta["athlete"] == "Sam"
    assert m.undo() == "note"
    assert m.undo() == "rep-removed"
    assert len(m.file.rows) == n
    assert m.undo() is None
    # Everything was stored in the file: a fresh model reads the same.
    assert len(ReviewModel([h5]).file.rows) == n
    with pytest.raises(MidfootError, match="no rep at"):
        m.remove_rep(float(m.file.series.t_s[0]))


def test_follows_a_file_being_recorded(tmp_path: Path) -> None:
    path = tmp_path / "growing.h5"
    # The recorder in another process, as the live app or `midfoot record` would be.
    child = growing_writer(path)
    try:
        assert child.stdout is not None
        assert child.stdin is not None
        total = int(child.stdout.readline())
        m = ReviewModel([path])
        n0 = len(m.file.series)
        end0 = m.cursor.end_s
        assert n0 == total // 2
        assert m.edit_problem is not None
        assert "still being recorded" in m.edit_problem
        assert not m.follow()
        child.stdin.write("\n")
        child.stdin.flush()
        child.stdout.readline()
        assert m.follow()
        assert len(m.file.series) == total
        assert m.cursor.end_s > end0
        assert len(m.file.rows) == 3
        child.stdin.write("\n")
        child.stdin.flush()
        assert child.wait(timeout=60) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert len(read_recording(path)) == total


def test_exports(h5: Path, tmp_path: Path) -> None:
    m = ReviewModel([h5])
    samples = m.export_samples_csv(tmp_path / "s.csv")
    assert len(read_recording(samples)) == len(m.file.series)
    reps = m.export_reps_csv(tmp_path / "r.csv")
    with reps.open() as fh:
        rows = list(csv.DictReader(row for row in fh if not row.startswith("#")))
    assert len(rows) == len(m.file.rows)
    assert float(rows[0]["bottom_s"]) == pytest.approx(m.file.rows[0].rep.bottom_s, abs=1e-3)
    doc = json.loads(m.export_json(tmp_path / "r.json").read_text())
    assert len(doc["reps"]) == len(m.file.rows)
    with pytest.raises(MidfootError, match="cannot write"):
        m.export_json(tmp_path / "missing" / "dir" / "r.json")


def test_bad_files_are_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(MidfootError, match="does not exist"):
        ReviewModel([tmp_path / "nope.h5"])
    with pytest.raises(MidfootError, match="at least one"):
        ReviewModel([])


# -- drill files -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["lateral", "rhythmic", "limits", "weight"])
def test_a_drill_file_lists_its_trials_with_the_live_scores(drill_files, name: str) -> None:
    from analysis.drill_review import TRIAL_COLUMNS, DrillTrialRow

    rec = drill_files[name]
    m = ReviewModel([rec.path])
    assert m.is_drill
    assert m.table_columns() == list(TRIAL_COLUMNS[name])
    # The table shows the live drill's numbers: each row as the live trial would print.
    expected = [DrillTrialRow(name, t).cells() for t in rec.live["trials"]]
    assert m.table_cells() == expected
    summary = m.drill_summary()
    assert summary[0].startswith(f"{name} drill")
    assert summary[-1] == "scores as the drill computed them live"
    assert m.file.drill.result.scores == rec.live["scores"]
    assert m.file.drill.targets
    # Drill events are targets and rows, not a line each on the timeline.
    kinds = {mark.kind for mark in m.file.marks}
    assert "drill-start" in kinds
    assert not kinds & {"drill-shown", "drill-trial", "drill-hit"}


def test_a_lateral_drill_file_jumps_from_trial_to_trial(drill_files) -> None:
    rec = drill_files["lateral"]
    m = ReviewModel([rec.path])
    rows = m.file.drill.rows
    assert m.table_index_at(rows[0].shown_s - 0.5) is None
    a, b = m.jump_to_row(2)
    assert (a, b) == (rows[2].shown_s, rows[2].until_s)
    assert m.cursor.position_s == pytest.approx(rows[2].shown_s)
    assert m.table_index_at() == 2
    assert m.next_row() == 3
    assert m.next_row() is None
    assert m.previous_row() == 2
    with pytest.raises(MidfootError, match="no trial 9"):
        m.jump_to_row(8)
    # Each side's live scores and their asymmetry are in the summary.
    text = "\n".join(m.drill_summary())
    for side in ("left", "right"):
        p = rec.live["scores"]["per_side"][side]
        assert (f"{side}: {100 * p['success']:.0f} % held of {p['targets']}, time to target "
                f"{p['time_to_target_s']:.2f} s") in text
    assert "asymmetry (right vs left)" in text


def test_a_sequence_file_lists_every_drills_trials(drill_files) -> None:
    from analysis.drill_review import DrillTrialRow

    rec = drill_files["lateral+rhythmic"]
    m = ReviewModel([rec.path])
    assert [d.drill for d in m.file.drills] == ["lateral", "rhythmic"]
    keys = [k for k, _ in m.table_columns()]
    assert keys[0] == "drill"
    assert {"reaction_time_s", "directional_control_pct"} <= set(keys)
    cells = m.table_cells()
    trials = [(live["drill"], t) for live in rec.live for t in live["trials"]]
    assert len(cells) == len(trials)
    for row, (name, trial) in zip(cells, trials, strict=True):
        assert row["drill"] == name
        for key, text in DrillTrialRow(name, trial).cells().items():
            assert row[key] == text
    # The rows run on from the first drill into the second.
    last = len(cells) - 1
    shown, _ = m.jump_to_row(last)
    assert shown == m.file.drills[1].rows[-1].shown_s
    assert m.table_index_at() == last
    assert m.previous_row() == last - 1
    summary = m.drill_summary()
    assert summary[0] == f"lateral + rhythmic drills, {len(trials)} trials"
    assert any(line.startswith("lateral drill") for line in summary)
    assert any(line.startswith("rhythmic drill") for line in summary)


def test_a_hinge_file_keeps_its_rep_table(h5: Path) -> None:
    from analysis.review import REP_COLUMNS

    m = ReviewModel([h5])
    assert not m.is_drill
    assert m.table_columns() == list(REP_COLUMNS)
    assert len(m.table_cells()) == len(m.file.rows) == 3
    assert m.drill_summary() == []
    assert m.next_row() == 0
