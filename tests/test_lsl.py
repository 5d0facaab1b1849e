"""LSL: a minute of a 1 kHz virtual plate through real pylsl outlets and inlets, stamped from
the plate's clock; the clock map against late arrivals and skew; `midfoot record --lsl`."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from daq.calibration import Calibration, fz_and_cop
from daq.decoder import FrameDecoder
from daq.events import NoteAdded, RepMarked, StanceChanged, with_time
from daq.lsl import ClockMap, LslFeed, LslOutlet, marker_texts
from daq.series import PlateSeries, SeriesMeta, glitch_free
from hardware.scenarios import make_scenario
from hardware.virtual_plate import VirtualPlate

try:
    import pylsl
    from pylsl.util import LostError
except ImportError:  # pragma: no cover - the interop extra is installed by make setup
    if os.environ.get("CI") == "true":
        pytest.fail("pylsl (the 'interop' extra) must be installed under CI", pytrace=False)
    pytest.skip("pylsl is not installed: pip install -e '.[interop]'", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[1]
RATE_HZ = 1000.0
SECONDS = 60.0
SKEW = 3.0e-4  # the plate's clock runs 300 ppm slow against the host's
MIN_LATENCY_S = 0.001


def plate_blocks(seconds: float, seed: int = 3) -> tuple[list[PlateSeries], object]:
    """A virtual 1 kHz plate's bytes, decoded and calibrated, cut as serial reads come."""
    scenario = make_scenario("hinge-kickstand-left", n_reps=8, seed=seed)
    plate = VirtualPlate(scenario, rate_hz=1000, seed=seed, loop=True)
    decoded = FrameDecoder().feed(plate.render(seconds))
    block = decoded.samples
    cal = Calibration(
        plate_id="virt",
        plate=plate.plate,
        offset_counts=plate.truth.offsets_counts,
        gain_n_per_count=1.0 / plate.truth.gains_counts_per_n,
        calibrated=True,
    )
    force = cal.forces_n(block.counts)
    fz, cop = fz_and_cop(force, plate.plate.cells_mm)
    t = (block.t_us - block.t_us[0]) / 1e6
    whole = PlateSeries.from_arrays(
        t,
        fz,
        cop,
        force,
        valid=glitch_free(block.counts),
        meta=SeriesMeta(plate=plate.plate, nominal_rate_hz=RATE_HZ),
    )
    rng = np.random.default_rng(seed)
    cuts = np.cumsum(rng.integers(4, 40, size=len(whole) // 4))
    cuts = cuts[cuts < len(whole)]
    edges = [0, *cuts.tolist(), len(whole)]
    return [whole.slice(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)], scenario


def arrivals(blocks: list[PlateSeries], t0_lsl: float, seed: int = 5) -> np.ndarray:
    """When each block 'arrived': the plate's clock with skew, a minimum link delay, jitter,
    3 % of blocks held up by 50-300 ms (a busy host), and a first block 400 ms late."""
    rng = np.random.default_rng(seed)
    last = np.array([b.t_s[-1] for b in blocks])
    delay = MIN_LATENCY_S + rng.exponential(0.002, last.shape)
    stalled = rng.random(last.shape) < 0.03
    delay[stalled] += rng.uniform(0.05, 0.3, stalled.sum())
    delay[0] += 0.4
    return t0_lsl + (1.0 + SKEW) * last + delay


def inlet_for(source_id: str) -> pylsl.StreamInlet:
    found = pylsl.resolve_byprop("source_id", source_id, 1, 10.0)
    assert found, f"no LSL stream {source_id}"
    # recover=False: a pull on a stream whose outlet is gone raises instead of waiting for
    # it to come back (liblsl then blocks even with a zero timeout).
    inlet = pylsl.StreamInlet(found[0], max_buflen=360, processing_flags=0, recover=False)
    inlet.open_stream(10.0)
    return inlet


def pull_all(inlet: pylsl.StreamInlet, n: int, timeout_s: float = 30.0):
    data, stamps = [], []
    deadline = time.monotonic() + timeout_s
    while len(stamps) < n and time.monotonic() < deadline:
        chunk, ts = inlet.pull_chunk(timeout=0.2, max_samples=100_000)
        data += chunk
        stamps += ts
    return np.array(data, dtype=float), np.array(stamps)


@pytest.fixture(scope="module")
def played() -> dict:
    """A minute of plate data and markers, received by real inlets."""
    blocks, scenario = plate_blocks(SECONDS)
    plate_id = f"test-{uuid.uuid4().hex[:8]}"
    outlet = LslOutlet(plate_id, nominal_rate_hz=RATE_HZ, n_cells=4, plate=blocks[0].meta.plate)
    force_in = inlet_for(f"midfoot-{plate_id}-force")
    marker_in = inlet_for(f"midfoot-{plate_id}-markers")
    time.sleep(0.3)  # the inlets' data connections
    t0 = pylsl.local_clock()
    arrive = arrivals(blocks, t0)
    reps = [r for r in scenario.reps if r.lockout_s < blocks[-1].t_s[-1]]
    marks: list[tuple[str, float]] = []
    rep_events = [
        with_time(
            RepMarked(
                index=i,
                start_s=r.start_s,
                bottom_s=r.bottom_s,
                lockout_s=r.lockout_s,
                faults=tuple(sorted(r.faults)),
            ),
            r.lockout_s,
        )
        for i, r in enumerate(reps)
    ]
    stance = with_time(StanceChanged(stance="kickstand-left"), 0.5)
    pending = sorted(rep_events, key=lambda e: e.lockout_s)
    for k, (block, a) in enumerate(zip(blocks, arrive, strict=True)):
        outlet.publish(block, arrival_s=float(a))
        if k == 10:
            outlet.mark_event(stance)
            marks += marker_texts(stance)
        # As live: a rep is marked once its lockout has been seen.
        while pending and pending[0].lockout_s <= block.t_s[-1]:
            event = pending.pop(0)
            outlet.mark_event(event)
            marks += marker_texts(event)
        if k == 500:
            # A cue for a moment still ahead of the pushed samples.
            future = float(block.t_s[-1] + 0.25)
            outlet.mark("cue hips back", future)
            marks.append(("cue hips back", future))
    outlet.flush()
    n = sum(len(b) for b in blocks)
    data, stamps = pull_all(force_in, n)
    texts, marker_stamps = [], []
    deadline = time.monotonic() + 10.0
    while len(texts) < len(marks) and time.monotonic() < deadline:
        s, ts = marker_in.pull_chunk(timeout=0.2)
        texts += [x[0] for x in s]
        marker_stamps += ts
    outlet.close()
    t_s = np.concatenate([b.t_s for b in blocks])
    return {
        "t_s": t_s,
        "t0": t0,
        "data": data,
        "stamps": stamps,
        "blocks": blocks,
        "marks": marks,
        "texts": texts,
        "marker_stamps": np.array(marker_stamps),
        "n_reps": len(reps),
    }


def test_every_sample_arrives_with_monotonic_stamps(played) -> None:
    stamps = played["stamps"]
    assert stamps.shape[0] == played["t_s"].shape[0]
    assert played["t_s"][-1] >= SECONDS - 0.01
    assert np.all(np.diff(stamps) > 0)
    # The samples themselves: Fz, CoP and cells as published.
    first = played["blocks"][0]
    np.testing.assert_allclose(played["data"][:5, 0], first.fz_n[:5], rtol=1e-6)
    np.testing.assert_allclose(played["data"][:5, 3:7], first.force_n[:5], rtol=1e-6)


def test_effective_rate_within_half_a_percent_of_nominal(played) -> None:
    stamps = played["stamps"]
    effective = (stamps.shape[0] - 1) / (stamps[-1] - stamps[0])
    print(f"\neffective rate {effective:.3f} Hz ({(effective / RATE_HZ - 1) * 1e6:+.0f} ppm)")
    assert abs(effective / RATE_HZ - 1.0) < 0.005
    # Per second too, not only on average.
    per_second = np.diff(np.searchsorted(stamps, stamps[0] + np.arange(0, 59)))
    assert np.all(np.abs(per_second - RATE_HZ) <= 0.005 * RATE_HZ + 1)


def test_stamps_follow_the_plate_clock_not_the_arrivals(played) -> None:
    """Within 1 ms of the true mapping everywhere, although 3 % of blocks came 50-300 ms late
    and the first came 400 ms late: stamping on arrival would be off by that much."""
    truth = played["t0"] + (1.0 + SKEW) * played["t_s"] + MIN_LATENCY_S
    error = played["stamps"] - truth
    print(f"\nstamp error against the plate clock: max {np.max(np.abs(error)) * 1e3:.3f} ms")
    assert np.max(np.abs(error)) < 0.001


def test_every_marker_within_one_sample_of_its_event(played) -> None:
    marks = played["marks"]
    assert played["n_reps"] >= 6
    assert played["texts"] == [text for text, _ in marks]
    assert "rep 1 bottom" in played["texts"]
    assert "stance kickstand-left" in played["texts"]
    t_s, stamps = played["t_s"], played["stamps"]
    period = 1.0 / RATE_HZ
    for (text, t_event), stamp in zip(marks, played["marker_stamps"], strict=True):
        i = int(np.argmin(np.abs(t_s - t_event)))
        assert abs(stamp - stamps[i]) <= period, text
    worst = max(
        abs(s - stamps[int(np.argmin(np.abs(t_s - t)))])
        for (_, t), s in zip(marks, played["marker_stamps"], strict=True)
    )
    print(f"\n{len(marks)} markers, worst {worst * 1e3:.3f} ms from their sample")


def test_late_arrivals_do_not_move_the_clock_map() -> None:
    plate_t = np.arange(0, 120, 0.02)
    clean, noisy = ClockMap(), ClockMap()
    rng = np.random.default_rng(1)
    base = 100.0 + (1 - 2e-4) * plate_t + 0.002
    late = base + rng.exponential(0.004, plate_t.shape) + (rng.random(plate_t.shape) < 0.1) * 0.2
    for d, a0, a1 in zip(plate_t, base, late, strict=True):
        clean.observe(float(d), float(a0))
        noisy.observe(float(d), float(a1))
    assert clean.slope == pytest.approx(1 - 2e-4, abs=1e-7)
    assert noisy.slope == pytest.approx(1 - 2e-4, abs=2e-5)
    assert abs(float(noisy.target(60.0)) - float(clean.target(60.0))) < 0.0005


def test_stamps_never_go_back_when_the_estimate_drops() -> None:
    clock = ClockMap()
    clock.observe(1.0, 50.5)  # the first block came half a second late
    first = clock.stamps(np.linspace(0.0, 1.0, 11))
    clock.observe(1.1, 50.101)  # now the true relation shows
    second = clock.stamps(np.linspace(1.01, 1.1, 10))
    assert np.all(np.diff(np.concatenate([first, second])) > 0)
    # It catches up by slewing (0.5 % at most): after 120 s of plate time the error is gone.
    for k in range(2, 1202):
        d = 1.0 + 0.1 * k
        clock.observe(d, 49.001 + d)
        s = clock.stamps(np.array([d - 0.05, d]))
    assert abs(s[-1] - (49.001 + d)) < 1e-4


def test_skew_beyond_a_real_clock_is_clamped() -> None:
    clock = ClockMap()
    for d in np.arange(0, 30, 0.1):
        clock.observe(float(d), 10.0 + 1.05 * float(d))
    assert clock.slope == pytest.approx(1.01)


def test_marker_texts_of_typed_events() -> None:
    rep = with_time(
        RepMarked(index=2, start_s=1.0, bottom_s=2.0, lockout_s=3.0, faults=("heel_shift",)), 3.0
    )
    assert marker_texts(rep) == [
        ("rep 3 start", 1.0),
        ("rep 3 bottom", 2.0),
        ("rep 3 lockout", 3.0),
        ("fault heel_shift", 3.0),
    ]
    assert marker_texts(with_time(NoteAdded(text="new shoes"), 4.5)) == [("note new shoes", 4.5)]
    assert marker_texts(with_time(StanceChanged(stance="bilateral"), 1.5)) == [
        ("stance bilateral", 1.5)
    ]


def test_record_publishes_while_it_records(tmp_path: Path) -> None:
    """`midfoot record --lsl` on the virtual plate at 1 kHz, a real inlet in this process."""
    seed = 1000 + uuid.uuid4().int % 9000
    source = f"midfoot-virt-{seed:04d}-force"
    out = tmp_path / "rec.h5"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gui.cli",
            "record",
            "--port",
            f"sim://demo?rate=1000&seed={seed}",
            "--out",
            str(out),
            "--seconds",
            "6",
            "--lsl",
            "--quiet",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        force = inlet_for(source)
        markers = inlet_for(f"midfoot-virt-{seed:04d}-markers")
        stamps, lags, texts = [], [], []
        deadline = time.monotonic() + 30.0
        lost = False
        while not lost and time.monotonic() < deadline:
            try:
                s, _ = markers.pull_chunk(timeout=0.0)
                texts += [x[0] for x in s]
                _, ts = force.pull_chunk(timeout=0.1, max_samples=10_000)
            except LostError:
                lost = True  # the recording ended and took its streams away
                continue
            if ts:
                stamps += ts
                lags.append(pylsl.local_clock() - ts[-1])
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    stamps = np.array(stamps)
    assert stamps.shape[0] > 3000
    assert np.all(np.diff(stamps) > 0)
    rate = (stamps.shape[0] - 1) / (stamps[-1] - stamps[0])
    assert abs(rate / RATE_HZ - 1.0) < 0.01
    # Stamps are the plate's times on this host's clock: recent, not seconds off.
    assert math.isfinite(np.median(lags))
    print(
        f"\nrecord --lsl: {stamps.shape[0]} samples, {rate:.2f} Hz, median lag "
        f"{np.median(lags) * 1e3:.1f} ms"
    )
    assert 0.0 < np.median(lags) < 0.1
    assert "record stop" in texts


def test_live_session_marks_reps_faults_and_stances() -> None:
    """The session layer (live window, terminal, drills) publishes its events as markers."""
    from gui.session import LiveSession, virtual_plate_url

    seed = 1000 + uuid.uuid4().int % 9000
    session = LiveSession(virtual_plate_url("demo", 80, seed=seed, speed=4.0))
    session.add_feed(LslFeed(["live start"], "live stop"))
    session.start()
    texts: list[str] = []
    try:
        markers = inlet_for(f"midfoot-virt-{seed:04d}-markers")
        deadline = time.monotonic() + 40.0
        stance_sent = False
        while time.monotonic() < deadline and sum(t.endswith("lockout") for t in texts) < 3:
            session.poll()
            if len(session.reps) >= 1 and not stance_sent:
                session.set_stance("kickstand-left")
                stance_sent = True
            chunk, _ = markers.pull_chunk(timeout=0.1)
            texts += [x[0] for x in chunk]
    finally:
        session.stop()
    # ("live start" went out before this inlet connected: LSL does not replay markers.)
    assert any(t.startswith("rep 1 bottom") for t in texts)
    assert "stance kickstand-left" in texts
    assert sum(t.endswith("lockout") for t in texts) >= 3
