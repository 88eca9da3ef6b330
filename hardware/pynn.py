r"""Export a neurosim :class:`~neurosim.Network` to PyNN: a standalone script, a live build, SpiNNaker checks.

One translation (:func:`translate`) turns a network into a *plan*: plain data that
names PyNN calls (:class:`Call`) and their arguments in PyNN's units. Two small
interpreters read the same plan: :func:`export_script` prints it as a readable
Python script (the simulator module chosen at run time, ``--simulator
brian2|spiNNaker|nest``), :func:`build_live` calls it on an imported PyNN module.
:func:`check_board` checks SpiNNaker's constraints before export and
:func:`map_on_virtual_board` runs the exported script through sPyNNaker on a
virtual SpiNN-5 board (partition, place, route, generate data) and reports the
chips and cores used.

Mapping (neurosim's units are PyNN's: ms, mV, nA, nF), per target:

===========================  ==================================  ==================================
neurosim                     ``target="generic"`` (brian2, nest)  ``target="spinnaker"`` (sPyNNaker 7)
===========================  ==================================  ==================================
LIFParams ``x_unit``         IF_curr_exp ``x`` (factor 1)         same
``v_init_mV``                ``Population.initialize(v=...)``     same
weight (nA, >= 0) + receptor inhibitory weights negative         weights positive (sPyNNaker takes
                             (standard PyNN current synapses)     ``abs`` per projection; the
                                                                  receptor gives the sign)
``delay_steps``              ``delay_steps * dt_ms`` ms           same
STDP additive ``A_plus``     ``A_plus`` (relative to w_max)       ``A_plus * w_max_nA`` (sPyNNaker 7
                                                                  applies A itself as the step)
STDP multiplicative ``A``    ``A`` (factor of w_max - w)          same (written unscaled)
``dendritic_delay_fraction`` chosen at run time from the simulator: brian2 accepts only 0 (axonal),
                             nest and spiNNaker only 1 (dendritic, neurosim's own semantics)
===========================  ==================================  ==================================

Connectors: OneToOne -> OneToOneConnector, AllToAll -> AllToAllConnector (between two
populations always with self connections: neurosim keeps i -> i there), FromList ->
FromListConnector (per-connection weight and delay columns), FixedProbability ->
FromListConnector of neurosim's own synapses (``resolve_random=True``, the same
synapses as neurosim) or FixedProbabilityConnector with a NumpyRNG seeded by the
connector's seed (``resolve_random=False``, same statistics, other synapses). A
projection with per-connection weights or delays under a rule connector becomes a
FromListConnector. Spike times are moved to their tick (``round(t / dt) dt``) as
neurosim does.

``target="brian2-spinnaker"`` (SpiNNaker semantics on pyNN.brian2) is ``"generic"`` plus
four adjustments, applied to any network, that make pyNN.brian2 at dt = 1 ms run
neurosim's / sPyNNaker's tick (tuned on the CA3 memory: with all four, its three published
experiments give the published recalls and the same spikes as neurosim in every population;
removing any one breaks them, ``tests/hardware/test_ca3_pynn.py``, ``docs/hardware.md``):

- ``delay_shift_steps = 1``: every delay one step shorter (``max(d - 1, 0)`` steps). On
  Brian2 a spike detected at step t and delivered with delay d acts on v during step
  t + d + 1 (a hop takes d + dt); SpiNNaker's takes d. With it every hop, and so every
  readout time, matches. Zero delays then occur: the script and :func:`setup_simulator`
  call ``sim.setup(..., min_delay="auto")``.
- ``refractory_extra_steps = 1``: ``tau_refrac -> (ceil(tau_refrac / dt) + 1) dt`` (CA3:
  1 ms -> 2 ms). Brian2's refractory period of 1 ms at dt = 1 ms lets a cell fire on the
  very next step; SpiNNaker freezes it for ``ceil(tau_refrac / dt)`` whole steps.
- ``stdp_window_shift = True``: additive and multiplicative ``A_plus x exp(-k dt / tau_plus)``,
  ``A_minus x exp(+k dt / tau_minus)`` with ``k = d + d'`` steps (d the network's delay,
  d' the exported one; CA3's learned synapses: 1 + 0, so e^(-1/3) = 0.717 and e^(1/3) = 1.396).
  SpiNNaker (dendritic delay) pairs a post spike at s with a pre spike at t at
  Delta = s + d - t, pyNN.brian2 (axonal delay d', pre pathway before post) at
  Delta = s - t - d': the same window shifted by k steps, so each potentiation is
  exp(-k dt / tau_plus) too large and each depression exp(k dt / tau_minus) too small.
  (Pairs whose Delta changes sign under the shift are not corrected; a plastic
  projection must have one delay.)
- ``psp_match = True``: every weight onto a population, and ``w_min``/``w_max`` of plastic
  synapses, times :func:`psp_scale` of the post cell (cm, tau_m, the receptor's tau_syn,
  dt). SpiNNaker adds ``init w`` (``init = tau_syn/dt (1 - exp(-dt/tau_syn))``, 0.289 at
  tau_syn = 0.3 ms) to a current held constant over the step; Brian2 integrates exactly a
  current ``w exp(-t/tau_syn)`` that has mostly decayed by the step's end. The jump of v
  at the step's end then differs by cell (CA3: x1.673 for 0.14 nF / 0.5 ms cells, x1.084
  for 0.27 nF / 3 ms cells).

Brian2 settings of every target (script and :func:`setup_simulator`): Brian2's numpy code
generation (the default Cython target compiles every object: minutes for the CA3 circuit)
and ``brian2.defaultclock.dt = dt`` (pyNN.brian2's SpikeSourceArray otherwise runs on
Brian2's 0.1 ms default clock); "brian2-spinnaker" also sets ``min_delay="auto"``. pyNN.brian2's ``STDPMechanism`` needs
``dendritic_delay_fraction=0`` (all its delays are axonal) and steps ``w_max * A * trace``
(A relative, as neurosim's). Tuned and checked at dt = 1 ms only.

Known engine differences (sPyNNaker 7.x's C sources; docs/core.md, "SpiNNaker's tick"): sPyNNaker
7.x runs neurosim's tick exactly; pyNN.brian2 delivers a spike over delay ``d``
after ``d + dt`` and fires on ``v > v_thresh`` (strict), so a feed-forward chain of
``k`` hops shows every spike ``k dt`` later than neurosim (tested exactly).

sPyNNaker 7.4.1 issues met here: ``STDPMechanism`` raises unless
``dendritic_delay_fraction == 1`` (and pyNN.brian2 raises unless it is 0: the
script picks it per simulator); ``OneToOneConnector.create_synaptic_block`` (host
generation, used on virtual boards) filters PopulationViews with
``a <= hi & a >= lo`` (operator precedence: ``&`` binds first) and keeps
``pre <= size`` (off by one): the exporter never connects views and only pairs
equal sizes, so OneToOneConnector is exported as is.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from neurosim import _checks as ck
from neurosim.connectors import AllToAll, FixedProbability, FromList, OneToOne
from neurosim.io import ensure_parent
from neurosim.network import Network, PoissonSource, Population, Projection, SpikeMonitor, SpikeSourceArray
from neurosim.plasticity import STDP
from neurosim.pynn_conventions import (
    DIALECTS,
    INITIAL_TRANSLATION,
    LIF_TRANSLATION,
    STDP_TRANSLATION,
    WEIGHT_DEPENDENCE,
    Dialect,
)

Target = Literal["generic", "spinnaker", "brian2-spinnaker"]
# the PyNN simulator modules an exported script runs on (--simulator)
SIMULATOR_MODULES = {"brian2": "pyNN.brian2", "nest": "pyNN.nest", "spiNNaker": "pyNN.spiNNaker",
                     "neurosim": "neurosim.pynn"}
SIMULATORS = tuple(SIMULATOR_MODULES)

# pyNN.brian2 only accepts 0 (axonal delays), pyNN.nest, sPyNNaker and neurosim.pynn only 1 (dendritic).
DENDRITIC_DELAY_FRACTION = {"brian2": 0.0, "nest": 1.0, "spiNNaker": 1.0, "neurosim": 1.0}


@dataclass(frozen=True)
class TargetRules:
    """What differs between PyNN implementations at export time (the module docstring gives the reasons)."""

    name: str
    dialect: Dialect            # the conventions of the script (weight signs, STDP amplitudes)
    delay_shift_steps: int = 0  # every delay max(d - shift, 0) steps (a Brian2 hop takes d + dt)
    refractory_extra_steps: int = 0  # > 0: tau_refrac -> (ceil(tau_refrac / dt) + extra) dt
    stdp_window_shift: bool = False  # A_plus x exp(-k dt/tau_plus), A_minus x exp(k dt/tau_minus), k = d + d'
    psp_match: bool = False     # weights (and STDP w_min / w_max) x psp_scale of the post cell
    zero_delays: bool = False   # setup(min_delay="auto"): delays of 0 ms after the delay shift
    simulators: tuple[str, ...] = ("brian2", "nest", "neurosim")  # where the exported semantics hold


TARGETS: dict[str, TargetRules] = {
    "generic": TargetRules("generic", DIALECTS["pynn"]),
    "spinnaker": TargetRules("spinnaker", DIALECTS["spinnaker"], simulators=("spiNNaker", "neurosim")),
    "brian2-spinnaker": TargetRules("brian2-spinnaker", DIALECTS["pynn"], delay_shift_steps=1, refractory_extra_steps=1,
                                    stdp_window_shift=True, psp_match=True, zero_delays=True,
                                    simulators=("brian2",)),
}


def psp_scale(cm_nF: float, tau_m_ms: float, tau_syn_ms: float, dt_ms: float = 1.0) -> float:
    """SpiNNaker's / Brian2's jump of v at the end of the step in which one spike of weight 1 nA
    arrives (IF_curr_exp at rest): the weight factor that makes Brian2 match SpiNNaker."""
    init = tau_syn_ms / dt_ms * (1.0 - math.exp(-dt_ms / tau_syn_ms))
    spinnaker = init * tau_m_ms / cm_nF * (1.0 - math.exp(-dt_ms / tau_m_ms))
    if math.isclose(tau_m_ms, tau_syn_ms, rel_tol=1e-9):
        brian2 = dt_ms / cm_nF * math.exp(-dt_ms / tau_m_ms)
    else:
        brian2 = (tau_m_ms * tau_syn_ms / (tau_m_ms - tau_syn_ms) / cm_nF
                  * (math.exp(-dt_ms / tau_m_ms) - math.exp(-dt_ms / tau_syn_ms)))
    return spinnaker / brian2

# SpiNNaker (sPyNNaker 7.x) constraints checked by check_board.
SPINNAKER_DT_MS = (1.0, 0.1)
MAX_DELAY_STEPS = 144           # the portable range with delay extensions: 1 .. 144 steps
SPINN5_CHIPS = 48
SPINN5_APP_CORES = 48 * 16       # 18 cores a chip, less the monitor and one spare (approximate)
SPINNAKER_NEURONS_PER_CORE = 256


# -- the plan: plain data naming PyNN calls ---------------------------------------------------------
@dataclass(frozen=True)
class Call:
    """``sim.<cls>(*args, **kwargs)``; arguments may be Calls or :class:`RunTime` values."""

    cls: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    args: tuple[Any, ...] = ()


@dataclass(frozen=True)
class RunTime:
    """A value looked up in a table by the simulator's name when the network is built."""

    table: str


