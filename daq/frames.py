"""Plate wire protocol v1 (../shared/PROTOCOL.md): frame constants, CRC and the encoder.

The decoder lives in :mod:`daq.decoder`; this module holds what both ends of the wire
share, so the virtual plate, the tests and the decoder agree byte for byte.
"""

from __future__ import annotations

import binascii
import functools
import math
import re
from dataclasses import dataclass

import numpy as np

SYNC0 = 0xA5
SYNC1 = 0x5A
TYPE_SAMPLE = 0x01
TYPE_INFO = 0x02
TYPE_LOG = 0x03
KNOWN_TYPES = (TYPE_SAMPLE, TYPE_INFO, TYPE_LOG)
HEADER_BYTES = 4  # SYNC0 SYNC1 TYPE LEN
CRC_BYTES = 2
SAMPLE_FIXED_BYTES = 7  # seq u16 + t_us u32 + stale u8
MAX_CHANNELS = 8
PROTOCOL_VERSION = 1
# A nominal rate outside this range is not a plate's: the fastest link in PROTOCOL.md
# (1 Mbaud) carries ~3400 four-channel frames/s, and a plate slower than 0.5 Hz is broken.
MIN_RATE_HZ = 0.5
MAX_RATE_HZ = 5000.0
# Control characters (NUL included) other than tab: HDF5 text cannot hold NUL, and none of
# them belongs on a screen, so device text keeps them as visible \xNN escapes.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def sample_len(n_channels: int) -> int:
    """Payload length in bytes of a SAMPLE frame carrying ``n_channels`` counts."""
    return SAMPLE_FIXED_BYTES + 4 * n_channels


def sample_frame_bytes(n_channels: int) -> int:
    """Whole length in bytes of a SAMPLE frame (29 for four channels)."""
    return HEADER_BYTES + sample_len(n_channels) + CRC_BYTES


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE of ``data`` (poly 0x1021, init 0xFFFF); "123456789" gives 0x29B1."""
    return binascii.crc_hqx(data, 0xFFFF)


def _crc_table() -> np.ndarray:
    table = np.zeros(256, dtype=np.uint16)
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table[byte] = crc & 0xFFFF
    return table


CRC_TABLE = _crc_table()


def _crc_table16() -> np.ndarray:
    """CRC step for two bytes at once: the register shifts out whole, so crc' = T16[crc ^ w]."""
    word = np.arange(1 << 16, dtype=np.uint32)
    crc = (word << 8) ^ CRC_TABLE[word >> 8]
    crc = ((crc & 0xFF) << 8) ^ CRC_TABLE[(crc >> 8) & 0xFF]
    return crc.astype(np.uint16)


CRC_TABLE16 = _crc_table16()
# Below this many rows one table gather over every byte beats a column loop (measured
# on 25-byte rows here: 34 vs 60 us at 512 rows, 141 vs 104 us at 2048).
_LINEAR_MAX_ROWS = 1536


@functools.lru_cache(maxsize=16)
def _crc_position_tables(length: int) -> tuple[np.ndarray, np.ndarray, np.uint16]:
    """Per-position byte contributions for messages of ``length`` bytes.

    CRC without xorout is affine over GF(2): the CRC of a message is the CRC of all zeros
    (with the 0xFFFF init) XOR the zero-init CRC contribution of each byte at its position.
    So one gather of ``length`` table entries per row and one XOR reduction give every row.
    """
    contrib = np.zeros((length, 256), dtype=np.uint16)
    # Contribution of byte b at the last position is CRC_TABLE[b]; each earlier position
    # passes it through one more zero byte: c -> (c << 8) ^ CRC_TABLE[c >> 8].
    contrib[length - 1] = CRC_TABLE
    for pos in range(length - 2, -1, -1):
        nxt = contrib[pos + 1]
        contrib[pos] = (nxt << 8) ^ CRC_TABLE[nxt >> 8]
    offsets = (np.arange(length, dtype=np.intp) * 256)[:, None]
    return contrib.reshape(-1), offsets, np.uint16(binascii.crc_hqx(bytes(length), 0xFFFF))


def crc16_rows(rows: np.ndarray) -> np.ndarray:
    """CRC-16/CCITT-FALSE of every row of a (M, L) uint8 array, vectorised over M.

    Few rows: one gather of per-position tables and an XOR reduction (a handful of numpy
    calls whatever L is). Many rows: a column loop two bytes at a time through a 64 Ki-entry
    table, which keeps the gathers cache-friendly. Both give binascii.crc_hqx(row, 0xFFFF).
    """
    n_rows, length = rows.shape
    if length == 0:
        return np.full(n_rows, 0xFFFF, dtype=np.uint16)
    if n_rows <= _LINEAR_MAX_ROWS:
        table, offsets, zeros_crc = _crc_position_tables(length)
        picked = table[rows.T + offsets]
        return np.bitwise_xor.reduce(picked, axis=0) ^ zeros_crc
    crc = np.full(n_rows, 0xFFFF, dtype=np.uint16)
    n_words = length // 2
    if n_words:
        words = rows[:, : 2 * n_words]
        if words.strides[1] != 1:
            words = np.ascontiguousarray(words)
        words = words.view(">u2")
        table16 = CRC_TABLE16
        for col in range(n_words):
            crc = table16[crc ^ words[:, col]]
    if length % 2:
        crc = (crc << 8) ^ CRC_TABLE[(crc >> 8) ^ rows[:, -1]]
    return crc


def encode_frame(frame_type: int, payload: bytes) -> bytes:
    """One frame of any type: SYNC, TYPE, LEN, payload and CRC."""
    if len(payload) > 255:
        raise ValueError(f"payload of {len(payload)} bytes does not fit in one frame (max 255)")
    body = bytes((frame_type, len(payload))) + payload
    return bytes((SYNC0, SYNC1)) + body + crc16(body).to_bytes(2, "little")


