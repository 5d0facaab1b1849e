"""Signals and kill -9: every recording a signal or a crash ends opens in every reader.

Real subprocesses: `midfoot record` on a real pty, `midfoot live` in the terminal and in
the window (offscreen), each recording while it gets SIGINT, SIGTERM or SIGHUP (a clean
close, exit 0, every sample), or SIGKILL at several moments (the file opens in `analyse`,
`sway` and a replay:// playback, holding an exact prefix of what was sent, all but about
the last second; docs/file-format.md states the guarantee).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from daq.acquisition import Acquisition
from daq.calibration import Calibration, save_calibration
from daq.decoder import FrameDecoder
from daq.errors import MidfootError
from daq.frames import encode_info, encode_samples
from daq.reader import read_recording
from daq.recorder import FLUSH_INTERVAL_S
from daq.session import load_session
from hardware.scenarios import make_scenario
from hardware.virtual_plate import VirtualPlate

sys.path.insert(0, str(Path(__file__).parent))
from pty_feeder import PtyPlate  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def _env(**extra: str) -> dict[str, str]:
    # Built per call: conftest gives each test its own MIDFOOT_CONFIG_DIR.
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


class PacedPlate(threading.Thread):
    """A person standing on a plate on a real pty: ``rate_hz`` frames in 10 ms bursts.

    The counts are the virtual plate's quiet stance, and the plate's true calibration is
    stored for its plate_id, so `analyse` and `sway` see a real standing person.
    """

    def __init__(self, link: Path, rate_hz: int, seconds: float = 40.0) -> None:
        super().__init__(daemon=True)
        self.plate = PtyPlate(link)
        self.rate_hz = rate_hz
        virtual = VirtualPlate(make_scenario("quiet-stance", seed=2), rate_hz=rate_hz, seed=2)
        # From 3 s on: the person has stepped on and stands still.
        self.counts = FrameDecoder().feed(virtual.render(seconds + 3)).samples.counts
        self.counts = self.counts[3 * rate_hz :]
        truth = virtual.truth
        save_calibration(
            Calibration(f"sig{rate_hz}", virtual.plate, truth.offsets_counts,
                        1 / truth.gains_counts_per_n, True)
        )
        self.info = encode_info(
            {"proto": 1, "channels": 4, "rate_hz": rate_hz, "plate_id": f"sig{rate_hz}"}
        )
        self.sent = 0
        self.host_opened = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set() and not self.host_opened.is_set():
            try:
                if b"info" in self.plate.read_available():
                    self.host_opened.set()
            except OSError:
                pass
            time.sleep(0.01)
        self.plate.write(self.info)
        t0 = time.monotonic()
        while not self.stop.is_set() and self.sent < len(self.counts):
            due = min(len(self.counts), int((time.monotonic() - t0) * self.rate_hz))
            if due > self.sent:
                k = np.arange(self.sent, due)
                try:
                    self.plate.write(encode_samples(k, k * (1_000_000 // self.rate_hz),
                                                    np.zeros(len(k)), self.counts[k]))
                except OSError:
                    return
                self.sent = due
            time.sleep(0.01)

    def close(self) -> None:
        self.stop.set()
        self.join(timeout=5)
        self.plate.close()


def _record(port: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [PYTHON, "-m", "gui.cli", "record", "--port", str(port), "--out", str(out), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
    )


def _cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "-m", "gui.cli", *argv], capture_output=True, text=True, env=_env(), timeout=120
    )


def _samples_in(path: Path) -> int:
    try:
        return len(load_session(path).seq)
    except MidfootError:
        return 0


def _wait_for(path: Path, n: int, proc: subprocess.Popen, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1]
        if _samples_in(path) >= n:
            return
        time.sleep(0.1)
    raise AssertionError(f"{path} never reached {n} samples")


def _replay_samples(path: Path) -> int:
    """Play the file through replay:// fast and count what arrives."""
    acq = Acquisition(f"replay://{path}?speed=50")
    try:
        acq.start()
        want = len(read_recording(path).t_s)
        deadline = time.monotonic() + 60
        while acq.status.samples < want and time.monotonic() < deadline and acq.running:
            time.sleep(0.05)
        return acq.status.samples
    finally:
        acq.stop()


