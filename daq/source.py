"""A plate as a byte source: a serial device, any pyserial URL, the virtual plate or a replay.

Everything is a pyserial URL, so nothing downstream knows which it has:
``/dev/ttyACM0`` or ``COM3`` (a real plate), ``sim://demo?rate=80`` (the virtual plate,
:mod:`hardware.protocol_sim`), ``replay://session.h5?speed=4`` (a recording played back,
:mod:`daq.protocol_replay`), ``socket://host:port`` and the rest of pyserial's handlers.
"""

from __future__ import annotations

import errno
import time

import serial
from serial.tools import list_ports

from daq.errors import MidfootError
from daq.series import PlateSeries

DEFAULT_BAUD = 115200
# Reads that bring less than this wait COALESCE_S for more (see PlateConnection.read_chunk).
# 3 ms keeps a frame's path from the wire to the ring well inside 5 ms while cutting the
# acquisition's wake-ups at 1 kHz from one per frame to about one per three frames; at
# 80 Hz a frame waits 3 ms more, which nothing on screen can show.
COALESCE_S = 0.003
# A stream that only goes to a file (``midfoot record``, nothing drawn or published live)
# waits longer: 20 ms of frames per read took record at 1 kHz x 8 channels from 12.4 % of a
# core to 3.9 % (bench_record_cpu, one sitting), and a file cares when a sample was
# measured (its own clock), never when it was read. The recorder's once-a-second flush,
# and so what a kill -9 can lose, are the same.
UNWATCHED_COALESCE_S = 0.02
COALESCE_MIN_BYTES = 256
# USB-serial chips found on Arduino Uno/Nano and clones (vendor ids): Arduino, FTDI, WCH
# CH340, Silicon Labs CP210x, and Espressif's own USB.
PLATE_USB_VIDS = {
    0x2341: "Arduino",
    0x2A03: "Arduino",
    0x0403: "FTDI",
    0x1A86: "CH340",
    0x10C4: "CP210x",
    0x303A: "Espressif",
}


def register_url_handlers() -> None:
    """Make ``sim://`` and ``replay://`` known to pyserial (idempotent)."""
    for package in ("hardware", "daq"):
        if package not in serial.protocol_handler_packages:
            serial.protocol_handler_packages.append(package)


class PlateDisconnected(MidfootError):
    """The plate stopped answering (unplugged, reset or powered off)."""


def _open_error(url: str, exc: Exception) -> MidfootError:
    code = getattr(exc, "errno", None)
    text = str(exc)
    if code == errno.ENOENT or "No such file" in text:
        return MidfootError(
            f"there is no serial port {url}: check the cable, then run `midfoot ports` to see "
            "the plates that are connected"
        )
    if code in (errno.EACCES, errno.EPERM) or "Permission denied" in text:
        return MidfootError(
            f"you are not permitted to open {url}: add yourself to the port's group "
            "(usually `sudo usermod -aG dialout $USER`, then log in again)"
        )
    if code in (errno.EBUSY, errno.EAGAIN) or "exclusively lock" in text or "busy" in text:
        return MidfootError(
            f"{url} is busy: another program (the Arduino IDE's serial monitor, another "
            "midfoot) has it open; close that program and try again"
        )
    if "://" in url and not url.startswith(("rfc2217://", "socket://")):
        # The virtual plate or a replayed file: the reason says what to fix, not a cable.
        return MidfootError(f"could not open {url}: {text}")
    return MidfootError(f"could not open {url} ({text}): check the port name and the cable")


