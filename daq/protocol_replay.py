"""pyserial URL handler ``replay://FILE.h5?speed=X``: a recorded session played back as a plate.

The file is read by the one reader (:func:`daq.reader.read_recording`), so a replay sees the
same series as ``analyse`` and ``sway``: its raw counts are re-encoded into PROTOCOL.md
frames on the reader's time base (continuous over reconnect gaps; ``seq`` is the sample's
index in the file) and released as device time passes (``speed`` times real time;
``speed=0`` as fast as they are read). The acquisition takes the recording's calibration
and events from :attr:`Serial.recording`, so forces replay as they were recorded, whatever
calibration is stored for the plate now. :meth:`Serial.pause`, :meth:`Serial.resume` and
:meth:`Serial.seek` control the playback; the acquisition takes a seek before its next read
(:meth:`Serial.take_seek`) and restarts its time base there.
"""

from __future__ import annotations

import threading
import time
import urllib.parse

import numpy as np
from serial.serialutil import PortNotOpenError, SerialBase, SerialException

from daq.errors import MidfootError
from daq.frames import encode_info, encode_samples
from daq.series import PlateSeries

_BLOCK = 256  # samples encoded at a time


class Serial(SerialBase):
    """A recording behind the pyserial API (read-only; commands are accepted and ignored)."""

    def open(self) -> None:  # noqa: D102 - pyserial API
        from daq.reader import HDF5_SIGNATURE, read_recording

        if self._port is None:
            raise SerialException("replay:// needs a file: replay://session.h5?speed=1")
        path, speed = self._parse(self._port)
        try:
            with open(path, "rb") as fh:
                is_hdf5 = fh.read(8) == HDF5_SIGNATURE
        except OSError:
            is_hdf5 = True  # let the reader say what is wrong with the path
        if not is_hdf5:
            raise SerialException(
                f"{path} is not an HDF5 file midfoot can open: replay:// plays session "
                "recordings (.h5) made by `midfoot record` or the live app"
            )
        try:
            series = read_recording(path)
        except MidfootError as exc:
            raise SerialException(str(exc)) from exc
        if series.counts is None:
            raise SerialException(
                f"{path} holds forces, not a plate's raw counts: replay plays HDF5 sessions; "
                "open it with `midfoot analyse` or `midfoot review`"
            )
        self.recording: PlateSeries = series
        self._speed = speed
        infos = series.meta.extra.get("infos") or []
        info = dict(infos[-1]) if infos else {}
        info.setdefault("proto", "1")
        info["channels"] = str(series.counts.shape[1])
        info["board"] = f"replay:{path}"
        self._info = info
        self._t_us = np.round(series.t_s * 1e6).astype(np.int64)
        self._lock = threading.Lock()
        self._pending = bytearray(encode_info(info))
        self._next = 0
        self._paused_at_s: float | None = None
        self._seek_index: int | None = None
        self._t0_wall = time.monotonic()
        self.is_open = True

    @staticmethod
    def _parse(url: str) -> tuple[str, float]:
        rest = url.split("://", 1)[1] if "://" in url else url
        path, _, query = rest.partition("?")
        params = urllib.parse.parse_qs(query)
        try:
            speed = float(params.get("speed", ["1"])[0])
        except ValueError as exc:
            raise SerialException("replay:// speed must be a number, e.g. speed=4") from exc
        if not (speed == 0 or 0.01 <= speed <= 1000):
            raise SerialException("replay:// speed must be 0 (as fast as read) or 0.01-1000")
        unknown = set(params) - {"speed"}
        if unknown:
            raise SerialException(
                f"replay:// does not know {', '.join(sorted(unknown))}: use speed"
            )
        return urllib.parse.unquote(path), speed

    def from_url(self, url: str) -> str:  # noqa: D102 - pyserial API
        return url

    # -- playback control --------------------------------------------------------------------
    @property
    def position_s(self) -> float:
        """Recording time of the playback (s)."""
        with self._lock:
            if self._paused_at_s is not None:
                return self._paused_at_s
            return self._due_time_s()

    def _due_time_s(self) -> float:
        return (time.monotonic() - self._t0_wall) * max(self._speed, 0.0) + float(
            self.recording.t_s[0]
        )

    def pause(self) -> None:
        """Stop releasing samples until :meth:`resume`."""
        with self._lock:
            if self._paused_at_s is None:
                self._paused_at_s = self._due_time_s()

    def resume(self) -> None:
        """Go on from where the playback was paused."""
        with self._lock:
            if self._paused_at_s is not None:
                self._t0_wall = time.monotonic() - self._paused_at_s / max(self._speed, 1e-9)
                self._paused_at_s = None

    def set_speed(self, speed: float) -> None:
        """Play at ``speed`` times real time from now on."""
        if not 0.01 <= speed <= 1000:
            raise MidfootError("replay speed must be 0.01-1000 times real time")
        with self._lock:
            now = self._paused_at_s if self._paused_at_s is not None else self._due_time_s()
            self._speed = float(speed)
            self._t0_wall = time.monotonic() - now / self._speed

    def seek(self, t_s: float) -> None:
        """Play on from recording time ``t_s`` (clipped to the recording).

        Nothing more is released until the reader has taken the seek with
        :meth:`take_seek` (the acquisition does before every read), so no byte from before
        the seek is decoded as if it came after it.
        """
        s = self.recording
        index = int(np.clip(np.searchsorted(s.t_s, t_s), 0, len(s) - 1))
        with self._lock:
            self._pending.clear()
            self._next = index
            self._seek_index = index
            start = float(s.t_s[index])
            if self._paused_at_s is not None:
                self._paused_at_s = start
            else:
                self._t0_wall = time.monotonic() - (start - float(s.t_s[0])) / max(
                    self._speed, 1e-9
                )

    def take_seek(self) -> int | None:
        """The sample index of a seek not yet taken (then playback goes on), else None."""
        with self._lock:
            index, self._seek_index = self._seek_index, None
            return index

    @property
    def finished(self) -> bool:
        """Whether every stored sample has been read."""
        return self._next >= len(self.recording) and not self._pending

    # -- pyserial ----------------------------------------------------------------------------
    def _release(self) -> None:
        s = self.recording
        n = len(s)
        if self._next >= n or self._paused_at_s is not None or self._seek_index is not None:
            return
        if self._speed > 0:
            due = int(np.searchsorted(s.t_s, self._due_time_s(), side="right"))
        else:
            due = min(n, self._next + 64 * _BLOCK)
        counts = s.counts
        assert counts is not None
        while self._next < due:
            stop = min(due, self._next + 16 * _BLOCK)
            index = np.arange(self._next, stop)
            stale = np.zeros(stop - self._next, np.uint8)
            self._pending += encode_samples(
                index, self._t_us[self._next : stop], stale, counts[self._next : stop]
            )
            self._next = stop

    @property
    def in_waiting(self) -> int:  # noqa: D102 - pyserial API
        if not self.is_open:
            raise PortNotOpenError()
        with self._lock:
            self._release()
            return len(self._pending)

    def read(self, size: int = 1) -> bytes:  # noqa: D102 - pyserial API
        if not self.is_open:
            raise PortNotOpenError()
        deadline = None if self._timeout is None else time.monotonic() + self._timeout
        while True:
            with self._lock:
                self._release()
                if self._pending:
                    data = bytes(self._pending[:size])
                    del self._pending[:size]
                    return data
                finished = self._next >= len(self.recording)
            if finished or (deadline is not None and time.monotonic() >= deadline):
                return b""
            time.sleep(0.002)

    def write(self, data: bytes) -> int:  # noqa: D102 - pyserial API
        if not self.is_open:
            raise PortNotOpenError()
        if data.strip().lower() == b"info":
            with self._lock:
                self._pending += encode_info(self._info)
        return len(data)

    def close(self) -> None:  # noqa: D102 - pyserial API
        self.is_open = False

    def reset_input_buffer(self) -> None:  # noqa: D102 - pyserial API
        with self._lock:
            self._pending.clear()

    def reset_output_buffer(self) -> None:  # noqa: D102 - pyserial API
        pass

    def _reconfigure_port(self, *args: object, **kwargs: object) -> None:
        pass
