"""Monitors: what a run records (spikes, state variables, weights), checked against a :class:`Network`.

Re-exported by :mod:`neurosim.network` and :mod:`neurosim`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from neurosim import _checks as ck

if TYPE_CHECKING:
    from neurosim.network import Network

STATE_VARIABLES = ("v_mV", "i_syn_e_nA", "i_syn_i_nA")


@dataclass(frozen=True)
class SpikeMonitor:
    """Record the spikes of a population or source."""

    target: str

    def __post_init__(self) -> None:
        ck.name("SpikeMonitor.target", self.target)


@dataclass(frozen=True)
class StateMonitor:
    """Record state variables of chosen neurons of a population at every step."""

    population: str
    ids: tuple[int, ...]
    variables: tuple[str, ...] = ("v_mV",)

    def __post_init__(self) -> None:
        ck.name("StateMonitor.population", self.population)
        if isinstance(self.ids, (str, bytes)) or np.ndim(self.ids) != 1:
            ck.fail("StateMonitor.ids", self.ids, "a sequence of neuron indices")
        for i in self.ids:
            ck.count("StateMonitor.ids", i, minimum=0)
        object.__setattr__(self, "ids", tuple(int(i) for i in self.ids))
        if isinstance(self.variables, (str, bytes)) or not hasattr(self.variables, "__iter__"):
            ck.fail("StateMonitor.variables", self.variables, f"a sequence of names from {STATE_VARIABLES}")
        object.__setattr__(self, "variables", tuple(self.variables))
        for v in self.variables:
            if v not in STATE_VARIABLES:
                ck.fail("StateMonitor.variables", v, f"one of {STATE_VARIABLES}")
        if not self.ids:
            ck.fail("StateMonitor.ids", self.ids, "at least one neuron index")


@dataclass(frozen=True)
class WeightMonitor:
    """Snapshot the weights of a projection every ``every_ms`` (and at the end of each run)."""

    projection: str
    every_ms: float

    def __post_init__(self) -> None:
        ck.name("WeightMonitor.projection", self.projection)
        ck.positive("WeightMonitor.every_ms", self.every_ms, "ms")


Monitor = SpikeMonitor | StateMonitor | WeightMonitor


def all_spike_monitors(names: Sequence[str]) -> tuple[SpikeMonitor, ...]:
    """Convenience: a SpikeMonitor for each name."""
    if isinstance(names, (str, bytes)) or not hasattr(names, "__iter__"):
        ck.fail("names", names, "a sequence of population or source names")
    return tuple(SpikeMonitor(n) for n in names)


def check_monitors(net: Network) -> None:
    """Refuse a monitor whose population, source, projection or neuron ids ``net`` lacks, or a
    second StateMonitor or WeightMonitor of one population or projection."""
    seen: set[tuple[str, str]] = set()
    for m in net.monitors:
        if not isinstance(m, (SpikeMonitor, StateMonitor, WeightMonitor)):
            ck.fail("Network.monitors", type(m).__name__, "SpikeMonitor, StateMonitor or WeightMonitor")
        if isinstance(m, SpikeMonitor):
            net.node(m.target, field="SpikeMonitor.target")
            continue
        key = (type(m).__name__, m.population if isinstance(m, StateMonitor) else m.projection)
        if key in seen:
            ck.fail(f"{key[0]}", key[1], f"at most one {key[0]} per population/projection")
        seen.add(key)
        if isinstance(m, StateMonitor):
            pop = net.population(m.population, field="StateMonitor.population")
            bad = [i for i in m.ids if not 0 <= i < pop.size]
            if bad:
                ck.fail(f"StateMonitor[{m.population}].ids", bad, f"indices in [0, {pop.size - 1}]")
        else:
            net.projection(m.projection, field="WeightMonitor.projection")
