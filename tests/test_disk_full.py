"""A disk that fills: never a segfault, a clean stop with one sentence, the file readable.

Real small filesystems (tmpfs, mounted here as root): `midfoot record` at 1 kHz stops while
the disk still has its reserve (RESERVE_SECONDS of the stream's measured byte rate, at least
a floor, never less than what one HDF5 flush can write), so HDF5 never meets ENOSPC. And if
a write fails anyway (another program filled the disk between two checks), the recorder
stops without closing HDF5's now inconsistent objects, which is what segfaulted.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from daq.reader import read_recording
from daq.session import load_session

sys.path.insert(0, str(Path(__file__).parent))
from test_crash_safety import PacedPlate, _cli, _env, _record  # noqa: E402


@pytest.fixture
def small_disk(tmp_path: Path, request: pytest.FixtureRequest):
    """A real 8 MB tmpfs that another file fills up to ``request.param`` bytes free."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if os.geteuid() != 0:
        reason = "the full-disk tests mount a small tmpfs, which needs root"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount_point)],
                   check=True)
    try:
        filler = shutil.disk_usage(mount_point).free - getattr(request, "param", 1_500_000)
        (mount_point / "someone-elses.bin").write_bytes(os.urandom(filler))
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


# Free space at the start: half a megabyte above the floor, so the test fills it in seconds.
@pytest.mark.parametrize(
    ("reserve_mb", "small_disk"), [(None, 2_500_000), ("0", 1_300_000)], indirect=["small_disk"]
)
def test_full_disk_stops_cleanly_with_one_sentence(tmp_path, small_disk, monkeypatch,
                                                   reserve_mb):
    if reserve_mb is not None:
        monkeypatch.setenv("MIDFOOT_DISK_RESERVE_MB", reserve_mb)  # 0 = the hard minimum
    plate = PacedPlate(tmp_path / "plate", 1000, seconds=120)
    out = small_disk / "full.h5"
    proc = _record(tmp_path / "plate", out)
    plate.start()
    try:
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        plate.close()
    assert proc.returncode == 1, stderr  # not 139: no segfault
    lines = [ln for ln in stderr.splitlines() if ln.strip() and not ln.startswith("warning:")]
    assert len(lines) == 1, stderr
    assert "disk is full" in lines[0]
    assert shutil.disk_usage(small_disk).free > 0
    s = load_session(out)
    assert len(s.seq) > 1000
    assert "midfoot keeps" in lines[0]  # it stopped at the reserve, before HDF5 met ENOSPC
    assert f"the {len(s.seq)} samples" in lines[0]
    np.testing.assert_array_equal(s.counts, plate.counts[: len(s.seq)])
    assert _cli("analyse", str(out)).returncode == 0
    assert len(read_recording(out).t_s) == len(s.seq)


CHILD = r"""
import sys, time
import numpy as np
import daq.recorder as recorder
from daq.calibration import load_calibration
from daq.plate import load_plate
from daq.samples import SampleBlock

cal, _ = load_calibration("x", load_plate())
rec = recorder.SessionRecorder(sys.argv[1], cal, 8, {})
# Another program fills the disk between our checks: let the writes reach ENOSPC.
recorder.RESERVE_SECONDS = 0.0
rec.reserve_floor_bytes = rec.min_reserve_bytes = 0
rng = np.random.default_rng(0)
k = 0
while not rec.failed:
    seq = np.arange(k, k + 100)
    counts = rng.integers(-2**23, 2**23, (100, 8)).astype(np.int32)
    rec.write(SampleBlock(seq=seq, t_us=seq * 1000, stale=np.zeros(100, np.uint8),
                          counts=counts), time.time())
    rec.maybe_flush(force=True)
    k += 100
rec.close()
print(rec.samples_flushed)
print(rec.failed)
"""


def test_a_write_that_fails_anyway_never_segfaults(tmp_path, small_disk):
    out = small_disk / "enospc.h5"
    res = subprocess.run([sys.executable, "-c", CHILD, str(out)], capture_output=True,
                         text=True, env=_env(MIDFOOT_DISK_RESERVE_MB="0"), timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]  # it was 139 (H5D_close on a freed dataset)
    assert res.stderr == ""  # nor h5py's teardown complaints
    flushed, message = res.stdout.strip().splitlines()
    assert "disk is full" in message
    assert f"the {flushed} samples" in message
    assert len(load_session(out).seq) >= int(flushed) > 0


def test_a_disk_already_full_is_said_before_recording(tmp_path, small_disk):
    plate = PacedPlate(tmp_path / "plate", 80)
    (small_disk / "more.bin").write_bytes(os.urandom(shutil.disk_usage(small_disk).free - 100_000))
    proc = _record(tmp_path / "plate", small_disk / "none.h5")
    plate.start()
    try:
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        plate.close()
    assert proc.returncode == 2
    assert stderr.strip().splitlines() == [stderr.strip()]
    assert "no room to record" in stderr
    assert not (small_disk / "none.h5").exists()
