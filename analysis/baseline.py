"""The standing baseline: where a person's centre of pressure sits when they stand still.

Every shift the coaching judges (a heel shift, the lateral shift toward the lead leg, a lean
back at lockout) is measured from it, and the drills place their targets around it. It is
a time-weighted mean of the still stretches between movements; a stretch far from the
running mean means the feet moved, and the baseline starts afresh.
"""

from __future__ import annotations

import math

# A still stretch whose CoP lies further than this from the running baseline means the
# feet were re-placed: start afresh (sway of a standing person stays within ~10 mm).
BASELINE_RESET_MM = 20.0


class StandingBaseline:
    """Running, time-weighted standing CoP (mm) and force (N)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget every stretch (a new set, a stance change, a new person)."""
        self._x = 0.0
        self._y = 0.0
        self._fz = 0.0
        self._w = 0.0

    @property
    def seconds(self) -> float:
        """Still time the baseline is made of (s)."""
        return self._w

    @property
    def position_mm(self) -> tuple[float, float] | None:
        """Standing CoP (x, y) in plate mm, None before the first stretch."""
        if self._w <= 0:
            return None
        return self._x / self._w, self._y / self._w

    @property
    def weight_n(self) -> float | None:
        """Mean standing force (N), None before the first stretch."""
        return None if self._w <= 0 else self._fz / self._w

    def reweigh(self, fz_n: float) -> None:
        """The standing force is now ``fz_n`` (N): a load was picked up or put down."""
        if self._w > 0:
            self._fz = float(fz_n) * self._w

    def add(self, x_mm: float, y_mm: float, fz_n: float, seconds: float) -> bool:
        """Add a still stretch's mean CoP and force, lasting ``seconds``.

        Returns
        -------
        bool
            True when the stretch was far from the baseline and it started afresh.
        """
        restarted = False
        base = self.position_mm
        if base is not None and math.hypot(x_mm - base[0], y_mm - base[1]) > BASELINE_RESET_MM:
            self.reset()
            restarted = True
        self._x += x_mm * seconds
        self._y += y_mm * seconds
        self._fz += fz_n * seconds
        self._w += seconds
        return restarted
