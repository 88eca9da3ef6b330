"""``neurosim bench viewer``: redraw rate of the viewer with a 10 000-neuron raster.

Spikes come from a real run of the core's E/I network (:func:`neurosim.bench.core_network`,
numba) simulated before the clock starts, so only drawing is timed. One frame advances
the raster by ``frame_ms`` of spikes, updates the items (``render``), paints the widget
at once (``QWidget.repaint``) and lets Qt process its events (the paints it queued),
as the live window's redraw timer does. Three rows, side by side in one process:

* ``image``: neurosim's raster panel (a ring buffer of bins drawn as one ``ImageItem``);
* ``scatter``: the anchor, the usual pyqtgraph raster (one ``ScatterPlotItem`` symbol per
  spike in the window, ``setData`` each frame);
* ``window``: the whole live panel grid (raster, traces, weight heatmap, memory and
  forgetting panels) fed the core session's own frames (one per ms of model time,
  ``frame_ms`` of them per redraw).

:func:`live` adds a row per live session (``live ca3``, ``live hopfield``, ...): the real live
window, its model at full speed in the worker thread on the same cores, for ``seconds`` of wall
time; redraws per second (the 30 Hz timer draws only when a frame brought something new) and
the model's progress.
"""

from __future__ import annotations

import os
import platform
import time

import numpy as np


def _offscreen_without_display() -> None:
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


class _ScatterRaster:
    """The anchor: a raster drawn as one scatter symbol per spike in the window."""

    def __init__(self, populations: dict[str, int], window: float) -> None:
        from neurosim.viewer.qt import pg

        self.widget = pg.PlotWidget(title="spikes (scatter)")
        self.item = pg.ScatterPlotItem(size=2, pen=None, brush=pg.mkBrush(250, 200, 60), pxMode=True,
                                       symbol="s")
        self.widget.addItem(self.item)
        self.offsets = dict(zip(populations, np.cumsum([0, *populations.values()])[:-1], strict=True))
        self.window = window
        self.t = np.zeros(0)
        self.y = np.zeros(0)

    def add(self, population: str, times: np.ndarray, ids: np.ndarray) -> None:
        self.t = np.concatenate([self.t, times])
        self.y = np.concatenate([self.y, ids + self.offsets[population]])

    def render(self, t_now: float) -> None:
        keep = self.t >= t_now - self.window
        self.t, self.y = self.t[keep], self.y[keep]
        self.item.setData(self.t, self.y)
        self.widget.setXRange(t_now - self.window, t_now, padding=0)


