"""``neurosim.pynn`` as a PyNN simulator module: the API a PyNN user reaches for, checked against the core.

Each test writes a small PyNN script and checks what it gives against what the core computes for the same
network (or against PyNN's documented behaviour): spikes, membrane samples, weights learned and set, current
sources, per-neuron parameters and random distributions, and the errors bad input gets.
"""

from __future__ import annotations

import numpy as np
import pytest

import neurosim.pynn as sim
from neurosim import LIFParams, Network, Population, Projection, Simulator, SpikeMonitor, SpikeSourceArray
from neurosim.connectors import OneToOne

CELL = {"cm": 0.25, "tau_m": 10.0, "tau_syn_E": 2.0, "tau_syn_I": 4.0, "tau_refrac": 2.0, "v_rest": -65.0,
        "v_reset": -65.0, "v_thresh": -55.0, "i_offset": 0.0}


def _drive(n: int = 3, times=(2.0, 4.0, 6.0, 30.0), weight: float = 2.0, **setup):
    sim.setup(timestep=0.1, **setup)
    src = sim.Population(n, sim.SpikeSourceArray(spike_times=list(times)), label="src")
    cells = sim.Population(n, sim.IF_curr_exp(**CELL), label="cells")
    proj = sim.Projection(src, cells, sim.OneToOneConnector(), sim.StaticSynapse(weight=weight, delay=1.0))
    return src, cells, proj


def test_spikes_and_membrane_equal_the_core_on_the_same_network() -> None:
    src, cells, _ = _drive()
    cells.record(["spikes", "v"])
    sim.run(50.0)
    block = cells.get_data()
    sim.end()
    params = LIFParams(cm_nF=0.25, tau_m_ms=10.0, tau_syn_e_ms=2.0, tau_syn_i_ms=4.0, tau_refrac_ms=2.0,
                       v_rest_mV=-65.0, v_reset_mV=-65.0, v_thresh_mV=-55.0, v_init_mV=-65.0)
    net = Network(dt_ms=0.1, populations=(Population("cells", 3, params),),
                  sources=(SpikeSourceArray("src", ((2.0, 4.0, 6.0, 30.0),) * 3),),
                  projections=(Projection("p", "src", "cells", OneToOne(), weight_nA=2.0, delay_steps=10),),
                  monitors=(SpikeMonitor("cells"),))
    core = Simulator(net, backend="numba")
    core.run(50.0)
    t, i = core.spikes("cells")
    trains = block.segments[0].spiketrains
    for k in range(3):
        np.testing.assert_allclose(np.asarray(trains[k].magnitude), t[i == k])
    assert t.size >= 3
    v = block.segments[0].analogsignals[0]
    assert v.shape == (500, 3)                      # sPyNNaker's count: T / dt samples
    assert float(v[0, 0]) == -65.0                  # the first sample is where the run starts


def test_standard_dialect_samples_the_end_of_the_last_tick_too() -> None:
    _, cells, _ = _drive(dialect="pynn")
    cells.record("v")
    sim.run(20.0)
    sim.run(5.0)
    v = cells.get_data().segments[0].analogsignals[0]
    sim.end()
    assert v.shape == (251, 3)                      # PyNN's count: T / dt + 1


