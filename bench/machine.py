"""The machine a benchmark ran on: the first line of every table in bench/."""

from __future__ import annotations

import os
import platform

import numpy as np


def machine_header() -> str:
    """CPU model, core count, Python and numpy versions, as one line."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"machine: {platform.node()} | {model} | {os.cpu_count()} cores ({usable} usable) | "
        f"Python {platform.python_version()} | numpy {np.__version__}"
    )
