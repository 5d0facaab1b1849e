"""The streaming hinge analyser: sample blocks in, body mass, reps and faults out.

One code path serves the live screen and the review of a recording: :class:`HingeAnalyser`
is fed :class:`daq.series.PlateSeries` blocks as they arrive, and
:func:`analysis.analyser.analyse_series` feeds a whole recording through the same analyser
in large blocks. Every decision is taken at a sample fixed by the data (never by where a
block happens to end) and every filter is a recursion carried across blocks
(:mod:`analysis.conditioning`), so the reps found live and offline are identical.

State machine (:class:`HingeState`): waiting (nobody on the plate, :mod:`analysis.presence`)
-> weighing (on, waiting for 1 s of stillness, :mod:`analysis.stillness`) -> standing ->
descending -> ascending -> holding (after the lockout) -> standing ...; off after stepping
off. A rep must show the velocity lobes of a hinge (down, up, braking at the top, from the
force summed over the last 0.8 s), and at the first quiet sample after them (force back at
the standing weight, CoP still) the zero-impulse centre-of-mass path
(:func:`analysis.reps.hinge_path`) must have dropped by :attr:`Thresholds.min_depth_m`:
that sample is the lockout decision. Shifts are measured from the standing baseline
(:mod:`analysis.baseline`). Methods and measured accuracy: docs/analysis-methods.md.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

import numpy as np

from analysis.baseline import StandingBaseline
from analysis.conditioning import (
    CONDITIONED_COLUMNS,
    QUIET_LOWPASS_MIN_HZ,
    VELOCITY_WINDOW_S,
    Conditioner,
)
from analysis.events import (
    AnalysisEvent,
    BodyMassMeasured,
    HoldUpdated,
    LockoutMeasured,
    RepAborted,
    RepCompleted,
    RepStarted,
    StanceInferred,
)
from analysis.presence import OFF_CLEAR_FRACTION, OFF_FRACTION, ON_PLATE_N, Presence
from analysis.reps import (
    G_M_S2,
    LOCKOUT_HALF_WINDOW_S,
    HingePath,
    Rep,
    SetSummary,
    Thresholds,
    group_sets,
    hinge_path,
    hinge_timing,
    load_change_path,
    measure_rep,
    revise_lockout,
    summarise_set,
)
from analysis.stance import STANCES, StanceSetup, infer_stance
from analysis.stillness import WEIGH_STILL_S, run_lengths
from daq.errors import MidfootError
from daq.ring import Column, SampleRing
from daq.series import PlateSeries

RATE_PROBE_SAMPLES = 16
SHALLOW_FINAL_FRACTION = 0.5
# Movement onset from standing: a downward CoM velocity (the force integrated over the last
# 0.8 s), or a force swing, or a CoP excursion from the standing baseline.
ONSET_V_M_S = 0.03
ONSET_FZ_FRACTION = 0.03
ONSET_COP_MM = 20.0
# The velocity window still holds the end of the ascent for its own length after lockout.
HOLD_REFRACTORY_S = VELOCITY_WINDOW_S + 0.1
# Quiet: force back within 1.5 % of the standing weight and the CoP moving slower than this.
QUIET_FZ_FRACTION = 0.015
QUIET_SPEED_MM_S = 60.0
# A lockout is read only once all its samples of this long have been quiet.
LOCKOUT_QUIET_S = 0.1
# While a rep is under way the CoM path is checked every PROGRESS_STRIDE_S, and at quiet
# samples no more often than QUIET_STRIDE_S once it has come up from its bottom (a lockout
# can only follow that); before, a quiet sample decides at most giving up, so it waits for
# the next PROGRESS_STRIDE_S. Those early quiet checks were a third of all checks: the hour
# at 1 kHz took 1.00 s with them and 0.87 s without, every rep and fault the same on the
# bench hours and both people models (bench/people_table.py); of the bench hours' 545 reps
# one, begun again 0.1 s later, moved, and the others' shifts by less than 0.003 mm.
PROGRESS_STRIDE_S = 0.2
QUIET_STRIDE_S = 0.05
# Share of the drop that must be regained at the lockout. The zero-impulse path of a rep
# scatters by +-25 % at its lockout (tremor integrated twice) and stays below 25 % until
# three quarters of the ascent, so half separates the two.
RECOVERY_MIN = 0.5
# A quiet sample whose path has regained less than this is a stall, not a lockout.
STALL_RECOVERY_MAX = 0.25
# The bottom must be at least this far behind a lockout candidate.
MIN_ASCENT_S = 0.3
# A hinge's CoM gains this velocity within VELOCITY_WINDOW_S going down and again coming up;
# an onset not followed by such a descent within NO_DESCENT_S was not a rep.
MOVE_V_M_S = 0.045
# The push above the standing weight alone (braking into the bottom and driving up) of even
# a 0.1 m hinge gives over 0.15 m/s; standing tremor and a weight a per cent off give
# under 0.05. Twice MOVE_V_M_S separates them.
PUSH_V_M_S = 2.0 * MOVE_V_M_S
NO_DESCENT_S = 2.5
# Even the slowest descent (0.12 m in 2.5 s) shows that velocity within ~0.8 s of starting:
# the person was still standing this long before it.
DESCENT_LEAD_S = 2.0
# A movement that stays shallow and quiet this long was not a rep (a slow descent keeps the
# force within the quiet band for up to ~2.5 s); one that lasts longer
# than MAX_REP_S is abandoned.
ABORT_QUIET_S = 3.0
MAX_REP_S = 12.0
# The CoM path starts this long before the onset (a descent lasts up to ~2.5 s), never
# earlier than the end of the previous rep.
PRE_ONSET_S = 2.5
STILL_V_M_S = 0.01
PRE_REST_S = 0.5
REST_AFTER_LOCKOUT_S = 0.3
# Standing-baseline windows: before each rep, from BASELINE_LEAD_S to BASELINE_GAP_S before
# its start, once the previous hold has settled (analysis.baseline starts afresh when a
# window lies far from the running baseline: the feet moved).
BASELINE_LEAD_S = 2.0
FIRST_BASELINE_LEAD_S = 4.0
BASELINE_GAP_S = 0.3
BASELINE_MIN_S = 0.4
BASELINE_SETTLE_S = 0.7
# A still stretch's CoP stays within this range (sway of 5 mm rms spans ~15-20 mm over a
# few seconds); a descent moves it 30 mm or more.
BASELINE_STILL_MM = 25.0
# A movement without a descent that leaves the person standing still elsewhere re-placed
# the feet. One that ends standing further than REPLACED_LOCKOUT_MM away is a re-placement
# even when its force looked like a hinge: a lockout comes back to the standing position,
# the worst lean back (30 mm) included.
# "Standing still elsewhere": steady force and the CoP within REPLACED_STILL_MM for a second
# (the weigh-in's stillness); a descent under way moves the CoP further in that time.
REPLACED_STILL_S = 1.0
REPLACED_STILL_MM = 10.0
# ... and that far from the baseline: further than the worst lean held at the top (30 mm)
# plus sway; a change of stance moves the load 40-100 mm.
REPLACED_STILL_AWAY_MM = 40.0
REPLACED_LOCKOUT_MM = 50.0
# Below QUIET_LOWPASS_MIN_HZ the cells are HX711s converting up to a period apart: the
# closed CoM path then also fits the force error this skew causes while the CoP moves,
# bounded by two periods over this cell spacing (the default plate's).
CHANNEL_SPAN_MM = 500.0
# The top position: a lean that settles in after lockout (over the first 0.3-0.5 s of the
# hold) is still a lean, so the lockout shift is the mean position from TOP_SETTLE_S after
# the lockout to TOP_WINDOW_S after it (the lockout and the first second of the hold, a
# sustained position: glitches are median-cleaned and sway averages over half a second).
# During that second the CoP may move to where the person will stand, so neither leaving
# the hold band nor the CoP-distance onset ends the hold.
TOP_WINDOW_S = 1.0
TOP_SETTLE_S = 0.5
# (The velocity proxy sums the force over the last VELOCITY_WINDOW_S = 0.8 s, so at the end
# of the top window it holds only the top: a fair reference weight.)
# With less hold than this after TOP_SETTLE_S, the top is the mean since just before lockout.
TOP_MIN_S = 0.2
# A bell picked up at the first rep's bottom and held from then on (or put down at the last
# rep's bottom) leaves the person standing at another weight: the force never comes back
# to the quiet band around the old one. After an ascent, a force steady for LOAD_QUIET_S
# (longer than the stall of a jerky ascent, ~0.4 s at the slowest) with the CoP slow, and
# further than LOAD_CHANGE_MIN_FRACTION from the old weight (a 4 kg bell on a 110 kg
# person; sway and cell gains a few per cent off move the force by under 2 %), is standing
# at a new weight: the rep is read with the load changing at its bottom.
LOAD_QUIET_S = 0.6
LOAD_CHANGE_MIN_FRACTION = 0.035
# A gap in the time stamps longer than this (a reconnect) restarts the analysis.
MAX_GAP_S = 0.5
HISTORY_S = 45.0
# Offline analysis feeds this many samples at a time.
OFFLINE_BLOCK_SAMPLES = 1 << 16

class HingeState(enum.StrEnum):
    """Where the hinge analyser is (the live view shows it)."""

    WAITING = "waiting"
    WEIGHING = "weighing"
    STANDING = "standing"
    DESCENDING = "descending"
    ASCENDING = "ascending"
    HOLDING = "holding"
    OFF = "off"

    @property
    def presence(self) -> Presence:
        """The state as presence on the plate."""
        if self == HingeState.WAITING:
            return Presence.EMPTY
        if self == HingeState.WEIGHING:
            return Presence.WEIGHING
        if self == HingeState.OFF:
            return Presence.STEPPED_OFF
        return Presence.ON


@dataclass
class _RepInProgress:
    """A movement being followed from its onset to a lockout (or an abort).

    Indices are global analysis-sample indices of the analyser's history.
    """

    trigger: int  # the onset sample
    w0: int  # where the centre-of-mass path starts (at rest before the onset)
    next_eval: int  # the next sample to evaluate
    progress_due: int  # the next sample by which to evaluate anyway
    started: bool = False  # RepStarted was emitted
    scan: int | None = None  # velocity lobes scanned up to here
    stage: int = 0  # velocity lobes seen (see HingeAnalyser._track_lobes)
    down_at: int | None = None  # where the descent's velocity showed
    up_peak: float = 0.0  # the ascent's peak velocity so far (m/s)
    v_now: float = 1.0  # the velocity at the last scan (m/s)


@dataclass
class _Hold:
    """The lockout hold of rep ``index``, which began at ``lockout_s`` at ``ref_mm``.

    Until ``settled`` the top position is being measured (:data:`TOP_WINDOW_S`); then
    ``ref_mm`` is that position and ``base_mm`` the standing baseline the rep was measured
    from.
    """

    index: int
    lockout_s: float
    ref_mm: tuple[float, float]
    base_mm: tuple[float, float]
    settled: bool = False
    weight_n: float | None = None
    fz_back: bool = False


def _history_ring(keep: int) -> SampleRing:
    """The analyser's own history of conditioned samples, at least ``keep`` long."""
    columns = {
        name: Column(bool if name == "steady" else np.float64) for name in CONDITIONED_COLUMNS
    }
    return SampleRing(2 * int(keep) + 1024, columns)


