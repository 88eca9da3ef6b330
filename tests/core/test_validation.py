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
    with pytest.raises(ValueError, match=r"WeightMonitor.projection = 'w' is not allowed: one of \[\]"):
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


# -- inputs that used to be accepted silently (issue 22's tally) --------------------------------------------


@pytest.mark.parametrize(("make", "message"), [
    # a uint64 index above int64's range wrapped to -1 and wired the synapse to the wrong node
    (lambda: FromList(np.array([2**64 - 1], np.uint64), np.array([0], np.uint64)),
     r"FromList.pre = 18446744073709551615 is not allowed: indices <= 9223372036854775807"),
    (lambda: FromList(np.array([0.0]), np.array([1.0])), r"FromList.pre = 0.0 is not allowed: non-negative integer"),
    (lambda: FromList(np.array([True]), np.array([1])), r"FromList.pre = True is not allowed"),
    # strings and numbers read as truthy kept the self-connections
    (lambda: AllToAll(allow_self_connections="False"), r"AllToAll.allow_self_connections = 'False' is not allowed: "
                                                        r"True or False \(a bool\)"),
    (lambda: AllToAll(allow_self_connections=0.5), r"AllToAll.allow_self_connections = 0.5"),
    (lambda: FixedProbability(1.0, allow_self_connections="no"), r"FixedProbability.allow_self_connections = 'no'"),
    # v became NaN, with no spike and no warning
    (lambda: LIFParams(i_offset_nA=1e308), r"LIFParams.i_offset_nA = 1e\+308 is not allowed: within \+-1e\+06"),
    (lambda: LIFParams(v_rest_mV=(0.0, -1e9)), r"LIFParams.v_rest_mV = -1000000000.0 is not allowed"),
    (lambda: LIFParams(tau_m_ms="5"), r"LIFParams.tau_m_ms = '5' is not allowed: a number"),
    # a flat list became one neuron per time; strings were parsed; deeper nesting was flattened
    (lambda: SpikeSourceArray("s", [1.0, 2.0, 3.0]), r"spike_times_ms\[0\] = 1.0 is not allowed: a sequence of times"),
    (lambda: SpikeSourceArray("s", [[1, "2"]]), r"spike_times_ms\[0\] = '2' is not allowed: times in ms"),
    (lambda: SpikeSourceArray("s", [[[1.0]]]), r"spike_times_ms\[0\] = \[\[1.0\]\] is not allowed"),
    (lambda: SpikeSourceArray("s", [[1.0, [2.0, 3.0]]]), r"spike_times_ms\[0\] = .* is not allowed"),
    (lambda: SpikeSourceArray("s", "12"), r"SpikeSourceArray.spike_times_ms = '12' is not allowed"),
    # 1.7 recorded neuron 1; "1" was accepted
    (lambda: StateMonitor("a", (1.7,)), r"StateMonitor.ids = 1.7 is not allowed: an integer >= 0"),
    (lambda: StateMonitor("a", ("1",)), r"StateMonitor.ids = '1' is not allowed"),
    (lambda: StateMonitor("a", (0,), "v_mV"), r"StateMonitor.variables = 'v_mV' is not allowed: a sequence"),
    # sizes beyond any machine: a field-less MemoryError before
    (lambda: Population("p", 10**10), r"Population.size = 10000000000 is not allowed: an integer in \[1, 2147483647\]"),
    (lambda: PoissonSource("q", 10**10, 5.0), r"PoissonSource.size = 10000000000 is not allowed"),
    (lambda: AllToAll().connect(10**7, 10**7), r"AllToAll sizes \(pre x post\) = \(10000000, 10000000\) is not "
                                               r"allowed: a size whose arrays fit in memory: it needs"),
])
def test_formerly_silent_inputs_are_refused_naming_the_field(make, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_sizes_the_engines_could_not_allocate_are_refused_before_allocating() -> None:
    from neurosim.plasticity import decay_table

    # 3 neurons x 1e10 ring-buffer slots: over a terabyte (numba refuses such a delay itself: < 65536)
    with pytest.raises(ValueError, match=r"Projection.delay_steps \(the longest\) = 10000000000 is not allowed: a "
                                         r"size whose arrays fit in memory"):
        Simulator(_net(delay_steps=10**10), backend="reference")
    with pytest.raises(ValueError, match=r"STDP.tau_plus_ms = 1000000.0 is not allowed: at most 41943 ms at dt = "
                                         r"0.1 ms"):
        Simulator(_net(plasticity=STDP(tau_plus_ms=1e6), weight_nA=0.5))
    with pytest.raises(ValueError, match=r"tau_ms = -1.0 is not allowed: > 0 ms"):
        decay_table(-1.0, 0.1)


def test_simulator_calls_refuse_what_they_used_to_accept() -> None:
    sim = Simulator(_net())
    with pytest.raises(ValueError, match=r"callback = 'x' is not allowed: a callable taking the simulator"):
        sim.add_observer("x")
    with pytest.raises(ValueError, match=r"times_ms = \(1, 2\) is not allowed: a 1-D sequence"):
        sim.add_spikes("s", np.array([[5.0, 6.0]]), np.array([[0, 1]]))
    with pytest.raises(ValueError, match=r"duration_ms = 0.05 is not allowed: a whole number of steps of dt = 0.1 ms"):
        sim.draw_inputs(0.05)  # run(0.05) is refused the same way
    sim.learning = np.bool_(False)  # numpy's bool is a bool
    assert sim.learning is False
    with pytest.raises(ValueError, match=r"learning = 'yes' is not allowed: True or False \(a bool\)"):
        sim.learning = "yes"


def test_model_helpers_refuse_out_of_range_values() -> None:
    from neurosim.models.dendrites import binomial_sigma

    with pytest.raises(ValueError, match=r"p = 2 is not allowed: in \[0.0, 1.0\]"):
        binomial_sigma(2, 10)
    with pytest.raises(ValueError, match=r"trials = 0 is not allowed"):
        binomial_sigma(0.5, 0)


@pytest.mark.parametrize("content", [b"", b"\x89HDF\r\n\x1a\n" + b"\0" * 100, b"not hdf5 at all"])
def test_a_file_that_is_not_a_complete_result_names_itself(tmp_path, content: bytes) -> None:
    from neurosim.io import read_results

    path = tmp_path / "broken.h5"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=rf"{path} is not a complete neurosim result .*truncated or corrupted; rerun"):
        read_results(path)


