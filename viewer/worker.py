"""The live window's worker: runs a session's operations in its own ``QThread`` and sends their frames.

The simulator's observer emits each :class:`~neurosim.viewer.frames.Frame` through the worker's
``frame`` signal, which Qt queues to the interface thread (at most ``SEND_RATE`` a second: faster
ones are merged). Commands (play, pause, step, recall a cue) go to the worker through a queue and
run between operations, so the interface never waits for the model and only the worker thread ever
touches the model. The worker also paces the model around the window's redraws (the comment on
``DRAW_LEAD_S``).
"""

from __future__ import annotations

import math
import queue
import time

from neurosim.viewer import sessions
from neurosim.viewer.qt import QtCore, Signal

MAX_IN_FLIGHT = 120
# frames (and status messages) a worker sends per wall second at most; faster ones are merged
# (sessions.merge), so a model at full speed costs the interface thread no more than this
SEND_RATE = 60.0
# pacing the model for the window: from DRAW_LEAD_S before a redraw is due (the last one started
# a timer period, 1 / --fps, ago) until it starts, and for the first DRAW_WAIT_S of the redraw itself (its
# timer's handler: taking the frames' data into the panels, then painting them), the worker
# sleeps at its next pacing point, releasing the interpreter, up to MAX_YIELD_S each time; it
# first sends what it holds, so the redraw has new data. The timer's handler needs the
# interpreter to start: a worker that waited for the last draw's *end* plus a period (as it first
# did) held it when the timer fired, and the draws came every 45 ms instead of 33. A worker that
# waited for the whole draw starved a model whose draws take the whole period (the 10k-neuron
# core: 31 ms), which then had no new frame for the next; one that did not wait at all slowed
# the paint of a model whose Python competes for the interpreter (CA3). Measured in
# docs/benchmarks.md (live sessions)
DRAW_LEAD_S = 0.004
DRAW_WAIT_S = 0.02
MAX_YIELD_S = 0.05


class Worker(QtCore.QObject):
    """Runs a session's operations in its own thread (see the module docstring)."""

    frame = Signal(object)  # (this worker, a Frame): the window drops frames of a worker it replaced
    message = Signal(str)
    failed = Signal(str)
    ended = Signal()     # the session has no more operations (a published experiment is over)
    finished = Signal()  # the loop returned

    def __init__(self, session: sessions.Session) -> None:
        super().__init__()
        self.session = session
        session.emit = self.send
        self.commands: queue.Queue = queue.Queue()
        self.playing = False
        self.operations = 0
        # frames sent (written by the worker thread only) and taken (by the interface thread only)
        self.sent = 0
        self.taken = 0
        self._held: sessions.Frame | None = None  # frames merged since the last one sent
        self._held_message = ""
        self._last_sent = -math.inf
        self.window_drawing = False  # set by the window while it draws
        self.window_drew = time.monotonic()  # when it last started drawing
        self.draw_period = 1.0 / 30.0  # the window's timer period (s); the window sets its own
        session.yield_to_window = self.yield_to_window

    def yield_to_window(self) -> None:
        """Sleep while the window is about to draw or has just started (the pacing comment above), at most
        ``MAX_YIELD_S``."""
        def waiting() -> bool:
            since = time.monotonic() - self.window_drew
            return (self.window_drawing and since < DRAW_WAIT_S) or since > self.draw_period - DRAW_LEAD_S

        if waiting():
            self.flush()  # what the model made since the last frame sent goes into this draw
        until = time.monotonic() + MAX_YIELD_S
        while waiting() and time.monotonic() < until and not self.session.stopped:
            time.sleep(0.001)

    def send(self, frame: sessions.Frame) -> None:
        """Hold ``frame``, merged with those held since the last one sent; send at most ``SEND_RATE``
        a second (and whenever the worker goes idle: :meth:`flush`)."""
        self._held = sessions.merge(self._held, frame)
        if time.monotonic() - self._last_sent >= 1.0 / SEND_RATE:
            self.flush()

    def say(self, text: str) -> None:
        """A status message, sent with the next frame (at most ``SEND_RATE`` a second)."""
        self._held_message = text
        if time.monotonic() - self._last_sent >= 1.0 / SEND_RATE:
            self.flush()

    def flush(self) -> None:
        """Queue what is held to the window, waiting while it has ``MAX_IN_FLIGHT`` frames still to take: a
        model that makes frames faster than the window takes them is slowed down instead of filling memory."""
        if self._held is not None:
            while self.sent - self.taken >= MAX_IN_FLIGHT and not self.session.stopped:
                time.sleep(0.002)
            self.sent += 1
            self.frame.emit((self, self._held))
            self._held = None
        if self._held_message:
            self.message.emit(self._held_message)
            self._held_message = ""
        self._last_sent = time.monotonic()

    def loop(self) -> None:
        try:
            while not self.session.stopped:
                if not self.playing:
                    self.flush()  # idle: what the last operation made goes out now
                try:
                    cmd, arg = self.commands.get_nowait() if self.playing else self.commands.get(timeout=0.05)
                except queue.Empty:
                    if not self.playing:
                        continue
                    cmd, arg = "step", None
                if cmd == "quit":
                    break
                if cmd == "play":
                    self.playing = bool(arg)
                elif cmd == "step":
                    self.yield_to_window()
                    self.say(self.session.step())
                    self.operations += 1
                    if self.session.finished:
                        self.playing = False
                        self.flush()
                        self.ended.emit()
                elif cmd in ("recall", "forget"):
                    try:
                        self.say(getattr(self.session, cmd)(arg).label)
                    except (TypeError, ValueError, NotImplementedError) as exc:  # cannot do that here: say so, go on
                        self.say(f"cannot {cmd}: {exc}")
                    self.flush()
        except sessions.Stopped:
            pass
        except Exception as exc:  # shown in the status bar; the window stays usable
            self.flush()
            self.failed.emit(f"{type(exc).__name__}: {exc}")
        finally:
            self.finished.emit()
