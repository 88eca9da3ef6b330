r"""A spiking CA3 content-addressable memory (Casanueva-Morato et al., Neural Networks 2024).

The published circuit, built on the core's :class:`~neurosim.Network`: ``n`` cue
neurons (a one-hot address) and ``m`` content neurons (a binary pattern, active bit
= spike). All cells are PyNN ``IF_curr_exp`` (tau_refrac 1 ms, tau_syn 0.3 ms,
v_rest = v_reset = -60 mV, v_thresh -57 mV), dt = 1 ms; the tick is that of
:mod:`neurosim.simulator` (SpiNNaker's: a hop over delay d takes d ms).

Populations (size; cm nF / tau_m ms): cueCueRecall (n; 0.27/3), cueContRecall (n; 0.14/0.5),
contCueRecall (m; 0.27/3), contContRecall (m; 0.27/3), contCond (m; 0.14/0.5),
contCondInt (1; 0.14/0.5), mergeCue (n; 0.27/3), mergeCont (m; 0.27/3): 3n + 4m + 1
neurons, and an output layer of n + m (v_thresh -57.5 mV) read by the decoder.

Fixed synapses (weight nA / delay ms): input->cueCue and input->contCue 1:1 6/1;
cueCue->cueCont 1:1 6/2 and all-but-self inhibitory 6m/3; cueCue->contCond all-to-all
inhibitory 6/2; contCue->contCond 1:1 9/1; contCond->contCont 1:1 6/1;
contCue->contCondInt all-to-one 6/1; contCondInt->contCond one-to-all 2/1;
cueCont->cueCont all-but-self inhibitory 6m/2; cueCue->mergeCue 6/3, cueCont->mergeCue
6/1, contCue->mergeCont 6/3, contCont->mergeCont 6/1 (all 1:1); merge->output 6/1.
Learned (all-to-all, initial 0, delay 1): cueCue->contCue (cue -> content) and
contCont->cueCont (content -> cue), pair STDP with tau+- = 3 ms and an additive step
of 6 nA at w_max = 6 nA (``A_plus = A_minus = 1`` in PyNN's relative units).

Operations (1 ms steps; t0 = the operation's first tick):

- learn(cue, bits): cue and content spike at t0, t0+1, t0+2; the output echoes the
  memory at t0+5 and t0+7 (``learn`` then waits ``op_ms``, 14 ms by default: see ``DEFAULT_OP_MS``).
  Relearning a cue overwrites it: post-before-pre pairings depress the old content
  bits (forgetting; only partly, see docs/models/ca3.md).
- recall by cue: one cue spike at t0; the output shows the cue at t0+5 and the
  stored content at t0+6 (decoded).
- recall by content: one spike on each query bit at t0; the output shows the query at
  t0+5 and, at t0+6 (decoded), every cue whose stored content shares at least one
  active bit with the query.
- forget(cue, bits) (past the paper; :meth:`CA3Memory.forget`, ``method="reverse"``): the
  learn's spikes with the order reversed, the cue one tick before its content, learning
  on. Every pairing of the stored links then has Delta = 0, the pairing that forgets. Under
  ``COINCIDENCE_RULE`` it removes the cue's links both ways and leaves the others, those of
  a shared bit included (tests/models/test_forget.py). Under the paper's rule it removes
  content -> cue (recall by content no longer finds the cue) but leaves cue -> content at
  4.66 nA of 6 (recall by cue still finds the content): the rule cannot forget in one step.

Outputs are decoded from the output layer's spikes, never from the weights.

Past the paper: in the published circuit STDP is always on, so every recall also
learns: a content query with several bits potentiates each query bit onto every cue
it retrieves (false associations), and re-strengthens partly forgotten ones.
``plastic_recall=True`` is that circuit (the reproductions pass it); by default learning
is on only during learn operations (:attr:`neurosim.Simulator.learning`), and the memory
contract's reads run on a frozen copy of the circuit (:class:`CA3Memory`). Relearning
forgets only partly under the paper's rule (old links keep 3.31 nA);
``learning_rule=COINCIDENCE_RULE`` forgets completely (see ``COINCIDENCE_RULE``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import ClassVar, Literal

import numpy as np

from neurosim import _checks as ck
from neurosim import backends
from neurosim.connectors import AllToAll, FromList, OneToOne, all_but_self
from neurosim.memory import Memory
from neurosim.network import (
    LIFParams,
    Network,
    Population,
    Projection,
    SpikeMonitor,
    SpikeSourceArray,
    StateMonitor,
    WeightMonitor,
)
from neurosim.plasticity import STDP
from neurosim.simulator import Simulator

POPULATIONS = ("cueCueRecall", "contCueRecall", "contCond", "contCondInt", "cueContRecall", "contContRecall",
               "mergeCue", "mergeCont", "output")
# Default time per operation of the one-operation API (``op_ms``), measured
# (docs/models/ca3.md): at the paper's 7 ms after a learn, consecutive learns whose
# contents share a bit interfere (0/60 random pairs correct; 21/60 at 8 ms; 60/60 from
# 9 ms). At 10 ms (the functional experiment) each bit of the previous learn's content
# still gains 0.68 nA onto the next cue, so a query holding 5 of those bits (5 x 0.68 nA
# reaches the cueCont cell's ~3.4 nA threshold) retrieves the neighbour too; the leak is
# 0.35 nA at 12 ms, 0.18 at 14 ms, 0.02 at 20 ms. 14 ms is the stress test's spacing.
DEFAULT_OP_MS = 14.0
HOLD_MS = 3         # a learn presents cue and content on 3 consecutive ticks
RESULT_MS = 6       # the recalled content / cues appear 6 ms after t0
MIN_OP_MS = RESULT_MS + 1
READS = ("copy", "live")  # where reads run: a frozen copy of the circuit, or the live circuit
LEARNED = ("learned_cue_to_content", "learned_content_to_cue")

Kind = Literal["learn", "recall_cue", "recall_content", "forget"]


def cell(cm_nF: float = 0.27, tau_m_ms: float = 3.0, v_thresh_mV: float = -57.0) -> LIFParams:
    return LIFParams(tau_m_ms=tau_m_ms, cm_nF=cm_nF, v_rest_mV=-60.0, v_reset_mV=-60.0, v_thresh_mV=v_thresh_mV,
                     tau_refrac_ms=1.0, tau_syn_e_ms=0.3, tau_syn_i_ms=0.3, i_offset_nA=0.0, v_init_mV=-60.0)


LEARNING_RULE = STDP(tau_plus_ms=3.0, tau_minus_ms=3.0, A_plus=1.0, A_minus=1.0, w_min_nA=0.0, w_max_nA=6.0)

# Past the paper: a coincidence rule whose windows are far shorter than the 1 ms tick.
# With Delta = t_post + d - t_pre in ticks, Delta = +1 (the pairing of every stored link:
# cue and content spike on the same ticks, d = 1) adds exactly w_max, Delta = 0 (the
# pairing of every forgetting) removes w_max, |Delta| >= 2 changes w by <= 6 e^-5 = 0.04 nA.
# It makes relearning forget completely (docs/models/ca3.md: 100% oracle agreement with
# relearning; the published rule leaves old links at 3.31 nA). Found by a sweep of rules
# and of 3969 learn schedules: no schedule fixes the published rule.
COINCIDENCE_RULE = STDP(tau_plus_ms=0.2, tau_minus_ms=0.2, A_plus=float(np.exp(1.0 / 0.2)), A_minus=1.0,
                        w_min_nA=0.0, w_max_nA=6.0)


def _all_but_self(n: int) -> FromList:
    return FromList(*all_but_self(n))


def build_network(n_cues: int, n_bits: int, learning_rule: STDP = LEARNING_RULE) -> Network:
    """The published circuit with empty input sources (operations add spikes later);
    ``learning_rule``: the STDP of the two learned projections (default: the paper's)."""
    n, m = ck.count("n_cues", n_cues), ck.count("n_bits", n_bits)
    big, small = cell(), cell(cm_nF=0.14, tau_m_ms=0.5)
    pops = (Population("cueCueRecall", n, big), Population("cueContRecall", n, small),
            Population("contCueRecall", m, big), Population("contContRecall", m, big),
            Population("contCond", m, small), Population("contCondInt", 1, small),
            Population("mergeCue", n, big), Population("mergeCont", m, big),
            Population("output", n + m, cell(v_thresh_mV=-57.5)))

    def p(name, pre, post, conn, w, d, receptor="excitatory", plasticity=None):
        return Projection(name, pre, post, conn, weight_nA=w, delay_steps=d, receptor=receptor,
                          plasticity=plasticity)

    projections = (
        p("input_cue", "in_cue", "cueCueRecall", OneToOne(), 6.0, 1),
        p("input_content", "in_content", "contCueRecall", OneToOne(), 6.0, 1),
        p("cue_to_cueCont", "cueCueRecall", "cueContRecall", OneToOne(), 6.0, 2),
        p("cue_inhibits_other_cueCont", "cueCueRecall", "cueContRecall", _all_but_self(n), 6.0 * m, 3,
          "inhibitory"),
        p("cue_inhibits_contCond", "cueCueRecall", "contCond", AllToAll(), 6.0, 2, "inhibitory"),
        p("content_to_contCond", "contCueRecall", "contCond", OneToOne(), 9.0, 1),
        p("contCond_to_contCont", "contCond", "contContRecall", OneToOne(), 6.0, 1),
        p("content_to_condInt", "contCueRecall", "contCondInt", AllToAll(), 6.0, 1),
        p("condInt_to_contCond", "contCondInt", "contCond", AllToAll(), 2.0, 1),
        p("cueCont_lateral_inhibition", "cueContRecall", "cueContRecall",
          AllToAll(allow_self_connections=False), 6.0 * m, 2, "inhibitory"),
        p("cue_to_mergeCue", "cueCueRecall", "mergeCue", OneToOne(), 6.0, 3),
        p("cueCont_to_mergeCue", "cueContRecall", "mergeCue", OneToOne(), 6.0, 1),
        p("content_to_mergeCont", "contCueRecall", "mergeCont", OneToOne(), 6.0, 3),
        p("contCont_to_mergeCont", "contContRecall", "mergeCont", OneToOne(), 6.0, 1),
        p("mergeCue_to_output", "mergeCue", "output", FromList(np.arange(n), np.arange(n)), 6.0, 1),
        p("mergeCont_to_output", "mergeCont", "output", FromList(np.arange(m), n + np.arange(m)), 6.0, 1),
        p("learned_cue_to_content", "cueCueRecall", "contCueRecall", AllToAll(), 0.0, 1, plasticity=learning_rule),
        p("learned_content_to_cue", "contContRecall", "cueContRecall", AllToAll(), 0.0, 1,
          plasticity=learning_rule),
    )
    sources = (SpikeSourceArray.empty("in_cue", n), SpikeSourceArray.empty("in_content", m))
    monitors = tuple(SpikeMonitor(name) for name in (*POPULATIONS, "in_cue", "in_content"))
    return Network(dt_ms=1.0, populations=pops, sources=sources, projections=projections, monitors=monitors)


@dataclass(frozen=True)
class Operation:
    """One memory operation: ``learn`` (cue + bits), ``recall_cue`` (cue), ``recall_content`` (bits),
    ``forget`` (cue + bits: the learn reversed in time, see the module docstring)."""

    kind: Kind
    cue: int | None = None
    bits: tuple[int, ...] = ()

    def describe(self) -> str:
        if self.kind == "learn":
            return f"learn cue {self.cue} = {list(self.bits)}"
        if self.kind == "recall_cue":
            return f"recall cue {self.cue}"
        if self.kind == "forget":
            return f"forget cue {self.cue} = {list(self.bits)}"
        return f"recall content {list(self.bits)}"


def operation_spikes(t: float, op: Operation) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """The input spikes an operation starting at ``t`` ms sends: ``(source, times_ms, ids)``
    (one definition, used by the memory and by the exporters)."""
    if op.kind in ("learn", "forget"):
        ticks = t + np.arange(HOLD_MS, dtype=np.float64)
        bits = np.asarray(op.bits, dtype=np.int64)
        later = ticks + (op.kind == "forget")  # forget: the content one tick after the cue
        return [("in_cue", ticks, np.full(HOLD_MS, op.cue, dtype=np.int64)),
                ("in_content", np.repeat(later, bits.size), np.tile(bits, HOLD_MS))]
    if op.kind == "recall_cue":
        return [("in_cue", np.array([float(t)]), np.array([op.cue], dtype=np.int64))]
    return [("in_content", np.full(len(op.bits), float(t)), np.asarray(op.bits, dtype=np.int64))]


class CA3Memory(Memory):
    """The published CA3 content-addressable memory on any spiking backend, under the memory contract.

    The paper's operations (:meth:`learn`, :meth:`recall_by_cue`, :meth:`recall_by_content`,
    :meth:`run_schedule`) run on the live circuit: each schedules its input spikes at the current
    time, runs the network for the operation's duration and decodes the output layer's spikes.
    ``plastic_recall=True`` keeps STDP on during recalls too, as the published circuit does
    (the reproductions pass it); by default learning is on only during learn operations.

    The contract: ``store(item, key)`` is a learn on the live circuit; ``recall`` and ``recognize``
    are reads. With ``reads="copy"`` (the default) every read runs a copy of the circuit with the
    learned weights frozen, from rest at t = 0: reads change nothing, and a read gives the same
    answer whenever it is asked. ``reads="live"`` runs them on the live circuit as recall
    operations (time advances; STDP learns during them when ``plastic_recall``), which is what
    the live viewer shows. ``seed`` is checked and recorded only: the circuit has no random
    input, so every seed gives the same memory.
    """

    engines: ClassVar[tuple[str, ...]] = tuple(backends.names())
    stochastic: ClassVar[bool] = False
    familiarity: ClassVar[str] = ("the best Jaccard similarity between the item and the content recalled from each "
                                  "cue that the item's bits retrieve (all decoded from spikes)")
    forget_methods: ClassVar[tuple[str, ...]] = ("reverse",)  # the learn reversed in time (module docstring)
    key_holds_one: ClassVar[bool] = True  # a cue holds one content: a learn overwrites it

    def __init__(self, n_cues: int, n_bits: int, backend: str = "numba", seed: int = 0, *,
                 plastic_recall: bool = False, reads: str = "copy", op_ms: float = DEFAULT_OP_MS,
                 learning_rule: STDP = LEARNING_RULE, monitors: Sequence[StateMonitor | WeightMonitor] = (),
                 device: str | None = None, dtype: str | None = None) -> None:
        self.n_cues = ck.count("n_cues", n_cues)
        self.n_bits = ck.count("n_bits", n_bits)
        self._setup(n_bits, seed=seed, backend=backend, device=device, dtype=dtype, n_keys=n_cues)
        if not isinstance(plastic_recall, bool):
            ck.fail("plastic_recall", plastic_recall, "True (the published circuit) or False")
        self.plastic_recall = plastic_recall
        if reads not in READS:
            ck.fail("reads", reads, "one of " + ", ".join(map(repr, READS)))
        self.reads = reads
        if ck.finite("op_ms", op_ms) < MIN_OP_MS or op_ms != int(op_ms):
            ck.fail("op_ms", op_ms, f"a whole number of ms >= {MIN_OP_MS} (a recall's result arrives at +6 ms)")
        self.op_ms = float(op_ms)
        if not isinstance(learning_rule, STDP):
            ck.fail("learning_rule", type(learning_rule).__name__, "an STDP (LEARNING_RULE or COINCIDENCE_RULE)")
        net = build_network(n_cues, n_bits, learning_rule)
        # extra monitors (the viewer traces membranes): validated by Network like any other
        self.network = Network(dt_ms=net.dt_ms, populations=net.populations, sources=net.sources,
                               projections=net.projections, monitors=(*net.monitors, *monitors))
        self.sim: Simulator | None = None
        self._reset()

    # -- the published operations ----------------------------------------------------
    def learn(self, cue: int, bits: Sequence[int]) -> None:
        """Store (or overwrite) the content ``bits`` under ``cue``."""
        self.run_schedule([(self.t_ms, Operation("learn", self._cue(cue), self._bits(bits)))],
                          until_ms=self.t_ms + self.op_ms)

    def recall_by_cue(self, cue: int) -> list[int]:
        """The content bits stored under ``cue`` (sorted), decoded from the output layer."""
        return self.run_schedule([(self.t_ms, Operation("recall_cue", self._cue(cue)))],
                                 until_ms=self.t_ms + self.op_ms)[0]

    def recall_by_content(self, bits: Sequence[int]) -> list[int]:
        """Every cue whose stored content shares at least one bit with ``bits`` (sorted)."""
        return self.run_schedule([(self.t_ms, Operation("recall_content", bits=self._bits(bits)))],
                                 until_ms=self.t_ms + self.op_ms)[0]

    def run_schedule(self, schedule: Sequence[tuple[float, Operation]], until_ms: float | None = None
                     ) -> list[list[int] | None]:
        """Run operations at given start times (ms, strictly increasing, >= now) on the live circuit and
        return each one's decoded output: content bits for ``recall_cue``, cues for ``recall_content``,
        None for ``learn``. The simulation runs to ``until_ms`` (default: ``op_ms`` after the last start)."""
        self._open()
        self._frozen = None  # the weights may change
        return self._run_ops(self.sim, schedule, until_ms, self.plastic_recall)

    def _run_ops(self, sim: Simulator, schedule: Sequence[tuple[float, Operation]], until_ms: float | None,
                 plastic_recall: bool) -> list[list[int] | None]:
        """:meth:`run_schedule` on ``sim`` (the live circuit or a read copy)."""
        for i, entry in enumerate(schedule):
            if not isinstance(entry, (tuple, list)) or len(entry) != 2:
                ck.fail(f"schedule[{i}]", entry, "a (start time in ms, operation) pair")
            ck.finite(f"schedule[{i}] time", entry[0])
        times = [float(t) for t, _ in schedule]
        if any(b <= a for a, b in zip(times, times[1:], strict=False)) or (times and times[0] < sim.t_ms):
            ck.fail("schedule times", times[:8], f"strictly increasing and >= the current time ({sim.t_ms} ms)")
        for t, op in schedule:
            self._check_operation(op)
            for source, spike_times, ids in operation_spikes(t, op):
                sim.add_spikes(source, spike_times, ids)
        end = until_ms if until_ms is not None else (times[-1] + self.op_ms if times else sim.t_ms)
        if times and end < times[-1] + RESULT_MS + 1:
            ck.fail("until_ms", end, f">= {times[-1] + RESULT_MS + 1} (the last result arrives at start + 6 ms)")
        start = sim.t_ms
        if plastic_recall:
            sim.learning = True
            sim.run(end - sim.t_ms)
        else:  # learning only from each learn operation's start to the next operation's
            bounds = [*times[1:], end]
            if times and times[0] > sim.t_ms:
                sim.learning = False
                sim.run(times[0] - sim.t_ms)
            for (t, op), stop in zip(schedule, bounds, strict=True):
                sim.learning = op.kind in ("learn", "forget")
                sim.run(stop - t)
            sim.learning = False
        t_out, i_out = sim.spikes("output", since_ms=start)
        results: list[list[int] | None] = []
        for t, op in schedule:
            at = i_out[t_out == t + RESULT_MS]
            if op.kind == "recall_cue":
                results.append(sorted(int(i) - self.n_cues for i in at if i >= self.n_cues))
            elif op.kind == "recall_content":
                results.append(sorted(int(i) for i in at if i < self.n_cues))
            else:
                results.append(None)
        return results

    # -- the memory contract -----------------------------------------------------------------
    def _store(self, items: np.ndarray, keys: np.ndarray) -> None:
        for item, key in zip(items, keys, strict=True):
            bits = np.flatnonzero(item)
            if not bits.size:
                ck.fail("item", "no active unit", "at least one active unit (empty content cannot be stored)")
            self.learn(int(key), bits.tolist())

    def _forget(self, items: np.ndarray, keys: np.ndarray, method: str) -> None:
        """The forget operation (module docstring) on the key and the item's bits."""
        op = Operation("forget", int(keys[0]), tuple(np.flatnonzero(items[0]).tolist()))
        self.run_schedule([(self.t_ms, op)], until_ms=self.t_ms + self.op_ms)

    def _recall_keys(self, keys: np.ndarray) -> np.ndarray:
        """Each key's content (the paper's recall by cue)."""
        out = np.zeros((keys.size, self.n_bits), dtype=bool)
        for r, key in enumerate(keys):
            with self._reader() as read:
                out[r, read(Operation("recall_cue", int(key)))] = True
        return out

    def _recall(self, cues: np.ndarray) -> np.ndarray:
        """A partial content pattern retrieves every cue whose content shares a bit with it (one
        content-recall operation); the content recalled from each of those cues is compared with the
        query and the best match is returned: most shared bits, then fewest bits outside the query,
        then the lowest cue (all zeros if no cue is retrieved)."""
        out = np.zeros_like(cues)
        for r, query in enumerate(cues):
            best_score = (0, 0)
            for content in self._candidates(query):
                score = (np.count_nonzero(content & query), -np.count_nonzero(content & ~query))
                if score > best_score:
                    out[r], best_score = content, score
        return out

    def _recognize(self, items: np.ndarray) -> np.ndarray:
        """The best Jaccard similarity between each item and the content recalled from each cue that the
        item's bits retrieve (all from spikes)."""
        out = np.zeros(items.shape[0])
        for r, item in enumerate(items):
            for content in self._candidates(item):
                union = np.count_nonzero(content | item)
                out[r] = max(out[r], np.count_nonzero(content & item) / union if union else 0.0)
        return out

    def _candidates(self, query: np.ndarray) -> list[np.ndarray]:
        """The contents (bool rows) of the cues a content query retrieves, in cue order, read in one go."""
        if not query.any():
            return []
        out = []
        with self._reader() as read:
            for c in read(Operation("recall_content", bits=tuple(np.flatnonzero(query).tolist()))):
                content = np.zeros(self.n_bits, dtype=bool)
                content[read(Operation("recall_cue", c))] = True
                out.append(content)
        return out

    @contextmanager
    def _reader(self) -> Iterator[Callable[[Operation], list[int]]]:
        """A function that runs one recall operation and returns its decoded output: on a frozen copy
        of the circuit, from rest (``reads="copy"``), or on the live circuit (``reads="live"``)."""
        if self.reads == "live":
            yield lambda op: self.run_schedule([(self.t_ms, op)], until_ms=self.t_ms + self.op_ms)[0]
            return
        if self._frozen is None:
            w = {name: self.sim.weights(name) for name in LEARNED}
            projections = tuple(replace(p, weight_nA=w[p.name], plasticity=None) if p.name in w else p
                                for p in self.network.projections)
            self._frozen = Network(dt_ms=self.network.dt_ms, populations=self.network.populations,
                                   sources=self.network.sources, projections=projections,
                                   monitors=(SpikeMonitor("output"),))
        sim = Simulator(self._frozen, backend=self.backend, seed=self.seed, device=self.device, dtype=self.dtype)
        try:
            yield lambda op: self._run_ops(sim, [(sim.t_ms, op)], sim.t_ms + self.op_ms, False)[0]
        finally:
            sim.close()

    def _reset(self) -> None:
        """Forget everything: a fresh simulator at t = 0 (the old one is closed)."""
        if self.sim is not None:
            self.sim.close()
        self.sim = Simulator(self.network, backend=self.backend, seed=self.seed, device=self.device,
                             dtype=self.dtype)
        self.sim.learning = self.plastic_recall
        self._frozen: Network | None = None

    def _close(self) -> None:
        self.sim.close()

    @property
    def t_ms(self) -> float:
        return self.sim.t_ms

    # -- validation -----------------------------------------------------------------------------
    def _check_operation(self, op: Operation) -> None:
        if not isinstance(op, Operation) or op.kind not in ("learn", "recall_cue", "recall_content", "forget"):
            ck.fail("operation", op, "an Operation of kind 'learn', 'recall_cue', 'recall_content' or 'forget'")
        if op.kind != "recall_content":
            self._cue(op.cue)
        if op.kind != "recall_cue":
            self._bits(op.bits)

    def _cue(self, cue: object) -> int:
        if isinstance(cue, bool) or not isinstance(cue, (int, np.integer)):
            ck.fail("cue", cue, f"an integer in [0, {self.n_cues - 1}]")
        if not 0 <= cue < self.n_cues:
            ck.fail("cue", cue, f"an integer in [0, {self.n_cues - 1}]")
        return int(cue)

    def _bits(self, bits: object) -> tuple[int, ...]:
        if isinstance(bits, (str, bytes)) or not hasattr(bits, "__iter__"):
            ck.fail("bits", bits, f"a sequence of distinct integers in [0, {self.n_bits - 1}]")
        values = list(bits)
        if not values:
            ck.fail("bits", values, "at least one bit (empty content cannot be stored or queried)")
        for b in values:
            if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or not 0 <= b < self.n_bits:
                ck.fail("bits", values, f"distinct integers in [0, {self.n_bits - 1}]")
        if len(set(values)) != len(values):
            ck.fail("bits", values, "distinct integers (no duplicates)")
        return tuple(sorted(int(b) for b in values))
