r"""Active dendrites on sparse distributed representations (Ahmad & Hawkins 2016, arXiv 1601.00720).

A population of ``n`` cells with ``a`` active; a dendritic segment has ``s`` synapses onto the
cells of a stored pattern and fires (an NMDA spike) when at least ``theta`` of them are active.
For a random pattern of ``a`` active cells the overlap ``b`` with the segment is hypergeometric:

.. math::
    |\Omega_x(n, a, b)| = \binom{|x|}{b}\binom{n - |x|}{a - b}, \qquad
    P_{fp}(n, a, s, \theta) = \sum_{b=\theta}^{s} \frac{\binom{s}{b}\binom{n-s}{a-b}}{\binom{n}{a}}

With ``v`` of the stored pattern's ``a`` active cells replaced by noise, the segment misses it when
fewer than ``theta`` of its synapses still see active cells:

.. math::
    P_{fn}(a, s, \theta, v) = \sum_{b=0}^{\theta-1} \frac{\binom{s}{b}\binom{a-s}{a-v-b}}{\binom{a}{a-v}}

A union of ``m`` patterns on one segment (``s`` synapses sampled from each) connects to
:math:`s_m = n\,(1 - (1 - s/n)^m)` cells on average; :func:`union_false_positive` is
:math:`P_{fp}` with ``s`` replaced by :math:`s_m` rounded to the nearest integer (this rounding
reproduces all of REFERENCES' union check values; real-valued binomials give 2.4e-8 instead of
2.3e-8 at m = 5).

Every probability is a ratio of exact Python integers (``math.comb``), converted to float once:
correctly rounded however small, no float factorials.

The Monte-Carlo estimators (:func:`mc_false_positive`, :func:`mc_false_negative`,
:func:`mc_union_false_positive`) draw random SDRs and random segments in numba kernels.

Memories built on segments:

- :class:`DendriticNeuron`: one neuron with many segments; each stored pattern gets ``s``
  synapses sampled from its active cells, on the current segment until it holds
  ``patterns_per_segment`` patterns (union storage), then on a new one. The neuron recognizes a
  pattern when any segment fires. With ``max_segments`` the oldest segment is recycled.
- :class:`DendriticMemory`: a population of such neurons, one per unit, as an autoassociative
  memory: storing an item gives each of its active units a segment sampled from the item's *other*
  active units; recall turns on the units whose segments fire on the cue (pattern completion by
  dendritic coincidence detection, as in HTM's temporal memory).
"""

from __future__ import annotations

from collections import deque
from math import comb
from typing import Any

import numba
import numpy as np

from neurosim import _checks as ck
from neurosim.memory import as_pattern

# -- exact theory ---------------------------------------------------------------------------------


def _sizes(n: int | None = None, a: int | None = None, s: int | None = None, theta: int | None = None,
           v: int | None = None, m: int | None = None) -> None:
    """Check the sizes that are given: integers in their allowed ranges, each error naming the field."""
    if n is not None:
        ck.count("n", n, minimum=1)
    if a is not None:
        ck.count("a", a, minimum=1)
        if n is not None and a > n:
            ck.fail("a", a, f"an integer in [1, n = {n}] (active cells of the population)")
    if s is not None:
        ck.count("s", s, minimum=1)
        if n is not None and s > n:
            ck.fail("s", s, f"an integer in [1, n = {n}] (synapses onto distinct cells)")
    if theta is not None:
        ck.count("theta", theta, minimum=1)
        if s is not None and theta > s:
            ck.fail("theta", theta, f"an integer in [1, s = {s}] (a segment cannot see more than its synapses)")
    if v is not None:
        ck.count("v", v, minimum=0)
        if a is not None and v > a:
            ck.fail("v", v, f"an integer in [0, a = {a}] (noise replaces active cells)")
    if m is not None:
        ck.count("m", m, minimum=1)


def overlap_set_size(n: int, a: int, x_size: int, b: int) -> int:
    """|Omega_x(n, a, b)|: patterns of ``a`` active cells out of ``n`` with overlap exactly ``b`` with a
    pattern ``x`` of ``x_size`` cells."""
    _sizes(n=n, a=a)
    ck.count("x_size", x_size, minimum=0)
    if x_size > n:
        ck.fail("x_size", x_size, f"an integer in [0, n = {n}]")
    ck.count("b", b, minimum=0)
    return comb(x_size, b) * comb(n - x_size, a - b) if b <= a else 0


