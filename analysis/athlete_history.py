"""An athlete's progress across sessions, with changes judged against their own noise.

Sessions are grouped into visits (the sessions of one UTC calendar day, so a left-lead and a
right-lead recording of the same morning compare as one visit). Per visit: fault rates, the
kickstand lateral shift led by each foot and their asymmetry index, the lockout hold, and
each drill's score.

A change between visits is flagged only when it exceeds the minimal detectable change at
95 % confidence, MDC95 = 1.96 * sqrt(2) * SEM (Haley & Fragala-Pinkham 2006; Weir 2005,
docs/library.md). The SEM is the athlete's own trial-to-trial standard deviation: the pooled
within-visit SD of the repeated trials (reps, score events), sqrt(sum (x - visit mean)^2 /
sum (n - 1)), which is the square root of the within-subject mean square Weir recommends.
Applying a single-trial MDC to visit means is conservative (means of several reps vary
less), which suits a flag that must not cry wolf. Without at least two trials in some visit
there is no SEM and no change is flagged; nor when the trials never varied (a fault never
seen), since that says nothing about the noise. The asymmetry index is a ratio of two side
means with no trials of its own: it is shown, and judged through the two shifts' MDCs.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from analysis.drills import history_scores
from analysis.reps import ASYMMETRY_MIN_SHIFT_MM, FAULT_NAMES
from daq.errors import MidfootError

__all__ = [
    "MDC_Z",
    "AthleteHistory",
    "Change",
    "MetricTrend",
    "Visit",
    "build_history",
    "history_figure",
    "history_html",
    "mdc95",
    "pooled_within_sd",
    "save_history_png",
]

MDC_Z = 1.96  # two-sided 95 % normal quantile
MDC_SOURCE = (
    "Haley SM, Fragala-Pinkham MA. Interpreting change scores of tests and measures used in "
    "physical therapy. Phys Ther. 2006;86(5):735-743; Weir JP. Quantifying test-retest "
    "reliability using the intraclass correlation coefficient and the SEM. J Strength Cond "
    "Res. 2005;19(1):231-240."
)
ASYMMETRY_KEY = "asymmetry_index_pct"


@dataclass(frozen=True)
class MetricInfo:
    """A tracked quantity: its key, label and unit."""

    key: str
    label: str
    unit: str


def _fault_key(name: str) -> str:
    return f"fault_rate_{name}"


BASE_METRICS = (
    *(MetricInfo(_fault_key(n), f"{n} rate", "%") for n in FAULT_NAMES),
    MetricInfo("lateral_shift_left_mm", "lateral shift, left lead", "mm"),
    MetricInfo("lateral_shift_right_mm", "lateral shift, right lead", "mm"),
    MetricInfo(ASYMMETRY_KEY, "asymmetry index", "%"),
    MetricInfo("lockout_hold_s", "lockout hold", "s"),
)


def pooled_within_sd(groups: Sequence[Sequence[float]]) -> tuple[float | None, int]:
    """The pooled within-group SD of repeated trials, and its degrees of freedom.

    Parameters
    ----------
    groups : sequence of sequences of float
        Trials of each visit (non-finite values ignored).

    Returns
    -------
    sd : float or None
        sqrt(sum over groups of sum (x - group mean)^2 / sum (n - 1)); None when no group
        has two trials.
    dof : int
        sum (n - 1).
    """
    ss = 0.0
    dof = 0
    for group in groups:
        x = np.asarray([v for v in group if v is not None and math.isfinite(v)], dtype=float)
        if len(x) >= 2:
            ss += float(((x - x.mean()) ** 2).sum())
            dof += len(x) - 1
    if dof == 0:
        return None, 0
    return math.sqrt(ss / dof), dof


def mdc95(sem: float) -> float:
    """Minimal detectable change at 95 % confidence: 1.96 * sqrt(2) * SEM."""
    return MDC_Z * math.sqrt(2.0) * sem


@dataclass
class Visit:
    """The sessions of one day.

    Attributes
    ----------
    day : datetime.date
        UTC date.
    paths : list of str
        Its recordings.
    n_reps : int
        Reps over all its recordings.
    trials : dict of str to list of float
        Trial values of each metric (asymmetry has none: it is a ratio of two means).
    means : dict of str to float
        Visit value of each metric it has.
    """

    day: dt.date
    paths: list[str] = field(default_factory=list)
    n_reps: int = 0
    trials: dict[str, list[float]] = field(default_factory=dict)
    means: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Change:
    """A change of a metric between two visits.

    Attributes
    ----------
    key : str
        Metric.
    from_day, to_day : datetime.date
        The two visits.
    delta : float
        Later minus earlier visit value.
    mdc95 : float or None
        The athlete's minimal detectable change of this metric (None: not known).
    flagged : bool
        ``|delta| > mdc95``: a real change, beyond the athlete's trial-to-trial noise.
    """

    key: str
    from_day: dt.date
    to_day: dt.date
    delta: float
    mdc95: float | None
    flagged: bool

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "metric": self.key,
            "from": self.from_day.isoformat(),
            "to": self.to_day.isoformat(),
            "delta": round(self.delta, 3),
            "mdc95": None if self.mdc95 is None else round(self.mdc95, 3),
            "flagged": self.flagged,
        }


@dataclass
class MetricTrend:
    """One metric across visits.

    Attributes
    ----------
    info : MetricInfo
        Key, label and unit.
    days : list of datetime.date
        Visits that have the metric.
    values : list of float
        Their values.
    sem : float or None
        Trial-to-trial SEM (pooled within-visit SD).
    dof : int
        Its degrees of freedom.
    mdc95 : float or None
        1.96 * sqrt(2) * SEM.
    changes : list of Change
        Each visit against the one before.
    overall : Change or None
        Last visit against the first.
    """

    info: MetricInfo
    days: list[dt.date]
    values: list[float]
    sem: float | None
    dof: int
    mdc95: float | None
    changes: list[Change]
    overall: Change | None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "metric": self.info.key,
            "label": self.info.label,
            "unit": self.info.unit,
            "points": [
                {"day": d.isoformat(), "value": round(v, 3)}
                for d, v in zip(self.days, self.values, strict=True)
            ],
            "sem": None if self.sem is None else round(self.sem, 3),
            "sem_dof": self.dof,
            "mdc95": None if self.mdc95 is None else round(self.mdc95, 3),
            "changes": [c.to_dict() for c in self.changes],
            "overall": None if self.overall is None else self.overall.to_dict(),
        }


@dataclass
class AthleteHistory:
    """Everything ``midfoot history`` shows."""

    athlete: str
    visits: list[Visit]
    trends: dict[str, MetricTrend]

    def to_dict(self) -> dict[str, object]:
        """The ``--json`` document."""
        return {
            "athlete": self.athlete,
            "visits": [
                {
                    "day": v.day.isoformat(),
                    "sessions": v.paths,
                    "reps": v.n_reps,
                    "values": {k: round(x, 3) for k, x in sorted(v.means.items())},
                }
                for v in self.visits
            ],
            "metrics": {k: t.to_dict() for k, t in self.trends.items()},
            "mdc_source": MDC_SOURCE,
        }


def _finite(x: object) -> float | None:
    try:
        value = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _add(visit: Visit, key: str, value: float | None) -> None:
    if value is not None:
        visit.trials.setdefault(key, []).append(value)


def _asymmetry_pct(left_mm: float | None, right_mm: float | None) -> float | None:
    """The lateral-shift asymmetry index of :func:`analysis.reps.lateral_asymmetry`."""
    if left_mm is None or right_mm is None:
        return None
    scale = 0.5 * (abs(left_mm) + abs(right_mm))
    if scale < ASYMMETRY_MIN_SHIFT_MM:
        return None
    return 100.0 * abs(left_mm - right_mm) / scale


def _trend(info: MetricInfo, visits: list[Visit]) -> MetricTrend | None:
    have = [v for v in visits if info.key in v.means]
    if not have:
        return None
    sem, dof = pooled_within_sd([v.trials.get(info.key, []) for v in have])
    # No variation at all between trials (a fault never or always seen) says nothing about
    # the noise, so it cannot make every later change look real.
    mdc = mdc95(sem) if sem is not None and sem > 0.0 else None

    def change(a: Visit, b: Visit) -> Change:
        delta = b.means[info.key] - a.means[info.key]
        return Change(
            key=info.key,
            from_day=a.day,
            to_day=b.day,
            delta=delta,
            mdc95=mdc,
            flagged=mdc is not None and abs(delta) > mdc,
        )

    changes = [change(a, b) for a, b in zip(have, have[1:], strict=False)]
    return MetricTrend(
        info=info,
        days=[v.day for v in have],
        values=[v.means[info.key] for v in have],
        sem=sem,
        dof=dof,
        mdc95=mdc,
        changes=changes,
        overall=change(have[0], have[-1]) if len(have) > 1 else None,
    )


def build_history(
    athlete: str,
    sessions: Sequence[object],
    reps: Sequence[dict[str, object]],
    scores: Sequence[dict[str, object]] = (),
) -> AthleteHistory:
    """An athlete's history from what :meth:`SessionIndex.history_rows` returns.

    Parameters
    ----------
    athlete : str
        The name asked for.
    sessions : sequence of SessionRow
        The athlete's sessions (``path``, ``recorded_utc``, ``n_reps``).
    reps : sequence of dict
        ``path``, ``stance``, ``lateral_shift_mm``, ``lockout_hold_s``, ``faults`` per rep.
    scores : sequence of dict
        ``path``, ``kind``, ``score`` per drill score event; a ``drill-score`` event's
        ``data`` holds the drill's ``result``, whose per-side trial scores
        (:func:`analysis.drills.history_scores`) become metrics ``drill:DRILL:SCORE:SIDE``.

    Raises
    ------
    MidfootError
        The athlete has no sessions.
    """
    if not sessions:
        raise MidfootError(
            f"there are no sessions of {athlete!r} in the index: check the name (`midfoot "
            "sessions` lists them) or index their folder with `midfoot sessions scan DIR`"
        )
    day_of: dict[str, dt.date] = {}
    visits: dict[dt.date, Visit] = {}
    for s in sessions:
        day = s.recorded_utc.date()  # type: ignore[attr-defined]
        path = str(s.path)  # type: ignore[attr-defined]
        day_of[path] = day
        visit = visits.setdefault(day, Visit(day=day))
        visit.paths.append(path)
        visit.n_reps += int(s.n_reps)  # type: ignore[attr-defined]
    for rep in reps:
        visit = visits.get(day_of.get(str(rep["path"]), dt.date.min))
        if visit is None:
            continue
        stance = str(rep.get("stance", ""))
        names = set(rep.get("faults") or [])  # type: ignore[arg-type]
        for name in FAULT_NAMES:
            # The lateral shift is judged only in the kickstand stance.
            if name == "lateral_shift" and not stance.startswith("kickstand"):
                continue
            _add(visit, _fault_key(name), 100.0 if name in names else 0.0)
        shift = _finite(rep.get("lateral_shift_mm"))
        if stance == "kickstand-left":
            _add(visit, "lateral_shift_left_mm", shift)
        elif stance == "kickstand-right":
            _add(visit, "lateral_shift_right_mm", shift)
        _add(visit, "lockout_hold_s", _finite(rep.get("lockout_hold_s")))
    drill_metrics: dict[str, MetricInfo] = {}
    for score in scores:
        visit = visits.get(day_of.get(str(score["path"]), dt.date.min))
        result = (score.get("data") or {}).get("result")  # type: ignore[union-attr]
        if visit is not None and isinstance(result, dict):
            # A midfoot drill's result: each trial's main scores, per side.
            for trial in history_scores(result):
                info = drill_metrics.setdefault(
                    trial.key, MetricInfo(trial.key, trial.label, trial.unit))
                _add(visit, info.key, trial.value)
            continue
        value = _finite(score.get("score"))
        if visit is None or value is None:
            continue
        kind = str(score.get("kind", "drill"))
        label = kind if "score" in kind.lower() else f"{kind} score"
        info = drill_metrics.setdefault(kind, MetricInfo(f"drill:{kind}", label, ""))
        _add(visit, info.key, value)
    ordered = [visits[d] for d in sorted(visits)]
    for visit in ordered:
        visit.means = {k: float(np.mean(v)) for k, v in visit.trials.items() if v}
        index = _asymmetry_pct(
            visit.means.get("lateral_shift_left_mm"), visit.means.get("lateral_shift_right_mm")
        )
        if index is not None:
            visit.means[ASYMMETRY_KEY] = index
    trends = {}
    for info in (*BASE_METRICS, *(drill_metrics[k] for k in sorted(drill_metrics))):
        trend = _trend(info, ordered)
        if trend is not None:
            trends[info.key] = trend
    name = athlete
    found = getattr(sessions[0], "athlete", "")
    if found:
        name = str(found)
    return AthleteHistory(athlete=name, visits=ordered, trends=trends)


# -- plots and the HTML report ----------------------------------------------------------
def _require_matplotlib():
    try:
        # A bare Figure draws with Agg and never touches pyplot's global backend, so this is
        # safe beside the Qt app and in worker processes.
        from matplotlib.figure import Figure
    except ImportError:
        raise MidfootError(
            "plots need matplotlib: install midfoot's library extra (pip install "
            "'midfoot[library]')"
        ) from None
    return Figure


def _panels(history: AthleteHistory) -> list[list[str]]:
    groups = [
        [_fault_key(n) for n in FAULT_NAMES],
        ["lateral_shift_left_mm", "lateral_shift_right_mm", ASYMMETRY_KEY],
        ["lockout_hold_s"],
        sorted(k for k in history.trends if k.startswith("drill:")),
    ]
    return [[k for k in g if k in history.trends] for g in groups if any(
        k in history.trends for k in g)]


def history_figure(history: AthleteHistory):
    """A matplotlib Figure: one panel per group of metrics, real changes ringed.

    Fault rates; lateral shift left and right (asymmetry index on the right axis); lockout
    hold; drill scores. A point ringed in black differs from the visit before by more than
    the metric's MDC95.

    Raises
    ------
    MidfootError
        matplotlib is not installed, or there is nothing to plot.
    """
    figure_cls = _require_matplotlib()
    panels = _panels(history)
    if not panels:
        raise MidfootError(
            f"{history.athlete} has sessions but no reps or drill scores to plot yet"
        )
    fig = figure_cls(figsize=(8.0, 2.6 * len(panels)), layout="constrained")
    axes = fig.subplots(len(panels), 1, squeeze=False, sharex=True)[:, 0]
    for ax, keys in zip(axes, panels, strict=True):
        twin = None
        for key in keys:
            trend = history.trends[key]
            target = ax
            if key == ASYMMETRY_KEY:
                twin = twin or ax.twinx()
                target = twin
            style = "--" if key == ASYMMETRY_KEY else "-"
            label = trend.info.label + (f" ({trend.info.unit})" if trend.info.unit else "")
            if trend.mdc95 is not None:
                label += f", MDC95 {trend.mdc95:.3g}"
            colour = {"color": "tab:gray"} if key == ASYMMETRY_KEY else {}
            target.plot(trend.days, trend.values, style, marker="o", label=label, **colour)
            flagged = [c.to_day for c in trend.changes if c.flagged]
            if flagged:
                ys = [trend.values[trend.days.index(d)] for d in flagged]
                target.plot(flagged, ys, "o", markersize=13, markerfacecolor="none",
                            markeredgecolor="black", markeredgewidth=1.5)
        units = {history.trends[k].info.unit for k in keys if k != ASYMMETRY_KEY}
        ax.set_ylabel(", ".join(sorted(u for u in units if u)) or "score")
        handles, labels = ax.get_legend_handles_labels()
        if twin is not None:
            twin.set_ylabel("asymmetry %")
            h2, l2 = twin.get_legend_handles_labels()
            handles, labels = handles + h2, labels + l2
        ax.legend(handles, labels, fontsize="small", loc="best")
        ax.grid(True, alpha=0.3)
    axes[0].set_title(f"{history.athlete}: {len(history.visits)} visits "
                      "(ringed: change beyond MDC95)")
    fig.autofmt_xdate()
    return fig


def _fmt(x: float | None, unit: str = "") -> str:
    if x is None or not math.isfinite(x):
        return "-"
    return f"{x:.3g}{(' ' + unit) if unit else ''}"


def history_html(history: AthleteHistory) -> str:
    """A self-contained HTML report: the plots (inline SVG), visits, changes and the method."""
    fig = history_figure(history)
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    svg = buf.getvalue()
    svg = svg[svg.find("<svg"):]
    e = html.escape
    keys = list(history.trends)
    head = "".join(f"<th>{e(history.trends[k].info.label)}</th>" for k in keys)
    rows = []
    for v in history.visits:
        cells = "".join(
            f"<td>{_fmt(v.means.get(k), history.trends[k].info.unit)}</td>" for k in keys
        )
        rows.append(f"<tr><td>{v.day.isoformat()}</td><td>{len(v.paths)}</td>"
                    f"<td>{v.n_reps}</td>{cells}</tr>")
    changes = []
    for k in keys:
        t = history.trends[k]
        for c in t.changes:
            verdict = "real change" if c.flagged else (
                "within MDC95" if c.mdc95 is not None else "no MDC yet")
            cls = ' class="flag"' if c.flagged else ""
            changes.append(
                f"<tr{cls}><td>{e(t.info.label)}</td><td>{c.from_day} &rarr; {c.to_day}</td>"
                f"<td>{c.delta:+.3g}</td><td>{_fmt(c.mdc95)}</td><td>{verdict}</td></tr>"
            )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>midfoot history: {e(history.athlete)}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}
table{{border-collapse:collapse}}td,th{{border:1px solid #bbb;padding:2px 6px}}
tr.flag{{background:#fde2b8}}</style></head><body>
<h1>History of {e(history.athlete)}</h1>
<figure>{svg}</figure>
<h2>Visits</h2>
<table><tr><th>day</th><th>sessions</th><th>reps</th>{head}</tr>
{''.join(rows)}</table>
<h2>Changes between visits</h2>
<table><tr><th>metric</th><th>visits</th><th>change</th><th>MDC95</th><th>verdict</th></tr>
{''.join(changes)}</table>
<h2>Method</h2>
<p>A change is called real only when it exceeds the minimal detectable change,
MDC95 = 1.96 &times; &radic;2 &times; SEM, with the SEM taken from this athlete's own
trial-to-trial variation (the pooled within-visit SD of the reps or drill scores). The
asymmetry index is a ratio of the two side means and is judged through them. Sources:
{e(MDC_SOURCE)}</p>
</body></html>
"""


def save_history_png(history: AthleteHistory, path: str | Path) -> Path:
    """Write the plots as a PNG file; its path.

    Raises
    ------
    MidfootError
        The file cannot be written, or nothing can be plotted.
    """
    fig = history_figure(history)
    target = Path(path)
    try:
        fig.savefig(target, format="png", dpi=110)
    except OSError as exc:
        raise MidfootError(
            f"cannot write {target} ({exc.strerror}): choose a folder you can write to"
        ) from None
    return target
