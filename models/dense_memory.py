r"""A dense associative memory (Krotov & Hopfield 2016) under the memory contract.

Items are binary patterns coded as spins :math:`s = 2x - 1`, as in :mod:`.hopfield`, whose engines
(``numba``, ``torch``), exact integer arithmetic, sweep orders and activity check it shares
(:mod:`.spin_network`).

The exponential interaction is Demircigil et al. (2017). It keeps the patterns :math:`\xi^\mu \in
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

Forgetting one item (:meth:`DenseAssociativeMemory.forget`, ``method="exact"``): its multiplicity
drops by one, and a pattern stored no more leaves the list (the others keep their order). The
memory then equals one that never stored that copy: the same patterns and multiplicities, so the
same recalls and familiarities.

Familiarity (:meth:`DenseAssociativeMemory.recognize`) is the effective overlap
:math:`F^{-1}(-E)/(N(1 - m^2))` clipped to [0, 1]: :math:`(\sum_\mu n_\mu F(O_\mu))^{1/n}` (0 when
the sum is not positive) or :math:`\operatorname{logsumexp}(\beta O + \ln n)/\beta`, over
:math:`N(1 - m^2)`, a stored pattern's own overlap. A stored item scores 1 (clipped from at
least 1 for the rectified polynomial and the exponential); for :math:`F = x^2`
(``rectified=False``) at ``a = 0.5`` it is the classical formula.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from neurosim import _checks as ck
from neurosim.memory import as_pattern
from neurosim.models.spin_network import UPDATES, _check_activity, _choice, _Network, _spins

INTERACTIONS = ("polynomial", "exponential")


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
    forget_methods: ClassVar[tuple[str, ...]] = ("exact",)

    def __init__(self, n_units: int, *, interaction: str = "polynomial", degree: int = 3, beta: float = 1.0,
                 rectified: bool = True, activity: float = 0.5, update: str = "async", max_sweeps: int = 100,
                 seed: int = 0, backend: str = "numba", device: str | None = None, dtype: str | None = None) -> None:
        self.params = DenseParams(interaction=interaction, degree=degree, beta=beta, rectified=rectified,
                                  activity=activity, update=update, max_sweeps=max_sweeps)
        self._init_network(n_units, activity, max_sweeps, seed, backend, device, dtype,
                           n_bytes=lambda n: 8.0 * n)  # one stored item, float64
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

    def _forget(self, items: np.ndarray, keys: None, method: str) -> None:
        key = np.packbits(items[0]).tobytes()
        at = self._index[key]
        self._counts[at] -= 1.0
        if self._counts[at] == 0.0:
            del self._counts[at]
            self._arrays.remove(at)
            self._index = {k: i - (i > at) for k, i in self._index.items() if k != key}
        self.n_stored -= 1

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
