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

Threshold: ``threshold=0`` (the default) is right for ``a = 0.5``. For sparse patterns a
stored pattern's own field is :math:`(s^\mu_i - m)(1 - m^2)` (on units :math:`(1-m)(1-m^2)`,
off units :math:`-(1+m)(1-m^2)`, e.g. 0.648 and -0.072 at ``a = 0.1``), and the crosstalk
of the others (s.d. about :math:`(1 - m^2)\sqrt{P/N}`, plus a shift of the off units towards 0
by :math:`(1 - m^2) P/N` from the removed self-couplings) lifts the many off units over a zero
threshold: at ``a = 0.1`` and zero threshold recall fails already at ``P = 0.05 N``.
``threshold="auto"`` is the midpoint of the two fields, :math:`\theta = -m(1 - m^2) = 4a(1-a)(1-2a)`
(0 at ``a = 0.5``, 0.288 at ``a = 0.1``; :func:`auto_threshold`). A cue with centred overlap
:math:`q = (c^\mu \cdot c)/(N(1-m^2))` drives the pattern's units over it when
:math:`q > (1-2a)/(2(1-a))` (0.44 at ``a = 0.1``): a fragment keeping half the active units
(``q = 1/2``) still completes. Measured (N = 500, a = 0.1, 50 active units, async, mean
Jaccard / fraction exact; cues: fragments keeping half the active units):

=============  ===========  ===========  ===========  ===========  ===========
threshold       P = 0.05 N   P = 0.1 N    P = 0.15 N   P = 0.2 N    P = 0.3 N
=============  ===========  ===========  ===========  ===========  ===========
0               0.23 / 0     0.17 / 0     0.16 / 0     0.16 / 0     0.15 / 0
theta / 2       0.96 / 0.84  0.35 / 0.02  0.25 / 0     0.22 / 0     0.19 / 0
theta (auto)    1.00 / 1.00  1.00 / 0.96  0.99 / 0.83  0.92 / 0.36  0.29 / 0
1.25 theta      0.12 / 0.12  0.54 / 0.54  0.69 / 0.68  0.94 / 0.83  0.83 / 0.13
=============  ===========  ===========  ===========  ===========  ===========

Cues with 5 of the 50 active units moved, or 25 of the 500 units flipped, give the same numbers
within 0.03 for the first three rows, but 1.00 / 1.00, 1.00 / 0.99, 1.00 / 0.88, 0.86 / 0.18 at
1.25 theta (0.1 N to 0.3 N): a higher threshold suits cues already close to a pattern, while a
fragment's signal (``q = 1/2``) then lies below it at low load and the state dies out. ``"auto"``
works for both; at N = 1000, a = 0.05 it gives 1.00 / 1.00 at 0.1 N, 0.98 / 0.74 at 0.2 N.

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

Measured (N = 100, 10 of 100 bits flipped, async): exact recall of all P = 50, 100, 200
patterns (0.138 N = 14) for degree 3 (99% at P = 200 without rectification) and the
exponential (beta = 1; all 800 at P = 800), where the classical network recalls none (mean
overlap 0.43 to 0.25). At activity 0.1 (centred, fragments keeping half the active units): the exponential recalls
exactly up to P = 400 at N = 200; degree 3 only at low load (N = 200: Jaccard 1.00 at P = 6,
0.91 at 20, 0.50 at 50; N = 100: 0.83 at P = 6), since the convex F makes the crosstalk of
the patterns that share unit ``i`` a net push to turn it on and the DAM has no threshold.

Familiarity (:meth:`DenseAssociativeMemory.recognize`) is the effective overlap
:math:`F^{-1}(-E)/(N(1 - m^2))` clipped to [0, 1]: :math:`(\sum_\mu n_\mu F(O_\mu))^{1/n}` (0 when
the sum is not positive) or :math:`\operatorname{logsumexp}(\beta O + \ln n)/\beta`, over
:math:`N(1 - m^2)`, a stored pattern's own overlap. A stored item scores 1 (clipped from at
least 1 for the rectified polynomial and the exponential); for :math:`F = x^2`
(``rectified=False``) at ``a = 0.5`` it is the classical formula.

Both dynamics run in numba kernels, one cue at a time inside the kernel (so a batch gives
bit-identical results to single recalls), with fields / overlaps updated incrementally on
each flip. Storing is numpy (``store_many`` is one matrix product).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numba
import numpy as np

from neurosim import _checks as ck
from neurosim.memory import as_pattern

UPDATES = ("async", "sync")
INTERACTIONS = ("polynomial", "exponential")
_FAST = {"reassoc", "contract"}  # lets the dot products vectorise; no NaN / inf assumptions


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


