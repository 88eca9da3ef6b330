r"""Sparsey (Rinkus 2010, 2014, 2017): sparse distributed codes chosen by familiarity-contingent noise.

A macrocolumn (MAC) is ``q`` competitive modules (CMs) of ``k`` binary cells; a code
is one winner per CM. Binary weights (0 or 1, ``w_max = 1``) connect three kinds of
input to the MAC's ``q k`` cells: bottom-up U (the input item, or the codes of the
level below), horizontal H (the MAC's own previous code, for sequences) and
top-down D (codes of the level above). The Code Selection Algorithm (CSA) for one
input, with :math:`x^s` the active units of source ``s`` (Rinkus 2017, arXiv 1710.07829):

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

Two readings of the published formulas, stated here:
- the sigmoid's amplitude is :math:`\eta - 1` (Rinkus 2010), so that a novel input
  (:math:`G \le G_{low}`, :math:`\eta = 1`) gets exactly uniform win probabilities as
  the papers say; with amplitude :math:`\eta` a novel input's draw would lean
  up to 2:1 towards high-V cells;
- a MAC whose bottom-up input has fewer than ``min_active`` units (Sparsey's
  :math:`\pi_{min}`) stays silent: no code, no learning, and it ends a sequence.

Learning is single trial: every weight from an active input (U, H and D) to a winner
is set to 1. With ``freeze_fraction`` set, a MAC stops learning once that fraction of
its U weights is set (a critical period). With ``decay`` = :math:`p > 0` the weights are bounded binary
synapses that forget (Sparsey's optional decay, read as Amit & Fusi's (1994) stochastic depression):
before each input it learns, every set weight (U, H and D) returns to 0 with probability :math:`p`,
drawn from the learning Generator, and the input then sets its own weights to 1 again. A weight set
:math:`t` inputs ago survives with probability :math:`(1 - p)^t`, so an item's code loses its weights
one by one and its familiarity G falls smoothly with age, and the share of set weights stays bounded
(at most about :math:`s / (s + p)` for :math:`s` the share one input sets: 0.33 for 20 of 200 inputs
active, 20 x 20 cells and p = 0.01; 0.27 measured) instead of filling up. Without decay the weights only
fill: past capacity every unit is recalled and every input has G near 1. Reconstruction (``recall``)
reads the U weights backwards: input unit ``j`` is on when at least ``recall_threshold`` of the code's
winners have :math:`w_{ji} = 1`.

Engines (``backend``): ``numba`` (:mod:`.sparsey_numba`: the CSA and learning of a batch of
inputs in one kernel) and ``torch`` (:mod:`.sparsey_torch`: CPU or CUDA; inputs that neither
learn nor follow a sequence are coded all at once, with matrix products). Fed the same uniforms
(the MAC draws them from the Generator it is given, on the host, for either engine) both choose
the same codes: the supports are exact integer counts, and the sums over CMs and cells are taken
in the same order (torch's on the CPU); only ``exp`` may differ in the last bit, which changes a
draw only when a uniform falls within about 1e-16 of a cumulative probability. float32 (torch)
rounds V, G and rho to 24 bits: familiarities within 1e-6, and a draw changes only when a
uniform falls within that of a cumulative probability. :func:`.sparsey_reference.csa_reference` is the same
algorithm for one input in plain numpy, kept as the readable reference both are tested against.
"""

from __future__ import annotations

import importlib
from typing import Any, ClassVar

import numpy as np

from neurosim import _checks as ck
from neurosim.memory import Memory, as_pattern, as_patterns, choose_engine
from neurosim.models.sparsey_codes import Codes, CSAParams, _csr, code_bits, code_overlap  # noqa: F401
from neurosim.models.sparsey_reference import csa_reference

# CSAParams, Codes, code_bits and code_overlap live in .sparsey_codes and are importable from here too
_ENGINES = {"numba": "neurosim.models.sparsey_numba", "torch": "neurosim.models.sparsey_torch"}


# ---------------------------------------------------------------------------------------------
# the macrocolumn


def check_cells(q: object, k: object, horizontal: bool = False) -> tuple[int, int]:
    """``(q, k)``: integers >= 1 whose arrays fit in memory (the previous code, int64 per CM; a row of q k
    weight bytes per input, and the (q k, q k) H weights with ``horizontal``), refused before numpy allocates."""
    q, k = ck.count("q", q), ck.count("k", k)
    ck.allocatable("q", q, 8.0 * q)
    ck.allocatable("k", k, float(q * k) * (1 + (q * k if horizontal else 0)))
    return q, k


