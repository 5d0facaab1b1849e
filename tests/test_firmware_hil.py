"""Hardware in the loop: the real plate firmware on a simulated ATmega328P with emulated HX711s.

The session builds ``hardware/firmware`` (Arduino.mk) and the libsimavr harness
``hardware/sim/hx711sim`` once, runs scenarios through it and decodes the plate's bytes with
``daq`` exactly as from a real plate. The harness also records every word each emulated chip
shifted out and every breach of the HX711 datasheet timing, so the tests can compare counts
bit for bit and assert that the firmware never leaves the datasheet.

Without the AVR toolchain (a laptop) these tests skip with a message naming the Debian
packages; in CI (``CI=true``) that skip is a failure instead.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np
import pytest
import serial

from daq.decoder import FrameDecoder
from daq.frames import parse_info
from daq.samples import SampleBlock

pytestmark = pytest.mark.hil

ROOT = Path(__file__).resolve().parents[1]
FIRMWARE_DIR = ROOT / "hardware" / "firmware"
SIM_DIR = ROOT / "hardware" / "sim"
PACKAGES = "gcc-avr avr-libc arduino-core-avr arduino-mk simavr libsimavr-dev libelf-dev"
UNO_FLASH_BYTES = 32 * 1024 - 512  # the Optiboot bootloader keeps the top 512 bytes
UNO_RAM_BYTES = 2 * 1024
WORD_MIN, WORD_MAX = -0x800000, 0x7FFFFF


# ------------------------------------------------------------------------- toolchain ----


def missing_tools() -> list[str]:
    """What of the HIL toolchain this machine lacks (empty when everything is there)."""
    needed = {
        "make": shutil.which("make"),
        "cc": shutil.which("cc"),
        "pkg-config": shutil.which("pkg-config"),
        "avr-gcc (gcc-avr)": shutil.which("avr-gcc"),
        "avr-libc": Path("/usr/lib/avr/include/avr/io.h").is_file(),
        "Arduino core (arduino-core-avr)": Path(
            "/usr/share/arduino/hardware/arduino/avr/cores/arduino/Arduino.h"
        ).is_file(),
        "Arduino.mk (arduino-mk)": Path("/usr/share/arduino/Arduino.mk").is_file(),
        "simavr headers (libsimavr-dev)": Path("/usr/include/simavr/sim_avr.h").is_file(),
        "libelf headers (libelf-dev)": Path("/usr/include/gelf.h").is_file(),
    }
    return [name for name, found in needed.items() if not found]


def require_toolchain() -> None:
    """Skip (or, in CI, fail) when the AVR toolchain or libsimavr is missing."""
    missing = missing_tools()
    if missing:
        message = (
            f"HIL tests need the Debian packages {PACKAGES} "
            f"(missing here: {', '.join(missing)}); install them with "
            f"`sudo apt-get install {PACKAGES} pkg-config`"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def run_make(*args: str) -> str:
    """Run make and return its output, failing the test with that output on error."""
    proc = subprocess.run(["make", *args], capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        pytest.fail(f"make {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc.stdout


@dataclass(frozen=True)
class Build:
    """Where one session's firmware and harness binaries are."""

    root: Path
    harness: Path
    elf: Path
    make_output: str

    def variant(self, channels: int = 4, rate_hz: int = 80) -> Path:
        """The ELF of a firmware built for other chips (built on first use)."""
        if (channels, rate_hz) == (4, 80):
            return self.elf
        objdir = self.root / f"build-uno-{channels}ch-{rate_hz}hz"
        elf = objdir / "midfoot_plate.elf"
        if not elf.is_file():
            run_make(
                "-C", str(FIRMWARE_DIR), f"OBJDIR={objdir}", f"CHANNELS={channels}",
                f"RATE_HZ={rate_hz}",
            )  # fmt: skip
        return elf


@pytest.fixture(scope="session")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """Firmware and harness, built once per session outside the source tree."""
    require_toolchain()
    root = tmp_path_factory.mktemp("hil-build")
    objdir = root / "build-uno"
    output = run_make("-C", str(FIRMWARE_DIR), f"OBJDIR={objdir}")
    harness = root / "hx711sim"
    run_make("-C", str(SIM_DIR), f"BIN={harness}")
    return Build(root, harness, objdir / "midfoot_plate.elf", output)