def test_results_and_schedules_refuse_what_they_used_to_accept(tmp_path) -> None:
    from dataclasses import replace

    from neurosim.io import ResultsWriter, save_simulation
    from neurosim.models.ca3 import CA3Memory
    from neurosim.network import SpikeMonitor

    sim = Simulator(replace(_net(), monitors=(SpikeMonitor("p"),)))
    sim.run(1.0)
    with pytest.raises(ValueError, match=r"config\['x'\] = nan is not allowed: a number \(NaN is not; use None"):
        save_simulation(tmp_path / "a.h5", sim, config={"x": math.nan})
    for since in (math.nan, None, -1.0):
        with pytest.raises(ValueError, match=r"since_ms = .* is not allowed"):
            sim.spikes("p", since_ms=since)
    writer = ResultsWriter(tmp_path / "b.h5", config={})
    with pytest.raises(ValueError, match=r"spikes\['p'\].times_ms = \[3.0, 1.0\] is not allowed: non-decreasing"):
        writer.write_trial(0, spikes={"p": (np.array([3.0, 1.0]), np.array([0, 1]))})
    memory = CA3Memory(4, 6)
    with pytest.raises(ValueError, match=r"schedule\[0\] = \(10.0,\) is not allowed: a \(start time in ms"):
        memory.run_schedule([(10.0,)])
    with pytest.raises(ValueError, match=r"schedule times = \[10.0, 10.0\] is not allowed: strictly increasing"):
        memory.run_schedule([(10.0, ("learn", 0, [1, 2])), (10.0, ("recall_cue", 0))])
