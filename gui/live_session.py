"""One live session: a plate's acquisition, the hinge analyser fed from it, tare and weigh-in.

Qt-free on purpose: the window and the terminal view both drive it, and a headless Raspberry
Pi must run it without any Qt library installed. Threads: the analyser runs inside the
acquisition thread (as a ring consumer, well under a millisecond per block) and leaves its
events in a deque; the window's timer or the terminal loop calls :meth:`LiveSession.poll`
to collect them and to run the jobs that wait for a still plate (tare, weigh-in).
"""

from __future__ import annotations

import collections
import dataclasses
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from analysis.stance import StanceSetup
from analysis.stream import BodyMassMeasured, HingeAnalyser
from daq.acquisition import Acquisition, AcquisitionStatus
from daq.calibration import G_M_S2
from daq.errors import MidfootError
from daq.ring import Columns, SampleRing
from daq.source import plate_ports

STANCES = ("bilateral", "kickstand-left", "kickstand-right")
STANCE_LABELS = {
    "bilateral": "both feet",
    "kickstand-left": "kickstand, left leg leads",
    "kickstand-right": "kickstand, right leg leads",
}
DEFAULT_SCENARIO = "demo"

STILL_WINDOW_S = 1.0
# An empty plate wobbles by a fraction of a newton; a person standing as still as they can
# by a few newtons (heartbeat, breathing), so "still" is judged relative to the load.
EMPTY_STILL_STD_N = 1.5
PERSON_STILL_FRACTION = 0.01
PERSON_STILL_MIN_N = 3.0
EMPTY_MAX_KG = 10.0  # a tare refuses while more than this stands on a plate we can weigh
PERSON_MIN_KG = 20.0  # a weigh-in waits for at least this much on the plate
# At start-up the plate may be empty for only a second (the demo scenario steps on at 1 s),
# so the automatic tare judges a shorter stretch than a tare asked for later.
STARTUP_STILL_S = 0.5
STARTUP_TARE_WINDOW_S = 8.0  # plate seconds
JOB_TIMEOUT_S = 20.0
MESSAGE_SHOW_S = 10.0
WEIGHT_AVERAGE_S = 0.25
EVENT_HISTORY = 500


# HX711 glitch: a single sample reading all ones (REFERENCE.md), as a signed or an unsigned
# 24-bit value; and saturation at either end of the range.
GLITCH_COUNTS = (0x7FFFFF, -1, -0x800000)


def glitch_rows(counts: np.ndarray) -> np.ndarray:
    """(N,) bool: rows where some cell read a known HX711 glitch or saturation value."""
    bad = np.zeros(counts.shape[0], dtype=bool)
    for value in GLITCH_COUNTS:
        bad |= (counts == value).any(axis=1)
    return bad


def display_window(view: Columns, seconds: float) -> Columns:
    """Copies of the newest ``seconds`` of t_s, host_t_s, fz_n, cop_mm and force_n for drawing.

    Copies, because the ring keeps moving under its views while Qt paints. Samples where a
    cell read a known HX711 glitch value hold the previous sample instead: a one-sample
    400 kg spike says nothing about the person and would squash every trace's scale. The
    recording and the analyser still get the raw samples.
    """
    t = view["t_s"]
    lo = int(np.searchsorted(t, t[-1] - seconds)) if t.shape[0] else 0
    out = {
        "t_s": t[lo:].copy(),
        "host_t_s": view["host_t_s"][lo:].copy(),
        "fz_n": view["fz_n"][lo:].copy(),
        "cop_mm": view["cop_mm"][lo:].copy(),
        "force_n": view["force_n"][lo:].copy(),
    }
    bad = glitch_rows(view["counts"][lo:])
    if bad.any():
        idx = np.arange(bad.shape[0])
        idx[bad] = 0
        # Each glitch takes the index of the last good sample before it.
        np.maximum.accumulate(idx, out=idx)
        for name in ("fz_n", "cop_mm", "force_n"):
            out[name] = out[name][idx]
    return out