def _assert_every_reader_opens(path: Path, want: int, sway_strict: bool = True) -> None:
    analysed = _cli("analyse", str(path))
    assert analysed.returncode == 0, analysed.stderr
    # A live recording starts with the virtual person stepping on: sway from 1.5 s then.
    swayed = _cli("sway", str(path), *(() if sway_strict else ("--start", "1.5")))
    if sway_strict or swayed.returncode != 2:
        assert swayed.returncode == 0, swayed.stderr
    else:
        # The virtual plate's HX711 timing jitter is refused as uneven spacing, in one line
        # about the data, after the file itself was read whole.
        assert "evenly spaced" in swayed.stderr, swayed.stderr
    for res in (analysed, swayed):
        assert "Traceback" not in res.stdout + res.stderr
    assert len(read_recording(path).t_s) == want
    assert _replay_samples(path) == want


@pytest.mark.parametrize(
    ("rate_hz", "after_s"), [(80, 0.3), (80, 2.0), (1000, 1.2), (1000, 3.5)]
)
def test_kill_9_of_record_leaves_a_file_every_reader_opens(tmp_path: Path, rate_hz, after_s):
    plate = PacedPlate(tmp_path / "plate", rate_hz)
    out = tmp_path / "k9.h5"
    proc = _record(tmp_path / "plate", out)
    plate.start()
    try:
        assert plate.host_opened.wait(60), "record never opened the port"
        time.sleep(after_s)
        sent_at_kill = plate.sent
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        proc.communicate()
        plate.close()
    kept = _samples_in(out)
    # All but the last second: the recorder flushes every FLUSH_INTERVAL_S while data comes
    # (plus 0.3 s for reads, scheduling and the INFO wait on this shared machine).
    assert kept >= sent_at_kill - int((FLUSH_INTERVAL_S + 0.3) * rate_hz)
    if kept:
        np.testing.assert_array_equal(load_session(out).counts, plate.counts[:kept])
        _assert_every_reader_opens(out, kept)
    else:
        # Killed within its first second: the readers say so in one line.
        for cmd in ("analyse", "sway"):
            res = _cli(cmd, str(out))
            assert res.returncode == 2
            assert len(res.stderr.strip().splitlines()) == 1
            assert "Traceback" not in res.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_signals_close_a_record_cleanly(tmp_path: Path, sig):
    plate = PacedPlate(tmp_path / "plate", 80)
    out = tmp_path / "sig.h5"
    proc = _record(tmp_path / "plate", out)
    plate.start()
    try:
        _wait_for(out, 160, proc)
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        plate.close()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    kept = len(load_session(out).seq)
    assert f"recorded {kept} samples" in stdout
    np.testing.assert_array_equal(load_session(out).counts, plate.counts[:kept])
    _assert_every_reader_opens(out, kept)


def _live(out: Path, *extra: str) -> subprocess.Popen:
    env = _env(QT_QPA_PLATFORM="offscreen")
    return subprocess.Popen(
        [PYTHON, "-m", "gui.cli", "live", "--scenario", "quiet-stance", "--rate", "80",
         "--record", str(out), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
@pytest.mark.parametrize("face", ["--terminal", "window"])
def test_signals_close_a_live_recording_cleanly(tmp_path: Path, sig, face):
    out = tmp_path / "live.h5"
    proc = _live(out, *(() if face == "window" else (face,)))
    try:
        _wait_for(out, 240, proc)
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "KeyboardInterrupt" not in stderr
    kept = len(read_recording(out).t_s)
    assert kept >= 240
    _assert_every_reader_opens(out, kept, sway_strict=False)
