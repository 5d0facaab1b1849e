"""Readers for centre-of-pressure trajectories stored as delimited text.

Two layouts are understood, told apart by their header line:

- a Santos & Duarte (2016) trial, read as published: tab separated, one header line
  ``Time[s] Fx[N] Fy[N] Fz[N] Mx[Nm] My[Nm] Mz[Nm] COPx[cm] COPy[cm]``, where COPx is
  antero-posterior (AP) and COPy medio-lateral (ML), both in cm;
- midfoot CoP text: optional leading ``# key: value`` comment lines, then a header
  ``t,ap_mm,ml_mm,fz_n`` (comma or tab separated) and one sample per line.

Every reader returns a :class:`CopTrajectory` in seconds and millimetres with the
sampling rate taken from the time column. Every problem a person can meet with a file
raises :class:`ValueError` whose message is one sentence saying what is wrong and what
to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SANTOS_DUARTE_TIME = "Time[s]"
SANTOS_DUARTE_AP = "COPx[cm]"
SANTOS_DUARTE_ML = "COPy[cm]"
MM_PER_CM = 10.0

COP_TEXT_COLUMNS = ("t", "ap_mm", "ml_mm", "fz_n")
# ``t_s`` follows the project's unit-in-name rule, so it is accepted as well as ``t``.
TIME_COLUMN_NAMES = ("t", "t_s")

# Timestamps printed with a few decimals (e.g. 0.033, 0.067 at 30 Hz) wobble by a few
# per cent of the period; anything beyond this is a gap or a clock problem, not rounding.
MAX_PERIOD_DEVIATION = 0.05

EXPECTED_LAYOUTS = (
    "a Santos & Duarte trial (tab separated, Time[s] ... COPx[cm] COPy[cm]) "
    "or CoP text with the header t,ap_mm,ml_mm,fz_n"
)


@dataclass(frozen=True)
class CopTrajectory:
    """A uniformly sampled centre-of-pressure trajectory read from a file.

    Attributes
    ----------
    t_s : numpy.ndarray
        Sample times in s, strictly increasing and evenly spaced.
    ap_mm : numpy.ndarray
        Antero-posterior CoP in mm.
    ml_mm : numpy.ndarray
        Medio-lateral CoP in mm.
    fs_hz : float
        Sampling rate in Hz, from the time column: (N - 1) / (t[-1] - t[0]).
    fz_n : numpy.ndarray or None
        Vertical force in N, where the file has it.
    layout : str
        ``"santos-duarte"`` or ``"cop-text"``.
    meta : dict of str to str
        ``# key: value`` comment lines of CoP text (empty for Santos & Duarte trials).
    """

    t_s: np.ndarray
    ap_mm: np.ndarray
    ml_mm: np.ndarray
    fs_hz: float
    fz_n: np.ndarray | None = None
    layout: str = "cop-text"
    meta: dict[str, str] = field(default_factory=dict)


def read_cop_text(path: str | Path) -> CopTrajectory:
    """Read a CoP text file of either layout, chosen from its header line.

    Parameters
    ----------
    path : str or pathlib.Path
        A Santos & Duarte trial or a midfoot CoP text file.

    Returns
    -------
    CopTrajectory
        Times in s, CoP in mm, sampling rate in Hz.

    Raises
    ------
    ValueError
        If the file is missing, empty, has neither known header, has non-numeric
        values or unevenly spaced times.
    """
    path = Path(path)
    meta, header, rows = _split_text(path)
    if _is_santos_duarte_header(header):
        return _parse_santos_duarte(path, header, rows)
    return _parse_cop_table(path, meta, header, rows)


def read_santos_duarte_trial(path: str | Path) -> CopTrajectory:
    """Read one trial file of the Santos & Duarte (2016) balance data set as published.

    The file is tab separated with the header ``Time[s] Fx[N] Fy[N] Fz[N] Mx[Nm]
    My[Nm] Mz[Nm] COPx[cm] COPy[cm]``. COPx is antero-posterior and COPy
    medio-lateral; both are converted from cm to mm. Nothing is filtered.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``BDSnnnnn.txt`` trial file.

    Returns
    -------
    CopTrajectory
        Times in s, CoP in mm, Fz in N, sampling rate in Hz from the Time column.

    Raises
    ------
    ValueError
        If the file is missing, empty, is not a Santos & Duarte trial or holds
        non-numeric values.
    """
    path = Path(path)
    _, header, rows = _split_text(path)
    if not _is_santos_duarte_header(header):
        raise ValueError(
            f"{path.name} is not a Santos & Duarte trial because its header lacks "
            f"{SANTOS_DUARTE_TIME}, {SANTOS_DUARTE_AP} or {SANTOS_DUARTE_ML}; "
            "give an unchanged BDSnnnnn.txt file from the data set."
        )
    return _parse_santos_duarte(path, header, rows)


def _split_text(path: Path) -> tuple[dict[str, str], str, list[str]]:
    """Split a text file into comment metadata, header line and data lines."""
    if not path.exists():
        raise ValueError(f"{path} does not exist; check the file name and folder.")
    if not path.is_file():
        raise ValueError(f"{path} is not a file; give the path of a CoP text file.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{path.name} is not a text file; give {EXPECTED_LAYOUTS}.") from None
    except OSError as exc:
        raise ValueError(
            f"{path.name} cannot be read ({exc.strerror}); check its permissions."
        ) from None

    meta: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines) and (lines[i].startswith("#") or not lines[i].strip()):
        key, sep, value = lines[i].lstrip("#").partition(":")
        if sep and key.strip():
            meta[key.strip()] = value.strip()
        i += 1
    if i == len(lines):
        raise ValueError(f"{path.name} is empty; give a file with a header line and samples.")
    header = lines[i]
    # Trailing blank lines are common after hand edits and carry no samples.
    rows = [line for line in lines[i + 1 :] if line.strip()]
    if not rows:
        raise ValueError(
            f"{path.name} has a header but no samples; record or export the trial again."
        )
    return meta, header, rows


def _delimiter(header: str) -> str:
    return "\t" if "\t" in header else ","


def _header_names(header: str) -> list[str]:
    return [name.strip() for name in header.split(_delimiter(header))]


def _is_santos_duarte_header(header: str) -> bool:
    names = _header_names(header)
    return all(n in names for n in (SANTOS_DUARTE_TIME, SANTOS_DUARTE_AP, SANTOS_DUARTE_ML))


def _numeric_table(path: Path, names: list[str], rows: list[str], delimiter: str) -> np.ndarray:
    """Parse data lines into an (N, len(names)) float array, naming the first bad line."""
    try:
        table = np.loadtxt(rows, delimiter=delimiter, ndmin=2, dtype=float)
    except ValueError:
        table = None
    if table is not None and table.shape[1] == len(names):
        return table
    # The fast parser failed or disagreed with the header; find the first bad line to
    # tell the person exactly where to look (line numbers counted from the header).
    for offset, line in enumerate(rows, start=2):
        cells = [c.strip() for c in line.split(delimiter)]
        if len(cells) != len(names):
            raise ValueError(
                f"data line {offset} of {path.name} has {len(cells)} values but the header "
                f"names {len(names)} columns; fix or remove that line."
            )
        for name, cell in zip(names, cells, strict=True):
            try:
                float(cell)
            except ValueError:
                raise ValueError(
                    f"data line {offset} of {path.name} has the non-numeric value "
                    f"{cell!r} in column {name}; fix or remove that line."
                ) from None
    raise ValueError(f"{path.name} could not be parsed as numbers; check its delimiters.")


def _sampling_rate_hz(path: Path, t_s: np.ndarray) -> float:
    """Sampling rate from the time column, refusing gaps and non-increasing times."""
    if t_s.size < 2:
        raise ValueError(f"{path.name} has only one sample; record a longer trial.")
    if not np.all(np.isfinite(t_s)):
        raise ValueError(
            f"the time column of {path.name} has missing or infinite values; fix the time stamps."
        )
    dt_s = np.diff(t_s)
    if np.any(dt_s <= 0):
        first = int(np.argmax(dt_s <= 0)) + 2
        raise ValueError(
            f"the time column of {path.name} does not increase at data line {first}; "
            "sort the samples or remove repeated ones."
        )
    period_s = (t_s[-1] - t_s[0]) / (t_s.size - 1)
    worst = float(np.max(np.abs(dt_s - period_s)) / period_s)
    if worst > MAX_PERIOD_DEVIATION:
        raise ValueError(
            f"the samples of {path.name} are not evenly spaced in time (a step differs "
            f"from the mean period by {worst:.0%}); trim the trial to a part without gaps."
        )
    return float(1.0 / period_s)


def _parse_santos_duarte(path: Path, header: str, rows: list[str]) -> CopTrajectory:
    names = _header_names(header)
    table = _numeric_table(path, names, rows, "\t")
    t_s = table[:, names.index(SANTOS_DUARTE_TIME)]
    fz_n = table[:, names.index("Fz[N]")] if "Fz[N]" in names else None
    return CopTrajectory(
        t_s=t_s,
        ap_mm=table[:, names.index(SANTOS_DUARTE_AP)] * MM_PER_CM,
        ml_mm=table[:, names.index(SANTOS_DUARTE_ML)] * MM_PER_CM,
        fs_hz=_sampling_rate_hz(path, t_s),
        fz_n=fz_n,
        layout="santos-duarte",
    )


def _parse_cop_table(
    path: Path, meta: dict[str, str], header: str, rows: list[str]
) -> CopTrajectory:
    names = _header_names(header)
    time_names = [n for n in names if n in TIME_COLUMN_NAMES]
    if len(time_names) != 1 or "ap_mm" not in names or "ml_mm" not in names:
        shown = ",".join(names)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        raise ValueError(
            f"{path.name} has the columns {shown!r}, which are not a known layout; "
            f"give {EXPECTED_LAYOUTS}."
        )
    table = _numeric_table(path, names, rows, _delimiter(header))
    t_s = table[:, names.index(time_names[0])]
    return CopTrajectory(
        t_s=t_s,
        ap_mm=table[:, names.index("ap_mm")],
        ml_mm=table[:, names.index("ml_mm")],
        fs_hz=_sampling_rate_hz(path, t_s),
        fz_n=table[:, names.index("fz_n")] if "fz_n" in names else None,
        layout="cop-text",
        meta=meta,
    )
