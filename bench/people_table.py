"""The issue's measures on both person models, per model and per condition.

Two person models play through the real byte path (virtual plate -> PROTOCOL.md bytes ->
decoder -> calibration -> force and CoP -> :func:`analysis.analyser.analyse_series`):

- ``scripts``: :mod:`hardware.scenarios`, the model the analyser was first tuned on;
- ``people``: :mod:`hardware.people`, a two-foot model written apart from it (other velocity
  profiles and tempos, touch-and-go and picked-up bells, lean onsets, an unloading back foot,
  stance changes inside one file).

Each recording is calibrated with cell gains off by the case's gain error (an uncalibrated
plate) and analysed twice: with the true stances told, and with no stance told. Printed per
model and per condition (rate, tempo, set-down length, lean onset, gain error): sets with the
exact rep count, bottoms within 0.25 s, precision / recall per fault (stance told), each
rep's stance right with no stance told, and the left/right asymmetry flag right per file
with both kickstand sides.

Run::

    .venv/bin/python bench/people_table.py               # both models, ~3 min on 2 cores
    .venv/bin/python bench/people_table.py --size test   # the smaller libraries the tests use
    .venv/bin/python bench/people_table.py --model people --gain-error 0.10

``--gain-error`` puts every recording on a plate that far off (0: calibrated), the same
recordings otherwise: the walk gives each gain level to other tempos and bells, so only
this separates what the gain error costs from what the other conditions do.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.analyser import analyse_series  # noqa: E402
from analysis.hinge import HingeAnalyser  # noqa: E402
from analysis.reps import FAULT_NAMES, Rep, Thresholds, lateral_asymmetry  # noqa: E402
from analysis.stance import StanceSetup, StanceTimeline  # noqa: E402
from daq.calibration import Calibration, fz_and_cop  # noqa: E402
from daq.decoder import FrameDecoder  # noqa: E402
from daq.series import PlateSeries  # noqa: E402
from hardware.people import PersonPlan, gain_errors, make_person  # noqa: E402
from hardware.scenarios import make_scenario  # noqa: E402
from hardware.virtual_plate import VirtualPlate  # noqa: E402

MATCH_WINDOW_S = 1.0
BOTTOM_TOLERANCE_S = 0.25
CONDITIONS = ("rate", "tempo", "setdown", "lean", "gain", "profile", "bell", "change")


@dataclass(frozen=True)
class TruthRep:
    """What either model says of one rep."""

    bottom_s: float
    faults: frozenset[str]
    stance: str
    lateral_shift_mm: float
    hold_s: float | None


@dataclass(frozen=True)
class TruthSet:
    """Where a set starts (its reps' bottoms lie between its start and the next set's)."""

    start_s: float
    n_reps: int
    stance: str


@dataclass(frozen=True)
class PeopleCase:
    """One recording of either model and its conditions."""

    model: str
    seed: int
    rate_hz: int
    gain_error: float
    scenario: str = ""
    stance: str | None = None
    load_kg: float = 0.0
    set_down: bool = False
    back_foot_fraction: float = 0.2
    plan: PersonPlan | None = None

    def conditions(self) -> dict[str, str]:
        """Condition levels this case counts under."""
        out = {"rate": f"{self.rate_hz} Hz", "gain": f"+-{100 * self.gain_error:.0f} %"}
        p = self.plan
        if p is None:
            out["bell"] = "none" if not self.load_kg else ("touch" if self.set_down else "held")
            if self.set_down:
                out["setdown"] = "1.4-2.0 s"
            return out
        out["tempo"] = p.tempo
        out["profile"] = p.profile
        out["bell"] = p.bell
        out["change"] = p.change
        out["lean"] = p.lean_onset
        if p.bell in ("touch", "pickup"):
            out["setdown"] = f"{p.set_down_s[0]:.1f}-{p.set_down_s[1]:.1f} s"
        return out

    @property
    def label(self) -> str:
        """Short id."""
        if self.plan is None:
            return f"scripts-{self.scenario}-{self.stance or ''}-{self.rate_hz}Hz-s{self.seed}"
        c = self.conditions()
        return (
            f"people-{'-'.join(s[:5] for s in self.plan.stances)}-{self.rate_hz}Hz-"
            f"{c['tempo']}-{c['bell']}-{c.get('setdown', '')}-{c['lean']}-g{c['gain']}-s{self.seed}"
        )


@dataclass
class Played:
    """A case recorded through the byte path, with its truth."""

    case: PeopleCase
    series: PlateSeries
    reps: list[TruthRep]
    sets: list[TruthSet]
    told: StanceTimeline
    foot: dict[str, float]
    body_mass_kg: float | None


def play(case: PeopleCase) -> Played:
    """Record ``case`` on the virtual plate and calibrate it with the case's gain error."""
    if case.plan is None:
        kw: dict[str, object] = {}
        if case.stance:
            kw["stance"] = case.stance
        sc = make_scenario(
            case.scenario,
            load_kg=case.load_kg,
            set_down=case.set_down,
            back_foot_fraction=case.back_foot_fraction,
            seed=case.seed,
            **kw,
        )
        reps = [TruthRep(r.bottom_s, r.faults, r.stance, r.lateral_shift_mm, None) for r in sc.reps]
        sets = [TruthSet(s.still_s[0], len(s.rep_indices), s.stance) for s in sc.sets]
        geometry = [(s.still_s[0], s.stance, s.heel_y_mm) for s in sc.sets]
        foot = {"foot_length_mm": sc.foot_length_mm, "stance_width_mm": sc.stance_width_mm}
        body = case.load_kg == 0 or case.set_down
        body_mass = None if body else 75.0
    else:
        sc = make_person(case.plan, case.seed)
        reps = [
            TruthRep(r.bottom_s, r.faults, r.stance, r.lateral_shift_mm, r.hold_s) for r in sc.reps
        ]
        sets = [TruthSet(s.start_s, len(s.rep_indices), s.stance) for s in sc.sets]
        geometry = [(s.start_s, s.stance, s.heel_y_mm) for s in sc.sets]
        foot = {"foot_length_mm": sc.foot_length_mm, "stance_width_mm": sc.sets[0].stance_width_mm}
        body_mass = None
    plate = VirtualPlate(sc, rate_hz=case.rate_hz, seed=case.seed)  # type: ignore[arg-type]
    block = FrameDecoder().feed(plate.render()).samples
    err = gain_errors(plate.channels, case.gain_error, case.seed)
    cal = Calibration(
        plate_id="virtual",
        plate=plate.plate,
        offset_counts=plate.truth.offsets_counts,
        gain_n_per_count=(1.0 + err) / plate.truth.gains_counts_per_n,
        calibrated=True,
    )
    force = cal.forces_n(block.counts)
    fz, cop = fz_and_cop(force, plate.plate.cells_mm)
    series = PlateSeries.from_arrays(block.t_us / 1e6, fz, cop, force)
    setups = [
        StanceSetup(stance=st, heel_y_mm=heel, **foot)  # type: ignore[arg-type]
        for _, st, heel in geometry
    ]
    told = StanceTimeline(
        setups[0],
        tuple((t, s) for (t, _, _), s in zip(geometry[1:], setups[1:], strict=True)),
        "told",
    )
    return Played(case, series, reps, sets, told, foot, body_mass)


