"""The numba engine: the default CPU backend.

Same tick as :mod:`neurosim.backends.reference` (see :mod:`neurosim.simulator`),
compiled: a whole chunk of ticks runs inside one ``@njit`` kernel. The neuron
update is a ``prange`` loop (parallel over neurons on networks large enough to
pay for the threads); spike delivery is event-driven over the CSR synapse rows
of the nodes that spiked, in canonical order, so float64 results equal the
reference engine's bit for bit. STDP potentiation walks only the incoming plastic
synapses of neurons that spiked ``d`` ticks ago (grouped by (post, delay)).

Synapse layout (private to this engine): one 16-byte record per synapse, in CSR
order, so a spiking neuron's row is one contiguous stream: ``rec[k, 0]`` packs the
post index (bits 0-31), the delay in steps (bits 32-47), the receptor (bit 48) and
a plastic flag (the sign bit); ``rec[k, 1]`` is the weight (the same memory viewed
as float64). Interleaving beats separate arrays on delivery because each spike
starts one memory stream instead of five (see docs/benchmarks.md).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from neurosim.backends.base import NEVER, Chunk, Engine, External
from neurosim.compiled import CompiledNetwork

PARALLEL_MIN_NEURONS = 8192  # below this, thread start-up costs more than it saves


def is_available() -> bool:
    return True


def _update_neurons(ie, ii, v, refrac, spk, i_offset, r_mohm, v_rest, decay_m, v_thresh, v_reset,
                    refrac_steps, decay_e, decay_i):
    """Steps 2-4 of the tick for every neuron (one source, compiled serial and parallel).
    Step 1 (input) stays a separate loop in the caller: on its own it vectorises."""
    for j in prange(v.size):
        if refrac[j] == 0:
            alpha = (ie[j] - ii[j] + i_offset[j]) * r_mohm[j] + v_rest[j]
            v[j] = alpha - decay_m[j] * (alpha - v[j])
        else:
            refrac[j] -= 1
        if v[j] >= v_thresh[j]:
            spk[j] = 1
            v[j] = v_reset[j]
            refrac[j] = refrac_steps[j]
        else:
            spk[j] = 0
        ie[j] *= decay_e[j]
        ii[j] *= decay_i[j]


_update_serial = njit(cache=True)(_update_neurons)
_update_parallel = njit(cache=True, parallel=True)(_update_neurons)


@njit(cache=True)
def _deliver(t, learn, nodes, n_nodes, row_ptr, row_plastic, rec_i, rec_f, syn_rule, rule_mult, a_minus, w_min,
             tab_plus, tab_minus, buf, pre_r, pre_t, post_step, post_o, post_pos):
    """Step "delivery" of the tick: every spiking node, in order, depresses its plastic
    synapses, adds each weight to ring-buffer slot (t + d) mod h, and updates its pre traces.
    Returns the number of synaptic events."""
    h = buf.shape[1]
    n_rules = tab_plus.shape[0]
    last = tab_plus.shape[1] - 1
    t_slot = t % h
    events = 0
    for q in range(n_nodes):
        i = nodes[q]
        events += row_ptr[i + 1] - row_ptr[i]
        if not row_plastic[i]:  # the common case, kept free of the STDP branch
            for k in range(row_ptr[i], row_ptr[i + 1]):
                m = rec_i[k, 0]
                slot = t_slot + ((m >> 32) & 0xFFFF)
                if slot >= h:
                    slot -= h
                buf[(m >> 48) & 1, slot, m & 0xFFFFFFFF] += rec_f[k, 1]
            continue
        for k in range(row_ptr[i], row_ptr[i + 1]):
            m = rec_i[k, 0]
            d = (m >> 32) & 0xFFFF
            j = m & 0xFFFFFFFF
            if m < 0 and learn:  # plastic, and learning is on
                r = syn_rule[k]
                # the newest of j's last h spikes with s <= t - d (at most d are later)
                idx = post_pos[j]
                for _ in range(h):
                    if post_step[j, idx] <= t - d:
                        break
                    idx = idx - 1 if idx > 0 else h - 1
                lag = min(t - d - post_step[j, idx], last)
                y = post_o[r, j, idx] * tab_minus[r, lag]
                w = rec_f[k, 1]
                if rule_mult[r]:
                    step_w = a_minus[r] * (w - w_min[r]) * y
                else:
                    step_w = a_minus[r] * y
                rec_f[k, 1] = max(w - step_w, w_min[r])
            slot = t_slot + d
            if slot >= h:
                slot -= h
            buf[(m >> 48) & 1, slot, j] += rec_f[k, 1]
        if n_rules > 0:
            lag = min(t - pre_t[i], last)
            for r in range(n_rules):
                pre_r[r, i] = pre_r[r, i] * tab_plus[r, lag] + 1.0
            pre_t[i] = t
    return events


@njit(cache=True)
def deliver_replay(ptr, spiking, row_ptr, row_plastic, rec_i, rec_f, syn_rule, buf):
    """Delivery alone over recorded spikes (tick k: spiking[ptr[k]:ptr[k+1]]) on static
    synapses: the benchmark's measure of the engine's own delivery code."""
    none_i = np.zeros(0, np.int8)
    none_f = np.zeros(0)
    tab = np.zeros((0, 2))
    pre_r = np.zeros((0, 1))
    pre_t = np.zeros(1, np.int64)
    post_step = np.zeros((1, 1), np.int64)
    post_o = np.zeros((0, 1, 1))
    post_pos = np.zeros(1, np.int64)
    events = 0
    for k in range(ptr.size - 1):
        nodes = spiking[ptr[k]:ptr[k + 1]]
        events += _deliver(k, False, nodes, nodes.size, row_ptr, row_plastic, rec_i, rec_f, syn_rule, none_i, none_f,
                           none_f, tab, tab, buf, pre_r, pre_t, post_step, post_o, post_pos)
    return events


@njit(cache=True)
def stream_table(rec_i, rec_f, buf, repeats):
    """The memory-streaming ceiling for delivery: every record of the synapse table once,
    in storage order, scattered into the ring buffer (no spikes, no rows)."""
    h = buf.shape[1]
    for _ in range(repeats):
        for k in range(rec_i.shape[0]):
            m = rec_i[k, 0]
            slot = (m >> 32) & 0xFFFF
            if slot >= h:
                slot -= h
            buf[(m >> 48) & 1, slot, m & 0xFFFFFFFF] += rec_f[k, 1]


def row_plastic(net: CompiledNetwork) -> np.ndarray:
    """1 for the nodes whose outgoing row holds a plastic synapse."""
    cum = np.concatenate([[0], np.cumsum(net.syn_rule >= 0)])
    return (cum[net.row_ptr[1:]] > cum[net.row_ptr[:-1]]).astype(np.uint8)


def pack_synapses(net: CompiledNetwork) -> np.ndarray:
    """The engine's synapse records (see module docstring): float64 (n_synapses, 2)."""
    if net.max_delay >= 1 << 16:
        raise ValueError(f"max delay = {net.max_delay} steps is not allowed: < 65536 on backend 'numba'")
    if net.n_neurons >= 1 << 32:
        raise ValueError(f"n_neurons = {net.n_neurons} is not allowed: < 2**32 on backend 'numba'")
    rec_f = np.zeros((net.n_synapses, 2))
    meta = net.syn_post | (net.syn_delay << 32) | (net.syn_inh.astype(np.int64) << 48)
    meta[net.syn_rule >= 0] |= np.int64(-1) << 63
    rec_f.view(np.int64)[:, 0] = meta
    rec_f[:, 1] = net.syn_w0
    return rec_f


