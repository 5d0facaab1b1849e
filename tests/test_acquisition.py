"""Tests of daq.acquisition: blocks reach consumers as PlateSeries, events reach the file,
and a replay:// source brings its own calibration and plays, pauses and seeks."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from daq.acquisition import Acquisition
from daq.events import NoteAdded
from daq.reader import read_recording
from daq.series import PlateSeries, concat_series
from daq.session import load_session


def _wait(done, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Twelve seconds of the virtual plate's demo, recorded with a note in the middle."""
    path = tmp_path_factory.mktemp("acq") / "demo.h5"
    acq = Acquisition("sim://demo?rate=80&seed=4&speed=4")
    acq.start_recording(str(path))
    acq.start()
    try:
        acq.wait_for_ring()
        _wait(lambda: acq.status.recording_samples > 480)
        acq.add_event(NoteAdded(text="halfway"))
        _wait(lambda: acq.status.recording_samples > 960)
    finally:
        acq.stop()
    return path


def test_consumers_get_plate_series_blocks(recording: Path) -> None:
    raw = load_session(recording)
    notes = [e for e in raw.events if isinstance(e, NoteAdded)]
    assert [n.text for n in notes] == ["halfway"]
    assert 480 <= notes[0].sample_index <= len(raw)


def test_replay_plays_the_files_forces_and_events(recording: Path) -> None:
    series = read_recording(recording)
    acq = Acquisition(f"replay://{recording}?speed=0")
    blocks: list[PlateSeries] = []
    acq.add_consumer(blocks.append)
    acq.start()
    try:
        _wait(lambda: sum(len(b) for b in blocks) >= len(series))
    finally:
        acq.stop()
    assert all(isinstance(b, PlateSeries) for b in blocks)
    assert blocks[0].meta.kind == "live"
    assert blocks[0].meta.calibration.plate_id == series.meta.calibration.plate_id
    played = concat_series(blocks)
    np.testing.assert_allclose(played.fz_n, series.fz_n, atol=1e-6)
    np.testing.assert_allclose(played.t_s, series.t_s, atol=2e-6)
    note = [e for e in played.events if isinstance(e, NoteAdded)]
    assert len(note) == 1
    assert note[0].t_s == pytest.approx(
        series.t_s[[e for e in series.events if isinstance(e, NoteAdded)][0].sample_index],
        abs=1e-5,
    )


def test_replay_pauses_and_seeks(recording: Path) -> None:
    series = read_recording(recording)
    acq = Acquisition(f"replay://{recording}?speed=8")
    blocks: list[PlateSeries] = []
    acq.add_consumer(blocks.append)
    acq.start()
    try:
        replay = acq.replay
        _wait(lambda: sum(len(b) for b in blocks) > 200)
        replay.pause()
        time.sleep(0.2)
        paused_at = sum(len(b) for b in blocks)
        time.sleep(0.5)
        assert sum(len(b) for b in blocks) == paused_at  # nothing while paused
        replay.seek(2.0)
        replay.resume()
        _wait(lambda: sum(len(b) for b in blocks) > paused_at + 100)
    finally:
        acq.stop()
    after = concat_series(blocks).slice(paused_at, paused_at + 100)
    # The stream goes on from 2 s of the file, with the file's own forces there.
    start = int(np.searchsorted(series.t_s, 2.0))
    assert after.t_s[0] == pytest.approx(series.t_s[start], abs=1e-5)
    np.testing.assert_allclose(after.fz_n, series.fz_n[start : start + 100], atol=1e-6)
