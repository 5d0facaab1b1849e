"""Lab Streaming Layer outlets of a plate: a force stream and a marker stream.

The force stream carries, per sample, total vertical force (N), CoP x and y (mm, plate
coordinates of PROTOCOL.md) and each cell's force (N), at the plate's nominal rate. Its
timestamps come from the plate's own clock (``t_s`` of each :class:`~daq.series.PlateSeries`
block), mapped onto LSL's clock by :class:`ClockMap`, never from when the bytes happened to
arrive: USB and the host's scheduler delay blocks by milliseconds to hundreds of
milliseconds, which would smear the samples against mocap and EMG recorded beside them.

The marker stream carries one string per event, stamped through the same mapping from the
event's plate time, so a marker lines up with the force sample it belongs to. Its
vocabulary (docs/interop.md): ``rep N start|bottom|lockout``, ``fault NAME``, ``cue TEXT``,
``stance NAME``, ``tare``, ``weigh-in KG kg``, ``note TEXT``, ``reconnect``,
``disconnect``, and whatever text a caller (a drill's ``target ...`` and ``hit ...``) marks.

Use (the record, live and drill commands)::

    outlet = LslOutlet(plate_id="virt-0001", nominal_rate_hz=1000.0, n_cells=4)
    acquisition consumer:  outlet.publish(block)          # every PlateSeries block
    analyser events:       outlet.mark_event(rep_marked)  # typed events
    anything else:         outlet.mark("cue hips back", t_s)
    at the end:            outlet.close()

pylsl is optional (the ``interop`` extra); constructing an outlet without it raises a
:class:`~daq.errors.MidfootError` saying how to install it.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections import deque
from dataclasses import asdict
from pathlib import Path

import numpy as np

from daq.errors import MidfootError
from daq.events import (
    CalibrationChanged,
    Disconnected,
    NoteAdded,
    Reconnected,
    RecordedEvent,
    RepMarked,
    StanceChanged,
    Tared,
    UnknownEvent,
    WeighedIn,
    event_kind,
)
from daq.plate import PlateGeometry
from daq.series import PlateSeries

INSTALL_HINT = "install the lab extras with `pip install 'midfoot[interop]'`"
FORCE_STREAM_TYPE = "Force"
MARKER_STREAM_TYPE = "Markers"

# Clock mapping. A block's last sample was latched just before its bytes left the plate, so
# its arrival time is its plate time plus a delay that is never below the link's minimum:
# the lowest arrivals (the lower envelope) trace the clock relation, later ones are noise.
BIN_S = 0.5  # one envelope point (the least-delayed arrival) per half second of plate time
WINDOW_S = 300.0  # the fit looks at the last five minutes
MIN_SKEW_SPAN_S = 2.0  # before this much plate time the rates are taken as equal
MAX_SKEW = 0.01  # a plate's crystal or resonator is within 1 % of the host's clock
SLEW_HORIZON_S = 2.0  # a stamp error is taken out over this much plate time ...
MAX_SLEW = 0.005  # ... changing the stamp rate by at most 0.5 %, so stamps never go back
JUMP_S = 1.0  # a stamp error beyond this (host suspended) is jumped, forward only
ANCHORS = 20_000  # pushed (plate time, stamp) pairs kept for stamping late markers
# The first second of samples is held back until the clock has seen that many arrivals:
# a first block that came late (the port's backlog, a busy host) would otherwise set the
# stamps late, and stamps can only catch up slowly (they never go back).
WARMUP_S = 1.0
CLOSE_LINGER_S = 0.5


class ClockMap:
    """Plate seconds -> LSL seconds, from when blocks arrived.

    The relation ``lsl = offset + slope * plate`` is the lower envelope of (plate time,
    arrival) points: their lower convex hull, the edge under the points' mean time, so a
    late arrival never moves it. ``slope`` is clamped to 1 +- :data:`MAX_SKEW` and held at 1
    until :data:`MIN_SKEW_SPAN_S` of plate time is seen. Stamps handed out follow the line
    by slewing (at most :data:`MAX_SLEW`), so they are strictly increasing even while the
    estimate moves.
    """

    def __init__(self) -> None:
        self._bins: deque[list[float]] = deque()  # [bin index, plate t, arrival]
        self.offset_s = math.nan
        self.slope = 1.0
        self._bins_seen = 0
        self._bins_fitted = 0
        self._last: tuple[float, float] | None = None
        self._anchor_t: deque[float] = deque(maxlen=ANCHORS)
        self._anchor_s: deque[float] = deque(maxlen=ANCHORS)

    @property
    def ready(self) -> bool:
        """Whether one arrival has been seen."""
        return math.isfinite(self.offset_s)

    def observe(self, plate_t_s: float, arrival_s: float) -> None:
        """One block's last sample (plate time) arrived at ``arrival_s`` (LSL clock)."""
        if not (math.isfinite(plate_t_s) and math.isfinite(arrival_s)):
            return
        index = math.floor(plate_t_s / BIN_S)
        if self._bins and self._bins[-1][0] == index:
            last = self._bins[-1]
            if arrival_s - plate_t_s < last[2] - last[1]:
                last[1], last[2] = plate_t_s, arrival_s
        elif not self._bins or index > self._bins[-1][0]:
            self._bins.append([index, plate_t_s, arrival_s])
            self._bins_seen += 1
            while self._bins and self._bins[0][1] < plate_t_s - WINDOW_S:
                self._bins.popleft()
        if self._bins_seen != self._bins_fitted:
            self._fit()
        # Between fits, keep the line under every point.
        low = arrival_s - self.slope * plate_t_s
        if not self.ready or low < self.offset_s:
            self.offset_s = low

    def _fit(self) -> None:
        self._bins_fitted = self._bins_seen
        pts = np.array([(b[1], b[2]) for b in self._bins])
        d, a = pts[:, 0], pts[:, 1]
        slope = 1.0
        if d[-1] - d[0] >= MIN_SKEW_SPAN_S:
            hull = _lower_hull(d - d[0], a - a[0])
            mean = float(np.mean(d - d[0]))
            for (x0, y0), (x1, y1) in zip(hull[:-1], hull[1:], strict=True):
                if x0 <= mean <= x1 and x1 > x0:
                    slope = (y1 - y0) / (x1 - x0)
                    break
            slope = min(max(slope, 1.0 - MAX_SKEW), 1.0 + MAX_SKEW)
        self.slope = float(slope)
        self.offset_s = float(np.min(a - slope * d))

    def target(self, plate_t_s: np.ndarray | float) -> np.ndarray:
        """The fitted line at ``plate_t_s`` (no slewing)."""
        return self.offset_s + self.slope * np.asarray(plate_t_s, dtype=np.float64)

    def stamps(self, plate_t_s: np.ndarray) -> np.ndarray:
        """LSL stamps for the next samples, in order (strictly after every earlier stamp).

        Parameters
        ----------
        plate_t_s : (N,) array
            Plate times of the samples, later than those already stamped.
        """
        d = np.asarray(plate_t_s, dtype=np.float64)
        if d.shape[0] == 0 or not self.ready:
            return np.full(d.shape[0], np.nan)
        if self._last is None:
            s = self.target(d)
        else:
            d_last, s_last = self._last
            error = float(self.target(d_last)) - s_last
            if error > JUMP_S:
                s_last += error
                error = 0.0
            correction = min(max(error / SLEW_HORIZON_S, -MAX_SLEW), MAX_SLEW)
            s = s_last + (d - d_last) * self.slope * (1.0 + correction)
            # Plate time never runs back within a series, but a stamp must not either.
            floor = s_last + 1e-7 * np.arange(1, d.shape[0] + 1)
            s = np.maximum(s, floor)
        s = np.maximum.accumulate(s)
        self._last = (float(d[-1]), float(s[-1]))
        self._anchor_t.extend((float(d[0]), float(d[-1])))
        self._anchor_s.extend((float(s[0]), float(s[-1])))
        return s

    def stamp_of(self, plate_t_s: float) -> float:
        """The stamp of plate time ``plate_t_s`` as the samples around it got (or will get).

        NaN before any arrival.
        """
        if not self.ready:
            return math.nan
        if not self._anchor_t:
            return float(self.target(plate_t_s))
        t_last, s_last = self._anchor_t[-1], self._anchor_s[-1]
        if plate_t_s >= t_last:
            return s_last + (plate_t_s - t_last) * self.slope
        t0, s0 = self._anchor_t[0], self._anchor_s[0]
        if plate_t_s <= t0:
            return s0 + (plate_t_s - t0) * self.slope
        return float(np.interp(plate_t_s, np.asarray(self._anchor_t), np.asarray(self._anchor_s)))


