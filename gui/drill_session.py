"""A drill running on a live session: the window's, the terminal's and the tests' one wiring.

Qt-free. The drill is a block tap of :class:`gui.session.LiveSession`, so it runs in the
acquisition thread beside the hinge analyser; it waits for the start-up tare (until then the
forces carry the cells' raw offsets), then records every drill event it makes into the
session's recording and marks it on any LSL feed. Views call :meth:`DrillSession.view`.

A session may run a sequence of drills (``midfoot drill lateral rhythmic``): each starts
once the one before it has ended (and the person has stood :data:`analysis.drills.SETTLE_S`
again), so one recording holds them all, each with its own events.
"""

from __future__ import annotations

import collections
import math
import threading
from collections.abc import Callable, Sequence

from analysis.drills import DrillResult, DrillRun, DrillSettings, DrillView
from analysis.stance import StanceSetup
from daq.lsl import LslFeed
from daq.series import PlateSeries
from gui.session import LiveSession


class DrillSession:
    """``settings``' drill (or drills, one after another) fed from ``session``'s plate.

    Parameters
    ----------
    session : LiveSession
        A live session (started or not).
    settings : DrillSettings or sequence of DrillSettings
        The drill, or the drills of a sequence in the order they run.
    stance : StanceSetup, optional
        The stance (default: the session's).
    feed : LslFeed, optional
        Also mark every drill event on this feed.
    """

    def __init__(
        self,
        session: LiveSession,
        settings: DrillSettings | Sequence[DrillSettings],
        stance: StanceSetup | None = None,
        feed: LslFeed | None = None,
    ) -> None:
        self.session = session
        self.sequence = [settings] if isinstance(settings, DrillSettings) else list(settings)
        if not self.sequence:
            raise ValueError("a drill session needs at least one drill")
        self.stance = stance or session.stance
        self.run = DrillRun(self.sequence[0], self.stance)
        self.results: list[DrillResult] = []
        self.feed = feed
        self.events: collections.deque[object] = collections.deque()
        # Who else sees each drill event as it is made (a virtual person watching the screen).
        self.watchers: list[Callable[[object], None]] = []
        self._lock = threading.Lock()
        self._gate_open = False
        session.add_tap(self._on_block)

    def _on_block(self, block: PlateSeries) -> None:
        # Until the start-up tare is done (or given up) the forces are not a person's.
        if not self._gate_open:
            if self.session.job is not None and self.session.acquisition.recording_source is None:
                return
            self._gate_open = True
        with self._lock:
            events = self.run.feed(block)
            while self.run.finished and len(self.results) + 1 < len(self.sequence):
                # The next drill of the sequence starts on what is left of this block.
                done = self.run
                self.run = DrillRun(self.sequence[len(self.results) + 1], self.stance,
                                    not_before_s=done.start_s + done.duration_s)
                self.results.append(done.result)
                events += self.run.feed(block)
        self._emit(events)

    def _emit(self, events: list[object]) -> None:
        for event in events:
            for watch in self.watchers:
                watch(event)
            self.session.acquisition.add_event(event)  # type: ignore[arg-type]
            if self.feed is not None:
                self.feed.mark_event(event)  # type: ignore[arg-type]
        self.events.extend(events)

    @property
    def finished(self) -> bool:
        """Whether the last drill's plan has run to its end (or :meth:`finish` was called)."""
        # Under the lock: between two drills of a sequence the one that ended is finished.
        with self._lock:
            return self.run.finished and len(self.results) + 1 >= len(self.sequence)

    @property
    def position(self) -> tuple[int, int]:
        """Which drill of the sequence runs now (from 1) and how many there are."""
        with self._lock:
            return len(self.results) + 1, len(self.sequence)

    def view(self) -> DrillView:
        """The feedback to draw now."""
        with self._lock:
            return self.run.view()

    def poll(self) -> list[object]:
        """The drill events since the last poll (hits, trials, scores)."""
        out = []
        while self.events:
            out.append(self.events.popleft())
        return out

    def finish(self) -> DrillResult:
        """Stop the drill (if it is still running) and record its scores; the result.

        Of a sequence, the result of the drill running now (the last one, when all ran);
        :meth:`finish_all` gives every drill's.
        """
        return self.finish_all()[-1]

    def finish_all(self) -> list[DrillResult]:
        """Stop the drills and record the running one's scores; each drill's result so far.

        Drills of a sequence that never started are left out.
        """
        self.session.remove_tap(self._on_block)
        with self._lock:
            if self.results and not math.isfinite(self.run.start_s):
                return list(self.results)
            events = self.run.finish()
            results = [*self.results, self.run.result]
        self._emit(events)
        return results
