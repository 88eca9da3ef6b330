"""The numba engine: the default CPU backend.

Same tick as :mod:`neurosim.backends.reference` (see :mod:`neurosim.simulator`),
compiled: a whole chunk of ticks runs inside one ``@njit`` kernel. The neuron
update is a ``prange`` loop (parallel over neurons on networks large enough to
pay for the threads); spike delivery is event-driven over the CSR synapse rows
of the nodes that spiked, in canonical order, so float64 results equal the
reference engine's bit for bit. Synapse storage and STDP (applied when a synapse
is read): :mod:`neurosim.backends.numba_synapses`.
"""

from __future__ import annotations

import hashlib
import types
from pathlib import Path
from typing import NamedTuple

import numba
import numpy as np
from numba import njit, prange

from neurosim.backends import numba_synapses
from neurosim.backends.base import NEVER, Chunk, Engine, External
from neurosim.backends.numba_synapses import (
    DONE,
    POS,
    deliver_part,
    layout,
    new_post_state,
    push_post,
    push_pre,
    row_plastic,
    settle_all,
    settle_post,
    switch_learning,
)
from neurosim.compiled import CompiledNetwork

PARALLEL_MIN_NEURONS = 8192  # below this, thread start-up costs more than it saves


def _prefer_tbb() -> None:
    """Run parallel kernels on TBB when it is installed and the user chose no threading layer.
    The kernel forks and joins threads twice per tick; OpenMP then waits for every thread, so
    one core busy with another program stalls each tick (N = 16000 with STDP, one core busy:
    1.36 s per 100 ms on OpenMP, 0.35 s on TBB, whose calling thread finishes the work alone).
    pip puts libtbb in the environment's lib/, which the loader does not search: load it first."""
    import ctypes
    import os
    import sys

    if os.environ.get("NUMBA_THREADING_LAYER"):
        return
    try:
        ctypes.CDLL(os.path.join(sys.prefix, "lib", "libtbb.so.12"), mode=ctypes.RTLD_GLOBAL)
        import numba.np.ufunc.tbbpool  # noqa: F401 - fails if numba cannot use this TBB
    except (OSError, ImportError):
        return
    numba.config.THREADING_LAYER = "tbb"


_prefer_tbb()


def _named(fn, name: str):
    """``fn`` under another name. numba names a function's cache files after it and keys them by
    bytecode and signature, not by compile options: two variants of one function (serial and
    parallel) would each load whichever the other stored."""
    out = types.FunctionType(fn.__code__, fn.__globals__, name, fn.__defaults__, fn.__closure__)
    out.__qualname__ = name
    return out


# Neurons are updated by blocks. A neuron whose last update had no input, was not refractory and left its
# state as it was is at a fixed point of the update: without input the next gives the same state again.
# A block of such neurons (``quiet``) that gets no input this tick is skipped. Memories keep most neurons
# silent most of the time (CA3); a silent neuron reaches its fixed point (v within an ulp of v_rest, the
# currents underflowed to 0) some hundred ticks after its last input.
BLOCK = 2048


@njit(cache=True)
def no_input(buf_i, slot, lo, hi):
    """No input reaches neurons lo..hi-1 this tick (the slot's bits all zero: an OR that vectorises)."""
    b0, b1 = buf_i[0, slot, lo:hi], buf_i[1, slot, lo:hi]
    bits = 0
    for j in range(b0.size):
        bits |= b0[j] | b1[j]
    return bits == 0


