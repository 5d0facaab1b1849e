"""The live window, driven offscreen against the virtual plate.

Each test plays a scenario faster than real time (``speed``) so the whole file runs in
well under two minutes; every sim:// URL carries its own seed because one URL is one
physical plate per process. Screenshots of each view go to test-artifacts/.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import io  # noqa: E402
import math  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("pytestqt")

from pyqtgraph.Qt import QtCore, QtWidgets  # noqa: E402

from analysis.reps import CUES  # noqa: E402
from analysis.stance import StanceSetup  # noqa: E402
from daq.reader import read_recording  # noqa: E402
from daq.session import load_session  # noqa: E402
from gui.main_window import MainWindow  # noqa: E402
from gui.session import LiveSession, virtual_plate_url  # noqa: E402
from hardware.scenarios import make_scenario  # noqa: E402

pytestmark = pytest.mark.gui

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def save_shot(widget: QtWidgets.QWidget, name: str) -> Path:
    """Grab ``widget`` into test-artifacts/NAME.png (for people, not for asserts)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    widget.grab().save(str(path))
    return path


@pytest.fixture
def open_window(qtbot, tmp_path):
    """Make a started session and its window for a sim:// URL; both closed afterwards."""
    made: list[MainWindow] = []

    def make(url: str, stance: str = "bilateral", window_s: float = 10.0) -> MainWindow:
        session = LiveSession(url, StanceSetup(stance=stance))
        session.start()
        window = MainWindow(session, window_s=window_s, sessions_dir=tmp_path)
        qtbot.addWidget(window)
        window.show()
        window.activateWindow()
        # Shortcuts reach only the active window: wait for it before pressing keys.
        qtbot.waitUntil(window.isActiveWindow, timeout=3000)
        made.append(window)
        return window

    yield make
    for window in made:
        window.close()


def test_connects_shows_rate_and_simulated_banner(qtbot, open_window):
    w = open_window(virtual_plate_url("demo", 80, seed=101))
    qtbot.waitUntil(lambda: "STREAMING" in w.state_label.text(), timeout=5000)
    qtbot.waitUntil(lambda: w.rate_label.text().strip().startswith(("7", "8")), timeout=5000)
    rate = float(w.rate_label.text().split()[0])
    assert 70.0 < rate < 90.0
    assert w.banner.isVisible()
    assert not w.sound_box.isChecked()  # the sound cue is opt-in
    # Every control fits the default window width (none hidden in the toolbar's overflow).
    assert w.sound_box.isVisible()
    assert w.window_box.isVisible()
    assert "SIMULATED" in w.banner.text()
    assert w.drops_label.text() == "dropped 0"
    assert w.crc_label.text() == "CRC errors 0"
    # No calibration is stored for the virtual plate: say so, but be useful at once.
    assert w.cal_label.text() == "UNCALIBRATED"
    qtbot.waitUntil(lambda: "tared at start-up" in w.message_label.text(), timeout=5000)
    # The debug overlay shows live fps.
    qtbot.keyClick(w, QtCore.Qt.Key.Key_D)
    qtbot.waitUntil(lambda: "fps" in w.fps_label.text(), timeout=2000)
    assert w.fps_label.isVisible()