def virtual_plate_url(
    scenario: str = DEFAULT_SCENARIO,
    rate_hz: float | None = None,
    channels: int = 4,
    seed: int = 0,
    speed: float = 1.0,
    extra: dict[str, str] | None = None,
) -> str:
    """The pyserial URL of the virtual plate playing ``scenario``."""
    params: dict[str, str] = {"channels": str(channels), "seed": str(seed), "speed": f"{speed:g}"}
    if rate_hz is not None:
        params = {"rate": f"{rate_hz:g}", **params}
    params.update(extra or {})
    return f"sim://{scenario}?{urllib.parse.urlencode(params, safe=':')}"


def choose_source(port: str | None, scenario: str, rate_hz: float | None) -> tuple[str, str | None]:
    """The URL to open and a note for the user: ``--port``, the one plate found, else virtual.

    Unlike `midfoot record`, the live app never refuses to start: with several candidate
    ports it takes the first and says so (the window can switch), and with none it plays
    the virtual plate under a SIMULATED banner.
    """
    if port:
        return port, None
    found = plate_ports()
    if len(found) == 1:
        return found[0][0], None
    if found:
        names = ", ".join(dev for dev, _ in found)
        return found[0][0], f"several plates found ({names}): using {found[0][0]}"
    return virtual_plate_url(scenario, rate_hz), (
        "no plate found: showing the virtual plate (plug one in and choose it under Plate, "
        "or start with --port)"
    )


@dataclass(frozen=True)
class Tared:
    """Event: the plate was tared (the analyser started over)."""

    t_s: float
    automatic: bool


@dataclass
class StillJob:
    """A tare or weigh-in waiting for the plate to be still."""

    kind: str  # "tare" | "weigh-in"
    started_s: float
    automatic: bool = False


@dataclass
class LiveReadout:
    """What both views show of the plate right now."""

    status: AcquisitionStatus
    weight_kg: float = float("nan")
    body_mass_kg: float | None = None
    cop_mm: tuple[float, float] | None = None
    zone: str = "off"
    reps: int = 0
    analyser_state: str = ""
    hold_s: float | None = None
    last_cues: list[str] = field(default_factory=list)
    message: str | None = None
    calibrated: bool = False

    @property
    def percent_body_weight(self) -> float | None:
        """Load on the plate as % of the measured body weight (None before a weigh-in)."""
        if not self.body_mass_kg or self.weight_kg != self.weight_kg:
            return None
        return 100.0 * self.weight_kg / self.body_mass_kg


