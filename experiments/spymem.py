"""The authors' own PyNN models (pip sPyMem 0.0.9, built on sPyBlocks 0.0.1) run unmodified.

Each driver builds one sPyMem model with a PyNN simulator module (``neurosim.pynn`` or any
other: ``pyNN.nest``, ``pyNN.brian2``), feeds it the inputs of a published run, and returns
every recorded population's spikes as ``{population: {ms: sorted neuron indices}}``, the
format of the published tables, so runs compare cell by cell:

- :func:`ca3_content_addressable`: the CA3 content-addressable memory (Neural Networks 2024)
  with the input spikes of its three published experiments (``experiments/data/ca3``);
- :func:`dg_ca3_ca1`: the DG-CA3-CA1 memory with forgetting (arXiv 2205.04782) with the inputs
  and parameters of the two runs recorded on a SpiNNaker board (``experiments/data/dg_ca3_ca1``),
  also returning the CA3 membrane potentials as the board recorded them.
"""

from __future__ import annotations

import ast
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

DATA = Path(__file__).resolve().parent / "data"
CA3_TABLES = {"functional": "exp1_functional", "stress": "exp2_pyramidal", "state-map": "exp3_state_map"}
# the CA3 memory's test output layer: the memory's cells with v_thresh -57.5 mV (Casanueva-Morato et al.,
# Neural Networks 2024, arXiv 2310.05868)
CA3_OUTPUT = {"cm": 0.27, "i_offset": 0.0, "tau_m": 3.0, "tau_refrac": 1.0, "tau_syn_E": 0.3, "tau_syn_I": 0.3,
              "v_reset": -60.0, "v_rest": -60.0, "v_thresh": -57.5}
CA3_LAYERS = {"cueCueRecall": "CA3cueCueRecallLayer", "contCueRecall": "CA3contCueRecallLayer",
              "contCond": "CA3contCondLayer", "contCondInt": "CA3contCondIntLayer",
              "cueContRecall": "CA3cueContRecallLayer", "contContRecall": "CA3contContRecallLayer",
              "mergeCue": "CA3mergeCueLayer", "mergeCont": "CA3mergeContLayer"}

Table = dict[str, dict[int, list[int]]]


def published_ca3(experiment: str) -> dict:
    """The published table of a CA3 experiment ('functional', 'stress' or 'state-map')."""
    return json.loads((DATA / "ca3" / f"{CA3_TABLES[experiment]}.json").read_text())


def table_of(segment, duration_ms: float, offset: int = 0, count: int | None = None,
             shift_ms: float = 0.0) -> dict[int, list[int]]:
    """{ms: sorted indices} of a neo segment's spike trains (neurons ``offset .. offset + count``)."""
    return _table(segment.spiketrains[offset:None if count is None else offset + count], duration_ms, shift_ms)


def published_rows(rows: list) -> dict[int, list[int]]:
    return {int(t): sorted(ids) for t, ids in rows}


def differing(mine: Table, theirs: Table, duration_ms: float) -> tuple[int, int]:
    """(differing (population, ms) cells, all cells) over the populations of ``theirs``."""
    bad = total = 0
    for pop, rows in theirs.items():
        for ms in range(int(duration_ms)):
            total += 1
            bad += rows.get(ms, []) != mine.get(pop, {}).get(ms, [])
    return bad, total


def ca3_content_addressable(sim: Any, experiment: str, shift_ms: float = 0.0, **setup: Any) -> tuple[Table, dict]:
    """sPyMem's CA3 content-addressable memory on ``sim`` with a published experiment's input spikes:
    (the spike table of every layer, the published table). ``shift_ms`` delays every input and
    every reading by that much (NEST refuses an input spike at t = dt: its sources spike one
    min_delay early); ``setup`` goes to ``sim.setup``."""
    from sPyMem.CA3_content_addressable.CA3_content_addressable import Memory

    table = published_ca3(experiment)
    n, m, duration = table["n_cues"], table["n_bits"], table["sim_time_ms"]
    inputs = [*table["input_spike_times_ms"]["cue"], *table["input_spike_times_ms"]["content"]]
    sim.setup(timestep=table["timestep_ms"], **setup)
    il = sim.Population(n + m, sim.SpikeSourceArray(spike_times=[[t + shift_ms for t in train] for train in inputs]),
                        label="ILayer")
    ol = sim.Population(n + m, sim.IF_curr_exp(**CA3_OUTPUT), label="OLayer")
    ol.set(v=-60.0)
    memory = Memory(n, m, sim)
    memory.connect_in(il)
    memory.connect_out(ol)
    layers = {name: getattr(memory, attr) for name, attr in CA3_LAYERS.items()} | {"input": il, "output": ol}
    for pop in layers.values():
        pop.record(["spikes"])
    sim.run(duration + shift_ms)
    seg = {name: pop.get_data().segments[-1] for name, pop in layers.items()}
    sim.end()
    mine = {name: table_of(s, duration, shift_ms=shift_ms) for name, s in seg.items()
            if name not in ("input", "output")}
    for layer in ("input", "output"):
        mine |= {f"{layer}_cue": table_of(seg[layer], duration, 0, n, shift_ms),
                 f"{layer}_content": table_of(seg[layer], duration, n, None, shift_ms)}
    return mine, {pop: published_rows(rows) for pop, rows in table["spikes"].items()}