def test_counts_the_demo_reps(qtbot, open_window):
    # The demo with two reps per set (three sets, three stances) keeps the test short; much
    # faster than 6x and a busy machine can stall the reader past the virtual plate's 2 s
    # buffer, which loses samples exactly as an overflowing serial port would.
    seed, speed = 102, 6.0
    truth = make_scenario("demo", n_reps=2, seed=seed)
    url = virtual_plate_url("demo", 80, seed=seed, speed=speed, extra={"reps": "2"})
    w = open_window(url, window_s=30.0)
    # Switch stance with the keys when the scripted person does (between the sets).
    switch_at = [(st.still_s[0], key) for st, key in zip(truth.sets[1:], "23", strict=True)]
    deadline_ms = int(1000 * (truth.duration_s - 1.0) / speed) + 8000
    for t_switch_s, key in switch_at:
        qtbot.waitUntil(lambda t=t_switch_s: _plate_time_s(w) >= t, timeout=deadline_ms)
        qtbot.keyClick(w, getattr(QtCore.Qt.Key, f"Key_{key}"))
    qtbot.waitUntil(lambda: len(w.session.reps) >= len(truth.reps), timeout=deadline_ms)
    save_shot(w, "live-demo")
    assert w.session.status.dropped == 0
    assert len(w.session.reps) == len(truth.reps) == 6
    qtbot.waitUntil(lambda: w.coaching.rep_count.text() == "6", timeout=2000)
    # Both kickstand sides have reps: left against right is shown as the person goes.
    qtbot.waitUntil(lambda: "LEFT vs RIGHT" in w.coaching.sides.text(), timeout=2000)
    asym = w.session.asymmetry()
    assert f"{asym.left_mean_mm:+.0f} mm" in w.coaching.sides.text()
    assert w.coaching.summary.rowCount() == 6
    # Every scripted rep was found near its scripted time (plate time = scenario time).
    found = np.array([r.bottom_s for r in w.session.reps])
    scripted = np.array([r.bottom_s for r in truth.reps])
    assert np.max(np.abs(found - scripted)) < 1.0
    assert [r.stance for r in w.session.reps] == [r.stance for r in truth.reps]
    # The demo's second rep in each stance carries that stance's fault; the window shows it.
    assert [{f.name for f in r.faults} for r in w.session.reps] == [
        set(r.faults) for r in truth.reps
    ]
    flagged = [w.coaching.summary.item(row, 5).text() for row in range(6)]
    assert [bool(text.strip()) and text != "-" for text in flagged] == [False, True] * 3
    # Each rep is shaded on every plot from its start to its lockout, red with faults and
    # green without.
    for bands in w.traces.rep_bands:
        spans = bands.spans()
        assert [i for i, *_ in spans] == [r.index for r in w.session.reps]
        for (_, start_s, end_s, rgb), rep in zip(spans, w.session.reps, strict=True):
            assert (start_s, end_s) == pytest.approx((rep.start_s, rep.lockout_s))
            red_over_green = rgb[0] > rgb[1]
            assert red_over_green == bool(rep.faults)


def _plate_time_s(w: MainWindow) -> float:
    got = w.session.window(0.01)
    return float(got[0]["t_s"][-1]) if got is not None else -math.inf


@pytest.mark.parametrize(
    ("scenario", "stance", "fault", "seed"),
    [
        ("hinge-bilateral-heels", "bilateral", "heel_shift", 111),
        ("hinge-kickstand-left-noshift", "kickstand-left", "lateral_shift", 112),
        ("hinge-bilateral-leanback", "bilateral", "backward_lean", 113),
    ],
)
def test_shows_the_fault_cues(qtbot, open_window, monkeypatch, scenario, stance, fault, seed):
    truth = make_scenario(scenario, seed=seed)
    assert all(fault in r.faults for r in truth.reps)
    beeps = []
    monkeypatch.setattr(QtWidgets.QApplication, "beep", lambda: beeps.append(1))
    w = open_window(virtual_plate_url(scenario, 80, seed=seed, speed=8.0), stance=stance)
    w.sound_box.setChecked(True)  # the optional sound cue (off by default)
    qtbot.waitUntil(lambda: len(w.session.reps) >= 2, timeout=15000)
    qtbot.wait(100)
    rep = w.session.reps[-1]
    assert fault in [f.name for f in rep.faults]
    assert CUES[fault] in w.coaching.cues.text()
    assert len(beeps) == len(w.session.reps)
    last_row = w.coaching.summary.rowCount() - 1
    assert fault.replace("_", " ") in w.coaching.summary.item(last_row, 5).text()
    # The fault is marked on the traces too.
    assert any(fault.replace("_", " ") in text for text in w.traces.rep_labels())
    save_shot(w, f"live-{fault}")
    save_shot(w.coaching, f"coaching-{fault}")


