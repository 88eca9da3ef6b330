"""The Hopfield network's and the dense associative memory's torch engine (CPU or CUDA, float64 or float32).

The dynamics of :mod:`neurosim.models.hopfield` with the interface of :mod:`.hopfield_numba`,
vectorised over the cues of a batch instead of looping over them: ``"async"`` follows the same
unit orders as the numba kernels, for every cue at once (the classical network jumps each cue to
its next flip, the dense memory visits the units one by one; a cue that has reached its fixed
point stays there: no unit flips in a sweep that changes nothing);
``"sync"`` is one matrix product per sweep. Each cue stops where the numba kernel stops it
(a sweep without a flip; for ``"sync"`` also a 2-cycle), so its sweep count is the same.
Weights and patterns live on the device; numpy goes in and out at the interface only.
"""

from __future__ import annotations

import numpy as np
import torch

from neurosim.backends.devices import torch_device, torch_dtype


class _OnDevice:
    def __init__(self, device: str, dtype: str) -> None:
        self.dev = torch_device(device)
        self.fdt = torch_dtype(dtype)

    def tensor(self, a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.asarray(a, dtype=np.float64), device=self.dev).to(self.fdt)

    def out(self, s: torch.Tensor, sweeps: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        return (s > 0).cpu().numpy(), sweeps.cpu().numpy()


def _flip(g: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """sign(g), keeping ``s`` where g == 0."""
    return torch.where(g > 0, 1.0, torch.where(g < 0, -1.0, s)).to(s.dtype)


def _asynchronous(s: torch.Tensor, orders: np.ndarray, sweeps: torch.Tensor, decide, update) -> None:
    """Asynchronous dynamics of every row of ``s`` (in place), the units in ``orders[k]`` in sweep ``k``
    (the classical network's: a flip changes the fields by one row of J, so ``decide`` stays cheap).

    Visiting the units one at a time would cost a Python step per unit; instead each step jumps every row
    to the next unit, in its sweep's order, whose state would change: ``decide()`` is every unit's next
    state (B, N) given the current fields, and the units before that one keep theirs, since no field has
    changed since they were visited. That unit flips and ``update(rows, units)`` updates those rows'
    fields. So each sweep takes as many steps as the most flips in any row, and gives exactly what the
    unit-by-unit sweep gives. A row stops after a sweep without a flip, as in the numba kernels (a row
    at its fixed point stays there); ``sweeps`` counts the sweeps each row took."""
    n = s.shape[1]
    active = torch.ones(s.shape[0], dtype=torch.bool, device=s.device)
    rank = torch.empty(n, dtype=torch.int64, device=s.device)
    for k in range(orders.shape[0]):
        rank[torch.as_tensor(orders[k], device=s.device)] = torch.arange(n, device=s.device)
        pos = torch.where(active, 0, n)  # each row's next position in the order (n: done with this sweep)
        changed = torch.zeros_like(active)
        while True:
            new = decide()
            wants = (new != s) & (rank[None, :] >= pos[:, None])
            first = torch.where(wants, rank[None, :], n).min(1)
            rows = torch.nonzero(first.values < n).squeeze(1)
            if not rows.numel():
                break
            units = first.indices[rows]
            s[rows, units] = new[rows, units]
            update(rows, units)
            changed[rows] = True
            pos[rows] = first.values[rows] + 1
        sweeps[active] = k + 1
        active &= changed
        if not bool(active.any()):
            break


def _synchronous(s: torch.Tensor, decide, max_sweeps: int, sweeps: torch.Tensor) -> None:
    """Synchronous dynamics of every row of ``s`` (in place): ``decide(s)`` is the next state of all units;
    a row stops at a fixed point or a 2-cycle (its state of two sweeps ago comes back), as in the numba
    kernels, and ``sweeps`` counts the sweeps each row took."""
    before = torch.full_like(s, float("nan"))
    done = torch.zeros(s.shape[0], dtype=torch.bool, device=s.device)
    for k in range(max_sweeps):
        new = decide(s)
        flips = (new != s).any(1)
        sweeps[~done] = k + 1
        move = ~done & flips
        cycle = (new == before).all(1)
        before = torch.where(move[:, None], s, before)
        s.copy_(torch.where(move[:, None], new, s))
        done |= ~flips | (move & cycle)
        if bool(done.all()):
            break


class HopfieldArrays(_OnDevice):
    """The classical network's weights ``j`` (N, N), zero diagonal, on the device (integers under the
    Hebbian rule)."""

    def __init__(self, n_units: int, device: str, dtype: str) -> None:
        super().__init__(device, dtype)
        self.j = torch.zeros((n_units, n_units), dtype=self.fdt, device=self.dev)

    def add(self, c: np.ndarray, weight: float = 1.0) -> None:
        ct = self.tensor(c)
        self.j += weight * (ct.T @ ct)
        self.j.fill_diagonal_(0.0)

    def set(self, j: np.ndarray) -> None:
        self.j = self.tensor(j)
        self.j.fill_diagonal_(0.0)

    def assign(self, rows: np.ndarray, cols: np.ndarray, values: np.ndarray) -> None:
        self.j[torch.as_tensor(rows, device=self.dev), torch.as_tensor(cols, device=self.dev)] = self.tensor(values)

    def scale(self, factor: float) -> None:
        self.j *= factor

    def clip(self, bound: float) -> None:
        self.j.clamp_(-bound, bound)

    def recall(self, s: np.ndarray, theta_n: float, orders: np.ndarray | None, max_sweeps: int
               ) -> tuple[np.ndarray, np.ndarray]:
        st = self.tensor(s)
        sweeps = torch.zeros(st.shape[0], dtype=torch.int64, device=self.dev)
        if st.shape[0]:
            if orders is not None:
                self._async(st, theta_n, orders, sweeps)
            else:
                self._sync(st, theta_n, max_sweeps, sweeps)
        return self.out(st, sweeps)

    def _async(self, s: torch.Tensor, theta_n: float, orders: np.ndarray, sweeps: torch.Tensor) -> None:
        h = s @ self.j

        def update(rows: torch.Tensor, units: torch.Tensor) -> None:  # s holds the new spins: d = 2 s
            h[rows] += (2.0 * s[rows, units])[:, None] * self.j[units]

        _asynchronous(s, orders, sweeps, lambda: _flip(h - theta_n, s), update)

    def _sync(self, s: torch.Tensor, theta_n: float, max_sweeps: int, sweeps: torch.Tensor) -> None:
        _synchronous(s, lambda s: _flip(s @ self.j - theta_n, s), max_sweeps, sweeps)

    def quadratic(self, c: np.ndarray) -> np.ndarray:
        ct = self.tensor(c)
        if not len(ct):
            return np.zeros(0)
        # row by row, so one row gives what it gives in a batch (a matrix product would round differently)
        return torch.stack([(row @ self.j) @ row for row in ct]).to(torch.float64).cpu().numpy()

    def weights(self) -> np.ndarray:
        return self.j.to(torch.float64).cpu().numpy()


def _power(x: torch.Tensor, n: int, rectified: bool) -> torch.Tensor:
    """x^n by repeated products (the numba kernel's arithmetic), 0 for x <= 0 when rectified."""
    r = torch.ones_like(x)
    for _ in range(n):
        r = r * x
    return torch.where(x <= 0, torch.zeros_like(x), r) if rectified else r


class DenseArrays(_OnDevice):
    """The dense memory's distinct centred patterns ``c`` (P, N) on the device."""

    def __init__(self, n_units: int, device: str, dtype: str) -> None:
        super().__init__(device, dtype)
        self.c = torch.zeros((0, n_units), dtype=self.fdt, device=self.dev)

    def append(self, c_new: np.ndarray) -> None:
        self.c = torch.cat([self.c, self.tensor(c_new)])

    def remove(self, index: int) -> None:
        self.c = torch.cat([self.c[:index], self.c[index + 1:]])

    def recall(self, s: np.ndarray, counts: np.ndarray, exponential: bool, degree: int, rectified: bool,
               beta: float, c_on: float, c_off: float, factors: np.ndarray, orders: np.ndarray | None,
               max_sweeps: int) -> tuple[np.ndarray, np.ndarray]:
        st = self.tensor(s)
        sweeps = torch.zeros(st.shape[0], dtype=torch.int64, device=self.dev)
        if st.shape[0]:
            terms = _Terms(self.tensor(counts), exponential, degree, rectified, beta, c_on, c_off,
                           self.tensor(factors))
            on = self.c.T > 0  # (N, P): pattern mu is on at unit i
            if orders is not None:
                self._async(st, terms, on, orders, sweeps)
            else:
                self._sync(st, terms, on, max_sweeps, sweeps)
        return self.out(st, sweeps)

    def _async(self, s: torch.Tensor, terms: _Terms, on: torch.Tensor, orders: np.ndarray,
               sweeps: torch.Tensor) -> None:
        """Unit by unit, as the numba kernel: a flip changes every pattern's overlap and so every unit's
        Delta, so jumping to the next flip (:func:`_asynchronous`) would cost a (B, P) x (P, N) product per
        flip against one (B, P) sum per unit visited here. Only the rows where the unit flips are updated."""
        c_t = self.c.T
        o = s @ c_t  # (B, P) overlaps in the integer units
        t = terms(o)
        active = torch.ones(s.shape[0], dtype=torch.bool, device=self.dev)
        for k in range(orders.shape[0]):
            changed = torch.zeros_like(active)
            for i in orders[k].tolist():
                up = torch.where(on[i], t[0], t[1]).sum(1)    # the unit at +1
                down = torch.where(on[i], t[2], t[3]).sum(1)  # the unit at -1
                new = _flip(torch.where(s[:, i] > 0, up, down), s[:, i])
                moved = torch.nonzero(new != s[:, i]).squeeze(1)
                if moved.numel():  # most units flip in no row: skip them
                    changed[moved] = True
                    s[moved, i] = new[moved]
                    o[moved] += (2.0 * new[moved])[:, None] * c_t[i]
                    t[:, moved] = terms(o[moved])
            sweeps[active] = k + 1
            active &= changed
            if not bool(active.any()):
                break

    def _sync(self, s: torch.Tensor, terms: _Terms, on: torch.Tensor, max_sweeps: int, sweeps: torch.Tensor) -> None:
        on_f = on.to(self.fdt)
        off_f = 1.0 - on_f

        _synchronous(s, lambda s: _delta_flip(s, terms(s @ self.c.T), on_f, off_f), max_sweeps, sweeps)

    def overlaps(self, s: np.ndarray, scale: float) -> np.ndarray:
        return (self.tensor(s) @ self.c.T / scale).to(torch.float64).cpu().numpy()

    def patterns(self) -> np.ndarray:
        return self.c.to(torch.float64).cpu().numpy()


def _delta_flip(s: torch.Tensor, t: torch.Tensor, on_f: torch.Tensor, off_f: torch.Tensor) -> torch.Tensor:
    """Every unit's next state from Delta_i = sum over patterns of the term for the unit's sign and the
    pattern being on or off there (``on_f``, ``off_f``: (N, P) 0/1)."""
    return _flip(torch.where(s > 0, t[0] @ on_f.T + t[1] @ off_f.T, t[2] @ on_f.T + t[3] @ off_f.T), s)


class _Terms:
    """What flipping a unit does to each pattern's n_mu F(O_mu) (the numba kernel's ``_dam_terms``): (4, B, P),
    rows [unit at +1, pattern on there], [+1, off], [-1, on], [-1, off]."""

    def __init__(self, counts: torch.Tensor, exponential: bool, degree: int, rectified: bool, beta: float,
                 c_on: float, c_off: float, factors: torch.Tensor) -> None:
        self.counts, self.exponential, self.degree, self.rectified = counts, exponential, degree, rectified
        self.beta, self.c_on, self.c_off, self.factors = beta, c_on, c_off, factors

    def __call__(self, o: torch.Tensor) -> torch.Tensor:
        if self.exponential:
            top = o.max(1, keepdim=True).values
            w = self.counts * torch.exp(self.beta * (o - top))
            return w[None] * self.factors[:, None, None]
        n, rect, deg = self.counts, self.rectified, self.degree
        f0 = _power(o, deg, rect)
        return torch.stack([n * (f0 - _power(o - 2.0 * self.c_on, deg, rect)),
                            n * (f0 - _power(o - 2.0 * self.c_off, deg, rect)),
                            n * (_power(o + 2.0 * self.c_on, deg, rect) - f0),
                            n * (_power(o + 2.0 * self.c_off, deg, rect) - f0)])
