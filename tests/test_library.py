"""The session index on real SQLite files and, in CI, on a real PostgreSQL server.

Recordings are real HDF5 sessions of the virtual plate (tests/session_files.py). What the
index holds is checked against :func:`analysis.report.analyse_file` of the same file.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from analysis.library import (
    SCHEMA_VERSION,
    IndexDatabaseError,
    find_recordings,
    metadata,
    open_index,
    register_recording,
)
from analysis.report import analyse_file
from daq.errors import MidfootError
from daq.events import NoteAdded, UnknownEvent, register_event
from daq.events import _Event as EventBase
from gui.cli import run_command
from gui.session import LiveSession, virtual_plate_url

sys.path.insert(0, str(Path(__file__).parent))
from session_files import write_session  # noqa: E402

PG_ENV = "MIDFOOT_TEST_PG_URL"


@register_event
@dataclass(frozen=True)
class DrillTargetHit(EventBase):
    """A drill event class as another layer would register it."""

    target: str
    score_pct: float
    KIND = "drill_test_target_hit"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty index database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'index.sqlite'}"
    url = os.environ.get(PG_ENV)
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must give a PostgreSQL server in ${PG_ENV} (.ci/run starts one)")
        pytest.skip(f"no PostgreSQL server: set ${PG_ENV} to run these against one")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS " + ", ".join(
            t.name for t in reversed(metadata.sorted_tables)) + " CASCADE"))
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four sessions of two athletes on three days, and files that are not recordings."""
    root = tmp_path_factory.mktemp("sessions")
    write_session(root / "ann-left.h5", athlete="Ann Lee", created_utc="2026-11-02T09:00:00Z",
                  seed=1)
    write_session(root / "ann-right.h5", scenario="hinge-kickstand-right-reversed",
                  athlete="Ann Lee", created_utc="2026-11-02T09:10:00Z", seed=2)
    (root / "week2").mkdir()
    write_session(root / "week2" / "ann-left.h5", athlete="Ann Lee",
                  created_utc="2026-11-09T09:00:00Z", seed=3, n_reps=4)
    write_session(root / "week2" / "bo.h5", scenario="hinge-bilateral-heels", athlete="Bo",
                  created_utc="2026-11-10T17:30:00Z", seed=4)
    return root


