r"""Sparsey (Rinkus 2010, 2014, 2017): sparse distributed codes chosen by familiarity-contingent noise.

A macrocolumn (MAC) is ``q`` competitive modules (CMs) of ``k`` binary cells; a code
is one winner per CM. Binary weights (0 or 1, ``w_max = 1``) connect three kinds of
input to the MAC's ``q k`` cells: bottom-up U (the input item, or the codes of the
level below), horizontal H (the MAC's own previous code, for sequences) and
top-down D (codes of the level above). The Code Selection Algorithm (CSA) for one
input, with :math:`x^s` the active units of source ``s`` (REFERENCES section 2):

.. math::
    S^s_i = \frac{\sum_j x^s_j w^s_{ji}}{|x^s|\,w_{max}}, \qquad
    V_i = \prod_{s \in \text{present}} (S^s_i)^{\lambda_s}, \qquad
    G = \frac{1}{q}\sum_{c=1}^{q} \max_{i \in c} V_i

.. math::
    \eta = 1 + \Big[\max\Big(0, \frac{G - G_{low}}{1 - G_{low}}\Big)\Big]^{\gamma} \chi K, \qquad
    \mu_i = \frac{\eta - 1}{1 + e^{-(V_i - c_\sigma)/w_\sigma}} + 1, \qquad
    \rho_i = \frac{\mu_i}{\sum_{j \in c(i)} \mu_j}

and each CM's winner is drawn from :math:`\rho` (learning mode) or is its max-V cell,
the first on ties (recognition mode). Defaults: :math:`G_{low} = 0.1`,
:math:`\gamma = 2`, :math:`\chi = 100`, the sigmoid :math:`(100 V - 50)/15`
(:math:`c_\sigma = 0.5`, :math:`w_\sigma = 0.15`), :math:`\lambda_s = 1`.

Two readings of REFERENCES' formulas, stated here:
- the sigmoid's amplitude is :math:`\eta - 1` (Rinkus 2010), so that a novel input
  (:math:`G \le G_{low}`, :math:`\eta = 1`) gets exactly uniform win probabilities as
  REFERENCES step 6 says; with amplitude :math:`\eta` a novel input's draw would lean
  up to 2:1 towards high-V cells;
- a MAC whose bottom-up input has fewer than ``min_active`` units (Sparsey's
  :math:`\pi_{min}`) stays silent: no code, no learning, and it ends a sequence.

Learning is single trial: every weight from an active input (U, H and D) to a winner
is set to 1. With ``freeze_fraction`` set, a MAC stops learning once that fraction of
its U weights is set (a critical period). Reconstruction (``recall``) reads the U
weights backwards: input unit ``j`` is on when at least ``recall_threshold`` of the
code's winners have :math:`w_{ji} = 1`.

The CSA and learning run in one numba kernel over a batch of inputs (:func:`_run_batch`);
:func:`csa_reference` is the same algorithm for one input in plain numpy, kept as the
readable reference the kernel is tested against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np

from neurosim import _checks as ck
from neurosim.memory import as_pattern


@dataclass(frozen=True)
class CSAParams:
    """The Code Selection Algorithm's constants (Rinkus' defaults; REFERENCES section 2)."""

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


# ---------------------------------------------------------------------------------------------
# the reference: one input, plain numpy


def csa_reference(weights: dict[str, np.ndarray], active: dict[str, np.ndarray], q: int, k: int,
                  params: CSAParams) -> tuple[np.ndarray, float, np.ndarray]:
    """V (q k), G and rho (q k) for one input; ``weights[s]`` is (n_s, q k), ``active[s]`` index arrays.

    Sources missing from ``active`` (or with no active unit) are absent from the product.
    """
    lam = {"u": params.lambda_u, "h": params.lambda_h, "d": params.lambda_d}
    v = np.ones(q * k)
    for s, idx in active.items():
        if len(idx):
            v *= (weights[s][idx].sum(axis=0) / len(idx)) ** lam[s]
    vq = v.reshape(q, k)
    g = float(vq.max(axis=1).mean())
    eta = 1.0 + max(0.0, (g - params.g_low) / (1.0 - params.g_low)) ** params.gamma * params.chi * k
    mu = (eta - 1.0) / (1.0 + np.exp(-(vq - params.sigmoid_center) / params.sigmoid_width)) + 1.0
    rho = mu / mu.sum(axis=1, keepdims=True)
    return v, g, rho.ravel()


def step_reference(weights: dict[str, np.ndarray], active: dict[str, np.ndarray], q: int, k: int,
                   params: CSAParams, uniforms: np.ndarray, *, recognize: bool = False,
                   learn: bool = True) -> tuple[np.ndarray, float]:
    """One CSA step and its learning in plain numpy: (code (q,) cell indices, G); learns in ``weights``."""
    v, g, rho = csa_reference(weights, active, q, k, params)
    if recognize:
        code = v.reshape(q, k).argmax(axis=1)
    else:
        # the first cell whose cumulative probability exceeds the CM's uniform (the last on round-off)
        cum = np.cumsum(rho.reshape(q, k), axis=1)
        code = np.minimum((cum <= np.asarray(uniforms)[:, None]).sum(axis=1), k - 1)
    code = code + np.arange(q) * k
    if learn:
        for s, idx in active.items():
            weights[s][np.ix_(idx, code)] = 1
    return code, g


# ---------------------------------------------------------------------------------------------
# the kernel: a batch of inputs, CSA and learning, in numba


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


# ---------------------------------------------------------------------------------------------
# the macrocolumn


class MAC:
    """One macrocolumn: ``q`` CMs of ``k`` cells, U weights from ``n_inputs`` units, optional H and D.

    State is the weights (uint8 0/1 matrices ``u`` (n_inputs, q k), ``h`` (q k, q k), ``d``
    (n_top_down, q k)) and the previous code (for H); randomness comes from the Generator
    passed to :meth:`present`.
    """

    def __init__(self, n_inputs: int, q: int, k: int, *, params: CSAParams | None = None,
                 horizontal: bool = False, n_top_down: int = 0) -> None:
        self.n_inputs = ck.count("n_inputs", n_inputs)
        self.q = ck.count("q", q)
        self.k = ck.count("k", k)
        self.params = params if params is not None else CSAParams()
        if not isinstance(self.params, CSAParams):
            ck.fail("params", self.params, "a CSAParams")
        self.horizontal = bool(horizontal)
        self.n_top_down = ck.count("n_top_down", n_top_down, minimum=0)
        n = q * k
        self.u = np.zeros((n_inputs, n), dtype=np.uint8)
        self.h = np.zeros((n if horizontal else 0, n), dtype=np.uint8)
        self.d = np.zeros((n_top_down, n), dtype=np.uint8)
        self.prev = np.full(q, -1, dtype=np.int64)
        self._n_set = np.zeros(1, dtype=np.int64)
        self.frozen = False

    @property
    def n_cells(self) -> int:
        return self.q * self.k

    def reset(self) -> None:
        """Forget everything: zero weights, no previous code."""
        for w in (self.u, self.h, self.d):
            w[:] = 0
        self.prev[:] = -1
        self._n_set[0] = 0
        self.frozen = False

    def snapshot(self) -> dict[str, np.ndarray]:
        """Copies of the learned state (weights, previous code, set-weight count) for :meth:`restore`."""
        return {"u": self.u.copy(), "h": self.h.copy(), "d": self.d.copy(), "prev": self.prev.copy(),
                "n_set": self._n_set.copy()}

    def restore(self, snapshot: dict[str, np.ndarray]) -> None:
        """Go back to a :meth:`snapshot` (e.g. to probe a loaded MAC without keeping what the probe learned)."""
        for name in ("u", "h", "d", "prev"):
            getattr(self, name)[:] = snapshot[name]
        self._n_set[:] = snapshot["n_set"]
        p = self.params.freeze_fraction
        self.frozen = p is not None and self._n_set[0] >= int(np.ceil(p * self.u.size))

    def end_sequence(self) -> None:
        """The next input starts a new sequence (no H input)."""
        self.prev[:] = -1

    def _rows(self, field: str, x: Any, n: int) -> np.ndarray:
        a = np.asarray(x)
        if a.ndim == 1:
            a = a[None, :]
        if a.ndim != 2 or a.shape[1] != n:
            ck.fail(f"{field} shape", np.shape(x), f"(n_items, {n}) or ({n},)")
        if a.dtype != bool:
            if not np.issubdtype(a.dtype, np.number) or not np.all((a == 0) | (a == 1)):
                ck.fail(field, a.ravel()[:8].tolist(), "binary values (0/1 or bool)")
            a = a.astype(bool)
        return a

    def present(self, inputs: Any, rng: np.random.Generator | None = None, *, learn: bool = True,
                recognize: bool = False, sequence: bool = False, top_down: Any = None,
                require_input: bool = True) -> Codes:
        """Run the CSA on each row of ``inputs`` (bool, (n, n_inputs)) in order; learn if ``learn``.

        ``recognize`` picks each CM's max-V cell instead of drawing (``rng`` is then unused).
        ``sequence``: H is the previous code (the last one of the previous call first; call
        :meth:`end_sequence` to start afresh). ``top_down``: (n, n_top_down) bool rows for D.
        ``require_input=False`` lets a row with no bottom-up input be coded from H/D alone
        (sequence read-out).
        """
        x = self._rows("inputs", inputs, self.n_inputs)
        n = x.shape[0]
        if sequence and not self.horizontal:
            ck.fail("sequence", sequence, "False for a MAC built with horizontal=False")
        if not recognize and rng is None:
            ck.fail("rng", rng, "a numpy Generator (learning mode draws winners)")
        if top_down is not None:
            if self.n_top_down == 0:
                ck.fail("top_down", "given", "None for a MAC built with n_top_down=0")
            d_ptr, d_idx = _csr(self._rows("top_down", top_down, self.n_top_down))
            if d_ptr.size != n + 1:
                ck.fail("top_down rows", d_ptr.size - 1, f"{n} (one per input)")
        else:
            d_ptr, d_idx = np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.int64)
        u_ptr, u_idx = _csr(x)
        uniforms = np.zeros((n, self.q)) if recognize else rng.random((n, self.q))
        use_h = np.full(n, bool(sequence))
        codes = np.empty((n, self.q), dtype=np.int64)
        gs = np.empty(n)
        p = self.params
        lam = np.array([p.lambda_u, p.lambda_h, p.lambda_d])
        freeze_at = -1 if p.freeze_fraction is None else int(np.ceil(p.freeze_fraction * self.u.size))
        prev = self.prev if sequence else np.full(self.q, -1, dtype=np.int64)
        _run_batch(u_ptr, u_idx, self.u, use_h, prev, self.h, d_ptr, d_idx, self.d, lam, self.q, self.k,
                   p.g_low, p.gamma, p.chi, p.sigmoid_center, p.sigmoid_width, p.min_active, bool(require_input),
                   uniforms, bool(recognize), bool(learn), freeze_at, self._n_set, codes, gs)
        self.frozen = freeze_at >= 0 and self._n_set[0] >= freeze_at
        return Codes(codes, gs)

    def probabilities(self, item: Any, *, previous: np.ndarray | None = None,
                      top_down: Any = None) -> tuple[np.ndarray, float, np.ndarray]:
        """V (q, k), G and rho (q, k) for one input without choosing or learning (the reference path)."""
        x = self._rows("item", item, self.n_inputs)[0]
        active = {"u": np.flatnonzero(x)}
        if previous is not None:
            active["h"] = np.asarray(previous)[np.asarray(previous) >= 0]
        if top_down is not None:
            active["d"] = np.flatnonzero(self._rows("top_down", top_down, self.n_top_down)[0])
        v, g, rho = csa_reference({"u": self.u, "h": self.h, "d": self.d}, active, self.q, self.k, self.params)
        return v.reshape(self.q, self.k), g, rho.reshape(self.q, self.k)

    def reconstruct(self, cells: np.ndarray, threshold: float = 0.5) -> np.ndarray:
        """The input units that at least ``threshold`` of the code's winners learned from ((n, n_inputs) bool)."""
        ck.in_range("threshold", threshold, 0.0, 1.0)
        cells = np.atleast_2d(cells)
        out = np.zeros((cells.shape[0], self.n_inputs), dtype=bool)
        for r, code in enumerate(cells):
            on = code[code >= 0]
            if on.size:
                votes = self.u[:, on].sum(axis=1, dtype=np.int64)
                out[r] = votes >= max(1.0, threshold * on.size)
        return out

    def weight_fraction(self) -> float:
        """Fraction of the U weights that are set."""
        return float(self._n_set[0]) / self.u.size


