"""The dendritic neuron and the dendritic population memory: storage, recognition against the formulas,
recall, segment recycling, the memory protocol and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim.memory import Memory, jaccard, move_bits, partial_cue, random_patterns
from neurosim.models import dendrites as d
from neurosim.models import dendritic_memory as dm


def test_a_stored_pattern_makes_its_segment_fire_with_exactly_s_active_synapses() -> None:
    rng = np.random.default_rng(0)
    x = random_patterns(rng, 3, 500, 30)
    neuron = dm.DendriticNeuron(500, 12, 8, seed=1)
    for p in x:
        neuron.store(p)
    assert neuron.segments.rows == 3
    assert np.array_equal(neuron.active_synapses(x), [12, 12, 12])
    assert neuron.fires(x).all()
    assert neuron.recognize(x[0]) == 1.0
    # a pattern sharing no cell with any stored one scores 0
    empty = np.zeros(500, dtype=bool)
    empty[np.flatnonzero(~x.any(axis=0))[:30]] = True
    assert neuron.recognize(empty) == 0.0


def test_union_storage_fills_one_segment_before_starting_the_next() -> None:
    rng = np.random.default_rng(1)
    neuron = dm.DendriticNeuron(400, 10, 6, patterns_per_segment=4, seed=2)
    for p in random_patterns(rng, 9, 400, 20):
        neuron.store(p)
    rows = neuron.segments.rows
    assert rows == 3
    assert neuron.segments.patterns[:rows].tolist() == [4, 4, 1]
    # a union segment holds at most 4 s distinct synapses, at least s
    assert all(10 <= size <= 40 for size in neuron.segments.size[:2])


def test_measured_false_positives_of_one_union_segment_agree_with_the_formula() -> None:
    rng = np.random.default_rng(3)
    n, a, s, theta, m = 1024, 20, 10, 5, 20
    fired = []
    for _ in range(30):
        neuron = dm.DendriticNeuron(n, s, theta, patterns_per_segment=m, seed=int(rng.integers(1 << 30)))
        for p in random_patterns(rng, m, n, a):
            neuron.store(p)
        fired.append(neuron.fires(random_patterns(rng, 2000, n, a)))
    rate, p = float(np.mean(fired)), d.union_false_positive(n, a, s, theta, m)
    assert p > 1e-3
    assert abs(rate - p) < 4 * d.binomial_sigma(p, 60_000) + 2e-3 * p  # union size varies around its mean


def test_measured_false_negatives_agree_with_the_formula() -> None:
    rng = np.random.default_rng(4)
    a, s, theta, v = 40, 20, 10, 20
    missed = []
    for _ in range(20):
        neuron = dm.DendriticNeuron(1000, s, theta, seed=int(rng.integers(1 << 30)))
        x = random_patterns(rng, 1, 1000, a)[0]
        neuron.store(x)
        missed.append(~neuron.fires(np.array([move_bits(rng, x, v) for _ in range(1000)])))
    rate, p = float(np.mean(missed)), d.false_negative(a, s, theta, v)
    assert 0.01 < p < 0.99
    assert abs(rate - p) < 4 * d.binomial_sigma(p, 20_000)


def test_max_segments_recycles_the_oldest_and_forgets_it() -> None:
    rng = np.random.default_rng(5)
    x = random_patterns(rng, 5, 300, 20)
    neuron = dm.DendriticNeuron(300, 10, 10, max_segments=3, seed=0)
    for p in x:
        neuron.store(p)
    assert neuron.segments.rows == 3
    assert neuron.fires(x).tolist() == [False, False, True, True, True]


def test_a_single_neuron_does_not_pretend_to_recall() -> None:
    neuron = dm.DendriticNeuron(100, 5, 3)
    with pytest.raises(TypeError, match="DendriticMemory"):
        neuron.recall(np.zeros(100, dtype=bool))


def test_population_memory_implements_the_protocol_and_recognizes_every_stored_item() -> None:
    rng = np.random.default_rng(6)
    items = random_patterns(rng, 40, 200, 20)
    mem = dm.DendriticMemory(200, 12, 5, steps=2, seed=0)
    assert isinstance(mem, Memory)
    for x in items:
        mem.store(x)
    # every active unit of a stored item has a segment with all s synapses on the item: invariant
    assert all(mem.recognize(x) == 1.0 for x in items)
    assert all(np.all(mem.recall(x)[x]) for x in items[:10])
    novel = random_patterns(np.random.default_rng(7), 20, 200, 20)
    assert np.mean([mem.recognize(x) for x in novel]) < 0.1


def test_population_memory_completes_half_cues_at_light_load_and_degrades_with_load() -> None:
    rng = np.random.default_rng(8)
    items = random_patterns(rng, 600, 200, 20)
    cues = np.array([partial_cue(rng, x, 0.5) for x in items[:10]])
    mem = dm.DendriticMemory(200, 12, 5, steps=2, seed=1)
    scores = []
    for load in (10, 600):
        mem.reset()
        for x in items[:load]:
            mem.store(x)
        scores.append(jaccard(np.array([mem.recall(c) for c in cues]), items[:10]).mean())
    assert scores[0] >= 0.95
    assert scores[1] < scores[0] - 0.2


def test_reset_restarts_the_synapse_draws() -> None:
    rng = np.random.default_rng(9)
    items = random_patterns(rng, 5, 100, 15)
    mem = dm.DendriticMemory(100, 6, 3, seed=4)
    for x in items:
        mem.store(x)
    first = mem.segments.cells[:mem.segments.rows].copy()
    mem.reset()
    assert mem.segments.rows == 0 and mem.recognize(items[0]) == 0.0
    for x in items:
        mem.store(x)
    assert np.array_equal(mem.segments.cells[:mem.segments.rows], first)


@pytest.mark.parametrize(("make", "field"), [
    (lambda: dm.DendriticNeuron(100, 10, 11), "theta"),
    (lambda: dm.DendriticNeuron(100, 0, 1), "s"),
    (lambda: dm.DendriticNeuron(-1, 3, 1), "n"),
    (lambda: dm.DendriticNeuron(100, 5, 3, patterns_per_segment=0), "patterns_per_segment"),
    (lambda: dm.DendriticMemory(100, 5, 3, max_segments=0), "max_segments"),
    (lambda: dm.DendriticMemory(100, 5, 3, steps=0), "steps"),
])
def test_bad_settings_name_the_field(make, field: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field} ="):
        make()


def test_items_too_small_for_the_segment_are_rejected() -> None:
    item = np.zeros(100, dtype=bool)
    item[:5] = True
    with pytest.raises(ValueError, match="item"):
        dm.DendriticNeuron(100, 6, 3).store(item)
    with pytest.raises(ValueError, match="item"):
        dm.DendriticMemory(100, 5, 3).store(item)
    with pytest.raises(ValueError, match="item shape"):
        dm.DendriticMemory(100, 4, 3).store(np.zeros(99, dtype=bool))
