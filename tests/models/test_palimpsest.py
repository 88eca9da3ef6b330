"""Palimpsest learning in the Hopfield network (learning="clipped" / "marginalist"): the equations of the
module docstring, both engines alike, and recent items that stay retrievable where the Hebbian rule blacks out."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neurosim.memory import flip_bits, random_patterns
from neurosim.models.hopfield import Hopfield


def _items(seed: int, k: int, n: int, a: float = 0.5) -> np.ndarray:
    return random_patterns(np.random.default_rng(seed), k, n, round(a * n))


def _delta(x: np.ndarray, a: float) -> np.ndarray:
    c = np.where(x, 1.0, -1.0) - (2 * a - 1)
    d = np.outer(c, c) / len(x)
    np.fill_diagonal(d, 0.0)
    return d


@pytest.mark.parametrize("a", [0.5, 0.1])
def test_marginalist_weights_are_the_items_decayed_by_their_age(a) -> None:
    n, items = 60, _items(1, 30, 60, a)
    memory = Hopfield(n, activity=a, learning="marginalist", epsilon=3.0)
    memory.store_many(items[:10])
    for x in items[10:]:
        memory.store(x)
    lam = math.exp(-3.0**2 / (2 * n))
    want = sum(lam ** (len(items) - 1 - k) * _delta(x, a) for k, x in enumerate(items))
    np.testing.assert_allclose(memory.weights, want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("a", [0.5, 0.1])
def test_clipped_weights_are_the_hebbian_sum_clipped_after_each_store(a) -> None:
    n, items = 64, _items(2, 200, 64, a)
    memory = Hopfield(n, activity=a, learning="clipped", bound=0.5)
    memory.store_many(items)
    bound = np.abs(memory.weights).max()
    w = np.zeros((n, n))
    for x in items:
        w = np.clip(w + _delta(x, a), -bound, bound)
    np.testing.assert_allclose(memory.weights, w, atol=1e-12)
    assert bound == pytest.approx(0.5 * (1 - (2 * a - 1) ** 2) / math.sqrt(n), rel=0.25)  # rounded to whole units
    wide = Hopfield(n, activity=a, learning="clipped", bound=100.0)  # never reached: the Hebbian rule
    hebbian = Hopfield(n, activity=a)
    for m in (wide, hebbian):
        m.store_many(items[:5])
    np.testing.assert_array_equal(wide.weights, hebbian.weights)


@pytest.mark.parametrize("learning", ["clipped", "marginalist", "binary"])
def test_both_engines_learn_and_recall_alike(learning) -> None:
    pytest.importorskip("torch")
    n, items = 80, _items(3, 300, 80)
    rng = np.random.default_rng(4)
    cues = np.stack([flip_bits(rng, x, 8) for x in items[-10:]])
    out = []
    for backend in ("numba", "torch"):
        memory = Hopfield(n, learning=learning, backend=backend, dtype="float64", seed=5)
        memory.store_many(items)
        out.append((memory.weights, memory.recall_many(cues), memory.recognize_many(items[-20:])))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(out[0][1], out[1][1])
    np.testing.assert_allclose(out[0][2], out[1][2], atol=1e-12)


def test_palimpsests_keep_the_latest_items_where_hebbian_learning_blacks_out() -> None:
    """N = 200, 2000 items (10 N): the Hebbian network retrieves none of the last three from 10% noise; both
    palimpsests (default bound and epsilon) retrieve them all, and their familiarity falls with age."""
    n, items = 200, _items(6, 2000, 200)
    recent = items[-3:]
    rng = np.random.default_rng(7)
    cues = np.stack([flip_bits(rng, x, 20) for x in recent])
    for learning, expect in (("hebbian", False), ("clipped", True), ("marginalist", True)):
        memory = Hopfield(n, learning=learning)
        memory.store_many(items)
        got = (memory.recall_many(cues) == recent).all(axis=1)
        assert got.all() if expect else not got.any(), learning
        if expect:
            fam = memory.recognize_many(items[[-1, -30, -300]])
            assert fam[0] > fam[1] > fam[2], (learning, fam)


def test_exact_forgetting_needs_the_hebbian_rule_and_bad_options_name_their_field() -> None:
    memory = Hopfield(20, learning="clipped")
    x = _items(8, 1, 20)[0]
    memory.store(x)
    assert memory.forget_methods == ("unlearning",) and Hopfield.forget_methods == ("exact", "unlearning")
    with pytest.raises(ValueError, match=r"^method = 'exact' is not allowed: one of \['unlearning'\] for Hopfield"):
        memory.forget(x, method="exact")
    memory.forget(x)  # unlearning, the default here
    with pytest.raises(ValueError, match=r"^learning = 'decay' is not allowed: one of 'hebbian', 'clipped'"):
        Hopfield(20, learning="decay")
    with pytest.raises(ValueError, match=r"^bound = 0 is not allowed: in \(0, 100\]"):
        Hopfield(20, bound=0)
    with pytest.raises(ValueError, match=r"^epsilon = -1 is not allowed"):
        Hopfield(20, epsilon=-1)


@pytest.mark.parametrize("update", ["async", "sync"])
def test_a_recall_trajectory_ends_where_recall_does(update) -> None:
    n, items = 100, _items(9, 30, 100, 0.1)
    memory = Hopfield(n, activity=0.1, update=update, learning="marginalist")
    memory.store_many(items)
    rng = np.random.default_rng(10)
    for x in items[:5]:
        cue = flip_bits(rng, x, 15)
        path = memory.trajectory(cue)
        np.testing.assert_array_equal(path[0], cue)
        np.testing.assert_array_equal(path[-1], memory.recall(cue))
        assert len(path) == memory.last_sweeps[0] + 1
        if update == "async":  # asynchronous updates never raise the energy
            assert np.all(np.diff([memory.energy(s) for s in path]) <= 1e-9)


def test_clipping_is_a_palimpsest_for_dense_patterns_only() -> None:
    """10% activity, N = 200, 2000 items, half cues of the newest 5: a symmetric bound cuts the rare large
    on-on steps, so clipping recalls at most 0.38 at any bound tried; the registered marginalist network
    recalls 0.99 (docs/forgetting.md, Palimpsests)."""
    from neurosim.memory import jaccard, partial_cue
    from neurosim.models import create

    n, items = 200, _items(3, 2000, 200, 0.1)
    rng = np.random.default_rng(3)
    newest = items[::-1][:5]
    cues = np.stack([partial_cue(rng, x, 0.5) for x in newest])
    clipped = []
    for bound in (0.05, 0.1, 0.2, 0.3, 0.6, 1.0):
        memory = create("hopfield", n_units=n, sparsity=0.1, learning="clipped", bound=bound)
        memory.store_many(items)
        clipped.append(float(jaccard(memory.recall_many(cues), newest).mean()))
    assert max(clipped) < 0.45, clipped
    memory = create("hopfield-marginalist", n_units=n, sparsity=0.1)
    memory.store_many(items)
    assert jaccard(memory.recall_many(cues), newest).mean() >= 0.95


def test_binary_synapses_take_the_hebbian_sign_with_probability_q() -> None:
    """Amit & Fusi: two symmetric states; a store moves a share q of the pairs to its sign; the draws come
    from the seed; the newest item's familiarity is about q, an older one's about q (1 - q)^age."""
    n, q = 120, 0.3
    items = _items(11, 40, n)
    memory = Hopfield(n, learning="binary", q=q, seed=2)
    w0 = memory.weights
    level = 1.0 / n
    assert np.all(np.isin(np.round(w0[~np.eye(n, dtype=bool)] / level), [-1, 1])) and np.array_equal(w0, w0.T)
    memory.store(items[0])
    w1 = memory.weights
    s = np.where(items[0], 1.0, -1.0)
    changed = (w1 != w0) & ~np.eye(n, dtype=bool)
    assert np.array_equal(np.sign(w1[changed]), np.sign(np.outer(s, s))[changed])  # only towards the sign
    was_other = (np.sign(w0) != np.sign(np.outer(s, s))) & ~np.eye(n, dtype=bool)
    assert abs(changed.sum() / was_other.sum() - q) < 0.03  # a share q of the pairs that could move, moved
    memory.store_many(items[1:])
    fam = memory.recognize_many(items[[-1, -4]])
    assert abs(fam[0] - q) < 0.1 and abs(fam[1] - q * (1 - q) ** 3) < 0.1
    again, other = Hopfield(n, learning="binary", q=q, seed=2), Hopfield(n, learning="binary", q=q, seed=3)
    for m in (again, other):
        m.store_many(items)
    assert np.array_equal(again.weights, memory.weights) and not np.array_equal(other.weights, memory.weights)
    again.reset()
    np.testing.assert_array_equal(again.weights, w0)  # reset draws the same starting states


@pytest.mark.parametrize(("learning", "check"), [("clipped", "bounded"), ("binary", "two states")])
def test_unlearning_stays_within_the_rules_weights(learning, check) -> None:
    n, items = 100, _items(12, 50, 100)
    memory = Hopfield(n, learning=learning)
    memory.store_many(items)
    before = memory.weights
    memory.forget(items[-1])  # unlearning, the only method here
    after = memory.weights
    assert not np.array_equal(after, before)
    off = ~np.eye(n, dtype=bool)
    if check == "bounded":
        assert np.abs(after).max() <= np.abs(before).max() + 1e-15
    else:
        assert set(np.round(np.abs(after[off]) * n, 9)) == {1.0} and np.array_equal(after, after.T)
