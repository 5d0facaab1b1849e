"""Recording to HDF5 through a real pty: exact round trip, SWMR, kill -9, full disk, unplug."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from daq.acquisition import Acquisition
from daq.calibration import Calibration
from daq.errors import MidfootError
from daq.events import CalibrationChanged, NoteAdded, Reconnected, event_kind
from daq.frames import encode_info, encode_samples
from daq.plate import load_plate
from daq.reader import read_recording
from daq.recorder import RecorderThread, SessionRecorder, chunk_cache_bytes
from daq.samples import SampleBlock
from daq.session import load_session

sys.path.insert(0, str(Path(__file__).parent))
from pty_feeder import PtyPlate  # noqa: E402

PYTHON = sys.executable
RATE_HZ = 200


def stream_counts(n: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(-(1 << 23), 1 << 23, (n, 4))


class Feeder(threading.Thread):
    """Writes frames into a PtyPlate at RATE_HZ in 20 ms bursts, remembering what it sent."""

    def __init__(self, plate: PtyPlate, counts: np.ndarray, info: dict | None = None) -> None:
        super().__init__(daemon=True)
        self.plate, self.counts, self.info = plate, counts, info
        self.sent = 0
        self.stop = threading.Event()
        self.paused = threading.Event()

    def run(self) -> None:
        if self.info:
            self.plate.write(encode_info(self.info))
        t0 = time.monotonic()
        seq0 = 0
        while not self.stop.is_set() and self.sent < len(self.counts):
            if self.paused.is_set():
                time.sleep(0.01)
                continue
            # Answer `info` as a plate does: INFO sent before the port opened is lost.
            try:
                if self.info and b"info" in self.plate.read_available():
                    self.plate.write(encode_info(self.info))
            except OSError:
                pass  # no one has the port open yet, or it is unplugged
            due = min(len(self.counts), int((time.monotonic() - t0) * RATE_HZ))
            if due > self.sent:
                k = np.arange(self.sent, due)
                try:
                    self.plate.write(
                        encode_samples(
                            k - seq0, (k - seq0) * 5000, np.zeros(len(k)), self.counts[k]
                        )
                    )
                except OSError:
                    pass  # unplugged: the plate keeps "sampling" into the void
                self.sent = due
            time.sleep(0.02)


def test_recorder_round_trip_is_exact(tmp_path: Path):
    cal = Calibration.nominal("p1")
    counts = stream_counts(10_000)
    seq = np.arange(65000, 75000)  # crosses the u16 wrap
    t_us = (1 << 32) - 30_000_000 + np.arange(10_000) * 12_500  # crosses the u32 wrap
    path = tmp_path / "s.h5"
    with SessionRecorder(path, cal, 4, {"stance": "kickstand-left", "athlete": "Ana"}) as rec:
        rec.add_text("info", "proto=1;channels=4;plate_id=p1")
        for a in range(0, 10_000, 777):
            b = min(a + 777, 10_000)
            blk = SampleBlock(
                seq[a:b], t_us[a:b], np.full(b - a, 3, np.uint8), counts[a:b].astype(np.int32)
            )
            rec.write(blk, 1000.0 + a)
        rec.add_event(NoteAdded(text="first"))
    s = load_session(path)
    series = read_recording(path)
    assert np.array_equal(s.counts, counts)
    assert np.array_equal(s.seq, seq & 0xFFFF)  # as on the wire
    assert np.allclose(np.diff(series.t_s), 0.0125)
    assert np.all(s.stale == 3)
    assert s.attrs["stance"] == "kickstand-left"
    assert s.attrs["athlete"] == "Ana"
    assert s.infos == [{"proto": "1", "channels": "4", "plate_id": "p1"}]
    assert s.events == [NoteAdded(text="first", sample_index=10_000)]
    assert series.meta.calibration.plate_id == "p1"
    with h5py.File(path) as f:
        assert f["samples/counts"].compression == "gzip"
        assert f["samples/seq"].dtype == np.uint16


def _mixed_ops(rec: SessionRecorder | RecorderThread, seed: int) -> None:
    """Blocks of every size with events and LOG lines between them, as a session writes."""
    rng = np.random.default_rng(seed)
    counts = stream_counts(6_000, seed)
    a = 0
    while a < len(counts):
        b = min(a + int(rng.integers(1, 400)), len(counts))
        rec.write(
            SampleBlock(np.arange(a, b), np.arange(a, b) * 1000, np.zeros(b - a, np.uint8),
                        counts[a:b].astype(np.int32)),
            1000.0 + a / 1000,
        )
        if rng.random() < 0.2:
            rec.add_event(NoteAdded(text=f"after {b}"), 1000.0 + b / 1000)
        if rng.random() < 0.1:
            rec.add_text("log", f"line {b}\x00!", 1000.0 + b / 1000)
        if rng.random() < 0.05:
            rec.maybe_flush(force=True)
        a = b


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_recorder_thread_writes_what_the_recorder_writes(tmp_path: Path, seed: int):
    cal = Calibration.nominal("p1")
    with SessionRecorder(tmp_path / "direct.h5", cal, 4) as direct:
        _mixed_ops(direct, seed)
    threaded = RecorderThread(tmp_path / "thread.h5", cal, 4)
    _mixed_ops(threaded, seed)
    threaded.close()
    assert threaded.failed is None
    assert threaded.samples_written == direct.samples_written == 6_000
    a, b = load_session(tmp_path / "direct.h5"), load_session(tmp_path / "thread.h5")
    assert np.array_equal(a.counts, b.counts)
    assert np.array_equal(a.seq, b.seq)
    assert a.events == b.events  # the same events at the same sample indices
    assert a.logs == b.logs
    mismatched = RecorderThread(tmp_path / "c.h5", cal, 4)
    with pytest.raises(ValueError, match="8-channel block"):
        mismatched.write(
            SampleBlock(np.arange(2), np.arange(2), np.zeros(2, np.uint8),
                        np.zeros((2, 8), np.int32)), 1.0)
    mismatched.close()


def test_the_recorder_thread_never_makes_its_caller_wait_for_hdf5(tmp_path: Path):
    # h5py's global lock, held here, stands for an HDF5 call stuck on a busy disk: the
    # direct recorder's flush would wait for it; the thread's caller returns at once.
    from h5py._objects import phil

    rec = RecorderThread(tmp_path / "s.h5", Calibration.nominal("p1"), 4)
    done = threading.Event()

    def caller() -> None:
        for k in range(50):
            seq = np.arange(k * 10, k * 10 + 10)
            rec.write(SampleBlock(seq, seq * 1000, np.zeros(10, np.uint8),
                                  np.zeros((10, 4), np.int32)), 1.0)
            rec.add_event(NoteAdded(text=str(k)))
            rec.maybe_flush(force=True)
        done.set()

    with phil:
        worker = threading.Thread(target=caller)
        worker.start()
        assert done.wait(10), "a write waited for HDF5"
    worker.join()
    rec.close()
    s = load_session(tmp_path / "s.h5")
    assert len(s.seq) == 500
    assert [e.text for e in s.events] == [str(k) for k in range(50)]


def test_the_recorder_thread_says_why_it_stopped_and_keeps_what_it_flushed(tmp_path: Path):
    rec = RecorderThread(tmp_path / "s.h5", Calibration.nominal("p1"), 4)
    seq = np.arange(100)
    rec.write(SampleBlock(seq, seq * 1000, np.zeros(100, np.uint8),
                          np.ones((100, 4), np.int32)), 1.0)
    rec.maybe_flush(force=True)
    # Host times that do not fit the block: data the file cannot take, in the writer's thread.
    bad = np.arange(100, 110)
    rec.add_event(NoteAdded(text="before"))
    rec.write(SampleBlock(bad, bad * 1000, np.zeros(10, np.uint8), np.ones((10, 4), np.int32)),
              np.zeros(3))
    rec.maybe_flush(force=True)
    deadline = time.monotonic() + 10
    while rec.failed is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert rec.failed is not None
    assert "s.h5" in rec.failed
    assert "could not store" in rec.failed
    rec.write(SampleBlock(bad, bad * 1000, np.zeros(10, np.uint8), np.ones((10, 4), np.int32)),
              1.0)
    rec.add_event(NoteAdded(text="after"))
    rec.close()
    s = load_session(tmp_path / "s.h5")
    assert np.array_equal(s.seq, seq)  # everything before the bad block, nothing after
    assert [e.text for e in s.events] == ["before"]


def test_recorder_refuses_to_overwrite(tmp_path: Path):
    path = tmp_path / "s.h5"
    path.write_bytes(b"precious")
    with pytest.raises(MidfootError, match="already exists"):
        SessionRecorder(path, Calibration.nominal("p"), 4)
    assert path.read_bytes() == b"precious"


@pytest.mark.parametrize(
    ("content", "match"),
    [(b"", "not an HDF5 file"), (b"\x89HDF\r\n\x1a\n garbage", "not an HDF5 file")],
)
def test_wrong_file_gives_one_sentence(tmp_path: Path, content: bytes, match: str):
    path = tmp_path / "x.h5"
    path.write_bytes(content)
    with pytest.raises(MidfootError, match=match):
        load_session(path)


def test_hdf5_that_is_not_a_session(tmp_path: Path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f["x"] = [1, 2, 3]
    with pytest.raises(MidfootError, match="not a midfoot session"):
        load_session(path)


def test_file_is_readable_while_being_written(tmp_path: Path):
    path = tmp_path / "live.h5"
    rec = SessionRecorder(path, Calibration.nominal("p"), 4)
    counts = stream_counts(3000)
    seen = []
    for k in range(3):
        blk = SampleBlock(
            np.arange(k * 1000, (k + 1) * 1000),
            np.arange(1000) * 1000,
            np.zeros(1000, np.uint8),
            counts[k * 1000 : (k + 1) * 1000].astype(np.int32),
        )
        rec.write(blk, time.time())
        rec.maybe_flush(force=True)
        out = subprocess.run(
            [
                PYTHON,
                "-c",
                "import sys; from daq.session import load_session;"
                "print(len(load_session(sys.argv[1]).seq))",
                str(path),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert out.returncode == 0, out.stderr
        seen.append(int(out.stdout))
    rec.close()
    assert seen == [1000, 2000, 3000]


def test_recorder_caches_at_most_two_chunks_per_dataset(tmp_path: Path):
    # HDF5's default chunk cache (8 MB per dataset) kept finished chunks in memory for long:
    # the RSS of `record` grew after the ring filled (issue 9). Appended chunks are never
    # read again, so each dataset caches two chunks of the widest one, never less than one
    # of its own (a write into an uncached chunk would re-read it from disk).
    rec = SessionRecorder(tmp_path / "cache.h5", Calibration.nominal("p"), 8)
    try:
        datasets = []
        rec._file.visititems(
            lambda _, obj: datasets.append(obj) if isinstance(obj, h5py.Dataset) else None
        )
        assert len(datasets) == 11
        for ds in datasets:
            _, cache_bytes, w0 = ds.id.get_access_plist().get_chunk_cache()
            chunk_bytes = int(np.prod(ds.chunks)) * ds.id.get_type().get_size()
            assert chunk_bytes <= cache_bytes <= chunk_cache_bytes(8) == 2 * 4096 * 4 * 8
            assert w0 == 1.0
    finally:
        rec.close()


def record_subprocess(port: Path, out: Path, *extra: str, preexec=None) -> subprocess.Popen:
    return subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gui.cli",
            "record",
            "--port",
            str(port),
            "--out",
            str(out),
            "--quiet",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=preexec,
    )


def wait_for_samples(path: Path, n: int, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if len(load_session(path).seq) >= n:
                return
        except MidfootError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{path} never reached {n} samples")


def test_kill_9_loses_at_most_the_last_second(tmp_path: Path):
    plate = PtyPlate(tmp_path / "plate")
    counts = stream_counts(RATE_HZ * 60)
    feeder = Feeder(
        plate, counts, {"proto": 1, "channels": 4, "plate_id": "k9", "rate_hz": RATE_HZ}
    )
    feeder.start()
    out = tmp_path / "k9.h5"
    proc = record_subprocess(plate.link, out)
    try:
        wait_for_samples(out, RATE_HZ * 2)
        time.sleep(1.5)
        sent_at_kill = feeder.sent
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        feeder.stop.set()
        plate.close()
    s = load_session(out)
    # What the plate sent before record opened the port is not the recording's (opening
    # clears the port's input); the loss that counts is at the end: at most ~1 s (+ slack).
    assert int(s.seq[-1]) + 1 >= sent_at_kill - int(1.3 * RATE_HZ)
    assert np.all(np.diff(s.seq.astype(int)) == 1)
    assert np.array_equal(s.counts, counts[s.seq[0] : s.seq[0] + len(s.seq)])


def test_sigterm_stops_cleanly_and_keeps_everything(tmp_path: Path):
    plate = PtyPlate(tmp_path / "plate")
    counts = stream_counts(RATE_HZ * 60)
    feeder = Feeder(plate, counts, {"proto": 1, "channels": 4, "plate_id": "term"})
    feeder.start()
    out = tmp_path / "term.h5"
    proc = record_subprocess(plate.link, out, "--stance", "kickstand-right", "--athlete", "Bo")
    try:
        wait_for_samples(out, RATE_HZ)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=15)
    finally:
        feeder.stop.set()
        plate.close()
    assert proc.returncode == 0, stderr
    s = load_session(out)
    assert f"recorded {len(s.seq)} samples" in stdout
    assert s.attrs["stance"] == "kickstand-right"
    assert s.attrs["athlete"] == "Bo"
    assert np.all(np.diff(s.seq) == 1)
    assert np.array_equal(s.counts, counts[s.seq[0] : s.seq[0] + len(s.seq)])


def test_unplug_marks_the_gap_reconnects_and_keeps_recording(tmp_path: Path):
    plate = PtyPlate(tmp_path / "plate")
    counts = stream_counts(RATE_HZ * 60)
    info = {"proto": 1, "channels": 4, "plate_id": "unplug"}
    feeder = Feeder(plate, counts, info)
    feeder.start()
    acq = Acquisition(str(plate.link))
    out = tmp_path / "unplug.h5"
    try:
        acq.start()
        acq.wait_for_ring()
        acq.start_recording(str(out), {"stance": "bilateral"})
        time.sleep(1.0)
        feeder.paused.set()
        time.sleep(0.1)
        before = acq.status.recording_samples
        plate.unplug()
        deadline = time.monotonic() + 5
        while acq.status.state != "disconnected" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert acq.status.state == "disconnected"
        assert "stopped answering" in (acq.status.message or "")
        time.sleep(0.5)
        plate.plug()
        deadline = time.monotonic() + 5
        while acq.status.reconnects < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert acq.status.reconnects == 1
        assert plate.read_available().startswith(b"info\n")  # it asked who is there
        plate.write(encode_info(info))
        # The replugged plate rebooted: its seq starts again at 0.
        again = stream_counts(RATE_HZ, seed=7)
        plate.write(
            encode_samples(np.arange(RATE_HZ), np.arange(RATE_HZ) * 5000, np.zeros(RATE_HZ), again)
        )
        deadline = time.monotonic() + 5
        while acq.status.recording_samples < before + RATE_HZ and time.monotonic() < deadline:
            time.sleep(0.05)
        assert acq.status.state == "streaming"
        assert acq.status.reconnects == 1
    finally:
        feeder.stop.set()
        acq.stop()
        plate.close()
    s = load_session(out)
    kinds = [event_kind(e) for e in s.events]
    assert kinds.count("disconnect") == 1
    assert kinds.count("reconnect") == 1
    gap = next(e for e in s.events if isinstance(e, Reconnected)).sample_index
    assert gap == before
    assert np.array_equal(s.counts[gap:], again)
    t_s = read_recording(out).t_s
    assert np.all(np.diff(t_s) > 0)  # one continuous time base across the gap
    assert s.seq[gap] == 0
    assert np.all(np.diff(s.seq[gap:]) == 1)


def test_calibration_changes_are_recorded(tmp_path: Path):
    plate = PtyPlate(tmp_path / "plate")
    feeder = Feeder(
        plate, stream_counts(RATE_HZ * 30), {"proto": 1, "channels": 4, "plate_id": "cal"}
    )
    feeder.start()
    acq = Acquisition(str(plate.link))
    try:
        acq.start()
        acq.wait_for_ring()
        acq.start_recording(str(tmp_path / "c.h5"))
        time.sleep(0.3)
        acq.set_calibration(acq.calibration.with_tare(np.array([1.0, 2.0, 3.0, 4.0])))
        time.sleep(0.3)
    finally:
        feeder.stop.set()
        acq.stop()
        plate.close()
    s = load_session(tmp_path / "c.h5")
    cal_events = [e for e in s.events if isinstance(e, CalibrationChanged)]
    assert cal_events[0].calibration["offset_counts"] == [1.0, 2.0, 3.0, 4.0]
    assert json.loads(s.attrs["calibration_json"])["plate_id"] == "cal"
    assert load_plate().name == read_recording(tmp_path / "c.h5").meta.plate.name


def test_recording_waits_for_the_plates_info_and_keeps_every_sample(tmp_path: Path):
    """Samples that come before the plate's INFO (it booted before the port opened and
    answers `info` a moment later) are held, not lost, and the file carries the plate's
    own stored calibration, not the nominal one of an unknown plate."""
    from daq.calibration import save_calibration

    stored = Calibration.nominal("late-plate")
    stored = Calibration(
        plate_id="late-plate",
        plate=stored.plate,
        offset_counts=np.array([10.0, 20.0, 30.0, 40.0]),
        gain_n_per_count=stored.gain_n_per_count * 1.05,
        calibrated=True,
    )
    save_calibration(stored)
    plate = PtyPlate(tmp_path / "plate")
    counts = stream_counts(RATE_HZ * 2)
    acq = Acquisition(str(plate.link))
    out = tmp_path / "late.h5"
    acq.start_recording(str(out))  # armed before the port opens, as `midfoot record` does
    try:
        acq.start()
        k = np.arange(RATE_HZ)  # one second of samples, no INFO yet
        plate.write(encode_samples(k, k * 5000, np.zeros(RATE_HZ), counts[:RATE_HZ]))
        time.sleep(0.4)
        assert acq.status.recording_samples == 0  # held while the plate is unknown
        plate.write(encode_info({"proto": 1, "channels": 4, "plate_id": "late-plate"}))
        k2 = np.arange(RATE_HZ, 2 * RATE_HZ)
        plate.write(encode_samples(k2, k2 * 5000, np.zeros(RATE_HZ), counts[RATE_HZ:]))
        deadline = time.monotonic() + 5
        while acq.status.recording_samples < 2 * RATE_HZ and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        acq.stop()
        plate.close()
    s = load_session(out)
    assert np.array_equal(s.counts, counts)  # every sample, in order
    cal = read_recording(out).meta.calibration
    assert cal.plate_id == "late-plate"
    assert cal.offset_counts.tolist() == [10.0, 20.0, 30.0, 40.0]
    assert s.infos[0]["plate_id"] == "late-plate"


def test_recording_of_a_plate_that_never_says_who_it_is_opens_after_a_second(
    tmp_path: Path,
):
    plate = PtyPlate(tmp_path / "plate")
    counts = stream_counts(RATE_HZ)
    acq = Acquisition(str(plate.link))
    out = tmp_path / "anon.h5"
    acq.start_recording(str(out))
    try:
        acq.start()
        k = np.arange(RATE_HZ // 2)
        plate.write(encode_samples(k, k * 5000, np.zeros(k.size), counts[: k.size]))
        time.sleep(1.3)  # past the wait for INFO
        k2 = np.arange(RATE_HZ // 2, RATE_HZ)
        plate.write(encode_samples(k2, k2 * 5000, np.zeros(k2.size), counts[k2]))
        deadline = time.monotonic() + 5
        while acq.status.recording_samples < RATE_HZ and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        acq.stop()
        plate.close()
    s = load_session(out)
    assert np.array_equal(s.counts, counts)
    assert read_recording(out).meta.calibration.plate_id == "unknown"