def _first_index(h: SampleRing, t_s: float) -> int:
    """Global index of the first kept sample at or after ``t_s``."""
    t = h.span("t", h.oldest, h.written)
    return h.oldest + int(np.searchsorted(t, t_s, side="left"))


def _first_true(mask: np.ndarray) -> int:
    """Index of the first True, or -1."""
    # The array's own method: np.argmax's dispatch costs as much as the search on the
    # short masks the state machine scans tens of thousands of times a minute.
    if not mask.size:
        return -1
    idx = int(mask.argmax())
    return idx if mask[idx] else -1


class HingeAnalyser:
    """Streaming hinge analysis of one person on one plate.

    Parameters
    ----------
    stance : StanceSetup
        Feet, stance and zones (change with :meth:`set_stance`).
    thresholds : Thresholds, optional
        Fault limits (defaults documented in docs/analysis-methods.md).
    body_mass_kg : float, optional
        The person's own mass, if known; otherwise the first still weigh-in (or a
        kettlebell set down at the bottom of a rep) measures it.
    stance_told : bool
        The stance was told (it wins; a stance the data say otherwise is reported in a
        :class:`StanceInferred` event). False: every time the feet are placed the stance
        is inferred from the standing CoP (:func:`analysis.stance.infer_stance`) and used.

    Notes
    -----
    Feed it with :meth:`feed` from one thread. Reps are kept in :attr:`reps` (their
    ``lockout_hold_s`` and ``end_s`` are filled in when the hold ends); each
    :class:`RepCompleted` is emitted from the block holding the lockout decision sample,
    measured at 0.06 s (median) and at most 0.19 s of data after the true lockout.
    :attr:`state` is one of ``waiting``, ``weighing``, ``standing``, ``descending``,
    ``ascending`` (from the first upward velocity lobe, i.e. braking into the bottom),
    ``holding`` and ``off``.
    """

    def __init__(
        self,
        stance: StanceSetup | None = None,
        thresholds: Thresholds | None = None,
        *,
        body_mass_kg: float | None = None,
        stance_told: bool = True,
    ) -> None:
        self.stance = stance if stance is not None else StanceSetup()
        self.stance_told = bool(stance_told)
        self.thresholds = thresholds if thresholds is not None else Thresholds()
        self._body_mass_kg: float | None = None
        self._body_mass_source: str | None = None
        if body_mass_kg is not None:
            self.body_mass_kg = body_mass_kg
        self.reps: list[Rep] = []
        self._full_reset()

    # -- public state ---------------------------------------------------------------------
    @property
    def body_mass_kg(self) -> float | None:
        """The person's mass (kg): given, weighed in, or seen with a load set down."""
        return self._body_mass_kg

    @body_mass_kg.setter
    def body_mass_kg(self, value: float | None) -> None:
        if value is None:
            self._body_mass_kg = None
            self._body_mass_source = None
            return
        value = float(value)
        if not 10.0 <= value <= 400.0:
            raise MidfootError(f"a body mass of {value} kg is implausible: give 10-400 kg")
        self._body_mass_kg = value
        self._body_mass_source = "given"

    @property
    def standing_mass_kg(self) -> float | None:
        """Mass on the plate while standing (body plus any held load), kg."""
        return None if self._weight_n is None else self._weight_n / G_M_S2

    @property
    def baseline_mm(self) -> tuple[float, float] | None:
        """Standing CoP (x, y) of the current set, mm (None before the weigh-in)."""
        return self._baseline.position_mm

    @property
    def back_foot_fraction(self) -> float:
        """Estimated share of weight on the back foot (kickstand; 0 bilateral)."""
        base = self.baseline_mm
        return 0.0 if base is None else self.stance.back_foot_fraction(base[0])

    @property
    def rate_hz(self) -> float | None:
        """Sample rate found in the first samples (None until then)."""
        return None if self._cond is None else self._cond.fs_raw

    def still_weight_kg(self) -> float | None:
        """Mass on the plate if the last second was still (for a weigh-in), else None."""
        if self._cond is None or len(self._hist) == 0:
            return None
        h = self._hist
        n_still = int(round(WEIGH_STILL_S * self._cond.fs))
        g1 = h.written
        g0 = g1 - n_still
        if g0 < h.oldest:
            return None
        if not h.span("steady", g0, g1).all():
            return None
        fz = self._clean("fz", g0, g1)
        if fz.mean() < ON_PLATE_N:
            return None
        return float(fz.mean()) / G_M_S2

    def set_summaries(self) -> list[SetSummary]:
        """Summaries of the reps so far, one per run of reps in the same stance."""
        return [summarise_set(s) for s in group_sets(self.reps)]

    # -- control ----------------------------------------------------------------------------
    def set_stance(self, stance: StanceSetup | str) -> None:
        """Use another stance from the next sample on; a new set (and baseline) begins.

        Parameters
        ----------
        stance : StanceSetup or str
            A full setup, or one of :data:`STANCES` keeping the foot geometry.
        """
        if isinstance(stance, str):
            if stance not in STANCES:
                raise MidfootError(f"unknown stance {stance!r}: use one of {', '.join(STANCES)}")
            stance = self.stance.with_stance(stance)
        self.stance = stance
        self._reset_baseline()
        if self._weight_n is not None and self.state.presence == Presence.ON:
            # The feet moved, so learn the standing force and CoP again before looking for
            # reps: on a plate whose cells' gains differ (uncalibrated, or a few per cent
            # off) the same person weighs a few per cent more or less with the weight over
            # other cells, and the 1.5 % quiet band around the old weight would never be met.
            # The body mass stays what it was.
            if self.state == HingeState.HOLDING:
                self._end_hold(self._cursor)
            self._rep = None
            self.state = HingeState.WEIGHING
            self._weigh_from = self._cursor
            self._reweigh_only = True

    def reset(self) -> None:
        """Start over: forget reps, weights and history (a given body mass stays)."""
        body, source = self._body_mass_kg, self._body_mass_source
        self.reps = []
        self._full_reset()
        if source == "given":
            self._body_mass_kg, self._body_mass_source = body, source

    def _full_reset(self) -> None:
        self.state = HingeState.WAITING
        self._cond: Conditioner | None = None
        self._probe: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._probe_n = 0
        self._hist = _history_ring(0)
        self._cursor = 0
        self._last_t: float | None = None
        self._events: list[AnalysisEvent] = []
        self._weight_n: float | None = None
        self._weigh_from = 0
        self._reweigh_only = False  # weighing after a stance change: keep the body mass
        self._rest_from = 0
        self._velocity_from = 0
        self._off_cleared = True
        self._baseline_ok_from_s = float("-inf")
        self._baseline = StandingBaseline()
        self._reset_baseline()
        self._rep: _RepInProgress | None = None
        self._hold: _Hold | None = None
        if self._body_mass_source != "given":
            self._body_mass_kg = None
            self._body_mass_source = None

    def _reset_baseline(self) -> None:
        self._baseline.reset()
        self._set_reps = 0

    # -- feeding ----------------------------------------------------------------------------
    def feed(self, block: PlateSeries) -> list[AnalysisEvent]:
        """Analyse a new block of samples.

        Parameters
        ----------
        block : PlateSeries
            The newest samples: ``t_s`` device seconds, ``fz_n`` newtons and ``cop_mm``
            millimetres (x = ML, y = AP; NaN when nobody is on the plate). Glitches are
            the conditioner's to remove, so every sample is used.

        Returns
        -------
        list of AnalysisEvent
            Events found in this block, in time order.
        """
        t = np.asarray(block.t_s, dtype=np.float64).reshape(-1)
        fz = np.asarray(block.fz_n, dtype=np.float64).reshape(-1)
        cop = np.asarray(block.cop_mm, dtype=np.float64).reshape(-1, 2)
        if not (t.shape[0] == fz.shape[0] == cop.shape[0]):
            raise MidfootError("t_s, fz_n and cop_mm must have one row per sample")
        self._events = []
        ok = np.isfinite(t)
        if not ok.all():
            t, fz, cop = t[ok], fz[ok], cop[ok]
        if t.shape[0]:
            self._ingest(t, fz, cop)
        return self._events

    def finish(self) -> list[AnalysisEvent]:
        """End of the recording: close a running hold (a rep under way is dropped)."""
        self._events = []
        if len(self._hist) and self._hold is not None:
            self._end_hold(self._hist.written - 1)
        if self._rep is not None and self._rep.started:
            last_t = float(self._hist.span("t", self._hist.written - 1, self._hist.written)[0])
            self._events.append(RepAborted(last_t, len(self.reps)))
        self._rep = None
        return self._events

    def _ingest(self, t: np.ndarray, fz: np.ndarray, cop: np.ndarray) -> None:
        # A gap (a reconnect, a paused recording) breaks every filter: start again after it.
        prev = self._last_t
        steps = np.diff(t, prepend=t[0] if prev is None else prev)
        cuts = np.flatnonzero((steps > MAX_GAP_S) | (steps < 0))
        start = 0
        for cut in [*cuts.tolist(), t.shape[0]]:
            if cut > start:
                self._ingest_run(t[start:cut], fz[start:cut], cop[start:cut])
            if cut < t.shape[0]:
                self._restart_after_gap()
            start = cut
        self._last_t = float(t[-1])

    def _restart_after_gap(self) -> None:
        if self._hold is not None:
            self._end_hold(self._hist.written - 1)
        if self._rep is not None and self._rep.started:
            last_t = float(self._hist.span("t", self._hist.written - 1, self._hist.written)[0])
            self._events.append(RepAborted(last_t, len(self.reps)))
        self._rep = None
        self._cond = None
        self._probe = []
        self._probe_n = 0
        self._hist = _history_ring(0)
        self._cursor = 0
        self._rest_from = 0
        self._velocity_from = 0
        self._weigh_from = 0
        self.state = HingeState.WAITING
        self._reset_baseline()

    def _ingest_run(self, t: np.ndarray, fz: np.ndarray, cop: np.ndarray) -> None:
        if self._cond is None:
            self._probe.append((t, fz, cop))
            self._probe_n += t.shape[0]
            if self._probe_n < RATE_PROBE_SAMPLES:
                return
            t = np.concatenate([p[0] for p in self._probe])
            fz = np.concatenate([p[1] for p in self._probe])
            cop = np.concatenate([p[2] for p in self._probe])
            step = float(np.median(np.diff(t[:RATE_PROBE_SAMPLES])))
            if not step > 0:
                # Samples stamped per chunk (a plate without its own clock): the mean step
                # over a longer stretch, once there is one.
                span = float(t[-1] - t[0])
                if not span > 0:
                    self._probe = [(t, fz, cop)]
                    return
                step = span / (t.shape[0] - 1)
            self._probe = []
            self._cond = Conditioner(1.0 / step)
            self._hist = _history_ring(int(HISTORY_S * self._cond.fs))
            self._cursor = 0
        # The history keeps twice HISTORY_S: a longer block (a whole 80 Hz file of 14
        # minutes is one 65,536-sample block offline) would overwrite its own first
        # samples before the state machine read them. Feed it HISTORY_S at a time, in raw
        # samples (at 1 kHz a step in analysis samples was 4.5 s: ten times the pushes).
        step = max(1, int(HISTORY_S * self._cond.fs_raw))
        for a in range(0, t.shape[0], step):
            new = self._cond.push(t[a : a + step], fz[a : a + step], cop[a : a + step])
            if new is None:
                continue
            self._hist.append(new)
            self._advance()

    # -- the state machine ----------------------------------------------------------------
    def _advance(self) -> None:
        h = self._hist
        self._cursor = max(self._cursor, h.oldest)
        handlers = {
            HingeState.WAITING: self._in_waiting,
            HingeState.OFF: self._in_waiting,
            HingeState.WEIGHING: self._in_weighing,
            HingeState.STANDING: self._in_standing,
            HingeState.HOLDING: self._in_standing,
            HingeState.DESCENDING: self._in_moving,
            HingeState.ASCENDING: self._in_moving,
        }
        while self._cursor < h.written:
            self._cursor = handlers[self.state](self._cursor, h.written)

    def _clean(self, name: str, g0: int, g1: int) -> np.ndarray:
        """Column ``name`` over [g0, g1) with glitches removed (see :meth:`_clean_rows`)."""
        return self._clean_rows((name,), g0, g1)[0]

    def _clean_rows(self, names: tuple[str, ...], g0: int, g1: int) -> np.ndarray:
        """Columns ``names`` over [g0, g1) as rows of a new array, glitches removed.

        Glitches are removed by a centred running median.

        Samples before the window help the median; samples after it never do, because live
        they have not arrived yet (and offline they must not change the result).
        """
        assert self._cond is not None
        h = self._hist
        half = self._cond.median_half
        a = max(g0 - half, h.oldest)
        x = np.vstack([h.span(name, a, g1) for name in names])
        out = x.copy()
        n = x.shape[1]
        if n > 2 * half:
            windows = np.lib.stride_tricks.sliding_window_view(x, 2 * half + 1, axis=1)
            out[:, half:-half] = np.sort(windows, axis=2)[:, :, half]
            # The newest samples have no right-hand neighbours: they take the median of the
            # last full window, which still outvotes a glitch among them.
            out[:, n - half :] = out[:, n - half - 1 : n - half]
        return out[:, g0 - a :]

    def _t(self, g: int) -> float:
        return float(self._hist.at("t", g))  # type: ignore[arg-type]

    def _n(self, seconds: float) -> int:
        assert self._cond is not None
        return max(1, int(round(seconds * self._cond.fs)))

    def _in_waiting(self, lo: int, hi: int) -> int:
        fz_lp = self._hist.span("fz_lp", lo, hi)
        if self.state == HingeState.OFF and not self._off_cleared:
            # The low-pass still carries the weight for a moment after stepping off: wait
            # until it has really gone before looking for the next person.
            j = _first_true(fz_lp < OFF_CLEAR_FRACTION * ON_PLATE_N)
            if j < 0:
                return hi
            self._off_cleared = True
            return lo + j + 1
        j = _first_true(fz_lp > ON_PLATE_N)
        if j < 0:
            return hi
        self.state = HingeState.WEIGHING
        self._weigh_from = lo + j
        return lo + j

    def _in_weighing(self, lo: int, hi: int) -> int:
        h = self._hist
        n_still = self._n(WEIGH_STILL_S)
        off = _first_true(h.span("fz_lp", lo, hi) < OFF_CLEAR_FRACTION * ON_PLATE_N)
        a = max(self._weigh_from, lo - n_still + 1, h.oldest)
        ok = h.span("steady", a, hi) & (h.span("fz_lp", a, hi) > ON_PLATE_N)
        idx = np.arange(ok.shape[0])
        run = run_lengths(ok)
        done_rel = _first_true((run >= n_still) & (idx >= lo - a))
        done = a + done_rel if done_rel >= 0 else -1
        if off >= 0 and (done < 0 or lo + off < done):
            self.state = HingeState.WAITING
            self._reweigh_only = False  # stepped off: whoever steps on is weighed afresh
            return lo + off + 1
        if done < 0:
            return hi
        g0 = done - n_still + 1
        w_n, x0, y0 = (float(v) for v in self._clean_rows(("fz", "x", "y"), g0, done + 1).mean(1))
        self._weight_n = w_n
        self._reset_baseline()
        self._add_baseline(x0, y0, w_n, WEIGH_STILL_S)
        if self._reweigh_only:
            self._reweigh_only = False
        else:
            if self._body_mass_source != "given":
                self._body_mass_kg = w_n / G_M_S2
                self._body_mass_source = "weigh-in"
            assert self._body_mass_kg is not None
            self._events.append(
                BodyMassMeasured(self._t(done), self._body_mass_kg, w_n / G_M_S2, "weigh-in")
            )
        self._infer_stance(x0, self._t(done))
        self.state = HingeState.STANDING
        self._rest_from = g0
        self._baseline_ok_from_s = self._t(g0)
        return done + 1

    def _add_baseline(
        self, x: float, y: float, fz: float, weight_s: float, t_s: float | None = None
    ) -> None:
        if self._baseline.add(x, y, fz, weight_s):
            self._set_reps = 0  # the feet moved: a new set
            if t_s is not None:
                self._infer_stance(x, t_s)
        self._weight_n = self._baseline.weight_n

    def _infer_stance(self, x_mm: float, t_s: float) -> None:
        """Read the stance from a still standing CoP; use it unless one was told."""
        guess = infer_stance(x_mm, self.stance)
        if self.stance_told:
            self._events.append(
                StanceInferred(t_s, guess.stance, guess.back_foot_fraction, self.stance.stance)
            )
            return
        if guess.stance != self.stance.stance:
            self.stance = self.stance.with_stance(guess.stance)
        self._events.append(StanceInferred(t_s, guess.stance, guess.back_foot_fraction))

    def _feet_moved(self, g: int, limit_mm: float) -> bool:
        """Whether the CoP at sample ``g`` is further than ``limit_mm`` from the baseline."""
        base = self.baseline_mm
        if base is None:
            return False
        h = self._hist
        g = min(max(g, h.oldest), h.written - 1)
        x = float(h.span("x_lp", g, g + 1)[0])
        y = float(h.span("y_lp", g, g + 1)[0])
        return bool(np.hypot(x - base[0], y - base[1]) > limit_mm)

    def _stands_elsewhere(self, e: int) -> bool:
        """Still for REPLACED_STILL_S up to ``e``, REPLACED_STILL_AWAY_MM from the baseline."""
        if not self._feet_moved(e, REPLACED_STILL_AWAY_MM):
            return False
        h = self._hist
        lo = e - self._n(REPLACED_STILL_S) + 1
        if lo < h.oldest:
            return False
        if not h.span("steady", lo, e + 1).all():
            return False
        x = h.span("x_lp", lo, e + 1)
        y = h.span("y_lp", lo, e + 1)
        return max(float(np.ptp(x)), float(np.ptp(y))) <= REPLACED_STILL_MM

    def _reweigh(self, g: int) -> None:
        """The feet were re-placed: learn the standing force, CoP and stance again."""
        self._rep = None
        self.state = HingeState.WEIGHING
        self._weigh_from = g
        self._reweigh_only = True
        self._reset_baseline()

    def _in_standing(self, lo: int, hi: int) -> int:
        """Standing or holding: look for stepping off, a movement, or the hold's end."""
        h = self._hist
        w_n = self._weight_n
        assert w_n is not None
        fz_lp = h.span("fz_lp", lo, hi)
        x_lp = h.span("x_lp", lo, hi)
        y_lp = h.span("y_lp", lo, hi)
        off = fz_lp < OFF_FRACTION * w_n
        if self.state == HingeState.HOLDING and self._hold is not None:
            ref_x, ref_y = self._hold.ref_mm
        else:
            base = self.baseline_mm
            ref_x, ref_y = base if base is not None else (float(x_lp[0]), float(y_lp[0]))
        dist = np.hypot(x_lp - ref_x, y_lp - ref_y)
        base = self.baseline_mm
        if self.state == HingeState.HOLDING and self._hold is not None and base is not None:
            # Letting go of a lean at the top moves the CoP from the top position back to
            # the standing one (up to 30 mm): still standing, not a movement.
            dist = np.minimum(dist, np.hypot(x_lp - base[0], y_lp - base[1]))
        if self.state == HingeState.HOLDING and self._hold is not None:
            # The velocity proxy rings for a moment after an ascent: not a new descent. On
            # a plate whose cells' gains differ the same person weighs a little more or less
            # at the top (the CoP moved, a lean moves it further), so once the top position
            # is known the velocity is taken against the weight measured there.
            top_w = self._hold.weight_n if self._hold.settled else None
            falling = self._velocity_m_s(lo, hi, top_w) < -ONSET_V_M_S
            falling &= h.span("t", lo, hi) >= self._hold.lockout_s + HOLD_REFRACTORY_S
            if not self._hold.settled:
                falling &= False
        else:
            falling = self._velocity_m_s(lo, hi) < -ONSET_V_M_S
        far = dist > ONSET_COP_MM
        swing = np.abs(fz_lp / w_n - 1.0) > ONSET_FZ_FRACTION
        hold = self._hold if self.state == HingeState.HOLDING else None
        top_due = -1
        back = -1
        if hold is not None and not hold.fz_back:
            # The lockout is found while the force still recovers from the ascent's
            # braking (a 6 Hz muscle low-pass and the analysis filter smear it over
            # ~0.2 s): a force swing is a new movement only once the force has been back.
            back = _first_true(~swing)
            swing[: back if back >= 0 else swing.size] = False
        if hold is not None and not hold.settled:
            t_span = h.span("t", lo, hi)
            settling = t_span < hold.lockout_s + TOP_WINDOW_S
            far &= ~settling
            top_due = _first_true(~settling)
        onset = falling | swing | far
        if hold is not None:
            # The hold is the time standing at the top, leaning or not (issue 10): it
            # ends with the next movement, not when sway or a lean let go moves the CoP.
            j = _first_true(off | onset)
            if top_due >= 0 and (j < 0 or top_due <= j):
                # The first second of the hold is over: the top position is known.
                hold.fz_back |= 0 <= back < top_due
                self._settle_top(lo + top_due)
                return lo + top_due
            if j < 0:
                hold.fz_back |= back >= 0
        else:
            j = _first_true(off | onset)
        if j < 0:
            return hi
        g = lo + j
        if hold is not None and not hold.settled:
            self._settle_top(g)
        if self.state == HingeState.HOLDING:
            self._end_hold(g, by_onset=bool(onset[j]) and not bool(off[j]))
        if off[j]:
            self._step_off(g)
            return g + 1
        self._begin_movement(g)
        return g

    def _velocity_m_s(self, lo: int, hi: int, weight_n: float | None = None) -> np.ndarray:
        """CoM velocity gained over the last :data:`VELOCITY_WINDOW_S` at [lo, hi), m/s.

        Against the standing weight, or against ``weight_n`` when given.
        """
        assert self._cond is not None
        assert self._weight_n is not None
        taps = self._cond.sum_len
        s = self._hist.span("fz_sum", lo, hi)
        w_n = self._weight_n if weight_n is None else weight_n
        return G_M_S2 * self._cond.dt * (s / w_n - taps)

    def _step_off(self, g: int) -> None:
        if self._rep is not None and self._rep.started:
            self._events.append(RepAborted(self._t(g), len(self.reps)))
        self._rep = None
        self.state = HingeState.OFF
        self._off_cleared = False
        self._reset_baseline()

    def _begin_movement(self, g: int) -> None:
        assert self._cond is not None
        # The CoM path must start at rest, but every second of standing in it adds tremor
        # noise: start it shortly before the last moment the velocity had not yet changed.
        lo = max(g - self._n(PRE_ONSET_S), self._rest_from, self._hist.oldest)
        still = np.flatnonzero(self._velocity_m_s(lo, g + 1) > -STILL_V_M_S)
        w0 = lo if still.size == 0 else max(lo, lo + int(still[-1]) - self._n(PRE_REST_S))
        self._rep = _RepInProgress(trigger=g, w0=w0, next_eval=g, progress_due=g)
        self.state = HingeState.DESCENDING

    def _in_moving(self, lo: int, hi: int) -> int:
        h = self._hist
        rep = self._rep
        assert rep is not None
        assert self._weight_n is not None
        assert self._cond is not None
        w_n = self._weight_n
        a = max(lo, rep.next_eval)
        if a >= hi:
            return hi
        # Something is evaluated at least every PROGRESS_STRIDE_S: look no further ahead.
        hi = min(hi, max(a, rep.progress_due) + 1)
        fz_lp = h.span("fz_lp", lo, hi)
        off_rel = _first_true(fz_lp < OFF_FRACTION * w_n)
        quiet = self._quiet(a, hi)
        new_load = self._quiet_at_new_load(a, hi) if rep.stage >= 3 else np.zeros_like(quiet)
        due = np.arange(a, hi) >= rep.progress_due
        e_rel = _first_true(quiet | new_load | due)
        e = a + e_rel if e_rel >= 0 else -1
        if off_rel >= 0 and (e < 0 or lo + off_rel <= e):
            self._step_off(lo + off_rel)
            return lo + off_rel + 1
        if e < 0:
            return hi
        if self._t(e) - self._t(rep.trigger) > MAX_REP_S:
            self._abort(e)
            return e
        is_quiet = bool(quiet[e - a])
        at_new_load = bool(new_load[e - a]) and not is_quiet
        if at_new_load:
            self._evaluate_new_load(e)
        else:
            self._evaluate(e, is_quiet)
        if self._rep is rep:
            rep.progress_due = e + self._n(PROGRESS_STRIDE_S)
            calm = is_quiet or at_new_load
            stride = QUIET_STRIDE_S if rep.stage >= 3 else PROGRESS_STRIDE_S  # see above
            rep.next_eval = e + (self._n(stride) if calm else 1)
        return e + 1

    def _quiet(self, lo: int, hi: int) -> np.ndarray:
        """Force within :data:`QUIET_FZ_FRACTION` of the standing weight and CoP slow."""
        assert self._weight_n is not None
        h = self._hist
        fz = h.span("fz_quiet", lo, hi)
        return (np.abs(fz / self._weight_n - 1.0) < QUIET_FZ_FRACTION) & (
            h.span("speed", lo, hi) < QUIET_SPEED_MM_S
        )

    def _quiet_at_new_load(self, lo: int, hi: int) -> np.ndarray:
        """Standing steady for :data:`LOAD_QUIET_S` at a weight other than the standing one."""
        assert self._weight_n is not None
        h = self._hist
        far = np.abs(h.span("fz_lp", lo, hi) / self._weight_n - 1.0) > LOAD_CHANGE_MIN_FRACTION
        if not far.any():
            return far  # the usual case: at the old weight (spares the run test)
        n = self._n(LOAD_QUIET_S)
        a = max(lo - n + 1, h.oldest)
        fz = h.span("fz_lp", a, hi)
        ok = (
            h.span("steady", a, hi)
            & (h.span("speed", a, hi) < QUIET_SPEED_MM_S)
            & (np.abs(fz / self._weight_n - 1.0) > LOAD_CHANGE_MIN_FRACTION)
        )
        return (run_lengths(ok) >= n)[lo - a :]

    def _evaluate_new_load(self, e: int) -> None:
        """A lockout at sample ``e`` if the CoM went down and up with the load changing."""
        rep = self._rep
        assert rep is not None
        assert self._weight_n is not None
        g0 = rep.w0
        t = np.array(self._hist.span("t", g0, e + 1))
        raw = self._clean_rows(("fz", "x", "y"), g0, e + 1)
        after_n = float(np.mean(raw[0, -self._n(LOAD_QUIET_S) :]))
        path = load_change_path(t, raw[0], self._weight_n, after_n)
        deep = path.depth_m >= self.thresholds.min_depth_m
        k = path.load_change
        if not deep or k is None or not 0 < k < t.shape[0] - 1:
            return
        # Down before the transfer and up after it: a bell resting on the floor at the
        # bottom (a long set-down, the weight to come back) is steady at another weight
        # too, but nothing climbs after its transfer.
        z = path.z_m
        i_up = k + int(np.argmin(z[k:]))
        went_down = -float(np.min(z[: k + 1])) >= RECOVERY_MIN * path.depth_m
        climbed = float(z[-1] - z[i_up]) >= RECOVERY_MIN * path.depth_m
        climbed &= t[-1] - t[i_up] >= MIN_ASCENT_S
        # ... and the climb is driven: from rest at the transfer, the force above the new
        # weight lifts the CoM at MOVE_V_M_S or more (a 0.1 m ascent in 2.5 s peaks at
        # 0.075 m/s), while a body resting at the bottom gains only noise.
        # Counted from where the force has come three quarters of the way to the new
        # weight after the crossing of half-way nearest the transfer (a jerky ascent's
        # force can cross again): the transfer itself is not a push.
        rel = (raw[0] - self._weight_n) / (after_n - self._weight_n)
        half = np.flatnonzero((rel[:-1] < 0.5) & (rel[1:] >= 0.5)) + 1
        a = int(half[np.argmin(np.abs(half - k))]) if half.size else k
        near = np.flatnonzero(rel[a:] >= 0.75)
        a += int(near[0]) if near.size else 0
        f_up = raw[0, a:] / after_n - 1.0
        v_up = G_M_S2 * np.cumsum(0.5 * (f_up[1:] + f_up[:-1]) * np.diff(t[a:]))
        driven = v_up.size > 0 and float(v_up.max()) >= MOVE_V_M_S
        if went_down and climbed and driven:
            self._complete(e, t, raw, path, after_n=after_n)

    def _abort(self, g: int) -> None:
        rep = self._rep
        if rep is not None and rep.started:
            self._events.append(RepAborted(self._t(g), len(self.reps)))
        self._rep = None
        self.state = HingeState.STANDING
        if self._weight_n is not None and bool(self._quiet_at_new_load(g, g + 1)[0]):
            # Standing still at another weight (a bell picked up or put down in a movement
            # not read as a rep): every later onset and quiet test would be against the old
            # weight, so learn the standing weight again (the body mass stays).
            self._reweigh(g)


    def _path(self, g0: int, g1: int, zero_impulse: bool) -> tuple[np.ndarray, HingePath]:
        t = np.array(self._hist.span("t", g0, g1))
        fz = self._clean("fz", g0, g1)
        assert self._weight_n is not None
        return t, hinge_path(t, fz, self._weight_n, zero_impulse=zero_impulse)

    def _evaluate(self, e: int, is_quiet: bool) -> None:
        rep = self._rep
        assert rep is not None
        assert self._weight_n is not None
        g0 = rep.w0
        if e - g0 < 3:
            return
        # A hinge moves the CoM at >= 0.06 m/s down and >= 0.1 m/s up (velocity gained
        # within the 0.8 s window); standing tremor stays under 0.035 m/s.
        stage = self._track_lobes(rep, g0, e)
        descended, ascended, braked = stage >= 2, stage >= 3, stage >= 4
        if descended and not rep.started:
            rep.started = True
            self._events.append(RepStarted(self._t(rep.trigger), len(self.reps)))
        self.state = HingeState.ASCENDING if ascended else HingeState.DESCENDING
        if not descended:
            if self._stands_elsewhere(e):
                # No descent, and the person stands still away from where they stood:
                # the feet were re-placed (never a rep). Learn the new stance.
                self._abort(e)
                self._reweigh(e)
            elif self._t(e) - self._t(rep.trigger) >= NO_DESCENT_S:
                self._abort(e)
            return
        eased = ascended and rep.v_now <= 0.5 * rep.up_peak
        if is_quiet:
            # A lockout is quiet for a while; a force crossing the weight part-way through
            # a movement (between the fall and the braking after a stall) is quiet for a
            # moment only, and there the zero-impulse path, forced to end at rest, can
            # show a whole rep. At 10 Hz the while is the one sample: waiting for a second
            # would be a tenth of a second late.
            k = self._n(LOCKOUT_QUIET_S)
            is_quiet = bool(self._quiet(max(e - k + 1, g0), e + 1).all())
        if not (is_quiet and (braked or eased)):
            if is_quiet:
                self._abort_if_shallow(e)
            return
        # Quiet after down, up and braking: a lockout, if the CoM really went down. The
        # zero-impulse path is exact at rest; with a set-down in the window the bottom is
        # also quiet after the bell comes back up, and a long pause at the bottom also lets
        # the velocity ease, so then the path must show the climb too.
        t = np.array(self._hist.span("t", g0, e + 1))
        raw = self._clean_rows(("fz", "x", "y"), g0, e + 1)
        path = hinge_path(t, raw[0], self._weight_n)
        deep = path.depth_m >= self.thresholds.min_depth_m
        climbed = path.recovery >= RECOVERY_MIN and t[-1] - t[path.i_bottom] >= MIN_ASCENT_S
        # Either way the path must have come up: a stall part-way down (a jerky descent)
        # is quiet after down, up and down lobes too, at the bottom of its path (recovery
        # about 0), while a real lockout's path scatters to as low as ~0.4.
        recovered = path.recovery >= STALL_RECOVERY_MAX
        plain_ok = braked and path.set_down is None and not path.unexplained_drop
        if deep and recovered and (climbed or plain_ok):
            self._complete(e, t, raw, path)
            return
        if not deep:
            self._abort_if_shallow(e)

    def _track_lobes(self, rep: _RepInProgress, g0: int, e: int) -> int:
        """How far the movement has come, from the velocity gained in the last 0.8 s.

        Stages: 0 not yet near rest, 1 near rest, 2 fell below -MOVE_V_M_S (descending),
        3 then rose above +MOVE_V_M_S (braking at the bottom or ascending), 4 then fell
        below -MOVE_V_M_S again (braking at the top). The first stage makes a descent a
        fresh fall, not the tail of a previous ascent still inside the window. Only the
        samples since the last call are scanned.
        """
        start = rep.scan if rep.scan is not None else max(g0, self._velocity_from)
        stage = rep.stage
        if e + 1 > start and stage < 4:
            v = self._velocity_m_s(start, e + 1)
            push = self._push_m_s(start, e + 1) if stage <= 2 else None
            i = 0
            while stage < 4:
                if stage == 0:
                    hit = v[i:] > -0.5 * MOVE_V_M_S
                elif stage == 2:
                    hit = v[i:] >= MOVE_V_M_S
                    if push is not None:
                        hit |= push[i:] >= PUSH_V_M_S
                else:
                    hit = v[i:] <= -MOVE_V_M_S
                j = _first_true(hit)
                if j < 0:
                    break
                i += j
                stage += 1
                if stage == 2:
                    rep.down_at = start + i
                if stage == 3:
                    up_from = i
            if stage == 3:
                # An ascent shorter than the window is over before its braking shows; the
                # velocity gained then falls back from its peak instead.
                first = up_from if rep.stage < 3 else 0
                rep.up_peak = max(rep.up_peak, float(v[first:].max()))
                rep.v_now = float(v[-1])
        rep.scan = max(start, e + 1)
        rep.stage = stage
        return stage

    def _push_m_s(self, lo: int, hi: int) -> np.ndarray:
        """Velocity the force above the standing weight alone gives over the window, m/s.

        A bell resting on the floor at the bottom lowers the force for its whole rest, and
        within :data:`VELOCITY_WINDOW_S` that deficit can cancel the braking and the push
        of the ascent in the net velocity; the push above the weight still shows.
        """
        assert self._cond is not None
        assert self._weight_n is not None
        h = self._hist
        taps = self._cond.sum_len
        a = max(lo - taps + 1, h.oldest)
        over = np.maximum(h.span("fz_lp", a, hi) / self._weight_n - 1.0, 0.0)
        c = np.concatenate([[0.0], np.cumsum(over)])
        j = np.arange(lo, hi)
        sums = c[j - a + 1] - c[np.maximum(j - taps + 1 - a, 0)]
        return G_M_S2 * self._cond.dt * sums

    def _abort_if_shallow(self, e: int) -> None:
        """Give up on a movement that has been quiet for a while without a deep hinge."""
        rep = self._rep
        assert rep is not None
        g0 = rep.w0
        since = max(g0, rep.trigger, e - self._n(ABORT_QUIET_S))
        if self._t(e) - self._t(since) < ABORT_QUIET_S - 1e-9:
            return
        if not self._quiet(since, e + 1).all():
            return
        _, path = self._path(g0, e + 1, zero_impulse=True)
        if path.depth_m < self.thresholds.min_depth_m:
            self._abort(e)

    def _complete(
        self,
        e: int,
        t: np.ndarray,
        raw: np.ndarray,
        first: HingePath,
        after_n: float | None = None,
    ) -> None:
        """The rep whose lockout decision is sample ``e`` is confirmed: measure and emit.

        ``t`` and ``raw`` (force, x, y rows, glitches removed) cover the rep's window;
        ``first`` is the zero-impulse path that confirmed it. ``after_n``: the person
        stands at this weight after the rep (a bell picked up or put down at its bottom).
        """
        assert self._cond is not None
        assert self._weight_n is not None
        rep_state = self._rep
        assert rep_state is not None
        h = self._hist
        filtered = self._cond.zero_phase(raw) if t.shape[0] > 12 else raw
        lp = dict(zip(("fz", "x", "y"), filtered, strict=True))
        skew = None
        if self._cond.fs < QUIET_LOWPASS_MIN_HZ:
            skew = np.column_stack([lp["x"], lp["y"]])
        limit = 2.0 * self._cond.dt / CHANNEL_SPAN_MM
        # The person stood still before the start the confirming path shows (and, whatever
        # tremor made of that path, before the descent's velocity showed), so that stretch
        # need not feed tremor into the final path.
        rest_before_s = hinge_timing(t, first).start_s - PRE_REST_S
        if rep_state.down_at is not None:
            rest_before_s = max(rest_before_s, self._t(rep_state.down_at) - DESCENT_LEAD_S)
        if after_n is not None:
            path = load_change_path(t, lp["fz"], self._weight_n, after_n, closed=True)
        else:
            path = hinge_path(
                t,
                lp["fz"],
                self._weight_n,
                closed=True,
                skew_cop_mm=skew,
                skew_limit_s_per_mm=limit,
                rest_before_s=rest_before_s,
                set_down_hint=first.set_down,
            )
        if path.depth_m < SHALLOW_FINAL_FRACTION * self.thresholds.min_depth_m:
            # The confirming path went deep enough, but the closed, skew-corrected one
            # barely drops: force that moved with the CoP (cells whose gains differ, feet
            # being re-placed) rather than a hinge. Not a rep.
            self._abort(e)
            return
        if self._feet_moved(e, REPLACED_LOCKOUT_MM):
            # The movement ended far from where the person stood: feet re-placed (a step
            # into another stance), never a rep.
            self._abort(e)
            if self.state != HingeState.WEIGHING:
                self._reweigh(e)
            return
        timing = hinge_timing(t, path, lp["fz"])
        timing = replace(
            timing,
            start_s=max(timing.start_s, float(t[0])),
            lockout_s=min(timing.lockout_s, float(t[-1])),
        )
        # The standing baseline gains the still stretch just before this rep.
        lead = BASELINE_LEAD_S if self._set_reps else FIRST_BASELINE_LEAD_S
        b0_s = max(self._baseline_ok_from_s, timing.start_s - lead)
        b1_s = timing.start_s - BASELINE_GAP_S
        if b1_s - b0_s >= BASELINE_MIN_S:
            lo = _first_index(h, b0_s)
            hi = _first_index(h, b1_s)
            rows = self._clean_rows(("x", "y", "fz"), lo, hi) if hi > lo else None
            # Only a stretch where the person really stood still: a rep whose start was
            # found late must not put its descent into the baseline.
            if rows is not None and max(np.ptp(rows[0]), np.ptp(rows[1])) <= BASELINE_STILL_MM:
                x_mm, y_mm, fz_n = rows.mean(axis=1)
                self._add_baseline(
                    float(x_mm), float(y_mm), float(fz_n), b1_s - b0_s, t_s=b1_s
                )
        base = self.baseline_mm
        if base is None:
            base = (float(np.mean(raw[1, :3])), float(np.mean(raw[2, :3])))
        rep = measure_rep(
            len(self.reps),
            t,
            lp["fz"],
            lp["x"],
            lp["y"],
            timing,
            path,
            self.stance,
            base,
            self._weight_n if after_n is None else max(self._weight_n, after_n),
            self._body_mass_kg,
            self.thresholds,
        )
        if not rep_state.started:
            self._events.append(RepStarted(self._t(rep_state.trigger), rep.index))
        measured = rep.set_down and np.isfinite(path.set_down_fz_n)
        if measured and self._body_mass_source != "given":
            body = path.set_down_fz_n / G_M_S2
            if self._body_mass_kg is None or abs(body - self._body_mass_kg) > 0.5:
                self._body_mass_kg = body
                self._body_mass_source = "set-down"
                self._events.append(
                    BodyMassMeasured(float(t[-1]), body, self._weight_n / G_M_S2, "set-down")
                )
        if after_n is not None:
            # From now on the person stands (and is quiet) at the new weight.
            self._baseline.reweigh(after_n)
            self._weight_n = after_n
        self.reps.append(rep)
        self._set_reps += 1
        self._revise_previous_hold(rep, rep_state.trigger, float(t[-1]))
        self._events.append(RepCompleted(rep, float(t[-1])))
        lock_sel = t >= rep.lockout_s - 0.1
        self._hold = _Hold(
            index=rep.index,
            lockout_s=rep.lockout_s,
            ref_mm=(float(np.mean(lp["x"][lock_sel])), float(np.mean(lp["y"][lock_sel]))),
            base_mm=base,
        )
        self._rep = None
        self.state = HingeState.HOLDING
        self._rest_from = e
        self._velocity_from = e + self._n(VELOCITY_WINDOW_S)
        self._baseline_ok_from_s = rep.lockout_s + REST_AFTER_LOCKOUT_S

    def _settle_top(self, g: int) -> None:
        """Measure the top position up to sample ``g`` and revise the held rep with it."""
        hold = self._hold
        assert hold is not None
        h = self._hist
        t_g = self._t(g)
        a_s = hold.lockout_s + TOP_SETTLE_S
        if t_g - a_s < TOP_MIN_S:
            a_s = hold.lockout_s - LOCKOUT_HALF_WINDOW_S
        lo = max(_first_index(h, a_s), h.oldest)
        hi = max(g, lo + 1)
        x_mm, y_mm, fz_n = (
            float(v) for v in self._clean_rows(("x", "y", "fz"), lo, hi).mean(axis=1)
        )
        hold.ref_mm = (x_mm, y_mm)
        hold.weight_n = fz_n
        hold.settled = True
        for k in range(len(self.reps) - 1, -1, -1):
            if self.reps[k].index == hold.index:
                rep = revise_lockout(self.reps[k], y_mm - hold.base_mm[1], self.thresholds)
                self.reps[k] = rep
                self._events.append(LockoutMeasured(t_g, rep))
                break

    def _revise_previous_hold(self, rep: Rep, trigger: int, t_s: float) -> None:
        """End the previous hold where ``rep`` began, if ``rep``'s onset ended it.

        The onset of a descent is found 0.1-0.8 s after it begins (later the slower it
        is); the rep's path shows when it began, so the hold, the time standing at the
        top until the next movement, ends there.
        """
        k = len(self.reps) - 2
        if k < 0:
            return
        prev = self.reps[k]
        if prev.lockout_hold_s is None or prev.end_s != self._t(trigger):
            return
        if not prev.lockout_s < rep.start_s < prev.end_s:
            return
        prev = replace(prev, end_s=rep.start_s, lockout_hold_s=rep.start_s - prev.lockout_s)
        self.reps[k] = prev
        self._events.append(HoldUpdated(t_s, prev.index, prev.lockout_hold_s, prev))

    def _end_hold(self, g: int, by_onset: bool = False) -> None:
        hold = self._hold
        if hold is None:
            return
        if not hold.settled:
            self._settle_top(min(g, self._hist.written - 1))
        t_end = self._t(min(g, self._hist.written - 1))
        hold_s = max(t_end - hold.lockout_s, 0.0)
        for k in range(len(self.reps) - 1, -1, -1):
            if self.reps[k].index == hold.index:
                self.reps[k] = replace(self.reps[k], end_s=t_end, lockout_hold_s=hold_s)
                break
        held = next((r for r in reversed(self.reps) if r.index == hold.index), None)
        self._events.append(HoldUpdated(t_end, hold.index, hold_s, held))
        self._hold = None
        leaned = held is not None and "backward_lean" in held.fault_names
        if not by_onset or leaned:
            # The standing baseline never takes in a lean held at the top.
            self._baseline_ok_from_s = max(self._baseline_ok_from_s, t_end + BASELINE_SETTLE_S)


