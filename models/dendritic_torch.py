"""The dendritic memories' torch engine: active synapses as a sparse (segments x cells) matrix times the patterns.

The segments are mirrored on the device as a sparse COO matrix, rebuilt when the host
:class:`~neurosim.models.dendritic_memory.Segments` has changed since (its ``version``).
Counts are integers (exact in float32 too); patterns go through in chunks that keep the
(patterns x segments) block of counts below ``_CHUNK`` entries.
"""

from __future__ import annotations

import numpy as np
import torch

from neurosim.backends.devices import torch_device, torch_dtype

_CHUNK = 1 << 24


class SegmentReader:
    """Reads a :class:`~neurosim.models.dendritic_memory.Segments` on a torch device."""

    def __init__(self, n_inputs: int, device: str, dtype: str) -> None:
        self.n_inputs = n_inputs
        self.dev = torch_device(device)
        self.fdt = torch_dtype(dtype)
        self._version: int | None = None

    def _sync(self, seg) -> None:
        if self._version == seg.version:
            return
        rows = seg.rows
        size = seg.size[:rows].astype(np.int64)
        used = np.arange(seg.width)[None, :] < size[:, None]
        r_idx = np.repeat(np.arange(rows), size)
        c_idx = seg.cells[:rows][used].astype(np.int64)
        index = torch.as_tensor(np.stack([r_idx, c_idx]), device=self.dev)
        ones = torch.ones(r_idx.size, dtype=self.fdt, device=self.dev)
        self._matrix = torch.sparse_coo_tensor(index, ones, (rows, self.n_inputs), check_invariants=False).coalesce()
        self._owner = torch.as_tensor(seg.owner[:rows].astype(np.int64), device=self.dev)
        self._version = seg.version

    def _counts(self, seg, x: np.ndarray):
        """Active synapses (k, rows) of every used segment, chunk by chunk of patterns."""
        self._sync(seg)
        step = max(1, _CHUNK // max(seg.rows, 1))
        for lo in range(0, x.shape[0], step):
            xt = torch.as_tensor(x[lo:lo + step], device=self.dev).to(self.fdt)
            yield lo, (self._matrix @ xt.T).T

    def best(self, seg, x: np.ndarray) -> np.ndarray:
        out = np.zeros(x.shape[0], dtype=np.int64)
        if seg.rows:
            for lo, counts in self._counts(seg, x):
                out[lo:lo + counts.shape[0]] = counts.max(1).values.round().to(torch.int64).cpu().numpy()
        return out

    def fired(self, seg, x: np.ndarray, theta: int) -> np.ndarray:
        out = np.zeros((x.shape[0], seg.n_units), dtype=bool)
        if seg.rows:
            for lo, counts in self._counts(seg, x):
                hits = torch.zeros((counts.shape[0], seg.n_units), dtype=torch.int64, device=self.dev)
                hits.index_add_(1, self._owner, (counts >= theta).to(torch.int64))
                out[lo:lo + counts.shape[0]] = (hits > 0).cpu().numpy()
        return out
