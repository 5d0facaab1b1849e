"""Session files for the review tests: virtual-plate hinge sets recorded as `record` writes them."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

from daq.calibration import Calibration
from daq.recorder import SessionRecorder

ROOT = Path(__file__).resolve().parents[1]
if "fault_table" in sys.modules:
    fault_table = sys.modules["fault_table"]
else:
    _spec = importlib.util.spec_from_file_location("fault_table", ROOT / "bench" / "fault_table.py")
    assert _spec is not None
    assert _spec.loader is not None
    fault_table = importlib.util.module_from_spec(_spec)
    sys.modules["fault_table"] = fault_table
    _spec.loader.exec_module(fault_table)


def recording(scenario: str, seed: int, n_reps: int = 3, rate_hz: int = 80):
    """A scripted person through the virtual plate's bytes and the real decoder."""
    return fault_table.record(
        fault_table.Case(scenario=scenario, rate_hz=rate_hz, seed=seed, n_reps=n_reps)
    )


def write_session(rec, path: Path, metadata: dict | None = None, close: bool = True):
    """An HDF5 session calibrated with the plate's truth (the recorder left open if not close)."""
    plate = rec.plate
    cal = Calibration(
        plate_id="virt",
        plate=plate.plate,
        offset_counts=plate.truth.offsets_counts,
        gain_n_per_count=1.0 / plate.truth.gains_counts_per_n,
        calibrated=True,
    )
    meta = {
        "stance": rec.stance.stance,
        "foot_length_mm": rec.stance.foot_length_mm,
        "heel_y_mm": rec.stance.heel_y_mm,
        "stance_width_mm": rec.stance.stance_width_mm,
        "athlete": "Sam",
        **(metadata or {}),
    }
    recorder = SessionRecorder(path, cal, rec.block.counts.shape[1], meta)
    if not close:
        return recorder
    recorder.write(rec.block, 1.7e9)
    recorder.close()
    return path


# A recorder in another process, as the live app or `midfoot record` would be: it writes
# half the samples, prints the total, waits for a line on stdin, writes the rest, waits, closes.
WRITER = """
import sys
sys.path.insert(0, sys.argv[2])
from daq.samples import SampleBlock
from review_sessions import recording, write_session
rec = recording("hinge-kickstand-left", seed=61, n_reps=3)
b = rec.block
recorder = write_session(rec, sys.argv[1], close=False)
half = len(b) // 2
for i0, i1 in ((0, half), (half, len(b))):
    recorder.write(SampleBlock(b.seq[i0:i1], b.t_us[i0:i1], b.stale[i0:i1], b.counts[i0:i1]), 1.7e9)
    recorder.maybe_flush(force=True)
    print(len(b), flush=True)
    sys.stdin.readline()
recorder.close()
"""


def growing_writer(path: Path) -> subprocess.Popen:
    """Start the writer of a file that grows when told (a line on its stdin)."""
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(Path(__file__).parent)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
