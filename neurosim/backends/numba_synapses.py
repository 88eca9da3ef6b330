"""The numba engine's synapses: their storage, spike delivery, and STDP applied where the synapse is read.

Storage: one 16-byte record per synapse, in CSR order, so a spiking neuron's row is one
contiguous stream: ``rec[k, 0]`` packs the post index (bits 0-31), the delay in steps (bits
32-47), the receptor (bit 48), the STDP rule (bits 49-62) and a plastic flag (the sign bit);
``rec[k, 1]`` is the weight (the same memory viewed as float64). Interleaving beats separate arrays on delivery because
each spike starts one memory stream instead of five (see docs/benchmarks.md).

STDP, deferred to the presynaptic spike (the scheme of Morrison, Aertsen & Diesmann 2007, as NEST and sPyNNaker
do it). The tick of :mod:`neurosim.simulator` potentiates a synapse when a post spike reaches it
(tick ``t_post + d``). Done then, every post spike touches its whole column of incoming
synapses, scattered over the synapse table: about three cache misses per synapse, most of the
plastic network's time. Here a synapse's pending potentiations are applied when the synapse is
next read, in the order they fell due and with the traces they would have seen then:

- at the pre spike, before its depression and delivery (the row is read in order anyway);
- before a neuron's spike ring (``ring_t``, ``ring_depth`` spikes) overwrites a spike that
  some synapse may not have taken yet (``settle_post``: that neuron's column, once per
  ``ring_depth`` of its spikes instead of once per spike);
- before weights are read or set (``settle_all``).

Learning switched on or off: the tick applies a potentiation only if learning is on at the tick
it falls due. Each spike in the ring carries that flag for its arrivals still owed (``ring_l``,
set when the spike is pushed), so switching touches only the neurons whose spikes are still on
their way (``switch_learning``): it settles them and flips the flag of those spikes. Every
other owed potentiation waits, flagged, for the synapse's next read, and a ring only settles
before dropping a flagged spike. Reading a synapse applies its flagged potentiations whether or
not learning is on now; the depression at the pre spike only when it is.

Every weight change is the same floating-point operation in the same order as the tick's, so
float64 weights and spikes equal the reference engine's bit for bit (the equivalence tests).
``post_i[j, DONE]``: post spikes of neuron ``j`` arriving at or before this tick are applied on
every synapse; a synapse from ``i`` owes those arriving in ``(max(pre_t[i], post_i[j, DONE]), t]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from neurosim.backends.base import NEVER
from neurosim.compiled import CompiledNetwork

RULE_MASK = (1 << 14) - 1  # a record's rule field (bits 49-62)
RING_MIN = 32  # post spikes kept per neuron (at least max delay + 2): the longer, the rarer settle_post
# a neuron's STDP record, one row of ``post`` (float64; int64 view ``post_i``), what nearly every plastic
# synapse needs of its post neuron in one cache line instead of one line in each of four arrays
POS, DONE, NEWEST, TRACE = 0, 1, 2, 3  # ring index of its newest spike, settled-up-to tick, that spike's
#                                        tick, then the post trace right after it (one column per rule)


def ring_depth(net: CompiledNetwork) -> int:
    return max(RING_MIN, net.history + 1)


def new_post_state(net: CompiledNetwork) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ring ticks (n, depth), ring traces (rules, n, depth), ring learning flags (n, depth), records
    (n, columns)) before any spike."""
    n, r = net.n_neurons, len(net.rules)
    depth = ring_depth(net)
    post = np.zeros((n, TRACE + max(r, 1) + (TRACE + max(r, 1)) % 2))  # rows of 32 bytes with one rule
    post_i = post.view(np.int64)
    post_i[:, DONE] = -1
    post_i[:, NEWEST] = NEVER
    return np.full((n, depth), NEVER, np.int64), np.zeros((r, n, depth)), np.zeros((n, depth), np.uint8), post


