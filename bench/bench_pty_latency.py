"""End-to-end benchmark through a real pseudo-terminal: loss, CPU and written->visible latency.

Two processes, as with a real plate:

* the writer (this process) makes a pty (raw mode, reached through a symlink as a plate's
  ``/dev/serial/by-id`` link would be), sends an INFO frame, then paces SAMPLE frames into
  the master at ``--rate`` Hz in bursts of ``--burst-ms`` (a USB plate hands the host a
  packet every 1 ms or every few ms), recording ``time.monotonic()`` after every write for
  every frame in it, keyed by seq; it answers the host's ``info`` command as a plate does;
* the acquisition process runs :class:`daq.acquisition.Acquisition` on the slave path (its
  background thread reads the port, decodes, calibrates and appends to ``.ring``), and a
  consumer thread there polls the ring every 1 ms with a :class:`daq.ring.RingReader` and
  records ``time.monotonic()`` when each seq became visible.

CLOCK_MONOTONIC is system-wide on Linux, so the two processes' stamps compare directly.
Reported: frames written and received, lost frames, decoder CRC errors and seq gaps, the
acquisition process's CPU (% of one core; also its acquisition thread and the poller apart),
and the latency from written to visible in the ring (p50/p99/max), plus the part of it up
to the moment the acquisition thread read the chunk off the port (the ring's host_t_s).
Timing is only printed, never asserted.

Usage: python bench/bench_pty_latency.py [--seconds 60] [--rate 1000] [--channels 8]
       [--burst-ms 1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import select
import subprocess
import sys
import tempfile
import threading
import time
import tty
from pathlib import Path

import numpy as np
from machine import machine_header

from daq.frames import encode_info, encode_samples, sample_frame_bytes

POLL_S = 0.001
TARGET_P99_MS = 5.0
BAUD = 1_000_000


def thread_cpu_s(native_id: int | None) -> float:
    """CPU seconds (user + system) of one thread of this process, from /proc; NaN if unknown."""
    if native_id is None:
        return float("nan")
    try:
        with open(f"/proc/self/task/{native_id}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    # After "pid (comm)": field 3 is state, so utime (14) and stime (15) are [11] and [12].
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def system_cpu_ticks() -> tuple[int, int, int]:
    """All cores' (busy, steal, total) clock ticks since boot, from /proc/stat."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            values = [int(v) for v in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return 0, 0, 0
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    steal = values[7] if len(values) > 7 else 0
    total = sum(values[:8])
    return total - idle - steal, steal, total