def _tail(n: int, a: int, s: int) -> list[int]:
    """tail[t] = number of patterns with overlap >= t with a segment of s synapses, t = 0 .. s + 1."""
    counts = [comb(s, b) * comb(n - s, a - b) if b <= a else 0 for b in range(s + 1)]
    tail = [0] * (s + 2)
    for b in range(s, -1, -1):
        tail[b] = tail[b + 1] + counts[b]
    return tail


def false_positive(n: int, a: int, s: int, theta: int) -> float:
    """P_fp: probability that a random pattern of ``a`` active cells out of ``n`` reaches ``theta`` of a
    segment's ``s`` synapses."""
    _sizes(n=n, a=a, s=s, theta=theta)
    return _tail(n, a, s)[theta] / comb(n, a)


def false_positive_by_theta(n: int, a: int, s: int) -> np.ndarray:
    """P_fp for every threshold theta = 0 .. s at once (entry ``theta``): one pass over the overlaps."""
    _sizes(n=n, a=a, s=s)
    total = comb(n, a)
    return np.array([t / total for t in _tail(n, a, s)[:s + 1]])


def false_negative(a: int, s: int, theta: int, v: int) -> float:
    """P_fn: probability that a segment of ``s`` synapses on a stored pattern's ``a`` active cells sees
    fewer than ``theta`` of them once ``v`` of those cells are replaced by noise."""
    _sizes(a=a, s=s, theta=theta, v=v)
    if s > a:
        ck.fail("s", s, f"an integer in [1, a = {a}] (synapses sampled from the pattern's active cells)")
    return sum(comb(s, b) * comb(a - s, a - v - b) for b in range(min(theta, a - v + 1))) / comb(a, a - v)


def union_size(n: int, s: int, m: int) -> int:
    """Expected number of distinct cells a segment connects to after storing ``m`` patterns of ``s``
    synapses each: round(n (1 - (1 - s/n)^m)); computed in integers' exact ratio, so m = 1 gives s."""
    _sizes(n=n, s=s, m=m)
    # n (1 - ((n - s) / n)^m) = (n^m - (n - s)^m) / n^(m - 1), rounded half up
    num, den = n ** m - (n - s) ** m, n ** (m - 1)
    return (2 * num + den) // (2 * den)


def union_false_positive(n: int, a: int, s: int, theta: int, m: int) -> float:
    """P_fp of a segment holding the union of ``m`` patterns of ``s`` synapses each (see module docstring)."""
    _sizes(n=n, a=a, s=s, theta=theta, m=m)
    return false_positive(n, a, union_size(n, s, m), theta)


def neuron_false_positive(n: int, a: int, s: int, theta: int, n_segments: int) -> float:
    """Probability that a neuron with ``n_segments`` independent random segments of ``s`` synapses fires on
    a random pattern: 1 - (1 - P_fp)^k. With s = a this is Ahmad & Hawkins (2015)'s classifier of k stored
    patterns (n = 100, a = s = 7, k = 500, theta = 5: 0.00282; the union bound k P_fp they quote is 0.00283)."""
    _sizes(n=n, a=a, s=s, theta=theta)
    ck.count("n_segments", n_segments)
    p = false_positive(n, a, s, theta)
    return -float(np.expm1(n_segments * np.log1p(-p))) if p < 1.0 else 1.0


# -- Monte-Carlo ----------------------------------------------------------------------------------


@numba.njit(cache=True)
def _sample(pool, k):
    """Move a uniform random k-subset of ``pool`` to its front (partial Fisher-Yates on any permutation)."""
    for i in range(k):
        j = i + np.random.randint(pool.size - i)  # noqa: NPY002 -- numba: legacy API, seeded above
        pool[i], pool[j] = pool[j], pool[i]


