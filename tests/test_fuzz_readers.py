"""Fuzzing every reader: hundreds of generated hostile files, each with a time limit.

Every file is run through the one reader, the hinge analysis, the sway stretch and a
replay:// playback in a worker process (tests/fuzz_worker.py). A file may be refused with
one sentence; a traceback, a message of more than one line, or more than the time limit
(a hang) fails the test. A sample of the same files also goes through the real
`midfoot analyse` and `midfoot sway` commands, which must say one line and exit 2.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from daq.calibration import Calibration
from daq.decoder import FrameDecoder
from daq.events import StanceChanged, event_to_json
from daq.recorder import SessionRecorder
from hardware.scenarios import make_scenario
from hardware.virtual_plate import VirtualPlate

ROOT = Path(__file__).resolve().parents[1]
TIME_LIMIT_S = 10.0
MAX_MESSAGE_CHARS = 400


# -- the files ------------------------------------------------------------------------------
def _session(path: Path, seconds: float = 12.0, rate_hz: int = 80, seed: int = 3) -> Path:
    sc = make_scenario("hinge-bilateral", n_reps=2, seed=seed)
    plate = VirtualPlate(sc, rate_hz=rate_hz, seed=seed)
    block = FrameDecoder().feed(plate.render(seconds)).samples
    cal = Calibration(
        "virt", plate.plate, plate.truth.offsets_counts, 1 / plate.truth.gains_counts_per_n, True
    )
    with SessionRecorder(path, cal, 4, {"stance": "bilateral", "athlete": "Fuzz"}) as rec:
        rec.add_text("info", "proto=1;channels=4;rate_hz=80;plate_id=virt")
        half = len(block) // 2
        rec.write(type(block)(block.seq[:half], block.t_us[:half], block.stale[:half],
                              block.counts[:half]), 1e9)
        rec.add_event(StanceChanged(stance="kickstand-left"))
        rec.write(type(block)(block.seq[half:], block.t_us[half:], block.stale[half:],
                              block.counts[half:]), 1e9 + 6)
    return path


def _edit(src: Path, dst: Path, change) -> Path:
    dst.write_bytes(src.read_bytes())
    with h5py.File(dst, "a") as f:
        change(f)
    return dst


def _replace(f: h5py.File, name: str, data: np.ndarray) -> None:
    del f[name]
    f[name] = data


def _add_event_text(f: h5py.File, texts: list[str]) -> None:
    g = f["events"]
    n = g["text"].shape[0]
    g["text"].resize(n + len(texts), axis=0)
    g["host_t_s"].resize(n + len(texts), axis=0)
    for k, text in enumerate(texts):
        g["text"][n + k] = text
        g["host_t_s"][n + k] = 1e9


def hdf5_cases(folder: Path, rng: np.random.Generator) -> list[Path]:
    """Damaged, truncated, reshaped and hostile variants of a real session."""
    base = _session(folder / "base.h5")
    data = base.read_bytes()
    out = [base]
    # Truncated at many fractions, and bit flips in the header and anywhere.
    for k, frac in enumerate(np.r_[np.linspace(0.0005, 0.05, 16), np.linspace(0.06, 0.99, 24)]):
        p = folder / f"cut{k:02d}.h5"
        p.write_bytes(data[: max(8, int(len(data) * frac))])
        out.append(p)
    for k in range(90):
        flipped = bytearray(data)
        span = 4096 if k < 30 else len(data)
        for _ in range(int(rng.integers(1, 256 if k % 2 else 4))):
            i = int(rng.integers(8, min(span, len(data))))
            flipped[i] ^= 1 << int(rng.integers(0, 8))
        p = folder / f"flip{k:02d}.h5"
        p.write_bytes(bytes(flipped))
        out.append(p)
    n = h5py.File(base, "r")["samples/seq"].shape[0]
    f32 = np.zeros(n, np.float32)
    edits = {
        "no-samples-group": lambda f: f.__delitem__("samples"),
        "no-counts": lambda f: f["samples"].__delitem__("counts"),
        "renamed-seq": lambda f: f["samples"].move("seq", "sequence"),
        "no-events": lambda f: f.__delitem__("events"),
        "float-counts": lambda f: _replace(f, "samples/counts", np.zeros((n, 4), np.float64)),
        "string-seq": lambda f: _replace(f, "samples/seq", np.array([b"x"] * n)),
        "counts-1d": lambda f: _replace(f, "samples/counts", np.zeros(n, np.int32)),
        "counts-3d": lambda f: _replace(f, "samples/counts", np.zeros((n, 4, 2), np.int32)),
        "counts-0ch": lambda f: _replace(f, "samples/counts", np.zeros((n, 0), np.int32)),
        "counts-9ch": lambda f: _replace(f, "samples/counts", np.zeros((n, 9), np.int32)),
        "counts-1ch": lambda f: _replace(f, "samples/counts", np.zeros((n, 1), np.int32)),
        "short-t": lambda f: _replace(f, "samples/t_us", np.zeros(3, np.uint32)),
        "host-strings": lambda f: _replace(f, "samples/host_t_s", np.array([b"a"] * n)),
        "host-float32": lambda f: _replace(f, "samples/host_t_s", f32),
        "zero-samples": lambda f: [_replace(f, f"samples/{k}", f[f"samples/{k}"][:0])
                                   for k in ("seq", "t_us", "stale", "counts", "host_t_s")],
        "t-all-equal": lambda f: _replace(f, "samples/t_us", np.full(n, 7, np.uint32)),
        "t-random": lambda f: _replace(
            f, "samples/t_us", rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)),
        "seq-random": lambda f: _replace(
            f, "samples/seq", rng.integers(0, 2**16, n).astype(np.uint16)),
        "counts-saturated": lambda f: _replace(
            f, "samples/counts", np.full((n, 4), 0x7FFFFF, np.int32)),
        "format-wrong": lambda f: f.attrs.__setitem__("format", "other"),
        "format-int": lambda f: f.attrs.__setitem__("format", 5),
        "cal-garbage": lambda f: f.attrs.__setitem__("calibration_json", "{not json"),
        "cal-deep": lambda f: f.attrs.__setitem__("calibration_json", "[" * 50_000 + "]" * 50_000),
        "cal-nan": lambda f: f.attrs.__setitem__(
            "calibration_json", f.attrs["calibration_json"].replace("[", "[NaN, ", 1)),
        "cal-huge": lambda f: f.attrs.__setitem__(
            "calibration_json", f.attrs["calibration_json"].replace("1.0", "1e308")),
        "cal-missing": lambda f: f.attrs.__delitem__("calibration_json"),
        "cal-and-plate-missing": lambda f: [f.attrs.__delitem__(k)
                                            for k in ("calibration_json", "plate_json")],
        "stance-garbage": lambda f: f.attrs.__setitem__("stance", "lunge"),
        "body-mass-text": lambda f: f.attrs.__setitem__("body_mass_kg", "heavy"),
        "body-mass-huge": lambda f: f.attrs.__setitem__("body_mass_kg", 1e300),
        "foot-negative": lambda f: f.attrs.__setitem__("foot_length_mm", -5.0),
        "events-hostile": lambda f: _add_event_text(f, [
            "[1,2]", "null", '"text"', "{", "[" * 20_000, '{"kind": 3}',
            '{"kind": "stance", "stance": "kickstand-right", "sample_index": -5}',
            '{"kind": "stance", "stance": "kickstand-right", "sample_index": 1e30}',
            '{"kind": "calibration", "sample_index": 10, "calibration": {"plate": 1}}',
            '{"kind": "reconnect", "sample_index": 3}',
            '{"kind": "reconnect", "sample_index": 3}',
            event_to_json(StanceChanged(stance="bilateral"), 10**9),
        ]),
        "events-many-reconnects": lambda f: _add_event_text(
            f, [f'{{"kind": "reconnect", "sample_index": {i}}}' for i in range(0, n, 7)]),
        "events-wrong-dtype": lambda f: _replace(f, "events/text", np.arange(5)),
        "info-hostile": lambda f: _replace(f, "info/text", np.array([b"rate_hz=1e400;;=;x"])),
    }
    for name, change in edits.items():
        out.append(_edit(base, folder / f"edit-{name}.h5", change))
    # Not HDF5 at all, or HDF5 that is not a session.
    for k in range(20):
        p = folder / f"random{k:02d}.h5"
        p.write_bytes(rng.bytes(int(rng.integers(0, 50_000))))
        out.append(p)
    p = folder / "signature-only.h5"
    p.write_bytes(b"\x89HDF\r\n\x1a\n")
    out.append(p)
    p = folder / "foreign.h5"
    with h5py.File(p, "w") as f:
        f["samples/seq"] = np.arange(5)
    out.append(p)
    # A file killed mid-write (the writer's SWMR flags stay set): must read.
    killed = folder / "killed.h5"
    script = (
        "import sys, time\nfrom daq.acquisition import Acquisition\n"
        "a = Acquisition('sim://demo?rate=1000&seed=2&speed=4')\n"
        "a.start_recording(sys.argv[1]); a.start()\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(killed)], cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not killed.exists() or killed.stat().st_size < 60_000):
        time.sleep(0.1)
    proc.kill()
    proc.wait()
    out.append(killed)
    data = killed.read_bytes()
    for k, frac in enumerate((0.2, 0.6, 0.95)):
        p = folder / f"killed-cut{k}.h5"
        p.write_bytes(data[: int(len(data) * frac)])
        out.append(p)
    for k in range(8):
        flipped = bytearray(data)
        for _ in range(int(rng.integers(1, 64))):
            i = int(rng.integers(8, len(data)))
            flipped[i] ^= 1 << int(rng.integers(0, 8))
        p = folder / f"killed-flip{k}.h5"
        p.write_bytes(bytes(flipped))
        out.append(p)
    return out


def _csv(folder: Path, name: str, text: str | bytes) -> Path:
    p = folder / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def text_cases(folder: Path, rng: np.random.Generator) -> list[Path]:
    """Hostile CSV and text files in every layout the reader knows."""
    t = np.arange(400) / 80
    good_forces = "t,f0,f1,f2,f3\n" + "".join(f"{x:.4f},180,180,175,175\n" for x in t)
    cop_header = "t,ap_mm,ml_mm,fz_n\n"
    good_cop = cop_header + "".join(f"{x:.4f},1,2,700\n" for x in t)
    out = [_csv(folder, "good-forces.csv", good_forces), _csv(folder, "good-cop.csv", good_cop)]
    values = ["nan", "inf", "-inf", "1e308", "1e309", "", " ", "abc", "0x10", "1,5", "--1",
              "1e-320", "9" * 400]
    for k, v in enumerate(values):
        rows = [f"{x:.4f},{v if i == 200 else 180},180,175,175" for i, x in enumerate(t)]
        out.append(_csv(folder, f"value{k:02d}.csv", "t,f0,f1,f2,f3\n" + "\n".join(rows)))
        rows = [f"{v if i == 100 else f'{x:.4f}'},1,2,700" for i, x in enumerate(t)]
        out.append(_csv(folder, f"time{k:02d}.csv", "t,ap_mm,ml_mm,fz_n\n" + "\n".join(rows)))
    headers = ["", "t", "t,", ",,,", "t;ap_mm;ml_mm;fz_n", "t\tf0\tf1\tf2\tf3", "T,F0,F1,F2,F3",
               "t,f0,f1,f2,f3,f4,f5,f6,f7", "t,t,t", "t,ap_mm", "t_s,fz_n,cop_x_mm,cop_y_mm",
               "Time[s]\tCOPx[cm]\tCOPy[cm]", "x" * 100_000, "\ufefft,ap_mm,ml_mm,fz_n",
               "t,ap_mm,ml_mm,fz_n,extra"]
    for k, h in enumerate(headers):
        sep = "\t" if "\t" in h else (";" if ";" in h else ",")
        cols = max(1, len(h.split(sep)))
        rows = [sep.join([f"{x:.3f}"] + ["1"] * (cols - 1)) for x in t]
        out.append(_csv(folder, f"header{k:02d}.csv", h + "\n" + "\n".join(rows)))
    out += [
        _csv(folder, "empty.csv", ""),
        _csv(folder, "blank-lines.csv", "\n\n\n"),
        _csv(folder, "comments-only.csv", "# a: b\n# c: d\n"),
        _csv(folder, "header-only.csv", "t,ap_mm,ml_mm,fz_n\n"),
        _csv(folder, "all-nan.csv", cop_header + "".join(f"{x},nan,nan,nan\n" for x in t)),
        _csv(folder, "zero-force.csv", "t,f0,f1,f2,f3\n" + "".join(f"{x},0,0,0,0\n" for x in t)),
        _csv(folder, "backwards.csv", cop_header + "".join(f"{-x},1,2,700\n" for x in t)),
        _csv(folder, "times-1e300.csv", "t,ap_mm,ml_mm,fz_n\n" + "".join(
            f"{x * 1e300},1,2,700\n" for x in t)),
        _csv(folder, "huge-values.csv", "t,ap_mm,ml_mm,fz_n\n" + "".join(
            f"{x},1e30,1e30,1e30\n" for x in t)),
        _csv(folder, "ragged.csv", good_cop + "1,2\n3\n"),
        _csv(folder, "crlf.csv", good_cop.replace("\n", "\r\n")),
        _csv(folder, "nul.csv", good_cop[:200] + "\x00" + good_cop[200:]),
        _csv(folder, "binary-junk.csv", rng.bytes(5000)),
        _csv(folder, "latin1.csv", "# athlete: J\xf6rg\n".encode("latin-1") + good_cop.encode()),
        _csv(folder, "meta-hostile.csv", "# stance: lunge\n# body_mass_kg: -1\n" + good_cop),
        _csv(folder, "meta-long.csv", "# " + "k" * 100_000 + ": v\n" + good_cop),
        _csv(folder, "long-line.csv", good_cop + ",".join(["1"] * 200_000) + "\n"),
        _csv(folder, "one-row.csv", "t,ap_mm,ml_mm,fz_n\n0,1,2,700\n"),
        _csv(folder, "sd-trial.txt", "Time[s]\tFx[N]\tFy[N]\tFz[N]\tMx[Nm]\tMy[Nm]\tMz[Nm]\t"
             "COPx[cm]\tCOPy[cm]\n" + "".join(f"{x}\t0\t0\t700\t0\t0\t0\tnan\t1\n" for x in t)),
    ]
    long_rows = "".join(f"{i / 1000:.3f},{i % 7},{i % 5},700\n" for i in range(300_000))
    out.append(_csv(folder, "long-file.csv", "t,ap_mm,ml_mm,fz_n\n" + long_rows))
    for k in range(50):
        lines = good_cop.splitlines()
        for _ in range(int(rng.integers(1, 20))):
            i = int(rng.integers(1, len(lines)))
            j = int(rng.integers(0, max(1, len(lines[i]))))
            lines[i] = lines[i][:j] + chr(int(rng.integers(32, 127))) + lines[i][j + 1 :]
        out.append(_csv(folder, f"mutated{k:02d}.csv", "\n".join(lines)))
    return out


# -- running them -----------------------------------------------------------------------------
class Worker:
    """tests/fuzz_worker.py in a child process, restarted after a hang."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "fuzz_worker.py")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, cwd=ROOT, env=env,
        )

    def run(self, path: Path) -> tuple[dict | None, float]:
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        assert self.proc is not None
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        t0 = time.monotonic()
        self.proc.stdin.write(f"{path}\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], TIME_LIMIT_S)
        if not ready:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
            return None, time.monotonic() - t0
        line = self.proc.stdout.readline()
        return (json.loads(line) if line else {"traceback": "worker died"}), time.monotonic() - t0

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stdin.close()
            self.proc.wait(10)


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    rng = np.random.default_rng(20261202)
    folder = tmp_path_factory.mktemp("fuzz")
    return hdf5_cases(folder, rng) + text_cases(folder, rng)


def test_at_least_300_hostile_files(hostile_files: list[Path]) -> None:
    assert len(hostile_files) >= 300


def test_every_reader_refuses_in_one_sentence_never_crashes_or_hangs(
    hostile_files: list[Path],
) -> None:
    worker = Worker()
    problems, read_ok, refused, slow = [], 0, 0, []
    try:
        for path in hostile_files:
            result, took_s = worker.run(path)
            if result is None:
                problems.append(f"{path.name}: no answer within {TIME_LIMIT_S:g} s (a hang)")
                continue
            if "traceback" in result:
                problems.append(f"{path.name}: {result['traceback'].strip().splitlines()[-1]}")
                continue
            for stage, message in result["errors"]:
                if "\n" in message or len(message) > MAX_MESSAGE_CHARS or not message:
                    problems.append(f"{path.name}: {stage} said {message!r}")
            slow.append((took_s, path.name))
            read_ok += "samples" in result
            refused += any(stage == "read" for stage, _ in result["errors"])
    finally:
        worker.stop()
    print("slowest:", sorted(slow, reverse=True)[:12])
    assert problems == []
    # The suite is only worth something if both kinds of outcome occur.
    assert read_ok >= 30
    assert refused >= 100


def test_good_and_killed_sessions_still_read(hostile_files: list[Path]) -> None:
    worker = Worker()
    try:
        for name in ("base.h5", "killed.h5", "good-forces.csv", "good-cop.csv", "crlf.csv"):
            path = next(p for p in hostile_files if p.name == name)
            result, _ = worker.run(path)
            assert result is not None
            assert "samples" in result, (name, result)
            assert result["samples"] > 100
    finally:
        worker.stop()


@pytest.mark.parametrize("command", ["analyse", "sway"])
def test_commands_say_one_line_and_exit_2(hostile_files: list[Path], command: str) -> None:
    bad = [p for p in hostile_files if p.name.startswith(("cut0", "flip0", "edit-", "random",
                                                          "header", "value0"))][::8]
    assert len(bad) >= 10
    for path in bad:
        done = subprocess.run(
            [sys.executable, "-m", "gui.cli", command, str(path)],
            capture_output=True, text=True, timeout=30, cwd=ROOT,
        )
        assert "Traceback" not in done.stderr, (path.name, done.stderr)
        if done.returncode != 0:
            assert done.returncode == 2, (path.name, done.returncode, done.stderr)
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            assert len(lines) == 1, (path.name, done.stderr)
            assert lines[0].startswith(f"midfoot {command}: ")
