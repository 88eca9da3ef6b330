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
reproduces all of the paper's union check values; real-valued binomials give 2.4e-8 instead of
2.3e-8 at m = 5).

Every probability is a ratio of exact Python integers (``math.comb``), converted to float once:
correctly rounded however small, no float factorials.

The Monte-Carlo estimators (:func:`mc_false_positive`, :func:`mc_false_negative`,
:func:`mc_union_false_positive`) draw random SDRs and random segments in numba kernels.

The memories built on segments (a dendritic neuron, a dendritic population memory) are in
:mod:`neurosim.models.dendritic_memory`.
"""

from __future__ import annotations

from math import comb

import numba
import numpy as np

from neurosim import _checks as ck

# -- exact theory ---------------------------------------------------------------------------------


def check_sizes(n: int | None = None, a: int | None = None, s: int | None = None, theta: int | None = None,
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
    check_sizes(n=n, a=a)
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
    check_sizes(n=n, a=a, s=s, theta=theta)
    return _tail(n, a, s)[theta] / comb(n, a)


def false_positive_by_theta(n: int, a: int, s: int) -> np.ndarray:
    """P_fp for every threshold theta = 0 .. s at once (entry ``theta``): one pass over the overlaps."""
    check_sizes(n=n, a=a, s=s)
    total = comb(n, a)
    return np.array([t / total for t in _tail(n, a, s)[:s + 1]])


def false_negative(a: int, s: int, theta: int, v: int) -> float:
    """P_fn: probability that a segment of ``s`` synapses on a stored pattern's ``a`` active cells sees
    fewer than ``theta`` of them once ``v`` of those cells are replaced by noise."""
    check_sizes(a=a, s=s, theta=theta, v=v)
    if s > a:
        ck.fail("s", s, f"an integer in [1, a = {a}] (synapses sampled from the pattern's active cells)")
    return sum(comb(s, b) * comb(a - s, a - v - b) for b in range(min(theta, a - v + 1))) / comb(a, a - v)


def union_size(n: int, s: int, m: int) -> int:
    """Expected number of distinct cells a segment connects to after storing ``m`` patterns of ``s``
    synapses each: round(n (1 - (1 - s/n)^m)); computed in integers' exact ratio, so m = 1 gives s."""
    check_sizes(n=n, s=s, m=m)
    # n (1 - ((n - s) / n)^m) = (n^m - (n - s)^m) / n^(m - 1), rounded half up
    num, den = n ** m - (n - s) ** m, n ** (m - 1)
    return (2 * num + den) // (2 * den)


def union_false_positive(n: int, a: int, s: int, theta: int, m: int) -> float:
    """P_fp of a segment holding the union of ``m`` patterns of ``s`` synapses each (see module docstring)."""
    check_sizes(n=n, a=a, s=s, theta=theta, m=m)
    return false_positive(n, a, union_size(n, s, m), theta)


def neuron_false_positive(n: int, a: int, s: int, theta: int, n_segments: int) -> float:
    """Probability that a neuron with ``n_segments`` independent random segments of ``s`` synapses fires on
    a random pattern: 1 - (1 - P_fp)^k. With s = a this is Ahmad & Hawkins (2015)'s classifier of k stored
    patterns (n = 100, a = s = 7, k = 500, theta = 5: 0.00282; the union bound k P_fp they quote is 0.00283)."""
    check_sizes(n=n, a=a, s=s, theta=theta)
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
    check_sizes(n=n, a=a, s=s, theta=theta)
    return _mc_fp(n, a, s, theta, 1, _trials(trials), int(rng.integers(2**31))) / trials


def mc_union_false_positive(n: int, a: int, s: int, theta: int, m: int, trials: int,
                            rng: np.random.Generator) -> float:
    """Measured false-positive rate of a segment holding the union of ``m`` random patterns' ``s`` synapses."""
    check_sizes(n=n, a=a, s=s, theta=theta, m=m)
    return _mc_fp(n, a, s, theta, m, _trials(trials), int(rng.integers(2**31))) / trials


def mc_neuron_false_positive(n: int, a: int, s: int, theta: int, n_segments: int, trials: int,
                             rng: np.random.Generator) -> float:
    """Measured rate at which a neuron with ``n_segments`` random segments fires on a random pattern."""
    check_sizes(n=n, a=a, s=s, theta=theta)
    ck.count("n_segments", n_segments)
    return _mc_neuron(n, a, s, theta, n_segments, _trials(trials), int(rng.integers(2**31))) / trials


def mc_false_negative(a: int, s: int, theta: int, v: int, trials: int, rng: np.random.Generator) -> float:
    """Measured false-negative rate over ``trials`` random segments and noise draws."""
    check_sizes(a=a, s=s, theta=theta, v=v)
    if s > a:
        ck.fail("s", s, f"an integer in [1, a = {a}] (synapses sampled from the pattern's active cells)")
    return _mc_fn(a, s, theta, v, _trials(trials), int(rng.integers(2**31))) / trials


def binomial_sigma(p: float, trials: int) -> float:
    """Standard error of a rate p measured over ``trials`` independent trials."""
    ck.in_range("p", p, 0.0, 1.0)
    ck.count("trials", trials)
    return float(np.sqrt(p * (1.0 - p) / trials))