@dataclass(frozen=True)
class PopulationPlan:
    name: str
    size: int
    cell: Call
    initial: dict[str, float]
    record: bool
    comment: str


@dataclass(frozen=True)
class ProjectionPlan:
    name: str
    pre: str
    post: str
    connector: Call
    synapse: Call
    receptor: str
    comment: str


@dataclass(frozen=True)
class Plan:
    dt_ms: float
    target: str
    populations: tuple[PopulationPlan, ...]
    projections: tuple[ProjectionPlan, ...]
    max_delay_ms: float


SpikeInputs = Mapping[str, Sequence[Sequence[float]]]


def translate(network: Network, *, spike_inputs: SpikeInputs | None = None, record: Sequence[str] | None = None,
              target: Target = "generic", resolve_random: bool = True) -> Plan:
    """The plan of PyNN calls that builds ``network`` (shared by the script and the live build).

    ``spike_inputs``: extra spikes per SpikeSourceArray, ``{source: [times_ms of neuron 0, ...]}``
    (e.g. the spikes a memory's operations add later); ``record``: names whose spikes are
    recorded (default: the network's SpikeMonitor targets).
    """
    if not isinstance(network, Network):
        ck.fail("network", type(network).__name__, "a neurosim.Network")
    if target not in TARGETS:
        ck.fail("target", target, f"one of {sorted(TARGETS)}")
    rules = TARGETS[target]
    dt = network.dt_ms
    inputs = _merged_inputs(network, spike_inputs or {})
    if record is None:
        record = [m.target for m in network.monitors if isinstance(m, SpikeMonitor)]
    record = list(dict.fromkeys(record))
    for name in record:
        network.node(name)
    pops: list[PopulationPlan] = []
    for p in network.populations:
        params = {py: _scaled(getattr(p.params, ns), f) for py, ns, f in LIF_TRANSLATION}
        if rules.refractory_extra_steps:
            steps = np.ceil(np.asarray(params["tau_refrac"]) / dt - 1e-9) + rules.refractory_extra_steps
            params["tau_refrac"] = _scaled(np.round(steps * dt, 9), 1.0)
        initial = {py: _scaled(getattr(p.params, ns), f) for py, ns, f in INITIAL_TRANSLATION}
        pops.append(PopulationPlan(p.name, p.size, Call("IF_curr_exp", params), initial, p.name in record,
                                   f"population {p.name}: {p.size} IF_curr_exp neurons"))
    for s in network.sources:
        if isinstance(s, SpikeSourceArray):
            trains = inputs[s.name]
            cell = Call("SpikeSourceArray", {"spike_times": trains})
            n = sum(len(t) for t in trains)
            comment = f"source {s.name}: {s.size} spike-time arrays ({n} spikes)"
        elif isinstance(s, PoissonSource):
            kw: dict[str, Any] = {"rate": float(s.rate_hz), "start": float(s.start_ms)}
            if math.isfinite(s.stop_ms):
                kw["duration"] = float(s.stop_ms - s.start_ms)
            cell = Call("SpikeSourcePoisson", kw)
            comment = f"source {s.name}: {s.size} Poisson trains at {s.rate_hz:g} Hz (simulator's own RNG)"
        else:
            ck.fail("Network.sources", type(s).__name__, "SpikeSourceArray or PoissonSource")
        pops.append(PopulationPlan(s.name, s.size, cell, {}, s.name in record, comment))
    projs = [_projection_plan(network, pr, rules, resolve_random) for pr in network.projections]
    max_d = max((int(network.connections(pr.name).delay_steps.max(initial=1)) for pr in network.projections),
                default=1)
    return Plan(dt, target, tuple(pops), tuple(projs), max_d * dt)


