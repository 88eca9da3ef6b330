"""SpiNNaker's integer tick compiled by numba (``Simulator(net, "numba", arithmetic="spinnaker")``).

The same tick as :class:`.spinnaker_engine.SpinnakerEngine`, whose constants, ring-buffer shifts and
16-bit weights it takes over, with a whole chunk of ticks in one numba function. Integers throughout, so
it equals the reference integer engine bit for bit (tested). Laid out as the float engine
(:mod:`.numba_engine`) is, for the same reasons:

- neurons are updated by blocks of simple loops over slices, without branches, which the compiler
  vectorises; on networks of ``PARALLEL_MIN_NEURONS`` or more the blocks run on threads;
- each synapse's static facts are one packed int64 (:func:`.numba_synapses.pack_synapses`: post, delay,
  receptor, rule, plastic flag), so a spiking node's row is one stream plus its 16-bit weights;
- the synapse table is split by postsynaptic neuron into one partition per thread
  (:func:`.numba_synapses.layout`), so threads deliver without sharing a ring-buffer slot. Delivery
  order does not matter even so: the ring buffers saturate at 0xFFFF and weights are >= 0, so a slot's
  value is min(sum, 0xFFFF) in any order, and each plastic synapse's deferred update reads only its own
  weight, its post neuron's history (written before delivery) and its row header (written after).

The arrays travel as three named tuples (numba compiles attribute access on them to plain loads):
:class:`Neurons`, :class:`Synapses` and :class:`Stdp`.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np
from numba import njit, prange

from neurosim.backends import numba_engine
from neurosim.backends.base import Chunk, External
from neurosim.backends.numba_engine import BLOCK, _named
from neurosim.backends.numba_synapses import RULE_MASK, layout
from neurosim.backends.spinnaker_engine import HISTORY, SpinnakerEngine
from neurosim.compiled import CompiledNetwork
from neurosim.network import Network

# A neuron's post-spike history is one row: its number of entries, then the entries newest first, each packed as
# tick << 16 | trace (16 bits): the count and the newest entries, what nearly every deferred update reads, share a
# cache line (a row per array, oldest first, cost two or three: the update took twice as long at N = 4000).
ROW = 1 + HISTORY


class Neurons(NamedTuple):
    """Per-neuron state and constants in the board's integers (:class:`.spinnaker_engine.SpinnakerEngine`)."""

    v: np.ndarray          # s16.15
    isyn: np.ndarray       # (2, n) s16.15
    refrac: np.ndarray     # ticks left
    buf: np.ndarray        # (2, history, n) 16-bit ring buffers
    shift: np.ndarray      # (2, n) ring-buffer left shifts
    init: np.ndarray       # (2, n) u0.32
    decay: np.ndarray      # (2, n) u0.32
    r_m: np.ndarray
    exp_tc: np.ndarray
    v_rest: np.ndarray
    v_reset: np.ndarray
    v_thresh: np.ndarray
    i_offset: np.ndarray
    t_refrac: np.ndarray
    spk: np.ndarray        # uint8: fired this tick


class Synapses(NamedTuple):
    row_ptr: np.ndarray    # (parts, n_nodes + 1) into meta / w16
    meta: np.ndarray       # packed post | delay << 32 | receptor << 48 | rule << 49 | plastic << 63
    w16: np.ndarray        # 16-bit weights, in the same (partitioned) order


class Stdp(NamedTuple):
    rule_of_post: np.ndarray
    hist: np.ndarray       # (n, ROW): each neuron's post-spike history, one cache line for the usual read (ROW)
    node_rules: np.ndarray  # (n_nodes, rules): the node has a plastic synapse of that rule
    pre_time: np.ndarray   # (rules, n_nodes): the row header
    pre_trace: np.ndarray
    lut_p: np.ndarray
    lut_m: np.ndarray
    lut_size_p: np.ndarray
    lut_size_m: np.ndarray
    a_plus: np.ndarray
    a_minus: np.ndarray
    w_lo: np.ndarray
    w_hi: np.ndarray
    mult: np.ndarray


@njit(cache=True, inline="always")
def _lut(lut, size, rule, dt):
    return lut[rule, dt] if 0 <= dt < size[rule] else 0


@njit(cache=True, inline="always")
def _entry(hist, j, a):
    """(tick, trace) of neuron ``j``'s ``a``-th newest post spike."""
    e = hist[j, 1 + a]
    return e >> 16, ((e & 0xFFFF) ^ 0x8000) - 0x8000


@njit(cache=True, inline="always")
def _int16(x):
    return ((x + 0x8000) & 0xFFFF) - 0x8000


