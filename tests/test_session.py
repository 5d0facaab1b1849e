"""Tests of gui.session: the Qt-free session layer the window, the terminal and drills share.

Real sources: the virtual plate (sim://), a real pty fed by `midfoot simulate`, and
replay:// of a real recording.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from analysis.events import RepCompleted
from daq.events import RepMarked, StanceChanged, Tared
from daq.reader import read_recording
from daq.session import load_session
from gui.session import LiveSession, StanceSet, virtual_plate_url


def _plate_time_s(session: LiveSession) -> float:
    got = session.window(0.05)
    return float(got[0]["t_s"][-1]) if got else 0.0


def _run_until(session: LiveSession, done, timeout_s: float) -> list:
    events = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        events += session.poll()
        if done():
            return events
        time.sleep(0.02)
    raise AssertionError("timed out")


def test_start_up_tare_on_an_empty_plate_then_weighs_and_counts(tmp_path: Path) -> None:
    session = LiveSession(virtual_plate_url("demo", 80, seed=3, speed=4.0))
    session.start()
    try:
        session.start_recording(str(tmp_path / "demo.h5"))
        events = _run_until(session, lambda: len(session.reps) >= 2, 40.0)
        assert any(type(e).__name__ == "Tared" for e in events)
        assert session.body_mass_kg is not None
        assert abs(session.readout().weight_kg - session.body_mass_kg) < 5.0
        session.stop_recording()
    finally:
        session.stop()
    raw = load_session(tmp_path / "demo.h5")
    marks = [e for e in raw.events if isinstance(e, RepMarked)]
    assert len(marks) >= 2  # reps written into the file from the acquisition thread


def test_a_person_already_standing_is_never_tared_away(tmp_path: Path) -> None:
    """The issue's case: the plate streams quiet standing for a while before the app opens.

    Uncalibrated, the raw offsets make any load read as anything, so only the cells' sway
    tells a person from an empty plate; the tare must not happen, and say why.
    """
    link = tmp_path / "plate"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gui.cli", "simulate", "quiet-stance", "--rate", "80",
         "--seed", "8", "--speed", "4", "--link", str(link)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not link.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(2.5)  # 10 s of plate time: the person has been standing for 9 s
        session = LiveSession(str(link))
        session.start()
        try:
            events = _run_until(session, lambda: session.job is None, 20.0)
            assert not any(type(e).__name__ == "Tared" for e in events)
            readout = session.readout()
            assert "not tared" in (session.message or "")
            # Not zeroed: the person still weighs their weight (approximately: nominal gains).
            assert readout.weight_kg > 40.0
            # The analyser runs anyway and weighs them.
            _run_until(session, lambda: session.analyser.standing_mass_kg is not None, 20.0)
        finally:
            session.stop()
    finally:
        proc.terminate()
        proc.wait(10)


def test_tare_and_weigh_in_on_request() -> None:
    # Played once (no loop) in real time: the weigh-in and the refused tare happen during the
    # 10 s of standing, and the plate stays empty after the person steps off, so the reading
    # after the tare is of the empty plate however late this loop polls on a loaded machine.
    session = LiveSession(
        virtual_plate_url("step-on-off", 80, seed=141, speed=1.0, extra={"loop": "0"})
    )
    session.start()
    try:
        _run_until(session, lambda: session.analyser.state == "standing", 30.0)
        session.request_weigh_in()
        _run_until(session, lambda: session.job is None, 20.0)
        assert 70.0 < session.body_mass_kg < 90.0
        session.request_tare()
        _run_until(session, lambda: "someone is on the plate" in (session.message or ""), 5.0)
        assert session.job is not None  # waiting, not tared
        _run_until(session, lambda: session.job is None, 40.0)
        assert session.message == "tared"
        assert abs(session.readout().weight_kg) < 1.0
    finally:
        session.stop()


def test_a_waiting_tare_says_so_once_and_leaves_later_messages_shown() -> None:
    session = LiveSession(virtual_plate_url("quiet-stance", 80, seed=12, speed=2.0))
    session.start()
    try:
        _run_until(session, lambda: session.analyser.state == "standing", 30.0)
        session.request_tare()
        _run_until(session, lambda: "someone is on the plate" in (session.message or ""), 10.0)
        session.message = "saved s.h5"  # as stopping a recording says, while the tare waits
        _run_until(session, lambda: session.status.samples > 0, 1.0)
        time.sleep(1.0)  # 40 blocks at 2x: each used to say the tare's sentence again
        session.poll()
        assert session.job is not None  # still waiting for the person to step off
        assert session.message == "saved s.h5"
    finally:
        session.stop()


def test_stance_keys_reach_the_analyser_and_the_file(tmp_path: Path) -> None:
    session = LiveSession(virtual_plate_url("quiet-stance", 80, seed=9, speed=2.0))
    session.start()
    try:
        session.start_recording(str(tmp_path / "s.h5"))
        _run_until(session, lambda: session.status.recording_samples > 100, 10.0)
        session.set_stance("kickstand-left")
        assert session.stance.stance == "kickstand-left"
        events = _run_until(
            session, lambda: session.analyser.stance.stance == "kickstand-left", 5.0
        )
        assert any(isinstance(e, StanceSet) for e in events)
        session.stop_recording()
    finally:
        session.stop()
    stances = [e for e in load_session(tmp_path / "s.h5").events if isinstance(e, StanceChanged)]
    assert [s.stance for s in stances] == ["kickstand-left"]
    assert stances[0].told


def test_a_replay_takes_its_stance_and_calibration_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "rec.h5"
    live = LiveSession(virtual_plate_url("demo", 80, seed=5, speed=6.0))
    live.start()
    try:
        live.start_recording(str(path))
        _run_until(live, lambda: _plate_time_s(live) > 30.0, 30.0)
        live.set_stance("kickstand-left")
        _run_until(live, lambda: len(live.reps) >= 4, 40.0)
        live.stop_recording()
    finally:
        live.stop()
    # Recording began before the start-up tare: the file holds it as a mid-file tare.
    assert any(isinstance(e, Tared) for e in load_session(path).events)
    series = read_recording(path)
    replay = LiveSession(f"replay://{path}?speed=20")
    replay.start()
    try:
        seen = _run_until(replay, lambda: replay.acquisition.replay.finished, 60.0)
        seen += _run_until(replay, lambda: True, 1.0)
    finally:
        replay.stop()
    assert replay.stance.stance == "kickstand-left"
    stance_sets = [e for e in seen if isinstance(e, StanceSet)]
    assert [s.stance.stance for s in stance_sets][-1] == "kickstand-left"
    # Replayed weight is the recorded one (the file's tare), not one from a stored calibration.
    assert replay.body_mass_kg == pytest.approx(live.body_mass_kg, abs=1.0)
    done = [e.rep for e in seen if isinstance(e, RepCompleted)]
    assert [r.stance for r in done] == [r.stance for r in live.reps]
    # The plate reads empty right after its tare, and not before: the tare applies from there.
    tare_s = next(e.t_s for e in series.events if isinstance(e, Tared))
    after = series.between(tare_s, tare_s + 0.2).fz_n
    assert abs(np.median(after)) < 10.0


def _cut_recording(path: Path, from_s: float) -> Path:
    """A session file of the bilateral hinge scenario from ``from_s`` on (a person already on
    the plate at its first sample when ``from_s`` > 1 s)."""
    from daq.calibration import Calibration
    from daq.decoder import FrameDecoder
    from daq.recorder import SessionRecorder
    from daq.samples import SampleBlock
    from hardware.scenarios import make_scenario
    from hardware.virtual_plate import VirtualPlate

    plate = VirtualPlate(make_scenario("hinge-bilateral", n_reps=1, seed=4), rate_hz=80, seed=4)
    block = FrameDecoder().feed(plate.render()).samples
    keep = block.t_us / 1e6 >= block.t_us[0] / 1e6 + from_s
    with SessionRecorder(path, Calibration.nominal("virtual", plate.plate), 4, {}) as rec:
        rec.write(SampleBlock(seq=block.seq[keep], t_us=block.t_us[keep],
                              stale=block.stale[keep], counts=block.counts[keep]), 1.7e9)
    return path


@pytest.mark.parametrize(
    ("from_s", "flags", "tared", "said"),
    [
        (0.0, [], True, "tared on the empty plate at"),
        (0.0, ["--no-tare"], False, None),
        (5.0, [], False, "someone was on the plate at the start, so the recording was not tared"),
    ],
)
def test_record_tares_an_empty_plate_at_the_start_and_never_a_person(
    tmp_path: Path, from_s: float, flags: list[str], tared: bool, said: str | None
) -> None:
    source = _cut_recording(tmp_path / "source.h5", from_s)
    out = tmp_path / "out.h5"
    done = subprocess.run(
        [sys.executable, "-m", "gui.cli", "record", "--port", f"replay://{source}?speed=4",
         "--out", str(out), "--seconds", "4", "--quiet", *flags],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[1],
    )
    assert done.returncode == 0, done.stderr
    series = read_recording(out)
    tares = [e for e in series.events if isinstance(e, Tared)]
    assert len(tares) == (1 if tared else 0)
    if said is None:
        assert "tared" not in done.stdout + done.stderr
    elif tared:
        assert said in done.stdout  # news, not a warning
    else:
        assert f"warning: {said}" in done.stderr
    raw = load_session(source)
    assert np.array_equal(load_session(out).counts, raw.counts[: len(load_session(out).seq)])
    if from_s == 0.0:
        # Empty plate until the person steps on at 1 s: 0 kg after the tare, the cells'
        # offsets (kilograms off) without it.
        at = tares[0].t_s if tared else 0.1
        empty = (series.t_s > at + 0.05) & (series.t_s < 0.9)
        assert empty.sum() >= 10
        load_kg = np.abs(series.fz_n[empty]).max() / 9.80665
        assert (load_kg < 0.3) if tared else (load_kg > 1.0)
