"""Connectors: rules that turn two population sizes into (pre, post) index arrays.

Each is frozen data (so a Network stays a description), named as in PyNN.
Random connectors carry their own integer seed, so a Network always builds the
same synapses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from neurosim import _checks as ck

Pairs = tuple[np.ndarray, np.ndarray]


def _all_pairs(n_pre: int, n_post: int, allow_self: bool, same: bool) -> Pairs:
    ck.allocatable("AllToAll sizes (pre x post)", (n_pre, n_post), 32.0 * n_pre * n_post)
    pre, post = np.divmod(np.arange(n_pre * n_post, dtype=np.int64), n_post)
    if same and not allow_self:
        keep = pre != post
        pre, post = pre[keep], post[keep]
    return pre, post


def _sizes(rule: str, n_pre: object, n_post: object, same: object) -> tuple[int, int, bool]:
    """``connect``'s arguments checked: the two population sizes (integers >= 1) and ``same`` (a bool)."""
    return (ck.count(f"{rule}.connect n_pre", n_pre), ck.count(f"{rule}.connect n_post", n_post),
            ck.boolean(f"{rule}.connect same", same))


def all_but_self(n: int) -> Pairs:
    """Every (i, j) with i != j in [0, n), pre-major: AllToAll(allow_self_connections=False)'s order, also for two
    different populations of one size (neuron i onto every other index)."""
    return _all_pairs(n, n, False, True)


@dataclass(frozen=True)
class OneToOne:
    """Neuron i of the pre population onto neuron i of the post population."""

    def connect(self, n_pre: int, n_post: int, same: bool = False) -> Pairs:
        n_pre, n_post, same = _sizes("OneToOne", n_pre, n_post, same)
        if n_pre != n_post:
            ck.fail("OneToOne sizes", (n_pre, n_post), "equal pre and post sizes")
        ck.allocatable("OneToOne size", n_pre, 16.0 * n_pre)
        idx = np.arange(n_pre, dtype=np.int64)
        return idx, idx.copy()


@dataclass(frozen=True)
class AllToAll:
    """Every pre neuron onto every post neuron (self-connections optional)."""

    allow_self_connections: bool = True

    def __post_init__(self) -> None:
        ck.boolean("AllToAll.allow_self_connections", self.allow_self_connections)

    def connect(self, n_pre: int, n_post: int, same: bool = False) -> Pairs:
        n_pre, n_post, same = _sizes("AllToAll", n_pre, n_post, same)
        return _all_pairs(n_pre, n_post, self.allow_self_connections, same)