def _scaled(value: float | tuple[float, ...] | np.ndarray, factor: float) -> float | list[float]:
    """A parameter in PyNN's units: one value, or one per neuron (a list in the script)."""
    return float(value) * factor if np.ndim(value) == 0 else [float(v) * factor for v in value]


def _merged_inputs(network: Network, spike_inputs: SpikeInputs) -> dict[str, list[list[float]]]:
    """Each SpikeSourceArray's own times plus ``spike_inputs``, moved to their ticks, sorted, unique."""
    dt = network.dt_ms
    out: dict[str, list[list[float]]] = {}
    for name in spike_inputs:
        if not isinstance(network.node(name), SpikeSourceArray):
            ck.fail("spike_inputs", name, "names of SpikeSourceArray sources")
    for s in network.sources:
        if not isinstance(s, SpikeSourceArray):
            continue
        extra = spike_inputs.get(s.name, [[] for _ in range(s.size)])
        if len(extra) != s.size:
            ck.fail(f"spike_inputs[{s.name}] length", len(extra), f"one time list per neuron ({s.size})")
        trains = []
        for i, (own, more) in enumerate(zip(s.spike_times_ms, extra, strict=True)):
            t = np.concatenate([own, ck.finite_array(f"spike_inputs[{s.name}][{i}]", more, minimum=0.0).ravel()])
            ticks = np.unique(ck.ms_to_step_nearest(t, dt))
            trains.append([float(round(k * dt, 9)) for k in ticks.tolist()])
        out[s.name] = trains
    return out


