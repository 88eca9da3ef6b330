"""Networks shared by the backend-equivalence tests: each stresses one part of the tick."""

from __future__ import annotations

import numpy as np

from neurosim import (
    STDP,
    AllToAll,
    FixedProbability,
    FromList,
    LIFParams,
    Network,
    OneToOne,
    PoissonSource,
    Population,
    Projection,
    SpikeMonitor,
    SpikeSourceArray,
    StateMonitor,
    WeightMonitor,
)

EI_CELL = LIFParams(tau_m_ms=20.0, cm_nF=0.2, v_rest_mV=-60.0, v_reset_mV=-60.0, v_thresh_mV=-50.0,
                    tau_refrac_ms=2.0, tau_syn_e_ms=5.0, tau_syn_i_ms=10.0, v_init_mV=-60.0)
CA3_CELL = LIFParams(tau_m_ms=3.0, cm_nF=0.27, v_rest_mV=-60.0, v_reset_mV=-60.0, v_thresh_mV=-57.0,
                     tau_refrac_ms=1.0, tau_syn_e_ms=0.3, tau_syn_i_ms=0.3, v_init_mV=-60.0)


def feedforward(rng: np.random.Generator) -> Network:
    """Sources -> two populations, excitation and inhibition, delays 1..3 steps."""
    n_src = 20
    trains = [np.sort(rng.choice(np.arange(0, 100.0, 0.1), size=8, replace=False)).round(1) for _ in range(n_src)]
    exc = LIFParams(tau_m_ms=10.0, cm_nF=0.25, tau_syn_e_ms=2.0, tau_syn_i_ms=4.0, tau_refrac_ms=2.0)
    pre, post = np.nonzero(rng.random((n_src, 30)) < 0.5)
    return Network(
        dt_ms=0.1,
        populations=(Population("a", 30, exc), Population("b", 10, exc)),
        sources=(SpikeSourceArray("inp", tuple(trains)),),
        projections=(
            Projection("inp_a", "inp", "a", FromList(pre, post), weight_nA=1.2,
                       delay_steps=rng.integers(1, 4, pre.size)),
            Projection("a_b", "a", "b", AllToAll(), weight_nA=0.4, delay_steps=2),
            Projection("inp_b_inh", "inp", "b", FixedProbability(0.3, seed=3), weight_nA=0.5,
                       delay_steps=3, receptor="inhibitory"),
        ),
        monitors=(SpikeMonitor("a"), SpikeMonitor("b"), SpikeMonitor("inp"),
                  StateMonitor("b", (0, 3), ("v_mV", "i_syn_e_nA", "i_syn_i_nA"))),
    )


def recurrent_ei(n: int = 400, stdp: STDP | None = None, dt_ms: float = 0.1) -> Network:
    """Poisson-driven E/I network with random recurrent connectivity and delays 1..4 steps."""
    n_e, n_i = int(0.8 * n), n - int(0.8 * n)
    cell = EI_CELL
    w_ee = 0.05 if stdp is None else 0.5 * stdp.w_max_nA
    projections = [
        Projection("ee", "e", "e", FixedProbability(0.05, allow_self_connections=False, seed=1),
                   weight_nA=w_ee, delay_steps=2, plasticity=stdp),
        Projection("ei", "e", "i", FixedProbability(0.05, seed=2), weight_nA=0.08, delay_steps=1),
        Projection("ie", "i", "e", FixedProbability(0.1, seed=3), weight_nA=0.3, delay_steps=3,
                   receptor="inhibitory"),
        Projection("ii", "i", "i", FixedProbability(0.1, allow_self_connections=False, seed=4),
                   weight_nA=0.2, delay_steps=4, receptor="inhibitory"),
        Projection("drive_e", "drive", "e", FixedProbability(0.1, seed=5), weight_nA=0.25, delay_steps=1),
        Projection("drive_i", "drive", "i", FixedProbability(0.1, seed=6), weight_nA=0.25, delay_steps=1),
    ]
    monitors = [SpikeMonitor("e"), SpikeMonitor("i"), SpikeMonitor("drive"), StateMonitor("e", (0, 1, 2))]
    if stdp is not None:
        monitors.append(WeightMonitor("ee", every_ms=10.0))
    return Network(
        dt_ms=dt_ms,
        populations=(Population("e", n_e, cell), Population("i", n_i, cell)),
        sources=(PoissonSource("drive", 100, rate_hz=40.0),),
        projections=tuple(projections),
        monitors=tuple(monitors),
    )