def _patterns(field: str, items: Any, size: int) -> np.ndarray:
    """Validate a batch of binary patterns, shape (k, size); return bool rows."""
    a = np.asarray(items)
    if a.ndim != 2 or a.shape[1] != size:
        ck.fail(f"{field} shape", a.shape, f"(k, {size})")
    if a.dtype != bool:
        if not np.issubdtype(a.dtype, np.number) or not np.all((a == 0) | (a == 1)):
            ck.fail(field, a.ravel().tolist()[:8], "binary values (0/1 or bool)")
        a = a.astype(bool)
    return a


def _spins(x: np.ndarray) -> np.ndarray:
    return np.where(x, 1.0, -1.0)


def _no_key(key: object) -> None:
    if key is not None:
        ck.fail("key", key, "None (a content-addressable memory has no addresses)")


class _OneAtATime:
    """The memory protocol's one-item methods, on the batched ``store_many`` / ``recall_many`` /
    ``recognize_many`` of both networks."""

    n_units: int

    def store(self, item: np.ndarray, key: object = None) -> None:
        """Store one item (incremental: storing it again adds it again)."""
        _no_key(key)
        self.store_many(as_pattern("item", item, self.n_units)[None])

    def recall(self, cue: np.ndarray) -> np.ndarray:
        """The state the dynamics reaches from ``cue`` (bool)."""
        return self.recall_many(as_pattern("cue", cue, self.n_units)[None])[0]

    def recognize(self, item: np.ndarray) -> float:
        """Familiarity in [0, 1] (module docstring)."""
        return float(self.recognize_many(as_pattern("item", item, self.n_units)[None])[0])


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


# ---------------------------------------------------------------------------------------------
# the classical network


@dataclass(frozen=True)
class HopfieldParams:
    """The classical network's settings (see the module docstring)."""

    activity: float = 0.5            # a: the patterns' active fraction; m = 2a - 1 centres the covariance rule
    threshold: float | str = 0.0     # theta (in units of the field h), or "auto" = -m (1 - m^2)
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


@numba.njit(cache=True, fastmath=_FAST)
def _fields(j, s, h):
    """h[i] = sum_k s[k] j[k, i] (rows of j are contiguous: the loop is an axpy per k)."""
    n = s.size
    for i in range(n):
        h[i] = 0.0
    for k in range(n):
        sk = s[k]
        row = j[k]
        for i in range(n):
            h[i] += sk * row[i]


@numba.njit(cache=True)
def _hopfield_async(j, states, theta_n, orders, sweeps):
    """Asynchronous dynamics of each row of ``states`` (+-1, in place) under the unnormalised weights
    ``j`` (zero diagonal) and the threshold ``theta_n`` = N theta; fields updated on each flip."""
    n_rows, n = states.shape
    h = np.empty(n)
    for b in range(n_rows):
        s = states[b]
        _fields(j, s, h)
        sweeps[b] = 0
        for k in range(orders.shape[0]):
            changed = False
            for i in orders[k]:
                g = h[i] - theta_n
                if g > 0.0:
                    new = 1.0
                elif g < 0.0:
                    new = -1.0
                else:
                    continue
                if new != s[i]:
                    d = new - s[i]
                    s[i] = new
                    row = j[i]
                    for u in range(n):
                        h[u] += d * row[u]
                    changed = True
            sweeps[b] = k + 1
            if not changed:
                break


@numba.njit(cache=True)
def _hopfield_sync(j, states, theta_n, max_sweeps, sweeps):
    """Synchronous dynamics of each row: all units from the same fields, until a fixed point, a
    2-cycle or ``max_sweeps``."""
    n_rows, n = states.shape
    h = np.empty(n)
    new = np.empty(n)
    before = np.empty(n)  # the state one sweep ago
    for b in range(n_rows):
        s = states[b]
        _fields(j, s, h)
        sweeps[b] = 0
        before[:] = np.nan
        for k in range(max_sweeps):
            n_flip = 0
            for i in range(n):
                g = h[i] - theta_n
                new[i] = 1.0 if g > 0.0 else (-1.0 if g < 0.0 else s[i])
                if new[i] != s[i]:
                    n_flip += 1
            sweeps[b] = k + 1
            if n_flip == 0:
                break
            cycle = True
            for i in range(n):
                if new[i] != before[i]:
                    cycle = False
                before[i] = s[i]
            for i in range(n):
                if new[i] != s[i]:
                    d = new[i] - s[i]
                    s[i] = new[i]
                    row = j[i]
                    for u in range(n):
                        h[u] += d * row[u]
            if cycle:
                break


