"""The network description: plain, frozen, validated data.

A :class:`Network` holds populations of LIF neurons with exponential current
synapses (PyNN ``IF_curr_exp``; ms, mV, nA, nF, MOhm), spike sources, projections
and monitors (defined in :mod:`neurosim.monitors`, importable from here). It says
nothing about how it is simulated: every backend reads the same description (see
:mod:`neurosim.simulator` for the discretization).
Constructors check their fields and raise ``ValueError`` naming the field, the
value and the allowed range.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from neurosim import _checks as ck
from neurosim.connectors import (
    AllToAll,
    Connector,
    Distribution,
    FixedNumberPre,
    FixedProbability,
    FixedTotalNumber,
    FromList,
    Normal,
    OneToOne,
    Uniform,
)
from neurosim.monitors import (  # noqa: F401  (re-exported: their home before neurosim.monitors)
    STATE_VARIABLES,
    Monitor,
    SpikeMonitor,
    StateMonitor,
    WeightMonitor,
    all_spike_monitors,
    check_monitors,
)
from neurosim.plasticity import STDP

Receptor = Literal["excitatory", "inhibitory"]


_POSITIVE = ("tau_m_ms", "cm_nF", "tau_syn_e_ms", "tau_syn_i_ms")  # > 0
_FINITE = ("v_rest_mV", "v_reset_mV", "v_thresh_mV", "i_offset_nA", "v_init_mV")
MAGNITUDE = 1e6  # |mV| and |nA| allowed: far beyond physiology; 1e308 nA of offset made v NaN with no error
MAX_SIZE = 2**31 - 1  # neurons in one population or source (indices stay in int32 range)


def _ndim(value: object) -> int:
    """np.ndim, or -1 for a ragged nesting (numpy refuses to make an array of it)."""
    try:
        return np.ndim(value)
    except ValueError:
        return -1


@dataclass(frozen=True)
class LIFParams:
    """PyNN ``IF_curr_exp`` parameters, same names with units appended, PyNN defaults.

    Each field is one value for the whole population or one value per neuron (a sequence of the
    population's size: :class:`Population` checks the length); per-neuron values are kept as tuples,
    so parameters stay immutable, comparable data.
    """

    tau_m_ms: float | tuple[float, ...] = 20.0
    cm_nF: float | tuple[float, ...] = 1.0
    v_rest_mV: float | tuple[float, ...] = -65.0
    v_reset_mV: float | tuple[float, ...] = -65.0
    v_thresh_mV: float | tuple[float, ...] = -50.0
    tau_refrac_ms: float | tuple[float, ...] = 0.1
    tau_syn_e_ms: float | tuple[float, ...] = 5.0
    tau_syn_i_ms: float | tuple[float, ...] = 5.0
    i_offset_nA: float | tuple[float, ...] = 0.0
    v_init_mV: float | tuple[float, ...] = -65.0

    def __post_init__(self) -> None:
        for nm in (*_POSITIVE, "tau_refrac_ms", *_FINITE):
            value = getattr(self, nm)
            if isinstance(value, str):  # np.ndim("5") is 0 and np.asarray("5", float) parses it
                ck.fail(f"LIFParams.{nm}", value, "a number, or one number per neuron")
            if np.ndim(value) == 0:
                check = ck.positive if nm in _POSITIVE else ck.non_negative if nm == "tau_refrac_ms" else ck.finite
                unit = {"tau_m_ms": "ms", "cm_nF": "nF", "tau_syn_e_ms": "ms", "tau_syn_i_ms": "ms",
                        "tau_refrac_ms": "ms"}.get(nm)
                check(f"LIFParams.{nm}", value, *((unit,) if unit else ()))
                continue
            a = ck.finite_array(f"LIFParams.{nm}", value)
            if a.ndim != 1 or a.size == 0:
                ck.fail(f"LIFParams.{nm} shape", a.shape, "a scalar or one value per neuron (1-D)")
            if nm in _POSITIVE and a.min() <= 0.0:
                ck.fail(f"LIFParams.{nm}", float(a.min()), "> 0 (every neuron)")
            if nm == "tau_refrac_ms" and a.min() < 0.0:
                ck.fail(f"LIFParams.{nm}", float(a.min()), ">= 0 ms (every neuron)")
            object.__setattr__(self, nm, tuple(float(x) for x in a))
        for nm in _FINITE:
            a = np.abs(np.asarray(getattr(self, nm), float))
            if a.max() > MAGNITUDE:
                ck.fail(f"LIFParams.{nm}", float(np.asarray(getattr(self, nm), float).ravel()[np.argmax(a.ravel())]),
                        f"within +-{MAGNITUDE:g}")
        reset, thresh = np.asarray(self.v_reset_mV, float), np.asarray(self.v_thresh_mV, float)
        bad = np.broadcast_to(reset >= thresh, np.broadcast_shapes(reset.shape, thresh.shape))
        if bad.any():
            at = np.flatnonzero(bad.ravel())[0]
            ck.fail("LIFParams.v_reset_mV", float(np.broadcast_to(reset, bad.shape).ravel()[at]),
                    f"< v_thresh_mV ({float(np.broadcast_to(thresh, bad.shape).ravel()[at])})")

    @property
    def r_mohm(self) -> float | np.ndarray:
        """Membrane resistance tau_m / cm in MOhm (nA x MOhm = mV), per neuron where either is."""
        r = np.asarray(self.tau_m_ms, float) / np.asarray(self.cm_nF, float)
        return float(r) if r.ndim == 0 else r

    def per_neuron(self, name: str, size: int) -> np.ndarray:
        """Field ``name`` as one float64 value per neuron of a population of ``size``."""
        return np.broadcast_to(np.asarray(getattr(self, name), np.float64), (size,)).copy()

    def lengths(self) -> dict[str, int]:
        """The fields given per neuron and their lengths."""
        return {f: len(v) for f, v in vars(self).items() if isinstance(v, tuple)}


@dataclass(frozen=True)
class Population:
    """``size`` LIF neurons sharing one parameter set."""

    name: str
    size: int
    params: LIFParams = field(default_factory=LIFParams)

    def __post_init__(self) -> None:
        ck.name("Population.name", self.name)
        ck.count("Population.size", self.size)
        if self.size > MAX_SIZE:
            ck.fail("Population.size", self.size, f"an integer in [1, {MAX_SIZE}]")
        if not isinstance(self.params, LIFParams):
            ck.fail("Population.params", type(self.params).__name__, "a LIFParams")
        for nm, n in self.params.lengths().items():
            if n != self.size:
                ck.fail(f"Population[{self.name}].params.{nm} length", n, f"1 or one value per neuron ({self.size})")


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
        if isinstance(self.spike_times_ms, (str, bytes)) or not hasattr(self.spike_times_ms, "__iter__"):
            ck.fail("SpikeSourceArray.spike_times_ms", self.spike_times_ms,
                    "one sequence of times per neuron (a list of lists)")
        trains = []
        for i, times in enumerate(self.spike_times_ms):
            field_i = f"SpikeSourceArray.spike_times_ms[{i}]"
            if isinstance(times, (str, bytes)) or _ndim(times) != 1:
                ck.fail(field_i, times, "a sequence of times in ms (one per spike; a list of lists for the source)")
            raw = np.asarray(times)
            if raw.dtype.kind in "USO":  # numpy would parse "2" as 2.0
                bad = [x for x in list(times) if not isinstance(x, (int, float, np.integer, np.floating))]
                ck.fail(field_i, bad[0] if bad else raw.tolist(), "times in ms (numbers)")
            t = ck.finite_array(field_i, raw).ravel()
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
        if ck.count("size", size) > MAX_SIZE:
            ck.fail("size", size, f"an integer in [1, {MAX_SIZE}]")
        return cls(name, tuple(np.zeros(0) for _ in range(size)))


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
        if ck.count("PoissonSource.size", self.size) > MAX_SIZE:
            ck.fail("PoissonSource.size", self.size, f"an integer in [1, {MAX_SIZE}]")
        ck.non_negative("PoissonSource.rate_hz", self.rate_hz, "Hz")
        ck.non_negative("PoissonSource.start_ms", self.start_ms, "ms")
        if ck.real_or_inf("PoissonSource.stop_ms", self.stop_ms, "a time in ms (inf: never stops)") < self.start_ms:
            ck.fail("PoissonSource.stop_ms", self.stop_ms, f">= start_ms ({self.start_ms})")


Source = SpikeSourceArray | PoissonSource


@dataclass(frozen=True, eq=False)
class Projection:
    """Synapses from ``pre`` (population or source) onto ``post`` (population).

    ``weight_nA`` (>= 0; the receptor gives the sign) is a scalar, one value per connection or
    a distribution (:class:`~neurosim.connectors.Uniform`, :class:`~neurosim.connectors.Normal`:
    one draw per connection, from the distribution's own seed). Delays are ``delay_steps`` (whole
    steps >= 1) or ``delay_ms`` (ms: a scalar, one per connection or a distribution), which
    become steps by one rule, :func:`delay_steps_from_ms`: the nearest whole step (half a step
    rounds up), at least one, with a ``RuntimeWarning`` when a delay is not a multiple of dt.
    A :class:`FromList` connector's own per-connection values take precedence.
    """

    name: str
    pre: str
    post: str
    connector: Connector
    weight_nA: float | np.ndarray | Distribution = 0.0
    delay_steps: int | np.ndarray = 1
    receptor: Receptor = "excitatory"
    plasticity: STDP | None = None
    delay_ms: float | np.ndarray | Distribution | None = None

    def __post_init__(self) -> None:
        ck.name("Projection.name", self.name)
        ck.name("Projection.pre", self.pre)
        ck.name("Projection.post", self.post)
        if not isinstance(self.connector, (OneToOne, AllToAll, FixedProbability, FixedTotalNumber, FixedNumberPre,
                                           FromList)):
            ck.fail("Projection.connector", type(self.connector).__name__,
                    "OneToOne, AllToAll, FixedProbability, FixedTotalNumber, FixedNumberPre or FromList")
        if self.receptor not in ("excitatory", "inhibitory"):
            ck.fail("Projection.receptor", self.receptor, "'excitatory' or 'inhibitory'")
        if self.plasticity is not None and not isinstance(self.plasticity, STDP):
            ck.fail("Projection.plasticity", type(self.plasticity).__name__, "an STDP or None")
        if not isinstance(self.weight_nA, (Uniform, Normal)):
            w = ck.finite_array(f"Projection[{self.name}].weight_nA", self.weight_nA, minimum=0.0)
            if w.ndim > 1:
                ck.fail(f"Projection[{self.name}].weight_nA", w.shape, "a scalar or a 1-D array")
        d = ck.steps_array(f"Projection[{self.name}].delay_steps", self.delay_steps, minimum=1)
        if d.ndim > 1:
            ck.fail(f"Projection[{self.name}].delay_steps", d.shape, "a scalar or a 1-D array")
        if self.delay_ms is not None:
            if np.ndim(self.delay_steps) or int(self.delay_steps) != 1:
                ck.fail(f"Projection[{self.name}].delay_steps", self.delay_steps,
                        "left at its default (1) when delay_ms is given: one delay, in steps or in ms")
            if not isinstance(self.delay_ms, (Uniform, Normal)):
                ms = ck.finite_array(f"Projection[{self.name}].delay_ms", self.delay_ms, minimum=0.0)
                if ms.ndim > 1:
                    ck.fail(f"Projection[{self.name}].delay_ms", ms.shape, "a scalar or a 1-D array")


def delay_steps_from_ms(field_name: str, delay_ms: np.ndarray, dt_ms: float) -> np.ndarray:
    """Delays in ms as whole steps of ``dt_ms``: the nearest step (half a step rounds up, as spike times do),
    at least one. A delay that is not a multiple of dt (within 1e-9 of a step) gives one RuntimeWarning."""
    ck.positive("dt_ms", dt_ms, "ms")
    ms = ck.finite_array(field_name, delay_ms)
    steps = ck.ms_to_step_nearest(ms, dt_ms)
    if steps.size and steps.min() < 1:
        ck.fail(field_name, float(ms.ravel()[np.argmin(steps.ravel())]),
                f">= {dt_ms / 2:g} ms (at least one step of dt = {dt_ms:g} ms after rounding)")
    off = np.abs(ms / dt_ms - steps) > 1e-9
    if off.any():
        warnings.warn(f"{field_name}: {int(off.sum())} of {ms.size} delays are not multiples of dt = {dt_ms:g} ms "
                      f"(e.g. {float(ms.ravel()[np.argmax(off.ravel())]):g} ms): each is rounded to the nearest step",
                      RuntimeWarning, stacklevel=6)  # the Network(...) call
    return steps.astype(np.int64)


@dataclass(frozen=True, eq=False)
class Connections:
    """A projection resolved into arrays, in the connector's order."""

    pre: np.ndarray
    post: np.ndarray
    weight_nA: np.ndarray
    delay_steps: np.ndarray


_PARTS = (("populations", Population, "Population"),
          ("sources", (SpikeSourceArray, PoissonSource), "SpikeSourceArray or PoissonSource"),
          ("projections", Projection, "Projection"),
          ("monitors", (SpikeMonitor, StateMonitor, WeightMonitor), "SpikeMonitor, StateMonitor or WeightMonitor"))


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
        for nm, kinds, allowed in _PARTS:
            value = getattr(self, nm)
            if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
                ck.fail(f"Network.{nm}", value, f"a sequence of {allowed} objects")
            object.__setattr__(self, nm, tuple(value))
            for obj in getattr(self, nm):
                if not isinstance(obj, kinds):
                    ck.fail(f"Network.{nm}", obj if isinstance(obj, str) else type(obj).__name__,
                            f"a sequence of {allowed} objects")
        if not self.populations and not self.sources:
            ck.fail("Network.populations", (), "at least one Population or spike source")
        names: set[str] = set()
        for obj in (*self.populations, *self.sources, *self.projections):
            if obj.name in names:
                ck.fail("name", obj.name, "unique across populations, sources and projections")
            names.add(obj.name)
        for s in self.sources:
            if isinstance(s, PoissonSource) and s.rate_hz * self.dt_ms / 1000.0 > 1.0:
                ck.fail(f"PoissonSource[{s.name}].rate_hz", s.rate_hz,
                        f"<= {1000.0 / self.dt_ms:g} Hz (one spike per step at dt = {self.dt_ms} ms)")
        resolved = {pr.name: self._resolve(pr) for pr in self.projections}
        object.__setattr__(self, "_connections", resolved)
        check_monitors(self)

    # -- lookups (``field``: what an unknown name's error names) -------------------------------------------
    def node(self, name: str, *, field: str = "Network.node name") -> Population | Source:
        nodes = {o.name: o for o in (*self.populations, *self.sources)}
        return nodes[ck.one_of(field, name, list(nodes), " (a population or source of this network)")]

    def population(self, name: str, *, field: str = "Network.population name") -> Population:
        obj = self.node(name, field=field)
        if not isinstance(obj, Population):
            ck.fail(field, name, "a Population (this is a spike source)")
        return obj

    def projection(self, name: str, *, field: str = "Network.projection name") -> Projection:
        projections = {p.name: p for p in self.projections}
        return projections[ck.one_of(field, name, list(projections), " (a projection of this network)")]

    def connections(self, name: str) -> Connections:
        self.projection(name, field="Network.connections name")
        return self._connections[name]

    # -- validation ------------------------------------------------------------
    def _resolve(self, pr: Projection) -> Connections:
        pre = self.node(pr.pre, field=f"Projection[{pr.name}].pre")
        post = self.node(pr.post, field=f"Projection[{pr.name}].post")
        if not isinstance(post, Population):
            ck.fail(f"Projection[{pr.name}].post", pr.post, "a Population (sources have no synapses)")
        pre_idx, post_idx = pr.connector.connect(pre.size, post.size, same=pre is post)
        n = pre_idx.size
        w = _per_connection(f"Projection[{pr.name}].weight_nA", pr.weight_nA, n)
        if n and w.min() < 0.0:
            ck.fail(f"Projection[{pr.name}].weight_nA", float(w.min()),
                    f">= 0 (drawn from {pr.weight_nA}: the receptor gives the sign; clip the distribution)")
        if pr.delay_ms is None:
            d = _per_connection(f"Projection[{pr.name}].delay_steps", pr.delay_steps, n).astype(np.int64)
        else:
            d = delay_steps_from_ms(f"Projection[{pr.name}].delay_ms",
                                    _per_connection(f"Projection[{pr.name}].delay_ms", pr.delay_ms, n), self.dt_ms)
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


def _per_connection(field_name: str, value: object, n: int) -> np.ndarray:
    """A scalar, one value per connection or a distribution, as ``n`` values."""
    if isinstance(value, (Uniform, Normal)):
        return value.draw(n)
    a = np.asarray(value)
    if a.ndim == 0:
        return np.full(n, a.item(), dtype=a.dtype)
    if a.shape != (n,):
        ck.fail(f"{field_name} length", a.size, f"1 (a scalar) or one per connection ({n})")
    return a.copy()
