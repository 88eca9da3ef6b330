"""Live sessions: a model run step by step that reports :class:`Frame` s, without Qt.

This module holds the session of each model (:class:`CA3Session`, :class:`ScheduleSession` for the
published CA3 experiments, :class:`CoreSession`, the Hopfield and Sparsey activity sessions) and
:func:`create`, which makes one by name. The pieces they are built of live in their own modules and
are importable from here too:

- :mod:`neurosim.viewer.frames`: what a session reports (:class:`Frame`, :class:`MemoryView`,
  :class:`CurvePoint`, :class:`Dynamics`, :func:`merge`);
- :mod:`neurosim.viewer.session_base`: the base :class:`Session` (pacing, stopping: :class:`Stopped`);
- :mod:`neurosim.viewer.feeds`: :class:`SpikeFeed`, the observer that turns a running simulator into
  frames, and :func:`weight_matrix`;
- :mod:`neurosim.viewer.memory_sessions`: :class:`MemorySession` (the memory protocol: store, probe,
  recall on request) and :class:`ActivitySession` (a non-spiking memory's activity).

Nothing here imports Qt: the sessions are tested and benchmarked without a window.
"""

from __future__ import annotations

import numpy as np

from neurosim import _checks as ck
from neurosim.memory import jaccard
from neurosim.network import Network, StateMonitor
from neurosim.simulator import Simulator
from neurosim.viewer.feeds import KEEP_MS, MAX_RATE, YIELD_S, SpikeFeed, weight_matrix
from neurosim.viewer.frames import CurvePoint, Dynamics, Frame, MemoryView, merge
from neurosim.viewer.memory_sessions import ActivitySession, MemorySession
from neurosim.viewer.session_base import SPIKING_ENGINES, Emit, Session, Stopped

__all__ = [
    "HOPFIELD_ENGINES", "HOPFIELD_MODELS", "KEEP_MS", "MAX_RATE", "NAMES", "PUBLISHED", "SPARSEY_KEEP",
    "SPARSEY_MODELS", "SPIKING", "SPIKING_ENGINES", "YIELD_S", "ActivitySession", "CA3Session", "CoreSession",
    "CurvePoint", "Dynamics", "Emit", "Frame", "MemorySession", "MemoryView", "ScheduleSession", "Session",
    "SpikeFeed", "Stopped", "create", "merge", "weight_matrix",
]

HOPFIELD_ENGINES = ("numba", "torch")  # the non-spiking memories' engines


class CA3Session(MemorySession):
    """The spiking CA3 content-addressable memory, keyed by its cues (see :mod:`neurosim.models.ca3`)."""

    name = "ca3"
    title = "spiking CA3 content-addressable memory"
    ages = (0, 1, 2, 3, 4, 6, 8, 10, 12, 16)
    # cells whose input is learned (cue -> content) and the read-out; cueContRecall swings to about
    # -800 mV under its 6 m nA lateral inhibition (IF_curr_exp has no reversal potential) and would
    # flatten the others' scale
    TRACED = (("contCueRecall", 0), ("contCueRecall", 1), ("contContRecall", 0), ("output", 0))
    LEARNED = ("learned_cue_to_content", "learned_content_to_cue")

    def __init__(self, *, n_cues: int = 8, n_bits: int = 36, active: int = 5, backend: str = "numba",
                 seed: int = 0, emit: Emit | None = None) -> None:
        from neurosim.models.ca3 import POPULATIONS, CA3Memory

        monitors = [StateMonitor(p, tuple(i for q, i in self.TRACED if q == p))
                    for p in dict.fromkeys(p for p, _ in self.TRACED)]
        # reads="live": the probes run on the circuit the raster shows (learning off), not on a frozen copy
        memory = CA3Memory(n_cues, n_bits, backend=backend, seed=seed, reads="live", monitors=monitors)
        super().__init__(memory, n_bits, active, seed=seed, emit=emit)
        names = ("in_cue", "in_content", *POPULATIONS)
        self.populations = {p: memory.network.node(p).size for p in names}
        self.traced = self.TRACED
        self.weight_names = self.LEARNED
        self.title = f"{self.title}: {n_cues} cues x {n_bits} bits ({backend})"
        self.feed = SpikeFeed(self, memory.sim, names, self.TRACED, self.LEARNED, frame_steps=1)

    def now(self) -> float:
        self.feed.flush()  # the operation's last spikes go before its result
        return self.memory.t_ms

    def matrices(self) -> dict[str, np.ndarray]:
        return self.feed.matrices()


