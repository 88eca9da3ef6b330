"""The forgetting-curve panel (pyqtgraph): recall and recognition against interference."""

from __future__ import annotations

import math
import time
from collections import deque

import numpy as np

from neurosim.viewer.frames import CurvePoint
from neurosim.viewer.palette import BACKGROUND
from neurosim.viewer.qt import QtCore, pg

MAX_DOTS = 2000
# the forgetting curve's dots (probes, and probes of forgotten items) are redrawn at most this often (a
# second): handing 2000 dots to pyqtgraph's ScatterPlotItem takes about 4 ms, most of a live redraw's
# budget; the mean lines, cheap, follow every redraw
DOTS_RATE = 4.0


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