# nogil: a chunk computes without Python's lock, so other threads (the viewer's interface while
# its worker runs a model, Dask's threads) keep running instead of waiting for the whole chunk
@njit(cache=True, nogil=True)
def _advance(t0, n_steps, update, learn, ext_ptr, ext_node,
             init_e, init_i, i_offset, r_mohm, v_rest, decay_m, v_thresh, v_reset, refrac_steps,
             decay_e, decay_i,
             row_ptr, row_plastic, syn_pre, rec_i, rec_f, syn_rule, in_ptr, in_syn,
             rule_mult, a_plus, a_minus, w_min, w_max, tab_plus, tab_minus,
             v, ie, ii, refrac, buf, pre_r, pre_t, post_step, post_o, post_pos, fired, fired_cnt,
             record, rec_tick, rec_node, n_rec0, traced, state_out, spk, nodes, counters):
    """Run ticks t0 .. t0+n_steps-1; stop early (return steps done) if the spike record
    buffer could overflow. counters[0] accumulates delivered synaptic events. ``update`` is
    the serial or the parallel neuron update: numba compiles one specialisation per choice,
    so small networks never start the thread pool."""
    n = v.size
    h = buf.shape[1]
    n_rules = tab_plus.shape[0]
    last = tab_plus.shape[1] - 1
    has_plastic = in_syn.size > 0
    n_rec = n_rec0
    cap = rec_tick.size
    for step in range(n_steps):
        if n_rec + nodes.size > cap:
            return step, n_rec
        t = t0 + step
        slot = t % h
        for j in range(n):
            ie[j] += init_e[j] * buf[0, slot, j]
            ii[j] += init_i[j] * buf[1, slot, j]
            buf[0, slot, j] = 0.0
            buf[1, slot, j] = 0.0
        update(ie, ii, v, refrac, spk, i_offset, r_mohm, v_rest, decay_m, v_thresh, v_reset,
               refrac_steps, decay_e, decay_i)
        n_spk = 0
        for j in range(n):
            if spk[j]:
                nodes[n_spk] = j
                n_spk += 1
        n_nodes = n_spk
        for e in range(ext_ptr[step], ext_ptr[step + 1]):
            nodes[n_nodes] = ext_node[e]
            n_nodes += 1

        if has_plastic and learn:
            # potentiation: post spikes of tick t - d reach their synapses now
            for d in range(1, h):
                s_slot = (t - d) % h
                for q in range(fired_cnt[s_slot]):
                    j = fired[s_slot, q]
                    for p in range(in_ptr[j * h + d], in_ptr[j * h + d + 1]):
                        k = in_syn[p]
                        r = syn_rule[k]
                        i = syn_pre[k]
                        lag = min(t - pre_t[i], last)
                        x = pre_r[r, i] * tab_plus[r, lag]
                        w = rec_f[k, 1]
                        if rule_mult[r]:
                            step_w = a_plus[r] * (w_max[r] - w) * x
                        else:
                            step_w = a_plus[r] * x
                        rec_f[k, 1] = min(w + step_w, w_max[r])
        if has_plastic:
            # post traces of the neurons that spiked now
            for q in range(n_spk):
                j = nodes[q]
                newest = post_pos[j]
                lag = min(t - post_step[j, newest], last)
                nxt = (newest + 1) % h
                for r in range(n_rules):
                    post_o[r, j, nxt] = post_o[r, j, newest] * tab_minus[r, lag] + 1.0
                post_step[j, nxt] = t
                post_pos[j] = nxt
        fired_cnt[slot] = n_spk
        for q in range(n_spk):
            fired[slot, q] = nodes[q]

        counters[0] += _deliver(t, learn, nodes, n_nodes, row_ptr, row_plastic, rec_i, rec_f, syn_rule, rule_mult,
                                a_minus, w_min, tab_plus, tab_minus, buf, pre_r, pre_t, post_step, post_o, post_pos)

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
        self.ie = np.zeros(n)
        self.ii = np.zeros(n)
        self.refrac = np.zeros(n, np.int64)
        self.buf = np.zeros((2, h, n))
        self.rec_f = pack_synapses(net)
        self.rec_i = self.rec_f.view(np.int64)
        self.row_plastic = row_plastic(net)
        self.pre_r = np.zeros((r, net.n_nodes))
        self.pre_t = np.full(net.n_nodes, NEVER, np.int64)
        self.post_step = np.full((n, h), NEVER, np.int64)
        self.post_o = np.zeros((r, n, h))
        self.post_pos = np.zeros(n, np.int64)
        self.fired = np.zeros((h, n), np.int64)
        self.fired_cnt = np.zeros(h, np.int64)
        self.spk = np.zeros(n, np.uint8)
        self.nodes = np.zeros(net.n_nodes, np.int64)
        self.counters = np.zeros(1, np.int64)
        self.record_u8 = self.record.astype(np.uint8)

    def advance(self, t0: int, n_steps: int, ext: External) -> Chunk:
        net = self.net
        ext_ptr = np.searchsorted(ext.tick, np.arange(t0, t0 + n_steps + 1)).astype(np.int64)
        ext_node = ext.node.astype(np.int64)
        n_traced = self.traced.size
        state = np.zeros((n_steps, n_traced, 3))
        cap = max(4096, 4 * int(self.record.sum()) + 16)
        ticks, nodes_out = [], []
        done = 0
        update = _update_parallel if self.parallel else _update_serial
        while done < n_steps:
            rec_tick = np.empty(max(cap, self.nodes.size + 1), np.int64)
            rec_node = np.empty_like(rec_tick)
            steps, n_rec = _advance(
                t0 + done, n_steps - done, update, self.learning,
                ext_ptr[done:] - ext_ptr[done], ext_node[ext_ptr[done]:],
                net.init_e, net.init_i, self.i_offset, net.r_mohm, net.v_rest, net.decay_m, net.v_thresh,
                net.v_reset, net.refrac_steps, net.decay_e, net.decay_i,
                net.row_ptr, self.row_plastic, net.syn_pre, self.rec_i, self.rec_f, net.syn_rule,
                net.in_ptr, net.in_syn,
                net.rule_mult, net.rule_a_plus, net.rule_a_minus, net.rule_w_min,
                net.rule_w_max, net.tab_plus, net.tab_minus,
                self.v, self.ie, self.ii, self.refrac, self.buf, self.pre_r, self.pre_t, self.post_step,
                self.post_o, self.post_pos, self.fired, self.fired_cnt,
                self.record_u8, rec_tick, rec_node, 0, self.traced, state[done:], self.spk, self.nodes,
                self.counters)
            ticks.append(rec_tick[:n_rec])
            nodes_out.append(rec_node[:n_rec])
            done += steps
            cap *= 4
        tick = np.concatenate(ticks)
        node = np.concatenate(nodes_out)
        return Chunk(tick, np.zeros_like(tick), node, state[:, None, :, :] if n_traced else None)

    def weights(self) -> np.ndarray:
        return self.rec_f[None, :, 1].copy()

    def set_weights(self, syn: np.ndarray, values: np.ndarray, trial: int | None) -> None:
        self.rec_f[syn, 1] = values

    def set_offset(self, neurons: np.ndarray, values: np.ndarray) -> None:
        self.i_offset[neurons] = values

    def events_delivered(self) -> int:
        return int(self.counters[0])
