"""Small real HDF5 sessions for the library, history and batch tests.

Each is a scripted person (:mod:`hardware.scenarios`) played by the virtual plate as protocol
bytes, decoded by the real decoder and written by the real :class:`daq.recorder.SessionRecorder`,
exactly as `midfoot record` writes a plate.
"""

from __future__ import annotations

from pathlib import Path

from daq.calibration import Calibration
from daq.decoder import FrameDecoder
from daq.events import RecordedEvent
from daq.recorder import SessionRecorder
from daq.samples import SampleBlock
from hardware.scenarios import make_scenario
from hardware.virtual_plate import VirtualPlate

STANCE_OF = {
    "hinge-kickstand-left": "kickstand-left",
    "hinge-kickstand-right": "kickstand-right",
    "hinge-kickstand-left-noshift": "kickstand-left",
    "hinge-kickstand-right-reversed": "kickstand-right",
}


def _part(block: SampleBlock, part: slice) -> SampleBlock:
    return SampleBlock(
        seq=block.seq[part], t_us=block.t_us[part], stale=block.stale[part],
        counts=block.counts[part],
    )


def write_session(
    path: Path,
    *,
    scenario: str = "hinge-kickstand-left",
    athlete: str = "",
    created_utc: str | None = None,
    seed: int = 0,
    n_reps: int = 3,
    rate_hz: int = 80,
    events: list[RecordedEvent] | None = None,
    extra: dict[str, object] | None = None,
) -> Path:
    """Record ``scenario`` to ``path``; ``events`` are written after the first sample."""
    sc = make_scenario(scenario, n_reps=n_reps, seed=seed)
    plate = VirtualPlate(sc, rate_hz=rate_hz, seed=seed)
    block = FrameDecoder().feed(plate.render()).samples
    cal = Calibration(
        plate_id="virt",
        plate=plate.plate,
        offset_counts=plate.truth.offsets_counts,
        gain_n_per_count=1.0 / plate.truth.gains_counts_per_n,
        calibrated=True,
    )
    meta: dict[str, object] = {
        "stance": STANCE_OF.get(scenario, "bilateral"),
        "athlete": athlete,
        "foot_length_mm": sc.foot_length_mm,
        "heel_y_mm": sc.heel_y_mm,
        "stance_width_mm": sc.stance_width_mm,
        **(extra or {}),
    }
    if created_utc:
        meta["created_utc"] = created_utc
    with SessionRecorder(path, cal, 4, meta) as recorder:
        recorder.write(_part(block, slice(0, 1)), 1.7e9)
        for event in events or []:
            recorder.add_event(event)
        recorder.write(_part(block, slice(1, None)), 1.7e9)
    return path