# --------------------------------------------------------------------------- scenarios ----


def random_script(
    n_chips: int, seconds: float, step_s: float = 0.004, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Load-script rows: times (s) and (rows, n_chips) counts that change every ``step_s``.

    The counts are random 24-bit words with the awkward ones mixed in (both saturation
    values, 0, -1, alternating bits), so a read that drops, swaps or shifts a bit shows.
    """
    rng = np.random.default_rng(seed)
    t_s = np.arange(0.0, seconds + step_s, step_s)
    counts = rng.integers(WORD_MIN, WORD_MAX + 1, size=(t_s.size, n_chips))
    special = np.array([WORD_MAX, WORD_MIN, 0, -1, 0x555555, -0x555556, 1, 0x400000])
    rows = rng.choice(t_s.size, size=(special.size, n_chips), replace=False)
    for ch in range(n_chips):
        counts[rows[:, ch], ch] = special
    return t_s, counts


def script_text(t_s: np.ndarray, counts: np.ndarray, unplug: Sequence[tuple] = ()) -> str:
    """The harness's load-script format (see hardware/sim/README.md)."""
    lines = ["# t_s c0 c1 ..."]
    for t, row in zip(t_s, counts, strict=True):
        lines.append(f"{t:.6f} " + " ".join(str(int(v)) for v in row))
    lines += [f"disconnect {chip} {t0} {t1}" for chip, t0, t1 in unplug]
    return "\n".join(lines) + "\n"


@dataclass
class SimRun:
    """One harness run: the plate's bytes decoded, and what the emulated chips saw."""

    data: bytes
    stderr: str
    samples: SampleBlock
    infos: list[dict[str, str]]
    logs: list[str]
    decoder: FrameDecoder
    summary: dict[str, float]
    chips: list[dict[str, float]]
    reads: list[np.ndarray]  # per chip: (k, 3) float rows t_conv_s, t_read_s, count
    cpu_s: float  # CPU time the harness used
    violations: list[str] = field(default_factory=list)
    powerdowns: list[float] = field(default_factory=list)


def parse_stderr(stderr: str) -> tuple[dict[str, float], list[dict[str, float]]]:
    """The harness's summary line and per-chip lines as numbers."""

    def fields(line: str) -> dict[str, float]:
        return {k: float(v) for k, v in re.findall(r"(\w+)=([-\d.]+)", line)}

    summary = [fields(ln) for ln in stderr.splitlines() if ln.startswith("hx711sim: summary")]
    chips = [fields(ln) for ln in stderr.splitlines() if ln.startswith("hx711sim: chip=")]
    assert summary, f"the harness printed no summary:\n{stderr[-2000:]}"
    return summary[0], chips


def parse_trace(path: Path, n_chips: int) -> tuple[list[np.ndarray], list[str], list[float]]:
    """Per-chip reads, violation lines and power-down times from a harness trace."""
    reads: list[list[tuple[float, float, int]]] = [[] for _ in range(n_chips)]
    violations, powerdowns = [], []
    for line in path.read_text().splitlines():
        parts = line.split()
        if not parts or parts[0] == "#":
            continue
        if parts[0] == "read":
            reads[int(parts[1])].append((float(parts[2]), float(parts[3]), int(parts[4])))
        elif parts[0] == "violation":
            violations.append(line)
        elif parts[0] == "powerdown":
            powerdowns.append(float(parts[1]))
    arrays = [np.array(r, dtype=float).reshape(-1, 3) for r in reads]
    return arrays, violations, powerdowns


def run_sim(
    build: Build,
    tmp: Path,
    *,
    rates: Sequence[float],
    seconds: float,
    script: str,
    cmds: Sequence[str] = (),
    eeprom: Path | None = None,
    elf: Path | None = None,
) -> SimRun:
    """Run the harness as fast as it goes (stdout mode) and decode what the plate sent."""
    tmp.mkdir(parents=True, exist_ok=True)
    script_path, trace_path = tmp / "load.txt", tmp / "trace.txt"
    script_path.write_text(script)
    argv = [
        str(build.harness),
        "--elf", str(elf or build.elf),
        "--script", str(script_path),
        "--rates", ",".join(str(r) for r in rates),
        "--seconds", str(seconds),
        "--trace", str(trace_path),
        "--stdout",
    ]  # fmt: skip
    for cmd in cmds:
        argv += ["--cmd", cmd]
    if eeprom is not None:
        argv += ["--eeprom", str(eeprom)]
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(argv, capture_output=True, timeout=120)
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    stderr = proc.stderr.decode(errors="replace")
    assert proc.returncode == 0, f"harness failed ({proc.returncode}):\n{stderr[-3000:]}"
    decoder = FrameDecoder()
    out = decoder.feed(proc.stdout)
    summary, chips = parse_stderr(stderr)
    reads, violations, powerdowns = parse_trace(trace_path, len(rates))
    return SimRun(
        proc.stdout, stderr, out.samples, out.infos, out.logs, decoder, summary, chips, reads,
        cpu_s, violations, powerdowns,
    )  # fmt: skip


def script_value(t_s: np.ndarray, counts: np.ndarray, chip: int, t: float) -> set[int]:
    """The count(s) a chip may have converted at time t (both, within 1 us of a step)."""
    out = set()
    for probe in (t - 1e-6, t, t + 1e-6):
        i = max(int(np.searchsorted(t_s, probe, side="right")) - 1, 0)
        out.add(int(np.clip(counts[i, chip], WORD_MIN, WORD_MAX)))
    return out


def assert_bit_exact(run: SimRun) -> None:
    """Every count the plate sent as fresh is the next word its chip shifted out, in order.

    The last read may lack its frame when the run ends mid-transmission.
    """
    s = run.samples
    assert s.counts.shape[1] == len(run.reads)
    for ch, reads in enumerate(run.reads):
        fresh = s.counts[(s.stale >> ch) & 1 == 0, ch]
        words = reads[:, 2].astype(np.int64)
        assert 0 <= words.size - fresh.size <= 1, f"ch{ch}: {fresh.size} sent, {words.size} read"
        np.testing.assert_array_equal(fresh, words[: fresh.size], err_msg=f"channel {ch}")


def assert_within_datasheet(run: SimRun, resets: int = 0) -> None:
    """No timing breach, no gain change, no read cut by a conversion, no extra power-down."""
    assert run.violations == []
    for key in ("short_high", "short_low", "long_high", "crashed"):
        assert run.summary[key] == 0, key
    assert 0.2 <= run.summary["max_high_us"] <= 50
    for chip in run.chips:
        for key in ("overlaps", "abandoned", "gain_changes", "serial_errors", "t1_violations"):
            assert chip[key] == 0, f"chip {chip['chip']:.0f}: {key}"
    # The firmware powers the chips down once at start-up on purpose (a clean restart).
    assert len(run.powerdowns) == 1 + resets
    assert run.powerdowns[0] < 0.01
    assert run.summary["powerdowns"] == 1 + resets


def assert_bit_exact_while_streaming(run: SimRun) -> None:
    """Like :func:`assert_bit_exact` when streaming paused: the chips are read meanwhile.

    Each fresh count must be the word its chip shifted out in the pulse train that followed
    the sample's latch time (device time lags simulated time by the boot, well under a
    conversion period).
    """
    s = run.samples
    for ch, reads in enumerate(run.reads):
        fresh = (s.stale >> ch) & 1 == 0
        k = np.searchsorted(reads[:, 1], s.t_us[fresh] / 1e6)
        np.testing.assert_array_equal(s.counts[fresh, ch], reads[k, 2].astype(np.int64))


def log_times(data: bytes) -> list[tuple[float, str]]:
    """Each LOG frame with the device time (s) of the last sample before it."""
    decoder = FrameDecoder()
    last_t, out = 0.0, []
    for start in range(0, len(data), 16):
        got = decoder.feed(data[start : start + 16])
        for text in got.logs:
            out.append((last_t, text))
        if got.samples.t_us.size:
            last_t = float(got.samples.t_us[-1]) / 1e6
    return out


# -------------------------------------------------------------- drifting chips, 80 SPS ----

DRIFT_RATES = (80.0, 80.0, 79.3, 80.6)


@pytest.fixture(scope="module")
def drift_script() -> tuple[np.ndarray, np.ndarray]:
    return random_script(4, 4.0, seed=1)


@pytest.fixture(scope="module")
def drift_run(build: Build, tmp_path_factory: pytest.TempPathFactory, drift_script) -> SimRun:
    """Four chips at 80 SPS on their own clocks (two exactly nominal, one slow, one fast)."""
    t_s, counts = drift_script
    return run_sim(
        build, tmp_path_factory.mktemp("drift"), rates=DRIFT_RATES, seconds=4.0,
        script=script_text(t_s, counts),
    )  # fmt: skip


def test_firmware_fits_the_uno(build: Build):
    flash = int(re.search(r"Program:\s+(\d+) bytes", build.make_output).group(1))
    ram = int(re.search(r"Data:\s+(\d+) bytes", build.make_output).group(1))
    print(f"\nflash {flash} B of {UNO_FLASH_BYTES}, static RAM {ram} B of {UNO_RAM_BYTES}")
    assert flash < UNO_FLASH_BYTES // 2
    assert ram <= UNO_RAM_BYTES // 2  # the other half is the stack's


def test_every_injected_sample_arrives_bit_exact(drift_run: SimRun, drift_script):
    assert_bit_exact(drift_run)
    # ... and every word the chips shifted out is the load script's value at that moment.
    t_s, counts = drift_script
    for ch, reads in enumerate(drift_run.reads):
        assert reads.shape[0] > 300
        for t_conv, _, word in reads:
            assert int(word) in script_value(t_s, counts, ch, t_conv)


def test_saturation_and_bit_patterns_pass_through(drift_run: SimRun):
    sent = set(np.unique(drift_run.samples.counts).tolist())
    assert {WORD_MAX, WORD_MIN, -1, 0x555555} & sent


def test_seq_is_continuous_from_zero(drift_run: SimRun):
    s, stats = drift_run.samples, drift_run.decoder.stats
    assert s.seq[0] == 0
    assert np.all(np.diff(s.seq) == 1)
    assert (stats.dropped, stats.crc_errors, stats.skipped_bytes) == (0, 0, 0)


def test_chips_at_one_rate_are_never_stale(drift_run: SimRun):
    assert not drift_run.samples.stale.any()


def test_sample_rate_follows_the_slowest_chip(drift_run: SimRun):
    t = drift_run.samples.t_us / 1e6
    rate = (t.size - 1) / (t[-1] - t[0])
    assert rate == pytest.approx(min(DRIFT_RATES), rel=0.003)
    # Device time runs with the simulated clock: compare with when chip 0 was read.
    t_read = drift_run.reads[0][: t.size, 1]
    slope = np.polyfit(t_read, t, 1)[0]
    assert slope == pytest.approx(1.0, abs=1e-4)


def test_info_at_start_up_carries_the_protocol_keys(drift_run: SimRun):
    assert len(drift_run.infos) == 1
    info = drift_run.infos[0]
    assert info["proto"] == "1"
    assert info["fw"]
    assert (info["board"], info["adc"], info["channels"]) == ("uno", "hx711", "4")
    assert (info["rate_hz"], info["baud"]) == ("80", "115200")
    assert re.fullmatch(r"mf-[0-9a-f]{8}", info["plate_id"])


def test_firmware_stays_within_datasheet_timing(drift_run: SimRun):
    assert_within_datasheet(drift_run)
    assert drift_run.logs == []


def test_harness_runs_faster_than_real_time(drift_run: SimRun):
    sim_s = drift_run.summary["sim_s"]
    print(
        f"\nharness speed: {drift_run.summary['speed']:.2f} simulated s per wall s, "
        f"{sim_s / drift_run.cpu_s:.2f} per CPU s"
    )
    assert sim_s == pytest.approx(4.0)
    assert sim_s / drift_run.cpu_s > 1.5  # CPU time, so a busy machine does not fail it


# ------------------------------------------------------------------- one chip at 10 SPS ----

MIXED_RATES = (80.0, 79.6, 80.3, 10.0)


@pytest.fixture(scope="module")
def mixed_run(build: Build, tmp_path_factory: pytest.TempPathFactory) -> SimRun:
    """Chip 3's RATE pin tied low by mistake: it converts at 10 SPS, the others at 80."""
    t_s, counts = random_script(4, 3.0, seed=2)
    return run_sim(
        build, tmp_path_factory.mktemp("mixed"), rates=MIXED_RATES, seconds=3.0,
        script=script_text(t_s, counts),
    )  # fmt: skip


def test_slow_chip_is_stale_between_its_conversions(mixed_run: SimRun):
    s = mixed_run.samples
    assert not (s.stale & 0b0111).any()
    settled = s.t_us / 1e6 > 0.6  # a 10 SPS chip settles for 400 ms after power-up
    slow_stale = ((s.stale[settled] >> 3) & 1).mean()
    assert slow_stale == pytest.approx(1 - 10.0 / 79.6, abs=0.03)
    # A stale channel repeats its last fresh count.
    ch3 = s.counts[:, 3]
    repeated = ((s.stale >> 3) & 1)[1:] == 1
    np.testing.assert_array_equal(ch3[1:][repeated], ch3[:-1][repeated])


def test_mixed_rates_keep_the_fast_rate_and_exact_counts(mixed_run: SimRun):
    t = mixed_run.samples.t_us / 1e6
    assert (t.size - 1) / (t[-1] - t[0]) == pytest.approx(79.6, rel=0.01)
    assert_bit_exact(mixed_run)
    assert_within_datasheet(mixed_run)


def test_slow_chip_is_named_in_a_log(mixed_run: SimRun):
    assert len(mixed_run.logs) == 1
    assert mixed_run.logs[0].startswith("ch3 (back-left): converts every")
    assert "RATE pin" in mixed_run.logs[0]


# ------------------------------------------------------------------------- commands ----


@pytest.fixture(scope="module")
def command_run(build: Build, tmp_path_factory: pytest.TempPathFactory) -> SimRun:
    """Commands at fixed simulated times: info, stop, start, garbage, a bare newline."""
    t_s, counts = random_script(4, 2.0, seed=3)
    cmds = ("0.5:info", "0.8:stop", "1.2:start", "1.5:tare", "1.6:")
    return run_sim(
        build, tmp_path_factory.mktemp("cmds"), rates=(80.0, 80.1, 79.9, 80.0), seconds=2.0,
        script=script_text(t_s, counts), cmds=cmds,
    )  # fmt: skip


def test_info_command_repeats_info(command_run: SimRun):
    assert len(command_run.infos) == 2
    assert command_run.infos[0] == command_run.infos[1]
    assert command_run.summary["uart_rx"] == len("info\nstop\nstart\ntare\n\n")


def test_stop_pauses_and_start_resumes_without_a_seq_gap(command_run: SimRun):
    s = command_run.samples
    t = s.t_us / 1e6
    assert not ((t > 0.81) & (t < 1.2)).any()
    assert (t < 0.8).sum() > 45
    assert (t > 1.21).sum() > 55
    gap = np.diff(t).max()
    assert gap == pytest.approx(0.4, abs=0.02)
    # seq counts samples sent: the host sees a pause, not lost samples.
    assert np.all(np.diff(s.seq) == 1)
    assert command_run.decoder.stats.dropped == 0
    assert_bit_exact_while_streaming(command_run)


def test_unknown_command_is_answered_with_a_log(command_run: SimRun):
    assert command_run.logs == ["unknown command 'tare' (use info, start or stop)"]


# --------------------------------------------------------------------- unplugged chip ----


@pytest.fixture(scope="module")
def unplug_run(build: Build, tmp_path_factory: pytest.TempPathFactory) -> SimRun:
    """Chip 2 (back-right) unplugged from 1.0 s to 2.0 s."""
    t_s, counts = random_script(4, 3.0, seed=4)
    return run_sim(
        build, tmp_path_factory.mktemp("unplug"), rates=(80.0, 80.3, 79.7, 80.1), seconds=3.0,
        script=script_text(t_s, counts, unplug=[(2, 1.0, 2.0)]),
    )  # fmt: skip


def test_unplugged_chip_is_logged_after_half_a_second_and_on_return(unplug_run: SimRun):
    logs = log_times(unplug_run.data)
    assert [text for _, text in logs] == [
        "ch2 (back-right): no conversion for 0.5 s; check its DOUT wire and power",
        "ch2 (back-right): answering again",
    ]
    (t_lost, _), (t_back, _) = logs
    assert 1.45 < t_lost < 1.6  # its last conversion was just before 1.0 s
    assert 2.0 < t_back < 2.15  # plugged in at 2.0 s, then 50 ms of settling


def test_unplugged_chip_goes_stale_while_the_others_stream(unplug_run: SimRun):
    s = unplug_run.samples
    t = s.t_us / 1e6
    ch2_stale = (s.stale >> 2) & 1 == 1
    assert ch2_stale[(t > 1.02) & (t < 2.04)].all()
    assert not ch2_stale[(t < 0.99) | (t > 2.1)].any()
    assert not (s.stale & 0b1011).any()
    outage = (t > 1.1) & (t < 1.9)
    assert outage.sum() / 0.8 == pytest.approx(79.7, rel=0.02)
    assert np.all(np.diff(s.seq) == 1)
    assert_bit_exact(unplug_run)
    resets = sum("restarting the ADCs" in text for text in unplug_run.logs)
    assert_within_datasheet(unplug_run, resets=resets)


# --------------------------------------------------------------------------- plate id ----


def test_plate_id_is_made_on_first_boot_and_kept_in_eeprom(build: Build, tmp_path: Path):
    eeprom = tmp_path / "eeprom.bin"
    script = "0 1 2 3 4\n"
    runs = [
        run_sim(build, tmp_path / boot, rates=(80,) * 4, seconds=0.3, script=script, eeprom=eeprom)
        for boot in ("first", "again")
    ]
    first, again = runs
    plate_id = first.infos[0]["plate_id"]
    assert again.infos[0]["plate_id"] == plate_id
    record = eeprom.read_bytes()
    assert record[:4] == b"mfp1"
    assert f"mf-{int.from_bytes(record[4:8], 'little'):08x}" == plate_id
    # With an id already stored, INFO comes first; on first boot it follows the first sample.
    assert again.data.index(b"\xa5\x5a\x02") < again.data.index(b"\xa5\x5a\x01")


# ---------------------------------------------------------------------------- 8 chips ----


def test_eight_channel_build_streams_two_plates(build: Build, tmp_path: Path):
    rates = (80.0, 80.2, 79.8, 80.1, 79.9, 80.0, 80.3, 79.7)
    t_s, counts = random_script(8, 1.5, seed=5)
    run = run_sim(
        build, tmp_path, rates=rates, seconds=1.5, script=script_text(t_s, counts),
        elf=build.variant(channels=8),
    )  # fmt: skip
    assert run.infos[0]["channels"] == "8"
    assert run.samples.counts.shape[1] == 8
    assert run.samples.seq.size > 100
    assert_bit_exact(run)
    assert_within_datasheet(run)


def test_ten_hz_build_for_chips_with_rate_low(build: Build, tmp_path: Path):
    rates = (10.0, 10.1, 9.9, 10.05)
    t_s, counts = random_script(4, 4.0, step_s=0.02, seed=7)
    run = run_sim(
        build, tmp_path, rates=rates, seconds=4.0, script=script_text(t_s, counts),
        elf=build.variant(rate_hz=10),
    )  # fmt: skip
    assert run.infos[0]["rate_hz"] == "10"
    t = run.samples.t_us / 1e6
    assert t[0] == pytest.approx(0.5, abs=0.02)  # 400 ms of settling, then the first word
    assert (t.size - 1) / (t[-1] - t[0]) == pytest.approx(9.9, rel=0.01)
    assert not run.samples.stale.any()
    assert_bit_exact(run)
    assert_within_datasheet(run)


# ------------------------------------------------------------------ pty: a real port ----


@pytest.fixture
def pty_plate(build: Build, tmp_path: Path) -> Iterator[tuple[Path, Path, subprocess.Popen]]:
    """The harness paced in real time behind a pseudo-terminal; yields (port, trace, proc)."""
    t_s, counts = random_script(4, 12.0, seed=6)
    (tmp_path / "load.txt").write_text(script_text(t_s, counts))
    link, trace = tmp_path / "plate", tmp_path / "trace.txt"
    argv = [
        str(build.harness), "--elf", str(build.elf), "--script", str(tmp_path / "load.txt"),
        "--rates", "80,80.2,79.8,80", "--seconds", "12", "--trace", str(trace), "--pty", str(link),
    ]  # fmt: skip
    stderr = (tmp_path / "harness.err").open("w")
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        deadline = time.monotonic() + 10
        while not link.exists():
            assert proc.poll() is None, (tmp_path / "harness.err").read_text()
            assert time.monotonic() < deadline, "the harness made no pty"
            time.sleep(0.02)
        yield link, trace, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)
        stderr.close()


