"""Panels of what a model holds (pyqtgraph): its learned weight matrices, and the cue, recalled pattern
and stored item as bit grids (clicking the cue's bits edits it)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from neurosim.viewer.frames import MemoryView
from neurosim.viewer.palette import BACKGROUND
from neurosim.viewer.qt import QtCore, QtWidgets, Signal, pg


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
