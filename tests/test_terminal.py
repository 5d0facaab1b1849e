"""Tests of gui.terminal in a real terminal: `midfoot live --terminal` on a pty, keys typed.

The live window's keys work in the text view too (t, w, 1/2/3, n, space, q), and it
redraws in place: what a person on a headless Raspberry Pi over SSH sees and types.
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

from daq.session import load_session

ROOT = Path(__file__).resolve().parents[1]
_ESCAPES = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class Terminal:
    """`midfoot live --terminal` with a pty as its terminal: type keys, read the screen."""

    def __init__(self, argv: list[str]) -> None:
        master, slave = os.openpty()
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        self.child = subprocess.Popen(
            [sys.executable, "-m", "gui.cli", "live", "--terminal", *argv],
            stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, close_fds=True,
            env={**env, "PYTHONPATH": str(ROOT)},
        )
        os.close(slave)
        self.master = master
        self.raw = b""

    def text(self) -> str:
        """Everything shown so far, without the cursor-movement escapes."""
        return _ESCAPES.sub("", self.raw.decode("utf-8", errors="replace"))

    def pump(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                try:
                    self.raw += os.read(self.master, 65536)
                except OSError:  # the child closed the terminal
                    return

    def wait_for(self, pattern: str, timeout_s: float = 30.0, after: int = 0) -> int:
        """Wait until ``pattern`` is shown after offset ``after``; its offset."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.pump(0.1)
            found = self.text().find(pattern, after)
            if found >= 0:
                return found
        raise AssertionError(f"{pattern!r} never shown; last screen:\n{self.text()[-1500:]}")

    def type(self, key: str) -> int:
        """Type ``key``; the offset of the screen from which its effect shows."""
        at = len(self.text())
        os.write(self.master, key.encode())
        return at

    def close(self) -> None:
        if self.child.poll() is None:
            self.child.kill()
            self.child.wait()
        os.close(self.master)


def test_live_keys_work_in_the_terminal_view(tmp_path: Path) -> None:
    sessions = tmp_path / "sessions"
    term = Terminal(["--port", "sim://quiet-stance?rate=80&seed=5", "--sessions-dir",
                     str(sessions)])
    try:
        term.wait_for("[STREAMING")
        term.wait_for("keys: t tare")
        term.wait_for("stance kickstand-left", after=term.type("2"))
        at = term.type(" ")
        start = term.wait_for("recording to ", after=at)
        path = Path(term.text()[start:].split("recording to ", 1)[1].split()[0])
        assert path.parent == sessions
        term.pump(2.0)
        # A person is standing: the tare waits rather than zero them (the manual tare's own
        # prompt, not the start-up tare's "someone is on the plate, so it was not tared").
        term.wait_for("tare: someone is on the plate", after=term.type("t"))
        term.wait_for("saved ", after=term.type(" "))
        term.wait_for("stance bilateral", after=term.type("1"))
        # Redrawn in place: the screen moves the cursor up rather than scrolling a new copy.
        assert b"\x1b[F" in term.raw
        term.type("q")
        assert term.child.wait(timeout=20) == 0
    finally:
        term.close()
    assert "Traceback" not in term.text()
    session = load_session(path)
    assert session.counts.shape[0] > 80
    # Recorded in the stance chosen by key before the recording started.
    assert session.attrs["stance"] == "kickstand-left"


def test_what_a_key_did_is_drawn_before_an_event_can_replace_it(
    tmp_path: Path, monkeypatch
) -> None:
    """The flake of test_live_keys_work_in_the_terminal_view: "saved ..." was set by the
    space key, then the next turn's poll() applied an event that arrived meanwhile (a
    movement given up, a stance the feet contradict) and its message replaced "saved"
    before any screen showed it. Here an event arrives with every key, on a real pty."""
    import io
    import pty
    import threading

    import gui.terminal as terminal
    from analysis.events import RepAborted
    from gui.session import LiveSession, virtual_plate_url

    master, slave = pty.openpty()
    session = LiveSession(virtual_plate_url("quiet-stance", 80, seed=7))
    real = terminal.handle_key

    def key_then_event(s, key, sessions_dir):
        going_on = real(s, key, sessions_dir)
        s.events.append(RepAborted(0.0, 0))  # its message: "that movement was not a full rep"
        return going_on

    monkeypatch.setattr(terminal, "handle_key", key_then_event)
    with os.fdopen(slave, "r") as tty_in:
        monkeypatch.setattr(sys, "stdin", tty_in)
        session.start()
        buf = io.StringIO()
        # Typed once the view has the terminal in cbreak mode: start recording, then stop.
        typist = threading.Timer(0.8, lambda: os.write(master, b" "))
        typist2 = threading.Timer(1.6, lambda: os.write(master, b" "))
        typist.start()
        typist2.start()
        try:
            terminal.run_terminal(session, seconds=2.5, out=buf, interactive=True,
                                  sessions_dir=tmp_path)
        finally:
            typist.join()
            typist2.join()
            session.stop()
            os.close(master)
    text = buf.getvalue()
    assert "recording to " in text
    assert "saved " in text
    assert "that movement was not a full rep" in text  # the event's message came after
