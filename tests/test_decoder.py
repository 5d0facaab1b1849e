"""The protocol decoder: exact frames out of any split, corruption and wrap of the stream."""

from __future__ import annotations

import binascii

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daq.decoder import FrameDecoder
from daq.frames import (
    crc16,
    crc16_rows,
    encode_frame,
    encode_info,
    encode_log,
    encode_samples,
    sample_frame_bytes,
)
from daq.samples import SampleBlock


def make_stream(n: int, channels: int = 4, seed: int = 0, seq0: int = 0, t0_us: int = 0):
    rng = np.random.default_rng(seed)
    seq = np.arange(seq0, seq0 + n)
    t_us = t0_us + np.arange(n) * 12500
    stale = rng.integers(0, 1 << channels, n)
    counts = rng.integers(-(1 << 23), 1 << 23, (n, channels))
    return seq, t_us, stale, counts, encode_samples(seq, t_us, stale, counts)


def decode_all(dec: FrameDecoder, chunks) -> tuple[SampleBlock, list, list]:
    blocks, infos, logs = [], [], []
    for chunk in chunks:
        out = dec.feed(chunk)
        if len(out.samples):
            blocks.append(out.samples)
        infos += out.infos
        logs += out.logs
    return SampleBlock.concat(blocks), infos, logs


def reference_frame(seq: int, t_us: int, stale: int, counts: list[int]) -> bytes:
    """A frame built field by field with struct-free byte arithmetic, independent of numpy."""
    payload = seq.to_bytes(2, "little") + t_us.to_bytes(4, "little") + bytes([stale])
    payload += b"".join(c.to_bytes(4, "little", signed=True) for c in counts)
    body = bytes([1, len(payload)]) + payload
    return b"\xa5\x5a" + body + binascii.crc_hqx(body, 0xFFFF).to_bytes(2, "little")


def test_crc_check_value():
    assert crc16(b"123456789") == 0x29B1
    rows = np.frombuffer(b"123456789" * 3, dtype=np.uint8).reshape(3, 9)
    assert list(crc16_rows(rows)) == [0x29B1] * 3


@pytest.mark.parametrize("n_rows", [1, 7, 600, 1536, 1537, 4000])
@pytest.mark.parametrize("length", [1, 2, 25, 41])
def test_crc_rows_agree_with_binascii_on_both_paths(n_rows, length):
    """Few rows take the per-position tables, many the two-byte column loop; both exact."""
    rng = np.random.default_rng(n_rows * 100 + length)
    wide = rng.integers(0, 256, (n_rows, length + 4), dtype=np.uint8)
    rows = wide[:, 2 : 2 + length]  # a strided view, as the decoder passes it
    expected = [binascii.crc_hqx(r.tobytes(), 0xFFFF) for r in rows]
    assert crc16_rows(rows).tolist() == expected


@pytest.mark.parametrize("chunk", [29, 1000, 4096, 65536])
def test_large_chunks_decode_exactly_like_byte_by_byte(chunk):
    """The back-to-back run path and the general path must agree with a sequential receiver."""
    seq, _, _, counts, data = make_stream(5000, seed=3)
    frame = sample_frame_bytes(4)
    info = encode_info({"proto": 1, "channels": 4})
    stream = bytearray(info + data)
    for i in (10, 11, 2500, 4999):  # corrupted frames inside long runs and at the very end
        stream[len(stream) - (5000 - i) * frame + 9] ^= 0x40
    stream[frame * 3000 : frame * 3000] = encode_log("mid-run") + b"\x00\xa5junk"
    stream = bytes(stream) + encode_log("end")
    slow = FrameDecoder()
    block_slow, _, logs_slow = decode_all(slow, [stream[i : i + 1] for i in range(len(stream))])
    fast = FrameDecoder()
    pieces = [stream[i : i + chunk] for i in range(0, len(stream), chunk)]
    block_fast, infos, logs_fast = decode_all(fast, pieces)
    assert np.array_equal(block_fast.seq, block_slow.seq)
    assert np.array_equal(block_fast.counts, block_slow.counts)
    assert np.array_equal(block_fast.t_us, block_slow.t_us)
    assert logs_fast == logs_slow == ["mid-run", "end"]
    assert infos[0]["channels"] == "4"
    assert fast.stats == slow.stats
    split = (frame * 3000 - len(info)) // frame  # the frame the LOG was pushed into
    assert set(seq) - set(block_fast.seq.tolist()) == {10, 11, 2500, split, 4999}
    assert fast.stats.crc_errors >= 5  # plus any SYNC pair inside the broken frames' data
    assert fast.stats.dropped == 4


