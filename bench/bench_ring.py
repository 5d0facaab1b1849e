"""Benchmark of the sample ring: append throughput and the cost of reading the newest window.

:class:`daq.ring.SampleRing` with the acquisition's own layout (``ring_columns(8)``: t_s,
host_t_s, seq, stale, 8 counts, 8 forces, fz, CoP) and capacity (120 s at 1 kHz) is filled
once, then timed in the steady state:

* ``append`` of chunks of 1, 16, 64 and 1024 samples, in samples/s and us per call;
* ``latest(30000)`` (the GUI's 30 s window: zero-copy views) against copying that window,
  and a :class:`RingReader` picking up each new chunk (what a 1 ms poller does);
* naive baselines in the same run: a ``collections.deque(maxlen=capacity)`` of per-sample
  tuples (each decoded block turned into one tuple per sample and appended one by one; the
  window rebuilt into arrays), and per-column ``np.append`` trimmed to capacity.

Each case runs until about ``--seconds-per-case`` has passed. Timing is only printed.

Usage: python bench/bench_ring.py [--seconds-per-case 0.5]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections import deque
from collections.abc import Callable

import numpy as np
from machine import machine_header

from daq.acquisition import ring_columns
from daq.ring import Column, Columns, SampleRing

CHANNELS = 8
RATE_HZ = 1000
CAPACITY = 120 * RATE_HZ  # RING_SECONDS at 1 kHz, as the acquisition makes it
CHUNKS = (1, 16, 64, 1024)
WINDOW = 30_000


def make_block(columns: dict[str, Column], n: int, start: int = 0) -> Columns:
    """A block of ``n`` plausible samples in the ring's layout."""
    rng = np.random.default_rng(start)
    block: Columns = {}
    for name, col in columns.items():
        shape = (n, *col.shape)
        if name == "seq":
            block[name] = np.arange(start, start + n, dtype=col.dtype)
        elif name in ("t_s", "host_t_s"):
            block[name] = (start + np.arange(n)) / RATE_HZ
        else:
            block[name] = rng.integers(0, 1000, shape).astype(col.dtype)
    return block


def timed(step: Callable[[], object], budget_s: float, min_calls: int = 3) -> tuple[float, int]:
    """Seconds per call of ``step``, calling it until ``budget_s`` has passed; and the calls."""
    calls = 0
    t0 = time.perf_counter()
    deadline = t0 + budget_s
    while True:
        for _ in range(8):
            step()
        calls += 8
        now = time.perf_counter()
        if now >= deadline and calls >= min_calls:
            return (now - t0) / calls, calls


def as_tuples(block: Columns) -> list[tuple[object, ...]]:
    """Per-sample tuples of a block (what the deque baseline is fed, built outside the timing)."""
    names = list(block)
    n = len(block[names[0]])
    rows = []
    for i in range(n):
        rows.append(
            tuple(
                tuple(block[k][i].tolist()) if block[k].ndim > 1 else block[k][i].item()
                for k in names
            )
        )
    return rows


def deque_window(store: deque, names: list[str], n: int) -> Columns:
    """The newest ``n`` samples of a deque of tuples as arrays (what the GUI would need)."""
    start = max(0, len(store) - n)
    rows = list(itertools.islice(store, start, None))
    return {name: np.array([r[k] for r in rows]) for k, name in enumerate(names)}


