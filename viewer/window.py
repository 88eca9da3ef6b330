"""The viewer's windows: live (a session in a worker thread) and replay (a results file).

Live: the session runs in a ``QThread`` (:class:`~neurosim.viewer.worker.Worker`); the simulator's observer emits each
:class:`~neurosim.viewer.sessions.Frame` through the worker's ``frame`` signal, which Qt
queues to the interface thread; the panels take the data at once and a timer redraws
them at ``fps`` frames per second. Commands (play, pause, step, recall a cue) go to the
worker through a queue and run between operations, so the interface never waits for the
model and only the worker thread ever touches the model. (Building a session happens in the
interface thread, and stopping one waits for its operation to reach the next observer call.)
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from neurosim import backends
from neurosim.io import ensure_parent
from neurosim.viewer import replay, sessions
from neurosim.viewer.panels import PanelGrid
from neurosim.viewer.qt import QtCore, QtGui, QtWidgets
from neurosim.viewer.worker import Worker

__all__ = ["SPEEDS", "LiveWindow", "ReplayWindow", "Worker", "screenshot"]

SPEEDS = (1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0, None)


class LiveWindow(QtWidgets.QMainWindow):
    """``neurosim view --live NAME``: run a model and watch it learn, recall and forget."""

    def __init__(self, name: str = "ca3", *, backend: str = "numba", seed: int = 0, fps: float = 30.0,
                 play: bool = True, speed: float | None | str = "default", options: dict | None = None) -> None:
        super().__init__()
        if speed != "default" and speed not in SPEEDS:
            raise ValueError(f"speed = {speed!r} is not allowed: one of {list(SPEEDS)} (None: as fast as it runs)")
        self.first_speed = speed
        self.seed = seed
        self.options = dict(options or {})
        self.session: sessions.Session | None = None
        self.worker: Worker | None = None
        self.thread_: QtCore.QThread | None = None
        self.panels: PanelGrid | None = None
        self.frames_drawn = 0
        self.frames_received = 0
        self.frames_dropped = 0
        self._stuck: list = []
        self._rate = (time.monotonic(), 0)  # (since, frames drawn then) for the redraw rate shown
        self.resize(1400, 860)
        self._build_toolbar(name, backend)
        self.rate_label = QtWidgets.QLabel()
        self.status.addPermanentWidget(self.rate_label)
        self.timer = QtCore.QTimer(self)
        self.timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)  # a coarse timer may fire 5% late
        self.timer.setInterval(max(1, round(1000.0 / fps)))
        self.timer.timeout.connect(self.redraw)
        self.timer.start()
        self.start(name, backend, play=play, strict=True)

    # -- controls --------------------------------------------------------------------------------
    def _build_toolbar(self, name: str, backend: str) -> None:
        self.toolbar = bar = self.addToolBar("controls")
        bar.setMovable(False)
        bar.addWidget(QtWidgets.QLabel(" model "))
        self.model_box = QtWidgets.QComboBox()
        self.model_box.addItems(list(sessions.NAMES))
        self.model_box.setCurrentText(name)
        bar.addWidget(self.model_box)
        bar.addWidget(QtWidgets.QLabel(" backend "))
        self.backend_box = QtWidgets.QComboBox()
        self.backend_box.addItems([b for b in backends.names() if b != "brian2" and backends.is_available(b)])
        self.backend_box.setCurrentText(backend)
        bar.addWidget(self.backend_box)
        self.model_box.activated.connect(self._restart)
        self.backend_box.activated.connect(self._restart)
        bar.addSeparator()
        self.play_action = QtGui.QAction("Play", self)
        self.play_action.setCheckable(True)
        self.play_action.toggled.connect(self.set_playing)
        bar.addAction(self.play_action)
        self.step_action = QtGui.QAction("Step", self)
        self.step_action.triggered.connect(self.step)
        bar.addAction(self.step_action)
        bar.addWidget(QtWidgets.QLabel(" speed "))
        self.speed_box = QtWidgets.QComboBox()
        bar.addWidget(self.speed_box)
        self.speed_box.activated.connect(self._speed_changed)
        self.status = self.statusBar()

    def _restart(self, *_args) -> None:
        self.start(self.model_box.currentText(), self.backend_box.currentText(), play=self.play_action.isChecked())

    def _speed_changed(self, index: int) -> None:
        if self.session is not None:
            self.session.speed = SPEEDS[index]

    def set_playing(self, on: bool) -> None:
        self.play_action.setText("Pause" if on else "Play")
        self.step_action.setEnabled(not on)
        if self.worker is not None:
            self.worker.commands.put(("play", on))

    def step(self) -> None:
        if self.worker is not None:
            self.worker.commands.put(("step", None))

    def recall(self, cue: np.ndarray) -> None:
        if self.worker is not None:
            self.worker.commands.put(("recall", np.asarray(cue, dtype=bool)))

    def forget(self, index: int) -> None:
        if self.worker is not None:
            self.worker.commands.put(("forget", int(index)))

    # -- sessions --------------------------------------------------------------------------------
    def start(self, name: str, backend: str, *, play: bool = True, strict: bool = False) -> None:
        """Stop the current session and start ``name`` on ``backend``. A session that cannot start
        is reported in the status bar, or raised when ``strict`` (the first one, from the command line)."""
        self.stop()
        try:
            session = sessions.create(name, backend=backend, seed=self.seed, **self.options.get(name, {}))
        except (ValueError, TypeError, ImportError) as exc:
            if strict:
                raise
            self.status.showMessage(f"cannot start {name} on {backend}: {exc}")
            return
        self.session = session
        with QtCore.QSignalBlocker(self.backend_box):  # the engines this session runs on
            self.backend_box.clear()
            self.backend_box.addItems([b for b in session.engines if backends.is_available(b)])
            self.backend_box.setCurrentText(backend)
        self.backend_box.setEnabled(self.backend_box.count() > 1)
        self.play_action.setEnabled(True)
        unit = "ms" if session.time_unit == "ms" else "patterns"
        self.speed_box.clear()
        self.speed_box.addItems([f"{s:g} {unit}/s" if s else "as fast as it runs" for s in SPEEDS])
        if self.first_speed != "default":  # the speed asked for on the command line, for the first session
            session.speed, self.first_speed = self.first_speed, "default"
        self.speed_box.setCurrentIndex(SPEEDS.index(session.speed))
        weight_axes = ("post", "pre") if name in sessions.SPIKING else ("unit / cell", "unit")
        self.panels = PanelGrid(session.populations, session.traced, session.weight_names, session.n_units,
                                bin=session.bin, window=session.window, time_unit=session.time_unit,
                                weight_axes=weight_axes, curve=session.has_curve, weight_unit=session.weight_unit,
                                keep=session.keep,
                                dynamics=isinstance(session, sessions.ActivitySession))
        self.panels.memory.recall_requested.connect(self.recall)
        self.panels.memory.forget_requested.connect(self.forget)
        self.setCentralWidget(self.panels)
        self.setWindowTitle(f"neurosim: {session.title}")
        self.worker = Worker(session)
        self.worker.draw_period = self.timer.interval() / 1000.0
        self.thread_ = QtCore.QThread(self)
        self.worker.moveToThread(self.thread_)
        self.thread_.started.connect(self.worker.loop)
        self.worker.finished.connect(self.thread_.quit)
        self.worker.frame.connect(self.on_frame)
        self.worker.message.connect(self.status.showMessage)
        self.worker.failed.connect(self.on_failed)
        self.worker.ended.connect(self.on_ended)
        self.thread_.start()
        self.status.showMessage(f"{session.title}: press Play, or Step for one operation")
        with QtCore.QSignalBlocker(self.play_action):
            self.play_action.setChecked(play)
        self.set_playing(play)

    def stop(self) -> None:
        """Stop the worker (aborting a running operation) and wait for its thread."""
        if self.session is not None:
            self.session.stop()
        if self.worker is not None:
            self.worker.commands.put(("quit", None))
        stuck = False
        if self.thread_ is not None:
            self.thread_.quit()
            if self.thread_.wait(10_000):
                self.thread_.deleteLater()
            else:  # an operation that does not reach its observer: never free what it still uses
                stuck = True
                self._stuck.append((self.thread_, self.worker, self.session))
                self.status.showMessage("the previous session did not stop within 10 s; it is left to finish")
        if self.session is not None and not stuck:
            self.session.close()
        self.session = self.worker = self.thread_ = None

    def on_frame(self, payload: tuple[Worker, sessions.Frame]) -> None:
        worker, frame = payload
        worker.taken += 1
        if worker is not self.worker:  # queued before its session was replaced: not for these panels
            self.frames_dropped += 1
            return
        self.frames_received += 1
        if self.panels is not None:
            self.panels.apply(frame)

    def on_ended(self) -> None:
        with QtCore.QSignalBlocker(self.play_action):
            self.play_action.setChecked(False)
        self.play_action.setText("Play")
        self.play_action.setEnabled(False)
        self.step_action.setEnabled(False)

    def on_failed(self, text: str) -> None:
        self.status.showMessage(f"stopped: {text}")
        with QtCore.QSignalBlocker(self.play_action):
            self.play_action.setChecked(False)
        self.play_action.setText("Play")
        self.play_action.setEnabled(False)  # the worker has ended: choose a model or backend to restart
        self.step_action.setEnabled(False)

    def redraw(self) -> None:
        worker = self.worker
        if worker is not None:
            worker.window_drawing = True  # the model waits at its next pacing point
            worker.window_drew = time.monotonic()
        try:
            if self.panels is not None and self.panels.render():
                # pyqtgraph's scenes paint from posted events: deliver them, then paint now, while the model
                # waits, not at a later event when the model's thread competes for the interpreter
                QtCore.QCoreApplication.sendPostedEvents()
                self.panels.repaint()
                self.frames_drawn += 1
        finally:
            if worker is not None:
                worker.window_drawing = False
        since, drawn = self._rate
        now = time.monotonic()
        if now - since >= 1.0:
            model = ""
            if self.panels is not None and self.session is not None:
                t = (self.panels.raster.head + 1) * self.panels.raster.bin
                model = f", t = {t:g} {self.session.time_unit}"
            self.rate_label.setText(f"{(self.frames_drawn - drawn) / (now - since):.0f} redraws/s, "
                                    f"{self.frames_received} frames{model}")
            self._rate = (now, self.frames_drawn)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.timer.stop()
        self.stop()
        super().closeEvent(event)


class ReplayWindow(QtWidgets.QMainWindow):
    """``neurosim view FILE``: any neurosim results file, with a time slider."""

    def __init__(self, path: str | Path, *, window: float | None = None, fps: float = 30.0) -> None:
        super().__init__()
        self.path = Path(path)
        self.meta, self.views = replay.open_views(self.path)
        self.window_width = window
        self.panels: PanelGrid | None = None
        self.resize(1400, 860)
        bar = self.addToolBar("replay")
        bar.setMovable(False)
        bar.addWidget(QtWidgets.QLabel(" record "))
        self.record_box = QtWidgets.QComboBox()
        self.record_box.addItems([v.label for v in self.views])
        self.record_box.activated.connect(self.show_record)
        bar.addWidget(self.record_box)
        self.play_action = QtGui.QAction("Play", self)
        self.play_action.setCheckable(True)
        self.play_action.toggled.connect(lambda on: self.play_action.setText("Pause" if on else "Play"))
        bar.addAction(self.play_action)
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.slider.setMinimumWidth(500)
        self.slider.valueChanged.connect(self.seek)
        bar.addWidget(self.slider)
        self.position_label = QtWidgets.QLabel()
        bar.addWidget(self.position_label)
        self.status = self.statusBar()
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(max(1, round(1000.0 / fps)))
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        self.show_record(0)

    @property
    def current(self) -> replay.RecordView:
        return self.views[self.record_box.currentIndex()]

    def show_record(self, index: int) -> None:
        self.record_box.setCurrentIndex(index)
        v = self.current
        width = self.window_width or max(v.bin, min(v.t_end + v.bin, 300.0 * max(v.bin, 1.0)))
        self.width_ = width
        self.panels = PanelGrid(v.populations, v.traced, v.weight_names, 0, bin=v.bin, window=width,
                                time_unit="ms", weight_axes=("snapshot", "synapse"), memory=False)
        if v.curve is not None:
            self.panels.forgetting.setTitle("forgetting curve")
        self.panels.memory.label.setText("replay: cues are given in live mode (neurosim view --live NAME)")
        self.setCentralWidget(self.panels)
        self.slider.setRange(0, max(v.steps - 1, 0))
        self.setWindowTitle(f"neurosim: {self.path.name} ({v.label})")
        experiment = self.meta.get("command_line", "")
        self.status.showMessage(f"{self.path}: {len(self.views)} record(s) to show; {experiment}")
        self.slider.setValue(self.slider.maximum())
        self.seek(self.slider.value())

    def seek(self, position: int) -> None:
        """Show the record at slider ``position``."""
        v = self.current
        self.panels.raster.reset()
        self.panels.traces.reset()
        frame = v.frame_at(position, self.width_)
        self.panels.apply(frame)
        if v.curve is not None:
            self.panels.forgetting.set_curve(*v.curve_until(position))
        if v.timed:
            self.position_label.setText(f" t = {position * v.bin:g} ms of {v.t_end:g} ms")
        else:
            x = v.curve[0]
            self.position_label.setText(f" interference step {position + 1} of {len(x)}: {x[position]:g} items")
        self.panels.render()

    def _tick(self) -> None:
        if self.play_action.isChecked():
            if self.slider.value() >= self.slider.maximum():
                self.play_action.setChecked(False)
            else:
                step = max(1, round(self.slider.maximum() / 300)) if self.current.timed else 1
                self.slider.setValue(min(self.slider.maximum(), self.slider.value() + step))


def screenshot(widget: QtWidgets.QWidget, path: str | Path) -> Path:
    """Save what ``widget`` shows to a PNG file."""
    path = Path(path)
    ensure_parent(path)
    if not widget.grab().save(str(path)):
        raise OSError(f"could not write {path}")
    return path