def process_cpu_s() -> float:
    """CPU seconds (user + system) of this whole process so far."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


# -- the acquisition process ------------------------------------------------------------------
def acquisition_main(port: str, out: Path) -> int:
    """Run an Acquisition on ``port`` with a 1 ms ring poller until "stop" arrives on stdin.

    Writes what the poller saw (seq, when it became visible, the ring's host_t_s) to
    ``out/acq.npz`` and the decoder's and CPU figures to ``out/acq.json``.
    """
    from daq.acquisition import Acquisition
    from daq.calibration import Calibration

    acq = Acquisition(port, baudrate=BAUD, calibration=Calibration.nominal("bench"))
    acq.start()
    acq_tid = next(
        (t.native_id for t in threading.enumerate() if t.name == "midfoot-acquisition"), None
    )
    stop = threading.Event()
    seen: dict[str, list[np.ndarray]] = {"seq": [], "visible": [], "host_t": []}
    marks: dict[str, float] = {}

    def poll() -> None:
        ring = acq.wait_for_ring(timeout_s=30.0)
        reader = ring.reader()
        reader.position = 0  # everything since the first sample, even before this reader
        first = True
        while not stop.is_set():
            data, _ = reader.read()
            now = time.monotonic()
            n = data["seq"].shape[0]
            if n:
                if first:
                    # CPU is counted from the first visible sample to "mark".
                    marks["t0"], marks["cpu0"] = now, process_cpu_s()
                    marks["acq_cpu0"] = thread_cpu_s(acq_tid)
                    marks["poll_cpu0"] = thread_cpu_s(threading.get_native_id())
                    first = False
                seen["seq"].append(data["seq"])
                seen["visible"].append(np.full(n, now))
                seen["host_t"].append(data["host_t_s"])
            time.sleep(POLL_S)
        marks["missed"] = reader.missed_total

    poller = threading.Thread(target=poll, name="ring-poller", daemon=True)
    poller.start()
    print("ready", flush=True)
    # "mark" when the writer wrote its last frame (the end of the CPU window), then "stop".
    while (line := sys.stdin.readline().strip()) not in ("mark", "stop", ""):
        pass
    t1, cpu1 = time.monotonic(), process_cpu_s()
    acq_cpu1 = thread_cpu_s(acq_tid)
    poll_cpu1 = thread_cpu_s(poller.native_id)
    while line not in ("stop", ""):
        line = sys.stdin.readline().strip()
    stop.set()
    poller.join(timeout=5)
    # time.time() - time.monotonic(), to put host_t_s (wall clock) on the monotonic axis.
    wall_minus_mono = time.time() - time.monotonic()
    acq.stop()
    st = acq.status
    span = t1 - marks.get("t0", t1)
    summary = {
        "samples": st.samples,
        "dropped": st.dropped,
        "crc_errors": st.crc_errors,
        "skipped_bytes": st.skipped_bytes,
        "missed": marks.get("missed", 0),
        "span_s": span,
        "cpu_s": cpu1 - marks.get("cpu0", cpu1),
        "acq_thread_cpu_s": acq_cpu1 - marks.get("acq_cpu0", acq_cpu1),
        "poll_thread_cpu_s": poll_cpu1 - marks.get("poll_cpu0", poll_cpu1),
        "wall_minus_mono": wall_minus_mono,
        "rate_hz": st.rate_hz,
        "info": st.info,
        "message": st.message,
    }
    cat = {k: np.concatenate(v) if v else np.zeros(0) for k, v in seen.items()}
    np.savez(out / "acq.npz", **cat)
    (out / "acq.json").write_text(json.dumps(summary), encoding="utf-8")
    return 0


# -- the writer (the plate) ---------------------------------------------------------------------
def make_frames(n: int, rate: int, channels: int) -> bytes:
    """``n`` SAMPLE frames with plausible counts: a person standing on the plate(s)."""
    rng = np.random.default_rng(3)
    seq = np.arange(n)
    t_us = seq * (1_000_000 // rate)
    base = rng.integers(300_000, 450_000, channels)
    counts = base[None, :] + rng.normal(0, 40, (n, channels)).astype(np.int64)
    return encode_samples(seq, t_us, np.zeros(n, np.int64), counts)


def open_pty(link: Path) -> int:
    """A raw-mode pty whose slave ``link`` points at; returns the master fd."""
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    os.close(slave)
    link.symlink_to(path)
    return master


def write_all(fd: int, data: bytes | memoryview) -> None:
    """Write every byte (a full pty buffer blocks, as a plate's USB endpoint would)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def pace(
    master: int, frames: bytes, fbytes: int, rate: int, burst_s: float, info: bytes
) -> np.ndarray:
    """Write the frames at ``rate`` Hz in bursts; the monotonic time each frame was written."""
    n = len(frames) // fbytes
    written_at = np.full(n, np.nan)
    sent = 0
    t_start = time.monotonic()
    tick = 0
    while sent < n:
        tick += 1
        target = t_start + tick * burst_s
        delay = target - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        due = min(n, int((time.monotonic() - t_start) * rate) + 1)
        if due > sent:
            write_all(master, memoryview(frames)[sent * fbytes : due * fbytes])
            written_at[sent:due] = time.monotonic()
            sent = due
        # The host asks "info" when it opens the port: answer as the firmware does.
        if select.select([master], [], [], 0)[0]:
            try:
                if b"info" in os.read(master, 4096):
                    write_all(master, info)
            except OSError:
                pass
    return written_at


def percentiles_ms(values_s: np.ndarray) -> tuple[float, float, float]:
    """p50, p99 and max of ``values_s`` in milliseconds (NaN when empty)."""
    if values_s.size == 0:
        return float("nan"), float("nan"), float("nan")
    ms = values_s * 1000.0
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99)), float(np.max(ms))


