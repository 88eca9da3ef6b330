r"""The classical Hopfield network under the memory contract.

It implements :class:`~neurosim.memory.Memory` on binary items ``x`` (bool, ``n_units``
entries), coded as spins :math:`s = 2x - 1 \in \{-1, +1\}^N`, as the dense associative memory
(:mod:`.dense_memory`) does; what the two share (levels, sweep orders, engines, activity check) is
in :mod:`.spin_network`.

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

Familiarity (:meth:`Hopfield.recognize`) is the *normalised energy*: the energy of the centred
item :math:`c = s - m` under the learned weights (self-couplings excluded), divided by what one
storage of the item itself contributes to it,

.. math::
    \text{fam}(x) = \operatorname{clip}\Big(\frac{c^T W c}{\big((c \cdot c)^2 - \sum_i c_i^4\big)/N},\ 0,\ 1\Big).

Under the Hebbian rule :math:`c^T W c = \frac1N \sum_\mu n_\mu [(c^\mu \cdot c)^2 - \sum_i (c^\mu_i c_i)^2]`:
an item stored once scores 1 plus the others' crosstalk, a novel one the crosstalk alone, whose
mean is 0 and whose spread is about :math:`\sqrt{2P}/N` (dense patterns). So stored items stand
above novel ones at any load up to :math:`P \sim N^2` (familiarity outlasts recall, Bogacz, Brown
& Giraud-Carrier 2001 use the Hopfield energy for familiarity discrimination), where recall
fails past :math:`0.138 N`. Under a palimpsest rule (below) it reads the trace's strength: about
:math:`\lambda^{\text{age}}` under ``"marginalist"``.

Learning (``learning``): how a store changes the weights, :math:`\Delta_\mu = \frac1N (s^\mu - m)(s^\mu - m)^T`
(zero diagonal):

- ``"hebbian"`` (default): :math:`W \leftarrow W + \Delta_\mu`, the rule above. Past about
  :math:`0.138 N` items (dense patterns) every memory is lost at once (the blackout);
- ``"clipped"`` (Parisi 1986, "a memory which forgets"; the bounded synapses of "learning within
  bounds", Nadal, Toulouse, Changeux & Dehaene 1986): :math:`W \leftarrow \operatorname{clip}(W + \Delta_\mu,
  -b, b)` with :math:`b = B (1 - m^2)/\sqrt N` (``bound`` = B; one store's step has s.d.
  :math:`(1-m^2)/N`, so a weight holds about :math:`B\sqrt N` steps). A weight at its bound no longer
  records older items, so they fade and the most recent ones stay retrievable (a palimpsest); ``b``
  is rounded to a whole number of the integer weight units, so the arithmetic stays exact;
- ``"marginalist"`` (Nadal, Toulouse, Changeux & Dehaene 1986; Mézard, Nadal & Toulouse 1986):
  :math:`W \leftarrow \lambda W + \Delta_\mu`, :math:`\lambda = e^{-\varepsilon^2 / (2N)}` (``epsilon`` =
  :math:`\varepsilon`): an item of age k (stores since) weighs :math:`\lambda^k`. The weights leave the
  integers, so ties at the threshold are no longer exact;
- ``"binary"`` (Amit & Fusi 1994, bounded synapses with stochastic transitions): every weight has
  two states, :math:`W_{ij} = \pm (1 - m^2)/N`, drawn at random (symmetric) at the start; a store
  sets each pair's weight to the sign of its Hebbian term :math:`(s_i - m)(s_j - m)` with probability
  ``q``, and leaves it otherwise. An item of age k keeps about :math:`q(1-q)^k` of its signal
  against noise of order :math:`1/\sqrt N`, so the number of newest items retrieved grows only
  like :math:`\log(q\sqrt N)/q`, at best about :math:`\sqrt N` (q of order :math:`1/\sqrt N`):
  less than linearly. The transitions are drawn from the seed. Meant for dense patterns: for sparse
  ones the sign rule treats the frequent off-off pairs as potentiating.

The clipped and marginalist palimpsests keep a stationary number of the most recent items
retrievable, proportional to N, and never black out; ``neurosim run palimpsest`` measures that
number for every rule, against its parameter and N (docs/forgetting.md). ``forget(method="exact")``
needs the Hebbian rule (the others are not invertible); ``"unlearning"`` works under every rule,
within its weights: the clipped rule clips after it, the binary one makes anti-Hebbian transitions
(each pair towards the opposite of the retrieved state's sign, with probability q).

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

Engines (``backend``): ``numba`` (:mod:`.hopfield_numba`) and ``torch`` (:mod:`.hopfield_torch`, CPU
or CUDA, float64 or float32) visit the units in the same orders; how far their recalls agree:
docs/models/hopfield.md, section Engines.

Forgetting one item (:meth:`Hopfield.forget`, ``method``):

- ``"exact"`` (default) subtracts the item's own outer product,
  :math:`W \leftarrow W - \frac1N (s^\mu - m)(s^\mu - m)^T` (diagonal kept at 0). The integer
  weights make it exact: the network is then equal, weight for weight, to one that never stored
  the item (stored and forgotten ``n`` times: to one that stored it ``n`` fewer times), and so are
  its recalls and familiarities. It needs the item itself, which a brain does not keep.
- ``"unlearning"``: Hebbian unlearning (Hopfield, Feinstein & Palmer 1983), aimed at one item.
  The network settles from the item to the state it retrieves, :math:`s^*`, and weakens that
  state: :math:`W \leftarrow W - \frac{\varepsilon}{N}(s^* - m)(s^* - m)^T`, repeated
  ``unlearning_steps`` times (each from the item again; ``unlearning_rate`` :math:`\varepsilon`,
  1 = one storage's worth). Below capacity the item is its own attractor and one step at
  :math:`\varepsilon = 1` equals exact removal; near capacity the retrieved state is a
  corrupted copy, so part of the item stays (a residue) and the spurious bits are unlearned
  instead, at the expense of the items that share them. With :math:`\varepsilon \ne 1` the
  weights leave the integers and ties at the threshold are no longer exact.

Activity: the covariance rule is centred for the ``activity`` it is given. Stored items whose
active fraction is far from it (more than half of ``min(a, 1 - a)`` plus 3 standard deviations
of a random item's) raise one ``RuntimeWarning`` per memory: a network centred for 0.5 that is
fed 10%-sparse items completes nothing and finds every item familiar.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from neurosim import _checks as ck
from neurosim.memory import as_pattern
from neurosim.models.spin_network import UPDATES, _check_activity, _choice, _Network, _spins

LEARNING = ("hebbian", "clipped", "marginalist", "binary")  # how a store changes the weights (module docstring)


def auto_threshold(activity: float) -> float:
    r"""The sparse-pattern threshold :math:`-m(1 - m^2) = 4a(1-a)(1-2a)`, :math:`m = 2a - 1`: the midpoint
    between a stored pattern's on- and off-unit fields (0 at ``a = 0.5``)."""
    return 4.0 * activity * (1.0 - activity) * (1.0 - 2.0 * activity)


