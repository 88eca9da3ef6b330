"""Every registered memory by name: what it is, the engines it runs on, and defaults that work.

:func:`create` builds a memory for items of ``n_units`` units with ``sparsity`` of them active,
deriving what the model needs from the sparsity (the Hopfield family's activity and threshold, the
dense polynomial memory's degree, the dendritic segments' size and threshold; the autoassociative
CA3's inhibition is fixed); each rule says what it was measured against. ``**options`` go to the
model's constructor and override those defaults. :func:`available` lists the memories and the
engines installed here. The forgetting harness, the live viewer and the command line read this
table; nothing keeps its own list.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from neurosim import _checks as ck
from neurosim import backends
from neurosim.memory import Memory

SPIKING = tuple(backends.names())  # the spiking memories run on every engine of the core


@dataclass(frozen=True)
class Entry:
    """A registered memory: its class (``module:Class``), its engines and how to build it."""

    summary: str
    cls: str                # "module:Class"
    size: str               # the constructor's keyword for the item size (n_units)
    engines: tuple[str, ...]
    defaults: Callable[[int, int, float], dict]  # (n_units, active units, sparsity) -> constructor keywords
    keys: int = 0           # > 0: keyed, the number of keys (store and forget take one)


HOPFIELD_THRESHOLD = 0.9  # x the on/off-field midpoint (auto_threshold); see _hopfield


def _hopfield(n: int, active: int, f: float) -> dict:
    """Activity from the sparsity; the threshold 0.9 of the on/off-field midpoint (``auto_threshold``): at the
    midpoint itself a half-item fragment sits on the edge at low activity (its cue units lose their
    self-coupling and fall below it), so recall from fragments of one stored item at f = 0.05, N = 200 failed
    (Jaccard 0.67, 3 seeds) while 10 items succeeded; at 0.9 recall falls monotonically with load (1.00 up to
    10 items, 0.95 at 20, 0.67 at 30) and is unchanged within 0.1 at f = 0.1 and 0.2."""
    from neurosim.models.hopfield import auto_threshold

    return {"activity": f, "threshold": HOPFIELD_THRESHOLD * auto_threshold(f)}


MARGINALIST_THRESHOLD = 0.8  # x the on/off-field midpoint; see _hopfield_marginalist


def _hopfield_marginalist(n: int, active: int, f: float) -> dict:
    """The marginalist palimpsest (epsilon 3.5): an item of age k weighs exp(-3.5^2 k / 2N), so its fragments
    drive its units less than the newest item's. At the Hebbian entry's 0.9 of the midpoint the oldest of 3
    items was lost at f = 0.05 (N = 200); at 0.8 all are recalled at f = 0.05 to 0.5
    (tests/models/test_memory_contract.py), and the newest of 2000 items at f = 0.1
    (tests/models/test_palimpsest.py)."""
    from neurosim.models.hopfield import auto_threshold

    return {"activity": f, "threshold": MARGINALIST_THRESHOLD * auto_threshold(f), "learning": "marginalist"}


DENDRITES = {"s": 12, "max_segments": 64, "steps": 2}


def _dendrites(n: int, active: int, f: float) -> dict:
    """A half cue leaves about half of an item unit's segment synapses active; a unit outside the item sees a
    fraction f / 2 of its synapses active, which at dense activity is close behind. Large segments separate
    the two (their counts spread as sqrt(s)), and a threshold just below s / 2 keeps the completed units
    while rejecting the others: s = max(12, 0.8 a) synapses (a the active units; at most a - 1, since a unit
    samples the item's others), theta = (s - 1) // 2. At a = 20 (f = 0.1, N = 200): s = 16, theta = 7. 64
    segments per unit, oldest recycled, give the memory its forgetting (HTM's segment limit). Measured
    (N = 200 and 1000, f = 0.02 to 0.5, 3 to 30 items, 6 seeds, half cues): recall 0.99-1.00 except N = 200
    at f = 0.5 (0.99 / 0.92 / 0.82 at 3 / 10 / 30 items) and at f = 0.02 (4 active units: 0.79 at 10
    items); the earlier fixed s = 12, theta = 5 completed nothing at f = 0.5 (Jaccard 0.52, the cue)."""
    if active < 2:
        ck.fail("sparsity", f, f">= {2 / n:g} for the dendritic memory (2 active units: each samples another)")
    s = min(active - 1, max(DENDRITES["s"], round(0.8 * active)))
    return {"s": s, "theta": max(1, (s - 1) // 2), "max_segments": DENDRITES["max_segments"],
            "steps": DENDRITES["steps"]}


def _dam_poly(n: int, active: int, f: float) -> dict:
    """F(x) = x^3 (Krotov & Hopfield's example) from 10% activity up; sparser items need a steeper F, degree
    round(0.3 / f): the crosstalk of the many patterns that share an active unit pushes it on, and the
    memory has no threshold. Measured at N = 200, f = 0.05, half cues: Jaccard 0.50 / 0.49 / 0.27 at
    degree 3 (3 / 10 / 20 items), 1.00 / 1.00 / 1.00 at degree 6."""
    return {"interaction": "polynomial", "degree": max(3, round(0.3 / f)), "activity": f}


CA3_AUTO_INHIBITION = 0.75  # x w_max: the PC<->PC inhibition of the registered ca3-auto (see _ca3_auto)


def _ca3_auto(n: int, active: int, f: float) -> dict:
    """The published inhibition (1.5 nA) merges patterns that share 2 cells (capacity: a few patterns, see
    ca3_auto's docstring); 0.75 w_max = 9 nA makes a PC need about 3/4 of the active cells, a Willshaw-like
    threshold. Measured at N = 200, 5 items, half cues: recall 0.54 / 0.34 / 0.52 at f = 0.05 / 0.1 / 0.5 with
    1.5 nA, 1.00 / 1.00 at f = 0.05 / 0.1 with 9 nA (at f = 0.5, 1.00 with 3 items: binary saturating weights
    fill up fast at dense activity)."""
    from neurosim.models.ca3_auto import PC_RULE, CA3AutoParams

    return {"params": CA3AutoParams(w_inh_nA=CA3_AUTO_INHIBITION * PC_RULE.w_max_nA)}


SPARSEY_CELLS = 20  # q CMs of k cells each, for both registered MACs


def _sparsey_decay(n: int, active: int, f: float) -> dict:
    """decay p = 2 f / k: one item sets the share s = f / k of the U weights, so their share stays below
    s / (s + p) = 1/3, where a stored code still wins its CMs. Measured at N = 200, 600 items, half cues
    (recall >= 0.9 for the newest): 6 / 7 / 3 items at f = 0.05 / 0.1 / 0.2 (p = f / k: 1-5, weights 0.4
    full; 4 f / k: 3, weights 0.17 full); the newest ~10 items' G stays above a novel item's."""
    from neurosim.models.sparsey import CSAParams

    return {"q": SPARSEY_CELLS, "k": SPARSEY_CELLS, "params": CSAParams(decay=2 * f / SPARSEY_CELLS)}


CA3_KEYS = 50


_REGISTRY: dict[str, Entry] = {
    "hopfield": Entry("classical Hopfield network, covariance rule, sparse threshold",
                      "neurosim.models.hopfield:Hopfield", "n_units", ("numba", "torch"), _hopfield),
    "hopfield-marginalist": Entry("palimpsest Hopfield network: weights decay by exp(-3.5^2 / 2N) per store (Nadal et "
                                  "al. 1986), threshold 0.8 of the midpoint", "neurosim.models.hopfield:Hopfield",
                                  "n_units", ("numba", "torch"), _hopfield_marginalist),
    "dam-poly": Entry("dense associative memory, F(x) = x^3 (Krotov & Hopfield 2016; steeper below 10% activity)",
                      "neurosim.models.dense_memory:DenseAssociativeMemory", "n_units", ("numba", "torch"), _dam_poly),
    "dam-exp": Entry("dense associative memory, F(x) = exp(x) (Demircigil et al. 2017)",
                     "neurosim.models.dense_memory:DenseAssociativeMemory", "n_units", ("numba", "torch"),
                     lambda n, a, f: {"interaction": "exponential", "activity": f}),
    "sparsey": Entry("Sparsey MAC, 20 x 20 cells, single-trial learning", "neurosim.models.sparsey:SparseyMemory",
                     "n_inputs", ("numba", "torch"), lambda n, a, f: {"q": SPARSEY_CELLS, "k": SPARSEY_CELLS}),
    "sparsey-decay": Entry("palimpsest Sparsey MAC: each set weight returns to 0 with probability 2 f / k per "
                           "stored item (bounded binary synapses)", "neurosim.models.sparsey:SparseyMemory",
                           "n_inputs", ("numba", "torch"), _sparsey_decay),
    "dendrites": Entry("dendritic autoassociative memory: a neuron per unit, segments of s = max(12, 0.8 a) "
                       "synapses, threshold (s - 1) // 2, <= 64 segments each",
                       "neurosim.models.dendritic_memory:DendriticMemory", "n",
                       ("numba", "torch"), _dendrites),
    "ca3": Entry(f"spiking CA3 content-addressable memory, {CA3_KEYS} cues (keyed)", "neurosim.models.ca3:CA3Memory",
                 "n_bits", SPIKING, lambda n, a, f: {"n_cues": CA3_KEYS}, keys=CA3_KEYS),
    "ca3-auto": Entry("spiking autoassociative CA3 (PC<->PC STDP, inhibition 0.75 w_max)",
                      "neurosim.models.ca3_auto:CA3AutoMemory", "n_cells", SPIKING, _ca3_auto),
}


def names() -> list[str]:
    return list(_REGISTRY)


def entry(name: str) -> Entry:
    if not isinstance(name, str) or name not in _REGISTRY:
        ck.fail("model", name, f"one of {names()}")
    return _REGISTRY[name]


def available() -> dict[str, tuple[str, ...]]:
    """Every registered memory and the engines it runs on here (those whose library is installed)."""
    return {name: tuple(b for b in e.engines if backends.is_available(b)) for name, e in _REGISTRY.items()}


def model_class(name: str) -> type[Memory]:
    """The class of a registered memory (imports its module)."""
    module, cls = entry(name).cls.split(":")
    return getattr(importlib.import_module(module), cls)


def create(name: str, *, n_units: int, sparsity: float, backend: str = "numba", device: str | None = None,
           dtype: str | None = None, seed: int = 0, **options) -> Memory:
    """A new memory ``name`` for items of ``n_units`` units with ``round(sparsity n_units)`` active, on
    ``backend`` (one of the model's engines; anything else is refused with their list), ``device`` and
    ``dtype``. ``options`` override the derived defaults (each model's constructor keywords)."""
    e = entry(name)
    n = ck.count("n_units", n_units, minimum=2)
    f = ck.in_range("sparsity", sparsity, 0.0, 1.0)
    active = round(f * n)
    if active < 1:
        ck.fail("sparsity", sparsity, f"in [{1 / n:g}, 1] (at least one active unit of n_units = {n})")
    if not isinstance(backend, str) or backend not in e.engines:
        ck.fail("backend", backend, f"one of {list(e.engines)} for {name}")
    kwargs = {**e.defaults(n, active, f), **options, e.size: n}
    return model_class(name)(backend=backend, device=device, dtype=dtype, seed=seed, **kwargs)