class PortReader:
    """Decodes a serial port as it is read; waits on conditions, never on fixed sleeps.

    The harness paces itself to real time but may lag on a loaded machine, so every wait
    has a generous deadline instead of an exact duration.
    """

    def __init__(self, port: serial.Serial) -> None:
        self.port = port
        self.decoder = FrameDecoder()
        self.samples = 0
        self.infos = 0

    def read(self) -> int:
        """Read what is there (or wait one timeout); return the samples it held."""
        got = self.decoder.feed(self.port.read(self.port.in_waiting or 1))
        self.samples += got.samples.seq.size
        self.infos += len(got.infos)
        return got.samples.seq.size

    def until(self, done: Callable[[], bool], timeout_s: float = 5.0) -> None:
        """Read until ``done()`` is true; fail after ``timeout_s``."""
        end = time.monotonic() + timeout_s
        while not done():
            assert time.monotonic() < end, "the plate did not get there in time"
            self.read()

    def quiet_for(self, quiet_s: float, timeout_s: float = 5.0) -> None:
        """Read until no sample has come for ``quiet_s``; fail after ``timeout_s``."""
        end = time.monotonic() + timeout_s
        last = time.monotonic()
        while time.monotonic() - last < quiet_s:
            assert time.monotonic() < end, "the plate kept streaming"
            if self.read():
                last = time.monotonic()