def test_encoder_matches_field_by_field_reference():
    seq, t_us, stale, counts, data = make_stream(5, seq0=65534, t0_us=(1 << 32) - 20000)
    expected = b"".join(
        reference_frame(int(s) & 0xFFFF, int(t) & 0xFFFFFFFF, int(f), [int(c) for c in row])
        for s, t, f, row in zip(seq, t_us, stale, counts, strict=True)
    )
    assert data == expected
    assert len(data) == 5 * sample_frame_bytes(4) == 5 * 29


def test_whole_stream_round_trip_with_info_and_log():
    seq, t_us, stale, counts, data = make_stream(1000)
    stream = encode_info({"proto": 1, "channels": 4, "plate_id": "p1"}) + data + encode_log("hi")
    block, infos, logs = decode_all(FrameDecoder(), [stream])
    assert np.array_equal(block.counts, counts)
    assert np.array_equal(block.seq, seq)
    assert np.array_equal(block.t_us, t_us)
    assert np.array_equal(block.stale, stale)
    assert infos == [{"proto": "1", "channels": "4", "plate_id": "p1"}]
    assert logs == ["hi"]


def test_frames_split_at_every_offset():
    seq, t_us, stale, counts, data = make_stream(6)
    frame = sample_frame_bytes(4)
    for cut in range(1, 2 * frame + 3):
        dec = FrameDecoder()
        block, _, _ = decode_all(dec, [data[:cut], data[cut:]])
        assert np.array_equal(block.counts, counts), cut
        assert dec.stats.crc_errors == 0
        assert dec.stats.skipped_bytes == 0


def test_byte_by_byte_feeding():
    _, _, _, counts, data = make_stream(20)
    block, _, _ = decode_all(FrameDecoder(), [data[i : i + 1] for i in range(len(data))])
    assert np.array_equal(block.counts, counts)


def test_garbage_between_frames_is_skipped_and_counted():
    _, _, _, counts, data = make_stream(10)
    frame = sample_frame_bytes(4)
    garbage = b"\x00\xa5\x13\xff\xa5"
    stream = b"".join(data[i * frame : (i + 1) * frame] + garbage for i in range(10))
    dec = FrameDecoder()
    block, _, _ = decode_all(dec, [stream])
    assert np.array_equal(block.counts, counts)
    # The final 0xA5 might still be the start of a frame: it waits for the next byte.
    assert dec.stats.skipped_bytes == 10 * len(garbage) - 1
    decode_all(dec, [encode_log("next")])
    assert dec.stats.skipped_bytes == 10 * len(garbage)


def test_corrupted_frame_costs_that_frame_only():
    seq, _, _, counts, data = make_stream(10)
    frame = sample_frame_bytes(4)
    bad = bytearray(data)
    bad[4 * frame + 15] ^= 0x40  # a flipped bit in frame 4's counts
    dec = FrameDecoder()
    block, _, _ = decode_all(dec, [bytes(bad)])
    keep = np.arange(10) != 4
    assert np.array_equal(block.counts, counts[keep])
    assert dec.stats.crc_errors == 1
    assert dec.stats.dropped == 1  # seq gap where frame 4 was


def test_truncated_frame_costs_that_frame_only():
    _, _, _, counts, data = make_stream(10)
    frame = sample_frame_bytes(4)
    stream = data[: 3 * frame + 11] + data[4 * frame :]  # frame 3 cut short
    dec = FrameDecoder()
    block, _, _ = decode_all(dec, [stream[:50], stream[50:]])
    assert np.array_equal(block.counts, counts[np.arange(10) != 3])
    assert dec.stats.dropped == 1


def test_wrong_protocol_type_and_impossible_len_are_rejected():
    _, _, _, counts, data = make_stream(3)
    # A CRC-valid frame of an unknown type and a SAMPLE frame whose LEN is not 7 + 4n.
    unknown = encode_frame(0x7E, b"\x01\x02\x03")
    body = bytes([1, 10]) + bytes(10)
    impossible = b"\xa5\x5a" + body + crc16(body).to_bytes(2, "little")
    dec = FrameDecoder()
    block, _, _ = decode_all(dec, [unknown + data[:29] + impossible + data[29:]])
    assert np.array_equal(block.counts, counts)
    assert dec.stats.bad_len == 1
    assert dec.stats.skipped_bytes == len(unknown) + len(impossible)


def test_sync_bytes_inside_counts_do_not_confuse_the_decoder():
    counts = np.full((50, 4), 0x5AA55AA5, dtype=np.int64)
    counts[:, 1] = 0x00A55A02  # "A5 5A" then a TYPE byte of INFO inside a count
    data = encode_samples(np.arange(50), np.arange(50) * 1000, np.zeros(50), counts)
    for cut in (7, 13, 29 * 7 + 12):
        block, _, _ = decode_all(FrameDecoder(), [data[:cut], data[cut:]])
        assert np.array_equal(block.counts, counts)


