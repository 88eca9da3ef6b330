"""What a Simulator takes between runs, and how source spikes become ticks.

:class:`BetweenRuns` (a part of :class:`neurosim.Simulator`): extra or replaced spikes of a
SpikeSourceArray, the constant input current of a population, the weights of a projection;
each takes effect from the next tick on. :func:`spike_ticks` is the one rule that puts spike
times on the tick grid; :class:`PoissonStream` draws a Poisson source's spikes.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from neurosim import _checks as ck
from neurosim.network import PoissonSource, Population, SpikeSourceArray


class BetweenRuns:
    """Changes to a simulation between runs (mixed into :class:`neurosim.Simulator`)."""

    def add_spikes(self, source: str, times_ms: Sequence[float], ids: Sequence[int],
                   trial: int | None = None) -> None:
        """Schedule extra spikes of a SpikeSourceArray (times >= the current time)."""
        node = self.network.node(source)
        if not isinstance(node, SpikeSourceArray):
            ck.fail("source", source, "the name of a SpikeSourceArray")
        for field_, value in (("times_ms", times_ms), ("ids", ids)):
            if isinstance(value, (str, bytes)) or np.ndim(value) != 1:
                ck.fail(field_, np.shape(value) if np.ndim(value) else value, "a 1-D sequence (one entry per spike)")
        times = ck.finite_array("times_ms", times_ms).ravel()
        idx = np.asarray(ids).ravel()
        if times.shape != idx.shape:
            ck.fail("ids length", idx.size, f"one id per time ({times.size})")
        if idx.size and (not np.issubdtype(idx.dtype, np.integer) or idx.min() < 0 or idx.max() >= node.size):
            ck.fail("ids", idx.tolist()[:8], f"integers in [0, {node.size - 1}]")
        ticks = spike_ticks(source, times, idx, self.compiled.dt_ms, board=self.arithmetic == "spinnaker")
        if ticks.size and ticks.min() < self.step:
            ck.fail("times_ms", float(times.min()), f">= the current time ({self.t_ms} ms)")
        trials = range(self.batch_size) if trial is None else [ck.count("trial", trial, 0)]
        for b in trials:
            if b >= self.batch_size:
                ck.fail("trial", b, f"in [0, {self.batch_size - 1}]")
            pt, pn = self._pending[b]
            first = self.compiled.offsets[source][0]
            self._pending[b] = sorted_events([pt, ticks], [pn, idx.astype(np.int64) + first])

    def set_spike_times(self, source: str, spike_times_ms: Sequence[Sequence[float]],
                        trial: int | None = None) -> None:
        """Replace the spikes still to come of a SpikeSourceArray: one sequence of times (ms, >= the current
        time) per source neuron; the spikes it had scheduled from now on are dropped."""
        node = self.network.node(source)
        if not isinstance(node, SpikeSourceArray):
            ck.fail("source", source, "the name of a SpikeSourceArray")
        if len(spike_times_ms) != node.size:
            ck.fail("spike_times_ms length", len(spike_times_ms),
                    f"one sequence per neuron of {source!r} ({node.size})")
        times = [ck.finite_array("spike_times_ms", t).ravel() for t in spike_times_ms]
        all_times = np.concatenate(times) if times else np.zeros(0)
        if all_times.size and ck.ms_to_step_nearest(all_times, self.compiled.dt_ms).min() < self.step:
            ck.fail("spike_times_ms", float(all_times.min()), f">= the current time ({self.t_ms} ms)")
        first = self.compiled.offsets[source][0]
        trials = range(self.batch_size) if trial is None else [ck.count("trial", trial, 0)]
        for b in trials:
            self._check_trial(b)
        for b in trials:  # everything checked: the old spikes to come give way to the new
            pt, pn = self._pending[b]
            keep = (pn < first) | (pn >= first + node.size)
            self._pending[b] = (pt[keep], pn[keep])
        if all_times.size:
            ids = np.concatenate([np.full(t.size, i, np.int64) for i, t in enumerate(times)])
            self.add_spikes(source, all_times, ids, trial)

    def set_offset(self, population: str, i_offset_nA: Sequence[float] | float) -> None:
        """Set the constant input current (nA) of a population's neurons (one value, or one per neuron) from
        the next tick on, in every trial."""
        node = self.network.node(population)
        if not isinstance(node, Population):
            ck.fail("population", population, "the name of a Population")
        values = ck.finite_array("i_offset_nA", i_offset_nA)
        values = np.broadcast_to(values, (node.size,)) if values.ndim == 0 else values.ravel()
        if values.size != node.size:
            ck.fail("i_offset_nA length", values.size, f"1 or one per neuron of {population!r} ({node.size})")
        first = self.compiled.offsets[population][0]
        self.engine.set_offset(np.arange(first, first + node.size), np.array(values, dtype=np.float64))

    def set_weights(self, projection: str, weights_nA: Sequence[float] | float, trial: int | None = None) -> None:
        """Set the weights (nA, >= 0) of a projection, in its connector's order, between runs: in every trial
        or in ``trial``. Learning continues from them; plastic weights must stay in their rule's bounds."""
        self.network.projection(projection)
        syn = self.compiled.proj_syn[projection]
        w = ck.finite_array("weights_nA", weights_nA, minimum=0.0)
        w = np.broadcast_to(w, syn.shape) if w.ndim == 0 else w
        if w.shape != syn.shape:
            ck.fail("weights_nA length", w.size, f"1 or one per connection of {projection!r} ({syn.size})")
        rule = self.network.projection(projection).plasticity
        if rule is not None and w.size and (w.min() < rule.w_min_nA or w.max() > rule.w_max_nA):
            ck.fail("weights_nA", float(w.min() if w.min() < rule.w_min_nA else w.max()),
                    f"in [w_min_nA, w_max_nA] = [{rule.w_min_nA}, {rule.w_max_nA}] of {projection!r}'s STDP rule")
        if trial is not None:
            self._check_trial(trial)
        self.engine.set_weights(syn, np.array(w, dtype=np.float64), trial)


