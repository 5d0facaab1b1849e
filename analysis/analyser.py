"""What an analyser is, and how a whole recording is fed through one.

An analyser takes blocks of a :class:`daq.series.PlateSeries` as they come and says what
it found as typed events (:mod:`analysis.events`); :meth:`Analyser.finish` closes what is
still open at the end. The live session feeds it from the acquisition thread, and
:func:`analyse_series` feeds a recording in large blocks, so live and offline give the same
result. :class:`analysis.hinge.HingeAnalyser` is the first; the drills are the next.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from analysis.events import AnalysisEvent
from analysis.hinge import HingeAnalyser
from analysis.reps import Rep, Thresholds
from analysis.stance import StanceSetup, StanceTimeline
from daq.series import PlateSeries

# Offline analysis feeds this many samples at a time (the result does not depend on it).
OFFLINE_BLOCK_SAMPLES = 1 << 16


class Analyser(Protocol):
    """Feed blocks, get events; finish at the end."""

    def feed(self, block: PlateSeries) -> list[AnalysisEvent]:
        """Analyse the next block of samples; the events it brought, in time order."""
        ...

    def finish(self) -> list[AnalysisEvent]:
        """The recording ended: close what is open; the events that brings."""
        ...


def feed_series(
    analyser: Analyser,
    series: PlateSeries,
    changes: tuple[tuple[float, StanceSetup], ...] = (),
    block_samples: int = OFFLINE_BLOCK_SAMPLES,
) -> list[AnalysisEvent]:
    """Feed a whole series through ``analyser`` in blocks, then finish it.

    Parameters
    ----------
    analyser : Analyser
        A fresh analyser.
    series : PlateSeries
        The recording.
    changes : tuple of (float, StanceSetup)
        Stance changes (series time, setup), applied with ``analyser.set_stance`` at the
        first sample at or after each time.
    block_samples : int
        Samples per block.

    Returns
    -------
    list of AnalysisEvent
        Every event, in order.
    """
    step = max(int(block_samples), 1)
    cuts = sorted(
        ((int(np.searchsorted(series.t_s, t)), setup) for t, setup in changes), key=lambda c: c[0]
    )
    bounds = [0] + [c for c, _ in cuts] + [len(series)]
    setups: list[StanceSetup | None] = [None] + [s for _, s in cuts]
    events: list[AnalysisEvent] = []
    for a, b, setup in zip(bounds[:-1], bounds[1:], setups, strict=True):
        if setup is not None:
            analyser.set_stance(setup)  # type: ignore[attr-defined]
        for i in range(a, b, step):
            events += analyser.feed(series.slice(i, min(i + step, b)))
    events += analyser.finish()
    return events


def analyse_series(
    series: PlateSeries,
    stance: StanceTimeline | StanceSetup,
    thresholds: Thresholds | None = None,
    *,
    body_mass_kg: float | None = None,
    block_samples: int = OFFLINE_BLOCK_SAMPLES,
    analyser: HingeAnalyser | None = None,
) -> list[Rep]:
    """Run :class:`~analysis.hinge.HingeAnalyser` over a whole recording; its reps.

    Parameters
    ----------
    series : PlateSeries
        The recording (:func:`daq.reader.read_recording`).
    stance : StanceTimeline or StanceSetup
        The stances (:func:`analysis.stance.stance_timeline`), or one for the whole series.
    thresholds : Thresholds, optional
        Fault limits.
    body_mass_kg : float, optional
        The person's own mass, if known.
    block_samples : int
        Samples per block fed (the result does not depend on it).
    analyser : HingeAnalyser, optional
        Use this fresh analyser (e.g. to read its body mass afterwards).
    """
    timeline = (
        stance if isinstance(stance, StanceTimeline) else StanceTimeline(stance, (), "told")
    )
    if analyser is None:
        analyser = HingeAnalyser(timeline.initial, thresholds, body_mass_kg=body_mass_kg)
    feed_series(analyser, series, timeline.changes, block_samples)
    return analyser.reps
