"""An athlete's history: visits, MDC95 from the athlete's own trials, plots, the command."""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from analysis.athlete_history import (
    ASYMMETRY_KEY,
    MDC_SOURCE,
    build_history,
    mdc95,
    pooled_within_sd,
)
from analysis.library import SessionRow, open_index
from analysis.report import analyse_file
from analysis.reps import lateral_asymmetry
from daq.errors import MidfootError
from daq.events import UnknownEvent
from gui.cli import run_command

sys.path.insert(0, str(Path(__file__).parent))
from session_files import write_session  # noqa: E402


def _session(path: str, day: int, n_reps: int, athlete: str = "Eve") -> SessionRow:
    return SessionRow(
        path=path, recorded_utc=dt.datetime(2026, 10, day, 9), athlete=athlete, kind="hinge",
        stance="kickstand-left", duration_s=60.0, n_reps=n_reps, n_faults=0, plate=None,
        calibrated=True,
    )


def _reps(path: str, shifts: list[float], faults: list[list[str]] | None = None) -> list[dict]:
    faults = faults or [[] for _ in shifts]
    return [
        {"path": path, "stance": "kickstand-left", "lateral_shift_mm": s,
         "lockout_hold_s": 2.0 + 0.1 * i, "faults": f}
        for i, (s, f) in enumerate(zip(shifts, faults, strict=True))
    ]


def test_pooled_within_sd_and_mdc95() -> None:
    groups = [[1.0, 3.0], [10.0, 14.0, 12.0], [7.0], [float("nan"), 5.0]]
    sd, dof = pooled_within_sd(groups)
    ss = sum(((np.asarray(g) - np.mean(g)) ** 2).sum() for g in ([1.0, 3.0], [10.0, 14.0, 12.0]))
    assert dof == 1 + 2
    assert sd == pytest.approx(math.sqrt(ss / 3))
    assert pooled_within_sd([[1.0], [2.0]]) == (None, 0)
    assert mdc95(2.0) == pytest.approx(1.96 * math.sqrt(2) * 2.0)


def test_a_change_is_flagged_only_beyond_the_mdc() -> None:
    sessions = [_session("a", 1, 4), _session("b", 8, 4), _session("c", 15, 4)]
    reps = (
        _reps("a", [20.0, 22.0, 21.0, 19.0])
        + _reps("b", [30.0, 31.0, 29.0, 32.0])  # +10 mm: far beyond the noise
        + _reps("c", [30.5, 31.5, 29.5, 32.5], [[], [], [], ["backward_lean"]])  # +0.5 mm
    )
    history = build_history("eve", sessions, reps)
    trend = history.trends["lateral_shift_left_mm"]
    sd, _ = pooled_within_sd([[20, 22, 21, 19], [30, 31, 29, 32], [30.5, 31.5, 29.5, 32.5]])
    assert trend.sem == pytest.approx(sd)
    assert trend.mdc95 == pytest.approx(1.96 * math.sqrt(2) * sd)
    assert [c.flagged for c in trend.changes] == [True, False]
    assert trend.changes[0].delta == pytest.approx(10.0)
    assert trend.overall is not None
    assert trend.overall.flagged
    # A fault seen once after never before: the trials never varied before, so the one
    # visit that varies gives the SEM, and a 25-point rise is within it.
    lean = history.trends["fault_rate_backward_lean"]
    assert lean.values == [0.0, 0.0, 25.0]
    assert lean.mdc95 is not None
    assert not any(c.flagged for c in lean.changes)
    # A fault never seen has no noise estimate: no change of it can be called real.
    heel = history.trends["fault_rate_heel_shift"]
    assert heel.mdc95 is None
    assert not any(c.flagged for c in heel.changes)
    assert history.athlete == "Eve"


def test_one_trial_per_visit_flags_nothing() -> None:
    sessions = [_session("a", 1, 1), _session("b", 8, 1)]
    history = build_history("Eve", sessions, _reps("a", [5.0]) + _reps("b", [40.0]))
    trend = history.trends["lateral_shift_left_mm"]
    assert trend.mdc95 is None
    assert not trend.changes[0].flagged


def test_unknown_athlete_is_one_sentence() -> None:
    with pytest.raises(MidfootError, match="no sessions of 'Zed'"):
        build_history("Zed", [], [])


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two visits of Ann, each a left-lead and a right-lead recording; drill scores."""
    root = tmp_path_factory.mktemp("ann")
    plan = [("2026-11-01", "hinge-kickstand-right-reversed", 60.0),
            ("2026-11-08", "hinge-kickstand-right", 75.0)]
    for k, (day, right, score) in enumerate(plan):
        write_session(root / f"{day}-left.h5", athlete="Ann", created_utc=f"{day}T09:00:00Z",
                      seed=40 + k, n_reps=3)
        events = [UnknownEvent(kind="drill-balance", data={"score": score + d}) for d in (-1, 0, 1)]
        write_session(root / f"{day}-right.h5", scenario=right, athlete="Ann",
                      created_utc=f"{day}T09:20:00Z", seed=50 + k, n_reps=3, events=events)
    return root


def test_visits_match_the_analysis_of_their_files(folder: Path, tmp_path: Path) -> None:
    with open_index(f"sqlite:///{tmp_path / 'i.sqlite'}") as index:
        index.scan(folder)
        history = build_history("ann", *index.history_rows("ann"))
    assert [v.day.isoformat() for v in history.visits] == ["2026-11-01", "2026-11-08"]
    for visit in history.visits:
        reps = [r for p in sorted(visit.paths) for r in analyse_file(p).reps]
        asym = lateral_asymmetry(reps, 15.0)
        assert visit.n_reps == len(reps)
        assert visit.means["lateral_shift_left_mm"] == pytest.approx(asym.left_mean_mm)
        assert visit.means["lateral_shift_right_mm"] == pytest.approx(asym.right_mean_mm)
        if asym.index_pct is None:
            assert ASYMMETRY_KEY not in visit.means
        else:
            assert visit.means[ASYMMETRY_KEY] == pytest.approx(asym.index_pct)
    scores = history.trends["drill:drill-balance"]
    assert scores.values == pytest.approx([60.0, 75.0])
    assert scores.changes[0].flagged  # +15 against a trial SD of 1
    right = history.trends["lateral_shift_right_mm"]
    assert right.changes[0].delta > 0  # the reversed shift of week 1 is corrected in week 2


def test_history_command_writes_png_html_and_json(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png, page = tmp_path / "ann.png", tmp_path / "ann.html"
    code = run_command("history", ["ANN", "--sessions-dir", str(folder), "--png", str(png),
                                   "--html", str(page), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    assert doc["athlete"] == "Ann"
    assert len(doc["visits"]) == 2
    assert doc["metrics"]["drill:drill-balance"]["changes"][0]["flagged"] is True
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.image

    assert matplotlib.image.imread(png).shape[0] > 300
    text = page.read_text()
    assert "<svg" in text
    assert "Haley" in text
    assert MDC_SOURCE.split(".")[0] in text
    code = run_command("history", ["Ann", "--sessions-dir", str(folder)])
    out, _ = capsys.readouterr()
    assert code == 0
    assert "drill-balance score: 60 -> 75 (+15" in out
    assert "REAL CHANGE" in out


def test_history_of_nobody_is_one_line(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run_command("history", ["Nobody", "--sessions-dir", str(folder)])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1
    assert "no sessions of 'Nobody'" in err
