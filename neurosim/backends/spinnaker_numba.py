"""SpiNNaker's integer tick compiled by numba (``Simulator(net, "numba", arithmetic="spinnaker")``).

The same tick as :class:`.spinnaker_engine.SpinnakerEngine`, whose constants, ring-buffer shifts and
16-bit weights it takes over, with each tick's loops in one numba function: the membrane and synapses,
the post-spike histories, and delivery with the deferred pair-STDP update. Integers throughout, so it
equals the reference integer engine bit for bit (tested).
"""

from __future__ import annotations

import numba
import numpy as np

from neurosim.backends.base import Chunk, External
from neurosim.backends.spinnaker_engine import HISTORY, SpinnakerEngine
from neurosim.compiled import CompiledNetwork
from neurosim.network import Network


@numba.njit(cache=True, inline="always")
def _lut(lut, size, dt):
    return lut[dt] if 0 <= dt < size else 0


@numba.njit(cache=True, inline="always")
def _int16(x):
    return ((x + 0x8000) & 0xFFFF) - 0x8000


@numba.njit(cache=True, inline="always")
def _plastic(k, tp, rule, last_t, last_tr, w16, syn_post, syn_delay, syn_shift, lut_p, lut_m, lut_size_p,
             lut_size_m, a_plus, a_minus, w_lo, w_hi, mult, hist_t, hist_tr, hist_n):
    j, d, shift = syn_post[k], syn_delay[k], syn_shift[k]
    w = w16[k] << shift
    begin = last_t - d if last_t >= d else 0
    end = tp - d if tp >= d else 0
    # the history is in time order: scan back from its end to the window (begin, end], usually a step or two
    hi = hist_n[j] - 1
    while hi >= 0 and hist_t[j, hi] > end:
        hi -= 1
    lo = hi  # then the last entry at or before begin (the one before the window), -1 for none
    while lo >= 0 and hist_t[j, lo] > begin:
        lo -= 1
    first = max(lo + 1, 1)  # entry 0 (the dummy, or the oldest kept) is never taken
    for i in range(first, hi + 1):
        dt = hist_t[j, i] + d - last_t
        if dt != 0:
            r = (last_tr * _lut(lut_p[rule], lut_size_p[rule], dt)) >> 11
            if mult[rule]:
                w += ((((w_hi[rule] - w) * a_plus[rule]) >> 15) * (r << 4)) >> 15
            else:
                w = min(w + ((a_plus[rule] * (r << 4)) >> 15), w_hi[rule])
    last_i = hi if hi >= first else (lo if lo > 0 else -1)
    if last_i >= 0:
        o = (hist_tr[j, last_i] * _lut(lut_m[rule], lut_size_m[rule], tp - (hist_t[j, last_i] + d))) >> 11
        if mult[rule]:
            w -= ((((w - w_lo[rule]) * a_minus[rule]) >> 15) * (o << 4)) >> 15
        else:
            w = max(w - ((a_minus[rule] * (o << 4)) >> 15), w_lo[rule])
    return (w >> shift) & 0xFFFF


