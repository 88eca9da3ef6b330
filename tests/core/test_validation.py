"""Bad input gets a ValueError that names the field and the allowed range."""

from __future__ import annotations

import math

import numpy as np
import pytest

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
    Simulator,
    SpikeSourceArray,
    StateMonitor,
    WeightMonitor,
)


def _net(**proj_kw) -> Network:
    kw = {"name": "c", "pre": "s", "post": "p", "connector": OneToOne(), "weight_nA": 1.0, "delay_steps": 1}
    kw.update(proj_kw)
    return Network(dt_ms=0.1, populations=(Population("p", 3),),
                   sources=(SpikeSourceArray("s", ([1.0], [2.0], [3.0])),),
                   projections=(Projection(**kw),))


@pytest.mark.parametrize(("field", "kwargs", "allowed"), [
    ("tau_m_ms", {"tau_m_ms": 0.0}, "> 0"),
    ("tau_m_ms", {"tau_m_ms": -5.0}, "> 0"),
    ("tau_syn_e_ms", {"tau_syn_e_ms": 0.0}, "> 0"),
    ("tau_syn_i_ms", {"tau_syn_i_ms": -1.0}, "> 0"),
    ("cm_nF", {"cm_nF": 0.0}, "> 0"),
    ("tau_refrac_ms", {"tau_refrac_ms": -0.1}, ">= 0"),
    ("v_thresh_mV", {"v_thresh_mV": math.nan}, "finite"),
    ("v_reset_mV", {"v_reset_mV": -40.0}, "< v_thresh_mV"),
])
def test_neuron_parameters(field: str, kwargs: dict, allowed: str) -> None:
    with pytest.raises(ValueError, match=rf"LIFParams\.{field} = .*{allowed}"):
        LIFParams(**kwargs)


@pytest.mark.parametrize("dt", [0.0, -0.1, math.inf])
def test_time_step(dt: float) -> None:
    with pytest.raises(ValueError, match=r"Network\.dt_ms = .*(> 0|finite)"):
        Network(dt_ms=dt, populations=(Population("p", 1),))


@pytest.mark.parametrize(("delay", "allowed"), [(0, "whole number of time steps >= 1"),
                                                (-2, "whole number of time steps >= 1"),
                                                (1.5, "whole number of time steps"),
                                                (np.array([1, 2, 2.5]), "whole number of time steps")])
def test_delays(delay, allowed: str) -> None:
    with pytest.raises(ValueError, match=rf"delay_steps = .*{allowed}"):
        _net(delay_steps=delay)


@pytest.mark.parametrize("w", [math.nan, math.inf, -math.inf, np.array([1.0, np.nan, 1.0])])
def test_non_finite_weights(w) -> None:
    with pytest.raises(ValueError, match=r"weight_nA = .*finite"):
        _net(weight_nA=w)


def test_negative_weight_points_to_receptor() -> None:
    with pytest.raises(ValueError, match=r"weight_nA = -1.0 .*>= 0"):
        _net(weight_nA=-1.0)


@pytest.mark.parametrize(("pre", "post", "field", "rng"), [
    ([0, 3], [0, 1], "FromList.pre", r"\[0, 2\]"),
    ([0, 1], [0, 7], "FromList.post", r"\[0, 2\]"),
])
def test_from_list_indices_out_of_range(pre, post, field: str, rng: str) -> None:
    with pytest.raises(ValueError, match=rf"{field} = .*indices in {rng}"):
        _net(connector=FromList(np.array(pre), np.array(post)))


def test_from_list_negative_index() -> None:
    with pytest.raises(ValueError, match=r"FromList\.pre = -1 .*non-negative"):
        FromList(np.array([-1, 0]), np.array([0, 0]))


def test_size_mismatches() -> None:
    with pytest.raises(ValueError, match=r"OneToOne sizes = \(3, 4\).*equal"):
        Network(populations=(Population("p", 3), Population("q", 4)),
                projections=(Projection("c", "p", "q", OneToOne()),))
    with pytest.raises(ValueError, match=r"weight_nA length = 2 .*one per connection \(9\)"):
        _net(connector=AllToAll(), weight_nA=np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"FromList.pre/post shapes"):
        FromList(np.array([0, 1]), np.array([0]))
    with pytest.raises(ValueError, match=r"FromList.weights_nA length = 1 .*\(2\)"):
        FromList(np.array([0, 1]), np.array([0, 1]), weights_nA=np.array([1.0]))