def _projection_plan(network: Network, pr: Projection, rules: TargetRules, resolve_random: bool) -> ProjectionPlan:
    c = network.connections(pr.name)
    dt = network.dt_ms
    sign = rules.dialect.inhibitory_sign if pr.receptor == "inhibitory" else 1.0
    if pr.plasticity is not None and pr.receptor == "inhibitory":
        ck.fail(f"Projection[{pr.name}].plasticity", "STDP on an inhibitory projection",
                "STDP on excitatory projections only (the exporter's sign conventions)")
    post = network.population(pr.post).params
    tau_syn = post.tau_syn_i_ms if pr.receptor == "inhibitory" else post.tau_syn_e_ms
    scale = psp_scale(post.cm_nF, post.tau_m_ms, tau_syn, dt) if rules.psp_match else 1.0
    w, d = c.weight_nA * scale, np.maximum(c.delay_steps - rules.delay_shift_steps, 0)
    uniform = w.size > 0 and np.all(w == w[0]) and np.all(d == d[0])
    conn = pr.connector
    kind = type(conn).__name__
    as_list = isinstance(conn, FromList) or w.size == 0 or not uniform \
        or (isinstance(conn, FixedProbability) and resolve_random)
    if as_list:
        rows = [(int(i), int(j), float(sign * wk), float(round(dk * dt, 9)))
                for i, j, wk, dk in zip(c.pre, c.post, w, d, strict=True)]
        connector = Call("FromListConnector", {"conn_list": rows})
        weight, delay = None, None
        how = f"{kind} as {len(rows)} explicit connections" if kind != "FromList" else f"{len(rows)} connections"
    else:
        weight, delay = float(sign * w[0]), float(round(int(d[0]) * dt, 9))
        how = kind
        if isinstance(conn, OneToOne):
            connector = Call("OneToOneConnector")
        elif isinstance(conn, AllToAll):
            # neurosim drops i -> i only within one population; sPyNNaker also between two (pynn_conventions)
            allow_self = conn.allow_self_connections or pr.pre != pr.post
            connector = Call("AllToAllConnector", {"allow_self_connections": allow_self})
        else:  # FixedProbability, not resolved: the simulator draws its own synapses
            connector = Call("FixedProbabilityConnector", {
                "p_connect": float(conn.p), "allow_self_connections": conn.allow_self_connections,
                "rng": Call("NumpyRNG", {"seed": int(conn.seed)})})
    syn_kw: dict[str, Any] = {}
    if weight is not None:
        syn_kw = {"weight": weight, "delay": delay}
    if pr.plasticity is None:
        synapse = Call("StaticSynapse", syn_kw)
        rule_txt = "static"
    else:
        window = 0
        if rules.stdp_window_shift and c.delay_steps.size:
            if np.any(c.delay_steps != c.delay_steps[0]):
                ck.fail(f"Projection[{pr.name}].delay_steps", "per-connection delays on a plastic projection",
                        f"one delay for target {rules.name!r} (its STDP window shift depends on the delay)")
            window = int(c.delay_steps[0]) + int(d[0])
        synapse = _stdp_call(pr.plasticity, rules, syn_kw, weight_scale=scale, window_shift_ms=window * dt)
        rule_txt = f"STDP ({pr.plasticity.weight_dependence})"
    wtxt = f"{c.weight_nA[0]:g} nA" if uniform else "per-connection weights"
    dtxt = f"delay {int(d[0])} steps" if uniform else "per-connection delays"
    if scale != 1.0:
        wtxt += f" x {scale:.4g} (PSP match)"
    if rules.delay_shift_steps:
        dtxt += f" (shifted by -{rules.delay_shift_steps})"
    comment = f"projection {pr.name}: {pr.pre} -> {pr.post}, {how}, {pr.receptor}, {wtxt}, {dtxt}, {rule_txt}"
    return ProjectionPlan(pr.name, pr.pre, pr.post, connector, synapse, pr.receptor, comment)


def _stdp_call(rule: STDP, rules: TargetRules, syn_kw: dict[str, Any], *, weight_scale: float = 1.0,
               window_shift_ms: float = 0.0) -> Call:
    """``weight_scale``: PSP match of w_min / w_max; ``window_shift_ms``: the pairing window's shift
    (k dt, see the module docstring) compensated in A_plus / A_minus."""
    scale = rules.dialect.stdp_factor(rule.multiplicative, rule.w_max_nA)  # neurosim's relative A -> the script's
    timing = {py: getattr(rule, ns) * f for py, ns, f in STDP_TRANSLATION}
    a_plus, a_minus = rule.A_plus * scale, rule.A_minus * scale
    if window_shift_ms:
        a_plus *= math.exp(-window_shift_ms / rule.tau_plus_ms)
        a_minus *= math.exp(window_shift_ms / rule.tau_minus_ms)
    timing |= {"A_plus": a_plus, "A_minus": a_minus}
    weight_dep = Call(WEIGHT_DEPENDENCE[rule.weight_dependence], {"w_min": rule.w_min_nA * weight_scale,
                                                                  "w_max": rule.w_max_nA * weight_scale})
    return Call("STDPMechanism", {"timing_dependence": Call("SpikePairRule", timing),
                                  "weight_dependence": weight_dep,
                                  "dendritic_delay_fraction": RunTime("DENDRITIC_DELAY_FRACTION"), **syn_kw})


# -- interpreter 1: the live build -------------------------------------------------------------------
def _simulator_name(sim_module: Any) -> str:
    names = {module: name for name, module in SIMULATOR_MODULES.items()}
    if sim_module.__name__ not in names:
        ck.fail("sim_module", sim_module.__name__, f"one of {sorted(names)}")
    return names[sim_module.__name__]