@numba.njit(cache=True)
def _tick(t, ext, out, v, isyn, refrac, buf, shift, init, decay, r_m, exp_tc, v_rest, v_reset, v_thresh, i_offset,
          t_refrac, rule_of_post, hist_t, hist_tr, hist_n, row_ptr, syn_post, syn_delay, syn_inh, syn_rule, syn_shift,
          w16, node_rules, pre_time, pre_trace, lut_p, lut_m, lut_size_p, lut_size_m, a_plus, a_minus, w_lo, w_hi,
          mult, learning):
    """One tick; the nodes that fired (neurons ascending, then ``ext``) go to ``out``; returns their count."""
    n = v.shape[0]
    h = buf.shape[1]
    slot = t % h
    count = 0
    for i in range(n):
        for r in range(2):
            s = buf[r, slot, i]
            if s > 0:
                isyn[r, i] += ((s << shift[r, i]) * init[r, i]) >> 32
            buf[r, slot, i] = 0
        if refrac[i] <= 0:
            alpha = (((isyn[0, i] - isyn[1, i] + i_offset[i]) * r_m[i]) >> 15) + v_rest[i]
            v[i] = alpha - ((exp_tc[i] * (alpha - v[i])) >> 15)
        else:
            refrac[i] -= 1
        if v[i] >= v_thresh[i]:
            v[i] = v_reset[i]
            refrac[i] = t_refrac[i]
            out[count] = i
            count += 1
            rule = rule_of_post[i]
            if rule >= 0:
                m = hist_n[i]
                last_t, last_tr = hist_t[i, m - 1], hist_tr[i, m - 1]
                trace = _int16(((last_tr * _lut(lut_m[rule], lut_size_m[rule], t - last_t)) >> 11) + 2048)
                if m >= hist_t.shape[1]:
                    for e in range(m - 1):
                        hist_t[i, e], hist_tr[i, e] = hist_t[i, e + 1], hist_tr[i, e + 1]
                    m -= 1
                hist_t[i, m], hist_tr[i, m] = t, trace
                hist_n[i] = m + 1
        for r in range(2):
            isyn[r, i] = (isyn[r, i] * decay[r, i]) >> 32
    for e in range(ext.shape[0]):
        out[count] = ext[e]
        count += 1
    n_rules = pre_time.shape[0]
    for c in range(count):
        node = out[c]
        for k in range(row_ptr[node], row_ptr[node + 1]):
            rule = syn_rule[k]
            if rule >= 0 and learning:
                w16[k] = _plastic(k, t, rule, pre_time[rule, node], pre_trace[rule, node], w16, syn_post, syn_delay,
                                  syn_shift, lut_p, lut_m, lut_size_p, lut_size_m, a_plus, a_minus, w_lo, w_hi, mult,
                                  hist_t, hist_tr, hist_n)
            q = (t + syn_delay[k]) % h
            acc = buf[syn_inh[k], q, syn_post[k]] + w16[k]
            buf[syn_inh[k], q, syn_post[k]] = 0xFFFF if acc > 0xFFFF else acc
        for rule in range(n_rules):  # the row header's pre trace, after its synapses
            if node_rules[node, rule]:
                last_t, last_tr = pre_time[rule, node], pre_trace[rule, node]
                pre_time[rule, node] = t
                pre_trace[rule, node] = _int16(((last_tr * _lut(lut_p[rule], lut_size_p[rule], t - last_t)) >> 11)
                                               + 2048)
    return count


@numba.njit(cache=True)
def _advance(t0, n_steps, ext_node, bounds, record, traced, out_tick, out_node, state, out, v, isyn, refrac, buf,
             shift, init, decay, r_m, exp_tc, v_rest, v_reset, v_thresh, i_offset, t_refrac, rule_of_post, hist_t,
             hist_tr, hist_n, row_ptr, syn_post, syn_delay, syn_inh, syn_rule, syn_shift, w16, node_rules, pre_time,
             pre_trace, lut_p, lut_m, lut_size_p, lut_size_m, a_plus, a_minus, w_lo, w_hi, mult, learning):
    """Ticks t0 .. t0 + n_steps - 1 until done or the spike buffers could overflow at the next tick: returns
    (ticks done, spikes kept, synaptic events)."""
    kept = 0
    events = 0
    for i in range(n_steps):
        if kept + out.shape[0] > out_tick.shape[0]:
            return i, kept, events
        t = t0 + i
        count = _tick(t, ext_node[bounds[i]:bounds[i + 1]], out, v, isyn, refrac, buf, shift, init, decay, r_m,
                      exp_tc, v_rest, v_reset, v_thresh, i_offset, t_refrac, rule_of_post, hist_t, hist_tr, hist_n,
                      row_ptr, syn_post, syn_delay, syn_inh, syn_rule, syn_shift, w16, node_rules, pre_time, pre_trace,
                      lut_p, lut_m, lut_size_p, lut_size_m, a_plus, a_minus, w_lo, w_hi, mult, learning)
        for c in range(count):
            node = out[c]
            events += row_ptr[node + 1] - row_ptr[node]
            if record[node]:
                out_tick[kept] = t
                out_node[kept] = node
                kept += 1
        for q in range(traced.shape[0]):
            state[i, 0, q, 0] = v[traced[q]] / 32768.0
            state[i, 0, q, 1] = isyn[0, traced[q]] / 32768.0
            state[i, 0, q, 2] = isyn[1, traced[q]] / 32768.0
    return n_steps, kept, events


