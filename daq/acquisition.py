"""The acquisition loop: plate bytes -> decoder -> forces and CoP -> ring buffer and recorder.

It runs in its own thread so nothing on screen ever waits on the serial port. Consumers
either read the ring (the GUI, from a timer) or register a callback that gets every new block
in the acquisition thread (the streaming analyser, which costs well under a millisecond).
A plate that stops answering is marked disconnected, the gap is written to the recording,
and the port is retried every half second until the plate is back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from daq.calibration import Calibration, fz_and_cop, load_calibration
from daq.decoder import FrameDecoder
from daq.errors import MidfootError
from daq.plate import PlateGeometry, load_plate
from daq.recorder import SessionRecorder
from daq.ring import Column, Columns, SampleRing
from daq.samples import SampleBlock
from daq.source import DEFAULT_BAUD, PlateConnection, PlateDisconnected

RECONNECT_INTERVAL_S = 0.5
# A recording armed before the plate said who it is waits this long (plate time of the
# first samples, counted on the host clock) for its INFO, holding the samples, so the file
# carries the plate's own calibration rather than the nominal one of an unknown plate.
INFO_WAIT_S = 1.0
RING_SECONDS = 120.0
RATE_WINDOW_S = 2.0


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


BlockConsumer = Callable[[Columns], None]


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
    """

    def __init__(
        self,
        url: str,
        *,
        baudrate: int = DEFAULT_BAUD,
        plate: PlateGeometry | None = None,
        calibration: Calibration | None = None,
        ring_seconds: float = RING_SECONDS,
    ) -> None:
        self.url = url
        self.status = AcquisitionStatus(url=url)
        self._connection = PlateConnection(url, baudrate=baudrate)
        self._plate = plate
        self._fixed_calibration = calibration
        self.calibration: Calibration | None = calibration
        self._ring_seconds = ring_seconds
        self.ring: SampleRing | None = None
        self._ring_ready = threading.Event()
        self._decoder = FrameDecoder()
        self._consumers: list[BlockConsumer] = []
        self._recorder: SessionRecorder | None = None
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
        self._last_host_s = 0.0
        self._pending_reconnect_mark = False
        self._commands: list[str] = []

    # -- lifecycle --------------------------------------------------------------------------
    def open(self) -> None:
        """Open the port now, so a wrong port fails here with a plain sentence."""
        self._connection.open()
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
        self.status.state = "stopped"

    def wait_for_ring(self, timeout_s: float = 5.0) -> SampleRing:
        """The ring, once the first samples have told how many channels there are."""
        if not self._ring_ready.wait(timeout_s):
            raise MidfootError(
                f"no samples from {self.url} within {timeout_s:g} s: check that the plate is "
                "powered and streaming (try `midfoot info --port ...`)"
            )
        assert self.ring is not None
        return self.ring

    def add_consumer(self, consumer: BlockConsumer) -> None:
        """Call ``consumer(columns)`` with every new block, in the acquisition thread."""
        self._consumers.append(consumer)

    def send_command(self, command: str) -> None:
        """Queue an ASCII command (``info``, ``start``, ``stop``) for the plate."""
        self._commands.append(command)

    # -- calibration --------------------------------------------------------------------------
    def set_calibration(self, calibration: Calibration) -> None:
        """Use new offsets/gains from the next block on (recorded as an event)."""
        self.calibration = calibration
        self.add_event("calibration", calibration=calibration.to_dict())

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
            recorder = SessionRecorder(path, self.calibration, n_channels, meta)
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
                recorder.add_event(str(a), **b)  # type: ignore[arg-type]
            else:
                recorder.add_text("log", str(a), b)  # type: ignore[arg-type]

    def stop_recording(self) -> str | None:
        """Close the recording; returns its path (None if none was running)."""
        with self._rec_lock:
            if self._pending_recording is not None and self._held:
                # Stopped while still waiting for the plate's INFO: keep what came.
                first = self._held[0][1]
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

    def add_event(self, kind: str, **fields: object) -> None:
        """Write a free-form event (rep mark, note, stance change) into the recording."""
        with self._rec_lock:
            if self._recorder is not None:
                self._recorder.add_event(kind, **fields)
            elif self._pending_recording is not None and self._held:
                self._held.append(("event", kind, fields))

    # -- the loop -----------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._connection.is_open:
                self._reconnect()
                continue
            try:
                while self._commands:
                    self._connection.write_command(self._commands.pop(0))
                chunk = self._connection.read_chunk()
            except PlateDisconnected as exc:
                self._on_disconnect(str(exc))
                continue
            host_t = time.time()
            if chunk:
                self._handle(chunk, host_t)
            else:
                self._flush_recorder()

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
                self._recorder.add_event("disconnect", message=message)
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
            st.info = info
            self._record_text("info", ";".join(f"{k}={v}" for k, v in info.items()), host_t)
            self._ensure_calibration(info.get("plate_id"))
        for line in decoded.logs:
            st.message = f"plate says: {line}"
            self._record_text("log", line, host_t)
        block = decoded.samples
        if len(block) == 0:
            self._flush_recorder()
            return
        self._ensure_calibration(st.info.get("plate_id"))
        self._ensure_ring(block.n_channels)
        columns = self._columns(block, host_t)
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
                    self._recorder.add_event("reconnect")
                self._recorder.write(block, host_t)
                st.recording_samples = self._recorder.samples_written
                if self._recorder.failed:
                    st.recording_error = self._recorder.failed
            self._pending_reconnect_mark = False
        for consumer in self._consumers:
            consumer(columns)

    def _record_text(self, kind: str, text: str, host_t: float) -> None:
        with self._rec_lock:
            if self._recorder is not None:
                self._recorder.add_text(kind, text, host_t)
            elif kind == "log" and self._pending_recording is not None and self._held:
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
        self.status.calibration_warning = warning

    def _ensure_ring(self, n_channels: int) -> None:
        if self.ring is not None:
            return
        rate = float(self.status.info.get("rate_hz", 1000) or 1000)
        capacity = int(max(rate, 100) * self._ring_seconds)
        self.ring = SampleRing(capacity, ring_columns(n_channels))
        self._ring_ready.set()

    def _columns(self, block: SampleBlock, host_t: float) -> Columns:
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
        force = self.calibration.forces_n(block.counts)
        fz, cop = fz_and_cop(force, self.calibration.plate.cells_mm)
        self._last_t_s = float(t_rel[-1])
        self._last_host_s = host_t
        n_ch = block.n_channels
        force_all = np.zeros((len(block), n_ch), np.float32)
        force_all[:, : force.shape[1]] = force
        return {
            "t_s": t_rel,
            "host_t_s": np.full(len(block), host_t),
            "seq": block.seq,
            "stale": block.stale,
            "counts": block.counts,
            "force_n": force_all,
            "fz_n": fz.astype(np.float32),
            "cop_mm": cop.astype(np.float32),
        }

    def _update_rate(self) -> None:
        assert self.ring is not None
        view, end = self.ring.latest(self.ring.capacity)
        t = view["t_s"]
        if t.shape[0] < 2:
            return
        lo = np.searchsorted(t, t[-1] - RATE_WINDOW_S)
        span = t[-1] - t[lo]
        if span > 0:
            self.status.rate_hz = (t.shape[0] - 1 - lo) / span
