"""Batch re-analysis: every recording under a folder, one CSV row per rep, on Dask distributed.

Each file is one task, :func:`file_rows`: read, analyse (optionally re-calibrated) and turn
its reps into rows of already-formatted strings, so what a worker returns cannot depend on
the machine it ran on. The rows are sorted (file, then rep) before they are written, so the
CSV is byte-for-byte the same from the plain loop (:func:`run_loop`), a LocalCluster or a
team's scheduler (:func:`run_dask`). A file that cannot be read or analysed gives one
sentence and no rows; the others go on.

Workers of a remote scheduler must have midfoot installed (the same version), and the files
must be at the same paths for them (a shared folder).
"""

from __future__ import annotations

import csv
import json
import logging
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from analysis.report import analyse_file
from analysis.reps import Rep
from daq.calibration import Calibration
from daq.errors import MidfootError

__all__ = [
    "CSV_COLUMNS",
    "BatchResult",
    "file_rows",
    "load_recalibration",
    "run_dask",
    "run_loop",
    "write_csv",
]

# Column -> decimals of the fixed float format ("" for text columns).
CSV_COLUMNS: dict[str, int | None] = {
    "file": None,
    "athlete": None,
    "stance": None,
    "rep": None,
    "start_s": 3,
    "bottom_s": 3,
    "lockout_s": 3,
    "end_s": 3,
    "descent_s": 3,
    "ascent_s": 3,
    "zone_at_bottom": None,
    "bias": None,
    "lateral_shift_mm": 1,
    "lockout_shift_mm": 1,
    "lockout_hold_s": 2,
    "load_kg": 1,
    "depth_m": 3,
    "faults": None,
}
# Seconds to wait for a scheduler given with --scheduler before saying it is not there.
CONNECT_TIMEOUT_S = 10.0


