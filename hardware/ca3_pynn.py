r"""The CA3 content-addressable memory with an operation schedule, on PyNN (pyNN.brian2).

Only the CA3-specific parts live here; the translation is the generic exporter's
(:mod:`neurosim.hardware.pynn`, one path for the live build and the standalone script):

- the input spikes of a schedule: :func:`ca3_spike_inputs`
  (from ``models.ca3.operation_spikes``, the one definition of what an operation sends);
- :func:`decode`: the recalls, read on the output population at t0 + RESULT_MS (6 ms);
- :func:`run_ca3_on_pynn` / :func:`export_ca3_script`: ``build_network(n, m)`` through
  :func:`~neurosim.hardware.pynn.build_live` / :func:`~neurosim.hardware.pynn.export_script`.

Two sets of circuit constants (:data:`CONSTANTS`, each an export target):

- ``"spinnaker"`` -> target ``"generic"``: the published constants unchanged (what the paper
  ran on sPyNNaker). Brian2 runs them differently (a hop over delay d takes d + dt, a neuron
  may fire again on the next step, axonal STDP delays, a decaying in-step current), so the
  published circuit recalls wrongly on pyNN.brian2 (measured in ``tests/hardware/test_ca3_pynn.py``).
- ``"brian2"`` -> target ``"brian2-spinnaker"``: SpiNNaker semantics on pyNN.brian2 (dt = 1 ms);
  the generic exporter's adjustments (delay shift, refractory steps, STDP window shift, PSP
  match; reasons in :mod:`neurosim.hardware.pynn`) give the published recalls on all three
  published experiments (functional, stress, state map).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neurosim.hardware.pynn import (
    TARGETS,
    build_live,
    export_script,
    psp_scale,
    read_results,
    setup_simulator,
    spikes_of,
)
from neurosim.models.ca3 import RESULT_MS, Operation, build_network, operation_spikes

Schedule = Sequence[tuple[float, Operation]]

# circuit constants -> export target of neurosim.hardware.pynn
CONSTANTS = {"spinnaker": "generic", "brian2": "brian2-spinnaker"}


def _target(constants: str) -> str:
    if constants not in CONSTANTS:
        raise ValueError(f"constants must be one of {sorted(CONSTANTS)}, got {constants!r}")
    return CONSTANTS[constants]


def ca3_spike_inputs(n_cues: int, n_bits: int, schedule: Sequence[tuple[float, Any]]) -> dict[str, list[list[float]]]:
    """The input spikes of a CA3 memory's operation schedule, ``{source: per-neuron times}``,
    from ``models.ca3.operation_spikes`` (one definition of what an operation sends)."""
    trains = {"in_cue": [[] for _ in range(n_cues)], "in_content": [[] for _ in range(n_bits)]}
    for t, op in schedule:
        for source, times, ids in operation_spikes(t, op):
            for when, i in zip(times.tolist(), ids.tolist(), strict=True):
                trains[source][int(i)].append(float(when))
    return {k: [sorted(v) for v in per_neuron] for k, per_neuron in trains.items()}


def decode(n: int, schedule: Schedule, output_spikes: Sequence[Sequence[float]]) -> list[list[int] | None]:
    """Recalls from the output layer's spike trains (n cue cells then m content cells), read at
    t0 + RESULT_MS: content bits for recall_cue, cues for recall_content, None for learn."""
    results: list[list[int] | None] = []
    for t, op in schedule:
        at = float(t) + RESULT_MS
        fired = [i for i, train in enumerate(output_spikes) if any(abs(s - at) < 1e-6 for s in train)]
        if op.kind == "recall_cue":
            results.append(sorted(i - n for i in fired if i >= n))
        elif op.kind == "recall_content":
            results.append(sorted(i for i in fired if i < n))
        else:
            results.append(None)
    return results


def _trains(times: Sequence[float], ids: Sequence[int], size: int) -> list[list[float]]:
    out: list[list[float]] = [[] for _ in range(size)]
    for t, i in zip(times, ids, strict=True):
        out[int(i)].append(float(t))
    return [sorted(x) for x in out]


def run_ca3_on_pynn(n: int, m: int, schedule: Schedule, duration_ms: float, *, sim_module_name: str = "brian2",
                    constants: str = "brian2") -> tuple[list[list[int] | None], dict[str, list[list[float]]]]:
    """Run the CA3 memory with ``schedule`` ((t0 ms, Operation) pairs) on ``pyNN.<sim_module_name>``.

    Returns (recalls, spikes): one entry per operation (:func:`decode`) and every population's
    spike trains (ms, one list per neuron). ``constants``: "brian2" (target "brian2-spinnaker")
    or "spinnaker" (the published constants, target "generic").
    """
    target = _target(constants)
    sim = importlib.import_module(f"pyNN.{sim_module_name}")
    net = build_network(n, m)
    record = [p.name for p in net.populations]
    setup_simulator(sim, net.dt_ms, target)
    objects = build_live(net, sim, spike_inputs=ca3_spike_inputs(n, m, schedule), record=record, target=target)
    sim.run(duration_ms)
    spikes = {p.name: _trains(*spikes_of(objects[p.name]), p.size) for p in net.populations}
    sim.end()
    return decode(n, schedule, spikes["output"]), spikes


def export_ca3_script(path: str | Path, n: int, m: int, schedule: Schedule, duration_ms: float, *,
                      constants: str = "brian2") -> Path:
    """Write a standalone PyNN script (:func:`~neurosim.hardware.pynn.export_script`) running the
    CA3 memory with ``schedule``; every population's spikes go to ``--out`` (.npz or .json), and
    :func:`recalls_from_results` decodes them."""
    net = build_network(n, m)
    return export_script(net, path, spike_inputs=ca3_spike_inputs(n, m, schedule), duration_ms=duration_ms,
                         record=[p.name for p in net.populations], target=_target(constants),
                         title=f"The CA3 memory (n = {n} cues, m = {m} bits) with {len(schedule)} operations, "
                               f"circuit constants {constants!r}")


def recalls_from_results(n: int, m: int, schedule: Schedule,
                         results: str | Path | Mapping[str, tuple[np.ndarray, np.ndarray]]
                         ) -> tuple[list[list[int] | None], list[list[float]]]:
    """(recalls, output spike trains) from an exported script's results file (or
    :func:`~neurosim.hardware.pynn.read_results`' dict)."""
    if not isinstance(results, Mapping):
        results = read_results(results)
    times, ids = results["output"]
    output = _trains(np.asarray(times).tolist(), np.asarray(ids).tolist(), n + m)
    return decode(n, schedule, output), output


__all__ = ["CONSTANTS", "TARGETS", "ca3_spike_inputs", "decode", "export_ca3_script", "psp_scale",
           "recalls_from_results", "run_ca3_on_pynn"]
