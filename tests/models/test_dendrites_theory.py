"""Ahmad & Hawkins (2016, arXiv 1601.00720) formulas: the paper's check values, an independent high-precision
computation down to 1e-30, and the numba Monte-Carlo estimators against the formulas."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from neurosim.models import dendrites as d


def rel(x: float, y: float) -> float:
    return abs(x - y) / abs(y)


@pytest.mark.parametrize(("theta", "expected"), [(8, 7.35e-4), (12, 0.0717), (16, 0.583)])
def test_false_negative_check_values_at_half_noise(theta: int, expected: float) -> None:
    assert rel(d.false_negative(128, 30, theta, 64), expected) < 5e-3


@pytest.mark.parametrize(("m", "expected"), [(1, 5.3e-20), (5, 2.3e-8), (10, 1.3e-4), (19, 0.045)])
def test_union_false_positive_check_values(m: int, expected: float) -> None:
    value = d.union_false_positive(10000, 200, 25, 15, m)
    assert float(f"{value:.2g}") == expected


@pytest.mark.parametrize(("args", "expected"), [((4000, 128, 24, 12), 1.3e-12), ((2048, 40, 20, 10), 3.9e-13)])
def test_false_positive_check_values(args: tuple, expected: float) -> None:
    assert float(f"{d.false_positive(*args):.2g}") == expected


def _fp_mpmath(n: int, a: int, s: int, theta: int) -> mpmath.mpf:
    """The same sum in 60-digit floating point with gamma-function binomials: an independent route."""
    with mpmath.workdps(60):
        return mpmath.fsum(mpmath.binomial(s, b) * mpmath.binomial(n - s, a - b)
                           for b in range(theta, min(s, a) + 1)) / mpmath.binomial(n, a)


@pytest.mark.parametrize("args", [(1000, 20, 20, 10), (2048, 40, 20, 14), (10000, 200, 25, 18), (17000, 170, 50, 30),
                                  (5000, 50, 30, 12), (100, 7, 7, 5)])
def test_false_positive_is_exact_to_three_digits_far_below_1e_30(args: tuple) -> None:
    exact = _fp_mpmath(*args)
    value = d.false_positive(*args)
    assert value > 0.0
    assert rel(value, float(exact)) < 1e-12
    assert d.false_positive_by_theta(*args[:3])[args[3]] == value


def test_the_cases_above_reach_below_1e_30() -> None:
    # guard for the test above: it really covers probabilities under 1e-30
    assert d.false_positive(17000, 170, 50, 30) < 1e-30
    assert d.false_positive(10000, 200, 25, 18) < 1e-25


def test_false_negative_matches_an_independent_count_and_its_complement() -> None:
    # P_fn written the other way round: more than s - theta synapses fall among the v removed cells
    a, s, theta, v = 128, 30, 12, 45
    with mpmath.workdps(50):
        other = mpmath.fsum(mpmath.binomial(s, b) * mpmath.binomial(a - s, v - b)
                            for b in range(s - theta + 1, s + 1)) / mpmath.binomial(a, v)
    assert rel(d.false_negative(a, s, theta, v), float(other)) < 1e-12
    assert d.false_negative(a, s, theta, 0) == 0.0
    assert d.false_negative(a, s, theta, a) == 1.0


def test_overlap_sets_partition_all_patterns() -> None:
    from math import comb

    n, a, x = 60, 8, 11
    assert sum(d.overlap_set_size(n, a, x, b) for b in range(a + 1)) == comb(n, a)
    assert d.overlap_set_size(n, a, x, a + 1) == 0


def test_union_size_is_exact_and_m_1_is_s() -> None:
    assert d.union_size(10000, 25, 1) == 25
    assert d.union_size(10000, 25, 5) == 124  # 124.376...
    assert d.union_size(100, 7, 500) == 100
    assert d.union_false_positive(10000, 200, 25, 15, 1) == d.false_positive(10000, 200, 25, 15)


def test_neuron_false_positive_is_the_classifier_of_m_stored_patterns() -> None:
    # Ahmad & Hawkins 2015's classifier: n = 100, w = 7, M = 500 stored patterns, theta = 5 -> about 0.00283
    p = d.neuron_false_positive(100, 7, 7, 5, 500)
    assert rel(p, 0.0028225) < 1e-3
    assert p <= 500 * d.false_positive(100, 7, 7, 5)  # the union bound the paper quotes (0.002826)


# -- Monte-Carlo against the formulas (within 4 standard errors) -----------------------------------------

def _agrees(measured: float, p: float, trials: int) -> bool:
    return abs(measured - p) <= 4.0 * d.binomial_sigma(p, trials) + 1.0 / trials


@pytest.mark.parametrize("args", [(100, 7, 19, 5), (1000, 20, 20, 4), (2048, 40, 30, 4), (500, 25, 12, 3)])
def test_monte_carlo_false_positive_agrees_with_the_formula(args: tuple) -> None:
    trials = 400_000
    p = d.false_positive(*args)
    assert p >= 1e-4
    assert _agrees(d.mc_false_positive(*args, trials, np.random.default_rng(1)), p, trials)


@pytest.mark.parametrize(("theta", "v"), [(8, 64), (12, 64), (16, 64), (12, 45), (8, 80)])
def test_monte_carlo_false_negative_agrees_with_the_formula(theta: int, v: int) -> None:
    trials = 400_000
    p = d.false_negative(128, 30, theta, v)
    assert _agrees(d.mc_false_negative(128, 30, theta, v, trials, np.random.default_rng(2)), p, trials)


def test_monte_carlo_union_agrees_with_the_formula() -> None:
    trials = 200_000
    p = d.union_false_positive(10000, 200, 25, 15, 19)
    assert _agrees(d.mc_union_false_positive(10000, 200, 25, 15, 19, trials, np.random.default_rng(3)), p, trials)


def test_monte_carlo_neuron_reproduces_the_published_classifier_simulation() -> None:
    # published: simulated 0.00285, formula 0.00283 (1e6 trials; `neurosim run dendrites-theory` runs 1e6 too)
    trials = 200_000
    p = d.neuron_false_positive(100, 7, 7, 5, 500)
    measured = d.mc_neuron_false_positive(100, 7, 7, 5, 500, trials, np.random.default_rng(4))
    assert _agrees(measured, p, trials)
    assert abs(measured - 0.00285) < 4.0 * d.binomial_sigma(0.00285, trials)


def test_monte_carlo_rate_near_1e_5_is_measured() -> None:
    trials = 3_000_000
    p = d.false_positive(100, 7, 8, 5)  # 1.48e-5
    assert 1e-5 < p < 2e-5
    assert _agrees(d.mc_false_positive(100, 7, 8, 5, trials, np.random.default_rng(5)), p, trials)


def test_monte_carlo_is_deterministic_for_a_seed() -> None:
    a = d.mc_false_positive(100, 7, 19, 5, 10_000, np.random.default_rng(9))
    b = d.mc_false_positive(100, 7, 19, 5, 10_000, np.random.default_rng(9))
    assert a == b


# -- bad input -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("call", "field"), [
    (lambda: d.false_positive(100, 7, 5, 6), "theta"),
    (lambda: d.false_positive(100, 101, 5, 3), "a"),
    (lambda: d.false_positive(-5, 3, 2, 1), "n"),
    (lambda: d.false_positive(100, 7, 0, 1), "s"),
    (lambda: d.false_positive(100, 7, 101, 1), "s"),
    (lambda: d.false_positive(100, 7, 5, 0), "theta"),
    (lambda: d.false_negative(20, 30, 5, 3), "s"),
    (lambda: d.false_negative(128, 30, 5, 129), "v"),
    (lambda: d.false_negative(128, 30, 31, 3), "theta"),
    (lambda: d.union_false_positive(100, 7, 5, 3, 0), "m"),
    (lambda: d.mc_false_positive(100, 7, 5, 3, 0, np.random.default_rng(0)), "trials"),
    (lambda: d.neuron_false_positive(100, 7, 7, 5, 0), "n_segments"),
])
def test_bad_sizes_name_the_field_and_range(call, field: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field}( |=)"):
        call()
