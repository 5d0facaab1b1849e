"""The session library: an index of every recording, its athlete, sets, reps, faults and scores.

The recordings stay the truth; the index is a cache of what :func:`analysis.report.
analyse_series_report` found in them, so it can always be rebuilt from the files
(:meth:`SessionIndex.scan`). It is an SQLite file, ``index.sqlite`` in the sessions folder
(embedded, no server), or any database SQLAlchemy reaches with a URL, such as a clinic's
PostgreSQL server shared by several coaches (``postgresql+psycopg://user@host/midfoot``).

A file is known by its absolute path; its size and modification time say whether it changed
since it was indexed, and a changed file is indexed again. Tables (docs/library.md):

``athletes``     id, name
``sessions``     id, path, size_bytes, mtime_ns, athlete_id, recorded_utc, kind (hinge or
                 drill), source_kind, stance, plate, plate_id, calibrated, duration_s,
                 rate_hz, body_mass_kg, n_reps, n_faults, analysis_note, indexed_utc
``sets``         id, session_id, set_index, stance, n_reps, mean_descent_s, mean_ascent_s,
                 mean_hold_s, mean_lateral_shift_mm
``reps``         id, session_id, rep_index, set_index, stance, start_s, bottom_s, lockout_s,
                 end_s, zone_at_bottom, lateral_shift_mm, lockout_shift_mm, lockout_hold_s,
                 load_kg, depth_m, n_faults
``faults``       id, rep_id, session_id, name, value, threshold, unit
``drill_scores`` id, session_id, kind, t_s, score, data_json

Drill recordings carry score events; any recorded event whose kind starts with ``drill`` is
indexed generically (:func:`drill_score_rows`), its numeric ``score`` (or first field whose
name holds "score") as the score and all its fields as JSON, so drill kinds added later need
no change here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import math
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analysis.report import FileReport, analyse_series_report
from analysis.reps import Rep, group_sets, summarise_set
from daq.errors import MidfootError
from daq.events import UnknownEvent, event_kind
from daq.paths import sessions_dir
from daq.reader import read_recording
from daq.series import PlateSeries

__all__ = [
    "INDEX_FILE_NAME",
    "IndexDatabaseError",
    "RECORDING_SUFFIXES",
    "ScanResult",
    "SessionIndex",
    "SessionRow",
    "default_index_url",
    "drill_score_rows",
    "find_recordings",
    "open_index",
    "register_recording",
]

F = TypeVar("F", bound=Callable[..., Any])

INDEX_FILE_NAME = "index.sqlite"
# What `scan` treats as a recording; the reader tells the formats apart by their content.
RECORDING_SUFFIXES = (".h5", ".hdf5", ".csv", ".c3d", ".txt")
# Bumped when the tables change: an index of another version is dropped and rebuilt from the
# files, which is always safe because the files are the truth.
SCHEMA_VERSION = 1
# An event whose kind starts with this is a drill's (scores, targets, ...).
DRILL_EVENT_PREFIX = "drill"
# The event that holds a drill's whole result (daq.events.DrillScored).
DRILL_RESULT_KIND = "drill-score"
# A clinic's shared index: every command that registers or lists sessions uses it.
DB_URL_ENV = "MIDFOOT_DB_URL"
# SQLite waits this long for another writer (record and live registering at once).
SQLITE_BUSY_TIMEOUT_S = 30.0

metadata = sa.MetaData()

schema_info = sa.Table(
    "schema_info",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(256), nullable=False),
)

athletes = sa.Table(
    "athletes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("path", sa.Text, nullable=False, unique=True),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("mtime_ns", sa.BigInteger, nullable=False),
    sa.Column("athlete_id", sa.Integer, sa.ForeignKey("athletes.id"), nullable=True),
    sa.Column("recorded_utc", sa.DateTime, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("source_kind", sa.String(32), nullable=False),
    sa.Column("stance", sa.String(32), nullable=False),
    sa.Column("plate", sa.String(200), nullable=True),
    sa.Column("plate_id", sa.String(200), nullable=True),
    sa.Column("calibrated", sa.Boolean, nullable=False),
    sa.Column("duration_s", sa.Float, nullable=False),
    sa.Column("rate_hz", sa.Float, nullable=True),
    sa.Column("body_mass_kg", sa.Float, nullable=True),
    sa.Column("n_reps", sa.Integer, nullable=False),
    sa.Column("n_faults", sa.Integer, nullable=False),
    sa.Column("analysis_note", sa.Text, nullable=True),
    sa.Column("indexed_utc", sa.DateTime, nullable=False),
    sa.Index("ix_sessions_athlete_date", "athlete_id", "recorded_utc"),
    sa.Index("ix_sessions_date", "recorded_utc"),
)

sets = sa.Table(
    "sets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "session_id", sa.Integer, sa.ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    ),
    sa.Column("set_index", sa.Integer, nullable=False),
    sa.Column("stance", sa.String(32), nullable=False),
    sa.Column("n_reps", sa.Integer, nullable=False),
    sa.Column("mean_descent_s", sa.Float, nullable=True),
    sa.Column("mean_ascent_s", sa.Float, nullable=True),
    sa.Column("mean_hold_s", sa.Float, nullable=True),
    sa.Column("mean_lateral_shift_mm", sa.Float, nullable=True),
)

reps = sa.Table(
    "reps",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "session_id", sa.Integer, sa.ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    ),
    sa.Column("rep_index", sa.Integer, nullable=False),
    sa.Column("set_index", sa.Integer, nullable=False),
    sa.Column("stance", sa.String(32), nullable=False),
    sa.Column("start_s", sa.Float, nullable=True),
    sa.Column("bottom_s", sa.Float, nullable=True),
    sa.Column("lockout_s", sa.Float, nullable=True),
    sa.Column("end_s", sa.Float, nullable=True),
    sa.Column("zone_at_bottom", sa.String(16), nullable=False),
    sa.Column("lateral_shift_mm", sa.Float, nullable=True),
    sa.Column("lockout_shift_mm", sa.Float, nullable=True),
    sa.Column("lockout_hold_s", sa.Float, nullable=True),
    sa.Column("load_kg", sa.Float, nullable=True),
    sa.Column("depth_m", sa.Float, nullable=True),
    sa.Column("n_faults", sa.Integer, nullable=False),
)

faults = sa.Table(
    "faults",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("rep_id", sa.Integer, sa.ForeignKey("reps.id", ondelete="CASCADE"), index=True),
    sa.Column(
        "session_id", sa.Integer, sa.ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    ),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("threshold", sa.Float, nullable=True),
    sa.Column("unit", sa.String(64), nullable=True),
)

drill_scores = sa.Table(
    "drill_scores",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "session_id", sa.Integer, sa.ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    ),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("t_s", sa.Float, nullable=True),
    sa.Column("score", sa.Float, nullable=True),
    sa.Column("data_json", sa.Text, nullable=False),
)

# Child tables first: what a re-index deletes before the session row (not every database
# enforces ON DELETE CASCADE; SQLite does only with a pragma).
_CHILDREN = (faults, reps, sets, drill_scores)


@dataclass(frozen=True)
class SessionRow:
    """One indexed session, as ``midfoot sessions`` lists it.

    Attributes
    ----------
    path : str
        Absolute path of the recording.
    recorded_utc : datetime.datetime
        When it began (naive, UTC): the file's own time, else its modification time.
    athlete : str
        Who stood on the plate ('' when the file does not say).
    kind : str
        ``hinge`` or ``drill``.
    stance : str
        The stance the recording starts in.
    duration_s : float
        Length of the recording.
    n_reps, n_faults : int
        Reps found, faults over all reps.
    plate : str or None
        Plate geometry name.
    calibrated : bool
        Whether the plate was calibrated.
    n_drill_scores : int
        Drill score events indexed.
    analysis_note : str or None
        Why the hinge analysis found nothing to analyse (a recording too short), if so.
    """

    path: str
    recorded_utc: dt.datetime
    athlete: str
    kind: str
    stance: str
    duration_s: float
    n_reps: int
    n_faults: int
    plate: str | None
    calibrated: bool
    n_drill_scores: int = 0
    analysis_note: str | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (``midfoot sessions --json``)."""
        out = dataclasses.asdict(self)
        out["recorded_utc"] = self.recorded_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
        out["duration_s"] = round(self.duration_s, 3)
        return out