@numba.njit(cache=True)
def _mc_fp(n, a, s, theta, m, trials, seed):
    """Trials in which a random pattern reaches theta synapses of a random segment holding the union of
    m random s-subsets of the n cells."""
    np.random.seed(seed)  # noqa: NPY002 -- numba offers only the legacy API inside njit; seeded per call
    pool = np.arange(n)
    on_segment = np.zeros(n, dtype=np.bool_)
    segment = np.empty(m * s, dtype=np.int64)
    hits = 0
    for _ in range(trials):
        size = 0
        for _p in range(m):
            _sample(pool, s)
            for i in range(s):
                c = pool[i]
                if not on_segment[c]:
                    on_segment[c] = True
                    segment[size] = c
                    size += 1
        _sample(pool, a)
        b = 0
        for i in range(a):
            if on_segment[pool[i]]:
                b += 1
        if b >= theta:
            hits += 1
        for i in range(size):
            on_segment[segment[i]] = False
    return hits


@numba.njit(cache=True)
def _mc_neuron(n, a, s, theta, k, trials, seed):
    """Trials in which a random pattern reaches theta synapses on any of k segments, each the s cells of a
    random pattern (drawn afresh every trial)."""
    np.random.seed(seed)  # noqa: NPY002 -- numba offers only the legacy API inside njit; seeded per call
    pool = np.arange(n)
    on_pattern = np.zeros(n, dtype=np.bool_)
    pattern = np.empty(a, dtype=np.int64)
    hits = 0
    for _ in range(trials):
        _sample(pool, a)
        for i in range(a):
            pattern[i] = pool[i]
            on_pattern[pool[i]] = True
        for _seg in range(k):
            _sample(pool, s)
            b = 0
            for i in range(s):
                if on_pattern[pool[i]]:
                    b += 1
            if b >= theta:
                hits += 1
                break
        for i in range(a):
            on_pattern[pattern[i]] = False
    return hits


@numba.njit(cache=True)
def _mc_fn(a, s, theta, v, trials, seed):
    """Trials in which a segment of s synapses on the a cells of a pattern sees < theta of them after v
    of the a cells are replaced by noise (cells outside the pattern, which the segment never sees)."""
    np.random.seed(seed)  # noqa: NPY002 -- numba offers only the legacy API inside njit; seeded per call
    pool = np.arange(a)
    on_segment = np.zeros(a, dtype=np.bool_)
    misses = 0
    for _ in range(trials):
        _sample(pool, s)
        for i in range(s):
            on_segment[pool[i]] = True
        _sample(pool, a - v)  # the cells that stay active
        b = 0
        for i in range(a - v):
            if on_segment[pool[i]]:
                b += 1
        if b < theta:
            misses += 1
        on_segment[:] = False
    return misses


def _trials(trials: int) -> int:
    return ck.count("trials", trials, minimum=1)


def mc_false_positive(n: int, a: int, s: int, theta: int, trials: int, rng: np.random.Generator) -> float:
    """Measured false-positive rate over ``trials`` random (segment, pattern) pairs."""
    _sizes(n=n, a=a, s=s, theta=theta)
    return _mc_fp(n, a, s, theta, 1, _trials(trials), int(rng.integers(2**31))) / trials


def mc_union_false_positive(n: int, a: int, s: int, theta: int, m: int, trials: int,
                            rng: np.random.Generator) -> float:
    """Measured false-positive rate of a segment holding the union of ``m`` random patterns' ``s`` synapses."""
    _sizes(n=n, a=a, s=s, theta=theta, m=m)
    return _mc_fp(n, a, s, theta, m, _trials(trials), int(rng.integers(2**31))) / trials


def mc_neuron_false_positive(n: int, a: int, s: int, theta: int, n_segments: int, trials: int,
                             rng: np.random.Generator) -> float:
    """Measured rate at which a neuron with ``n_segments`` random segments fires on a random pattern."""
    _sizes(n=n, a=a, s=s, theta=theta)
    ck.count("n_segments", n_segments)
    return _mc_neuron(n, a, s, theta, n_segments, _trials(trials), int(rng.integers(2**31))) / trials


def mc_false_negative(a: int, s: int, theta: int, v: int, trials: int, rng: np.random.Generator) -> float:
    """Measured false-negative rate over ``trials`` random segments and noise draws."""
    _sizes(a=a, s=s, theta=theta, v=v)
    if s > a:
        ck.fail("s", s, f"an integer in [1, a = {a}] (synapses sampled from the pattern's active cells)")
    return _mc_fn(a, s, theta, v, _trials(trials), int(rng.integers(2**31))) / trials


