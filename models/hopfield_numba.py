"""The Hopfield network's and the dense associative memory's numba engine (float64, CPU).

The dynamics of :mod:`neurosim.models.hopfield` as numba kernels, one cue at a time inside the
kernel (a batch gives bit-identical results to single recalls), fields / overlaps updated
incrementally on each flip; storing is numpy (one matrix product). :mod:`.hopfield_torch` is
the same engine in torch; both hold their arrays in the classes below, with one interface.
"""

from __future__ import annotations

import numba
import numpy as np

_FAST = {"reassoc", "contract"}  # lets the dot products vectorise; no NaN / inf assumptions


@numba.njit(cache=True, fastmath=_FAST)
def _fields(j, s, h):
    """h[i] = sum_k s[k] j[k, i] (rows of j are contiguous: the loop is an axpy per k)."""
    n = s.size
    for i in range(n):
        h[i] = 0.0
    for k in range(n):
        sk = s[k]
        row = j[k]
        for i in range(n):
            h[i] += sk * row[i]


@numba.njit(cache=True)
def _hopfield_async(j, states, theta_n, orders, sweeps):
    """Asynchronous dynamics of each row of ``states`` (+-1, in place) under the unnormalised weights
    ``j`` (zero diagonal) and the threshold ``theta_n`` = N theta; fields updated on each flip."""
    n_rows, n = states.shape
    h = np.empty(n)
    for b in range(n_rows):
        s = states[b]
        _fields(j, s, h)
        sweeps[b] = 0
        for k in range(orders.shape[0]):
            changed = False
            for i in orders[k]:
                g = h[i] - theta_n
                if g > 0.0:
                    new = 1.0
                elif g < 0.0:
                    new = -1.0
                else:
                    continue
                if new != s[i]:
                    d = new - s[i]
                    s[i] = new
                    row = j[i]
                    for u in range(n):
                        h[u] += d * row[u]
                    changed = True
            sweeps[b] = k + 1
            if not changed:
                break


@numba.njit(cache=True)
def _hopfield_sync(j, states, theta_n, max_sweeps, sweeps):
    """Synchronous dynamics of each row: all units from the same fields, until a fixed point, a
    2-cycle or ``max_sweeps``."""
    n_rows, n = states.shape
    h = np.empty(n)
    new = np.empty(n)
    before = np.empty(n)  # the state one sweep ago
    for b in range(n_rows):
        s = states[b]
        _fields(j, s, h)
        sweeps[b] = 0
        before[:] = np.nan
        for k in range(max_sweeps):
            n_flip = 0
            for i in range(n):
                g = h[i] - theta_n
                new[i] = 1.0 if g > 0.0 else (-1.0 if g < 0.0 else s[i])
                if new[i] != s[i]:
                    n_flip += 1
            sweeps[b] = k + 1
            if n_flip == 0:
                break
            cycle = True
            for i in range(n):
                if new[i] != before[i]:
                    cycle = False
                before[i] = s[i]
            for i in range(n):
                if new[i] != s[i]:
                    d = new[i] - s[i]
                    s[i] = new[i]
                    row = j[i]
                    for u in range(n):
                        h[u] += d * row[u]
            if cycle:
                break



@numba.njit(cache=True)
def _quadratic(j, c):
    out = np.empty(c.shape[0])
    h = np.empty(c.shape[1])
    for r in range(c.shape[0]):
        _fields(j, c[r], h)
        out[r] = np.dot(h, c[r])
    return out


