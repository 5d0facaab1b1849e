"""Opening plates: real ptys, and the one-sentence errors for ports that cannot be used."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from daq.acquisition import Acquisition
from daq.decoder import FrameDecoder
from daq.errors import MidfootError
from daq.frames import encode_info, encode_samples
from daq.source import UNWATCHED_COALESCE_S, PlateConnection, PlateDisconnected

sys.path.insert(0, str(Path(__file__).parent))
from pty_feeder import PtyPlate  # noqa: E402


def test_reads_whole_chunks_from_a_real_pty(tmp_path: Path):
    plate = PtyPlate(tmp_path / "plate")
    conn = PlateConnection(str(plate.link))
    conn.open()
    counts = np.arange(400).reshape(100, 4)
    plate.write(encode_samples(np.arange(100), np.arange(100), np.zeros(100), counts))
    time.sleep(0.1)
    dec = FrameDecoder()
    chunk = conn.read_chunk()
    assert len(chunk) == 100 * 29  # one call returns everything that had arrived
    assert np.array_equal(dec.feed(chunk).samples.counts, counts)
    conn.write_command("info")
    time.sleep(0.05)
    assert plate.read_available() == b"info\n"
    plate.unplug()
    with pytest.raises(PlateDisconnected, match="stopped answering"):
        conn.read_chunk()
    assert not conn.is_open


def _frames_per_read(tmp_path: Path, coalesce_s: float) -> float:
    """Mean frames per read_chunk while a thread trickles one frame every millisecond."""
    import threading

    plate = PtyPlate(tmp_path / f"plate-{coalesce_s}")
    conn = PlateConnection(str(plate.link), coalesce_s=coalesce_s)
    conn.open()
    frames = encode_samples(np.arange(300), np.arange(300), np.zeros(300), np.ones((300, 4)))
    done = threading.Event()

    def trickle() -> None:
        for k in range(300):
            plate.write(frames[k * 29 : (k + 1) * 29])
            time.sleep(0.001)
        done.set()

    writer = threading.Thread(target=trickle)
    writer.start()
    reads, received = 0, b""
    while not (done.is_set() and len(received) == len(frames)):
        chunk = conn.read_chunk()
        if chunk:
            reads += 1
            received += chunk
    writer.join()
    conn.close()
    assert received == frames  # nothing lost or reordered by waiting
    return 300 / reads


def test_a_trickle_of_frames_is_read_a_few_milliseconds_at_a_time(tmp_path: Path):
    # One wake-up per frame at 1 kHz was most of the acquisition's CPU; waiting 3 ms after a
    # small read gathers the frames behind it. (Load only makes reads bigger, so this holds on
    # a busy machine too.)
    assert _frames_per_read(tmp_path, coalesce_s=0.003) >= 2.0


def test_a_stream_only_recorded_is_read_in_bigger_bites(tmp_path: Path):
    # `midfoot record` watches nothing live: 20 ms of frames a read, every byte in order.
    # (A sleep oversleeps, never undersleeps, so a loaded machine only makes reads bigger.)
    assert _frames_per_read(tmp_path, coalesce_s=UNWATCHED_COALESCE_S) >= 8.0


def test_missing_port(tmp_path: Path):
    with pytest.raises(MidfootError, match="there is no serial port .*midfoot ports"):
        PlateConnection(str(tmp_path / "ttyNOPE")).open()


def test_busy_port(tmp_path: Path):
    plate = PtyPlate(tmp_path / "plate")
    first = PlateConnection(str(plate.link))
    first.open()
    with pytest.raises(MidfootError, match="is busy: another program"):
        PlateConnection(str(plate.link)).open()
    first.close()
    PlateConnection(str(plate.link)).open()  # free again once the other program lets go


def test_port_not_permitted(tmp_path: Path):
    plate = PtyPlate(tmp_path / "plate")
    os.chmod(os.path.realpath(plate.link), 0o600)
    code = (
        "import os, sys\n"
        "from daq.source import PlateConnection\n"
        "from daq.errors import MidfootError\n"
        "import serial.urlhandler.protocol_loop, termios, fcntl\n"
        "if os.geteuid() == 0:\n"
        "    os.setgid(65534); os.setuid(65534)\n"  # root ignores permissions: become nobody
        "try:\n"
        "    PlateConnection(sys.argv[1]).open()\n"
        "except MidfootError as e:\n"
        "    print(e)\n"
    )
    os.chmod(tmp_path, 0o755)
    out = subprocess.run(
        [sys.executable, "-c", code, str(plate.link)],
        capture_output=True,
        text=True,
        cwd=str(Path(__file__).parents[1]),
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
    )
    assert "not permitted to open" in out.stdout, out.stdout + out.stderr
    assert "dialout" in out.stdout


def test_bad_url_scheme():
    with pytest.raises(MidfootError, match="could not open"):
        PlateConnection("nosuchscheme://x").open()


def test_replay_of_a_file_that_is_not_a_recording_says_so(tmp_path: Path):
    not_h5 = tmp_path / "notes.h5"
    not_h5.write_text("not a recording\n")
    with pytest.raises(MidfootError) as err:
        PlateConnection(f"replay://{not_h5}").open()
    message = str(err.value)
    assert "is not an HDF5 file midfoot can open" in message
    assert "cable" not in message  # a file has no cable to check
    assert "\n" not in message


def test_acquisition_learns_plate_id_and_measures_rate(tmp_path: Path):
    plate = PtyPlate(tmp_path / "plate")
    acq = Acquisition(str(plate.link))
    acq.start()
    try:
        deadline = time.monotonic() + 5
        while plate.read_available() != b"info\n" and time.monotonic() < deadline:
            time.sleep(0.02)  # it asks the plate who it is as soon as the port opens
        plate.write(encode_info({"proto": 1, "channels": 4, "rate_hz": 80, "plate_id": "abc"}))
        for k in range(10):
            seq = np.arange(k * 16, (k + 1) * 16)
            plate.write(encode_samples(seq, seq * 12_500, np.zeros(16), np.zeros((16, 4))))
            time.sleep(0.2)
        ring = acq.wait_for_ring()
        assert len(ring) == 160
        assert acq.status.info["plate_id"] == "abc"
        assert acq.calibration is not None
        assert acq.calibration.plate_id == "abc"
        assert acq.status.rate_hz == pytest.approx(80.0, rel=1e-6)  # from device time
        assert "no calibration yet" in (acq.status.calibration_warning or "")
    finally:
        acq.stop()
        plate.close()


def test_wait_for_ring_says_what_to_do_when_nothing_arrives(tmp_path: Path):
    plate = PtyPlate(tmp_path / "plate")
    acq = Acquisition(str(plate.link))
    acq.start()
    try:
        with pytest.raises(MidfootError, match="no samples from .* `midfoot info"):
            acq.wait_for_ring(timeout_s=0.5)
    finally:
        acq.stop()
        plate.close()
