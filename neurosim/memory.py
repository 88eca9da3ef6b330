"""The memory protocol every memory model implements, and helpers for binary patterns.

Items are binary numpy arrays (SDRs: dtype bool, one entry per unit) unless a
model says otherwise. The forgetting-dynamics harness drives any model through
``store``, ``recall``, ``recognize`` and ``reset``.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from neurosim import _checks as ck


@runtime_checkable
class Memory(Protocol):
    """What a memory model offers (``key`` is optional: content-addressable models use it)."""

    def store(self, item: np.ndarray, key: Any = None) -> None:
        """Learn ``item`` (under ``key`` where the model is addressed by keys)."""

    def recall(self, cue: Any) -> np.ndarray:
        """The stored item the cue retrieves (a key, or a partial/noisy item)."""

    def recognize(self, item: np.ndarray) -> float:
        """Familiarity of ``item`` in [0, 1]."""

    def reset(self) -> None:
        """Forget everything: back to the state after construction."""


def as_pattern(field: str, item: Any, size: int) -> np.ndarray:
    """Validate a binary pattern of ``size`` units and return it as a bool array."""
    a = np.asarray(item)
    if a.shape != (size,):
        ck.fail(f"{field} shape", a.shape, f"({size},)")
    if a.dtype != bool:
        if not np.issubdtype(a.dtype, np.number) or not np.all((a == 0) | (a == 1)):
            ck.fail(field, a.tolist()[:8], "binary values (0/1 or bool)")
        a = a.astype(bool)
    return a


def overlap(a: np.ndarray, b: np.ndarray) -> int:
    """Number of units active in both patterns."""
    return int(np.count_nonzero(np.logical_and(a, b)))


def hamming(a: np.ndarray, b: np.ndarray) -> int:
    """Number of units where the patterns differ."""
    return int(np.count_nonzero(np.logical_xor(a, b)))


def random_patterns(rng: np.random.Generator, n_patterns: int, size: int, active: int) -> np.ndarray:
    """``n_patterns`` random patterns of ``size`` units with exactly ``active`` units on (bool, (n, size))."""
    ck.count("n_patterns", n_patterns, minimum=0)
    ck.count("size", size)
    if not isinstance(active, (int, np.integer)) or not 0 <= active <= size:
        ck.fail("active", active, f"an integer in [0, {size}]")
    out = np.zeros((n_patterns, size), dtype=bool)
    for p in range(n_patterns):
        out[p, rng.choice(size, size=active, replace=False)] = True
    return out


def partial_cue(rng: np.random.Generator, item: np.ndarray, keep: float) -> np.ndarray:
    """A random fraction ``keep`` (rounded, at least one) of the item's active units; the rest off."""
    ck.in_range("keep", keep, 0.0, 1.0)
    on = np.flatnonzero(item)
    k = max(1, int(round(keep * on.size))) if on.size else 0
    cue = np.zeros_like(item, dtype=bool)
    cue[rng.choice(on, size=k, replace=False)] = True
    return cue


def drop_bits(rng: np.random.Generator, item: np.ndarray, k: int) -> np.ndarray:
    """The item with ``k`` of its active units turned off."""
    return _switch(rng, item, k, active=True)


def add_bits(rng: np.random.Generator, item: np.ndarray, k: int) -> np.ndarray:
    """The item with ``k`` of its inactive units turned on (spurious bits)."""
    return _switch(rng, item, k, active=False)


def _switch(rng: np.random.Generator, item: np.ndarray, k: int, active: bool) -> np.ndarray:
    """Flip ``k`` random units among the item's active (or inactive) ones."""
    cue = np.asarray(item, dtype=bool).copy()
    pool = np.flatnonzero(cue if active else ~cue)
    if not isinstance(k, (int, np.integer)) or not 0 <= k <= pool.size:
        which = "active" if active else "inactive"
        ck.fail("k", k, f"an integer in [0, {pool.size}] (the item's {which} units)")
    cue[rng.choice(pool, size=k, replace=False)] = not active
    return cue


def flip_bits(rng: np.random.Generator, item: np.ndarray, k: int) -> np.ndarray:
    """The item with ``k`` random units flipped (noise)."""
    item = np.asarray(item, dtype=bool)
    if not isinstance(k, (int, np.integer)) or not 0 <= k <= item.size:
        ck.fail("k", k, f"an integer in [0, {item.size}]")
    cue = item.copy()
    idx = rng.choice(item.size, size=k, replace=False)
    cue[idx] = ~cue[idx]
    return cue


def move_bits(rng: np.random.Generator, item: np.ndarray, k: int) -> np.ndarray:
    """The item with ``k`` of its active units moved to units outside it: same sparsity, overlap |item| - k."""
    item = np.asarray(item, dtype=bool)
    return drop_bits(rng, item, k) | (add_bits(rng, item, k) & ~item)


def jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per row |a & b| / |a | b| (1.0 when both are empty): 1 only for an exact match."""
    union = np.count_nonzero(a | b, axis=-1)
    return np.where(union > 0, np.count_nonzero(a & b, axis=-1) / np.maximum(union, 1), 1.0)