@njit(cache=True)
def _update_block(lo, hi, slot, t, nr, s):
    """Steps 1-4 of the tick for neurons lo..hi-1 (input, membrane unless refractory, threshold and reset, the
    synapses' decay), then the post-spike history of those that fired. Loops over slices without branches,
    as in :func:`.numba_engine.update_block`, so that the compiler vectorises them."""
    b0, b1 = nr.buf[0, slot, lo:hi], nr.buf[1, slot, lo:hi]
    ie, ii = nr.isyn[0, lo:hi], nr.isyn[1, lo:hi]
    s0, s1, n0, n1 = nr.shift[0, lo:hi], nr.shift[1, lo:hi], nr.init[0, lo:hi], nr.init[1, lo:hi]
    for q in range(ie.size):  # an empty slot adds (0 * init) >> 32 = 0
        ie[q] += ((b0[q] << s0[q]) * n0[q]) >> 32
        ii[q] += ((b1[q] << s1[q]) * n1[q]) >> 32
        b0[q] = 0
        b1[q] = 0
    v, r, off, rm, vr = nr.v[lo:hi], nr.refrac[lo:hi], nr.i_offset[lo:hi], nr.r_m[lo:hi], nr.v_rest[lo:hi]
    tc, vt, vre, rs, sp = nr.exp_tc[lo:hi], nr.v_thresh[lo:hi], nr.v_reset[lo:hi], nr.t_refrac[lo:hi], nr.spk[lo:hi]
    for q in range(ie.size):
        alpha = (((ie[q] - ii[q] + off[q]) * rm[q]) >> 15) + vr[q]
        v_new = alpha - ((tc[q] * (alpha - v[q])) >> 15)
        free = r[q] <= 0
        v[q] = v_new if free else v[q]
        r[q] = r[q] if free else r[q] - 1
    for q in range(ie.size):
        fired = v[q] >= vt[q]
        v[q] = vre[q] if fired else v[q]
        r[q] = rs[q] if fired else r[q]
        sp[q] = fired
    d0, d1 = nr.decay[0, lo:hi], nr.decay[1, lo:hi]
    for q in range(ie.size):
        ie[q] = (ie[q] * d0[q]) >> 32
        ii[q] = (ii[q] * d1[q]) >> 32
    for q in range(ie.size):
        if sp[q] and s.rule_of_post[lo + q] >= 0:
            _push_post(lo + q, t, s)


@njit(cache=True)
def _push_post(i, t, s):
    """Neuron ``i`` fired at tick ``t``: its trace jumps, and (tick, trace) becomes its newest history entry, the
    oldest dropped when the history is full."""
    rule = s.rule_of_post[i]
    m = s.hist[i, 0]
    last_t, last_tr = _entry(s.hist, i, 0)
    trace = _int16(((last_tr * _lut(s.lut_m, s.lut_size_m, rule, t - last_t)) >> 11) + 2048)
    m = min(m, HISTORY - 1)
    for a in range(m, 0, -1):
        s.hist[i, 1 + a] = s.hist[i, a]
    s.hist[i, 1] = (t << 16) | (trace & 0xFFFF)
    s.hist[i, 0] = m + 1


