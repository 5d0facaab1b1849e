"""The app's colours: one meaning each, the same in the plate view, the traces and the cues.

The midfoot zone is green because it is where the coach wants the pressure; the heel zone is
the warm colour of the commonest fault (drifting back onto the heels).
"""

from __future__ import annotations

ZONE_RGB: dict[str, tuple[int, int, int]] = {
    "heel": (232, 93, 58),
    "midfoot": (52, 178, 102),
    "forefoot": (240, 178, 42),
    "off": (150, 150, 150),
}
ZONE_ORDER = ("heel", "midfoot", "forefoot", "off")

BACKGROUND = (24, 26, 31)
PANEL = (34, 37, 44)
PLATE_FILL = (52, 56, 66)
PLATE_EDGE = (140, 146, 160)
FOOT_EDGE = (230, 232, 238)
TEXT = (230, 232, 238)
MUTED = (150, 156, 170)

AP_RGB = (86, 170, 255)
ML_RGB = (255, 120, 200)
FZ_RGB = (235, 235, 235)
CELL_RGB = (
    (255, 99, 97),
    (255, 166, 0),
    (120, 200, 80),
    (60, 180, 230),
    (190, 120, 255),
    (255, 120, 180),
    (170, 170, 90),
    (100, 220, 200),
)

STATE_RGB = {
    "streaming": (52, 178, 102),
    "connecting": (240, 178, 42),
    "disconnected": (232, 70, 58),
    "stopped": (150, 150, 150),
    "failed": (232, 70, 58),
}
GOOD_REP = (52, 178, 102)
FAULT_REP = (232, 93, 58)
SIMULATED = (240, 178, 42)
RECORDING = (232, 50, 50)


def css(rgb: tuple[int, int, int], alpha: float = 1.0) -> str:
    """A Qt style-sheet colour."""
    r, g, b = rgb
    return f"rgba({r}, {g}, {b}, {alpha:.3f})" if alpha < 1 else f"rgb({r}, {g}, {b})"