def test_weights_read_set_and_learned_between_runs() -> None:
    sim.setup(timestep=1.0)
    pre = sim.Population(2, sim.SpikeSourceArray(spike_times=[[5.0, 25.0], [6.0]]))
    post = sim.Population(2, sim.IF_curr_exp(**CELL))
    stdp = sim.STDPMechanism(timing_dependence=sim.SpikePairRule(tau_plus=10.0, tau_minus=10.0, A_plus=0.5,
                                                                 A_minus=0.5),
                             weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=5.0), weight=4.0,
                             delay=1.0)
    proj = sim.Projection(pre, post, sim.AllToAllConnector(), stdp)
    assert proj.get("weight", format="array").tolist() == [[4.0, 4.0], [4.0, 4.0]]
    sim.run(15.0)
    learned = proj.get("weight", format="list")
    assert len(learned) == 4 and any(w != 4.0 for _, _, w in learned)
    proj.set(weight=np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert proj.get("weight", format="array").tolist() == [[1.0, 2.0], [3.0, 4.0]]
    sim.run(15.0)                                   # learning goes on from the weights set
    after = proj.get("weight", format="array")
    assert not np.array_equal(after, [[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(sim.errors.InvalidParameterValueError, match="call reset"):
        proj.set(delay=2.0)
    sim.end()


def test_per_neuron_parameters_views_and_random_weights_reach_the_core() -> None:
    sim.setup(timestep=0.1)
    cells = sim.Population(6, sim.IF_curr_exp(**CELL))
    cells[0:3].set(v_thresh=-50.0)
    cells.initialize(v=sim.RandomDistribution("uniform", low=-70.0, high=-60.0, rng=sim.NumpyRNG(seed=4)))
    src = sim.Population(6, sim.SpikeSourceArray(spike_times=[1.0]))
    rng = sim.NumpyRNG(seed=9)
    proj = sim.Projection(src, cells, sim.FixedProbabilityConnector(0.5, rng=rng),
                          sim.StaticSynapse(weight=sim.RandomDistribution("uniform", low=0.5, high=1.5, rng=rng),
                                            delay=sim.RandomDistribution("uniform", low=0.1, high=2.0, rng=rng)))
    assert cells.get("v_thresh").tolist() == [-50.0] * 3 + [-55.0] * 3
    with pytest.warns(RuntimeWarning, match="delays are not multiples of dt = 0.1 ms"):
        sim.run(1.0)
    net = sim.simulator.state.sim.network
    core = net.populations[0]
    assert core.params.v_thresh_mV == (-50.0,) * 3 + (-55.0,) * 3
    assert len(set(core.params.v_init_mV)) == 6
    connections = proj.get(["weight", "delay"], format="list")
    made = net.projections[0].connector
    np.testing.assert_allclose(np.asarray(made.weights_nA), [w for _, _, w, _ in connections])
    np.testing.assert_array_equal(np.asarray(made.delays_steps), [round(d / 0.1) for _, _, _, d in connections])
    sim.end()


def test_currents_switch_on_off_and_change_while_running() -> None:
    sim.setup(timestep=0.1, dialect="pynn")
    cells = sim.Population(3, sim.IF_curr_exp(**{**CELL, "v_thresh": 0.0}))
    dc = sim.DCSource(amplitude=0.5, start=10.0, stop=20.0)
    dc.inject_into(cells[0:1])
    step = sim.StepCurrentSource(times=[5.0, 15.0], amplitudes=[0.2, -0.2])
    step.inject_into(cells[1:2])
    live = sim.DCSource(amplitude=0.0)
    live.inject_into(cells[2:3])
    cells.record("v")
    sim.run(30.0)
    live.amplitude = 0.3
    sim.run(10.0)
    v = np.asarray(cells.get_data().segments[0].analogsignals[0].magnitude)
    sim.end()
    assert np.all(v[:101, 0] == -65.0) and v[150, 0] > -65.0 and v[200, 0] > v[300, 0]  # on at 10, off at 20
    assert v[49, 1] == -65.0 and v[100, 1] > -65.0 and v[250, 1] < -65.0                 # +0.2 then -0.2 nA
    assert np.all(v[:301, 2] == -65.0) and v[400, 2] > -64.0                              # amplitude set at 30
    # the core's exact step for a current switched on: v = v_rest + I R (1 - e^(-t / tau_m)) after t
    np.testing.assert_allclose(v[110, 0], -65.0 + 0.5 * 40.0 * (1.0 - np.exp(-1.0 / 10.0)), rtol=1e-12)


def test_spike_times_replaced_while_running() -> None:
    sim.setup(timestep=1.0)
    src = sim.Population(2, sim.SpikeSourceArray(spike_times=[[2.0, 30.0], [3.0]]))
    src.record("spikes")
    sim.run(10.0)
    src.set(spike_times=[sim.Sequence([12.0, 15.0]), sim.Sequence([])])
    sim.run(20.0)
    trains = src.get_data().segments[0].spiketrains
    sim.end()
    assert np.asarray(trains[0].magnitude).tolist() == [2.0, 12.0, 15.0]  # 30 dropped with the old times
    assert np.asarray(trains[1].magnitude).tolist() == [3.0]


def test_reset_starts_again_from_the_initial_values() -> None:
    src, cells, _ = _drive()
    cells.record("spikes")
    sim.run(50.0)
    first = [np.asarray(t.magnitude).tolist() for t in cells.get_data().segments[0].spiketrains]
    sim.reset()
    assert sim.get_current_time() == 0.0
    sim.run(50.0)
    block = cells.get_data()
    sim.end()
    assert len(block.segments) == 2
    assert [np.asarray(t.magnitude).tolist() for t in block.segments[1].spiketrains] == first


@pytest.mark.parametrize(("script", "error", "match"), [
    (lambda: sim.Population(1, sim.IF_cond_exp()), "NoModelAvailableError", "IF_cond_exp is not available"),
    (lambda: sim.Population(1, sim.Izhikevich()), "NoModelAvailableError", "Izhikevich is not available"),
    (lambda: sim.Population(2, sim.SpikeSourceArray(spike_times=[[3.0, 1.0], [1.0]])),
     "InvalidParameterValueError", r"spike_times of cell 0 .* = \[3\.0, 1\.0\] is not allowed: increasing"),
    (lambda: sim.StepCurrentSource(times=[1.0, 0.5], amplitudes=[1.0, 2.0]), "InvalidParameterValueError",
     r"times = \[1\.0, 0\.5\] is not allowed: >= 0 and strictly increasing"),
])
def test_bad_input_gets_pynn_errors(script, error: str, match: str) -> None:
    sim.setup(timestep=0.1)
    with pytest.raises(getattr(sim.errors, error), match=match):
        script()
    sim.end()


def test_setup_refuses_what_the_core_cannot_do() -> None:
    with pytest.raises(sim.errors.NoModelAvailableError, match="spike_precision = 'off_grid' is not allowed"):
        sim.setup(timestep=0.1, spike_precision="off_grid")
    with pytest.raises(ValueError, match=r"dialect = 'nest' is not allowed: one of \['pynn', 'spinnaker'\]"):
        sim.setup(dialect="nest")
    with pytest.raises(ValueError, match="backend"):
        sim.setup(backend="loihi")


def test_standard_dialect_checks_weight_signs_and_changes_after_run_need_reset() -> None:
    sim.setup(timestep=0.1, dialect="pynn")
    a = sim.Population(2, sim.SpikeSourceArray(spike_times=[1.0]))
    b = sim.Population(2, sim.IF_curr_exp())
    with pytest.raises(sim.errors.ConnectionError, match="Weights must be negative"):
        sim.Projection(a, b, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.5), receptor_type="inhibitory")
    sim.Projection(a, b, sim.AllToAllConnector(), sim.StaticSynapse(weight=-0.5), receptor_type="inhibitory")
    with pytest.raises(sim.errors.NonExistentParameterError):
        b.set(v=-60.0)                              # standard PyNN: initialize(v=...)
    sim.run(5.0)
    with pytest.raises(sim.errors.InvalidParameterValueError, match=r"changing \['tau_m'\] after run\(\)"):
        b.set(tau_m=5.0)
    sim.reset()
    b.set(tau_m=5.0)                                # after reset() it is the next run's parameter
    sim.run(5.0)
    assert sim.simulator.state.sim.network.populations[0].params.tau_m_ms == 5.0
    sim.end()
    with pytest.raises(RuntimeError, match=r"run\(\) after end\(\): call setup\(\)"):
        sim.run(1.0)


def test_list_standard_models_names_what_runs() -> None:
    assert set(sim.list_standard_models()) == {"IF_curr_exp", "SpikeSourceArray", "SpikeSourcePoisson"}


@pytest.mark.parametrize("connector", [
    lambda: sim.FixedNumberPreConnector(2, rng=sim.NumpyRNG(seed=1)),
    lambda: sim.FixedNumberPostConnector(3, rng=sim.NumpyRNG(seed=2)),
    lambda: sim.FixedTotalNumberConnector(7, rng=sim.NumpyRNG(seed=3)),
    lambda: sim.DistanceDependentProbabilityConnector("d < 2.5"),
    lambda: sim.ArrayConnector(np.eye(4, 5, dtype=bool)),
])
def test_pynn_connectors_give_the_core_the_same_connections(connector) -> None:
    sim.setup(timestep=1.0)
    pre = sim.Population(4, sim.SpikeSourceArray(spike_times=[2.0]))
    post = sim.Population(5, sim.IF_curr_exp(**CELL))
    proj = sim.Projection(pre, post, connector(), sim.StaticSynapse(weight=3.0, delay=2.0))
    post.record("spikes")
    sim.run(10.0)
    pairs = sorted((int(i), int(j)) for i, j, *_ in proj.get("weight", format="list"))
    core = sim.simulator.state.sim
    made = core.network.connections(core.network.projections[0].name)
    assert pairs and sorted(zip(made.pre.tolist(), made.post.tolist(), strict=True)) == pairs
    counts = post.get_spike_counts()
    fired = {j for _, j in pairs}
    assert {post.id_to_index(c) for c, n in counts.items() if n} == fired  # 3 nA from 0.25 nF fires each target
    sim.end()


@pytest.mark.filterwarnings("ignore:.* is deprecated:DeprecationWarning")  # PyNN deprecates its procedural API
def test_procedural_api_connects_and_records() -> None:
    sim.setup(timestep=1.0)
    pre = sim.create(sim.SpikeSourceArray(spike_times=[2.0]), n=2)
    post = sim.create(sim.IF_curr_exp(**CELL), n=2)
    sim.connect(pre, post, weight=3.0, delay=1.0, p=1.0)
    sim.record(["spikes"], post, None)
    sim.run(10.0)
    assert [len(t) for t in post.get_data().segments[0].spiketrains] == [1, 1]
    sim.end()


def test_a_current_switching_where_a_run_ends_and_run_until() -> None:
    """run(10); run(10) equals run(20) when a DCSource switches on at 10 ms, and run_until goes to a time."""
    traces = []
    for runs in ((20.0,), (10.0, 10.0)):
        sim.setup(timestep=0.1)
        cells = sim.Population(1, sim.IF_curr_exp(**CELL))
        sim.DCSource(amplitude=0.5, start=10.0, stop=15.0).inject_into(cells)
        cells.record("v")
        for duration in runs:
            sim.run(duration)
        traces.append(np.asarray(cells.get_data().segments[0].analogsignals[0].magnitude))
        sim.end()
    np.testing.assert_array_equal(traces[0], traces[1])
    assert traces[0][120, 0] > -65.0
    sim.setup(timestep=0.1)
    sim.Population(1, sim.IF_curr_exp(**CELL))
    assert sim.run_until(12.5) == 12.5 and sim.get_current_time() == 12.5
    sim.end()


def test_views_of_views_assemblies_and_refusals_that_change_nothing() -> None:
    sim.setup(timestep=1.0, dialect="pynn")
    src = sim.Population(4, sim.SpikeSourceArray(spike_times=[[2.0], [3.0], [4.0], [5.0]]), label="src")
    a = sim.Population(6, sim.IF_curr_exp(**CELL), label="a")
    b = sim.Population(2, sim.IF_curr_exp(**CELL), label="b")
    inner = a[1:5][1:3]                                # cells 2 and 3 of a
    inner.set(tau_m=5.0)
    assert a.get("tau_m").tolist() == [10.0, 10.0, 5.0, 5.0, 10.0, 10.0] and inner.get("tau_m") == 5.0
    both = a[0:2] + b                                  # an Assembly of a view and a population
    # receptor named: PyNN guesses an Assembly's default receptor from a set, in no fixed order
    proj = sim.Projection(src, both, sim.FromListConnector([(0, 0), (1, 1), (2, 2), (3, 3)]),
                          sim.StaticSynapse(weight=3.0, delay=1.0), receptor_type="excitatory")
    inh = sim.Projection(src, b, sim.AllToAllConnector(), sim.StaticSynapse(weight=-0.01),
                         receptor_type="inhibitory")
    both.record("spikes")
    sim.run(10.0)
    fired = [len(t) for t in both.get_data().segments[0].spiketrains]
    assert fired == [1, 1, 1, 1]                        # each of the four cells got its source's spike
    with pytest.raises(sim.errors.InvalidParameterValueError, match="recording 'v' of more cells after run"):
        a.record("v")
    assert len(a.get_data().segments[0].analogsignals) == 0  # the refused cells are not left marked as recorded
    with pytest.raises(sim.errors.InvalidParameterValueError, match="spike_times of cell 0"):
        src.set(spike_times=[sim.Sequence([20.0, 15.0])] * 4)
    assert [s.value.tolist() for s in src.get("spike_times")] == [[2.0], [3.0], [4.0], [5.0]]
    with pytest.raises(sim.errors.InvalidWeightError, match=r"weight = 2\.0 is not allowed: negative"):
        inh.set(weight=2.0)                            # the standard dialect's sign, also between runs
    proj.set(weight=1.0)                               # in the running simulation ...
    assert proj.get("weight", format="list")[0][2] == 1.0
    sim.reset()                                        # ... and back to the initial weights at t = 0
    assert proj.get("weight", format="list")[0][2] == 3.0
    sim.end()