class ScheduleSession(Session):
    """A published CA3 experiment (:mod:`neurosim.experiments.ca3_published`) played one operation
    per step, on the paper's circuit (STDP always on), with the dictionary oracle's answer beside
    the network's. Its spikes are those of ``neurosim run NAME``: the same inputs at the same
    ticks, run in pieces (which does not change a simulation's result)."""

    has_curve = False
    default_speed = 30.0

    def __init__(self, name: str, *, backend: str = "numba", seed: int = 0, emit: Emit | None = None) -> None:
        from neurosim.experiments.ca3_published import EXPERIMENTS
        from neurosim.models.ca3 import POPULATIONS, CA3Memory
        from neurosim.models.ca3_oracle import DictOracle

        super().__init__(emit)
        self.name = name
        n, m, self.schedule, self.duration = EXPERIMENTS[name].setup()
        monitors = [StateMonitor(p, tuple(i for q, i in CA3Session.TRACED if q == p))
                    for p in dict.fromkeys(p for p, _ in CA3Session.TRACED)]
        self.memory = CA3Memory(n, m, backend=backend, seed=seed, plastic_recall=True, monitors=monitors)
        self.oracle = DictOracle()
        names = ("in_cue", "in_content", *POPULATIONS)
        self.populations = {p: self.memory.network.node(p).size for p in names}
        self.traced = CA3Session.TRACED
        self.weight_names = CA3Session.LEARNED
        self.n_units = m
        self.window = min(300.0, self.duration + 10.0)
        self.title = f"{name}: the published CA3 experiment, {n} cues x {m} bits ({backend})"
        self.done = 0
        self.outcomes: list[tuple[object, list[int] | None, list[int] | None]] = []  # (op, expected, got)
        self.feed = SpikeFeed(self, self.memory.sim, names, self.traced, self.weight_names, frame_steps=1)

    @property
    def finished(self) -> bool:
        return self.done == len(self.schedule)

    def _bits(self, bits) -> np.ndarray:
        out = np.zeros(self.n_units, dtype=bool)
        out[list(bits or ())] = True
        return out

    def step(self) -> str:
        """The next operation; operations that start within 7 ms of each other (the state map's
        queries, 6 ms apart) overlap in the circuit and run as one step."""
        from neurosim.models.ca3 import MIN_OP_MS

        if self.finished:
            return f"{self.name} is over: {self._score()}"
        self._new_operation()
        first = last = self.done
        while last + 1 < len(self.schedule) and self.schedule[last + 1][0] < self.schedule[last][0] + MIN_OP_MS:
            last += 1
        group = self.schedule[first:last + 1]
        until = self.schedule[last + 1][0] if last + 1 < len(self.schedule) else self.duration
        results = self.memory.run_schedule(group, until_ms=until)
        self.done = last + 1
        self.feed.flush()
        labels = []
        for (t, op), got in zip(group, results, strict=True):
            expected = self.oracle.apply(op)
            self.outcomes.append((op, expected, got))
            view = self._view(t, op, expected, got)
            labels.append(view.label)
        message = "; ".join(labels) + ("" if not self.finished else f"; the experiment is over: {self._score()}")
        self.emit(Frame(t=self.memory.t_ms, memory=view, weights=self.feed.matrices(), message=message))
        return message

    def _view(self, t: float, op, expected: list[int] | None, got: list[int] | None) -> MemoryView:
        none = np.zeros(self.n_units, dtype=bool)
        if op.kind == "learn":
            return MemoryView(self._bits(op.bits), none, self._bits(op.bits), f"{t:g} ms: {op.describe()}")
        verdict = "ok" if got == expected else "WRONG"
        what = "content" if op.kind == "recall_cue" else "cues"
        label = f"{t:g} ms: {op.describe()} -> {what} {got} (oracle {expected}: {verdict})"
        if op.kind == "recall_cue":
            return MemoryView(none, self._bits(got), self._bits(expected), label)
        return MemoryView(self._bits(op.bits), none, None, label)  # the answer is cues: only the query is bits

    def recall(self, cue: np.ndarray) -> MemoryView:
        raise TypeError(f"{self.name} runs the published schedule only; recall from your own cues with --live ca3")

    def _score(self) -> str:
        recalls = [(e, g) for op, e, g in self.outcomes if op.kind != "learn"]
        return f"{sum(e == g for e, g in recalls)}/{len(recalls)} recalls as the oracle"

    def close(self) -> None:
        super().close()
        self.memory.close()


