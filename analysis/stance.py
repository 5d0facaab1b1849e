"""Where the feet are on the plate, their heel / midfoot / forefoot zones, and the lead foot.

Plate coordinates follow PROTOCOL.md: origin at the plate centre, +x to the person's right
(medio-lateral, ML), +y forward toward the toes (antero-posterior, AP), millimetres.

A stance is ``bilateral`` (both feet flat, heels on one line), ``kickstand-left`` (the left
foot leads, flat; the right foot stands on its toes beside the lead heel) or
``kickstand-right``. The feet's centre lines sit ``stance_width_mm`` apart, centred on
x = 0. Each flat foot is cut across its length into three zones at ``zone_cuts``, fractions
of foot length measured from the heel: heel | midfoot | forefoot (see
docs/analysis-methods.md for why the defaults are equal thirds).

In the kickstand stance the plate sees the lead foot and the back foot's forefoot together:
combined CoP = (1 - b) * lead CoP + b * back-foot contact point, b the share of the weight on
the back foot. :meth:`StanceSetup.back_foot_fraction` estimates b from a standing baseline
and :meth:`StanceSetup.lead_foot_cop_mm` solves for the lead foot's own CoP.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from daq.errors import MidfootError
from daq.events import STANCES, StanceChanged
from daq.series import PlateSeries

__all__ = [
    "STANCES",
    "BaseOfSupport",
    "StanceGuess",
    "StanceSetup",
    "infer_stance",
    "stance_setup",
    "stance_timeline",
]
ZONES = ("heel", "midfoot", "forefoot")
OFF_ZONE = "off"
# Integer codes of :meth:`StanceSetup.zone_codes`; index into ZONE_NAMES for the name.
ZONE_NAMES = np.array([*ZONES, OFF_ZONE])
OFF_CODE = 3

DEFAULT_FOOT_LENGTH_MM = 260.0
DEFAULT_STANCE_WIDTH_MM = 200.0
# Heel line defaults put the feet in the middle of a 600 mm plate: a bilateral foot of
# 260 mm spans y = -130..130; in the kickstand stance the lead foot sits further forward so
# the back foot, whose toes are beside the lead heel, still fits on the plate behind it.
DEFAULT_HEEL_Y_MM = {"bilateral": -130.0, "kickstand-left": -60.0, "kickstand-right": -60.0}
# Heel | midfoot | forefoot cut points as fractions of foot length from the heel: equal
# thirds. The rear third is the heel pad and calcaneus behind the ankle, the front third the
# metatarsal heads and toes, the middle third the midfoot the coaching cue means. Reasons,
# sources and the measured margins in docs/analysis-methods.md.
DEFAULT_ZONE_CUTS = (1.0 / 3.0, 2.0 / 3.0)
# Foot breadth is about 0.38 of foot length in adult anthropometric surveys; used only to
# draw the feet and to say when a CoP is off the feet sideways.
FOOT_BREADTH_FRACTION = 0.38
# The back foot of a kickstand stance bears on its forefoot: its contact point (the ball of
# the foot) sits beside the lead heel pad, this fraction of foot length ahead of the heel
# line (10 mm for a 260 mm foot), on the back foot's centre line.
BACK_CONTACT_AHEAD_FRACTION = 0.04
# Where the ball of a foot lies, as a fraction of foot length from the heel; places the
# (raised) back foot's outline around its contact point.
BALL_FRACTION = 0.72
# A CoP this far outside a foot's outline is still counted on it: the outline is a model,
# and sway and calibration error move the CoP by a few millimetres.
OFF_MARGIN_MM = 15.0
# Paris point: one EU shoe size is 2/3 cm of shoe last; the last is about 15 mm longer than
# the foot (toe allowance).
PARIS_POINT_MM = 20.0 / 3.0
LAST_ALLOWANCE_MM = 15.0
EU_SIZE_RANGE = (16.0, 56.0)
# Half-breadth of the foot outline along its length (fraction of length from the heel ->
# fraction of the full breadth): narrow heel, widest at the ball, rounded toes.
_OUTLINE_PROFILE = np.array(
    [
        (0.00, 0.00),
        (0.03, 0.26),
        (0.10, 0.33),
        (0.30, 0.34),
        (0.55, 0.42),
        (0.72, 0.50),
        (0.85, 0.46),
        (0.95, 0.33),
        (1.00, 0.00),
    ]
)


def foot_length_from_shoe_size(eu_size: float) -> float:
    """Foot length in mm from a European (Paris point) shoe size.

    A shoe of EU size s has a last of s * 2/3 cm; the foot is about 15 mm shorter than the
    last. EU 42 gives 265 mm, EU 38 238 mm.

    Parameters
    ----------
    eu_size : float
        European shoe size, 16 to 56.

    Returns
    -------
    float
        Foot length in millimetres.
    """
    size = float(eu_size)
    if not EU_SIZE_RANGE[0] <= size <= EU_SIZE_RANGE[1]:
        raise MidfootError(
            f"EU shoe size {eu_size} is outside {EU_SIZE_RANGE[0]:.0f}-{EU_SIZE_RANGE[1]:.0f}: "
            "give a European size such as 42, or the foot length in millimetres"
        )
    return size * PARIS_POINT_MM - LAST_ALLOWANCE_MM


@dataclass(frozen=True, eq=False)
class BaseOfSupport:
    """A person's functional base of support: how far they can move their CoP.

    Found by :func:`fit_base_of_support` from a trial rocking back onto the heels, forward
    onto the toes, then left and right. Limits are in plate millimetres.

    Attributes
    ----------
    x_min_mm, x_max_mm : float
        Leftmost and rightmost CoP reached (ML).
    y_min_mm, y_max_mm : float
        Rearmost (heels) and foremost (toes) CoP reached (AP).
    hull_mm : (K, 2) ndarray
        Convex hull of the trial's CoP, for drawing, counter-clockwise.
    """

    x_min_mm: float
    x_max_mm: float
    y_min_mm: float
    y_max_mm: float
    hull_mm: np.ndarray

    @property
    def ap_range_mm(self) -> float:
        """Heel-to-toe reach in mm."""
        return self.y_max_mm - self.y_min_mm

    @property
    def ml_range_mm(self) -> float:
        """Left-to-right reach in mm."""
        return self.x_max_mm - self.x_min_mm

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "x_min_mm": self.x_min_mm,
            "x_max_mm": self.x_max_mm,
            "y_min_mm": self.y_min_mm,
            "y_max_mm": self.y_max_mm,
            "hull_mm": np.asarray(self.hull_mm).tolist(),
        }


# A rocking trial shorter than this did not rock: a standing person sways a few mm, a
# heel-to-toe rock reaches 100-180 mm on a 260 mm foot (functional limits of stability).
MIN_BOS_AP_RANGE_MM = 60.0
MIN_BOS_ML_RANGE_MM = 40.0
# Extremes are taken at these percentiles, not min/max, so a glitch or a stumble does not
# become the limit.
BOS_PERCENTILES = (1.0, 99.0)


def fit_base_of_support(x_mm: np.ndarray, y_mm: np.ndarray) -> BaseOfSupport:
    """The functional base of support from a rock back / forward / left / right trial.

    Parameters
    ----------
    x_mm, y_mm : (N,) ndarray
        CoP of the trial in plate millimetres (NaN samples, e.g. off the plate, are
        dropped).

    Returns
    -------
    BaseOfSupport
        The 1st-99th percentile limits on each axis and the convex hull inside them.

    Raises
    ------
    MidfootError
        If the trial has too few samples or did not reach far enough to be a rocking trial.
    """
    x = np.asarray(x_mm, dtype=float).ravel()
    y = np.asarray(y_mm, dtype=float).ravel()
    if x.shape != y.shape:
        raise MidfootError("the trial's x and y CoP have different lengths: pass matching arrays")
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size < 10:
        raise MidfootError(
            "the base-of-support trial has fewer than 10 CoP samples: stand on the plate and "
            "rock back, forward, left and right for a few seconds"
        )
    x_lo, x_hi = np.percentile(x, BOS_PERCENTILES)
    y_lo, y_hi = np.percentile(y, BOS_PERCENTILES)
    if y_hi - y_lo < MIN_BOS_AP_RANGE_MM or x_hi - x_lo < MIN_BOS_ML_RANGE_MM:
        raise MidfootError(
            f"the trial reached only {y_hi - y_lo:.0f} mm heel-to-toe and {x_hi - x_lo:.0f} mm "
            "side to side: rock fully back onto the heels, forward onto the toes, then left and "
            "right, and try again"
        )
    inside = (x >= x_lo) & (x <= x_hi) & (y >= y_lo) & (y <= y_hi)
    return BaseOfSupport(
        x_min_mm=float(x_lo),
        x_max_mm=float(x_hi),
        y_min_mm=float(y_lo),
        y_max_mm=float(y_hi),
        hull_mm=_convex_hull(np.column_stack([x[inside], y[inside]])),
    )


def _convex_hull(points: np.ndarray) -> np.ndarray:
    """Counter-clockwise convex hull (Andrew's monotone chain), without scipy's Qhull."""
    pts = np.unique(points, axis=0)
    if pts.shape[0] < 3:
        return pts

    def cross(o: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
        return float((a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]))

    lower: list[np.ndarray] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[np.ndarray] = []
    for p in pts[::-1]:
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return np.array(lower[:-1] + upper[:-1])


@dataclass(frozen=True)
class StanceSetup:
    """A stance and the geometry of the feet on the plate.

    Parameters
    ----------
    stance : str
        One of :data:`STANCES`.
    foot_length_mm : float
        Heel-to-toe length of a foot.
    heel_y_mm : float or None
        AP position of the heel line (the lead foot's heel in a kickstand stance); None
        takes the stance's default (:data:`DEFAULT_HEEL_Y_MM`).
    stance_width_mm : float
        ML distance between the two feet's centre lines, centred on x = 0.
    zone_cuts : (float, float)
        Heel|midfoot and midfoot|forefoot boundaries as fractions of the foot's AP range
        from the heel (of the foot length, or of the base of support when one is given).
    base_of_support : BaseOfSupport or None
        A measured functional base of support; when given, zones are placed between its
        rear and front limits instead of heel and toe.
    """

    stance: str = "bilateral"
    foot_length_mm: float = DEFAULT_FOOT_LENGTH_MM
    heel_y_mm: float | None = None
    stance_width_mm: float = DEFAULT_STANCE_WIDTH_MM
    zone_cuts: tuple[float, float] = DEFAULT_ZONE_CUTS
    base_of_support: BaseOfSupport | None = None

    def __post_init__(self) -> None:
        if self.stance not in STANCES:
            raise MidfootError(f"unknown stance {self.stance!r}: use one of {', '.join(STANCES)}")
        if not 100.0 <= float(self.foot_length_mm) <= 400.0:
            raise MidfootError(
                f"a foot length of {self.foot_length_mm} mm is implausible: give 100-400 mm "
                "(or a shoe size)"
            )
        if not 0.0 <= float(self.stance_width_mm) <= 800.0:
            raise MidfootError(
                f"a stance width of {self.stance_width_mm} mm is implausible: give 0-800 mm"
            )
        cuts = tuple(float(c) for c in self.zone_cuts)
        if len(cuts) != 2 or not 0.0 < cuts[0] < cuts[1] < 1.0:
            raise MidfootError(
                f"zone cuts {self.zone_cuts} must be two increasing fractions between 0 and 1, "
                "e.g. (0.33, 0.67)"
            )
        object.__setattr__(self, "zone_cuts", cuts)
        if self.heel_y_mm is None:
            object.__setattr__(self, "heel_y_mm", DEFAULT_HEEL_Y_MM[self.stance])
        object.__setattr__(self, "foot_length_mm", float(self.foot_length_mm))
        object.__setattr__(self, "heel_y_mm", float(self.heel_y_mm))
        object.__setattr__(self, "stance_width_mm", float(self.stance_width_mm))

    # -- which foot is where --------------------------------------------------------------
    @property
    def is_kickstand(self) -> bool:
        """Whether one foot leads and the other stands on its toes."""
        return self.stance != "bilateral"

    @property
    def lead_side(self) -> str | None:
        """``"left"`` or ``"right"`` for a kickstand stance, None for bilateral."""
        return self.stance.removeprefix("kickstand-") if self.is_kickstand else None

    @property
    def lead_sign(self) -> float:
        """+1 if the lead foot is on the right (+x), -1 on the left, 0 for bilateral."""
        return {"left": -1.0, "right": 1.0, None: 0.0}[self.lead_side]

    @property
    def lead_foot_x_mm(self) -> float:
        """ML position of the lead foot's centre line (0 for bilateral: between the feet)."""
        return self.lead_sign * self.stance_width_mm / 2.0

    @property
    def back_foot_x_mm(self) -> float:
        """ML position of the back foot's centre line in a kickstand stance."""
        return -self.lead_foot_x_mm

    @property
    def back_contact_mm(self) -> tuple[float, float]:
        """Where the back foot's forefoot bears on the plate: beside the lead heel."""
        ahead = BACK_CONTACT_AHEAD_FRACTION * self.foot_length_mm
        return self.back_foot_x_mm, float(self.heel_y_mm) + ahead

    @property
    def foot_breadth_mm(self) -> float:
        """Modelled breadth of a foot (:data:`FOOT_BREADTH_FRACTION` of its length)."""
        return FOOT_BREADTH_FRACTION * self.foot_length_mm

    @property
    def toe_y_mm(self) -> float:
        """AP position of the lead foot's (both feet's) toe tips."""
        return float(self.heel_y_mm) + self.foot_length_mm

    def ap_range_mm(self) -> tuple[float, float]:
        """Rear and front AP limits the zones divide: heel and toe, or the base of support."""
        if self.base_of_support is not None:
            return self.base_of_support.y_min_mm, self.base_of_support.y_max_mm
        return float(self.heel_y_mm), self.toe_y_mm

    def zone_cuts_y_mm(self) -> tuple[float, float]:
        """AP positions of the heel|midfoot and midfoot|forefoot boundaries."""
        y0, y1 = self.ap_range_mm()
        return y0 + self.zone_cuts[0] * (y1 - y0), y0 + self.zone_cuts[1] * (y1 - y0)

    def with_stance(self, stance: str) -> StanceSetup:
        """The same feet in another stance.

        The heel line moves to the new stance's default only if it was the old stance's.
        """
        heel = self.heel_y_mm
        if heel == DEFAULT_HEEL_Y_MM[self.stance]:
            heel = None
        return replace(self, stance=stance, heel_y_mm=heel)

    def with_base_of_support(self, bos: BaseOfSupport | None) -> StanceSetup:
        """A copy whose zones sit inside ``bos`` (None removes it)."""
        return replace(self, base_of_support=bos)

    # -- drawing ----------------------------------------------------------------------------
    def _foot_polygon(
        self, x_centre_mm: float, heel_y_mm: float, f0: float, f1: float
    ) -> np.ndarray:
        """Outline of the part of a foot between length fractions f0 and f1, closed CCW."""
        prof = _OUTLINE_PROFILE
        inner = prof[(prof[:, 0] > f0) & (prof[:, 0] < f1), 0]
        fr = np.concatenate([[f0], inner, [f1]])
        half = np.interp(fr, prof[:, 0], prof[:, 1]) * self.foot_breadth_mm
        y = heel_y_mm + fr * self.foot_length_mm
        right = np.column_stack([x_centre_mm + half, y])
        left = np.column_stack([x_centre_mm - half, y])[::-1]
        return np.vstack([right, left])

    def feet_outlines_mm(self) -> list[np.ndarray]:
        """Polygon (K, 2) of each foot in plate mm, lead foot first.

        Bilateral: left foot, then right. Kickstand: the lead foot, then the back foot,
        drawn with its ball of the foot at the back-foot contact point.
        """
        y_heel = float(self.heel_y_mm)
        if not self.is_kickstand:
            w = self.stance_width_mm / 2.0
            return [
                self._foot_polygon(-w, y_heel, 0.0, 1.0),
                self._foot_polygon(w, y_heel, 0.0, 1.0),
            ]
        bx, by = self.back_contact_mm
        back_heel = by - BALL_FRACTION * self.foot_length_mm
        return [
            self._foot_polygon(self.lead_foot_x_mm, y_heel, 0.0, 1.0),
            self._foot_polygon(bx, back_heel, 0.0, 1.0),
        ]

    def zone_boundaries_mm(self) -> list[tuple[str, np.ndarray]]:
        """(zone name, polygon) of each zone, for drawing.

        Kickstand: the lead foot's three zones. Bilateral: the left foot's three, then the
        right foot's. Zones follow :meth:`zone_cuts_y_mm`, so with a base of support they
        sit inside its AP limits.
        """
        y_heel = float(self.heel_y_mm)
        y_cuts = self.zone_cuts_y_mm()
        y0, y1 = self.ap_range_mm()
        edges_y = [y0, *y_cuts, y1]
        # Fractions of the drawn foot (heel..toe) at each edge, kept inside the outline.
        edges_f = np.clip((np.asarray(edges_y) - y_heel) / self.foot_length_mm, 0.0, 1.0)
        if self.is_kickstand:
            xs = [self.lead_foot_x_mm]
        else:
            xs = [-self.stance_width_mm / 2.0, self.stance_width_mm / 2.0]
        out = []
        for x in xs:
            for k, name in enumerate(ZONES):
                out.append(
                    (name, self._foot_polygon(x, y_heel, float(edges_f[k]), float(edges_f[k + 1])))
                )
        return out

    # -- classifying points ---------------------------------------------------------------
    def foot_fraction(self, y_mm: np.ndarray | float) -> np.ndarray:
        """AP position as a fraction of the zoned range from its rear limit (0 heel, 1 toe)."""
        y0, y1 = self.ap_range_mm()
        return (np.asarray(y_mm, dtype=float) - y0) / (y1 - y0)

    def _ml_limits_mm(self) -> tuple[float, float]:
        """Leftmost and rightmost x at which a (lead-foot) CoP still counts as on the feet."""
        half = FOOT_BREADTH_FRACTION * 0.5 * self.foot_length_mm + OFF_MARGIN_MM
        if self.is_kickstand:
            lo, hi = self.lead_foot_x_mm - half, self.lead_foot_x_mm + half
        else:
            w = self.stance_width_mm / 2.0
            lo, hi = -w - half, w + half
        if self.base_of_support is not None:
            lo = min(lo, self.base_of_support.x_min_mm - OFF_MARGIN_MM)
            hi = max(hi, self.base_of_support.x_max_mm + OFF_MARGIN_MM)
        return lo, hi

    def zone_codes(self, x_mm: np.ndarray | float, y_mm: np.ndarray | float) -> np.ndarray:
        """Zone code per point: 0 heel, 1 midfoot, 2 forefoot, 3 off (see :data:`ZONE_NAMES`).

        The point is a CoP on the lead foot (kickstand, after :meth:`lead_foot_cop_mm`) or
        the combined CoP of both feet (bilateral, where only its AP position matters
        because both heels are on one line). Off means behind the heel, past the toes,
        beside the feet, or NaN (nobody on the plate).
        """
        x = np.asarray(x_mm, dtype=float)
        y = np.asarray(y_mm, dtype=float)
        c0, c1 = self.zone_cuts_y_mm()
        codes = (y >= c0).astype(np.int8) + (y >= c1).astype(np.int8)
        y_lo, y_hi = self.ap_range_mm()
        x_lo, x_hi = self._ml_limits_mm()
        with np.errstate(invalid="ignore"):
            off = ~(
                (y >= y_lo - OFF_MARGIN_MM)
                & (y <= y_hi + OFF_MARGIN_MM)
                & (x >= x_lo)
                & (x <= x_hi)
            )
        return np.where(off, np.int8(OFF_CODE), codes)

    def zone_of(self, x_mm: np.ndarray | float, y_mm: np.ndarray | float) -> np.ndarray:
        """Zone name per point: ``"heel"``, ``"midfoot"``, ``"forefoot"`` or ``"off"``.

        Vectorised over any shape; see :meth:`zone_codes` for which CoP to pass.
        """
        return ZONE_NAMES[self.zone_codes(x_mm, y_mm)]

    # -- kickstand: the lead foot's own CoP -------------------------------------------------
    def back_foot_fraction(self, x_mm: float) -> float:
        """Share b of the weight on the back foot, from a standing CoP's ML position.

        Standing still, the lead foot's CoP lies on its centre line, so the combined ML
        position splits the distance between the lead line and the back-foot contact by the
        lever rule: b = (x - x_lead) / (x_back - x_lead). Clipped to 0..0.6. Zero for a
        bilateral stance.

        Parameters
        ----------
        x_mm : float
            Mean ML CoP while standing still, in plate mm.
        """
        if not self.is_kickstand or self.stance_width_mm <= 0:
            return 0.0
        bx, _ = self.back_contact_mm
        b = (float(x_mm) - self.lead_foot_x_mm) / (bx - self.lead_foot_x_mm)
        return float(np.clip(b, 0.0, 0.6))

    def lead_foot_cop_mm(
        self, x_mm: np.ndarray | float, y_mm: np.ndarray | float, back_fraction: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """The lead foot's own CoP from the combined CoP, given the back foot's share.

        Inverts combined = (1 - b) * lead + b * back-contact. Bilateral (or b = 0) returns
        the input unchanged.

        Parameters
        ----------
        x_mm, y_mm : ndarray or float
            Combined CoP in plate mm.
        back_fraction : float
            b, the share of the weight on the back foot (0..0.6).
        """
        x = np.asarray(x_mm, dtype=float)
        y = np.asarray(y_mm, dtype=float)
        b = float(back_fraction)
        if not self.is_kickstand or b <= 0.0:
            return x, y
        bx, by = self.back_contact_mm
        return (x - b * bx) / (1.0 - b), (y - b * by) / (1.0 - b)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "stance": self.stance,
            "foot_length_mm": self.foot_length_mm,
            "heel_y_mm": self.heel_y_mm,
            "stance_width_mm": self.stance_width_mm,
            "zone_cuts": [round(c, 4) for c in self.zone_cuts],
            "base_of_support": None
            if self.base_of_support is None
            else self.base_of_support.to_dict(),
        }


# -- the stance from the data ---------------------------------------------------------------
# Standing still, a bilateral stance carries the load between the feet (a person favours
# one leg by 10 mm at most, and an uncalibrated plate with cells +-10 % off moves the CoP by
# up to ~16 mm more); a kickstand stance with the back foot's usual 10-35 % share carries
# it at least 30 % of the half-width toward the lead foot (lever rule: x = x_lead (1 - 2b)).
KICKSTAND_MIN_OFFSET_FRACTION = 0.3


@dataclass(frozen=True)
class StanceGuess:
    """A stance read from a still standing CoP.

    Attributes
    ----------
    stance : str
        ``bilateral``, ``kickstand-left`` or ``kickstand-right``.
    back_foot_fraction : float
        The back foot's share of the weight that position implies (0 bilateral).
    offset_mm : float
        ML position of the load from the middle between the feet (mm, + right).
    """

    stance: str
    back_foot_fraction: float
    offset_mm: float


def infer_stance(x_mm: float, setup: StanceSetup) -> StanceGuess:
    """The stance a still standing ML CoP says, for the feet of ``setup``.

    The load sits between the feet in a bilateral stance and toward the lead foot in a
    kickstand stance, by (1 - 2b) of the half-width for a back-foot share b; beyond
    :data:`KICKSTAND_MIN_OFFSET_FRACTION` of the half-width it is a kickstand stance led
    by the foot on that side.

    Parameters
    ----------
    x_mm : float
        Mean ML CoP over a still stretch (plate mm, + right).
    setup : StanceSetup
        The feet (their width; the stance itself is ignored).
    """
    half = max(setup.stance_width_mm / 2.0, 1.0)
    x = float(x_mm)
    if not math.isfinite(x) or abs(x) < KICKSTAND_MIN_OFFSET_FRACTION * half:
        return StanceGuess("bilateral", 0.0, x if math.isfinite(x) else 0.0)
    stance = "kickstand-left" if x < 0 else "kickstand-right"
    back = setup.with_stance(stance).back_foot_fraction(x)
    return StanceGuess(stance, back, x)


# -- stances of a recording -------------------------------------------------------------------
SETUP_KEYS = ("stance", "foot_length_mm", "shoe_size_eu", "heel_y_mm", "stance_width_mm")


def _number(key: str, value: object, source: str) -> float | None:
    """A setup value as a finite float; None for blank or NaN (unknown)."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text == "" or text.lower() in ("nan", "none", "null", "unknown"):
            return None
        value = text
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise MidfootError(
            f"{source}: {key} is {value!r}, not a number; give it in the unit its name says "
            "(e.g. foot_length_mm: 260)"
        ) from None
    return None if math.isnan(number) else number


def stance_setup(values: dict[str, object], source: str) -> StanceSetup:
    """The :class:`StanceSetup` that ``values`` describe.

    Parameters
    ----------
    values : dict
        ``stance``, ``foot_length_mm`` (or ``shoe_size_eu``), ``heel_y_mm``,
        ``stance_width_mm``; missing, blank or NaN values take the defaults.
    source : str
        Named in error messages.
    """
    stance = str(values.get("stance") or "bilateral").strip()
    if stance not in STANCES:
        raise MidfootError(
            f"{source}: stance {stance!r} is not one of {', '.join(STANCES)}; fix the stance "
            "or pass --stance"
        )
    kwargs: dict[str, object] = {"stance": stance}
    foot = _number("foot_length_mm", values.get("foot_length_mm"), source)
    shoe = _number("shoe_size_eu", values.get("shoe_size_eu"), source)
    if shoe is not None:
        foot = foot_length_from_shoe_size(shoe)
    if foot is not None:
        kwargs["foot_length_mm"] = foot
    for key in ("heel_y_mm", "stance_width_mm"):
        value = _number(key, values.get(key), source)
        if value is not None:
            kwargs[key] = value
    try:
        return StanceSetup(**kwargs)  # type: ignore[arg-type]
    except MidfootError as exc:
        raise MidfootError(f"{source}: {exc}") from None


@dataclass(frozen=True)
class StanceTimeline:
    """Which stance a recording is in when.

    Attributes
    ----------
    initial : StanceSetup
        The stance at the first sample.
    changes : list of (float, StanceSetup)
        Later changes: series time (s) and the new setup.
    source : str
        Where the stances came from: ``told`` (the command line), ``file`` (the file's
        stance and stance events) or ``default`` (nothing said: bilateral).
    """

    initial: StanceSetup
    changes: tuple[tuple[float, StanceSetup], ...]
    source: str


def stance_timeline(
    series: PlateSeries, overrides: dict[str, object] | None = None
) -> StanceTimeline:
    """The stances of a recording: told ones win, then the file's, else bilateral.

    Parameters
    ----------
    series : PlateSeries
        From :func:`daq.reader.read_recording`; its ``meta.stance``, ``meta.foot`` and
        :class:`~daq.events.StanceChanged` events.
    overrides : dict, optional
        Values a person gave (``stance``, ``foot_length_mm``, ``shoe_size_eu``,
        ``heel_y_mm``, ``stance_width_mm``); None values are ignored. A told ``stance``
        holds for the whole recording.
    """
    source = series.meta.source or "the recording"
    given = {k: v for k, v in (overrides or {}).items() if k in SETUP_KEYS and v is not None}
    if "shoe_size_eu" in given:
        given.pop("foot_length_mm", None)
    base: dict[str, object] = {"stance": series.meta.stance, **series.meta.foot}
    if "shoe_size_eu" in given:
        base.pop("foot_length_mm", None)
    initial = stance_setup({**base, **given}, source)
    if "stance" in given:
        return StanceTimeline(initial, (), "told")
    changes = []
    for event in series.events:
        if not isinstance(event, StanceChanged) or event.stance not in STANCES:
            continue
        if not math.isfinite(event.t_s) or event.t_s <= float(series.t_s[0]):
            # A stance said at the very start is the initial stance.
            initial = stance_setup({**base, **_event_setup(event), **given}, source)
            continue
        changes.append(
            (float(event.t_s), stance_setup({**base, **_event_setup(event), **given}, source))
        )
    told_in_file = series.meta.stance is not None or bool(changes) or initial.stance != "bilateral"
    return StanceTimeline(initial, tuple(changes), "file" if told_in_file else "default")


def _event_setup(event: StanceChanged) -> dict[str, object]:
    out: dict[str, object] = {"stance": event.stance}
    for key in ("foot_length_mm", "heel_y_mm", "stance_width_mm"):
        value = getattr(event, key)
        if value is not None and math.isfinite(value):
            out[key] = value
    return out
