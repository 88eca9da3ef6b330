r"""The published CA3 circuit (Casanueva-Morato et al., Neural Networks 2024): its cells, the network
(:func:`build_network`), the two STDP rules and the input spikes of each operation
(:class:`Operation`, :func:`operation_spikes`); :class:`.ca3.CA3Memory` runs it as a memory.

Built on the core's :class:`~neurosim.Network`: ``n`` cue
neurons (a one-hot address) and ``m`` content neurons (a binary pattern, active bit
= spike). All cells are PyNN ``IF_curr_exp`` (tau_refrac 1 ms, tau_syn 0.3 ms,
v_rest = v_reset = -60 mV, v_thresh -57 mV), dt = 1 ms; the tick is that of
:mod:`neurosim.simulator` (SpiNNaker's: a hop over delay d takes d ms).

Populations (size; cm nF / tau_m ms): cueCueRecall (n; 0.27/3), cueContRecall (n; 0.14/0.5),
contCueRecall (m; 0.27/3), contContRecall (m; 0.27/3), contCond (m; 0.14/0.5),
contCondInt (1; 0.14/0.5), mergeCue (n; 0.27/3), mergeCont (m; 0.27/3): 3n + 4m + 1
neurons, and an output layer of n + m (v_thresh -57.5 mV) read by the decoder.

Fixed synapses (weight nA / delay ms): input->cueCue and input->contCue 1:1 6/1;
cueCue->cueCont 1:1 6/2 and all-but-self inhibitory 6m/3; cueCue->contCond all-to-all
inhibitory 6/2; contCue->contCond 1:1 9/1; contCond->contCont 1:1 6/1;
contCue->contCondInt all-to-one 6/1; contCondInt->contCond one-to-all 2/1;
cueCont->cueCont all-but-self inhibitory 6m/2; cueCue->mergeCue 6/3, cueCont->mergeCue
6/1, contCue->mergeCont 6/3, contCont->mergeCont 6/1 (all 1:1); merge->output 6/1.
Learned (all-to-all, initial 0, delay 1): cueCue->contCue (cue -> content) and
contCont->cueCont (content -> cue), pair STDP with tau+- = 3 ms and an additive step
of 6 nA at w_max = 6 nA (``A_plus = A_minus = 1`` in PyNN's relative units).

Operations (1 ms steps; t0 = the operation's first tick):

- learn(cue, bits): cue and content spike at t0, t0+1, t0+2; the output echoes the
  memory at t0+5 and t0+7 (``learn`` then waits ``op_ms``, 14 ms by default: see :data:`.ca3.DEFAULT_OP_MS`).
  Relearning a cue overwrites it: post-before-pre pairings depress the old content
  bits (forgetting; only partly, see docs/models/ca3.md).
- recall by cue: one cue spike at t0; the output shows the cue at t0+5 and the
  stored content at t0+6 (decoded).
- recall by content: one spike on each query bit at t0; the output shows the query at
  t0+5 and, at t0+6 (decoded), every cue whose stored content shares at least one
  active bit with the query.
- forget(cue, bits) (past the paper; :meth:`.ca3.CA3Memory.forget`, ``method="reverse"``): the
  learn's spikes with the order reversed, the cue one tick before its content, learning
  on. Every pairing of the stored links then has Delta = 0, the pairing that forgets. Under
  ``COINCIDENCE_RULE`` it removes the cue's links both ways and leaves the others, those of
  a shared bit included (tests/models/test_forget.py). Under the paper's rule it removes
  content -> cue (recall by content no longer finds the cue) but leaves cue -> content at
  4.66 nA of 6 (recall by cue still finds the content): the rule cannot forget in one step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from neurosim import _checks as ck
from neurosim.connectors import AllToAll, FromList, OneToOne, all_but_self
from neurosim.network import LIFParams, Network, Population, Projection, SpikeMonitor, SpikeSourceArray
from neurosim.plasticity import STDP

POPULATIONS = ("cueCueRecall", "contCueRecall", "contCond", "contCondInt", "cueContRecall", "contContRecall",
               "mergeCue", "mergeCont", "output")
HOLD_MS = 3         # a learn presents cue and content on 3 consecutive ticks
RESULT_MS = 6       # the recalled content / cues appear 6 ms after t0
LEARNED = ("learned_cue_to_content", "learned_content_to_cue")

Kind = Literal["learn", "recall_cue", "recall_content", "forget"]


def cell(cm_nF: float = 0.27, tau_m_ms: float = 3.0, v_thresh_mV: float = -57.0) -> LIFParams:
    """The published cell (PyNN ``IF_curr_exp``) of both CA3 models: 0.27 nF / 3 ms and v_thresh -57 mV by
    default; the gating cells are 0.14 nF / 0.5 ms, the autoassociative model's PCs (:mod:`.ca3_auto`) -55 mV."""
    return LIFParams(tau_m_ms=tau_m_ms, cm_nF=cm_nF, v_rest_mV=-60.0, v_reset_mV=-60.0, v_thresh_mV=v_thresh_mV,
                     tau_refrac_ms=1.0, tau_syn_e_ms=0.3, tau_syn_i_ms=0.3, i_offset_nA=0.0, v_init_mV=-60.0)


LEARNING_RULE = STDP(tau_plus_ms=3.0, tau_minus_ms=3.0, A_plus=1.0, A_minus=1.0, w_min_nA=0.0, w_max_nA=6.0)

