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
    Sent when the next movement's onset ends the hold, and once more for the same rep when
    that movement turns out a rep whose path shows it began earlier (the later one wins).
    """

    t_s: float
    index: int
    hold_s: float
    rep: Rep | None = None


@dataclass(frozen=True)
class LockoutMeasured:
    """The top position of rep ``rep.index`` is known (the lockout and the hold's first second).

    ``rep`` carries the final ``lockout_shift_mm`` and ``backward_lean`` fault, which may
    differ from those of :class:`RepCompleted` when the person leaned back after lockout.
    """

    t_s: float
    rep: Rep


@dataclass(frozen=True)
class StanceInferred:
    """The stance the standing CoP says, read when the feet were (re)placed.

    Attributes
    ----------
    t_s : float
        End of the still stretch it was read from (s).
    stance : str
        The inferred stance.
    back_foot_fraction : float
        The back foot's share that stance implies (0 bilateral).
    told : str or None
        The stance a person told, if one was told (it wins); None when the inferred
        stance is used.
    """

    t_s: float
    stance: str
    back_foot_fraction: float
    told: str | None = None

    @property
    def mismatch(self) -> bool:
        """A stance was told and the data say another."""
        return self.told is not None and self.told != self.stance

    def message(self) -> str:
        """One line for a person."""
        if self.mismatch:
            return (
                f"the feet look like {self.stance}, but {self.told} was chosen: coaching "
                f"as {self.told} (change the stance if that is wrong)"
            )
        return f"stance: {self.stance} (inferred from where the weight sits)"


AnalysisEvent = (
    BodyMassMeasured
    | RepStarted
    | RepAborted
    | RepCompleted
    | HoldUpdated
    | LockoutMeasured
    | StanceInferred
)