# ---------------------------------------------------------------------------------------------
# the memory protocol


@dataclass
class SparseyMemory:
    """One MAC as a :class:`~neurosim.memory.Memory`: store = single-trial learning, recall = the input
    reconstructed from the recognition-mode code, recognize = G.

    ``recall`` of a cue picks each CM's max-V cell for the cue, then reads the U weights back
    (:meth:`MAC.reconstruct` with ``recall_threshold``).
    """

    n_inputs: int
    q: int = 20
    k: int = 20
    seed: int = 0
    params: CSAParams = field(default_factory=CSAParams)
    recall_threshold: float = 0.9

    def __post_init__(self) -> None:
        ck.in_range("recall_threshold", self.recall_threshold, 0.0, 1.0)
        self.mac = MAC(self.n_inputs, self.q, self.k, params=self.params)
        self.rng = np.random.default_rng(self.seed)

    def store(self, item: np.ndarray, key: Any = None) -> None:
        self.mac.present(as_pattern("item", item, self.n_inputs)[None], self.rng)

    def store_many(self, items: np.ndarray) -> Codes:
        """Store rows of ``items`` in order (one kernel call); the codes they got."""
        return self.mac.present(items, self.rng)

    def code(self, item: np.ndarray) -> np.ndarray:
        """The recognition-mode code (winner per CM) of an item."""
        return self.mac.present(as_pattern("item", item, self.n_inputs)[None], learn=False, recognize=True).cells[0]

    def recall(self, cue: np.ndarray) -> np.ndarray:
        return self.mac.reconstruct(self.code(cue), self.recall_threshold)[0]

    def recognize(self, item: np.ndarray) -> float:
        item = as_pattern("item", item, self.n_inputs)
        return float(self.mac.present(item[None], learn=False, recognize=True).familiarity[0])

    def reset(self) -> None:
        self.mac.reset()
        self.rng = np.random.default_rng(self.seed)
