"""Plate geometry: where the load cells sit, from a preset in hardware/plates/*.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from daq.errors import MidfootError

DEFAULT_PLATE = "diy-4cell-600"


@dataclass(frozen=True)
class PlateGeometry:
    """Cell positions of one plate, in plate coordinates (PROTOCOL.md).

    ``cells_mm`` is (n, 2): x (ML, + to the person's right) and y (AP, + forward) of each
    channel's load cell, channel order 0 front-left, 1 front-right, 2 back-right,
    3 back-left.
    """

    name: str
    cells_mm: np.ndarray
    width_mm: float
    depth_mm: float
    description: str = ""
    source: str = ""

    @property
    def n_channels(self) -> int:
        """Number of load cells."""
        return int(self.cells_mm.shape[0])

    def to_dict(self) -> dict[str, object]:
        """Plain-data form, for recording into a session file."""
        return {
            "name": self.name,
            "cells_mm": self.cells_mm.tolist(),
            "width_mm": self.width_mm,
            "depth_mm": self.depth_mm,
            "description": self.description,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: dict) -> PlateGeometry:
        """Inverse of :meth:`to_dict`; raises :class:`MidfootError` on a malformed preset."""
        try:
            cells = np.asarray(data["cells_mm"], dtype=float)
            if cells.ndim != 2 or cells.shape[1] != 2 or not 1 <= cells.shape[0] <= 8:
                raise ValueError
            return cls(
                name=str(data["name"]),
                cells_mm=cells,
                width_mm=float(data["width_mm"]),
                depth_mm=float(data["depth_mm"]),
                description=str(data.get("description", "")),
                source=str(data.get("source", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MidfootError(
                "plate preset is malformed: it needs name, width_mm, depth_mm and cells_mm "
                "as a list of [x, y] pairs; compare it with hardware/plates/diy-4cell-600.toml"
            ) from exc


def preset_names() -> list[str]:
    """Names of the plate presets shipped in hardware/plates."""
    folder = resources.files("hardware") / "plates"
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def load_plate(name_or_path: str = DEFAULT_PLATE) -> PlateGeometry:
    """A plate preset by name (see :func:`preset_names`) or from a .toml file path."""
    path = Path(name_or_path)
    if path.suffix == ".toml" and path.exists():
        text = path.read_text(encoding="utf-8")
    else:
        resource = resources.files("hardware") / "plates" / f"{name_or_path}.toml"
        if not resource.is_file():
            raise MidfootError(
                f"no plate preset called {name_or_path!r}: use one of "
                f"{', '.join(preset_names())} or the path of your own .toml file"
            )
        text = resource.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MidfootError(f"plate preset {name_or_path!r} is not valid TOML ({exc})") from exc
    return PlateGeometry.from_dict(data)