def spike_ticks(source: str, times_ms: np.ndarray, ids: np.ndarray, dt_ms: float, *, board: bool = False) -> np.ndarray:
    """The ticks of source spikes (neuron ``ids[k]`` at ``times_ms[k]``): each time moves to the nearest
    multiple of dt, half a step rounding up (``board``: as sPyNNaker does, ceil(floor(t in us) / dt in us),
    the next tick), and a source neuron fires at most once per tick. Either happening is said in one
    ``RuntimeWarning`` (times off the grid; spikes of one neuron merging)."""
    dt_ms = ck.positive("dt_ms", dt_ms, "ms")
    times_ms = ck.finite_array("times_ms", times_ms)
    if times_ms.ndim != 1:
        ck.fail("times_ms shape", times_ms.shape, "a 1-D array (one time per spike)")
    ids = _events("ids", ids)
    if ids.shape != times_ms.shape:
        ck.fail("ids length", ids.size, f"one id per time ({times_ms.size})")
    if board:
        ticks = np.ceil(np.floor(times_ms * 1000.0) / (dt_ms * 1000.0)).astype(np.int64)
    else:
        ticks = ck.ms_to_step_nearest(times_ms, dt_ms)
    off = np.abs(times_ms / dt_ms - ticks) > 1e-9
    if off.any():
        warnings.warn(f"SpikeSourceArray {source!r}: {int(off.sum())} of {ticks.size} spike times are not multiples "
                      f"of dt = {dt_ms:g} ms (e.g. {float(times_ms[off][0]):g} ms): each moves to the "
                      f"{'next' if board else 'nearest'} tick", RuntimeWarning, stacklevel=3)
    merged = ticks.size - np.unique(np.stack([ticks, ids]), axis=1).shape[1] if ticks.size else 0
    if merged:
        warnings.warn(f"SpikeSourceArray {source!r}: {merged} spikes fall on a tick where the same neuron already "
                      "fires and merge into it (a source neuron fires at most once per tick)", RuntimeWarning,
                      stacklevel=3)
    return ticks


