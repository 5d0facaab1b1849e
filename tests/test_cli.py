"""The `midfoot` command line: dispatcher, ports, info, calibrate and record, end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from daq.calibration import calibration_path, load_calibration
from daq.session import load_session
from gui.cli import COMMANDS, main
from hardware.protocol_sim import make_virtual_plate, parse_sim_url


def run_cli(*argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gui.cli", *argv], capture_output=True, text=True, timeout=timeout
    )


def test_help_lists_every_command(capsys: pytest.CaptureFixture):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert name in out


def test_unknown_command_is_one_clear_line(capsys: pytest.CaptureFixture):
    assert main(["frobnicate"]) == 2
    assert "there is no command 'frobnicate'" in capsys.readouterr().err


def test_light_commands_do_not_import_qt_or_scipy():
    code = (
        "import sys; from gui.cli import main; main(['ports']);"
        "heavy = ('PyQt6', 'scipy', 'pyqtgraph');"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_ports_runs_without_a_plate():
    out = run_cli("ports")
    assert out.returncode == 0
    assert out.stdout.strip()


def test_info_against_the_virtual_plate():
    out = run_cli("info", "--port", "sim://quiet-stance?rate=80&seed=3", "--seconds", "1.5")
    assert out.returncode == 0, out.stderr
    assert "plate_id: virt-" in out.stdout
    assert "channels: 4" in out.stdout
    rate = float(out.stdout.split("measured rate: ")[1].split()[0])
    assert 70 < rate < 90


def test_missing_port_is_one_line_without_traceback(tmp_path: Path):
    out = run_cli("record", "--port", str(tmp_path / "ttyUSB9"), "--out", str(tmp_path / "x.h5"))
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1
    assert "there is no serial port" in out.stderr
    assert not (tmp_path / "x.h5").exists()


def test_calibrate_against_the_virtual_calibration_scenario(tmp_path: Path):
    url = "sim://calibration?rate=80&speed=8&seed=5"
    out = subprocess.run(
        [sys.executable, "-m", "gui.cli", "calibrate", "--port", url, "--mass-kg", "20"],
        capture_output=True,
        text=True,
        timeout=180,
        env={**__import__("os").environ},
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Done: CoP error" in out.stdout
    truth = make_virtual_plate(parse_sim_url(url)).truth
    plate_id = make_virtual_plate(parse_sim_url(url)).info()["plate_id"]
    cal, warning = load_calibration(str(plate_id))
    assert warning is None
    assert cal.calibrated
    assert cal.gain_n_per_count == pytest.approx(1.0 / truth.gains_counts_per_n, rel=0.01)
    assert cal.offset_counts == pytest.approx(truth.offsets_counts, abs=50)
    assert cal.residual_cop_mm < 2.0
    assert json.loads(calibration_path(str(plate_id)).read_text())["calibrated"] is True


def test_record_then_replay_gives_the_same_counts(tmp_path: Path):
    first = tmp_path / "first.h5"
    out = run_cli(
        "record",
        "--port",
        "sim://hinge-bilateral?rate=80&speed=4",
        "--out",
        str(first),
        "--seconds",
        "3",
        "--stance",
        "bilateral",
        "--athlete",
        "Cy",
    )
    assert out.returncode == 0, out.stderr
    s1 = load_session(first)
    assert len(s1.seq) > 3 * 80 * 3  # 4x speed: about 12 s of plate time in 3 s
    assert np.all(np.diff(s1.seq) == 1)
    assert s1.attrs["athlete"] == "Cy"
    assert s1.infos
    assert s1.infos[0]["board"] == "virtual"
    second = tmp_path / "second.h5"
    out = run_cli(
        "record", "--port", f"replay://{first}?speed=0", "--out", str(second), "--seconds", "3"
    )
    assert out.returncode == 0, out.stderr
    s2 = load_session(second)
    assert np.array_equal(s2.counts, s1.counts[: len(s2.seq)])
    assert len(s2.seq) == len(s1.seq)


@pytest.mark.parametrize(
    "argv",
    [
        ["record", "--bogus"],
        ["info", "--bogus"],
        ["ports", "--bogus"],
        ["calibrate", "--mass-kg", "heavy"],
        ["live", "--stance", "sideways"],
        ["analyse", "--bogus"],
        ["sway"],
        ["simulate", "--bogus"],
    ],
)
def test_every_command_says_a_bad_argument_in_one_line(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert err.startswith(f"midfoot {argv[0]}: ")
    assert f"see midfoot {argv[0]} --help" in err


def test_a_closed_pipe_ends_a_command_quietly(tmp_path: Path):
    """`midfoot analyse F | head`: the reader goes away; no BrokenPipe traceback, no hang."""
    path = tmp_path / "s.h5"
    out = run_cli("record", "--port", "sim://hinge-bilateral?rate=80&speed=8", "--out", str(path),
                  "--seconds", "2")
    assert out.returncode == 0, out.stderr
    for argv in (["analyse", str(path)], ["analyse", str(path), "--json"], ["--help"]):
        child = subprocess.Popen([sys.executable, "-m", "gui.cli", *argv],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        child.stdout.close()  # like `head` exiting before the command writes
        stderr = child.stderr.read()
        assert child.wait(timeout=60) in (0, 141), stderr
        assert "Traceback" not in stderr
        assert "Exception ignored" not in stderr
