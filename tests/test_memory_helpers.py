"""Pattern helpers of neurosim.memory: exact counts, seeded, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim.memory import (
    add_bits,
    as_pattern,
    drop_bits,
    flip_bits,
    hamming,
    jaccard,
    move_bits,
    overlap,
    partial_cue,
    random_patterns,
)


def test_random_patterns_have_exact_activity_and_depend_on_seed() -> None:
    p = random_patterns(np.random.default_rng(1), 50, 100, 7)
    assert p.shape == (50, 100) and p.dtype == bool
    assert np.all(p.sum(axis=1) == 7)
    q = random_patterns(np.random.default_rng(1), 50, 100, 7)
    r = random_patterns(np.random.default_rng(2), 50, 100, 7)
    assert np.array_equal(p, q) and not np.array_equal(p, r)


def test_cues() -> None:
    rng = np.random.default_rng(0)
    item = random_patterns(rng, 1, 40, 10)[0]
    half = partial_cue(rng, item, 0.5)
    assert half.sum() == 5 and overlap(half, item) == 5
    dropped = drop_bits(rng, item, 3)
    assert dropped.sum() == 7 and overlap(dropped, item) == 7
    extra = add_bits(rng, item, 4)
    assert extra.sum() == 14 and overlap(extra, item) == 10
    noisy = flip_bits(rng, item, 6)
    assert hamming(noisy, item) == 6


def test_errors_name_the_field() -> None:
    with pytest.raises(ValueError, match=r"active = 12 .*\[0, 10\]"):
        random_patterns(np.random.default_rng(0), 1, 10, 12)
    with pytest.raises(ValueError, match=r"keep = 1.5 .*\[0.0, 1.0\]"):
        partial_cue(np.random.default_rng(0), np.ones(4, bool), 1.5)
    with pytest.raises(ValueError, match=r"item shape = \(3,\) .*\(4,\)"):
        as_pattern("item", [1, 0, 1], 4)
    with pytest.raises(ValueError, match=r"item = \[2, 0, 1, 0\] .*binary"):
        as_pattern("item", [2, 0, 1, 0], 4)
    with pytest.raises(ValueError, match=r"k = 5 .*\[0, 2\]"):
        drop_bits(np.random.default_rng(0), np.array([1, 1, 0, 0], bool), 5)


def test_move_bits_keeps_sparsity_and_sets_the_overlap() -> None:
    rng = np.random.default_rng(0)
    x = np.zeros(100, bool)
    x[rng.choice(100, 30, replace=False)] = True
    for m in (0, 7, 30):
        y = move_bits(rng, x, m)
        assert y.sum() == 30 and (x & y).sum() == 30 - m


def test_jaccard() -> None:
    a = np.array([[1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]], dtype=bool)
    b = np.array([[1, 1, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0]], dtype=bool)
    np.testing.assert_allclose(jaccard(a, b), [1.0, 0.0, 1.0])
    np.testing.assert_allclose(jaccard(a[:1], np.array([[1, 1, 1, 0]], dtype=bool)), [2 / 3])


def test_cue_helpers_take_one_item_and_say_so_for_several() -> None:
    """A 2-D array used to pass: flip_bits raised an IndexError, partial_cue set the wrong units silently."""
    from neurosim.memory import add_bits, drop_bits, flip_bits, move_bits, partial_cue

    rng = np.random.default_rng(0)
    items = np.zeros((3, 10), dtype=bool)
    items[:, :4] = True
    for helper, arg in ((flip_bits, 2), (drop_bits, 1), (add_bits, 1), (move_bits, 1), (partial_cue, 0.5)):
        with pytest.raises(ValueError, match=r"^item shape = \(3, 10\) is not allowed: one pattern, a 1-D array"):
            helper(rng, items, arg)
        assert helper(rng, items[0], arg).shape == (10,)