@dataclass(frozen=True)
class HopfieldParams:
    """The classical network's settings (see the module docstring)."""

    activity: float = 0.5            # a: the patterns' active fraction; m = 2a - 1 centres the covariance rule
    threshold: float | str = "auto"  # theta (in units of the field h), or "auto" = -m (1 - m^2)
    update: str = "async"            # "async" (random order per sweep) or "sync"
    max_sweeps: int = 100            # most sweeps per recall
    unlearning_rate: float = 1.0     # forget(method="unlearning"): epsilon, in storages of one item
    unlearning_steps: int = 1        # forget(method="unlearning"): settle-and-weaken rounds
    learning: str = "hebbian"        # "hebbian", "clipped", "marginalist" or "binary" (module docstring)
    bound: float = 0.3               # learning="clipped": |W_ij| <= bound (1 - m^2) / sqrt(N)
    epsilon: float = 3.5             # learning="marginalist": lambda = exp(-epsilon^2 / (2 N)) per store
    q: float = 0.1                   # learning="binary": each synapse's transition probability per store

    def __post_init__(self) -> None:
        _check_activity(self.activity)
        _choice("learning", self.learning, LEARNING)
        if not 0.0 < ck.finite("bound", self.bound) <= 100.0:
            ck.fail("bound", self.bound, "in (0, 100] (units of (1 - m^2) / sqrt(N))")
        if not 0.0 < ck.finite("epsilon", self.epsilon) <= 100.0:
            ck.fail("epsilon", self.epsilon, "in (0, 100] (lambda = exp(-epsilon^2 / (2 N)))")
        if not 0.0 < ck.finite("q", self.q) <= 1.0:
            ck.fail("q", self.q, "in (0, 1] (a transition probability)")
        if not 0.0 < ck.finite("unlearning_rate", self.unlearning_rate) <= 10.0:
            ck.fail("unlearning_rate", self.unlearning_rate, "in (0, 10] (storages of one item)")
        ck.count("unlearning_steps", self.unlearning_steps)
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
    ``recognize`` is the normalised energy, ``reset`` forgets everything. ``n_stored`` counts
    stored items (with repeats); ``last_sweeps`` holds the sweeps each cue of the last recall took.
    """

    familiarity: ClassVar[str] = ("the normalised energy c W c / (one storage's own) of the centred item, "
                                  "self-couplings excluded: about 1 for an item stored once, 0 +- sqrt(2P)/N for a "
                                  "novel one, at any load (under a palimpsest rule: the trace's strength)")
    forget_methods: ClassVar[tuple[str, ...]] = ("exact", "unlearning")

    def __init__(self, n_units: int, *, activity: float = 0.5, threshold: float | str = "auto",
                 update: str = "async", max_sweeps: int = 100, unlearning_rate: float = 1.0,
                 unlearning_steps: int = 1, learning: str = "hebbian", bound: float = 0.3, epsilon: float = 3.5,
                 q: float = 0.1, seed: int = 0, backend: str = "numba", device: str | None = None,
                 dtype: str | None = None) -> None:
        self.params = HopfieldParams(activity=activity, threshold=threshold, update=update, max_sweeps=max_sweeps,
                                     unlearning_rate=unlearning_rate, unlearning_steps=unlearning_steps,
                                     learning=learning, bound=bound, epsilon=epsilon, q=q)
        if learning != "hebbian":  # clipping, decay and transitions are not invertible: no exact removal
            self.forget_methods = ("unlearning",)
        self._init_network(n_units, activity, max_sweeps, seed, backend, device, dtype,
                           n_bytes=lambda n: 8.0 * n * n)  # the weights J (N, N) float64
        self._reset()

    def _store(self, items: np.ndarray, keys: None) -> None:
        self._check_items(items)
        c = self._centred(items)
        p = self.params
        if p.learning == "hebbian":
            self._arrays.add(c)
        else:  # palimpsests: one item at a time, in order (module docstring)
            step_sd = (1.0 - p.mean_spin**2) * self._scale**2  # s.d. of one store's step, integer units
            bound = self._bound()
            decay = math.exp(-p.epsilon**2 / (2.0 * self.n_units))
            for row in c:
                if p.learning == "binary":
                    self._transitions(row, step_sd)
                    continue
                if p.learning == "marginalist":
                    self._arrays.scale(decay)
                self._arrays.add(row[None])
                if p.learning == "clipped":
                    self._arrays.clip(bound)
        self.n_stored += items.shape[0]

    def _recall(self, cues: np.ndarray) -> np.ndarray:
        theta_n = self.params.theta * self.n_units * self._scale**2  # theta in the units of the stored J
        out, self.last_sweeps = self._arrays.recall(_spins(cues), theta_n, self._sweep_orders(),
                                                    self.params.max_sweeps)
        return out

    def _recognize(self, items: np.ndarray) -> np.ndarray:
        c = self._centred(items)
        own = np.einsum("ki,ki->k", c, c) ** 2 - (c**4).sum(axis=1)  # c W c of one storage of c (integer units)
        return np.clip(self._arrays.quadratic(c) / np.where(own > 0, own, 1.0), 0.0, 1.0)

    def _forget(self, items: np.ndarray, keys: None, method: str) -> None:
        if method == "exact":
            self._arrays.add(self._centred(items), -1.0)
        else:  # Hebbian unlearning of the state the item retrieves, within the rule's weights (module docstring)
            p = self.params
            for _ in range(p.unlearning_steps):
                state = self._centred(self._recall(items))
                if p.learning == "binary":  # anti-Hebbian transitions: towards the opposite sign
                    self._transitions(state[0], (1.0 - p.mean_spin**2) * self._scale**2, sign=-1.0)
                    continue
                self._arrays.add(state, -float(p.unlearning_rate))
                if p.learning == "clipped":
                    self._arrays.clip(self._bound())
        self.n_stored -= 1

    def _bound(self) -> float:
        """learning="clipped": the bound in integer weight units (module docstring)."""
        step_sd = (1.0 - self.params.mean_spin**2) * self._scale**2
        return max(1.0, round(self.params.bound * step_sd * math.sqrt(self.n_units)))

    def _transitions(self, c: np.ndarray, level: float, sign: float = 1.0) -> None:
        """learning="binary": each pair (i < j) takes ``sign`` times the sign of c_i c_j with probability q
        (symmetric)."""
        upper = self._upper
        move = self._synapses.random(upper[0].size) < self.params.q
        rows, cols = upper[0][move], upper[1][move]
        value = sign * np.sign(c[rows] * c[cols]) * level
        self._arrays.assign(np.concatenate([rows, cols]), np.concatenate([cols, rows]), np.concatenate([value, value]))

    def _reset(self) -> None:
        self._arrays = self._engine.HopfieldArrays(self.n_units, self.device, self.dtype)
        self.n_stored = 0
        self.last_sweeps = np.zeros(0, dtype=np.int64)
        self._orders.reset()
        if self.params.learning == "binary":  # synapses start in random states; transitions from the seed
            self._synapses = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(1,)))
            level = (1.0 - self.params.mean_spin**2) * self._scale**2
            upper = self._upper = np.triu_indices(self.n_units, 1)
            j = np.zeros((self.n_units, self.n_units))
            j[upper] = np.where(self._synapses.random(upper[0].size) < 0.5, level, -level)
            self._arrays.set(j + j.T)

    # -- inspection --------------------------------------------------------------------------------------
    @property
    def weights(self) -> np.ndarray:
        """``W`` (N, N): the normalised weights, zero diagonal (a copy)."""
        self._open()
        return self._arrays.weights() / (self.n_units * self._scale**2)

    def trajectory(self, cue: np.ndarray) -> np.ndarray:
        """The states a recall from ``cue`` passes through, one row per sweep (row 0: the cue; the last row
        is what :meth:`recall` returns), bool (sweeps + 1, N). Sweep k's state is that of a recall cut
        after k sweeps: the same unit orders, so the same path."""
        self._open()
        s = _spins(as_pattern("cue", cue, self.n_units))[None]
        theta_n = self.params.theta * self.n_units * self._scale**2
        orders = self._sweep_orders()
        _, sweeps = self._arrays.recall(s, theta_n, orders, self.params.max_sweeps)
        rows = [s[0] > 0]
        for k in range(1, int(sweeps[0]) + 1):
            out, _ = self._arrays.recall(s, theta_n, None if orders is None else orders[:k], k)
            rows.append(out[0])
        return np.array(rows)

    def energy(self, state: np.ndarray) -> float:
        """Hopfield energy ``-1/2 s^T W s + theta sum_i s_i`` of a binary state."""
        s = _spins(as_pattern("state", state, self.n_units))
        return float(-0.5 * s @ self.weights @ s + self.params.theta * s.sum())