def ca3_like_stdp(weight_dependence: str = "additive", back_rule: STDP | None = None) -> Network:
    """dt = 1 ms, sub-step time constants, one-to-one drive and a learned all-to-all projection
    with A = w_max (the CA3 memory's regime): exercises coincidences at delay 1. ``back_rule``: another
    rule on the projection back (b -> a), so that each synapse must find its own."""
    rule = STDP(tau_plus_ms=3.0, tau_minus_ms=3.0, A_plus=1.0, A_minus=1.0, w_min_nA=0.0, w_max_nA=6.0,
                weight_dependence=weight_dependence)
    rng = np.random.default_rng(11)
    trains_a = [np.sort(rng.choice(np.arange(0, 200), size=25, replace=False)).astype(float) for _ in range(5)]
    trains_b = [np.sort(rng.choice(np.arange(0, 200), size=25, replace=False)).astype(float) for _ in range(6)]
    return Network(
        dt_ms=1.0,
        populations=(Population("a", 5, CA3_CELL), Population("b", 6, CA3_CELL)),
        sources=(SpikeSourceArray("in_a", tuple(trains_a)), SpikeSourceArray("in_b", tuple(trains_b))),
        projections=(
            Projection("in_a_a", "in_a", "a", OneToOne(), weight_nA=6.0, delay_steps=1),
            Projection("in_b_b", "in_b", "b", OneToOne(), weight_nA=6.0, delay_steps=1),
            Projection("ab", "a", "b", AllToAll(), weight_nA=0.0, delay_steps=1, plasticity=rule),
            Projection("ba", "b", "a", AllToAll(), weight_nA=3.0, delay_steps=2, plasticity=back_rule or rule),
            Projection("bb_inh", "b", "b", AllToAll(allow_self_connections=False), weight_nA=2.0,
                       delay_steps=1, receptor="inhibitory"),
        ),
        monitors=(SpikeMonitor("a"), SpikeMonitor("b"), WeightMonitor("ab", every_ms=20.0)),
    )


NETWORKS = {
    "feedforward": lambda: feedforward(np.random.default_rng(7)),
    "recurrent": lambda: recurrent_ei(400),
    "stdp_additive": lambda: recurrent_ei(300, STDP(tau_plus_ms=16.8, tau_minus_ms=33.7, A_plus=0.02, A_minus=0.015,
                                                    w_max_nA=0.12)),
    "stdp_multiplicative": lambda: recurrent_ei(300, STDP(A_plus=0.05, A_minus=0.06, w_max_nA=0.12,
                                                          weight_dependence="multiplicative")),
    "ca3_like_additive": lambda: ca3_like_stdp("additive"),
    "ca3_like_multiplicative": lambda: ca3_like_stdp("multiplicative"),
    "ca3_like_two_rules": lambda: ca3_like_stdp("additive", STDP(tau_plus_ms=5.0, tau_minus_ms=2.0, A_plus=0.5,
                                                                A_minus=0.8, w_min_nA=1.0, w_max_nA=5.0,
                                                                weight_dependence="multiplicative")),
}
DURATION_MS = {"feedforward": 120.0, "recurrent": 300.0, "stdp_additive": 300.0, "stdp_multiplicative": 300.0,
               "ca3_like_additive": 210.0, "ca3_like_multiplicative": 210.0, "ca3_like_two_rules": 210.0}