class Hopfield(_OneAtATime):
    """The classical Hopfield network as a :class:`~neurosim.memory.Memory` (see the module docstring).

    ``store`` adds one outer product, ``recall`` runs the dynamics from the cue (bool result),
    ``recognize`` is the effective overlap, ``reset`` forgets everything. ``n_stored`` counts
    stored items (with repeats); ``last_sweeps`` holds the sweeps each cue of the last recall took.
    """

    def __init__(self, n_units: int, *, activity: float = 0.5, threshold: float | str = 0.0,
                 update: str = "async", max_sweeps: int = 100, seed: int = 0) -> None:
        self.n_units = ck.count("n_units", n_units, minimum=2)
        self.params = HopfieldParams(activity=activity, threshold=threshold, update=update, max_sweeps=max_sweeps)
        self.seed = ck.count("seed", seed, minimum=0)
        self._orders = _Orders(self.n_units, self.params.max_sweeps, self.seed)
        # exact arithmetic: for an activity p/q the centred spins (s - m) q/2 are the integers q - p and -p,
        # so the stored weights and the fields are integers and ties (h = theta) are exact
        self._scale, self._levels = _levels(self.params.activity)
        self.reset()

    # -- the memory protocol -----------------------------------------------------------------------
    def store_many(self, items: np.ndarray) -> None:
        """Store the rows of ``items`` (k, n_units): one matrix product."""
        c = self._centred(_patterns("items", items, self.n_units))
        self._j += c.T @ c
        self._diag += np.einsum("ki,ki->i", c, c)
        np.fill_diagonal(self._j, 0.0)
        self.n_stored += c.shape[0]

    def recall_many(self, cues: np.ndarray) -> np.ndarray:
        """:meth:`recall` of each row of ``cues`` (k, n_units), in one kernel call: (k, n_units) bool."""
        s = _spins(_patterns("cues", cues, self.n_units))
        self.last_sweeps = np.zeros(s.shape[0], dtype=np.int64)
        theta_n = self.params.theta * self.n_units * self._scale**2  # theta in the units of the stored J
        if self.params.update == "async":
            _hopfield_async(self._j, s, theta_n, self._orders.get(), self.last_sweeps)
        else:
            _hopfield_sync(self._j, s, theta_n, self.params.max_sweeps, self.last_sweeps)
        return s > 0.0

    def recognize_many(self, items: np.ndarray) -> np.ndarray:
        """:meth:`recognize` of each row of ``items`` (k, n_units)."""
        m = self.params.mean_spin
        c = self._centred(_patterns("items", items, self.n_units))
        energy = np.einsum("ki,ki->k", c @ self._j, c) + c * c @ self._diag  # scale^4 sum_mu n_mu (c_mu . c)^2
        norm = np.einsum("ki,ki->k", c, c) * self.n_units * (1.0 - m * m) * self._scale**2
        return np.clip(np.sqrt(np.maximum(energy, 0.0) / norm), 0.0, 1.0)

    def _centred(self, x: np.ndarray) -> np.ndarray:
        """``scale (s - m)`` of bool rows: integers when the activity is a fraction p/q (scale q/2)."""
        return np.where(x, *self._levels)

    def reset(self) -> None:
        """Forget everything (weights to 0) and restart the random orders."""
        self._j = np.zeros((self.n_units, self.n_units))
        self._diag = np.zeros(self.n_units)
        self.n_stored = 0
        self.last_sweeps = np.zeros(0, dtype=np.int64)
        self._orders.reset()

    # -- inspection --------------------------------------------------------------------------------------
    @property
    def weights(self) -> np.ndarray:
        """``W`` (N, N): the normalised weights, zero diagonal (a copy)."""
        return self._j / (self.n_units * self._scale**2)

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


@numba.njit(cache=True)
def _power(x, n, rectified):
    if rectified and x <= 0.0:
        return 0.0
    r = 1.0
    for _ in range(n):
        r *= x
    return r