class CoreSession(Session):
    """The core's recurrent E/I benchmark network with STDP on E->E (:func:`neurosim.bench.core_network`)."""

    name = "core"
    window = 500.0
    default_speed = 300.0
    step_ms = 100.0

    def __init__(self, *, n: int = 2000, backend: str = "numba", seed: int = 0, emit: Emit | None = None) -> None:
        from neurosim.bench import core_network

        super().__init__(emit)
        base = core_network(ck.count("n", n, minimum=10))
        traced = (("exc", 0), ("exc", 1), ("exc", 2), ("inh", 0))
        monitors = (*base.monitors, StateMonitor("exc", (0, 1, 2)), StateMonitor("inh", (0,)))
        net = Network(dt_ms=base.dt_ms, populations=base.populations, sources=base.sources,
                      projections=base.projections, monitors=monitors)
        self.sim = Simulator(net, backend=backend, seed=seed)
        self.populations = {"exc": net.node("exc").size, "inh": net.node("inh").size}
        self.traced = traced
        self.weight_names = ("ee",)
        self.title = f"recurrent E/I network, {n} LIF neurons, STDP on E->E ({backend})"
        frame_steps = max(1, round(1.0 / net.dt_ms))  # paced and checked every ms
        self.feed = SpikeFeed(self, self.sim, tuple(self.populations), traced, self.weight_names,
                              frame_steps=frame_steps, weights_interval_s=0.5, max_side=64)

    def step(self) -> str:
        self._new_operation()
        self.sim.run(self.step_ms)
        self.feed.flush()
        return f"ran to {self.sim.t_ms:.0f} ms"

    def close(self) -> None:
        super().close()
        self.sim.close()


HOPFIELD_MODELS = ("hopfield-marginalist", "hopfield")


def _hopfield(seed: int, emit: Emit | None, backend: str = "numba", n_units: int = 200, active: int = 20,
              model: str = "hopfield-marginalist") -> ActivitySession:
    """The palimpsest network by default: it forgets its oldest items and keeps recalling the newest at any
    load; ``model="hopfield"`` is the classical network, which blacks out past about 0.14 N items."""
    from neurosim.models import create

    if model not in HOPFIELD_MODELS:
        ck.fail("model", model, f"one of {list(HOPFIELD_MODELS)}")
    memory = create(model, n_units=n_units, sparsity=active / n_units, seed=seed, backend=backend)

    def sweeps(cue: np.ndarray, item: np.ndarray | None) -> Dynamics:
        """The recall's path: its Jaccard with the item and its energy over the item's, sweep by sweep."""
        path = memory.trajectory(cue)
        x = np.arange(len(path), dtype=float)
        series = {}
        if item is not None:
            energy = np.array([memory.energy(p) for p in path]) / max(abs(memory.energy(item)), 1e-12)
            series["Jaccard with the probed item"] = (x, jaccard(path, np.broadcast_to(item, path.shape)))
            series["energy / |energy of the item|"] = (x, energy)
        return Dynamics("the last recall, sweep by sweep", "sweep (0: the cue)", series)

    s = ActivitySession(memory, n_units, active, lambda: memory.weights, "W (normalised)", sweeps, seed=seed,
                        emit=emit)
    kind = "palimpsest (marginalist)" if model == "hopfield-marginalist" else "classical (Hebbian)"
    s.name, s.title = "hopfield", f"{kind} Hopfield network, {n_units} units, {active} active per item ({backend})"
    s.ages = (0, 1, 2, 5, 10, 20, 40)
    s.probes_per_step = 2
    s.weight_unit, s.engines = "unitless", HOPFIELD_ENGINES
    return s


