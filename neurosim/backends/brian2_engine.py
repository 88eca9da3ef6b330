r"""The ``brian2`` backend: a CompiledNetwork translated into Brian2 objects.

Translation (:func:`build`)
---------------------------
Everything is dimensionless inside Brian2 (numbers in ms, mV, nA, MOhm as in
:mod:`neurosim.compiled`); only ``dt`` and synaptic delays carry units (seconds),
as Brian2 requires. All objects share one :class:`brian2.Clock` of ``dt_ms`` and
are added to a fresh :class:`brian2.Network` (no ``collect()``, no global clock).

* **Neurons**: one ``NeuronGroup`` holds every neuron (global ids
  ``0 .. n_neurons-1``) with per-neuron parameters, so populations may differ.
  There are no differential equations: neurosim's tick is written out as abstract
  code, in the slots of Brian2's default schedule::

      groups      (run_regularly) Ie += init_e be; Ii += init_i bi; be = bi = 0
                                  alpha = (Ie - Ii + i_offset) R + v_rest
                                  v = alpha - e_m (alpha - v), unless c > 0: c -= 1
      thresholds  v >= v_thresh                      (+ the SpikeGeneratorGroup)
      synapses    spike delivery and STDP            (be_post += w, ...)
      resets      v = v_reset; c = refrac_steps
      end         (run_regularly) Ie *= e_e; Ii *= e_i; then the StateMonitor

  ``be``/``bi`` are per-neuron input accumulators (neurosim's ring-buffer slot of
  the current tick). Brian2 abstract code has no ``if``: the refractory choice is
  ``v = vn (1 - f) + v f`` with ``f = int(c > 0)``, which is exact in IEEE
  arithmetic (``x * 1 + 0 = x``).
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
* **STDP** (objects holding at least one plastic synapse; static synapses in them
  get zero steps): per-synapse pre trace ``apre``/``tpre`` (value right after the
  last pre spike and its tick) and post trace ``apost``/``tpost`` (value right
  after the last post spike *as it reaches the synapse* and that tick). Three
  pathways, mimicking neurosim's dendritic delay:

  - ``post`` (on_post, delay ``d dt``, runs first): potentiation with the pre
    trace, then the post trace jumps;
  - ``pre`` (on_pre, delay 0): depression with the post trace, pre trace jumps,
    and the updated weight is stored in a per-synapse slot ``wq[t % d]``;
  - ``deliver`` (on_pre, delay ``(d - 1) dt``): ``be_post += wq[(t + 1) % d]``,
    i.e. the weight as it was right after the pre spike's own depression
    (for ``d = 1`` the ``pre`` pathway delivers ``w`` itself).

  Decays are ``exp(-k dt / tau) * int(k <= ceil(40 tau / dt))`` with ``k`` whole
  steps (``t_in_timesteps``), the same numbers as neurosim's tables; additive and
  multiplicative rules and clipping as in :mod:`neurosim.plasticity`.

Devices and code generation
---------------------------
:class:`Brian2Engine` uses Brian2's runtime device with the ``numpy`` target by
default (no compilation). Every ``advance`` is one ``Network.run``, and each costs
~0.1 s of Brian2 set-up (code generation for every object, ``gc.collect``), so a
Simulator run cut into many chunks (WeightMonitors, observers) is dominated by it.
``codegen="cython"`` (or ``Simulator(..., device="cython")``) compiles every code
object the first time a network structure is seen: 78 s for the feed-forward test
network and 108 s for a 300-neuron STDP network on this 2-core machine, cached in
``~/.cython/brian_extensions`` afterwards; then a 1000-neuron recurrent network runs
1 s of biological time in 0.8 s instead of 1.5 s (numpy; reference engine 0.4 s).

:func:`run_standalone` builds the same objects under ``cpp_standalone`` (one run,
``build_on_run=False``), compiles, runs, reads spikes, weights and traces back, times
the phases separately and restores the previous device (``device.reinit()``,
``device.activate()``, ``reset_device()``). For ``recurrent_ei(1000)`` of the tests
(1000 neurons, 100 Poisson sources, 70k synapses, 10,000 steps, ~15k spikes):
objects 0.2 s, code generation 0.2 s, compilation 12-23 s (``make`` on 2 cores,
noisy), the binary 0.06 s wall of which 0.04 s simulation loop; with STDP on the
E->E projection 0.06 s. The runtime engine needs 1.5 s (1.7 s with STDP).

Differences from the reference engine, and their causes
--------------------------------------------------------
* runtime, numpy target: none. Spike trains, traced states (``v``, ``Ie``, ``Ii`` of
  every neuron) and STDP weights equal the reference bit for bit on every network of
  ``tests/core/networks.py`` (feed-forward with delays 1..3, recurrent E/I with
  Poisson drive, additive and multiplicative STDP, the CA3-like dt = 1 ms STDP case)
  and on 1000-neuron recurrent networks with and without STDP (1 s). The tests ask for
  identical spikes and states on static networks and weights to 1e-12 nA with STDP
  (margin for an ``exp`` implementation other than numpy's).
* runtime, cython target, and ``cpp_standalone`` by default: Brian2 compiles with
  ``-ffast-math -march=native``, which contracts ``a*b + c`` into FMAs and may
  reassociate, and C++ ``exp`` is not numpy's. Measured: ``v`` within 8e-13 mV,
  currents within 5e-15 nA, weights within 6e-17 nA; spike trains identical on all
  networks above. ``run_standalone(..., exact_math=True)`` compiles with
  ``-O3 -ffp-contract=off`` instead: static networks are then bit-exact and only STDP
  weights differ by an ulp (C++ ``exp``). ``threads`` > 0 (OpenMP) may change the
  order of summation as well.
* Source spikes: Brian2's ``SpikeGeneratorGroup`` accepts one spike per node and step;
  the Simulator already merges times that round to one tick, and :meth:`Brian2Engine.advance`
  raises ``ValueError`` if it is given two.
* ``batch_size`` must be 1 and ``dtype`` float64; ``events_delivered`` is -1.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np

from neurosim.backends.base import Chunk, Engine, External
from neurosim.compiled import CompiledNetwork

CODEGEN_TARGETS = ("numpy", "cython")
_NEVER = -(1 << 30)   # tick of a spike that never happened (int32 Brian2 variables)
_BIG = 1e300          # "no bound" for static synapses inside plastic Synapses objects

_NEURON_EQS = """
v : 1
Ie : 1
Ii : 1
be : 1
bi : 1
c : integer
v_rest : 1 (constant)
v_reset : 1 (constant)
v_thresh : 1 (constant)
r_mohm : 1 (constant)
i_offset : 1 (constant)
decay_m : 1 (constant)
decay_e : 1 (constant)
decay_i : 1 (constant)
init_e : 1 (constant)
init_i : 1 (constant)
refrac_steps : integer (constant)
"""

_MEMBRANE = """
Ie = Ie + init_e*be
Ii = Ii + init_i*bi
be = 0
bi = 0
alpha = (Ie - Ii + i_offset)*r_mohm + v_rest
vn = alpha - decay_m*(alpha - v)
nf = int(c > 0)
v = vn*(1 - nf) + v*nf
c = c - nf
"""

_DECAY = """
Ie = Ie*decay_e
Ii = Ii*decay_i
"""

_STDP_MODEL = """
w : 1
apre : 1
tpre : integer
apost : 1
tpost : integer
a_plus : 1 (constant)
a_minus : 1 (constant)
w_min : 1 (constant)
w_max : 1 (constant)
mult : 1 (constant)
dt_tau_plus : 1 (constant)
dt_tau_minus : 1 (constant)
k_plus : integer (constant)
k_minus : integer (constant)
learning : 1 (shared)
"""

# pre trace at this tick (spikes of earlier ticks), post trace as it reaches the synapse
_X = "x = apre*(exp(-(t_in_timesteps - tpre)*dt_tau_plus)*int(t_in_timesteps - tpre <= k_plus))"
_Y = "y = apost*(exp(-(t_in_timesteps - tpost)*dt_tau_minus)*int(t_in_timesteps - tpost <= k_minus))"
_DW_PLUS = {"additive": "dw = a_plus*x", "multiplicative": "dw = a_plus*(w_max - w)*x",
            "mixed": "dw = mult*(a_plus*(w_max - w)*x) + (1 - mult)*(a_plus*x)"}
_DW_MINUS = {"additive": "dw = a_minus*y", "multiplicative": "dw = a_minus*(w - w_min)*y",
             "mixed": "dw = mult*(a_minus*(w - w_min)*y) + (1 - mult)*(a_minus*y)"}


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


def _stdp_code(kind: str, delay: int, target: str) -> dict[str, str]:
    pre = [_Y, _DW_MINUS[kind], "w = clip(w - learning*dw, w_min, inf)",
           "apre = apre*(exp(-(t_in_timesteps - tpre)*dt_tau_plus)*int(t_in_timesteps - tpre <= k_plus)) + 1",
           "tpre = t_in_timesteps"]
    post = [_X, _DW_PLUS[kind], "w = clip(w + learning*dw, -inf, w_max)",
            "apost = apost*(exp(-(t_in_timesteps - tpost)*dt_tau_minus)*int(t_in_timesteps - tpost <= k_minus)) + 1",
            "tpost = t_in_timesteps"]
    code = {"post": "\n".join(post)}
    if delay == 1:
        pre.append(f"{target}_post += w")
    else:
        # the weight right after this pre spike's depression waits in slot t % d; exact selection
        pre.append(f"slot = t_in_timesteps % {delay}")
        pre += [f"wq{k} = w*int(slot == {k}) + wq{k}*int(slot != {k})" for k in range(delay)]
        picked = " + ".join(f"wq{k}*int(slot == {k})" for k in range(delay))
        code["deliver"] = f"slot = (t_in_timesteps + 1) % {delay}\n{target}_post += {picked}"
    code["pre"] = "\n".join(pre)
    return code


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


def _set_stdp_parameters(s, net: CompiledNetwork, ids: np.ndarray) -> None:
    rule = net.syn_rule[ids]
    plastic = rule >= 0
    r = np.where(plastic, rule, 0)

    def per_rule(values: np.ndarray, static: float) -> np.ndarray:
        return np.where(plastic, values[r], static)

    dt = net.dt_ms
    tau_p = np.array([x.tau_plus_ms for x in net.rules])
    tau_m = np.array([x.tau_minus_ms for x in net.rules])
    k_p = np.array([int(np.ceil(40.0 * x.tau_plus_ms / dt)) for x in net.rules], np.int64)
    k_m = np.array([int(np.ceil(40.0 * x.tau_minus_ms / dt)) for x in net.rules], np.int64)
    s.a_plus = per_rule(net.rule_a_plus, 0.0)
    s.a_minus = per_rule(net.rule_a_minus, 0.0)
    s.w_min = per_rule(net.rule_w_min, -_BIG)
    s.w_max = per_rule(net.rule_w_max, _BIG)
    s.mult = per_rule(net.rule_mult.astype(np.float64), 0.0)
    s.dt_tau_plus = per_rule(dt / tau_p, 1.0)   # dt / tau as in neurosim.plasticity.decay_table
    s.dt_tau_minus = per_rule(dt / tau_m, 1.0)
    s.k_plus = per_rule(k_p, 0).astype(np.int64)
    s.k_minus = per_rule(k_m, 0).astype(np.int64)
    s.tpre = _NEVER
    s.tpost = _NEVER
    s.learning = 1.0


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


class Brian2Engine(Engine):
    """neurosim's tick on Brian2's runtime device (see the module docstring).

    ``codegen``: ``"numpy"`` (default, no compilation, bit-exact) or ``"cython"``
    (compiled with fast-math: ulp-level differences); the Simulator's ``device`` argument
    may name either (``None`` and ``"cpu"`` mean numpy).
    """

    name = "brian2"
    supports_batch = False

    def __init__(self, net: CompiledNetwork, *, codegen: str | None = None, **kw) -> None:
        super().__init__(net, **kw)
        if self.batch_size != 1:
            raise ValueError(f"batch_size = {self.batch_size} is not allowed: 1 on backend 'brian2'")
        if self.dtype != "float64":
            raise ValueError(f"dtype = {self.dtype!r} is not allowed: 'float64' on backend 'brian2'")
        if codegen is None:
            if self.device not in (None, "cpu", *CODEGEN_TARGETS):
                raise ValueError(f"device = {self.device!r} is not allowed: None, 'cpu', 'numpy' or 'cython' "
                                 "on backend 'brian2'")
            codegen = self.device if self.device in CODEGEN_TARGETS else "numpy"
        if codegen not in CODEGEN_TARGETS:
            raise ValueError(f"codegen = {codegen!r} is not allowed: one of {CODEGEN_TARGETS}")
        self.codegen = codegen
        self._net, self.handles = build(net, record=self.record, traced=self.traced, codegen=codegen)
        self._step = 0

    def set_learning(self, enabled: bool) -> None:
        super().set_learning(enabled)
        for group in self.handles.synapses:
            if group.plastic:
                group.obj.learning = 1.0 if enabled else 0.0

    def advance(self, t0: int, n_steps: int, ext: External) -> Chunk:
        import brian2 as b2

        if t0 != self._step:
            raise ValueError(f"t0 = {t0} is not allowed: the engine is at tick {self._step}")
        h, net = self.handles, self.net
        if h.sources is not None:
            idx, times = _source_events(net, ext)
            h.sources.set_spikes(idx, times * b2.second)
        elif ext.node.size:
            raise ValueError("External events given to a network without sources")
        if n_steps:
            self._net.run(n_steps * net.dt_ms * 1e-3 * b2.second, namespace={})
        now = int(h.clock.timestep[:])
        if now != t0 + n_steps:
            raise RuntimeError(f"Brian2 ran to tick {now}, expected {t0 + n_steps}")
        self._step = now
        tick, node = read_spikes(net, h, self.record)
        state = read_state(h, n_steps)
        _clear_monitors(h)
        return Chunk(tick, np.zeros_like(tick), node, state)

    def weights(self) -> np.ndarray:
        return read_weights(self.net, self.handles)[None, :]

    def set_weights(self, syn: np.ndarray, values: np.ndarray, trial: int | None) -> None:
        w = read_weights(self.net, self.handles)
        w[syn] = values
        for sg in self.handles.synapses:
            sg.obj.w[:] = w[sg.ids]

    def set_offset(self, neurons: np.ndarray, values: np.ndarray) -> None:
        self.handles.neurons.i_offset[neurons] = values


@contextlib.contextmanager
def _cpp_flags(exact_math: bool):
    from brian2 import prefs

    key = "codegen.cpp.extra_compile_args_gcc"
    old = list(prefs[key])
    if exact_math:
        prefs[key] = [a for a in old if a not in ("-ffast-math", "-fno-finite-math-only")] + ["-ffp-contract=off"]
    try:
        yield
    finally:
        prefs[key] = old


def run_standalone(net: CompiledNetwork, duration_ms: float, external: External | None = None, *,
                   directory: str | None = None, record: np.ndarray | None = None,
                   traced: np.ndarray | None = None, exact_math: bool = False, threads: int = 0) -> dict:
    """Run ``net`` for ``duration_ms`` from tick 0 under Brian2's ``cpp_standalone`` device.

    ``external``: every source event of the run (see :meth:`neurosim.Simulator.draw_inputs`).
    ``directory``: the C++ project (``None``: a temporary one). ``exact_math``: compile
    without ``-ffast-math`` and FMA contraction. ``threads`` > 0: OpenMP threads.
    Returns ``spike_tick``, ``spike_node`` (global ids of recorded nodes, sorted),
    ``weights`` (canonical order), ``state`` (``traced`` neurons: (n_steps, 1, n_traced, 3)
    as in :class:`~neurosim.backends.base.Chunk`, or None) and timings in seconds: ``build_s`` (creating the
    Brian2 objects), ``codegen_s`` (writing the project), ``compile_s`` (make),
    ``run_s`` (the binary, wall), ``sim_s`` (the simulation loop as timed by Brian2).
    The previously active device is restored afterwards.
    """
    import brian2 as b2
    from brian2.devices.device import get_device, reset_device, set_device

    n_steps = round(duration_ms / net.dt_ms)
    if not np.isclose(n_steps * net.dt_ms, duration_ms, rtol=1e-9, atol=1e-12):
        raise ValueError(f"duration_ms = {duration_ms} is not allowed: a whole number of steps of {net.dt_ms} ms")
    tmp = tempfile.TemporaryDirectory(prefix="neurosim_brian2_") if directory is None else None
    project = tmp.name if tmp is not None else directory
    previous_threads = b2.prefs["devices.cpp_standalone.openmp_threads"]
    set_device("cpp_standalone", build_on_run=False)
    dev = get_device()
    try:
        b2.prefs["devices.cpp_standalone.openmp_threads"] = threads
        start = time.perf_counter()
        bnet, handles = build(net, external=external, record=record, traced=traced, codegen=None)
        bnet.run(n_steps * net.dt_ms * 1e-3 * b2.second, namespace={})
        build_s = time.perf_counter() - start
        with _cpp_flags(exact_math):
            start = time.perf_counter()
            dev.build(directory=project, compile=True, run=True, clean=True, with_output=False)
            total_s = time.perf_counter() - start
        compile_s = float(dev.timers["compile"]["make"] or 0.0) + float(dev.timers["compile"]["clean"] or 0.0)
        run_s = float(dev.timers["run_binary"] or 0.0)
        tick, node = read_spikes(net, handles, record=record)
        return {
            "spike_tick": tick,
            "spike_node": node,
            "weights": read_weights(net, handles),
            "state": read_state(handles, n_steps),
            "n_steps": n_steps,
            "build_s": build_s,
            "codegen_s": total_s - compile_s - run_s,
            "compile_s": compile_s,
            "run_s": run_s,
            "sim_s": float(dev._last_run_time),
            "project_dir": directory,
        }
    finally:
        b2.prefs["devices.cpp_standalone.openmp_threads"] = previous_threads
        dev.reinit()
        dev.activate()
        reset_device()
        if tmp is not None:
            tmp.cleanup()
