"""`midfoot simulate`: the virtual plate on a real pseudo-terminal, for any serial program."""

from __future__ import annotations

import argparse

from gui.cli import CommandParser, UsageError
from hardware.protocol_sim import SimSettings
from hardware.pty_plate import serve_on_pty
from hardware.scenarios import SCENARIO_NAMES
from hardware.virtual_plate import RATES_HZ


def _parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="midfoot simulate",
        description="Run the virtual plate on a pseudo-terminal and print its path.",
    )
    parser.add_argument(
        "scenario",
        nargs="?",
        default="demo",
        help=f"what happens on the plate (default demo): {', '.join(SCENARIO_NAMES)}",
    )
    parser.add_argument("--rate", type=int, default=80, help="10, 80 or 1000 samples/s")
    parser.add_argument("--channels", type=int, default=4, help="4, or 8 for two plates")
    parser.add_argument("--seed", type=int, default=0, help="scenario and plate seed")
    parser.add_argument("--speed", type=float, default=1.0, help="device s per wall s")
    parser.add_argument("--mass", type=float, default=None, help="body mass in kg")
    parser.add_argument("--load", type=float, default=0.0, help="kettlebell in kg")
    parser.add_argument("--set-down", action="store_true", help="bell to the floor each rep")
    parser.add_argument("--reps", type=int, default=None, help="reps per set")
    parser.add_argument("--t0-us", type=int, default=0, help="device micros() at start-up")
    parser.add_argument("--no-loop", action="store_true", help="play the scenario once")
    parser.add_argument("--link", default=None, help="also make this symlink to the pty")
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long")
    return parser


def _settings(args: argparse.Namespace) -> SimSettings:
    if args.scenario not in SCENARIO_NAMES:
        raise UsageError(
            f"there is no scenario {args.scenario!r}: use one of {', '.join(SCENARIO_NAMES)}"
        )
    if args.rate not in RATES_HZ:
        raise UsageError(f"--rate {args.rate} is not valid: use 10, 80 or 1000")
    if args.channels not in (4, 8):
        raise UsageError(f"--channels {args.channels} is not valid: use 4 or 8")
    if not 0.01 <= args.speed <= 1000.0:
        raise UsageError(f"--speed {args.speed} is not valid: use 0.01 to 1000")
    if args.seconds is not None and args.seconds <= 0:
        raise UsageError("--seconds must be positive")
    if not 0 <= args.t0_us < 2**32:
        raise UsageError("--t0-us must be between 0 and 4294967295")
    return SimSettings(
        scenario=args.scenario,
        rate_hz=args.rate,
        channels=args.channels,
        seed=args.seed,
        speed=args.speed,
        mass_kg=args.mass,
        load_kg=args.load,
        set_down=args.set_down,
        n_reps=args.reps,
        back_foot_fraction=0.2,
        loop=not args.no_loop,
        t0_us=args.t0_us,
        glitch_rate=1e-4,
        plate=None,
        unplug_s=None,
    )


def run(argv: list[str]) -> int:
    """Stream the virtual plate on a pseudo-terminal (``midfoot simulate``).

    ``midfoot simulate [SCENARIO] [--rate HZ] [--channels N] [--seed S] [--speed X]
    [--link PATH] [--seconds S]``.

    Prints the terminal's path on stdout, then streams until Ctrl-C, SIGTERM or
    ``--seconds``.
    """
    args = _parser().parse_args(argv)
    return serve_on_pty(_settings(args), link=args.link, seconds=args.seconds)
