r"""Baseline memories: the classical Hopfield network and a dense associative memory.

Both implement :class:`~neurosim.memory.Memory` on binary items ``x`` (bool, ``n_units``
entries), coded as spins :math:`s = 2x - 1 \in \{-1, +1\}^N`.

**Classical Hopfield network** (:class:`Hopfield`; Hopfield 1982). Hebbian outer-product
weights in the covariance form for biased patterns (Amit, Gutfreund & Sompolinsky 1987),
with :math:`m = 2a - 1` the mean spin of patterns of activity ``a``:

.. math::
    W_{ij} = \frac{1}{N} \sum_\mu n_\mu (s^\mu_i - m)(s^\mu_j - m), \qquad W_{ii} = 0, \qquad
    h_i = \sum_j W_{ij} s_j - \theta, \qquad s_i \leftarrow \operatorname{sign}(h_i)

(``m = 0`` at ``a = 0.5``: Hopfield's rule; :math:`n_\mu` is how often item :math:`\mu` was
stored: learning is incremental, storing an item twice doubles its outer product). A unit
with :math:`h_i = 0` exactly keeps its state; "exactly" holds in the arithmetic too: for an
activity ``p/q`` (``q`` up to :math:`2^{20}`) the network keeps the integer weights
:math:`\sum_\mu n_\mu c'^\mu_i c'^\mu_j` of :math:`c' = (s - m) q / 2 \in \{q - p, -p\}`, so fields
are integers (exact while below :math:`2^{53}`) and ties are not broken by round-off. With 0/1
units the same network is the Tsodyks & Feigel'man (1988) rule
:math:`\sum_\mu (x^\mu_i - a)(x^\mu_j - a)` up to a factor 4 and a threshold shift (for patterns
of exactly ``a N`` active units only the removed self-couplings' :math:`\sum_\mu (s^\mu_i - m)^2 / N`).

Updates: ``"async"`` visits the units one at a time in a random order per sweep, until a
sweep changes nothing (a fixed point) or after ``max_sweeps`` sweeps; ``"sync"`` updates all
units at once until a fixed point, a 2-cycle (the state of two sweeps ago comes back; the
latest state is returned) or ``max_sweeps``. The random orders are a fixed schedule: sweep
``k`` of every recall uses the ``k``-th permutation drawn from ``numpy.random.default_rng(seed)``
(drawn once, on first use; :meth:`reset` redraws the same ones). Recall is therefore a
deterministic function of the stored items, the cue and the seed: :meth:`Hopfield.recall_many`
gives exactly what :meth:`Hopfield.recall` gives on each cue, and recalling twice gives the same
answer.

Familiarity (:meth:`Hopfield.recognize`) is the *effective overlap*: from the energy
:math:`E_c = -\tfrac12 c^T W^{full} c` of the centred item :math:`c = s - m` with the
self-couplings restored, :math:`\sum_\mu n_\mu (c^\mu \cdot c)^2 = -2N E_c` (Bogacz, Brown &
Giraud-Carrier 2001 use the Hopfield energy for familiarity discrimination), normalised so that
a stored item scores 1:

.. math::
    \text{fam}(x) = \min\Big(1, \sqrt{\sum_\mu n_\mu \cos^2(c^\mu, c)\,\frac{|c^\mu|^2}{N(1 - m^2)}}\Big)
    = \min\Big(1, \frac{\sqrt{\sum_\mu n_\mu (c^\mu \cdot c)^2}}{|c|\,\sqrt{N (1 - m^2)}}\Big)

(:math:`|c^\mu|^2 = N(1 - m^2)` for patterns of exactly ``a N`` active units). At low load a
stored item scores about 1 and a random item about :math:`\sqrt{P/N}`.

Threshold: ``threshold=0`` is right for ``a = 0.5``. For sparse patterns a
stored pattern's own field is :math:`(s^\mu_i - m)(1 - m^2)` (on units :math:`(1-m)(1-m^2)`,
off units :math:`-(1+m)(1-m^2)`, e.g. 0.648 and -0.072 at ``a = 0.1``), and the crosstalk
of the others (s.d. about :math:`(1 - m^2)\sqrt{P/N}`, plus a shift of the off units towards 0
by :math:`(1 - m^2) P/N` from the removed self-couplings) lifts the many off units over a zero
threshold: at ``a = 0.1`` and zero threshold recall fails already at ``P = 0.05 N``.
``threshold="auto"`` is the midpoint of the two fields, :math:`\theta = -m(1 - m^2) = 4a(1-a)(1-2a)`
(0 at ``a = 0.5``, 0.288 at ``a = 0.1``; :func:`auto_threshold`). A cue with centred overlap
:math:`q = (c^\mu \cdot c)/(N(1-m^2))` drives the pattern's units over it when
:math:`q > (1-2a)/(2(1-a))` (0.44 at ``a = 0.1``): a fragment keeping half the active units
(``q = 1/2``) still completes. ``threshold="auto"`` is the default (0 at ``a = 0.5``, where it is
Hopfield's). Measured recall against the threshold: docs/models/hopfield.md.

**Dense associative memory** (:class:`DenseAssociativeMemory`; Krotov & Hopfield 2016,
exponential interaction: Demircigil et al. 2017). It keeps the patterns :math:`\xi^\mu \in
\{-1,+1\}^N` themselves (with multiplicities :math:`n_\mu`: storing an item twice stores it
twice) and descends

.. math::
    E(s) = -\sum_\mu n_\mu F(O_\mu), \quad O_\mu = (\xi^\mu - m) \cdot s, \qquad
    F(x) = \max(x, 0)^n \ (\text{``polynomial''}, \text{or } x^n \text{ with } \texttt{rectified=False}),
    \qquad F(x) = e^{\beta x} \ (\text{``exponential''})

with :math:`m = 2a - 1` (``activity``; ``m = 0`` by default: Krotov & Hopfield's
:math:`\xi \cdot s`). Centring matters for sparse patterns: two random patterns of activity
0.1 have :math:`\xi^\mu \cdot \xi^\nu \approx 0.64 N`, so with ``m = 0`` every pattern
overlaps every state strongly and a polynomial memory completes nothing (measured: Jaccard
0.00-0.10 from fragments). Updates, one unit at a time (``"async"``, the same order schedule
as the classical network) or all at once (``"sync"``):
:math:`s_i \leftarrow \operatorname{sign}(\Delta_i)`, :math:`\Delta_i = -E(s_i{=}{+1}) + E(s_i{=}{-1})
= \sum_\mu n_\mu [F(O^+_\mu) - F(O^-_\mu)]` (unchanged on a tie). From the current overlaps,
one of :math:`O^\pm_\mu` is :math:`O_\mu`, the other differs by :math:`2 c^\mu_i`,
:math:`c^\mu_i \in \{1 - m, -1 - m\}` (pattern on / off at ``i``), so
:math:`\Delta_i = \sum_\mu t^{s_i}_{\mu, \text{on/off}}` picks per pattern one of two precomputed
terms: a unit costs one pass over the ``P`` patterns, a flip one update of the overlaps and terms.
For the exponential the terms are :math:`n_\mu e^{\beta(O_\mu - \max O)}` times per-sign factors
divided by :math:`e^{2\beta|c|}` (``expm1``): nothing overflows at N = 1000 or large ``beta``, and
agreeing and disagreeing patterns are summed separately (no cancellation against a
:math:`\tanh\beta` term). The rectified polynomial is the default: negatively overlapping
patterns add no crosstalk and :math:`-E \ge 0`, so the familiarity below is always defined.
With ``degree=2, rectified=False`` at ``a = 0.5`` the dynamics is the classical network's
(:math:`\Delta_i = 4 h_i`); the tests check that the two give identical recalls.

Measured capacities: docs/models/hopfield.md.

Familiarity (:meth:`DenseAssociativeMemory.recognize`) is the effective overlap
:math:`F^{-1}(-E)/(N(1 - m^2))` clipped to [0, 1]: :math:`(\sum_\mu n_\mu F(O_\mu))^{1/n}` (0 when
the sum is not positive) or :math:`\operatorname{logsumexp}(\beta O + \ln n)/\beta`, over
:math:`N(1 - m^2)`, a stored pattern's own overlap. A stored item scores 1 (clipped from at
least 1 for the rectified polynomial and the exponential); for :math:`F = x^2`
(``rectified=False``) at ``a = 0.5`` it is the classical formula.

Engines (``backend``): ``numba`` (:mod:`.hopfield_numba`: one cue at a time inside the kernel,
fields / overlaps updated on each flip) and ``torch`` (:mod:`.hopfield_torch`: all cues of a
batch advance together, one unit at a time for ``"async"``, one matrix product per sweep for
``"sync"``; CPU or CUDA, float64 or float32). Both visit the units in the same orders, so in
float64 they give the same recalls: the classical network's fields and the polynomial terms are
integers (exact below :math:`2^{53}`); the exponential's terms are summed in another order, so a
unit whose :math:`\Delta_i` is within rounding of 0 could differ (none in the tests). float32
holds integers exactly only below :math:`2^{24}`: larger fields are rounded, so a unit within
rounding of its threshold could flip (none in the tests; :data:`neurosim.memory.FLOAT32_TOLERANCE`).

Activity: the covariance rule is centred for the ``activity`` it is given. Stored items whose
active fraction is far from it (more than half of ``min(a, 1 - a)`` plus 3 standard deviations
of a random item's) raise one ``RuntimeWarning`` per memory: a network centred for 0.5 that is
fed 10%-sparse items completes nothing and finds every item familiar.
"""

