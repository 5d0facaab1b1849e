"""`midfoot record`'s status line on a real terminal, through an unplug and a replug."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from daq.frames import encode_samples

sys.path.insert(0, str(Path(__file__).parent))
from test_crash_safety import PacedPlate, _env  # noqa: E402


def screen_line(output: str) -> str:
    """The terminal's current line after ``output``: \\r, ESC[K and \\n as a terminal does."""
    line: list[str] = []
    col = 0
    i = 0
    while i < len(output):
        ch = output[i]
        if output.startswith("\x1b[K", i):
            del line[col:]
            i += 3
            continue
        if ch == "\r":
            col = 0
        elif ch == "\n":
            line, col = [], 0
        else:
            if col < len(line):
                line[col] = ch
            else:
                line.append(ch)
            col += 1
        i += 1
    return "".join(line)


def test_screen_line_model():
    assert screen_line("abcdef\rxy") == "xycdef"  # what the old status line did
    assert screen_line("abcdef\rxy\x1b[K") == "xy"


def _read_until(fd: int, buf: list[str], word: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            data = os.read(fd, 65536).decode("utf-8", "replace")
        except BlockingIOError:
            time.sleep(0.05)
            continue
        buf.append(data)
        if word in screen_line("".join(buf)):
            return
    raise AssertionError(f"{word!r} never showed; last line {screen_line(''.join(buf))!r}")


def test_status_line_drops_disconnected_after_a_reconnect(tmp_path: Path):
    plate = PacedPlate(tmp_path / "plate", 80)
    master, slave = os.openpty()
    os.set_blocking(master, False)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gui.cli", "record", "--port", str(tmp_path / "plate"),
         "--out", str(tmp_path / "s.h5")],
        stdout=subprocess.DEVNULL, stderr=slave, env=_env(),
    )
    os.close(slave)
    plate.start()
    out: list[str] = []
    try:
        _read_until(master, out, "80.0 Hz", 60)
        plate.stop.set()
        plate.join(timeout=5)
        plate.plate.unplug()
        _read_until(master, out, "[DISCONNECTED]", 30)
        plate.plate.plug()
        # The replugged plate streams again (its seq restarts, as after a reboot).
        deadline = time.monotonic() + 60
        k = 0
        while time.monotonic() < deadline:
            seq = np.arange(k, k + 2)
            plate.plate.write(encode_samples(seq, seq * 12500, np.zeros(2), plate.counts[seq]))
            k += 2
            time.sleep(0.025)
            try:
                out.append(os.read(master, 65536).decode("utf-8", "replace"))
            except BlockingIOError:
                pass
            line = screen_line("".join(out))
            if "Hz" in line and "---" not in line and k > 400:
                break
        line = screen_line("".join(out))
        assert "REC" in line
        assert "DISCONNECTED" not in line, line
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        plate.plate.close()
        os.close(master)
    assert proc.returncode == 0