class HopfieldArrays:
    """The classical network's weights ``j`` (N, N), zero diagonal, as numpy float64 (integers under the
    Hebbian rule)."""

    def __init__(self, n_units: int, device: str, dtype: str) -> None:
        self.j = np.zeros((n_units, n_units))

    def add(self, c: np.ndarray, weight: float = 1.0) -> None:
        """Add ``weight`` times the outer products of the centred rows ``c`` (k, N) (-1: remove them)."""
        self.j += weight * (c.T @ c)
        np.fill_diagonal(self.j, 0.0)

    def set(self, j: np.ndarray) -> None:
        """Replace the weights (zero diagonal)."""
        self.j[:] = j
        np.fill_diagonal(self.j, 0.0)

    def assign(self, rows: np.ndarray, cols: np.ndarray, values: np.ndarray) -> None:
        """Set the weights at (rows, cols) to ``values``, in place."""
        self.j[rows, cols] = values

    def scale(self, factor: float) -> None:
        """Multiply every weight by ``factor`` (a decay)."""
        self.j *= factor

    def clip(self, bound: float) -> None:
        """Bound every weight to [-bound, bound]."""
        np.clip(self.j, -bound, bound, out=self.j)

    def recall(self, s: np.ndarray, theta_n: float, orders: np.ndarray | None, max_sweeps: int
               ) -> tuple[np.ndarray, np.ndarray]:
        """Run the dynamics from the spin rows ``s`` (k, N): async in ``orders`` (one row per sweep) or,
        with ``orders`` None, sync. Returns (final spins as bool rows, sweeps per row)."""
        s = np.array(s, dtype=np.float64)
        sweeps = np.zeros(s.shape[0], dtype=np.int64)
        if orders is not None:
            _hopfield_async(self.j, s, theta_n, orders, sweeps)
        else:
            _hopfield_sync(self.j, s, theta_n, max_sweeps, sweeps)
        return s > 0.0, sweeps

    def quadratic(self, c: np.ndarray) -> np.ndarray:
        """``c J c`` of each centred row (zero diagonal): minus twice its energy. Row by row in a fixed order, so
        one row gives what it gives in a batch (a matrix product would round differently)."""
        return _quadratic(self.j, np.ascontiguousarray(c, dtype=np.float64))

    def weights(self) -> np.ndarray:
        return self.j.copy()


@numba.njit(cache=True)
def _power(x, n, rectified):
    if rectified and x <= 0.0:
        return 0.0
    r = 1.0
    for _ in range(n):
        r *= x
    return r


@numba.njit(cache=True)
def _dam_terms(o, counts, exponential, degree, rectified, beta, c_on, c_off, factors, t):
    """What flipping a unit does to each pattern's n_mu F(O_mu), for the overlaps ``o``: t (4, P) rows
    [unit at +1, pattern on there], [+1, off], [-1, on], [-1, off]: n (F(O) - F(O - 2c)) for a unit at +1,
    n (F(O + 2c) - F(O)) at -1, c = c_on or c_off. Exponential: divided by e^(beta max O) and one positive
    constant per sign (``factors``, so that nothing overflows)."""
    p = o.size
    if exponential:
        top = o[0]
        for mu in range(1, p):
            if o[mu] > top:
                top = o[mu]
        for mu in range(p):
            w = counts[mu] * np.exp(beta * (o[mu] - top))
            for row in range(4):
                t[row, mu] = w * factors[row]
        return
    for mu in range(p):
        n = counts[mu]
        f0 = _power(o[mu], degree, rectified)
        t[0, mu] = n * (f0 - _power(o[mu] - 2.0 * c_on, degree, rectified))
        t[1, mu] = n * (f0 - _power(o[mu] - 2.0 * c_off, degree, rectified))
        t[2, mu] = n * (_power(o[mu] + 2.0 * c_on, degree, rectified) - f0)
        t[3, mu] = n * (_power(o[mu] + 2.0 * c_off, degree, rectified) - f0)


@numba.njit(cache=True, fastmath=_FAST)
def _dam_delta(col, t, si):
    """Delta_i: the sum over patterns of the change a flip of unit i to +1 (from -1) or kept at +1 makes."""
    d = 0.0
    if si > 0.0:
        for mu in range(col.size):
            d += t[0, mu] if col[mu] > 0.0 else t[1, mu]
    else:
        for mu in range(col.size):
            d += t[2, mu] if col[mu] > 0.0 else t[3, mu]
    return d


