"""pyserial URL handler ``replay://FILE.h5?speed=X``: a recorded session played back as a plate.

The stored raw samples are re-encoded into PROTOCOL.md frames and released as device time
passes (``speed`` times real time; ``speed=0`` as fast as they are read), so a replay goes
through exactly the decoder, ring and analysis a live plate does.
"""

from __future__ import annotations

import threading
import time
import urllib.parse

import numpy as np
from serial.serialutil import PortNotOpenError, SerialBase, SerialException

from daq.errors import MidfootError
from daq.frames import encode_info, encode_samples

_BLOCK = 256  # samples encoded at a time


class Serial(SerialBase):
    """A recording behind the pyserial API (read-only; commands are accepted and ignored)."""

    def open(self) -> None:  # noqa: D102 - pyserial API
        from daq.session import load_session

        if self._port is None:
            raise SerialException("replay:// needs a file: replay://session.h5?speed=1")
        path, speed = self._parse(self._port)
        try:
            session = load_session(path)
        except MidfootError as exc:
            raise SerialException(str(exc)) from exc
        self._session = session
        self._speed = speed
        info = dict(session.infos[-1]) if session.infos else {}
        info.setdefault("proto", "1")
        info.setdefault("channels", str(session.counts.shape[1]))
        info["board"] = f"replay:{path}"
        self._pending = bytearray(encode_info(info))
        self._next = 0
        self._t0_wall = time.monotonic()
        self._lock = threading.Lock()
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
        unknown = set(params) - {"speed"}
        if unknown:
            raise SerialException(
                f"replay:// does not know {', '.join(sorted(unknown))}: use speed"
            )
        return urllib.parse.unquote(path), speed

    def from_url(self, url: str) -> str:  # noqa: D102 - pyserial API
        return url

    def _release(self) -> None:
        s = self._session
        n = s.seq.shape[0]
        if self._next >= n:
            return
        if self._speed > 0:
            t_dev = (time.monotonic() - self._t0_wall) * self._speed
            due = int(np.searchsorted(s.t_s, t_dev + s.t_s[0], side="right"))
        else:
            due = min(n, self._next + 64 * _BLOCK)
        while self._next < due:
            stop = min(due, self._next + 16 * _BLOCK)
            sl = slice(self._next, stop)
            self._pending += encode_samples(
                s.raw_seq[sl], s.raw_t_us[sl], s.stale[sl], s.counts[sl]
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
                finished = self._next >= self._session.seq.shape[0]
            if finished or (deadline is not None and time.monotonic() >= deadline):
                return b""
            time.sleep(0.002)

    def write(self, data: bytes) -> int:  # noqa: D102 - pyserial API
        if not self.is_open:
            raise PortNotOpenError()
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

    @property
    def finished(self) -> bool:
        """Whether every stored sample has been read."""
        return self._next >= self._session.seq.shape[0] and not self._pending
