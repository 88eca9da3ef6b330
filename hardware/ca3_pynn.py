r"""The CA3 content-addressable memory with an operation schedule, on PyNN (pyNN.brian2).

:func:`run_ca3_on_pynn` builds the published CA3 circuit with the PyNN API from
:func:`neurosim.models.ca3.build_network` (populations, projections, weights and delays
are read from that Network, never copied), turns an operation schedule into
``SpikeSourceArray`` inputs exactly as :class:`~neurosim.models.ca3.CA3Memory` does,
runs it, and decodes the recalls from the output population's spikes.
:func:`export_ca3_script` writes the same thing as a standalone, readable PyNN script.

Two sets of circuit constants (:data:`CONSTANTS`):

- ``"spinnaker"``: the published constants unchanged (what the paper ran on sPyNNaker).
  Brian2 (also through pyNN.brian2) runs them differently: a hop over delay d takes
  d + dt (the spike is delivered d after the step it was detected in and acts on v one
  step later), the threshold is strict (v > theta), a neuron may fire again on the very
  next 1 ms step (SpiNNaker freezes it for ceil(tau_refrac / dt) = 1 step), and STDP
  treats delays as axonal. So the published circuit recalls wrongly on pyNN.brian2
  (the measured outcome is in ``tests/hardware/test_ca3_pynn.py``).
- ``"brian2"``: constants retuned so that pyNN.brian2 (dt = 1 ms) gives the published
  recalls on all three published experiments (functional, stress, state map); see
  :data:`BRIAN2` for every change and its reason.

STDP on pyNN.brian2: ``STDPMechanism`` must be given ``dendritic_delay_fraction=0``
(pyNN.brian2 raises otherwise: all its delays are axonal); its additive step is
``w_max * A * trace`` (relative A, as in neurosim's :class:`~neurosim.plasticity.STDP`:
the paper's 6 nA step at w_max = 6 nA is A = 1), and weights change immediately (on the
post spike for potentiation, on the pre spike for depression).
"""

from __future__ import annotations

import json
import math
import textwrap
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from neurosim.models.ca3 import HOLD_MS, RESULT_MS, Operation, build_network

Schedule = Sequence[tuple[float, Operation]]


@dataclass(frozen=True)
class CA3PyNNConstants:
    """How the Network's constants are mapped onto PyNN (each field documents one change).

    delay_shift_ms: subtracted from every synaptic delay (a hop on Brian2 takes d + dt).
    tau_refrac_ms: refractory period of every cell (None: the Network's own).
    weight_scale: per-projection multiplier of the Network's weights ({} = unchanged).
    v_thresh_mV: per-population threshold override ({} = unchanged).
    stdp_A_plus_scale / stdp_A_minus_scale: multipliers of the Network's relative A+/A-.
    readout_offset_ms: recall results are read at t0 + RESULT_MS (6 ms) + this offset.
    psp_match: scale every weight onto a population by :func:`psp_scale` of its cells (STDP
        w_min / w_max too), so one input spike moves v as much by the end of its step as on SpiNNaker.
    reasons: why each change was made (documentation only).
    """

    name: str
    delay_shift_ms: float = 0.0
    tau_refrac_ms: float | None = None
    weight_scale: dict[str, float] = field(default_factory=dict)
    v_thresh_mV: dict[str, float] = field(default_factory=dict)
    stdp_A_plus_scale: float = 1.0
    stdp_A_minus_scale: float = 1.0
    readout_offset_ms: int = 0
    psp_match: bool = False
    reasons: dict[str, str] = field(default_factory=dict)


SPINNAKER = CA3PyNNConstants(name="spinnaker", reasons={"all": "the published constants, unchanged"})

