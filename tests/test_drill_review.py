"""A recorded drill read back: the live drill's scores, its targets, its trials."""

from __future__ import annotations

import dataclasses
import math

import pytest

from analysis.drill_review import TRIAL_COLUMNS, read_recorded_drills, recorded_drills
from analysis.drills import score_series
from daq.errors import MidfootError
from daq.events import DrillScored
from daq.reader import read_recording
from hardware.drill_people import behaviour


def _close(a: object, b: object) -> bool:
    """Equal, floats to 1e-9 (a JSON round trip, or live sums in another order)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def _without_scores(series):
    """``series`` as a file without its ``drill-score`` event would read."""
    return dataclasses.replace(
        series, events=tuple(e for e in series.events if not isinstance(e, DrillScored))
    )


@pytest.mark.parametrize("name", ["lateral", "rhythmic", "limits", "weight"])
def test_each_drill_reads_back_with_the_live_scores(drill_files, name: str) -> None:
    rec = drill_files[name]
    drill = read_recorded_drills(rec.path)[0]
    assert drill.drill == name
    assert drill.recorded
    assert _close(drill.result.to_dict(), rec.live)
    assert len(drill.rows) == len(rec.live["trials"])
    assert all(math.isfinite(r.shown_s) and r.until_s > r.shown_s for r in drill.rows)
    assert [r.trial for r in drill.rows] == rec.live["trials"]
    assert set(drill.rows[0].cells()) == {k for k, _ in TRIAL_COLUMNS[name]}
    kinds = {"lateral": "band", "rhythmic": "moving", "limits": "direction", "weight": "weight"}
    assert {t.kind for t in drill.targets} == {kinds[name]}
    assert len(drill.targets) == len(drill.rows)
    assert drill.summary_lines()[-1] == "scores as the drill computed them live"


def test_lateral_bands_sit_where_the_drill_showed_them(drill_files) -> None:
    rec = drill_files["lateral"]
    drill = read_recorded_drills(rec.path)[0]
    base = rec.live["baseline_mm"][0]
    left_range, right_range = rec.live["range_mm"]
    s = drill.settings
    for target, row in zip(drill.targets, drill.rows, strict=True):
        reach = left_range if target.label == "left" else right_range
        side = -1 if target.label == "left" else 1
        centre = base + side * s.target_pct / 100.0 * reach
        assert 0.5 * (target.lo_mm + target.hi_mm) == pytest.approx(centre)
        assert target.hi_mm - target.lo_mm == pytest.approx(s.band_pct / 100.0 * reach)
        assert (target.shown_s, target.until_s) == (row.shown_s, row.until_s)
    # The late person's scripted reaction, in the stored live scores and in the file's own
    # rescoring alike (the person follows the screen, so a late live start keeps it).
    late = behaviour("late").reaction_s
    rescored = recorded_drills(_without_scores(read_recording(rec.path)))[0]
    for row in [*drill.rows, *rescored.rows]:
        assert abs(float(row.cells()["reaction_time_s"]) - late) < 0.1
        assert row.cells()["success"] == "yes"


def test_rhythmic_target_follows_the_drills_own_wave(drill_files) -> None:
    rec = drill_files["rhythmic"]
    drill = read_recorded_drills(rec.path)[0]
    base = rec.live["baseline_mm"][0]
    amp = drill.settings.amplitude_pct / 100.0
    for target in drill.targets:
        rel = target.target_mm - base
        assert rel[0] == pytest.approx(0.0, abs=1e-6)  # each pace starts in the middle
        assert rel.max() == pytest.approx(amp * rec.live["range_mm"][1], rel=0.05)
        assert -rel.min() == pytest.approx(amp * rec.live["range_mm"][0], rel=0.05)


def test_without_stored_scores_they_are_recomputed_from_the_samples(drill_files) -> None:
    rec = drill_files["lateral"]
    series = read_recording(rec.path)
    drill = recorded_drills(_without_scores(series))[0]
    assert not drill.recorded
    assert "recomputed" in drill.summary_lines()[-1]
    assert _close(drill.result.to_dict(), score_series(series).to_dict())
    assert len(drill.rows) == len(rec.live["trials"])


def test_a_hinge_file_holds_no_drill(tmp_path) -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from review_sessions import recording, write_session

    path = write_session(recording("hinge-kickstand-left", seed=5, n_reps=1), tmp_path / "h.h5")
    assert recorded_drills(read_recording(path)) == []
    with pytest.raises(MidfootError, match="holds no drill"):
        read_recorded_drills(path)


def test_a_sequence_reads_back_every_drill_with_its_own_events(drill_files) -> None:
    rec = drill_files["lateral+rhythmic"]
    drills = read_recorded_drills(rec.path)
    assert [d.drill for d in drills] == ["lateral", "rhythmic"]
    assert len(rec.live) == 2
    for drill, live in zip(drills, rec.live, strict=True):
        assert drill.recorded
        assert _close(drill.result.to_dict(), live)
        assert [r.trial for r in drill.rows] == live["trials"]
        assert len(drill.targets) == len(drill.rows) > 0
    kinds = [{t.kind for t in d.targets} for d in drills]
    assert kinds == [{"band"}, {"moving"}]
    # The second drill starts after the first has ended: each owns its own stretch.
    first_end = max(t.until_s for t in drills[0].targets)
    assert drills[1].result.start_s > first_end
    assert min(r.shown_s for r in drills[1].rows) > first_end
    # Without stored scores each drill is rescored from its own samples, as live.
    series = _without_scores(read_recording(rec.path))
    for drill, live in zip(recorded_drills(series), rec.live, strict=True):
        assert not drill.recorded
        assert _close(drill.result.to_dict(), live)
