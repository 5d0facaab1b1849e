"""Tests of analysis.conditioning: glitches out, down to ~100 Hz, filtered, block-invariant."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.conditioning import CONDITIONED_COLUMNS, Conditioner


def _signal(fs: float, seconds: float = 20.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    t = np.arange(0, seconds, 1 / fs)
    fz = 750 + 40 * np.sin(2 * np.pi * 0.4 * t) + rng.standard_normal(t.size)
    cop = np.column_stack([5 * np.sin(t), -20 + 10 * np.sin(0.5 * t)])
    return t, fz, cop


def _push_all(cond: Conditioner, t, fz, cop, sizes) -> dict[str, np.ndarray]:
    outs, i, k = [], 0, 0
    while i < t.shape[0]:
        n = sizes[k % len(sizes)]
        out = cond.push(t[i : i + n], fz[i : i + n], cop[i : i + n])
        if out is not None:
            outs.append(out)
        i, k = i + n, k + 1
    return {name: np.concatenate([o[name] for o in outs]) for name in CONDITIONED_COLUMNS}


@pytest.mark.parametrize("fs", [10.0, 80.0, 1000.0])
def test_output_does_not_depend_on_how_blocks_split(fs: float) -> None:
    t, fz, cop = _signal(fs)
    whole = _push_all(Conditioner(fs), t, fz, cop, [t.shape[0]])
    split = _push_all(Conditioner(fs), t, fz, cop, [1, 7, 50, 3])
    for name in CONDITIONED_COLUMNS:
        np.testing.assert_array_equal(whole[name], split[name], err_msg=name)


def test_rates_come_down_to_about_100_hz() -> None:
    assert Conditioner(1000.0).fs == pytest.approx(100.0)
    assert Conditioner(80.0).fs == 80.0
    assert Conditioner(10.0).cutoff_hz < 5.0  # kept below Nyquist


def test_a_glitch_does_not_reach_the_filtered_force() -> None:
    t, fz, cop = _signal(80.0, seed=1)
    clean = _push_all(Conditioner(80.0), t, fz, cop, [40])
    spiked = fz.copy()
    spiked[400] = 4000.0  # an HX711 reading all ones on one cell
    glitched = _push_all(Conditioner(80.0), t, spiked, cop, [40])
    assert np.max(np.abs(glitched["fz_lp"] - clean["fz_lp"])) < 5.0
    assert glitched["fz"][400] == 4000.0  # the unfiltered column still shows it