def test_seq_and_time_wrap_unwrap_monotonically():
    seq, t_us, _, counts, data = make_stream(300, seq0=65400, t0_us=(1 << 32) - 1_000_000)
    dec = FrameDecoder()
    block, _, _ = decode_all(dec, [data[i : i + 1000] for i in range(0, len(data), 1000)])
    assert np.all(np.diff(block.seq) == 1)
    assert block.seq[-1] == 65400 + 299
    assert np.all(np.diff(block.t_us) == 12500)
    assert block.t_us[-1] > 1 << 32
    assert dec.stats.dropped == 0


def test_seq_gaps_count_dropped_samples():
    seq = np.array([0, 1, 2, 5, 6, 10])
    data = encode_samples(seq, seq * 1000, np.zeros(6), np.zeros((6, 4)))
    dec = FrameDecoder()
    block, _, _ = decode_all(dec, [data[:70], data[70:]])
    assert list(block.seq) == list(seq)
    assert dec.stats.dropped == 2 + 3


def test_eight_channels():
    seq, t_us, stale, counts, data = make_stream(100, channels=8)
    block, _, _ = decode_all(FrameDecoder(), [data])
    assert block.counts.shape == (100, 8)
    assert np.array_equal(block.counts, counts)


def test_saturated_counts_pass_through():
    counts = np.array([[0x7FFFFF, -0x800000, -1, 0]] * 3)
    data = encode_samples(np.arange(3), np.arange(3), np.zeros(3), counts)
    block, _, _ = decode_all(FrameDecoder(), [data])
    assert np.array_equal(block.counts, counts)


def test_plain_text_fallback():
    lines = "".join(f"{1000 + i * 12},{i},{-i},{2 * i},{3 * i}\r\n" for i in range(40))
    dec = FrameDecoder()
    block, _, _ = decode_all(dec, [lines[:100].encode(), lines[100:].encode(), b"1,2,3,4\n"])
    assert dec.text_mode
    assert dec.fallback_message
    assert "plain-text" in dec.fallback_message
    assert len(block) == 41
    assert list(block.counts[5]) == [5, -5, 10, 15]
    assert block.t_us[5] == (1000 + 60) * 1000
    assert block.t_us[-1] == -1  # a line without t_ms has no device time
    assert list(block.counts[-1]) == [1, 2, 3, 4]


def test_tab_separated_text_and_junk_lines():
    text = "HX711 demo\n" + "".join(f"{i}\t{i}\t{i}\t{i}\n" for i in range(80)) + "tare done\n"
    dec = FrameDecoder()
    block, _, _ = decode_all(dec, [text.encode()])
    assert len(block) == 80
    assert dec.stats.bad_lines == 2


