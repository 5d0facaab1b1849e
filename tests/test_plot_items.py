"""Tests of gui.plot_items: items taken off a plot stay alive a while, then are let go."""

from __future__ import annotations

import gc
import weakref

import pyqtgraph as pg
from pyqtgraph.Qt import QtWidgets

import gui.plot_items as plot_items
from gui.plot_items import remove_items


def test_items_taken_off_stay_alive_then_are_let_go(qtbot, monkeypatch) -> None:
    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    items = [QtWidgets.QGraphicsRectItem(0, 0, k + 1, 1) for k in range(3)]
    for item in items:
        plot.addItem(item)
    clock = [1000.0]
    monkeypatch.setattr(plot_items.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(plot_items, "_retired", type(plot_items._retired)())
    remove_items(plot, items)
    assert all(item not in plot.getPlotItem().items for item in items)
    assert all(item.scene() is None for item in items)
    refs = [weakref.ref(item) for item in items]
    del items
    gc.collect()
    # Only the retirement list holds them now: still alive.
    assert all(ref() is not None for ref in refs)
    assert plot_items.retired_count() == 3
    # Within RETIRE_S nothing is let go; after it, the next removal releases the old ones.
    clock[0] += plot_items.RETIRE_S / 2
    remove_items(plot, [])
    assert plot_items.retired_count() == 3
    clock[0] += plot_items.RETIRE_S
    other = QtWidgets.QGraphicsRectItem(0, 0, 1, 1)
    plot.addItem(other)
    remove_items(plot, [other])
    assert plot_items.retired_count() == 1
