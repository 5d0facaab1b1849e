"""Presence: whether anybody is on the plate, being weighed, standing, or gone.

The thresholds the hinge analyser, the live session's tare and weigh-in and the drills all
use, the pure functions that find the moments in a force trace, a streaming
:class:`PresenceTracker` for consumers without the hinge analyser's history, and
:func:`plate_occupancy`, which tells an empty plate from a person standing still even on an
uncalibrated plate (a tare must never zero a person).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from analysis.stillness import WEIGH_STILL_S, Stillness, samples_for
from daq.calibration import G_M_S2
from daq.series import PlateSeries

# Someone is on the plate above this total force (a 15 kg child); below OFF_FRACTION of the
# standing weight they have stepped off (one foot lifted carries half).
ON_PLATE_N = 150.0
OFF_FRACTION = 0.4
# After stepping off, the low-passed force must fall below this share of ON_PLATE_N before
# the next person counts, or the tail of the last one would.
OFF_CLEAR_FRACTION = 0.8
# An empty plate's cells wobble by HX711 noise (tens of counts, hundredths of a newton at
# the nominal gain); a person standing as still as they can moves several newtons between
# the cells with every sway (a few mm of CoP under 70 kg over a 0.5 m cell spacing).
EMPTY_CELL_SPREAD_N = 0.25
PERSON_CELL_SPREAD_N = 1.0
# A plate whose weights can be trusted is empty below this load.
EMPTY_MAX_KG = 10.0


class Presence(enum.StrEnum):
    """Who is on the plate."""

    EMPTY = "empty"
    WEIGHING = "weighing"
    ON = "on"
    STEPPED_OFF = "stepped off"


def first_above(x: np.ndarray, level: float) -> int:
    """Index of the first sample above ``level``, or -1."""
    hit = np.flatnonzero(np.asarray(x) > level)
    return int(hit[0]) if hit.size else -1


def first_below(x: np.ndarray, level: float) -> int:
    """Index of the first sample below ``level``, or -1."""
    hit = np.flatnonzero(np.asarray(x) < level)
    return int(hit[0]) if hit.size else -1


class Occupancy(enum.StrEnum):
    """What a still stretch of the plate holds, for a tare."""

    EMPTY = "empty"
    PERSON = "person"
    UNSURE = "unsure"


def plate_occupancy(window: PlateSeries, calibrated: bool) -> Occupancy:
    """Whether a still stretch shows an empty plate, a person, or cannot tell.

    An empty plate's cells move by the amplifiers' noise; a standing person's sway moves
    load between the cells by far more, whatever the calibration. On a calibrated plate the
    load itself also counts.

    Parameters
    ----------
    window : PlateSeries
        About a second of samples (glitches marked invalid are left out).
    calibrated : bool
        Whether the forces are in real newtons.
    """
    force = window.force_n[window.valid] if window.n_cells else np.zeros((0, 0))
    if force.shape[0] < 3:
        return Occupancy.UNSURE
    if calibrated and float(np.mean(force.sum(axis=1))) / G_M_S2 > EMPTY_MAX_KG:
        return Occupancy.PERSON
    spread = float(np.max(np.std(force, axis=0)))
    if spread >= PERSON_CELL_SPREAD_N:
        return Occupancy.PERSON
    if spread <= EMPTY_CELL_SPREAD_N:
        return Occupancy.EMPTY
    return Occupancy.UNSURE


@dataclass(frozen=True)
class PresenceChange:
    """The tracker moved to ``presence`` at series time ``t_s``; ``weight_n`` once weighed."""

    t_s: float
    presence: Presence
    weight_n: float | None = None


class PresenceTracker:
    """Presence from a stream of blocks: empty -> weighing -> on -> stepped off -> ...

    Someone steps on above :data:`ON_PLATE_N`, is weighed after :data:`WEIGH_STILL_S` of
    stillness (:class:`analysis.stillness.Stillness`), and has stepped off below
    :data:`OFF_FRACTION` of that weight. Glitched samples (``valid`` False) are skipped.

    Parameters
    ----------
    fs_hz : float
        The plate's sample rate.
    """

    def __init__(self, fs_hz: float) -> None:
        self.fs_hz = float(fs_hz)
        self.stillness = Stillness(self.fs_hz)
        self.presence = Presence.EMPTY
        self.weight_n: float | None = None
        self._n_still = samples_for(WEIGH_STILL_S, self.fs_hz)
        self._sum = 0.0
        self._count = 0

    def feed(self, block: PlateSeries) -> list[PresenceChange]:
        """Follow a new block; the changes it brought, in order."""
        keep = block.valid & np.isfinite(block.fz_n)
        t = block.t_s[keep]
        fz = block.fz_n[keep]
        steady = self.stillness.push(fz)
        out: list[PresenceChange] = []
        i = 0
        while i < fz.shape[0]:
            p = self.presence
            if p in (Presence.EMPTY, Presence.STEPPED_OFF):
                if p == Presence.EMPTY:
                    j = first_above(fz[i:], ON_PLATE_N)
                else:
                    j = first_below(fz[i:], OFF_CLEAR_FRACTION * ON_PLATE_N)
                if j < 0:
                    break
                i += j
                if p == Presence.STEPPED_OFF:
                    self.presence = Presence.EMPTY
                    continue
                self.presence = Presence.WEIGHING
                self._sum, self._count = 0.0, 0
                out.append(PresenceChange(float(t[i]), Presence.WEIGHING))
            elif p == Presence.WEIGHING:
                if fz[i] < OFF_CLEAR_FRACTION * ON_PLATE_N:
                    self.presence = Presence.EMPTY
                    out.append(PresenceChange(float(t[i]), Presence.EMPTY))
                elif steady[i]:
                    self._sum += float(fz[i])
                    self._count += 1
                    if self._count >= self._n_still:
                        self.weight_n = self._sum / self._count
                        self.presence = Presence.ON
                        out.append(PresenceChange(float(t[i]), Presence.ON, self.weight_n))
                else:
                    self._sum, self._count = 0.0, 0
                i += 1
            else:  # ON
                assert self.weight_n is not None
                j = first_below(fz[i:], OFF_FRACTION * self.weight_n)
                if j < 0:
                    break
                i += j
                self.presence = Presence.STEPPED_OFF
                out.append(PresenceChange(float(t[i]), Presence.STEPPED_OFF))
        return out
