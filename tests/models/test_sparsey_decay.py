"""Sparsey's decay (``CSAParams.decay``): bounded binary synapses that forget, so the MAC stays a palimpsest
instead of filling up. The rule in models/sparsey.py's docstring: before each input it learns, every set
weight returns to 0 with probability p; the input then sets its own."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from neurosim.memory import random_patterns
from neurosim.models import create
from neurosim.models.sparsey import MAC, CSAParams, SparseyMemory


def _items(rng: np.random.Generator, n_items: int, units: range, active: int, n: int) -> np.ndarray:
    """Items of ``active`` units drawn from ``units`` only."""
    out = np.zeros((n_items, n), dtype=bool)
    for row in out:
        row[rng.choice(np.asarray(units), active, replace=False)] = True
    return out


def test_decay_one_leaves_exactly_the_last_items_weights() -> None:
    rng = np.random.default_rng(0)
    mac = MAC(40, 4, 5, params=CSAParams(decay=1.0), horizontal=True)
    items = random_patterns(rng, 6, 40, 8)
    codes = mac.present(items, rng, sequence=True)
    expect_u = np.zeros_like(mac.u)
    expect_u[np.ix_(items[-1], codes.cells[-1])] = 1
    np.testing.assert_array_equal(mac.u, expect_u)
    expect_h = np.zeros_like(mac.h)  # only the last transition's horizontal weights are left
    expect_h[np.ix_(codes.cells[-2], codes.cells[-1])] = 1
    np.testing.assert_array_equal(mac.h, expect_h)
    assert mac.weight_fraction() == pytest.approx(8 * 4 / (40 * 20))


def test_a_weight_survives_t_stores_with_probability_one_minus_p_to_the_t() -> None:
    """The first item's 20 x 20 = 400 weights, then 10 items on other units (they never set those weights
    again): the survivors are Binomial(400, 0.95^10), mean 239.5, sd 9.8."""
    rng = np.random.default_rng(1)
    n, p, t = 200, 0.05, 10
    memory = SparseyMemory(n, params=CSAParams(decay=p), seed=2)
    first = _items(rng, 1, range(20), 20, n)
    memory.store_many(first)
    code = memory.code(first[0])
    assert memory.weights[np.ix_(first[0], code)].sum() == 400
    memory.store_many(_items(rng, t, range(20, n), 20, n))
    survivors = memory.weights[np.ix_(first[0], code)].sum()
    mean, sd = 400 * (1 - p) ** t, np.sqrt(400 * (1 - p) ** t * (1 - (1 - p) ** t))
    assert abs(survivors - mean) < 4 * sd, (survivors, mean, sd)


def test_the_classical_mac_saturates_and_cannot_rank_while_the_palimpsest_keeps_recognising() -> None:
    """1000 items of 20 / 200 active (20 x the classical capacity): the classical MAC's weights are 90% set and
    every item, stored or novel, has G = 1 (AUC 0.5: it cannot rank them); with decay 2 f / k the weights stay
    27% set and the newest 10 items' G are above every novel item's."""
    rng = np.random.default_rng(3)
    items, novel = random_patterns(rng, 1000, 200, 20), random_patterns(rng, 100, 200, 20)
    got = {}
    for name in ("sparsey", "sparsey-decay"):
        memory = create(name, n_units=200, sparsity=0.1, seed=0)
        memory.store_many(items)
        g = np.r_[memory.recognize_many(items[-10:]), memory.recognize_many(novel)]
        got[name] = memory.weights.mean(), roc_auc_score([1] * 10 + [0] * 100, g), g
    density, auc, g = got["sparsey"]
    assert density > 0.85 and auc == 0.5 and g.min() == 1.0
    density, auc, g = got["sparsey-decay"]
    assert 0.2 < density < 1 / 3 and auc == 1.0


def test_forget_under_decay_never_brings_a_decayed_weight_back() -> None:
    rng = np.random.default_rng(4)
    memory = SparseyMemory(100, params=CSAParams(decay=0.05), seed=1)
    items = random_patterns(rng, 30, 100, 10)
    memory.store_many(items)
    before = memory.weights
    memory.forget(items[3])
    after = memory.weights
    assert (after <= before).all() and after.sum() < before.sum()
    memory.forget(items[-1])  # the newest: its own weights go, those decayed elsewhere stay 0
    code = memory.code(items[-1])
    assert (memory.weights <= after).all() and memory.weights[np.ix_(items[-1], code)].mean() < 1


@pytest.mark.parametrize("value", [-0.1, 1.5, float("nan"), "0.1"])
def test_decay_outside_zero_one_is_refused(value) -> None:
    with pytest.raises(ValueError, match=r"decay = .* is not allowed"):
        CSAParams(decay=value)


def test_a_decaying_mac_learning_in_recognition_mode_needs_a_generator() -> None:
    mac = MAC(20, 2, 3, params=CSAParams(decay=0.1))
    with pytest.raises(ValueError, match="rng = None is not allowed: a numpy Generator"):
        mac.present(np.eye(20, dtype=bool)[:2], None, recognize=True, learn=True)
