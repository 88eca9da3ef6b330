"""Targeted forgetting through the memory contract: ``forget(item, key=None, method=None)``.

Where a model's removal is exact, the memory after forgetting must equal one that never stored
the item; where it is not, what the model's docstring promises (the other items' weights or
segments kept) must hold, and the forgotten item must lose its familiarity.
"""

from __future__ import annotations

import numpy as np
import pytest

from neurosim.memory import random_patterns
from neurosim.models import create
from neurosim.models.hopfield import Hopfield

N, ACTIVE = 200, 20


def _items(seed: int, k: int) -> np.ndarray:
    return random_patterns(np.random.default_rng(seed), k, N, ACTIVE)


ENGINES = [("numba", {}), ("torch", {"device": "cpu", "dtype": "float64"})]


@pytest.mark.parametrize(("backend", "kw"), ENGINES)
@pytest.mark.parametrize("name", ["hopfield", "dam-poly", "dam-exp"])
def test_exact_removal_equals_a_memory_that_never_stored_the_item(name, backend, kw) -> None:
    x = _items(1, 25)
    probes = np.vstack([x, _items(2, 10)])
    forgotten = create(name, n_units=N, sparsity=ACTIVE / N, backend=backend, **kw)
    forgotten.store_many(x[:12])
    forgotten.store(x[12])
    forgotten.store(x[12])  # twice: forgetting takes one copy
    forgotten.store_many(x[13:])
    forgotten.forget(x[12])
    forgotten.forget(x[5])
    never = create(name, n_units=N, sparsity=ACTIVE / N, backend=backend, **kw)
    never.store_many(np.vstack([x[:5], x[6:13], x[13:]]))
    np.testing.assert_array_equal(forgotten.recognize_many(probes), never.recognize_many(probes))
    cues = probes & (np.random.default_rng(3).random(probes.shape) < 0.6)
    np.testing.assert_array_equal(forgotten.recall_many(cues), never.recall_many(cues))
    assert forgotten.n_stored == never.n_stored == 24
    if name == "hopfield":
        np.testing.assert_array_equal(forgotten.weights, never.weights)
    else:
        np.testing.assert_array_equal(forgotten.patterns, never.patterns)
        np.testing.assert_array_equal(forgotten.multiplicity, never.multiplicity)
    assert forgotten.recognize(x[5]) < 0.6 < forgotten.recognize(x[6])


def test_hebbian_unlearning_below_capacity_is_exact_removal_and_leaves_a_residue_above_it() -> None:
    """One step at rate 1 weakens the state the item retrieves: the item itself while it is an attractor.
    Past capacity the retrieved state is another one, so the item keeps part of its trace."""
    x = _items(4, 60)
    for load, same in ((5, True), (60, False)):
        exact = create("hopfield", n_units=N, sparsity=ACTIVE / N)
        unlearn = create("hopfield", n_units=N, sparsity=ACTIVE / N)
        for m in (exact, unlearn):
            m.store_many(x[:load])
        target = x[load - 1]
        retrieved = unlearn.recall(target)
        assert np.array_equal(retrieved, target) == same
        exact.forget(target)
        unlearn.forget(target, method="unlearning")
        assert np.array_equal(exact.weights, unlearn.weights) == same
        if not same:
            residue = exact.weights - unlearn.weights  # = (c* c*^T - c c^T) / N: what unlearning missed
            assert np.abs(residue).max() > 0


def test_hebbian_unlearning_steps_and_rate_are_checked_and_used() -> None:
    with pytest.raises(ValueError, match=r"unlearning_rate = 0\.0 is not allowed: in \(0, 10\]"):
        Hopfield(N, activity=0.1, unlearning_rate=0.0)
    with pytest.raises(ValueError, match="unlearning_steps"):
        Hopfield(N, activity=0.1, unlearning_steps=0)
    x = _items(5, 5)
    one, two = (Hopfield(N, activity=0.1, unlearning_steps=k) for k in (1, 2))
    for m in (one, two):
        m.store_many(x)
        m.forget(x[0], method="unlearning")
    assert not np.array_equal(one.weights, two.weights)  # the second round weakened something more


@pytest.mark.parametrize(("backend", "kw"), ENGINES)
def test_sparsey_forgets_the_weights_only_its_code_set(backend, kw) -> None:
    """After forgetting, the U weights are those the remaining items' codes set: every other item keeps its
    whole code (its familiarity stays 1), and the forgotten item loses the weights no other code shares."""
    x = _items(6, 30)
    mem = create("sparsey", n_units=N, sparsity=ACTIVE / N, seed=2, backend=backend, **kw)
    codes = mem.store_many(x).cells
    before = mem.weights.copy()
    mem.forget(x[7])
    keep = np.delete(np.arange(30), 7)
    expected = np.zeros_like(before)
    for r in keep:
        expected[np.ix_(x[r], codes[r])] = 1
    np.testing.assert_array_equal(mem.weights, expected)
    assert (mem.weights <= before).all() and mem.weights.sum() < before.sum()
    np.testing.assert_array_equal(mem.recognize_many(x[keep]), np.ones(keep.size))
    assert mem.recognize(x[7]) < 1.0
    assert mem.mac.weight_fraction() == pytest.approx(expected.sum() / expected.size)


def test_sparsey_that_froze_forgets_only_what_was_learned_before() -> None:
    """Items stored after the critical period set no weight; forgetting another item must not set theirs."""
    from neurosim.models.sparsey import CSAParams, SparseyMemory

    x = _items(9, 40)
    mem = SparseyMemory(N, q=10, k=10, seed=1, params=CSAParams(freeze_fraction=0.05))
    mem.store_many(x)
    assert mem.mac.frozen
    before = mem.weights.copy()
    mem.forget(x[0])
    after = mem.weights
    assert (after <= before).all() and after.sum() < before.sum()
    mem.forget(x[-1])  # stored while frozen: it set nothing, so nothing goes
    np.testing.assert_array_equal(mem.weights, after)