@njit(cache=True)
def update_block(lo, hi, slot, init_e, init_i, i_offset, r_mohm, v_rest, decay_m, v_thresh, v_reset, refrac_steps,
                 decay_e, decay_i, v, ie, ii, refrac, buf, buf_i, spk):
    """Steps 1-4 of the tick for neurons lo..hi-1; True if they all stayed at a fixed point.
    Written as simple loops over slices: with one loop, or with indices lo + j (numba then checks each
    for a negative value), the compiler vectorises none of it, and the update costs twice as much."""
    b0, b1, bi0, bi1 = buf[0, slot, lo:hi], buf[1, slot, lo:hi], buf_i[0, slot, lo:hi], buf_i[1, slot, lo:hi]
    e, i, vm, r = ie[lo:hi], ii[lo:hi], v[lo:hi], refrac[lo:hi]
    w_e, w_i = init_e[lo:hi], init_i[lo:hi]
    busy = 0  # input or a refractory neuron: not at a fixed point
    for j in range(e.size):  # step 1: the input due now
        busy |= bi0[j] | bi1[j] | r[j]
        e[j] += w_e[j] * b0[j]
        i[j] += w_i[j] * b1[j]
        b0[j] = 0.0
        b1[j] = 0.0
    args = (i_offset[lo:hi], r_mohm[lo:hi], v_rest[lo:hi], decay_m[lo:hi], v_thresh[lo:hi], v_reset[lo:hi],
            refrac_steps[lo:hi], decay_e[lo:hi], decay_i[lo:hi], vm, e, i, r, spk[lo:hi])
    if busy:  # the common case in an active network, kept free of the comparisons
        _membrane(*args)
        return False
    return _membrane_watched(*args)


@njit(cache=True)
def _membrane(off, rm, vr, dm, vt, vre, rs, de, di, vm, e, i, r, sp):
    """Steps 2-4 for a block (slices): membrane unless refractory; spike, reset, refractory count; decay."""
    for j in range(e.size):
        alpha = (e[j] - i[j] + off[j]) * rm[j] + vr[j]
        v_new = alpha - dm[j] * (alpha - vm[j])
        vm[j] = v_new if r[j] == 0 else vm[j]
    for j in range(e.size):
        fired = vm[j] >= vt[j]
        rj = r[j]
        r[j] = rs[j] if fired else (rj - 1 if rj > 0 else 0)
        vm[j] = vre[j] if fired else vm[j]
        sp[j] = fired
    for j in range(e.size):
        e[j] *= de[j]
        i[j] *= di[j]


@njit(cache=True)
def _membrane_watched(off, rm, vr, dm, vt, vre, rs, de, di, vm, e, i, r, sp):
    """``_membrane`` for a block with no input and no refractory neuron: True if nothing moved (a fixed point)."""
    moved = 0
    for j in range(e.size):
        alpha = (e[j] - i[j] + off[j]) * rm[j] + vr[j]
        v_new = alpha - dm[j] * (alpha - vm[j])
        moved |= v_new != vm[j]
        vm[j] = v_new
    for j in range(e.size):
        fired = vm[j] >= vt[j]
        moved |= fired
        r[j] = rs[j] if fired else 0
        vm[j] = vre[j] if fired else vm[j]
        sp[j] = fired
    for j in range(e.size):
        e_new, i_new = e[j] * de[j], i[j] * di[j]
        moved |= (e_new != e[j]) | (i_new != i[j])
        e[j] = e_new
        i[j] = i_new
    return moved == 0


class Neurons(NamedTuple):
    """The neurons' constants (the compiled network's) and state (this simulation's), in the kernel's order."""

    init_e: np.ndarray
    init_i: np.ndarray
    i_offset: np.ndarray
    r_mohm: np.ndarray
    v_rest: np.ndarray
    decay_m: np.ndarray
    v_thresh: np.ndarray
    v_reset: np.ndarray
    refrac_steps: np.ndarray
    decay_e: np.ndarray
    decay_i: np.ndarray
    quiet: np.ndarray   # blocks whose neurons are all at rest
    v: np.ndarray
    ie: np.ndarray
    ii: np.ndarray
    refrac: np.ndarray
    buf: np.ndarray     # (2, history, n) input ring buffers
    spk: np.ndarray     # uint8: fired this tick