def _lower_hull(x: np.ndarray, y: np.ndarray) -> list[tuple[float, float]]:
    """Lower convex hull of points sorted by x (Andrew's monotone chain)."""
    hull: list[tuple[float, float]] = []
    for p in zip(x.tolist(), y.tolist(), strict=True):
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = hull[-2], hull[-1]
            if (x2 - x1) * (p[1] - y1) - (y2 - y1) * (p[0] - x1) <= 0:
                hull.pop()
            else:
                break
        hull.append(p)
    return hull


def marker_texts(event: RecordedEvent | object) -> list[tuple[str, float]]:
    """The marker strings of one typed event, each with its plate time.

    Parameters
    ----------
    event : RecordedEvent
        Any recorded event (``t_s`` set); a rep gives its start, bottom and lockout and one
        marker per fault at the lockout.

    Returns
    -------
    list of (str, float)
        Text and plate time, in time order.
    """
    t = float(getattr(event, "t_s", math.nan))
    match event:
        case RepMarked():
            n = event.index + 1
            out = [
                (f"rep {n} start", event.start_s),
                (f"rep {n} bottom", event.bottom_s),
                (f"rep {n} lockout", event.lockout_s),
            ]
            out += [(f"fault {name}", event.lockout_s) for name in event.faults]
            return out
        case StanceChanged():
            return [(f"stance {event.stance}", t)]
        case Tared():
            return [("tare", t)]
        case WeighedIn():
            return [(f"weigh-in {event.body_mass_kg:.1f} kg", t)]
        case NoteAdded():
            return [(f"note {event.text}", t)]
        case Reconnected():
            return [("reconnect", t)]
        case Disconnected():
            return [("disconnect", t)]
        case CalibrationChanged():
            return [("calibration", t)]
        case UnknownEvent():
            return [(f"{event.kind} {json.dumps(event.data, default=str)}".strip(), t)]
        case _:
            # Events of other layers (drill targets and hits): their kind and fields.
            try:
                fields = {
                    k: v for k, v in asdict(event).items() if k not in ("sample_index", "t_s")
                }
            except TypeError:
                fields = {}
            text = f"{event_kind(event)} {json.dumps(fields, default=str)}" if fields else ""
            return [(text or event_kind(event), t)]


