r"""NEST 3 as an engine of ``neurosim bench core``: the same :class:`~neurosim.network.Network`, the same input.

The network is rebuilt through NEST's Python API (not PyNN) from :func:`neurosim.compiled.compile_network`,
so populations, wiring, weights and delays are identical synapse for synapse, and the Poisson sources
become ``spike_generator``\ s that emit exactly the spikes neurosim draws (``Simulator.draw_inputs``).

Translation (neurosim: nA, nF, MOhm, mV, ms; NEST: pA, pF, mV, ms):

* LIF -> ``iaf_psc_exp``: ``C_m = 1000 cm_nF``, ``I_e = 1000 i_offset_nA``, ``tau_m``, ``tau_syn_ex/in``,
  ``E_L = v_rest``, ``V_reset``, ``V_th``; weights ``1000 w`` pA, negative for the inhibitory receptor.
  Same threshold (``V >= V_th``), reset and refractoriness (``V`` frozen for exactly
  ``ceil(tau_refrac / dt)`` steps after the spike step: ``t_ref`` is set to that many steps).
  One difference: NEST integrates the exponentially decaying current exactly within a step, while
  neurosim holds it constant over the step at ``iota w e^{-k dt/tau}`` (same charge per step, see
  :mod:`neurosim.simulator`); membrane potentials differ at second order in ``dt / tau``, so spike
  trains are statistically, not bit-for-bit, equal.
* Timing: in neurosim a spike found in tick ``t`` first moves the target's membrane in tick ``t + d``;
  in NEST a spike emitted in step ``s`` (stamped ``s + 1``) with delay ``D`` is added to the current
  after the membrane update of step ``s + D``, so it first moves the membrane in step ``s + D + 1``.
  Neuron -> neuron delays are therefore ``D = d - 1`` steps (``d = 1`` is not representable: NEST's
  minimum delay is one step; brian2_engine uses the same ``d - 1``). Source spikes are known in
  advance, so their delays are free: source -> neuron synapses get ``D = d + e``, ``e`` chosen so
  that the smallest of them equals the smallest neuron -> neuron delay (``e = 0`` if one of them is
  plastic). NEST's ``min_delay``, its communication interval, is then 0.7 ms on the bench network
  instead of 0.1 ms: 7 times fewer thread barriers with 2 threads. ``L = e + 1`` leading steps
  (NEST step ``s`` is neurosim tick ``s - L``) let a source spike of tick ``t`` be a
  ``spike_generator`` spike at ``(t + 1) dt``: its first effect is in tick ``t + d``, as in neurosim.
  A neuron spike stamped ``k`` steps is neurosim tick ``k - L - 1``; ``V_m`` starts where ``L``
  steps without input lead to ``v_init``.
* STDP -> ``stdp_synapse`` (all-to-all pairing through traces in both; NEST takes the whole delay as
  dendritic, as neurosim does): ``mu_plus = mu_minus = 0`` (additive) or 1 (multiplicative),
  ``Wmax = 1000 w_max``, ``tau_plus`` on the synapse, ``tau_minus`` on the postsynaptic neuron,
  ``lambda = A_plus``, ``alpha = A_minus / A_plus`` -- both relative to ``Wmax`` as in neurosim
  (``lambda W_max K`` additive, ``lambda (W_max - w) K`` multiplicative; depression ``alpha lambda``
  times ``W_max`` or ``w``). Because of the ``d - 1`` delay, NEST sees every neuron -> neuron pair
  one step closer (``Delta_NEST = t_post + D - t_pre = Delta - dt``); ``lambda`` and ``alpha`` carry
  the factors ``e^{-dt/tau_plus}``, ``e^{dt/tau_minus}`` that undo this, so every pair changes the
  weight by the same amount as in neurosim except pairs at ``Delta = dt`` (potentiated in neurosim,
  ``Delta_NEST = 0`` is not paired in NEST, which also applies that post spike's other potentiations
  before, not after, the depression by that pre spike). Plastic source -> neuron pairs (``e = 0``) are one step further
  apart in NEST: same correction, other sign; exact except pairs at ``Delta = -1`` and ``0`` steps.
  ``w_min`` must be 0 (``stdp_synapse`` clips at 0). NEST applies potentiation lazily, at the next
  pre spike: post spikes that reached a synapse after its last pre spike are not yet in its weight.
"""

from __future__ import annotations

import importlib.util
import os
import time

import numpy as np

from neurosim.backends.base import External
from neurosim.bench import Row, _events
from neurosim.compiled import CompiledNetwork, compile_network
from neurosim.network import Network

THREADS = (1, 2)


def is_available() -> bool:
    return importlib.util.find_spec("nest") is not None


