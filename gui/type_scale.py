"""Large print: every font size follows the window's height, not fixed pixels.

The live window was designed at :data:`DESIGN_HEIGHT_PX`; a size given there (a design
pixel size) is scaled by the window's height, so a window twice as tall (a 4K screen, full
screen on F11) shows everything twice as big for a person 2-3 m away, and a 1024x700
window a little smaller so nothing is cut off. Sizes set in style sheets
(``font-size: 28px``) are rewritten in place, so a widget's other style stays as it is.
"""

from __future__ import annotations

import re

from pyqtgraph.Qt import QtWidgets

DESIGN_HEIGHT_PX = 860.0
MIN_PX = 11  # smallest text anyone is asked to read
_SIZE = re.compile(r"font-size:\s*\d+(?:\.\d+)?px")


def scaled_px(design_px: float, height_px: float, minimum_px: int = MIN_PX) -> int:
    """``design_px`` (a size at :data:`DESIGN_HEIGHT_PX`) for a window ``height_px`` tall."""
    return max(int(minimum_px), int(round(design_px * max(height_px, 1.0) / DESIGN_HEIGHT_PX)))


def with_font_px(style: str, px: int) -> str:
    """``style`` with its ``font-size`` set to ``px`` (added when it has none)."""
    if _SIZE.search(style):
        return _SIZE.sub(f"font-size: {int(px)}px", style)
    sep = "" if not style or style.rstrip().endswith(";") else ";"
    return f"{style}{sep} font-size: {int(px)}px;".strip()


def set_font_px(widget: QtWidgets.QWidget, px: int) -> None:
    """Set a widget's font size through its style sheet (only when it changes)."""
    sheet = widget.styleSheet()
    new = with_font_px(sheet, px)
    if new != sheet:
        widget.setStyleSheet(new)
