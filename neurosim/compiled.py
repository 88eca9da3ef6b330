"""A Network flattened into arrays: what every engine reads.

Nodes are numbered globally: the neurons of each population in declaration
order (``0 .. n_neurons-1``), then the source neurons. Synapses are stored once,
sorted by presynaptic node (CSR, ``row_ptr``), then by projection order, then by
connector order. That order is the canonical order in which a tick's spikes
are delivered, so that every float64 engine sums inputs in the same order and
produces bit-identical results.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from neurosim import _checks as ck
from neurosim.network import Network
from neurosim.plasticity import STDP, decay_table


@dataclass(eq=False)
class CompiledNetwork:
    dt_ms: float
    n_neurons: int
    n_nodes: int
    offsets: dict[str, tuple[int, int]]          # name -> (first node, size)
    # per neuron (float64 unless said)
    v_init: np.ndarray
    v_rest: np.ndarray
    v_reset: np.ndarray
    v_thresh: np.ndarray
    r_mohm: np.ndarray
    i_offset: np.ndarray
    decay_m: np.ndarray        # exp(-dt / tau_m)
    decay_e: np.ndarray        # exp(-dt / tau_syn_e)
    decay_i: np.ndarray
    init_e: np.ndarray         # (tau_syn_e / dt) (1 - exp(-dt / tau_syn_e))
    init_i: np.ndarray
    refrac_steps: np.ndarray   # int64, ceil(tau_refrac / dt)
    # synapses, CSR by presynaptic node
    row_ptr: np.ndarray        # int64 (n_nodes + 1)
    syn_post: np.ndarray       # int64
    syn_delay: np.ndarray      # int64, steps >= 1
    syn_inh: np.ndarray        # int8, 1 for inhibitory
    syn_rule: np.ndarray       # int64, -1 for static
    syn_w0: np.ndarray         # float64, initial weights (nA)
    syn_pre: np.ndarray        # int64 (redundant with row_ptr; handy for vector code)
    proj_syn: dict[str, np.ndarray]  # projection -> synapse ids in connector order
    max_delay: int
    # plasticity rules
    rules: tuple[STDP, ...]
    rule_mult: np.ndarray      # int8
    rule_a_plus: np.ndarray    # STDP.step_plus()
    rule_a_minus: np.ndarray
    rule_w_min: np.ndarray
    rule_w_max: np.ndarray
    tab_plus: np.ndarray       # (n_rules, L): exp(-k dt / tau_plus), last column 0
    tab_minus: np.ndarray
    # plastic synapses grouped by (post, delay): ids in_syn[in_ptr[j*H + d] : in_ptr[j*H + d + 1]]
    in_ptr: np.ndarray
    in_syn: np.ndarray

    @property
    def n_synapses(self) -> int:
        return int(self.syn_post.size)

    @property
    def history(self) -> int:
        """Ring-buffer depth: delays 1..max_delay need max_delay + 1 slots."""
        return self.max_delay + 1

    def slice(self, name: str) -> slice:
        start, size = self.offsets[name]
        return slice(start, start + size)


# One compilation per Network object: a Network is frozen, and engines copy what they change, so
# simulators of the same Network (a memory's frozen read copies, seeds of one model) share it.
_COMPILED: weakref.WeakKeyDictionary[Network, CompiledNetwork] = weakref.WeakKeyDictionary()


def compile_network(net: Network) -> CompiledNetwork:
    """The engines' view of ``net`` (computed once per Network object, then shared read-only)."""
    compiled = _COMPILED.get(net)
    if compiled is None:
        compiled = _COMPILED[net] = _compile(net)
    return compiled


def _compile(net: Network) -> CompiledNetwork:
    offsets, n_neurons, n_nodes = _layout(net)
    neurons = _neuron_arrays(net)
    rules = _rules(net)
    synapses = _synapse_table(net, offsets, rules, n_nodes)
    max_delay, in_ptr, in_syn = _plastic_index(synapses["syn_post"], synapses["syn_delay"], synapses["syn_rule"],
                                               n_neurons)
    return CompiledNetwork(
        dt_ms=net.dt_ms,
        n_neurons=n_neurons,
        n_nodes=n_nodes,
        offsets=offsets,
        **neurons,
        **synapses,
        max_delay=max_delay,
        **_rule_arrays(rules, net.dt_ms),
        in_ptr=in_ptr,
        in_syn=in_syn,
    )


def _layout(net: Network) -> tuple[dict[str, tuple[int, int]], int, int]:
    """Global node numbering: ``(offsets, n_neurons, n_nodes)``, populations first, then sources."""
    offsets: dict[str, tuple[int, int]] = {}
    start = 0
    for node in (*net.populations, *net.sources):
        offsets[node.name] = (start, node.size)
        start += node.size
    n_neurons = sum(p.size for p in net.populations)
    return offsets, n_neurons, start


