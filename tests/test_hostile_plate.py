"""Hostile plates through real ptys: whatever a plate sends, no thread death, no intact frame lost.

A feeder thread plays a script of bytes into a real pseudo-terminal (tests/pty_feeder.py)
while :class:`daq.acquisition.Acquisition` reads it through pyserial and records it, as
`midfoot record` does. Each script mixes valid 4-channel SAMPLE frames with what a broken
or malicious plate sends (NUL and binary junk in LOG, frames of other channel counts,
LEN-255 frames of every type, a 1 MB/s LOG flood, hostile INFO, text lines with huge
integers). The recorded file must hold exactly the valid frames that were sent, and every
frame that could not be stored must be counted in its events.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daq.acquisition import LOG_LINES_PER_S, Acquisition
from daq.events import ChannelsChanged, FramesRejected
from daq.frames import TYPE_INFO, TYPE_LOG, TYPE_SAMPLE, encode_frame, encode_info, encode_samples
from daq.reader import read_recording
from daq.session import load_session

sys.path.insert(0, str(Path(__file__).parent))
from pty_feeder import PtyPlate  # noqa: E402

GOOD_INFO = {"proto": 1, "fw": "test", "channels": 4, "rate_hz": 1000, "plate_id": "hostile"}
SETTLE_S = 30.0  # generous: the machine is shared; the wait ends as soon as all is in


class Script:
    """Bytes a plate sends, in order, and the 4-channel samples among them."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.chunks: list[bytes] = []
        self.counts: list[np.ndarray] = []
        self.seq = 0
        self.other_frames = 0  # valid SAMPLE frames of another channel count

    def samples(self, n: int, channels: int = 4) -> None:
        seq = np.arange(self.seq, self.seq + n)
        counts = self.rng.integers(-(1 << 23), 1 << 23, (n, channels))
        self.chunks.append(encode_samples(seq, seq * 1000, np.zeros(n), counts))
        if channels == 4:
            self.counts.append(counts)
            self.seq += n
        else:
            self.other_frames += n

    def raw(self, data: bytes) -> None:
        self.chunks.append(data)

    @property
    def sent_counts(self) -> np.ndarray:
        return np.concatenate(self.counts) if self.counts else np.zeros((0, 4), np.int64)