def require_pylsl() -> None:
    """Raise :class:`MidfootError` now, before anything starts, if pylsl is missing."""
    _pylsl()


def _pylsl():
    try:
        import pylsl
    except ImportError:
        raise MidfootError(f"--lsl needs the pylsl package: {INSTALL_HINT}") from None
    _quiet_liblsl(pylsl)
    return pylsl


_QUIETED = False


def _quiet_liblsl(pylsl) -> None:
    """Errors only from liblsl's own log, unless the user has an LSL config of their own."""
    global _QUIETED
    if _QUIETED:
        return
    _QUIETED = True
    places = [
        Path("lsl_api.cfg"),
        Path.home() / "lsl_api" / "lsl_api.cfg",
        Path("/etc/lsl_api/lsl_api.cfg"),
    ]
    if os.environ.get("LSLAPICFG") or any(p.exists() for p in places):
        return
    try:
        pylsl.lib.lib.lsl_set_config_content(b"[log]\nlevel = -2\n")
    except AttributeError:
        pass


class LslOutlet:
    """A plate's force and marker streams on the local network.

    Parameters
    ----------
    plate_id : str
        The plate's identifier (names the streams and their ``source_id``, so LabRecorder
        finds them again after a restart).
    nominal_rate_hz : float, optional
        The plate's stated rate; default the first block's ``meta.nominal_rate_hz``, else its
        measured rate.
    n_cells : int, optional
        Cells per sample; with ``nominal_rate_hz`` the force stream is created at once,
        otherwise at the first block.
    plate : PlateGeometry, optional
        Written into the stream description (cell positions).
    """

    def __init__(
        self,
        plate_id: str = "plate",
        *,
        nominal_rate_hz: float | None = None,
        n_cells: int | None = None,
        plate: PlateGeometry | None = None,
    ) -> None:
        self._lsl = _pylsl()
        self.plate_id = plate_id or "plate"
        self.nominal_rate_hz = nominal_rate_hz
        self.plate = plate
        self.clock = ClockMap()
        self._lock = threading.Lock()
        self._force = None
        self._n_cells: int | None = None
        self._held: list[PlateSeries] = []
        self._held_marks: list[tuple[str, float]] = []
        self._first_t_s: float | None = None
        self._warm = False
        self._closed = False
        self.samples_pushed = 0
        self.markers_pushed = 0
        info = self._lsl.StreamInfo(
            f"midfoot {self.plate_id} markers",
            MARKER_STREAM_TYPE,
            1,
            self._lsl.IRREGULAR_RATE,
            "string",
            f"midfoot-{self.plate_id}-markers",
        )
        info.desc().append_child_value("manufacturer", "midfoot")
        self._markers = self._lsl.StreamOutlet(info)
        if n_cells is not None and nominal_rate_hz:
            self._open_force(n_cells, float(nominal_rate_hz))

    def _open_force(self, n_cells: int, rate_hz: float) -> None:
        lsl = self._lsl
        info = lsl.StreamInfo(
            f"midfoot {self.plate_id} force",
            FORCE_STREAM_TYPE,
            3 + n_cells,
            rate_hz,
            "float32",
            f"midfoot-{self.plate_id}-force",
        )
        desc = info.desc()
        desc.append_child_value("manufacturer", "midfoot")
        desc.append_child_value(
            "coordinates",
            "plate centre; x medio-lateral, + to the person's right; y antero-posterior, "
            "+ forward; mm",
        )
        channels = desc.append_child("channels")
        names = [("Fz", "N", "Force"), ("CoPx", "mm", "Position"), ("CoPy", "mm", "Position")]
        for i in range(n_cells):
            where = ""
            if self.plate is not None and i < self.plate.n_channels:
                x, y = self.plate.cells_mm[i]
                where = f" at x={x:g} y={y:g} mm"
            names.append((f"F{i}", "N", f"Force{where}"))
        for label, unit, kind in names:
            ch = channels.append_child("channel")
            ch.append_child_value("label", label)
            ch.append_child_value("unit", unit)
            ch.append_child_value("type", kind)
        self._force = lsl.StreamOutlet(info, chunk_size=0, max_buffered=360)
        self._n_cells = n_cells

    def publish(self, block: PlateSeries, arrival_s: float | None = None) -> None:
        """Push one block of samples, stamped from its plate times.

        Parameters
        ----------
        block : PlateSeries
            The newest samples (after all earlier ones).
        arrival_s : float, optional
            When the block arrived, on LSL's clock (default: now). Given explicitly when
            replaying a recording or in tests.
        """
        n = len(block)
        if n == 0 or self._closed:
            return
        with self._lock:
            arrival = self._lsl.local_clock() if arrival_s is None else float(arrival_s)
            if self._force is None:
                rate = self.nominal_rate_hz or block.meta.nominal_rate_hz
                if not rate or not math.isfinite(rate):
                    rate = block.rate_hz if math.isfinite(block.rate_hz) else 0.0
                self._open_force(block.n_cells, float(rate))
            self.clock.observe(float(block.t_s[-1]), arrival)
            self._held.append(block)
            if self._first_t_s is None:
                self._first_t_s = float(block.t_s[0])
            if float(block.t_s[-1]) - self._first_t_s < WARMUP_S and not self._warm:
                return
            self._warm = True
            held, self._held = self._held, []
            for part in held:
                self._push(part)
            self._push_held_marks()
        for part in held:
            for event in part.events:
                self.mark_event(event)

    def _push(self, block: PlateSeries) -> None:
        n = len(block)
        stamps = self.clock.stamps(block.t_s)
        data = np.empty((n, 3 + (self._n_cells or 0)), dtype=np.float32)
        data[:, 0] = block.fz_n
        data[:, 1:3] = block.cop_mm
        cells = min(block.n_cells, self._n_cells or 0)
        data[:, 3:] = np.nan
        data[:, 3 : 3 + cells] = block.force_n[:, :cells]
        data[~block.valid] = np.nan
        assert self._force is not None
        self._force.push_chunk(data, stamps.tolist())
        self.samples_pushed += n

    def mark(self, text: str, t_s: float | None = None) -> None:
        """Push one marker at plate time ``t_s`` (default: now).

        Parameters
        ----------
        text : str
            The marker (see the module docstring for the vocabulary).
        t_s : float, optional
            Plate time the marker belongs to.
        """
        with self._lock:
            if self._markers is None:
                return
            timed = t_s is not None and math.isfinite(t_s)
            if timed and not self._warm and self._held:
                # Stamped with the samples once the clock has warmed up.
                self._held_marks.append((str(text), float(t_s)))  # type: ignore[arg-type]
                return
            self._push_mark(str(text), float(t_s) if timed else math.nan)  # type: ignore[arg-type]

    def _push_mark(self, text: str, t_s: float) -> None:
        stamp = self.clock.stamp_of(t_s) if math.isfinite(t_s) else math.nan
        if not math.isfinite(stamp):
            stamp = self._lsl.local_clock()
        assert self._markers is not None
        self._markers.push_sample([text], stamp)
        self.markers_pushed += 1

    def _push_held_marks(self) -> None:
        marks, self._held_marks = self._held_marks, []
        for text, t_s in marks:
            self._push_mark(text, t_s)

    def mark_event(self, event: RecordedEvent | object) -> None:
        """Push the markers of one typed event (see :func:`marker_texts`)."""
        for text, t_s in marker_texts(event):
            self.mark(text, t_s)

    def flush(self) -> None:
        """Push samples still held back for the clock's warm-up (a short recording's end)."""
        with self._lock:
            held, self._held = self._held, []
            self._warm = True
            for part in held:
                if self._force is not None:
                    self._push(part)
            if self._markers is not None:
                self._push_held_marks()
        for part in held:
            for event in part.events:
                self.mark_event(event)

    def close(self) -> None:
        """Push what is held, then take the streams off the network.

        Connected inlets get :data:`CLOSE_LINGER_S` to take the last chunks: an inlet that
        finds its outlet gone drops what it had not pulled yet.
        """
        self.flush()
        outlets = [o for o in (self._force, self._markers) if o is not None]
        if any(o.have_consumers() for o in outlets):
            time.sleep(CLOSE_LINGER_S)
        with self._lock:
            self._closed = True
            self._force = None
            self._markers = None


