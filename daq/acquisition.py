"""The acquisition loop: plate bytes -> decoder -> forces and CoP -> ring buffer and recorder.

It runs in its own thread so nothing on screen ever waits on the serial port. Consumers
either read the ring (the GUI, from a timer) or register a callback that gets every new block
as a :class:`daq.series.PlateSeries` in the acquisition thread (the streaming analyser,
which costs well under a millisecond). A recording is written by its own thread
(:class:`daq.recorder.RecorderThread`), so a slow disk never keeps this one from the port.
A plate that stops answering is marked disconnected, the gap is written to the recording,
and the port is retried every half second until the plate is back.

A ``replay://`` source is a recording: its own calibration (and the calibration events
recorded in it) apply instead of the one stored for the plate, and its other events (stance
changes, tares, notes) reach consumers in the block holding their sample.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from daq.calibration import Calibration, fz_and_cop, load_calibration
from daq.decoder import FrameDecoder
from daq.errors import MidfootError
from daq.events import (
    CalibrationChanged,
    ChannelsChanged,
    Disconnected,
    FramesRejected,
    Reconnected,
    RecordedEvent,
)
from daq.frames import MAX_RATE_HZ, check_info
from daq.plate import PlateGeometry, load_plate
from daq.recorder import RecorderThread, require_room
from daq.ring import Column, SampleRing
from daq.samples import SampleBlock
from daq.series import PlateSeries, SeriesMeta, glitch_free
from daq.source import COALESCE_S, DEFAULT_BAUD, PlateConnection, PlateDisconnected

RECONNECT_INTERVAL_S = 0.5
# A recording armed before the plate said who it is waits this long (plate time of the
# first samples, counted on the host clock) for its INFO, holding the samples, so the file
# carries the plate's own calibration rather than the nominal one of an unknown plate.
INFO_WAIT_S = 1.0
RING_SECONDS = 120.0
RATE_WINDOW_S = 2.0
RATE_UPDATE_S = 0.1
# The ring is sized from the INFO rate before the frames have shown theirs.
DEFAULT_RING_RATE_HZ = 1000.0
# Device LOG lines stored per second; a plate flooding LOG (a firmware bug, a noisy line)
# has the rest counted in a FramesRejected event, so the file cannot grow by megabytes a
# second of text while the samples still all go in.
LOG_LINES_PER_S = 50
# Rejected frames are reported in the file at most this often (counted in between).
REJECT_REPORT_S = 1.0
# This many chunks in a row that fail to process mean a fault that will not pass: the
# acquisition stops and says so rather than spin.
MAX_CONSECUTIVE_FAILURES = 20


@dataclass
class AcquisitionStatus:
    """What the screen and the record command show about the plate."""

    state: str = "connecting"  # connecting | streaming | disconnected | stopped | failed
    url: str = ""
    info: dict[str, str] = field(default_factory=dict)
    rate_hz: float = float("nan")
    samples: int = 0
    dropped: int = 0
    crc_errors: int = 0
    skipped_bytes: int = 0
    reconnects: int = 0
    message: str | None = None  # the latest warning or error, one sentence
    text_mode: bool = False
    calibration_warning: str | None = None
    recording_path: str | None = None
    recording_samples: int = 0
    recording_error: str | None = None
    rejected_frames: int = 0
    # Sentences the user should see once each (a hostile INFO, a channel change), in order.
    notices: list[str] = field(default_factory=list)
    failure: str | None = None  # why the acquisition stopped for good (state "failed")

    @property
    def simulated(self) -> bool:
        """Whether the plate is the virtual plate."""
        return self.url.startswith("sim://") or self.info.get("board") == "virtual"


def ring_columns(n_channels: int) -> dict[str, Column]:
    """Ring layout for a plate of ``n_channels`` cells."""
    return {
        "t_s": Column(np.float64),
        "host_t_s": Column(np.float64),
        "seq": Column(np.int64),
        "stale": Column(np.uint8),
        "counts": Column(np.int32, (n_channels,)),
        "force_n": Column(np.float32, (n_channels,)),
        "fz_n": Column(np.float32),
        "cop_mm": Column(np.float32, (2,)),
    }


BlockConsumer = Callable[[PlateSeries], None]


class Acquisition:
    """Read one plate in a background thread.

    Parameters
    ----------
    url : str
        Port or pyserial URL (see :mod:`daq.source`).
    plate : PlateGeometry, optional
        Geometry; default from the stored calibration, else the default preset.
    calibration : Calibration, optional
        Use this instead of the one stored for the plate's plate_id.
    ring_seconds : float
        How much history the ring keeps.
    coalesce_s : float
        How long a read that brought a trickle waits for the frames behind it
        (:data:`daq.source.COALESCE_S` for a stream people watch live,
        :data:`daq.source.UNWATCHED_COALESCE_S` for one that only goes to a file).
    """

    def __init__(
        self,
        url: str,
        *,
        baudrate: int = DEFAULT_BAUD,
        plate: PlateGeometry | None = None,
        calibration: Calibration | None = None,
        ring_seconds: float = RING_SECONDS,
        coalesce_s: float = COALESCE_S,
    ) -> None:
        self.url = url
        self.status = AcquisitionStatus(url=url)
        self._connection = PlateConnection(url, baudrate=baudrate, coalesce_s=coalesce_s)
        self._plate = plate
        self._fixed_calibration = calibration
        self.calibration: Calibration | None = calibration
        self._ring_seconds = ring_seconds
        self.ring: SampleRing | None = None
        self._ring_ready = threading.Event()
        self._decoder = FrameDecoder()
        self._consumers: list[BlockConsumer] = []
        self._recorder: RecorderThread | None = None
        self._pending_recording: tuple[str, dict[str, object]] | None = None
        # What arrived while a pending recording waits for the plate's INFO, in order:
        # ("block", SampleBlock, host_t), ("event", kind, fields), ("log", text, host_t).
        self._held: list[tuple[str, object, object]] = []
        self._first_block_host_s: float | None = None
        self._rec_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0_us: int | None = None
        self._t0_host: float | None = None
        self._t_offset_s = 0.0
        self._last_t_s = 0.0
        self._rate_updated_t_s = -math.inf
        self._last_host_s = 0.0
        self._pending_reconnect_mark = False
        self._commands: list[str] = []
        self._meta: SeriesMeta | None = None
        # From a replay://: calibrations by sample index, and the recording's other events.
        self._source_calibrations: list[tuple[int, Calibration]] = []
        self._source_events: list[RecordedEvent] = []
        self._source_index_offset = 0  # a replay's file index = decoded seq + this
        self._nominal_rate_hz: float | None = None  # the INFO rate, once validated
        self._rejected: dict[str, int] = {}  # reason -> frames not yet reported in the file
        self._last_reject_report = 0.0
        self._announced_channels: set[int] = set()
        self._log_window_start = 0.0
        self._log_window_lines = 0
        self._failures_in_a_row = 0
        self._handling = 0  # samples of the chunk being processed, not yet stored
        self._reject_lock = threading.Lock()

    # -- lifecycle --------------------------------------------------------------------------
    def open(self) -> None:
        """Open the port now, so a wrong port fails here with a plain sentence."""
        self._connection.open()
        self._take_source_recording()
        self.status.state = "streaming"
        # Ask who it is: a plate that booted before we opened the port sent INFO to no one.
        self._commands.append("info")

    def start(self) -> None:
        """Start the acquisition thread (opening the port first if needed)."""
        if not self._connection.is_open:
            self.open()
        self._thread = threading.Thread(target=self._run, name="midfoot-acquisition", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, close the port and any recording (keeping the file)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._connection.close()
        self.stop_recording()
        if self.status.state != "failed":
            self.status.state = "stopped"

    @property
    def running(self) -> bool:
        """Whether the acquisition thread is alive (False before start, after stop or failure)."""
        return self._thread is not None and self._thread.is_alive()

    def wait_for_ring(self, timeout_s: float = 5.0) -> SampleRing:
        """The ring, once the first samples have told how many channels there are."""
        deadline = time.monotonic() + timeout_s
        while not self._ring_ready.wait(min(0.1, max(deadline - time.monotonic(), 0.0))):
            if self.status.failure:
                raise MidfootError(self.status.failure)
            if time.monotonic() >= deadline:
                break
        if not self._ring_ready.is_set():
            raise MidfootError(
                f"no samples from {self.url} within {timeout_s:g} s: check that the plate is "
                "powered and streaming (try `midfoot info --port ...`)"
            )
        assert self.ring is not None
        return self.ring

    def add_consumer(self, consumer: BlockConsumer) -> None:
        """Call ``consumer(block)`` with every new :class:`PlateSeries` block.

        It runs in the acquisition thread, so it must be quick (well under a millisecond).
        """
        self._consumers.append(consumer)

    def remove_consumer(self, consumer: BlockConsumer) -> None:
        """Stop calling ``consumer``."""
        if consumer in self._consumers:
            self._consumers.remove(consumer)

    def send_command(self, command: str) -> None:
        """Queue an ASCII command (``info``, ``start``, ``stop``) for the plate."""
        self._commands.append(command)

    def _take_source_recording(self) -> None:
        """A replayed recording brings its own calibrations and events."""
        self._replay_from(0)

    def _replay_from(self, index: int) -> None:
        """Calibration and pending events of a replayed recording from sample ``index`` on."""
        recording = self._connection.recording
        if recording is None or recording.meta.calibration is None:
            return
        cal = recording.meta.calibration
        self._source_calibrations = []
        self._source_events = []
        for event in recording.events:
            if isinstance(event, CalibrationChanged):
                try:
                    new = Calibration.from_dict(event.calibration)
                except (KeyError, ValueError, TypeError, MidfootError):
                    continue
                if event.sample_index <= index:
                    cal = new
                else:
                    self._source_calibrations.append((event.sample_index, new))
            elif not isinstance(event, Reconnected | Disconnected) and event.sample_index >= index:
                self._source_events.append(event)
        self._fixed_calibration = cal
        self.calibration = cal
        self._meta = None
        # After a seek the decoder's seq restarts at the frame's u16 value.
        self._source_index_offset = index - (index & 0xFFFF)

    def _take_seek(self) -> None:
        index = self._connection.take_seek()
        if index is None:
            return
        recording = self._connection.recording
        assert recording is not None
        self._decoder.reset_sequence()
        self._t0_us = None
        self._t_offset_s = float(recording.t_s[index])
        self._replay_from(index)

    @property
    def recording_source(self) -> PlateSeries | None:
        """The recording a ``replay://`` source plays (None for a plate)."""
        return self._connection.recording

    @property
    def replay(self) -> object | None:
        """The ``replay://`` port (pause, resume, seek, set_speed, position_s), else None."""
        return self._connection.replay

    @property
    def nominal_rate_hz(self) -> float | None:
        """The plate's INFO rate when it is plausible (None otherwise: the frames decide)."""
        return self._nominal_rate_hz

    @property
    def meta(self) -> SeriesMeta:
        """What consumers' blocks say about their source (the plate, its calibration)."""
        if self._meta is None:
            cal = self.calibration
            rate = float("nan") if self._nominal_rate_hz is None else self._nominal_rate_hz
            self._meta = SeriesMeta(
                source=self.url,
                kind="live",
                plate=None if cal is None else cal.plate,
                calibration=cal,
                calibrated=bool(cal is not None and cal.calibrated),
                nominal_rate_hz=rate,
                plate_id=self.status.info.get("plate_id", "" if cal is None else cal.plate_id),
            )
        return self._meta

    # -- calibration --------------------------------------------------------------------------
    def set_calibration(self, calibration: Calibration) -> None:
        """Use new offsets/gains from the next block on (recorded as an event)."""
        self.calibration = calibration
        self._meta = None
        self.add_event(CalibrationChanged(calibration=calibration.to_dict()))

    # -- recording ----------------------------------------------------------------------------
    def start_recording(self, path: str, metadata: dict[str, object] | None = None) -> None:
        """Record into a new HDF5 session file, from the next block (or the very first one).

        Called before :meth:`start`, nothing the plate sends is missed. A file that already
        exists or cannot be created raises :class:`MidfootError` here, before anything runs.
        """
        target = Path(path)
        if target.exists():
            raise MidfootError(
                f"{target} already exists: choose another file name so no recording is lost"
            )
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MidfootError(
                f"cannot create the folder {target.parent} ({exc.strerror}): choose a folder "
                "you can write to"
            ) from exc
        require_room(target, self.ring.columns["counts"].shape[0] if self.ring else 8)
        with self._rec_lock:
            self._pending_recording = (str(path), dict(metadata or {}))
        self.status.recording_path = str(path)
        self.status.recording_error = None
        if self.ring is not None and self._plate_identified():
            with self._rec_lock:
                self._open_pending_recording(self.ring.columns["counts"].shape[0])

    def _plate_identified(self) -> bool:
        """Whether the plate said who it is, or will not: then a recording may open."""
        if self.status.info.get("plate_id") or self.status.text_mode:
            return True
        first = self._first_block_host_s
        return first is not None and time.time() - first >= INFO_WAIT_S

    def _open_pending_recording(self, n_channels: int) -> None:
        """Create the recorder once the channel count is known (caller holds _rec_lock)."""
        if self._pending_recording is None:
            return
        path, metadata = self._pending_recording
        self._pending_recording = None
        assert self.calibration is not None
        meta = {"source": self.url, "plate_id": self.calibration.plate_id, **metadata}
        try:
            recorder = RecorderThread(path, self.calibration, n_channels, meta)
        except MidfootError as exc:
            self.status.recording_error = str(exc)
            self.status.recording_path = None
            return
        if self.status.info:
            recorder.add_text("info", ";".join(f"{k}={v}" for k, v in self.status.info.items()))
        self._recorder = recorder
        held, self._held = self._held, []
        for what, a, b in held:
            if what == "block":
                recorder.write(a, b)  # type: ignore[arg-type]
            elif what == "event":
                recorder.add_event(a)  # type: ignore[arg-type]
            else:
                recorder.add_text("log", str(a), b)  # type: ignore[arg-type]

    def stop_recording(self) -> str | None:
        """Close the recording; returns its path (None if none was running)."""
        self._report_rejected(force=True)
        with self._rec_lock:
            blocks = [b for what, b, _ in self._held if what == "block"]
            if self._pending_recording is not None and blocks:
                # Stopped while still waiting for the plate's INFO: keep what came.
                first = blocks[0]
                assert isinstance(first, SampleBlock)
                self._open_pending_recording(first.n_channels)
            recorder, self._recorder = self._recorder, None
            self._pending_recording = None
            self._held = []
        if recorder is None:
            return None
        recorder.close()
        self.status.recording_samples = recorder.samples_written
        if recorder.failed:
            self.status.recording_error = recorder.failed
        self.status.recording_path = None
        return str(recorder.path)

    def add_event(self, event: RecordedEvent) -> None:
        """Write an event (stance change, tare, rep mark, note) into the recording."""
        with self._rec_lock:
            if self._recorder is not None:
                self._recorder.add_event(event)
            elif self._pending_recording is not None:
                self._held.append(("event", event, None))

    # -- the loop -----------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                if not self._connection.is_open:
                    self._reconnect()
                    continue
                try:
                    while self._commands:
                        self._connection.write_command(self._commands.pop(0))
                    self._take_seek()
                    chunk = self._connection.read_chunk()
                except PlateDisconnected as exc:
                    self._on_disconnect(str(exc))
                    continue
                host_t = time.time()
                self._handling = 0
                try:
                    if chunk:
                        self._handle(chunk, host_t)
                        self._failures_in_a_row = 0
                    else:
                        self._flush_recorder()
                except Exception as exc:  # noqa: BLE001 - one bad chunk must not end the stream
                    self._on_chunk_failed(exc, len(chunk))
                    if self._failures_in_a_row >= MAX_CONSECUTIVE_FAILURES:
                        raise
        except Exception as exc:  # noqa: BLE001 - said in status.failure, never silent
            self._fail(exc)

    def _on_chunk_failed(self, exc: Exception, n_bytes: int) -> None:
        """Count a chunk that could not be processed, say so, and carry on."""
        self._failures_in_a_row += 1
        lost = self._handling
        reason = f"a {n_bytes}-byte read could not be processed ({type(exc).__name__}: {exc})"
        self.status.message = f"{reason}; the stream goes on"
        if lost:
            self.status.rejected_frames += lost
            self._count_rejected(reason[:200], lost)
        self._report_rejected()

    def _fail(self, exc: Exception) -> None:
        """The acquisition cannot go on: keep the recording readable and say why."""
        self.status.failure = (
            f"the acquisition from {self.url} stopped ({type(exc).__name__}: {exc}); the "
            "recording so far is kept: this is a bug in midfoot, please report it"
        )
        self.status.message = self.status.failure
        self.status.state = "failed"
        try:
            self.stop_recording()
        except Exception:  # noqa: BLE001 - already failing; the message above says it
            pass

    def _flush_recorder(self) -> None:
        with self._rec_lock:
            if self._recorder is not None:
                self._recorder.maybe_flush()

    def _on_disconnect(self, message: str) -> None:
        self.status.state = "disconnected"
        self.status.message = message
        self.status.rate_hz = float("nan")
        with self._rec_lock:
            if self._recorder is not None:
                self._recorder.add_event(Disconnected(message=message))
                self._recorder.maybe_flush(force=True)

    def _reconnect(self) -> None:
        if self._stop.wait(RECONNECT_INTERVAL_S):
            return
        try:
            self._connection.open()
        except MidfootError:
            return
        # A replugged plate has rebooted: seq and t_us start again.
        self._decoder.reset_sequence()
        self._t0_us = None
        self._t0_host = None
        self._t_offset_s = self._last_t_s + max(time.time() - self._last_host_s, 0.0)
        self._pending_reconnect_mark = True
        self._commands.append("info")
        self.status.reconnects += 1
        self.status.state = "streaming"
        self.status.message = f"reconnected to {self.url}"

    def _handle(self, chunk: bytes, host_t: float) -> None:
        decoded = self._decoder.feed(chunk)
        stats = self._decoder.stats
        st = self.status
        st.dropped, st.crc_errors, st.skipped_bytes = (
            stats.dropped,
            stats.crc_errors,
            stats.skipped_bytes,
        )
        if self._decoder.fallback_message and not st.text_mode:
            st.text_mode = True
            st.message = self._decoder.fallback_message
        for info in decoded.infos:
            self._take_info(info, host_t)
        if decoded.logs:
            self._take_logs(decoded.logs, host_t)
        if decoded.other_channels:
            self._take_other_channels(decoded.other_channels)
        block = decoded.samples
        self._handling = len(block)
        if len(block) == 0:
            self._report_rejected()
            self._flush_recorder()
            return
        self._ensure_calibration(st.info.get("plate_id"))
        self._ensure_ring(block.n_channels)
        columns, series = self._columns(block, host_t)
        assert self.ring is not None
        self.ring.append(columns)
        st.samples += len(block)
        st.state = "streaming"
        self._update_rate()
        if self._first_block_host_s is None:
            self._first_block_host_s = host_t
        with self._rec_lock:
            if self._pending_recording is not None:
                if self._plate_identified():
                    self._open_pending_recording(block.n_channels)
                else:
                    self._held.append(("block", block, host_t))
            if self._recorder is not None:
                if self._pending_reconnect_mark:
                    self._recorder.add_event(Reconnected())
                self._recorder.write(block, host_t)
                st.recording_samples = self._recorder.samples_written
                if self._recorder.failed:
                    st.recording_error = self._recorder.failed
            self._pending_reconnect_mark = False
        self._handling = 0  # stored: a consumer's failure below loses no sample
        self._report_rejected()
        if self._consumers:
            made = series()
            for consumer in self._consumers:
                consumer(made)

    def _take_info(self, info: dict[str, str], host_t: float) -> None:
        """A new INFO: stored as sent, checked, and a sentence for each bad value."""
        checked = check_info(info)
        st = self.status
        st.info = info
        self._nominal_rate_hz = checked.rate_hz
        self._meta = None
        for problem in checked.problems:
            st.message = problem
            if problem not in st.notices:
                st.notices.append(problem)
        self._record_text("info", ";".join(f"{k}={v}" for k, v in info.items()), host_t)
        self._ensure_calibration(info.get("plate_id"))

    def _take_logs(self, lines: list[str], host_t: float) -> None:
        """Device LOG lines: shown, and stored up to LOG_LINES_PER_S a second."""
        self.status.message = f"plate says: {lines[-1][:300]}"
        if host_t - self._log_window_start >= 1.0:
            self._log_window_start, self._log_window_lines = host_t, 0
        room = max(LOG_LINES_PER_S - self._log_window_lines, 0)
        keep, over = lines[:room], len(lines) - min(room, len(lines))
        self._log_window_lines += len(keep)
        for line in keep:
            self._record_text("log", line, host_t)
        if over:
            self.status.rejected_frames += over
            self._count_rejected(
                f"device LOG lines beyond {LOG_LINES_PER_S} a second (a LOG flood)", over
            )

    def _take_other_channels(self, other: dict[int, int]) -> None:
        """SAMPLE frames of another channel count than the stream's: counted and reported."""
        n_stream = self._decoder.n_channels or 0
        st = self.status
        for n, count in sorted(other.items()):
            st.rejected_frames += count
            self._count_rejected(f"{n}-channel frames in a {n_stream}-channel stream", count)
            if n not in self._announced_channels:
                self._announced_channels.add(n)
                notice = (
                    f"the plate sent {n}-channel frames into a {n_stream}-channel stream: "
                    f"those frames are counted, not stored; if the plate changed, start a new "
                    "recording"
                )
                st.message = notice
                st.notices.append(notice)
                self.add_event(
                    ChannelsChanged(
                        n_channels=n,
                        recording_channels=n_stream,
                        dropped_frames=self._decoder.stats.wrong_channels,
                    )
                )

    def _count_rejected(self, reason: str, count: int) -> None:
        with self._reject_lock:
            self._rejected[reason] = self._rejected.get(reason, 0) + count

    def _report_rejected(self, force: bool = False) -> None:
        """Write the frames rejected since the last report as FramesRejected events."""
        if not self._rejected:
            return
        now = time.monotonic()
        if not force and now - self._last_reject_report < REJECT_REPORT_S:
            return
        with self._reject_lock:
            self._last_reject_report = now
            rejected, self._rejected = self._rejected, {}
        for reason, count in rejected.items():
            self.add_event(FramesRejected(count=count, reason=reason))

    def _record_text(self, kind: str, text: str, host_t: float) -> None:
        with self._rec_lock:
            if self._recorder is not None:
                self._recorder.add_text(kind, text, host_t)
            elif kind == "log" and self._pending_recording is not None:
                # (INFO is written when the recording opens, from the plate's latest INFO.)
                self._held.append(("log", text, host_t))

    def _ensure_calibration(self, plate_id: str | None) -> None:
        if self._fixed_calibration is not None:
            return
        if self.calibration is not None and (
            plate_id is None or plate_id == self.calibration.plate_id
        ):
            return
        cal, warning = load_calibration(plate_id or "unknown", self._plate or load_plate())
        self.calibration = cal
        self._meta = None
        self.status.calibration_warning = warning

    def _ensure_ring(self, n_channels: int) -> None:
        if self.ring is not None:
            return
        rate = self._nominal_rate_hz or DEFAULT_RING_RATE_HZ
        capacity = int(min(max(rate, 100.0), MAX_RATE_HZ) * self._ring_seconds)
        self.ring = SampleRing(capacity, ring_columns(n_channels))
        self._ring_ready.set()

    def _forces_n(self, block: SampleBlock) -> np.ndarray:
        """Cell forces of a block: a replay's recorded calibrations apply from their samples."""
        assert self.calibration is not None
        force = self.calibration.forces_n(block.counts)
        if not self._source_calibrations:
            return force
        seq = block.seq + self._source_index_offset
        while self._source_calibrations and self._source_calibrations[0][0] <= int(seq[-1]):
            index, cal = self._source_calibrations.pop(0)
            first = int(np.searchsorted(seq, index))
            force[first:] = cal.forces_n(block.counts[first:])
            self.calibration = cal
            self._meta = None
        return force

    def _block_events(self, block: SampleBlock, t_rel: np.ndarray) -> tuple[RecordedEvent, ...]:
        """A replay's recorded events whose sample is in this block, at their times."""
        if not self._source_events:
            return ()
        seq = block.seq + self._source_index_offset
        first, last = int(seq[0]), int(seq[-1])
        out = []
        while self._source_events and self._source_events[0].sample_index <= last:
            event = self._source_events.pop(0)
            k = int(np.searchsorted(seq, max(event.sample_index, first)))
            out.append(replace(event, t_s=float(t_rel[min(k, len(t_rel) - 1)])))
        return tuple(out)

    def _columns(
        self, block: SampleBlock, host_t: float
    ) -> tuple[dict, Callable[[], PlateSeries]]:
        """The ring's columns of a block, and a maker of the block for consumers.

        The series is made only when a consumer wants it (``record`` has none), and the
        ring's assignment casts to its compact dtypes, so no per-block copies are made for it.
        """
        assert self.calibration is not None
        if block.t_us[0] < 0:
            # A plain-text plate without its own clock: all we know is when the chunk came.
            if self._t0_host is None:
                self._t0_host = host_t
            t_rel = np.full(len(block), self._t_offset_s + host_t - self._t0_host)
        else:
            if self._t0_us is None:
                self._t0_us = int(block.t_us[0])
            t_rel = self._t_offset_s + (block.t_us - self._t0_us) / 1e6
        force = self._forces_n(block)
        fz, cop = fz_and_cop(force, self.calibration.plate.cells_mm)
        self._last_t_s = float(t_rel[-1])
        self._last_host_s = host_t
        n_ch = block.n_channels
        if force.shape[1] == n_ch:
            force_all = force
        else:
            force_all = np.zeros((len(block), n_ch), np.float32)
            force_all[:, : force.shape[1]] = force
        host = np.full(len(block), host_t)
        columns = {
            "t_s": t_rel,
            "host_t_s": host,
            "seq": block.seq,
            "stale": block.stale,
            "counts": block.counts,
            "force_n": force_all,
            "fz_n": fz,
            "cop_mm": cop,
        }
        events = self._block_events(block, t_rel)
        meta = self.meta

        def series() -> PlateSeries:
            return PlateSeries(
                t_s=t_rel,
                fz_n=fz,
                cop_mm=cop,
                force_n=force,
                valid=glitch_free(block.counts),
                host_t_s=host,
                counts=block.counts,
                events=events,
                meta=meta,
            )

        return columns, series

    def _update_rate(self) -> None:
        assert self.ring is not None
        view, end = self.ring.latest(self.ring.capacity)
        t = view["t_s"]
        if t.shape[0] < 2:
            return
        # A rate shown to people needs no update per block: ten a second is plenty, and the
        # search over the ring's time column was the acquisition's single biggest call.
        if t[-1] - self._rate_updated_t_s < RATE_UPDATE_S and t[-1] >= self._rate_updated_t_s:
            return
        self._rate_updated_t_s = float(t[-1])
        lo = np.searchsorted(t, t[-1] - RATE_WINDOW_S)
        span = t[-1] - t[lo]
        if span > 0:
            self.status.rate_hz = (t.shape[0] - 1 - lo) / span