def binomial_sigma(p: float, trials: int) -> float:
    """Standard error of a rate p measured over ``trials`` independent trials."""
    return float(np.sqrt(max(p, 0.0) * (1.0 - p) / trials))


# -- segments and the memories built on them -----------------------------------------------------


class Segments:
    """Dendritic segments of a population of ``n_units`` neurons over ``n_inputs`` cells.

    Each segment is a row of up to ``width`` synapse targets (cell indices, padded with
    ``n_inputs``, which is never active); a unit keeps at most ``max_segments`` (oldest recycled).
    """

    def __init__(self, n_units: int, n_inputs: int, width: int, max_segments: int | None) -> None:
        self.n_units, self.n_inputs, self.width, self.max_segments = n_units, n_inputs, width, max_segments
        self.clear()

    def clear(self) -> None:
        """No segments (the arrays grow by doubling as segments are added)."""
        self.cells = np.full((16, self.width), self.n_inputs, dtype=np.int32)
        self.size = np.zeros(16, dtype=np.int32)       # distinct synapses on the row
        self.patterns = np.zeros(16, dtype=np.int32)   # patterns stored on the row
        self.owner = np.full(16, -1, dtype=np.int32)   # the unit the row belongs to
        self.rows = 0                                  # rows in use
        self.by_unit: list[deque[int]] = [deque() for _ in range(self.n_units)]

    def new(self, unit: int) -> int:
        """A fresh segment on ``unit`` (recycling the unit's oldest one past ``max_segments``)."""
        mine = self.by_unit[unit]
        if self.max_segments is not None and len(mine) >= self.max_segments:
            row = mine.popleft()
        else:
            if self.rows == self.owner.size:
                grow = self.owner.size
                self.cells = np.vstack([self.cells, np.full((grow, self.width), self.n_inputs, dtype=np.int32)])
                self.size, self.patterns = (np.concatenate([x, np.zeros(grow, np.int32)])
                                            for x in (self.size, self.patterns))
                self.owner = np.concatenate([self.owner, np.full(grow, -1, np.int32)])
            row, self.rows = self.rows, self.rows + 1
        self.cells[row] = self.n_inputs
        self.size[row] = self.patterns[row] = 0
        self.owner[row] = unit
        mine.append(row)
        return row

    def add(self, row: int, cells: np.ndarray) -> None:
        """Connect the segment to ``cells`` too (union: cells it already has are not doubled)."""
        have = self.cells[row, :self.size[row]]
        new = np.setdiff1d(cells, have)
        self.cells[row, self.size[row]:self.size[row] + new.size] = new
        self.size[row] += new.size
        self.patterns[row] += 1

    def current(self, unit: int) -> int | None:
        return self.by_unit[unit][-1] if self.by_unit[unit] else None

    def overlaps(self, patterns: np.ndarray) -> np.ndarray:
        """Active synapses of every used segment row for each pattern: (k, rows) ints."""
        padded = np.zeros((patterns.shape[0], self.n_inputs + 1), dtype=np.int32)
        padded[:, :self.n_inputs] = patterns
        return padded[:, self.cells[:self.rows]].sum(axis=2)



def _check_memory_args(n: int, s: int, theta: int, patterns_per_segment: int, max_segments: int | None) -> None:
    _sizes(n=n, s=s, theta=theta)
    ck.count("patterns_per_segment", patterns_per_segment)
    if max_segments is not None:
        ck.count("max_segments", max_segments)


