"""`midfoot report`: a self-contained page with every section, rendered by headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from analysis.report import analyse_files
from daq.annotate import append_events
from daq.events import AthleteSet
from gui.cli import run_command
from gui.report_page import report_html

sys.path.insert(0, str(Path(__file__).parent))
from review_sessions import recording, write_session  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
)


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    d = tmp_path_factory.mktemp("report")
    return [
        write_session(recording("hinge-kickstand-left", seed=81, n_reps=3), d / "left.h5"),
        write_session(
            recording("hinge-kickstand-right-reversed", seed=82, n_reps=3), d / "right.h5"
        ),
    ]


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.external: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith("#"):
                self.external.append(value)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_page_has_every_section_and_nothing_external(sessions: list[Path]) -> None:
    report = analyse_files(sessions)
    page = _Page()
    page.feed(report_html(report))
    text = " ".join(page.text)
    assert page.external == []
    assert "script" not in page.tags
    assert "link" not in page.tags
    for heading in ("What to work on", "Recordings", "Sets", "Reps", "Each rep on the foot",
                    "Left against right", "Sway while standing still"):
        assert heading in text
    n_reps = sum(len(f.reps) for f in report.files)
    # One foot figure per rep, and three overlay charts.
    assert page.tags.count("svg") == n_reps + 3
    assert page.tags.count("figure") == n_reps
    assert "calibrated with a known mass" in text
    assert "Shift your hips toward the lead leg" in text
    assert "asymmetry" in text
    assert "Sam" in text
    assert "95 % ellipse" in text  # quiet standing before the first rep was measured


def test_the_report_honours_edits(sessions: list[Path], tmp_path: Path) -> None:
    h5 = tmp_path / "left.h5"
    h5.write_bytes(sessions[0].read_bytes())
    append_events(h5, [(AthleteSet(athlete="Jo <Smith>", edit_id="a"), 0)])
    html = report_html(analyse_files([h5]))
    assert "Jo &lt;Smith&gt;" in html
    assert "<Smith>" not in html


def test_report_command(sessions: list[Path], tmp_path: Path, capsys) -> None:
    out = tmp_path / "r.html"
    assert run_command("report", [*map(str, sessions), "--out", str(out)]) == 0
    assert "6 reps from 2 file(s)" in capsys.readouterr().out
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert run_command("report", [str(sessions[0]), "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert run_command("report", [str(tmp_path / "none.h5"), "--out", str(tmp_path / "x")]) == 2
    assert "does not exist" in capsys.readouterr().err


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed: apt-get install chromium (see .ci/run)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return exe


def _render(exe: str, page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _console(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if re.search(r":CONSOLE[:(]", line)]


def test_chromium_renders_it_without_console_errors(sessions: list[Path], tmp_path: Path) -> None:
    exe = _chromium()
    out = tmp_path / "report.html"
    assert run_command("report", [*map(str, sessions), "--out", str(out)]) == 0
    done = _render(exe, out, tmp_path / "profile", "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    assert _console(done.stderr) == []
    assert "Hip hinge report: Sam" in done.stdout
    assert done.stdout.count("<svg") == 6 + 3
    # The check sees a console error when there is one.
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><p>x</p><script>notDefined();</script>")
    assert _console(_render(exe, bad, tmp_path / "profile2", "--dump-dom").stderr)
    artefacts = Path(os.environ.get("MIDFOOT_ARTEFACTS", ROOT / "build" / "artefacts"))
    artefacts.mkdir(parents=True, exist_ok=True)
    shot = artefacts / "report.png"
    shot.unlink(missing_ok=True)
    done = _render(
        exe, out, tmp_path / "profile3", "--window-size=1200,3200", f"--screenshot={shot}"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert _console(done.stderr) == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000


# -- drills --------------------------------------------------------------------------------------


def _live_side_cells(live: dict) -> list[str]:
    """The lateral drill's per-side numbers as the report must print them (from live JSON)."""
    out = []
    for side in ("left", "right"):
        p = live["scores"]["per_side"][side]
        out += [f"{p['reaction_time_s']:.2f}", f"{p['time_to_target_s']:.2f}",
                f"{100 * p['success']:.0f} %"]
    return out


def test_drill_report_has_the_live_scores_targets_and_polar_plot(drill_files) -> None:
    from analysis.drill_review import DrillTrialRow

    paths = [drill_files[n].path for n in ("lateral", "rhythmic", "limits", "weight")]
    html = report_html(analyse_files(paths))
    page = _Page()
    page.feed(html)
    text = " ".join(page.text)
    assert page.external == []
    assert "script" not in page.tags
    assert "Drill report" in text
    assert "Drills" in text
    # A report of drills only has no hinge sections to say "no reps" in.
    assert "Each rep on the foot" not in text
    assert html.count('<section class="drill">') == 4
    assert html.count('class="drill-trace"') == 4  # CoP against the targets, each drill
    assert html.count('class="limits-polar"') == 1  # the limits excursions
    for cell in _live_side_cells(drill_files["lateral"].live):
        assert f">{cell}</td>" in html
    for name in ("lateral", "rhythmic", "limits", "weight"):
        live = drill_files[name].live
        for trial in live["trials"]:
            for cell in DrillTrialRow(name, trial).cells().values():
                assert f">{cell}</td>" in html
    # The weak-left person stands on the right foot, and the report says so.
    assert "more weight on the right foot" in text
    assert "Scores as the drill computed them live" in text