@numba.njit(cache=True)
def _dam_terms(o, counts, exponential, degree, rectified, beta, c_on, c_off, factors, t):
    """What flipping a unit does to each pattern's n_mu F(O_mu), for the overlaps ``o``: t (4, P) rows
    [unit at +1, pattern on there], [+1, off], [-1, on], [-1, off]: n (F(O) - F(O - 2c)) for a unit at +1,
    n (F(O + 2c) - F(O)) at -1, c = c_on or c_off. Exponential: divided by e^(beta max O) and one positive
    constant per sign (``factors``, so that nothing overflows)."""
    p = o.size
    if exponential:
        top = o[0]
        for mu in range(1, p):
            if o[mu] > top:
                top = o[mu]
        for mu in range(p):
            w = counts[mu] * np.exp(beta * (o[mu] - top))
            for row in range(4):
                t[row, mu] = w * factors[row]
        return
    for mu in range(p):
        n = counts[mu]
        f0 = _power(o[mu], degree, rectified)
        t[0, mu] = n * (f0 - _power(o[mu] - 2.0 * c_on, degree, rectified))
        t[1, mu] = n * (f0 - _power(o[mu] - 2.0 * c_off, degree, rectified))
        t[2, mu] = n * (_power(o[mu] + 2.0 * c_on, degree, rectified) - f0)
        t[3, mu] = n * (_power(o[mu] + 2.0 * c_off, degree, rectified) - f0)


@numba.njit(cache=True, fastmath=_FAST)
def _dam_delta(col, t, si):
    """Delta_i: the sum over patterns of the change a flip of unit i to +1 (from -1) or kept at +1 makes."""
    d = 0.0
    if si > 0.0:
        for mu in range(col.size):
            d += t[0, mu] if col[mu] > 0.0 else t[1, mu]
    else:
        for mu in range(col.size):
            d += t[2, mu] if col[mu] > 0.0 else t[3, mu]
    return d


@numba.njit(cache=True, fastmath=_FAST)
def _dam_run(c, c_t, counts, states, exponential, degree, rectified, beta, c_on, c_off, factors, orders,
             synchronous, max_sweeps, sweeps):
    """DAM dynamics of each row of ``states`` (+-1, in place); ``c`` (P, N) the centred patterns (values
    c_on > 0 and c_off < 0) and ``c_t`` its transpose."""
    n_rows, n = states.shape
    p = c.shape[0]
    o = np.empty(p)
    t = np.empty((4, p))
    new = np.empty(n)
    before = np.empty(n)
    for r in range(n_rows):
        s = states[r]
        for mu in range(p):
            acc = 0.0
            row = c[mu]
            for i in range(n):
                acc += row[i] * s[i]
            o[mu] = acc
        _dam_terms(o, counts, exponential, degree, rectified, beta, c_on, c_off, factors, t)
        sweeps[r] = 0
        before[:] = np.nan
        for k in range(max_sweeps):
            changed = False
            if synchronous:
                for i in range(n):
                    d = _dam_delta(c_t[i], t, s[i])
                    new[i] = 1.0 if d > 0.0 else (-1.0 if d < 0.0 else s[i])
                    if new[i] != s[i]:
                        changed = True
                sweeps[r] = k + 1
                if not changed:
                    break
                cycle = True
                for i in range(n):
                    if new[i] != before[i]:
                        cycle = False
                    before[i] = s[i]
                for i in range(n):
                    if new[i] != s[i]:
                        s[i] = new[i]
                        col = c_t[i]
                        for mu in range(p):
                            o[mu] += 2.0 * new[i] * col[mu]
                _dam_terms(o, counts, exponential, degree, rectified, beta, c_on, c_off, factors, t)
                if cycle:
                    break
            else:
                for i in orders[k]:
                    d = _dam_delta(c_t[i], t, s[i])
                    if d > 0.0:
                        v = 1.0
                    elif d < 0.0:
                        v = -1.0
                    else:
                        continue
                    if v != s[i]:
                        s[i] = v
                        col = c_t[i]
                        for mu in range(p):
                            o[mu] += 2.0 * v * col[mu]
                        _dam_terms(o, counts, exponential, degree, rectified, beta, c_on, c_off, factors, t)
                        changed = True
                sweeps[r] = k + 1
                if not changed:
                    break


