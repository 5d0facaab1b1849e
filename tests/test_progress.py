"""Progress bars appear on a real terminal (a pty) and never on a pipe or a file."""

from __future__ import annotations

import os
import select
import subprocess
import sys
from pathlib import Path

from gui.progress import on_terminal, progress, progress_bar


def _read_all(fd: int) -> bytes:
    """What the terminal received: read until it has been silent for half a second."""
    out = b""
    while select.select([fd], [], [], 0.5)[0]:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    return out


def test_a_bar_is_drawn_on_a_terminal() -> None:
    master, slave = os.openpty()
    with os.fdopen(slave, "w", buffering=1) as tty:
        assert on_terminal(tty)
        got = list(progress(range(5), "indexing", stream=tty))
        tty.flush()
        drawn = _read_all(master).decode(errors="replace")
    os.close(master)
    assert got == [0, 1, 2, 3, 4]
    assert "indexing" in drawn
    assert "/5" in drawn


def test_quiet_on_a_file_or_pipe(tmp_path: Path) -> None:
    with (tmp_path / "log.txt").open("w") as log:
        assert not on_terminal(log)
        assert list(progress(["a", "b", "c"], "analysing", stream=log)) == ["a", "b", "c"]
        with progress_bar(3, "batch", stream=log) as bar:
            bar.update(3)
    assert (tmp_path / "log.txt").read_text() == ""
    done = subprocess.run(
        [sys.executable, "-c",
         "from gui.progress import progress\nfor _ in progress(range(50), 'x'): pass"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_a_single_item_draws_nothing() -> None:
    master, slave = os.openpty()
    with os.fdopen(slave, "w", buffering=1) as tty:
        assert list(progress(["only"], "analysing", stream=tty)) == ["only"]
        tty.flush()
        drawn = _read_all(master)
    os.close(master)
    assert drawn == b""



def test_a_command_draws_on_its_terminal_and_not_on_a_pipe(tmp_path: Path) -> None:
    """`midfoot sessions scan` in a child whose stderr is a real pty (0 x 0, as a fresh one
    is), then the same with stderr piped."""
    sys.path.insert(0, str(Path(__file__).parent))
    from session_files import write_session

    for k in range(3):
        write_session(tmp_path / "s" / f"{k}.h5", seed=k, n_reps=1)
    argv = [sys.executable, "-m", "gui.cli", "sessions", "scan", str(tmp_path / "s")]
    master, slave = os.openpty()
    try:
        child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=slave, text=True)
        os.close(slave)
        out, _ = child.communicate(timeout=120)
        drawn = _read_all(master).decode(errors="replace")
    finally:
        os.close(master)
    assert child.returncode == 0
    assert "3 added" in out
    assert "indexing" in drawn
    assert "/3" in drawn
    piped = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert piped.returncode == 0
    assert "3 unchanged" in piped.stdout
    assert piped.stderr == ""