class Synapses(NamedTuple):
    """The synapse table (:class:`.numba_synapses.Layout`) and the plastic synapses by post neuron and delay."""

    row_ptr: np.ndarray
    row_plastic: np.ndarray
    rec_i: np.ndarray
    rec_f: np.ndarray
    in_ptr: np.ndarray
    in_syn: np.ndarray
    in_pre: np.ndarray


class Rules(NamedTuple):
    """The STDP rules' parameters and decay tables, one row per rule."""

    mult: np.ndarray
    a_plus: np.ndarray
    a_minus: np.ndarray
    w_min: np.ndarray
    w_max: np.ndarray
    tab_plus: np.ndarray
    tab_minus: np.ndarray


class Traces(NamedTuple):
    """STDP state: pre traces and last spikes per node, post spike rings and records per neuron (numba_synapses)."""

    pre_r: np.ndarray
    pre_t: np.ndarray
    ring_t: np.ndarray
    ring_o: np.ndarray
    ring_l: np.ndarray
    post: np.ndarray
    post_i: np.ndarray


def _advance(t0, n_steps, learn, ext_ptr, ext_node, neurons, synapses, rules, traces, record, rec_tick, rec_node,
             traced, state_out, nodes, events):
    """Run ticks t0 .. t0+n_steps-1; stop early (return steps done) if the spike record
    buffer could overflow. events[part] accumulates the synaptic events each partition delivered.
    Compiled twice (below): the ``prange`` loops (neuron update, delivery) run on threads only in
    ``_advance_parallel``. The arrays come in four named tuples, unpacked here to the names the loops use."""
    (init_e, init_i, i_offset, r_mohm, v_rest, decay_m, v_thresh, v_reset, refrac_steps, decay_e, decay_i, quiet,
     v, ie, ii, refrac, buf, spk) = neurons
    row_ptr, row_plastic, rec_i, rec_f, in_ptr, in_syn, in_pre = synapses
    rule_mult, a_plus, a_minus, w_min, w_max, tab_plus, tab_minus = rules
    pre_r, pre_t, ring_t, ring_o, ring_l, post, post_i = traces
    n = v.size
    h = buf.shape[1]
    buf_i = buf.view(np.int64)
    depth = ring_t.shape[1]
    has_plastic = in_syn.size > 0
    n_rec = 0
    cap = rec_tick.size
    for step in range(n_steps):
        if n_rec + nodes.size > cap:
            return step, n_rec
        t = t0 + step
        slot = t % h
        for b in prange(quiet.size):  # steps 1-4, by blocks of BLOCK neurons
            lo, hi = b * BLOCK, min(n, b * BLOCK + BLOCK)
            if not (quiet[b] and no_input(buf_i, slot, lo, hi)):
                quiet[b] = update_block(lo, hi, slot, init_e, init_i, i_offset, r_mohm, v_rest, decay_m, v_thresh,
                                        v_reset, refrac_steps, decay_e, decay_i, v, ie, ii, refrac, buf, buf_i, spk)
        n_spk = 0
        for b in range(quiet.size):
            if not quiet[b]:  # a quiet block did not spike
                lo = b * BLOCK
                sp = spk[lo:min(n, lo + BLOCK)]
                for j in range(sp.size):
                    if sp[j]:
                        nodes[n_spk] = lo + j
                        n_spk += 1
        n_nodes = n_spk
        for e in range(ext_ptr[step], ext_ptr[step + 1]):
            nodes[n_nodes] = ext_node[e]
            n_nodes += 1

        if has_plastic:
            # post traces of the neurons that spiked now, in their rings; a ring about to drop a spike
            # some synapse may still owe a potentiation to settles that neuron's synapses first
            for q in range(n_spk):
                j = nodes[q]
                nxt = post_i[j, POS] + 1 if post_i[j, POS] < depth - 1 else 0
                if ring_l[j, nxt] and ring_t[j, nxt] + h - 1 > post_i[j, DONE]:
                    settle_post(j, t, h, in_ptr, in_syn, in_pre, rec_i, rec_f, ring_t, ring_l, post_i,
                                pre_r, pre_t, rule_mult, a_plus, w_max, tab_plus)
                push_post(j, t, learn, ring_t, ring_o, ring_l, post, post_i, tab_minus)

        for part in prange(row_ptr.shape[0]):  # delivery, one partition of the synapses per thread
            events[part] += deliver_part(part, t, learn, nodes, n_nodes, row_ptr, row_plastic, rec_i, rec_f,
                                         rule_mult, a_plus, a_minus, w_min, w_max, tab_plus, tab_minus, buf, pre_r,
                                         pre_t, ring_t, ring_o, ring_l, post, post_i)
        push_pre(t, nodes, n_nodes, pre_r, pre_t, tab_plus)

        for q in range(n_nodes):
            if record[nodes[q]]:
                rec_tick[n_rec] = t
                rec_node[n_rec] = nodes[q]
                n_rec += 1
        for c in range(traced.size):
            state_out[step, c, 0] = v[traced[c]]
            state_out[step, c, 1] = ie[traced[c]]
            state_out[step, c, 2] = ii[traced[c]]
    return n_steps, n_rec