from __future__ import annotations

import importlib
import math
import warnings
from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar

import numpy as np

from neurosim import _checks as ck
from neurosim.memory import Memory, as_pattern

UPDATES = ("async", "sync")
INTERACTIONS = ("polynomial", "exponential")
_ENGINES = {"numba": "neurosim.models.hopfield_numba", "torch": "neurosim.models.hopfield_torch"}


def auto_threshold(activity: float) -> float:
    r"""The sparse-pattern threshold :math:`-m(1 - m^2) = 4a(1-a)(1-2a)`, :math:`m = 2a - 1`: the midpoint
    between a stored pattern's on- and off-unit fields (0 at ``a = 0.5``)."""
    return 4.0 * activity * (1.0 - activity) * (1.0 - 2.0 * activity)


def _check_activity(activity: object) -> None:
    if not 0.0 < ck.finite("activity", activity) < 1.0:
        ck.fail("activity", activity, "in (0, 1) (exclusive)")


def _levels(activity: float) -> tuple[float, tuple[float, float]]:
    """``(scale, (on, off))``: the centred spins ``s - m`` times ``scale`` for an on and an off unit. For an
    activity p/q (q up to 2^20) scale = q/2 and the levels are the integers q - p and -p (exact sums)."""
    frac = Fraction(float(activity)).limit_denominator(1 << 20)
    if float(frac) == float(activity):
        return frac.denominator / 2.0, (float(frac.denominator - frac.numerator), -float(frac.numerator))
    m = 2.0 * float(activity) - 1.0
    return 1.0, (1.0 - m, -1.0 - m)


