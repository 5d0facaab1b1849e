"""Appending events to a closed session: stored in the recorder's layout, refused when unsafe."""

from __future__ import annotations

import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from daq.annotate import append_events, writable_reason
from daq.errors import MidfootError
from daq.events import AthleteSet, NoteAdded, UnknownEvent
from daq.reader import read_recording

sys.path.insert(0, str(Path(__file__).parent))
from review_sessions import recording, write_session  # noqa: E402


@pytest.fixture(scope="module")
def rec():
    return recording("hinge-bilateral", seed=42, n_reps=1)


def test_appended_events_read_back_at_their_samples(rec, tmp_path: Path) -> None:
    h5 = write_session(rec, tmp_path / "s.h5")
    assert writable_reason(h5) is None
    before = read_recording(h5)
    n_events = len(before.events)
    append_events(h5, [(NoteAdded(text="knee hurt"), 200), (AthleteSet(athlete="Kim"), 0)])
    after = read_recording(h5)
    new = after.events[n_events - len(after.events) :] if n_events else after.events
    notes = [e for e in new if isinstance(e, NoteAdded)]
    assert notes[0].text == "knee hurt"
    assert notes[0].t_s == pytest.approx(after.t_s[200])
    assert any(isinstance(e, AthleteSet) and e.athlete == "Kim" for e in after.events)
    np.testing.assert_array_equal(after.fz_n, before.fz_n)
    with h5py.File(h5, "r") as f:
        assert f["events/text"].shape[0] == f["events/host_t_s"].shape[0]


def test_an_older_reader_keeps_edit_kinds_it_does_not_know(rec, tmp_path: Path) -> None:
    h5 = write_session(rec, tmp_path / "s.h5")
    with h5py.File(h5, "r+") as f:
        g = f["events"]
        k = g["text"].shape[0]
        g["text"].resize(k + 1, axis=0)
        g["host_t_s"].resize(k + 1, axis=0)
        g["text"][k] = '{"kind": "drill-target", "sample_index": 5, "x_mm": 3}'
    append_events(h5, [(NoteAdded(text="after"), 10)])
    kinds = [e.kind for e in read_recording(h5).events if isinstance(e, UnknownEvent)]
    assert kinds == ["drill-target"]


def test_edits_refused_for_open_and_text_files(rec, tmp_path: Path) -> None:
    recorder = write_session(rec, tmp_path / "open.h5", close=False)
    recorder.write(rec.block, 1.7e9)
    recorder.maybe_flush(force=True)
    try:
        with pytest.raises(MidfootError, match="still being recorded"):
            append_events(tmp_path / "open.h5", [(NoteAdded(text="x"), 0)])
    finally:
        recorder.close()
    csv = tmp_path / "f.csv"
    csv.write_text("t,f0\n0,1\n")
    with pytest.raises(MidfootError, match="not a midfoot session"):
        append_events(csv, [(NoteAdded(text="x"), 0)])