SPARSEY_MODELS = ("sparsey-decay", "sparsey")
SPARSEY_KEEP = 50  # the classical live MAC keeps its newest 50 items: its capacity at 10% activity (docs/forgetting.md)


def _sparsey(seed: int, emit: Emit | None, backend: str = "numba", n_units: int = 200, active: int = 20,
             model: str = "sparsey-decay", keep: int | None = None) -> ActivitySession:
    """The palimpsest MAC by default (``sparsey-decay``: its weights decay, so it keeps recognising its newest
    items at any load); ``model="sparsey"`` is the classical MAC, whose binary weights fill up past its
    capacity (every unit recalled, familiarity 1 for everything). ``keep`` forgets items older than that
    many (exactly: ``forget``), a load policy for either; None keeps everything."""
    from neurosim.models import create

    if model not in SPARSEY_MODELS:
        ck.fail("model", model, f"one of {list(SPARSEY_MODELS)}")
    memory = create(model, n_units=n_units, sparsity=active / n_units, seed=seed, backend=backend)

    def selection(cue: np.ndarray, item: np.ndarray | None) -> Dynamics:
        """The code selection for the cue: each CM's highest win probability (1: no noise, the familiar
        winner; 1/k: uniform, a novel input) and G."""
        _, g, rho = memory.probabilities(cue)
        x = np.arange(rho.shape[0], dtype=float)
        return Dynamics(f"code selection for the last cue: G = {g:.2f}", "competitive module",
                        {"highest win probability": (x, rho.max(axis=1)),
                         "1/k (uniform: novel)": (x, np.full(x.size, 1.0 / rho.shape[1]))})

    s = ActivitySession(memory, n_units, active, lambda: memory.weights, "input -> code cells", selection,
                        seed=seed, emit=emit)
    policy = f", keeps the newest {keep}" if keep is not None else ""
    kind = f"palimpsest (decay {memory.params.decay:g})" if memory.params.decay else "classical"
    s.name, s.title = "sparsey", f"{kind} Sparsey MAC, 20 x 20 cells, {n_units} inputs{policy} ({backend})"
    s.ages = (0, 1, 2, 5, 10, 20, 50, 100)
    s.probes_per_step = 2
    s.weight_unit, s.engines = "binary", HOPFIELD_ENGINES
    s.keep = None if keep is None else ck.count("keep", keep)
    return s


PUBLISHED = ("ca3-functional", "ca3-stress", "ca3-state-map")
SPIKING = ("ca3", *PUBLISHED, "core")
NAMES = ("ca3", *PUBLISHED, "hopfield", "sparsey", "core")


def create(name: str, *, backend: str = "numba", seed: int = 0, emit: Emit | None = None, **kw) -> Session:
    """A new session by name (:data:`NAMES`): a model (``ca3``, ``hopfield``, ``sparsey``, ``core``) or a
    published CA3 experiment; keyword options go to the constructor (``n_cues``, ``n_bits`` for ca3,
    ``n`` for core)."""
    if name in PUBLISHED:
        return ScheduleSession(name, backend=backend, seed=seed, emit=emit, **kw)
    if name == "ca3":
        return CA3Session(backend=backend, seed=seed, emit=emit, **kw)
    if name == "core":
        return CoreSession(backend=backend, seed=seed, emit=emit, **kw)
    if name == "hopfield":
        return _hopfield(seed, emit, backend, **kw)
    if name == "sparsey":
        return _sparsey(seed, emit, backend, **kw)
    raise ValueError(f"live model = {name!r} is not allowed: one of {list(NAMES)}")