@njit(cache=True)
def settle_post(j, t, h, in_ptr, in_syn, in_pre, rec_i, rec_f, ring_t, ring_l, post_i, pre_r, pre_t,
                rule_mult, a_plus, w_max, tab_plus):
    """Bring every synapse onto neuron ``j`` up to tick ``t``: the potentiation of each post spike
    arriving in (max(pre_t[i], done), ``t``], oldest first, of the spikes flagged in ``ring_l`` (the
    others arrive while learning is off). ``deliver_part`` has the same loop for one synapse at its
    pre spike."""
    depth = ring_t.shape[1]
    last = tab_plus.shape[1] - 1
    done = post_i[j, DONE]
    for p in range(in_ptr[j * h], in_ptr[j * h + h]):
        k, i = in_syn[p], in_pre[p]
        m = rec_i[k, 0]
        d, r = (m >> 32) & 0xFFFF, (m >> 49) & RULE_MASK
        since = max(pre_t[i], done)
        idx = post_i[j, POS]
        owed = 0
        while owed < depth and ring_t[j, idx] + d > since:  # never-spiked entries are far in the past
            owed += 1
            idx = idx - 1 if idx > 0 else depth - 1
        w = rec_f[k, 1]
        for _ in range(owed):
            idx = idx + 1 if idx < depth - 1 else 0
            arrival = ring_t[j, idx] + d
            if arrival > t:  # on its way along the dendrite still
                break
            if ring_l[j, idx]:
                x = pre_r[r, i] * tab_plus[r, min(arrival - pre_t[i], last)]
                if rule_mult[r]:
                    step_w = a_plus[r] * (w_max[r] - w) * x
                else:
                    step_w = a_plus[r] * x
                w = min(w + step_w, w_max[r])
        rec_f[k, 1] = w
    post_i[j, DONE] = t


@njit(cache=True)
def settle_all(t, h, in_ptr, in_syn, in_pre, rec_i, rec_f, ring_t, ring_l, post_i, pre_r, pre_t, rule_mult,
               a_plus, w_max, tab_plus):
    """Bring every plastic synapse up to tick ``t``: the synapses of the neurons that spiked since they
    were last settled (the others owe nothing), so that reading the weights often costs little."""
    for j in range(post_i.shape[0]):
        if post_i[j, NEWEST] + h - 1 > post_i[j, DONE]:
            settle_post(j, t, h, in_ptr, in_syn, in_pre, rec_i, rec_f, ring_t, ring_l, post_i, pre_r, pre_t,
                        rule_mult, a_plus, w_max, tab_plus)
        post_i[j, DONE] = t


@njit(cache=True)
def switch_learning(t, learn, h, in_ptr, in_syn, in_pre, rec_i, rec_f, ring_t, ring_l, post_i, pre_r, pre_t,
                    rule_mult, a_plus, w_max, tab_plus):
    """Learning becomes ``learn`` from tick ``t + 1`` on: a neuron with a spike still arriving after ``t``
    is settled up to ``t`` under the flags it had, and those spikes take the new flag."""
    depth = ring_t.shape[1]
    for j in range(post_i.shape[0]):
        if post_i[j, NEWEST] + h - 1 > t:
            settle_post(j, t, h, in_ptr, in_syn, in_pre, rec_i, rec_f, ring_t, ring_l, post_i, pre_r, pre_t,
                        rule_mult, a_plus, w_max, tab_plus)
            for idx in range(depth):
                if ring_t[j, idx] + h - 1 > t:
                    ring_l[j, idx] = learn


@njit(cache=True)
def push_post(j, t, learn, ring_t, ring_o, ring_l, post, post_i, tab_minus):
    """Neuron ``j`` spiked at tick ``t`` (learning ``learn``): its post traces jump, in its ring and its record."""
    depth = ring_t.shape[1]
    lag = min(t - post_i[j, NEWEST], tab_minus.shape[1] - 1)
    nxt = post_i[j, POS] + 1 if post_i[j, POS] < depth - 1 else 0
    for r in range(tab_minus.shape[0]):
        o = post[j, TRACE + r] * tab_minus[r, lag] + 1.0
        post[j, TRACE + r] = o
        ring_o[r, j, nxt] = o
    ring_t[j, nxt] = t
    ring_l[j, nxt] = learn
    post_i[j, POS] = nxt
    post_i[j, NEWEST] = t


