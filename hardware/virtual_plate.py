"""The virtual plate: a scenario's cell forces turned into the raw stream a real plate sends.

What it emulates (REFERENCE.md, PROTOCOL.md):

- one HX711 per cell at gain 128: a per-cell offset (about +-50,000 counts) and gain
  (about 2,000 counts/N +-10 %), white noise (40 counts rms at 80 SPS, 22 at 10 SPS),
  24-bit saturation at 0x7FFFFF / -0x800000 passed through, and rare single-sample glitch
  spikes reading all ones (0x7FFFFF or -1);
- each chip on its own oscillator (+-2 % from nominal, random phase, first conversion after
  the 50 ms / 400 ms power-up settling), each conversion the mean over its period;
- the firmware's latch rule: a sample is latched when every chip has a new conversion, or
  when 1.25 nominal periods (the firmware's FRAME_DEADLINE_US) have passed since the
  previous latch; chips without a new conversion then repeat their last value and get their
  stale bit. Clock spread alone never reaches that deadline (the slowest chip is at most
  2 % late), so the deadline fires
  when a chip misses a conversion, which the emulation does at ``miss_rate`` per
  conversion (as when the firmware's read collides with a conversion or a chip restarts);
- a 1 kHz "fast ADC" mode: every channel converted synchronously, never stale;
- seq +1 per sent sample, t_us the device's micros() at the latch (u32, wrapping, starting
  at ``t0_us``), INFO at start-up and on ``info``, ``start``/``stop``, LOG for anything else.

Frames come from :func:`daq.frames.encode_samples`, whole blocks at a time. Noise, glitches
and missed conversions are drawn per conversion from counter-keyed random streams, so the
same plate gives the same bytes however the stream is cut into blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from daq.frames import (
    PROTOCOL_VERSION,
    encode_info,
    encode_log,
    encode_samples,
    sample_frame_bytes,
)
from daq.plate import PlateGeometry, load_plate
from daq.samples import SampleBlock
from hardware.scenarios import Scenario

RATES_HZ = (10, 80, 1000)
FIRMWARE_VERSION = "virtual-1.0"
NOMINAL_GAIN_COUNTS_PER_N = 2000.0
DEFAULT_NOISE_COUNTS = {10: 22.0, 80: 40.0, 1000: 50.0}
# HX711 settling after power-up: 400 ms at 10 SPS, 50 ms at 80 SPS (datasheet).
SETTLE_S = {10: 0.4, 80: 0.05}
CLOCK_SPREAD = 0.02
# The firmware's FRAME_DEADLINE_US = PERIOD_US + PERIOD_US / 4 (midfoot_plate.ino).
DEADLINE_PERIODS = 1.25
COUNTS_MIN = -0x800000
COUNTS_MAX = 0x7FFFFF
GLITCH_VALUES = (0x7FFFFF, -1)  # all ones, read as a signed or an unsigned 24-bit value
_CHUNK_BITS = 12  # random draws are made 4,096 conversions at a time
_CHUNK = 1 << _CHUNK_BITS
# Latch times are floats; "before t" is taken as "at least 100 ns before t".
_HALF_OPEN_S = 1e-7


def baud_for_rate(rate_hz: int) -> int:
    """Serial speed a plate at ``rate_hz`` announces: 1 kHz needs 1,000,000 baud."""
    return 1_000_000 if rate_hz > 390 else 115_200


@dataclass(frozen=True, eq=False)
class PlateTruth:
    """What the virtual plate really is, for scoring calibration and analysis.

    Attributes
    ----------
    gains_counts_per_n : (n,) float
        Counts per newton of each channel.
    offsets_counts : (n,) float
        Counts of each channel with no load.
    scenario : Scenario
        The person on plate A (channels 0-3).
    plate : PlateGeometry
        Geometry of each plate.
    plate_b_scenario : Scenario or None
        What stands on plate B (channels 4-7) of an 8-channel board; None = empty.
    chip_periods_s : (n,) float
        Each chip's conversion period.
    noise_counts : float
        White-noise rms per conversion.
    """

    gains_counts_per_n: np.ndarray
    offsets_counts: np.ndarray
    scenario: Scenario
    plate: PlateGeometry
    plate_b_scenario: Scenario | None
    chip_periods_s: np.ndarray
    noise_counts: float


class _Draws:
    """Per-channel random numbers indexed by conversion number, made in keyed chunks."""

    def __init__(self, key: tuple[int, ...], n_channels: int) -> None:
        self._key = key
        self._cache: list[dict[int, np.ndarray]] = [{} for _ in range(n_channels)]

    def chunk(self, channel: int, index: int) -> np.ndarray:
        """(3, 4096): normal noise, glitch uniform, miss uniform."""
        cache = self._cache[channel]
        arr = cache.get(index)
        if arr is None:
            rng = np.random.default_rng([*self._key, channel, index])
            arr = np.vstack([rng.standard_normal(_CHUNK), rng.random(_CHUNK), rng.random(_CHUNK)])
            if len(cache) > 8:
                cache.pop(next(iter(cache)))
            cache[index] = arr
        return arr

    def take(self, channel: int, k: np.ndarray) -> np.ndarray:
        """(3, len(k)) draws of conversions ``k`` (non-negative int64) of one channel."""
        k = np.asarray(k, dtype=np.int64)
        blocks = k >> _CHUNK_BITS
        if k.size == 0:
            return np.zeros((3, 0))
        lo, hi = int(blocks.min()), int(blocks.max())
        if lo == hi:
            return self.chunk(channel, lo)[:, k & (_CHUNK - 1)]
        stacked = np.hstack([self.chunk(channel, b) for b in range(lo, hi + 1)])
        return stacked[:, k - (lo << _CHUNK_BITS)]

    def miss_draw(self, channel: int, k: int) -> float:
        """Uniform draw used to decide whether conversion ``k`` is missed."""
        return float(self.chunk(channel, k >> _CHUNK_BITS)[2, k & (_CHUNK - 1)])


class _Firmware:
    """Latch timing of one boot of the plate: when samples are taken and from which conversion.

    For 10/80 SPS it runs the firmware's rule over each chip's conversion times; for the
    1 kHz fast ADC every latch is a synchronous conversion of all channels.
    """

    def __init__(
        self,
        rate_hz: int,
        periods_s: np.ndarray,
        phases_s: np.ndarray,
        draws: _Draws,
        miss_rate: float,
    ) -> None:
        self.rate_hz = rate_hz
        self.period_s = 1.0 / rate_hz
        self.n = periods_s.size
        self.periods = [float(p) for p in periods_s]
        self.phases = [float(p) for p in phases_s]
        self.draws = draws
        self.miss_rate = miss_rate
        self.last_latch_s: float | None = None
        self.next_k = [0] * self.n
        self.last_k = [0] * self.n
        self.fast_index = 0  # next latch number in fast mode

    def _available(self, i: int, k: int) -> int:
        if self.miss_rate <= 0:
            return k
        while self.draws.miss_draw(i, k) < self.miss_rate:
            k += 1
        return k

    def latches(self, t_end_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Latches up to ``t_end_s`` (device s).

        Returns times (N,), the conversion number each channel holds (N, n) and the stale
        masks (N,).
        """
        if self.rate_hz == 1000:
            first = self.fast_index
            last = int(np.floor(t_end_s * 1000.0 + 1e-9)) - 1  # latch j at (j + 1) ms
            count = max(0, last - first + 1)
            j = np.arange(first, first + count, dtype=np.int64)
            self.fast_index = first + count
            conv = np.repeat(j[:, None], self.n, axis=1)
            return (j + 1) / 1000.0, conv, np.zeros(count, dtype=np.uint8)

        periods, phases, n = self.periods, self.phases, self.n
        deadline_s = DEADLINE_PERIODS * self.period_s
        next_k, last_k = self.next_k, self.last_k
        latch = self.last_latch_s
        out_t: list[float] = []
        out_k: list[list[int]] = []
        out_stale: list[int] = []
        while True:
            cand = [self._available(i, next_k[i]) for i in range(n)]
            times = [phases[i] + cand[i] * periods[i] for i in range(n)]
            t = max(times)
            if latch is not None and t > latch + deadline_s:
                t = latch + deadline_s
            if t > t_end_s:
                break
            stale = 0
            row = []
            for i in range(n):
                if times[i] <= t:
                    k = cand[i]
                    # A chip faster than the latch may have converted again: its register
                    # holds the newest conversion.
                    k2 = k + 1
                    while phases[i] + k2 * periods[i] <= t:
                        if self.miss_rate <= 0 or self.draws.miss_draw(i, k2) >= self.miss_rate:
                            k = k2
                        k2 += 1
                    next_k[i] = k2
                    last_k[i] = k
                else:
                    stale |= 1 << i
                    k = last_k[i]
                row.append(k)
            latch = t
            out_t.append(t)
            out_k.append(row)
            out_stale.append(stale)
        self.last_latch_s = latch
        return (
            np.array(out_t, dtype=float),
            np.array(out_k, dtype=np.int64).reshape(-1, n),
            np.array(out_stale, dtype=np.uint8),
        )

    def conversion_mid_s(self, conv: np.ndarray) -> np.ndarray:
        """Middle of each conversion's averaging period, device s, (N, n)."""
        if self.rate_hz == 1000:
            return (conv + 0.5) / 1000.0
        periods = np.asarray(self.periods)
        phases = np.asarray(self.phases)
        return phases + (conv - 0.5) * periods


