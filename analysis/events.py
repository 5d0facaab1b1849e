"""What the analysers say as they go: typed events, one frozen dataclass per kind.

:data:`AnalysisEvent` is their union; the faces handle them with ``match``/``isinstance``.
Every event carries ``t_s``, the series time at which the analyser knew.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.reps import Rep


@dataclass(frozen=True)
class BodyMassMeasured:
    """The standing weight was measured.

    Attributes
    ----------
    t_s : float
        Time of the measurement (s).
    body_mass_kg : float
        The analyser's body mass after it: the first still weigh-in, or the weight with a
        kettlebell set down on the floor (``source="set-down"``).
    standing_mass_kg : float
        Everything on the plate while standing (body plus any held load), kg.
    source : str
        ``"weigh-in"``, ``"set-down"`` or ``"weigh-in button"`` (asked for by a person).
    """

    t_s: float
    body_mass_kg: float
    standing_mass_kg: float
    source: str = "weigh-in"


@dataclass(frozen=True)
class RepStarted:
    """A descent deep enough to be a rep is under way (rep ``index``)."""

    t_s: float
    index: int


@dataclass(frozen=True)
class RepAborted:
    """A movement announced by :class:`RepStarted` did not finish as a rep."""

    t_s: float
    index: int


@dataclass(frozen=True)
class RepCompleted:
    """A rep reached lockout; ``rep.lockout_hold_s`` is None until :class:`HoldUpdated`.

    ``t_s`` is the data time at which the analyser knew (the lockout candidate's sample).
    """

    rep: Rep
    t_s: float = float("nan")


@dataclass(frozen=True)
class HoldUpdated:
    """The lockout hold of rep ``index`` ended after ``hold_s`` seconds.

    ``rep`` is the rep with its hold and end filled in (the analyser's list holds the same).
    """

    t_s: float
    index: int
    hold_s: float
    rep: Rep | None = None


AnalysisEvent = BodyMassMeasured | RepStarted | RepAborted | RepCompleted | HoldUpdated
