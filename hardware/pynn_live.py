"""The live build: a translation plan called on an imported PyNN module (:func:`build_live`).

Also :func:`setup_options` / :func:`setup_simulator` (``sim.setup`` for an export target, shared with
the standalone script) and :func:`spikes_of` (a recorded population's spikes; its source is copied
into every exported script).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from neurosim import _checks as ck
from neurosim.hardware.pynn_translate import (
    DENDRITIC_DELAY_FRACTION,
    SIMULATOR_MODULES,
    TARGETS,
    Call,
    RunTime,
    SpikeInputs,
    Target,
    translate,
)
from neurosim.network import Network


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