def _live(value: Any, sim: Any, simulator: str) -> Any:
    if isinstance(value, Call):
        args = [_live(a, sim, simulator) for a in value.args]
        kwargs = {k: _live(v, sim, simulator) for k, v in value.kwargs.items()}
        return getattr(sim, value.cls)(*args, **kwargs)
    if isinstance(value, RunTime):
        return TABLES[value.table][simulator]
    return value


TABLES = {"DENDRITIC_DELAY_FRACTION": DENDRITIC_DELAY_FRACTION}


def setup_options(simulator: str, target: Target) -> dict[str, Any]:
    """``sim.setup`` options of an exported network: ``min_delay="auto"`` (zero delays, e.g. after the delay
    shift of "brian2-spinnaker"), and on neurosim.pynn the dialect the script is written in."""
    options: dict[str, Any] = {"min_delay": "auto"} if TARGETS[target].zero_delays else {}
    if simulator == "neurosim":
        options["dialect"] = TARGETS[target].dialect.name
    return options


def setup_simulator(sim_module: Any, dt_ms: float, target: Target = "generic") -> None:
    """``sim.setup`` for a live build of ``target`` (:func:`setup_options`), and on pyNN.brian2 numpy code
    generation and ``defaultclock.dt = dt_ms`` (see the module docstring; any target: they do not change the
    semantics)."""
    if target not in TARGETS:
        ck.fail("target", target, f"one of {sorted(TARGETS)}")
    simulator = _simulator_name(sim_module)
    sim_module.setup(timestep=dt_ms, **setup_options(simulator, target))
    if simulator == "brian2":
        import brian2

        brian2.prefs.codegen.target = "numpy"
        brian2.defaultclock.dt = dt_ms * brian2.ms
        brian2.BrianLogger.suppress_hierarchy("brian2.stateupdaters")


def build_live(network: Network, sim_module: Any, *, spike_inputs: SpikeInputs | None = None,
               record: Sequence[str] | None = None, target: Target = "generic",
               resolve_random: bool = True) -> dict[str, Any]:
    """Build ``network`` through the PyNN API of ``sim_module`` (``sim.setup`` already called, e.g.
    by :func:`setup_simulator`, which target "brian2-spinnaker" needs for its zero delays).

    Returns ``{name: PyNN Population or Projection}`` (names are unique across a Network).
    """
    plan = translate(network, spike_inputs=spike_inputs, record=record, target=target,
                     resolve_random=resolve_random)
    simulator = _simulator_name(sim_module)
    objects: dict[str, Any] = {}
    for p in plan.populations:
        pop = sim_module.Population(p.size, _live(p.cell, sim_module, simulator), label=p.name)
        if p.initial:
            pop.initialize(**p.initial)
        if p.record:
            pop.record("spikes")
        objects[p.name] = pop
    for pr in plan.projections:
        objects[pr.name] = sim_module.Projection(
            objects[pr.pre], objects[pr.post], _live(pr.connector, sim_module, simulator),
            synapse_type=_live(pr.synapse, sim_module, simulator), receptor_type=pr.receptor, label=pr.name)
    return objects


def spikes_of(population: Any) -> tuple[list[float], list[int]]:
    """(times in ms, neuron indices) of a recorded PyNN population, sorted by time then index."""
    pairs = []
    for train in population.get_data("spikes", clear=False).segments[-1].spiketrains:
        idx = int(train.annotations["source_index"])
        pairs += [(round(float(t), 6), idx) for t in train.rescale("ms").magnitude]
    pairs.sort()
    return [t for t, _ in pairs], [i for _, i in pairs]


# -- interpreter 2: the standalone script --------------------------------------------------------------
def _src(value: Any, indent: int) -> str:
    if isinstance(value, Call):
        parts = [_src(a, indent + 4) for a in value.args]
        parts += [f"{k}={_src(v, indent + 4)}" for k, v in value.kwargs.items()]
        one = f"sim.{value.cls}({', '.join(parts)})"
        if len(one) + indent <= 110:
            return one
        return f"sim.{value.cls}(" + _packed(parts, indent) + ")"
    if isinstance(value, RunTime):
        return f"{value.table}[args.simulator]"
    if isinstance(value, list):
        return _list_src(value, indent)
    if isinstance(value, float):
        return repr(float(value))
    return repr(value)


def _list_src(items: list, indent: int) -> str:
    if not items:
        return "[]"
    texts = [_src(x, indent + 4) if not isinstance(x, tuple) else repr(x) for x in items]
    one = "[" + ", ".join(texts) + "]"
    if len(one) + indent <= 110:
        return one
    return "[" + _packed(texts, indent) + "]"


def _packed(texts: list[str], indent: int) -> str:
    """Comma-separated items on continuation lines of at most ~110 characters."""
    pad = " " * (indent + 4)
    lines, line = [], ""
    for t in texts:
        if line and (len(pad) + len(line) + len(t) + 2 > 110 or "\n" in t):
            lines.append(pad + line.rstrip())
            line = ""
        line += t + ", "
    lines.append(pad + line.rstrip().rstrip(","))
    return "\n" + "\n".join(lines)


_SCRIPT_HEAD = '''\
#!/usr/bin/env python
"""{title}

Exported by neurosim.hardware.pynn (target {target!r}). Units: ms, mV, nA, nF (PyNN's).
Run:  python {filename} --simulator brian2|spiNNaker|nest|neurosim [--out results.npz|results.json]
Writes {{population: (spike times in ms, neuron ids)}} for every recorded population.
{notes}"""

from __future__ import annotations

import argparse
import importlib
import json

import numpy as np

DT_MS = {dt!r}
DURATION_MS = {duration!r}
EXPORT_TARGET = {target!r}
RECORD = {record!r}
# Simulators whose semantics the export target matches (a warning on the others).
TARGET_SIMULATORS = {target_sims!r}
SIMULATOR_MODULES = {modules!r}
# STDPMechanism: pyNN.brian2 accepts only 0 (axonal delays), NEST, sPyNNaker and neurosim.pynn only 1 (dendritic).
DENDRITIC_DELAY_FRACTION = {ddf!r}
# setup() options per simulator: zero delays where the export made some; neurosim.pynn's dialect
SETUP_OPTIONS = {setup_options!r}
# pyNN.nest's spike sources fire one min_delay (= dt) early and NEST refuses a spike at t <= 0
EARLIEST_INPUT_MS = {earliest!r}


'''