def run(seconds: float, rate: int, channels: int, burst_ms: float) -> int:
    """Writer side: set up the pty, start the acquisition process, pace frames, report."""
    n = int(round(seconds * rate))
    fbytes = sample_frame_bytes(channels)
    frames = make_frames(n, rate, channels)
    info = encode_info(
        {
            "proto": 1,
            "fw": "bench",
            "board": "pty-bench",
            "adc": "hx711",
            "channels": channels,
            "rate_hz": rate,
            "baud": BAUD,
            "plate_id": "bench",
        }
    )
    print(machine_header())
    print(
        f"pty end-to-end: {rate} Hz x {channels} channels ({fbytes} B/frame) for {seconds:g} s, "
        f"bursts every {burst_ms:g} ms; writer -> pty -> Acquisition (own process) -> ring -> "
        f"{POLL_S * 1000:g} ms poller",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="midfoot-bench-") as tmp:
        out = Path(tmp)
        link = out / "plate"
        master = open_pty(link)
        env = dict(os.environ, MIDFOOT_CONFIG_DIR=str(out / "config"))
        child = subprocess.Popen(
            [sys.executable, __file__, "--role", "acquisition", "--port", str(link)]
            + ["--out", str(out)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert child.stdin is not None
        assert child.stdout is not None
        try:
            if child.stdout.readline().strip() != "ready":
                print("the acquisition process did not start")
                return 1
            write_all(master, info)
            writer_cpu0 = process_cpu_s()
            sys0, load0 = system_cpu_ticks(), os.getloadavg()[0]
            t0 = time.monotonic()
            written_at = pace(master, frames, fbytes, rate, burst_ms / 1000.0, info)
            write_span = time.monotonic() - t0
            writer_cpu = process_cpu_s() - writer_cpu0
            sys1, load1 = system_cpu_ticks(), os.getloadavg()[0]
            child.stdin.write("mark\n")
            child.stdin.flush()
            time.sleep(0.5)  # let the last frames through before stopping
            child.stdin.write("stop\n")
            child.stdin.flush()
            rc = child.wait(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
            os.close(master)
        if rc != 0:
            print(f"the acquisition process failed (exit {rc})")
            return 1
        summary = json.loads((out / "acq.json").read_text(encoding="utf-8"))
        got = np.load(out / "acq.npz")
        seq, visible, host_t = got["seq"].astype(np.int64), got["visible"], got["host_t"]

    ok_idx = (seq >= 0) & (seq < n)
    unique = np.unique(seq[ok_idx])
    received = int(unique.size)
    lost = n - received
    lat = visible[ok_idx] - written_at[seq[ok_idx]]
    read_lat = (host_t[ok_idx] - summary["wall_minus_mono"]) - written_at[seq[ok_idx]]
    p50, p99, pmax = percentiles_ms(lat)
    r50, r99, rmax = percentiles_ms(read_lat)
    span = summary["span_s"] or float("nan")

    print(f"{'frames written':<44} {n:>12,}   in {write_span:.2f} s ({n / write_span:,.1f}/s)")
    print(f"{'frames received (distinct seq in the ring)':<44} {received:>12,}")
    print(f"{'lost frames (target 0)':<44} {lost:>12,}")
    print(f"{'duplicates seen by the poller':<44} {int(seq.size - received):>12,}")
    print(f"{'decoder CRC errors':<44} {summary['crc_errors']:>12,}")
    print(f"{'decoder seq gaps (dropped)':<44} {summary['dropped']:>12,}")
    print(f"{'skipped bytes':<44} {summary['skipped_bytes']:>12,}")
    print(f"{'ring reader missed':<44} {summary['missed']:>12,}")
    print(f"{'rate seen by the acquisition (Hz)':<44} {summary['rate_hz']:>12.1f}")
    print(
        f"{'acquisition process CPU (% of one core)':<44} "
        f"{100 * summary['cpu_s'] / span:>12.1f}   over {span:.1f} s"
    )
    print(
        f"{'  of which the acquisition thread':<44} "
        f"{100 * summary['acq_thread_cpu_s'] / span:>12.1f}"
    )
    poll_pct = 100 * summary["poll_thread_cpu_s"] / span
    print(f"{'  of which the 1 ms ring poller':<44} {poll_pct:>12.1f}")
    print(f"{'writer process CPU (% of one core)':<44} {100 * writer_cpu / write_span:>12.1f}")
    d_busy, d_steal, d_total = (b - a for a, b in zip(sys0, sys1, strict=True))
    cores = os.cpu_count() or 1
    if d_total > 0:
        print(
            f"{'whole machine CPU busy / steal (% of all)':<44} "
            f"{100 * d_busy / d_total:>12.1f} / {100 * d_steal / d_total:.1f}   "
            f"({cores} cores; load average {load0:.2f} -> {load1:.2f}; others share them)"
        )
    print(f"{'latency (ms)':<44} {'p50':>8} {'p99':>8} {'max':>8} {'> 5 ms':>8}")
    slow = 100 * np.count_nonzero(lat > TARGET_P99_MS / 1000) / max(lat.size, 1)
    slow_read = 100 * np.count_nonzero(read_lat > TARGET_P99_MS / 1000) / max(read_lat.size, 1)
    print(
        f"{'  written -> visible in the ring (poller)':<44} {p50:8.2f} {p99:8.2f} {pmax:8.2f} "
        f"{slow:7.2f}%"
    )
    print(
        f"{'  written -> chunk read by acquisition':<44} {r50:8.2f} {r99:8.2f} {rmax:8.2f} "
        f"{slow_read:7.2f}%"
    )
    # Is the tail steady or a few bad stretches? p99 of each tenth of the run.
    when = seq[ok_idx]
    tenths = [lat[(when >= n * k // 10) & (when < n * (k + 1) // 10)] for k in range(10)]
    print(
        f"{'  p99 written -> visible per tenth of the run':<44} "
        + " ".join(f"{percentiles_ms(t)[1]:.1f}" for t in tenths)
    )
    print(
        f"targets: lost 0 ({'met' if lost == 0 else 'MISSED'}); p99 < {TARGET_P99_MS:g} ms "
        f"({'met' if p99 < TARGET_P99_MS else 'MISSED'})"
    )
    if summary.get("message"):
        print(f"acquisition said: {summary['message']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the options; run as the writer (default) or as the acquisition process."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--rate", type=int, default=1000, help="SAMPLE frames per second")
    p.add_argument("--channels", type=int, default=8, help="counts per frame (1-8)")
    p.add_argument("--burst-ms", type=float, default=1.0, help="write a burst every N ms")
    p.add_argument("--role", choices=("writer", "acquisition"), default="writer", help="internal")
    p.add_argument("--port", help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.role == "acquisition":
        return acquisition_main(args.port, args.out)
    if not 1 <= args.channels <= 8:
        p.error("--channels must be 1..8")
    return run(args.seconds, args.rate, args.channels, args.burst_ms)


if __name__ == "__main__":
    sys.exit(main())
