"""Small helpers the experiments share."""

from __future__ import annotations

import numpy as np


def rng_for(seed: int, *key: int) -> np.random.Generator:
    """An independent generator per purpose (``key``), reproducible from ``seed``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def prefix_max(good: list[int], grid: tuple[int, ...]) -> int:
    """The largest grid value N such that every N' <= N in the grid is in ``good`` (0 if none)."""
    best = 0
    for n in sorted(grid):
        if n not in good:
            break
        best = n
    return best
