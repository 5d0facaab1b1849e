"""The `midfoot` command: one dispatcher, and the one place errors become exit codes.

Each subcommand is a module of :mod:`gui.commands` with a ``run(argv) -> int``; it parses
its own arguments and calls the functions ``daq/`` and ``analysis/`` expose. Modules are
imported only when asked for, so `midfoot ports` never loads Qt or scipy.

Exit codes: 0 done; 1 the command ran but what it was for failed (a recording that stopped
on a full disk, acquisition that died); 2 a mistake a person can fix (a wrong argument, a
missing port, a damaged file), said in one line; 130 interrupted. Nothing a person can
meet prints a traceback; ``MIDFOOT_DEBUG=1`` shows it for bugs.
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import importlib
import os
import sys
import traceback
import warnings
from typing import NoReturn

from daq.errors import MidfootError


class UsageError(MidfootError):
    """A command-line mistake, said in one line."""


class CommandParser(argparse.ArgumentParser):
    """Argument parser of a subcommand that raises :class:`UsageError` on a mistake.

    The error is one line pointing at ``--help``, instead of argparse's usage block and exit.
    """

    def error(self, message: str) -> NoReturn:
        """Raise instead of exiting (argparse API)."""
        raise UsageError(f"{message}; see {self.prog} --help")


# name -> (module under gui.commands, one-line help). Each module has run(argv) -> int.
COMMANDS: dict[str, tuple[str, str]] = {
    "live": ("live", "the live app: stand on the plate, see the hinge"),
    "ports": ("ports", "list serial ports that look like plates"),
    "info": ("info", "ask a plate for its INFO and measure its rate"),
    "record": ("record", "record a session to an HDF5 file"),
    "calibrate": ("calibrate", "tare and calibrate a plate with a known mass"),
    "simulate": ("simulate", "run the virtual plate on a pseudo-terminal"),
    "analyse": ("analyse", "analyse hinge reps in recordings"),
    "sway": ("sway", "balance (sway) metrics of a still stretch"),
    "export": ("export", "export a recording as C3D or CSV for lab tools"),
    "sessions": ("sessions", "list indexed sessions; `sessions scan DIR` indexes a folder"),
    "history": ("history", "an athlete's progress across sessions, with plots"),
    "batch": ("batch", "re-analyse every session under a folder in parallel (Dask)"),
    "review": ("review", "review recordings: timeline, reps, overlays, edits, exports"),
    "report": ("report", "write an HTML report of recordings for the athlete"),
    "drill": ("drill", "weight-shift drills with visual feedback, scored"),
}


def usage() -> str:
    """The top-level help text."""
    width = max(len(name) for name in COMMANDS)
    lines = ["usage: midfoot COMMAND [options]   (midfoot COMMAND --help for its options)", ""]
    lines += [f"  {name:<{width}}  {text}" for name, (_, text) in COMMANDS.items()]
    return "\n".join(lines)


def _quiet_broken_pipe() -> int:
    """`midfoot analyse F | head`: the reader went away, which is not an error."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 0


def run_command(name: str, argv: list[str]) -> int:
    """Run subcommand ``name`` with ``argv``: its exit code, with every error mapped.

    Parameters
    ----------
    name : str
        A key of :data:`COMMANDS`.
    argv : list of str
        The arguments after the command's name.

    Returns
    -------
    int
        The exit code (see the module docstring).
    """
    if name not in COMMANDS:
        print(f"midfoot: there is no command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module_name, _ = COMMANDS[name]
    if not os.environ.get("MIDFOOT_DEBUG"):
        # numpy's overflow and invalid-value warnings on hostile data say nothing a person can
        # act on; the sentence that follows does.
        warnings.simplefilter("ignore", RuntimeWarning)
    try:
        module = importlib.import_module(f"gui.commands.{module_name}")
        code = int(module.run(argv) or 0)
        sys.stdout.flush()
        return code
    except SystemExit as exc:  # --help prints and exits 0
        return exc.code if isinstance(exc.code, int) else 0
    except MidfootError as exc:
        print(f"midfoot {name}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug still gets one line, not a traceback
        if os.environ.get("MIDFOOT_DEBUG"):
            traceback.print_exc()
        print(
            f"midfoot {name}: stopped on an unexpected error ({type(exc).__name__}: {exc}); "
            "this is a bug in midfoot, please report it with MIDFOOT_DEBUG=1 output",
            file=sys.stderr,
        )
        return 1


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``midfoot`` console script."""
    argv = sys.argv[1:] if argv is None else argv
    # A crash in a C library (Qt, HDF5) then leaves the Python stack on stderr, for the
    # bug report, instead of a bare "Segmentation fault" (not where stderr has no file).
    with contextlib.suppress(ValueError, OSError, AttributeError):
        faulthandler.enable()
    if not argv or argv[0] in ("-h", "--help", "help"):
        try:
            print(usage(), flush=True)
        except BrokenPipeError:
            return _quiet_broken_pipe()
        return 0
    return run_command(argv[0], argv[1:])


def entry() -> None:
    """The process's entry (the ``midfoot`` script, ``python -m gui.cli``): main, then exit.

    Separate from :func:`main`, which tests call in-process: only a process of its own may
    end itself early.
    """
    code = main()
    if _qt_application_made():
        _exit_before_qt_teardown(code)
    sys.exit(code)


def _qt_application_made() -> bool:
    """Whether this process made a QApplication (a window command ran)."""
    widgets = sys.modules.get("PyQt6.QtWidgets")
    return widgets is not None and widgets.QApplication.instance() is not None


def _exit_before_qt_teardown(code: int) -> None:
    """End the process once a window command is done, without Python's teardown of Qt.

    At exit PyQt's own exit function destroys the QApplication and the Qt objects left
    (widgets, pyqtgraph's items) in no fixed order, and now and then one goes after what
    it needs: a segfault after the command finished, seen under load in CI (`live` stopped
    by SIGTERM exited -11 with its recording complete; faulthandler put it inside the exit
    functions). By now every recording is closed and indexed, the LSL streams are closed
    and the windows are shut, so nothing is left for the exit functions to save: the
    process flushes what it printed and ends here, as pyqtgraph.exit() recommends.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