class LslFeed:
    """A block consumer that publishes a plate on LSL, opened at its first block.

    The outlet opens when the first block arrives, when the plate's INFO (its id and rate)
    is known, so the stream names stay the same from one session to the next. An LSL error
    stops publishing with one sentence in :attr:`error`; the acquisition, the recording and
    the analysis go on.

    Parameters
    ----------
    first_marks : list of str
        Markers pushed at the first sample (e.g. ``record start``, the stance).
    closing_mark : str, optional
        Marker pushed at the last sample when closing.
    """

    def __init__(self, first_marks: list[str] | None = None, closing_mark: str | None = None):
        self.first_marks = list(first_marks or [])
        self.closing_mark = closing_mark
        self.outlet: LslOutlet | None = None
        self.error: str | None = None
        self.last_t_s = float("nan")

    def __call__(self, block: PlateSeries) -> None:
        """Publish one block (in the acquisition thread)."""
        if self.error is not None or len(block) == 0:
            return
        try:
            first = self.outlet is None
            if self.outlet is None:
                rate = block.meta.nominal_rate_hz
                self.outlet = LslOutlet(
                    block.meta.plate_id or "plate",
                    nominal_rate_hz=rate if rate == rate else None,
                    n_cells=block.n_cells,
                    plate=block.meta.plate,
                )
            self.outlet.publish(block)
            if first:
                # After the first block, so the markers are stamped on the plate's clock.
                for text in self.first_marks:
                    self.outlet.mark(text, float(block.t_s[0]))
            self.last_t_s = float(block.t_s[-1])
        except (RuntimeError, ValueError, OSError, TypeError) as exc:
            self.error = f"LSL publishing stopped ({exc}); everything else goes on"

    def mark(self, text: str, t_s: float | None = None) -> None:
        """A marker at ``t_s`` (default the newest sample's plate time)."""
        if self.outlet is not None and self.error is None:
            self.outlet.mark(text, self.last_t_s if t_s is None else t_s)

    def mark_event(self, event: RecordedEvent | object) -> None:
        """The markers of one typed event (a rep and its faults, a stance change, ...)."""
        if self.outlet is not None and self.error is None:
            self.outlet.mark_event(event)

    def close(self) -> None:
        """The closing marker, then the streams go."""
        if self.outlet is not None:
            if self.closing_mark:
                self.mark(self.closing_mark)
            self.outlet.close()