class VirtualPlate:
    """A plate that streams a scenario as PROTOCOL.md bytes.

    Parameters
    ----------
    scenario : Scenario
        Who stands on the plate (on plate A of an 8-channel board).
    plate : PlateGeometry, optional
        Cell layout (default :func:`daq.plate.load_plate`).
    rate_hz : int
        10 or 80 (HX711) or 1000 (synchronous fast ADC).
    channels : int
        The plate's cell count, or twice it for two plates side by side.
    seed : int
        Seed of the plate's own properties (gains, offsets, clocks, noise), and of
        ``plate_id``.
    noise_counts : float, optional
        White-noise rms per conversion (default 22 / 40 / 50 counts at 10 / 80 / 1000 Hz).
    glitch_rate : float
        Probability that a conversion reads all ones.
    gains, offsets : array-like, optional
        Counts per newton and no-load counts of each channel; a negative gain emulates a
        cell wired the other way round.
    t0_us : int
        Device micros() at the start-up (use a value near 2**32 to exercise the wrap).
    loop : bool
        Repeat the scenario; otherwise its last state holds after it ends.
    start_s : float
        Scenario time at the start-up (a plate that reboots mid-scenario).
    miss_rate : float, optional
        Probability that a chip misses a conversion (10/80 SPS; default 0.003).
    plate_b : Scenario, optional
        What stands on plate B of an 8-channel board (default: nothing).
    boot : int
        Start-up number; each boot draws fresh noise.
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        plate: PlateGeometry | None = None,
        rate_hz: int = 80,
        channels: int = 4,
        seed: int = 0,
        noise_counts: float | None = None,
        glitch_rate: float = 1e-4,
        gains: np.ndarray | None = None,
        offsets: np.ndarray | None = None,
        t0_us: int = 0,
        loop: bool = False,
        start_s: float = 0.0,
        miss_rate: float | None = None,
        plate_b: Scenario | None = None,
        boot: int = 0,
    ) -> None:
        self.plate = plate if plate is not None else load_plate()
        cells = self.plate.n_channels
        if rate_hz not in RATES_HZ:
            raise ValueError(f"rate_hz must be one of {', '.join(map(str, RATES_HZ))}")
        if channels not in (cells, 2 * cells) or channels > 8:
            raise ValueError(
                f"channels must be {cells} (one plate) or {2 * cells} (two plates side by side)"
                if 2 * cells <= 8
                else f"channels must be {cells} for this plate"
            )
        if not 0.0 <= glitch_rate <= 1.0:
            raise ValueError("glitch_rate must be between 0 and 1")
        self.scenario = scenario
        self.rate_hz = int(rate_hz)
        self.channels = int(channels)
        self.seed = int(seed)
        self.loop = bool(loop)
        self.start_s = float(start_s)
        self.t0_us = int(t0_us)
        self.glitch_rate = float(glitch_rate)
        self.miss_rate = 0.0 if rate_hz == 1000 else float(3e-3 if miss_rate is None else miss_rate)
        self.boot = int(boot)
        self.noise_counts = float(
            DEFAULT_NOISE_COUNTS[self.rate_hz] if noise_counts is None else noise_counts
        )
        self.plate_b = plate_b

        rng = np.random.default_rng([self.seed, 0x91A7E])
        n = self.channels
        default_gains = NOMINAL_GAIN_COUNTS_PER_N * rng.uniform(0.9, 1.1, n)
        default_offsets = rng.uniform(-50_000.0, 50_000.0, n)
        clock = rng.uniform(-CLOCK_SPREAD, CLOCK_SPREAD, n)
        phase = rng.uniform(0.0, 1.0, n)
        self.gains = self._per_channel(gains, default_gains, "gains")
        self.offsets = self._per_channel(offsets, default_offsets, "offsets")
        period = 1.0 / self.rate_hz
        if self.rate_hz == 1000:
            self._periods = np.full(n, period)
            self._phases = np.zeros(n)
        else:
            self._periods = period * (1.0 + clock)
            self._phases = SETTLE_S[self.rate_hz] + phase * self._periods
        self.truth = PlateTruth(
            gains_counts_per_n=self.gains.copy(),
            offsets_counts=self.offsets.copy(),
            scenario=scenario,
            plate=self.plate,
            plate_b_scenario=plate_b,
            chip_periods_s=self._periods.copy(),
            noise_counts=self.noise_counts,
        )
        self._frame_bytes = sample_frame_bytes(n)
        self._chunk_s = max(0.1, 4.0 / self.rate_hz)
        self._stream = self._new_generator()
        self._streaming = True
        self._booted = False
        self._now_s = 0.0
        self._pend_t = np.zeros(0)
        self._pend = b""

    def _per_channel(self, given: object, default: np.ndarray, label: str) -> np.ndarray:
        if given is None:
            return default
        arr = np.asarray(given, dtype=float).reshape(-1)
        if arr.size != self.channels:
            raise ValueError(f"{label} must have one value per channel ({self.channels})")
        return arr

    # -- truth ------------------------------------------------------------------------------
    def scenario_time_s(self, t_device_s: np.ndarray) -> np.ndarray:
        """Scenario time at device times (seconds since this start-up)."""
        t = self.start_s + np.asarray(t_device_s, dtype=float)
        return np.mod(t, self.scenario.duration_s) if self.loop else t

    def true_forces_n(self, t_device_s: np.ndarray) -> np.ndarray:
        """True force (N, channels) on every cell at device times ``t_device_s``."""
        t_dev = np.atleast_1d(np.asarray(t_device_s, dtype=float))
        forces = self.scenario.cell_forces_n(self.scenario_time_s(t_dev), self.plate)
        if self.channels == self.plate.n_channels:
            return forces
        if self.plate_b is None:
            other = np.zeros_like(forces)
        else:
            t_b = self.start_s + t_dev
            if self.loop:
                t_b = np.mod(t_b, self.plate_b.duration_s)
            other = self.plate_b.cell_forces_n(t_b, self.plate)
        return np.hstack([forces, other])

    def info(self) -> dict[str, object]:
        """The INFO fields this plate announces."""
        return {
            "proto": PROTOCOL_VERSION,
            "fw": FIRMWARE_VERSION,
            "board": "virtual",
            "adc": "fast" if self.rate_hz == 1000 else "hx711",
            "channels": self.channels,
            "rate_hz": self.rate_hz,
            "baud": baud_for_rate(self.rate_hz),
            "plate_id": f"virt-{self.seed:04d}",
            "scenario": self.scenario.name,
        }

    # -- sample generation ------------------------------------------------------------------
    def _new_generator(self) -> _Generator:
        draws = _Draws((self.seed, self.boot, 0x5A), self.channels)
        firmware = _Firmware(self.rate_hz, self._periods, self._phases, draws, self.miss_rate)
        return _Generator(self, firmware, draws)

    def samples_between(self, t0_s: float, t1_s: float) -> SampleBlock:
        """The samples latched in device time [t0_s, t1_s) of a fresh start-up.

        seq and t_us are unwrapped (int64) as the decoder gives them.
        """
        gen = self._new_generator()
        gen.skip_to(t0_s, count_seq=True)
        block, _ = gen.block(t1_s, half_open=True)
        return block

    def render(self, t_end_s: float | None = None) -> bytes:
        """The whole stream of a fresh start-up up to ``t_end_s`` (default: the scenario).

        INFO first, then every SAMPLE frame, made in large vectorised blocks.
        """
        t_end = self.scenario.duration_s if t_end_s is None else float(t_end_s)
        gen = self._new_generator()
        parts = [encode_info(self.info())]
        step_s = max(1.0, 65536.0 / self.rate_hz)
        t = 0.0
        while t < t_end:
            t = min(t + step_s, t_end)
            block, _ = gen.block(t)
            if len(block):
                parts.append(encode_samples(block.seq, block.t_us, block.stale, block.counts))
        return b"".join(parts)

    # -- streaming --------------------------------------------------------------------------
    def frames_until(self, t_device_s: float) -> bytes:
        """Frames latched since the previous call, up to device time ``t_device_s``.

        The first call also returns the start-up INFO frame. Samples are made a few tens
        of milliseconds ahead and released as time passes, so calling this often is cheap.
        """
        t = float(t_device_s)
        out = b""
        if not self._booted:
            self._booted = True
            out = encode_info(self.info())
        if t < self._now_s:
            return out
        self._now_s = t
        if not self._streaming:
            self._stream.skip_to(t, count_seq=False)
            return out
        while self._stream.t_end_s < t:
            block, _ = self._stream.block(self._stream.t_end_s + self._chunk_s)
            if len(block):
                frames = encode_samples(block.seq, block.t_us, block.stale, block.counts)
                t_dev = (block.t_us - self.t0_us) / 1e6
                self._pend_t = np.concatenate([self._pend_t, t_dev])
                self._pend = self._pend + frames
        count = int(np.searchsorted(self._pend_t, t + 1e-9, side="right"))
        if count:
            cut = count * self._frame_bytes
            out += self._pend[:cut]
            self._pend = self._pend[cut:]
            self._pend_t = self._pend_t[count:]
        return out

    def drop_until(self, t_device_s: float) -> None:
        """Lose every sample latched before ``t_device_s`` (nobody read the port).

        They were sent, so seq moves on: the host sees the gap as dropped samples.
        """
        t = float(t_device_s)
        if t <= self._now_s:
            return
        self._now_s = t
        keep = self._pend_t >= t
        dropped = int(np.count_nonzero(~keep))
        if dropped:
            self._pend = self._pend[dropped * self._frame_bytes :]
            self._pend_t = self._pend_t[keep]
        self._stream.skip_to(t, count_seq=self._streaming)

    def handle_command(self, line: str) -> bytes:
        """The plate's answer to one command line, as of the last :meth:`frames_until` time.

        ``info`` -> an INFO frame; ``start`` / ``stop`` -> streaming on / off (no answer);
        anything else -> a LOG frame "unknown command: X".
        """
        command = line.strip()
        if not command:
            return b""
        word = command.lower()
        if word == "info":
            return encode_info(self.info())
        if word == "stop":
            if self._streaming:
                self._streaming = False
                # Samples made ahead but not yet sent are never sent; seq stays continuous.
                self._stream.seq -= self._pend_t.size
                self._pend_t = np.zeros(0)
                self._pend = b""
            return b""
        if word == "start":
            self._streaming = True
            return b""
        return encode_log(f"unknown command: {command}")

    @property
    def clock_s(self) -> float:
        """Device time up to which frames have been handed out (or dropped)."""
        return self._now_s

    @property
    def streaming(self) -> bool:
        """Whether SAMPLE frames are being sent (``start``/``stop``)."""
        return self._streaming


class _Generator:
    """Turns latches into counts, keeping seq and the firmware's state across blocks."""

    def __init__(self, plate: VirtualPlate, firmware: _Firmware, draws: _Draws) -> None:
        self.plate = plate
        self.firmware = firmware
        self.draws = draws
        self.seq = 0
        self.t_end_s = 0.0

    def skip_to(self, t_s: float, *, count_seq: bool) -> None:
        """Run the latch timing up to (not including) ``t_s`` without making samples.

        With ``count_seq`` the skipped latches still take seq numbers (samples that were
        sent but lost); without, they were never sent (streaming stopped).
        """
        if t_s <= self.t_end_s:
            return
        fw = self.firmware
        if fw.rate_hz == 1000:
            # Latch j is at (j + 1) ms: those before t_s number ceil(t_s * 1000) - 1.
            target = max(fw.fast_index, int(np.ceil(t_s * 1000.0 - 1e-6)) - 1)
            skipped = target - fw.fast_index
            fw.fast_index = target
        else:
            skipped = fw.latches(t_s - _HALF_OPEN_S)[0].size
        if count_seq:
            self.seq += skipped
        self.t_end_s = t_s

    def block(self, t_end_s: float, half_open: bool = False) -> tuple[SampleBlock, np.ndarray]:
        """Samples latched after the previous block up to ``t_end_s``; also their device s."""
        plate, fw = self.plate, self.firmware
        limit = t_end_s - _HALF_OPEN_S if half_open else t_end_s
        t_s, conv, stale = fw.latches(limit)
        self.t_end_s = max(self.t_end_s, t_end_s)
        count = t_s.size
        n = plate.channels
        if count == 0:
            return SampleBlock.empty(n), t_s
        mid = fw.conversion_mid_s(conv)
        if fw.rate_hz == 1000:
            forces = plate.true_forces_n(mid[:, 0])
        else:
            forces = np.empty((count, n))
            for i in range(n):
                forces[:, i] = plate.true_forces_n(mid[:, i])[:, i]
        raw = plate.offsets + plate.gains * forces
        counts = np.empty((count, n), dtype=np.int64)
        for i in range(n):
            noise, glitch_u, _ = self.draws.take(i, conv[:, i])
            col = np.rint(raw[:, i] + plate.noise_counts * noise)
            col = np.clip(col, COUNTS_MIN, COUNTS_MAX).astype(np.int64)
            hit = glitch_u < plate.glitch_rate
            if hit.any():
                col[hit] = np.where(
                    glitch_u[hit] < 0.5 * plate.glitch_rate, GLITCH_VALUES[0], GLITCH_VALUES[1]
                )
            counts[:, i] = col
        seq = np.arange(self.seq, self.seq + count, dtype=np.int64)
        self.seq += count
        t_us = plate.t0_us + np.rint(t_s * 1e6).astype(np.int64)
        block = SampleBlock(seq=seq, t_us=t_us, stale=stale, counts=counts.astype(np.int32))
        return block, t_s