class LiveSession:
    """A plate, its analyser and the user's commands, for the window or the terminal.

    Parameters
    ----------
    url : str
        Port or pyserial URL (``sim://demo`` for the virtual plate).
    stance : StanceSetup
        The stance and foot setup the analyser and the plate view use.
    baudrate : int
        For real serial ports.
    auto_tare : bool
        Tare once, at start-up, as soon as the plate is empty and still.
    """

    def __init__(
        self,
        url: str,
        stance: StanceSetup | None = None,
        *,
        baudrate: int = 115200,
        auto_tare: bool = True,
    ) -> None:
        self.url = url
        self.stance = stance or StanceSetup()
        self.acquisition = Acquisition(url, baudrate=baudrate)
        self.analyser = HingeAnalyser(self.stance)
        self.events: collections.deque = collections.deque()
        self.history: collections.deque = collections.deque(maxlen=EVENT_HISTORY)
        self.reps: list = []
        self.body_mass_kg: float | None = None
        self.hold_s: float | None = None
        self._message: tuple[str, float] | None = None
        self.job: StillJob | None = StillJob("tare", time.monotonic(), True) if auto_tare else None
        # Until the start-up tare is settled the forces carry the plate's raw offsets, and an
        # analyser fed with them would weigh the empty plate as a person.
        self._analysing = not auto_tare
        self._ops: collections.deque[Callable[[], None]] = collections.deque()
        self._taps: list[Callable[[Columns], None]] = []
        self._recording_started: float | None = None
        self._first_t_s: float | None = None
        self.analysis_error: str | None = None
        self.acquisition.add_consumer(self._on_block)

    # -- lifecycle ----------------------------------------------------------------------------
    @property
    def message(self) -> str | None:
        """The latest note for the user (tare, weigh-in...), for MESSAGE_SHOW_S seconds."""
        if self._message is None:
            return None
        text, at = self._message
        # A pending tare or weigh-in keeps its prompt up for as long as it waits.
        if self.job is None and time.monotonic() - at > MESSAGE_SHOW_S:
            return None
        return text

    @message.setter
    def message(self, text: str | None) -> None:
        self._message = None if text is None else (text, time.monotonic())

    def start(self) -> None:
        """Open the plate and start the acquisition thread (MidfootError if it cannot)."""
        self.acquisition.start()

    def stop(self) -> None:
        """Stop acquisition and close any recording."""
        self.acquisition.stop()

    @property
    def status(self) -> AcquisitionStatus:
        """The acquisition status (state, rate, drops, CRC errors, recording)."""
        return self.acquisition.status

    @property
    def ring(self) -> SampleRing | None:
        """The sample ring, once the first samples arrived."""
        return self.acquisition.ring

    @property
    def calibrated(self) -> bool:
        """Whether a stored calibration is in use (else weights are approximate)."""
        cal = self.acquisition.calibration
        return bool(cal is not None and cal.calibrated)

    # -- the acquisition thread's side --------------------------------------------------------
    def _on_block(self, columns: Columns) -> None:
        while self._ops:
            self._ops.popleft()()
        for tap in list(self._taps):
            tap(columns)
        if self.job is not None:
            self._run_job(float(columns["t_s"][-1]))
        if not self._analysing:
            return
        try:
            events = self.analyser.feed(columns)
        except Exception as exc:  # noqa: BLE001 - analysis must never stop acquisition
            self.analysis_error = (
                f"the analysis stopped on an error ({exc!r}): reps are no longer counted"
            )
            self._analysing = False
            return
        self.events.extend(events)

    def _in_acquisition_thread(self, op: Callable[[], None]) -> None:
        """Run ``op`` before the next block is analysed, so the analyser has one thread."""
        if self.acquisition.ring is None or self.status.state != "streaming":
            op()
        else:
            self._ops.append(op)

    def add_tap(self, tap: Callable[[Columns], None]) -> None:
        """Also give every new block to ``tap`` (in the acquisition thread)."""
        self._taps.append(tap)

    def remove_tap(self, tap: Callable[[Columns], None]) -> None:
        """Stop giving blocks to ``tap``."""
        if tap in self._taps:
            self._taps.remove(tap)

    # -- commands -----------------------------------------------------------------------------
    def request_tare(self) -> None:
        """Tare as soon as the plate is empty and still."""
        self.job = StillJob("tare", time.monotonic())
        self.message = "tare: step off the plate and keep it still..."

    def request_weigh_in(self) -> None:
        """Weigh the person as soon as they stand still on the plate."""
        self.job = StillJob("weigh-in", time.monotonic())
        self.message = "weigh-in: stand still in the middle of the plate..."

    def cancel_job(self) -> None:
        """Forget a pending tare or weigh-in."""
        self.job = None

    def set_stance(self, stance: StanceSetup) -> None:
        """Use another stance or foot setup from the next block on."""
        self.stance = stance

        def op() -> None:
            self.analyser.set_stance(stance)

        self._in_acquisition_thread(op)
        # The whole setup, so `midfoot analyse` of the recording places the zones as live did.
        self.acquisition.add_event(
            "stance",
            stance=stance.stance,
            foot_length_mm=stance.foot_length_mm,
            heel_y_mm=stance.heel_y_mm if stance.heel_y_mm is not None else float("nan"),
            stance_width_mm=stance.stance_width_mm,
        )

    def reset_set(self) -> None:
        """Start a new set: forget the reps (the body mass stays)."""
        self.reps.clear()
        self.hold_s = None
        self._in_acquisition_thread(self.analyser.reset)

    def start_recording(self, path: str) -> None:
        """Record into ``path`` (HDF5), with the stance and body mass as metadata."""
        st = self.stance
        meta = {
            "stance": st.stance,
            "foot_length_mm": st.foot_length_mm,
            "heel_y_mm": st.heel_y_mm if st.heel_y_mm is not None else float("nan"),
            "stance_width_mm": st.stance_width_mm,
            "body_mass_kg": self.body_mass_kg if self.body_mass_kg else float("nan"),
        }
        self.acquisition.start_recording(path, meta)
        self._recording_started = time.monotonic()

    def stop_recording(self) -> str | None:
        """Close the recording; its path, or None when none was running."""
        self._recording_started = None
        return self.acquisition.stop_recording()

    @property
    def recording_elapsed_s(self) -> float | None:
        """Seconds since the recording started (None when not recording)."""
        if self._recording_started is None or self.status.recording_path is None:
            return None
        return time.monotonic() - self._recording_started

    # -- the UI thread's side -----------------------------------------------------------------
    def poll(self) -> list:
        """Run pending still-plate jobs and return the analyser events since the last poll."""
        self._expire_job()
        new = []
        while self.events:
            event = self.events.popleft()
            new.append(event)
            self._apply(event)
        self.history.extend(new)
        return new

    def _apply(self, event: object) -> None:
        name = type(event).__name__
        if name == "BodyMassMeasured":
            self.body_mass_kg = float(event.body_mass_kg)
            if event.source == "weigh-in button":
                self.message = f"weighed in: {event.body_mass_kg:.1f} kg"
        elif name == "Tared":
            self.reps.clear()
            self.hold_s = None
            self.message = "tared at start-up (empty, still plate)" if event.automatic else "tared"
        elif name == "RepStarted":
            self.hold_s = None
        elif name == "RepAborted":
            self.message = "that movement was not a full rep: it did not count"
        elif name == "HoldUpdated":
            self.hold_s = float(event.hold_s)
            # The analyser re-issues the rep with its hold; keep the copy shown in step.
            for k in range(len(self.reps) - 1, -1, -1):
                if self.reps[k].index == event.index:
                    self.reps[k] = dataclasses.replace(
                        self.reps[k], end_s=float(event.t_s), lockout_hold_s=float(event.hold_s)
                    )
                    break
        elif name == "RepCompleted":
            rep = event.rep
            self.reps.append(rep)
            self.hold_s = 0.0
            self.acquisition.add_event(
                "rep",
                index=int(rep.index),
                start_s=float(rep.start_s),
                bottom_s=float(rep.bottom_s),
                lockout_s=float(rep.lockout_s),
                zone_at_bottom=str(rep.zone_at_bottom),
                faults=[f.name for f in rep.faults],
            )

    @property
    def holding(self) -> bool:
        """Whether the person is holding the lockout of the last rep right now."""
        return str(getattr(self.analyser, "state", "")) == "holding" and bool(self.reps)

    def live_hold_s(self) -> float | None:
        """Seconds held at lockout so far (while holding), else the last hold's final time."""
        if self.holding:
            got = self.window(0.05)
            if got is not None:
                t_now = float(got[0]["t_s"][-1])
                return max(0.0, t_now - float(self.reps[-1].lockout_s))
        return self.hold_s

    def back_foot_fraction(self) -> float:
        """Share of the weight on the back foot in a kickstand stance (0 until measured)."""
        try:
            return float(getattr(self.analyser, "back_foot_fraction", 0.0) or 0.0)
        except (TypeError, ValueError):
            return 0.0

    def lead_foot_cop_mm(self, x_mm: np.ndarray, y_mm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The CoP the zones are judged on: the lead foot's own in a kickstand stance.

        The plate measures the combined CoP of both feet; in a kickstand stance the back
        foot's share pulls it toward the back foot's ball, so the coach's "over the
        midfoot" is about the lead foot's CoP, solved from the standing share.
        """
        return self.stance.lead_foot_cop_mm(x_mm, y_mm, self.back_foot_fraction())

    def window(self, seconds: float) -> tuple[Columns, int] | None:
        """Zero-copy views of the newest ``seconds`` of samples (None before any sample)."""
        ring = self.acquisition.ring
        if ring is None or len(ring) == 0:
            return None
        rate = self.status.rate_hz
        if rate != rate or rate <= 0:
            rate = float(self.status.info.get("rate_hz", 1000) or 1000)
        return ring.latest(int(seconds * rate * 1.1) + 2)

    def _still_stretch(self, seconds: float) -> tuple[np.ndarray, np.ndarray] | None:
        """Counts and total force of the last ``seconds``, or None if too short yet."""
        got = self.window(seconds)
        if got is None:
            return None
        view, _ = got
        t = view["t_s"]
        if t.shape[0] < 5:
            return None
        keep = t >= t[-1] - seconds
        if t[-1] - t[keep][0] < 0.9 * seconds:
            return None
        return view["counts"][keep].copy(), view["fz_n"][keep].astype(np.float64)

    def _expire_job(self) -> None:
        """Give up a tare or weigh-in that waited too long (the UI thread's side)."""
        job = self.job
        if job is None or job.automatic:
            return
        if time.monotonic() - job.started_s > JOB_TIMEOUT_S:
            self.job = None
            self.message = (
                f"{job.kind} gave up: the plate never settled for {STILL_WINDOW_S:.0f} s; "
                "try again and keep still"
            )

    def _run_job(self, t_now_s: float) -> None:
        """Check a pending tare or weigh-in against the newest samples.

        Runs in the acquisition thread after each block, so it sees every stretch of data
        however late the window's timer fires: at start-up the empty plate may last only a
        second before the person steps on.
        """
        job = self.job
        if job is None:
            return
        if job.automatic:
            if self._first_t_s is None:
                self._first_t_s = t_now_s
            if t_now_s - self._first_t_s > STARTUP_TARE_WINDOW_S:
                self.job = None
                self._analysing = True
                self.message = "the plate was not still at start-up: step off and press t to tare"
                return
        window_s = STARTUP_STILL_S if job.automatic else STILL_WINDOW_S
        stretch = self._still_stretch(window_s)
        if stretch is None:
            return
        counts, fz = stretch
        load_kg = float(fz.mean()) / G_M_S2
        spread_n = float(fz.std())
        if job.kind == "tare":
            # An uncalibrated plate's raw offsets can read as anything, so at start-up the
            # first still moment is taken as empty; later a visible person blocks the tare.
            can_weigh = self.calibrated or not job.automatic
            if can_weigh and load_kg > EMPTY_MAX_KG:
                return
            if spread_n >= EMPTY_STILL_STD_N:
                return
            self.job = None
            self._tare(counts, automatic=job.automatic, t_s=t_now_s)
        else:
            if load_kg < PERSON_MIN_KG:
                return
            if spread_n >= max(PERSON_STILL_MIN_N, PERSON_STILL_FRACTION * float(fz.mean())):
                return
            self.job = None
            self._weigh(load_kg, t_s=t_now_s)

    def _tare(self, counts: np.ndarray, automatic: bool, t_s: float) -> None:
        # In the acquisition thread, between two blocks: the next block uses the offsets.
        cal = self.acquisition.calibration
        if cal is None:
            return
        n = cal.plate.n_channels
        offsets = counts[:, :n].astype(np.float64).mean(axis=0)
        self.acquisition.set_calibration(cal.with_tare(offsets))
        self.acquisition.add_event("tare", automatic=automatic)
        self.analyser.reset()
        self._analysing = True
        self.events.append(Tared(t_s, automatic))

    def _weigh(self, load_kg: float, t_s: float) -> None:
        try:
            self.analyser.body_mass_kg = load_kg
        except MidfootError as exc:
            self.message = str(exc)
            return
        self.acquisition.add_event("weigh-in", body_mass_kg=load_kg)
        self.events.append(BodyMassMeasured(t_s, load_kg, load_kg, "weigh-in button"))

    def readout(self) -> LiveReadout:
        """The numbers both views show, from the newest samples."""
        out = LiveReadout(
            status=self.status,
            body_mass_kg=self.body_mass_kg,
            reps=len(self.reps),
            analyser_state=str(getattr(self.analyser, "state", "")),
            hold_s=self.live_hold_s(),
            message=self.analysis_error or self.message,
            calibrated=self.calibrated,
        )
        got = self.window(WEIGHT_AVERAGE_S)
        if got is not None:
            view, _ = got
            n = max(1, int(view["t_s"].shape[0] * WEIGHT_AVERAGE_S / (WEIGHT_AVERAGE_S * 1.1)))
            # The median, so a single HX711 glitch does not move the number.
            fz = view["fz_n"][-n:]
            out.weight_kg = float(np.median(fz)) / G_M_S2
            cop = view["cop_mm"][-1]
            if np.all(np.isfinite(cop)):
                out.cop_mm = (float(cop[0]), float(cop[1]))
                x, y = self.lead_foot_cop_mm(np.array([cop[0]]), np.array([cop[1]]))
                out.zone = str(self.stance.zone_of(x, y)[0])
        if self.reps:
            out.last_cues = [f.cue for f in self.reps[-1].faults]
        return out