class PlateConnection:
    """One open plate: whole available chunks in, ASCII commands out.

    Parameters
    ----------
    url : str
        A device path or any pyserial URL (see module docstring).
    baudrate : int
        Serial speed for real ports (ignored by sim:// and replay://).
    timeout_s : float
        How long :meth:`read_chunk` waits for the first byte.
    coalesce_s : float
        How long a read that brought only a trickle waits for more (0: never waits).
    """

    def __init__(
        self,
        url: str,
        baudrate: int = DEFAULT_BAUD,
        timeout_s: float = 0.05,
        coalesce_s: float = COALESCE_S,
    ) -> None:
        self.url = url
        self.baudrate = baudrate
        self.timeout_s = timeout_s
        self.coalesce_s = coalesce_s
        self._port: serial.SerialBase | None = None

    @property
    def is_open(self) -> bool:
        """Whether the port is open."""
        return self._port is not None

    def take_seek(self) -> int | None:
        """A ``replay://`` port's seek not yet acted on (the sample index), else None."""
        take = getattr(self._port, "take_seek", None)
        return take() if callable(take) else None

    @property
    def replay(self) -> object | None:
        """The ``replay://`` port object (pause, resume, seek, set_speed), else None."""
        return self._port if getattr(self._port, "recording", None) is not None else None

    @property
    def recording(self) -> PlateSeries | None:
        """The recording behind a ``replay://`` port (its calibration and events), else None."""
        recording = getattr(self._port, "recording", None)
        return recording if isinstance(recording, PlateSeries) else None

    def open(self) -> None:
        """Open the port; a :class:`MidfootError` with a plain sentence if it cannot."""
        register_url_handlers()
        try:
            self._port = serial.serial_for_url(
                self.url, baudrate=self.baudrate, timeout=self.timeout_s, exclusive=True
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            raise _open_error(self.url, exc) from exc

    def read_chunk(self) -> bytes:
        """Everything that has arrived, waiting up to ``timeout_s`` for the first byte.

        Reads ``in_waiting or 1`` bytes at a time (never readline), so a burst of frames
        costs one call.
        """
        if self._port is None:
            raise PlateDisconnected(f"{self.url} is not open")
        try:
            data = self._port.read(self._port.in_waiting or 1)
            if data and len(data) < COALESCE_MIN_BYTES and self.coalesce_s > 0:
                # A trickle (one 1 kHz frame at a time): let a few milliseconds of frames
                # gather and take them in one read, instead of one wake-up, decode and ring
                # append per frame. The first frame waits at most coalesce_s.
                time.sleep(self.coalesce_s)
            if data:
                more = self._port.in_waiting
                if more:
                    data += self._port.read(more)
            return data
        except (serial.SerialException, OSError, TypeError) as exc:
            # pyserial raises TypeError from in_waiting on some unplugged USB devices.
            self.close()
            raise PlateDisconnected(
                f"the plate on {self.url} stopped answering ({exc}): check the cable; midfoot "
                "reconnects when it comes back"
            ) from exc

    def write_command(self, command: str) -> None:
        """Send one ASCII command line (``info``, ``start``, ``stop``)."""
        if self._port is None:
            raise PlateDisconnected(f"{self.url} is not open")
        try:
            self._port.write(command.strip().encode("ascii") + b"\n")
        except (serial.SerialException, OSError) as exc:
            self.close()
            raise PlateDisconnected(f"could not write to {self.url} ({exc})") from exc

    def close(self) -> None:
        """Close the port (safe to call twice)."""
        if self._port is not None:
            try:
                self._port.close()
            except (serial.SerialException, OSError):
                pass
            self._port = None

    def __enter__(self) -> PlateConnection:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def plate_ports() -> list[tuple[str, str]]:
    """Serial ports that look like plates: (device, description), USB serial chips first."""
    found = []
    for port in list_ports.comports():
        vendor = PLATE_USB_VIDS.get(port.vid or -1)
        if vendor is None and "ACM" not in port.device and "USB" not in port.device:
            continue
        label = port.description or ""
        if vendor and vendor not in label:
            label = f"{label} ({vendor})".strip()
        found.append((port.device, label))
    return found


def resolve_port(port: str | None) -> str:
    """The port to use: the one given, else the only plate found, else a plain error."""
    if port:
        return port
    found = plate_ports()
    if len(found) == 1:
        return found[0][0]
    if not found:
        raise MidfootError(
            "no plate found: plug one in, or pass --port sim://demo to use the virtual plate"
        )
    names = ", ".join(dev for dev, _ in found)
    raise MidfootError(f"several ports look like plates ({names}): choose one with --port")
