"""The athlete's report: one self-contained HTML page (``midfoot report``).

Everything is in the page: styles inline, figures as inline SVG, no script and nothing
fetched, so it opens the same from an e-mail, a USB stick or a browser with no network.
The numbers are those of :mod:`analysis.review` and :mod:`analysis.report` (the review
window shows the same).
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from analysis.athlete_history import AthleteHistory
from analysis.drill_review import RecordedDrill, recorded_drills
from analysis.drills import HISTORY_SCORES, side_names
from analysis.report import FileReport, SessionReport
from analysis.review import (
    REP_COLUMNS,
    AlignedRep,
    Overlays,
    cue_sentences,
    overlays,
    quiet_sway,
    rep_rows,
)
from analysis.stance import StanceSetup
from daq.errors import MidfootError
from gui.colours import ZONE_RGB

SIDE_RGB = {"left": (86, 170, 255), "right": (255, 140, 60), "bilateral": (150, 150, 150)}
_STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 2em auto;
       max-width: 62em; color: #1d2026; background: #fff; line-height: 1.4; }
h1 { margin-bottom: 0.1em; } h2 { border-bottom: 2px solid #ddd; padding-bottom: 0.2em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; }
th { background: #f1f3f6; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.facts td:first-child { font-weight: 600; background: #f7f8fa; }
.fault { color: #b3361e; font-weight: 600; } .ok { color: #1f7a44; }
.reps { display: flex; flex-wrap: wrap; gap: 0.8em; }
.reps figure { margin: 0; text-align: center; font-size: 0.85em; }
.sides { display: flex; flex-wrap: wrap; gap: 1em; }
ul.cues li { margin: 0.3em 0; font-size: 1.05em; }
.warn { background: #fff4d6; border-left: 4px solid #e0a800; padding: 0.4em 0.8em; }
footer { color: #777; font-size: 0.85em; margin-top: 3em; }
"""