BRIAN2 = CA3PyNNConstants(
    name="brian2",
    delay_shift_ms=1.0,
    tau_refrac_ms=2.0,
    stdp_A_plus_scale=math.exp(-1.0 / 3.0),
    stdp_A_minus_scale=math.exp(1.0 / 3.0),
    readout_offset_ms=0,
    psp_match=True,
    reasons={
        "psp_match": "SpiNNaker adds init * w (init = tau_syn/dt (1 - exp(-dt/tau_syn)) = 0.289) to a current held "
                     "constant over the 1 ms step; Brian2 integrates exactly a current w exp(-t/tau_syn) that has "
                     "mostly decayed by the step's end. The jump of v at the step's end differs by cell: x1.67 "
                     "for the 0.14 nF / 0.5 ms cells (cueCont, contCond, contCondInt), x1.08 for the 0.27 nF / "
                     "3 ms cells; every weight (and w_max of the learned synapses) is scaled by its target's "
                     "factor (psp_scale).",
        "delay_shift_ms": "every delay one step shorter: on Brian2 a spike detected at step t and delivered "
                          "with delay d acts on v during step t + d + 1 (a hop takes d + dt); SpiNNaker's "
                          "takes d. With it every hop, and so every readout time, matches the published circuit.",
        "stdp_A_plus_scale": "exp(-1/3) = 0.717: the learned synapses' delay drops from 1 to 0 ms; SpiNNaker "
                             "(dendritic delay) pairs a post spike at s with a pre spike at t at Delta = s + 1 - t, "
                             "pyNN.brian2 (axonal, delay 0, pre pathway before post) at Delta = s - t: the same "
                             "window shifted by one step, so each potentiation is exp(-1/tau_plus) smaller.",
        "stdp_A_minus_scale": "exp(+1/3) = 1.396: the same one-step shift for depression (SpiNNaker: "
                              "exp(-(t - s - 1)/tau_minus) for s <= t - 1; pyNN.brian2: exp(-(t - s)/tau_minus)).",
        "tau_refrac_ms": "2 ms: Brian2's 1 ms refractory period lets a cell fire on the next 1 ms step; "
                         "SpiNNaker freezes it for ceil(tau_refrac / dt) = 1 whole step.",
    },
)

CONSTANTS = {"spinnaker": SPINNAKER, "brian2": BRIAN2}


def _constants(constants: str | CA3PyNNConstants) -> CA3PyNNConstants:
    if isinstance(constants, CA3PyNNConstants):
        return constants
    if constants not in CONSTANTS:
        raise ValueError(f"constants must be one of {sorted(CONSTANTS)} or a CA3PyNNConstants, got {constants!r}")
    return CONSTANTS[constants]


def psp_scale(cm_nF: float, tau_m_ms: float, tau_syn_ms: float, dt_ms: float = 1.0) -> float:
    """SpiNNaker's / Brian2's jump of v at the end of the step in which one spike of weight 1 nA
    arrives (IF_curr_exp at rest): the weight factor that makes Brian2 match SpiNNaker."""
    init = tau_syn_ms / dt_ms * (1.0 - math.exp(-dt_ms / tau_syn_ms))
    spinnaker = init * tau_m_ms / cm_nF * (1.0 - math.exp(-dt_ms / tau_m_ms))
    brian2 = (tau_m_ms * tau_syn_ms / (tau_m_ms - tau_syn_ms) / cm_nF
              * (math.exp(-dt_ms / tau_m_ms) - math.exp(-dt_ms / tau_syn_ms)))
    return spinnaker / brian2


def input_spikes(n: int, m: int, schedule: Schedule) -> dict[str, list[list[float]]]:
    """Per input neuron, its spike times (ms): {"in_cue": n lists, "in_content": m lists},
    the same spikes as :meth:`CA3Memory._schedule_inputs`."""
    cue: list[list[float]] = [[] for _ in range(n)]
    content: list[list[float]] = [[] for _ in range(m)]
    for t, op in schedule:
        t = float(t)
        if op.kind == "learn":
            for k in range(HOLD_MS):
                cue[op.cue].append(t + k)
                for b in op.bits:
                    content[b].append(t + k)
        elif op.kind == "recall_cue":
            cue[op.cue].append(t)
        else:
            for b in op.bits:
                content[b].append(t)
    return {"in_cue": [sorted(s) for s in cue], "in_content": [sorted(s) for s in content]}


