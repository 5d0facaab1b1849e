"""Runs every reader on one file per line of stdin; one JSON result per line on stdout.

Started by tests/test_fuzz_readers.py, which gives each file a time limit and restarts this
worker if it hangs. A reader may refuse a file with MidfootError (one sentence); anything
else is reported with its traceback, which the test turns into a failure.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path

import serial

from analysis.report import analyse_series_report
from analysis.sway import sway_stretch
from daq.errors import MidfootError
from daq.reader import read_recording
from daq.source import register_url_handlers


def _replay(path: str) -> int:
    """Play a file through replay:// as fast as it is read; samples' bytes released."""
    register_url_handlers()
    try:
        port = serial.serial_for_url(f"replay://{path}?speed=0", timeout=0.01)
    except serial.SerialException as exc:
        if "\n" in str(exc):
            raise AssertionError(f"a two-line error: {exc!r}") from None
        return -1
    total = 0
    try:
        while not port.finished:
            total += len(port.read(1 << 16))
    finally:
        port.close()
    return total


def check(path: str) -> dict:
    """Every reader on ``path``: what each said."""
    out: dict[str, object] = {"file": path, "errors": []}
    try:
        series = read_recording(path)
        out["samples"] = len(series)
        for stage, run in (
            ("analyse", lambda: analyse_series_report(series)),
            ("sway", lambda: sway_stretch(series)),
        ):
            try:
                run()
            except MidfootError as exc:
                out["errors"].append([stage, str(exc)])
    except MidfootError as exc:
        out["errors"].append(["read", str(exc)])
    if Path(path).suffix == ".h5":
        out["replay_bytes"] = _replay(path)
    return out


def main() -> int:
    """Read file names from stdin until it closes."""
    for line in sys.stdin:
        name = line.strip()
        if not name:
            continue
        try:
            result = check(name)
        except BaseException:  # noqa: BLE001 - the test wants to see whatever escaped
            result = {"file": name, "traceback": traceback.format_exc()}
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