@dataclass
class Score:
    """Counts of one case (or a pool of cases)."""

    sets: int = 0
    sets_exact: int = 0
    reps_true: int = 0
    matched: int = 0
    bottom_ok: int = 0
    confusion: dict[str, list[int]] = field(
        default_factory=lambda: {f: [0, 0, 0] for f in FAULT_NAMES}
    )
    stance_reps: int = 0
    stance_right: int = 0
    stance_found: int = 0  # of stance_reps, those found (stance_right counts only found ones)
    stance_said_wrong: int = 0
    pairs: int = 0
    pairs_right: int = 0
    hold_errors_s: list[float] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        """Pool ``other`` into this score."""
        for name in (
            "sets",
            "sets_exact",
            "reps_true",
            "matched",
            "bottom_ok",
            "stance_reps",
            "stance_right",
            "stance_found",
            "stance_said_wrong",
            "pairs",
            "pairs_right",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for f in FAULT_NAMES:
            for i in range(3):
                self.confusion[f][i] += other.confusion[f][i]
        self.hold_errors_s += other.hold_errors_s
        self.failed += other.failed

    def precision(self, fault: str) -> float:
        """TP / (TP + FP), 1 when nothing was flagged."""
        tp, fp, _ = self.confusion[fault]
        return tp / (tp + fp) if tp + fp else 1.0

    def recall(self, fault: str) -> float:
        """TP / (TP + FN), 1 when no rep had it."""
        tp, _, fn = self.confusion[fault]
        return tp / (tp + fn) if tp + fn else 1.0


def _match(truth: list[TruthRep], reps: list[Rep]) -> list[tuple[TruthRep, Rep | None]]:
    used: set[int] = set()
    out = []
    for tr in truth:
        best, best_d = None, MATCH_WINDOW_S
        for k, r in enumerate(reps):
            d = abs(r.bottom_s - tr.bottom_s)
            if k not in used and d <= best_d:
                best, best_d = k, d
        if best is not None:
            used.add(best)
        out.append((tr, None if best is None else reps[best]))
    return out


def score(played: Played, told_reps: list[Rep], free_reps: list[Rep]) -> Score:
    """Score the reps found with the stance told and with no stance told."""
    s = Score()
    ok = True
    for i, ts in enumerate(played.sets):
        t1 = played.sets[i + 1].start_s if i + 1 < len(played.sets) else float("inf")
        found = sum(ts.start_s <= r.bottom_s < t1 for r in told_reps)
        s.sets += 1
        s.sets_exact += found == ts.n_reps
        ok &= found == ts.n_reps
    s.reps_true = len(played.reps)
    pairs = _match(played.reps, told_reps)
    for tr, rep in pairs:
        applicable = set(FAULT_NAMES) - ({"lateral_shift"} if tr.stance == "bilateral" else set())
        if rep is None:
            ok = False
            for f in tr.faults:
                s.confusion[f][2] += 1
            continue
        s.matched += 1
        good_time = abs(rep.bottom_s - tr.bottom_s) <= BOTTOM_TOLERANCE_S
        s.bottom_ok += good_time
        ok &= good_time
        found = set(rep.fault_names)
        for f in applicable:
            if f in tr.faults and f in found:
                s.confusion[f][0] += 1
            elif f in found:
                s.confusion[f][1] += 1
            elif f in tr.faults:
                s.confusion[f][2] += 1
        if tr.hold_s is not None and rep.lockout_hold_s is not None:
            s.hold_errors_s.append(rep.lockout_hold_s - tr.hold_s)
    matched_ids = {id(r) for _, r in pairs if r is not None}
    for rep in told_reps:
        if id(rep) not in matched_ids:
            ok = False
            for f in rep.fault_names:
                s.confusion[f][1] += 1
    # No stance told: each scripted rep's stance, read from the rep found at its bottom (a
    # missed rep counts as a wrong stance).
    for tr, rep in _match(played.reps, free_reps):
        s.stance_reps += 1
        s.stance_right += rep is not None and rep.stance == tr.stance
        s.stance_found += rep is not None
    # Asymmetry: a file with both kickstand sides is one left/right pair.
    sides = {tr.stance for tr in played.reps}
    if {"kickstand-left", "kickstand-right"} <= sides:
        th = Thresholds().asymmetry_flag_pct
        truth = lateral_asymmetry(
            [_truth_rep(tr) for tr in played.reps if tr.stance != "bilateral"], th
        )
        found = lateral_asymmetry(told_reps, th)
        s.pairs += 1
        s.pairs_right += truth.flag == found.flag
    if not ok:
        s.failed.append(played.case.label)
    return s


def _truth_rep(tr: TruthRep) -> Rep:
    return Rep(
        index=0,
        start_s=0.0,
        bottom_s=tr.bottom_s,
        lockout_s=0.0,
        end_s=0.0,
        stance=tr.stance,
        zone_at_bottom="midfoot",
        zone_fractions={},
        lateral_shift_mm=tr.lateral_shift_mm,
        lockout_shift_mm=0.0,
        lockout_hold_s=None,
        load_kg=None,
    )


def run(case: PeopleCase) -> tuple[PeopleCase, Score]:
    """Play, analyse twice and score one case."""
    played = play(case)
    told = analyse_series(played.series, played.told, body_mass_kg=played.body_mass_kg)
    free_setup = StanceSetup(foot_length_mm=played.foot["foot_length_mm"])
    analyser = HingeAnalyser(free_setup, body_mass_kg=played.body_mass_kg, stance_told=False)
    free = analyse_series(
        played.series, StanceTimeline(free_setup, (), "default"), analyser=analyser
    )
    return case, score(played, told, free)


# -- libraries ------------------------------------------------------------------------------
SCRIPT_SCENARIOS = (
    ("hinge-bilateral-heels", None),
    ("hinge-bilateral-leanback", None),
    ("hinge-kickstand-left-noshift", None),
    ("hinge-kickstand-right-reversed", None),
    ("hinge-mixed", "bilateral"),
    ("hinge-mixed", "kickstand-left"),
    ("hinge-mixed", "kickstand-right"),
    ("demo", None),
)


def script_cases(size: str) -> list[PeopleCase]:
    """The scripted model over rates, gain errors, loads and back-foot shares."""
    rates, gains = (10, 80, 1000), (0.0, 0.05, 0.10)
    loads = ((0.0, False), (16.0, False), (24.0, True))
    out = []
    seed = 500
    for k, (name, stance) in enumerate(SCRIPT_SCENARIOS):
        for j, rate in enumerate(rates):
            if size == "test" and (k + j) % 3:
                continue
            seed += 1
            load, down = loads[(k + j) % 3]
            out.append(
                PeopleCase(
                    model="scripts",
                    seed=seed,
                    rate_hz=rate,
                    gain_error=gains[(k + 2 * j) % 3],
                    scenario=name,
                    stance=stance,
                    load_kg=load,
                    set_down=down,
                    back_foot_fraction=(0.1, 0.2, 0.3)[(k + 2 * j) % 3],
                )
            )
    return out


def people_cases(size: str) -> list[PeopleCase]:
    """The second model: a walk where every level of every condition meets every rate."""
    tempos = ("fast", "medium", "slow", "uneven")
    bells = (
        ("none", (0.1, 0.7)),
        ("touch", (0.1, 0.3)),
        ("touch", (0.3, 0.5)),
        ("touch", (0.5, 0.7)),
        ("pickup", (0.2, 0.6)),
        ("held", (0.1, 0.7)),
    )
    leans = ("before", "at", "after")
    gains = (0.0, 0.05, 0.10)
    profiles = ("mixed", "minjerk", "asymmetric", "paused", "jerky")
    rates = (10, 80, 1000)
    n = 12 if size == "test" else 36
    out = []
    # Each factor steps with its own period so that no two are confounded.
    for i in range(n):
        bell, sd = bells[i % len(bells)]
        plan = PersonPlan(
            stances=(
                ("bilateral", "kickstand-left", "kickstand-right"),
                ("kickstand-right", "kickstand-left"),
                ("kickstand-left", "kickstand-right"),
                ("bilateral", "kickstand-right", "kickstand-left"),
            )[i % 4],
            n_reps=4 + i % 3,
            profile=profiles[i % len(profiles)],
            tempo=tempos[(i // 3) % 4],
            bell=bell,
            load_kg=(12.0, 16.0, 24.0)[i % 3],
            set_down_s=sd,
            lean_onset=leans[(i // 2 + i // 12) % 3],
            sway_mm=(1.0, 2.5, 4.0, 5.0)[(i // 2) % 4],
            back_share=((0.1, 0.15), (0.15, 0.25), (0.25, 0.3))[(i // 4) % 3],
            back_unload=((0.0, 0.1), (0.2, 0.6))[i % 2],
            change=("replace", "step-off")[(i // 6) % 2],
            fault_rate=0.5,
            asymmetric=bool((i // 2) % 2),
            body_mass_kg=(55.0, 75.0, 95.0, 110.0)[i % 4],
        )
        out.append(
            PeopleCase(
                model="people",
                seed=7000 + i,
                rate_hz=rates[(i + i // 6) % 3],
                gain_error=gains[(i // 3 + i // 9) % 3],
                plan=plan,
            )
        )
    return out


def run_all(cases: list[PeopleCase], jobs: int) -> list[tuple[PeopleCase, Score]]:
    """Every case, in ``jobs`` worker processes when > 1."""
    if jobs <= 1:
        return [run(c) for c in cases]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(jobs) as pool:
        return list(pool.map(run, cases))


def _row(label: str, s: Score) -> str:
    pr = " | ".join(f"{s.precision(f):.2f} / {s.recall(f):.2f}" for f in FAULT_NAMES)
    stance = f"{s.stance_right}/{s.stance_reps}"
    pairs = f"{s.pairs_right}/{s.pairs}" if s.pairs else "-"
    return (
        f"| {label} | {s.sets_exact}/{s.sets} | {s.bottom_ok}/{s.matched} of {s.reps_true} | "
        f"{pr} | {stance} | {pairs} |"
    )


HEADER = (
    "| | exact sets | bottom <= 0.25 s | heel_shift P / R | lateral_shift P / R | "
    "backward_lean P / R | stance right, none told | asymmetry flag right |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|"
)


def format_tables(results: list[tuple[PeopleCase, Score]]) -> str:
    """Per model, then per condition within each model."""
    lines = []
    for model in ("scripts", "people"):
        mine = [(c, s) for c, s in results if c.model == model]
        if not mine:
            continue
        total = Score()
        for _, s in mine:
            total.add(s)
        lines += [f"### model: {model} ({len(mine)} recordings)", "", HEADER]
        lines.append(_row("all", total))
        for cond in CONDITIONS:
            groups: dict[str, Score] = defaultdict(Score)
            for c, s in mine:
                level = c.conditions().get(cond)
                if level is not None:
                    groups[level].add(s)
            for level in sorted(groups):
                lines.append(_row(f"{cond}: {level}", groups[level]))
        if total.hold_errors_s:
            h = np.abs(np.array(total.hold_errors_s))
            lines += [
                "",
                f"hold error |s|: median {np.median(h):.2f}, "
                f"within 0.5 s {np.mean(h <= 0.5):.0%} of {h.size}",
            ]
        if total.stance_found:
            lines += [
                "",
                f"stance with none told, of the reps found: {total.stance_right} of "
                f"{total.stance_found} right (the table's column counts a rep not found as "
                "wrong)",
            ]
        if total.failed:
            lines += ["", "recordings with a count or timing error: " + ", ".join(total.failed)]
        lines.append("")
    return "\n".join(lines)


def lean_floor(cases: list[PeopleCase], threshold_mm: float = 8.0) -> str:
    """What the best position reading could make of the people model's leans.

    The model labels a rep ``backward_lean`` from its scripted top offset (13-30 mm behind
    the standing position; a good top within 3.5 mm), while its CoP also sways (1-5 mm rms,
    slow). An oracle that reads the model's own, error-free CoP (no plate, no detector:
    the true lockout, the true standing stretch) over the analyser's top window (0.5-1.0 s
    after lockout) against the standing stretch before the rep, or against the mean of the
    stretches before and after it, flags a lean beyond ``threshold_mm``. Its precision and
    recall bound what any position-based reading can reach on this model.
    """
    rows: list[tuple[bool, float, float]] = []
    for case in cases:
        if case.plan is None:
            continue
        sc = make_person(case.plan, case.seed)
        for r in sc.reps:
            _, top = sc.cop_mm(np.linspace(r.lockout_s + 0.5, r.lockout_s + 1.0, 50))
            _, pre = sc.cop_mm(np.linspace(r.start_s - 1.5, r.start_s - 0.2, 100))
            _, post = sc.cop_mm(np.linspace(r.relax_s + 0.6, r.hold_end_s, 100))
            lean = "backward_lean" in r.faults
            shift = float(top.mean() - pre.mean())
            both = float(top.mean() - 0.5 * (pre.mean() + post.mean()))
            rows.append((lean, shift, both))
    if not rows:
        return ""
    lines = [f"lean floor (an oracle reading the model's true CoP, {len(rows)} reps):"]
    for label, k in (("top vs the standing before", 1), ("top vs before and after", 2)):
        tp = sum(r[0] and r[k] < -threshold_mm for r in rows)
        fp = sum((not r[0]) and r[k] < -threshold_mm for r in rows)
        fn = sum(r[0] and r[k] >= -threshold_mm for r in rows)
        lines.append(f"  {label}: precision {tp / max(tp + fp, 1):.2f}, recall "
                     f"{tp / max(tp + fn, 1):.2f}")
    return "\n".join(lines)


def asymmetry_floor(cases: list[PeopleCase]) -> str:
    """How often the left/right flag survives the model's own sway at the bottom.

    Per recording with both kickstand sides, the flag from the scripted lateral shifts (the
    table's truth) against the flag from the shifts an oracle reads off the model's true,
    error-free CoP: its ML position over the true bottom's +-0.1 s against the standing
    stretch before the rep, toward the lead leg. Every rep is found and measured at the
    right moment; only the sway differs.
    """
    th = Thresholds().asymmetry_flag_pct
    pairs = agree = 0
    for case in cases:
        if case.plan is None:
            continue
        sc = make_person(case.plan, case.seed)
        if not {"kickstand-left", "kickstand-right"} <= {r.stance for r in sc.reps}:
            continue
        scripted, read = [], []
        for r in sc.reps:
            if r.stance == "bilateral":
                continue
            x_bottom, _ = sc.cop_mm(np.linspace(r.bottom_s - 0.1, r.bottom_s + 0.1, 21))
            x_stand, _ = sc.cop_mm(np.linspace(r.start_s - 1.5, r.start_s - 0.2, 100))
            toward = -1.0 if r.stance == "kickstand-left" else 1.0
            shift = toward * float(x_bottom.mean() - x_stand.mean())
            tr = TruthRep(r.bottom_s, r.faults, r.stance, r.lateral_shift_mm, None)
            scripted.append(_truth_rep(tr))
            read.append(_truth_rep(replace(tr, lateral_shift_mm=shift)))
        pairs += 1
        agree += lateral_asymmetry(scripted, th).flag == lateral_asymmetry(read, th).flag
    if not pairs:
        return ""
    return (f"asymmetry floor (an oracle reading the model's true CoP at the true bottoms): "
            f"{agree} of {pairs} flags as scripted")


def main(argv: list[str] | None = None) -> int:
    """Print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=("test", "full"), default="full")
    parser.add_argument("--model", choices=("both", "scripts", "people"), default="both")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--match",
        action="append",
        default=[],
        metavar="TEXT",
        help="only cases whose label contains TEXT (repeat: all must match), e.g. "
        "--match slow --match 80Hz, for a quick edit-and-measure loop",
    )
    parser.add_argument(
        "--gain-error",
        type=float,
        default=None,
        metavar="FRACTION",
        help="every recording's cells off by up to this (0: a calibrated plate) instead of "
        "the walk's 0/5/10 %%, to measure the gain error apart from the other conditions",
    )
    parser.add_argument(
        "--seed-offset",
        type=int,
        default=0,
        metavar="N",
        help="add N to every recording's seed: the same conditions played by other people "
        "and plates, to check a change on recordings it was not tuned on",
    )
    args = parser.parse_args(argv)
    cases = []
    if args.model in ("both", "scripts"):
        cases += script_cases(args.size)
    if args.model in ("both", "people"):
        cases += people_cases(args.size)
    cases = [c for c in cases if all(m in c.label for m in args.match)]
    if args.gain_error is not None:
        if not 0.0 <= args.gain_error < 0.5:
            parser.error("--gain-error is a fraction from 0 to below 0.5 (0.10 is 10 %)")
        cases = [replace(c, gain_error=args.gain_error) for c in cases]
    if args.seed_offset:
        cases = [replace(c, seed=c.seed + args.seed_offset) for c in cases]
    t0 = time.perf_counter()
    results = run_all(cases, args.jobs)
    print(f"{len(cases)} recordings in {time.perf_counter() - t0:.0f} s\n")
    print(format_tables(results))
    for floor in (lean_floor(cases), asymmetry_floor(cases)):
        if floor:
            print("\n" + floor)
    return 0


if __name__ == "__main__":
    sys.exit(main())
