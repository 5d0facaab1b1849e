"""Progress bars for long commands: on a terminal only, quiet when piped or redirected.

One helper for every command that walks many files (batch, sessions scan, analyse, report),
so they all look and behave the same: a tqdm bar on stderr when stderr is a terminal, and
nothing at all otherwise, so a pipe or a log file gets only the results.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import TextIO, TypeVar

from tqdm import tqdm

T = TypeVar("T")

# Fewer items than this finish before a bar is worth drawing.
MIN_ITEMS = 2
DEFAULT_COLUMNS = 80
DEFAULT_LINES = 24


def on_terminal(stream: TextIO | None = None) -> bool:
    """Whether ``stream`` (default stderr) is a terminal a bar may be drawn on."""
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or not a real file
        return False


def _screen(stream: TextIO) -> tuple[int, int]:
    """The terminal's columns and lines, or the classic 80 x 24 where it does not say.

    A fresh pty or a serial console reports 0 x 0, which tqdm takes as a screen too small
    to draw on: it would show nothing at all.
    """
    try:
        size = os.get_terminal_size(stream.fileno())
        columns, lines = size.columns, size.lines
    except (AttributeError, OSError, ValueError):
        columns = lines = 0
    return (columns if columns > 0 else DEFAULT_COLUMNS, lines if lines > 0 else DEFAULT_LINES)


def progress_bar(
    total: int, desc: str, *, unit: str = "file", stream: TextIO | None = None
) -> tqdm:
    """A bar to ``update()`` by hand (e.g. as parallel results arrive); disabled off a terminal.

    Parameters
    ----------
    total : int
        Number of items.
    desc : str
        What is being done (``analysing``, ``indexing``).
    unit : str
        What an item is.
    stream : file, optional
        Where the bar goes (default stderr).
    """
    stream = sys.stderr if stream is None else stream
    columns, lines = _screen(stream)
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        file=stream,
        disable=total < MIN_ITEMS or not on_terminal(stream),
        ncols=columns,
        nrows=lines,
        leave=False,
    )


def progress(
    items: Iterable[T], desc: str, *, unit: str = "file", stream: TextIO | None = None
) -> Iterator[T]:
    """Yield ``items`` while a bar counts them (see :func:`progress_bar`).

    Parameters
    ----------
    items : iterable
        A sized collection (its length is the bar's total).
    desc, unit, stream
        As for :func:`progress_bar`.
    """
    items = list(items)
    with progress_bar(len(items), desc, unit=unit, stream=stream) as bar:
        for item in items:
            yield item
            bar.update(1)
