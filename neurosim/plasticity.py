r"""Pair-based STDP with additive or multiplicative weight dependence (PyNN semantics).

A pre spike at tick :math:`t_{pre}` and a post spike at tick :math:`t_{post}` on a
synapse with delay :math:`d` steps are paired at the synapse, where the post spike
arrives after the (dendritic) delay: :math:`\Delta = (t_{post} + d - t_{pre})\,dt`.
All-to-all pairing through traces (``r`` on the pre side, ``o`` on the post side,
each jumping by 1 at a spike and decaying with :math:`\tau_+`, :math:`\tau_-`):

.. math::

    \text{potentiation } (\Delta > 0):\quad
        \Delta w = A_+\, w_{max}\, r\, e^{-\Delta/\tau_+}            \;\text{(additive)},\quad
        A_+\,(w_{max} - w)\, r\, e^{-\Delta/\tau_+}                 \;\text{(multiplicative)}

    \text{depression } (\Delta \le 0):\quad
        \Delta w = -A_-\, w_{max}\, o\, e^{\Delta/\tau_-}            \;\text{(additive)},\quad
        -A_-\,(w - w_{min})\, o\, e^{\Delta/\tau_-}                 \;\text{(multiplicative)}

and the weight is clipped to :math:`[w_{min}, w_{max}]` after every change. ``A_plus`` and
``A_minus`` are relative to ``w_max`` as in PyNN (NEST, pyNN.brian2): sPyNNaker 7.x
instead applies ``A`` itself as the step, so an sPyNNaker ``A`` equals
``A_plus * w_max`` here (the CA3 memory's A = 6, w_max = 6 is ``A_plus = 1.0``).

When updates happen (see :mod:`neurosim.simulator` for the whole tick):
potentiation when a post spike reaches the synapse (tick :math:`t_{post} + d`),
depression when the pre spike is processed (its own tick), and the weight delivered
by that pre spike is the updated one. This gives the same spikes as sPyNNaker's
deferred rule (which applies the pending potentiations at the next pre spike).
Exponentials are read from per-rule tables ``exp(-k dt / tau)`` indexed by whole
steps ``k`` so that every backend uses the same numbers; entries beyond
``40 tau`` (:math:`e^{-40} \approx 4\cdot10^{-18}`) are 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from neurosim import _checks as ck

WeightDependence = Literal["additive", "multiplicative"]


@dataclass(frozen=True)
class STDP:
    """Pair-based STDP (PyNN's SpikePairRule + Additive/MultiplicativeWeightDependence).

    Defaults are PyNN's.
    """

    tau_plus_ms: float = 20.0
    tau_minus_ms: float = 20.0
    A_plus: float = 0.01
    A_minus: float = 0.01
    w_min_nA: float = 0.0
    w_max_nA: float = 1.0
    weight_dependence: WeightDependence = "additive"

    def __post_init__(self) -> None:
        ck.positive("STDP.tau_plus_ms", self.tau_plus_ms, "ms")
        ck.positive("STDP.tau_minus_ms", self.tau_minus_ms, "ms")
        ck.non_negative("STDP.A_plus", self.A_plus)
        ck.non_negative("STDP.A_minus", self.A_minus)
        ck.non_negative("STDP.w_min_nA", self.w_min_nA, "nA")
        ck.non_negative("STDP.w_max_nA", self.w_max_nA, "nA")
        if self.w_min_nA > self.w_max_nA:
            ck.fail("STDP.w_min_nA", self.w_min_nA, f"<= w_max_nA ({self.w_max_nA})")
        if self.weight_dependence not in ("additive", "multiplicative"):
            ck.fail("STDP.weight_dependence", self.weight_dependence,
                    "'additive' or 'multiplicative'")

    @property
    def multiplicative(self) -> bool:
        return self.weight_dependence == "multiplicative"

    def step_plus(self) -> float:
        """Factor multiplying ``trace`` (additive) or ``(w_max - w) trace`` (multiplicative)."""
        return self.A_plus if self.multiplicative else self.A_plus * self.w_max_nA

    def step_minus(self) -> float:
        return self.A_minus if self.multiplicative else self.A_minus * self.w_max_nA

    def pair_change(self, w: float, dt_post_minus_pre_ms: float) -> float:
        """Weight after one isolated pre/post pair (closed form, for tests and docs): ``w`` in [w_min_nA, w_max_nA],
        ``dt_post_minus_pre_ms`` any real number (+-inf: a pair too far apart to change the weight)."""
        w = ck.in_range("w", w, self.w_min_nA, self.w_max_nA)
        x = ck.real_or_inf("dt_post_minus_pre_ms", dt_post_minus_pre_ms, "a time difference in ms (not NaN)")
        if x > 0:
            k = np.exp(-x / self.tau_plus_ms)
            dw = self.step_plus() * ((self.w_max_nA - w) if self.multiplicative else 1.0) * k
            return float(min(w + dw, self.w_max_nA))
        k = np.exp(x / self.tau_minus_ms)
        dw = self.step_minus() * ((w - self.w_min_nA) if self.multiplicative else 1.0) * k
        return float(max(w - dw, self.w_min_nA))


MAX_TABLE = 2**24  # entries of a trace's decay table (128 MiB in float64)


def decay_table(tau_ms: float, dt_ms: float, field: str = "tau_ms") -> np.ndarray:
    """``exp(-k dt / tau)`` for k = 0 .. ceil(40 tau / dt), then one 0 entry."""
    steps = 40.0 * ck.positive(field, tau_ms, "ms") / ck.positive("dt_ms", dt_ms, "ms")  # Python floats: inf, no error
    if not steps <= MAX_TABLE - 1:  # ceil(steps) + 1 entries
        ck.fail(field, tau_ms, f"at most {(MAX_TABLE - 1) * dt_ms / 40:g} ms at dt = {dt_ms:g} ms (the trace's decay "
                               f"table holds 40 tau / dt entries, at most {MAX_TABLE:,})")
    table = np.exp(-np.arange(int(np.ceil(steps)) + 1, dtype=np.float64) * (dt_ms / tau_ms))
    return np.concatenate([table, [0.0]])