def board_run(run: int) -> dict:
    """Board recording ``run`` (1 or 2) of the DG-CA3-CA1 memory: its parameters and recorded variables."""
    return ast.literal_eval((DATA / "dg_ca3_ca1" / f"test{run}.txt").read_text())


def dg_ca3_ca1(sim: Any, run: int, shift_ms: float = 0.0, **setup: Any) -> tuple[Table, dict[str, np.ndarray], dict]:
    """sPyMem's DG-CA3-CA1 memory on ``sim`` with board run ``run``'s parameters and inputs: (every layer's
    spike table, the CA3 membrane potentials (ms x cells) from t = 0, the board's recording); ``shift_ms``
    as in :func:`ca3_content_addressable`."""
    from sPyMem.hippocampus_with_forgetting.hippocampus_with_forgetting import Memory

    board = board_run(run)
    duration = board["simTime"]
    inputs = _recorded(board, "spikes")["IL"]
    config = {k: board[k] for k in ("neuronParameters", "initNeuronParameters", "synParameters")}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.json"
        path.write_text(json.dumps(config))
        sim.setup(timestep=board["timeStep"], **setup)
        il = sim.Population(len(inputs), sim.SpikeSourceArray(spike_times=[[t + shift_ms for t in s] for s in inputs]),
                            label="IL")
        ol = sim.Population(len(inputs), sim.IF_curr_exp(**board["neuronParameters"]["OL"]), label="OL")
        ol.set(v=board["initNeuronParameters"]["OL"]["vInit"])
        memory = Memory(board["cueSize"], board["contSize"], sim, il, ol,
                        configFilePath=os.path.relpath(path, os.getcwd()))
    # the decoder's and encoder's outputs are one single-cell population per gate, in order
    layers = {"IL": [il], "DGL": _flat(memory.DGLayer.get_output_neurons()), "CA3cueL": [memory.CA3cueLayer],
              "CA3contL": [memory.CA3contLayer], "CA1L": _flat(memory.CA1Layer.get_output_neurons()), "OL": [ol]}
    for name, pops in layers.items():
        for pop in pops:
            pop.record(["spikes", "v"] if name in ("CA3cueL", "CA3contL") else ["spikes"])
    sim.run(duration + shift_ms)
    data = {name: [pop.get_data().segments[-1] for pop in pops] for name, pops in layers.items()}
    sim.end()
    spikes = {name: _table([train for seg in segs for train in seg.spiketrains], duration, shift_ms)
              for name, segs in data.items()}
    first = round(shift_ms / board["timeStep"])
    v = {name: np.asarray(data[name][0].analogsignals[0].magnitude)[first:first + round(duration / board["timeStep"])]
         for name in ("CA3cueL", "CA3contL")}
    return spikes, v, board


def _flat(nested) -> list:
    return [leaf for item in nested for leaf in (_flat(item) if isinstance(item, list | tuple) else [item])]


def _table(trains: list, duration_ms: float, shift_ms: float = 0.0) -> dict[int, list[int]]:
    """{ms: sorted indices} of spike trains (neo or arrays of ms) taken as one population, in order,
    over [0, duration) after ``shift_ms`` is taken off every time."""
    out: dict[int, list[int]] = {}
    for i, train in enumerate(trains):
        for t in np.asarray(getattr(train, "magnitude", train), float) - shift_ms:
            if 0.0 <= t < duration_ms:
                out.setdefault(int(round(float(t))), []).append(i)
    return {ms: sorted(ids) for ms, ids in sorted(out.items())}


def _recorded(board: dict, kind: str) -> dict[str, list]:
    """{population: data} of the board's recorded ``kind`` ('spikes': times per neuron; 'v': values per neuron)."""
    return {var["popNameShort"]: var["data"] for var in board["variables"] if var["type"] == kind}


def board_table(board: dict) -> Table:
    """The board's spikes in the table format."""
    return {name: _table(trains, float("inf")) for name, trains in _recorded(board, "spikes").items()}


def board_v(board: dict) -> dict[str, np.ndarray]:
    """The board's membrane potentials (ms x cells, mV) of CA3cueL and CA3contL."""
    return {name: np.asarray(values, float).T for name, values in _recorded(board, "v").items()}
