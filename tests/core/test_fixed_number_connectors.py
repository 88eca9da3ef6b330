"""FixedTotalNumber and FixedNumberPre (PyNN's connectors of those names, NEST's fixed_total_number and
fixed_indegree) and truncated Normal draws: what the Potjans & Diesmann microcircuit needs from the core."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neurosim import (
    FixedNumberPre,
    FixedTotalNumber,
    Network,
    Normal,
    Population,
    Projection,
    Simulator,
    SpikeMonitor,
    SpikeSourceArray,
)
from neurosim.serialize import load_network, save_network


def test_fixed_total_number_with_multapses_is_n_uniform_pairs() -> None:
    pre, post = FixedTotalNumber(200_000, seed=3).connect(40, 50)
    assert pre.size == post.size == 200_000
    assert np.all(np.diff(pre) >= 0)  # pre-major: neurosim's canonical order
    for idx, size in ((pre, 40), (post, 50)):  # each side uniform: counts within 5 sd of n / size
        counts = np.bincount(idx, minlength=size)
        expected = 200_000 / size
        assert np.abs(counts - expected).max() < 5 * math.sqrt(expected)
    pairs = pre * 50 + post
    assert np.unique(pairs).size < pairs.size  # 2000 pairs, 200000 draws: multapses
    again = FixedTotalNumber(200_000, seed=3).connect(40, 50)
    np.testing.assert_array_equal(again[0], pre)  # the connector's own seed
    assert not np.array_equal(FixedTotalNumber(200_000, seed=4).connect(40, 50)[0], pre)


def test_fixed_total_number_without_multapses_or_autapses() -> None:
    pre, post = FixedTotalNumber(2400, allow_self_connections=False, with_replacement=False, seed=1).connect(
        50, 50, same=True)
    assert pre.size == 2400 and np.unique(pre * 50 + post).size == 2400 and not np.any(pre == post)
    pre, post = FixedTotalNumber(300, allow_self_connections=False, seed=1).connect(20, 20, same=True)
    assert pre.size == 300 and not np.any(pre == post)
    pre, post = FixedTotalNumber(300, allow_self_connections=False, seed=1).connect(20, 20, same=False)
    assert np.any(pre == post)  # two populations: index i of one is not neuron i of the other
    with pytest.raises(ValueError, match=r"FixedTotalNumber\.n = 2451 is not allowed: <= 2450, the number of "
                                         r"distinct \(pre, post\) pairs"):
        FixedTotalNumber(2451, False, with_replacement=False).connect(50, 50, same=True)
    with pytest.raises(ValueError, match=r"FixedTotalNumber\.n = -1 is not allowed: an integer >= 0"):
        FixedTotalNumber(-1)
    assert FixedTotalNumber(0).connect(3, 4)[0].size == 0


def test_fixed_number_pre_gives_each_post_neuron_n_distinct_inputs() -> None:
    pre, post = FixedNumberPre(30, allow_self_connections=False, seed=2).connect(100, 100, same=True)
    assert np.all(np.bincount(post, minlength=100) == 30)
    rows = pre.reshape(100, 30)
    assert np.all(np.diff(rows, axis=1) > 0)  # distinct, sorted
    assert not np.any(rows == np.arange(100)[:, None])
    counts = np.bincount(pre, minlength=100)  # out-degrees ~ binomial around 30
    assert counts.min() > 10 and counts.max() < 50
    full = FixedNumberPre(99, allow_self_connections=False, seed=2).connect(100, 100, same=True)[0]
    assert np.all(np.sort(full.reshape(100, 99), axis=1) == [np.delete(np.arange(100), j) for j in range(100)])
    multi = FixedNumberPre(30, with_replacement=True, seed=2).connect(10, 100)[0].reshape(100, 30)
    assert np.any(np.diff(np.sort(multi, axis=1), axis=1) == 0)
    with pytest.raises(ValueError, match=r"FixedNumberPre\.n = 100 is not allowed: <= 99, the pre neurons each post "
                                         r"neuron may take"):
        FixedNumberPre(100, allow_self_connections=False).connect(100, 100, same=True)


def test_fixed_number_pre_draws_subsets_uniformly() -> None:
    """Every pre neuron equally likely in a post neuron's subset: n / n_pre of the rows hold it."""
    pre, _ = FixedNumberPre(5, seed=7).connect(8, 40_000)
    share = np.bincount(pre, minlength=8) / 40_000
    assert np.abs(share - 5 / 8).max() < 0.01  # sd 0.0024


