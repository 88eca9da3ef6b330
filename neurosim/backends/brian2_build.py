r"""Translation of a CompiledNetwork into Brian2 objects (:func:`build`) and reading them back.

Shared by the runtime engine (:mod:`neurosim.backends.brian2_engine`) and the
``cpp_standalone`` run (:mod:`neurosim.backends.brian2_standalone`); the model strings
(neurons, STDP) are in :mod:`neurosim.backends.brian2_equations`.

Everything is dimensionless inside Brian2 (numbers in ms, mV, nA, MOhm as in
:mod:`neurosim.compiled`); only ``dt`` and synaptic delays carry units (seconds),
as Brian2 requires. All objects share one :class:`brian2.Clock` of ``dt_ms`` and
are added to a fresh :class:`brian2.Network` (no ``collect()``, no global clock).

* **Sources**: one ``SpikeGeneratorGroup`` for all source nodes (global ids
  ``n_neurons ..``); each ``advance`` gives it the chunk's events with
  ``set_spikes`` (absolute times ``tick * dt``).
* **Delays**: neurosim applies a spike of tick ``t`` over delay ``d`` in the
  membrane update of tick ``t + d``. Brian2 processes synapses after the
  thresholds of the same step, so a Brian2 delay of ``(d - 1) dt`` adds the weight
  to ``be`` at step ``t + d - 1`` and the membrane uses it at step ``t + d``: the
  same tick as neurosim (Brian2's own convention would be a delay of ``d dt`` for
  the same "``d``").
* **Synapses**: one ``Synapses`` object per (presynaptic group, delay, receptor),
  with a homogeneous delay, created with ``connect(i=..., j=...)`` in canonical
  synapse order. Their pathways run in the order (delay descending, neurons before
  sources), so that every ``be``/``bi`` is summed in exactly the order of the
  reference engine's ring buffer (emission tick, node id, canonical synapse
  order; Brian2's spike queue keeps push order and the numpy target adds with
  ``numpy.add.at``). ``handles.synapses`` maps every object to its canonical ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from neurosim.backends.base import External
from neurosim.backends.brian2_equations import (
    _DECAY,
    _MEMBRANE,
    _NEURON_EQS,
    _STDP_MODEL,
    _set_stdp_parameters,
    _stdp_code,
)
from neurosim.compiled import CompiledNetwork

CODEGEN_TARGETS = ("numpy", "cython")


@dataclass(eq=False)
class SynapseGroup:
    """One Brian2 ``Synapses`` object and the canonical ids of its synapses, in its order."""

    obj: object
    ids: np.ndarray
    pre_group: int      # 0: neurons, 1: sources
    delay: int          # neurosim steps
    inhibitory: bool
    plastic: bool


@dataclass(eq=False)
class Handles:
    """The Brian2 objects made by :func:`build`."""

    clock: object
    neurons: object
    sources: object | None
    synapses: list[SynapseGroup]
    neuron_spikes: object | None = None
    source_spikes: object | None = None
    state: object | None = None
    traced_local: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


def _codeobj_class(codegen: str | None):
    if codegen is None:
        return None
    if codegen == "numpy":
        from brian2.codegen.runtime.numpy_rt import NumpyCodeObject
        return NumpyCodeObject
    if codegen == "cython":
        from brian2.codegen.runtime.cython_rt import CythonCodeObject
        return CythonCodeObject
    raise ValueError(f"codegen = {codegen!r} is not allowed: one of {CODEGEN_TARGETS}")


def _synapse_keys(net: CompiledNetwork) -> list[tuple[int, int, int, np.ndarray]]:
    """(pre group, delay, inhibitory, canonical ids) per Synapses object, in delivery order:
    delay descending, then neurons before sources (the reference's summation order)."""
    if net.n_synapses == 0:
        return []
    group = (net.syn_pre >= net.n_neurons).astype(np.int64)
    key = np.stack([-net.syn_delay, group, net.syn_inh.astype(np.int64)])
    uniq, inverse = np.unique(key.T, axis=0, return_inverse=True)
    order = np.argsort(inverse.ravel(), kind="stable")
    bounds = np.searchsorted(inverse.ravel()[order], np.arange(len(uniq) + 1))
    out = []
    for u, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        ids = np.sort(order[lo:hi])
        out.append((int(uniq[u][1]), int(-uniq[u][0]), int(uniq[u][2]), ids))
    return out


def build(net: CompiledNetwork, *, external: External | None = None, record: np.ndarray | None = None,
          traced: np.ndarray | None = None, codegen: str | None = None, name: str = "neurosim"):
    """Brian2 objects for ``net`` in a new ``brian2.Network``: returns ``(network, handles)``.

    ``external``: source spikes to load now (absolute ticks; more can be set later with
    ``handles.sources.set_spikes``). ``record``: bool mask over nodes whose spikes are
    monitored (default all); ``traced``: global neuron ids for a StateMonitor of
    ``v``, ``Ie``, ``Ii`` at the end of each tick. ``codegen``: ``None`` (the device's
    choice: required under ``cpp_standalone``), ``"numpy"`` or ``"cython"``.
    """
    import brian2 as b2

    codeobj = _codeobj_class(codegen)
    dt_s = net.dt_ms * 1e-3
    clock = b2.Clock(dt=dt_s * b2.second, name=f"{name}_clock*")
    n = net.n_neurons
    # a network of spike sources only still gets one neuron (Brian2 refuses an empty NeuronGroup): it never
    # fires (v_thresh = inf), receives nothing and is not recorded
    g = b2.NeuronGroup(max(n, 1), _NEURON_EQS, threshold="v >= v_thresh", reset="v = v_reset\nc = refrac_steps",
                       clock=clock, codeobj_class=codeobj, name=f"{name}_neurons*")
    if n:
        g.v = net.v_init
        for attr in ("v_rest", "v_reset", "v_thresh", "r_mohm", "i_offset", "decay_m", "decay_e", "decay_i",
                     "init_e", "init_i", "refrac_steps"):
            setattr(g, attr, getattr(net, attr))
    else:
        g.v_thresh = np.inf
    membrane = g.run_regularly(_MEMBRANE, when="groups", order=0, name=f"{name}_membrane*")
    decay = g.run_regularly(_DECAY, when="end", order=0, name=f"{name}_decay*")
    objects = [g, membrane, decay]

    n_src = net.n_nodes - n
    src = None
    if n_src:
        ext = External.empty() if external is None else external
        idx, times = _source_events(net, ext)
        src = b2.SpikeGeneratorGroup(n_src, idx, times * b2.second, clock=clock, codeobj_class=codeobj,
                                     name=f"{name}_sources*")
        objects.append(src)

    handles = Handles(clock=clock, neurons=g, sources=src, synapses=[])
    rank = 0
    for pre_group, d, inh, ids in _synapse_keys(net):
        source = g if pre_group == 0 else src
        target = "bi" if inh else "be"
        plastic = bool(np.any(net.syn_rule[ids] >= 0))
        nm = f"{name}_syn_{'src' if pre_group else 'n'}_d{d}_{target}{'_stdp' if plastic else ''}*"
        if not plastic:
            s = b2.Synapses(source, g, "w : 1", on_pre=f"{target}_post += w", delay=(d - 1) * dt_s * b2.second,
                            clock=clock, codeobj_class=codeobj, name=nm)
        else:
            rules = net.syn_rule[ids]
            mults = {int(net.rule_mult[r]) for r in np.unique(rules[rules >= 0])}
            kind = "mixed" if len(mults) == 2 else ("multiplicative" if mults == {1} else "additive")
            code = _stdp_code(kind, d, target)
            model = _STDP_MODEL + "".join(f"wq{k} : 1\n" for k in range(d if d > 1 else 0))
            on_pre = {k: v for k, v in code.items() if k != "post"}
            delays = {"pre": 0 * b2.second, "post": d * dt_s * b2.second}
            if "deliver" in code:
                delays["deliver"] = (d - 1) * dt_s * b2.second
            s = b2.Synapses(source, g, model, on_pre=on_pre, on_post=code["post"], delay=delays,
                            clock=clock, codeobj_class=codeobj, name=nm)
        s.connect(i=net.syn_pre[ids] - (0 if pre_group == 0 else n), j=net.syn_post[ids])
        s.w = net.syn_w0[ids]
        if plastic:
            _set_stdp_parameters(s, net, ids)
            # potentiation (arrivals of post spikes) before depression (pre spikes) of a tick
            s.post.order = 0
            if d > 1:
                s.pre.order = 1
        delivering = s.pre if (not plastic or d == 1) else s.deliver
        delivering.order = 2 + rank
        rank += 1
        objects.append(s)
        handles.synapses.append(SynapseGroup(s, ids, pre_group, d, bool(inh), plastic))

    rec = np.ones(net.n_nodes, bool) if record is None else np.asarray(record, bool)
    if rec[:n].any():
        handles.neuron_spikes = b2.SpikeMonitor(g, record=True, codeobj_class=codeobj,
                                                name=f"{name}_neuron_spikes*")
        objects.append(handles.neuron_spikes)
    if src is not None and rec[n:].any():
        handles.source_spikes = b2.SpikeMonitor(src, record=True, codeobj_class=codeobj,
                                                name=f"{name}_source_spikes*")
        objects.append(handles.source_spikes)
    tr = np.zeros(0, np.int64) if traced is None else np.asarray(traced, np.int64)
    if tr.size:
        uniq, handles.traced_local = np.unique(tr, return_inverse=True)
        handles.state = b2.StateMonitor(g, ("v", "Ie", "Ii"), record=uniq, when="end", order=10, clock=clock,
                                        codeobj_class=codeobj, name=f"{name}_state*")
        objects.append(handles.state)
    return b2.Network(*objects, name=f"{name}_network*"), handles


def _source_events(net: CompiledNetwork, ext: External) -> tuple[np.ndarray, np.ndarray]:
    """(local source index, time in s) of the events of trial 0; refuses two spikes of a node in a tick."""
    keep = ext.trial == 0
    tick, node = ext.tick[keep].astype(np.int64), ext.node[keep].astype(np.int64)
    if node.size and node.min() < net.n_neurons:
        raise ValueError(f"External.node = {int(node.min())} is not allowed: source nodes are >= {net.n_neurons}")
    if tick.size > 1:
        order = np.lexsort((node, tick))
        same = (np.diff(tick[order]) == 0) & (np.diff(node[order]) == 0)
        if same.any():
            k = int(np.argmax(same))
            raise ValueError(f"two spikes of source node {int(node[order][k])} at tick {int(tick[order][k])} "
                             "are not allowed on backend 'brian2' (SpikeGeneratorGroup: one per step)")
    return node - net.n_neurons, tick * (net.dt_ms * 1e-3)


def read_spikes(net: CompiledNetwork, handles: Handles,
                record: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Spikes held by the monitors: ``(ticks, global nodes)`` of the nodes in ``record`` (default
    all), sorted by tick, then node (neurons before sources)."""
    dt_s = net.dt_ms * 1e-3
    ticks, nodes = [], []
    for mon, first in ((handles.neuron_spikes, 0), (handles.source_spikes, net.n_neurons)):
        if mon is None:
            continue
        ticks.append(np.rint(np.asarray(mon.t_[:], np.float64) / dt_s).astype(np.int64))
        nodes.append(np.asarray(mon.i[:], np.int64) + first)
    tick = np.concatenate(ticks) if ticks else np.zeros(0, np.int64)
    node = np.concatenate(nodes) if nodes else np.zeros(0, np.int64)
    if record is not None:
        keep = record[node]
        tick, node = tick[keep], node[keep]
    order = np.lexsort((node, tick))
    return tick[order], node[order]


def read_state(handles: Handles, n_steps: int) -> np.ndarray | None:
    """The last ``n_steps`` samples of the traced states: (n_steps, 1, n_traced, 3), or None."""
    if handles.state is None:
        return None
    cols = handles.traced_local
    state = np.empty((n_steps, 1, cols.size, 3))
    for k, var in enumerate(("v", "Ie", "Ii")):
        values = np.asarray(getattr(handles.state, var)[:], np.float64)  # (n_recorded, n_samples)
        state[:, 0, :, k] = values[cols, values.shape[1] - n_steps:].T
    return state


def _clear_monitors(handles: Handles) -> None:
    """Empty the runtime monitors after a chunk was read (Brian2 has no public 'clear'), so that
    memory does not grow with the length of a run."""
    for mon in (handles.neuron_spikes, handles.source_spikes):
        if mon is not None:
            mon.resize(0)
            mon.variables["N"].set_value(0)
    if handles.state is not None:
        handles.state.resize(0)


def read_weights(net: CompiledNetwork, handles: Handles) -> np.ndarray:
    """Current weights in canonical synapse order (float64, n_synapses)."""
    w = net.syn_w0.astype(np.float64).copy()
    for sg in handles.synapses:
        w[sg.ids] = np.asarray(sg.obj.w[:], np.float64)
    return w
