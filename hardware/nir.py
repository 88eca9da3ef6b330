r"""Export a :class:`neurosim.Network` as a NIR graph (Neuromorphic Intermediate Representation).

Nodes (NIR 1.0): each :class:`~neurosim.network.Population` becomes one ``CubaLIF`` node
with per-neuron parameter arrays and an ``Output`` node ``<pop>__out``; each
:class:`~neurosim.network.SpikeSourceArray` an ``Input`` node; each projection a ``Linear``
node per distinct delay (``<proj>``, or ``<proj>__d<k>`` when a projection mixes delays)
holding the dense ``post x pre`` weight matrix in nA, negative for the inhibitory receptor,
summed over repeated (pre, post) pairs; a delay of ``k > 1`` steps adds a ``Delay`` node
``<linear>__delay`` after the Linear. Weights are the initial ones, or the current ones of a
:class:`~neurosim.simulator.Simulator` (the learned snapshot: NIR has no plasticity).

Units: NIR fixes none; time constants and delays are exported in **seconds** (what norse and
most NIR importers expect: ``norse.torch.from_nir`` defaults to ``dt = 0.001``), voltages
in mV, currents and weights in nA, resistance in MOhm (nA x MOhm = mV). This module is the
only place where ms become s. The graph's metadata records the convention
(``neurosim_units``, ``nir_units``, ``dt_ms``, ``dt_s``, ``spike_convention``,
``hop_latency_steps``); each CubaLIF's metadata keeps the neurosim fields NIR has no slot
for (``v_rest_mV``, ``i_offset_nA``, ``v_init_mV``, ``tau_refrac_ms``, ``cm_nF``).

NIR's CubaLIF (spikes :math:`S` are Dirac deltas, :math:`z` the output spikes):

.. math::

    \tau_{syn} \dot I = -I + w_{in} S, \qquad
    \tau_{mem} \dot v = (v_{leak} - v) + r I, \qquad
    v > v_{threshold} \Rightarrow z = 1,\; v \leftarrow v_{reset}

neurosim's IF_curr_exp (ms, mV, nA, nF), :math:`R = \tau_m / c_m`:

.. math::

    \tau_{syn} \dot I = -I + \tau_{syn} \textstyle\sum_k w_k \delta(t - t_k), \qquad
    \tau_m \dot v = (v_{rest} - v) + R (I_e - I_i + i_{offset})

so, per neuron:

=================  ==========================================  ==========
NIR field          neurosim expression                         unit
=================  ==========================================  ==========
``tau_syn``        ``tau_syn_e_ms * 1e-3`` (= ``tau_syn_i``)   s
``tau_mem``        ``tau_m_ms * 1e-3``                         s
``r``              ``tau_m_ms / cm_nF``                        MOhm
``v_leak``         ``v_rest_mV + r * i_offset_nA``             mV
``v_threshold``    ``v_thresh_mV``                             mV
``v_reset``        ``v_reset_mV``                              mV
``w_in``           ``tau_syn`` (so a spike of weight w adds w) s
Linear ``weight``  ``+w_nA`` (excitatory) / ``-w_nA`` (inhib.) nA
Delay ``delay``    ``(delay_steps - 1) * dt_ms * 1e-3``        s
=================  ==========================================  ==========

A CubaLIF has one synaptic current, so a population reached by both receptors needs
``tau_syn_e_ms == tau_syn_i_ms`` (else ``ValueError``). A hop of ``d`` steps in neurosim
takes ``d dt``; discrete-time executors (nirtorch/norse) give every edge an implicit
latency of about one step, so the graph holds the remaining ``(d - 1) dt`` in ``Delay``
nodes (``hop_latency_steps = 1`` in the metadata; a continuous-time reader adds ``dt``).

Not expressible, hence ``ValueError``: :class:`~neurosim.network.PoissonSource` (an
``Input`` has no rate: drive the graph with a spike tensor, e.g. from
:func:`spike_raster` of a SpikeSourceArray), STDP as a rule (``plastic="error"``; the default
``"snapshot"`` exports the weights only). Silently lost (recorded in metadata only): the
refractory period (NIR's CubaLIF has none; choose ``tau_refrac_ms = 0`` for equal
dynamics), the initial voltage (importers start at ``v_leak``), the threshold's ``>=``
(NIR's is ``>``).

**norse** (1.1, ``norse.torch.from_nir``) differs from the NIR equations above; use
:func:`for_norse` on the graph first, which checks and adapts:

* it integrates with forward Euler at its ``dt`` and treats a spike as a box of height 1
  over one step (area ``dt``, not 1), so ``w_in`` must be divided by ``dt_s``;
* its synapse relaxes towards ``v_leak`` (not 0) and starts at ``v_leak``, and it ignores
  ``v_reset`` (resets to 0): ``v_leak`` and ``v_reset`` must both be 0 mV;
* it has no ``Delay`` module and executes one ``Input`` and one output: feed-forward edges
  take 0 steps, recurrent edges 1 step (neurosim: 1 step for each).

Measured agreement (tests/hardware/test_nir.py, dt = 0.01 ms, tau_m = 10 ms,
tau_syn = 5 ms, no refractoriness, 200 ms, 20-57 spikes per neuron): identical spike
counts per neuron in a feed-forward and a recurrent (inhibitory) network; norse's spike
times are earlier by a median of 0.01-0.06 ms (1-6 steps), at most 0.28 ms (the tests
allow 0.1 ms median, 0.5 ms max).
Causes of the residual: forward Euler vs the exact update (error O(dt/tau)), the
one-step shorter input hop in norse, ``>`` vs ``>=`` at threshold, float32 in norse.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from neurosim import _checks as ck
from neurosim.network import Network, PoissonSource, Population, SpikeSourceArray

MS_TO_S = 1e-3
NEUROSIM_UNITS = "ms, mV, nA, nF, MOhm"
NIR_UNITS = "time s, voltage mV, current and weight nA, resistance MOhm"
SPIKE_CONVENTION = "dirac"


def _nir() -> Any:
    import nir

    return nir


def to_nir(network: Network, *, simulator: Any = None, plastic: Literal["snapshot", "error"] = "snapshot",
           trial: int = 0, outputs: Sequence[str] | None = None) -> Any:
    """The NIR graph of ``network`` (see the module docstring for the mapping).

    ``simulator``: a :class:`~neurosim.simulator.Simulator` of this network whose current
    weights (trial ``trial``) are exported instead of the initial ones. ``plastic="error"``
    refuses projections with an STDP rule. ``outputs``: the populations given an ``Output``
    node (default: all).
    """
    nir = _nir()
    if not isinstance(network, Network):
        ck.fail("network", type(network).__name__, "a neurosim.Network")
    if plastic not in ("snapshot", "error"):
        ck.fail("plastic", plastic, "'snapshot' or 'error'")
    if simulator is not None and getattr(simulator, "network", None) is not network:
        ck.fail("simulator", type(simulator).__name__, "a Simulator built from this very network (or None)")
    dt_s = network.dt_ms * MS_TO_S
    nodes: dict[str, Any] = {}
    edges: list[tuple[str, str]] = []

    def add(name: str, node: Any) -> None:
        if name in nodes:
            ck.fail("NIR node name", name, "unique (rename the population, source or projection)")
        nodes[name] = node

    for src in network.sources:
        if isinstance(src, PoissonSource):
            ck.fail(f"Network.sources[{src.name}]", "PoissonSource",
                    "a SpikeSourceArray (a NIR Input carries no rate: drive the graph with a spike tensor)")
        add(src.name, nir.Input(input_type={"input": np.array([src.size])}))
    out_names = [p.name for p in network.populations] if outputs is None else list(outputs)
    for name in out_names:
        network.population(name)
    for pop in network.populations:
        add(pop.name, _cuba_lif(pop, _tau_syn_ms(network, pop)))
        if pop.name not in out_names:
            continue
        add(f"{pop.name}__out", nir.Output(output_type={"output": np.array([pop.size])}))
        edges.append((pop.name, f"{pop.name}__out"))
    for pr in network.projections:
        if pr.plasticity is not None and plastic == "error":
            ck.fail(f"Projection[{pr.name}].plasticity", type(pr.plasticity).__name__,
                    "None (NIR has no plasticity; use plastic='snapshot' to export the current weights)")
        conn = network.connections(pr.name)
        w = conn.weight_nA if simulator is None else np.asarray(simulator.weights(pr.name, trial), np.float64)
        sign = 1.0 if pr.receptor == "excitatory" else -1.0
        n_pre, n_post = network.node(pr.pre).size, network.node(pr.post).size
        delays = np.unique(conn.delay_steps) if conn.delay_steps.size else np.array([1])
        for d in delays.tolist():
            sel = conn.delay_steps == d
            mat = np.zeros((n_post, n_pre), np.float64)
            np.add.at(mat, (conn.post[sel], conn.pre[sel]), sign * w[sel])
            lin = pr.name if delays.size == 1 else f"{pr.name}__d{d}"
            meta = {"receptor": pr.receptor, "delay_steps": int(d), "plastic": pr.plasticity is not None}
            add(lin, nir.Linear(weight=mat, metadata=meta))
            edges.append((pr.pre, lin))
            if d > 1:
                add(f"{lin}__delay", nir.Delay(delay=np.full(n_post, (d - 1) * dt_s)))
                edges += [(lin, f"{lin}__delay"), (f"{lin}__delay", pr.post)]
            else:
                edges.append((lin, pr.post))
    metadata = {
        "neurosim_units": NEUROSIM_UNITS,
        "nir_units": NIR_UNITS,
        "dt_ms": float(network.dt_ms),
        "dt_s": float(dt_s),
        "spike_convention": SPIKE_CONVENTION,
        "hop_latency_steps": 1,
        "weights": "initial" if simulator is None else f"snapshot at t = {simulator.t_ms} ms",
    }
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata)


def _tau_syn_ms(network: Network, pop: Population) -> float:
    receptors = {pr.receptor for pr in network.projections if pr.post == pop.name}
    p = pop.params
    if receptors == {"excitatory", "inhibitory"} and not math.isclose(p.tau_syn_e_ms, p.tau_syn_i_ms):
        ck.fail(f"Population[{pop.name}].params.tau_syn_i_ms", p.tau_syn_i_ms,
                f"equal to tau_syn_e_ms ({p.tau_syn_e_ms}): a NIR CubaLIF has one synaptic time constant")
    return p.tau_syn_i_ms if receptors == {"inhibitory"} else p.tau_syn_e_ms


def _cuba_lif(pop: Population, tau_syn_ms: float) -> Any:
    p, n = pop.params, pop.size

    def full(x: float) -> np.ndarray:
        return np.full(n, float(x), np.float64)

    tau_syn_s = tau_syn_ms * MS_TO_S
    meta = {"v_rest_mV": p.v_rest_mV, "i_offset_nA": p.i_offset_nA, "v_init_mV": p.v_init_mV,
            "tau_refrac_ms": p.tau_refrac_ms, "cm_nF": p.cm_nF}
    return _nir().CubaLIF(
        tau_syn=full(tau_syn_s),
        tau_mem=full(p.tau_m_ms * MS_TO_S),
        r=full(p.r_mohm),
        v_leak=full(p.v_rest_mV + p.r_mohm * p.i_offset_nA),
        v_threshold=full(p.v_thresh_mV),
        v_reset=full(p.v_reset_mV),
        w_in=full(tau_syn_s),
        metadata={k: float(v) for k, v in meta.items()},
    )


def write(network: Network, path: str | Path, **kw: Any) -> Any:
    """Write ``to_nir(network, **kw)`` to ``path`` (HDF5, ``nir.write``); returns the graph."""
    graph = to_nir(network, **kw)
    _nir().write(path, graph)
    return graph


def spike_raster(source: SpikeSourceArray, dt_ms: float, n_steps: int) -> np.ndarray:
    """``(n_steps, size)`` 0/1 tensor of a SpikeSourceArray, ticks as in the Simulator."""
    if not isinstance(source, SpikeSourceArray):
        ck.fail("source", type(source).__name__, "a SpikeSourceArray")
    ck.positive("dt_ms", dt_ms, "ms")
    ck.count("n_steps", n_steps)
    out = np.zeros((n_steps, source.size), np.float32)
    for i, times in enumerate(source.spike_times_ms):
        ticks = ck.ms_to_step_nearest(times, dt_ms)
        out[ticks[ticks < n_steps], i] = 1.0
    return out


def for_norse(graph: Any) -> Any:
    """A copy of a graph from :func:`to_nir` that ``norse.torch.from_nir(g, dt=g.metadata["dt_s"])``
    runs like neurosim: ``w_in`` divided by ``dt_s`` (norse's spike is a box of area ``dt``).

    Raises ``ValueError`` for what norse 1.1 cannot run: ``Delay`` nodes (delays > 1 step),
    ``v_leak != 0`` (its synapse leaks towards ``v_leak``), ``v_reset != 0`` (it resets to 0),
    more than one Input or Output.
    """
    nir = _nir()
    dt_s = float(graph.metadata["dt_s"])
    nodes: dict[str, Any] = {}
    n_in = n_out = 0
    for name, node in graph.nodes.items():
        if isinstance(node, nir.Delay):
            ck.fail(f"NIR node {name}", "Delay", "no Delay nodes for norse (all delay_steps == 1)")
        if isinstance(node, nir.CubaLIF):
            for fld in ("v_leak", "v_reset"):
                val = np.asarray(getattr(node, fld))
                if np.any(val != 0):
                    ck.fail(f"CubaLIF[{name}].{fld}", float(val[val != 0][0]),
                            "0 mV for norse (shift voltages so that v_rest + R i_offset = v_reset = 0)")
            node = nir.CubaLIF(tau_syn=node.tau_syn, tau_mem=node.tau_mem, r=node.r, v_leak=node.v_leak,
                               v_threshold=node.v_threshold, v_reset=node.v_reset, w_in=node.w_in / dt_s,
                               metadata=dict(node.metadata))
        n_in += isinstance(node, nir.Input)
        n_out += isinstance(node, nir.Output)
        nodes[name] = node
    if n_in != 1 or n_out != 1:
        ck.fail("NIR graph inputs/outputs", (n_in, n_out), "exactly one Input and one Output for norse")
    return nir.NIRGraph(nodes=nodes, edges=list(graph.edges), metadata={**graph.metadata, "spike_convention": "box"})