class SpinnakerNumbaEngine(SpinnakerEngine):
    """:class:`.spinnaker_engine.SpinnakerEngine` with its tick compiled (module docstring)."""

    name = "numba"

    def __init__(self, net: CompiledNetwork, *, network: Network, **kw) -> None:
        super().__init__(net, network=network, **kw)
        n_rules = len(net.rules)
        length = max([max(p.size, m.size) for p, m in self.luts], default=1)
        self.lut_p = np.zeros((n_rules, length), np.int64)
        self.lut_m = np.zeros((n_rules, length), np.int64)
        for r, (p, m) in enumerate(self.luts):
            self.lut_p[r, :p.size], self.lut_m[r, :m.size] = p, m
        self.lut_size = (np.array([p.size for p, _ in self.luts], np.int64), np.array([m.size for _, m in self.luts],
                                                                                       np.int64))
        self.stdp = tuple(np.array(x, np.int64) for x in (self.a_plus, self.a_minus, self.w_lo, self.w_hi)) + (
            net.rule_mult.astype(np.int64),)
        self.hist_t = np.zeros((net.n_neurons, HISTORY), np.int64)
        self.hist_tr = np.zeros((net.n_neurons, HISTORY), np.int64)
        self.hist_n = np.ones(net.n_neurons, np.int64)  # the dummy entry (tick 0, trace 0)
        self.node_rules = np.zeros((net.n_nodes, max(n_rules, 1)), np.bool_)
        plastic = net.syn_rule >= 0
        self.node_rules[net.syn_pre[plastic], net.syn_rule[plastic]] = True
        self.syn_inh64 = net.syn_inh.astype(np.int64)
        self.out = np.zeros(net.n_nodes, np.int64)

    def advance(self, t0: int, n_steps: int, ext: External) -> Chunk:
        net = self.net
        bounds = np.searchsorted(ext.tick, np.arange(t0, t0 + n_steps + 1)).astype(np.int64)
        state = np.empty((n_steps, 1, self.traced.size, 3))
        a_plus, a_minus, w_lo, w_hi, mult = self.stdp
        ext_node = ext.node.astype(np.int64)
        traced = self.traced.astype(np.int64)
        ticks, nodes, done = [], [], 0
        while done < n_steps:  # the spike buffers hold at least one tick's worth; a full one is emptied and continued
            cap = max(4 * net.n_nodes, 1 << 16)
            out_tick, out_node = np.empty(cap, np.int64), np.empty(cap, np.int64)
            steps, kept, events = _advance(
                t0 + done, n_steps - done, ext_node, bounds[done:], self.record, traced, out_tick, out_node,
                state[done:], self.out, self.v, self.isyn, self.refrac, self.buf, self.shift, self.init, self.decay,
                self.r, self.exp_tc, self.v_rest, self.v_reset, self.v_thresh, self.i_offset, self.t_refrac,
                self.rule_of_post, self.hist_t, self.hist_tr, self.hist_n, net.row_ptr, net.syn_post, net.syn_delay,
                self.syn_inh64, net.syn_rule, self.syn_shift, self.w16, self.node_rules, self.pre_time, self.pre_trace,
                self.lut_p, self.lut_m, self.lut_size[0], self.lut_size[1], a_plus, a_minus, w_lo, w_hi, mult,
                self.learning)
            ticks.append(out_tick[:kept].copy())
            nodes.append(out_node[:kept].copy())
            self.n_events += int(events)
            done += steps
        tick, node = np.concatenate(ticks), np.concatenate(nodes)
        return Chunk(tick, np.zeros_like(tick), node, state if self.traced.size else None)