class DendriticNeuron:
    """One neuron with many segments, recognizing the patterns it stored (see the module docstring).

    ``recognize`` returns 1.0 when a segment fires on the item, else the best segment's active
    synapses over ``theta`` (in [0, 1)): a graded familiarity whose threshold is the neuron's decision.
    """

    def __init__(self, n: int, s: int, theta: int, *, patterns_per_segment: int = 1,
                 max_segments: int | None = None, seed: int = 0) -> None:
        _check_memory_args(n, s, theta, patterns_per_segment, max_segments)
        self.n, self.s, self.theta, self.m = n, s, theta, patterns_per_segment
        self.seed = seed
        self.segments = Segments(1, n, s * patterns_per_segment, max_segments)
        self.rng = np.random.default_rng(seed)

    def store(self, item: np.ndarray, key: Any = None) -> None:
        item = as_pattern("item", item, self.n)
        on = np.flatnonzero(item)
        if on.size < self.s:
            ck.fail("item", f"{on.size} active cells", f">= s = {self.s} active cells to sample synapses from")
        row = self.segments.current(0)
        if row is None or self.segments.patterns[row] >= self.m:
            row = self.segments.new(0)
        self.segments.add(row, self.rng.choice(on, size=self.s, replace=False))

    def active_synapses(self, items: np.ndarray) -> np.ndarray:
        """The best segment's active synapses for each row of ``items`` ((k,) ints; 0 with no segment)."""
        items = np.atleast_2d(items)
        if items.shape[1] != self.n:
            ck.fail("items shape", items.shape, f"(k, {self.n})")
        if self.segments.rows == 0:
            return np.zeros(items.shape[0], dtype=np.int64)
        return self.segments.overlaps(items).max(axis=1)

    def fires(self, items: np.ndarray) -> np.ndarray:
        """Whether any segment reaches theta, for each row of ``items`` ((k,) bool)."""
        return self.active_synapses(items) >= self.theta

    def recognize(self, item: np.ndarray) -> float:
        best = int(self.active_synapses(as_pattern("item", item, self.n)[None])[0])
        return 1.0 if best >= self.theta else best / self.theta

    def recall(self, cue: Any) -> np.ndarray:
        raise TypeError("a single dendritic neuron recognizes but cannot recall: use DendriticMemory, a population "
                        "of dendritic neurons, for recall from cues")

    def reset(self) -> None:
        self.segments.clear()
        self.rng = np.random.default_rng(self.seed)


class DendriticMemory:
    """An autoassociative population of ``n`` dendritic neurons, one per unit (see the module docstring).

    ``store(item)``: each active unit gets ``s`` synapses sampled from the item's other active units,
    on its current segment until it holds ``patterns_per_segment`` items (union storage).
    ``recall(cue)``: the units with a segment reaching ``theta`` on the cue, iterated ``steps`` times
    (the output is fed back as the next cue). ``recognize(item)``: the fraction of the item's active
    units that the item itself makes fire (1 for a stored item; about P_fp for a novel one).
    """

    def __init__(self, n: int, s: int, theta: int, *, patterns_per_segment: int = 1,
                 max_segments: int | None = None, steps: int = 1, seed: int = 0) -> None:
        _check_memory_args(n, s, theta, patterns_per_segment, max_segments)
        self.n, self.s, self.theta, self.m = n, s, theta, patterns_per_segment
        self.steps = ck.count("steps", steps)
        self.seed = seed
        self.segments = Segments(n, n, s * patterns_per_segment, max_segments)
        self.rng = np.random.default_rng(seed)

    def store(self, item: np.ndarray, key: Any = None) -> None:
        item = as_pattern("item", item, self.n)
        on = np.flatnonzero(item)
        if on.size < self.s + 1:
            ck.fail("item", f"{on.size} active units", f">= s + 1 = {self.s + 1} active units (each samples s others)")
        for u in on:
            row = self.segments.current(int(u))
            if row is None or self.segments.patterns[row] >= self.m:
                row = self.segments.new(int(u))
            others = on[on != u]
            self.segments.add(row, self.rng.choice(others, size=self.s, replace=False))

    def predicted(self, patterns: np.ndarray) -> np.ndarray:
        """Units with a segment reaching theta, for each row of ``patterns`` ((k, n) bool)."""
        patterns = np.atleast_2d(patterns)
        out = np.zeros((patterns.shape[0], self.n), dtype=bool)
        if self.segments.rows == 0:
            return out
        rows, segs = np.nonzero(self.segments.overlaps(patterns) >= self.theta)
        out[rows, self.segments.owner[segs]] = True
        return out

    def recall(self, cue: np.ndarray) -> np.ndarray:
        x = as_pattern("cue", cue, self.n)[None]
        for _ in range(self.steps):
            x = self.predicted(x)
        return x[0]

    def recognize(self, item: np.ndarray) -> float:
        item = as_pattern("item", item, self.n)
        on = np.count_nonzero(item)
        return float(np.count_nonzero(self.predicted(item[None])[0] & item) / on) if on else 0.0

    def reset(self) -> None:
        self.segments.clear()
        self.rng = np.random.default_rng(self.seed)
