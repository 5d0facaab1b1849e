"""`midfoot history ATHLETE`: an athlete's progress across sessions, real changes flagged."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from analysis.athlete_history import (
    ASYMMETRY_KEY,
    AthleteHistory,
    build_history,
    history_html,
    save_history_png,
)
from analysis.library import open_index
from daq.errors import MidfootError
from gui.cli import CommandParser
from gui.commands.sessions import scan_folder


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3g}"


def format_history(history: AthleteHistory) -> str:
    """The text ``midfoot history`` prints: visits, then each metric's changes."""
    keys = list(history.trends)
    lines = [f"{history.athlete}: {len(history.visits)} visits"]
    short = {k: history.trends[k].info.label for k in keys}
    for v in history.visits:
        values = ", ".join(
            f"{short[k]} {_fmt(v.means[k])}{history.trends[k].info.unit and ' '}"
            f"{history.trends[k].info.unit}"
            for k in keys
            if k in v.means
        )
        lines.append(f"  {v.day}: {len(v.paths)} sessions, {v.n_reps} reps; {values}")
    lines.append("changes (flagged only beyond the athlete's own MDC95 = 1.96*sqrt(2)*SEM):")
    for k in keys:
        t = history.trends[k]
        unit = f" {t.info.unit}" if t.info.unit else ""
        if t.overall is None:
            lines.append(f"  {t.info.label}: one visit only")
            continue
        c = t.overall
        if t.info.key == ASYMMETRY_KEY:
            verdict = "a ratio of the two side means: see their changes above"
        elif t.mdc95 is None:
            verdict = "too few varying repeated trials to call any change real"
        elif c.flagged:
            verdict = f"REAL CHANGE (beyond MDC95 {t.mdc95:.3g}{unit})"
        else:
            verdict = f"within MDC95 {t.mdc95:.3g}{unit}: not a real change"
        steps = sum(ch.flagged for ch in t.changes)
        lines.append(
            f"  {t.info.label}: {_fmt(t.values[0])} -> {_fmt(t.values[-1])}{unit} "
            f"({c.delta:+.3g}{unit}, {c.from_day} to {c.to_day}): {verdict}"
            + (f"; {steps} visit-to-visit changes beyond it" if steps else "")
        )
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    p = CommandParser(
        prog="midfoot history",
        description=(
            "An athlete's fault rates, lateral shift left and right with the asymmetry index, "
            "lockout holds and drill scores across sessions; a change is flagged only when it "
            "exceeds the minimal detectable change from the athlete's own repeated trials."
        ),
    )
    p.add_argument("athlete", metavar="ATHLETE", help="the name recorded (any case)")
    p.add_argument("--sessions-dir", type=Path, metavar="DIR",
                   help="index this folder first and use only its sessions")
    p.add_argument("--db", metavar="URL", help="SQLAlchemy URL of a shared index (PostgreSQL)")
    p.add_argument("--png", type=Path, metavar="FILE", help="write the plots as a PNG")
    p.add_argument("--html", type=Path, metavar="FILE", help="write an HTML report with plots")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    return p


def run(argv: list[str]) -> int:
    """Run ``midfoot history ATHLETE [--sessions-dir DIR] [--png FILE] [--html FILE]``.

    Returns
    -------
    int
        0; 2 after one line on stderr for an unknown athlete, folder or unwritable file.
    """
    args = _parser().parse_args(argv)
    with open_index(args.db, args.sessions_dir) as index:
        if args.sessions_dir is not None:
            lines = scan_folder(index, args.sessions_dir)
            for line in lines[:-1]:
                print(f"midfoot history: {line}", file=sys.stderr)
        rows, reps, scores = index.history_rows(args.athlete, under=args.sessions_dir)
    history = build_history(args.athlete, rows, reps, scores)
    if args.png is not None:
        save_history_png(history, args.png)
    if args.html is not None:
        text = history_html(history)
        try:
            args.html.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise MidfootError(
                f"cannot write {args.html} ({exc.strerror}): choose a folder you can write to"
            ) from None
    if args.json:
        print(json.dumps(history.to_dict(), indent=2))
    else:
        print(format_history(history))
        for path in (args.png, args.html):
            if path is not None:
                print(f"wrote {path}")
    return 0