def _wait_for_host(plate: PtyPlate, timeout_s: float = 10.0) -> None:
    """The host opened the port when it asks who the plate is."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if b"info" in plate.read_available():
                return
        except OSError:
            pass
        time.sleep(0.01)
    raise AssertionError("the host never opened the pty")


def _feed(plate: PtyPlate, script: Script, info: bytes, pace_s: float) -> threading.Thread:
    def run() -> None:
        _wait_for_host(plate)
        plate.write(info)
        for chunk in script.chunks:
            plate.write(chunk)
            if pace_s:
                time.sleep(pace_s)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def play(tmp_path: Path, script: Script, info: bytes | None = None, pace_s: float = 0.002):
    """Play ``script`` into an Acquisition that records; (acquisition, series, session)."""
    plate = PtyPlate(tmp_path / "plate")
    out = tmp_path / "hostile.h5"
    acq = Acquisition(str(tmp_path / "plate"), ring_seconds=5.0)
    try:
        acq.start_recording(str(out))
        acq.start()
        feeder = _feed(plate, script, encode_info(GOOD_INFO) if info is None else info, pace_s)
        feeder.join(timeout=120)
        assert not feeder.is_alive(), "the plate could not send its bytes: the host stopped reading"
        want = len(script.sent_counts)
        deadline = time.monotonic() + SETTLE_S
        while acq.status.recording_samples < want and time.monotonic() < deadline:
            assert acq.running, f"the acquisition thread died: {acq.status.message}"
            time.sleep(0.05)
        time.sleep(0.2)  # anything after the last sample (a trailing junk frame) is read too
        assert acq.running, f"the acquisition thread died: {acq.status.message}"
        assert acq.status.failure is None
    finally:
        acq.stop()
        plate.close()
    return acq, read_recording(out), load_session(out)


def assert_every_intact_frame_kept(script: Script, series) -> None:
    sent = script.sent_counts
    assert series.counts.shape == sent.shape, "intact frames were lost or invented"
    np.testing.assert_array_equal(series.counts, sent)


def rejected(series, reason_part: str) -> int:
    return sum(
        e.count for e in series.events if isinstance(e, FramesRejected) and reason_part in e.reason
    )


def test_nul_and_binary_junk_in_log_are_stored_and_the_stream_goes_on(tmp_path: Path):
    script = Script(1)
    junk = bytes(script.rng.integers(0, 256, 255, dtype=np.uint8))
    for i in range(40):
        script.samples(25)
        script.raw(encode_frame(TYPE_LOG, b"cell 3\x00 timeout" if i % 2 else junk))
    acq, series, raw = play(tmp_path, script)
    assert_every_intact_frame_kept(script, series)
    texts = [text for _, text in raw.logs]
    assert len(texts) == 40
    assert texts.count("cell 3\\x00 timeout") == 20
    assert all("\x00" not in t for t in texts)


def test_frames_of_other_channel_counts_are_events_and_the_stream_goes_on(tmp_path: Path):
    script = Script(2)
    for i in range(60):
        script.samples(10)
        script.samples(1, channels=8 if i % 3 else 2)  # mixed and alternating counts
    acq, series, _ = play(tmp_path, script)
    assert_every_intact_frame_kept(script, series)
    changes = [e for e in series.events if isinstance(e, ChannelsChanged)]
    assert sorted(e.n_channels for e in changes) == [2, 8]
    assert all(e.recording_channels == 4 for e in changes)
    assert rejected(series, "channel") == script.other_frames
    assert acq.status.rejected_frames == script.other_frames
    assert any("8-channel" in n for n in acq.status.notices)


def test_len_255_junk_of_every_type_costs_nothing_intact(tmp_path: Path):
    script = Script(3)
    rng = script.rng
    for i in range(50):
        script.samples(20)
        payload = bytes(rng.integers(0, 256, 255, dtype=np.uint8))
        kind = i % 5
        if kind == 0:  # a SAMPLE header with an impossible LEN
            script.raw(bytes((0xA5, 0x5A, TYPE_SAMPLE, 255)) + payload + b"\x00\x00")
        elif kind == 1:  # CRC-valid LOG of 255 binary bytes
            script.raw(encode_frame(TYPE_LOG, payload))
        elif kind == 2:  # CRC-valid frames of a type the protocol does not have
            script.raw(encode_frame(0x7F, payload))
        elif kind == 3:  # CRC-valid INFO of binary junk
            script.raw(encode_frame(TYPE_INFO, payload))
        else:  # a LOG header whose 255 bytes never arrive whole: cut by the next frame
            script.raw(encode_frame(TYPE_LOG, payload)[:100])
    acq, series, raw = play(tmp_path, script)
    assert_every_intact_frame_kept(script, series)
    assert len(raw.logs) == 10  # the ten whole LOG frames, the cut ones cost only themselves


def test_a_1_mb_per_s_log_flood_neither_kills_nor_loses_samples(tmp_path: Path):
    script = Script(4)
    line = encode_frame(TYPE_LOG, b"E" * 250)  # 256 bytes a frame
    per_10ms = [line] * 40  # ~10 KB every 10 ms: 1 MB/s beside 1 kHz of samples
    n_bursts = 300  # 3 s
    for _ in range(n_bursts):
        script.samples(10)
        script.raw(b"".join(per_10ms))
    t0 = time.monotonic()
    acq, series, raw = play(tmp_path, script, pace_s=0.01)
    elapsed = time.monotonic() - t0
    assert_every_intact_frame_kept(script, series)
    sent_logs = 40 * n_bursts
    stored = len(raw.logs)
    # Every LOG frame is accounted for: stored, or counted as a flood in the events.
    assert stored + rejected(series, "LOG flood") == sent_logs
    assert stored <= LOG_LINES_PER_S * (elapsed + 2)


@pytest.mark.parametrize(
    ("info", "word"),
    [
        ({**GOOD_INFO, "rate_hz": "1e12"}, "rate_hz"),
        ({**GOOD_INFO, "rate_hz": "nan"}, "rate_hz"),
        ({**GOOD_INFO, "rate_hz": "inf"}, "rate_hz"),
        ({**GOOD_INFO, "rate_hz": "abc"}, "rate_hz"),
        ({**GOOD_INFO, "proto": 2}, "proto"),
        ({**GOOD_INFO, "channels": 0}, "channels"),
        ({**GOOD_INFO, "channels": 99}, "channels"),
    ],
)
def test_hostile_info_gives_one_sentence_and_the_frames_decide(tmp_path: Path, info, word):
    script = Script(5)
    for _ in range(20):
        script.samples(20)
    acq, series, raw = play(tmp_path, script, info=encode_info(info))
    assert_every_intact_frame_kept(script, series)
    notices = [n for n in acq.status.notices if word in n]
    assert len(notices) == 1
    assert "\n" not in notices[0]
    assert raw.infos[0]["plate_id"] == "hostile"  # the INFO is stored as sent


def test_text_mode_lines_with_huge_integers_are_rejected_lines(tmp_path: Path):
    script = Script(6)
    good = [f"{i},{i + 1},{-i},{7 * i}\n".encode() for i in range(300)]
    lines = []
    for i, g in enumerate(good):
        lines.append(g)
        if i % 10 == 5:
            lines.append(b"123456789012345678901234567890,1,2,3\n")
        if i % 50 == 7:
            lines.append(b"9" * 5000 + b",1,2,3\n")
    for k in range(0, len(lines), 20):
        script.raw(b"".join(lines[k : k + 20]))
    script.counts = [np.array([[i, i + 1, -i, 7 * i] for i in range(300)])]
    acq, series, _ = play(tmp_path, script, info=b"")
    assert acq.status.text_mode
    assert_every_intact_frame_kept(script, series)


def test_a_fault_that_will_not_pass_stops_with_a_sentence_and_a_readable_file(tmp_path: Path):
    """A consumer that fails on every block: counted chunk by chunk, then a clean stop."""
    script = Script(7)
    for _ in range(200):
        script.samples(5)
    plate = PtyPlate(tmp_path / "plate")
    out = tmp_path / "fault.h5"
    acq = Acquisition(str(tmp_path / "plate"), ring_seconds=5.0)

    def broken(block) -> None:
        raise ZeroDivisionError("a broken consumer")

    acq.add_consumer(broken)
    try:
        acq.start_recording(str(out))
        acq.start()
        feeder = _feed(plate, script, encode_info(GOOD_INFO), 0.005)
        deadline = time.monotonic() + SETTLE_S
        while acq.status.failure is None and time.monotonic() < deadline:
            time.sleep(0.05)
        feeder.join(timeout=30)
    finally:
        acq.stop()
        plate.close()
    assert acq.status.state == "failed"
    assert "ZeroDivisionError" in acq.status.failure
    assert not acq.running
    series = read_recording(out)
    # The samples were stored before the consumer failed, so they are all in the file.
    assert len(series.t_s) >= 20
    np.testing.assert_array_equal(series.counts, script.sent_counts[: len(series.t_s)])


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 30),
            st.sampled_from(["log-nul", "log-bin", "other-ch", "len255", "bytes", "none"]),
            st.binary(min_size=0, max_size=255),
        ),
        min_size=5,
        max_size=40,
    )
)
def test_property_any_mix_of_hostile_frames_keeps_every_intact_one(tmp_path_factory, steps):
    tmp_path = tmp_path_factory.mktemp("mix")
    script = Script(8)
    for n, kind, data in steps:
        script.samples(n)
        if kind == "log-nul":
            script.raw(encode_frame(TYPE_LOG, data[:200] + b"\x00"))
        elif kind == "log-bin":
            script.raw(encode_frame(TYPE_LOG, data))
        elif kind == "other-ch":
            script.samples(1, channels=1 + len(data) % 8 or 8)
        elif kind == "len255":
            script.raw(bytes((0xA5, 0x5A, len(data) % 4, 255)) + data)
        elif kind == "bytes":
            script.raw(data.replace(b"\xa5\x5a", b"\xa5\x00"))
    # A 4-channel "other" frame is an intact frame of the stream, so it is expected back.
    _, series, _ = play(tmp_path, script)
    assert_every_intact_frame_kept(script, series)


def test_record_and_info_say_one_sentence_about_a_hostile_info(tmp_path: Path):
    """The real commands on a plate whose INFO is garbage: a warning line, no traceback."""
    script = Script(9)
    for _ in range(40):
        script.samples(25)
    hostile = encode_info({**GOOD_INFO, "rate_hz": "nan", "channels": 99})
    plate = PtyPlate(tmp_path / "plate")
    out = tmp_path / "rec.h5"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    try:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gui.cli",
                "record",
                "--port",
                str(tmp_path / "plate"),
                "--out",
                str(out),
                "--seconds",
                "3",
                "--quiet",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        feeder = _feed(plate, script, hostile, 0.02)
        stdout, stderr = proc.communicate(timeout=60)
        feeder.join(timeout=10)
    finally:
        plate.close()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    warnings = [line for line in stderr.splitlines() if line.startswith("warning: ")]
    assert any("rate_hz" in w for w in warnings)
    assert any("channels" in w for w in warnings)
    assert_every_intact_frame_kept(script, read_recording(out))

    plate = PtyPlate(tmp_path / "plate2")
    try:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gui.cli",
                "info",
                "--port",
                str(tmp_path / "plate2"),
                "--seconds",
                "1",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        feeder = _feed(plate, script, hostile, 0.01)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        plate.close()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stdout + stderr
    assert any(line.startswith("warning:") and "rate_hz" in line for line in stdout.splitlines())
