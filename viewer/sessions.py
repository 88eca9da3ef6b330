"""Live sessions: a model run step by step that reports :class:`Frame` s, without Qt.

A session owns one model (and, for spiking models, its :class:`~neurosim.Simulator`)
and runs in the viewer's worker thread. Every call of :meth:`Session.step` performs
one operation (a learn and a probe of an older item; 100 ms of a core network) and
reports through ``emit(frame)``. Spiking sessions attach an observer to their
simulator (:meth:`neurosim.Simulator.add_observer`), called every ``frame_steps``
ticks while the operation runs. It paces the run to ``speed`` time units per
wall-clock second, aborts it (:class:`Stopped`) when the viewer closes, and sends a
frame at most ``max_rate`` times per wall second (and at the end of each operation):
the spikes of every population and the membrane samples of the traced neurons since
the previous frame (none is lost by sending fewer frames) and, at most every
``weights_interval_s``, the learned weight matrices. Building a frame is Python
work that holds the interpreter's lock, so sending more frames than the window can
draw would only slow both the model and the window.

Memory sessions drive their model through the memory protocol
(:mod:`neurosim.memory`): item ``i`` (a random pattern of ``active`` of ``n_units``
units, from the session's seeded generator) is stored (under key ``i mod n_keys``
for keyed models), then an older item ``j = i - a`` is probed, the interference
``a`` cycling through ``ages``: recall from a random half of its units (Jaccard of
the recalled pattern with the item) and recognition (the model's familiarity).
Those points make the forgetting-curve panel. Non-spiking models (Hopfield,
Sparsey) show their activity instead of spikes: one column per pattern shown (the
stored item, each probe's cue and recalled pattern), and their speed counts those
patterns.

Nothing here imports Qt: the sessions are tested and benchmarked without a window.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from neurosim import _checks as ck
from neurosim.memory import Memory, as_pattern, jaccard, partial_cue, random_patterns
from neurosim.network import Network, StateMonitor
from neurosim.simulator import Simulator

_EMPTY = np.zeros(0)
SPIKING_ENGINES = ("numba", "reference", "torch")  # the spiking sessions' backends (Brian2: too slow to watch)
HOPFIELD_ENGINES = ("numba", "torch")  # the non-spiking memories' engines
# recorded model time a live simulator keeps (its operations read back only their own spikes)
KEEP_MS = 2000.0
MAX_RATE = 60.0  # frames per wall second a session sends while an operation runs
# after sending a frame the worker sleeps this long, releasing the interpreter lock: at full speed
# the window then gets its turn to draw (CA3 at --speed max: about 20 -> 25 redraws/s, measured)
YIELD_S = 0.003


@dataclass(frozen=True, eq=False)
class MemoryView:
    """The memory panel's content: the cue given, the pattern recalled and the stored item it is
    closest to (``target``; None when nothing is stored), all bool arrays of ``n_units``."""

    cue: np.ndarray
    recalled: np.ndarray
    target: np.ndarray | None
    label: str
    index: int | None = None  # which stored item ``target`` is (the one *Forget* forgets)


@dataclass(frozen=True)
class CurvePoint:
    """One probe: ``interference`` items were stored after the probed one."""

    interference: int
    recognition: float  # familiarity in [0, 1]
    recall: float       # Jaccard of the pattern recalled from half the item with the item
    forgotten: bool = False  # the probed item was forgotten on purpose (forget), not by interference


@dataclass(frozen=True, eq=False)
class Dynamics:
    """What a non-spiking model did inside its last operation, in place of membrane traces: named series
    ``(x, y)`` over a common axis (a Hopfield recall's sweeps, a Sparsey code's competitive modules)."""

    title: str
    xlabel: str
    series: dict[str, tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True, eq=False)
class Frame:
    """What changed since the previous frame. ``spikes[pop] = (times, ids)`` are new events,
    ``traces`` the new samples (len(trace_times), n_traced) of the traced neurons, ``weights``
    the latest matrices (pre x post) of the projections they name."""

    t: float
    spikes: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    trace_times: np.ndarray = field(default_factory=lambda: _EMPTY)
    traces: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    memory: MemoryView | None = None
    curve: tuple[CurvePoint, ...] = ()
    message: str = ""
    dynamics: Dynamics | None = None


def merge(a: Frame | None, b: Frame) -> Frame:
    """One frame holding ``a`` then ``b``: events and samples of both, the later state (weights, memory view,
    dynamics, message) where ``b`` has one, and every curve point. Sending one merged frame in place of
    many loses nothing the panels show."""
    if a is None:
        return b
    spikes = dict(a.spikes)
    for p, (t, i) in b.spikes.items():
        spikes[p] = (np.concatenate([spikes[p][0], t]), np.concatenate([spikes[p][1], i])) if p in spikes else (t, i)
    if a.traces.size and b.traces.size:
        times, traces = np.concatenate([a.trace_times, b.trace_times]), np.concatenate([a.traces, b.traces])
    else:
        times, traces = (b.trace_times, b.traces) if b.traces.size else (a.trace_times, a.traces)
    return Frame(t=b.t, spikes=spikes, trace_times=times, traces=traces, weights={**a.weights, **b.weights},
                 memory=b.memory if b.memory is not None else a.memory, curve=a.curve + b.curve,
                 message=b.message or a.message, dynamics=b.dynamics if b.dynamics is not None else a.dynamics)


class Stopped(Exception):  # noqa: N818 (a request, not an error)
    """Raised inside a run when the session was asked to stop."""


Emit = Callable[[Frame], None]


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


class MemorySession(Session):
    """A memory model driven through the memory protocol: store, probe, recall on request."""

    ages: tuple[int, ...] = (0, 1, 2, 4, 8, 16, 32)
    probes_per_step = 1

    def __init__(self, memory: Memory, n_units: int, active: int, *, seed: int = 0,
                 emit: Emit | None = None) -> None:
        super().__init__(emit)
        self.memory = memory
        self.n_units = ck.count("n_units", n_units)
        if not isinstance(active, (int, np.integer)) or not 1 <= active <= n_units:
            ck.fail("active", active, f"an integer in [1, {n_units}]")
        self.active = int(active)
        self.rng = np.random.default_rng(ck.count("seed", seed, minimum=0))
        self.items: list[np.ndarray] = []
        self.forgotten: set[int] = set()  # items forgotten on purpose (forget)
        self._probe = 0
        self._oldest = 0  # the oldest item the load policy (keep) has not forgotten yet

    def _key(self, i: int) -> int | None:
        return i % self.memory.n_keys if self.memory.n_keys else None

    def close(self) -> None:
        super().close()
        self.memory.close()

    def _shown(self, kind: str, pattern: np.ndarray) -> None:
        """Hook: a pattern was presented (non-spiking sessions draw it as activity)."""

    def _dynamics(self, cue: np.ndarray, item: np.ndarray | None) -> Dynamics | None:
        """Hook: what the model did recalling from ``cue`` (None: spiking sessions show membranes instead)."""
        return None

    def step(self) -> str:
        self._new_operation()
        i = len(self.items)
        item = random_patterns(self.rng, 1, self.n_units, self.active)[0]
        self._shown("stored", item)
        self.memory.store(item, key=self._key(i))
        self.items.append(item)
        key = self._key(i)
        words = [f"stored item {i}" + (f" under key {key}" if key is not None else "")]
        words += self._apply_policy(i)
        points, view, dynamics = [], None, None
        for _ in range(self.probes_per_step):
            age = self.ages[self._probe % len(self.ages)]
            self._probe += 1
            if age > i:
                continue
            j = i - age
            cue = partial_cue(self.rng, self.items[j], 0.5)
            self._shown("cue", cue)
            recalled = np.asarray(self.memory.recall(cue), dtype=bool)
            self._shown("recalled", recalled)
            point = CurvePoint(age, float(self.memory.recognize(self.items[j])),
                               float(jaccard(recalled, self.items[j])), j in self.forgotten)
            points.append(point)
            gone = " (forgotten)" if point.forgotten else ""
            view = MemoryView(cue, recalled, self.items[j],
                              f"item {j}{gone} probed {age} items later: recall {point.recall:.2f}, "
                              f"familiarity {point.recognition:.2f}", j)
            dynamics = self._dynamics(cue, self.items[j])
            words.append(f"probed item {j} ({age} later): recall {point.recall:.2f}, "
                         f"familiarity {point.recognition:.2f}")
        message = "; ".join(words)
        self.emit(Frame(t=self.now(), memory=view, curve=tuple(points), weights=self.matrices(), message=message,
                        dynamics=dynamics))
        return message

    def _apply_policy(self, newest: int) -> list[str]:
        """The load policy: keep at most ``keep`` items, forgetting the oldest through the memory contract."""
        done = []
        while self.keep is not None and newest - self._oldest >= self.keep:
            j, self._oldest = self._oldest, self._oldest + 1
            if j not in self.forgotten:
                self.memory.forget(self.items[j], key=self._key(j))
                self.forgotten.add(j)
                done.append(f"forgot item {j} (keeping the newest {self.keep})")
        return done

    def recall(self, cue: np.ndarray) -> MemoryView:
        """Recall from ``cue`` (bool, n_units) and name the stored item closest to the result."""
        cue = as_pattern("cue", cue, self.n_units)
        self._new_operation()
        self._shown("cue", cue)
        recalled = np.asarray(self.memory.recall(cue), dtype=bool)
        self._shown("recalled", recalled)
        if self.items:
            scores = jaccard(np.array(self.items), recalled)
            j = int(np.argmax(scores))
            view = MemoryView(cue, recalled, self.items[j], f"recalled: closest to item {j} (Jaccard {scores[j]:.2f})",
                              j)
        else:
            view = MemoryView(cue, recalled, None, "recalled (nothing stored yet)")
        self.emit(Frame(t=self.now(), memory=view, weights=self.matrices(), message=view.label,
                        dynamics=self._dynamics(cue, view.target)))
        return view

    def forget(self, index: int) -> MemoryView:
        """Forget stored item ``index`` on purpose (the memory contract's ``forget``, the model's default
        method), then probe it as a step probes: the curve marks it, and every later probe of it, as forgotten."""
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < len(self.items):
            ck.fail("index", index, f"a stored item, in [0, {len(self.items) - 1}]")
        if index in self.forgotten:
            ck.fail("index", index, "an item not forgotten already")
        self._new_operation()
        item = self.items[index]
        self.memory.forget(item, key=self._key(index))
        self.forgotten.add(int(index))
        cue = partial_cue(self.rng, item, 0.5)
        self._shown("cue", cue)
        recalled = np.asarray(self.memory.recall(cue), dtype=bool)
        self._shown("recalled", recalled)
        point = CurvePoint(len(self.items) - 1 - index, float(self.memory.recognize(item)),
                           float(jaccard(recalled, item)), True)
        view = MemoryView(cue, recalled, item, f"forgot item {index}: now recall {point.recall:.2f}, familiarity "
                                               f"{point.recognition:.2f}", int(index))
        self.emit(Frame(t=self.now(), memory=view, curve=(point,), weights=self.matrices(), message=view.label))
        return view

    def now(self) -> float:
        raise NotImplementedError

    def matrices(self) -> dict[str, np.ndarray]:
        return {}


class ActivitySession(MemorySession):
    """A non-spiking memory (one column of activity per pattern shown)."""

    time_unit = "patterns shown"
    window = 120.0
    default_speed = 10.0

    def __init__(self, memory: Memory, n_units: int, active: int, weights: Callable[[], np.ndarray] | None,
                 weight_name: str, dynamics: Callable[[np.ndarray, np.ndarray | None], Dynamics] | None = None,
                 **kw) -> None:
        super().__init__(memory, n_units, active, **kw)
        self._dynamics_of = dynamics
        self.populations = {"stored": n_units, "cue": n_units, "recalled": n_units}
        self._weights = weights
        self.weight_names = (weight_name,) if weights is not None else ()
        self._t = 0
        self._pending: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
        self._sent = -math.inf

    def _shown(self, kind: str, pattern: np.ndarray) -> None:
        """One column of activity; columns go out at most ``MAX_RATE`` times a wall second."""
        ids = np.flatnonzero(pattern)
        self._pending.setdefault(kind, []).append((np.full(ids.size, float(self._t)), ids))
        self._t += 1
        if time.monotonic() - self._sent >= 1.0 / MAX_RATE:
            self._flush()
            time.sleep(YIELD_S)
        self._pace(self._t)

    def _dynamics(self, cue: np.ndarray, item: np.ndarray | None) -> Dynamics | None:
        return self._dynamics_of(cue, item) if self._dynamics_of is not None else None

    def _flush(self) -> None:
        if self._pending:
            spikes = {k: (np.concatenate([t for t, _ in v]), np.concatenate([i for _, i in v]))
                      for k, v in self._pending.items()}
            self._pending = {}
            self.emit(Frame(t=float(self._t), spikes=spikes))
        self._sent = time.monotonic()

    def now(self) -> float:
        self._flush()  # the operation's last columns go before its result
        return float(self._t)

    def matrices(self) -> dict[str, np.ndarray]:
        return {self.weight_names[0]: np.asarray(self._weights(), dtype=float)} if self._weights else {}


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
