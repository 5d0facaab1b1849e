"""`midfoot drill`: the command end to end on the virtual plate's drill people."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.drills import SETTLE_S, DrillSettings, drill_plan, score_series
from daq.events import DrillScored, DrillStarted, DrillTargetShown
from daq.reader import read_recording


def run_cli(*argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gui.cli", *argv], capture_output=True, text=True, timeout=timeout
    )


def test_json_and_record_of_a_late_person(tmp_path: Path) -> None:
    path = tmp_path / "drill.h5"
    out = run_cli("drill", "lateral", "--terminal", "--speed", "6", "--targets", "2",
                  "--person", "late", "--seed", "2", "--json", "--record", str(path))
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)  # stdout is the one JSON object, nothing else
    assert result["drill"] == "lateral"
    assert result["completed"] is True
    assert result["settings"]["targets"] == 2
    assert len(result["trials"]) == 2
    for trial in result["trials"]:
        assert abs(trial["reaction_time_s"] - 0.8) < 0.1
    assert result["scores"]["per_side"]["left"]["targets"] == 1
    # The live lines went to stderr, with the file's name at the end.
    assert "shift left into the band" in out.stderr
    assert str(path) in out.stderr

    recording = read_recording(path)
    assert any(isinstance(e, DrillStarted) for e in recording.events)
    assert sum(isinstance(e, DrillTargetShown) and e.phase == "target"
               for e in recording.events) == 2
    scored = [e for e in recording.events if isinstance(e, DrillScored)]
    assert len(scored) == 1
    assert scored[0].result["scores"]["success"] == result["scores"]["success"]
    assert score_series(recording).to_dict()["trials"][0]["label"] == "left"


def test_limits_result_gives_the_lateral_range(tmp_path: Path) -> None:
    out = run_cli("drill", "limits", "--terminal", "--speed", "15", "--json", "--seed", "1")
    assert out.returncode == 0, out.stderr
    limits = json.loads(out.stdout)
    per = limits["scores"]["per_direction"]
    assert set(per) == {"forward", "forward-right", "right", "backward-right", "backward",
                        "backward-left", "left", "forward-left"}
    file = tmp_path / "limits.json"
    file.write_text(out.stdout)
    out = run_cli("drill", "lateral", "--terminal", "--speed", "6", "--targets", "2",
                  "--limits", str(file), "--json", "--seed", "1")
    assert out.returncode == 0, out.stderr
    lateral = json.loads(out.stdout)
    left = next(t for t in limits["trials"] if t["label"] == "left")["maximum_mm"]
    assert lateral["settings"]["range_left_mm"] == pytest.approx(left)
    assert lateral["range_mm"][0] == pytest.approx(left)
    assert "as far as you can" not in out.stderr  # no range phase: it was given


def test_a_sequence_prints_every_drill_and_records_them_in_one_file(tmp_path: Path) -> None:
    path = tmp_path / "visit.h5"
    out = run_cli("drill", "limits", "lateral", "--terminal", "--speed", "15", "--targets", "2",
                  "--json", "--seed", "4", "--record", str(path), timeout=180)
    assert out.returncode == 0, out.stderr
    results = json.loads(out.stdout)
    assert [r["drill"] for r in results] == ["limits", "lateral"]
    assert all(r["completed"] for r in results)
    recording = read_recording(path)
    starts = [e for e in recording.events if isinstance(e, DrillStarted)]
    assert [e.drill for e in starts] == ["limits", "lateral"]
    assert [e.start_s for e in starts] == [r["start_s"] for r in results]
    # The lateral drill starts once the limits drill has ended and the person has stood
    # SETTLE_S again (to the next sample).
    plan = drill_plan(DrillSettings.from_dict(results[0]["settings"]))
    limits_end_s = starts[0].start_s + plan[-1].t1_s
    assert starts[1].start_s - limits_end_s == pytest.approx(SETTLE_S, abs=0.05)
    scored = [e for e in recording.events if isinstance(e, DrillScored)]
    assert [e.drill for e in scored] == ["limits", "lateral"]
    assert scored[0].t_s < starts[1].start_s
    # A sequence's JSON gives its limits drill's range to a later lateral drill.
    file = tmp_path / "visit.json"
    file.write_text(out.stdout)
    again = run_cli("drill", "lateral", "--terminal", "--speed", "6", "--targets", "2",
                    "--limits", str(file), "--json", "--seed", "1")
    assert again.returncode == 0, again.stderr
    left = next(t for t in results[0]["trials"] if t["label"] == "left")["maximum_mm"]
    assert json.loads(again.stdout)["range_mm"][0] == pytest.approx(left)


def test_plain_text_scores_when_not_json() -> None:
    out = run_cli("drill", "weight", "--terminal", "--speed", "6", "--seconds", "8",
                  "--person", "weak-left")
    assert out.returncode == 0, out.stderr
    assert "weight: left" in out.stdout
    assert "heavier_side right" in out.stdout


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["lateral", "--range-mm", "5,x"], "--range-mm takes two distances"),
        (["lateral", "--hold-s", "0"], "hold_s must be between"),
        (["weight", "--stance", "kickstand-left"], "bilateral stance"),
        (["lateral", "--limits", "/nonexistent.json"], "cannot read"),
        (["hop"], "invalid choice"),
    ],
)
def test_mistakes_are_one_line(argv: list[str], says: str) -> None:
    out = run_cli("drill", *argv, "--terminal")
    assert out.returncode == 2
    assert says in out.stderr
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
