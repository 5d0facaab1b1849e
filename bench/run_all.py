"""Run every benchmark in bench/ one after another and print all their output (``make bench``).

The decoder, ring and pty end-to-end benchmarks run first (the pty one for 60 s), then every
other ``bench/bench_*.py`` found, in name order. Each runs as its own subprocess with this
interpreter, so one benchmark's imports, threads or Qt state never affect the next; its output
goes straight to this terminal; the soak runs ``--soak-minutes`` (5), not its own hour. A
summary of exit codes and durations closes the run; the exit code is non-zero if any
benchmark failed. Nothing here judges timing.

Usage: python bench/run_all.py [--pty-seconds 60] [--soak-minutes 5] [--only NAME ...]
       [--skip NAME ...]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
FIRST = ("bench_decode.py", "bench_ring.py", "bench_pty_latency.py")


def discover() -> list[Path]:
    """The benchmarks to run: the three core ones first, then any other bench_*.py by name."""
    found = sorted(BENCH_DIR.glob("bench_*.py"))
    first = [BENCH_DIR / name for name in FIRST if (BENCH_DIR / name).exists()]
    return first + [p for p in found if p not in first]


def matches(path: Path, names: list[str] | None) -> bool:
    """Whether ``path`` is named in ``names`` (with or without ``bench_`` and ``.py``)."""
    if not names:
        return False
    stem = path.stem
    return any(n in (stem, path.name, stem.removeprefix("bench_")) for n in names)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and print a summary."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pty-seconds", type=float, default=60.0, help="bench_pty_latency --seconds")
    p.add_argument("--soak-minutes", type=float, default=5.0, help="bench_soak --minutes")
    p.add_argument("--only", nargs="+", metavar="NAME", help="run only these (e.g. decode ring)")
    p.add_argument("--skip", nargs="+", metavar="NAME", help="leave these out")
    args = p.parse_args(argv)

    benches = [
        b
        for b in discover()
        if (not args.only or matches(b, args.only)) and not matches(b, args.skip)
    ]
    summary: list[tuple[str, int, float]] = []
    for bench in benches:
        cmd = [sys.executable, str(bench)]
        if bench.name == "bench_pty_latency.py":
            cmd += ["--seconds", f"{args.pty_seconds:g}"]
        if bench.name == "bench_soak.py":
            cmd += ["--minutes", f"{args.soak_minutes:g}"]
        print(f"\n=== {bench.name} ({' '.join(cmd[1:])}) ===", flush=True)
        t0 = time.monotonic()
        try:
            rc = subprocess.run(cmd, cwd=BENCH_DIR.parent, check=False).returncode
        except KeyboardInterrupt:
            print(f"\ninterrupted during {bench.name}")
            return 130
        summary.append((bench.name, rc, time.monotonic() - t0))

    print("\n=== summary ===")
    print(f"{'benchmark':<28} {'exit':>5} {'wall s':>8}")
    for name, rc, wall in summary:
        print(f"{name:<28} {rc:>5} {wall:8.1f}")
    failed = [name for name, rc, _ in summary if rc != 0]
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
