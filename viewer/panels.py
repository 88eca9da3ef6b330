"""The viewer's panels (pyqtgraph): raster, membrane traces, weights, memory, forgetting curve.

Each panel takes data as it arrives (``add`` / ``set``; cheap, from the frame slot) and
draws at most once per redraw tick (``render``; only when something changed), so a
fast model never makes the interface redraw more often than the window's frame rate.

This module holds :class:`PanelGrid`, which lays them out and feeds them a frame; the panels live
by what they show, and are importable from here too:

- :mod:`neurosim.viewer.activity_panels`: :class:`RasterPanel`, :class:`TracePanel`, :class:`DynamicsPanel`;
- :mod:`neurosim.viewer.memory_panels`: :class:`WeightPanel`, :class:`MemoryPanel` (and its :class:`BitGrid`);
- :mod:`neurosim.viewer.forgetting_panel`: :class:`ForgettingPanel`;
- :mod:`neurosim.viewer.palette`: the shared colours.
"""

from __future__ import annotations

import numpy as np

from neurosim.viewer.activity_panels import DynamicsPanel, RasterPanel, TracePanel
from neurosim.viewer.forgetting_panel import DOTS_RATE, MAX_DOTS, ForgettingPanel
from neurosim.viewer.frames import Frame
from neurosim.viewer.memory_panels import (
    COMPARE_LUT,
    CUE_LUT,
    ITEM_LUT,
    OFF,
    ON,
    BitGrid,
    MemoryPanel,
    WeightPanel,
    grid_shape,
)
from neurosim.viewer.palette import BACKGROUND, population_colours
from neurosim.viewer.qt import QtCore, QtWidgets

__all__ = [
    "BACKGROUND", "COMPARE_LUT", "CUE_LUT", "DOTS_RATE", "ITEM_LUT", "MAX_DOTS", "OFF", "ON", "BitGrid",
    "DynamicsPanel", "ForgettingPanel", "MemoryPanel", "PanelGrid", "RasterPanel", "TracePanel", "WeightPanel",
    "grid_shape", "population_colours",
]


class PanelGrid(QtWidgets.QSplitter):
    """All panels of one session or record, laid out in two resizable rows."""

    def __init__(self, populations: dict[str, int], traced: tuple[tuple[str, int], ...], weight_names: tuple[str, ...],
                 n_units: int, *, bin: float, window: float, time_unit: str,
                 weight_axes: tuple[str, str] = ("post", "pre"), memory: bool = True, curve: bool = True,
                 weight_unit: str = "nA", keep: int | None = None, dynamics: bool = False) -> None:
        super().__init__(QtCore.Qt.Orientation.Vertical)
        self.raster = RasterPanel(populations, bin=bin, window=window, time_unit=time_unit)
        self.traces = TracePanel(traced, window=window, time_unit=time_unit)
        self.dynamics = DynamicsPanel() if dynamics else None  # shown in the traces' place
        self.weights = WeightPanel(weight_names, xlabel=weight_axes[0], ylabel=weight_axes[1], unit=weight_unit)
        self.memory = MemoryPanel(n_units if memory else 0)
        self.forgetting = ForgettingPanel(enabled=n_units > 0 and curve, keep=keep)
        top = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        top.addWidget(self.raster)
        top.addWidget(self.weights)
        top.setSizes([700, 350])
        bottom = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        for w in (self.dynamics or self.traces, self.forgetting, self.memory):
            bottom.addWidget(w)
        bottom.setSizes([350, 350, 350])
        self.addWidget(top)
        self.addWidget(bottom)
        self.setSizes([450, 300])
        self.panels = (self.raster, self.dynamics or self.traces, self.weights, self.memory, self.forgetting)

    def apply(self, frame: Frame) -> None:
        """Take one frame's data (cheap; drawing waits for ``render``)."""
        for p, (t, i) in frame.spikes.items():
            self.raster.add(p, np.asarray(t), np.asarray(i))
        self.raster.advance(frame.t)
        self.traces.add(frame.trace_times, frame.traces)
        self.traces.add_spikes(frame.spikes)
        for name, m in frame.weights.items():
            self.weights.set(name, m)
        if frame.memory is not None:
            self.memory.set(frame.memory)
        if frame.dynamics is not None and self.dynamics is not None:
            self.dynamics.set(frame.dynamics)
        self.forgetting.add(frame.curve)

    def render(self) -> bool:
        """Draw the panels whose data changed; True when any did."""
        return any([p.render() for p in self.panels])