def test_records_a_file_that_reopens(qtbot, open_window, tmp_path):
    w = open_window(virtual_plate_url("hinge-bilateral", 80, seed=121, speed=2.0))
    qtbot.waitUntil(lambda: w.session.ring is not None, timeout=5000)
    qtbot.keyClick(w, QtCore.Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: "REC" in w.rec_label.text(), timeout=3000)
    path = Path(w.session.status.recording_path)
    assert path.parent == tmp_path
    assert path.name in w.rec_label.text()
    qtbot.wait(2000)
    assert "00:0" in w.rec_label.text()  # elapsed time shown
    qtbot.keyClick(w, QtCore.Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: w.session.status.recording_path is None, timeout=3000)
    assert f"saved {path}" in w.message_label.text()
    session = load_session(path)
    assert session.counts.shape[0] > 200
    assert session.counts.shape[1] == 4
    assert 70.0 < read_recording(path).rate_hz < 90.0
    assert session.attrs["stance"] == "bilateral"


def test_survives_an_unplug(qtbot, open_window):
    url = virtual_plate_url("demo", 80, seed=131, speed=2.0, extra={"unplug": "3:2"})
    w = open_window(url)
    qtbot.waitUntil(lambda: "STREAMING" in w.state_label.text(), timeout=5000)
    qtbot.waitUntil(lambda: "DISCONNECTED" in w.state_label.text(), timeout=6000)
    assert "UNPLUGGED" in w.message_label.text()
    # The long sentence wraps; it does not widen the window past its 1440 px.
    qtbot.wait(300)
    assert w.width() == 1440
    # Without a signal the last weight and zone are not shown as if they were current.
    assert w.plate_view.weight_label.text() == "-- kg"
    assert w.plate_view.zone_label.text() == "no CoP"
    save_shot(w, "live-unplugged")
    qtbot.waitUntil(lambda: "STREAMING" in w.state_label.text(), timeout=8000)
    assert w.session.status.reconnects >= 1
    written = w.session.ring.written
    qtbot.waitUntil(lambda: w.session.ring.written > written + 40, timeout=3000)


def test_tare_waits_for_an_empty_still_plate(qtbot, open_window):
    truth = make_scenario("step-on-off", seed=141)
    # Played once at 2x: the plate stays empty after the step-off, so the reading after the
    # tare is of the empty plate however late the checks run on a loaded machine (with the
    # loop the person was back on 0.6 s after the tare: issue 9's flaky -0.2 kg).
    speed = 2.0
    w = open_window(virtual_plate_url("step-on-off", 80, seed=141, speed=speed,
                                      extra={"loop": "0"}))
    on_s, off_s = truth.on_plate_s
    qtbot.waitUntil(lambda: _plate_time_s(w) > on_s + 3.0, timeout=5000)
    assert w.plate_view.weight_label.text().strip().startswith(("7", "8"))
    qtbot.keyClick(w, QtCore.Qt.Key.Key_T)
    qtbot.waitUntil(lambda: "step off" in w.message_label.text(), timeout=2000)
    # Nothing happens while the person stands on the plate...
    qtbot.wait(1000)
    assert w.session.job is not None
    assert w.session.job.kind == "tare"
    # ...and the tare lands once they have stepped off and the plate is still.
    qtbot.waitUntil(lambda: w.session.job is None, timeout=int(1000 * (off_s + 3) / speed))
    assert _plate_time_s(w) > off_s
    qtbot.waitUntil(lambda: w.message_label.text() == "tared", timeout=2000)
    assert abs(w.session.readout().weight_kg) < 0.5


def test_stance_keys_switch_the_stance(qtbot, open_window):
    w = open_window(virtual_plate_url("quiet-stance", 80, seed=151))
    for key, stance in (("2", "kickstand-left"), ("3", "kickstand-right"), ("1", "bilateral")):
        qtbot.keyClick(w, getattr(QtCore.Qt.Key, f"Key_{key}"))
        assert w.session.stance.stance == stance
        assert w.stance_box.currentData() == stance
        assert w.plate_view.stance.stance == stance
        qtbot.waitUntil(lambda s=stance: w.session.analyser.stance.stance == s, timeout=2000)
        if stance == "kickstand-left":
            save_shot(w.plate_view, "plate-kickstand-left")
    save_shot(w.plate_view, "plate-bilateral")