def _events(field: str, values: object) -> np.ndarray:
    """Integer ticks or node ids as int64 (1-D; an empty array of any dtype is none), checked in O(1): dtype and
    shape only (their values are the caller's)."""
    a = np.asarray(values) if isinstance(values, np.ndarray | list | tuple) else None
    if a is None or a.dtype.kind == "O" or a.ndim != 1 or (a.size and a.dtype.kind not in "iu"):
        ck.fail(field, values, "a 1-D array of integers")
    return a.astype(np.int64, copy=False)


def sorted_events(ticks: list[np.ndarray], nodes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Events (tick, node) from matching lists of arrays, sorted by tick, then node."""
    for field_, parts in (("ticks", ticks), ("nodes", nodes)):
        if not isinstance(parts, list | tuple):
            ck.fail(field_, parts, "a list of 1-D integer arrays")
    ticks = [_events("ticks", t) for t in ticks]
    nodes = [_events("nodes", n) for n in nodes]
    if [t.size for t in ticks] != [n.size for n in nodes]:
        ck.fail("ticks/nodes lengths", ([t.size for t in ticks], [n.size for n in nodes]), "equal: one node per tick")
    t = np.concatenate(ticks).astype(np.int64) if ticks else np.zeros(0, np.int64)
    n = np.concatenate(nodes).astype(np.int64) if nodes else np.zeros(0, np.int64)
    order = np.lexsort((n, t))
    return t[order], n[order]


class PoissonStream:
    """The spikes of one PoissonSource in one trial: Bernoulli(p = rate dt) per step and neuron.

    Drawn in blocks of ``BLOCK`` steps aligned to absolute ticks: a block of
    B x size independent Bernoulli(p) cells is a Binomial(B size, p) number of spikes
    placed on a uniformly random subset of the cells, which costs O(spikes) instead
    of O(B size) uniforms. Blocks are consumed in order, so the spikes do not depend
    on how a run is cut into chunks.
    """

    BLOCK = 1024

    def __init__(self, rng: np.random.Generator, src: PoissonSource, dt_ms: float) -> None:
        if not isinstance(rng, np.random.Generator):
            ck.fail("PoissonStream.rng", rng, "a numpy.random.Generator")
        if not isinstance(src, PoissonSource):
            ck.fail("PoissonStream.src", src if isinstance(src, str) else type(src).__name__, "a PoissonSource")
        if src.rate_hz * ck.positive("PoissonStream.dt_ms", dt_ms, "ms") / 1000.0 > 1.0:
            ck.fail("PoissonStream.dt_ms", dt_ms, f"<= {1000.0 / src.rate_hz:g} ms (p = rate x dt <= 1)")
        self.rng, self.src, self.dt = rng, src, dt_ms
        self.p = src.rate_hz * dt_ms / 1000.0
        self.next_block = 0
        self.ticks = np.zeros(0, np.int64)
        self.ids = np.zeros(0, np.int64)

    def take(self, t0: int, t1: int) -> tuple[np.ndarray, np.ndarray]:
        """Spikes with ticks in [t0, t1) (calls must follow each other in time)."""
        while self.next_block < t1:
            self._draw_block()
        lo, hi = np.searchsorted(self.ticks, [t0, t1])
        out = self.ticks[lo:hi], self.ids[lo:hi]
        self.ticks, self.ids = self.ticks[hi:], self.ids[hi:]
        return out

    def _draw_block(self) -> None:
        start, size = self.next_block, self.src.size
        self.next_block += self.BLOCK
        cells = self.BLOCK * size
        count = self.rng.binomial(cells, self.p) if self.p > 0 else 0
        flat = np.sort(self.rng.choice(cells, size=count, replace=False)) if count else np.zeros(0, np.int64)
        ticks = start + flat // size
        ids = flat % size
        times = ticks * self.dt
        keep = (times >= self.src.start_ms) & (times < self.src.stop_ms)
        self.ticks = np.concatenate([self.ticks, ticks[keep]])
        self.ids = np.concatenate([self.ids, ids[keep].astype(np.int64)])
