"""One live session: a plate, the hinge analyser fed from it, tare, weigh-in and recording.

Qt-free on purpose: the live window, the terminal view (and next the review window and the
drills) all drive it, and a headless Raspberry Pi runs it without any Qt library. Threads:
the analyser, the tare and the weigh-in run inside the acquisition thread (as a block
consumer, well under a millisecond per block) and leave their events in a deque; the
window's timer or the terminal loop calls :meth:`LiveSession.poll` to collect them. The
analyser's rep list is the one list of reps; nothing here keeps a second one.
"""

from __future__ import annotations

import collections
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from analysis.events import (
    AnalysisEvent,
    BodyMassMeasured,
    HoldUpdated,
    RepAborted,
    RepCompleted,
    RepStarted,
    StanceInferred,
)
from analysis.hinge import HingeAnalyser, HingeState
from analysis.library import register_recording
from analysis.presence import EMPTY_MAX_KG, Occupancy, plate_occupancy
from analysis.reps import Asymmetry, Rep, SetSummary, Thresholds, lateral_asymmetry
from analysis.stance import StanceSetup
from analysis.stillness import STEADY_FRACTION, STEADY_REFERENCE_N, Stillness
from daq.acquisition import Acquisition, AcquisitionStatus
from daq.calibration import G_M_S2, Calibration, tare_offsets
from daq.errors import MidfootError
from daq.events import (
    STANCES,
    RecordedEvent,
    RepMarked,
    StanceChanged,
    WeighedIn,
    with_time,
)
from daq.events import (
    Tared as TareRecorded,
)
from daq.lsl import LslFeed
from daq.paths import sessions_dir
from daq.ring import Columns, SampleRing
from daq.series import PlateSeries, concat_series
from daq.source import DEFAULT_BAUD, plate_ports

STANCE_LABELS = {
    "bilateral": "both feet",
    "kickstand-left": "kickstand, left leg leads",
    "kickstand-right": "kickstand, right leg leads",
}
DEFAULT_SCENARIO = "demo"

STILL_WINDOW_S = 1.0
# At start-up the plate may be empty for only a second (the demo scenario steps on at 1 s),
# so the automatic tare judges a shorter stretch than a tare asked for later.
STARTUP_STILL_S = 0.5
STARTUP_TARE_WINDOW_S = 8.0  # plate seconds
# Still for a tare: the force within 1.5 N of its recent mean (HX711 noise on an empty
# plate is a few hundredths of a newton); for a weigh-in the hinge analyser's own band.
TARE_STILL_FRACTION = 0.015
TARE_STILL_REFERENCE_N = 100.0
PERSON_MIN_KG = 20.0  # a weigh-in waits for at least this much on the plate
JOB_TIMEOUT_S = 20.0
REGISTER_WAIT_S = 60.0  # how long closing waits for recordings being indexed
MESSAGE_SHOW_S = 10.0
WEIGHT_AVERAGE_S = 0.25
EVENT_HISTORY = 500
RATE_PROBE_SAMPLES = 16


@dataclass(frozen=True)
class Tared:
    """Event: the plate was tared (the analyser started over)."""

    t_s: float
    automatic: bool


@dataclass(frozen=True)
class StanceSet:
    """Event: the session's stance changed (told by a person, or by a replayed file)."""

    t_s: float
    stance: StanceSetup


SessionEvent = AnalysisEvent | Tared | StanceSet


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


def default_sessions_dir() -> Path:
    """Where recordings go unless a file is given (:func:`daq.paths.sessions_dir`)."""
    return sessions_dir()


