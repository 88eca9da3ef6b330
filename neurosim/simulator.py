r"""The Simulator and the one discretization every backend implements.

Time advances in ticks of ``dt`` (``Network.dt_ms``); tick ``t`` stands for time
``t dt`` and a spike emitted during it is stamped ``t dt`` (as on SpiNNaker).
Synaptic currents are in nA, membrane resistance :math:`R = \tau_m / c_m` in MOhm.
Per neuron, per tick ``t`` (:math:`e_x = e^{-dt/\tau_x}`):

1. input: :math:`I_e \mathrel{+}= \iota_e B_e[t],\; I_i \mathrel{+}= \iota_i B_i[t]`, with
   :math:`\iota = (\tau_{syn}/dt)(1 - e^{-dt/\tau_{syn}})` so that one spike of weight
   :math:`w` injects the charge :math:`w \tau_{syn}` of the continuous exponential synapse;
2. membrane (exact for a current held over the tick), unless refractory:

   .. math:: \alpha = (I_e - I_i + i_{offset}) R + v_{rest}, \qquad
             v \leftarrow \alpha - e_m (\alpha - v)

   while the refractory counter :math:`c > 0`, ``v`` is frozen and ``c`` counts down;
3. threshold: :math:`v \ge v_{thresh}` emits a spike, :math:`v \leftarrow v_{reset}`,
   :math:`c \leftarrow \lceil \tau_{refrac}/dt \rceil`;
4. decay: :math:`I_e \leftarrow e_e I_e,\; I_i \leftarrow e_i I_i`.

Then for the network: spike sources emit the spikes scheduled for tick ``t`` (at
most one per source neuron: times that round to the same tick merge);
STDP potentiates synapses whose post spike (tick ``t - d``) reaches them now; the
spiking neurons push their post traces; finally every spiking node, in ascending
id and, within it, in canonical synapse order (:mod:`neurosim.compiled`), depresses
its plastic synapses and adds their weights to the ring-buffer slot
:math:`B[t + d]`. A spike over a synapse of delay ``d`` steps therefore reaches
the membrane at tick ``t + d`` exactly (SpiNNaker's semantics; Brian2 takes
``d + 1``). Ring buffers hold ``max_delay + 1`` slots per neuron and receptor.
STDP is described in :mod:`neurosim.plasticity`.

Recorded state variables are sampled at the end of each tick.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from neurosim import _checks as ck
from neurosim import backends
from neurosim.backends.base import Chunk, External
from neurosim.compiled import compile_network
from neurosim.inputs import BetweenRuns, PoissonStream, sorted_events, spike_ticks
from neurosim.network import (
    MAGNITUDE,
    STATE_VARIABLES,
    Network,
    PoissonSource,
    Population,
    SpikeMonitor,
    SpikeSourceArray,
    StateMonitor,
    WeightMonitor,
)

Observer = Callable[["Simulator"], None]
MAX_CHUNK_STEPS = 2000


def _ndim(value: object) -> int:
    try:
        return np.ndim(value)
    except ValueError:  # ragged nesting: deeper than a flat sequence
        return 2


@dataclass(frozen=True, eq=False)
class StateRecord:
    """Recorded state of one StateMonitor: ``values[var]`` has shape (n_samples, len(ids))."""

    times_ms: np.ndarray
    ids: tuple[int, ...]
    values: dict[str, np.ndarray]


class Simulator(BetweenRuns):
    """Runs a :class:`Network` on one backend; ``run`` continues from the current state.

    ``batch_size`` > 1 (torch backend) runs independent trials at once: in trial ``b``,
    Poisson source ``k`` draws from ``SeedSequence(seed, spawn_key=(b, k))``, so trial 0
    of a batch equals an unbatched run with the same seed.

    ``arithmetic="spinnaker"`` (backends ``reference`` and ``numba``) computes the tick in sPyNNaker 7.x's
    integer arithmetic (:mod:`neurosim.backends.spinnaker_engine`): what a SpiNNaker board records, to the bit.
    """

    def __init__(self, network: Network, backend: str = "numba", seed: int = 0, *,
                 batch_size: int = 1, dtype: str | None = None, device: str | None = None,
                 arithmetic: str = "float64") -> None:
        if not isinstance(network, Network):
            ck.fail("network", type(network).__name__, "a neurosim.Network")
        ck.count("seed", seed, minimum=0)
        ck.count("batch_size", batch_size)
        # one check of backend, device and dtype for every engine (a device on a CPU-only engine is refused)
        self.backend, self.device, self.dtype = backends.resolve(backend, device, dtype)
        self.network = network
        self.seed = seed
        self.batch_size = batch_size
        self.compiled = net = compile_network(network)
        self.arithmetic = arithmetic
        engine_cls = backends.arithmetic_engine(backend, arithmetic)
        if batch_size > 1 and not engine_cls.supports_batch:
            ck.fail("batch_size", batch_size, f"1 on backend {backend!r} (batches need 'torch')")
        self._spike_targets = {m.target for m in network.monitors if isinstance(m, SpikeMonitor)}
        record = np.zeros(net.n_nodes, bool)
        for name in self._spike_targets:
            record[net.slice(name)] = True
        self._state_mons = [m for m in network.monitors if isinstance(m, StateMonitor)]
        traced = [net.offsets[m.population][0] + i for m in self._state_mons for i in m.ids]
        self._traced = np.array(traced, dtype=np.int64)
        fixed = {"network": network} if arithmetic != "float64" else {}
        self.engine = engine_cls(net, batch_size=batch_size, record=record, traced=self._traced,
                                 dtype=self.dtype, device=self.device, **fixed)
        self.step = 0
        self._chunks: list[Chunk] = []
        self._chunk_end: list[int] = []  # last tick of each chunk
        self._weight_mons = [m for m in network.monitors if isinstance(m, WeightMonitor)]
        self._weight_log: dict[str, list[tuple[float, np.ndarray]]] = {
            m.projection: [] for m in self._weight_mons}
        self._observers: list[tuple[Observer, int]] = []
        # scheduled source spikes, per trial: sorted (tick, node) arrays
        ticks, nodes = [], []
        for src in network.sources:
            if isinstance(src, SpikeSourceArray):
                first = net.offsets[src.name][0]
                ids = np.concatenate([np.full(t.size, i, np.int64) for i, t in enumerate(src.spike_times_ms)])
                ticks.append(spike_ticks(src.name, np.concatenate(src.spike_times_ms), ids, net.dt_ms,
                                         board=arithmetic == "spinnaker"))
                nodes.append(ids + first)
        t, n = sorted_events(ticks, nodes)
        self._pending = [(t.copy(), n.copy()) for _ in range(batch_size)]
        self._poisson = [s for s in network.sources if isinstance(s, PoissonSource)]
        self._poisson_streams = [
            [PoissonStream(np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(b, k))), src, net.dt_ms)
             for k, src in enumerate(self._poisson)] for b in range(batch_size)]

    # -- inputs and observers ---------------------------------------------------------
    @property
    def t_ms(self) -> float:
        return self.step * self.compiled.dt_ms

    @property
    def learning(self) -> bool:
        """Whether STDP changes weights now (default True). Off, weights are frozen while
        pre and post traces keep following spikes, so pairings across a switch stay exact."""
        return self.engine.learning

    @learning.setter
    def learning(self, enabled: bool) -> None:
        self.engine.set_learning(ck.boolean("learning", enabled))

    def add_observer(self, callback: Observer, every_steps: int = 1) -> None:
        """Call ``callback(simulator)`` every ``every_steps`` ticks during ``run``."""
        if not callable(callback):
            ck.fail("callback", callback, "a callable taking the simulator")
        self._observers.append((callback, ck.count("every_steps", every_steps)))

    # -- between runs: the names (and shapes) are checked here, the values in neurosim.inputs ------------
    def _names(self, name: object, *parts: str) -> bool:
        """Whether ``name`` names a member of the network's ``parts`` ("populations", "sources", ...)."""
        return isinstance(name, str) and any(x.name == name for part in parts for x in getattr(self.network, part))

    def _named(self, field: str, name: object, kind: type | tuple[type, ...], what: str) -> str:
        """``name`` if it names a ``kind`` node of the network; else an error listing those that do."""
        nodes = (*self.network.populations, *self.network.sources)
        known = [n.name for n in nodes if isinstance(n, kind)]
        other = next((n for n in nodes if n.name == name), None) if isinstance(name, str) else None
        is_a = f"; {name!r} is a {type(other).__name__}" if other else ""
        return ck.one_of(field, name, known, f" (the {what}{is_a})")

    def add_spikes(self, source: str, times_ms, ids, trial: int | None = None) -> None:
        self._named("Simulator.add_spikes source", source, SpikeSourceArray, "SpikeSourceArrays")
        super().add_spikes(source, times_ms, ids, trial)

    def set_spike_times(self, source: str, spike_times_ms, trial: int | None = None) -> None:
        self._named("Simulator.set_spike_times source", source, SpikeSourceArray, "SpikeSourceArrays")
        if isinstance(spike_times_ms, (str, bytes)) or not hasattr(spike_times_ms, "__len__"):
            ck.fail("spike_times_ms", spike_times_ms, f"one sequence of times (ms) per neuron of {source!r}")
        for i, times in enumerate(spike_times_ms):
            if _ndim(times) > 1:
                ck.fail(f"spike_times_ms[{i}]", times, "a flat sequence of times in ms (one per spike)")
        super().set_spike_times(source, spike_times_ms, trial)

    def set_offset(self, population: str, i_offset_nA) -> None:
        self._named("Simulator.set_offset population", population, Population, "Populations")
        values = ck.finite_array("i_offset_nA", i_offset_nA)
        if values.ndim > 1:
            ck.fail("i_offset_nA", i_offset_nA, "one value, or a flat sequence of one per neuron")
        if values.size and np.abs(values).max() > MAGNITUDE:
            ck.fail("i_offset_nA", float(values.ravel()[np.argmax(np.abs(values))]),
                    f"within +-{MAGNITUDE:g} nA (as LIFParams.i_offset_nA)")
        super().set_offset(population, i_offset_nA)

    def set_weights(self, projection: str, weights_nA, trial: int | None = None) -> None:
        ck.one_of("Simulator.set_weights projection", projection, [p.name for p in self.network.projections])
        super().set_weights(projection, weights_nA, trial)

    # -- running ---------------------------------------------------------------------
    def run(self, duration_ms: float, *, progress: bool = False) -> None:
        """Advance by ``duration_ms`` (a whole number of steps), continuing the current state."""
        ck.boolean("progress", progress)
        n_total = self._steps(duration_ms)
        end = self.step + n_total
        self._snapshot_weights(force=False)  # includes the initial weights at t = 0
        bar = None
        if progress:
            from tqdm.auto import tqdm
            bar = tqdm(total=n_total, unit="step", desc=f"{self.backend}", leave=False)
        try:
            while self.step < end:
                n = min(end - self.step, MAX_CHUNK_STEPS, self._steps_to_next_event())
                self._advance(n)
                if bar is not None:
                    bar.update(n)
                self._after_chunk()
        finally:
            if bar is not None:
                bar.close()
        self._snapshot_weights(force=True)

    def _steps_to_next_event(self) -> int:
        gaps = [k - self.step % k for _, k in self._observers]
        for m in self._weight_mons:
            every = max(1, round(m.every_ms / self.compiled.dt_ms))
            gaps.append(every - self.step % every)
        return min(gaps, default=MAX_CHUNK_STEPS)

    def _advance(self, n: int) -> None:
        t0 = self.step
        chunk = self.engine.advance(t0, n, self._take_inputs(t0, t0 + n))
        self._chunks.append(chunk)
        self._chunk_end.append(t0 + n - 1)
        self.step = t0 + n

    def _take_inputs(self, t0: int, t1: int) -> External:
        """Source spikes of ticks [t0, t1), all trials: scheduled ones and Poisson draws."""
        ticks, trials, nodes = [], [], []
        for b in range(self.batch_size):
            pt, pn = self._pending[b]
            lo, hi = np.searchsorted(pt, [t0, t1])
            ticks.append(pt[lo:hi])
            nodes.append(pn[lo:hi])
            trials.append(np.full(hi - lo, b, np.int64))
            self._pending[b] = (pt[hi:], pn[hi:])
            for stream in self._poisson_streams[b]:
                t, i = stream.take(t0, t1)
                ticks.append(t)
                nodes.append(i + self.compiled.offsets[stream.src.name][0])
                trials.append(np.full(t.size, b, np.int64))
        tick = np.concatenate(ticks)
        trial = np.concatenate(trials)
        node = np.concatenate(nodes)
        order = np.lexsort((node, trial, tick))
        tick, trial, node = tick[order], trial[order], node[order]
        # a source neuron, like a neuron, emits at most one spike per tick
        keep = np.ones(tick.size, bool)
        keep[1:] = (np.diff(tick) != 0) | (np.diff(trial) != 0) | (np.diff(node) != 0)
        return External(tick[keep], trial[keep], node[keep])

    def draw_inputs(self, duration_ms: float) -> External:
        """The source spikes of the next ``duration_ms`` exactly as ``run`` would feed them to
        the engine, for handing a whole run to another simulator (Brian2's cpp_standalone).
        Consumes them: use a fresh Simulator for this, not one you go on running."""
        return self._take_inputs(self.step, self.step + self._steps(duration_ms))

    def _steps(self, duration_ms: float) -> int:
        """``duration_ms`` as a whole number of steps (refused otherwise)."""
        dt = self.compiled.dt_ms
        ck.non_negative("duration_ms", duration_ms, "ms")
        n = round(duration_ms / dt)
        if not math.isclose(n * dt, duration_ms, rel_tol=1e-9, abs_tol=1e-12):
            ck.fail("duration_ms", duration_ms, f"a whole number of steps of dt = {dt} ms")
        return n

    def _after_chunk(self) -> None:
        for callback, every in self._observers:
            if self.step % every == 0:
                callback(self)
        self._snapshot_weights(force=False)

    def _snapshot_weights(self, force: bool) -> None:
        if not self._weight_mons:
            return
        w = None
        for m in self._weight_mons:
            every = max(1, round(m.every_ms / self.compiled.dt_ms))
            log = self._weight_log[m.projection]
            if (force or self.step % every == 0) and not (log and log[-1][0] == self.t_ms):
                w = self.engine.weights() if w is None else w
                log.append((self.t_ms, w[:, self.compiled.proj_syn[m.projection]].copy()))

    # -- results ------------------------------------------------------------------------
    def spikes(self, name: str, trial: int = 0, since_ms: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """``(times_ms, ids)`` of a monitored population or source, sorted by time then id;
        ``since_ms``: only spikes at or after that time (reads only the recent chunks)."""
        self._check_trial(trial)
        recorded = sorted(self._spike_targets)
        if not isinstance(name, str) or name not in recorded:
            known = self._names(name, "populations", "sources")
            ck.one_of("Simulator.spikes name", name, recorded, " (the recorded populations and sources)" if not known
                    else f" (spikes of {name!r} were not recorded: add SpikeMonitor({name!r}) to the network)")
        start, size = self.compiled.offsets[name]
        first_tick = int(np.ceil(round(ck.non_negative("since_ms", since_ms, "ms") / self.compiled.dt_ms, 9)))
        # chunks are in time order: skip those that end before since_ms
        k0 = int(np.searchsorted(np.array(self._chunk_end, dtype=np.int64), first_tick, side="left"))
        t, i = [], []
        for c in self._chunks[k0:]:
            sel = (c.spike_trial == trial) & (c.spike_node >= start) & (c.spike_node < start + size)
            sel &= c.spike_tick >= first_tick
            t.append(c.spike_tick[sel])
            i.append(c.spike_node[sel])
        ticks = np.concatenate(t) if t else np.zeros(0, np.int64)
        ids = (np.concatenate(i) if i else np.zeros(0, np.int64)) - start
        return ticks * self.compiled.dt_ms, ids

    def state(self, population: str, trial: int = 0, since_ms: float = 0.0) -> StateRecord:
        """Recorded state of the StateMonitor on ``population``; ``since_ms``: only the samples
        at or after that time (reads only the recent chunks, as :meth:`spikes`)."""
        self._check_trial(trial)
        traced = [m.population for m in self._state_mons]
        if not isinstance(population, str) or population not in traced:
            hint = (f" ({population!r} has no StateMonitor: add StateMonitor({population!r}, ids) to the network)"
                    if self._names(population, "populations") else f" ({population!r} is a spike source: it has no "
                    "state)" if self._names(population, "sources") else " (the populations with a StateMonitor)")
            ck.one_of("Simulator.state population", population, traced, hint)
        first_tick = int(np.ceil(round(ck.non_negative("since_ms", since_ms, "ms") / self.compiled.dt_ms, 9)))
        k0 = int(np.searchsorted(np.array(self._chunk_end, dtype=np.int64), first_tick, side="left"))
        col = 0
        for m in self._state_mons:
            if m.population == population:
                cols = slice(col, col + len(m.ids))
                parts = [c.state[:, trial, cols, :] for c in self._chunks[k0:] if c.state is not None]
                data = np.concatenate(parts) if parts else np.zeros((0, len(m.ids), 3))
                n = data.shape[0]
                ticks = np.arange(self.step - n, self.step)
                keep = ticks >= first_tick
                values = {v: data[keep, :, STATE_VARIABLES.index(v)].copy() for v in m.variables}
                return StateRecord(ticks[keep] * self.compiled.dt_ms, m.ids, values)
            col += len(m.ids)
        raise AssertionError  # unreachable: population is one of the traced

    def weights(self, projection: str, trial: int = 0) -> np.ndarray:
        """Current weights (nA) of a projection, in its connector's order."""
        self._check_trial(trial)
        ck.one_of("Simulator.weights projection", projection, [p.name for p in self.network.projections])
        return self.engine.weights()[trial, self.compiled.proj_syn[projection]]

    def weight_history(self, projection: str, trial: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """``(times_ms, weights)`` snapshots of a WeightMonitor: shape (n_snapshots, n_synapses)."""
        self._check_trial(trial)
        if not isinstance(projection, str) or projection not in self._weight_log:
            hint = (f" ({projection!r} has no WeightMonitor: add WeightMonitor({projection!r}, every_ms) to the "
                    "network)" if self._names(projection, "projections") else " (the projections with a WeightMonitor)")
            ck.one_of("Simulator.weight_history projection", projection, list(self._weight_log), hint)
        log = self._weight_log[projection]
        times = np.array([t for t, _ in log])
        n_syn = self.compiled.proj_syn[projection].size
        w = np.stack([x[trial] for _, x in log]) if log else np.zeros((0, n_syn))
        return times, w

    def discard_recordings(self, before_ms: float) -> None:
        """Free the recorded spikes and states of the chunks that end before ``before_ms`` (a long
        or live run that only looks at its recent past: the viewer keeps a few seconds); later
        :meth:`spikes` and :meth:`state` return what remains. Weight snapshots are kept."""
        tick = int(np.ceil(round(ck.finite("before_ms", before_ms) / self.compiled.dt_ms, 9)))
        k = int(np.searchsorted(np.array(self._chunk_end, dtype=np.int64), tick, side="left"))
        del self._chunks[:k]
        del self._chunk_end[:k]

    def _check_trial(self, trial: int) -> None:
        if isinstance(trial, bool) or not isinstance(trial, (int, np.integer)) or not 0 <= trial < self.batch_size:
            ck.fail("trial", trial, f"an integer in [0, {self.batch_size - 1}]")

    def close(self) -> None:
        self.engine.close()
