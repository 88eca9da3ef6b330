"""The PyNN objects of a setup() turned into one :class:`neurosim.Network`, and the map back.

Each ``IF_curr_exp`` population becomes one core population (per-neuron parameters where they
differ, its initial ``v``, its input current at t = 0 (:mod:`.electrodes`)); each
``SpikeSourceArray`` one spike source; a ``SpikeSourcePoisson`` one Poisson source per distinct
(rate, start, duration). Each projection becomes one core projection per pair of core nodes it
joins (views and assemblies map through the cells' IDs), with its connections as a ``FromList``:
weights as magnitudes on the projection's receptor (the dialect says which signs a script
uses), delays in ms rounded to steps by the core's one rule, and an ``STDPMechanism`` as the
core's pair STDP (its parameters the same for every connection; additive amplitudes as the
dialect means them). :class:`Built` keeps the map from PyNN cells and connections to the
core's, for recording and for weights.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
from pyNN import errors

from neurosim.connectors import FromList
from neurosim.network import (
    LIFParams,
    Network,
    PoissonSource,
    Population,
    Projection,
    SpikeMonitor,
    SpikeSourceArray,
    StateMonitor,
    delay_steps_from_ms,
)
from neurosim.plasticity import STDP
from neurosim.pynn.electrodes import offsets_at
from neurosim.pynn_conventions import INITIAL_TRANSLATION, LIF_TRANSLATION

STDP_PARAMETERS = ("tau_plus", "tau_minus", "A_plus", "A_minus", "w_min", "w_max", "dendritic_delay_fraction")


def _name(k: int, label: str) -> str:
    return f"p{k}_" + re.sub(r"\W", "_", str(label))[:40]


class Built:
    """Which core node (and index in it) each PyNN cell is, and which core synapses each connection is."""

    def __init__(self, populations: list) -> None:
        self.populations = populations
        self.first_id = np.array([int(p.first_id) for p in populations], dtype=np.int64)
        self.cell_node: dict[int, np.ndarray] = {}   # population index -> node number per cell
        self.cell_index: dict[int, np.ndarray] = {}  # population index -> index in that node per cell
        self.node_names: list[str] = []
        self.v_init: dict[str, np.ndarray] = {}      # traced node -> initial v of its traced cells
        self.parts: dict[int, list[tuple[str, np.ndarray, float]]] = {}  # projection -> (core name, rows, sign)

    def node_of(self, population) -> str:
        """The core node of a population made of one node (IF_curr_exp, SpikeSourceArray)."""
        k = self.populations.index(population)
        return self.node_names[int(self.cell_node[k][0])]

    def locate(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(core node number, index in the node) of each cell ID."""
        k = np.searchsorted(self.first_id, ids, side="right") - 1
        local = ids - self.first_id[k]
        nodes, index = np.empty(ids.size, np.int64), np.empty(ids.size, np.int64)
        for pk in np.unique(k):
            sel = k == pk
            nodes[sel] = self.cell_node[pk][local[sel]]
            index[sel] = self.cell_index[pk][local[sel]]
        return nodes, index

    # -- reading the simulation back ----------------------------------------------------------------------
    def spike_times(self, sim, ids: np.ndarray, since: float) -> dict[int, np.ndarray]:
        nodes, index = self.locate(ids)
        out = {}
        for node in np.unique(nodes):
            t, i = sim.spikes(self.node_names[node], since_ms=since)
            for cell, j in zip(ids[nodes == node], index[nodes == node], strict=True):
                out[int(cell)] = t[i == j]
        return out

    def signals(self, sim, population, variable: str, ids: np.ndarray, since: float, at_end: bool) -> np.ndarray:
        """(samples, cells) of ``v`` at the start of each tick from ``since`` on: the initial value, then each
        tick's end (what the core records) one tick later, as SpiNNaker records; ``at_end`` adds the end of the
        last tick (standard PyNN's T / dt + 1 samples)."""
        if variable != "v":
            raise errors.RecordingError(variable, population.celltype)
        nodes, index = self.locate(ids)
        columns = []
        for node, j in zip(nodes, index, strict=True):
            name = self.node_names[node]
            rec = sim.state(name)
            col = list(rec.ids).index(int(j))
            values = rec.values["v_mV"][:, col]
            columns.append(np.concatenate([[self.v_init[name][col]], values if at_end else values[:-1]]))
        data = np.column_stack(columns) if columns else np.zeros((0, 0))
        return data[round(since / sim.compiled.dt_ms):]

    def weights(self, sim, projection) -> np.ndarray:
        """The current weight of every connection of ``projection``, in PyNN's units and the script's signs."""
        out = np.array(projection._columns["weight"], dtype=float)
        for name, rows, sign in self.parts[id(projection)]:
            out[rows] = sign * sim.weights(name)
        return out

    def set_weights(self, sim, projection, values: np.ndarray, dialect) -> None:
        _weight_sign(projection, values, projection.receptor_type, dialect)
        for name, rows, _ in self.parts[id(projection)]:
            sim.set_weights(name, np.abs(values[rows]))