@dataclass
class ScanResult:
    """What :meth:`SessionIndex.scan` did.

    Attributes
    ----------
    added, updated, unchanged, removed : list of str
        Paths newly indexed, re-indexed because they changed, left as they were, and taken
        out of the index because the file is gone.
    problems : list of str
        One sentence per file that could not be read (it is left out of the index).
    """

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line: counts of each outcome."""
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.unchanged)} "
            f"unchanged, {len(self.removed)} removed, {len(self.problems)} unreadable"
        )


def find_recordings(folder: str | Path) -> list[Path]:
    """Every file under ``folder`` that may be a recording, sorted by path.

    Hidden files and folders and the index itself are skipped.

    Raises
    ------
    MidfootError
        ``folder`` does not exist or is not a folder.
    """
    root = Path(folder)
    if not root.exists():
        raise MidfootError(f"{root} does not exist: give the folder your recordings are in")
    if not root.is_dir():
        raise MidfootError(f"{root} is not a folder: give the folder your recordings are in")
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.startswith((".", INDEX_FILE_NAME)):
                continue
            if Path(name).suffix.lower() in RECORDING_SUFFIXES:
                found.append(Path(dirpath) / name)
    return sorted(found)


def default_index_url(folder: str | Path | None = None) -> str:
    """The SQLite URL of ``index.sqlite`` in ``folder`` (default: the sessions folder)."""
    base = Path(folder) if folder is not None else sessions_dir()
    return f"sqlite:///{(base / INDEX_FILE_NAME).resolve()}"


def _finite(x: object) -> float | None:
    try:
        value = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _event_fields(event: object) -> dict[str, object]:
    if isinstance(event, UnknownEvent):
        return dict(event.data)
    if dataclasses.is_dataclass(event) and not isinstance(event, type):
        return {
            k: v for k, v in dataclasses.asdict(event).items() if k not in ("sample_index", "t_s")
        }
    return {}


def _json_object(text: str | None) -> dict[str, object]:
    """``text`` as a JSON object ({} when it is not one: an index written by hand)."""
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _score_of(data: dict[str, object]) -> float | None:
    if "score" in data:
        return _finite(data["score"])
    for key in sorted(data):
        if "score" in key.lower():
            value = _finite(data[key])
            if value is not None:
                return value
    return None


def drill_score_rows(events: Iterable[object]) -> list[dict[str, object]]:
    """The drill events of a recording as ``drill_scores`` rows (without ``session_id``).

    Parameters
    ----------
    events : iterable of RecordedEvent
        A series' events; those whose kind starts with ``drill`` are kept, registered
        classes and :class:`daq.events.UnknownEvent` alike.

    Returns
    -------
    list of dict
        ``kind``, ``t_s``, ``score`` (None when the event has no numeric score) and
        ``data_json`` (all the event's fields).
    """
    rows = []
    for event in events:
        kind = event_kind(event)
        if not kind.lower().startswith(DRILL_EVENT_PREFIX):
            continue
        data = _event_fields(event)
        rows.append(
            {
                "kind": kind[:64],
                "t_s": _finite(getattr(event, "t_s", None)),
                "score": _score_of(data),
                "data_json": json.dumps(data, default=str, sort_keys=True),
            }
        )
    return rows


def _recorded_utc(series: PlateSeries, mtime_ns: int) -> dt.datetime:
    text = (series.meta.created_utc or "").strip()
    if text:
        try:
            when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            when = None
        if when is not None:
            if when.tzinfo is not None:
                when = when.astimezone(dt.UTC).replace(tzinfo=None)
            return when.replace(microsecond=0)
    return dt.datetime.fromtimestamp(mtime_ns / 1e9, dt.UTC).replace(tzinfo=None, microsecond=0)


def _now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def _rep_row(rep: Rep, set_index: int) -> dict[str, object]:
    return {
        "rep_index": rep.index,
        "set_index": set_index,
        "stance": rep.stance,
        "start_s": _finite(rep.start_s),
        "bottom_s": _finite(rep.bottom_s),
        "lockout_s": _finite(rep.lockout_s),
        "end_s": _finite(rep.end_s),
        "zone_at_bottom": rep.zone_at_bottom,
        "lateral_shift_mm": _finite(rep.lateral_shift_mm),
        "lockout_shift_mm": _finite(rep.lockout_shift_mm),
        "lockout_hold_s": _finite(rep.lockout_hold_s),
        "load_kg": _finite(rep.load_kg),
        "depth_m": _finite(rep.depth_m),
        "n_faults": len(rep.faults),
    }


def _parse_date(value: str | dt.date | dt.datetime | None, end: bool) -> dt.datetime | None:
    """A ``--since``/``--until`` bound: a date (whole day) or an ISO date-time, UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        when = value
    elif isinstance(value, dt.date):
        when = dt.datetime.combine(value, dt.time.max if end else dt.time.min)
    else:
        text = str(value).strip()
        try:
            if len(text) == 10:
                day = dt.date.fromisoformat(text)
                when = dt.datetime.combine(day, dt.time.max if end else dt.time.min)
            else:
                when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise MidfootError(
                f"{text!r} is not a date: give it as YYYY-MM-DD (or YYYY-MM-DDTHH:MM)"
            ) from None
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    return when


class IndexDatabaseError(MidfootError):
    """The index database failed (gone, locked, full, no permission), said in one sentence."""


def _database_errors(method: F) -> F:
    """Turn a database failure inside ``method`` into one :class:`IndexDatabaseError`."""

    @functools.wraps(method)
    def wrapper(self: SessionIndex, *args: object, **kwargs: object) -> object:
        try:
            return method(self, *args, **kwargs)
        except sa.exc.SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            where = self.engine.url.render_as_string(hide_password=True)
            raise IndexDatabaseError(
                f"the session index at {where} failed ({reason}): check that the database is "
                "reachable and writable; the recordings are untouched"
            ) from None

    return wrapper  # type: ignore[return-value]


class SessionIndex:
    """The index of a sessions folder, in SQLite or any SQLAlchemy database.

    Parameters
    ----------
    engine : sqlalchemy.engine.Engine
        Where the tables live; created if missing (see :func:`open_index`).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._ensure_schema()

    # -- schema ---------------------------------------------------------------------------
    def _ensure_schema(self) -> None:
        inspector = sa.inspect(self.engine)
        if inspector.has_table("schema_info"):
            with self.engine.connect() as conn:
                version = conn.execute(
                    sa.select(schema_info.c.value).where(schema_info.c.key == "version")
                ).scalar()
            if version != str(SCHEMA_VERSION):
                # An index of another midfoot: drop it, `scan` rebuilds it from the files.
                metadata.drop_all(self.engine)
        metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            have = conn.execute(
                sa.select(schema_info.c.value).where(schema_info.c.key == "version")
            ).scalar()
            if have is None:
                conn.execute(schema_info.insert().values(key="version", value=str(SCHEMA_VERSION)))

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def __enter__(self) -> SessionIndex:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- writing --------------------------------------------------------------------------
    def _athlete_id(self, conn: sa.Connection, name: str) -> int | None:
        name = name.strip()[:200]
        if not name:
            return None
        found = conn.execute(sa.select(athletes.c.id).where(athletes.c.name == name)).scalar()
        if found is not None:
            return int(found)
        return int(conn.execute(athletes.insert().values(name=name)).inserted_primary_key[0])

    def _forget(self, conn: sa.Connection, session_id: int) -> None:
        for table in _CHILDREN:
            conn.execute(table.delete().where(table.c.session_id == session_id))
        conn.execute(sessions.delete().where(sessions.c.id == session_id))

    @_database_errors
    def register(
        self,
        path: str | Path,
        *,
        series: PlateSeries | None = None,
        report: FileReport | None = None,
    ) -> SessionRow:
        """Index one recording (again, if it was indexed before).

        Parameters
        ----------
        path : str or Path
            The recording.
        series : PlateSeries, optional
            The file already read (else :func:`daq.reader.read_recording` reads it).
        report : FileReport, optional
            Its analysis already made (else :func:`analysis.report.analyse_series_report`).

        Returns
        -------
        SessionRow
            What the index now holds for it.

        Raises
        ------
        MidfootError
            The file cannot be read (nothing is indexed for it then).
        """
        file = Path(path).resolve()
        try:
            stat = file.stat()
        except OSError as exc:
            raise MidfootError(f"{file} cannot be read ({exc.strerror}): check the path") from None
        if series is None:
            series = report.series if report is not None and report.series is not None else None
        if series is None:
            series = read_recording(file)
        note = None
        if report is None:
            try:
                report = analyse_series_report(series)
            except MidfootError as exc:
                note = str(exc)
        drills = drill_score_rows(series.events)
        rep_list = report.reps if report is not None else []
        stance = report.stance.stance if report is not None else (series.meta.stance or "")
        plate = series.meta.plate.name if series.meta.plate is not None else None
        extra_kind = str(series.meta.extra.get("activity", "")).lower()
        kind = "drill" if drills or extra_kind == "drill" else "hinge"
        row = {
            "path": str(file),
            "size_bytes": int(stat.st_size),
            "mtime_ns": int(stat.st_mtime_ns),
            "recorded_utc": _recorded_utc(series, stat.st_mtime_ns),
            "kind": kind,
            "source_kind": series.meta.kind,
            "stance": stance or "bilateral",
            "plate": plate,
            "plate_id": series.meta.plate_id or None,
            "calibrated": bool(series.meta.calibrated),
            "duration_s": float(series.duration_s) if len(series) else 0.0,
            "rate_hz": _finite(series.rate_hz),
            "body_mass_kg": _finite(report.body_mass_kg) if report is not None else None,
            "n_reps": len(rep_list),
            "n_faults": sum(len(r.faults) for r in rep_list),
            "analysis_note": note,
            "indexed_utc": _now_utc(),
        }
        with self.engine.begin() as conn:
            old = conn.execute(
                sa.select(sessions.c.id).where(sessions.c.path == str(file))
            ).scalar()
            if old is not None:
                self._forget(conn, int(old))
            row["athlete_id"] = self._athlete_id(conn, series.meta.athlete or "")
            session_id = int(conn.execute(sessions.insert().values(**row)).inserted_primary_key[0])
            for set_index, set_reps in enumerate(group_sets(rep_list)):
                summary = summarise_set(set_reps, str(file))
                conn.execute(
                    sets.insert().values(
                        session_id=session_id,
                        set_index=set_index,
                        stance=summary.stance,
                        n_reps=summary.n_reps,
                        mean_descent_s=_finite(summary.mean_descent_s),
                        mean_ascent_s=_finite(summary.mean_ascent_s),
                        mean_hold_s=_finite(summary.mean_hold_s),
                        mean_lateral_shift_mm=_finite(summary.mean_lateral_shift_mm),
                    )
                )
                for rep in set_reps:
                    rep_id = conn.execute(
                        reps.insert().values(session_id=session_id, **_rep_row(rep, set_index))
                    ).inserted_primary_key[0]
                    if rep.faults:
                        conn.execute(
                            faults.insert(),
                            [
                                {
                                    "rep_id": rep_id,
                                    "session_id": session_id,
                                    "name": f.name,
                                    "value": _finite(f.value),
                                    "threshold": _finite(f.threshold),
                                    "unit": f.unit[:64],
                                }
                                for f in rep.faults
                            ],
                        )
            if drills:
                conn.execute(
                    drill_scores.insert(), [{"session_id": session_id, **d} for d in drills]
                )
        return self._rows(sa.select(sessions.c.id).where(sessions.c.id == session_id))[0]

    @_database_errors
    def forget(self, path: str | Path) -> bool:
        """Take a recording out of the index (the file is not touched); whether it was there."""
        file = str(Path(path).resolve())
        with self.engine.begin() as conn:
            old = conn.execute(sa.select(sessions.c.id).where(sessions.c.path == file)).scalar()
            if old is None:
                return False
            self._forget(conn, int(old))
        return True

    @_database_errors
    def scan(
        self,
        folder: str | Path,
        *,
        progress: Callable[[Iterable[Path]], Iterator[Path]] | None = None,
    ) -> ScanResult:
        """Bring the index of ``folder`` in line with its files (the files are the truth).

        New files are indexed, files whose size or modification time changed are indexed
        again, indexed files under ``folder`` that are gone are taken out, and a file that
        cannot be read is reported in one sentence and left out.

        Parameters
        ----------
        folder : str or Path
            Any folder; searched recursively.
        progress : callable, optional
            Wraps the list of files for a progress bar (``progress(paths)`` yields them).
        """
        root = Path(folder).resolve()
        files = find_recordings(root)
        result = ScanResult()
        prefix = str(root).rstrip(os.sep) + os.sep
        with self.engine.connect() as conn:
            known = {
                r.path: (int(r.size_bytes), int(r.mtime_ns))
                for r in conn.execute(
                    sa.select(sessions.c.path, sessions.c.size_bytes, sessions.c.mtime_ns).where(
                        sessions.c.path.startswith(prefix, autoescape=True)
                    )
                )
            }
        present = set()
        for file in progress(files) if progress is not None else files:
            key = str(file.resolve())
            present.add(key)
            try:
                stat = file.stat()
            except OSError as exc:
                result.problems.append(f"{file}: cannot be read ({exc.strerror}); skipped")
                continue
            if known.get(key) == (int(stat.st_size), int(stat.st_mtime_ns)):
                result.unchanged.append(key)
                continue
            try:
                self.register(file)
            except IndexDatabaseError:
                raise  # the database, not this file: stop, one line
            except MidfootError as exc:
                if key in known:
                    self.forget(key)  # the index must not keep what the file no longer says
                result.problems.append(f"{file}: {exc}")
                continue
            (result.updated if key in known else result.added).append(key)
        for gone in sorted(set(known) - present):
            if not Path(gone).exists() or Path(gone).suffix.lower() not in RECORDING_SUFFIXES:
                self.forget(gone)
                result.removed.append(gone)
        return result

    # -- queries --------------------------------------------------------------------------
    def _rows(self, id_query: sa.Select) -> list[SessionRow]:
        scores = (
            sa.select(drill_scores.c.session_id, sa.func.count().label("n"))
            .group_by(drill_scores.c.session_id)
            .subquery()
        )
        query = (
            sa.select(
                sessions,
                athletes.c.name.label("athlete"),
                sa.func.coalesce(scores.c.n, 0).label("n_scores"),
            )
            .select_from(
                sessions.outerjoin(athletes, sessions.c.athlete_id == athletes.c.id).outerjoin(
                    scores, scores.c.session_id == sessions.c.id
                )
            )
            .where(sessions.c.id.in_(id_query.scalar_subquery()))
            .order_by(sessions.c.recorded_utc, sessions.c.path)
        )
        with self.engine.connect() as conn:
            return [
                SessionRow(
                    path=r.path,
                    recorded_utc=r.recorded_utc,
                    athlete=r.athlete or "",
                    kind=r.kind,
                    stance=r.stance,
                    duration_s=float(r.duration_s),
                    n_reps=int(r.n_reps),
                    n_faults=int(r.n_faults),
                    plate=r.plate,
                    calibrated=bool(r.calibrated),
                    n_drill_scores=int(r.n_scores),
                    analysis_note=r.analysis_note,
                )
                for r in conn.execute(query)
            ]

    def _filtered_ids(
        self,
        athlete: str | None,
        since: str | dt.date | None,
        until: str | dt.date | None,
        under: str | Path | None,
    ) -> sa.Select:
        query = sa.select(sessions.c.id)
        if athlete:
            query = query.join(athletes, sessions.c.athlete_id == athletes.c.id).where(
                sa.func.lower(athletes.c.name) == athlete.strip().lower()
            )
        start = _parse_date(since, end=False)
        stop = _parse_date(until, end=True)
        if start is not None:
            query = query.where(sessions.c.recorded_utc >= start)
        if stop is not None:
            query = query.where(sessions.c.recorded_utc <= stop)
        if under is not None:
            prefix = str(Path(under).resolve()).rstrip(os.sep) + os.sep
            query = query.where(sessions.c.path.startswith(prefix, autoescape=True))
        return query

    @_database_errors
    def sessions(
        self,
        *,
        athlete: str | None = None,
        since: str | dt.date | None = None,
        until: str | dt.date | None = None,
        under: str | Path | None = None,
    ) -> list[SessionRow]:
        """Indexed sessions, oldest first.

        Parameters
        ----------
        athlete : str, optional
            Only this athlete's (case-insensitive).
        since, until : str or date, optional
            Only sessions recorded on or after / on or before (``YYYY-MM-DD``: whole days,
            UTC).
        under : str or Path, optional
            Only files in this folder.

        Raises
        ------
        MidfootError
            A date that is not a date.
        """
        return self._rows(self._filtered_ids(athlete, since, until, under))

    @_database_errors
    def athletes(self) -> list[str]:
        """Names of every athlete in the index, sorted."""
        with self.engine.connect() as conn:
            return sorted(conn.execute(sa.select(athletes.c.name)).scalars())

    @_database_errors
    def history_rows(
        self, athlete: str, *, under: str | Path | None = None
    ) -> tuple[list[SessionRow], list[dict[str, object]], list[dict[str, object]]]:
        """What an athlete's history needs, in three queries.

        Returns
        -------
        sessions : list of SessionRow
            The athlete's sessions, oldest first.
        reps : list of dict
            ``path``, ``stance``, ``lateral_shift_mm``, ``lockout_hold_s`` and ``faults``
            (a list of fault names) of each rep.
        scores : list of dict
            ``path``, ``kind``, ``t_s``, ``score`` of each drill score event, and ``data``:
            a ``drill-score`` event's fields (its ``result``), else empty.
        """
        ids = self._filtered_ids(athlete, None, None, under)
        rows = self._rows(ids)
        ids_sub = ids.scalar_subquery()
        with self.engine.connect() as conn:
            fault_names: dict[int, list[str]] = {}
            for r in conn.execute(
                sa.select(faults.c.rep_id, faults.c.name)
                .where(faults.c.session_id.in_(ids_sub))
                .order_by(faults.c.rep_id, faults.c.id)
            ):
                fault_names.setdefault(int(r.rep_id), []).append(r.name)
            rep_rows = [
                {
                    "path": r.path,
                    "stance": r.stance,
                    "lateral_shift_mm": r.lateral_shift_mm,
                    "lockout_hold_s": r.lockout_hold_s,
                    "faults": fault_names.get(int(r.id), []),
                }
                for r in conn.execute(
                    sa.select(
                        reps.c.id,
                        sessions.c.path,
                        reps.c.stance,
                        reps.c.lateral_shift_mm,
                        reps.c.lockout_hold_s,
                    )
                    .join(sessions, reps.c.session_id == sessions.c.id)
                    .where(reps.c.session_id.in_(ids_sub))
                    .order_by(sessions.c.path, reps.c.rep_index)
                )
            ]
            score_rows = [
                {"path": r.path, "kind": r.kind, "t_s": r.t_s, "score": r.score,
                 # A drill's whole result: its per-side scores are followed too.
                 "data": _json_object(r.data_json) if r.kind == DRILL_RESULT_KIND else {}}
                for r in conn.execute(
                    sa.select(sessions.c.path, drill_scores.c.kind, drill_scores.c.t_s,
                              drill_scores.c.score, drill_scores.c.data_json)
                    .join(sessions, drill_scores.c.session_id == sessions.c.id)
                    .where(drill_scores.c.session_id.in_(ids_sub))
                    .order_by(sessions.c.path, drill_scores.c.id)
                )
            ]
        return rows, rep_rows, score_rows


def _set_aside_damaged_sqlite(url: sa.engine.URL, exc: Exception) -> Path | None:
    """Rename a damaged SQLite index out of the way (the files rebuild it); where it went.

    Only for a file SQLite says is not a database or is malformed: anything else (locked,
    read-only) is not damage and is left alone.
    """
    if url.get_backend_name() != "sqlite" or not url.database:
        return None
    reason = str(getattr(exc, "orig", exc)).lower()
    if "not a database" not in reason and "malformed" not in reason:
        return None
    path = Path(url.database)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    try:
        os.replace(path, target)
    except OSError:
        return None
    return target


def open_index(db_url: str | None = None, folder: str | Path | None = None) -> SessionIndex:
    """Open (creating if needed) the session index.

    Parameters
    ----------
    db_url : str, optional
        An SQLAlchemy URL (``postgresql+psycopg://user:pw@host/db``, ``sqlite:///file``);
        default ``$MIDFOOT_DB_URL``, else the SQLite file ``index.sqlite`` in ``folder``.
    folder : str or Path, optional
        The sessions folder (default :func:`daq.paths.sessions_dir`); created for the
        default SQLite index.

    Raises
    ------
    MidfootError
        The URL is malformed, names a database driver that is not installed, or the
        database cannot be reached or written.
    """
    db_url = db_url or os.environ.get(DB_URL_ENV, "").strip() or None
    if folder is not None and not Path(folder).is_dir():
        raise MidfootError(
            f"{folder} is not a folder (or does not exist): give the folder your recordings "
            "are in"
        )
    if not db_url:
        base = Path(folder) if folder is not None else sessions_dir()
        try:
            base.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MidfootError(
                f"cannot create the sessions folder {base} ({exc.strerror}): set "
                "MIDFOOT_SESSIONS_DIR to a folder you can write to"
            ) from None
        db_url = default_index_url(base)
    try:
        url = sa.engine.make_url(db_url)
    except sa.exc.ArgumentError:
        raise MidfootError(
            f"{db_url!r} is not a database URL: give e.g. postgresql+psycopg://user@host/midfoot"
        ) from None
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")  # the driver midfoot installs
    kwargs: dict[str, object] = {}
    if url.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S}
    where = url.render_as_string(hide_password=True)
    try:
        engine = sa.create_engine(url, **kwargs)
        try:
            return SessionIndex(engine)
        except sa.exc.DatabaseError as exc:
            moved = _set_aside_damaged_sqlite(url, exc)
            if moved is None:
                raise
            engine.dispose()
            engine = sa.create_engine(url, **kwargs)
            return SessionIndex(engine)
    except (ModuleNotFoundError, sa.exc.NoSuchModuleError) as exc:
        raise MidfootError(
            f"the database driver for {where} is not installed ({exc}): install midfoot's "
            "library extra (pip install 'midfoot[library]')"
        ) from None
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise MidfootError(
            f"cannot open the session index at {where} ({reason}): check the URL, that the "
            "server is running and that you may write there"
        ) from None


def register_recording(
    path: str | Path, db_url: str | None = None, folder: str | Path | None = None
) -> str | None:
    """Index a file a command just wrote; a sentence when that failed, else None.

    For `record` and the live session: the recording is safe whatever happens here, so a
    problem with the index is said, never raised. The index is the one :func:`open_index`
    opens (``$MIDFOOT_DB_URL`` or the sessions folder's SQLite file).
    """
    try:
        with open_index(db_url, folder) as index:
            index.register(path)
    except MidfootError as exc:
        return f"{Path(path).name} is saved but not in the session index ({exc})"
    except Exception as exc:  # noqa: BLE001 - the recording is done; the index must not undo it
        return (
            f"{Path(path).name} is saved but not in the session index ({type(exc).__name__}: "
            f"{exc}); run `midfoot sessions scan` on its folder later"
        )
    return None