# Two compiled kernels, not one taking the update as an argument: numba caches neither a kernel
# that takes a compiled function nor one that calls a parallel one (it crashes loading it), and
# without the cache every process compiles for seconds. nogil: a chunk computes without Python's
# lock, so other threads (the viewer's interface, Dask's threads) keep running meanwhile.
# The names carry a digest of numba_synapses' source: numba checks a cached kernel against its own
# file only, not the files of the functions compiled into it (numba issue #1833), so a changed
# numba_synapses would otherwise run stale, or crash on a changed signature.
_DEPS = hashlib.sha1(Path(numba_synapses.__file__).read_bytes()).hexdigest()[:12]
_advance_serial = njit(cache=True, nogil=True)(_named(_advance, f"_advance_serial_{_DEPS}"))
_advance_parallel = njit(cache=True, nogil=True, parallel=True)(_named(_advance, f"_advance_parallel_{_DEPS}"))


class NumbaEngine(Engine):
    name = "numba"

    def __init__(self, net: CompiledNetwork, **kw) -> None:
        super().__init__(net, **kw)
        if self.batch_size != 1:
            raise ValueError(f"batch_size = {self.batch_size} is not allowed: 1 on backend 'numba'")
        if self.dtype != "float64":
            raise ValueError(f"dtype = {self.dtype!r} is not allowed: 'float64' on backend 'numba'")
        n, h, r = net.n_neurons, net.history, len(net.rules)
        self.parallel = n >= PARALLEL_MIN_NEURONS
        self.v = net.v_init.copy()
        self.i_offset = net.i_offset.copy()  # this simulation's own (set_offset); the compiled network is shared
        self.quiet = np.zeros(-(-n // BLOCK), np.bool_)  # blocks whose neurons are all at rest (_advance)
        self.ie = np.zeros(n)
        self.ii = np.zeros(n)
        self.refrac = np.zeros(n, np.int64)
        self.buf = np.zeros((2, h, n))
        self.syn = layout(net, numba.get_num_threads() if self.parallel else 1)
        self.rec_f, self.rec_i = self.syn.rec_f, self.syn.rec_i
        self.row_plastic = row_plastic(net)
        self.pre_r = np.zeros((r, net.n_nodes))
        self.pre_t = np.full(net.n_nodes, NEVER, np.int64)
        # each neuron's last spikes (a ring), its post traces right after each, its STDP record (numba_synapses)
        self.ring_t, self.ring_o, self.ring_l, self.post = new_post_state(net)
        self.post_i = self.post.view(np.int64)
        self.t_next = 0  # the tick the next advance starts at
        self.spk = np.zeros(n, np.uint8)
        self.nodes = np.zeros(net.n_nodes, np.int64)
        self.events = np.zeros(self.syn.row_ptr.shape[0], np.int64)
        self.record_u8 = self.record.astype(np.uint8)
        self.neurons = Neurons(net.init_e, net.init_i, self.i_offset, net.r_mohm, net.v_rest, net.decay_m,
                               net.v_thresh, net.v_reset, net.refrac_steps, net.decay_e, net.decay_i, self.quiet,
                               self.v, self.ie, self.ii, self.refrac, self.buf, self.spk)
        self.synapses = Synapses(self.syn.row_ptr, self.row_plastic, self.rec_i, self.rec_f, net.in_ptr,
                                 self.syn.in_syn, self.syn.in_pre)
        self.rules = Rules(net.rule_mult, net.rule_a_plus, net.rule_a_minus, net.rule_w_min, net.rule_w_max,
                           net.tab_plus, net.tab_minus)
        self.traces = Traces(self.pre_r, self.pre_t, self.ring_t, self.ring_o, self.ring_l, self.post, self.post_i)

    def advance(self, t0: int, n_steps: int, ext: External) -> Chunk:
        ext_ptr = np.searchsorted(ext.tick, np.arange(t0, t0 + n_steps + 1)).astype(np.int64)
        ext_node = ext.node.astype(np.int64)
        n_traced = self.traced.size
        state = np.zeros((n_steps, n_traced, 3))
        cap = max(4096, 4 * int(self.record.sum()) + 16)
        ticks, nodes_out = [], []
        done = 0
        while done < n_steps:
            rec_tick = np.empty(max(cap, self.nodes.size + 1), np.int64)
            rec_node = np.empty_like(rec_tick)
            kernel = _advance_parallel if self.parallel else _advance_serial
            steps, n_rec = kernel(t0 + done, n_steps - done, self.learning, ext_ptr[done:] - ext_ptr[done],
                                  ext_node[ext_ptr[done]:], self.neurons, self.synapses, self.rules, self.traces,
                                  self.record_u8, rec_tick, rec_node, self.traced, state[done:], self.nodes,
                                  self.events)
            ticks.append(rec_tick[:n_rec])
            nodes_out.append(rec_node[:n_rec])
            done += steps
            cap *= 4
        self.t_next = t0 + n_steps
        tick = np.concatenate(ticks)
        node = np.concatenate(nodes_out)
        return Chunk(tick, np.zeros_like(tick), node, state[:, None, :, :] if n_traced else None)

    def _synapse_args(self) -> tuple:
        net = self.net
        return (net.history, net.in_ptr, self.syn.in_syn, self.syn.in_pre, self.rec_i, self.rec_f,
                self.ring_t, self.ring_l, self.post_i, self.pre_r, self.pre_t, net.rule_mult, net.rule_a_plus,
                net.rule_w_max, net.tab_plus)

    def _settle(self) -> None:
        """Every potentiation that fell due so far applied (see numba_synapses)."""
        if self.net.in_syn.size:
            settle_all(self.t_next - 1, *self._synapse_args())

    def set_learning(self, enabled: bool) -> None:
        if bool(enabled) != self.learning and self.net.in_syn.size:
            switch_learning(self.t_next - 1, bool(enabled), *self._synapse_args())
        super().set_learning(enabled)

    def weights(self) -> np.ndarray:
        self._settle()
        w = self.rec_f[:, 1]
        return (w if self.syn.record is None else w[self.syn.record])[None].copy()

    def set_weights(self, syn: np.ndarray, values: np.ndarray, trial: int | None) -> None:
        self._settle()
        self.rec_f[syn if self.syn.record is None else self.syn.record[syn], 1] = values

    def set_offset(self, neurons: np.ndarray, values: np.ndarray) -> None:
        self.i_offset[neurons] = values
        self.quiet[:] = False

    def events_delivered(self) -> int:
        return int(self.events.sum())
