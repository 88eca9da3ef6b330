r"""The autoassociative spiking CA3 memory (Casanueva-Morato et al., IJCNN 2022; arXiv 2205.04782).

The earlier of the two CA3 models of that paper (its "oscillatory" model): ``n``
recurrent pyramidal cells (PCs) that learn binary patterns through PC<->PC STDP
and complete them from fragments, with no address. Facts from the paper's public
code (github dancasmor/Spike-based-computational-models-of-bio-inspired-memories-
in-the-hippocampal-CA3-region-in-SpiNNaker, ``CA3_oscilatory.py``; 15 cells there):

- DG: a spike source of ``n`` cells, one per PC, DG->PC one-to-one excitatory,
  static, 6 (n - 1) nA (84 nA at n = 15), delay 1 ms;
- PC->PC all-to-all without self-connections, excitatory, pair STDP with
  tau+ 3 ms, tau- 2 ms, A+ 6 nA, A- 3 nA (additive), w in [0, 12] nA, initial 0,
  delay 1 ms (``A_plus = 0.5``, ``A_minus = 0.25`` in PyNN's units relative to w_max);
- PC->PC all-to-all without self-connections, inhibitory, static, 1.5 nA, delay 1 ms;
- PCs: IF_curr_exp, cm 0.27 nF, tau_m 3 ms, tau_refrac 1 ms, tau_syn_E = tau_syn_I =
  0.3 ms, v_rest = v_reset = v_init = -60 mV, **v_thresh -55 mV** (the later
  content-addressable CA3 uses -57 mV; this model's code uses -55 mV); dt = 1 ms;
- timing: a pattern is learned by spiking its DG cells on 5 consecutive ms; a
  fragment is recalled by spiking its DG cells on 5 consecutive ms; operations
  start 14 ms apart.

Dynamics (the tick is :mod:`neurosim.simulator`'s: a spike over delay d arrives d ms
later). With tau_syn below the step, a spike of weight w moves a PC at rest by
:math:`g w` one tick later, :math:`g = \iota R (1 - e^{-dt/\tau_m}) = 0.911` mV/nA
(:math:`\iota = (\tau_{syn}/dt)(1 - e^{-dt/\tau_{syn}})`, :math:`R = \tau_m / c_m`), so a
PC at rest that gets ``m`` saturated (12 nA) synapses from the ``a`` PCs that fired in
the previous tick fires when

.. math:: g\,(12\,m - w_{inh}\,a) \ge v_{thresh} - v_{rest}
          \iff m \ge 0.457 + a\,w_{inh} / 12 \quad (v_{thresh} = -55\text{ mV}).

A DG spike (6 (n - 1) nA) fires its PC one tick later against the published inhibition
(at most 1.5 (n - 1) nA).
Refractoriness (1 tick) makes a co-active assembly fire every other ms: during a
learn the pattern fires at t0+1, t0+3, t0+5; input arriving while a PC is refractory
is lost, so the assembly falls silent after the fifth DG spike. Synchronous pairs
(:math:`\Delta = t_{post} + d - t_{pre} = +1` ms) potentiate both directions, and one
presentation drives every PC<->PC weight inside the pattern to w_max = 12 nA. A
fragment fires at t0+1 (DG), the rest of its pattern at t0+2 (recurrent), and the two
halves then alternate (the model's oscillation), which outlasts the cue.

What this module adds to the published model (inferred, each checked by experiment,
see ``tests/models/test_ca3_auto.py`` and ``experiments/ca3_auto_capacity.py``):

- **each operation starts from rest**: the memory's state is the learned weight
  vector; every ``store`` runs a fresh plastic copy of the circuit for 14 ms (the
  published spacing) and keeps its final weights, every recall runs a fresh copy with
  those weights frozen. In the published single run nothing ends the oscillation: a
  recalled assembly fires until the next operation's input displaces it, and with STDP
  on it is then linked to the next pattern (reproduced in the tests). Freezing the
  weights for recall (as the paper's second, regulated model does for its tests) keeps
  ``recall`` and ``recognize`` free of side effects;
- **decoding**: the recalled pattern is the set of PCs that fire in the first
  ``recall_window_ms`` ticks after the cue arrives (default 2: the cue at t0+1 and
  its completion at t0+2). Later cycles can recruit more: with two patterns that
  share one PC (the paper's non-orthogonal example) the shared PC is completed at
  t0+2; at t0+3 the inhibition left over from t0+2 holds the other pattern's PCs
  0.9 mV below threshold, at t0+5 they fire, so a window of 6 ticks returns the
  union (documented by a test);
- **recognize**: familiarity = fraction of the item's active units completed when
  each half of the item (alternate active units) cues the other half.

**No targeted forgetting** (``forget`` raises ``NotImplementedError``): the circuit's only input is
DG spikes, and ``neurosim run ca3-auto-forget`` tries every DG spike pattern on a stored pair (8
ticks) and triple (5 ticks) with STDP on. A cue makes the assembly fire in two alternating phases;
links between cells of alternate phases get Delta = 0 each cycle and settle at 7.27 nA, where one
cycle's potentiation equals its depression, above the 6.99 nA over which one cell completes another;
links between cells of one phase get Delta = +1 and return to w_max. No pattern forgets.

The published inhibition (1.5 nA) is tuned for the 15-cell demo: by the condition
above one saturated synapse fires a PC whenever at most 4 PCs fired in the previous
tick, and two suffice up to 12, so random patterns that share 2 cells merge while they
are stored and capacity is a few patterns (measured by ``ca3-auto-capacity``);
``w_inh_nA`` is a parameter for that reason (0.75 w_max = 9 nA, not published, makes
a PC need about 3/4 of the active cells, a Willshaw-like threshold).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from neurosim import _checks as ck
from neurosim import backends
from neurosim.connectors import AllToAll, OneToOne, all_but_self
from neurosim.memory import Memory, as_pattern
from neurosim.models.ca3_network import cell
from neurosim.network import Network, Population, Projection, SpikeMonitor, SpikeSourceArray
from neurosim.plasticity import STDP
from neurosim.simulator import Simulator

DT_MS = 1.0
PC_RULE = STDP(tau_plus_ms=3.0, tau_minus_ms=2.0, A_plus=0.5, A_minus=0.25, w_min_nA=0.0, w_max_nA=12.0,
               weight_dependence="additive")


@dataclass(frozen=True)
class CA3AutoParams:
    """Constants of the circuit and of its operations (published unless marked inferred).

    ``w_dg_per_cell_nA``: the DG->PC weight is ``w_dg_per_cell_nA * (n_cells - 1)``.
    ``present_ms``: DG spikes on this many consecutive ticks to learn or cue.
    ``operation_ms``: how long a ``store`` runs (the published spacing of operations).
    ``recall_window_ms`` (inferred): PCs firing in ticks 1 .. this after the cue are recalled.
    """

    v_thresh_mV: float = -55.0
    w_dg_per_cell_nA: float = 6.0
    w_inh_nA: float = 1.5
    rule: STDP = field(default=PC_RULE)
    present_ms: int = 5
    operation_ms: int = 14
    recall_window_ms: int = 2

    def __post_init__(self) -> None:
        ck.finite("CA3AutoParams.v_thresh_mV", self.v_thresh_mV)
        if self.v_thresh_mV <= -60.0:
            ck.fail("CA3AutoParams.v_thresh_mV", self.v_thresh_mV, "> v_rest (-60 mV)")
        ck.positive("CA3AutoParams.w_dg_per_cell_nA", self.w_dg_per_cell_nA, "nA")
        ck.non_negative("CA3AutoParams.w_inh_nA", self.w_inh_nA, "nA")
        if not isinstance(self.rule, STDP):
            ck.fail("CA3AutoParams.rule", type(self.rule).__name__, "an STDP")
        ck.count("CA3AutoParams.present_ms", self.present_ms)
        ck.count("CA3AutoParams.recall_window_ms", self.recall_window_ms)
        ck.count("CA3AutoParams.operation_ms", self.operation_ms, minimum=self.present_ms + 1)


def build_network(n_cells: int, weights_nA: np.ndarray | float = 0.0, params: CA3AutoParams | None = None,
                  plastic: bool = True) -> Network:
    """The circuit with an empty DG source; PC->PC weights in ``AllToAll(False)`` order (pre-major).

    ``plastic=False`` freezes the PC->PC weights (recall); ``True`` gives them the STDP rule.
    """
    n = ck.count("n_cells", n_cells, minimum=2)
    p = params or CA3AutoParams()
    return Network(
        dt_ms=DT_MS,
        populations=(Population("pc", n, cell(v_thresh_mV=p.v_thresh_mV)),),  # the published PC
        sources=(SpikeSourceArray.empty("dg", n),),
        projections=(
            Projection("dg_pc", "dg", "pc", OneToOne(), weight_nA=p.w_dg_per_cell_nA * (n - 1), delay_steps=1),
            Projection("pc_pc", "pc", "pc", AllToAll(allow_self_connections=False), weight_nA=weights_nA,
                       delay_steps=1, plasticity=p.rule if plastic else None),
            Projection("pc_inh", "pc", "pc", AllToAll(allow_self_connections=False), weight_nA=p.w_inh_nA,
                       delay_steps=1, receptor="inhibitory"),
        ),
        monitors=(SpikeMonitor("pc"),),
    )


def present(sim: Simulator, cells: np.ndarray, start_ms: float, present_ms: int) -> None:
    """Schedule one DG spike per cell in ``cells`` on each of ``present_ms`` ticks from ``start_ms``."""
    cells = np.asarray(cells, dtype=np.int64)
    ticks = start_ms + np.arange(present_ms, dtype=np.float64)
    sim.add_spikes("dg", np.repeat(ticks, cells.size), np.tile(cells, present_ms))


def decode(times_ms: np.ndarray, ids: np.ndarray, n_cells: int, start_ms: float, window_ms: int) -> np.ndarray:
    """The PCs that fired in ticks ``start + 1 .. start + window`` (a cue at ``start`` arrives at ``start + 1``)."""
    out = np.zeros(n_cells, dtype=bool)
    keep = (times_ms >= start_ms + 1) & (times_ms <= start_ms + window_ms)
    out[ids[keep]] = True
    return out


def weight_matrix(weights_nA: np.ndarray, n_cells: int) -> np.ndarray:
    """``(n, n)`` matrix ``W[pre, post]`` (zero diagonal) from the ``AllToAll(False)``-ordered vector."""
    w = np.zeros((n_cells, n_cells))
    w[all_but_self(n_cells)] = weights_nA
    return w


class CA3AutoMemory(Memory):
    """The autoassociative CA3 memory under the memory contract.

    The state is the learned PC->PC weight vector; each operation runs a fresh copy of the
    circuit from rest (see the module docstring), on any spiking backend. Items are binary
    patterns of ``n_cells``. ``seed`` is checked and recorded only: the circuit has no random input.
    """

    engines: ClassVar[tuple[str, ...]] = tuple(backends.names())
    stochastic: ClassVar[bool] = False
    familiarity: ClassVar[str] = ("the fraction of the item's active units that the network completes when each "
                                  "half of the item (alternate active units) cues the other half")
    familiarity_limit: ClassVar[str] = ("past capacity the saturating STDP weights fill up and every item, stored "
                                        "or novel, is completed (at 400 items of 20 / 200 active: every familiarity "
                                        "1, AUC 0.5); it cannot rank them")
    no_forget: ClassVar[str] = ("no DG spike pattern with STDP on forgets a stored assembly of the published "
                                "circuit: neurosim run ca3-auto-forget; reset() forgets everything")

    def __init__(self, n_cells: int, backend: str = "numba", seed: int = 0, params: CA3AutoParams | None = None,
                 *, device: str | None = None, dtype: str | None = None) -> None:
        self.n_cells = ck.count("n_cells", n_cells, minimum=2)
        # the learned weights and the two PC->PC projections: n (n - 1) synapses each, 8 bytes at least
        self._setup(n_cells, seed=seed, backend=backend, device=device, dtype=dtype, minimum_units=2,
                    keyword="n_cells", n_bytes=lambda n: 3 * 8.0 * n * (n - 1))
        if params is not None and not isinstance(params, CA3AutoParams):
            ck.fail("params", type(params).__name__, "a CA3AutoParams or None")
        self.params = params or CA3AutoParams()
        self._frozen: Network | None = None
        self._reset()

    def _sim(self, network: Network) -> Simulator:
        return Simulator(network, backend=self.backend, seed=self.seed, device=self.device, dtype=self.dtype)

    # -- the memory contract -----------------------------------------------------------------------
    def _store(self, items: np.ndarray, keys: None) -> None:
        """Learn each item: its DG cells spike on ``present_ms`` consecutive ticks while STDP is on."""
        for item in items:
            cells = self._active("item", item)
            sim = self._sim(build_network(self.n_cells, self.weights_nA, self.params, plastic=True))
            present(sim, cells, 0.0, self.params.present_ms)
            sim.run(float(self.params.operation_ms))
            self.weights_nA = np.array(sim.weights("pc_pc"), dtype=np.float64)
            sim.close()
            self._frozen = None
            self.n_stored += 1

    def _recall(self, cues: np.ndarray) -> np.ndarray:
        """The pattern completed from each fragment: PCs firing in the recall window (bool rows)."""
        out = np.zeros_like(cues)
        for r, cue in enumerate(cues):
            times, ids = self.respond(cue, self.params.recall_window_ms)
            out[r] = decode(times, ids, self.n_cells, 0.0, self.params.recall_window_ms)
        return out

    def _recognize(self, items: np.ndarray) -> np.ndarray:
        """Familiarity in [0, 1]: the fraction of each item's active units that the network completes
        when each half of the item (alternate active units, in index order) cues the other half."""
        out = np.zeros(items.shape[0])
        for r, item in enumerate(items):
            cells = self._active("item", item)
            if cells.size < 2:
                ck.fail("item", f"{cells.size} active unit", "at least 2 active units (one half cues the other)")
            halves = np.zeros((2, self.n_cells), dtype=bool)
            halves[0, cells[0::2]] = halves[1, cells[1::2]] = True
            done = self._recall(halves)
            out[r] = (np.count_nonzero(done[0, cells[1::2]]) + np.count_nonzero(done[1, cells[0::2]])) / cells.size
        return out

    def _reset(self) -> None:
        """Forget everything: all PC->PC weights back to 0."""
        self.weights_nA = np.zeros(self.n_cells * (self.n_cells - 1))
        self._frozen = None
        self.n_stored = 0

    # -- inspection --------------------------------------------------------------------------------------
    def respond(self, cue: np.ndarray, duration_ms: int) -> tuple[np.ndarray, np.ndarray]:
        """PC spikes ``(times_ms, ids)`` of the frozen circuit for ``duration_ms`` ticks after the cue
        (DG spikes at ticks 0 .. present_ms - 1; they reach the PCs from tick 1)."""
        self._open()
        cells = self._active("cue", cue)
        ck.count("duration_ms", duration_ms)
        if self._frozen is None:
            self._frozen = build_network(self.n_cells, self.weights_nA, self.params, plastic=False)
        sim = self._sim(self._frozen)
        present(sim, cells, 0.0, self.params.present_ms)
        sim.run(float(duration_ms + 1))
        spikes = sim.spikes("pc")
        sim.close()
        return spikes

    def weight_matrix(self) -> np.ndarray:
        """The learned weights as ``W[pre, post]`` (nA), for inspection (recall never reads it)."""
        return weight_matrix(self.weights_nA, self.n_cells)

    def _active(self, field_name: str, pattern: object) -> np.ndarray:
        cells = np.flatnonzero(as_pattern(field_name, pattern, self.n_cells))
        if cells.size == 0:
            ck.fail(field_name, "an empty pattern", "at least one active unit")
        return cells
