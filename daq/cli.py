"""The `midfoot` command: one dispatcher; each subcommand lives in the package it belongs to.

Subcommand modules are imported only when asked for, so `midfoot ports` never loads Qt or
scipy.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn

from daq.errors import MidfootError


class UsageError(MidfootError):
    """A command-line mistake, said in one line."""


class CommandParser(argparse.ArgumentParser):
    """argparse for a subcommand: a mistake raises :class:`UsageError` (one line, pointing at
    ``--help``) instead of printing the usage block and exiting."""

    def error(self, message: str) -> NoReturn:
        """argparse: raise instead of exit."""
        raise UsageError(f"{message}; see {self.prog} --help")

# name -> (module, function, one-line help). Each function takes argv and returns an exit code.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "live": ("gui.app", "run_live_command", "the live app: stand on the plate, see the hinge"),
    "ports": ("daq.commands", "run_ports_command", "list serial ports that look like plates"),
    "info": ("daq.commands", "run_info_command", "ask a plate for its INFO and measure its rate"),
    "record": ("daq.commands", "run_record_command", "record a session to an HDF5 file"),
    "calibrate": (
        "daq.calibration_wizard",
        "run_calibrate_command",
        "tare and calibrate a plate with a known mass",
    ),
    "simulate": (
        "hardware.pty_plate",
        "run_simulate_command",
        "run the virtual plate on a pseudo-terminal",
    ),
    "analyse": ("analysis.report", "run_analyse_command", "analyse hinge reps in recordings"),
    "sway": ("analysis.sway", "run_sway_command", "balance (sway) metrics of a still stretch"),
}


def usage() -> str:
    """The top-level help text."""
    width = max(len(name) for name in COMMANDS)
    lines = ["usage: midfoot COMMAND [options]   (midfoot COMMAND --help for its options)", ""]
    lines += [f"  {name:<{width}}  {text}" for name, (_, _, text) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; user errors print one line and exit 2, never a traceback."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"midfoot: there is no command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module_name, func_name, _ = COMMANDS[name]
    try:
        func = getattr(importlib.import_module(module_name), func_name)
        return int(func(rest) or 0)
    except MidfootError as exc:
        print(f"midfoot {name}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
