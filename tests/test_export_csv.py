"""Samples and rep-table CSV: what `midfoot export --csv` writes reads back (by our reader
and, once it is there, by daq.reader), and hostile CSV gives one sentence."""

from __future__ import annotations

import csv
import importlib
import importlib.util
import random
import sys
from pathlib import Path

import numpy as np
import pytest

from analysis.report import analyse_files
from daq.calibration import Calibration
from daq.errors import MidfootError
from daq.events import StanceChanged, with_time
from daq.export_csv import write_reps_csv, write_samples_csv
from daq.reader import read_recording
from daq.recorder import SessionRecorder
from gui.cli import run_command

ROOT = Path(__file__).resolve().parents[1]
if "fault_table" in sys.modules:
    fault_table = sys.modules["fault_table"]
else:
    _spec = importlib.util.spec_from_file_location("fault_table", ROOT / "bench" / "fault_table.py")
    assert _spec is not None
    assert _spec.loader is not None
    fault_table = importlib.util.module_from_spec(_spec)
    sys.modules["fault_table"] = fault_table
    _spec.loader.exec_module(fault_table)


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An 80 Hz kickstand-left session with a stance change recorded half-way."""
    rec = fault_table.record(
        fault_table.Case(scenario="hinge-kickstand-left", rate_hz=80, seed=31, n_reps=3)
    )
    cal = Calibration(
        plate_id="virt",
        plate=rec.plate.plate,
        offset_counts=rec.plate.truth.offsets_counts,
        gain_n_per_count=1.0 / rec.plate.truth.gains_counts_per_n,
        calibrated=True,
    )
    path = tmp_path_factory.mktemp("csv") / "left.h5"
    meta = {
        "stance": "kickstand-left",
        "foot_length_mm": rec.stance.foot_length_mm,
        "heel_y_mm": rec.stance.heel_y_mm,
        "stance_width_mm": rec.stance.stance_width_mm,
        "athlete": "Ann, the tester",
    }
    recorder = SessionRecorder(path, cal, 4, meta)
    recorder.add_text("info", "proto=1;rate_hz=80;plate_id=virt")
    recorder.write(rec.block, 1.7e9)
    recorder.close()
    return path


def test_samples_round_trip(session: Path, tmp_path: Path) -> None:
    series = read_recording(session)
    stance_at = float(series.t_s[len(series) // 2])
    series = type(series)(
        **{
            **{k: getattr(series, k) for k in ("t_s", "fz_n", "cop_mm", "force_n", "valid")},
            "events": (
                with_time(StanceChanged(stance="kickstand-right", foot_length_mm=250.0), stance_at),
            ),
            "meta": series.meta,
        }
    )
    path = write_samples_csv(series, tmp_path / "left.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    header = next(line for line in lines if not line.startswith("#"))
    assert header == "t_s,fz_n,cop_x_mm,cop_y_mm,f0_n,f1_n,f2_n,f3_n"
    assert "# stance: kickstand-left" in lines
    back = read_recording(path)
    assert len(back) == len(series)
    np.testing.assert_allclose(back.t_s, series.t_s, atol=1e-6)
    np.testing.assert_allclose(back.fz_n, series.fz_n, atol=1e-3)
    ok = series.valid
    np.testing.assert_allclose(back.force_n[ok], series.force_n[ok], atol=1e-3)
    same_nan = np.isnan(back.cop_mm) == np.isnan(series.cop_mm)
    assert same_nan.all()
    finite = np.isfinite(series.cop_mm)
    np.testing.assert_allclose(back.cop_mm[finite], series.cop_mm[finite], atol=0.006)
    np.testing.assert_array_equal(back.valid, series.valid)
    assert back.meta.stance == "kickstand-left"
    assert back.meta.athlete == "Ann, the tester"
    assert back.meta.foot["foot_length_mm"] == series.meta.foot["foot_length_mm"]
    assert back.meta.nominal_rate_hz == 80.0
    np.testing.assert_array_equal(back.meta.plate.cells_mm, series.meta.plate.cells_mm)
    (event,) = back.events
    assert isinstance(event, StanceChanged)
    assert event.stance == "kickstand-right"
    assert event.foot_length_mm == 250.0
    assert event.t_s == pytest.approx(stance_at, abs=1e-6)


def test_the_one_reader_accepts_the_export_when_it_is_there(session: Path, tmp_path: Path) -> None:
    """daq.reader (the lead's reader) reads this header; before it lands, ours stands in."""
    path = tmp_path / "left.csv"
    assert run_command("export", [str(session), "--csv", str(path)]) == 0
    series = read_recording(session)
    readers = [read_recording]
    if importlib.util.find_spec("daq.reader") is not None:
        readers.append(importlib.import_module("daq.reader").read_recording)
    for reader in readers:
        back = reader(path)
        assert len(back) == len(series)
        finite = np.isfinite(series.cop_mm) & np.isfinite(back.cop_mm)
        assert finite.sum() > 0.8 * len(series)
        np.testing.assert_allclose(back.cop_mm[finite], series.cop_mm[finite], atol=0.01)


def test_rep_table_has_every_rep_of_analyse(session: Path, tmp_path: Path) -> None:
    out = tmp_path / "left.csv"
    assert run_command("export", [str(session), "--csv", str(out), "--reps"]) == 0
    table = tmp_path / "left_reps.csv"
    with open(table, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    reps = analyse_files([session]).to_dict()["reps"]
    assert len(rows) == len(reps) == 3
    for row, rep in zip(rows, reps, strict=True):
        assert float(row["start_s"]) == pytest.approx(rep["start_s"])
        assert float(row["lockout_s"]) == pytest.approx(rep["lockout_s"])
        assert row["faults"] == ";".join(rep["faults"])
        assert float(row["zone_fractions.heel"]) == pytest.approx(rep["zone_fractions"]["heel"])
        assert row["stance"] == "kickstand-left"


def test_rep_table_flattens_nested_values(tmp_path: Path) -> None:
    rows = [
        {
            "index": 0,
            "faults": ["heel_shift", "backward_lean"],
            "zones": {"heel": 0.25},
            "fault_details": [{"name": "heel_shift", "cue": "weight to mid-foot"}],
            "hold_s": None,
        },
        {"index": 1, "faults": [], "zones": {"heel": 0.5}, "fault_details": [], "hold_s": 1.5},
    ]
    path = write_reps_csv(rows, tmp_path / "reps.csv")
    with open(path, newline="", encoding="utf-8") as f:
        back = list(csv.DictReader(f))
    assert back[0]["faults"] == "heel_shift;backward_lean"
    assert back[0]["zones.heel"] == "0.25"
    assert back[0]["fault_details.cue"] == "weight to mid-foot"
    assert back[0]["hold_s"] == ""
    assert back[1]["hold_s"] == "1.5"


def _hostile(good: Path, tmp_path: Path) -> dict[str, Path]:
    text = good.read_text(encoding="utf-8")
    lines = text.splitlines()
    head = [ln for ln in lines if ln.startswith("#")]
    cols = next(ln for ln in lines if not ln.startswith("#"))
    body = [ln for ln in lines if not ln.startswith("#")][1:]
    rng = random.Random(7)
    cases: dict[str, bytes | str] = {
        "empty": "",
        "only-comments": "\n".join(head) + "\n",
        "header-no-rows": "\n".join(head + [cols]) + "\n",
        "one-row": "\n".join(head + [cols, body[0]]) + "\n",
        "binary": bytes(rng.randrange(256) for _ in range(4000)),
        "nul-in-body": "\n".join(head + [cols] + body[:10]) + "\n\x00\x00\n",
        "wrong-header": "\n".join(head + ["time,force,x,y"] + body[:50]) + "\n",
        "unknown-cells": "\n".join(head + [cols + ",f9_n"] + body[:50]) + "\n",
        "ragged": "\n".join(head + [cols] + body[:50] + ["1.0,2.0"] + body[50:60]) + "\n",
        "words": "\n".join(head + [cols] + body[:50] + ["a,b,c,d,e,f,g,h"]) + "\n",
        "nan-time": "\n".join(head + [cols] + body[:5] + ["nan" + body[5][body[5].index(",") :]])
        + "\n",
        "time-goes-back": "\n".join(head + [cols] + body[:50] + body[:10]) + "\n",
        "huge-force": "\n".join(head + [cols] + body[:20] + ["99.0,1e12,0,0,1,1,1,1"]) + "\n",
        "bad-number-meta": "\n".join(["# body_mass_kg: heavy"] + head + [cols] + body[:50]) + "\n",
        "bad-stance": "\n".join(["# stance: sideways"] + [cols] + body[:50]) + "\n",
        "bad-cells": "\n".join(["# cells_mm: 1 2 | 3"] + [cols] + body[:50]) + "\n",
        "endless-comments": "# x: y\n" * 20_000 + cols + "\n" + "\n".join(body[:5]),
        "latin1": ("# athlete: J\xf6rg\n" + cols + "\n" + "\n".join(body[:5])).encode("latin-1"),
    }
    paths = {}
    for name, blob in cases.items():
        p = tmp_path / f"{name}.csv"
        if isinstance(blob, str):
            p.write_text(blob, encoding="utf-8")
        else:
            p.write_bytes(blob)
        paths[name] = p
    for k in range(12):
        # Random cuts and byte changes anywhere in a good file.
        blob = bytearray(text.encode())
        for _ in range(rng.choice((1, 5, 30))):
            i = rng.randrange(len(blob))
            blob[i] = rng.choice(b"0123456789.,-en\n#\x00\xff ")
        p = tmp_path / f"mutated-{k}.csv"
        p.write_bytes(bytes(blob[: rng.randrange(len(blob) // 2, len(blob))]))
        paths[f"mutated-{k}"] = p
    paths["missing"] = tmp_path / "no-such-file.csv"
    return paths


def test_hostile_csv_gives_one_sentence(session: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    assert run_command("export", [str(session), "--csv", str(good)]) == 0
    must_fail = {
        "empty",
        "only-comments",
        "header-no-rows",
        "one-row",
        "binary",
        "nul-in-body",
        "wrong-header",
        "unknown-cells",
        "ragged",
        "words",
        "nan-time",
        "time-goes-back",
        "huge-force",
        "bad-number-meta",
        "bad-stance",
        "endless-comments",
        "latin1",
        "missing",
    }
    for name, path in _hostile(good, tmp_path).items():
        try:
            series = read_recording(path)
        except MidfootError as exc:
            message = str(exc)
            assert "\n" not in message, name
            assert path.name in message, name
            continue
        assert name not in must_fail, name
        # What reads is a consistent series.
        assert len(series) >= 2
        assert np.all(np.diff(series.t_s) > 0)
        assert series.cop_mm.shape == (len(series), 2)
