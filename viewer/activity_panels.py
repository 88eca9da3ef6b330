"""Panels of what a model does over time (pyqtgraph): the spike raster, membrane traces, and a
non-spiking model's dynamics in their place."""

from __future__ import annotations

import math

import numpy as np

from neurosim.viewer.frames import Dynamics
from neurosim.viewer.palette import BACKGROUND, population_colours
from neurosim.viewer.qt import QtCore, pg


class RasterPanel(pg.PlotWidget):
    """A rolling spike raster: one image row per neuron, one column per time bin, coloured by
    population. Spikes are written into a ring buffer of bins (an ``ImageItem`` draws it in one
    texture, so 10 000 neurons cost one image upload per redraw, not one symbol per spike)."""

    def __init__(self, populations: dict[str, int], *, bin: float, window: float, time_unit: str = "ms",
                 title: str = "spikes") -> None:
        super().__init__(title=title if populations else f"{title}: none here")
        self.setBackground(BACKGROUND)
        self.offsets: dict[str, int] = {}
        row = 0
        for p, n in populations.items():
            self.offsets[p] = row
            row += n
        self.sizes = dict(populations)
        self.codes = {p: k + 1 for k, p in enumerate(populations)}
        self.n_rows = max(row, 1)
        self.bin = float(bin)
        self.n_bins = max(1, round(window / bin))
        self.buffer = np.zeros((self.n_rows, self.n_bins), dtype=np.uint8)
        self.head = -1  # the newest bin (absolute index)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(population_colours(len(populations)))
        self.addItem(self.image)
        self.setLabel("bottom", f"time ({time_unit})")
        self.setLabel("left", "neuron")
        # a name per population, but none for those too thin to hold one (their line still shows)
        ticks = [(self.offsets[p] + self.sizes[p] / 2, p) for p in populations if self.sizes[p] >= self.n_rows / 80]
        self.getAxis("left").setTicks([ticks, []])
        for p in list(populations)[1:]:
            self.addItem(pg.InfiniteLine(self.offsets[p], angle=0, pen=pg.mkPen((90, 90, 110), width=1)))
        self.setYRange(0, self.n_rows, padding=0)
        self.dirty = True

    def reset(self) -> None:
        self.buffer[:] = 0
        self.head = -1
        self.dirty = True

    def advance(self, t: float) -> None:
        """Move the window's right edge to time ``t`` (exclusive), clearing the bins it enters."""
        b = math.ceil(round(t / self.bin, 9)) - 1
        if b <= self.head:
            return
        if b - self.head >= self.n_bins:
            self.buffer[:] = 0
        else:
            self.buffer[:, np.arange(self.head + 1, b + 1) % self.n_bins] = 0
        self.head = b
        self.dirty = True

    def add(self, population: str, times: np.ndarray, ids: np.ndarray) -> None:
        if population not in self.offsets or times.size == 0:
            return
        bins = np.floor(np.round(times / self.bin, 9)).astype(np.int64)
        self.advance((bins.max() + 1) * self.bin)
        keep = (bins > self.head - self.n_bins) & (ids < self.sizes[population])
        self.buffer[self.offsets[population] + ids[keep], bins[keep] % self.n_bins] = self.codes[population]
        self.dirty = True

    def _in_time_order(self) -> np.ndarray:
        """Ring-buffer columns, oldest first."""
        return (np.arange(self.n_bins) + self.head + 1) % self.n_bins

    def view(self) -> np.ndarray:
        """The window in time order, oldest column first (``render`` shows it row-pooled)."""
        return self.buffer[:, self._in_time_order()]

    def spike_count(self) -> int:
        """Spiking (neuron, bin) cells in the window."""
        return int(np.count_nonzero(self.buffer))

    def pooled(self) -> np.ndarray:
        """The window with rows max-pooled to about two per pixel of the panel's height: a pixel
        row lights when any of its neurons spiked in that bin (a mean, as ``ImageItem``'s own
        downsampling takes, would fade single spikes away), in the colour of the highest
        population code among them. Uploading 10 000 rows to a few hundred pixels costs more
        than the pooling."""
        factor = max(1, self.n_rows // max(1, 2 * self.height()))
        buf = self.buffer
        if factor > 1:
            pad = (-self.n_rows) % factor
            if pad:
                buf = np.concatenate([buf, np.zeros((pad, self.n_bins), np.uint8)])
            buf = buf.reshape(-1, factor, self.n_bins).max(axis=1)
        return buf[:, self._in_time_order()]

    def render(self) -> bool:
        if not self.dirty:
            return False
        self.image.setImage(self.pooled(), autoLevels=False, levels=(0, len(self.codes)))
        x0 = (self.head + 1 - self.n_bins) * self.bin
        self.image.setRect(QtCore.QRectF(x0, 0, self.n_bins * self.bin, self.n_rows))
        self.dirty = False
        return True


class TracePanel(pg.PlotWidget):
    """Membrane potential of the traced neurons over the raster's window, with a tick above the
    traces at each of their spikes: samples are taken at the end of a tick, after the reset, so
    a cell that fires within one tick (dt = 1 ms in CA3) never shows its threshold crossing."""

    def __init__(self, traced: tuple[tuple[str, int], ...], *, window: float, time_unit: str = "ms") -> None:
        super().__init__(title="membrane potential" if traced else "membrane potential: none traced here")
        self.setBackground(BACKGROUND)
        self.window = float(window)
        self.traced = tuple(traced)
        self.labels = tuple(f"{p}[{i}]" for p, i in self.traced)
        self.times = np.zeros(0)
        self.values = np.zeros((0, len(self.traced)))
        self.spike_times: list[np.ndarray] = [np.zeros(0) for _ in self.traced]
        self.setLabel("bottom", f"time ({time_unit})")
        self.setLabel("left", "v (mV)")
        if self.traced:
            self.addLegend(offset=(5, 5))
        # thin pens and peak downsampling: a 0.1 ms trace over a 500 ms window is 5000 points per curve,
        # more than the panel has pixels; peak mode keeps every spike's upstroke visible
        self.setDownsampling(auto=True, mode="peak")
        self.setClipToView(True)
        colours = [pg.intColor(k, hues=max(len(self.traced), 1)) for k in range(len(self.traced))]
        self.curves = [self.plot(pen=pg.mkPen(c, width=1), name=label) for c, label in zip(colours, self.labels,
                                                                                           strict=True)]
        self.ticks = [pg.ScatterPlotItem(symbol="t1", size=7, pen=None, brush=pg.mkBrush(c)) for c in colours]
        for t in self.ticks:
            self.addItem(t)
        self.dirty = False

    def reset(self) -> None:
        self.times, self.values = np.zeros(0), np.zeros((0, len(self.traced)))
        self.spike_times = [np.zeros(0) for _ in self.traced]
        self.dirty = True

    def add(self, times: np.ndarray, values: np.ndarray) -> None:
        if times.size == 0 or not self.traced:
            return
        self.times = np.concatenate([self.times, times])
        self.values = np.concatenate([self.values, values])
        keep = self.times > self.times[-1] - self.window
        self.times, self.values = self.times[keep], self.values[keep]
        self.dirty = True

    def add_spikes(self, spikes: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
        """Keep the spike times of the traced neurons among ``spikes[pop] = (times, ids)``."""
        for k, (p, i) in enumerate(self.traced):
            if p in spikes:
                t, ids = spikes[p]
                new = np.asarray(t)[np.asarray(ids) == i]
                if new.size:
                    self.spike_times[k] = np.concatenate([self.spike_times[k], new])
                    self.dirty = True

    def render(self) -> bool:
        if not self.dirty:
            return False
        for k, curve in enumerate(self.curves):
            curve.setData(self.times, self.values[:, k])
        if self.times.size:
            lo, hi = float(self.values.min()), float(self.values.max())
            top = hi + 0.08 * max(hi - lo, 1e-3)
            for k, tick in enumerate(self.ticks):
                st = self.spike_times[k] = self.spike_times[k][self.spike_times[k] > self.times[-1] - self.window]
                tick.setData(st, np.full(st.size, top))
        self.dirty = False
        return True


class DynamicsPanel(pg.PlotWidget):
    """A non-spiking model's last operation, in place of membrane traces: the named series of the latest
    :class:`~neurosim.viewer.frames.Dynamics` (a Hopfield recall's path over its sweeps, a Sparsey code's
    win probabilities per competitive module)."""

    def __init__(self) -> None:
        super().__init__(title="dynamics of the last operation")
        self.setBackground(BACKGROUND)
        self.addLegend(offset=(5, 5))
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.latest: Dynamics | None = None
        self._shown = ("dynamics of the last operation", "")  # (title, x label) on display
        self.dirty = False

    def set(self, dynamics: Dynamics) -> None:
        self.latest = dynamics
        self.dirty = True

    def render(self) -> bool:
        if not self.dirty or self.latest is None:
            return False
        d = self.latest
        if d.title != self._shown[0]:  # a new label re-lays out its axis: only when it changed
            self.setTitle(d.title)
        if d.xlabel != self._shown[1]:
            self.setLabel("bottom", d.xlabel)
        self._shown = (d.title, d.xlabel)
        for name, (x, y) in d.series.items():
            if name not in self.curves:
                colour = pg.intColor(len(self.curves), hues=4)
                # lines without symbols: a symbol per point is a ScatterPlotItem rebuilt at every redraw
                self.curves[name] = self.plot(pen=pg.mkPen(colour, width=2), name=name)
            self.curves[name].setData(np.asarray(x), np.asarray(y))
        for name, curve in self.curves.items():
            curve.setVisible(name in d.series)
        self.dirty = False
        return True