def _import_nest():
    os.environ.setdefault("PYNEST_QUIET", "1")  # no banner: stdout may carry --json
    import nest

    if hasattr(nest, "VerbosityLevel"):  # NEST 3.10: set_verbosity("M_ERROR") still works, with a warning
        nest.verbosity = nest.VerbosityLevel.ERROR
    else:
        nest.set_verbosity("M_ERROR")
    return nest


def _per_neuron(net: Network, attr: str) -> np.ndarray:
    return np.concatenate([p.params.per_neuron(attr, p.size) for p in net.populations])


def _stdp_models(nest, c: CompiledNetwork, src_shift: int) -> dict[tuple[int, int, int], str]:
    """One stdp_synapse copy per (rule, pair shift in steps: -1 from neurons, ``src_shift`` from sources,
    receptor: 0 excitatory, 1 inhibitory with negative weights and ``Wmax``)."""
    dt, models = c.dt_ms, {}
    for r, rule in enumerate(c.rules):
        if rule.w_min_nA != 0.0:
            raise ValueError(f"STDP.w_min_nA = {rule.w_min_nA} is not allowed on NEST: 0 (stdp_synapse clips at 0)")
        if rule.A_plus == 0.0:
            raise ValueError("STDP.A_plus = 0 is not allowed on NEST: > 0 (alpha = A_minus / A_plus)")
        mu = 1.0 if rule.multiplicative else 0.0
        for shift in (-1, src_shift):
            lam = rule.A_plus * np.exp(shift * dt / rule.tau_plus_ms)
            alpha = rule.A_minus * np.exp(-shift * dt / rule.tau_minus_ms) / lam
            for inh in (0, 1):
                name = f"neurosim_stdp_{r}_{'ns'[shift > 0]}_{'ei'[inh]}"
                sign = -1.0 if inh else 1.0  # NEST: weight and Wmax of one sign
                nest.CopyModel("stdp_synapse", name, {"tau_plus": rule.tau_plus_ms, "lambda": lam, "alpha": alpha,
                                                      "mu_plus": mu, "mu_minus": mu, "weight": sign,
                                                      "Wmax": sign * 1000.0 * rule.w_max_nA})
                models[r, shift, inh] = name
    return models


def _generator_times(c: CompiledNetwork, ext: External) -> list[dict]:
    """spike_times per source node: a spike of tick t is emitted at (t + 1) dt (see the module doc)."""
    first = c.n_neurons
    order = np.lexsort((ext.tick, ext.node))
    node, tick = ext.node[order], ext.tick[order]
    bounds = np.searchsorted(node, np.arange(first, c.n_nodes + 1))
    times = np.round((tick + 1) * c.dt_ms, 6)
    return [{"spike_times": times[bounds[i]:bounds[i + 1]]} for i in range(c.n_nodes - first)]


