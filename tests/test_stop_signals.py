"""Stop signals: a window quits from its event loop, never from inside a slot or a paint.

Each window runs in its own process (a real offscreen Qt window, real signals).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from review_sessions import recording, write_session

from daq.errors import MidfootError
from daq.reader import read_recording

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.gui

# A window whose slot is busy in Python when SIGTERM arrives, as a pyqtgraph paint() or
# the live window's timer usually is: Python runs the handler inside that slot. It prints
# where closeEvent ran, inside the slot or from the loop.
BUSY_SLOT = """
import os, signal, sys, threading, time
sys.path.insert(0, sys.argv[1])
from pyqtgraph.Qt import QtCore, QtWidgets
from gui.stop_signals import qt_quit_on_signals

app = QtWidgets.QApplication([])
inside = [False]
closed = []

class Window(QtWidgets.QWidget):
    def closeEvent(self, event):
        closed.append("inside the slot" if inside[0] else "from the loop")
        super().closeEvent(event)

def busy():
    inside[0] = True
    os.kill(os.getpid(), signal.SIGTERM)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 0.3:
        pass
    inside[0] = False

window = Window()
window.show()
QtCore.QTimer.singleShot(100, busy)
QtCore.QTimer.singleShot(10_000, app.quit)  # a safety net: the test fails, never hangs
requested = threading.Event()
t0 = time.monotonic()
with qt_quit_on_signals(app, requested):
    app.exec()
print(closed, requested.is_set(), round(time.monotonic() - t0, 2))
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}


def test_a_signal_in_a_busy_slot_quits_from_the_loop() -> None:
    out = subprocess.run(
        [sys.executable, "-c", BUSY_SLOT, str(ROOT)],
        capture_output=True, text=True, timeout=60, env=_env(),
    )
    assert out.returncode == 0, out.stderr
    closed, requested, took_s = out.stdout.rsplit(" ", 2)
    assert closed == "['from the loop']"
    assert requested == "True"
    assert float(took_s) < 5.0  # quit at the signal, not at the 10 s safety net


def _samples(path: Path) -> int:
    try:
        return len(read_recording(path).t_s)
    except MidfootError:
        return 0


def _wait_for_samples(path: Path, proc: subprocess.Popen, n: int = 80) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        if _samples(path) >= n:
            return
        time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"{path} never reached {n} samples: {proc.communicate()}")


def _stopped(
    argv: list[str], sig: signal.Signals, ready: Callable[[subprocess.Popen], None]
) -> str:
    """Run ``midfoot ARGV`` in a window, send ``sig`` once ``ready(proc)`` returns; its stdout.

    Asserts the clean exit every face promises: exit 0, no traceback.
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "gui.cli", *argv],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
    )
    try:
        ready(proc)
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "KeyboardInterrupt" not in stderr
    return stdout


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_drill_window_stopped_by_a_signal_keeps_its_scores_and_file(
    tmp_path: Path, sig: signal.Signals
) -> None:
    path = tmp_path / "drill.h5"
    stdout = _stopped(
        ["drill", "lateral", "--targets", "6", "--rate", "80", "--seed", "3",
         "--record", str(path)],
        sig,
        lambda proc: _wait_for_samples(path, proc),
    )
    # The scores so far, as closing the window prints them.
    assert any(line.startswith("lateral: ") for line in stdout.splitlines()), stdout
    assert f"recorded the drill to {path}" in stdout
    assert _samples(path) >= 80


def test_a_review_window_closes_on_ctrl_c(tmp_path: Path) -> None:
    path = write_session(recording("hinge-bilateral", seed=5, n_reps=2), tmp_path / "s.h5")

    def opened(proc: subprocess.Popen) -> None:
        time.sleep(4.0)  # opened and analysing, or drawn: either way it must stop
        assert proc.poll() is None, proc.communicate()

    _stopped(["review", str(path)], signal.SIGINT, opened)
