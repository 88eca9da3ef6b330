"""Connectors: rules that turn two population sizes into (pre, post) index arrays.

Each is frozen data (so a Network stays a description), named as in PyNN.
Random connectors carry their own integer seed, so a Network always builds the
same synapses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from neurosim import _checks as ck

Pairs = tuple[np.ndarray, np.ndarray]


def _all_pairs(n_pre: int, n_post: int, allow_self: bool, same: bool) -> Pairs:
    pre, post = np.divmod(np.arange(n_pre * n_post, dtype=np.int64), n_post)
    if same and not allow_self:
        keep = pre != post
        pre, post = pre[keep], post[keep]
    return pre, post


@dataclass(frozen=True)
class OneToOne:
    """Neuron i of the pre population onto neuron i of the post population."""

    def connect(self, n_pre: int, n_post: int, same: bool = False) -> Pairs:
        if n_pre != n_post:
            ck.fail("OneToOne sizes", (n_pre, n_post), "equal pre and post sizes")
        idx = np.arange(n_pre, dtype=np.int64)
        return idx, idx.copy()


@dataclass(frozen=True)
class AllToAll:
    """Every pre neuron onto every post neuron (self-connections optional)."""

    allow_self_connections: bool = True

    def connect(self, n_pre: int, n_post: int, same: bool = False) -> Pairs:
        return _all_pairs(n_pre, n_post, self.allow_self_connections, same)


@dataclass(frozen=True)
class FixedProbability:
    """Each (pre, post) pair is connected independently with probability ``p``."""

    p: float
    allow_self_connections: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        ck.in_range("FixedProbability.p", self.p, 0.0, 1.0)
        ck.count("FixedProbability.seed", self.seed, minimum=0)

    def connect(self, n_pre: int, n_post: int, same: bool = False) -> Pairs:
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
        for nm, a in (("FromList.pre", pre), ("FromList.post", post)):
            if a.size and (not np.issubdtype(a.dtype, np.integer) or a.min() < 0):
                ck.fail(nm, a.min() if a.size else a, "non-negative integer indices")
        object.__setattr__(self, "pre", _frozen(pre.astype(np.int64)))
        object.__setattr__(self, "post", _frozen(post.astype(np.int64)))
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
        if self.pre.size and self.pre.max() >= n_pre:
            ck.fail("FromList.pre", int(self.pre.max()), f"indices in [0, {n_pre - 1}]")
        if self.post.size and self.post.max() >= n_post:
            ck.fail("FromList.post", int(self.post.max()), f"indices in [0, {n_post - 1}]")
        return self.pre.copy(), self.post.copy()


Connector = OneToOne | AllToAll | FixedProbability | FromList


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
    """One value per connection, normal with ``mean`` and ``sd``, drawn from its own ``seed``."""

    mean: float
    sd: float
    seed: int = 0

    def __post_init__(self) -> None:
        ck.finite("Normal.mean", self.mean)
        ck.non_negative("Normal.sd", self.sd)
        ck.count("Normal.seed", self.seed, minimum=0)

    def draw(self, n: int) -> np.ndarray:
        return np.random.default_rng(self.seed).normal(self.mean, self.sd, n)


Distribution = Uniform | Normal


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a)  # own copy
    a.setflags(write=False)
    return a
