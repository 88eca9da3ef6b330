"""The discretization against closed forms, on every available backend.

The membrane update is exact for a current held over a tick, so the closed forms of
the discrete system hold to rounding; the PSP also converges to the continuous-time
formula as dt -> 0.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from neurosim import (
    STDP,
    LIFParams,
    Network,
    OneToOne,
    Population,
    Projection,
    Simulator,
    SpikeMonitor,
    SpikeSourceArray,
    StateMonitor,
    backends,
)
from tests.core.networks import CA3_CELL

BACKENDS = [b for b in ("reference", "numba", "torch") if backends.is_available(b)]


def _sim(net: Network, backend: str) -> Simulator:
    kw = {"device": "cpu"} if backend == "torch" else {}
    return Simulator(net, backend=backend, seed=0, **kw)


@pytest.mark.parametrize("backend", BACKENDS)
def test_membrane_relaxes_to_rest_exponentially(backend: str) -> None:
    p = LIFParams(tau_m_ms=12.0, cm_nF=0.5, v_rest_mV=-70.0, v_init_mV=-55.5, v_thresh_mV=-50.0)
    net = Network(dt_ms=0.25, populations=(Population("n", 1, p),), monitors=(StateMonitor("n", (0,)),))
    sim = _sim(net, backend)
    sim.run(50.0)
    v = sim.state("n").values["v_mV"][:, 0]
    k = np.arange(1, v.size + 1)  # state is sampled after the update of each tick
    expected = -70.0 + 14.5 * np.exp(-k * 0.25 / 12.0)
    np.testing.assert_allclose(v, expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dt", [0.1, 0.05])
def test_time_to_first_spike_and_period_under_constant_current(backend: str, dt: float) -> None:
    tau, cm, i, theta, refrac = 20.0, 1.0, 1.0, 15.0, 2.0  # R I = 20 mV > 15 mV
    p = LIFParams(tau_m_ms=tau, cm_nF=cm, v_rest_mV=0.0, v_reset_mV=0.0, v_init_mV=0.0,
                  v_thresh_mV=theta, i_offset_nA=i, tau_refrac_ms=refrac)
    net = Network(dt_ms=dt, populations=(Population("n", 1, p),), monitors=(SpikeMonitor("n"),))
    sim = _sim(net, backend)
    sim.run(200.0)
    times, _ = sim.spikes("n")
    t_star = -tau * math.log(1.0 - theta / ((tau / cm) * i))  # 27.73 ms
    steps = math.ceil(t_star / dt)  # integrating ticks needed to reach threshold
    # the tick whose update crosses threshold is stamped at its start
    assert times[0] == pytest.approx((steps - 1) * dt)
    refrac_steps = round(refrac / dt)
    np.testing.assert_allclose(np.diff(times), (refrac_steps + steps) * dt, atol=1e-9)
    assert times.size == pytest.approx(200.0 / ((refrac_steps + steps) * dt), abs=1)


def _psp_network(dt: float, w: float, tau_m: float, tau_s: float, cm: float) -> Network:
    p = LIFParams(tau_m_ms=tau_m, cm_nF=cm, v_rest_mV=-65.0, v_init_mV=-65.0, v_thresh_mV=0.0,
                  tau_syn_e_ms=tau_s)
    return Network(dt_ms=dt, populations=(Population("n", 1, p),),
                   sources=(SpikeSourceArray("s", ([0.0],)),),
                   projections=(Projection("c", "s", "n", OneToOne(), weight_nA=w, delay_steps=1),),
                   monitors=(StateMonitor("n", (0,), ("v_mV", "i_syn_e_nA")),))


@pytest.mark.parametrize("backend", BACKENDS)
def test_psp_matches_discrete_closed_form(backend: str) -> None:
    dt, w, tau_m, tau_s, cm = 0.1, 2.0, 10.0, 2.0, 0.25
    sim = _sim(_psp_network(dt, w, tau_m, tau_s, cm), backend)
    sim.run(40.0)
    u = sim.state("n").values["v_mV"][:, 0] + 65.0
    em, es = math.exp(-dt / tau_m), math.exp(-dt / tau_s)
    iota = (tau_s / dt) * (1.0 - es)
    k = np.arange(u.size)  # the spike lands at the start of tick 1: tick k has seen k updates with input
    closed = (1 - em) * (tau_m / cm) * iota * w * (em ** k - es ** k) / (em - es)
    np.testing.assert_allclose(u, closed, rtol=1e-9, atol=1e-12)


def test_psp_converges_to_continuous_time_peak() -> None:
    w, tau_m, tau_s, cm = 2.0, 10.0, 2.0, 0.25
    t_peak = math.log(tau_m / tau_s) * tau_m * tau_s / (tau_m - tau_s)
    peak = w * (tau_m / cm) * tau_s / (tau_m - tau_s) * (math.exp(-t_peak / tau_m) - math.exp(-t_peak / tau_s))
    errors = []
    for dt in (0.1, 0.01):
        sim = _sim(_psp_network(dt, w, tau_m, tau_s, cm), "numba")
        sim.run(40.0)
        u = sim.state("n").values["v_mV"][:, 0] + 65.0
        errors.append(abs(u.max() - peak) / peak)
        assert abs(np.argmax(u) * dt - t_peak) < 2 * dt
    assert errors[1] < 0.002 and errors[1] < errors[0] / 5  # first-order convergence


@pytest.mark.parametrize("backend", BACKENDS)
def test_spikes_arrive_exactly_after_their_delay(backend: str) -> None:
    cell = CA3_CELL
    delays = np.array([1, 2, 3, 5, 8])
    from neurosim import FromList

    net = Network(dt_ms=1.0, populations=(Population("n", 5, cell),),
                  sources=(SpikeSourceArray("s", ([10.0],)),),
                  projections=(Projection("c", "s", "n", FromList(np.zeros(5, int), np.arange(5)),
                                          weight_nA=6.0, delay_steps=delays),),
                  monitors=(SpikeMonitor("n"), StateMonitor("n", tuple(range(5)), ("i_syn_e_nA",))))
    sim = _sim(net, backend)
    sim.run(30.0)
    times, ids = sim.spikes("n")
    np.testing.assert_array_equal(times[np.argsort(ids)], 10.0 + delays)
    current = sim.state("n").values["i_syn_e_nA"]
    first = np.argmax(current > 0, axis=0)
    np.testing.assert_array_equal(first, 10 + delays)


def _pair_network(t_pre: float, t_post: float, d: int, rule: STDP, w0: float) -> Network:
    cell = CA3_CELL
    return Network(
        dt_ms=1.0, populations=(Population("post", 1, cell),),
        sources=(SpikeSourceArray("pre", ([t_pre],)), SpikeSourceArray("teacher", ([t_post - 1.0],))),
        projections=(Projection("teach", "teacher", "post", OneToOne(), weight_nA=6.0, delay_steps=1),
                     Projection("syn", "pre", "post", OneToOne(), weight_nA=w0, delay_steps=d, plasticity=rule)),
        monitors=(SpikeMonitor("post"),))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dependence", ["additive", "multiplicative"])
@pytest.mark.parametrize(("t_pre", "t_post", "d"), [(10, 14, 1), (10, 12, 2), (15, 10, 1), (20, 10, 3), (10, 11, 1)])
def test_single_pair_weight_change(backend: str, dependence: str, t_pre: int, t_post: int, d: int) -> None:
    rule = STDP(tau_plus_ms=16.8, tau_minus_ms=33.7, A_plus=0.1, A_minus=0.12, w_min_nA=0.0, w_max_nA=0.1,
                weight_dependence=dependence)
    w0 = 0.04  # too weak to make the post neuron fire on its own
    sim = _sim(_pair_network(t_pre, t_post, d, rule, w0), backend)
    sim.run(80.0)
    np.testing.assert_array_equal(sim.spikes("post")[0], [float(t_post)])
    lag = (t_post + d - t_pre) * 1.0  # the post spike reaches the synapse d steps after it is emitted
    expected = rule.pair_change(w0, lag)
    assert expected != w0
    assert sim.weights("syn")[0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_weights_are_clipped_to_bounds(backend: str) -> None:
    up = STDP(tau_plus_ms=3.0, tau_minus_ms=3.0, A_plus=1.0, A_minus=1.0, w_min_nA=0.5, w_max_nA=2.0)
    sim = _sim(_pair_network(10, 11, 1, up, 1.0), backend)
    sim.run(30.0)
    assert sim.weights("syn")[0] == 2.0
    sim = _sim(_pair_network(14, 10, 1, up, 1.0), backend)
    sim.run(30.0)
    assert sim.weights("syn")[0] == 0.5