@njit(cache=True)
def deliver_part(part, t, learn, nodes, n_nodes, row_ptr, row_plastic, rec_i, rec_f, rule_mult, a_plus,
                 a_minus, w_min, w_max, tab_plus, tab_minus, buf, pre_r, pre_t, ring_t, ring_o, ring_l, post, post_i):
    """Step "delivery" of the tick for the synapses of partition ``part`` (see ``Layout``): every
    spiking node, in order, brings its plastic synapses up to date and (``learn``) depresses them, and adds
    each weight to ring-buffer slot (t + d) mod h. Returns the number of synaptic events."""
    h = buf.shape[1]
    depth = ring_t.shape[1]
    last = tab_plus.shape[1] - 1
    t_slot = t % h
    events = 0
    for q in range(n_nodes):
        i = nodes[q]
        start, stop = row_ptr[part, i], row_ptr[part, i + 1]
        events += stop - start
        if not row_plastic[i]:  # the common case, kept free of the STDP branch
            for k in range(start, stop):
                m = rec_i[k, 0]
                slot = t_slot + ((m >> 32) & 0xFFFF)
                if slot >= h:
                    slot -= h
                buf[(m >> 48) & 1, slot, m & 0xFFFFFFFF] += rec_f[k, 1]
            continue
        for k in range(start, stop):
            m = rec_i[k, 0]
            d = (m >> 32) & 0xFFFF
            j = m & 0xFFFFFFFF
            if m < 0:  # plastic
                r = (m >> 49) & RULE_MASK
                w = rec_f[k, 1]
                newest = post_i[j, NEWEST]
                since = max(pre_t[i], post_i[j, DONE])
                if newest + d > since:  # potentiations owed: settle_post's loop, written out (a call costs more)
                    idx = post_i[j, POS]
                    owed = 0
                    while owed < depth and ring_t[j, idx] + d > since:
                        owed += 1
                        idx = idx - 1 if idx > 0 else depth - 1
                    for _ in range(owed):
                        idx = idx + 1 if idx < depth - 1 else 0
                        arrival = ring_t[j, idx] + d
                        if arrival > t:
                            break
                        if ring_l[j, idx]:
                            x = pre_r[r, i] * tab_plus[r, min(arrival - pre_t[i], last)]
                            if rule_mult[r]:
                                step_w = a_plus[r] * (w_max[r] - w) * x
                            else:
                                step_w = a_plus[r] * x
                            w = min(w + step_w, w_max[r])
                if learn:  # depression: the post trace of j's newest spike with s <= t - d (at most d are later)
                    if newest <= t - d:
                        y = post[j, TRACE + r] * tab_minus[r, min(t - d - newest, last)]
                    else:
                        idx = post_i[j, POS]
                        for _ in range(depth):
                            if ring_t[j, idx] <= t - d:
                                break
                            idx = idx - 1 if idx > 0 else depth - 1
                        y = ring_o[r, j, idx] * tab_minus[r, min(t - d - ring_t[j, idx], last)]
                    if rule_mult[r]:
                        step_w = a_minus[r] * (w - w_min[r]) * y
                    else:
                        step_w = a_minus[r] * y
                    w = max(w - step_w, w_min[r])
                rec_f[k, 1] = w
            slot = t_slot + d
            if slot >= h:
                slot -= h
            buf[(m >> 48) & 1, slot, j] += rec_f[k, 1]
    return events


@njit(cache=True)
def push_pre(t, nodes, n_nodes, pre_r, pre_t, tab_plus):
    """The pre traces of the nodes that spiked at tick ``t`` jump (after every partition's delivery)."""
    if tab_plus.shape[0] == 0:
        return
    last = tab_plus.shape[1] - 1
    for q in range(n_nodes):
        i = nodes[q]
        lag = min(t - pre_t[i], last)
        for r in range(tab_plus.shape[0]):
            pre_r[r, i] = pre_r[r, i] * tab_plus[r, lag] + 1.0
        pre_t[i] = t


