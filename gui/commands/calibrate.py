"""`midfoot calibrate`: tare and per-cell gains from a known mass, saved for the plate."""

from __future__ import annotations

import sys
import time

from analysis.calibration_wizard import CalibrationWizard, position_name
from daq.acquisition import Acquisition
from daq.calibration import Calibration, calibration_positions_mm, save_calibration
from daq.errors import MidfootError
from daq.plate import DEFAULT_PLATE, load_plate
from daq.source import DEFAULT_BAUD, resolve_port
from gui.cli import CommandParser


def run(argv: list[str]) -> int:
    """`midfoot calibrate`: tare and calibrate a plate with a known mass, then save it."""
    parser = CommandParser(
        prog="midfoot calibrate", description=run.__doc__
    )
    parser.add_argument("--port", help="device path or pyserial URL (default: the one plate found)")
    parser.add_argument("--mass-kg", type=float, default=20.0, help="the known mass (default 20)")
    parser.add_argument(
        "--plate", default=DEFAULT_PLATE, help="plate preset name or .toml file with cell positions"
    )
    parser.add_argument("--baud", type=int, default=DEFAULT_BAUD)
    parser.add_argument("--timeout", type=float, default=600.0, help="give up after this many s")
    args = parser.parse_args(argv)
    url = resolve_port(args.port)
    plate = load_plate(args.plate)
    acq = Acquisition(url, baudrate=args.baud, plate=plate)
    acq.start()
    try:
        acq.wait_for_ring(timeout_s=10.0)
        deadline = time.monotonic() + 3.0
        while "plate_id" not in acq.status.info and time.monotonic() < deadline:
            time.sleep(0.05)
        plate_id = acq.status.info.get("plate_id", "unknown")
        print(f"Calibrating plate {plate_id} ({plate.name}) with a {args.mass_kg:g} kg mass.")
        print("Positions, in order:")
        for k, xy in enumerate(calibration_positions_mm(plate)):
            print(f"  {k + 1}. {position_name(xy)}")
        wizard = CalibrationWizard(
            plate_id, plate, args.mass_kg, Calibration.nominal(plate_id, plate)
        )
        acq.add_consumer(wizard.feed)
        print(wizard.prompt, flush=True)
        end = time.monotonic() + args.timeout
        while not wizard.done:
            if time.monotonic() > end:
                raise MidfootError(
                    f"calibration timed out after {args.timeout:.0f} s at step '{wizard.step}': "
                    "keep the plate and the mass still at each position, then run it again"
                )
            if wizard.changed.wait(0.2):
                wizard.changed.clear()
                print(wizard.prompt, flush=True)
            if acq.status.state == "disconnected":
                print(f"waiting: {acq.status.message}", file=sys.stderr)
                time.sleep(1.0)
    finally:
        acq.stop()
    assert wizard.result is not None
    assert wizard.residual_cop_mm is not None
    for xy, err in zip(wizard.positions_mm, wizard.residual_cop_mm, strict=True):
        print(f"  {position_name(xy):<28} CoP error {err:5.1f} mm")
    path = save_calibration(wizard.result)
    print(f"saved to {path}")
    return 0