@pytest.mark.parametrize(("times", "allowed"), [([[1.0, 0.5]], "sorted"), ([[-1.0, 2.0]], ">= 0"),
                                                ([[1.0, math.nan]], "finite")])
def test_spike_times(times, allowed: str) -> None:
    with pytest.raises(ValueError, match=rf"SpikeSourceArray.spike_times_ms\[0\] = .*{allowed}"):
        SpikeSourceArray("s", tuple(times))


def test_stdp_bounds_and_initial_weights() -> None:
    with pytest.raises(ValueError, match=r"STDP.w_min_nA = 2.0 .*<= w_max_nA \(1.0\)"):
        STDP(w_min_nA=2.0, w_max_nA=1.0)
    with pytest.raises(ValueError, match=r"STDP.tau_plus_ms = 0.0 .*> 0"):
        STDP(tau_plus_ms=0.0)
    with pytest.raises(ValueError, match=r"weight_dependence = 'log'"):
        STDP(weight_dependence="log")
    with pytest.raises(ValueError, match=r"weight_nA = 5.0 .*\[w_min_nA, w_max_nA\] = \[0.0, 1.0\]"):
        _net(weight_nA=5.0, plasticity=STDP())


def test_connectors_and_sources() -> None:
    with pytest.raises(ValueError, match=r"FixedProbability.p = 1.5 .*\[0.0, 1.0\]"):
        FixedProbability(1.5)
    with pytest.raises(ValueError, match=r"PoissonSource.rate_hz = -3 .*>= 0"):
        PoissonSource("x", 2, rate_hz=-3)
    with pytest.raises(ValueError, match=r"rate_hz = 20000 .*<= 10000 Hz"):
        Network(dt_ms=0.1, populations=(Population("p", 1),), sources=(PoissonSource("x", 1, 20000),))
    with pytest.raises(ValueError, match=r"Population.size = 0 .*>= 1"):
        Population("p", 0)
    with pytest.raises(ValueError, match=r"Population.name = '2x' .*identifier"):
        Population("2x", 1)
    with pytest.raises(ValueError, match=r"name = 'p' .*unique"):
        Network(populations=(Population("p", 1), Population("p", 2)))
    with pytest.raises(ValueError, match=r"Projection\[c\].post = 's' .*Population"):
        _net(post="s")


def test_monitors() -> None:
    with pytest.raises(ValueError, match=r"StateMonitor\[p\].ids = \[5\] .*\[0, 2\]"):
        Network(populations=(Population("p", 3),), monitors=(StateMonitor("p", (0, 5)),))
    with pytest.raises(ValueError, match=r"unknown projection 'w'"):
        Network(populations=(Population("p", 3),), monitors=(WeightMonitor("w", 1.0),))
    with pytest.raises(ValueError, match=r"WeightMonitor.every_ms = 0 .*> 0"):
        WeightMonitor("w", 0)


def test_simulator_arguments() -> None:
    net = _net()
    with pytest.raises(ValueError, match=r"backend = 'gpu' is not allowed: one of \['reference', 'numba'"):
        Simulator(net, backend="gpu")
    with pytest.raises(ValueError, match=r"batch_size = 4 .*batches need 'torch'"):
        Simulator(net, backend="reference", batch_size=4)
    with pytest.raises(ValueError, match=r"seed = -1 .*>= 0"):
        Simulator(net, backend="reference", seed=-1)
    sim = Simulator(net, backend="reference")
    with pytest.raises(ValueError, match=r"duration_ms = 0.25 .*whole number of steps of dt = 0.1"):
        sim.run(0.25)
    sim.run(5.0)
    with pytest.raises(ValueError, match=r"times_ms = 1.0 .*>= the current time \(5.0 ms\)"):
        sim.add_spikes("s", [1.0], [0])
    with pytest.raises(ValueError, match=r"ids = \[3\] .*\[0, 2\]"):
        sim.add_spikes("s", [6.0], [3])
    with pytest.raises(ValueError, match=r"spikes of 'p' were not recorded"):
        sim.spikes("p")


def test_one_state_or_weight_monitor_per_target_and_trial_range() -> None:
    with pytest.raises(ValueError, match=r"StateMonitor = 'p' .*at most one StateMonitor"):
        Network(populations=(Population("p", 3),), monitors=(StateMonitor("p", (0,)), StateMonitor("p", (1,))))
    net = _net()
    sim = Simulator(net, backend="reference")
    sim.run(1.0)
    with pytest.raises(ValueError, match=r"trial = 1 .*\[0, 0\]"):
        sim.weights("c", trial=1)