class MAC:
    """One macrocolumn: ``q`` CMs of ``k`` cells, U weights from ``n_inputs`` units, optional H and D.

    State is the weights (0/1 matrices ``u`` (n_inputs, q k), ``h`` (q k, q k), ``d``
    (n_top_down, q k), held by the engine) and the previous code (for H); randomness comes
    from the Generator passed to :meth:`present`.
    """

    engines: ClassVar[tuple[str, ...]] = tuple(_ENGINES)

    def __init__(self, n_inputs: int, q: int, k: int, *, params: CSAParams | None = None,
                 horizontal: bool = False, n_top_down: int = 0, backend: str = "numba", device: str | None = None,
                 dtype: str | None = None) -> None:
        self.n_inputs = ck.count("n_inputs", n_inputs)
        self.horizontal = bool(horizontal)
        self.q, self.k = check_cells(q, k, self.horizontal)
        self.params = params if params is not None else CSAParams()
        if not isinstance(self.params, CSAParams):
            ck.fail("params", self.params, "a CSAParams")
        self.n_top_down = ck.count("n_top_down", n_top_down, minimum=0)
        ck.allocatable("n_top_down", n_top_down, float(self.n_top_down) * self.n_cells)
        ck.allocatable("n_inputs", n_inputs, float(self.n_inputs) * self.n_cells)
        self.backend, self.device, self.dtype = choose_engine("MAC", self.engines, backend, device, dtype)
        n = q * k
        self._arrays = importlib.import_module(_ENGINES[self.backend]).MacArrays(
            n_inputs, n, n if horizontal else 0, n_top_down, self.device, self.dtype)
        self.prev = np.full(q, -1, dtype=np.int64)
        self._n_set = np.zeros(1, dtype=np.int64)
        self.frozen = False

    @property
    def n_cells(self) -> int:
        return self.q * self.k

    @property
    def u(self) -> np.ndarray:
        """The bottom-up weights (n_inputs, q k): the engine's own array on the CPU (writable), a copy from a GPU."""
        return self._arrays.array("u")

    @property
    def h(self) -> np.ndarray:
        """The horizontal weights (q k, q k), or (0, q k) without H."""
        return self._arrays.array("h")

    @property
    def d(self) -> np.ndarray:
        """The top-down weights (n_top_down, q k)."""
        return self._arrays.array("d")

    def reset(self) -> None:
        """Forget everything: zero weights, no previous code."""
        self._arrays.clear()
        self.prev[:] = -1
        self._n_set[0] = 0
        self.frozen = False

    def close(self) -> None:
        """Release the weights (device memory on a GPU); the MAC cannot be used afterwards."""
        self._arrays = None

    def snapshot(self) -> dict[str, np.ndarray]:
        """Copies of the learned state (weights, previous code, set-weight count) for :meth:`restore`."""
        return {"u": self.u.copy(), "h": self.h.copy(), "d": self.d.copy(), "prev": self.prev.copy(),
                "n_set": self._n_set.copy()}

    def restore(self, snapshot: dict[str, np.ndarray]) -> None:
        """Go back to a :meth:`snapshot` (e.g. to probe a loaded MAC without keeping what the probe learned)."""
        self._arrays.load(snapshot["u"], snapshot["h"], snapshot["d"])
        self.prev[:] = snapshot["prev"]
        self._n_set[:] = snapshot["n_set"]
        p = self.params.freeze_fraction
        self.frozen = p is not None and self._n_set[0] >= int(np.ceil(p * self.n_inputs * self.n_cells))

    def end_sequence(self) -> None:
        """The next input starts a new sequence (no H input)."""
        self.prev[:] = -1

    def _rows(self, field: str, x: Any, n: int) -> np.ndarray:
        """One input (n,) or a batch (n_items, n) as bool rows."""
        a = np.asarray(x)
        return as_patterns(field, a, n, single=a.ndim == 1)

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
        decays = learn and self.params.decay > 0
        if decays and rng is None:
            ck.fail("rng", rng, "a numpy Generator (decay draws the weights that return to 0)")
        if top_down is not None:
            if self.n_top_down == 0:
                ck.fail("top_down", "given", "None for a MAC built with n_top_down=0")
            td = self._rows("top_down", top_down, self.n_top_down)
            if td.shape[0] != n:
                ck.fail("top_down rows", td.shape[0], f"{n} (one per input)")
        if decays and n > 1:  # the weights decay between inputs: one engine call per input
            parts = [self.present(row[None], rng, learn=True, recognize=recognize, sequence=sequence,
                                  top_down=None if top_down is None else td[i:i + 1], require_input=require_input)
                     for i, row in enumerate(x)]
            return Codes(np.concatenate([c.cells for c in parts]), np.concatenate([c.familiarity for c in parts]))
        if decays and not self.frozen:
            self._decay(rng)
        if top_down is not None:
            d_ptr, d_idx = _csr(td)
        else:
            d_ptr, d_idx = np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.int64)
        u_ptr, u_idx = _csr(x)
        uniforms = np.zeros((n, self.q)) if recognize else rng.random((n, self.q))
        use_h = np.full(n, bool(sequence))
        p = self.params
        csa = (np.array([p.lambda_u, p.lambda_h, p.lambda_d]), self.q, self.k, p.g_low, p.gamma, p.chi,
               p.sigmoid_center, p.sigmoid_width)
        freeze_at = -1 if p.freeze_fraction is None else int(np.ceil(p.freeze_fraction * self.n_inputs * self.n_cells))
        prev = self.prev if sequence else np.full(self.q, -1, dtype=np.int64)
        codes, gs = self._arrays.run(u_ptr, u_idx, use_h, prev, d_ptr, d_idx, csa, p.min_active, bool(require_input),
                                     uniforms, bool(recognize), bool(learn), freeze_at, self._n_set)
        self.frozen = freeze_at >= 0 and self._n_set[0] >= freeze_at
        return Codes(codes, gs)

    def _decay(self, rng: np.random.Generator) -> None:
        """Each set weight returns to 0 with probability ``params.decay`` (one uniform per set weight, U then H
        then D, in index order: the same draws on every engine)."""
        arrays = [self._arrays.array(name) for name in ("u", "h", "d")]
        for w in arrays:
            on = np.flatnonzero(w)
            w.flat[on[rng.random(on.size) < self.params.decay]] = 0
        self._arrays.load(*arrays)
        self._n_set[0] = np.count_nonzero(arrays[0])

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
        return self._arrays.reconstruct(np.atleast_2d(np.asarray(cells, dtype=np.int64)), float(threshold))

    def weight_fraction(self) -> float:
        """Fraction of the U weights that are set."""
        return float(self._n_set[0]) / (self.n_inputs * self.n_cells)