def _rgb(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _points(xy: np.ndarray) -> str:
    """SVG ``points`` of the finite rows of ``xy``, to 0.1 px."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    xy = xy[np.isfinite(xy).all(axis=1)]
    # Plain floats through one bound format: several times faster than an f-string per pair
    # (an hour's report draws half a million points).
    return " ".join(map("{:.1f},{:.1f}".format, xy[:, 0].tolist(), xy[:, 1].tolist()))


# -- the foot with a rep's CoP path ------------------------------------------------------------
def foot_svg(
    stance: StanceSetup,
    path_xy_mm: np.ndarray,
    bottom_xy_mm: tuple[float, float] | None = None,
    width_px: int = 150,
    title: str = "",
) -> str:
    """An SVG of the feet, their zones and a CoP path (plate mm, + y forward = up)."""
    outlines = stance.feet_outlines_mm()
    pts = [np.asarray(o, dtype=float) for o in outlines]
    path = np.asarray(path_xy_mm, dtype=float).reshape(-1, 2)
    finite = path[np.isfinite(path).all(axis=1)]
    everything = np.vstack([*pts, finite]) if finite.size else np.vstack(pts)
    lo = everything.min(axis=0) - 15.0
    hi = everything.max(axis=0) + 15.0
    span = hi - lo
    scale = width_px / span[0]
    height_px = int(round(span[1] * scale))

    def to_px(xy: np.ndarray) -> np.ndarray:
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        return np.column_stack([(xy[:, 0] - lo[0]) * scale, (hi[1] - xy[:, 1]) * scale])

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width_px}" height="{height_px}" '
        f'viewBox="0 0 {width_px} {height_px}" role="img">',
        f"<title>{_e(title or 'CoP path on the foot')}</title>",
        f'<rect width="{width_px}" height="{height_px}" fill="#f4f5f8"/>',
    ]
    for name, poly in stance.zone_boundaries_mm():
        parts.append(
            f'<polygon points="{_points(to_px(poly))}" fill="{_rgb(ZONE_RGB[name])}" '
            'fill-opacity="0.35" stroke="none"/>'
        )
    for outline in pts:
        parts.append(
            f'<polygon points="{_points(to_px(outline))}" fill="none" stroke="#555" '
            'stroke-width="1.2"/>'
        )
    if finite.shape[0] >= 2:
        parts.append(
            f'<polyline points="{_points(to_px(finite))}" fill="none" stroke="#1d2026" '
            'stroke-width="1.6" stroke-linejoin="round"/>'
        )
        sx, sy = to_px(finite[:1])[0]
        parts.append(f'<circle cx="{sx:.1f}" cy="{sy:.1f}" r="3" fill="#1d2026"/>')
    if bottom_xy_mm is not None and all(math.isfinite(v) for v in bottom_xy_mm):
        bx, by = to_px(np.array([bottom_xy_mm]))[0]
        parts.append(
            f'<circle cx="{bx:.1f}" cy="{by:.1f}" r="4.5" fill="#fff" stroke="#b3361e" '
            'stroke-width="2"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


# -- curves of reps aligned at their bottom ------------------------------------------------------
def curves_svg(
    reps: Iterable[AlignedRep],
    attr: str,
    label: str,
    unit: str,
    width_px: int = 360,
    height_px: int = 170,
) -> str:
    """A line chart of one quantity of aligned reps against time from the bottom."""
    reps = list(reps)
    m_left, m_right, m_top, m_bottom = 44, 8, 18, 26
    w, h = width_px - m_left - m_right, height_px - m_top - m_bottom
    values = [np.asarray(getattr(r, attr)) for r in reps]
    finite = np.concatenate([v[np.isfinite(v)] for v in values]) if values else np.zeros(0)
    if finite.size:
        y_lo, y_hi = float(finite.min()), float(finite.max())
    else:
        y_lo, y_hi = -1.0, 1.0
    if y_hi - y_lo < 1e-6:
        y_lo, y_hi = y_lo - 1.0, y_hi + 1.0
    t_lo, t_hi = (float(reps[0].rel_t_s[0]), float(reps[0].rel_t_s[-1])) if reps else (-2.0, 2.0)

    def px(t: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.column_stack(
            [m_left + (t - t_lo) / (t_hi - t_lo) * w, m_top + (y_hi - y) / (y_hi - y_lo) * h]
        )

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width_px}" height="{height_px}" '
        f'viewBox="0 0 {width_px} {height_px}" role="img" font-size="10" '
        'font-family="sans-serif">',
        f"<title>{_e(label)}</title>",
        f'<rect x="{m_left}" y="{m_top}" width="{w}" height="{h}" fill="#f7f8fa" '
        'stroke="#ccc"/>',
        f'<text x="{m_left}" y="12" font-weight="600">{_e(label)} ({_e(unit)})</text>',
    ]
    x0 = m_left + (0 - t_lo) / (t_hi - t_lo) * w
    parts.append(
        f'<line x1="{x0:.1f}" y1="{m_top}" x2="{x0:.1f}" y2="{m_top + h}" stroke="#999" '
        'stroke-dasharray="3,3"/>'
    )
    for frac, text in ((0.0, f"{y_hi:.0f}"), (1.0, f"{y_lo:.0f}")):
        parts.append(
            f'<text x="{m_left - 4}" y="{m_top + frac * h + 3:.1f}" text-anchor="end">'
            f"{_e(text)}</text>"
        )
    for t in (t_lo, 0.0, t_hi):
        x = m_left + (t - t_lo) / (t_hi - t_lo) * w
        parts.append(
            f'<text x="{x:.1f}" y="{height_px - 8}" text-anchor="middle">{t:+.0f} s</text>'
        )
    # A chart a few hundred pixels wide needs no more than a point every ~3 pixels.
    step = max(1, len(reps[0].rel_t_s) // (w // 3)) if reps else 1
    for r, v in zip(reps, values, strict=True):
        rgb = SIDE_RGB.get(r.rep.stance.removeprefix("kickstand-"), SIDE_RGB["bilateral"])
        parts.append(
            f'<polyline points="{_points(px(r.rel_t_s[::step], v[::step]))}" fill="none" '
            f'stroke="{_rgb(rgb)}" stroke-width="1.3" stroke-opacity="0.8"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


# -- the page ----------------------------------------------------------------------------
def _table(headers: list[str], rows: list[list[str]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{_e(c)}</td>' if k in numeric else f"<td>{_e(c)}</td>"
            for k, c in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _fmt(value: object, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return "-" if not math.isfinite(value) else f"{value:.{digits}f}"
    return str(value)


def _facts(report: SessionReport) -> str:
    rows = []
    for f in report.files:
        series = f.series
        meta = series.meta if series is not None else None
        plate = meta.plate.name if meta is not None and meta.plate is not None else "-"
        plate_id = meta.plate_id if meta is not None and meta.plate_id else "-"
        calibrated = bool(f.meta.get("calibrated"))
        cal_text = (
            "calibrated with a known mass"
            if calibrated
            else "not calibrated (nominal gains: loads approximate)"
        )
        when = (meta.created_utc if meta is not None else "") or "-"
        duration = float(f.meta.get("duration_s", 0.0) or 0.0)
        rows.append(
            [
                Path(f.file).name,
                str(f.meta.get("athlete") or "-"),
                when,
                f"{duration:.0f} s",
                f"{plate} ({plate_id})",
                cal_text,
                f"{f.stance.stance} ({f.meta.get('stance_source', '-')})",
            ]
        )
    return _table(
        ["File", "Athlete", "Recorded (UTC)", "Length", "Plate", "Calibration", "Stance"], rows
    )


def _set_table(report: SessionReport) -> str:
    rows = []
    for s in report.sets:
        faults = ", ".join(f"{k.replace('_', ' ')} x{v}" for k, v in s.fault_counts.items() if v)
        zones = ", ".join(f"{k} {v}" for k, v in s.zone_at_bottom_counts.items() if v)
        rows.append(
            [
                Path(s.file or "").name,
                s.stance,
                str(s.n_reps),
                _fmt(s.mean_descent_s, 2),
                _fmt(s.mean_ascent_s, 2),
                _fmt(s.mean_lateral_shift_mm),
                _fmt(s.mean_lockout_shift_mm),
                _fmt(s.mean_hold_s),
                _fmt(s.load_kg),
                zones or "-",
                faults or "none",
            ]
        )
    if not rows:
        return "<p>No sets: no reps were found.</p>"
    return _table(
        [
            "File",
            "Stance",
            "Reps",
            "Descent (s)",
            "Ascent (s)",
            "Lateral shift (mm)",
            "Lockout shift (mm)",
            "Hold (s)",
            "Load (kg)",
            "Zone at bottom",
            "Faults",
        ],
        rows,
        numeric={2, 3, 4, 5, 6, 7, 8},
    )


def _rep_table(files: list[FileReport]) -> str:
    keys = [k for k, _ in REP_COLUMNS]
    headers = ["File"] + [label for _, label in REP_COLUMNS]
    rows = []
    for f in files:
        for row in rep_rows(f):
            cells = row.cells()
            rows.append([Path(f.file).name] + [cells[k] for k in keys])
    if not rows:
        return "<p>No reps were found.</p>"
    return _table(headers, rows, numeric={1, 2, 3, 4, 7, 8, 9, 10})


def _rep_figures(files: list[FileReport], ov: Overlays) -> str:
    parts = ['<div class="reps">']
    aligned = {(a.file, a.rep.index): a for side in ov.by_side.values() for a in side}
    for f in files:
        for rep in f.reps:
            a = aligned.get((f.file, rep.index))
            if a is None:
                continue
            bottom = None
            if f.series is not None:
                i = int(np.searchsorted(f.series.t_s, rep.bottom_s))
                i = min(i, len(f.series) - 1)
                bottom = (float(f.series.cop_mm[i, 0]), float(f.series.cop_mm[i, 1]))
            faults = ", ".join(n.replace("_", " ") for n in rep.fault_names)
            cls = "fault" if faults else "ok"
            caption = (
                f"{_e(Path(f.file).name)} rep {rep.index + 1}<br>{_e(rep.stance)}, "
                f"{_e(rep.zone_at_bottom)} at the bottom<br>"
                f'<span class="{cls}">{_e(faults or "no faults")}</span>'
            )
            title = f"rep {rep.index + 1}: CoP path on the foot"
            parts.append(
                f"<figure>{foot_svg(a.stance, a.path_xy_mm, bottom, title=title)}"
                f"<figcaption>{caption}</figcaption></figure>"
            )
    parts.append("</div>")
    return "".join(parts)


def _sides(ov: Overlays) -> str:
    parts = [f"<p>{_e(ov.summary())}.</p>"]
    a = ov.asymmetry
    if a is not None:
        parts.append(
            _table(
                ["", "Left lead", "Right lead"],
                [
                    [
                        "Reps",
                        str(len(ov.by_side.get("left", []))),
                        str(len(ov.by_side.get("right", []))),
                    ],
                    [
                        "Mean lateral shift toward the lead foot (mm)",
                        _fmt(a.left_mean_mm),
                        _fmt(a.right_mean_mm),
                    ],
                ],
                numeric={1, 2},
            )
        )
    parts.append('<div class="sides">')
    every = [r for side in ("left", "right", "bilateral") for r in ov.by_side.get(side, [])]
    if every:
        parts.append(curves_svg(every, "ml_mm", "CoP ML from the rep's start", "mm"))
        parts.append(curves_svg(every, "ap_mm", "CoP AP from the rep's start", "mm"))
        parts.append(curves_svg(every, "load_kg", "Load", "kg"))
    parts.append("</div>")
    legend = " ".join(
        f'<span style="color:{_rgb(SIDE_RGB[s])}">&#9632; {s}-lead</span>'
        for s in ("left", "right")
    )
    parts.append(f"<p>Every rep aligned at its bottom (0 s): {legend}.</p>")
    return "".join(parts)


def _sway(files: list[FileReport]) -> str:
    rows = []
    for f in files:
        q = quiet_sway(f)
        if q is None:
            continue
        m = q.metrics
        rows.append(
            [
                Path(f.file).name,
                f"{q.start_s:.1f}-{q.end_s:.1f} s",
                _fmt(m.ellipse95_area_mm2, 0),
                _fmt(m.mean_velocity_mm_s),
                _fmt(m.rms_ap_mm),
                _fmt(m.rms_ml_mm),
            ]
        )
    if not rows:
        return (
            '<p class="warn">No stretch of quiet standing (3 s or more between reps) was '
            "recorded, so there are no sway figures: sway describes standing still.</p>"
        )
    return _table(
        ["File", "Stretch", "95 % ellipse (mm²)", "Mean velocity (mm/s)", "RMS AP (mm)",
         "RMS ML (mm)"],
        rows,
        numeric={2, 3, 4, 5},
    )


# -- drills ----------------------------------------------------------------------------------
TARGET_RGB = (52, 178, 102)
# The review window's trace colours (gui/colours.py), a shade darker for paper.
COP_RGB = {"ml": (224, 108, 160), "ap": (86, 150, 230)}


def _axis_px(lo: float, hi: float, a: float, b: float):
    """A linear map from ``lo..hi`` to pixels ``a..b``."""
    span = hi - lo if hi > lo else 1.0
    return lambda v: a + (np.asarray(v, dtype=float) - lo) / span * (b - a)


def drill_trace_svg(series, drill: RecordedDrill, width_px: int = 900,
                    height_px: int = 240) -> str:
    """The CoP along the drill's axis against time, over the targets it showed.

    Bands are shaded, a moving target is a dashed line, a lean direction is named above
    its stretch; time and CoP are the recording's own (plate mm, series seconds).
    """
    m_left, m_right, m_top, m_bottom = 48, 10, 22, 28
    w, h = width_px - m_left - m_right, height_px - m_top - m_bottom
    # A lean goes any way: both traces. The other drills move along one axis.
    axes = ("ml", "ap") if drill.drill == "limits" else (drill.axis,)
    t = np.asarray(series.t_s, dtype=float)
    start = drill.result.start_s if math.isfinite(drill.result.start_s) else float(t[0])
    end = max([tg.until_s for tg in drill.targets] + [start + 1.0])
    keep = (t >= start) & (t <= end)
    traces = {a: np.where(series.valid, series.cop_mm[:, 0 if a == "ml" else 1], np.nan)[keep]
              for a in axes}
    t = t[keep]
    values = [y[np.isfinite(y)] for y in traces.values()]
    for tg in drill.targets:
        values.append(np.array([tg.lo_mm, tg.hi_mm]))
        values.append(tg.target_mm)
    finite = np.concatenate(values)
    finite = finite[np.isfinite(finite)]
    y_lo, y_hi = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 1.0)
    pad = 0.08 * max(y_hi - y_lo, 1.0)
    y_lo, y_hi = y_lo - pad, y_hi + pad
    px = _axis_px(start, end, m_left, m_left + w)
    py = _axis_px(y_lo, y_hi, m_top + h, m_top)
    names = {"ml": "left-right (ML, + right)", "ap": "front-back (AP, + forward)"}
    name = " and ".join(names[a] for a in axes)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width_px}" height="{height_px}" '
        f'viewBox="0 0 {width_px} {height_px}" role="img" font-size="10" '
        'font-family="sans-serif" class="drill-trace">',
        f"<title>{_e(drill.drill)} drill: CoP against its targets</title>",
        f'<rect x="{m_left}" y="{m_top}" width="{w}" height="{h}" fill="#f7f8fa" '
        'stroke="#ccc"/>',
        f'<text x="{m_left}" y="13" font-weight="600">CoP {_e(name)} (mm) and the '
        "drill's targets</text>",
    ]
    for tg in drill.targets:
        x0, x1 = float(px(tg.shown_s)), float(px(tg.until_s))
        if tg.kind in ("band", "weight"):
            top, bottom = float(py(tg.hi_mm)), float(py(tg.lo_mm))
            parts.append(
                f'<rect x="{x0:.1f}" y="{top:.1f}" width="{x1 - x0:.1f}" '
                f'height="{bottom - top:.1f}" fill="{_rgb(TARGET_RGB)}" fill-opacity="0.3"/>'
            )
        elif tg.kind == "moving":
            xy = np.column_stack([px(tg.t_s), py(tg.target_mm)])
            parts.append(
                f'<polyline points="{_points(xy)}" fill="none" stroke="{_rgb(TARGET_RGB)}" '
                'stroke-width="1.6" stroke-dasharray="5,3"/>'
            )
        elif tg.kind == "direction":
            parts.append(
                f'<rect x="{x0:.1f}" y="{m_top}" width="{x1 - x0:.1f}" height="{h}" '
                f'fill="{_rgb(TARGET_RGB)}" fill-opacity="0.12"/>'
                f'<text x="{x0 + 2:.1f}" y="{m_top + 10}" fill="#1f7a44">{_e(tg.label)}</text>'
            )
    # A point every ~2 px is all a chart this wide can show.
    step = max(1, t.size // max(w // 2, 1))
    for a, y in traces.items() if t.size else ():
        xy = np.column_stack([px(t[::step]), py(y[::step])])
        parts.append(
            f'<polyline points="{_points(xy)}" fill="none" stroke="{_rgb(COP_RGB[a])}" '
            'stroke-width="1.3"/>'
        )
    for frac, v in ((0.0, y_hi), (1.0, y_lo)):
        parts.append(f'<text x="{m_left - 4}" y="{m_top + frac * h + 3:.1f}" '
                     f'text-anchor="end">{v:.0f}</text>')
    for v in (start, 0.5 * (start + end), end):
        parts.append(f'<text x="{float(px(v)):.1f}" y="{height_px - 10}" '
                     f'text-anchor="middle">{v:.0f} s</text>')
    parts.append("</svg>")
    return "".join(parts)


def limits_polar_svg(drill: RecordedDrill, size_px: int = 300) -> str:
    """Limits: a polar plot of each direction's maximum and endpoint excursion.

    Excursions are % of the direction's theoretical limit (the dashed ring is 100 %);
    forward is up and right is to the right, as the person faces.
    """
    c = size_px / 2.0
    r100 = 0.36 * size_px
    trials = {t.get("label"): t for t in drill.result.trials}

    def point(deg: float, pct: float) -> tuple[float, float]:
        th = math.radians(deg)
        r = r100 * pct / 100.0
        return c + r * math.sin(th), c - r * math.cos(th)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size_px}" height="{size_px}" '
        f'viewBox="0 0 {size_px} {size_px}" role="img" font-size="10" '
        'font-family="sans-serif" class="limits-polar">',
        "<title>Limits of stability: excursion toward each direction</title>",
        f'<rect width="{size_px}" height="{size_px}" fill="#f7f8fa"/>',
    ]
    for pct in (50, 100):
        parts.append(f'<circle cx="{c:.1f}" cy="{c:.1f}" r="{r100 * pct / 100:.1f}" '
                     'fill="none" stroke="#bbb" stroke-dasharray="3,3"/>')
    parts.append(f'<text x="{c + 3:.1f}" y="{c - r100 - 3:.1f}" fill="#777">100 %</text>')
    parts.append('<text x="6" y="14" fill="#1f7a44">&#9632; maximum</text>'
                 '<text x="6" y="28" fill="#5696e6">&#9632; endpoint</text>')
    for key, rgb, width in (("maximum_excursion_pct", (31, 122, 68), 2.0),
                            ("endpoint_excursion_pct", (86, 150, 230), 1.4)):
        pts = []
        for t in drill.result.trials:
            deg, pct = t.get("direction_deg"), t.get(key)
            if isinstance(deg, int | float) and isinstance(pct, int | float):
                pts.append(point(float(deg), max(float(pct), 0.0)))
        if len(pts) >= 3:
            parts.append(f'<polygon points="{_points(np.array(pts))}" fill="{_rgb(rgb)}" '
                         f'fill-opacity="0.15" stroke="{_rgb(rgb)}" stroke-width="{width}"/>')
    for label, t in trials.items():
        deg = t.get("direction_deg")
        if not isinstance(deg, int | float):
            continue
        x, y = point(float(deg), 122.0)
        parts.append(f'<text x="{x:.1f}" y="{y + 3:.1f}" text-anchor="middle">'
                     f"{_e(label)}</text>")
    parts.append("</svg>")
    return "".join(parts)


def _pct_text(fraction: object) -> str:
    if isinstance(fraction, int | float) and math.isfinite(fraction):
        return f"{100.0 * fraction:.0f} %"
    return "-"


def _drill_scores_table(drill: RecordedDrill) -> str:
    s = drill.result.scores
    if drill.drill == "lateral":
        sides = s.get("per_side") or {}
        left, right = sides.get("left") or {}, sides.get("right") or {}
        rows = [["Targets", str(left.get("targets", 0)), str(right.get("targets", 0)),
                 str(int(left.get("targets", 0)) + int(right.get("targets", 0)))],
                ["Targets held", _pct_text(left.get("success")), _pct_text(right.get("success")),
                 _pct_text(s.get("success"))]]
        for key, label, digits in (("reaction_time_s", "Reaction time (s)", 2),
                                   ("time_to_target_s", "Time to target (s)", 2),
                                   ("overshoot_pct", "Overshoot (% of the distance)", 0),
                                   ("hold_sway_mm", "Hold sway (mm RMS)", 1)):
            rows.append([label, _fmt(left.get(key), digits), _fmt(right.get(key), digits),
                         _fmt(s.get(key), digits)])
        a = s.get("asymmetry") or {}
        weak = a.get("weaker_side")
        table = _table(["", "Left", "Right", "Overall"], rows, numeric={1, 2, 3})
        return table + (
            f"<p>Left against right (100 (right - left) / mean): time to target "
            f"{_fmt(a.get('time_to_target_pct'), 0)} %, reaction time "
            f"{_fmt(a.get('reaction_time_pct'), 0)} %, targets held "
            f"{_fmt(_hundred(a.get('success_difference')), 0)} points. "
            + (f'<span class="fault">The {_e(weak)} side is weaker.</span>' if weak
               else '<span class="ok">The sides are even.</span>') + "</p>"
        )
    if drill.drill == "rhythmic":
        names = side_names(drill.axis)
        ex = s.get("excursion_mm") or {}
        return _table(
            ["", names[0].capitalize(), names[1].capitalize(), "Asymmetry (%)"],
            [["Excursion (mm)", _fmt(ex.get(names[0])), _fmt(ex.get(names[1])),
              _fmt(s.get("excursion_asymmetry_pct"), 0)]],
            numeric={1, 2, 3},
        )
    if drill.drill == "limits":
        left = next((t for t in drill.result.trials if t.get("label") == "left"), {})
        right = next((t for t in drill.result.trials if t.get("label") == "right"), {})
        rows = [[label, _fmt(left.get(key), 0), _fmt(right.get(key), 0)]
                for label, key in (("Maximum excursion (%)", "maximum_excursion_pct"),
                                   ("Endpoint excursion (%)", "endpoint_excursion_pct"))]
        return _table(["", "Left", "Right"], rows, numeric={1, 2}) + (
            f"<p>Left against right maximum excursion: "
            f"{_fmt(drill.limits_asymmetry_pct(), 0)} % (100 (right - left) / mean).</p>"
        )
    heavier = s.get("heavier_side")
    return _table(
        ["", "Left foot", "Right foot"],
        [["Mean share of the weight (%)", _fmt(s.get("mean_left_pct"), 0),
          _fmt(s.get("mean_right_pct"), 0)]],
        numeric={1, 2},
    ) + (f"<p>In the +-{_fmt(s.get('band_pct'), 0)} % band {_fmt(s.get('time_in_band_pct'), 0)} "
         f"% of the time; " + (f'<span class="fault">more weight on the {_e(heavier)} foot'
                               "</span>." if heavier else '<span class="ok">even</span>.')
         + "</p>")


def _hundred(value: object) -> float | None:
    if isinstance(value, int | float) and math.isfinite(value):
        return 100.0 * float(value)
    return None


def _drill_trials_table(drill: RecordedDrill) -> str:
    if not drill.rows:
        return "<p>No trial was completed.</p>"
    columns = list(drill.columns)
    rows = [[row.cells()[k] for k, _ in columns] for row in drill.rows]
    return _table([label for _, label in columns], rows, numeric=set(range(2, len(columns))))


def drill_section(files: list[FileReport]) -> str:
    """The report's drill part: each drill's scores, sides, trials and plots.

    A file holding a sequence of drills gives one part per drill, in order. Returns ''
    when no file is a drill.
    """
    parts = []
    for f in files:
        if f.series is None:
            continue
        try:
            drills = recorded_drills(f.series)
        except MidfootError as exc:
            parts.append(f'<p class="warn">{_e(Path(f.file).name)}: {_e(exc)}</p>')
            continue
        for k, drill in enumerate(drills):
            state = "" if drill.result.completed else " (stopped early)"
            which = f" {k + 1} of {len(drills)}" if len(drills) > 1 else ""
            heads = "".join(f"<li>{_e(line)}</li>" for line in drill.result.headlines())
            figures = drill_trace_svg(f.series, drill)
            if drill.drill == "limits":
                figures += limits_polar_svg(drill)
            parts.append(
                f'<section class="drill"><h3>{_e(Path(f.file).name)}{_e(which)}: '
                f"{_e(drill.drill)} drill ({_e(drill.settings.level)}){_e(state)}</h3>"
                f'<ul class="cues">{heads}</ul>{_drill_scores_table(drill)}'
                f"<h4>Each trial</h4>{_drill_trials_table(drill)}"
                f'<div class="sides">{figures}</div>'
                f"<p>{_e(drill.source_text().capitalize())}; methods: docs/drills.md.</p>"
                "</section>"
            )
    if not parts:
        return ""
    return "<h2>Drills</h2>" + "".join(parts)


def drill_trend_svg(history: AthleteHistory, drill: str, score: str,
                    width_px: int = 440, height_px: int = 200) -> str:
    """One drill score of ``history`` across visits, left and right as two lines.

    Each point is a visit (oldest left), its value the visit mean ``midfoot history``
    prints; a point ringed in black differs from the visit before by more than the
    athlete's MDC95. Returns '' when no visit has the score.
    """
    trends = {side: history.trends.get(f"drill:{drill}:{score}:{side}")
              for side in ("left", "right")}
    trends = {side: t for side, t in trends.items() if t is not None}
    if not trends:
        return ""
    days = sorted({d for t in trends.values() for d in t.days})
    values = [v for t in trends.values() for v in t.values]
    info = next(iter(trends.values())).info
    label = info.label.rsplit(",", 1)[0]
    m_left, m_right, m_top, m_bottom = 44, 12, 22, 34
    w, h = width_px - m_left - m_right, height_px - m_top - m_bottom
    lo, hi = min(values), max(values)
    pad = 0.1 * max(hi - lo, 1e-6) if hi > lo else max(abs(hi) * 0.1, 1.0)
    py = _axis_px(lo - pad, hi + pad, m_top + h, m_top)

    def px(day) -> float:
        k = days.index(day)
        return m_left + (w * (k + 0.5) / len(days))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width_px}" height="{height_px}" '
        f'viewBox="0 0 {width_px} {height_px}" role="img" font-size="10" '
        f'font-family="sans-serif" class="drill-trend" data-drill="{_e(drill)}" '
        f'data-score="{_e(score)}">',
        f"<title>{_e(label)} across visits</title>",
        f'<rect x="{m_left}" y="{m_top}" width="{w}" height="{h}" fill="#f7f8fa" '
        'stroke="#ccc"/>',
        f'<text x="{m_left}" y="13" font-weight="600">{_e(label)}'
        f"{f' ({_e(info.unit)})' if info.unit else ''}</text>",
    ]
    for value in (lo, hi):
        y = float(py(value))
        parts.append(f'<text x="{m_left - 4}" y="{y + 3:.1f}" text-anchor="end">'
                     f"{value:.3g}</text>")
    for day in days:
        parts.append(f'<text x="{px(day):.1f}" y="{m_top + h + 14}" text-anchor="middle">'
                     f"{_e(day.isoformat())}</text>")
    for side, t in trends.items():
        rgb = _rgb(SIDE_RGB[side])
        xy = np.array([[px(d), float(py(v))] for d, v in zip(t.days, t.values, strict=True)])
        if len(xy) > 1:
            parts.append(f'<polyline points="{_points(xy)}" fill="none" stroke="{rgb}" '
                         'stroke-width="2"/>')
        flagged = {c.to_day for c in t.changes if c.flagged}
        for (x, y), day, value in zip(xy, t.days, t.values, strict=True):
            ring = ' stroke="#000" stroke-width="2"' if day in flagged else ""
            parts.append(
                f'<circle class="trend-point" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{rgb}"'
                f'{ring} data-side="{side}" data-day="{day.isoformat()}" '
                f'data-value="{round(value, 3)}"><title>{side} {day.isoformat()}: '
                f"{value:.3g}{_e(info.unit)}</title></circle>"
            )
    parts.append(
        f'<text x="{m_left + w}" y="{height_px - 6}" text-anchor="end">'
        + " ".join(f'<tspan fill="{_rgb(SIDE_RGB[side])}">&#9679; {side}</tspan>'
                   for side in trends)
        + "</text></svg>"
    )
    return "".join(parts)


def drill_trend_section(history: AthleteHistory | None) -> str:
    """The drills' trend: each followed score per side over the athlete's visits.

    The numbers are ``midfoot history``'s (:func:`analysis.athlete_history.build_history`
    on the session index). Returns '' without a history or a drill score in it.
    """
    if history is None:
        return ""
    figures = "".join(drill_trend_svg(history, drill, score)
                      for drill, score, *_ in HISTORY_SCORES)
    if not figures:
        return ""
    n = len(history.visits)
    return (
        f'<section class="drill-trends"><h3>Drill scores across visits: {_e(history.athlete)}, '
        f"{n} visit(s)</h3>"
        "<p>Each point is a visit (the sessions of one day): the mean of its trials, as "
        "<code>midfoot history</code> prints it. A point ringed in black differs from the "
        "visit before by more than the athlete's own minimal detectable change (MDC95).</p>"
        f'<div class="sides">{figures}</div></section>'
    )


def report_html(report: SessionReport, history: AthleteHistory | None = None) -> str:
    """The whole page for ``report`` (its files with their series).

    Parameters
    ----------
    report : SessionReport
        As :func:`analysis.report.analyse_files` gives it (series kept).
    history : AthleteHistory, optional
        The athlete's history (``midfoot history``'s): the Drills part then shows the
        trend of the drills' main scores per side over the visits.

    Returns
    -------
    str
        A complete HTML5 document with nothing external.
    """
    files = report.files
    drills = drill_section(files)
    trend = drill_trend_section(history) if drills else ""
    if trend:
        drills += trend
    ov = overlays(files, report.thresholds)
    athletes = sorted({str(f.meta.get("athlete") or "") for f in files} - {""})
    who = ", ".join(athletes) or "athlete not named"
    reps = [r for f in files for r in f.reps]
    cues = "".join(f"<li>{_e(c)}</li>" for c in cue_sentences(reps))
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    n_drills = drills.count('<section class="drill">')
    # A report of drills only says nothing about reps it never had.
    only_drills = bool(n_drills) and not reps
    title = "Drill report" if only_drills else "Hip hinge report"
    counts = f"{len(reps)} reps in {len(files)} recording(s)"
    if n_drills:
        counts += f", {n_drills} drill(s)"
    hinge_top = "" if only_drills else (
        f'<h2>What to work on</h2><ul class="cues">{cues}</ul>\n'
    )
    zones = " ".join(
        f'<span style="color:{_rgb(ZONE_RGB[z])}">&#9632; {z}</span>'
        for z in ("heel", "midfoot", "forefoot")
    )
    hinge = "" if only_drills else f"""<h2>Sets</h2>{_set_table(report)}
