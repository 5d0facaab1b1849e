"""Plate wire protocol v1 (../shared/PROTOCOL.md): frame constants, CRC and the encoder.

The decoder lives in :mod:`daq.decoder`; this module holds what both ends of the wire
share, so the virtual plate, the tests and the decoder agree byte for byte.
"""

from __future__ import annotations

import binascii

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


def crc16_rows(rows: np.ndarray) -> np.ndarray:
    """CRC-16/CCITT-FALSE of every row of a (M, L) uint8 array, vectorised over M.

    One table step per column, so the Python cost is L numpy operations however many
    frames there are.
    """
    crc = np.full(rows.shape[0], 0xFFFF, dtype=np.uint16)
    table = CRC_TABLE
    for col in range(rows.shape[1]):
        idx = (crc >> 8) ^ rows[:, col]
        crc = (crc << 8) ^ table[idx]
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


def parse_info(text: str) -> dict[str, str]:
    """``key=value;key=value`` INFO text as a dict; malformed pairs are ignored."""
    fields: dict[str, str] = {}
    for part in text.split(";"):
        key, sep, value = part.partition("=")
        if sep and key.strip():
            fields[key.strip()] = value.strip()
    return fields