def network(state) -> tuple[Network, Built]:
    """The core network of everything registered in ``state`` (see the module docstring)."""
    built = Built(state.populations)
    populations, sources, monitors = [], [], []
    for k, pop in enumerate(state.populations):
        nodes = _nodes(k, pop, state)
        built.cell_node[k] = np.empty(pop.size, np.int64)
        built.cell_index[k] = np.empty(pop.size, np.int64)
        for node, cells in nodes:
            built.cell_node[k][cells] = len(built.node_names)
            built.cell_index[k][cells] = np.arange(cells.size)
            built.node_names.append(node.name)
            (populations if isinstance(node, Population) else sources).append(node)
            monitors.append(SpikeMonitor(node.name))
        traced = sorted(int(c) - int(pop.first_id) for var, cells in pop.recorder.recorded.items()
                        if var.name == "v" for c in cells)
        if traced:
            name = nodes[0][0].name
            monitors.append(StateMonitor(name, tuple(traced), ("v_mV",)))
            built.v_init[name] = pop.initial("v")[traced]
    projections = []
    for n, proj in enumerate(state.projections):
        parts = _projection(n, proj, built, state)
        built.parts[id(proj)] = [(p.name, rows, sign) for p, rows, sign in parts]
        projections.extend(p for p, _, _ in parts)
    return Network(dt_ms=state.dt, populations=tuple(populations), sources=tuple(sources),
                   projections=tuple(projections), monitors=tuple(monitors)), built


def simulate(state) -> tuple[Built, Any]:
    """The network of ``state`` on the engine chosen in setup()."""
    from neurosim.simulator import Simulator

    net, built = network(state)
    sim = Simulator(net, backend=state.options["backend"], seed=state.options["seed"], device=state.options["device"],
                    arithmetic=state.options.get("arithmetic", "float64"))
    return built, sim


def _nodes(k: int, pop, state) -> list[tuple[Any, np.ndarray]]:
    """The core node(s) of PyNN population ``pop`` and the cells (indices) each holds, in order."""
    kind = type(pop.celltype).__name__
    p = pop._parameters
    everyone = np.arange(pop.size)
    if kind == "IF_curr_exp":
        params = {ns: _one_or_each(np.asarray(p[ns], float)) for _, ns, _ in LIF_TRANSLATION}
        params["i_offset_nA"] = _one_or_each(offsets_at(pop, 0.0))
        for py, ns, _ in INITIAL_TRANSLATION:
            params[ns] = _one_or_each(pop.initial(py))
        for var in ("isyn_exc", "isyn_inh"):
            values = pop.initial(var)
            if np.any(values != 0.0):
                raise errors.InvalidParameterValueError(f"{var} = {float(values[values != 0.0][0])} is not allowed as "
                                                        "an initial value in neurosim.pynn: 0 (synaptic currents start "
                                                        "at rest)")
        return [(Population(_name(k, pop.label), pop.size, LIFParams(**params)), everyone)]
    if kind == "SpikeSourceArray":
        trains = tuple(np.sort(np.asarray(seq.value, float)) for seq in np.asarray(p["spike_times"]).ravel())
        return [(SpikeSourceArray(_name(k, pop.label), trains), everyone)]
    if kind == "SpikeSourcePoisson":
        keys = np.stack([np.broadcast_to(np.asarray(p[n], float), (pop.size,)) for n in ("rate", "start", "duration")])
        out = []
        for g, (rate, start, duration) in enumerate(np.unique(keys, axis=1).T):
            cells = np.flatnonzero(np.all(keys.T == (rate, start, duration), axis=1))
            stop = start + duration if math.isfinite(start + duration) else float("inf")
            out.append((PoissonSource(_name(k, f"{pop.label}_{g}"), cells.size, rate, start, stop), cells))
        return out
    raise errors.NoModelAvailableError(f"{kind} is not available in neurosim.pynn")