@njit(cache=True)
def _deliver_part(part, t, learn, nodes, n_nodes, nr, syn, s):
    """Delivery of partition ``part``'s synapses for the nodes that fired; returns the synaptic events.

    Learning, each plastic synapse first gets its deferred pair-STDP update (docs/core.md), as the board makes it
    at the pre spike of tick ``t`` whose row header held (``last_t``, ``last_tr``): potentiation by the post spikes
    of the window (last_t - d, t - d], in time order, then depression by the latest post spike. History ages
    count back from the newest entry (0); the oldest entry (the dummy, or the oldest kept) is never taken.
    Written out here rather than called: numba did not inline the helper, and the call took 40% of the tick."""
    h = nr.buf.shape[1]
    t_slot = t % h
    events = 0
    buf, shift, meta, w16, row_ptr, hist = nr.buf, nr.shift, syn.meta, syn.w16, syn.row_ptr, s.hist
    lut_p, lut_m, size_p, size_m, mult = s.lut_p, s.lut_m, s.lut_size_p, s.lut_size_m, s.mult
    a_plus, a_minus, w_lo, w_hi = s.a_plus, s.a_minus, s.w_lo, s.w_hi
    for c in range(n_nodes):
        node = nodes[c]
        start, stop = row_ptr[part, node], row_ptr[part, node + 1]
        events += stop - start
        for k in range(start, stop):
            m = meta[k]
            j = m & 0xFFFFFFFF
            d = (m >> 32) & 0xFFFF
            inh = (m >> 48) & 1
            if m < 0 and learn:  # plastic
                rule = (m >> 49) & RULE_MASK
                sh = shift[inh, j]
                w = w16[k] << sh
                last_t, last_tr = s.pre_time[rule, node], s.pre_trace[rule, node]
                count = hist[j, 0]
                begin = last_t - d if last_t >= d else 0
                end = t - d if t >= d else 0
                newest = 0  # the newest entry at or before end: usually the first or second looked at
                while newest < count and hist[j, 1 + newest] >> 16 > end:
                    newest += 1
                before = newest  # then the newest at or before begin (the one before the window); count for none
                while before < count and hist[j, 1 + before] >> 16 > begin:
                    before += 1
                oldest = min(before - 1, count - 2)
                for a in range(oldest, newest - 1, -1):
                    lag = (hist[j, 1 + a] >> 16) + d - last_t
                    if lag != 0:
                        r = (last_tr * (lut_p[rule, lag] if 0 <= lag < size_p[rule] else 0)) >> 11
                        if mult[rule]:
                            w += ((((w_hi[rule] - w) * a_plus[rule]) >> 15) * (r << 4)) >> 15
                        else:
                            w = min(w + ((a_plus[rule] * (r << 4)) >> 15), w_hi[rule])
                last = newest if newest <= oldest else (before if before < count - 1 else -1)
                if last >= 0:
                    t_q, tr_q = _entry(hist, j, last)
                    lag = t - (t_q + d)
                    o = (tr_q * (lut_m[rule, lag] if 0 <= lag < size_m[rule] else 0)) >> 11
                    if mult[rule]:
                        w -= ((((w - w_lo[rule]) * a_minus[rule]) >> 15) * (o << 4)) >> 15
                    else:
                        w = max(w - ((a_minus[rule] * (o << 4)) >> 15), w_lo[rule])
                w16[k] = (w >> sh) & 0xFFFF
            slot = t_slot + d
            if slot >= h:
                slot -= h
            acc = buf[inh, slot, j] + w16[k]
            buf[inh, slot, j] = acc if acc < 0xFFFF else 0xFFFF
    return events


def _advance(t0, n_steps, learn, ext_ptr, ext_node, record, traced, out_tick, out_node, state, nodes, events,
             nr, syn, s):
    """Ticks t0 .. t0 + n_steps - 1, until done or the spike record could overflow at the next tick: returns
    (ticks done, spikes kept). ``events[part]`` accumulates the synaptic events each partition delivered.
    Compiled twice (below): the ``prange`` loops run on threads only in ``_advance_parallel``."""
    n = nr.v.shape[0]
    n_blocks = (n + BLOCK - 1) // BLOCK
    parts = syn.row_ptr.shape[0]
    n_rules = s.pre_time.shape[0]
    kept = 0
    for step in range(n_steps):
        if kept + nodes.shape[0] > out_tick.shape[0]:
            return step, kept
        t = t0 + step
        slot = t % nr.buf.shape[1]
        for b in prange(n_blocks):
            _update_block(b * BLOCK, min(n, b * BLOCK + BLOCK), slot, t, nr, s)
        count = 0
        for i in range(n):
            if nr.spk[i]:
                nodes[count] = i
                count += 1
        for e in range(ext_ptr[step], ext_ptr[step + 1]):
            nodes[count] = ext_node[e]
            count += 1
        for part in prange(parts):
            events[part] += _deliver_part(part, t, learn, nodes, count, nr, syn, s)
        for c in range(count):
            node = nodes[c]
            for rule in range(n_rules):  # the row header's pre trace, after its synapses
                if s.node_rules[node, rule]:
                    last_t, last_tr = s.pre_time[rule, node], s.pre_trace[rule, node]
                    s.pre_time[rule, node] = t
                    s.pre_trace[rule, node] = _int16(
                        ((last_tr * _lut(s.lut_p, s.lut_size_p, rule, t - last_t)) >> 11) + 2048)
            if record[node]:
                out_tick[kept] = t
                out_node[kept] = node
                kept += 1
        for q in range(traced.shape[0]):
            state[step, 0, q, 0] = nr.v[traced[q]] / 32768.0
            state[step, 0, q, 1] = nr.isyn[0, traced[q]] / 32768.0
            state[step, 0, q, 2] = nr.isyn[1, traced[q]] / 32768.0
    return n_steps, kept


# serial and parallel variants under their own names (numba's cache keys, see numba_engine._named); nogil: a chunk
# computes without Python's lock, as the float engine's does
_advance_serial = njit(cache=True, nogil=True)(_named(_advance, "_spinnaker_advance_serial"))
_advance_parallel = njit(cache=True, nogil=True, parallel=True)(_named(_advance, "_spinnaker_advance_parallel"))


