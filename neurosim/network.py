"""The network description: plain, frozen, validated data.

A :class:`Network` holds populations of LIF neurons with exponential current
synapses (PyNN ``IF_curr_exp``; ms, mV, nA, nF, MOhm), spike sources, projections
and monitors. It says nothing about how it is simulated: every backend reads the
same description (see :mod:`neurosim.simulator` for the discretization).
Constructors check their fields and raise ``ValueError`` naming the field, the
value and the allowed range.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from neurosim import _checks as ck
from neurosim.connectors import AllToAll, Connector, FixedProbability, FromList, OneToOne
from neurosim.plasticity import STDP

Receptor = Literal["excitatory", "inhibitory"]
STATE_VARIABLES = ("v_mV", "i_syn_e_nA", "i_syn_i_nA")


@dataclass(frozen=True)
class LIFParams:
    """PyNN ``IF_curr_exp`` parameters, same names with units appended, PyNN defaults."""

    tau_m_ms: float = 20.0
    cm_nF: float = 1.0
    v_rest_mV: float = -65.0
    v_reset_mV: float = -65.0
    v_thresh_mV: float = -50.0
    tau_refrac_ms: float = 0.1
    tau_syn_e_ms: float = 5.0
    tau_syn_i_ms: float = 5.0
    i_offset_nA: float = 0.0
    v_init_mV: float = -65.0

    def __post_init__(self) -> None:
        ck.positive("LIFParams.tau_m_ms", self.tau_m_ms, "ms")
        ck.positive("LIFParams.cm_nF", self.cm_nF, "nF")
        ck.non_negative("LIFParams.tau_refrac_ms", self.tau_refrac_ms, "ms")
        ck.positive("LIFParams.tau_syn_e_ms", self.tau_syn_e_ms, "ms")
        ck.positive("LIFParams.tau_syn_i_ms", self.tau_syn_i_ms, "ms")
        for nm in ("v_rest_mV", "v_reset_mV", "v_thresh_mV", "i_offset_nA", "v_init_mV"):
            ck.finite(f"LIFParams.{nm}", getattr(self, nm))
        if self.v_reset_mV >= self.v_thresh_mV:
            ck.fail("LIFParams.v_reset_mV", self.v_reset_mV, f"< v_thresh_mV ({self.v_thresh_mV})")

    @property
    def r_mohm(self) -> float:
        """Membrane resistance tau_m / cm in MOhm (nA x MOhm = mV)."""
        return self.tau_m_ms / self.cm_nF


@dataclass(frozen=True)
class Population:
    """``size`` LIF neurons sharing one parameter set."""

    name: str
    size: int
    params: LIFParams = field(default_factory=LIFParams)

    def __post_init__(self) -> None:
        ck.name("Population.name", self.name)
        ck.count("Population.size", self.size)
        if not isinstance(self.params, LIFParams):
            ck.fail("Population.params", type(self.params).__name__, "a LIFParams")


@dataclass(frozen=True, eq=False)
class SpikeSourceArray:
    """Neurons that fire at given times: ``spike_times_ms[i]`` for neuron i (sorted, >= 0)."""

    name: str
    spike_times_ms: tuple[np.ndarray, ...]

    def __post_init__(self) -> None:
        ck.name("SpikeSourceArray.name", self.name)
        if isinstance(self.spike_times_ms, np.ndarray) and self.spike_times_ms.ndim < 2:
            ck.fail("SpikeSourceArray.spike_times_ms", "a 1-D array",
                    "one sequence of times per neuron (a list of lists)")
        trains = []
        for i, times in enumerate(self.spike_times_ms):
            t = ck.finite_array(f"SpikeSourceArray.spike_times_ms[{i}]", times).ravel()
            if t.size and t.min() < 0:
                ck.fail(f"SpikeSourceArray.spike_times_ms[{i}]", float(t.min()), "times >= 0 ms")
            if np.any(np.diff(t) < 0):
                ck.fail(f"SpikeSourceArray.spike_times_ms[{i}]", t.tolist()[:8], "sorted (non-decreasing) times")
            t.setflags(write=False)
            trains.append(t)
        if not trains:
            ck.fail("SpikeSourceArray.spike_times_ms", [], "at least one neuron")
        object.__setattr__(self, "spike_times_ms", tuple(trains))

    @property
    def size(self) -> int:
        return len(self.spike_times_ms)

    @classmethod
    def empty(cls, name: str, size: int) -> SpikeSourceArray:
        """A source with no scheduled spikes: inputs come later via ``Simulator.add_spikes``."""
        return cls(name, tuple(np.zeros(0) for _ in range(ck.count("size", size))))


@dataclass(frozen=True)
class PoissonSource:
    """Independent Poisson trains: each neuron fires in a step with p = rate * dt."""

    name: str
    size: int
    rate_hz: float
    start_ms: float = 0.0
    stop_ms: float = float("inf")

    def __post_init__(self) -> None:
        ck.name("PoissonSource.name", self.name)
        ck.count("PoissonSource.size", self.size)
        ck.non_negative("PoissonSource.rate_hz", self.rate_hz, "Hz")
        ck.non_negative("PoissonSource.start_ms", self.start_ms, "ms")
        if not self.stop_ms >= self.start_ms:
            ck.fail("PoissonSource.stop_ms", self.stop_ms, f">= start_ms ({self.start_ms})")


Source = SpikeSourceArray | PoissonSource


@dataclass(frozen=True, eq=False)
class Projection:
    """Synapses from ``pre`` (population or source) onto ``post`` (population).

    ``weight_nA`` (>= 0; the receptor gives the sign) and ``delay_steps`` (whole steps
    >= 1) are scalars or one value per connection; a :class:`FromList` connector's
    own per-connection values take precedence.
    """

    name: str
    pre: str
    post: str
    connector: Connector
    weight_nA: float | np.ndarray = 0.0
    delay_steps: int | np.ndarray = 1
    receptor: Receptor = "excitatory"
    plasticity: STDP | None = None

    def __post_init__(self) -> None:
        ck.name("Projection.name", self.name)
        ck.name("Projection.pre", self.pre)
        ck.name("Projection.post", self.post)
        if not isinstance(self.connector, (OneToOne, AllToAll, FixedProbability, FromList)):
            ck.fail("Projection.connector", type(self.connector).__name__,
                    "OneToOne, AllToAll, FixedProbability or FromList")
        if self.receptor not in ("excitatory", "inhibitory"):
            ck.fail("Projection.receptor", self.receptor, "'excitatory' or 'inhibitory'")
        if self.plasticity is not None and not isinstance(self.plasticity, STDP):
            ck.fail("Projection.plasticity", type(self.plasticity).__name__, "an STDP or None")
        w = ck.finite_array(f"Projection[{self.name}].weight_nA", self.weight_nA, minimum=0.0)
        d = ck.steps_array(f"Projection[{self.name}].delay_steps", self.delay_steps, minimum=1)
        if w.ndim > 1 or d.ndim > 1:
            ck.fail(f"Projection[{self.name}].weight_nA/delay_steps", (w.shape, d.shape), "scalars or 1-D arrays")


@dataclass(frozen=True)
class SpikeMonitor:
    """Record the spikes of a population or source."""

    target: str


@dataclass(frozen=True)
class StateMonitor:
    """Record state variables of chosen neurons of a population at every step."""

    population: str
    ids: tuple[int, ...]
    variables: tuple[str, ...] = ("v_mV",)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ids", tuple(int(i) for i in self.ids))
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
        ck.positive("WeightMonitor.every_ms", self.every_ms, "ms")


Monitor = SpikeMonitor | StateMonitor | WeightMonitor


@dataclass(frozen=True, eq=False)
class Connections:
    """A projection resolved into arrays, in the connector's order."""

    pre: np.ndarray
    post: np.ndarray
    weight_nA: np.ndarray
    delay_steps: np.ndarray