# ---------------------------------------------------------------------------------------------
# the memory contract


class SparseyMemory(Memory):
    r"""One MAC under the memory contract: store = single-trial learning, recall = the input reconstructed
    from the recognition-mode code, recognize = G.

    ``recall`` of a cue picks each CM's max-V cell for the cue, then reads the U weights back
    (:meth:`MAC.reconstruct` with ``recall_threshold``). ``seed`` seeds the draws of learning.

    ``forget(item)`` (``method="exact"``) removes the weights the item's code gained for it: the memory
    keeps the code each stored copy got, and after forgetting one copy (the latest) the U weights are
    those the remaining copies set, :math:`w_{ji} = \max_{\nu} x^\nu_j [i \in \text{code}^\nu]`, so a
    weight that another item's code also uses stays (codes that share cells keep what they share), and one
    that decayed stays at 0. Exact in the weights; not a memory that never stored the item: the codes of the
    items stored after it were chosen with its weights in place (familiarity shaped their draws),
    and they stay as chosen.
    """

    familiarity: ClassVar[str] = ("G, the mean over CMs of the best cell's share of the item's active units that it "
                                  "learned from: 1 when one stored code learned them all, near 0 for a novel item")
    forget_methods: ClassVar[tuple[str, ...]] = ("exact",)

    def __init__(self, n_inputs: int, q: int = 20, k: int = 20, seed: int = 0, params: CSAParams | None = None,
                 recall_threshold: float = 0.9, *, backend: str = "numba", device: str | None = None,
                 dtype: str | None = None) -> None:
        q, k = check_cells(q, k)
        self._setup(n_inputs, seed=seed, backend=backend, device=device, dtype=dtype, keyword="n_inputs",
                    n_bytes=lambda n: float(n) * q * k)  # the U weights (n_inputs, q k) uint8
        self.n_inputs, self.q, self.k = self.n_units, q, k
        self.recall_threshold = ck.in_range("recall_threshold", recall_threshold, 0.0, 1.0)
        self.params = params if params is not None else CSAParams()
        self.mac = MAC(self.n_inputs, q, k, params=self.params, backend=self.backend, device=self.device,
                       dtype=self.dtype)
        self.rng = np.random.default_rng(self.seed)
        if self.params.decay == 0:
            self.familiarity_limit = ("without decay the binary weights fill up past capacity and every item, stored "
                                      "or novel, gets G = 1 (at 400 items of 20 / 200 active: AUC 0.5); it cannot "
                                      "rank them: use CSAParams(decay=...)")
        self._learned: list[tuple[bytes, np.ndarray]] = []  # (item, its code) of each copy that learned (forget)

    def store_many(self, items: Any, keys: Any = None) -> Codes:
        """Store rows of ``items`` in order (one engine call); the codes they got."""
        self._open()
        x = as_patterns("items", items, self.n_units)
        k = self._keys([None] * x.shape[0] if keys is None else list(keys), x.shape[0])
        codes = self._present_learning(x)
        self._count_stored(x, k, +1)
        return codes

    def _store(self, items: np.ndarray, keys: None) -> None:
        self._present_learning(items)

    def _present_learning(self, items: np.ndarray) -> Codes:
        """Learn the rows and keep, for forget, the code of each row that set weights. A MAC that can freeze
        (``freeze_fraction``) is fed row by row, to know which rows came before it froze (the same draws)."""
        if self.params.freeze_fraction is None:
            codes = self.mac.present(items, self.rng)
            learned = [True] * len(items)
        else:
            learned, parts = [], []
            for x in items:
                learned.append(not self.mac.frozen)
                parts.append(self.mac.present(x[None], self.rng))
            codes = Codes(np.concatenate([c.cells for c in parts]), np.concatenate([c.familiarity for c in parts]))
        for x, cells, did in zip(items, codes.cells, learned, strict=True):
            if did and (cells >= 0).all():  # a silent MAC (too few active inputs) learns nothing
                self._learned.append((np.packbits(x).tobytes(), cells.copy()))
        return codes

    def _forget(self, items: np.ndarray, keys: None, method: str) -> None:
        tag = np.packbits(items[0]).tobytes()
        at = [r for r, (t, _) in enumerate(self._learned) if t == tag]
        if not at:
            return  # this copy set no weight (stored while the MAC was frozen or silent): nothing to remove
        del self._learned[at[-1]]
        u = np.zeros((self.n_inputs, self.mac.n_cells), dtype=np.uint8)
        for t, cells in self._learned:
            x = np.unpackbits(np.frombuffer(t, dtype=np.uint8), count=self.n_inputs).astype(bool)
            u[np.ix_(x, cells)] = 1
        snap = self.mac.snapshot()
        u &= snap["u"]  # a weight that decayed stays at 0
        snap["u"], snap["n_set"] = u, np.array([int(u.sum())], dtype=np.int64)
        self.mac.restore(snap)

    @property
    def weights(self) -> np.ndarray:
        """The MAC's bottom-up weights (n_inputs, q k), 0/1: which input units each code cell learned from."""
        self._open()
        return self.mac.u.copy()

    def probabilities(self, item: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
        """V (q, k), G and the win probabilities rho (q, k) the CSA computes for ``item`` (nothing is learned)."""
        self._open()
        return self.mac.probabilities(as_pattern("item", item, self.n_inputs))

    def code(self, item: np.ndarray) -> np.ndarray:
        """The recognition-mode code (winner per CM) of an item."""
        return self.mac.present(as_pattern("item", item, self.n_inputs)[None], learn=False, recognize=True).cells[0]

    def _recall(self, cues: np.ndarray) -> np.ndarray:
        return self.mac.reconstruct(self.mac.present(cues, learn=False, recognize=True).cells, self.recall_threshold)

    def _recognize(self, items: np.ndarray) -> np.ndarray:
        return self.mac.present(items, learn=False, recognize=True).familiarity

    def _reset(self) -> None:
        self.mac.reset()
        self.rng = np.random.default_rng(self.seed)
        self._learned.clear()

    def _close(self) -> None:
        self.mac.close()
