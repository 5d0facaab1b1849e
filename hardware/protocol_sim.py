"""pyserial URL handler ``sim://SCENARIO?rate=80&...``: the virtual plate as a serial port.

After :func:`register` (or ``daq.source.register_url_handlers``),
``serial.serial_for_url("sim://demo?rate=80")`` returns a port whose bytes arrive as the
plate's device time passes (wall clock x ``speed``), answers ``info``/``start``/``stop``
written to it, and can be unplugged on a schedule. Query parameters:

========== ========= =====================================================================
parameter  default   meaning
========== ========= =====================================================================
rate       80        10, 80 (HX711) or 1000 (fast ADC) samples per second
channels   4         4, or 8 for two plates side by side (plate B empty)
seed       0         seed of the scenario and of the plate (gains, offsets, noise)
speed      1         device seconds per wall second
mass       75        body mass in kg (the known mass in kg for ``calibration``, default 20)
load       0         kettlebell in kg
set_down   0         1: the bell goes to the floor at the bottom of each rep
reps       (name)    reps per set
back       0.2       share of weight on the back foot in a kickstand stance
loop       1         1: the scenario repeats; 0: its last state holds
t0_us      0         device micros() at start-up (near 4294967295 to exercise the wrap)
glitch     0.0001    probability that a conversion reads all ones
plate      (preset)  plate preset name (hardware/plates)
unplug     (none)    START:DURATION, plate seconds: the USB cable is out for DURATION s
drill      (medium)  a drill person's drill settings (``DrillSettings.to_text``); ``;``
                     between the drills of a sequence
========== ========= =====================================================================

One URL is one physical plate for the whole process (a registry keyed by the URL): closing
and re-opening continues the same plate, its scenario running on while the port is closed
(those bytes are lost, as on a real port nobody reads). The first open powers it up. During
an unplug, ``read``/``write`` on an open port raise ``SerialException("device
disconnected")`` and stay broken until closed, and opening fails with "could not open port
...: No such file or directory"; the first open after it finds a freshly booted plate (INFO
first, seq from 0, t_us from ``t0_us``) while the person's scenario time has moved on.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
import weakref
from dataclasses import dataclass

import serial
from serial.serialutil import PortNotOpenError, SerialBase, SerialException

from daq.errors import MidfootError
from daq.frames import sample_frame_bytes
from daq.plate import load_plate
from hardware.drill_people import (
    DRILL_PERSON_NAMES,
    DrillScreen,
    make_drill_person,
    screen_of,
)
from hardware.scenarios import SCENARIO_NAMES, make_scenario
from hardware.virtual_plate import RATES_HZ, VirtualPlate

URL_PARAMS = (
    "rate",
    "channels",
    "seed",
    "speed",
    "mass",
    "load",
    "set_down",
    "reps",
    "back",
    "loop",
    "t0_us",
    "glitch",
    "plate",
    "unplug",
    "drill",
)
DEFAULT_SCENARIO = "demo"
# Bytes nobody reads pile up no further than this much device time, like a full OS buffer.
MAX_BACKLOG_S = 2.0


def register() -> None:
    """Make ``sim://`` known to pyserial (appends "hardware" to its handler packages)."""
    if "hardware" not in serial.protocol_handler_packages:
        serial.protocol_handler_packages.append("hardware")


@dataclass(frozen=True)
class SimSettings:
    """What a ``sim://`` URL asks for."""

    scenario: str
    rate_hz: int
    channels: int
    seed: int
    speed: float
    mass_kg: float | None
    load_kg: float
    set_down: bool
    n_reps: int | None
    back_foot_fraction: float
    loop: bool
    t0_us: int
    glitch_rate: float
    plate: str | None
    unplug_s: tuple[float, float] | None
    drill: str | None = None


def _number(params: dict[str, str], key: str, kind: type, default: object, valid: str) -> object:
    if key not in params:
        return default
    try:
        return kind(params[key])
    except ValueError:
        raise SerialException(
            f"sim:// {key}={params[key]!r} is not valid: use {valid}"
        ) from None


