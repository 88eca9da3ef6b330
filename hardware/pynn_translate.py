"""The translation of a neurosim Network into a plan of PyNN calls (plain data), per export target.

Target rules (:data:`TARGETS`), the simulator tables, :func:`psp_scale`, the plan's dataclasses
(:class:`Call`, :class:`RunTime`, :class:`Plan`, ...) and :func:`translate`, which both interpreters
(:mod:`neurosim.hardware.pynn_live`, :mod:`neurosim.hardware.pynn_script`) read. The mapping and the
reasons of each target's rules are in :mod:`neurosim.hardware.pynn`'s docstring.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from neurosim import _checks as ck
from neurosim.connectors import AllToAll, FixedProbability, FromList, OneToOne
from neurosim.network import Network, PoissonSource, Projection, SpikeMonitor, SpikeSourceArray
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