def bench(*, n: int = 10_000, window_ms: float = 500.0, frame_ms: float = 10.0, frames: int = 120, seed: int = 0,
          log=print) -> list[dict]:
    """Frames per second of each row (see the module docstring)."""
    _offscreen_without_display()
    from neurosim import Simulator
    from neurosim.bench import core_network, machine
    from neurosim.viewer import sessions
    from neurosim.viewer.panels import PanelGrid, RasterPanel
    from neurosim.viewer.qt import application

    app = application()
    duration = window_ms + frames * frame_ms
    log(f"simulating {n} neurons for {duration:g} ms (numba) for the spikes to draw ...")
    sim = Simulator(core_network(n), backend="numba", seed=seed)
    sim.run(duration)
    spikes = {p: sim.spikes(p) for p in ("exc", "inh")}
    populations = {p: sim.network.node(p).size for p in spikes}
    in_window = sum(int(np.count_nonzero(t >= duration - window_ms)) for t, _ in spikes.values())
    rows = []

    def timed(name: str, widget, feed, render) -> None:
        widget.resize(1400, 600)
        widget.show()
        feed(0.0, window_ms)  # fill the first window before the clock starts
        render(window_ms)
        widget.repaint()
        app.processEvents()
        t = window_ms
        start = time.perf_counter()
        for _ in range(frames):
            feed(t, t + frame_ms)
            t += frame_ms
            render(t)
            widget.repaint()
            app.processEvents()
        wall = time.perf_counter() - start
        widget.close()
        rows.append({"row": name, "neurons": n, "window_ms": window_ms, "frame_ms": frame_ms, "frames": frames,
                     "fps": frames / wall, "ms_per_frame": 1000.0 * wall / frames})
        log(f"{name:<8} {frames / wall:8.1f} frames/s  {1000.0 * wall / frames:7.2f} ms/frame")

    def feeder(add):
        def feed(t0: float, t1: float) -> None:
            for p, (t, i) in spikes.items():
                sel = (t >= t0) & (t < t1)
                add(p, t[sel], i[sel])
        return feed

    raster = RasterPanel(populations, bin=1.0, window=window_ms)

    def render_image(t: float) -> None:
        raster.advance(t)
        raster.render()

    timed("image", raster, feeder(raster.add), render_image)
    scatter = _ScatterRaster(populations, window_ms)
    timed("scatter", scatter.widget, feeder(scatter.add), scatter.render)

    recorded: list[sessions.Frame] = []
    session = sessions.create("core", n=n, seed=seed, emit=recorded.append)
    session.speed = None
    # a frame per ms, whatever the wall clock: the same spikes and traces every run (weight matrices
    # still come every 0.5 s of wall time, so how many of them there are varies a little)
    session.feed.min_interval_s = 0.0
    log(f"recording the core session's frames ({duration:g} ms) ...")
    while session.sim.t_ms < duration:
        session.step()
    grid = PanelGrid(session.populations, session.traced, session.weight_names, 0, bin=session.bin,
                     window=window_ms, time_unit="ms")
    by_ms = {round(f.t): f for f in recorded}

    def feed_grid(t0: float, t1: float) -> None:
        for ms in range(round(t0) + 1, round(t1) + 1):
            if ms in by_ms:
                grid.apply(by_ms[ms])

    timed("window", grid, feed_grid, lambda t: grid.render())
    for r in rows:
        r["vs_scatter"] = r["fps"] / rows[1]["fps"]
        r["spikes_in_window"] = in_window
    log(f"{in_window} spikes in the last {window_ms:g} ms window; {machine()}; Qt platform "
        f"{os.environ.get('QT_QPA_PLATFORM', 'default')}, Python {platform.python_version()}")
    return rows


LIVE = ("ca3", "hopfield", "sparsey", "core")


def live(names: tuple[str, ...] = LIVE, *, seconds: float = 10.0, warmup: float = 3.0, seed: int = 0,
         log=print) -> list[dict]:
    """Redraws per second of the live window for each session at full speed (module docstring), counted after
    ``warmup`` seconds of running (compiling and filling the panels)."""
    _offscreen_without_display()
    from neurosim.viewer.qt import QtCore, application
    from neurosim.viewer.window import LiveWindow

    app = application()
    rows = []
    for name in names:
        window = LiveWindow(name, seed=seed, speed=None)
        window.show()
        app.processEvents()
        session = window.session  # the window lets go of it when the event loop quits
        mark: dict[str, float] = {}
        QtCore.QTimer.singleShot(round(1000 * warmup), lambda w=window, m=mark: m.update(
            start=time.monotonic(), drawn=w.frames_drawn, received=w.frames_received))
        QtCore.QTimer.singleShot(round(1000 * (warmup + seconds)), app.quit)
        app.exec()
        wall = time.monotonic() - mark["start"]
        drawn = mark["drawn"]
        progress = (f"{len(session.items)} items" if hasattr(session, "items")
                    else f"{(window.panels.raster.head + 1) * window.panels.raster.bin:g} ms")
        rows.append({"row": f"live {name}", "seconds": wall, "fps": (window.frames_drawn - drawn) / wall,
                     "frames_received": window.frames_received - mark["received"], "progress": progress})
        log(f"live {name:<9} {rows[-1]['fps']:6.1f} redraws/s over {wall:.1f} s, {window.frames_received} frames, "
            f"model: {progress}")
        window.close()
        app.processEvents()
    return rows