def test_binary_stream_never_falls_back_even_after_leading_garbage():
    _, _, _, counts, data = make_stream(50)
    dec = FrameDecoder()
    block, _, _ = decode_all(dec, [bytes(100), data])
    assert not dec.text_mode
    assert np.array_equal(block.counts, counts)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(min_value=1, max_value=60),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=25),
    corrupt=st.lists(st.tuples(st.integers(0, 2000), st.integers(1, 255)), max_size=8),
    inserts=st.lists(
        st.tuples(st.integers(0, 2000), st.binary(min_size=1, max_size=40)), max_size=5
    ),
    seed=st.integers(0, 10_000),
)
def test_property_every_intact_frame_exactly_once_in_order(n, cuts, corrupt, inserts, seed):
    """Random splits, bit flips and inserted junk: every untouched frame comes out, in order."""
    seq, _, _, counts, data = make_stream(n, seed=seed)
    frame = sample_frame_bytes(4)
    frames = [bytearray(data[i * frame : (i + 1) * frame]) for i in range(n)]
    touched = set()
    for pos, flip in corrupt:
        i = pos % n
        frames[i][(pos // n) % frame] ^= flip
        touched.add(i)
    pieces = [bytes(f) for f in frames]
    junk_before: dict[int, bytes] = {}
    for pos, junk in inserts:
        junk_before[pos % (n + 1)] = junk_before.get(pos % (n + 1), b"") + junk
    stream = b"".join(junk_before.get(i, b"") + pieces[i] for i in range(n)) + junk_before.get(
        n, b""
    )
    stream += encode_log("end")  # flushes any junk that would keep the decoder waiting
    points = sorted({c % (len(stream) + 1) for c in cuts})
    chunks = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    block, _, logs = decode_all(FrameDecoder(), chunks)
    intact = [i for i in range(n) if i not in touched]
    got = block.seq.tolist()
    # Every intact frame appears exactly once and in order. A corrupted frame may still decode
    # if the flips happen to leave a valid frame (not possible with one flip); junk can only
    # produce a frame if it held a CRC-valid frame, which random junk of <= 40 bytes does not.
    got_intact = [s for s in got if s in set(intact)]
    assert got_intact == intact
    assert got == sorted(got)
    assert logs[-1] == "end"


# -- hostile plates (issue 9): what the decoder hands on is always storable ----------------


def test_log_with_nul_and_binary_junk_is_kept_as_escaped_text():
    junk = bytes(range(256))[:255]
    dec = FrameDecoder()
    _, _, logs = decode_all(
        dec, [encode_frame(3, b"cell 2\x00 lost"), encode_frame(3, junk), encode_log("ok é")]
    )
    assert logs[0] == "cell 2\\x00 lost"
    assert "\x00" not in logs[1]
    assert "\x1b" not in logs[1]
    # Every printable ASCII byte survives; every other byte is a visible escape.
    assert "".join(chr(b) for b in range(0x20, 0x7F)) in logs[1]
    assert "\\x00" in logs[1]
    assert "\\xff" not in logs[1]
    assert "\\xfe" in logs[1]
    assert logs[2] == "ok é"


def test_frames_of_another_channel_count_are_counted_not_kept():
    seq, t_us, stale, counts, four = make_stream(30, channels=4)
    eight = encode_samples([100, 101], [0, 1], [0, 0], np.ones((2, 8), int))
    step = sample_frame_bytes(4)
    chunks = [four[: 10 * step], eight, four[10 * step : 20 * step], eight[:37], eight[37:]]
    chunks.append(four[20 * step :])
    dec = FrameDecoder()
    other: dict[int, int] = {}
    blocks = []
    for chunk in chunks:
        out = dec.feed(chunk)
        blocks.append(out.samples)
        for n, k in out.other_channels.items():
            other[n] = other.get(n, 0) + k
    got = SampleBlock.concat([b for b in blocks if len(b)])
    np.testing.assert_array_equal(got.counts, counts)
    assert other == {8: 4}
    assert dec.stats.wrong_channels == 4


def test_a_read_of_only_other_channel_frames_gives_no_samples():
    dec = FrameDecoder()
    dec.feed(make_stream(5)[-1])
    out = dec.feed(encode_samples([9], [9], [0], np.ones((1, 8), int)))
    assert len(out.samples) == 0
    assert out.other_channels == {8: 1}


def test_text_lines_with_huge_integers_are_rejected_lines():
    dec = FrameDecoder()
    good = b"1,2,3,4\n" * 40
    bad = b"99999999999999999999999,1,2,3\n" + b"7" * 5000 + b",1,2,3\n" + b"1,2,3,2147483648\n"
    samples, _, _ = decode_all(dec, [good, bad, b"5,6,7,8\n"])
    assert dec.text_mode
    assert len(samples) == 41
    assert samples.counts[-1].tolist() == [5, 6, 7, 8]
    assert dec.stats.bad_lines >= 3


@pytest.mark.parametrize(
    ("fields", "problems"),
    [
        ({"proto": "1", "channels": "4", "rate_hz": "80"}, 0),
        ({"proto": "2", "channels": "4", "rate_hz": "80"}, 1),
        ({"channels": "0"}, 1),
        ({"channels": "99", "rate_hz": "1e12"}, 2),
        ({"rate_hz": "nan"}, 1),
        ({"rate_hz": "inf"}, 1),
        ({"rate_hz": "abc"}, 1),
        ({"rate_hz": "-80"}, 1),
    ],
)
def test_info_is_validated(fields, problems):
    from daq.frames import check_info

    info = check_info(fields)
    assert len(info.problems) == problems
    for key in ("proto", "channels", "rate_hz"):
        if key in fields and any(key in p for p in info.problems):
            assert getattr(info, key) is None
    if problems == 0:
        assert (info.proto, info.channels, info.rate_hz) == (1, 4, 80.0)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=300), max_size=12), st.integers(0, 2**32 - 1))
def test_property_hostile_bytes_never_raise(chunks, seed):
    """Random bytes, frames of any type and LEN with valid CRCs: no exception, storable text."""
    rng = np.random.default_rng(seed)
    stream = []
    for chunk in chunks:
        kind = int(rng.integers(0, 4))
        if kind == 0:
            stream.append(chunk)
        else:
            stream.append(encode_frame(int(rng.integers(0, 5)), chunk[:255]))
    dec = FrameDecoder()
    for piece in stream:
        out = dec.feed(piece)
        for text in out.logs:
            assert "\x00" not in text
        for info in out.infos:
            assert all("\x00" not in k + v for k, v in info.items())