def parse_sim_url(url: str) -> SimSettings:
    """Settings from ``sim://SCENARIO?key=value&...``.

    Raises
    ------
    serial.SerialException
        Unknown scenario, parameter or value; the message lists the valid ones.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() != "sim":
        raise SerialException(f"expected a URL like sim://demo?rate=80, not {url!r}")
    name = (parts.netloc + parts.path).strip("/") or DEFAULT_SCENARIO
    if name not in SCENARIO_NAMES and name not in DRILL_PERSON_NAMES:
        raise SerialException(
            f"sim:// has no scenario {name!r}: use one of {', '.join(SCENARIO_NAMES)}, or a "
            "drill person drill-DRILL-BEHAVIOUR (hardware/drill_people.py)"
        )
    query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - set(URL_PARAMS))
    if unknown:
        raise SerialException(
            f"sim:// does not know {', '.join(unknown)}: use {', '.join(URL_PARAMS)}"
        )
    params = {k: v[-1] for k, v in query.items()}
    rate = _number(params, "rate", float, 80.0, "10, 80 or 1000")
    if rate in RATES_HZ:  # 80 and 80.0 alike
        rate = int(rate)
    else:
        raise SerialException(f"sim:// rate={params['rate']} is not valid: use 10, 80 or 1000")
    channels = _number(params, "channels", int, 4, "4 or 8")
    if channels not in (4, 8):
        raise SerialException(f"sim:// channels={channels} is not valid: use 4 or 8")
    speed = _number(params, "speed", float, 1.0, "a number of device seconds per second")
    if not 0.01 <= speed <= 1000.0:
        raise SerialException(f"sim:// speed={speed} is not valid: use 0.01 to 1000")
    t0_us = _number(params, "t0_us", int, 0, "an integer from 0 to 4294967295")
    if not 0 <= t0_us < 2**32:
        raise SerialException(f"sim:// t0_us={t0_us} is not valid: use 0 to 4294967295")
    unplug = None
    if "unplug" in params:
        start, sep, dur = params["unplug"].partition(":")
        try:
            unplug = (float(start), float(dur))
        except ValueError:
            unplug = None
        if not sep or unplug is None or unplug[0] < 0 or unplug[1] <= 0:
            raise SerialException(
                f"sim:// unplug={params['unplug']!r} is not valid: use START:DURATION in "
                "seconds, e.g. unplug=10:3"
            )
    flags = {}
    for key in ("loop", "set_down"):
        value = params.get(key, "1" if key == "loop" else "0")
        if value not in ("0", "1"):
            raise SerialException(f"sim:// {key}={value!r} is not valid: use 0 or 1")
        flags[key] = value == "1"
    mass = _number(params, "mass", float, None, "a mass in kg")
    reps = _number(params, "reps", int, None, "a whole number of reps")
    return SimSettings(
        scenario=name,
        rate_hz=rate,
        channels=channels,
        seed=_number(params, "seed", int, 0, "an integer"),
        speed=speed,
        mass_kg=mass,
        load_kg=_number(params, "load", float, 0.0, "a mass in kg"),
        set_down=flags["set_down"],
        n_reps=reps,
        back_foot_fraction=_number(params, "back", float, 0.2, "a fraction such as 0.2"),
        loop=flags["loop"],
        t0_us=t0_us,
        glitch_rate=_number(params, "glitch", float, 1e-4, "a probability such as 0.0001"),
        plate=params.get("plate"),
        unplug_s=unplug,
        drill=params.get("drill"),
    )


def make_virtual_plate(
    settings: SimSettings, *, start_s: float = 0.0, boot: int = 0,
    screen: DrillScreen | None = None,
) -> VirtualPlate:
    """The virtual plate a ``sim://`` URL (or ``midfoot simulate``) describes.

    Raises
    ------
    serial.SerialException
        A scenario argument or the plate preset is out of range.
    """
    kw: dict[str, object] = {}
    if settings.scenario == "calibration":
        if settings.mass_kg is not None:
            kw["mass_kg"] = settings.mass_kg
    elif settings.mass_kg is not None:
        kw["body_mass_kg"] = settings.mass_kg
    try:
        plate = load_plate(settings.plate) if settings.plate else load_plate()
        if settings.scenario == "calibration":
            kw["plate"] = plate
        if settings.scenario in DRILL_PERSON_NAMES:
            scenario = _drill_person_scenario(settings, screen)
        else:
            scenario = make_scenario(
                settings.scenario,
                load_kg=settings.load_kg,
                set_down=settings.set_down,
                back_foot_fraction=settings.back_foot_fraction,
                n_reps=settings.n_reps,
                seed=settings.seed,
                **kw,
            )
        return VirtualPlate(
            scenario,
            plate=plate,
            rate_hz=settings.rate_hz,
            channels=settings.channels,
            seed=settings.seed,
            glitch_rate=settings.glitch_rate,
            t0_us=settings.t0_us,
            loop=settings.loop,
            start_s=start_s,
            boot=boot,
        )
    except (ValueError, MidfootError) as exc:
        raise SerialException(f"sim:// cannot make that plate: {exc}") from exc


def _drill_person_scenario(settings: SimSettings, screen: DrillScreen | None) -> object:
    """The scenario of a drill person (``sim://drill-lateral-late?drill=...``)."""
    from analysis.drills import DrillSettings

    drill, _, _ = settings.scenario.removeprefix("drill-").partition("-")
    text = settings.drill or f"drill={drill}"
    # A sequence of drills: each one's settings, separated by ";".
    sequence = [DrillSettings.from_text(part) for part in text.split(";") if part.strip()]
    person = make_drill_person(
        settings.scenario,
        sequence,
        body_mass_kg=settings.mass_kg if settings.mass_kg is not None else 75.0,
        seed=settings.seed,
        screen=screen,
    )
    return person.scenario


class SimulatedPlate:
    """One virtual plate running on the wall clock, shared by every open of its URL."""

    def __init__(self, url: str, settings: SimSettings) -> None:
        self.url = url
        self.settings = settings
        self.lock = threading.RLock()
        self.wall0: float | None = None  # powered up by the first open
        self.boot = 0
        self.boot_plate_s = 0.0
        self.plate: VirtualPlate | None = None
        self.owner: weakref.ref | None = None

    def plate_time_s(self, now: float | None = None) -> float:
        """Seconds of plate time since the first open (wall clock x speed)."""
        if self.wall0 is None:
            return 0.0
        now = time.monotonic() if now is None else now
        return (now - self.wall0) * self.settings.speed

    def unplugged(self, plate_s: float) -> bool:
        """Whether the cable is out at plate time ``plate_s``."""
        u = self.settings.unplug_s
        return u is not None and u[0] <= plate_s < u[0] + u[1]

    def reboot_due(self, plate_s: float) -> bool:
        """Whether the next open finds the plate back from its unplug, freshly started."""
        u = self.settings.unplug_s
        return self.wall0 is not None and u is not None and plate_s >= sum(u) and self.boot == 0

    def connect(self) -> int:
        """Power up or reconnect for an open; returns the boot number the port talks to."""
        if self.wall0 is None:
            self.wall0 = time.monotonic()
            # A drill person watches the drill's screen when one is registered for the URL.
            self.plate = make_virtual_plate(self.settings, screen=screen_of(self.url))
            return self.boot
        plate_s = self.plate_time_s()
        if self.unplugged(plate_s):
            raise SerialException(f"could not open port {self.url}: No such file or directory")
        if self.reboot_due(plate_s):
            # Back from the unplug: a fresh start-up, the person's scenario time running on.
            self.boot = 1
            self.boot_plate_s = plate_s
            self.plate = make_virtual_plate(self.settings, start_s=plate_s, boot=1,
                                            screen=screen_of(self.url))
        else:
            # Everything sent while the port was closed is lost.
            self.plate.drop_until(plate_s - self.boot_plate_s)
        return self.boot

    def device_time_s(self) -> float:
        """Seconds since the current start-up."""
        return self.plate_time_s() - self.boot_plate_s


_REGISTRY: dict[str, SimulatedPlate] = {}
_REGISTRY_LOCK = threading.Lock()


def simulated_plate(url: str) -> SimulatedPlate:
    """The process-wide plate behind ``url`` (made on first use)."""
    with _REGISTRY_LOCK:
        sim = _REGISTRY.get(url)
        if sim is None:
            sim = SimulatedPlate(url, parse_sim_url(url))
            _REGISTRY[url] = sim
        return sim


def clear_registry() -> None:
    """Forget every simulated plate (tests start from power-up)."""
    with _REGISTRY_LOCK:
        _REGISTRY.clear()


class Serial(SerialBase):
    """The ``sim://`` port: paced bytes in, command lines out."""

    def open(self) -> None:
        """Open (power up, or reconnect to) the plate named by the URL."""
        if self.is_open:
            raise SerialException("Port is already open.")
        if self._port is None:
            raise SerialException("Port must be configured before it can be used.")
        sim = simulated_plate(self._port)
        with sim.lock:
            owner = sim.owner() if sim.owner is not None else None
            plate_s = sim.plate_time_s()
            if sim.unplugged(plate_s):
                raise SerialException(
                    f"could not open port {self._port}: No such file or directory"
                )
            in_use = owner is not None and owner.is_open and not owner._dead
            if in_use and not sim.reboot_due(plate_s):
                raise SerialException(
                    f"could not open port {self._port}: [Errno 16] Device or resource busy"
                )
            self._boot = sim.connect()
            sim.owner = weakref.ref(self)
        self._sim = sim
        self._buffer = bytearray()
        self._line = bytearray()
        self._dead = False
        frame = sample_frame_bytes(sim.settings.channels)
        self._max_bytes = int(MAX_BACKLOG_S * sim.settings.rate_hz * frame) + 4096
        self._sleep_s = min(0.01, max(0.0005, 0.5 / sim.settings.rate_hz / sim.settings.speed))
        self.is_open = True

    def from_url(self, url: str) -> str:
        """The URL itself: parsing happens at open."""
        return url

    def _reconfigure_port(self, *args: object, **kwargs: object) -> None:
        # Baud rate and framing mean nothing to a virtual plate.
        pass

    def close(self) -> None:
        """Close the port; the plate keeps running."""
        self.is_open = False

    def _check_alive(self) -> None:
        if not self.is_open:
            raise PortNotOpenError()
        sim = self._sim
        if self._dead or sim.unplugged(sim.plate_time_s()) or sim.boot != self._boot:
            self._dead = True
            raise SerialException("device disconnected")

    def _fill(self) -> None:
        """Move what the plate has sent by now into the input buffer (lock held)."""
        self._check_alive()
        plate = self._sim.plate
        t_dev = self._sim.device_time_s()
        if t_dev - plate.clock_s > MAX_BACKLOG_S:
            plate.drop_until(t_dev - MAX_BACKLOG_S)
        self._buffer += plate.frames_until(t_dev)
        excess = len(self._buffer) - self._max_bytes
        if excess > 0:
            del self._buffer[:excess]

    @property
    def in_waiting(self) -> int:
        """Bytes readable now."""
        with self._sim.lock:
            self._fill()
            return len(self._buffer)

    def read(self, size: int = 1) -> bytes:
        """Up to ``size`` bytes, waiting up to ``timeout`` seconds (forever if None)."""
        if not self.is_open:
            raise PortNotOpenError()
        timeout = self._timeout
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._sim.lock:
                self._fill()
                if len(self._buffer) >= size or timeout == 0 or (
                    deadline is not None and time.monotonic() >= deadline
                ):
                    data = bytes(self._buffer[:size])
                    del self._buffer[:size]
                    return data
            wait = self._sleep_s
            if deadline is not None:
                wait = min(wait, max(0.0, deadline - time.monotonic()))
            time.sleep(wait)

    def write(self, data: bytes) -> int:
        """Send command bytes; each complete line is answered in the byte stream."""
        if not self.is_open:
            raise PortNotOpenError()
        data = bytes(data)
        with self._sim.lock:
            self._fill()
            self._line += data
            while b"\n" in self._line:
                line, _, rest = bytes(self._line).partition(b"\n")
                self._line = bytearray(rest)
                text = line.decode("ascii", errors="replace")
                self._buffer += self._sim.plate.handle_command(text)
        return len(data)

    def reset_input_buffer(self) -> None:
        """Discard everything received so far."""
        with self._sim.lock:
            self._fill()
            self._buffer.clear()

    def reset_output_buffer(self) -> None:
        """Nothing is ever waiting to go out."""

    @property
    def out_waiting(self) -> int:
        """Commands are delivered at once."""
        return 0

    def cancel_read(self) -> None:
        """Reads end by timeout; nothing to cancel."""
