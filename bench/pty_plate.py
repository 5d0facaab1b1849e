"""A pty plate for the benchmarks: SAMPLE frames paced into a raw pty, and a child's CPU.

Shared by ``bench_record_cpu.py`` and ``bench_soak.py``: the emitter is an independent
process-side plate (it answers the host's ``info`` as a plate does and writes one frame per
``os.write``, as a USB plate trickles them), and ``proc_cpu_s`` reads a reader's CPU off /proc.
"""

from __future__ import annotations

import os
import select
import subprocess
import threading
import time
import tty

import numpy as np

from daq.frames import encode_info, encode_samples, sample_frame_bytes

# Frames are encoded this many at a time, so an hour's stream never sits in memory at once.
_BATCH_FRAMES = 10_000


class Emitter:
    """A pty plate: INFO on ``info``, then SAMPLE frames one per write at ``rate_hz``."""

    def __init__(self, rate_hz: float, n_channels: int) -> None:
        self.master, slave = os.openpty()
        tty.setraw(self.master)
        os.set_blocking(self.master, False)
        tty.setraw(slave)
        self.port = os.ttyname(slave)
        self._slave = slave
        self.rate_hz = rate_hz
        self.n_channels = n_channels
        self.sent = 0
        self._stop = threading.Event()
        self._info = encode_info(
            {"proto": 1, "fw": "bench", "channels": n_channels, "rate_hz": rate_hz,
             "plate_id": "bench-cpu"}
        )

    def _frames(self, start: int, n: int, rng: np.random.Generator) -> bytes:
        """SAMPLE frames ``start`` .. ``start + n - 1``: a quiet load of ~200,000 counts."""
        counts = (200_000 + rng.normal(0, 40, (n, self.n_channels))).astype(np.int32)
        seq = np.arange(start, start + n)
        t_us = (seq * (1e6 / self.rate_hz)).astype(np.int64)
        return encode_samples(seq, t_us, np.zeros(n, np.uint8), counts)

    def wait_for_host(self, timeout_s: float) -> bool:
        """Wait until the host opens the port and asks ``info`` (answered); False on timeout.

        A plate's bytes sent before the host opened the port are flushed by opening it, so
        a stream meant to be recorded whole starts only once the host is listening.
        """
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            r, _, _ = select.select([self.master], [], [], 0.05)
            if r:
                try:
                    if b"info" in os.read(self.master, 4096):
                        os.write(self.master, self._info)
                        return True
                except OSError:
                    pass
        return False

    def run(self, seconds: float) -> None:
        """Send frames for ``seconds`` (answering ``info`` on the way)."""
        n = int(seconds * self.rate_hz)
        rng = np.random.default_rng(1)
        size = sample_frame_bytes(self.n_channels)
        os.write(self.master, self._info)
        t0 = time.monotonic()
        frames = b""
        for k in range(n):
            if self._stop.is_set():
                break
            if k % _BATCH_FRAMES == 0:
                frames = self._frames(k, min(_BATCH_FRAMES, n - k), rng)
            r, _, _ = select.select([self.master], [], [], 0)
            if r:
                try:
                    if b"info" in os.read(self.master, 4096):
                        os.write(self.master, self._info)
                except OSError:
                    pass
            delay = t0 + k / self.rate_hz - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            i = k % _BATCH_FRAMES
            try:
                os.write(self.master, frames[i * size : (i + 1) * size])
            except BlockingIOError:
                # The reader stopped reading (it exited or fell behind a whole pty buffer):
                # the frame is not sent, and "got" will show what was lost.
                continue
            self.sent += 1

    def stop(self) -> None:
        """Stop ``run`` at the next frame."""
        self._stop.set()

    def drain(self, seconds: float) -> None:
        """Answer ``info`` and swallow commands for a while (the reader is winding down)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            r, _, _ = select.select([self.master], [], [], 0.05)
            if r:
                try:
                    os.read(self.master, 4096)
                except OSError:
                    return

    def wind_down(self, proc: subprocess.Popen, name: str) -> tuple[str, str]:
        """Let the reader ``proc`` exit (answering it meanwhile), then close; its output.

        A non-zero exit is printed with the end of its stderr, naming it ``name``.
        """
        drainer = threading.Thread(target=self.drain, args=(30.0,), daemon=True)
        drainer.start()
        out, err = proc.communicate(timeout=120)
        self.stop()
        self.close()
        if proc.returncode != 0:
            print(f"  ({name} exited {proc.returncode}: {err.strip()[-300:]})")
        return out, err

    def close(self) -> None:
        """Close both ends."""
        for fd in (self.master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass


def proc_cpu_s(pid: int) -> float:
    """CPU seconds (user + system, all threads) of process ``pid`` so far, from /proc."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mb(pid: int) -> float:
    """Resident set size of process ``pid`` now (VmRSS), MB (10^6 bytes)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / 1e6
    return float("nan")
