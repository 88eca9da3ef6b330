"""The observer that turns a running simulator into frames: :class:`SpikeFeed`, and :func:`weight_matrix`.

Spiking sessions attach an observer to their
simulator (:meth:`neurosim.Simulator.add_observer`), called every ``frame_steps``
ticks while the operation runs. It paces the run to ``speed`` time units per
wall-clock second, aborts it (:class:`~neurosim.viewer.session_base.Stopped`) when the viewer closes,
and sends a frame at most ``max_rate`` times per wall second (and at the end of each operation):
the spikes of every population and the membrane samples of the traced neurons since
the previous frame (none is lost by sending fewer frames) and, at most every
``weights_interval_s``, the learned weight matrices. Building a frame is Python
work that holds the interpreter's lock, so sending more frames than the window can
draw would only slow both the model and the window.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np

from neurosim import _checks as ck
from neurosim.simulator import Simulator
from neurosim.viewer.frames import _EMPTY, Frame
from neurosim.viewer.session_base import Session

# recorded model time a live simulator keeps (its operations read back only their own spikes)
KEEP_MS = 2000.0
MAX_RATE = 60.0  # frames per wall second a session sends while an operation runs
# after sending a frame the worker sleeps this long, releasing the interpreter lock: at full speed
# the window then gets its turn to draw (CA3 at --speed max: about 20 -> 25 redraws/s, measured)
YIELD_S = 0.003


def weight_matrix(sim: Simulator, projection: str, max_side: int = 128) -> np.ndarray:
    """The weights (nA) of ``projection`` as a (pre, post) matrix, NaN where no synapse exists;
    a side longer than ``max_side`` is split into equal blocks whose synapses are averaged."""
    ck.count("max_side", max_side, minimum=2)
    proj = sim.network.projection(projection)
    c = sim.network.connections(projection)  # connector order, as sim.weights gives them
    pre, post = c.pre, c.post
    n_pre, n_post = sim.network.node(proj.pre).size, sim.network.node(proj.post).size
    bp, bq = -(-n_pre // max_side), -(-n_post // max_side)
    rows, cols = -(-n_pre // bp), -(-n_post // bq)
    flat = (pre // bp) * cols + post // bq
    sums = np.bincount(flat, weights=sim.weights(projection), minlength=rows * cols)
    counts = np.bincount(flat, minlength=rows * cols)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan).reshape(rows, cols)


class SpikeFeed:
    """The observer that turns a running simulator into frames (see the module docstring)."""

    def __init__(self, session: Session, sim: Simulator, populations: Sequence[str],
                 traced: Sequence[tuple[str, int]], weights: Sequence[str], *, frame_steps: int,
                 max_rate: float = MAX_RATE, weights_interval_s: float = 0.05, max_side: int = 128) -> None:
        self.session, self.sim = session, sim
        self.populations = tuple(populations)
        self.traced = tuple(traced)
        self.weights = tuple(weights)
        self.min_interval_s = 1.0 / ck.positive("max_rate", max_rate, "frames per second")
        self.weights_interval_s = ck.non_negative("weights_interval_s", weights_interval_s, "s")
        self.max_side = max_side
        self.last_ms = sim.t_ms
        self._sent = self._weights_sent = -math.inf
        self._trace_pops = tuple(dict.fromkeys(p for p, _ in self.traced))
        for p in self.populations:  # fail here, not at the first frame in the worker
            sim.spikes(p, since_ms=sim.t_ms)
        for p, i in self.traced:
            if i not in sim.state(p, since_ms=sim.t_ms).ids:
                ck.fail("traced", (p, i), f"a neuron of a StateMonitor on {p!r}")
        for w in self.weights:
            sim.network.projection(w)
        sim.add_observer(self._observe, ck.count("frame_steps", frame_steps))

    def matrices(self) -> dict[str, np.ndarray]:
        return {w: weight_matrix(self.sim, w, self.max_side) for w in self.weights}

    def _observe(self, sim: Simulator) -> None:
        if time.monotonic() - self._sent >= self.min_interval_s:
            self.flush()
            if self.min_interval_s:  # not when every tick is a frame (the viewer benchmark records so)
                time.sleep(YIELD_S)
        self.session._pace(sim.t_ms)

    def flush(self) -> None:
        """Send what happened since the last frame (nothing when nothing did)."""
        if self.sim.t_ms > self.last_ms:
            self.session.emit(self.frame())

    def frame(self) -> Frame:
        """The spikes and samples since the previous frame (and the weights, when
        ``weights_interval_s`` has passed since they were last sent)."""
        sim, since, now = self.sim, self.last_ms, self.sim.t_ms
        spikes = {}
        for p in self.populations:
            t, i = sim.spikes(p, since_ms=since)
            spikes[p] = (t[t < now], i[t < now])
        times, values = _EMPTY, np.zeros((0, len(self.traced)))
        if self.traced:
            records = {p: sim.state(p, since_ms=since) for p in self._trace_pops}
            times = records[self._trace_pops[0]].times_ms
            values = np.column_stack([records[p].values["v_mV"][:, records[p].ids.index(i)]
                                      for p, i in self.traced])
        sim.discard_recordings(now - KEEP_MS)  # a live run of hours keeps only its recent past
        weights = {}
        self._sent = time.monotonic()
        if self._sent - self._weights_sent >= self.weights_interval_s:
            weights, self._weights_sent = self.matrices(), self._sent
        self.last_ms = now
        return Frame(t=now, spikes=spikes, trace_times=times, traces=values, weights=weights)
