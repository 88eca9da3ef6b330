"""The dendritic memories' numba engine: each segment's active synapses, counted per pattern in one loop."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def _best(x, cells, size, rows):
    """The largest number of active synapses on any of the first ``rows`` segments, per row of ``x``."""
    out = np.zeros(x.shape[0], dtype=np.int64)
    for b in range(x.shape[0]):
        xb = x[b]
        best = 0
        for r in range(rows):
            c = 0
            for w in range(size[r]):
                c += xb[cells[r, w]]
            if c > best:
                best = c
        out[b] = best
    return out


@numba.njit(cache=True)
def _fired(x, cells, size, owner, rows, theta, n_units):
    """Per row of ``x``: the units owning a segment with at least ``theta`` active synapses."""
    out = np.zeros((x.shape[0], n_units), dtype=np.bool_)
    for b in range(x.shape[0]):
        xb = x[b]
        for r in range(rows):
            c = 0
            for w in range(size[r]):
                c += xb[cells[r, w]]
            if c >= theta:
                out[b, owner[r]] = True
    return out


class SegmentReader:
    """Reads a :class:`~neurosim.models.dendritic_memory.Segments` on the CPU."""

    def __init__(self, n_inputs: int, device: str, dtype: str) -> None:
        self.n_inputs = n_inputs

    def best(self, seg, x: np.ndarray) -> np.ndarray:
        return _best(x.view(np.uint8), seg.cells, seg.size, seg.rows)

    def fired(self, seg, x: np.ndarray, theta: int) -> np.ndarray:
        return _fired(x.view(np.uint8), seg.cells, seg.size, seg.owner, seg.rows, theta, seg.n_units)
