"""A Sparsey hierarchy over images: levels of MACs with square receptive fields on the level below.

Level 1's MACs tile the image (each reads a ``rf x rf`` pixel patch, ``stride`` apart);
a level-L MAC reads the codes (``q k`` bits each) of an ``rf x rf`` block of level
L-1 MACs. There is no top-down input, so each MAC's sequence of inputs depends only on
the images and the levels below: a batch is presented level by level and MAC by MAC
(one kernel call per MAC), which gives the codes an image-by-image pass would give up
to the order of the random draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurosim import _checks as ck
from neurosim.models.sparsey import MAC, CSAParams, code_bits


@dataclass(frozen=True)
class Level:
    """One level: MACs of ``q`` CMs x ``k`` cells on a grid, each reading an ``rf x rf`` block below."""

    rf: int
    stride: int
    q: int
    k: int
    min_active: int = 1  # pi_min: fewest active input bits for a MAC of this level to code

    def __post_init__(self) -> None:
        for name in ("rf", "stride", "q", "k", "min_active"):
            ck.count(name, getattr(self, name))


def _grid(size: tuple[int, int], rf: int, stride: int, level: int) -> tuple[int, int]:
    if rf > min(size):
        ck.fail(f"levels[{level}].rf", rf, f"<= {min(size)} (the grid below is {size[0]} x {size[1]})")
    return ((size[0] - rf) // stride + 1, (size[1] - rf) // stride + 1)


class Hierarchy:
    """MACs on ``levels`` over ``image_shape`` binary images; ``present`` returns each level's codes. Every MAC
    runs on ``backend`` (numba or torch), ``device`` and ``dtype`` (see :class:`~neurosim.models.sparsey.MAC`)."""

    def __init__(self, image_shape: tuple[int, int], levels: tuple[Level, ...], *,
                 params: CSAParams | None = None, backend: str = "numba", device: str | None = None,
                 dtype: str | None = None) -> None:
        if len(image_shape) != 2:
            ck.fail("image_shape", image_shape, "(height, width)")
        self.image_shape = (ck.count("image_shape[0]", image_shape[0]), ck.count("image_shape[1]", image_shape[1]))
        if not levels:
            ck.fail("levels", levels, "at least one Level")
        base = params if params is not None else CSAParams()
        self.levels = tuple(levels)
        self.grids: list[tuple[int, int]] = []
        self.blocks: list[list[np.ndarray]] = []   # per level, per MAC: flat indices of its inputs below
        self.macs: list[list[MAC]] = []
        below, unit_bits = self.image_shape, 1
        for li, lv in enumerate(self.levels):
            grid = _grid(below, lv.rf, lv.stride, li)
            p = CSAParams(**{**vars(base), "min_active": lv.min_active})
            blocks, macs = [], []
            for r in range(grid[0]):
                for c in range(grid[1]):
                    rows, cols = np.meshgrid(np.arange(r * lv.stride, r * lv.stride + lv.rf),
                                             np.arange(c * lv.stride, c * lv.stride + lv.rf), indexing="ij")
                    blocks.append((rows * below[1] + cols).ravel())
                    macs.append(MAC(lv.rf * lv.rf * unit_bits, lv.q, lv.k, params=p, backend=backend, device=device,
                                    dtype=dtype))
            self.grids.append(grid)
            self.blocks.append(blocks)
            self.macs.append(macs)
            below, unit_bits = grid, lv.q * lv.k

    def reset(self) -> None:
        for macs in self.macs:
            for m in macs:
                m.reset()

    def present(self, images: np.ndarray, rng: np.random.Generator | None = None, *, learn: bool = True,
                recognize: bool = False) -> list[np.ndarray]:
        """Codes of each level for a batch of images: a list of (n, n_macs, q) int arrays (-1 = silent)."""
        x = np.asarray(images)
        if x.ndim != 3 or x.shape[1:] != self.image_shape:
            ck.fail("images shape", x.shape, f"(n, {self.image_shape[0]}, {self.image_shape[1]})")
        if x.dtype != bool:
            if not np.issubdtype(x.dtype, np.number) or not np.all((x == 0) | (x == 1)):
                ck.fail("images", x.ravel()[:8].tolist(), "binary values (0/1 or bool)")
            x = x.astype(bool)
        n = x.shape[0]
        units = x.reshape(n, -1, 1)  # (n, units below, bits per unit)
        out = []
        for li, lv in enumerate(self.levels):
            codes = np.empty((n, len(self.macs[li]), lv.q), dtype=np.int64)
            for m, (mac, block) in enumerate(zip(self.macs[li], self.blocks[li], strict=True)):
                codes[:, m] = mac.present(units[:, block].reshape(n, -1), rng, learn=learn,
                                          recognize=recognize).cells
            out.append(codes)
            units = code_bits(codes.reshape(-1, lv.q), lv.q * lv.k).reshape(n, codes.shape[1], lv.q * lv.k)
        return out
