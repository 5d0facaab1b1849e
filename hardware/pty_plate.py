"""``midfoot simulate``: the virtual plate behind a real pseudo-terminal.

Any serial program (the app, pyserial, ``screen``, the Arduino serial monitor) opens the
printed path and reads it like a plate on a USB cable: paced frames, INFO at start-up, and
answers to ``info``/``start``/``stop`` written to it. Bytes nobody reads are thrown away
after a couple of seconds, as a USB serial device's would be, so a late reader gets fresh
data.
"""

from __future__ import annotations

import array
import contextlib
import fcntl
import os
import select
import signal
import sys
import termios
import time
import tty

from serial import SerialException

from daq.errors import MidfootError
from daq.frames import sample_frame_bytes
from hardware.protocol_sim import MAX_BACKLOG_S, SimSettings, make_virtual_plate


def _make_link(link: str, target: str) -> None:
    if os.path.lexists(link):
        if not os.path.islink(link):
            raise MidfootError(f"--link {link} exists and is not a symlink: choose another path")
        os.unlink(link)
    os.symlink(target, link)


def _unread_bytes(fd: int) -> int:
    buf = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, buf, True)
    return buf[0]


def serve_on_pty(
    settings: SimSettings, link: str | None = None, seconds: float | None = None
) -> int:
    """Stream the virtual plate on a new pseudo-terminal until SIGTERM, Ctrl-C or ``seconds``.

    Prints the terminal's path on stdout (the one line a script reads), then a note on
    stderr.

    Parameters
    ----------
    settings : SimSettings
        What the virtual plate plays.
    link : str, optional
        Also make this symlink to the terminal (removed on exit).
    seconds : float, optional
        Stop after this long.

    Returns
    -------
    int
        0 when stopped.

    Raises
    ------
    MidfootError
        The scenario cannot be built or ``link`` is not a symlink.
    """
    try:
        plate = make_virtual_plate(settings)
    except SerialException as exc:
        raise MidfootError(str(exc)) from None
    master, slave = os.openpty()
    tty.setraw(slave)  # no echo, no newline translation: bytes pass as on a USB port
    path = os.ttyname(slave)
    os.set_blocking(master, False)
    try:
        if link:
            _make_link(link, path)
    except (MidfootError, OSError) as exc:
        os.close(master)
        os.close(slave)
        raise MidfootError(str(exc)) from None

    stopping = []
    previous = None
    with contextlib.suppress(ValueError):  # not the main thread: Ctrl-C only
        previous = signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    print(path, flush=True)
    print(
        f"midfoot simulate: virtual plate '{settings.scenario}' at {settings.rate_hz} Hz on "
        f"{path}{' (' + link + ')' if link else ''}; Ctrl-C stops",
        file=sys.stderr,
        flush=True,
    )
    max_unread = int(MAX_BACKLOG_S * settings.rate_hz * sample_frame_bytes(settings.channels))
    tick_s = min(0.01, max(0.004, 2.0 / settings.rate_hz / settings.speed))
    line = b""
    t0 = time.monotonic()
    try:
        while not stopping:
            elapsed = time.monotonic() - t0
            if seconds is not None and elapsed >= seconds:
                break
            out = plate.frames_until(elapsed * settings.speed)
            ready, _, _ = select.select([master], [], [], tick_s)
            if ready:
                try:
                    line += os.read(master, 4096)
                except BlockingIOError:
                    pass
                except OSError:
                    break
                while b"\n" in line:
                    command, _, line = line.partition(b"\n")
                    out += plate.frames_until((time.monotonic() - t0) * settings.speed)
                    out += plate.handle_command(command.decode("ascii", errors="replace"))
            if out:
                with contextlib.suppress(BlockingIOError):
                    # A full terminal buffer loses the rest, as a USB port nobody reads.
                    os.write(master, out)
            if _unread_bytes(slave) > max_unread:
                termios.tcflush(slave, termios.TCIFLUSH)
    except KeyboardInterrupt:
        pass
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if link and os.path.islink(link):
            os.unlink(link)
        os.close(master)
        os.close(slave)
    return 0