def circuit_spec(n: int, m: int, constants: str | CA3PyNNConstants = "brian2", dt_ms: float = 1.0) -> dict:
    """The CA3 circuit as plain data for PyNN, read from ``build_network(n, m)`` and mapped
    through ``constants``: {"populations": [...], "projections": [...]} (JSON-serializable)."""
    c = _constants(constants)
    net = build_network(n, m)
    pops = []
    for p in net.populations:
        q = p.params
        pops.append({"name": p.name, "size": p.size, "params": {
            "cm": q.cm_nF, "tau_m": q.tau_m_ms, "v_rest": q.v_rest_mV, "v_reset": q.v_reset_mV,
            "v_thresh": c.v_thresh_mV.get(p.name, q.v_thresh_mV),
            "tau_refrac": q.tau_refrac_ms if c.tau_refrac_ms is None else c.tau_refrac_ms,
            "tau_syn_E": q.tau_syn_e_ms, "tau_syn_I": q.tau_syn_i_ms, "i_offset": q.i_offset_nA},
            "v_init": q.v_init_mV})
    projs = []
    for pr in net.projections:
        conn = net.connections(pr.name)
        sign = -1.0 if pr.receptor == "inhibitory" else 1.0  # PyNN: negative current for inhibition
        post = net.population(pr.post).params
        tau_syn = post.tau_syn_i_ms if pr.receptor == "inhibitory" else post.tau_syn_e_ms
        scale = c.weight_scale.get(pr.name, 1.0)
        if c.psp_match:
            scale *= psp_scale(post.cm_nF, post.tau_m_ms, tau_syn, net.dt_ms)
        w = sign * conn.weight_nA * scale
        d = np.maximum(conn.delay_steps * net.dt_ms - c.delay_shift_ms, 0.0)
        entry = {"name": pr.name, "pre": pr.pre, "post": pr.post, "receptor": pr.receptor,
                 "connections": [[int(i), int(j), float(wi), float(di)]
                                 for i, j, wi, di in zip(conn.pre, conn.post, w, d, strict=True)]}
        if pr.plasticity is not None:
            r = pr.plasticity
            entry["stdp"] = {"tau_plus": r.tau_plus_ms, "tau_minus": r.tau_minus_ms,
                             "A_plus": r.A_plus * c.stdp_A_plus_scale, "A_minus": r.A_minus * c.stdp_A_minus_scale,
                             "w_min": r.w_min_nA * scale, "w_max": r.w_max_nA * scale}
        projs.append(entry)
    return {"dt_ms": dt_ms, "populations": pops, "projections": projs, "constants": c.name}


def decode(n: int, schedule: Schedule, output_spikes: Sequence[Sequence[float]], readout_offset_ms: int = 0
           ) -> list[list[int] | None]:
    """Recalls from the output layer's spike trains (n cue cells then m content cells), read at
    t0 + RESULT_MS + ``readout_offset_ms``: content bits for recall_cue, cues for recall_content."""
    results: list[list[int] | None] = []
    for t, op in schedule:
        at = float(t) + RESULT_MS + readout_offset_ms
        fired = [i for i, train in enumerate(output_spikes) if any(abs(s - at) < 1e-6 for s in train)]
        if op.kind == "recall_cue":
            results.append(sorted(i - n for i in fired if i >= n))
        elif op.kind == "recall_content":
            results.append(sorted(i for i in fired if i < n))
        else:
            results.append(None)
    return results


# The learned weights (nA, pre x post arrays) at the end of the last run, for inspection.
LAST_WEIGHTS: dict[str, np.ndarray] = {}


def _brian2_settings(sim, dt_ms: float) -> None:
    """pyNN.brian2 only: plain numpy code generation (no per-object Cython compilation, which
    costs minutes for this many small objects) and the default clock at ``dt_ms`` (pyNN.brian2's
    SpikeSourceArray otherwise runs on Brian2's 0.1 ms default clock)."""
    if sim.__name__ != "pyNN.brian2":
        return
    import brian2

    brian2.prefs.codegen.target = "numpy"
    brian2.defaultclock.dt = dt_ms * brian2.ms
    brian2.BrianLogger.suppress_hierarchy("brian2.stateupdaters")