def _one_or_each(values: np.ndarray) -> float | tuple[float, ...]:
    values = np.asarray(values, float).ravel()
    return float(values[0]) if np.all(values == values[0]) else tuple(values.tolist())


def _projection(n: int, proj, built: Built, state) -> list[tuple[Projection, np.ndarray, float]]:
    cols = proj._columns
    pre_ids = np.array([int(i) for i in proj.pre.all_cells], dtype=np.int64)[cols["presynaptic_index"]]
    post_ids = np.array([int(i) for i in proj.post.all_cells], dtype=np.int64)[cols["postsynaptic_index"]]
    pre_node, pre_idx = built.locate(pre_ids)
    post_node, post_idx = built.locate(post_ids)
    receptor = proj.receptor_type
    if receptor not in ("excitatory", "inhibitory"):
        raise errors.ConnectionError(f"receptor_type = {receptor!r} is not allowed: 'excitatory' or 'inhibitory'")
    w = np.asarray(cols["weight"], float)
    sign = _weight_sign(proj, w, receptor, state.dialect)
    rule = _rule(proj, cols, state.dialect)
    label = re.sub(r"\W", "_", str(proj.label))[:40]
    out = []
    pairs = np.unique(np.stack([pre_node, post_node]), axis=1).T if w.size else np.zeros((0, 2), np.int64)
    for pn, qn in pairs:
        rows = np.flatnonzero((pre_node == pn) & (post_node == qn))
        d = delay_steps_from_ms(f"Projection[{proj.label}].delay", cols["delay"][rows], state.dt)
        core = Projection(f"c{n}_{pn}_{qn}_{label}", built.node_names[pn], built.node_names[qn],
                          FromList(pre_idx[rows], post_idx[rows], np.abs(w[rows]), d), receptor=receptor,
                          plasticity=rule)
        out.append((core, rows, sign))
    return out


def _weight_sign(proj, w: np.ndarray, receptor: str, dialect) -> float:
    """The sign the script gives this projection's weights; the standard dialect checks them."""
    sign = dialect.inhibitory_sign if receptor == "inhibitory" else 1.0
    wrong = w[(w != 0) & (np.sign(w) != sign)] if dialect.name == "pynn" else w[:0]
    if wrong.size:
        raise errors.InvalidWeightError(
            f"Projection[{proj.label}].weight = {float(wrong[0])} is not allowed: "
            f"{'negative' if sign < 0 else 'positive'} on the {receptor} receptor of current-based synapses "
            "(setup(dialect='spinnaker') takes magnitudes, as sPyNNaker does)")
    return sign


def _rule(proj, cols: dict, dialect) -> STDP | None:
    """The core's STDP for an STDPMechanism (one parameter set per projection), or None."""
    syn = proj.synapse_type
    if type(syn).__name__ == "StaticSynapse":
        return None
    if type(syn).__name__ != "STDPMechanism":
        raise errors.NoModelAvailableError(f"{type(syn).__name__} is not available in neurosim.pynn")
    values = {}
    for name in STDP_PARAMETERS:
        column = np.asarray(cols[name], float) if name in cols else np.zeros(0)
        if column.size and np.any(column != column[0]):
            raise errors.InvalidParameterValueError(
                f"{name} of Projection[{proj.label}] = {float(column[0])}, {float(column[column != column[0]][0])}, "
                "... is not allowed: one value for every connection (neurosim's STDP has one parameter set per "
                "projection)")
        values[name] = float(column[0]) if column.size else float(syn.native_parameters[name].base_value)
    if values["dendritic_delay_fraction"] != 1.0:
        raise errors.InvalidParameterValueError(
            f"dendritic_delay_fraction = {values['dendritic_delay_fraction']} is not allowed: 1.0 (neurosim's STDP "
            "treats delays as dendritic, as sPyNNaker and NEST do)")
    dependence = syn.weight_dependence.neurosim_rule
    factor = dialect.stdp_factor(dependence == "multiplicative", values["w_max"])
    return STDP(tau_plus_ms=values["tau_plus"], tau_minus_ms=values["tau_minus"], A_plus=values["A_plus"] / factor,
                A_minus=values["A_minus"] / factor, w_min_nA=values["w_min"], w_max_nA=values["w_max"],
                weight_dependence=dependence)
