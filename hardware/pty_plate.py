"""``midfoot simulate``: the virtual plate behind a real pseudo-terminal.

Any serial program (the app, pyserial, ``screen``, the Arduino serial monitor) opens the
printed path and reads it like a plate on a USB cable: paced frames, INFO at start-up, and
answers to ``info``/``start``/``stop`` written to it. Bytes nobody reads are thrown away
after a couple of seconds, as a USB serial device's would be, so a late reader gets fresh
data.
"""

from __future__ import annotations

import argparse
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

from daq.cli import CommandParser, UsageError
from daq.frames import sample_frame_bytes
from hardware.protocol_sim import MAX_BACKLOG_S, SimSettings, make_virtual_plate
from hardware.scenarios import SCENARIO_NAMES
from hardware.virtual_plate import RATES_HZ


def _parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="midfoot simulate",
        description="Run the virtual plate on a pseudo-terminal and print its path.",
    )
    parser.add_argument(
        "scenario",
        nargs="?",
        default="demo",
        help=f"what happens on the plate (default demo): {', '.join(SCENARIO_NAMES)}",
    )
    parser.add_argument("--rate", type=int, default=80, help="10, 80 or 1000 samples/s")
    parser.add_argument("--channels", type=int, default=4, help="4, or 8 for two plates")
    parser.add_argument("--seed", type=int, default=0, help="scenario and plate seed")
    parser.add_argument("--speed", type=float, default=1.0, help="device s per wall s")
    parser.add_argument("--mass", type=float, default=None, help="body mass in kg")
    parser.add_argument("--load", type=float, default=0.0, help="kettlebell in kg")
    parser.add_argument("--set-down", action="store_true", help="bell to the floor each rep")
    parser.add_argument("--reps", type=int, default=None, help="reps per set")
    parser.add_argument("--t0-us", type=int, default=0, help="device micros() at start-up")
    parser.add_argument("--no-loop", action="store_true", help="play the scenario once")
    parser.add_argument("--link", default=None, help="also make this symlink to the pty")
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long")
    return parser


def _settings(args: argparse.Namespace) -> SimSettings:
    if args.scenario not in SCENARIO_NAMES:
        raise UsageError(
            f"there is no scenario {args.scenario!r}: use one of {', '.join(SCENARIO_NAMES)}"
        )
    if args.rate not in RATES_HZ:
        raise UsageError(f"--rate {args.rate} is not valid: use 10, 80 or 1000")
    if args.channels not in (4, 8):
        raise UsageError(f"--channels {args.channels} is not valid: use 4 or 8")
    if not 0.01 <= args.speed <= 1000.0:
        raise UsageError(f"--speed {args.speed} is not valid: use 0.01 to 1000")
    if args.seconds is not None and args.seconds <= 0:
        raise UsageError("--seconds must be positive")
    if not 0 <= args.t0_us < 2**32:
        raise UsageError("--t0-us must be between 0 and 4294967295")
    return SimSettings(
        scenario=args.scenario,
        rate_hz=args.rate,
        channels=args.channels,
        seed=args.seed,
        speed=args.speed,
        mass_kg=args.mass,
        load_kg=args.load,
        set_down=args.set_down,
        n_reps=args.reps,
        back_foot_fraction=0.2,
        loop=not args.no_loop,
        t0_us=args.t0_us,
        glitch_rate=1e-4,
        plate=None,
        unplug_s=None,
    )


def _make_link(link: str, target: str) -> None:
    if os.path.lexists(link):
        if not os.path.islink(link):
            raise UsageError(f"--link {link} exists and is not a symlink: choose another path")
        os.unlink(link)
    os.symlink(target, link)


def _unread_bytes(fd: int) -> int:
    buf = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, buf, True)
    return buf[0]


def run_simulate_command(argv: list[str]) -> int:
    """``midfoot simulate [SCENARIO] [--rate HZ] [--channels N] [--seed S] [--speed X]
    [--link PATH] [--seconds S]``: stream the virtual plate on a pseudo-terminal.

    Prints the terminal's path on stdout, then streams until Ctrl-C, SIGTERM or
    ``--seconds``.

    Parameters
    ----------
    argv : list[str]
        The arguments after ``simulate``.

    Returns
    -------
    int
        0 when stopped, 2 on bad arguments (after a one-line message on stderr).
    """
    try:
        args = _parser().parse_args(argv)
        settings = _settings(args)
        plate = make_virtual_plate(settings)
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except (UsageError, SerialException) as exc:
        print(f"midfoot simulate: {exc}", file=sys.stderr)
        return 2

    master, slave = os.openpty()
    tty.setraw(slave)  # no echo, no newline translation: bytes pass as on a USB port
    path = os.ttyname(slave)
    os.set_blocking(master, False)
    try:
        if args.link:
            _make_link(args.link, path)
    except (UsageError, OSError) as exc:
        print(f"midfoot simulate: {exc}", file=sys.stderr)
        os.close(master)
        os.close(slave)
        return 2

    stopping = []
    previous = None
    with contextlib.suppress(ValueError):  # not the main thread: Ctrl-C only
        previous = signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    print(path, flush=True)
    print(
        f"midfoot simulate: virtual plate '{settings.scenario}' at {settings.rate_hz} Hz on "
        f"{path}{' (' + args.link + ')' if args.link else ''}; Ctrl-C stops",
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
            if args.seconds is not None and elapsed >= args.seconds:
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
        if args.link and os.path.islink(args.link):
            os.unlink(args.link)
        os.close(master)
        os.close(slave)
    return 0