def _run_spec(sim, spec: dict, inputs: dict, duration_ms: float) -> dict[str, list[list[float]]]:
    """Build ``spec`` with the PyNN module ``sim``, run, return every population's spike trains."""
    sim.setup(timestep=spec["dt_ms"], min_delay="auto")
    _brian2_settings(sim, spec["dt_ms"])
    nodes, plastic = {}, {}
    for name, trains in inputs.items():
        nodes[name] = sim.Population(len(trains), sim.SpikeSourceArray(spike_times=[sim.Sequence(s) for s in trains]),
                                     label=name)
    for p in spec["populations"]:
        pop = sim.Population(p["size"], sim.IF_curr_exp(**p["params"]), label=p["name"])
        pop.initialize(v=p["v_init"])
        pop.record("spikes")
        nodes[p["name"]] = pop
    for pr in spec["projections"]:
        if "stdp" in pr:
            s = pr["stdp"]
            syn = sim.STDPMechanism(
                timing_dependence=sim.SpikePairRule(tau_plus=s["tau_plus"], tau_minus=s["tau_minus"],
                                                    A_plus=s["A_plus"], A_minus=s["A_minus"]),
                weight_dependence=sim.AdditiveWeightDependence(w_min=s["w_min"], w_max=s["w_max"]),
                weight=0.0, delay=pr["connections"][0][3], dendritic_delay_fraction=0)
        else:
            syn = sim.StaticSynapse()
        proj = sim.Projection(nodes[pr["pre"]], nodes[pr["post"]], sim.FromListConnector(
            pr["connections"], column_names=["weight", "delay"]), synapse_type=syn, receptor_type=pr["receptor"],
            label=pr["name"])
        if "stdp" in pr:
            plastic[pr["name"]] = proj
    sim.run(duration_ms)
    LAST_WEIGHTS.clear()
    LAST_WEIGHTS.update({name: np.nan_to_num(proj.get("weight", format="array")) for name, proj in plastic.items()})
    spikes = {}
    for p in spec["populations"]:
        seg = nodes[p["name"]].get_data("spikes", clear=True).segments[0]
        spikes[p["name"]] = [sorted(float(x) for x in np.asarray(st.magnitude)) for st in seg.spiketrains]
    sim.end()
    return spikes


def run_ca3_on_pynn(n: int, m: int, schedule: Schedule, duration_ms: float, *, sim_module_name: str = "brian2",
                    constants: str | CA3PyNNConstants = "brian2", dt_ms: float = 1.0
                    ) -> tuple[list[list[int] | None], dict[str, list[list[float]]]]:
    """Run the CA3 memory with ``schedule`` ((t0 ms, Operation) pairs) on ``pyNN.<sim_module_name>``.

    Returns (recalls, spikes): one entry per operation (content bits for recall_cue, cues for
    recall_content, None for learn), decoded from the output population at
    t0 + 6 ms + ``readout_offset_ms`` of the constants; and every population's spike trains (ms).
    ``constants``: "brian2" (retuned, :data:`BRIAN2`), "spinnaker" (published, :data:`SPINNAKER`)
    or a :class:`CA3PyNNConstants`. The "brian2" constants were tuned at ``dt_ms`` = 1.0.
    """
    import importlib

    sim = importlib.import_module(f"pyNN.{sim_module_name}")
    c = _constants(constants)
    spec = circuit_spec(n, m, c, dt_ms)
    spikes = _run_spec(sim, spec, input_spikes(n, m, schedule), duration_ms)
    return decode(n, schedule, spikes["output"], c.readout_offset_ms), spikes