class DenseAssociativeMemory(_OneAtATime):
    """A dense associative memory (Krotov & Hopfield 2016) as a :class:`~neurosim.memory.Memory`.

    ``store`` keeps the item (a repeat raises its multiplicity), ``recall`` descends the energy from
    the cue, ``recognize`` is ``F^-1(-E) / (N (1 - m^2))``. ``n_stored`` counts stored items (with
    repeats), ``multiplicity`` how often each distinct pattern (``patterns``, in first-stored order) was
    stored; ``last_sweeps`` holds the sweeps each cue of the last recall took.
    """

    def __init__(self, n_units: int, *, interaction: str = "polynomial", degree: int = 3, beta: float = 1.0,
                 rectified: bool = True, activity: float = 0.5, update: str = "async", max_sweeps: int = 100,
                 seed: int = 0) -> None:
        self.n_units = ck.count("n_units", n_units, minimum=2)
        self.params = DenseParams(interaction=interaction, degree=degree, beta=beta, rectified=rectified,
                                  activity=activity, update=update, max_sweeps=max_sweeps)
        self._scale, self._levels = _levels(self.params.activity)
        # F of the largest overlap (in the integer units), summed over many patterns, must stay finite
        biggest = (self.n_units + 2.0) * max(abs(v) for v in self._levels)
        max_degree = max(2, int(250.0 / math.log10(biggest)))
        if interaction == "polynomial" and degree > max_degree:
            ck.fail("degree", degree, f"an integer in [2, {max_degree}] for n_units = {self.n_units} and "
                                      f"activity = {activity} (F = x^degree must stay finite)")
        self.seed = ck.count("seed", seed, minimum=0)
        self._orders = _Orders(self.n_units, self.params.max_sweeps, self.seed)
        self.reset()

    # -- the memory protocol -----------------------------------------------------------------------
    def store_many(self, items: np.ndarray) -> None:
        """Store the rows of ``items`` (k, n_units) in order."""
        items = _patterns("items", items, self.n_units)
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
            self._c = np.concatenate([self._c, np.where(np.array(new), *self._levels)])
            self._c_t = None
        self.n_stored += items.shape[0]

    def recall_many(self, cues: np.ndarray) -> np.ndarray:
        """:meth:`recall` of each row of ``cues`` (k, n_units), in one kernel call: (k, n_units) bool."""
        s = _spins(_patterns("cues", cues, self.n_units))
        self.last_sweeps = np.zeros(s.shape[0], dtype=np.int64)
        if not self._counts:
            return s > 0.0  # no energy: every state is a fixed point
        if self._c_t is None:
            self._c_t = np.ascontiguousarray(self._c.T)
        pr = self.params
        synchronous = pr.update == "sync"
        orders = np.zeros((0, self.n_units), dtype=np.int64) if synchronous else self._orders.get()
        beta = float(pr.beta) / self._scale  # per unit of the integer overlaps
        c_on, c_off = self._levels
        a, b = 2.0 * beta * c_on, -2.0 * beta * c_off  # e^a, e^b: what a flip does to the weight of a pattern
        factors = np.array([np.exp(-b) * -np.expm1(-a), np.expm1(-b), -np.expm1(-a), np.exp(-a) * np.expm1(-b)])
        _dam_run(self._c, self._c_t, np.asarray(self._counts), s, pr.interaction == "exponential", pr.degree,
                 bool(pr.rectified), beta, c_on, c_off, factors, orders, synchronous, pr.max_sweeps,
                 self.last_sweeps)
        return s > 0.0

    def recognize_many(self, items: np.ndarray) -> np.ndarray:
        """:meth:`recognize` of each row of ``items`` (k, n_units)."""
        s = _spins(_patterns("items", items, self.n_units))
        if not self._counts:
            return np.zeros(s.shape[0])
        o = self._overlaps(s)
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

    def reset(self) -> None:
        """Forget every pattern and restart the random orders."""
        self._c = np.zeros((0, self.n_units))
        self._c_t: np.ndarray | None = None
        self._counts: list[float] = []
        self._index: dict[bytes, int] = {}
        self.n_stored = 0
        self.last_sweeps = np.zeros(0, dtype=np.int64)
        self._orders.reset()

    # -- inspection --------------------------------------------------------------------------------------
    @property
    def patterns(self) -> np.ndarray:
        """The distinct stored patterns (bool, (P, N)), in first-stored order."""
        return self._c > 0.0

    @property
    def multiplicity(self) -> np.ndarray:
        """How often each of :attr:`patterns` was stored (int)."""
        return np.asarray(self._counts, dtype=np.int64)

    def energy(self, state: np.ndarray) -> float:
        """``E(s) = -sum_mu n_mu F((xi_mu - m) . s)`` (for the exponential: may overflow to -inf for large
        overlaps, unlike the dynamics and :meth:`recognize`)."""
        s = _spins(as_pattern("state", state, self.n_units))
        o = self._overlaps(s[None])[0]
        counts = np.asarray(self._counts)
        if self.params.interaction == "exponential":
            with np.errstate(over="ignore"):
                return float(-(np.exp(self.params.beta * o) @ counts))
        return float(-(self._f(o) @ counts))

    def _overlaps(self, s: np.ndarray) -> np.ndarray:
        """``(xi_mu - m) . s`` of spin rows (k, N): (k, P)."""
        return s @ self._c.T / self._scale

    def _f(self, o: np.ndarray) -> np.ndarray:
        """The polynomial F."""
        return np.maximum(o, 0.0) ** self.params.degree if self.params.rectified else o ** self.params.degree