def test_weigh_in_key(qtbot, open_window):
    w = open_window(virtual_plate_url("quiet-stance", 80, seed=161, speed=2.0))
    qtbot.waitUntil(lambda: "standing" == w.session.analyser.state, timeout=8000)
    qtbot.keyClick(w, QtCore.Qt.Key.Key_W)
    qtbot.waitUntil(lambda: "weighed in" in w.message_label.text(), timeout=6000)
    assert 70.0 < w.session.body_mass_kg < 82.0
    qtbot.waitUntil(lambda: "body weight" in w.plate_view.percent_label.text(), timeout=2000)


def test_foot_setup_dialog_fits_zones_to_a_rocking_trial(qtbot, open_window, monkeypatch):
    from gui import foot_setup

    monkeypatch.setattr(foot_setup, "ROCK_TRIAL_S", 1.0)
    w = open_window(virtual_plate_url("quiet-stance", 80, seed=171))
    # The scenario starts on an empty plate: the trial needs the person standing on it.
    qtbot.waitUntil(lambda: w.session.analyser.state == "standing", timeout=8000)
    dialog = foot_setup.FootSetupDialog(w.session, w)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.foot.setValue(280)
    dialog.stance.setCurrentIndex(1)
    assert dialog.setup().stance == "kickstand-left"
    assert dialog.setup().foot_length_mm == 280
    # A quiet stance does not rock: the fit refuses with a plain sentence.
    dialog.start_trial()
    qtbot.waitUntil(lambda: dialog.trial_button.isEnabled(), timeout=4000)
    assert "rock fully back" in dialog.trial_text.text()
    save_shot(dialog, "foot-setup")
    dialog.accept_setup()
    assert dialog.result_setup is not None
    w.apply_stance(dialog.result_setup)
    assert w.session.stance.foot_length_mm == 280


def test_calibration_wizard_in_the_window(qtbot, open_window):
    from gui.wizard import CalibrationDialog

    # The scenario starts with ~5 s of empty plate (the wizard's tare), then the 20 kg mass
    # is set down, held and lifted at each of the wizard's five positions in turn.
    # At 2x, so a window slow to open on a loaded machine still starts within the empty part.
    w = open_window(virtual_plate_url("calibration", 80, seed=181, speed=2.0))
    qtbot.waitUntil(lambda: w.session.ring is not None, timeout=5000)
    assert _plate_time_s(w) < 3.3
    dialog = CalibrationDialog(w.session, w)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.mass.setValue(20.0)
    dialog.start()
    qtbot.waitUntil(lambda: "[1/5]" in dialog.prompt.text(), timeout=8000)
    qtbot.waitUntil(lambda: "[3/5]" in dialog.prompt.text(), timeout=16000)
    save_shot(dialog, "calibration-wizard")
    qtbot.waitUntil(dialog.save_button.isEnabled, timeout=24000)
    assert dialog.wizard.done
    assert float(dialog.wizard.result.residual_cop_mm) < 5.0
    dialog.save()
    assert "Saved to" in dialog.prompt.text()
    assert w.session.calibrated
    qtbot.waitUntil(lambda: w.cal_label.text() == "calibrated", timeout=2000)


def test_window_switches_source(qtbot, open_window):
    w = open_window(virtual_plate_url("quiet-stance", 80, seed=195))
    qtbot.waitUntil(lambda: "STREAMING" in w.state_label.text(), timeout=5000)
    other = virtual_plate_url("quiet-stance", 10, seed=196)
    w.switch_source(other)
    assert w.session.url == other
    assert w.source_box.currentData() == other
    qtbot.waitUntil(lambda: w.rate_label.text().strip().startswith(("9", "10")), timeout=6000)
    # A port that does not exist keeps the plate that works and says why.
    w.switch_source("/dev/ttyNOPLATE0")
    assert w.session.url == other
    expected = "no serial port /dev/ttyNOPLATE0"
    qtbot.waitUntil(lambda: expected in w.message_label.text(), timeout=2000)
    qtbot.wait(500)
    assert expected in w.message_label.text()


