"""The viewer's panels (pyqtgraph): raster, membrane traces, weights, memory, forgetting curve.

Each panel takes data as it arrives (``add`` / ``set``; cheap, from the frame slot) and
draws at most once per redraw tick (``render``; only when something changed), so a
fast model never makes the interface redraw more often than the window's frame rate.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

import numpy as np

from neurosim.viewer.qt import QtCore, QtWidgets, Signal, pg
from neurosim.viewer.sessions import CurvePoint, Dynamics, Frame, MemoryView

BACKGROUND = (18, 18, 24)
MAX_DOTS = 2000
# the forgetting curve's dots (probes, and probes of forgotten items) are redrawn at most this often (a
# second): handing 2000 dots to pyqtgraph's ScatterPlotItem takes about 4 ms, most of a live redraw's
# budget; the mean lines, cheap, follow every redraw
DOTS_RATE = 4.0


def population_colours(n: int) -> np.ndarray:
    """A lookup table: entry 0 the background, entry k the colour of population k (uint8 RGB)."""
    lut = np.zeros((n + 1, 3), dtype=np.uint8)
    lut[0] = BACKGROUND
    for k in range(n):
        lut[k + 1] = pg.intColor(k, hues=max(n, 1), values=1, maxValue=255, sat=200).getRgb()[:3]
    return lut


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
    :class:`~neurosim.viewer.sessions.Dynamics` (a Hopfield recall's path over its sweeps, a Sparsey code's
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


class WeightPanel(QtWidgets.QWidget):
    """The weight matrix of a plastic projection (pre on the vertical axis, post horizontal)."""

    def __init__(self, names: tuple[str, ...], *, xlabel: str = "post", ylabel: str = "pre", unit: str = "nA") -> None:
        super().__init__()
        self.matrices: dict[str, np.ndarray] = {}
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.choice = QtWidgets.QComboBox()
        self.choice.addItems(list(names))
        self.choice.currentTextChanged.connect(self._changed)
        layout.addWidget(self.choice)
        self.plot = pg.PlotWidget(title=f"weights ({unit})" if names else "weights: no plastic projection here")
        self.plot.setBackground(BACKGROUND)
        self.plot.setLabel("bottom", xlabel)
        self.plot.setLabel("left", ylabel)
        self.plot.invertY(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.bar = pg.ColorBarItem(colorMap=pg.colormap.get("viridis"), interactive=False, width=12)
        self.bar.setImageItem(self.image, insert_in=self.plot.getPlotItem())
        layout.addWidget(self.plot)
        self._levels: tuple[float, float] | None = None  # the colour scale on display
        self.dirty = False

    def _changed(self, _name: str) -> None:
        self.dirty = True
        self._levels = None
        self.render()

    def set(self, name: str, matrix: np.ndarray) -> None:
        self.matrices[name] = np.asarray(matrix, dtype=float)
        self.dirty = self.dirty or name == self.choice.currentText()

    def shown(self) -> np.ndarray | None:
        """The matrix on display (None before the first one arrives)."""
        return self.matrices.get(self.choice.currentText())

    def render(self) -> bool:
        m = self.shown()
        if not self.dirty or m is None:
            return False
        finite = m[np.isfinite(m)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if hi <= lo:
            hi = lo + 1.0
        # the colour scale stays while the weights fill most of it (a new scale re-lays out the colour
        # bar's axis, a few ms of every redraw when a plastic matrix changes at each frame)
        old = self._levels
        if old is None or lo < old[0] or hi > old[1] or hi - lo < 0.8 * (old[1] - old[0]):
            self._levels = (lo, hi)
            self.bar.setLevels(self._levels)
        self.image.setImage(m, autoLevels=False, levels=self._levels)
        self.dirty = False
        return True


def grid_shape(n: int) -> tuple[int, int]:
    """(rows, columns) of the most nearly square grid that holds ``n`` bits."""
    cols = math.ceil(math.sqrt(n))
    return math.ceil(n / cols), cols


class BitGrid(pg.ImageItem):
    """A binary pattern drawn as a grid of cells; ``on_click(bit)`` is called for a left click."""

    def __init__(self, n: int, lut: np.ndarray, on_click: Callable[[int], None] | None = None) -> None:
        super().__init__(axisOrder="row-major")
        self.n = n
        # not ``shape``/``levels``: QGraphicsItem.shape() is Qt's hit test (a tuple there crashes
        # the click) and ImageItem keeps its own ``levels``
        self.rows_cols = grid_shape(n)
        self.on_click = on_click
        self.setLookupTable(lut)
        self.code_levels = (0, len(lut) - 1)
        self.show_codes(np.zeros(n, dtype=np.uint8))

    def show_codes(self, codes: np.ndarray) -> None:
        rows, cols = self.rows_cols
        cells = np.zeros(rows * cols, dtype=np.uint8)
        cells[: self.n] = codes
        self.setImage(cells.reshape(rows, cols), autoLevels=False, levels=self.code_levels)

    def bit_at(self, x: float, y: float) -> int | None:
        r, c = int(math.floor(y)), int(math.floor(x))
        rows, cols = self.rows_cols
        if 0 <= r < rows and 0 <= c < cols and r * cols + c < self.n:
            return r * cols + c
        return None

    def cell_centre(self, bit: int) -> QtCore.QPointF:
        """Scene-independent item coordinates of a bit's cell centre (for tests and tools)."""
        r, c = divmod(bit, self.rows_cols[1])
        return QtCore.QPointF(c + 0.5, r + 0.5)

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 (Qt's name)
        if self.on_click is None or ev.button() != QtCore.Qt.MouseButton.LeftButton:
            return
        bit = self.bit_at(ev.pos().x(), ev.pos().y())
        if bit is not None:
            ev.accept()
            self.on_click(bit)


OFF, ON = (40, 40, 52), (235, 235, 235)
CUE_LUT = np.array([OFF, (250, 200, 60)], dtype=np.uint8)
ITEM_LUT = np.array([OFF, ON], dtype=np.uint8)
# recalled vs stored: 0 off in both, 1 on in both, 2 stored but not recalled, 3 recalled but not stored
COMPARE_LUT = np.array([OFF, ON, (70, 120, 255), (240, 70, 70)], dtype=np.uint8)


class MemoryPanel(QtWidgets.QWidget):
    """Cue, recalled pattern and stored item as bit grids. Clicking cue bits edits the cue;
    *Recall* asks the session to recall from it (``recall_requested``); *Forget this item* asks it
    to forget the stored item shown (``forget_requested``, its index)."""

    recall_requested = Signal(object)
    forget_requested = Signal(int)

    def __init__(self, n_units: int) -> None:
        super().__init__()
        self.n = n_units
        self.cue = np.zeros(n_units, dtype=bool)
        self.editing = False  # the user has changed the cue since the last recall: probes leave it alone
        self.last_item: np.ndarray | None = None
        self.view: MemoryView | None = None
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(BACKGROUND)
        layout.addWidget(self.graphics)
        self.cue_grid = BitGrid(max(n_units, 1), CUE_LUT, self.toggle if n_units else None)
        self.recalled_grid = BitGrid(max(n_units, 1), COMPARE_LUT)
        self.item_grid = BitGrid(max(n_units, 1), ITEM_LUT)
        titles = ("cue (click bits)", "recalled", "stored item")
        for col, (grid, title) in enumerate(zip((self.cue_grid, self.recalled_grid, self.item_grid), titles,
                                                strict=True)):
            self.graphics.addLabel(title, row=0, col=col, size="9pt")
            box = self.graphics.addViewBox(row=1, col=col, lockAspect=True, enableMouse=False, invertY=True)
            box.addItem(grid)
            box.autoRange(padding=0.02)
            self.graphics.ci.layout.setColumnStretchFactor(col, 1)
        buttons = QtWidgets.QHBoxLayout()
        self.recall_button = QtWidgets.QPushButton("Recall")
        self.recall_button.clicked.connect(self.request_recall)
        self.half_button = QtWidgets.QPushButton("Half of the last probe")
        self.half_button.clicked.connect(self.half_of_last)
        self.clear_button = QtWidgets.QPushButton("Clear cue")
        self.clear_button.clicked.connect(self.clear)
        self.forget_button = QtWidgets.QPushButton("Forget this item")
        self.forget_button.setToolTip("forget the stored item shown, on purpose (memory.forget); the forgetting "
                                      "curve then marks its probes apart")
        self.forget_button.clicked.connect(self.request_forget)
        for b in (self.recall_button, self.half_button, self.clear_button, self.forget_button):
            b.setEnabled(n_units > 0)
            buttons.addWidget(b)
        layout.addLayout(buttons)
        self.label = QtWidgets.QLabel("no memory here" if n_units == 0 else
                                      "recalled: white = correct, blue = missed, red = extra")
        self.label.setWordWrap(True)
        layout.addWidget(self.label)
        self.dirty = False

    def toggle(self, bit: int) -> None:
        self.editing = True
        self.cue[bit] = not self.cue[bit]
        self.cue_grid.show_codes(self.cue.astype(np.uint8))

    def clear(self) -> None:
        self.editing = True
        self.cue[:] = False
        self.cue_grid.show_codes(self.cue.astype(np.uint8))

    def half_of_last(self) -> None:
        """Set the cue to the first half of the last probed item's active bits."""
        if self.last_item is None:
            return
        on = np.flatnonzero(self.last_item)
        self.editing = True
        self.cue[:] = False
        self.cue[on[: max(1, on.size // 2)]] = True
        self.cue_grid.show_codes(self.cue.astype(np.uint8))

    def request_recall(self) -> None:
        if self.cue.any():
            self.editing = False
            self.label.setText("recalling ...")
            self.recall_requested.emit(self.cue.copy())
        else:
            self.label.setText("click some cue bits first")

    def request_forget(self) -> None:
        if self.view is None or self.view.index is None:
            self.label.setText("no stored item shown to forget")
            return
        self.label.setText(f"forgetting item {self.view.index} ...")
        self.forget_requested.emit(int(self.view.index))

    def set(self, view: MemoryView) -> None:
        self.view = view
        if view.target is not None:
            self.last_item = view.target
        self.dirty = True

    def render(self) -> bool:
        if not self.dirty or self.view is None:
            return False
        v = self.view
        target = v.target if v.target is not None else np.zeros(self.n, dtype=bool)
        codes = np.where(v.recalled & target, 1, np.where(target, 2, np.where(v.recalled, 3, 0)))
        self.recalled_grid.show_codes(codes.astype(np.uint8))
        self.item_grid.show_codes(target.astype(np.uint8))
        if not self.editing:
            self.cue_grid.show_codes(v.cue.astype(np.uint8))
            self.cue = v.cue.copy()
        self.label.setText(f"{v.label} (white = correct, blue = missed, red = extra)")
        self.dirty = False
        return True


class ForgettingPanel(pg.PlotWidget):
    """Recall and recognition against interference (items stored after the probed one): the
    latest ``MAX_DOTS`` probes as dots (redrawn ``DOTS_RATE`` times a second at most), the mean of
    every probe at each interference as a line, growing as the run proceeds (running sums: a long run
    redraws as fast as a short one). Probes of items forgotten on purpose are marked apart (grey
    crosses: recall, grey squares: familiarity) and kept out of the lines, which stay the curve of
    forgetting by interference.

    Two vertical lines mark the memory's reach: the **recall horizon**, the largest interference at which
    the mean recall so far is at least ``HORIZON`` (measured live), and, for a session with a load policy,
    ``keep``: older items are forgotten on purpose."""

    HORIZON = 0.5

    def __init__(self, *, enabled: bool = True, keep: int | None = None) -> None:
        super().__init__(title="forgetting curve" if enabled else "forgetting curve: none here")
        self.setBackground(BACKGROUND)
        self.setLabel("bottom", "items stored since (interference)")
        self.setLabel("left", "accuracy")
        self.setYRange(-0.02, 1.05)
        self.addLegend(offset=(-5, 5))
        self.points: deque[CurvePoint] = deque(maxlen=MAX_DOTS)  # the latest probes, as dots
        self.sums: dict[int, list[float]] = {}  # interference -> [probes, sum recognition, sum recall]
        self.recall_dots = pg.ScatterPlotItem(size=5, pen=None, brush=pg.mkBrush(240, 120, 60, 90))
        self.addItem(self.recall_dots)
        # lines without symbols (the dots show the probes): symbols cost a ScatterPlotItem rebuilt every redraw
        self.recall_line = self.plot(pen=pg.mkPen((240, 120, 60), width=2), name="recall (Jaccard, half cue)")
        self.recog_line = self.plot(pen=pg.mkPen((90, 180, 250), width=2), name="recognition (familiarity)")
        self.forgotten: deque[CurvePoint] = deque(maxlen=MAX_DOTS)  # probes of items forgotten on purpose
        self.forgotten_recall = pg.ScatterPlotItem(size=9, symbol="x", pen=pg.mkPen((200, 200, 200), width=2),
                                                   name="forgotten items: recall")
        self.forgotten_recog = pg.ScatterPlotItem(size=7, symbol="s", pen=pg.mkPen((200, 200, 200)), brush=None,
                                                  name="forgotten items: familiarity")
        for item in (self.forgotten_recall, self.forgotten_recog):
            self.addItem(item)  # named: the legend lists it
        dashed = pg.mkPen((240, 120, 60), width=1, style=QtCore.Qt.PenStyle.DashLine)
        self.horizon = pg.InfiniteLine(angle=90, pen=dashed, label=f"recall >= {self.HORIZON:g}",
                                       labelOpts={"position": 0.12, "color": (240, 120, 60)})
        self.horizon.setVisible(False)
        self.addItem(self.horizon, ignoreBounds=True)
        self.keep = keep
        if keep is not None:
            self.addItem(pg.InfiniteLine(keep, angle=90, pen=pg.mkPen((200, 200, 200), width=1),
                                         label=f"keeps the newest {keep}", labelOpts={"position": 0.9,
                                                                                      "color": (200, 200, 200)}))
        self.dirty = False
        self._dots_drawn = -math.inf  # when the dots were last handed over (monotonic seconds)
        self._dots_stale = False  # probes came since

    def recall_horizon(self) -> float | None:
        """The largest interference whose mean recall so far is at least HORIZON (None: none is)."""
        x, _, recall = self.curve()
        good = x[recall >= self.HORIZON]
        return float(good.max()) if good.size else None

    def reset(self) -> None:
        self.points.clear()
        self.forgotten.clear()
        self.sums = {}
        self.dirty = self._dots_stale = True

    @property
    def n_points(self) -> int:
        return int(sum(s[0] for s in self.sums.values()))

    def add(self, points: tuple[CurvePoint, ...]) -> None:
        for p in points:
            if p.forgotten:
                self.forgotten.append(p)
                self.dirty = self._dots_stale = True
                continue
            self.points.append(p)
            self._dots_stale = True
            s = self.sums.setdefault(p.interference, [0, 0.0, 0.0])
            s[0] += 1
            s[1] += p.recognition
            s[2] += p.recall
            self.dirty = True

    def curve(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(interference values, mean recognition, mean recall) over every probe so far."""
        x = np.array(sorted(self.sums), dtype=float)
        s = np.array([self.sums[k] for k in sorted(self.sums)]).reshape(-1, 3)
        return x, s[:, 1] / np.maximum(s[:, 0], 1), s[:, 2] / np.maximum(s[:, 0], 1)

    def set_curve(self, x: np.ndarray, recognition: np.ndarray, recall: np.ndarray) -> None:
        """Show given mean curves (replay): no dots."""
        self.points.clear()
        self.forgotten.clear()
        self.forgotten_recall.setData([], [])
        self.forgotten_recog.setData([], [])
        self.sums = {}
        self.recall_dots.setData([], [])
        self.recall_line.setData(x, recall)
        self.recog_line.setData(x, recognition)
        self.dirty = False

    def render(self) -> bool:
        now = time.monotonic()
        dots_due = now - self._dots_drawn >= 1.0 / DOTS_RATE
        if self._dots_stale and dots_due:
            a = np.array([(p.interference, p.recall) for p in self.points]).reshape(-1, 2)
            self.recall_dots.setData(a[:, 0], a[:, 1])
            f = np.array([(p.interference, p.recall, p.recognition) for p in self.forgotten]).reshape(-1, 3)
            self.forgotten_recall.setData(f[:, 0], f[:, 1])
            self.forgotten_recog.setData(f[:, 0], f[:, 2])
            self._dots_drawn, self._dots_stale = now, False
            if not self.dirty:
                return True  # the dots held back at the last redraw
        if not self.dirty:
            return False
        x, recog, recall = self.curve()
        self.recall_line.setData(x, recall)
        self.recog_line.setData(x, recog)
        horizon = self.recall_horizon()
        self.horizon.setVisible(horizon is not None)
        if horizon is not None:
            self.horizon.setValue(horizon)
        self.dirty = False
        return True


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