def simulate(net: Network, duration_ms: float, ext: External, threads: int = 1, *,
             weights: bool = False) -> dict:
    """Run ``net`` in NEST on the source spikes ``ext``; returns spike ``tick``/``node`` (neurons only,
    neurosim's ticks and global node ids), ``setup_s``, ``sim_s`` and, with ``weights``, ``weights``:
    the final weights of the plastic synapses: ``(canonical synapse ids, weights in nA)``.

    ``setup_s`` counts what the numba row counts as setup (build + JIT + first tick): compiling the
    network (cached per Network), kernel reset, creating nodes, spike-generator times, connecting,
    ``nest.Prepare`` and the first ``L + 1`` steps (the leading steps and tick 0). ``sim_s`` is
    ``nest.Run`` over the remaining ticks, the same number of steps the numba row times.
    """
    nest = _import_nest()
    dt = net.dt_ms
    n_ticks = round(duration_ms / dt)
    t0 = time.perf_counter()
    c = compile_network(net)
    from_source = c.syn_pre >= c.n_neurons
    if np.any(c.syn_delay[~from_source] < 2):
        raise ValueError("a neuron -> neuron delay of 1 step is not allowed on NEST: >= 2 steps "
                         "(NEST's minimum delay is one step, and neurosim's d is NEST's d - 1)")
    extra = 0  # e: extra delay of the source synapses (see the module doc)
    if from_source.any() and not from_source.all() and not np.any(c.syn_rule[from_source] >= 0):
        extra = max(0, int(c.syn_delay[~from_source].min()) - 1 - int(c.syn_delay[from_source].min()))
    lead = extra + 1  # L
    delay = c.syn_delay + np.where(from_source, extra, -1)
    nest.ResetKernel()
    nest.SetKernelStatus({"resolution": dt, "local_num_threads": int(threads), "print_time": False})
    n = c.n_neurons
    tau_m = _per_neuron(net, "tau_m_ms")
    neurons = nest.Create("iaf_psc_exp", n)  # node ids 1..n: global neuron j is id j + 1
    # L leading steps of no input precede tick 0: start where they lead to v_init
    a = c.v_rest + c.r_mohm * c.i_offset
    neurons.set({
        "C_m": 1000.0 * _per_neuron(net, "cm_nF"), "tau_m": tau_m, "E_L": c.v_rest, "V_reset": c.v_reset,
        "V_th": c.v_thresh, "I_e": 1000.0 * c.i_offset, "t_ref": c.refrac_steps * dt,
        "tau_syn_ex": _per_neuron(net, "tau_syn_e_ms"), "tau_syn_in": _per_neuron(net, "tau_syn_i_ms"),
        "V_m": a + (c.v_init - a) / c.decay_m ** lead,
    })
    if c.n_nodes > n:
        gens = nest.Create("spike_generator", c.n_nodes - n)  # source node k is id k + 1
        gens.set(_generator_times(c, ext))
    recorder = nest.Create("spike_recorder")
    nest.Connect(neurons, recorder)

    w_pa = 1000.0 * c.syn_w0 * np.where(c.syn_inh == 1, -1.0, 1.0)
    models = _stdp_models(nest, c, 2 * extra + 1)
    if c.rules:  # tau_minus lives on the postsynaptic neuron: one per neuron
        plastic = np.flatnonzero(c.syn_rule >= 0)
        tau_minus = np.array([r.tau_minus_ms for r in c.rules])[c.syn_rule[plastic]]
        post = c.syn_post[plastic]
        per_post = np.full(n, 20.0)  # NEST's default where no plastic synapse arrives
        per_post[post] = tau_minus
        if np.any(per_post[post] != tau_minus):
            raise ValueError("STDP rules with different tau_minus_ms onto one neuron are not allowed on NEST")
        neurons.set({"tau_minus": per_post})
    groups = {"static_synapse": np.flatnonzero(c.syn_rule < 0)}
    for (r, shift, inh), name in models.items():
        groups[name] = np.flatnonzero((c.syn_rule == r) & (from_source == (shift > 0)) & (c.syn_inh == inh))
    for model, k in groups.items():
        if k.size:
            nest.Connect(c.syn_pre[k] + 1, c.syn_post[k] + 1, "one_to_one",
                         syn_spec={"synapse_model": model, "weight": w_pa[k], "delay": delay[k] * dt})
    nest.Prepare()
    nest.Run((lead + 1) * dt)  # the leading steps and tick 0
    t1 = time.perf_counter()
    if n_ticks > 1:
        nest.Run((n_ticks - 1) * dt)
    t2 = time.perf_counter()
    nest.Cleanup()

    ev = recorder.get("events")
    tick = np.rint(np.asarray(ev["times"]) / dt).astype(np.int64) - lead - 1
    node = np.asarray(ev["senders"], np.int64) - 1
    order = np.lexsort((node, tick))
    out = {"tick": tick[order], "node": node[order], "setup_s": t1 - t0, "sim_s": t2 - t1, "threads": threads}
    if weights:
        out["weights"] = _plastic_weights(nest, c, list(models.values()))
    return out


def _plastic_weights(nest, c: CompiledNetwork, models: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(canonical synapse ids, final weights in nA) of the plastic synapses, matched by (pre, post)."""
    pre, post, w = [], [], []
    for model in models:
        conns = nest.GetConnections(synapse_model=model)
        if len(conns):
            got = conns.get(["source", "target", "weight"])
            pre.append(np.atleast_1d(got["source"]) - 1)
            post.append(np.atleast_1d(got["target"]) - 1)
            w.append(np.atleast_1d(got["weight"]) / 1000.0)
    syn = np.flatnonzero(c.syn_rule >= 0)
    if not pre:
        return syn, np.zeros(0)
    pre, post, w = np.concatenate(pre), np.concatenate(post), np.abs(np.concatenate(w))
    mine = np.lexsort((c.syn_post[syn], c.syn_pre[syn]))
    theirs = np.lexsort((post, pre))  # multapses (same pre and post) are matched in any order
    return syn[mine], w[theirs]


def run_nest(net: Network, duration_ms: float, ext: External, threads: int = 1) -> Row:
    """One ``bench core`` row: NEST with ``threads`` OpenMP threads on the input ``ext``."""
    out = simulate(net, duration_ms, ext, threads)
    c = compile_network(net)
    ev = _events(c, np.concatenate([out["node"], ext.node]))  # neurons' spikes and the input's
    sim_s = out["sim_s"]
    label = f"nest ({threads} thread{'s' if threads > 1 else ''})"
    return Row(c.n_neurons, label, out["setup_s"], sim_s, int(out["node"].size), ev, ev / sim_s,
               duration_ms / 1000.0 / sim_s, note="setup: reset, create, connect, Prepare, leading steps + tick 0")