def _choice(field: str, value: object, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        ck.fail(field, value, "one of " + ", ".join(repr(a) for a in allowed))
    return value


def _spins(x: np.ndarray) -> np.ndarray:
    return np.where(x, 1.0, -1.0)


class _Orders:
    """The fixed schedule of per-sweep unit orders: permutation k of default_rng(seed)."""

    def __init__(self, n_units: int, max_sweeps: int, seed: int) -> None:
        self.n_units, self.max_sweeps, self.seed = n_units, max_sweeps, seed
        self.reset()

    def reset(self) -> None:
        self.rng = np.random.default_rng(self.seed)
        self._orders: np.ndarray | None = None

    def get(self) -> np.ndarray:
        if self._orders is None:
            self._orders = np.array([self.rng.permutation(self.n_units) for _ in range(self.max_sweeps)],
                                    dtype=np.int64).reshape(self.max_sweeps, self.n_units)
        return self._orders


class _Network(Memory):
    """What both networks share: the engine's arrays, the centred levels, the sweep orders and the
    activity check."""

    engines = tuple(_ENGINES)

    def _init_network(self, n_units: int, activity: float, max_sweeps: int, seed: int, backend: str,
                      device: str | None, dtype: str | None) -> None:
        self._setup(n_units, seed=seed, backend=backend, device=device, dtype=dtype, minimum_units=2)
        self._engine = importlib.import_module(_ENGINES[self.backend])
        self._orders = _Orders(self.n_units, max_sweeps, self.seed)
        # exact arithmetic: for an activity p/q the centred spins (s - m) q/2 are the integers q - p and -p,
        # so the stored weights and the fields are integers and ties (h = theta) are exact
        self._scale, self._levels = _levels(activity)
        a = float(activity)
        self._activity_slack = 0.5 * min(a, 1.0 - a) + 3.0 * math.sqrt(a * (1.0 - a) / self.n_units)
        self._warned = False

    def _check_items(self, items: np.ndarray) -> None:
        """One RuntimeWarning per memory when stored items are far sparser or denser than ``activity``."""
        a = float(self.params.activity)
        frac = items.mean(axis=1)
        far = np.abs(frac - a) > self._activity_slack
        if not self._warned and far.any():
            self._warned = True
            warnings.warn(f"{type(self).__name__}: stored items have {frac[far][0]:.3g} of their units active but "
                          f"the network is centred for activity = {a:g}: recall and familiarity fail; create it "
                          f"with activity={frac[far][0]:.3g} (neurosim.models.create sets it from sparsity)",
                          RuntimeWarning, stacklevel=4)

    def _centred(self, x: np.ndarray) -> np.ndarray:
        """``scale (s - m)`` of bool rows: integers when the activity is a fraction p/q (scale q/2)."""
        return np.where(x, *self._levels)

    def _sweep_orders(self) -> np.ndarray | None:
        return self._orders.get() if self.params.update == "async" else None

    def _close(self) -> None:
        self._arrays = None  # frees the engine's arrays (device memory on CUDA)


# ---------------------------------------------------------------------------------------------
# the classical network


@dataclass(frozen=True)
class HopfieldParams:
    """The classical network's settings (see the module docstring)."""

    activity: float = 0.5            # a: the patterns' active fraction; m = 2a - 1 centres the covariance rule
    threshold: float | str = "auto"  # theta (in units of the field h), or "auto" = -m (1 - m^2)
    update: str = "async"            # "async" (random order per sweep) or "sync"
    max_sweeps: int = 100            # most sweeps per recall

    def __post_init__(self) -> None:
        _check_activity(self.activity)
        if isinstance(self.threshold, str):
            if self.threshold != "auto":
                ck.fail("threshold", self.threshold, "a finite number or 'auto'")
        else:
            ck.finite("threshold", self.threshold)
        _choice("update", self.update, UPDATES)
        ck.count("max_sweeps", self.max_sweeps)

    @property
    def mean_spin(self) -> float:
        return 2.0 * float(self.activity) - 1.0

    @property
    def theta(self) -> float:
        """The threshold as a number."""
        return auto_threshold(float(self.activity)) if self.threshold == "auto" else float(self.threshold)


class Hopfield(_Network):
    """The classical Hopfield network under the memory contract (see the module docstring).

    ``store`` adds one outer product, ``recall`` runs the dynamics from the cue (bool result),
    ``recognize`` is the effective overlap, ``reset`` forgets everything. ``n_stored`` counts
    stored items (with repeats); ``last_sweeps`` holds the sweeps each cue of the last recall took.
    """

    familiarity: ClassVar[str] = ("the effective overlap sqrt(sum_mu n_mu cos^2(c_mu, c)) of the centred item with the "
                                  "stored ones (from the energy): 1 for a stored item, about sqrt(P/N) for a novel one")

    def __init__(self, n_units: int, *, activity: float = 0.5, threshold: float | str = "auto",
                 update: str = "async", max_sweeps: int = 100, seed: int = 0, backend: str = "numba",
                 device: str | None = None, dtype: str | None = None) -> None:
        self.params = HopfieldParams(activity=activity, threshold=threshold, update=update, max_sweeps=max_sweeps)
        self._init_network(n_units, activity, max_sweeps, seed, backend, device, dtype)
        self._reset()

    def _store(self, items: np.ndarray, keys: None) -> None:
        self._check_items(items)
        self._arrays.add(self._centred(items))
        self.n_stored += items.shape[0]

    def _recall(self, cues: np.ndarray) -> np.ndarray:
        theta_n = self.params.theta * self.n_units * self._scale**2  # theta in the units of the stored J
        out, self.last_sweeps = self._arrays.recall(_spins(cues), theta_n, self._sweep_orders(),
                                                    self.params.max_sweeps)
        return out

    def _recognize(self, items: np.ndarray) -> np.ndarray:
        m = self.params.mean_spin
        c = self._centred(items)
        energy = self._arrays.quadratic(c)  # scale^4 sum_mu n_mu (c_mu . c)^2
        norm = np.einsum("ki,ki->k", c, c) * self.n_units * (1.0 - m * m) * self._scale**2
        return np.clip(np.sqrt(np.maximum(energy, 0.0) / norm), 0.0, 1.0)

    def _reset(self) -> None:
        self._arrays = self._engine.HopfieldArrays(self.n_units, self.device, self.dtype)
        self.n_stored = 0
        self.last_sweeps = np.zeros(0, dtype=np.int64)
        self._orders.reset()

    # -- inspection --------------------------------------------------------------------------------------
    @property
    def weights(self) -> np.ndarray:
        """``W`` (N, N): the normalised weights, zero diagonal (a copy)."""
        self._open()
        return self._arrays.weights() / (self.n_units * self._scale**2)

    def energy(self, state: np.ndarray) -> float:
        """Hopfield energy ``-1/2 s^T W s + theta sum_i s_i`` of a binary state."""
        s = _spins(as_pattern("state", state, self.n_units))
        return float(-0.5 * s @ self.weights @ s + self.params.theta * s.sum())


# ---------------------------------------------------------------------------------------------
# the dense associative memory


@dataclass(frozen=True)
class DenseParams:
    """The dense associative memory's settings (see the module docstring)."""

    interaction: str = "polynomial"  # "polynomial" (F = x^n, rectified by default) or "exponential" (e^(beta x))
    degree: int = 3                  # n of the polynomial
    beta: float = 1.0                # inverse temperature of the exponential (per unit of overlap)
    rectified: bool = True           # polynomial: F = max(x, 0)^n (True) or x^n
    activity: float = 0.5            # a: the patterns' active fraction; overlaps use the centred xi - m
    update: str = "async"
    max_sweeps: int = 100

    def __post_init__(self) -> None:
        _choice("interaction", self.interaction, INTERACTIONS)
        ck.count("degree", self.degree, minimum=2)
        ck.positive("beta", self.beta)
        if not isinstance(self.rectified, (bool, np.bool_)):
            ck.fail("rectified", self.rectified, "True or False")
        _check_activity(self.activity)
        _choice("update", self.update, UPDATES)
        ck.count("max_sweeps", self.max_sweeps)

    @property
    def mean_spin(self) -> float:
        return 2.0 * float(self.activity) - 1.0


class DenseAssociativeMemory(_Network):
    """A dense associative memory (Krotov & Hopfield 2016) under the memory contract.

    ``store`` keeps the item (a repeat raises its multiplicity), ``recall`` descends the energy from
    the cue, ``recognize`` is ``F^-1(-E) / (N (1 - m^2))``. ``n_stored`` counts stored items (with
    repeats), ``multiplicity`` how often each distinct pattern (``patterns``, in first-stored order) was
    stored; ``last_sweeps`` holds the sweeps each cue of the last recall took.
    """

    familiarity: ClassVar[str] = ("the effective overlap F^-1(-E) / (N (1 - m^2)): 1 for a stored item, the "
                                  "interaction-weighted overlap with the closest stored items for a novel one")

    def __init__(self, n_units: int, *, interaction: str = "polynomial", degree: int = 3, beta: float = 1.0,
                 rectified: bool = True, activity: float = 0.5, update: str = "async", max_sweeps: int = 100,
                 seed: int = 0, backend: str = "numba", device: str | None = None, dtype: str | None = None) -> None:
        self.params = DenseParams(interaction=interaction, degree=degree, beta=beta, rectified=rectified,
                                  activity=activity, update=update, max_sweeps=max_sweeps)
        self._init_network(n_units, activity, max_sweeps, seed, backend, device, dtype)
        # F of the largest overlap (in the integer units), summed over many patterns, must stay finite
        biggest = (self.n_units + 2.0) * max(abs(v) for v in self._levels)
        max_degree = max(2, int(250.0 / math.log10(biggest)))
        if interaction == "polynomial" and degree > max_degree:
            ck.fail("degree", degree, f"an integer in [2, {max_degree}] for n_units = {self.n_units} and "
                                      f"activity = {activity} (F = x^degree must stay finite)")
        self._reset()

    def _store(self, items: np.ndarray, keys: None) -> None:
        self._check_items(items)
        new = []
        for x in items:
            key = np.packbits(x).tobytes()
            at = self._index.get(key)
            if at is None:
                self._index[key] = at = len(self._counts)
                self._counts.append(0.0)
                new.append(x)
            self._counts[at] += 1.0
        if new:
            self._arrays.append(self._centred(np.array(new)))
        self.n_stored += items.shape[0]

    def _recall(self, cues: np.ndarray) -> np.ndarray:
        if not self._counts:
            self.last_sweeps = np.zeros(cues.shape[0], dtype=np.int64)
            return cues.copy()  # no energy: every state is a fixed point
        pr = self.params
        beta = float(pr.beta) / self._scale  # per unit of the integer overlaps
        c_on, c_off = self._levels
        a, b = 2.0 * beta * c_on, -2.0 * beta * c_off  # e^a, e^b: what a flip does to the weight of a pattern
        factors = np.array([np.exp(-b) * -np.expm1(-a), np.expm1(-b), -np.expm1(-a), np.exp(-a) * np.expm1(-b)])
        out, self.last_sweeps = self._arrays.recall(
            _spins(cues), np.asarray(self._counts), pr.interaction == "exponential", pr.degree, bool(pr.rectified),
            beta, c_on, c_off, factors, self._sweep_orders(), pr.max_sweeps)
        return out

    def _recognize(self, items: np.ndarray) -> np.ndarray:
        if not self._counts:
            return np.zeros(items.shape[0])
        o = self._arrays.overlaps(_spins(items), self._scale)
        counts = np.asarray(self._counts)
        pr = self.params
        if pr.interaction == "exponential":
            top = o.max(axis=1)
            eff = top + np.log(np.exp(pr.beta * (o - top[:, None])) @ counts) / pr.beta
        else:
            total = self._f(o) @ counts
            eff = np.where(total > 0.0, np.abs(total) ** (1.0 / pr.degree), 0.0)
        m = pr.mean_spin
        return np.clip(eff / (self.n_units * (1.0 - m * m)), 0.0, 1.0)

    def _reset(self) -> None:
        self._arrays = self._engine.DenseArrays(self.n_units, self.device, self.dtype)
        self._counts: list[float] = []
        self._index: dict[bytes, int] = {}
        self.n_stored = 0
        self.last_sweeps = np.zeros(0, dtype=np.int64)
        self._orders.reset()

    # -- inspection --------------------------------------------------------------------------------------
    @property
    def patterns(self) -> np.ndarray:
        """The distinct stored patterns (bool, (P, N)), in first-stored order."""
        self._open()
        return self._arrays.patterns() > 0.0

    @property
    def multiplicity(self) -> np.ndarray:
        """How often each of :attr:`patterns` was stored (int)."""
        return np.asarray(self._counts, dtype=np.int64)

    def energy(self, state: np.ndarray) -> float:
        """``E(s) = -sum_mu n_mu F((xi_mu - m) . s)`` (for the exponential: may overflow to -inf for large
        overlaps, unlike the dynamics and :meth:`recognize`)."""
        self._open()
        s = _spins(as_pattern("state", state, self.n_units))
        if not self._counts:
            return 0.0
        o = self._arrays.overlaps(s[None], self._scale)[0]
        counts = np.asarray(self._counts)
        if self.params.interaction == "exponential":
            with np.errstate(over="ignore"):
                return float(-(np.exp(self.params.beta * o) @ counts))
        return float(-(self._f(o) @ counts))

    def _f(self, o: np.ndarray) -> np.ndarray:
        """The polynomial F."""
        return np.maximum(o, 0.0) ** self.params.degree if self.params.rectified else o ** self.params.degree
