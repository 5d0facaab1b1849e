"""Drill recordings for the review and report tests: each drill done by a drill person.

Each is recorded by the real command (``midfoot drill NAME --record FILE --json``) on the
virtual plate's drill people (hardware/drill_people.py), so the file holds what the live
drill computed and the JSON printed is that same live result, to compare a review with.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# (drill, person, flags): short drills, fast enough for a test and slow enough that a
# busy machine does not lose samples (the limits drill is 8 leans of 11 s).
DRILLS = {
    "lateral": ("late", ["--targets", "4", "--speed", "4"]),
    "rhythmic": ("perfect", ["--pace", "2", "1", "--cycles", "2", "--speed", "4"]),
    "limits": ("perfect", ["--speed", "4"]),
    "weight": ("weak-left", ["--seconds", "8", "--speed", "4"]),
    # A sequence: drills joined by "+" run one after another into one file.
    "lateral+rhythmic": ("late", ["--targets", "2", "--pace", "2", "--cycles", "2",
                                  "--speed", "4"]),
}


@dataclass(frozen=True)
class RecordedDrillFile:
    """One recorded drill: its file, the person and the live drill's result (JSON).

    A sequence's ``live`` is the list of its drills' results, in order.
    """

    drill: str
    person: str
    path: Path
    live: dict | list


def record_drill_files(
    folder: Path, specs: dict[str, tuple[str, str, list[str]]]
) -> dict[str, RecordedDrillFile]:
    """Record side by side, by key: ``(drills joined by "+", person, flags)`` each.

    The file of key ``k`` is ``folder / f"{k}.h5"``.
    """
    running = {}
    for key, (name, person, flags) in specs.items():
        path = folder / f"{key}.h5"
        running[key] = (name, person, path, subprocess.Popen(
            [sys.executable, "-m", "gui.cli", "drill", *name.split("+"), "--terminal", "--json",
             "--person", person, "--seed", "3", "--record", str(path), *flags],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ))
    out = {}
    for key, (name, person, path, proc) in running.items():
        stdout, stderr = proc.communicate(timeout=180)
        assert proc.returncode == 0, stderr
        out[key] = RecordedDrillFile(name, person, path, json.loads(stdout))
    return out


def record_drills(
    folder: Path, names: tuple[str, ...] = tuple(DRILLS)
) -> dict[str, RecordedDrillFile]:
    """Record the drills ``names`` side by side into ``folder``; by drill name."""
    return record_drill_files(folder, {
        name: (name, DRILLS[name][0], DRILLS[name][1]) for name in names
    })