_SCRIPT_MAIN = '''

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulator", choices=sorted(DENDRITIC_DELAY_FRACTION), default={default_sim!r})
    parser.add_argument("--out", default="results.npz", help="results file (.npz or .json)")
    parser.add_argument("--mapping-report", default=None,
                        help="spiNNaker only: write the placements (JSON) and skip reading spikes "
                             "(for virtual boards, which map and generate data but do not run)")
    args = parser.parse_args()
    if args.simulator not in TARGET_SIMULATORS:
        print(f"warning: exported for target {{EXPORT_TARGET!r}} but running on {{args.simulator}}: "
              "the additive STDP amplitudes and inhibitory signs follow the export target")
    if args.simulator == "nest" and EARLIEST_INPUT_MS is not None and EARLIEST_INPUT_MS <= DT_MS:
        parser.error(f"pyNN.nest cannot run this script: its first input spike is at {{EARLIEST_INPUT_MS}} ms <= dt "
                     f"= {{DT_MS}} ms (pyNN.nest's spike sources fire one min_delay early and NEST refuses t <= 0)")
    sim = importlib.import_module(SIMULATOR_MODULES[args.simulator])
    sim.setup(timestep=DT_MS, **SETUP_OPTIONS[args.simulator])
    if args.simulator == "brian2":
        import brian2

        brian2.prefs.codegen.target = "numpy"  # no per-object Cython compilation (minutes)
        brian2.defaultclock.dt = DT_MS * brian2.ms  # pyNN.brian2's SpikeSourceArray runs on the default clock
    pops = {{}}
    projs = {{}}

{body}

    for name in RECORD:
        pops[name].record("spikes")
    sim.run(DURATION_MS)
    if args.mapping_report:
        write_mapping_report(args.mapping_report)
        sim.end()
        return
    results = {{name: spikes_of(pops[name]) for name in RECORD}}
    sim.end()
    if args.out.endswith(".json"):
        with open(args.out, "w") as f:
            json.dump({{name: {{"times_ms": t, "ids": i}} for name, (t, i) in results.items()}}, f)
    else:
        arrays = {{}}
        for name, (t, i) in results.items():
            arrays[f"{{name}}/times_ms"] = np.asarray(t, dtype=float)
            arrays[f"{{name}}/ids"] = np.asarray(i, dtype=int)
        np.savez(args.out, **arrays)


def write_mapping_report(path):
    """Placements of every vertex (chip x, y, core p, label) after sPyNNaker's mapping."""
    from spynnaker.pyNN.data import SpynnakerDataView

    rows = [[pl.x, pl.y, pl.p, pl.vertex.label, type(pl.vertex).__name__]
            for pl in SpynnakerDataView.iterate_placemements()]
    machine = SpynnakerDataView.get_machine()
    with open(path, "w") as f:
        json.dump({{"placements": rows, "machine_chips": machine.n_chips}}, f)


if __name__ == "__main__":
    main()
'''


def export_script(network: Network, path: str | Path, *, spike_inputs: SpikeInputs | None = None,
                  duration_ms: float, record: Sequence[str] | None = None, target: Target = "generic",
                  resolve_random: bool = True, title: str | None = None) -> Path:
    """Write a standalone PyNN script that builds ``network``, feeds its spike schedule,
    runs ``duration_ms``, records spikes and dumps them (see the module docstring for the mapping)."""
    ck.positive("duration_ms", duration_ms, "ms")
    plan = translate(network, spike_inputs=spike_inputs, record=record, target=target,
                     resolve_random=resolve_random)
    path = Path(path)
    blocks = []
    for p in plan.populations:
        lines = [f"# --- {p.comment}",
                 f"cell = {_src(p.cell, 4)}",
                 f"pops[{p.name!r}] = sim.Population({p.size}, cell, label={p.name!r})"]
        if p.initial:
            init = ", ".join(f"{k}={v!r}" for k, v in p.initial.items())
            lines.append(f"pops[{p.name!r}].initialize({init})")
        blocks.append("\n".join(lines))
    for pr in plan.projections:
        blocks.append("\n".join([
            f"# --- {pr.comment}",
            f"projs[{pr.name!r}] = sim.Projection(",
            f"    pops[{pr.pre!r}], pops[{pr.post!r}],",
            f"    {_src(pr.connector, 4)},",
            f"    synapse_type={_src(pr.synapse, 4)},",
            f"    receptor_type={pr.receptor!r}, label={pr.name!r})"]))
    body = textwrap.indent("\n\n".join(blocks), "    ")
    rules = TARGETS[target]
    notes = ("SpiNNaker target: additive STDP A = neurosim A * w_max (sPyNNaker 7 applies A as the step);\n"
             "weights are positive, the receptor gives the sign.\n" if target == "spinnaker" else
             "SpiNNaker semantics on pyNN.brian2 (dt = 1 ms): delays one step shorter, tau_refrac\n"
             "(ceil(tau_refrac / dt) + 1) dt, STDP A_plus / A_minus x exp(-/+ k dt / tau) for the shifted\n"
             "pairing window, weights x the PSP ratio of the post cell (neurosim.hardware.pynn docstring).\n"
             if target == "brian2-spinnaker" else
             "Generic PyNN target: STDP A relative to w_max; inhibitory weights negative.\n"
             "pyNN.brian2 delivers a spike after delay + dt (neurosim and SpiNNaker: delay).\n")
    head = _SCRIPT_HEAD.format(
        title=title or f"PyNN model exported from neurosim: {len(network.populations)} populations, "
                       f"{len(network.sources)} sources, {len(network.projections)} projections",
        target=target, filename=path.name, notes=notes, dt=plan.dt_ms, duration=float(duration_ms),
        record=[p.name for p in plan.populations if p.record], ddf=DENDRITIC_DELAY_FRACTION,
        target_sims=rules.simulators, modules=SIMULATOR_MODULES,
        setup_options={name: setup_options(name, target) for name in SIMULATORS},
        earliest=min((t[0] for p in plan.populations if p.cell.cls == "SpikeSourceArray"
                      for t in p.cell.kwargs["spike_times"] if t), default=None))
    helper = inspect.getsource(spikes_of)
    main = _SCRIPT_MAIN.format(body=body, default_sim=rules.simulators[0])
    ensure_parent(path)
    path.write_text(head + helper + main)
    return path


