"""A drill running on a live session: the window's, the terminal's and the tests' one wiring.

Qt-free. The drill is a block tap of :class:`gui.session.LiveSession`, so it runs in the
acquisition thread beside the hinge analyser; it waits for the start-up tare (until then the
forces carry the cells' raw offsets), then records every drill event it makes into the
session's recording and marks it on any LSL feed. Views call :meth:`DrillSession.view`.
"""

from __future__ import annotations

import collections
import threading

from analysis.drills import DrillResult, DrillRun, DrillSettings, DrillView
from analysis.stance import StanceSetup
from daq.lsl import LslFeed
from daq.series import PlateSeries
from gui.session import LiveSession


class DrillSession:
    """``settings``' drill fed from ``session``'s plate.

    Parameters
    ----------
    session : LiveSession
        A live session (started or not).
    settings : DrillSettings
        The drill.
    stance : StanceSetup, optional
        The stance (default: the session's).
    feed : LslFeed, optional
        Also mark every drill event on this feed.
    """

    def __init__(
        self,
        session: LiveSession,
        settings: DrillSettings,
        stance: StanceSetup | None = None,
        feed: LslFeed | None = None,
    ) -> None:
        self.session = session
        self.run = DrillRun(settings, stance or session.stance)
        self.feed = feed
        self.events: collections.deque[object] = collections.deque()
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
        self._emit(events)

    def _emit(self, events: list[object]) -> None:
        for event in events:
            self.session.acquisition.add_event(event)  # type: ignore[arg-type]
            if self.feed is not None:
                self.feed.mark_event(event)  # type: ignore[arg-type]
        self.events.extend(events)

    @property
    def finished(self) -> bool:
        """Whether the drill's plan has run to its end (or :meth:`finish` was called)."""
        return self.run.finished

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
        """Stop the drill (if it is still running) and record its scores; the result."""
        self.session.remove_tap(self._on_block)
        with self._lock:
            events = self.run.finish()
            result = self.run.result
        self._emit(events)
        return result