def test_pty_carries_frames_and_commands(pty_plate):
    link, _, _ = pty_plate
    with serial.Serial(str(link), 115200, timeout=0.05) as port:
        plate = PortReader(port)
        plate.until(lambda: plate.samples > 20)
        port.write(b"stop\n")
        plate.quiet_for(0.5)  # 40 samples' time without one
        stopped_at, infos = plate.samples, plate.infos
        port.write(b"info\r\n")
        port.write(b"start\n")
        plate.until(lambda: plate.infos == infos + 1 and plate.samples > stopped_at + 30)
    assert plate.decoder.stats.crc_errors == 0
    assert plate.decoder.stats.dropped == 0


def test_midfoot_record_over_the_pty_keeps_every_count(pty_plate, tmp_path: Path):
    """harness pty -> `midfoot record` -> HDF5 -> the very words the chips shifted out."""
    link, trace, proc = pty_plate
    out = tmp_path / "session.h5"
    rec = subprocess.run(
        [sys.executable, "-m", "gui.cli", "record", "--port", str(link), "--out", str(out),
         "--seconds", "2", "--quiet"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert rec.returncode == 0, f"midfoot record failed:\n{rec.stdout}\n{rec.stderr}"
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)
    reads, violations, _ = parse_trace(trace, 4)
    assert violations == []
    with h5py.File(out, "r") as f:
        counts = f["samples/counts"][:]
        seq = f["samples/seq"][:].astype(np.int64)
        stale = f["samples/stale"][:]
        infos = [parse_info(t.decode() if isinstance(t, bytes) else t) for t in f["info/text"][:]]
    assert counts.dtype == np.int32
    assert counts.shape[1] == 4
    assert counts.shape[0] > 80  # 2 s at 80 Hz, with room for a loaded machine
    assert np.all(np.diff(seq) == 1)
    assert not stale.any()
    assert infos[0]["adc"] == "hx711"
    # No stale samples: sample k of this boot carries each chip's k-th word.
    for ch in range(4):
        words = reads[ch][:, 2].astype(np.int64)
        np.testing.assert_array_equal(counts[:, ch], words[seq], err_msg=f"channel {ch}")
