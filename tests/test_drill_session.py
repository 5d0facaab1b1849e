"""The drill on a live session: it waits for the start-up tare and records what it does."""

from __future__ import annotations

import time
from pathlib import Path

from analysis.drills import DrillSettings
from analysis.stance import StanceSetup
from daq.events import DrillScored, DrillStarted, Tared
from daq.reader import read_recording
from gui.drill_session import DrillSession
from gui.session import LiveSession, virtual_plate_url


def test_stopped_early_the_drill_records_what_it_scored(tmp_path: Path) -> None:
    settings = DrillSettings("lateral", targets=4)
    url = virtual_plate_url("drill-lateral-perfect", 80, seed=51, speed=8.0,
                            extra={"drill": settings.to_text()})
    session = LiveSession(url, StanceSetup("bilateral"))
    path = tmp_path / "early.h5"
    session.start_recording(str(path))
    drill = DrillSession(session, settings)
    session.start()
    try:
        deadline = time.monotonic() + 30.0
        # Until the first target has been scored, then stop.
        while len(drill.run.trials) < 1:
            assert time.monotonic() < deadline
            session.poll()
            time.sleep(0.05)
        result = drill.finish()
        assert drill.finished
        session.stop_recording()
    finally:
        session.stop()
    assert not result.completed
    assert 1 <= len(result.trials) < 4
    view = drill.view()
    assert view.state == "done"
    recording = read_recording(path)
    tare = next(e for e in recording.events if isinstance(e, Tared))
    started = next(e for e in recording.events if isinstance(e, DrillStarted))
    # The drill saw only tared data, and started once the person had stood for a while.
    assert started.start_s > tare.t_s
    scored = [e for e in recording.events if isinstance(e, DrillScored)]
    assert len(scored) == 1
    assert scored[0].completed is False
    assert len(scored[0].result["trials"]) == len(result.trials)
    assert drill.poll()  # the events reached the views too


def test_drill_events_become_lsl_markers() -> None:
    from daq.events import DrillTargetShown
    from daq.lsl import marker_texts

    event = DrillTargetShown(drill="lateral", index=2, phase="target", label="right",
                             shown_s=20.5, until_s=26.5, centre_mm=63.0, half_width_mm=9.0,
                             text="shift right into the band and hold 2 s", t_s=20.5)
    (text, t_s), = marker_texts(event)
    assert t_s == 20.5
    assert text.startswith("drill-shown ")
    assert '"label": "right"' in text
    assert '"centre_mm": 63.0' in text