@njit(cache=True)
def deliver_replay(ptr, spiking, row_ptr, row_plastic, rec_i, rec_f, buf):
    """Delivery alone over recorded spikes (tick k: spiking[ptr[k]:ptr[k+1]]) on static synapses
    in one partition: the benchmark's measure of the engine's own delivery code."""
    none_i = np.zeros(0, np.int8)
    none_f = np.zeros(0)
    tab = np.zeros((0, 2))
    pre_r = np.zeros((0, 1))
    pre_t = np.zeros(1, np.int64)
    ring_t = np.zeros((1, 1), np.int64)
    ring_o = np.zeros((0, 1, 1))
    ring_l = np.zeros((1, 1), np.uint8)
    post = np.zeros((1, 4))
    post_i = post.view(np.int64)
    one_part = row_ptr.reshape((1, row_ptr.size))
    events = 0
    for k in range(ptr.size - 1):
        nodes = spiking[ptr[k]:ptr[k + 1]]
        events += deliver_part(0, k, False, nodes, nodes.size, one_part, row_plastic, rec_i, rec_f,
                               none_i, none_f, none_f, none_f, none_f, tab, tab, buf, pre_r, pre_t, ring_t, ring_o,
                               ring_l, post, post_i)
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
    """The engine's synapse records (see module docstring) in canonical order: float64 (n_synapses, 2)."""
    if net.max_delay >= 1 << 16:
        raise ValueError(f"max delay = {net.max_delay} steps is not allowed: < 65536 on backend 'numba'")
    if len(net.rules) > RULE_MASK + 1:
        raise ValueError(f"STDP rules = {len(net.rules)} is not allowed: <= {RULE_MASK + 1} on backend 'numba'")
    if net.n_neurons >= 1 << 32:
        raise ValueError(f"n_neurons = {net.n_neurons} is not allowed: < 2**32 on backend 'numba'")
    rec_f = np.zeros((net.n_synapses, 2))
    meta = net.syn_post | (net.syn_delay << 32) | (net.syn_inh.astype(np.int64) << 48)
    plastic = net.syn_rule >= 0
    meta[plastic] |= (net.syn_rule[plastic] << 49) | (np.int64(-1) << 63)
    rec_f.view(np.int64)[:, 0] = meta
    rec_f[:, 1] = net.syn_w0
    return rec_f


@dataclass
class Layout:
    """The synapse table split into ``parts`` partitions by postsynaptic neuron (contiguous ranges),
    each a CSR table of its own over the presynaptic nodes: one thread delivers each, and no two
    write the same neuron's buffer, ring or record. Within a neuron's partition its inputs keep
    the canonical order, so every sum is the serial one. One partition is the canonical table."""

    rec_f: np.ndarray     # (n_synapses, 2) records, partition by partition
    row_ptr: np.ndarray   # (parts, n_nodes + 1) into rec_f
    in_syn: np.ndarray    # net.in_syn as records
    in_pre: np.ndarray    # the presynaptic node of each: read in order when a neuron is settled
    canonical: np.ndarray | None  # record -> canonical synapse id (None: the same)
    record: np.ndarray | None     # canonical synapse id -> record

    @property
    def rec_i(self) -> np.ndarray:
        return self.rec_f.view(np.int64)


def layout(net: CompiledNetwork, parts: int) -> Layout:
    rec_f = pack_synapses(net)
    in_pre = net.syn_pre[net.in_syn]
    if parts == 1:
        return Layout(rec_f, net.row_ptr[None], net.in_syn, in_pre, None, None)
    bounds = np.linspace(0, net.n_neurons, parts + 1).astype(np.int64)
    part = np.searchsorted(bounds, net.syn_post, side="right") - 1
    order = np.lexsort((net.syn_pre, part))  # stable: canonical order within a (partition, node) row
    position = np.empty_like(order)
    position[order] = np.arange(order.size)
    counts = np.bincount(part * net.n_nodes + net.syn_pre, minlength=parts * net.n_nodes)
    starts = np.concatenate([np.zeros(1, np.int64), np.cumsum(counts)])
    row_ptr = np.stack([starts[p * net.n_nodes:(p + 1) * net.n_nodes + 1] for p in range(parts)])
    return Layout(rec_f[order], row_ptr, position[net.in_syn], in_pre, order, position)