<h2>Reps</h2>{_rep_table(files)}
<h2>Each rep on the foot</h2>
<p>The centre of pressure from the rep's start (dot) to lockout, over the foot's zones
({zones}); the ringed point is the bottom.</p>
{_rep_figures(files, ov)}
<h2>Left against right</h2>{_sides(ov)}
<h2>Sway while standing still</h2>{_sway(files)}
"""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>midfoot report: {_e(who)}</title>
<style>{_STYLE}</style></head>
<body>
<h1>{title}: {_e(who)}</h1>
<p>{_e(counts)}.</p>
{hinge_top}<h2>Recordings</h2>{_facts(report)}
{drills}{hinge}<footer>Made by midfoot on {_e(made)}. Methods: docs/analysis-methods.md and
docs/sway-metrics.md.</footer>
</body></html>
"""


def write_report(report: SessionReport, path: str | Path,
                 history: AthleteHistory | None = None) -> Path:
    """Write the page to ``path`` (with ``history``'s drill trend, if given).

    Raises
    ------
    MidfootError
        The file cannot be written.
    """
    path = Path(path)
    try:
        path.write_text(report_html(report, history), encoding="utf-8")
    except OSError as exc:
        raise MidfootError(
            f"cannot write {path} ({exc.strerror or exc}): choose a folder you can write to"
        ) from exc
    return path