def _copy(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(src.read_bytes())
    return dst


def test_scan_indexes_what_analyse_finds(folder: Path, db_url: str) -> None:
    with open_index(db_url) as index:
        result = index.scan(folder)
        assert len(result.added) == 4
        assert result.problems == []
        rows = index.sessions()
    assert [Path(r.path).name for r in rows] == ["ann-left.h5", "ann-right.h5", "ann-left.h5",
                                                  "bo.h5"]
    for row in rows:
        report = analyse_file(row.path)
        assert row.n_reps == len(report.reps) > 0
        assert row.n_faults == sum(len(r.faults) for r in report.reps)
        assert row.stance == report.stance.stance
        assert row.duration_s == pytest.approx(float(report.meta["duration_s"]))
        assert row.calibrated is True
        assert row.kind == "hinge"
    assert rows[0].athlete == "Ann Lee"
    assert rows[0].recorded_utc == dt.datetime(2026, 11, 2, 9, 0)
    assert rows[1].n_faults > 0  # the reversed right side misses its lateral shift
    assert rows[3].n_faults > 0  # Bo sits back on the heels


def test_filters_by_athlete_and_date(folder: Path, db_url: str) -> None:
    with open_index(db_url) as index:
        index.scan(folder)
        assert index.athletes() == ["Ann Lee", "Bo"]
        assert len(index.sessions(athlete="ann lee")) == 3
        assert [r.athlete for r in index.sessions(athlete="BO")] == ["Bo"]
        assert len(index.sessions(since="2026-11-09")) == 2
        assert len(index.sessions(until="2026-11-02")) == 2  # the whole last day counts
        assert len(index.sessions(athlete="Ann Lee", since="2026-11-03", until="2026-11-09")) == 1
        assert index.sessions(athlete="nobody") == []
        assert len(index.sessions(under=folder / "week2")) == 2
        with pytest.raises(MidfootError, match="not a date"):
            index.sessions(since="last tuesday")


def test_history_rows_carry_each_reps_faults(folder: Path, db_url: str) -> None:
    with open_index(db_url) as index:
        index.scan(folder)
        rows, reps, scores = index.history_rows("ann lee")
    assert len(rows) == 3
    assert scores == []
    by_file: dict[str, list] = {}
    for rep in reps:
        by_file.setdefault(rep["path"], []).append(rep)
    for row in rows:
        report = analyse_file(row.path)
        got = by_file[row.path]
        assert [r["faults"] for r in got] == [r.fault_names for r in report.reps]
        assert [r["lateral_shift_mm"] for r in got] == pytest.approx(
            [r.lateral_shift_mm for r in report.reps])


def test_changed_files_are_indexed_again_and_gone_ones_removed(
    tmp_path: Path, folder: Path, db_url: str
) -> None:
    work = tmp_path / "lib"
    a = _copy(folder / "ann-left.h5", work / "a.h5")
    b = _copy(folder / "week2" / "bo.h5", work / "b.h5")
    with open_index(db_url) as index:
        assert len(index.scan(work).added) == 2
        again = index.scan(work)
        assert len(again.unchanged) == 2
        assert again.added == again.updated == []
        # Same name, other content: the 4-rep session replaces the 3-rep one.
        a.unlink()
        _copy(folder / "week2" / "ann-left.h5", a)
        os.utime(a, ns=(time.time_ns(), time.time_ns() + 10**9))
        b.unlink()
        third = index.scan(work)
        assert third.updated == [str(a.resolve())]
        assert third.removed == [str(b.resolve())]
        rows = index.sessions()
        assert [r.n_reps for r in rows] == [4]
        assert rows[0].recorded_utc == dt.datetime(2026, 11, 9, 9, 0)
        engine = index.engine
        with engine.connect() as conn:
            n_reps = conn.execute(sa.text("SELECT count(*) FROM reps")).scalar()
            n_sets = conn.execute(sa.text("SELECT count(*) FROM sets")).scalar()
        assert n_reps == 4  # the old file's reps went with it
        assert n_sets == 1


def test_unreadable_files_are_reported_in_one_line_and_skipped(
    tmp_path: Path, folder: Path, db_url: str
) -> None:
    work = tmp_path / "lib"
    _copy(folder / "ann-left.h5", work / "good.h5")
    (work / "broken.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    (work / "notes.csv").write_text("what,ever\nnot,numbers\n")
    (work / "empty.c3d").write_bytes(b"")
    (work / "readme.md").write_text("not a recording, not looked at")
    with open_index(db_url) as index:
        result = index.scan(work)
        assert [Path(p).name for p in result.added] == ["good.h5"]
        assert len(result.problems) == 3
        for line in result.problems:
            assert "\n" not in line
        assert {line.split(":")[0] for line in result.problems} == {
            str(work / n) for n in ("broken.h5", "notes.csv", "empty.c3d")
        }
        assert len(index.sessions()) == 1


def test_drill_events_are_indexed_generically(tmp_path: Path, db_url: str) -> None:
    events = [
        UnknownEvent(kind="drill-balance", data={"score": 87.5, "drill": "lateral-shift"}),
        DrillTargetHit(target="left", score_pct=64.0),
        UnknownEvent(kind="drill-start", data={"drill": "lateral-shift"}),
        NoteAdded(text="not a drill event"),
    ]
    path = write_session(tmp_path / "drill.h5", athlete="Cy", events=events, n_reps=1)
    with open_index(db_url) as index:
        row = index.register(path)
        assert row.kind == "drill"
        assert row.n_drill_scores == 3
        _, _, scores = index.history_rows("Cy")
    assert [s["kind"] for s in scores] == ["drill-balance", "drill_test_target_hit", "drill-start"]
    assert [s["score"] for s in scores] == [87.5, 64.0, None]


def test_an_index_of_another_version_is_rebuilt(tmp_path: Path, folder: Path) -> None:
    url = f"sqlite:///{tmp_path / 'index.sqlite'}"
    with open_index(url) as index:
        index.scan(folder)
    with sqlite3.connect(tmp_path / "index.sqlite") as conn:
        conn.execute("UPDATE schema_info SET value = ? WHERE key = 'version'",
                     (str(SCHEMA_VERSION + 1),))
    with open_index(url) as index:
        assert index.sessions() == []
        assert len(index.scan(folder).added) == 4


def test_default_index_is_in_the_sessions_folder(
    tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIDFOOT_SESSIONS_DIR", str(tmp_path / "mine"))
    assert register_recording(folder / "ann-left.h5") is None
    assert (tmp_path / "mine" / "index.sqlite").is_file()
    with open_index() as index:
        assert [r.athlete for r in index.sessions()] == ["Ann Lee"]
    note = register_recording(tmp_path / "missing.h5")
    assert note is not None
    assert "not in the session index" in note


def test_bad_database_urls_are_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(MidfootError, match="not a database URL"):
        open_index("::nonsense::")
    with pytest.raises(MidfootError, match="cannot open the session index"):
        open_index("postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(MidfootError, match="does not exist"):
        find_recordings(tmp_path / "nowhere")


def test_record_registers_the_file_it_writes(tmp_path: Path) -> None:
    out = tmp_path / "rec" / "dee.h5"
    env = {**os.environ, "MIDFOOT_SESSIONS_DIR": str(tmp_path / "sessions")}
    done = subprocess.run(
        [sys.executable, "-m", "gui.cli", "record", "--port",
         "sim://hinge-kickstand-left?rate=80&speed=8", "--out", str(out), "--seconds", "2",
         "--athlete", "Dee", "--quiet"],
        capture_output=True, text=True, timeout=120, env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "session index" not in done.stderr
    with open_index(folder=tmp_path / "sessions") as index:
        rows = index.sessions(athlete="dee")
    assert [r.path for r in rows] == [str(out.resolve())]


@pytest.mark.parametrize("how", ["stop_recording", "closing the app while recording"])
def test_the_live_session_registers_what_it_records(tmp_path: Path, how: str) -> None:
    session = LiveSession(virtual_plate_url("hinge-kickstand-left", 80, seed=3, speed=8.0))
    path = tmp_path / "live.h5"
    session.start()
    try:
        session.start_recording(str(path))
        deadline = time.monotonic() + 30
        while session.status.recording_samples < 400 and time.monotonic() < deadline:
            time.sleep(0.05)
        if how == "stop_recording":
            assert session.stop_recording() == str(path)
    finally:
        session.stop()
    assert session.register_note is None
    with open_index() as index:
        rows = index.sessions()
    assert [r.path for r in rows] == [str(path.resolve())]
    assert rows[0].stance == "bilateral"  # as the session was told (its default)


def test_sessions_command_lists_filters_and_scans(
    tmp_path: Path, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work = tmp_path / "lib"
    _copy(folder / "ann-left.h5", work / "ann.h5")
    _copy(folder / "week2" / "bo.h5", work / "bo.h5")
    (work / "junk.csv").write_text("no,recording\n")
    code = run_command("sessions", ["scan", str(work)])
    out, err = capsys.readouterr()
    assert code == 0
    assert "2 added" in out
    assert "1 unreadable" in out
    assert err.count("\n") == 1
    assert "junk.csv" in err
    assert (work / "index.sqlite").is_file()
    code = run_command("sessions", [str(work), "--athlete", "ann lee", "--json"])
    out, _ = capsys.readouterr()
    assert code == 0
    doc = json.loads(out)
    assert [Path(d["path"]).name for d in doc] == ["ann.h5"]
    assert doc[0]["recorded_utc"] == "2026-11-02T09:00:00Z"
    assert doc[0]["n_reps"] == len(analyse_file(work / "ann.h5").reps)
    code = run_command("sessions", [str(work), "--since", "2026-11-05"])
    out, _ = capsys.readouterr()
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["date", "(UTC)", "athlete"]
    assert len(lines) == 2
    assert "2026-11-10 17:30" in lines[1]
    assert " Bo " in lines[1]
    code = run_command("sessions", [str(work), "--since", "soon"])
    _, err = capsys.readouterr()
    assert code == 2
    assert "not a date" in err


def test_sessions_command_on_a_shared_database(
    tmp_path: Path, folder: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    work = _copy(folder / "ann-left.h5", tmp_path / "lib" / "ann.h5").parent
    assert run_command("sessions", ["scan", str(work), "--db", db_url]) == 0
    capsys.readouterr()
    assert run_command("sessions", ["--db", db_url, "--json"]) == 0
    doc = json.loads(capsys.readouterr()[0])
    assert [d["athlete"] for d in doc] == ["Ann Lee"]
    assert not (work / "index.sqlite").exists()  # --db: nothing written beside the files


def test_a_damaged_sqlite_index_is_set_aside_and_rebuilt(tmp_path: Path, folder: Path) -> None:
    (tmp_path / "index.sqlite").write_bytes(b"this is not a database at all" * 100)
    with open_index(folder=tmp_path) as index:
        assert index.sessions() == []
        assert len(index.scan(folder).added) == 4
    damaged = list(tmp_path.glob("index.sqlite.damaged-*"))
    assert len(damaged) == 1
    assert damaged[0].read_bytes().startswith(b"this is not a database")
    assert find_recordings(tmp_path) == []  # neither index file is taken for a recording


def test_a_failing_database_is_one_sentence_and_stops_the_scan(
    tmp_path: Path, folder: Path, db_url: str
) -> None:
    with open_index(db_url) as index:
        with index.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE faults"))
        with pytest.raises(IndexDatabaseError, match="the session index at .* failed") as err:
            index.scan(folder)
        assert "\n" not in str(err.value)
        assert "password" not in str(err.value)


def test_an_explicit_folder_must_exist(tmp_path: Path) -> None:
    with pytest.raises(MidfootError, match="not a folder"):
        open_index(folder=tmp_path / "typo")
    assert not (tmp_path / "typo").exists()