def read_results(path: str | Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{population: (times_ms, ids)} from a file written by an exported script."""
    path = Path(path)
    if path.suffix == ".json":
        raw = json.loads(path.read_text())
        return {k: (np.asarray(v["times_ms"], float), np.asarray(v["ids"], int)) for k, v in raw.items()}
    with np.load(path) as z:
        names = {k.rsplit("/", 1)[0] for k in z.files}
        return {n: (z[f"{n}/times_ms"], z[f"{n}/ids"]) for n in names}


# -- SpiNNaker constraints -------------------------------------------------------------------------------
def check_board(network: Network, *, neurons_per_core: int = SPINNAKER_NEURONS_PER_CORE,
                n_cores: int = SPINN5_APP_CORES, dt_ms: Sequence[float] = SPINNAKER_DT_MS,
                max_delay_steps: int = MAX_DELAY_STEPS) -> list[str]:
    """Check ``network`` against SpiNNaker's constraints; raise ValueError naming the field, or
    return (and ``warnings.warn``) the precision warnings.

    Checked: neuron, source and plasticity types; ``dt_ms`` in ``dt_ms`` (1.0 or 0.1 ms);
    delays in 1 .. ``max_delay_steps`` steps; cores needed (one core per ``neurons_per_core``
    neurons of each population or source, at least one each) <= ``n_cores``; 16-bit weights.

    Weight precision: sPyNNaker stores a weight as a 16-bit integer ``round(w s)`` with
    ``s = 2^(15 - k)`` per post population and receptor, where ``2^k`` exceeds the largest
    summed input it expects in one ring-buffer slot. sPyNNaker estimates that sum from
    rates; this check takes the worst case (every incoming synapse of a post neuron at
    once, plastic ones at ``w_max``), so ``k`` is at least sPyNNaker's and the warnings are
    conservative. Weights, STDP ``w_min``/``w_max`` and additive steps that are not
    multiples of ``1/s`` (relative error > 1e-6) are reported.
    """
    ck.count("neurons_per_core", neurons_per_core)
    ck.count("n_cores", n_cores)
    if not isinstance(network, Network):
        ck.fail("network", type(network).__name__, "a neurosim.Network")
    if not any(math.isclose(network.dt_ms, d, rel_tol=1e-9) for d in dt_ms):
        ck.fail("Network.dt_ms", network.dt_ms, f"one of {tuple(dt_ms)} ms on SpiNNaker")
    for p in network.populations:
        if not isinstance(p, Population):
            ck.fail(f"Network.populations[{getattr(p, 'name', '?')}]", type(p).__name__,
                    "Population (IF_curr_exp), the only neuron type exported")
    for s in network.sources:
        if not isinstance(s, (SpikeSourceArray, PoissonSource)):
            ck.fail(f"Network.sources[{getattr(s, 'name', '?')}]", type(s).__name__,
                    "SpikeSourceArray or PoissonSource")
    for pr in network.projections:
        rule = pr.plasticity
        if rule is not None and (not isinstance(rule, STDP) or rule.weight_dependence not in WEIGHT_DEPENDENCE):
            ck.fail(f"Projection[{pr.name}].plasticity", rule.weight_dependence if isinstance(rule, STDP) else rule,
                    "None or pair STDP with additive or multiplicative weight dependence")
        if rule is not None and pr.receptor == "inhibitory":
            ck.fail(f"Projection[{pr.name}].plasticity", "STDP on an inhibitory projection",
                    "STDP on excitatory projections only")
        d = network.connections(pr.name).delay_steps
        if d.size and (d.min() < 1 or d.max() > max_delay_steps):
            bad = int(d.max()) if d.max() > max_delay_steps else int(d.min())
            ck.fail(f"Projection[{pr.name}].delay_steps", bad, f"1 .. {max_delay_steps} steps on SpiNNaker")
    needed = sum(max(1, math.ceil(n.size / neurons_per_core)) for n in (*network.populations, *network.sources))
    if needed > n_cores:
        ck.fail("neurons_per_core", neurons_per_core,
                f"a value that fits the network ({needed} cores needed) on {n_cores} cores")
    out = []
    if neurons_per_core > SPINNAKER_NEURONS_PER_CORE:
        out.append(f"neurons_per_core {neurons_per_core} > {SPINNAKER_NEURONS_PER_CORE}, "
                   "sPyNNaker's default for IF_curr_exp (it may not fit a core's time or memory)")
    out += _precision_warnings(network)
    for w in out:
        warnings.warn(w, stacklevel=2)
    return out


def weight_scales(network: Network) -> dict[tuple[str, str], float]:
    """{(post population, receptor): s}: a weight w is stored as rint(w s) in 16 bits, s = 2^(15 - shift) with the
    ring-buffer shift sPyNNaker picks (:func:`neurosim.backends.spinnaker_engine.ring_buffer_shifts`)."""
    from neurosim.backends.spinnaker_engine import ring_buffer_shifts
    from neurosim.compiled import compile_network

    net = compile_network(network)
    shifts = ring_buffer_shifts(network, net)
    out = {}
    for pr in network.projections:
        r = 1 if pr.receptor == "inhibitory" else 0
        out[(pr.post, pr.receptor)] = 2.0 ** (15 - int(shifts[r, net.slice(pr.post)][0]))
    return out


def _precision_warnings(network: Network) -> list[str]:
    scales = weight_scales(network)
    out = []
    for pr in network.projections:
        s = scales[(pr.post, pr.receptor)]
        values = {"weight_nA": network.connections(pr.name).weight_nA}
        rule = pr.plasticity
        if rule is not None:
            step = (1.0 if rule.multiplicative else rule.w_max_nA)
            values |= {"w_min_nA": np.array([rule.w_min_nA]), "w_max_nA": np.array([rule.w_max_nA])}
            if not rule.multiplicative:
                values |= {"A_plus step": np.array([rule.A_plus * step]),
                           "A_minus step": np.array([rule.A_minus * step])}
        for nm, v in values.items():
            if not v.size:
                continue
            q = np.round(v * s) / s
            err = np.abs(q - v)
            bad = err > 1e-6 * np.maximum(np.abs(v), 1e-12)
            if np.any(bad):
                i = int(np.argmax(err))
                out.append(f"Projection[{pr.name}].{nm}: {int(bad.sum())} value(s) lose precision in 16-bit "
                           f"fixed point (resolution {1 / s:g} nA on {pr.post}/{pr.receptor}): "
                           f"{v[i]:g} nA -> {q[i]:g} nA")
    return out


# -- the virtual SpiNN-5 board ---------------------------------------------------------------------------
SPYNNAKER_CFG = """\
[Machine]
virtual_board = True
version = 5

[Mode]
mode = Production
"""


def map_on_virtual_board(network: Network, *, spike_inputs: SpikeInputs | None = None, duration_ms: float,
                         record: Sequence[str] | None = None, workdir: str | Path | None = None,
                         timeout_s: float = 300.0, check: bool = True) -> dict[str, Any]:
    """Export ``network`` for SpiNNaker and run the script through sPyNNaker on a virtual SpiNN-5
    board, in a subprocess whose HOME and working directory are a temporary folder holding
    ``.spynnaker.cfg`` (virtual_board = True, version = 5). sPyNNaker partitions, places, routes
    and generates the data; nothing runs (there is no board).

    Returns ``{"chips", "cores", "chips_used", "placements", "system_cores", "machine_chips",
    "seconds", "script"}``: ``chips``/``cores`` count the chips and cores holding the network's
    own vertices (populations, sources, delay extensions), ``system_cores`` the monitors sPyNNaker adds.
    """
    warns = check_board(network) if check else []
    tmp = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="neurosim_spinn_"))
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / ".spynnaker.cfg").write_text(SPYNNAKER_CFG)
    script = export_script(network, tmp / "model_spinnaker.py", spike_inputs=spike_inputs, duration_ms=duration_ms,
                           record=record, target="spinnaker")
    env = dict(os.environ, HOME=str(tmp))
    env.pop("PYTHONPATH", None)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, script.name, "--simulator", "spiNNaker",
                           "--mapping-report", "mapping.json"], cwd=tmp, env=env, capture_output=True,
                          text=True, timeout=timeout_s, check=False)
    seconds = time.perf_counter() - t0
    log = proc.stdout + proc.stderr
    if proc.returncode != 0 or not (tmp / "mapping.json").exists():
        raise RuntimeError(f"sPyNNaker failed on the virtual board (exit {proc.returncode}):\n{log[-4000:]}")
    report = json.loads((tmp / "mapping.json").read_text())
    labels = {p.name for p in (*network.populations, *network.sources)}
    own, system = [], []
    for x, y, p, label, kind in report["placements"]:
        base = re.sub(r"\(\d+:\d+\)$", "", str(label)).removesuffix("_delayed")
        (own if base in labels or kind.startswith("DelayExtension") else system).append((x, y, p, label, kind))
    chips = sorted({(x, y) for x, y, *_ in own})
    return {"chips": len(chips), "cores": len(own), "chips_used": chips, "placements": own,
            "system_cores": len(system), "machine_chips": report["machine_chips"], "seconds": seconds,
            "script": script, "warnings": warns, "log_tail": log[-2000:]}


def ca3_spike_inputs(n_cues: int, n_bits: int, schedule: Sequence[tuple[float, Any]]) -> dict[str, list[list[float]]]:
    """The input spikes of a CA3 memory's operation schedule, ``{source: per-neuron times}``,
    from ``models.ca3.operation_spikes`` (one definition of what an operation sends)."""
    from neurosim.models.ca3 import operation_spikes

    trains = {"in_cue": [[] for _ in range(n_cues)], "in_content": [[] for _ in range(n_bits)]}
    for t, op in schedule:
        for source, times, ids in operation_spikes(t, op):
            for when, i in zip(times.tolist(), ids.tolist(), strict=True):
                trains[source][int(i)].append(float(when))
    return {k: [sorted(v) for v in per_neuron] for k, per_neuron in trains.items()}
