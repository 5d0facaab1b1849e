"""Tests of analysis.analyser: the analyser protocol and feeding a whole recording."""

from __future__ import annotations

import numpy as np
from test_reps import Synth, _reps

from analysis.analyser import Analyser, analyse_series, feed_series
from analysis.events import RepCompleted
from analysis.hinge import HingeAnalyser
from analysis.stance import StanceSetup, StanceTimeline
from daq.series import PlateSeries


def test_the_hinge_analyser_is_an_analyser() -> None:
    an: Analyser = HingeAnalyser(StanceSetup())
    assert an.feed(PlateSeries.empty()) == []
    assert an.finish() == []


def test_feeding_a_series_gives_its_events_whatever_the_block_size() -> None:
    t, fz, cop = Synth(_reps(3), fs_hz=80.0).series()
    series = PlateSeries.from_arrays(t, fz, cop)
    small = feed_series(HingeAnalyser(StanceSetup()), series, block_samples=17)
    large = feed_series(HingeAnalyser(StanceSetup()), series, block_samples=100_000)
    assert [type(e) for e in small] == [type(e) for e in large]
    done = [e.rep for e in small if isinstance(e, RepCompleted)]
    assert done == [e.rep for e in large if isinstance(e, RepCompleted)]
    assert len(done) == 3


def test_a_recording_longer_than_the_history_in_one_block_loses_no_rep() -> None:
    # 30 reps over 3.6 minutes at 10 Hz: offline that is one 65,536-sample block, longer
    # than the analyser's history (twice 45 s plus 1,024 samples: 192 s at 10 Hz). Its
    # first samples were overwritten unread (3 reps lost) until the block was fed 45 s at
    # a time.
    t, fz, cop = Synth(_reps(30), fs_hz=10.0).series()
    series = PlateSeries.from_arrays(t, fz, cop)
    whole = analyse_series(series, StanceSetup())
    assert len(whole) == 30
    assert whole == analyse_series(series, StanceSetup(), block_samples=5)


def test_stance_changes_apply_from_their_time() -> None:
    synth = Synth(_reps(4), fs_hz=80.0)
    t, fz, cop = synth.series()
    series = PlateSeries.from_arrays(t, fz, cop)
    change_s = 0.5 * (synth.reps[1].start_s + synth.reps[2].start_s)
    timeline = StanceTimeline(
        StanceSetup("bilateral"), ((change_s, StanceSetup("kickstand-left")),), "told"
    )
    reps = analyse_series(series, timeline)
    assert [r.stance for r in reps] == ["bilateral"] * 2 + ["kickstand-left"] * (len(reps) - 2)
    assert len(reps) >= 3
    assert np.all(np.diff([r.bottom_s for r in reps]) > 0)