def main(argv: list[str] | None = None) -> int:
    """Run every case and print a table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds-per-case", type=float, default=0.5)
    args = p.parse_args(argv)
    budget = args.seconds_per_case
    columns = ring_columns(CHANNELS)
    names = list(columns)
    bytes_per_sample = sum(
        np.dtype(c.dtype).itemsize * int(np.prod(c.shape, dtype=int)) for c in columns.values()
    )

    print(machine_header())
    print(
        f"ring: ring_columns({CHANNELS}) = {len(columns)} columns, {bytes_per_sample} B/sample, "
        f"capacity {CAPACITY:,} samples ({CAPACITY // RATE_HZ} s at {RATE_HZ} Hz), full before "
        f"timing; ~{budget:g} s per case"
    )
    print(f"{'append':<40} {'chunk':>6} {'samples/s':>14} {'us/call':>10} {'x 1 kHz':>9}")

    ring = SampleRing(CAPACITY, columns)
    ring.append(make_block(columns, CAPACITY))
    results: dict[tuple[str, int], float] = {}
    for chunk in CHUNKS:
        block = make_block(columns, chunk, start=CAPACITY)
        per_call, _ = timed(lambda b=block: ring.append(b), budget)
        results[("ring", chunk)] = per_call
        rate = chunk / per_call
        print(
            f"{'SampleRing.append (daq)':<40} {chunk:>6} {rate:14,.0f} {per_call * 1e6:10.2f} "
            f"{rate / RATE_HZ:9,.0f}",
            flush=True,
        )

    full = make_block(columns, CAPACITY)
    store: deque = deque(as_tuples(make_block(columns, 2048)), maxlen=CAPACITY)
    # Fill the deque to capacity cheaply (the same tuples repeated: only the count matters).
    while len(store) < CAPACITY:
        store.extend(list(itertools.islice(store, 0, CAPACITY - len(store))))
    for chunk in CHUNKS:
        block = make_block(columns, chunk, start=CAPACITY)

        def append_tuples(b: Columns = block) -> None:
            # The producer gets arrays from the decoder: one tuple per sample from them.
            for r in zip(*(b[k].tolist() for k in names), strict=True):
                store.append(r)

        per_call, _ = timed(append_tuples, budget)
        rate = chunk / per_call
        print(
            f"{'deque of per-sample tuples (baseline)':<40} {chunk:>6} {rate:14,.0f} "
            f"{per_call * 1e6:10.2f} {rate / RATE_HZ:9,.0f}",
            flush=True,
        )

    arrays = {k: v.copy() for k, v in full.items()}
    for chunk in CHUNKS:
        block = make_block(columns, chunk, start=CAPACITY)

        def append_np(b: Columns = block) -> None:
            for k in names:
                arrays[k] = np.append(arrays[k], b[k], axis=0)[-CAPACITY:]

        per_call, _ = timed(append_np, budget)
        rate = chunk / per_call
        print(
            f"{'np.append per column (baseline)':<40} {chunk:>6} {rate:14,.0f} "
            f"{per_call * 1e6:10.2f} {rate / RATE_HZ:9,.2f}",
            flush=True,
        )

    print()
    print(f"{'newest window':<52} {'n':>7} {'us/call':>12}")
    view_s, _ = timed(lambda: ring.latest(WINDOW), budget)
    copy_s, _ = timed(lambda: {k: v.copy() for k, v in ring.latest(WINDOW)[0].items()}, budget)
    deque_s, _ = timed(lambda: deque_window(store, names, WINDOW), budget)
    npa_s, _ = timed(lambda: {k: v[-WINDOW:].copy() for k, v in arrays.items()}, budget)
    reader = ring.reader()
    block = make_block(columns, 1, start=2 * CAPACITY)

    def poll() -> None:
        ring.append(block)
        reader.read()

    poll_s, _ = timed(poll, budget)
    rows = [
        ("SampleRing.latest (daq, zero-copy views)", WINDOW, view_s),
        ("SampleRing.latest + copy of every column", WINDOW, copy_s),
        ("deque of tuples -> arrays (baseline)", WINDOW, deque_s),
        ("np.append arrays: copy of the tail (baseline)", WINDOW, npa_s),
        ("append(1) + RingReader.read (a 1 ms poll)", 1, poll_s),
    ]
    for name, n, sec in rows:
        print(f"{name:<52} {n:>7,} {sec * 1e6:12.2f}")
    print(
        "note: the deque figures include Python's cyclic GC walking the deque's ~120,000 live "
        "tuples, which makes them erratic (as it would in a live app)"
    )
    print(
        f"latest view vs copy: {copy_s / view_s:,.0f}x cheaper; ring append at 1 kHz in chunks "
        f"of 1: {results[('ring', 1)] * RATE_HZ * 100:.2f} % of a core"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
