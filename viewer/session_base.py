"""The base of every live session: pacing, stopping and the description of the panels, without Qt.

A session owns one model (and, for spiking models, its :class:`~neurosim.Simulator`)
and runs in the viewer's worker thread. Every call of :meth:`Session.step` performs
one operation (a learn and a probe of an older item; 100 ms of a core network) and
reports through ``emit(frame)`` (a :class:`~neurosim.viewer.frames.Frame`). :meth:`Session._pace`
paces the run to ``speed`` time units per wall-clock second and aborts it (:class:`Stopped`)
when the viewer closes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from neurosim.viewer.frames import Frame, MemoryView

SPIKING_ENGINES = ("numba", "reference", "torch")  # the spiking sessions' backends (Brian2: too slow to watch)


class Stopped(Exception):  # noqa: N818 (a request, not an error)
    """Raised inside a run when the session was asked to stop."""


Emit = Callable[[Frame], None]


class Session:
    """Base of every live session: pacing, stopping and the description of the panels.

    Subclasses set ``populations`` (raster rows, in order), ``traced`` ((population, index) pairs), ``weight_names``,
    ``n_units`` (0: no memory panel), ``time_unit``, ``bin`` (raster column width) and
    ``window`` (raster width), all in ``time_unit``.
    """

    name = ""
    title = ""
    time_unit = "ms"
    bin = 1.0
    window = 300.0
    default_speed: float | None = 100.0
    has_curve = True     # probes feed the forgetting curve
    finished = False     # a session with an end (a published experiment) sets this when it is over
    weight_unit = "nA"   # what the weight panel's colours measure
    engines: tuple[str, ...] = SPIKING_ENGINES  # the backends it runs on (the viewer's backend box)
    keep: int | None = None  # load policy: items older than this many are forgotten on purpose (forget)

    def __init__(self, emit: Emit | None = None) -> None:
        self.emit: Emit = emit or (lambda frame: None)
        self.populations: dict[str, int] = {}
        self.traced: tuple[tuple[str, int], ...] = ()
        self.weight_names: tuple[str, ...] = ()
        self.n_units = 0
        self.speed: float | None = self.default_speed  # time units per wall second; None: as fast as it goes
        # called at every pacing point: the viewer's worker sets it to wait while the window is behind
        self.yield_to_window: Callable[[], None] = lambda: None
        self._stop = threading.Event()
        self._clock: tuple[float, float, float | None] | None = None

    # -- what the viewer calls (from its worker thread) -------------------------------------------
    def step(self) -> str:
        """Run one operation; returns a one-line description."""
        raise NotImplementedError

    def recall(self, cue: np.ndarray) -> MemoryView:
        raise TypeError(f"the {self.name} session has no memory to recall from")

    def forget(self, index: int) -> MemoryView:
        raise TypeError(f"the {self.name} session has no memory to forget from")

    def stop(self) -> None:
        """Ask a running operation to stop (any thread); it raises :class:`Stopped` in the runner."""
        self._stop.set()

    def close(self) -> None:
        self.stop()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def _pace(self, t: float) -> None:
        """Sleep so that model time ``t`` advances at ``speed`` per wall second (from the first call
        of the current operation); raise :class:`Stopped` when asked to stop."""
        if self._stop.is_set():
            raise Stopped
        self.yield_to_window()
        speed = self.speed
        now = time.monotonic()
        if speed is None:
            self._clock = None
            return
        if self._clock is None or self._clock[2] != speed:
            self._clock = (now, t, speed)
            return
        due = self._clock[0] + (t - self._clock[1]) / speed
        if due < now - 0.25:  # the model runs slower than asked: do not catch up in a burst
            self._clock = (now, t, speed)
            return
        while due > time.monotonic():
            if self._stop.wait(min(0.05, max(0.0, due - time.monotonic()))):
                raise Stopped

    def _new_operation(self) -> None:
        self._clock = None  # time spent paused between operations is not caught up
