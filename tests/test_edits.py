"""Review edits stored in the file change what analyse reports, and undo takes them back."""

from __future__ import annotations

import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from analysis.edits import active_edits, edit_key, with_stance_edits
from analysis.report import analyse_file
from daq.annotate import append_events
from daq.events import (
    AthleteSet,
    EditUndone,
    NoteAdded,
    RepAdded,
    RepRemoved,
    StanceChanged,
    StanceEdited,
)
from daq.reader import read_recording

sys.path.insert(0, str(Path(__file__).parent))
from review_sessions import recording, write_session  # noqa: E402


@pytest.fixture(scope="module")
def rec():
    return recording("hinge-kickstand-left", seed=41, n_reps=3)


@pytest.fixture
def h5(rec, tmp_path: Path) -> Path:
    return write_session(rec, tmp_path / "left.h5")


def _index(path: Path, t_s: float) -> int:
    return int(np.searchsorted(read_recording(path).t_s, t_s))


def test_remove_and_undo_a_rep(h5: Path) -> None:
    before = analyse_file(h5)
    assert len(before.reps) == 3
    target = before.reps[1]
    counts_before = h5py.File(h5, "r")["samples/counts"][:]
    removal = RepRemoved(at_s=target.bottom_s, edit_id="e1")
    append_events(h5, [(removal, _index(h5, target.bottom_s))])
    after = analyse_file(h5)
    assert len(after.reps) == 2
    assert all(abs(r.bottom_s - target.bottom_s) > 0.5 for r in after.reps)
    assert [r.index for r in after.reps] == [0, 1]
    # The detector's own result is kept beside the edit, and the samples are untouched.
    assert len(after.detected_reps) == 3
    assert after.edits is not None
    assert after.edits.removed[0].bottom_s == target.bottom_s
    np.testing.assert_array_equal(h5py.File(h5, "r")["samples/counts"][:], counts_before)
    append_events(h5, [(EditUndone(edit_id="e1"), 0)])
    assert len(analyse_file(h5).reps) == 3


def test_added_rep_is_measured_like_a_detected_one(h5: Path) -> None:
    before = analyse_file(h5)
    victim = before.reps[2]
    append_events(h5, [(RepRemoved(at_s=victim.bottom_s, edit_id="r"), 0)])
    add = RepAdded(
        start_s=victim.start_s, bottom_s=victim.bottom_s, lockout_s=victim.lockout_s, edit_id="a"
    )
    append_events(h5, [(add, _index(h5, victim.start_s))])
    after = analyse_file(h5)
    assert len(after.reps) == 3
    assert after.edits is not None
    assert after.edits.added == [False, False, True]
    again = after.reps[2]
    assert again.zone_at_bottom == victim.zone_at_bottom
    assert again.lateral_shift_mm == pytest.approx(victim.lateral_shift_mm, abs=5.0)
    assert again.lockout_shift_mm == pytest.approx(victim.lockout_shift_mm, abs=5.0)
    assert again.fault_names == victim.fault_names


def test_bad_added_rep_is_a_problem_not_a_crash(h5: Path) -> None:
    append_events(h5, [(RepAdded(start_s=5.0, bottom_s=4.0, lockout_s=6.0, edit_id="x"), 0)])
    report = analyse_file(h5)
    assert len(report.reps) == 3
    assert report.edits is not None
    assert "start < bottom < lockout" in report.edits.problems[0]


def test_athlete_edit_and_its_undo(h5: Path) -> None:
    append_events(h5, [(AthleteSet(athlete="Alex", edit_id="n1"), 0)])
    assert analyse_file(h5).meta["athlete"] == "Alex"
    append_events(h5, [(EditUndone(edit_id="n1"), 0)])
    assert analyse_file(h5).meta["athlete"] == "Sam"


def test_stance_of_a_stretch_changes_the_analysis(h5: Path) -> None:
    reps = analyse_file(h5).reps
    first = reps[0]
    assert first.stance == "kickstand-left"
    # The stance of the stretch from the first sample to just after the first rep (a stance
    # change makes the detector weigh the person again, as the live one does).
    t0 = float(read_recording(h5).t_s[0])
    edit = StanceEdited(start_s=t0, end_s=first.lockout_s + 0.3, stance="bilateral", edit_id="s")
    append_events(h5, [(edit, 0)])
    series = with_stance_edits(read_recording(h5))
    stances = [(e.t_s, e.stance) for e in series.events if isinstance(e, StanceChanged)]
    assert stances[0][1] == "bilateral"
    assert stances[-1][1] == "kickstand-left"
    after = analyse_file(h5).reps
    assert after[0].stance == "bilateral"
    assert after[0].lateral_shift_mm is None
    assert after[0].bottom_s == pytest.approx(first.bottom_s, abs=0.2)
    assert after[-1].stance == "kickstand-left"
    assert after[-1].lateral_shift_mm is not None


def test_note_undo_by_key(h5: Path) -> None:
    note = NoteAdded(text="felt tired", sample_index=10)
    append_events(h5, [(note, 10)])
    events = read_recording(h5).events
    assert [e.text for e in active_edits(events) if isinstance(e, NoteAdded)] == ["felt tired"]
    append_events(h5, [(EditUndone(edit_id=edit_key(note)), 10)])
    assert not [e for e in active_edits(read_recording(h5).events) if isinstance(e, NoteAdded)]


def test_hostile_edit_events_do_not_break_the_analysis(h5: Path) -> None:
    before = analyse_file(h5)
    with h5py.File(h5, "r+") as f:
        g = f["events"]
        texts = [
            '{"kind": "stance-edited", "sample_index": 0, "start_s": null, "end_s": 5, '
            '"stance": "kickstand-right"}',
            '{"kind": "stance-edited", "sample_index": 0, "start_s": 9, "end_s": 2, '
            '"stance": "kickstand-right"}',
            '{"kind": "stance-edited", "sample_index": 0, "start_s": 0, "end_s": 50, '
            '"stance": "on-one-hand"}',
            '{"kind": "rep-removed", "sample_index": 3, "at_s": null}',
            '{"kind": "rep-added", "sample_index": 3, "start_s": 1e300, "bottom_s": 1, '
            '"lockout_s": 2}',
            '{"kind": "undo", "sample_index": 3}',
            '{"kind": "athlete", "sample_index": 0, "athlete": ["not", "a", "name"]}',
        ]
        k = g["text"].shape[0]
        g["text"].resize(k + len(texts), axis=0)
        g["host_t_s"].resize(k + len(texts), axis=0)
        g["text"][k:] = np.array(texts, dtype=object)
    after = analyse_file(h5)
    assert [r.bottom_s for r in after.reps] == [r.bottom_s for r in before.reps]
    assert [r.stance for r in after.reps] == [r.stance for r in before.reps]