def test_truncated_normal_redraws_outside_draws() -> None:
    plain = Normal(1.5, 0.75, seed=5)
    np.testing.assert_array_equal(plain.draw(1000), np.random.default_rng(5).normal(1.5, 0.75, 1000))  # as before
    cut = Normal(1.5, 0.75, seed=5, low=0.05)
    x = cut.draw(200_000)
    assert x.min() >= 0.05
    kept = x[x > 0.05 + 1e-12]
    inside = plain.draw(200_000)
    np.testing.assert_array_equal(x[inside >= 0.05], inside[inside >= 0.05])  # only the draws outside are redrawn
    a = (0.05 - 1.5) / 0.75  # the truncated normal's mean: mu + sd phi(a) / (1 - Phi(a))
    expected = 1.5 + 0.75 * math.exp(-a * a / 2) / math.sqrt(2 * math.pi) / (0.5 * math.erfc(a / math.sqrt(2)))
    assert kept.mean() == pytest.approx(expected, abs=0.01)
    assert cut.mass() == pytest.approx(0.5 * math.erfc(a / math.sqrt(2)))
    with pytest.raises(ValueError, match=r"Normal\.high = 0\.0 is not allowed: > low \(1\.0\)"):
        Normal(0.0, 1.0, low=1.0, high=0.0)
    with pytest.raises(ValueError, match=r"Normal\.low/high = \(10\.0, inf\) is not allowed: an interval holding "
                                         r">= 0\.1% of Normal\(0\.0, 1\.0\)"):
        Normal(0.0, 1.0, low=10.0)
    with pytest.raises(ValueError, match=r"Normal\.low = nan is not allowed"):
        Normal(0.0, 1.0, low=float("nan"))


def _network() -> Network:
    return Network(1.0, (Population("p", 30),), (SpikeSourceArray("s", tuple([5.0 + i] for i in range(20))),), (
        Projection("sp", "s", "p", FixedNumberPre(4, seed=1), weight_nA=Normal(3.0, 0.3, seed=2, low=0.0),
                   delay_ms=Normal(2.0, 1.0, seed=3, low=0.5)),
        Projection("pp", "p", "p", FixedTotalNumber(90, allow_self_connections=False, seed=4),
                   weight_nA=Normal(0.5, 0.05, seed=5, low=0.0), receptor="inhibitory")),
        (SpikeMonitor("p"),))


def test_networks_use_them_and_save_them(tmp_path) -> None:
    with pytest.warns(RuntimeWarning, match="delays are not multiples"):
        net = _network()
    c = net.connections("pp")
    assert c.pre.size == 90 and not np.any(c.pre == c.post) and c.weight_nA.min() >= 0
    assert net.connections("sp").delay_steps.min() >= 1
    with pytest.warns(RuntimeWarning, match="delays are not multiples"):
        back = load_network(save_network(tmp_path / "n.h5", net))
    for name in ("sp", "pp"):
        for field in ("pre", "post", "weight_nA", "delay_steps"):
            np.testing.assert_array_equal(getattr(back.connections(name), field), getattr(net.connections(name), field))
    a, b = Simulator(net), Simulator(back)
    a.run(30.0)
    b.run(30.0)
    np.testing.assert_array_equal(a.spikes("p")[0], b.spikes("p")[0])
    assert a.spikes("p")[0].size > 0