@dataclass(frozen=True)
class FixedProbability:
    """Each (pre, post) pair is connected independently with probability ``p``."""

    p: float
    allow_self_connections: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        ck.in_range("FixedProbability.p", self.p, 0.0, 1.0)
        ck.boolean("FixedProbability.allow_self_connections", self.allow_self_connections)
        ck.count("FixedProbability.seed", self.seed, minimum=0)

    def connect(self, n_pre: int, n_post: int, same: bool = False) -> Pairs:
        n_pre, n_post, same = _sizes("FixedProbability", n_pre, n_post, same)
        ck.allocatable("FixedProbability p x pre x post (expected synapses)", (self.p, n_pre, n_post),
                       32.0 * self.p * n_pre * n_post)
        rng = np.random.default_rng(self.seed)
        # Row blocks keep memory bounded (~16M draws at once) for large populations.
        rows = max(1, (1 << 24) // max(n_post, 1))
        pres, posts = [], []
        for start in range(0, n_pre, rows):
            stop = min(n_pre, start + rows)
            r, c = np.nonzero(rng.random((stop - start, n_post)) < self.p)
            pres.append(r.astype(np.int64) + start)
            posts.append(c.astype(np.int64))
        pre = np.concatenate(pres) if pres else np.zeros(0, np.int64)
        post = np.concatenate(posts) if posts else np.zeros(0, np.int64)
        if same and not self.allow_self_connections:
            keep = pre != post
            pre, post = pre[keep], post[keep]
        return pre, post


@dataclass(frozen=True)
class FixedTotalNumber:
    """Exactly ``n`` synapses in all, each (pre, post) pair drawn uniformly (PyNN ``FixedTotalNumberConnector``,
    NEST ``fixed_total_number``).

    ``with_replacement`` (default, as in PyNN and NEST) allows multapses: the same pair may be drawn more than once,
    and each draw is its own synapse; without it the ``n`` pairs are distinct. Synapses come pre-major (neurosim's
    canonical order, so compiling them is cheap); the number each post neuron gets is multinomial, as in NEST.
    """

    n: int
    allow_self_connections: bool = True
    with_replacement: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        ck.count("FixedTotalNumber.n", self.n, minimum=0)
        ck.boolean("FixedTotalNumber.allow_self_connections", self.allow_self_connections)
        ck.boolean("FixedTotalNumber.with_replacement", self.with_replacement)
        ck.count("FixedTotalNumber.seed", self.seed, minimum=0)

    def connect(self, n_pre: int, n_post: int, same: bool = False) -> Pairs:
        n_pre, n_post, same = _sizes("FixedTotalNumber", n_pre, n_post, same)
        ck.allocatable("FixedTotalNumber.n", self.n, 32.0 * self.n)
        no_self = same and not self.allow_self_connections
        pairs = n_pre * n_post - (min(n_pre, n_post) if no_self else 0)
        if self.n and pairs == 0:
            ck.fail("FixedTotalNumber.n", self.n, "0 (no (pre, post) pair is allowed between these populations)")
        if not self.with_replacement and self.n > pairs:
            ck.fail("FixedTotalNumber.n", self.n, f"<= {pairs}, the number of distinct (pre, post) pairs "
                    "(or with_replacement=True)")
        rng = np.random.default_rng(self.seed)
        if self.with_replacement:
            # n independent uniform pairs, generated in pre-major order: the number of each pre neuron is
            # multinomial, its post neurons uniform (so each post neuron's number is multinomial too, as in NEST)
            pre = np.repeat(np.arange(n_pre, dtype=np.int64), rng.multinomial(self.n, np.full(n_pre, 1.0 / n_pre)))
            post = _uniform_pre(rng, pre, n_post, no_self)
        else:
            # distinct flat pair indices, drawn in rounds (memory O(n), not O(n_pre n_post)), then a uniform subset
            flat = np.zeros(0, np.int64)  # pre * n_post + post: sorted is pre-major
            while flat.size < self.n:
                more = rng.integers(0, n_pre * n_post, int(1.1 * (self.n - flat.size)) + 16, dtype=np.int64)
                if no_self:
                    more = more[more // n_post != more % n_post]
                flat = np.unique(np.concatenate([flat, more]))
            if flat.size > self.n:
                flat = np.sort(flat[rng.choice(flat.size, self.n, replace=False)])
            pre, post = np.divmod(flat, n_post)
        return pre, post


@dataclass(frozen=True)
class FixedNumberPre:
    """Each post neuron receives exactly ``n`` synapses from pre neurons drawn uniformly (PyNN
    ``FixedNumberPreConnector``, NEST ``fixed_indegree``); without replacement (the default, as in PyNN) the ``n`` are
    distinct, with it multapses may occur. Synapses come post-major, each post neuron's sorted by pre neuron.
    """

    n: int
    allow_self_connections: bool = True
    with_replacement: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        ck.count("FixedNumberPre.n", self.n, minimum=0)
        ck.boolean("FixedNumberPre.allow_self_connections", self.allow_self_connections)
        ck.boolean("FixedNumberPre.with_replacement", self.with_replacement)
        ck.count("FixedNumberPre.seed", self.seed, minimum=0)

    def connect(self, n_pre: int, n_post: int, same: bool = False) -> Pairs:
        n_pre, n_post, same = _sizes("FixedNumberPre", n_pre, n_post, same)
        ck.allocatable("FixedNumberPre.n x post", (self.n, n_post), 32.0 * self.n * n_post)
        no_self = same and not self.allow_self_connections
        choices = n_pre - 1 if no_self else n_pre
        if self.n and choices == 0:
            ck.fail("FixedNumberPre.n", self.n, "0 (no pre neuron is allowed)")
        if not self.with_replacement and self.n > choices:
            ck.fail("FixedNumberPre.n", self.n, f"<= {choices}, the pre neurons each post neuron may take "
                    "(or with_replacement=True)")
        rng = np.random.default_rng(self.seed)
        post = np.repeat(np.arange(n_post, dtype=np.int64), self.n)
        pre = _uniform_pre(rng, post, n_pre, no_self).reshape(n_post, self.n)
        pre.sort(axis=1)
        if not self.with_replacement and self.n > 1:
            # redraw the repeats until each row is distinct: the rule is symmetric in the pre labels, so each
            # n-subset is equally likely
            while True:
                dup = np.zeros(pre.shape, bool)
                dup[:, 1:] = pre[:, 1:] == pre[:, :-1]
                if not dup.any():
                    break
                rows = np.nonzero(dup)[0]
                pre[dup] = _uniform_pre(rng, rows, n_pre, no_self)
                pre[np.unique(rows)] = np.sort(pre[np.unique(rows)], axis=1)
        return pre.ravel(), post


def _uniform_pre(rng: np.random.Generator, other: np.ndarray, n: int, no_self: bool) -> np.ndarray:
    """One neuron in [0, n) per entry of ``other`` (the neurons of the other side), uniform (or uniform over all but
    ``other`` itself)."""
    if not no_self:
        return rng.integers(0, n, other.size, dtype=np.int64)
    pick = rng.integers(0, n - 1, other.size, dtype=np.int64)
    return pick + (pick >= other)


@dataclass(frozen=True, eq=False)
class FromList:
    """Explicit connections; optional per-connection weights (nA) and delays (steps).

    Per-connection values given here take the place of the Projection's scalar ones.
    """

    pre: np.ndarray
    post: np.ndarray
    weights_nA: np.ndarray | None = field(default=None)
    delays_steps: np.ndarray | None = field(default=None)

    def __post_init__(self) -> None:
        pre = np.asarray(self.pre)
        post = np.asarray(self.post)
        if pre.ndim != 1 or post.ndim != 1 or pre.shape != post.shape:
            ck.fail("FromList.pre/post shapes", (pre.shape, post.shape), "two 1-D arrays of equal length")
        object.__setattr__(self, "pre", _frozen(ck.index_array("FromList.pre", pre)))
        object.__setattr__(self, "post", _frozen(ck.index_array("FromList.post", post)))
        if self.weights_nA is not None:
            w = ck.finite_array("FromList.weights_nA", self.weights_nA, minimum=0.0)
            if w.shape != pre.shape:
                ck.fail("FromList.weights_nA length", w.size, f"one weight per connection ({pre.size})")
            object.__setattr__(self, "weights_nA", _frozen(w))
        if self.delays_steps is not None:
            d = ck.steps_array("FromList.delays_steps", self.delays_steps, minimum=1)
            if d.shape != pre.shape:
                ck.fail("FromList.delays_steps length", d.size, f"one delay per connection ({pre.size})")
            object.__setattr__(self, "delays_steps", _frozen(d))

    def connect(self, n_pre: int, n_post: int, same: bool = False) -> Pairs:
        n_pre, n_post, same = _sizes("FromList", n_pre, n_post, same)
        if self.pre.size and self.pre.max() >= n_pre:
            ck.fail("FromList.pre", int(self.pre.max()), f"indices in [0, {n_pre - 1}]")
        if self.post.size and self.post.max() >= n_post:
            ck.fail("FromList.post", int(self.post.max()), f"indices in [0, {n_post - 1}]")
        return self.pre.copy(), self.post.copy()


Connector = OneToOne | AllToAll | FixedProbability | FixedTotalNumber | FixedNumberPre | FromList


# -- per-connection values drawn from a distribution (a weight or a delay per synapse) ------------------------


@dataclass(frozen=True)
class Uniform:
    """One value per connection, uniform in [``low``, ``high``), drawn from its own ``seed``."""

    low: float
    high: float
    seed: int = 0

    def __post_init__(self) -> None:
        ck.finite("Uniform.low", self.low)
        if ck.finite("Uniform.high", self.high) < self.low:
            ck.fail("Uniform.high", self.high, f">= low ({self.low})")
        ck.count("Uniform.seed", self.seed, minimum=0)

    def draw(self, n: int) -> np.ndarray:
        return np.random.default_rng(self.seed).uniform(self.low, self.high, n)


@dataclass(frozen=True)
class Normal:
    """One value per connection, normal with ``mean`` and ``sd``, drawn from its own ``seed``.

    ``low`` / ``high`` truncate it: a draw outside [low, high] is drawn again until it falls inside (NEST's
    ``redraw``), e.g. ``low=0`` keeps weights non-negative, ``low=dt/2`` delays at least one step.
    """

    mean: float
    sd: float
    seed: int = 0
    low: float = -math.inf
    high: float = math.inf

    def __post_init__(self) -> None:
        ck.finite("Normal.mean", self.mean)
        ck.non_negative("Normal.sd", self.sd)
        ck.count("Normal.seed", self.seed, minimum=0)
        for nm in ("low", "high"):
            ck.real_or_inf(f"Normal.{nm}", getattr(self, nm), "a real number (+-inf for no bound)")
        if not self.low < self.high:
            ck.fail("Normal.high", self.high, f"> low ({self.low})")
        inside = self.mass()
        if inside < 1e-3:
            ck.fail("Normal.low/high", (self.low, self.high),
                    f"an interval holding >= 0.1% of Normal({self.mean}, {self.sd}) (it holds {inside:.2g})")

    def mass(self) -> float:
        """The probability of one draw falling in [low, high] (the share kept; the rest is drawn again)."""
        if self.sd == 0:
            return float(self.low <= self.mean <= self.high)

        def cdf(x: float) -> float:
            return 0.5 * math.erfc(-(x - self.mean) / (self.sd * math.sqrt(2.0)))

        return cdf(self.high) - cdf(self.low)

    def draw(self, n: int) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        values = rng.normal(self.mean, self.sd, n)
        out = np.nonzero((values < self.low) | (values > self.high))[0]
        while out.size:  # a truncated normal: only the draws outside are drawn again
            values[out] = rng.normal(self.mean, self.sd, out.size)
            out = out[(values[out] < self.low) | (values[out] > self.high)]
        return values


Distribution = Uniform | Normal


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a)  # own copy
    a.setflags(write=False)
    return a
