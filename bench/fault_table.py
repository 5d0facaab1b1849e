"""The labelled hinge library: virtual-plate scenarios through the real byte path, scored.

Every case is a scenario of :mod:`hardware.scenarios` played by the virtual plate
(:class:`hardware.virtual_plate.VirtualPlate`) as PROTOCOL.md bytes, decoded by
:class:`daq.decoder.FrameDecoder`, calibrated with the plate's true gains and offsets,
reduced to total force and CoP by :func:`daq.calibration.fz_and_cop`, and analysed by
:func:`analysis.analyser.analyse_series`. Estimated reps are matched to the scripted ones by
their bottom times and scored: rep count per set, bottom-time error, and precision and
recall of each fault.

Run it for the full sweep (several minutes)::

    .venv/bin/python bench/fault_table.py            # full library
    .venv/bin/python bench/fault_table.py --size test  # the library the tests use

tests/test_analysis_library.py imports this file and asserts the same table on the smaller
library.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.analyser import analyse_series  # noqa: E402
from analysis.events import RepCompleted  # noqa: E402
from analysis.hinge import HingeAnalyser  # noqa: E402
from analysis.reps import FAULT_NAMES, Rep  # noqa: E402
from analysis.stance import StanceSetup  # noqa: E402
from daq.calibration import Calibration, fz_and_cop  # noqa: E402
from daq.decoder import FrameDecoder  # noqa: E402
from daq.series import PlateSeries  # noqa: E402
from hardware.scenarios import make_scenario  # noqa: E402
from hardware.virtual_plate import VirtualPlate  # noqa: E402

# A rep is matched to the scripted rep whose bottom is nearest, if within this.
MATCH_WINDOW_S = 1.0
# The test library walks every scenario at every rate once; the wide one three times.
ROUNDS = {"test": 1, "wide": 3}
BOTTOM_TOLERANCE_S = 0.25
LIVE_LIMIT_S = 0.3


@dataclass(frozen=True)
class Case:
    """One recording of the library.

    Attributes
    ----------
    scenario : str
        Scenario name.
    rate_hz : int
        Plate rate (10, 80, 1000).
    body_mass_kg, back_foot_fraction, load_kg : float
        The person, the back foot's share in a kickstand stance, the kettlebell.
    set_down : bool
        The bell goes to the floor at each bottom.
    seed : int
        Scenario and plate seed.
    noise_counts : float or None
        Plate noise per conversion (None = the virtual plate's default).
    glitch_rate : float
        Probability of an all-ones reading per conversion.
    sway_scale : float
        Multiplier of the default postural sway.
    stance : str or None
        Stance of ``hinge-mixed``.
    n_reps : int
        Reps per set.
    """

    scenario: str
    rate_hz: int = 80
    body_mass_kg: float = 75.0
    back_foot_fraction: float = 0.2
    load_kg: float = 0.0
    set_down: bool = False
    seed: int = 0
    noise_counts: float | None = None
    glitch_rate: float = 1e-4
    sway_scale: float = 1.0
    stance: str | None = None
    n_reps: int = 5

    @property
    def label(self) -> str:
        """Short description for tables and test ids."""
        parts = [self.scenario]
        if self.stance:
            parts.append(self.stance)
        parts += [f"{self.rate_hz}Hz", f"{self.body_mass_kg:.0f}kg"]
        if "kickstand" in self.scenario or (self.stance or "").startswith("kickstand"):
            parts.append(f"b{self.back_foot_fraction:.2f}")
        if self.load_kg:
            parts.append(f"+{self.load_kg:.0f}kg" + ("-setdown" if self.set_down else ""))
        if self.noise_counts is not None:
            parts.append(f"noise{self.noise_counts:.0f}")
        if self.glitch_rate > 1e-4:
            parts.append(f"glitch{self.glitch_rate:g}")
        if self.sway_scale != 1.0:
            parts.append(f"sway{self.sway_scale:g}")
        parts.append(f"s{self.seed}")
        return "-".join(parts)


@dataclass
class Recording:
    """A decoded, calibrated recording of one case and its truth."""

    case: Case
    t_s: np.ndarray
    fz_n: np.ndarray
    cop_mm: np.ndarray
    stance: StanceSetup
    scenario: object
    body_mass_kg: float | None
    force_n: np.ndarray | None = None
    plate: VirtualPlate | None = None
    block: object = None

    @property
    def series(self) -> PlateSeries:
        """The recording as the one series type."""
        return PlateSeries.from_arrays(self.t_s, self.fz_n, self.cop_mm, self.force_n)


def record(case: Case) -> Recording:
    """Play ``case`` through the virtual plate's bytes and the real decoder and calibration."""
    kw: dict[str, object] = {}
    if case.scenario == "hinge-mixed" and case.stance:
        kw["stance"] = case.stance
    if case.sway_scale != 1.0:
        kw["sway_ml_mm"] = 2.5 * case.sway_scale
        kw["sway_ap_mm"] = 3.5 * case.sway_scale
    sc = make_scenario(
        case.scenario,
        body_mass_kg=case.body_mass_kg,
        load_kg=case.load_kg,
        set_down=case.set_down,
        back_foot_fraction=case.back_foot_fraction,
        n_reps=case.n_reps,
        seed=case.seed,
        **kw,
    )
    plate = VirtualPlate(
        sc,
        rate_hz=case.rate_hz,
        seed=case.seed,
        noise_counts=case.noise_counts,
        glitch_rate=case.glitch_rate,
    )
    decoded = FrameDecoder().feed(plate.render())
    block = decoded.samples
    cal = Calibration(
        plate_id="virtual",
        plate=plate.plate,
        offset_counts=plate.truth.offsets_counts,
        gain_n_per_count=1.0 / plate.truth.gains_counts_per_n,
        calibrated=True,
    )
    force = cal.forces_n(block.counts)
    fz, cop = fz_and_cop(force, plate.plate.cells_mm)
    stance = StanceSetup(
        stance=sc.sets[0].stance if sc.sets else "bilateral",
        foot_length_mm=sc.foot_length_mm,
        heel_y_mm=sc.heel_y_mm,
        stance_width_mm=sc.stance_width_mm,
    )
    # A held bell hides the body mass unless it is set down: then the person gives it.
    body = case.body_mass_kg if case.load_kg and not case.set_down else None
    return Recording(
        case=case,
        t_s=block.t_us / 1e6,
        fz_n=fz,
        cop_mm=cop,
        stance=stance,
        scenario=sc,
        body_mass_kg=body,
        force_n=force,
        plate=plate,
        block=block,
    )


@dataclass
class CaseResult:
    """Estimated reps of one case matched against the truth."""

    case: Case
    reps: list[Rep]
    set_count_errors: list[int]
    bottom_errors_s: list[float]
    # per fault: [tp, fp, fn]
    confusion: dict[str, list[int]] = field(default_factory=dict)
    unmatched_truth: int = 0
    unmatched_found: int = 0
    load_errors_kg: list[float] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Rep counts exact and every bottom within tolerance."""
        return (
            not any(self.set_count_errors)
            and all(abs(e) <= BOTTOM_TOLERANCE_S for e in self.bottom_errors_s)
            and self.unmatched_truth == 0
            and self.unmatched_found == 0
        )


def score_case(rec: Recording, reps: list[Rep]) -> CaseResult:
    """Match ``reps`` to the scenario's scripted reps and count errors."""
    sc = rec.scenario
    truth = list(sc.reps)
    result = CaseResult(case=rec.case, reps=reps, set_count_errors=[], bottom_errors_s=[])
    result.confusion = {f: [0, 0, 0] for f in FAULT_NAMES}
    for i, s in enumerate(sc.sets):
        t0 = s.still_s[0]
        t1 = sc.sets[i + 1].still_s[0] if i + 1 < len(sc.sets) else float("inf")
        found = sum(t0 <= r.bottom_s < t1 for r in reps)
        result.set_count_errors.append(found - len(s.rep_indices))
    used: set[int] = set()
    for tr in truth:
        best, best_d = None, MATCH_WINDOW_S
        for k, r in enumerate(reps):
            d = abs(r.bottom_s - tr.bottom_s)
            if k not in used and d <= best_d:
                best, best_d = k, d
        applicable = (
            set(FAULT_NAMES) if tr.stance != "bilateral" else set(FAULT_NAMES) - {"lateral_shift"}
        )
        if best is None:
            result.unmatched_truth += 1
            for f in tr.faults:
                result.confusion[f][2] += 1
            continue
        used.add(best)
        rep = reps[best]
        result.bottom_errors_s.append(rep.bottom_s - tr.bottom_s)
        found_faults = set(rep.fault_names)
        for f in applicable:
            if f in tr.faults and f in found_faults:
                result.confusion[f][0] += 1
            elif f in found_faults:
                result.confusion[f][1] += 1
            elif f in tr.faults:
                result.confusion[f][2] += 1
        if tr.load_kg and rep.load_kg is not None:
            result.load_errors_kg.append(rep.load_kg - tr.load_kg)
    for k, rep in enumerate(reps):
        if k not in used:
            result.unmatched_found += 1
            for f in rep.fault_names:
                result.confusion[f][1] += 1
    return result


def stream_case(case: Case, block_s: float = 0.05) -> tuple[list[float], bool]:
    """Feed a case live, in blocks of ``block_s`` of data.

    Returns, per RepCompleted, the data time of its block's last sample minus the true
    lockout (s), and whether the reps equal the offline ones exactly.
    """
    rec = record(case)
    an = HingeAnalyser(rec.stance, body_mass_kg=rec.body_mass_kg)
    t = rec.t_s
    series = rec.series
    edges = np.searchsorted(t, np.arange(t[0], t[-1] + block_s, block_s))
    late = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        if b <= a:
            continue
        for event in an.feed(series.slice(a, b)):
            if isinstance(event, RepCompleted):
                true = min(rec.scenario.reps, key=lambda r: abs(r.bottom_s - event.rep.bottom_s))
                late.append(float(t[b - 1] - true.lockout_s))
    an.finish()
    offline = analyse_series(series, rec.stance, body_mass_kg=rec.body_mass_kg)
    return late, an.reps == offline


def run_case(case: Case) -> CaseResult:
    """Record, analyse offline and score one case."""
    rec = record(case)
    reps = analyse_series(rec.series, rec.stance, body_mass_kg=rec.body_mass_kg)
    return score_case(rec, reps)


# -- the libraries ---------------------------------------------------------------------------
FAULT_SCENARIOS = (
    ("hinge-bilateral", None),
    ("hinge-bilateral-heels", None),
    ("hinge-bilateral-leanback", None),
    ("hinge-kickstand-left", None),
    ("hinge-kickstand-right", None),
    ("hinge-kickstand-left-noshift", None),
    ("hinge-kickstand-right-reversed", None),
    ("hinge-mixed", "bilateral"),
    ("hinge-mixed", "kickstand-left"),
    ("hinge-mixed", "kickstand-right"),
)


def library(size: str = "full") -> list[Case]:
    """The cases of the ``"test"`` library (30, fast), the ``"wide"`` one (90, the same walk
    three times with other seeds) or the ``"full"`` sweep.

    Both cover every fault scenario, body masses 50-110 kg, rates 10/80/1000 Hz, back-foot
    shares 10-30 %, bodyweight, held and set-down kettlebells, plate noise, sway and glitch
    spikes; the full sweep takes every combination over more seeds.
    """
    masses = (50.0, 75.0, 110.0)
    rates = (10, 80, 1000)
    backs = (0.1, 0.2, 0.3)
    loads = ((0.0, False), (16.0, False), (24.0, True))
    cases: list[Case] = []
    if size in ROUNDS:
        # A Latin-square walk: every scenario meets every rate, and the other factors
        # rotate, so each level of each factor appears several times.
        combos = itertools.cycle(
            [
                (m, r, b, ld)
                for m, r, b, ld in zip(
                    [50.0, 75.0, 110.0, 62.0, 95.0],
                    [10, 80, 1000, 80, 10],
                    [0.1, 0.3, 0.2, 0.25, 0.15],
                    [(0.0, False), (24.0, True), (16.0, False), (0.0, False), (12.0, True)],
                    strict=True,
                )
            ]
        )
        seed = 100
        for round_ in range(ROUNDS[size]):
            for k, (name, stance) in enumerate(FAULT_SCENARIOS):
                for rate in rates:
                    m, _, b, (load, down) = next(combos)
                    seed += 1
                    cases.append(
                        Case(
                            scenario=name,
                            stance=stance,
                            rate_hz=rate,
                            body_mass_kg=m,
                            back_foot_fraction=b,
                            load_kg=load,
                            set_down=down,
                            seed=seed,
                            noise_counts=400.0 if (k + rate + round_) % 4 == 0 else None,
                            glitch_rate=2e-3 if (k + rate + round_) % 3 == 0 else 1e-4,
                            sway_scale=1.3 if (k + rate + round_) % 5 == 0 else 1.0,
                        )
                    )
        return cases
    seeds = (1, 2)
    for (name, stance), rate, m, b, (load, down), seed in itertools.product(
        FAULT_SCENARIOS, rates, masses, backs, loads, seeds
    ):
        if "kickstand" not in name and stance in (None, "bilateral") and b != 0.2:
            continue  # the back foot plays no part in a bilateral stance
        cases.append(
            Case(
                scenario=name,
                stance=stance,
                rate_hz=rate,
                body_mass_kg=m,
                back_foot_fraction=b,
                load_kg=load,
                set_down=down,
                seed=seed * 1000 + len(cases),
                noise_counts=400.0 if seed == 2 else None,
                glitch_rate=2e-3 if seed == 2 else 1e-4,
            )
        )
    return cases


@dataclass
class Table:
    """Scores over a library."""

    cases: int
    sets: int
    set_count_errors: int
    reps_true: int
    reps_found: int
    bottom_abs_errors_s: np.ndarray
    confusion: dict[str, list[int]]
    load_abs_errors_kg: np.ndarray
    failed_cases: list[str]

    def precision(self, fault: str) -> float:
        """TP / (TP + FP) of ``fault`` (1.0 when nothing was flagged)."""
        tp, fp, _ = self.confusion[fault]
        return tp / (tp + fp) if tp + fp else 1.0

    def recall(self, fault: str) -> float:
        """TP / (TP + FN) of ``fault`` (1.0 when no rep had it)."""
        tp, _, fn = self.confusion[fault]
        return tp / (tp + fn) if tp + fn else 1.0


def tabulate(results: Iterable[CaseResult]) -> Table:
    """Pool case results into one table."""
    results = list(results)
    confusion = {f: [0, 0, 0] for f in FAULT_NAMES}
    for r in results:
        for f in FAULT_NAMES:
            for i in range(3):
                confusion[f][i] += r.confusion[f][i]
    return Table(
        cases=len(results),
        sets=sum(len(r.set_count_errors) for r in results),
        set_count_errors=sum(e != 0 for r in results for e in r.set_count_errors),
        reps_true=sum(len(r.bottom_errors_s) + r.unmatched_truth for r in results),
        reps_found=sum(len(r.reps) for r in results),
        bottom_abs_errors_s=np.abs(np.array([e for r in results for e in r.bottom_errors_s])),
        confusion=confusion,
        load_abs_errors_kg=np.abs(np.array([e for r in results for e in r.load_errors_kg])),
        failed_cases=[r.case.label for r in results if not r.ok],
    )


def format_table(table: Table) -> str:
    """The Markdown table printed by this script and pasted into docs/analysis-methods.md."""
    b = table.bottom_abs_errors_s
    lines = [
        f"cases: {table.cases}, sets: {table.sets}, scripted reps: {table.reps_true}, "
        f"reps found: {table.reps_found}",
        f"sets with a wrong rep count: {table.set_count_errors}",
        "bottom-time error |s|: "
        + (
            f"median {np.median(b):.3f}, 95th pct {np.percentile(b, 95):.3f}, "
            f"max {b.max():.3f} (limit {BOTTOM_TOLERANCE_S})"
            if b.size
            else "no reps"
        ),
    ]
    if table.load_abs_errors_kg.size:
        lk = table.load_abs_errors_kg
        lines.append(f"load error |kg|: median {np.median(lk):.2f}, max {lk.max():.2f}")
    lines += [
        "",
        "| fault | TP | FP | FN | precision | recall |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for f in FAULT_NAMES:
        tp, fp, fn = table.confusion[f]
        lines.append(
            f"| {f} | {tp} | {fp} | {fn} | {table.precision(f):.3f} | {table.recall(f):.3f} |"
        )
    if table.failed_cases:
        lines += ["", "cases with a count or timing error: " + ", ".join(table.failed_cases)]
    return "\n".join(lines)


def run_library(
    cases: list[Case], jobs: int = 1, progress: Callable[[CaseResult], None] | None = None
) -> list[CaseResult]:
    """Run every case, in ``jobs`` worker processes when > 1."""
    if jobs <= 1:
        out = []
        for c in cases:
            r = run_case(c)
            if progress:
                progress(r)
            out.append(r)
        return out
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(jobs) as pool:
        out = []
        for r in pool.map(run_case, cases, chunksize=2):
            if progress:
                progress(r)
            out.append(r)
        return out


def main(argv: list[str] | None = None) -> int:
    """Print the fault table of a library."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=("test", "wide", "full"), default="full")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--verbose", action="store_true", help="print every failing case")
    parser.add_argument(
        "--stream",
        action="store_true",
        help="also feed every case live in 50 ms blocks: RepCompleted delay and identity",
    )
    args = parser.parse_args(argv)
    cases = library(args.size)
    t0 = time.perf_counter()

    def show(r: CaseResult) -> None:
        if args.verbose and not r.ok:
            print(
                f"  {r.case.label}: count {r.set_count_errors} bottom "
                f"{[round(e, 2) for e in r.bottom_errors_s]} unmatched "
                f"{r.unmatched_truth}/{r.unmatched_found}",
                flush=True,
            )

    results = run_library(cases, args.jobs, show)
    print(f"library {args.size!r}: {len(cases)} cases in {time.perf_counter() - t0:.1f} s")
    print(format_table(tabulate(results)))
    if args.stream:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max(args.jobs, 1)) as pool:
            streamed = list(pool.map(stream_case, cases, chunksize=4))
        late = np.array([d for ds, _ in streamed for d in ds])
        same = sum(ok for _, ok in streamed)
        print(
            f"\nlive, 50 ms blocks: RepCompleted {np.median(late):.3f} s (median), "
            f"{np.percentile(late, 99):.3f} s (99th pct), {late.max():.3f} s (max) after the "
            f"true lockout, {np.sum(late > LIVE_LIMIT_S)} of {late.size} later than "
            f"{LIVE_LIMIT_S} s; reps identical to offline in {same} of {len(cases)} cases"
        )
        slow = [
            f"{c.label} ({max(ds):.2f} s)"
            for c, (ds, _) in zip(cases, streamed, strict=True)
            if ds and max(ds) > LIVE_LIMIT_S
        ]
        if slow:
            print("late: " + ", ".join(slow))
    return 0


if __name__ == "__main__":
    sys.exit(main())