def test_a_report_of_reps_and_a_drill_has_both(sessions: list[Path], drill_files) -> None:
    html = report_html(analyse_files([*sessions, drill_files["lateral"].path]))
    assert "Hip hinge report" in html
    assert "Each rep on the foot" in html
    assert html.count('<section class="drill">') == 1


def test_a_sequence_file_reports_each_of_its_drills(drill_files) -> None:
    from analysis.drill_review import DrillTrialRow

    rec = drill_files["lateral+rhythmic"]
    html = report_html(analyse_files([rec.path]))
    assert html.count('<section class="drill">') == 2
    assert html.count('class="drill-trace"') == 2
    assert f"{rec.path.name} 1 of 2: lateral drill" in html
    assert f"{rec.path.name} 2 of 2: rhythmic drill" in html
    for live in rec.live:
        for trial in live["trials"]:
            for cell in DrillTrialRow(live["drill"], trial).cells().values():
                assert f">{cell}</td>" in html


def test_chromium_renders_the_drill_section(drill_files, tmp_path: Path) -> None:
    exe = _chromium()
    out = tmp_path / "drills.html"
    paths = [str(drill_files[n].path) for n in ("lateral", "limits", "weight")]
    assert run_command("report", [*paths, "--out", str(out)]) == 0
    done = _render(exe, out, tmp_path / "profile", "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    assert _console(done.stderr) == []
    assert "<h2>Drills</h2>" in done.stdout
    assert done.stdout.count('<section class="drill">') == 3
    assert done.stdout.count('class="drill-trace"') == 3
    assert done.stdout.count('class="limits-polar"') == 1
    artefacts = Path(os.environ.get("MIDFOOT_ARTEFACTS", ROOT / "build" / "artefacts"))
    artefacts.mkdir(parents=True, exist_ok=True)
    shot = artefacts / "report-drills.png"
    shot.unlink(missing_ok=True)
    done = _render(
        exe, out, tmp_path / "profile2", "--window-size=1200,4000", f"--screenshot={shot}"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_drill_part_shows_the_athletes_trend_as_history_gives_it(tmp_path: Path,
                                                                       capsys) -> None:
    import json

    import h5py
    from drill_files import record_drill_files

    exe = _chromium()
    visits = tmp_path / "visits"
    visits.mkdir()
    flags = ["--targets", "4", "--speed", "4"]
    # Three people of different skill, one a visit; the files' names are not in date order.
    days = {"a-perfect": "2026-01-19", "b-late": "2026-01-05", "c-weak": "2026-01-12"}
    recs = record_drill_files(visits, {
        "a-perfect": ("lateral", "perfect", flags),
        "b-late": ("lateral", "late", flags),
        "c-weak": ("lateral", "weak-left", flags),
    })
    for key, rec in recs.items():
        with h5py.File(rec.path, "r+") as f:
            f.attrs["athlete"] = "Ann"
            f.attrs["created_utc"] = f"{days[key]}T10:00:00Z"
    assert run_command("history", ["Ann", "--sessions-dir", str(visits), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)["metrics"]
    out = tmp_path / "trend.html"
    newest = str(recs["a-perfect"].path)
    assert run_command("report", [newest, "--sessions-dir", str(visits), "--out", str(out)]) == 0
    html = out.read_text()
    points: dict[tuple[str, str], list[tuple[str, float]]] = {}
    for svg in re.finditer(r'<svg[^>]*class="drill-trend" data-drill="lateral" '
                           r'data-score="([a-z_]+)">(.*?)</svg>', html, re.S):
        for p in re.finditer(r'data-side="(\w+)" data-day="([\d-]+)" data-value="([-\d.e]+)"',
                             svg.group(2)):
            points.setdefault((svg.group(1), p.group(1)), []).append(
                (p.group(2), float(p.group(3))))
    ordered = sorted(days.values())
    for score in ("time_to_target_s", "reaction_time_s", "success"):
        for side in ("left", "right"):
            got = points[(score, side)]
            want = metrics[f"drill:lateral:{score}:{side}"]["points"]
            # Every visit the score has, oldest first, with history's own numbers.
            assert [d for d, _ in got] == [p["day"] for p in want]
            assert [v for _, v in got] == [p["value"] for p in want]
    held = dict(points[("success", "left")])
    assert [d for d, _ in points[("success", "right")]] == ordered
    # The scripted skills show: the weak-left person held no left target, the others all.
    assert held == {"2026-01-05": 100.0, "2026-01-12": 0.0, "2026-01-19": 100.0}
    reaction = dict(points[("reaction_time_s", "right")])
    assert reaction["2026-01-05"] - reaction["2026-01-19"] > 0.3  # late against perfect
    done = _render(exe, out, tmp_path / "profile", "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    assert _console(done.stderr) == []
    assert done.stdout.count('class="drill-trend"') == 3
    assert "Drill scores across visits: Ann, 3 visit(s)" in done.stdout