# Past the paper: a coincidence rule whose windows are far shorter than the 1 ms tick.
# With Delta = t_post + d - t_pre in ticks, Delta = +1 (the pairing of every stored link:
# cue and content spike on the same ticks, d = 1) adds exactly w_max, Delta = 0 (the
# pairing of every forgetting) removes w_max, |Delta| >= 2 changes w by <= 6 e^-5 = 0.04 nA.
# It makes relearning forget completely (docs/models/ca3.md: 100% oracle agreement with
# relearning; the published rule leaves old links at 3.31 nA). Found by a sweep of rules
# and of 3969 learn schedules: no schedule fixes the published rule.
COINCIDENCE_RULE = STDP(tau_plus_ms=0.2, tau_minus_ms=0.2, A_plus=float(np.exp(1.0 / 0.2)), A_minus=1.0,
                        w_min_nA=0.0, w_max_nA=6.0)


def _all_but_self(n: int) -> FromList:
    return FromList(*all_but_self(n))


def build_network(n_cues: int, n_bits: int, learning_rule: STDP = LEARNING_RULE) -> Network:
    """The published circuit with empty input sources (operations add spikes later);
    ``learning_rule``: the STDP of the two learned projections (default: the paper's)."""
    n, m = ck.count("n_cues", n_cues), ck.count("n_bits", n_bits)
    big, small = cell(), cell(cm_nF=0.14, tau_m_ms=0.5)
    pops = (Population("cueCueRecall", n, big), Population("cueContRecall", n, small),
            Population("contCueRecall", m, big), Population("contContRecall", m, big),
            Population("contCond", m, small), Population("contCondInt", 1, small),
            Population("mergeCue", n, big), Population("mergeCont", m, big),
            Population("output", n + m, cell(v_thresh_mV=-57.5)))

    def p(name, pre, post, conn, w, d, receptor="excitatory", plasticity=None):
        return Projection(name, pre, post, conn, weight_nA=w, delay_steps=d, receptor=receptor,
                          plasticity=plasticity)

    projections = (
        p("input_cue", "in_cue", "cueCueRecall", OneToOne(), 6.0, 1),
        p("input_content", "in_content", "contCueRecall", OneToOne(), 6.0, 1),
        p("cue_to_cueCont", "cueCueRecall", "cueContRecall", OneToOne(), 6.0, 2),
        p("cue_inhibits_other_cueCont", "cueCueRecall", "cueContRecall", _all_but_self(n), 6.0 * m, 3,
          "inhibitory"),
        p("cue_inhibits_contCond", "cueCueRecall", "contCond", AllToAll(), 6.0, 2, "inhibitory"),
        p("content_to_contCond", "contCueRecall", "contCond", OneToOne(), 9.0, 1),
        p("contCond_to_contCont", "contCond", "contContRecall", OneToOne(), 6.0, 1),
        p("content_to_condInt", "contCueRecall", "contCondInt", AllToAll(), 6.0, 1),
        p("condInt_to_contCond", "contCondInt", "contCond", AllToAll(), 2.0, 1),
        p("cueCont_lateral_inhibition", "cueContRecall", "cueContRecall",
          AllToAll(allow_self_connections=False), 6.0 * m, 2, "inhibitory"),
        p("cue_to_mergeCue", "cueCueRecall", "mergeCue", OneToOne(), 6.0, 3),
        p("cueCont_to_mergeCue", "cueContRecall", "mergeCue", OneToOne(), 6.0, 1),
        p("content_to_mergeCont", "contCueRecall", "mergeCont", OneToOne(), 6.0, 3),
        p("contCont_to_mergeCont", "contContRecall", "mergeCont", OneToOne(), 6.0, 1),
        p("mergeCue_to_output", "mergeCue", "output", FromList(np.arange(n), np.arange(n)), 6.0, 1),
        p("mergeCont_to_output", "mergeCont", "output", FromList(np.arange(m), n + np.arange(m)), 6.0, 1),
        p("learned_cue_to_content", "cueCueRecall", "contCueRecall", AllToAll(), 0.0, 1, plasticity=learning_rule),
        p("learned_content_to_cue", "contContRecall", "cueContRecall", AllToAll(), 0.0, 1,
          plasticity=learning_rule),
    )
    sources = (SpikeSourceArray.empty("in_cue", n), SpikeSourceArray.empty("in_content", m))
    monitors = tuple(SpikeMonitor(name) for name in (*POPULATIONS, "in_cue", "in_content"))
    return Network(dt_ms=1.0, populations=pops, sources=sources, projections=projections, monitors=monitors)


@dataclass(frozen=True)
class Operation:
    """One memory operation: ``learn`` (cue + bits), ``recall_cue`` (cue), ``recall_content`` (bits),
    ``forget`` (cue + bits: the learn reversed in time, see the module docstring)."""

    kind: Kind
    cue: int | None = None
    bits: tuple[int, ...] = ()

    def describe(self) -> str:
        if self.kind == "learn":
            return f"learn cue {self.cue} = {list(self.bits)}"
        if self.kind == "recall_cue":
            return f"recall cue {self.cue}"
        if self.kind == "forget":
            return f"forget cue {self.cue} = {list(self.bits)}"
        return f"recall content {list(self.bits)}"


def operation_spikes(t: float, op: Operation) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """The input spikes an operation starting at ``t`` ms sends: ``(source, times_ms, ids)``
    (one definition, used by the memory and by the exporters)."""
    if op.kind in ("learn", "forget"):
        ticks = t + np.arange(HOLD_MS, dtype=np.float64)
        bits = np.asarray(op.bits, dtype=np.int64)
        later = ticks + (op.kind == "forget")  # forget: the content one tick after the cue
        return [("in_cue", ticks, np.full(HOLD_MS, op.cue, dtype=np.int64)),
                ("in_content", np.repeat(later, bits.size), np.tile(bits, HOLD_MS))]
    if op.kind == "recall_cue":
        return [("in_cue", np.array([float(t)]), np.array([op.cue], dtype=np.int64))]
    return [("in_content", np.full(len(op.bits), float(t)), np.asarray(op.bits, dtype=np.int64))]
