"""Learn, recall and forget on sPyMem's three memories with forgetting, decoded from their output layer.

The three models share one protocol (arXiv 2205.04782 and its packaged variants): an input layer
of cue bits then content bits, an output layer of the same shape. To *learn*, the cue and the
content are held for 3 ms; to *recall*, the cue spikes once and the output shows the content a
few ms later; to *forget*, the same cue is learned again with another content, and post-before-pre
pairings depress the old content's synapses (forgetting is overwriting). Operations are
``spacing_ms`` apart.

======================================  ====================  ==========================================
model (``sPyMem.<module>``)             cue code              built from
======================================  ====================  ==========================================
``ca3`` (CA3 only)                      one-hot, n bits       two IF_curr_exp layers and pair STDP
``hippocampus_with_forgetting``         binary of cue + 1     sPyBlocks' decoder (DG) and encoder (CA1)
``hippocampus_bioinspired_dg_ca1``      binary of cue + 1     a DG with lateral inhibition, a CA1 layer
======================================  ====================  ==========================================

:func:`run_operations` builds one model unmodified with any PyNN simulator module and returns, for
each recall, the cue and content the output layer showed after it.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurosim.experiments.spymem import CA3_OUTPUT  # the memories' test output layer


@dataclass(frozen=True)
class Model:
    """How one sPyMem memory is built and addressed."""

    module: str
    one_hot: bool        # the cue is one-hot over n bits (else binary of cue + 1 over ceil(log2(n + 1)) bits)
    takes_layers: bool   # Memory(n, m, sim, IL, OL) (else Memory(n, m, sim) then connect_in / connect_out)

    def cue_bits(self, n_cues: int) -> int:
        return n_cues if self.one_hot else math.ceil(math.log2(n_cues + 1))

    def encode(self, cue: int, n_cues: int) -> list[int]:
        """The input cue bits that are on for cue ``cue`` (0-based)."""
        if self.one_hot:
            return [cue]
        return [b for b in range(self.cue_bits(n_cues)) if (cue + 1) >> b & 1]

    def decode(self, bits: list[int], n_cues: int) -> int | None:
        """The cue the output's cue bits stand for (None when nothing or nothing valid)."""
        if self.one_hot:
            return bits[0] if len(bits) == 1 else None
        value = sum(1 << b for b in bits) - 1
        return value if 0 <= value < n_cues else None


MODELS: dict[str, Model] = {
    "ca3": Model("sPyMem.ca3.CA3", one_hot=True, takes_layers=False),
    "hippocampus_with_forgetting": Model("sPyMem.hippocampus_with_forgetting.hippocampus_with_forgetting",
                                         one_hot=False, takes_layers=True),
    "hippocampus_bioinspired_dg_ca1": Model(
        "sPyMem.hippocampus_bioinspired_dg_ca1.hippocampus_bioinspired_dg_ca1", one_hot=False, takes_layers=False),
}

Operation = tuple  # ("learn", cue, content bits) or ("recall", cue)


def schedule(model: Model, operations: list[Operation], n_cues: int, n_bits: int,
             spacing_ms: float, first_ms: float = 1.0) -> list[list[float]]:
    """Input spike trains (one per input neuron) for ``operations``, the first at ``first_ms``."""
    k = model.cue_bits(n_cues)
    trains: list[list[float]] = [[] for _ in range(k + n_bits)]
    for i, op in enumerate(operations):
        t0 = first_ms + i * spacing_ms
        times = [t0, t0 + 1.0, t0 + 2.0] if op[0] == "learn" else [t0]
        neurons = model.encode(op[1], n_cues) + ([k + b for b in op[2]] if op[0] == "learn" else [])
        for neuron in neurons:
            trains[neuron].extend(times)
    return trains


def run_operations(sim: Any, name: str, operations: list[Operation], n_cues: int = 5, n_bits: int = 10,
                   spacing_ms: float = 10.0, shift_ms: float = 0.0,
                   **setup: Any) -> list[tuple[int | None, list[int]]]:
    """Build sPyMem model ``name`` on ``sim``, run ``operations`` (the first at 1 ms + ``shift_ms``) and return,
    for each recall, the (cue, content bits) its output layer showed before the next operation."""
    model = MODELS[name]
    memory_class = importlib.import_module(model.module).Memory
    first = 1.0 + shift_ms
    trains = schedule(model, operations, n_cues, n_bits, spacing_ms, first)
    duration = first + len(operations) * spacing_ms
    sim.setup(timestep=1.0, **setup)
    il = sim.Population(len(trains), sim.SpikeSourceArray(spike_times=trains), label="IL")
    ol = sim.Population(len(trains), sim.IF_curr_exp(**CA3_OUTPUT), label="OL")
    ol.set(v=-60.0)
    if model.takes_layers:
        memory_class(n_cues, n_bits, sim, il, ol)
    else:
        memory = memory_class(n_cues, n_bits, sim)
        memory.connect_in(il)
        memory.connect_out(ol)
    ol.record(["spikes"])
    sim.run(duration)
    trains_out = [np.asarray(t.magnitude) for t in ol.get_data().segments[-1].spiketrains]
    sim.end()
    k = model.cue_bits(n_cues)
    recalls = []
    for i, op in enumerate(operations):
        if op[0] != "recall":
            continue
        t0 = first + i * spacing_ms
        fired = [j for j, t in enumerate(trains_out) if np.any((t > t0) & (t < t0 + spacing_ms))]
        recalls.append((model.decode([j for j in fired if j < k], n_cues), [j - k for j in fired if j >= k]))
    return recalls