_SCRIPT = '''\
#!/usr/bin/env python
"""The CA3 content-addressable memory (Casanueva-Morato et al. 2024) with an operation schedule, in PyNN.

Written by neurosim.hardware.ca3_pynn.export_ca3_script: n = {n} cues, m = {m} bits,
{n_ops} operations, {duration} ms, circuit constants "{constants}".
Run: python {script} --simulator brian2|nest|spiNNaker [--out results.json]
Writes the decoded recalls (read at t0 + 6 + {offset} ms on the output layer) and every
population's spikes to JSON.
"""

import argparse
import importlib
import json

# Every operation: [t0 ms, kind, cue, bits]; recalls are decoded for recall_cue / recall_content.
SCHEDULE = {schedule}
# Input spike times (ms) of each cue / content input neuron.
INPUTS = {inputs}
# Circuit: populations (IF_curr_exp parameters) and projections ([pre, post, weight nA, delay ms]).
CIRCUIT = {circuit}
N_CUES, DURATION_MS, READOUT_MS = {n}, {duration}, {readout}


def build_and_run(sim, timestep):
    sim.setup(timestep=timestep, min_delay="auto")
    if sim.__name__ == "pyNN.brian2":
        import brian2
        brian2.prefs.codegen.target = "numpy"  # no per-object Cython compilation (minutes)
        brian2.defaultclock.dt = timestep * brian2.ms  # SpikeSourceArray runs on the default clock
    nodes = {{}}
    for name, trains in INPUTS.items():
        nodes[name] = sim.Population(len(trains), sim.SpikeSourceArray(spike_times=[sim.Sequence(s) for s in trains]),
                                     label=name)
    for p in CIRCUIT["populations"]:
        nodes[p["name"]] = sim.Population(p["size"], sim.IF_curr_exp(**p["params"]), label=p["name"])
        nodes[p["name"]].initialize(v=p["v_init"])
        nodes[p["name"]].record("spikes")
    for pr in CIRCUIT["projections"]:
        synapse = sim.StaticSynapse()
        if "stdp" in pr:  # pair STDP, additive; pyNN.brian2 needs dendritic_delay_fraction=0
            s = pr["stdp"]
            synapse = sim.STDPMechanism(
                timing_dependence=sim.SpikePairRule(tau_plus=s["tau_plus"], tau_minus=s["tau_minus"],
                                                    A_plus=s["A_plus"], A_minus=s["A_minus"]),
                weight_dependence=sim.AdditiveWeightDependence(w_min=s["w_min"], w_max=s["w_max"]),
                weight=0.0, delay=pr["connections"][0][3], dendritic_delay_fraction=0)
        connector = sim.FromListConnector(pr["connections"], column_names=["weight", "delay"])
        sim.Projection(nodes[pr["pre"]], nodes[pr["post"]], connector, synapse_type=synapse,
                       receptor_type=pr["receptor"], label=pr["name"])
    sim.run(DURATION_MS)
    spikes = {{}}
    for p in CIRCUIT["populations"]:
        segment = nodes[p["name"]].get_data("spikes").segments[0]
        spikes[p["name"]] = [sorted(float(x) for x in st.magnitude) for st in segment.spiketrains]
    sim.end()
    return spikes


def decode(output):
    recalls = []
    for t0, kind, _cue, _bits in SCHEDULE:
        fired = [i for i, train in enumerate(output) if any(abs(s - (t0 + READOUT_MS)) < 1e-6 for s in train)]
        if kind == "recall_cue":
            recalls.append(sorted(i - N_CUES for i in fired if i >= N_CUES))
        elif kind == "recall_content":
            recalls.append(sorted(i for i in fired if i < N_CUES))
        else:
            recalls.append(None)
    return recalls


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--simulator", default="brian2", choices=["brian2", "nest", "spiNNaker"])
    parser.add_argument("--timestep", type=float, default={dt})
    parser.add_argument("--out", default="ca3_pynn_results.json")
    args = parser.parse_args()
    sim = importlib.import_module("pyNN." + args.simulator)
    spikes = build_and_run(sim, args.timestep)
    recalls = decode(spikes["output"])
    with open(args.out, "w") as f:
        json.dump({{"simulator": args.simulator, "recalls": recalls, "spikes": spikes}}, f)
    for (t0, kind, cue, bits), got in zip(SCHEDULE, recalls):
        if got is not None:
            print(t0, kind, cue if kind == "recall_cue" else bits, "->", got)


if __name__ == "__main__":
    main()
'''


def export_ca3_script(path: str | Path, n: int, m: int, schedule: Schedule, duration_ms: float, *,
                      constants: str | CA3PyNNConstants = "brian2", dt_ms: float = 1.0) -> Path:
    """Write a standalone PyNN script running the CA3 memory with ``schedule``
    (argparse ``--simulator brian2|nest|spiNNaker``; dumps recalls and spikes to JSON)."""
    c = _constants(constants)
    path = Path(path)
    spec = circuit_spec(n, m, c, dt_ms)
    circuit = {"populations": spec["populations"], "projections": spec["projections"]}
    sched = [[float(t), op.kind, op.cue, list(op.bits)] for t, op in schedule]

    def pretty(obj: object) -> str:
        return textwrap.indent(json.dumps(obj, indent=1), "").replace("null", "None")

    text = _SCRIPT.format(n=n, m=m, n_ops=len(sched), duration=float(duration_ms), constants=c.name,
                          script=path.name, offset=c.readout_offset_ms, schedule=pretty(sched),
                          inputs=pretty(input_spikes(n, m, schedule)), circuit=pretty(circuit),
                          readout=RESULT_MS + c.readout_offset_ms, dt=dt_ms)
    path.write_text(text)
    return path


def constants_table(constants: str | CA3PyNNConstants = "brian2") -> dict:
    """The constants as plain data (for reports)."""
    return asdict(_constants(constants))


__all__ = ["BRIAN2", "CONSTANTS", "SPINNAKER", "CA3PyNNConstants", "circuit_spec", "constants_table", "decode",
           "export_ca3_script", "input_spikes", "run_ca3_on_pynn"]