@pytest.mark.parametrize(("backend", "kw"), ENGINES)
@pytest.mark.parametrize("per_segment", [1, 3])
def test_dendritic_memory_forgets_the_synapses_only_that_item_sampled(per_segment, backend, kw) -> None:
    """Single-item segments are emptied; union segments keep exactly what the other items sampled, so
    every other item still makes all its units fire."""
    x = _items(7, 30)
    mem = create("dendrites", n_units=N, sparsity=ACTIVE / N, patterns_per_segment=per_segment, backend=backend,
                 **kw)
    mem.store_many(x)
    assert mem.recognize(x[4]) == 1.0
    mem.forget(x[4])
    keep = np.delete(np.arange(30), 4)
    np.testing.assert_array_equal(mem.recognize_many(x[keep]), np.ones(keep.size))
    novel = create("dendrites", n_units=N, sparsity=ACTIVE / N, patterns_per_segment=per_segment)
    novel.store_many(x[keep])
    assert mem.recognize(x[4]) <= novel.recognize(x[4]) + 0.25  # about as familiar as if never seen
    assert mem.recognize(x[4]) < 1.0


def test_forget_refuses_what_is_not_stored_an_unknown_method_and_a_wrong_shape() -> None:
    x = _items(8, 3)
    mem = create("hopfield", n_units=N, sparsity=ACTIVE / N)
    mem.store(x[0])
    with pytest.raises(ValueError, match=r"item \(its active units\) = \[.*\] is not allowed: an item stored in "
                                         r"this Hopfield \(it was never stored, or is forgotten already\)"):
        mem.forget(x[1])
    with pytest.raises(ValueError, match=r"method = 'erase' is not allowed: one of \['exact', 'unlearning'\]"):
        mem.forget(x[0], method="erase")
    with pytest.raises(ValueError, match=r"item shape = \(3,\) is not allowed: \(200,\)"):
        mem.forget([1, 0, 1])
    with pytest.raises(ValueError, match=r"key = 2 is not allowed: None"):
        mem.forget(x[0], key=2)
    mem.forget(x[0])
    with pytest.raises(ValueError, match="forgotten already"):
        mem.forget(x[0])
    mem.store(x[2])
    mem.reset()
    with pytest.raises(ValueError, match="never stored"):
        mem.forget(x[2])


def test_a_model_without_a_mechanism_says_so() -> None:
    mem = create("ca3-auto", n_units=12, sparsity=0.25)
    try:
        item = np.zeros(12, dtype=bool)
        item[[1, 2, 5]] = True
        mem.store(item)
        with pytest.raises(NotImplementedError, match=r"CA3AutoMemory.forget: this model has no targeted forgetting "
                                                      r"yet \(no DG spike pattern.*ca3-auto-forget"):
            mem.forget(item)
    finally:
        mem.close()


def _bits(n: int, *on: int) -> np.ndarray:
    x = np.zeros(n, dtype=bool)
    x[list(on)] = True
    return x


@pytest.mark.parametrize("rule", ["coincidence", "published"])
def test_ca3_forgets_a_cue_by_the_learn_reversed_in_time(rule) -> None:
    """Cue one tick before its content, learning on: under the coincidence rule the cue's links go both ways
    and every other cue keeps its content, also the one sharing bit 3; under the paper's rule only the
    content -> cue links go (recall by cue still finds the content), as the docstring says."""
    from neurosim.models.ca3 import COINCIDENCE_RULE, LEARNING_RULE, CA3Memory

    mem = CA3Memory(4, 10, learning_rule=COINCIDENCE_RULE if rule == "coincidence" else LEARNING_RULE)
    try:
        items = [_bits(10, 1, 2, 3), _bits(10, 3, 4), _bits(10, 5, 6)]
        for key, x in enumerate(items):
            mem.store(x, key=key)
        mem.forget(items[0], key=0)
        assert mem.recall_by_cue(0) == ([] if rule == "coincidence" else [1, 2, 3])
        assert mem.recall_by_content([1]) == [] and mem.recall_by_content([3]) == [1]
        assert mem.recall_by_cue(1) == [3, 4] and mem.recall_by_cue(2) == [5, 6]
        assert mem.recognize(items[0]) == pytest.approx(0.25)  # bit 3 finds cue 1, whose content is [3, 4]
        with pytest.raises(ValueError, match=r"an item stored in this CA3Memory under key 1"):
            mem.forget(items[0], key=1)
    finally:
        mem.close()


def test_a_ca3_cue_holds_one_content_so_relearning_replaces_what_forget_accepts() -> None:
    """A learn overwrites the cue: the old content can no longer be forgotten under it, the new one can."""
    from neurosim.models.ca3 import CA3Memory

    mem = CA3Memory(2, 8)
    try:
        old, new = _bits(8, 1, 2), _bits(8, 5, 6)
        mem.store(old, key=0)
        mem.store(new, key=0)
        with pytest.raises(ValueError, match=r"item \(its active units\) = \[1, 2\] is not allowed: an item stored"):
            mem.forget(old, key=0)
        mem.forget(new, key=0)
        mem.store(new, key=1)
        mem.store(new, key=1)  # the same content again: still one copy under the key
        mem.forget(new, key=1)
        with pytest.raises(ValueError, match="forgotten already"):
            mem.forget(new, key=1)
    finally:
        mem.close()