@dataclass
class BatchResult:
    """What a batch produced.

    Attributes
    ----------
    rows : list of dict of str to str
        One per rep, sorted by file then rep, every value already formatted.
    problems : list of str
        One sentence per file that gave no rows, sorted.
    n_files : int
        Files tried.
    """

    rows: list[dict[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    n_files: int = 0


def _number(x: float | None, decimals: int) -> str:
    if x is None or not math.isfinite(x):
        return ""
    text = f"{x:.{decimals}f}"
    return f"{0.0:.{decimals}f}" if float(text) == 0.0 else text  # never "-0.0"


def _rep_row(rel: str, athlete: str, rep: Rep) -> dict[str, str]:
    values: dict[str, object] = {
        "file": rel,
        "athlete": athlete,
        "stance": rep.stance,
        "rep": str(rep.index + 1),
        "start_s": rep.start_s,
        "bottom_s": rep.bottom_s,
        "lockout_s": rep.lockout_s,
        "end_s": rep.end_s,
        "descent_s": rep.descent_s,
        "ascent_s": rep.ascent_s,
        "zone_at_bottom": rep.zone_at_bottom,
        "bias": rep.bias,
        "lateral_shift_mm": rep.lateral_shift_mm,
        "lockout_shift_mm": rep.lockout_shift_mm,
        "lockout_hold_s": rep.lockout_hold_s,
        "load_kg": rep.load_kg,
        "depth_m": rep.depth_m,
        "faults": ";".join(rep.fault_names),
    }
    row = {}
    for column, decimals in CSV_COLUMNS.items():
        value = values[column]
        row[column] = str(value) if decimals is None else _number(value, decimals)  # type: ignore[arg-type]
    return row


def file_rows(
    path: str, root: str, calibration: dict | None = None
) -> tuple[list[dict[str, str]], str | None]:
    """The CSV rows of one recording, or a sentence saying why there are none.

    Runs on a Dask worker: it takes and returns only plain, picklable values and never
    raises for a bad file.

    Parameters
    ----------
    path : str
        The recording.
    root : str
        The batch folder; the ``file`` column is ``path`` relative to it (POSIX form), so
        rows do not depend on where the folder is mounted.
    calibration : dict, optional
        :meth:`daq.calibration.Calibration.to_dict` of a calibration to re-analyse with.

    Returns
    -------
    rows : list of dict
        One per rep (see :data:`CSV_COLUMNS`).
    problem : str or None
        ``FILE: sentence`` when the file gave no analysis.
    """
    try:
        rel = Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        rel = Path(path).as_posix()
    try:
        cal = Calibration.from_dict(calibration) if calibration is not None else None
        report = analyse_file(path, calibration=cal)
    except MidfootError as exc:
        return [], f"{rel}: {exc}"
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
        return [], f"{rel}: stopped on an unexpected error ({type(exc).__name__}: {exc})"
    athlete = str(report.meta.get("athlete") or "")
    return [_rep_row(rel, athlete, rep) for rep in report.reps], None


def _worker_failure(path: str, root: str | Path, exc: BaseException) -> str:
    """The one line for a task that failed outside :func:`file_rows` (on the worker itself)."""
    try:
        rel = Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        rel = Path(path).as_posix()
    return (
        f"{rel}: the Dask worker failed ({type(exc).__name__}: {exc}); check that every "
        "worker has this midfoot installed and can read the file at this path"
    )


def _collect(results: Sequence[tuple[list[dict[str, str]], str | None]], n: int) -> BatchResult:
    out = BatchResult(n_files=n)
    for rows, problem in results:
        out.rows.extend(rows)
        if problem:
            out.problems.append(problem)
    out.rows.sort(key=lambda r: (r["file"], int(r["rep"])))
    out.problems.sort()
    return out


def run_loop(
    paths: Sequence[str | Path],
    root: str | Path,
    calibration: dict | None = None,
    on_done: Callable[[], None] | None = None,
) -> BatchResult:
    """Analyse ``paths`` one after another in this process (the baseline, and for one core).

    Parameters
    ----------
    paths : sequence of path
        Recordings.
    root : path
        The batch folder (see :func:`file_rows`).
    calibration : dict, optional
        Re-calibrate with this.
    on_done : callable, optional
        Called after each file (a progress bar's update).
    """
    results = []
    for p in paths:
        results.append(file_rows(str(p), str(root), calibration))
        if on_done is not None:
            on_done()
    return _collect(results, len(paths))


def run_dask(
    paths: Sequence[str | Path],
    root: str | Path,
    calibration: dict | None = None,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    on_done: Callable[[], None] | None = None,
) -> BatchResult:
    """Analyse ``paths`` in parallel on Dask distributed, one task per file.

    Parameters
    ----------
    paths : sequence of path
        Recordings.
    root : path
        The batch folder (see :func:`file_rows`).
    calibration : dict, optional
        Re-calibrate with this.
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``); default a LocalCluster here.
    workers : int, optional
        LocalCluster worker processes (default: the CPU count, at most the number of files).
    on_done : callable, optional
        Called as each file finishes.

    Raises
    ------
    MidfootError
        Dask is not installed, or the scheduler cannot be reached.
    """
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise MidfootError(
            "batch needs Dask distributed: install midfoot's library extra "
            "(pip install 'midfoot[library]')"
        ) from None
    paths = [str(p) for p in paths]
    cluster = None
    try:
        if scheduler:
            try:
                client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
            except (OSError, TimeoutError, ValueError) as exc:
                raise MidfootError(
                    f"cannot reach the Dask scheduler at {scheduler} ({exc}): check the "
                    "address and that the scheduler is running"
                ) from None
        else:
            n = workers or min(os.cpu_count() or 1, len(paths))
            cluster = LocalCluster(
                n_workers=max(1, n),
                threads_per_worker=1,  # the analysis holds the GIL: processes, not threads
                processes=True,
                host="127.0.0.1",  # nothing of a local batch listens beyond this machine
                # The scheduler always serves HTTP (health, metrics); on a free port, so two
                # batches (or a team's scheduler on 8787) never collide.
                dashboard_address=":0",
                silence_logs=logging.ERROR,
            )
            client = Client(cluster)
        with client:
            futures = client.map(
                file_rows, paths, root=str(root), calibration=calibration, pure=False
            )
            path_of = {f.key: p for f, p in zip(futures, paths, strict=True)}
            results = []
            for future in as_completed(futures):
                try:
                    results.append(future.result())
                except Exception as exc:  # noqa: BLE001 - a worker died or lacks midfoot
                    results.append(([], _worker_failure(path_of[future.key], root, exc)))
                if on_done is not None:
                    on_done()
    finally:
        if cluster is not None:
            cluster.close()
    return _collect(results, len(paths))


def write_csv(result: BatchResult, path: str | Path) -> Path:
    """Write the rows as CSV: a header, then one line per rep, LF line ends.

    Raises
    ------
    MidfootError
        The file cannot be written.
    """
    target = Path(path)
    try:
        with target.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
            writer.writeheader()
            writer.writerows(result.rows)
    except OSError as exc:
        raise MidfootError(
            f"cannot write {target} ({exc.strerror}): choose a folder you can write to"
        ) from None
    return target


def load_recalibration(path: str | Path) -> dict:
    """A calibration file (as `midfoot calibrate` saves it) checked and ready for workers.

    Raises
    ------
    MidfootError
        The file is missing or is not a midfoot calibration.
    """
    source = Path(path)
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
        return Calibration.from_dict(data).to_dict()
    except OSError as exc:
        raise MidfootError(
            f"cannot read the calibration {source} ({exc.strerror}): check the path"
        ) from None
    except (ValueError, KeyError, TypeError, MidfootError):
        raise MidfootError(
            f"{source} is not a midfoot calibration file: give one `midfoot calibrate` saved "
            "(in the config folder's calibrations/)"
        ) from None
