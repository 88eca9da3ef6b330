"""The standalone script: a translation plan written as a readable PyNN script (:func:`export_script`).

The script picks its simulator module at run time (``--simulator brian2|spiNNaker|nest|neurosim``) and
dumps the recorded spikes; :func:`read_results` reads them back.
"""

from __future__ import annotations

import inspect
import json
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neurosim import _checks as ck
from neurosim.hardware.pynn_live import setup_options, spikes_of
from neurosim.hardware.pynn_translate import (
    DENDRITIC_DELAY_FRACTION,
    SIMULATOR_MODULES,
    SIMULATORS,
    TARGETS,
    Call,
    RunTime,
    SpikeInputs,
    Target,
    translate,
)
from neurosim.io import ensure_parent
from neurosim.network import Network


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