def new_recording_path(sessions_dir: Path, stance: str) -> Path:
    """A fresh file name in ``sessions_dir`` for a recording started now."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = sessions_dir / f"midfoot-{stamp}-{stance}.h5"
    k = 1
    while path.exists():
        path = sessions_dir / f"midfoot-{stamp}-{stance}-{k}.h5"
        k += 1
    return path


@dataclass
class StillJob:
    """A tare or weigh-in waiting for the plate to be still."""

    kind: str  # "tare" | "weigh-in"
    started_s: float
    automatic: bool = False
    said: str = ""  # what it last told the person (said once, not over every other message)


@dataclass
class LiveReadout:
    """What every view shows of the plate right now."""

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
    asymmetry: Asymmetry | None = None

    @property
    def percent_body_weight(self) -> float | None:
        """Load on the plate as % of the measured body weight (None before a weigh-in)."""
        if not self.body_mass_kg or self.weight_kg != self.weight_kg:
            return None
        return 100.0 * self.weight_kg / self.body_mass_kg


def asymmetry_text(asymmetry: Asymmetry | None) -> str | None:
    """Left against right lateral shift in words, once both kickstand sides have reps."""
    a = asymmetry
    if a is None or a.left_mean_mm is None or a.right_mean_mm is None:
        return None
    index = "-" if a.index_pct is None else f"{a.index_pct:.0f} %"
    verdict = "  UNEVEN" if a.flag else ""
    return (
        f"left lead {a.left_mean_mm:+.0f} mm | right lead {a.right_mean_mm:+.0f} mm | "
        f"asymmetry {index}{verdict}"
    )


class _StillWindow:
    """The newest seconds of valid samples and their stillness, for a tare or weigh-in."""

    def __init__(self, seconds: float, fraction: float, reference_n: float) -> None:
        self.seconds = seconds
        self.fraction = fraction
        self.reference_n = reference_n
        self.stillness: Stillness | None = None
        self._parts: collections.deque[PlateSeries] = collections.deque()
        self._probe: list[PlateSeries] = []

    def push(self, block: PlateSeries) -> None:
        # Glitched samples (an HX711 reading all ones) say nothing about stillness.
        good = block if block.valid.all() else _take(block, np.flatnonzero(block.valid))
        if len(good) == 0:
            return
        if self.stillness is None:
            self._probe.append(good)
            probe = concat_series(self._probe)
            if len(probe) < RATE_PROBE_SAMPLES:
                return
            rate = probe.rate_hz
            if not rate > 0:
                return
            self.stillness = Stillness(
                rate, fraction=self.fraction, reference_n=self.reference_n, follow_jumps=True
            )
            self._probe = []
            good = probe
        self.stillness.push(good.fz_n)
        self._parts.append(good)
        t_end = float(good.t_s[-1])
        while self._parts and float(self._parts[0].t_s[-1]) < t_end - self.seconds:
            self._parts.popleft()

    def still_stretch(self, seconds: float) -> PlateSeries | None:
        """The last ``seconds`` if the force was steady all through them, else None."""
        if self.stillness is None or self.stillness.still_s < seconds or not self._parts:
            return None
        whole = concat_series(list(self._parts))
        return whole.between(float(whole.t_s[-1]) - seconds, np.inf)

    def reset(self) -> None:
        self._parts.clear()
        if self.stillness is not None:
            self.stillness.reset()


def tared(calibration: Calibration, stretch: PlateSeries) -> Calibration | None:
    """``calibration`` with offsets from a still, empty ``stretch`` (None: no counts in it)."""
    if stretch.counts is None:
        return None
    return calibration.with_tare(tare_offsets(stretch.counts[:, : calibration.plate.n_channels]))


class StartupTare:
    """The live app's start-up tare for a plain recording (``midfoot record``).

    An acquisition consumer: over the first :data:`STARTUP_TARE_WINDOW_S` of plate time it
    waits for :data:`STARTUP_STILL_S` of a still plate; an empty one is tared (the new
    offsets and a ``Tared`` event go into the recording from that sample on; the raw counts
    are kept as they came), a person on it is never zeroed. :attr:`message` says what
    happened, once, for the command to print; :attr:`tared` whether the tare was made.

    Parameters
    ----------
    acquisition : Acquisition
        The running acquisition (its recording receives the tare).
    """

    def __init__(self, acquisition: Acquisition) -> None:
        self.acquisition = acquisition
        self.tared = False
        self.message: str | None = None
        self._window = _StillWindow(STILL_WINDOW_S, TARE_STILL_FRACTION, TARE_STILL_REFERENCE_N)
        self._first_t_s: float | None = None

    def __call__(self, block: PlateSeries) -> None:
        """Acquisition thread: look at one more block until the tare is decided."""
        if self.message is not None or len(block) == 0:  # decided, or nothing to see
            return
        if self._first_t_s is None:
            self._first_t_s = float(block.t_s[0])
        if float(block.t_s[-1]) - self._first_t_s > STARTUP_TARE_WINDOW_S:
            self._finish("the plate was not still and empty at the start, so the recording "
                         "was not tared: weights carry the cells' offsets until you tare")
            return
        self._window.push(block)
        stretch = self._window.still_stretch(STARTUP_STILL_S)
        cal = self.acquisition.calibration
        if stretch is None or cal is None:
            return
        occupancy = plate_occupancy(stretch, bool(cal.calibrated))
        if occupancy == Occupancy.PERSON:
            self._finish("someone was on the plate at the start, so the recording was not "
                         "tared: step off before recording to tare it")
        elif occupancy == Occupancy.EMPTY:
            new = tared(cal, stretch)
            if new is None:
                return
            self.acquisition.set_calibration(new)
            self.acquisition.add_event(TareRecorded(automatic=True))
            self.tared = True
            at_s = float(stretch.t_s[-1]) - self._first_t_s
            self._finish(f"tared on the empty plate at {at_s:.1f} s")

    def _finish(self, message: str) -> None:
        self.message = message
        self._window.reset()


def _take(series: PlateSeries, index: np.ndarray) -> PlateSeries:
    """The samples of ``series`` at ``index`` (copies)."""
    return PlateSeries(
        t_s=series.t_s[index],
        fz_n=series.fz_n[index],
        cop_mm=series.cop_mm[index],
        force_n=series.force_n[index],
        valid=series.valid[index],
        host_t_s=None if series.host_t_s is None else series.host_t_s[index],
        counts=None if series.counts is None else series.counts[index],
        meta=series.meta,
    )


class LiveSession:
    """A plate, its analyser and the user's commands, for the window or the terminal.

    Parameters
    ----------
    url : str
        Port or pyserial URL (``sim://demo`` for the virtual plate, ``replay://F.h5``).
    stance : StanceSetup
        The stance and foot setup the analyser and the plate view use.
    baudrate : int
        For real serial ports.
    auto_tare : bool
        Tare once, at start-up, as soon as the plate is still and clearly empty.
    thresholds : Thresholds, optional
        Fault limits of the analyser.
    """

    def __init__(
        self,
        url: str,
        stance: StanceSetup | None = None,
        *,
        baudrate: int = DEFAULT_BAUD,
        auto_tare: bool = True,
        thresholds: Thresholds | None = None,
    ) -> None:
        self.url = url
        self.stance = stance or StanceSetup()
        self.acquisition = Acquisition(url, baudrate=baudrate)
        self.analyser = HingeAnalyser(self.stance, thresholds)
        self.events: collections.deque[SessionEvent] = collections.deque()
        self.history: collections.deque[SessionEvent] = collections.deque(maxlen=EVENT_HISTORY)
        self.body_mass_kg: float | None = None
        self.hold_s: float | None = None
        self._message: tuple[str, float] | None = None
        self.job: StillJob | None = StillJob("tare", time.monotonic(), True) if auto_tare else None
        self._auto_tare = auto_tare
        self._tare_window = _StillWindow(
            STILL_WINDOW_S, TARE_STILL_FRACTION, TARE_STILL_REFERENCE_N
        )
        self._weigh_window = _StillWindow(STILL_WINDOW_S, STEADY_FRACTION, STEADY_REFERENCE_N)
        # Until the plate is tared (or known calibrated) the forces carry the cells' raw
        # offsets, and an analyser fed with them would weigh the empty plate as a person.
        self._analysing = False
        self._ops: collections.deque[Callable[[], None]] = collections.deque()
        self._taps: list[Callable[[PlateSeries], None]] = []
        self._feeds: list[LslFeed] = []
        self._recording_started: float | None = None
        # Why the last recording is missing from the session index (None: it is there).
        self.register_note: str | None = None
        self._indexing: list[threading.Thread] = []
        self._first_t_s: float | None = None
        self._last_t_s: float | None = None
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
        self.acquisition.open()
        recording = self.acquisition.recording_source
        if recording is not None:
            # A replayed file: its own tared calibration holds, and its stance is the truth.
            self.job = None
            if recording.meta.stance is not None:
                self._set_stance_now(self.stance.with_stance(recording.meta.stance), None)
        self.acquisition.start()

    def stop(self) -> None:
        """Stop acquisition, close any recording and take the feeds off the network."""
        recording = self.status.recording_path
        self.acquisition.stop()
        if recording is not None:
            self._register(recording, wait=True)
        self.wait_for_index()
        for feed in self._feeds:
            feed.close()

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

    @property
    def reps(self) -> list[Rep]:
        """The reps of the current set so far (the analyser's own list)."""
        return self.analyser.reps

    def set_summaries(self) -> list[SetSummary]:
        """One summary per run of reps in the same stance (the analyser's)."""
        return self.analyser.set_summaries()

    def asymmetry(self) -> Asymmetry:
        """Left against right lateral shift of the kickstand reps so far."""
        return lateral_asymmetry(self.reps, self.analyser.thresholds.asymmetry_flag_pct)

    # -- the acquisition thread's side --------------------------------------------------------
    def _on_block(self, block: PlateSeries) -> None:
        while self._ops:
            self._ops.popleft()()
        for tap in list(self._taps):
            tap(block)
        if len(block) == 0:
            return
        for event in block.events:
            if isinstance(event, StanceChanged) and event.stance in STANCES:
                self._set_stance_now(self.stance.with_stance(event.stance), event.t_s)
        self._last_t_s = float(block.t_s[-1])
        if self._first_t_s is None:
            self._first_t_s = float(block.t_s[0])
            if self.calibrated or self.acquisition.recording_source is not None:
                self._analysing = True
        if self.job is not None:
            self._run_job(block)
        if not self._analysing:
            return
        try:
            events = self.analyser.feed(block)
        except Exception as exc:  # noqa: BLE001 - analysis must never stop acquisition
            self.analysis_error = (
                f"the analysis stopped on an error ({exc!r}): reps are no longer counted"
            )
            self._analysing = False
            return
        for event in events:
            if isinstance(event, RepCompleted):
                rep = event.rep
                self._record(
                    RepMarked(
                        index=int(rep.index),
                        start_s=float(rep.start_s),
                        bottom_s=float(rep.bottom_s),
                        lockout_s=float(rep.lockout_s),
                        zone_at_bottom=str(rep.zone_at_bottom),
                        faults=tuple(rep.fault_names),
                    )
                )
        self.events.extend(events)

    def _in_acquisition_thread(self, op: Callable[[], None]) -> None:
        """Run ``op`` before the next block is analysed, so the analyser has one thread."""
        if self.acquisition.ring is None or self.status.state != "streaming":
            op()
        else:
            self._ops.append(op)

    def add_tap(self, tap: Callable[[PlateSeries], None]) -> None:
        """Also give every new block to ``tap`` (in the acquisition thread)."""
        self._taps.append(tap)

    def remove_tap(self, tap: Callable[[PlateSeries], None]) -> None:
        """Stop giving blocks to ``tap``."""
        if tap in self._taps:
            self._taps.remove(tap)

    def add_feed(self, feed: LslFeed) -> None:
        """Publish every block on ``feed`` and mark every event the session records."""
        self._feeds.append(feed)
        self.add_tap(feed)

    def _record(self, event: RecordedEvent) -> None:
        """Write ``event`` into the recording (if any) and mark it on the feeds."""
        self.acquisition.add_event(event)
        if self._feeds:
            timed = event if event.t_s == event.t_s or self._last_t_s is None else (
                with_time(event, self._last_t_s)
            )
            for feed in self._feeds:
                feed.mark_event(timed)

    # -- commands -----------------------------------------------------------------------------
    def request_tare(self) -> None:
        """Tare as soon as the plate is still and clearly empty."""
        self.job = StillJob("tare", time.monotonic())
        self.message = "tare: step off the plate and keep it still..."

    def request_weigh_in(self) -> None:
        """Weigh the person as soon as they stand still on the plate."""
        self.job = StillJob("weigh-in", time.monotonic())
        self.message = "weigh-in: stand still in the middle of the plate..."

    def cancel_job(self) -> None:
        """Forget a pending tare or weigh-in."""
        self.job = None

    def set_stance(self, stance: StanceSetup | str) -> None:
        """Use another stance or foot setup from the next block on (a person said so).

        Parameters
        ----------
        stance : StanceSetup or str
            A full setup, or one of :data:`daq.events.STANCES` keeping the feet.
        """
        if isinstance(stance, str):
            if stance not in STANCES:
                raise MidfootError(f"unknown stance {stance!r}: use one of {', '.join(STANCES)}")
            stance = self.stance.with_stance(stance)
        setup = stance
        self.stance = setup
        self._in_acquisition_thread(lambda: self._set_stance_now(setup, self._last_t_s))
        # The whole setup, so `midfoot analyse` of the recording places the zones as live did.
        self._record(
            StanceChanged(
                stance=setup.stance,
                foot_length_mm=setup.foot_length_mm,
                heel_y_mm=setup.heel_y_mm,
                stance_width_mm=setup.stance_width_mm,
                told=True,
            )
        )

    def _set_stance_now(self, stance: StanceSetup, t_s: float | None) -> None:
        self.stance = stance
        self.analyser.set_stance(stance)
        self.events.append(StanceSet(float("nan") if t_s is None else t_s, stance))

    def reset_set(self) -> None:
        """Start a new set: forget the reps (a body mass given or weighed in stays)."""
        self.hold_s = None
        body = self.body_mass_kg

        def op() -> None:
            self.analyser.reset()
            if body is not None:
                self.analyser.body_mass_kg = body

        self._in_acquisition_thread(op)

    def start_recording(self, path: str) -> None:
        """Record into ``path`` (HDF5), with the stance and body mass as metadata."""
        st = self.stance
        meta = {
            "stance": st.stance,
            "foot_length_mm": st.foot_length_mm,
            "heel_y_mm": st.heel_y_mm,
            "stance_width_mm": st.stance_width_mm,
            "body_mass_kg": self.body_mass_kg if self.body_mass_kg else float("nan"),
        }
        self.acquisition.start_recording(path, meta)
        self._recording_started = time.monotonic()

    def toggle_recording(self, sessions_dir: Path) -> str:
        """Start recording into a new file in ``sessions_dir``, or stop; what happened."""
        if self.status.recording_path is not None:
            path = self.stop_recording()
            return f"saved {path}"
        path = new_recording_path(sessions_dir, self.stance.stance)
        self.start_recording(str(path))
        return f"recording to {path}"

    def stop_recording(self) -> str | None:
        """Close the recording; its path, or None when none was running."""
        self._recording_started = None
        path = self.acquisition.stop_recording()
        if path is not None:
            self._register(path)
        return path

    def _register(self, path: str, wait: bool = False) -> None:
        """Put a finished recording in the session index; a problem is kept in ``register_note``.

        Indexing analyses the whole file (seconds for an hour), so while the session goes
        on it runs on a worker thread and the window never stalls; :meth:`stop` waits for
        it, so a closing app leaves every recording indexed.
        """

        def work() -> None:
            note = register_recording(path)
            self.register_note = note
            if note:
                self.message = note

        if wait:
            work()
            return
        worker = threading.Thread(target=work, name="midfoot-index", daemon=True)
        self._indexing.append(worker)
        worker.start()

    def wait_for_index(self, timeout_s: float = REGISTER_WAIT_S) -> None:
        """Wait for recordings still being put in the session index."""
        deadline = time.monotonic() + timeout_s
        for worker in self._indexing:
            worker.join(max(deadline - time.monotonic(), 0.0))
        self._indexing = [w for w in self._indexing if w.is_alive()]

    @property
    def recording_elapsed_s(self) -> float | None:
        """Seconds since the recording started (None when not recording)."""
        if self._recording_started is None or self.status.recording_path is None:
            return None
        return time.monotonic() - self._recording_started

    # -- the UI thread's side -----------------------------------------------------------------
    def poll(self) -> list[SessionEvent]:
        """Expire a tare or weigh-in that waited too long; the events since the last poll."""
        self._expire_job()
        new = []
        while self.events:
            event = self.events.popleft()
            new.append(event)
            self._apply(event)
        self.history.extend(new)
        return new

    def _apply(self, event: SessionEvent) -> None:
        match event:
            case BodyMassMeasured(body_mass_kg=kg, source=source):
                self.body_mass_kg = float(kg)
                if source == "weigh-in button":
                    self.message = f"weighed in: {kg:.1f} kg"
            case Tared(automatic=automatic):
                self.hold_s = None
                self.message = "tared at start-up (empty, still plate)" if automatic else "tared"
            case RepStarted():
                self.hold_s = None
            case RepAborted():
                self.message = "that movement was not a full rep: it did not count"
            case HoldUpdated(hold_s=hold_s):
                self.hold_s = float(hold_s)
            case RepCompleted():
                self.hold_s = 0.0
            case StanceInferred() if event.mismatch:
                # The chosen stance wins; the person hears once that the feet say otherwise.
                self.message = event.message()

    @property
    def holding(self) -> bool:
        """Whether the person is holding the lockout of the last rep right now."""
        return self.analyser.state == HingeState.HOLDING and bool(self.reps)

    def live_hold_s(self) -> float | None:
        """Seconds held at lockout so far (while holding), else the last hold's final time."""
        reps = self.reps
        if self.holding and reps:
            got = self.window(0.05)
            if got is not None:
                t_now = float(got[0]["t_s"][-1])
                return max(0.0, t_now - float(reps[-1].lockout_s))
        return self.hold_s

    def back_foot_fraction(self) -> float:
        """Share of the weight on the back foot in a kickstand stance (0 until measured)."""
        return float(self.analyser.back_foot_fraction)

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
            rate = self.acquisition.nominal_rate_hz or 1000.0  # INFO's rate, when plausible
        return ring.latest(int(seconds * rate * 1.1) + 2)

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

    def _run_job(self, block: PlateSeries) -> None:
        """Check a pending tare or weigh-in against the newest samples.

        Runs in the acquisition thread after each block, so it sees every stretch of data
        however late the window's timer fires: at start-up the empty plate may last only a
        second before the person steps on.
        """
        job = self.job
        if job is None:
            return
        t_now = float(block.t_s[-1])
        if job.automatic:
            assert self._first_t_s is not None
            if t_now - self._first_t_s > STARTUP_TARE_WINDOW_S:
                self.job = None
                self._analysing = True
                if not self.message:
                    self.message = (
                        "the plate was not still and empty at start-up: step off and press t "
                        "to tare"
                    )
                return
        window = self._tare_window if job.kind == "tare" else self._weigh_window
        window.push(block)
        seconds = STARTUP_STILL_S if job.automatic else STILL_WINDOW_S
        stretch = window.still_stretch(seconds)
        if stretch is None:
            return
        if job.kind == "tare":
            self._try_tare(job, stretch)
        else:
            load_kg = float(np.mean(stretch.fz_n)) / G_M_S2
            if load_kg < PERSON_MIN_KG:
                return
            self.job = None
            self._weigh(load_kg, t_now)

    def _try_tare(self, job: StillJob, stretch: PlateSeries) -> None:
        occupancy = plate_occupancy(stretch, self.calibrated)
        if occupancy == Occupancy.EMPTY:
            self.job = None
            self._tare(stretch, job.automatic)
            return
        if occupancy == Occupancy.PERSON:
            text = (
                "someone is on the plate, so it was not tared: step off, then press t to tare"
                if job.automatic
                else "tare: someone is on the plate; step off and keep it still..."
            )
        else:
            text = (
                "the plate may not be empty, so it was not tared: step off, then press t"
                if job.automatic
                else "tare: is the plate empty? take everything off it and keep it still..."
            )
        if job.said != text:
            # Once per reason: said on every block it would hide every later message (a
            # recording stopped while the tare waits showed no "saved").
            job.said = text
            self.message = text
        if job.automatic:
            # Never zero a person: go on without a tare and say how to make one.
            self.job = None
            self._analysing = True

    def _tare(self, stretch: PlateSeries, automatic: bool) -> None:
        # In the acquisition thread, between two blocks: the next block uses the offsets.
        cal = self.acquisition.calibration
        new = None if cal is None else tared(cal, stretch)
        if new is None:
            return
        self.acquisition.set_calibration(new)
        self._record(TareRecorded(automatic=automatic))
        body = self.body_mass_kg
        self.analyser.reset()
        if body is not None and not automatic:
            self.analyser.body_mass_kg = body
        self._tare_window.reset()
        self._weigh_window.reset()
        self._analysing = True
        self.events.append(Tared(float(stretch.t_s[-1]), automatic))

    def _weigh(self, load_kg: float, t_s: float) -> None:
        try:
            self.analyser.body_mass_kg = load_kg
        except MidfootError as exc:
            self.message = str(exc)
            return
        self._record(WeighedIn(body_mass_kg=load_kg))
        self.events.append(BodyMassMeasured(t_s, load_kg, load_kg, "weigh-in button"))

    def readout(self) -> LiveReadout:
        """The numbers every view shows, from the newest samples."""
        reps = self.reps
        out = LiveReadout(
            status=self.status,
            body_mass_kg=self.body_mass_kg,
            reps=len(reps),
            analyser_state=str(self.analyser.state),
            hold_s=self.live_hold_s(),
            message=self.analysis_error or self.message,
            calibrated=self.calibrated,
            asymmetry=self.asymmetry(),
        )
        got = self.window(WEIGHT_AVERAGE_S)
        if got is not None:
            view, _ = got
            n = max(1, int(view["t_s"].shape[0] / 1.1))
            # The median, so a single HX711 glitch does not move the number.
            fz = view["fz_n"][-n:]
            out.weight_kg = float(np.median(fz)) / G_M_S2
            cop = view["cop_mm"][-1]
            if np.all(np.isfinite(cop)):
                out.cop_mm = (float(cop[0]), float(cop[1]))
                x, y = self.lead_foot_cop_mm(np.array([cop[0]]), np.array([cop[1]]))
                out.zone = str(self.stance.zone_of(x, y)[0])
        if reps:
            out.last_cues = [f.cue for f in reps[-1].faults]
        return out


__all__ = [
    "EMPTY_MAX_KG",
    "STANCES",
    "STANCE_LABELS",
    "LiveReadout",
    "LiveSession",
    "SessionEvent",
    "StanceSet",
    "Tared",
    "asymmetry_text",
    "choose_source",
    "default_sessions_dir",
    "new_recording_path",
    "virtual_plate_url",
]