def _neuron_arrays(net: Network) -> dict[str, np.ndarray]:
    """The per-neuron fields of :class:`CompiledNetwork` (``v_init`` .. ``refrac_steps``)."""
    dt = net.dt_ms

    def per_neuron(attr: str) -> np.ndarray:
        return np.concatenate([np.zeros(0)] + [p.params.per_neuron(attr, p.size) for p in net.populations])

    tau_m = per_neuron("tau_m_ms")
    tau_e = per_neuron("tau_syn_e_ms")
    tau_i = per_neuron("tau_syn_i_ms")
    refrac = np.array([ck.ms_to_steps_ceil(t, dt) for t in per_neuron("tau_refrac_ms")], dtype=np.int64)
    return {
        "v_init": per_neuron("v_init_mV"),
        "v_rest": per_neuron("v_rest_mV"),
        "v_reset": per_neuron("v_reset_mV"),
        "v_thresh": per_neuron("v_thresh_mV"),
        "r_mohm": tau_m / per_neuron("cm_nF"),
        "i_offset": per_neuron("i_offset_nA"),
        "decay_m": np.exp(-dt / tau_m),
        "decay_e": np.exp(-dt / tau_e),
        "decay_i": np.exp(-dt / tau_i),
        "init_e": (tau_e / dt) * (1.0 - np.exp(-dt / tau_e)),
        "init_i": (tau_i / dt) * (1.0 - np.exp(-dt / tau_i)),
        "refrac_steps": refrac,
    }


def _rules(net: Network) -> list[STDP]:
    """One entry per distinct STDP parameter set, in order of first use by a projection."""
    rules: list[STDP] = []
    for pr in net.projections:
        if pr.plasticity is not None and pr.plasticity not in rules:
            rules.append(pr.plasticity)
    return rules


def _synapse_table(net: Network, offsets: dict[str, tuple[int, int]], rules: list[STDP],
                   n_nodes: int) -> dict[str, np.ndarray | dict[str, np.ndarray]]:
    """Every projection's synapses sorted by presynaptic node (stable: then projection, then connector
    order): the ``syn_*`` arrays, ``row_ptr`` and ``proj_syn`` of :class:`CompiledNetwork`."""
    pres, posts, delays, inh, rule_ids, w0 = [], [], [], [], [], []
    for pr in net.projections:
        c = net.connections(pr.name)
        pres.append(c.pre + offsets[pr.pre][0])
        posts.append(c.post + offsets[pr.post][0])
        delays.append(c.delay_steps)
        w0.append(c.weight_nA)
        n = c.pre.size
        inh.append(np.full(n, 1 if pr.receptor == "inhibitory" else 0, dtype=np.int8))
        rule_ids.append(np.full(n, -1 if pr.plasticity is None else rules.index(pr.plasticity), np.int64))

    def cat(parts, dtype):
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

    pre = cat(pres, np.int64)
    order = np.argsort(pre, kind="stable")  # stable: keeps projection, then connector order
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    pre = pre[order]
    row_ptr = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(pre, minlength=n_nodes), out=row_ptr[1:])

    proj_syn: dict[str, np.ndarray] = {}
    first = 0
    for pr in net.projections:
        n = net.connections(pr.name).pre.size
        proj_syn[pr.name] = inverse[first:first + n]
        first += n
    return {
        "row_ptr": row_ptr,
        "syn_post": cat(posts, np.int64)[order],
        "syn_delay": cat(delays, np.int64)[order],
        "syn_inh": cat(inh, np.int8)[order],
        "syn_rule": cat(rule_ids, np.int64)[order],
        "syn_w0": cat(w0, np.float64)[order],
        "syn_pre": pre,
        "proj_syn": proj_syn,
    }


def _plastic_index(post: np.ndarray, delay: np.ndarray, syn_rule: np.ndarray,
                   n_neurons: int) -> tuple[int, np.ndarray, np.ndarray]:
    """The plastic synapses grouped by (post, delay): ``(max_delay, in_ptr, in_syn)``; refuses a
    longest delay whose ring buffers could not be allocated."""
    max_delay = int(delay.max()) if delay.size else 1
    hist = max_delay + 1
    # the engines hold (neurons x (max delay + 1)) ring buffers: about 40 bytes per slot in all
    ck.allocatable("Projection.delay_steps (the longest)", max_delay, 40.0 * n_neurons * hist)
    plastic = np.nonzero(syn_rule >= 0)[0]
    key = post[plastic] * hist + delay[plastic]
    by_key = np.argsort(key, kind="stable")
    in_syn = plastic[by_key].astype(np.int64)
    in_ptr = np.zeros(n_neurons * hist + 1, dtype=np.int64)
    np.cumsum(np.bincount(key, minlength=n_neurons * hist), out=in_ptr[1:])
    return max_delay, in_ptr, in_syn


def _rule_arrays(rules: list[STDP], dt: float) -> dict[str, object]:
    """The ``rules`` and ``rule_*`` fields of :class:`CompiledNetwork` and the STDP decay tables
    ``tab_plus``/``tab_minus`` (one row per rule, zero-padded to the longest)."""
    tabs_p = [decay_table(r.tau_plus_ms, dt, "STDP.tau_plus_ms") for r in rules]
    tabs_m = [decay_table(r.tau_minus_ms, dt, "STDP.tau_minus_ms") for r in rules]
    length = max([t.size for t in tabs_p + tabs_m], default=2)

    def pad(tabs):
        out = np.zeros((len(tabs), length), dtype=np.float64)
        for i, t in enumerate(tabs):
            out[i, : t.size] = t
        return out

    return {
        "rules": tuple(rules),
        "rule_mult": np.array([r.multiplicative for r in rules], dtype=np.int8),
        "rule_a_plus": np.array([r.step_plus() for r in rules], dtype=np.float64),
        "rule_a_minus": np.array([r.step_minus() for r in rules], dtype=np.float64),
        "rule_w_min": np.array([r.w_min_nA for r in rules], dtype=np.float64),
        "rule_w_max": np.array([r.w_max_nA for r in rules], dtype=np.float64),
        "tab_plus": pad(tabs_p),
        "tab_minus": pad(tabs_m),
    }
