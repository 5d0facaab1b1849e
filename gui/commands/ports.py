"""`midfoot ports`: serial ports that look like plates."""

from __future__ import annotations

from daq.source import plate_ports
from gui.cli import CommandParser


def run(argv: list[str]) -> int:
    """List serial ports that look like plates (the virtual plate is always there)."""
    CommandParser(prog="midfoot ports", description=run.__doc__).parse_args(argv)
    found = plate_ports()
    if not found:
        print("no plate found (the virtual plate is always there: --port sim://demo)")
        return 0
    for device, label in found:
        print(f"{device}\t{label}")
    return 0
