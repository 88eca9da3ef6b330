r"""A spiking CA3 content-addressable memory (Casanueva-Morato et al., Neural Networks 2024).

:class:`CA3Memory` runs the published circuit of :mod:`.ca3_network` (its cells, synapses, learning rules
and the input spikes of each operation: learn, recall by cue, recall by content, forget) on any spiking
backend, under the memory contract.

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
from dataclasses import replace
from typing import ClassVar

import numpy as np

from neurosim import _checks as ck
from neurosim import backends
from neurosim.memory import Memory
from neurosim.models.ca3_network import (  # noqa: F401
    COINCIDENCE_RULE,
    LEARNED,
    LEARNING_RULE,
    POPULATIONS,
    RESULT_MS,
    Operation,
    build_network,
    cell,
    operation_spikes,
)
from neurosim.network import MAX_SIZE, Network, SpikeMonitor, StateMonitor, WeightMonitor
from neurosim.plasticity import STDP
from neurosim.simulator import Simulator

# the circuit (build_network, cell, the STDP rules, Operation, operation_spikes) lives in .ca3_network and is
# importable from here too

# Default time per operation of the one-operation API (``op_ms``), measured
# (docs/models/ca3.md): at the paper's 7 ms after a learn, consecutive learns whose
# contents share a bit interfere (0/60 random pairs correct; 21/60 at 8 ms; 60/60 from
# 9 ms). At 10 ms (the functional experiment) each bit of the previous learn's content
# still gains 0.68 nA onto the next cue, so a query holding 5 of those bits (5 x 0.68 nA
# reaches the cueCont cell's ~3.4 nA threshold) retrieves the neighbour too; the leak is
# 0.35 nA at 12 ms, 0.18 at 14 ms, 0.02 at 20 ms. 14 ms is the stress test's spacing.
DEFAULT_OP_MS = 14.0
MIN_OP_MS = RESULT_MS + 1
READS = ("copy", "live")  # where reads run: a frozen copy of the circuit, or the live circuit
SYNAPSE_BYTES = 16  # a synapse's index and weight, at least: the all-to-all projections' size (n_cues, n_bits)


def _check_monitors(monitors: object, net: Network) -> tuple[StateMonitor | WeightMonitor, ...]:
    """The extra monitors: a sequence of StateMonitor (of a population of the circuit) and WeightMonitor (of a
    projection); every population and source records its spikes already."""
    if isinstance(monitors, (str, bytes)) or not isinstance(monitors, Sequence):
        ck.fail("monitors", monitors, "a sequence of StateMonitor and WeightMonitor")
    pops, projs = [p.name for p in net.populations], [p.name for p in net.projections]
    for i, m in enumerate(monitors):
        if isinstance(m, StateMonitor):
            ck.one_of(f"monitors[{i}].population", m.population, pops)
        elif isinstance(m, WeightMonitor):
            ck.one_of(f"monitors[{i}].projection", m.projection, projs)
        else:
            ck.fail(f"monitors[{i}]", m, "a StateMonitor or WeightMonitor (every population's spikes are recorded)")
    return tuple(monitors)


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
    forget_methods: ClassVar[tuple[str, ...]] = ("reverse",)  # the learn reversed in time (.ca3_network)
    key_holds_one: ClassVar[bool] = True  # a cue holds one content: a learn overwrites it

    def __init__(self, n_cues: int, n_bits: int, backend: str = "numba", seed: int = 0, *,
                 plastic_recall: bool = False, reads: str = "copy", op_ms: float = DEFAULT_OP_MS,
                 learning_rule: STDP = LEARNING_RULE, monitors: Sequence[StateMonitor | WeightMonitor] = (),
                 device: str | None = None, dtype: str | None = None) -> None:
        self.n_cues = ck.count("n_cues", n_cues)
        if self.n_cues >= MAX_SIZE:
            ck.fail("n_cues", n_cues, f"an integer in [1, {MAX_SIZE - 1}] (the output population holds n_cues + "
                                      "n_bits neurons)")
        ck.allocatable("n_cues", n_cues, SYNAPSE_BYTES * 2.0 * self.n_cues**2)  # the n x n inhibition, twice
        self.n_bits = ck.count("n_bits", n_bits)
        if self.n_bits > MAX_SIZE - self.n_cues:
            ck.fail("n_units (n_bits)", n_bits, f"an integer in [1, {MAX_SIZE - self.n_cues}] (the output population "
                                                f"holds n_cues + n_bits neurons)")
        self._setup(n_bits, seed=seed, backend=backend, device=device, dtype=dtype, n_keys=n_cues, keyword="n_bits",
                    n_bytes=lambda m: SYNAPSE_BYTES * 3.0 * self.n_cues * m)  # three n x m all-to-all projections
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
        net = build_network(self.n_cues, self.n_bits, learning_rule)
        monitors = _check_monitors(monitors, net)
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
        """The forget operation (:mod:`.ca3_network`) on the key and the item's bits."""
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