def encode_info(fields: dict[str, object]) -> bytes:
    """An INFO frame from ``key=value`` pairs (``proto``, ``fw``, ``channels``, ...)."""
    text = ";".join(f"{k}={v}" for k, v in fields.items())
    return encode_frame(TYPE_INFO, text.encode("utf-8"))


def encode_log(message: str) -> bytes:
    """A LOG frame carrying one line of device text."""
    return encode_frame(TYPE_LOG, message.encode("utf-8")[:255])


def encode_samples(
    seq: np.ndarray, t_us: np.ndarray, stale: np.ndarray, counts: np.ndarray
) -> bytes:
    """SAMPLE frames for a whole block at once.

    Parameters
    ----------
    seq, t_us : (N,) integers
        Sample counter and device microseconds; reduced modulo 2**16 and 2**32 as on the wire.
    stale : (N,) integers
        Per-sample bit mask of channels without a new conversion.
    counts : (N, n) integers
        Signed ADC counts, 1 <= n <= 8.
    """
    counts = np.asarray(counts)
    if counts.ndim != 2 or not 1 <= counts.shape[1] <= MAX_CHANNELS:
        raise ValueError("counts must be an (N, n) array with 1 <= n <= 8")
    n_samples, n_ch = counts.shape
    plen = sample_len(n_ch)
    dt = np.dtype(
        [
            ("sync", "u1", 2),
            ("type", "u1"),
            ("len", "u1"),
            ("seq", "<u2"),
            ("t_us", "<u4"),
            ("stale", "u1"),
            ("counts", "<i4", n_ch),
            ("crc", "<u2"),
        ]
    )
    rec = np.zeros(n_samples, dtype=dt)
    rec["sync"] = (SYNC0, SYNC1)
    rec["type"] = TYPE_SAMPLE
    rec["len"] = plen
    rec["seq"] = np.asarray(seq, dtype=np.int64) & 0xFFFF
    rec["t_us"] = np.asarray(t_us, dtype=np.int64) & 0xFFFFFFFF
    rec["stale"] = np.asarray(stale, dtype=np.int64) & 0xFF
    rec["counts"] = counts
    raw = rec.view(np.uint8).reshape(n_samples, dt.itemsize)
    rec["crc"] = crc16_rows(raw[:, 2 : 2 + 2 + plen])
    return rec.tobytes()


def device_text(payload: bytes) -> str:
    r"""A LOG or INFO payload as printable text that any store can hold.

    Valid UTF-8 is kept; bytes that are not UTF-8 become ``\xNN`` and control characters
    (NUL, escape sequences, line breaks) become ``\xNN`` too, so binary junk from a plate
    is stored and shown faithfully instead of crashing the recorder or the terminal.
    """
    text = bytes(payload).decode("utf-8", errors="backslashreplace")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


@dataclass(frozen=True)
class PlateInfo:
    """An INFO message checked against PROTOCOL.md.

    Attributes
    ----------
    fields : dict
        Every ``key=value`` pair as sent.
    proto, channels : int or None
        The protocol version and channel count, None when absent or not valid.
    rate_hz : float or None
        The nominal rate, None when absent or not plausible.
    problems : tuple of str
        One sentence per bad value; the frames themselves decide then.
    """

    fields: dict[str, str]
    proto: int | None
    channels: int | None
    rate_hz: float | None
    problems: tuple[str, ...]


def _int_field(value: str | None) -> int | None:
    if value is None or len(value) > 12:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def check_info(fields: dict[str, str]) -> PlateInfo:
    """Validate ``proto``, ``channels`` and ``rate_hz`` of an INFO message.

    Parameters
    ----------
    fields : dict
        The parsed INFO (:func:`parse_info`).

    Returns
    -------
    PlateInfo
        The valid values and one sentence for each value that is not.
    """
    problems: list[str] = []
    proto = _int_field(fields.get("proto"))
    if "proto" in fields and proto != PROTOCOL_VERSION:
        problems.append(
            f"the plate says proto={fields['proto'][:40]!r} but midfoot speaks protocol "
            f"version {PROTOCOL_VERSION}: its frames are read as version {PROTOCOL_VERSION}; "
            "update midfoot or the plate's firmware so they match"
        )
        proto = None
    channels = _int_field(fields.get("channels"))
    if "channels" in fields and not (channels is not None and 1 <= channels <= MAX_CHANNELS):
        problems.append(
            f"the plate says channels={fields['channels'][:40]!r}, which is not 1-"
            f"{MAX_CHANNELS}: midfoot goes by the channel count of its frames"
        )
        channels = None
    rate: float | None = None
    if "rate_hz" in fields:
        text = fields["rate_hz"]
        try:
            rate = float(text) if len(text) <= 32 else math.nan
        except ValueError:
            rate = math.nan
        if not (math.isfinite(rate) and MIN_RATE_HZ <= rate <= MAX_RATE_HZ):
            problems.append(
                f"the plate says rate_hz={text[:40]!r}, which is not a plausible sample rate "
                f"({MIN_RATE_HZ:g}-{MAX_RATE_HZ:g} Hz): midfoot measures the rate from the frames"
            )
            rate = None
    return PlateInfo(dict(fields), proto, channels, rate, tuple(problems))


def parse_info(text: str) -> dict[str, str]:
    """``key=value;key=value`` INFO text as a dict; malformed pairs are ignored."""
    fields: dict[str, str] = {}
    for part in text.split(";"):
        key, sep, value = part.partition("=")
        if sep and key.strip():
            fields[key.strip()] = value.strip()
    return fields
