"""Taking items off a plot without freeing them under Qt's feet.

A plot item taken off its plot is freed as soon as Python drops it, but Qt may still hold
an event queued for it (a repaint, an index update of the scene) and call into it from the
event loop: a "pure virtual method called" abort, seen in CI after the review window
switched from a drill file to a hinge file. Every view that redraws by replacing items
takes them off through :func:`remove_items`, which keeps them alive for
:data:`RETIRE_S`, long after anything queued for them has run, and then lets them go.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Iterable
from typing import Protocol

RETIRE_S = 2.0


class _Plot(Protocol):
    def removeItem(self, item: object) -> None: ...  # noqa: N802 - Qt's name


# (when taken off, the items): oldest first, released once older than RETIRE_S.
_retired: collections.deque[tuple[float, list[object]]] = collections.deque()


def remove_items(plot: _Plot, items: Iterable[object]) -> None:
    """Take ``items`` off ``plot``; keep them alive for ``RETIRE_S`` before letting go.

    Parameters
    ----------
    plot
        A pyqtgraph PlotItem, PlotWidget or ViewBox (anything with ``removeItem``).
    items
        The items to take off (the caller may drop its own references at once).
    """
    now = time.monotonic()
    while _retired and now - _retired[0][0] > RETIRE_S:
        _retired.popleft()
    kept = list(items)
    for item in kept:
        plot.removeItem(item)
    if kept:
        _retired.append((now, kept))


def retired_count() -> int:
    """How many items taken off are still kept alive (for tests)."""
    return sum(len(items) for _, items in _retired)