@numba.njit(cache=True, fastmath=_FAST)
def _dam_run(c, c_t, counts, states, exponential, degree, rectified, beta, c_on, c_off, factors, orders,
             synchronous, max_sweeps, sweeps):
    """DAM dynamics of each row of ``states`` (+-1, in place); ``c`` (P, N) the centred patterns (values
    c_on > 0 and c_off < 0) and ``c_t`` its transpose."""
    n_rows, n = states.shape
    p = c.shape[0]
    o = np.empty(p)
    t = np.empty((4, p))
    new = np.empty(n)
    before = np.empty(n)
    for r in range(n_rows):
        s = states[r]
        for mu in range(p):
            acc = 0.0
            row = c[mu]
            for i in range(n):
                acc += row[i] * s[i]
            o[mu] = acc
        _dam_terms(o, counts, exponential, degree, rectified, beta, c_on, c_off, factors, t)
        sweeps[r] = 0
        before[:] = np.nan
        for k in range(max_sweeps):
            changed = False
            if synchronous:
                for i in range(n):
                    d = _dam_delta(c_t[i], t, s[i])
                    new[i] = 1.0 if d > 0.0 else (-1.0 if d < 0.0 else s[i])
                    if new[i] != s[i]:
                        changed = True
                sweeps[r] = k + 1
                if not changed:
                    break
                cycle = True
                for i in range(n):
                    if new[i] != before[i]:
                        cycle = False
                    before[i] = s[i]
                for i in range(n):
                    if new[i] != s[i]:
                        s[i] = new[i]
                        col = c_t[i]
                        for mu in range(p):
                            o[mu] += 2.0 * new[i] * col[mu]
                _dam_terms(o, counts, exponential, degree, rectified, beta, c_on, c_off, factors, t)
                if cycle:
                    break
            else:
                for i in orders[k]:
                    d = _dam_delta(c_t[i], t, s[i])
                    if d > 0.0:
                        v = 1.0
                    elif d < 0.0:
                        v = -1.0
                    else:
                        continue
                    if v != s[i]:
                        s[i] = v
                        col = c_t[i]
                        for mu in range(p):
                            o[mu] += 2.0 * v * col[mu]
                        _dam_terms(o, counts, exponential, degree, rectified, beta, c_on, c_off, factors, t)
                        changed = True
                sweeps[r] = k + 1
                if not changed:
                    break



class DenseArrays:
    """The dense memory's distinct centred patterns ``c`` (P, N) as numpy float64 (and their transpose)."""

    def __init__(self, n_units: int, device: str, dtype: str) -> None:
        self.c = np.zeros((0, n_units))
        self._c_t: np.ndarray | None = None

    def append(self, c_new: np.ndarray) -> None:
        self.c = np.concatenate([self.c, c_new])
        self._c_t = None

    def remove(self, index: int) -> None:
        """Drop pattern ``index``; the others keep their order."""
        self.c = np.delete(self.c, index, axis=0)
        self._c_t = None

    def recall(self, s: np.ndarray, counts: np.ndarray, exponential: bool, degree: int, rectified: bool,
               beta: float, c_on: float, c_off: float, factors: np.ndarray, orders: np.ndarray | None,
               max_sweeps: int) -> tuple[np.ndarray, np.ndarray]:
        """The dynamics from the spin rows ``s`` (async in ``orders``, sync when None): (bool rows, sweeps)."""
        s = np.array(s, dtype=np.float64)
        sweeps = np.zeros(s.shape[0], dtype=np.int64)
        if self._c_t is None:
            self._c_t = np.ascontiguousarray(self.c.T)
        synchronous = orders is None
        orders = np.zeros((0, s.shape[1]), dtype=np.int64) if synchronous else orders
        _dam_run(self.c, self._c_t, np.asarray(counts, dtype=np.float64), s, exponential, degree, rectified, beta,
                 c_on, c_off, factors, orders, synchronous, max_sweeps, sweeps)
        return s > 0.0, sweeps

    def overlaps(self, s: np.ndarray, scale: float) -> np.ndarray:
        """``(xi_mu - m) . s`` of spin rows (k, N): (k, P)."""
        return s @ self.c.T / scale

    def patterns(self) -> np.ndarray:
        return self.c.copy()
