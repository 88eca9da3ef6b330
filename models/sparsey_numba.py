"""Sparsey's numba engine: the CSA and single-trial learning of a batch of inputs in one kernel (CPU, float64).

:func:`_run_batch` presents the inputs in order (each may learn before the next is coded);
:class:`MacArrays` holds a MAC's binary weights as numpy uint8 arrays and is the interface
:mod:`.sparsey_torch` shares. :func:`neurosim.models.sparsey_reference.csa_reference` is the readable
numpy reference both engines are tested against.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def _support(idx, w, lam, v, tmp):
    """v *= (sum_j w[idx_j] / |idx|) ** lam."""
    n = v.size
    tmp[:] = 0  # integer counts: the row sums vectorize without float conversions
    for j in idx:
        row = w[j]
        for i in range(n):
            tmp[i] += row[i]
    inv = 1.0 / idx.size
    for i in range(n):
        s = tmp[i] * inv
        v[i] *= s if lam == 1.0 else s ** lam


@numba.njit(cache=True)
def _csa(u_idx, wu, h_idx, wh, d_idx, wd, lam, q, k, g_low, gamma, chi, center, width, v, rho, tmp):
    """Fill V and rho for one input; return G. Empty index arrays are absent sources."""
    n = q * k
    for i in range(n):
        v[i] = 1.0
    if u_idx.size:
        _support(u_idx, wu, lam[0], v, tmp)
    if h_idx.size:
        _support(h_idx, wh, lam[1], v, tmp)
    if d_idx.size:
        _support(d_idx, wd, lam[2], v, tmp)
    g = 0.0
    for c in range(q):
        best = 0.0
        for i in range(c * k, c * k + k):
            if v[i] > best:
                best = v[i]
        g += best
    g /= q
    x = (g - g_low) / (1.0 - g_low)
    eta = 1.0 + (x ** gamma * chi * k if x > 0.0 else 0.0)
    for c in range(q):
        total = 0.0
        for i in range(c * k, c * k + k):
            rho[i] = (eta - 1.0) / (1.0 + np.exp(-(v[i] - center) / width)) + 1.0
            total += rho[i]
        for i in range(c * k, c * k + k):
            rho[i] /= total
    return g


@numba.njit(cache=True)
def _choose(v, rho, q, k, uniforms, recognize, out):
    """One winner per CM: argmax V (first on ties) or a draw from rho with one uniform per CM."""
    for c in range(q):
        lo = c * k
        win = lo
        if recognize:
            for i in range(lo + 1, lo + k):
                if v[i] > v[win]:
                    win = i
        else:
            r = uniforms[c]
            acc = 0.0
            win = lo + k - 1
            for i in range(lo, lo + k):
                acc += rho[i]
                if r < acc:
                    win = i
                    break
        out[c] = win


@numba.njit(cache=True)
def _learn(idx, w, code):
    """Set w[j, winner] = 1 for every active j; return how many weights were newly set."""
    new = 0
    for j in idx:
        for win in code:
            if w[j, win] == 0:
                w[j, win] = 1
                new += 1
    return new


@numba.njit(cache=True)
def _run_batch(u_ptr, u_idx, wu, use_h, prev, wh, d_ptr, d_idx, wd, lam, q, k, g_low, gamma, chi, center,
               width, min_active, require_u, uniforms, recognize, learn, freeze_at, n_set, codes, gs):
    """Present inputs in order. Item t's U indices are ``u_idx[u_ptr[t]:u_ptr[t+1]]`` (D likewise);
    H is the previous code (``prev`` before the first item) where ``use_h[t]``. The MAC is silent
    (code -1, G 0, no learning, H chain cut) when U has fewer than ``min_active`` units and
    ``require_u``, or when no source is present. ``n_set[0]`` counts set U weights; learning
    stops once it reaches ``freeze_at`` (< 0: never)."""
    n = q * k
    v = np.empty(n)
    rho = np.empty(n)
    tmp = np.empty(n, dtype=np.int32)
    code = np.empty(q, dtype=np.int64)
    empty = np.empty(0, dtype=np.int64)
    for t in range(u_ptr.size - 1):
        ui = u_idx[u_ptr[t]:u_ptr[t + 1]]
        di = d_idx[d_ptr[t]:d_ptr[t + 1]]
        hi = prev if (use_h[t] and prev[0] >= 0) else empty
        if ui.size < min_active:
            if require_u:
                ui = empty
                hi = empty
                di = empty
            elif ui.size:
                ui = empty
        if ui.size == 0 and hi.size == 0 and di.size == 0:
            for c in range(q):
                codes[t, c] = -1
                prev[c] = -1
            gs[t] = 0.0
            continue
        gs[t] = _csa(ui, wu, hi, wh, di, wd, lam, q, k, g_low, gamma, chi, center, width, v, rho, tmp)
        _choose(v, rho, q, k, uniforms[t], recognize, code)
        if learn and (freeze_at < 0 or n_set[0] < freeze_at):
            n_set[0] += _learn(ui, wu, code)
            if hi.size:
                _learn(hi, wh, code)
            if di.size:
                _learn(di, wd, code)
        for c in range(q):
            codes[t, c] = code[c]
            prev[c] = code[c]


class MacArrays:
    """A MAC's weights ``u`` (n_inputs, n), ``h`` (n_h, n), ``d`` (n_d, n) as numpy uint8 0/1 matrices."""

    def __init__(self, n_inputs: int, n_cells: int, n_h: int, n_d: int, device: str, dtype: str) -> None:
        self.u = np.zeros((n_inputs, n_cells), dtype=np.uint8)
        self.h = np.zeros((n_h, n_cells), dtype=np.uint8)
        self.d = np.zeros((n_d, n_cells), dtype=np.uint8)

    def array(self, name: str) -> np.ndarray:
        """The weights ``name`` ('u', 'h' or 'd') themselves (writable)."""
        return getattr(self, name)

    def clear(self) -> None:
        for w in (self.u, self.h, self.d):
            w[:] = 0

    def load(self, u: np.ndarray, h: np.ndarray, d: np.ndarray) -> None:
        self.u[:], self.h[:], self.d[:] = u, h, d

    def run(self, u_ptr: np.ndarray, u_idx: np.ndarray, use_h: np.ndarray, prev: np.ndarray, d_ptr: np.ndarray,
            d_idx: np.ndarray, csa: tuple, min_active: int, require_u: bool, uniforms: np.ndarray, recognize: bool,
            learn: bool, freeze_at: int, n_set: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Code (and learn) the inputs in order: (codes (n, q) cell indices or -1, G (n,)). ``prev`` (q,) and
        ``n_set`` (1,) are updated in place; ``csa`` is (lam (3,), q, k, g_low, gamma, chi, center, width)."""
        lam, q, k, g_low, gamma, chi, center, width = csa
        n = u_ptr.size - 1
        codes = np.empty((n, q), dtype=np.int64)
        gs = np.empty(n)
        _run_batch(u_ptr, u_idx, self.u, use_h, prev, self.h, d_ptr, d_idx, self.d, lam, q, k, g_low, gamma, chi,
                   center, width, min_active, require_u, uniforms, recognize, learn, freeze_at, n_set, codes, gs)
        return codes, gs

    def reconstruct(self, cells: np.ndarray, threshold: float) -> np.ndarray:
        """The input units that at least ``threshold`` of each code's winners learned from ((n, n_inputs) bool)."""
        out = np.zeros((cells.shape[0], self.u.shape[0]), dtype=bool)
        for r, code in enumerate(cells):
            on = code[code >= 0]
            if on.size:
                votes = self.u[:, on].sum(axis=1, dtype=np.int64)
                out[r] = votes >= max(1.0, threshold * on.size)
        return out
