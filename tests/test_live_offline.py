"""Live and offline agree: a session recorded by the live app, re-analysed with `analyse`.

The live session (the same object the window and the terminal use, without Qt) plays the
demo on the virtual plate, tares itself at start-up, switches stance between the sets as
the person does, and records from a moment after the start. `midfoot analyse` of that file
must find the same reps, in the same stances, with the same faults, at the same times.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from analysis.report import analyse_files
from analysis.stance import StanceSetup
from daq.events import StanceChanged
from daq.session import load_session
from gui.session import LiveSession, virtual_plate_url
from hardware.scenarios import make_scenario

SPEED = 6.0
SEED = 104


def _plate_time_s(session: LiveSession) -> float:
    got = session.window(0.01)
    return float(got[0]["t_s"][-1]) if got is not None else -1.0


def _run_until(session: LiveSession, done, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "the live session did not get there in time"
        session.poll()
        time.sleep(0.02)


def test_live_recording_reanalysed_offline_gives_the_same_reps(tmp_path: Path) -> None:
    truth = make_scenario("demo", n_reps=2, seed=SEED)
    url = virtual_plate_url("demo", 80, seed=SEED, speed=SPEED, extra={"reps": "2"})
    session = LiveSession(url, StanceSetup("bilateral"))
    path = tmp_path / "live.h5"
    session.start()
    try:
        # Record from a moment in, so the file's first sample is not the session's.
        _run_until(session, lambda: _plate_time_s(session) >= 0.4, 10.0)
        session.start_recording(str(path))
        for st in truth.sets[1:]:
            _run_until(session, lambda t=st.still_s[0]: _plate_time_s(session) >= t, 60.0)
            session.set_stance(StanceSetup(st.stance))
        _run_until(session, lambda: len(session.reps) >= len(truth.reps), 60.0)
        # The last lockout's hold, then stop (the ring still holds the recording's start).
        t_end_s = _plate_time_s(session) + 4.0
        _run_until(session, lambda: _plate_time_s(session) >= t_end_s, 30.0)
        assert session.stop_recording() == str(path)
    finally:
        session.stop()
    live = session.reps
    assert session.status.dropped == 0
    assert len(live) == len(truth.reps) == 6

    recorded = load_session(path)
    # The file's times run from its first sample; find that sample's time in the live clock.
    assert session.ring is not None
    ring, _ = session.ring.latest(session.ring.capacity)
    first = np.flatnonzero((ring["seq"] & 0xFFFF) == int(recorded.seq[0]))[0]
    t0_s = float(ring["t_s"][first])
    assert t0_s > 0.3  # the recording did start late
    stances = [e for e in recorded.events if isinstance(e, StanceChanged)]
    assert len(stances) == 2
    # Each stance event carries the whole foot setup, not just the stance's name.
    for event in stances:
        assert event.told
        assert event.foot_length_mm == 260.0
        assert event.stance_width_mm > 0
        assert event.heel_y_mm is not None

    offline = analyse_files([path]).files[0].reps
    assert [r.stance for r in offline] == [r.stance for r in live]
    assert [sorted(f.name for f in r.faults) for r in offline] == [
        sorted(f.name for f in r.faults) for r in live
    ]
    assert [r.zone_at_bottom for r in offline] == [r.zone_at_bottom for r in live]
    for got, want in zip(offline, live, strict=True):
        # Offline times run from the file's first sample, live ones from the session's.
        assert got.bottom_s + t0_s == pytest.approx(want.bottom_s, abs=0.05)
        assert got.lockout_s + t0_s == pytest.approx(want.lockout_s, abs=0.05)
    # And both agree with the script.
    assert [sorted(r.faults) for r in truth.reps] == [
        sorted(f.name for f in r.faults) for r in live
    ]