def test_live_command_runs_the_window_and_records(tmp_path):
    # In its own process, as a user runs it: the command's app.exec() and quit() end the
    # QApplication's event loop for good, which would stop the timers of every later
    # window in this test process.
    out = tmp_path / "live.h5"
    url = virtual_plate_url("quiet-stance", 80, seed=197, speed=2.0)
    done = subprocess.run(
        [sys.executable, "-m", "gui.cli", "live", "--port", url, "--seconds", "2",
         "--record", str(out)],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert done.returncode == 0, done.stderr
    assert load_session(out).counts.shape[0] > 100


def test_terminal_mode_prints_the_feedback(capsys):
    from gui.commands.live import run as run_live_command

    url = virtual_plate_url("hinge-bilateral-heels", 80, seed=191, speed=8.0)
    code = run_live_command(["--terminal", "--port", url, "--seconds", "6"])
    out = capsys.readouterr().out
    assert code == 0
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "terminal.txt").write_text(out, encoding="utf-8")
    assert "[STREAMING SIMULATED uncalibrated]" in out
    assert "weight" in out
    assert "zone" in out
    assert "reps" in out
    assert "rep 1: bottom over the heel" in out
    assert CUES["heel_shift"] in out


def test_no_display_falls_back_to_the_terminal(monkeypatch, capsys):
    from gui.commands import live as app

    for key in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setattr(app.sys, "platform", "linux")
    assert not app.has_display()
    url = virtual_plate_url("quiet-stance", 80, seed=192)
    assert app.run(["--port", url, "--seconds", "1.5"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("midfoot live: there is no display")
    assert "[STREAMING" in out


def test_terminal_redraws_in_place_on_a_tty():
    from gui.terminal import run_terminal

    session = LiveSession(virtual_plate_url("quiet-stance", 80, seed=193))
    session.start()
    buf = io.StringIO()
    try:
        run_terminal(session, seconds=1.0, out=buf, interactive=True)
    finally:
        session.stop()
    text = buf.getvalue()
    assert "\x1b[F" in text
    assert "\x1b[2K" in text


def test_an_empty_plate_reads_zero_not_minus_zero(qtbot) -> None:
    from gui.plate_view import PlateView

    view = PlateView()
    qtbot.addWidget(view)
    view.set_readout(-0.04, None, "off")  # a tared empty plate's noise
    assert view.weight_label.text().strip() == "0.0 kg"
    view.set_readout(-0.3, None, "off")  # a real drift below the tare is still shown
    assert view.weight_label.text().strip() == "-0.3 kg"


@pytest.mark.parametrize("size", [(300, 330), (420, 700), (260, 260)])
def test_the_plates_front_and_back_labels_stay_off_the_plate_however_small(qtbot, size):
    """A short side panel drew the plate small and a margin fixed in mm put FRONT (toes)
    under the plate's edge (review window, 1400x900)."""
    from daq.plate import load_plate
    from gui.plate_view import PlateView

    view = PlateView()
    qtbot.addWidget(view)
    plate = load_plate()
    view.set_plate(plate)
    view.resize(*size)
    view.show()
    qtbot.waitExposed(view)
    QtWidgets.QApplication.processEvents()
    vb = view.plot.getPlotItem().vb
    texts = {it.textItem.toPlainText(): it for it in vb.addedItems if hasattr(it, "textItem")}
    top = vb.mapViewToScene(QtCore.QPointF(0.0, plate.depth_mm / 2)).y()
    bottom = vb.mapViewToScene(QtCore.QPointF(0.0, -plate.depth_mm / 2)).y()
    front = texts["FRONT (toes)"].sceneBoundingRect()
    back = texts["BACK"].sceneBoundingRect()
    view_rect = vb.sceneBoundingRect()
    assert front.bottom() <= top + 1.0  # above the plate's front edge
    assert front.top() >= view_rect.top() - 1.0  # ... and inside the view
    assert back.top() >= bottom - 1.0
    assert back.bottom() <= view_rect.bottom() + 1.0
