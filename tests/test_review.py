"""What a review shows: rep table rows, timeline marks, reps aligned at their bottom, sides."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from analysis.report import analyse_file
from analysis.review import align_rep, gaps_s, overlays, rep_rows, side_of, timeline_marks
from daq.annotate import append_events
from daq.events import NoteAdded, UnknownEvent
from daq.series import PlateSeries

sys.path.insert(0, str(Path(__file__).parent))
from review_sessions import recording, write_session  # noqa: E402


@pytest.fixture(scope="module")
def left(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rec = recording("hinge-kickstand-left", seed=51, n_reps=3)
    return write_session(rec, tmp_path_factory.mktemp("l") / "left.h5")


@pytest.fixture(scope="module")
def right(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rec = recording("hinge-kickstand-right-reversed", seed=52, n_reps=3)
    return write_session(rec, tmp_path_factory.mktemp("r") / "right.h5")


def test_rep_rows_carry_every_column(left: Path) -> None:
    report = analyse_file(left)
    rows = rep_rows(report)
    assert len(rows) == len(report.reps) == 3
    cells = rows[0].cells()
    assert set(cells) >= {"start_s", "bottom_s", "lockout_s", "stance", "zone", "lateral_mm",
                          "lockout_mm", "hold_s", "load_kg", "faults", "cues"}
    assert cells["stance"] == "kickstand-left"
    assert float(cells["bottom_s"]) == pytest.approx(report.reps[0].bottom_s, abs=0.01)


def test_faults_are_named_with_their_cues(right: Path) -> None:
    report = analyse_file(right)
    rows = rep_rows(report)
    faulted = [r for r in rows if "lateral_shift" in r.rep.fault_names]
    assert faulted, "the reversed right side should miss its lateral shift"
    assert "lateral shift" in faulted[0].cells()["faults"]
    assert "hips toward the lead leg" in faulted[0].cells()["cues"]
    marks = [m for m in timeline_marks(report) if m.kind == "rep"]
    assert any("lateral shift" in m.label for m in marks)


def test_marks_show_notes_stance_and_unknown_kinds(left: Path, tmp_path: Path) -> None:
    h5 = tmp_path / "copy.h5"
    h5.write_bytes(left.read_bytes())
    append_events(h5, [(NoteAdded(text="grip slipped"), 300),
                       (UnknownEvent(kind="drill-target", data={"x_mm": 20}), 400)])
    marks = timeline_marks(analyse_file(h5))
    kinds = {m.kind for m in marks}
    assert {"rep", "stance", "note", "drill-target"} <= kinds
    assert [m.label for m in marks if m.kind == "note"] == ["grip slipped"]
    assert [m.t_s for m in marks] == sorted(m.t_s for m in marks)


def test_gaps_are_found_where_samples_are_missing() -> None:
    t = np.concatenate([np.arange(0, 10, 0.01), np.arange(13, 20, 0.01)])
    s = PlateSeries.from_arrays(t, np.full(t.size, 700.0), np.zeros((t.size, 2)))
    (gap,) = gaps_s(s)
    assert gap[0] == pytest.approx(9.99)
    assert gap[1] == pytest.approx(13.0)


def test_reps_align_at_their_bottom(left: Path) -> None:
    report = analyse_file(left)
    assert report.series is not None
    rep = report.reps[1]
    a = align_rep(report.series, rep)
    k0 = int(np.argmin(np.abs(a.rel_t_s)))
    i = int(np.searchsorted(report.series.t_s, rep.bottom_s))
    assert a.load_kg[k0] == pytest.approx(report.series.fz_n[i] / 9.80665, rel=0.02)
    assert a.path_xy_mm.shape[1] == 2
    assert report.series.t_s[0] <= rep.start_s
    assert a.stance.stance == "kickstand-left"


def test_overlays_compare_left_against_right(left: Path, right: Path) -> None:
    reports = [analyse_file(left), analyse_file(right)]
    ov = overlays(reports)
    assert len(ov.by_side["left"]) == 3
    assert len(ov.by_side["right"]) == 3
    assert ov.asymmetry is not None
    assert ov.asymmetry.left_mean_mm > ov.asymmetry.right_mean_mm
    assert ov.asymmetry.flag
    assert "asymmetry" in ov.summary()
    only_left = overlays(reports[:1])
    assert "record the right-lead side" in only_left.summary()
    assert side_of("bilateral") == "bilateral"


def test_a_drill_is_marked_by_its_start_and_end_not_a_line_per_target(drill_files) -> None:
    rec = drill_files["lateral"]
    marks = timeline_marks(analyse_file(rec.path))
    drill = [m for m in marks if m.kind.startswith("drill")]
    assert [m.kind for m in drill] == ["drill-start", "drill-score"]
    assert drill[0].label == "lateral drill (medium) started"
    assert drill[1].label == "lateral drill ended"
    assert drill[0].t_s == pytest.approx(rec.live["start_s"])