@dataclass(frozen=True, eq=False)
class Network:
    """A whole model: time step, populations, sources, projections, monitors."""

    dt_ms: float = 0.1
    populations: tuple[Population, ...] = ()
    sources: tuple[Source, ...] = ()
    projections: tuple[Projection, ...] = ()
    monitors: tuple[Monitor, ...] = ()

    def __post_init__(self) -> None:
        ck.positive("Network.dt_ms", self.dt_ms, "ms")
        for nm in ("populations", "sources", "projections", "monitors"):
            object.__setattr__(self, nm, tuple(getattr(self, nm)))
        if not self.populations:
            ck.fail("Network.populations", (), "at least one Population")
        names: set[str] = set()
        for obj in (*self.populations, *self.sources, *self.projections):
            if obj.name in names:
                ck.fail("name", obj.name, "unique across populations, sources and projections")
            names.add(obj.name)
        for p in self.populations:
            if not isinstance(p, Population):
                ck.fail("Network.populations", type(p).__name__, "Population objects")
        for s in self.sources:
            if not isinstance(s, (SpikeSourceArray, PoissonSource)):
                ck.fail("Network.sources", type(s).__name__, "SpikeSourceArray or PoissonSource")
            if isinstance(s, PoissonSource) and s.rate_hz * self.dt_ms / 1000.0 > 1.0:
                ck.fail(f"PoissonSource[{s.name}].rate_hz", s.rate_hz,
                        f"<= {1000.0 / self.dt_ms:g} Hz (one spike per step at dt = {self.dt_ms} ms)")
        resolved = {pr.name: self._resolve(pr) for pr in self.projections}
        object.__setattr__(self, "_connections", resolved)
        self._check_monitors()

    # -- lookups ---------------------------------------------------------------
    def node(self, name: str) -> Population | Source:
        for obj in (*self.populations, *self.sources):
            if obj.name == name:
                return obj
        known = [o.name for o in (*self.populations, *self.sources)]
        raise ValueError(f"unknown population or source {name!r}; known: {known}")

    def population(self, name: str) -> Population:
        obj = self.node(name)
        if not isinstance(obj, Population):
            ck.fail("population", name, "a Population (this is a spike source)")
        return obj

    def projection(self, name: str) -> Projection:
        for pr in self.projections:
            if pr.name == name:
                return pr
        raise ValueError(f"unknown projection {name!r}; known: {[p.name for p in self.projections]}")

    def connections(self, name: str) -> Connections:
        self.projection(name)
        return self._connections[name]

    # -- validation ------------------------------------------------------------
    def _resolve(self, pr: Projection) -> Connections:
        pre = self.node(pr.pre)
        post = self.node(pr.post)
        if not isinstance(post, Population):
            ck.fail(f"Projection[{pr.name}].post", pr.post, "a Population (sources have no synapses)")
        pre_idx, post_idx = pr.connector.connect(pre.size, post.size, same=pre is post)
        n = pre_idx.size
        w = _per_connection(f"Projection[{pr.name}].weight_nA", np.asarray(pr.weight_nA, np.float64), n)
        d = _per_connection(f"Projection[{pr.name}].delay_steps", np.asarray(pr.delay_steps, np.int64), n)
        if isinstance(pr.connector, FromList):
            if pr.connector.weights_nA is not None:
                w = np.array(pr.connector.weights_nA)
            if pr.connector.delays_steps is not None:
                d = np.array(pr.connector.delays_steps)
        if pr.plasticity is not None and n:
            rule = pr.plasticity
            if w.min() < rule.w_min_nA or w.max() > rule.w_max_nA:
                bad = w.min() if w.min() < rule.w_min_nA else w.max()
                ck.fail(f"Projection[{pr.name}].weight_nA", float(bad),
                        f"in [w_min_nA, w_max_nA] = [{rule.w_min_nA}, {rule.w_max_nA}] of its STDP rule")
        for a in (pre_idx, post_idx, w, d):
            a.setflags(write=False)
        return Connections(pre_idx, post_idx, w, d)

    def _check_monitors(self) -> None:
        seen: set[tuple[str, str]] = set()
        for m in self.monitors:
            key = (type(m).__name__, getattr(m, "population", None) or getattr(m, "projection", None) or m.target)
            if key in seen and not isinstance(m, SpikeMonitor):
                ck.fail(f"{key[0]}", key[1], f"at most one {key[0]} per population/projection")
            seen.add(key)
            if isinstance(m, SpikeMonitor):
                self.node(m.target)
            elif isinstance(m, StateMonitor):
                pop = self.population(m.population)
                bad = [i for i in m.ids if not 0 <= i < pop.size]
                if bad:
                    ck.fail(f"StateMonitor[{m.population}].ids", bad, f"indices in [0, {pop.size - 1}]")
            elif isinstance(m, WeightMonitor):
                self.projection(m.projection)
            else:
                ck.fail("Network.monitors", type(m).__name__, "SpikeMonitor, StateMonitor or WeightMonitor")


def _per_connection(field_name: str, value: np.ndarray, n: int) -> np.ndarray:
    if value.ndim == 0:
        return np.full(n, value.item(), dtype=value.dtype)
    if value.shape != (n,):
        ck.fail(f"{field_name} length", value.size, f"1 (a scalar) or one per connection ({n})")
    return value.copy()


def all_spike_monitors(names: Sequence[str]) -> tuple[SpikeMonitor, ...]:
    """Convenience: a SpikeMonitor for each name."""
    return tuple(SpikeMonitor(n) for n in names)
