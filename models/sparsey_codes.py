"""Sparsey's codes and the constants of its Code Selection Algorithm (:mod:`.sparsey`, whose docstring has
the equations): :class:`CSAParams`, the :class:`Codes` a batch gets (one winner per CM), the code helpers
:func:`code_bits` and :func:`code_overlap`, and the sparse-row form the engines read (``_csr``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurosim import _checks as ck


@dataclass(frozen=True)
class CSAParams:
    """The Code Selection Algorithm's constants (Rinkus' defaults: Rinkus 2014, 2017)."""

    g_low: float = 0.1            # familiarity at or below which the draw is uniform
    gamma: float = 2.0            # exponent of the expansivity's rise with G
    chi: float = 100.0            # expansivity gain: eta - 1 reaches chi * K at G = 1
    sigmoid_center: float = 0.5   # V at the V -> mu sigmoid's midpoint (the demo's 50 / 100)
    sigmoid_width: float = 0.15   # the sigmoid's width in V (the demo's 15 / 100)
    lambda_u: float = 1.0         # exponent of the bottom-up support in V
    lambda_h: float = 1.0         # exponent of the horizontal support
    lambda_d: float = 1.0         # exponent of the top-down support
    min_active: int = 1           # pi_min: fewest active bottom-up inputs for the MAC to code
    freeze_fraction: float | None = None  # stop learning once this fraction of U weights is set
    decay: float = 0.0            # probability per learned input that each set weight returns to 0

    def __post_init__(self) -> None:
        ck.in_range("g_low", self.g_low, 0.0, 0.999)
        ck.positive("gamma", self.gamma)
        ck.non_negative("chi", self.chi)
        ck.finite("sigmoid_center", self.sigmoid_center)
        ck.positive("sigmoid_width", self.sigmoid_width)
        for name in ("lambda_u", "lambda_h", "lambda_d"):
            ck.positive(name, getattr(self, name))
        ck.count("min_active", self.min_active, minimum=1)
        if self.freeze_fraction is not None:
            ck.in_range("freeze_fraction", self.freeze_fraction, 1e-9, 1.0)
        ck.in_range("decay", self.decay, 0.0, 1.0)


@dataclass
class Codes:
    """The result of presenting a batch: one row per input."""

    cells: np.ndarray       # (n, q) int: the winner of each CM as a cell index in [0, q k), -1 when silent
    familiarity: np.ndarray  # (n,) G of each input (0 when silent)

    def binary(self, q: int, k: int) -> np.ndarray:
        """The codes as (n, q k) bool rows."""
        return code_bits(self.cells, q * k)


def code_bits(cells: np.ndarray, n_cells: int) -> np.ndarray:
    """Codes given as winner indices (n, q), -1 for silent, as (n, n_cells) bool rows."""
    cells = np.atleast_2d(cells)
    out = np.zeros((cells.shape[0], n_cells), dtype=bool)
    rows, cols = np.nonzero(cells >= 0)
    out[rows, cells[rows, cols]] = True
    return out


def code_overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Number of CMs in which two codes (winner indices, (..., q)) share their winner; silent CMs never match."""
    return np.count_nonzero((a == b) & (a >= 0), axis=-1)


def _csr(items: np.ndarray | list) -> tuple[np.ndarray, np.ndarray]:
    """Active-unit indices of bool rows as (indptr, indices) int64 arrays."""
    if isinstance(items, np.ndarray):
        rows, cols = np.nonzero(items)
        ptr = np.zeros(items.shape[0] + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=items.shape[0]), out=ptr[1:])
        return ptr, cols.astype(np.int64)
    ptr = np.zeros(len(items) + 1, dtype=np.int64)
    np.cumsum([len(i) for i in items], out=ptr[1:])
    return ptr, (np.concatenate(items).astype(np.int64) if items else np.zeros(0, np.int64))