class SpinnakerNumbaEngine(SpinnakerEngine):
    """:class:`.spinnaker_engine.SpinnakerEngine` with its tick compiled (module docstring)."""

    name = "numba"

    def __init__(self, net: CompiledNetwork, *, network: Network, **kw) -> None:
        super().__init__(net, network=network, **kw)
        self.parallel = net.n_neurons >= numba_engine.PARALLEL_MIN_NEURONS
        lay = layout(net, numba.get_num_threads() if self.parallel else 1)
        self.position = lay.record  # canonical synapse id -> its place in the partitioned table (None: the same)
        w16 = self.w16 if lay.canonical is None else self.w16[lay.canonical]
        self.syn = Synapses(lay.row_ptr, np.ascontiguousarray(lay.rec_i[:, 0]), w16)
        del self.w16  # the weights live in self.syn.w16, in the table's order
        n_rules = len(net.rules)
        length = max([max(p.size, m.size) for p, m in self.luts], default=1)
        lut_p, lut_m = np.zeros((n_rules, length), np.int64), np.zeros((n_rules, length), np.int64)
        for r, (p, m) in enumerate(self.luts):
            lut_p[r, :p.size], lut_m[r, :m.size] = p, m
        node_rules = np.zeros((net.n_nodes, max(n_rules, 1)), np.bool_)
        plastic = net.syn_rule >= 0
        node_rules[net.syn_pre[plastic], net.syn_rule[plastic]] = True
        hist = np.zeros((net.n_neurons, ROW), np.int64)
        hist[:, 0] = 1  # the dummy entry (tick 0, trace 0)
        self.stdp = Stdp(
            self.rule_of_post, hist,
            node_rules, self.pre_time, self.pre_trace, lut_p, lut_m,
            np.array([p.size for p, _ in self.luts], np.int64), np.array([m.size for _, m in self.luts], np.int64),
            *(np.array(x, np.int64) for x in (self.a_plus, self.a_minus, self.w_lo, self.w_hi)),
            net.rule_mult.astype(np.int64))
        self.neurons = Neurons(self.v, self.isyn, self.refrac, self.buf, self.shift, self.init, self.decay, self.r,
                               self.exp_tc, self.v_rest, self.v_reset, self.v_thresh, self.i_offset, self.t_refrac,
                               np.zeros(net.n_neurons, np.uint8))
        self.nodes = np.zeros(net.n_nodes, np.int64)
        self.events = np.zeros(lay.row_ptr.shape[0], np.int64)

    def advance(self, t0: int, n_steps: int, ext: External) -> Chunk:
        net = self.net
        bounds = np.searchsorted(ext.tick, np.arange(t0, t0 + n_steps + 1)).astype(np.int64)
        state = np.empty((n_steps, 1, self.traced.size, 3))
        ext_node = ext.node.astype(np.int64)
        traced = self.traced.astype(np.int64)
        kernel = _advance_parallel if self.parallel else _advance_serial
        ticks, nodes, done = [], [], 0
        while done < n_steps:  # the spike buffers hold at least one tick's worth; a full one is emptied and continued
            cap = max(4 * net.n_nodes, 1 << 16)
            out_tick, out_node = np.empty(cap, np.int64), np.empty(cap, np.int64)
            steps, kept = kernel(t0 + done, n_steps - done, self.learning, bounds[done:], ext_node, self.record,
                                 traced, out_tick, out_node, state[done:], self.nodes, self.events, self.neurons,
                                 self.syn, self.stdp)
            ticks.append(out_tick[:kept].copy())
            nodes.append(out_node[:kept].copy())
            done += steps
        tick, node = np.concatenate(ticks), np.concatenate(nodes)
        return Chunk(tick, np.zeros_like(tick), node, state if self.traced.size else None)

    def _place(self, syn: np.ndarray | slice) -> np.ndarray | slice:
        return syn if self.position is None else self.position[syn]

    def weights(self) -> np.ndarray:
        """The 16-bit weights in nA, in canonical synapse order: w16 2^shift / 2^15."""
        return (self.syn.w16[self._place(slice(None))] * np.exp2(self.syn_shift - 15))[None, :]

    def set_weights(self, syn: np.ndarray, values: np.ndarray, trial: int | None) -> None:
        self.syn.w16[self._place(syn)] = self._quantize(np.asarray(values, float), self.syn_shift[syn])

    def events_delivered(self) -> int:
        return int(self.events.sum())
