"""Every backend against the numpy reference on the same networks.

float64 engines (numba; torch on CPU in float64; Brian2 on its runtime numpy target)
must reproduce the reference spike for spike, weight for weight, state for state.
float32 torch and Brian2's generated C++ (fast-math) have documented tolerances
in their own test files.
"""

from __future__ import annotations

import numpy as np
import pytest

from neurosim import Simulator, backends
from tests.core.networks import DURATION_MS, NETWORKS

EXACT_BACKENDS = [b for b in ("numba", "torch", "brian2") if backends.is_available(b)]


def _run(name: str, backend: str, **kw) -> Simulator:
    sim = Simulator(NETWORKS[name](), backend=backend, seed=3, **kw)
    # two runs with an input appended in between: state must carry over
    sim.run(DURATION_MS[name] / 2)
    sim.run(DURATION_MS[name] / 2)
    return sim


@pytest.fixture(scope="module")
def reference_runs() -> dict[str, Simulator]:
    return {name: _run(name, "reference") for name in NETWORKS}


@pytest.mark.parametrize("backend", EXACT_BACKENDS)
@pytest.mark.parametrize("name", list(NETWORKS))
def test_float64_engine_equals_reference(name: str, backend: str, reference_runs) -> None:
    kw = {"device": "cpu"} if backend == "torch" else {}
    ref, sim = reference_runs[name], _run(name, backend, **kw)
    total = 0
    for mon in sim._spike_targets:
        t_ref, i_ref = ref.spikes(mon)
        t, i = sim.spikes(mon)
        np.testing.assert_array_equal(t, t_ref, err_msg=f"{mon} spike times")
        np.testing.assert_array_equal(i, i_ref, err_msg=f"{mon} spike ids")
        total += t.size
    assert total > 50, "the network must actually spike for the comparison to mean something"
    for pr in sim.network.projections:
        np.testing.assert_array_equal(sim.weights(pr.name), ref.weights(pr.name), err_msg=pr.name)
    for m in sim._state_mons:
        a, b = sim.state(m.population), ref.state(m.population)
        for var in m.variables:
            np.testing.assert_array_equal(a.values[var], b.values[var])


def test_plastic_networks_really_learn(reference_runs) -> None:
    """Guard against a vacuous equivalence: STDP must have moved weights away from their start."""
    for name in ("stdp_additive", "stdp_multiplicative", "ca3_like_additive", "ca3_like_multiplicative",
                 "ca3_like_two_rules"):
        sim = reference_runs[name]
        proj = "ee" if name.startswith("stdp") else "ab"
        w0 = sim.network.connections(proj).weight_nA
        w = sim.weights(proj)
        assert np.mean(np.abs(w - w0)) > 1e-3 * max(1.0, float(np.max(w0))), name
        times, hist = sim.weight_history(proj)
        assert times.size >= 3 and hist.shape == (times.size, w.size)


def test_numba_is_default_and_unknown_backend_lists_names() -> None:
    from tests.core.networks import feedforward

    net = feedforward(np.random.default_rng(0))
    assert Simulator(net).backend == "numba"
    with pytest.raises(ValueError, match=r"backend = 'nest'.*reference.*numba.*torch.*brian2"):
        Simulator(net, backend="nest")


def test_numba_parallel_update_equals_reference(reference_runs, monkeypatch) -> None:
    """The prange neuron update (used on large networks) gives the same spikes as the serial one."""
    from neurosim.backends import numba_engine

    monkeypatch.setattr(numba_engine, "PARALLEL_MIN_NEURONS", 0)
    sim = _run("stdp_additive", "numba")
    assert sim.engine.parallel
    ref = reference_runs["stdp_additive"]
    for mon in ("e", "i"):
        np.testing.assert_array_equal(sim.spikes(mon)[0], ref.spikes(mon)[0])
        np.testing.assert_array_equal(sim.spikes(mon)[1], ref.spikes(mon)[1])
    np.testing.assert_array_equal(sim.weights("ee"), ref.weights("ee"))


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("name", ["stdp_additive", "stdp_multiplicative", "ca3_like_additive",
                                  "ca3_like_multiplicative", "ca3_like_two_rules"])
def test_numba_deferred_stdp_with_the_shortest_spike_ring_equals_reference(name, parallel, monkeypatch) -> None:
    """numba applies a synapse's potentiations when the synapse is next read (numba_synapses); with each
    neuron's spike ring as short as it can be and no weight monitor reading the weights on the way, the
    rings overflow all the time and their neurons' synapses are settled early, which must change nothing.
    Parallel: the synapse table split by postsynaptic neuron, one partition per thread."""
    import dataclasses

    from neurosim.backends import numba_engine, numba_synapses
    from neurosim.network import WeightMonitor

    monkeypatch.setattr(numba_synapses, "RING_MIN", 0)
    monkeypatch.setattr(numba_engine, "PARALLEL_MIN_NEURONS", 0 if parallel else 10**9)
    net = NETWORKS[name]()
    net = dataclasses.replace(net, monitors=tuple(m for m in net.monitors if not isinstance(m, WeightMonitor)))
    runs = {}
    for backend in ("reference", "numba"):
        sim = Simulator(net, backend=backend, seed=3)
        sim.run(DURATION_MS[name])
        runs[backend] = sim
    ref, sim = runs["reference"], runs["numba"]
    assert sim.engine.ring_t.shape[1] == sim.compiled.history + 1
    assert (sim.engine.syn.canonical is not None) == (parallel and numba_engine.numba.get_num_threads() > 1)
    assert ref.spikes(net.monitors[0].target)[0].size > 50
    for mon in sim._spike_targets:
        np.testing.assert_array_equal(sim.spikes(mon)[0], ref.spikes(mon)[0])
        np.testing.assert_array_equal(sim.spikes(mon)[1], ref.spikes(mon)[1])
    for pr in net.projections:
        np.testing.assert_array_equal(sim.weights(pr.name), ref.weights(pr.name), err_msg=pr.name)


@pytest.mark.parametrize(("parallel", "ring"), [(False, 0), (True, 0), (False, 32)])
@pytest.mark.parametrize("name", ["stdp_additive", "ca3_like_additive", "ca3_like_multiplicative",
                                  "ca3_like_two_rules"])
def test_numba_learning_switched_often_equals_reference(name, parallel, ring, monkeypatch) -> None:
    """numba does not settle the synapses when learning is switched: each spike in the ring carries whether its
    potentiations count (numba_synapses). Switched at random moments, one tick apart included, while post spikes
    are still on their way, with the shortest rings (settled often) and long ones (the potentiations owed wait for
    the pre spike), no weight read before the end: the reference's result."""
    import dataclasses

    from neurosim.backends import numba_engine, numba_synapses
    from neurosim.network import WeightMonitor

    monkeypatch.setattr(numba_synapses, "RING_MIN", ring)
    monkeypatch.setattr(numba_engine, "PARALLEL_MIN_NEURONS", 0 if parallel else 10**9)
    net = NETWORKS[name]()
    net = dataclasses.replace(net, monitors=tuple(m for m in net.monitors if not isinstance(m, WeightMonitor)))
    rng = np.random.default_rng(11)
    steps = rng.choice([1, 2, 3, 5, 8, 30, 80, 200], size=300)  # ticks between switches
    runs = {}
    for backend in ("reference", "numba"):
        sim = Simulator(net, backend=backend, seed=3)
        learning, t = True, 0
        for n in steps:
            if t >= DURATION_MS[name] / net.dt_ms:
                break
            sim.run(float(n) * net.dt_ms)
            t += n
            learning = not learning
            sim.learning = learning
        runs[backend] = sim
    ref, sim = runs["reference"], runs["numba"]
    assert ref.spikes(net.monitors[0].target)[0].size > 50
    for mon in sim._spike_targets:
        np.testing.assert_array_equal(sim.spikes(mon)[0], ref.spikes(mon)[0])
        np.testing.assert_array_equal(sim.spikes(mon)[1], ref.spikes(mon)[1])
    for pr in net.projections:
        np.testing.assert_array_equal(sim.weights(pr.name), ref.weights(pr.name), err_msg=pr.name)
    plastic = [pr.name for pr in net.projections if pr.plasticity is not None]
    assert any(not np.array_equal(ref.weights(p), net.connections(p).weight_nA) for p in plastic)


@pytest.mark.parametrize("parallel", [False, True])
def test_numba_skipping_neurons_at_rest_equals_reference(parallel, monkeypatch) -> None:
    """numba skips blocks of neurons that sit at a fixed point of the update and get no input
    (numba_engine.BLOCK). Several blocks silent for long stretches between bursts of input, one kept awake by
    a neuron firing on its own current, traced neurons in blocks that sleep: spikes and traces equal the
    reference's, and blocks did sleep on the way."""
    from neurosim import LIFParams, Network, Population, Projection, SpikeMonitor, SpikeSourceArray, StateMonitor
    from neurosim.backends import numba_engine
    from neurosim.connectors import FixedProbability

    monkeypatch.setattr(numba_engine, "PARALLEL_MIN_NEURONS", 0 if parallel else 10**9)
    n = 3 * numba_engine.BLOCK + 7
    cell = LIFParams(tau_m_ms=3.0, cm_nF=0.27, v_rest_mV=-60.0, v_reset_mV=-60.0, v_thresh_mV=-57.0,
                     tau_refrac_ms=1.0, tau_syn_e_ms=0.3, tau_syn_i_ms=0.3, v_init_mV=-60.0)
    bursts = (2.0, 3.0, 400.0, 401.0, 403.0, 900.0)
    net = Network(
        dt_ms=1.0,
        populations=(Population("b", n, cell),),
        sources=(SpikeSourceArray("inp", tuple(bursts for _ in range(20))),),
        projections=(Projection("inp_b", "inp", "b", FixedProbability(0.1, seed=4), weight_nA=3.0, delay_steps=1),
                     Projection("inp_b_inh", "inp", "b", FixedProbability(0.05, seed=5), weight_nA=1.0,
                                delay_steps=2, receptor="inhibitory")),
        monitors=(SpikeMonitor("b"), StateMonitor("b", (0, 5, n - 1), ("v_mV", "i_syn_e_nA", "i_syn_i_nA"))),
    )
    runs = {}
    for backend in ("reference", "numba"):
        sim = Simulator(net, backend=backend, seed=3)
        sim.set_offset("b", np.where(np.arange(n) == 2 * numba_engine.BLOCK + 1, 0.5, 0.0))  # fires on its own
        sim.run(350.0)
        if backend == "numba":
            assert sim.engine.quiet[:2].all() and not sim.engine.quiet[2]  # asleep; awake by its current
        sim.run(650.0)
        runs[backend] = sim
    ref, sim = runs["reference"], runs["numba"]
    assert ref.spikes("b")[0].size > 100
    np.testing.assert_array_equal(sim.spikes("b")[0], ref.spikes("b")[0])
    np.testing.assert_array_equal(sim.spikes("b")[1], ref.spikes("b")[1])
    for var in ("v_mV", "i_syn_e_nA", "i_syn_i_nA"):
        np.testing.assert_array_equal(sim.state("b").values[var], ref.state("b").values[var])


@pytest.mark.parametrize("backend", ["reference", *EXACT_BACKENDS])
def test_learning_switch_freezes_weights_and_keeps_traces(backend: str, reference_runs) -> None:
    """Off: weights do not move. Back on: every engine still agrees with the reference."""
    kw = {"device": "cpu"} if backend == "torch" else {}
    runs = {}
    for b, k in (("reference", {}), (backend, kw)):
        sim = Simulator(NETWORKS["ca3_like_additive"](), backend=b, seed=3, **k)
        sim.run(60.0)
        sim.learning = False
        w_before = sim.weights("ab").copy()
        sim.run(60.0)
        np.testing.assert_array_equal(sim.weights("ab"), w_before)
        sim.learning = True
        sim.run(90.0)
        runs[b] = sim
    ref, sim = runs["reference"], runs[backend]
    np.testing.assert_array_equal(sim.weights("ab"), ref.weights("ab"))
    np.testing.assert_array_equal(sim.spikes("b")[0], ref.spikes("b")[0])
    # freezing really changed the outcome compared with learning throughout
    assert not np.array_equal(ref.weights("ab"), reference_runs["ca3_like_additive"].weights("ab"))
    with pytest.raises(ValueError, match="learning = 1 .*True or False"):
        sim.learning = 1


@pytest.mark.parametrize("backend", ["reference", *EXACT_BACKENDS])
def test_weights_set_between_runs_reach_every_engine(backend: str) -> None:
    """Simulator.set_weights between runs: the weights read back are those set, learning goes on from
    them, and every engine still agrees with the reference."""
    kw = {"device": "cpu"} if backend == "torch" else {}
    runs = {}
    for b, k in (("reference", {}), (backend, kw)):
        sim = Simulator(NETWORKS["ca3_like_additive"](), backend=b, seed=3, **k)
        sim.run(80.0)
        new = np.linspace(0.0, 6.0, sim.weights("ab").size)
        sim.set_weights("ab", new)
        sim.set_weights("bb_inh", 4.0)
        np.testing.assert_array_equal(sim.weights("ab"), new)
        sim.run(100.0)
        runs[b] = sim
    ref, sim = runs["reference"], runs[backend]
    np.testing.assert_array_equal(sim.weights("ab"), ref.weights("ab"))
    np.testing.assert_array_equal(sim.spikes("b")[0], ref.spikes("b")[0])
    assert not np.array_equal(ref.weights("ab"), new)  # learning went on
    with pytest.raises(ValueError, match=r"weights_nA = 7\.0 is not allowed: in \[w_min_nA, w_max_nA\] = \[0\.0, 6"):
        sim.set_weights("ab", 7.0)
    with pytest.raises(ValueError, match=r"weights_nA length = 3 is not allowed: 1 or one per connection"):
        sim.set_weights("bb_inh", [1.0, 2.0, 3.0])


@pytest.mark.parametrize("backend", ["reference", *EXACT_BACKENDS])
def test_currents_and_spike_times_set_between_runs_reach_every_engine(backend: str) -> None:
    """Simulator.set_offset and set_spike_times between runs: the new current drives the membrane from the next
    tick on, the replaced spikes (not the dropped ones) reach the targets, and every engine agrees with the
    reference."""
    kw = {"device": "cpu"} if backend == "torch" else {}
    runs = {}
    for label, b, k, offset in (("control", "reference", {}, 0.0), ("reference", "reference", {}, 2.0),
                                (backend, backend, kw, 2.0)):
        sim = Simulator(NETWORKS["feedforward"](), backend=b, seed=3, **k)
        sim.run(30.0)
        sim.set_offset("b", np.linspace(0.0, offset, sim.network.node("b").size))
        sim.set_spike_times("inp", [[35.0 + i % 5] for i in range(sim.network.node("inp").size)])
        sim.run(30.0)
        runs[label] = sim
    ref, sim = runs["reference"], runs[backend]
    t_ref, i_ref = ref.spikes("b")
    t, i = sim.spikes("b")
    np.testing.assert_array_equal(t, t_ref)
    np.testing.assert_array_equal(i, i_ref)
    t_src, _ = sim.spikes("inp", since_ms=30.0)
    assert set(np.round(t_src, 6)) <= {35.0, 36.0, 37.0, 38.0, 39.0}
    assert t_ref.size > runs["control"].spikes("b")[0].size  # the current made b fire more
    with pytest.raises(ValueError, match=r"i_offset_nA length = 3 is not allowed: 1 or one per neuron of 'b'"):
        sim.set_offset("b", [1.0, 2.0, 3.0])
    sim.set_spike_times("inp", [[65.0]] + [[]] * (sim.network.node("inp").size - 1))
    with pytest.raises(ValueError, match=r"spike_times_ms = 1\.0 is not allowed: >= the current time \(60\.0 ms\)"):
        sim.set_spike_times("inp", [[1.0]] + [[]] * (sim.network.node("inp").size - 1))
    sim.run(10.0)  # the refused times changed nothing: the spike set before still comes
    assert sim.spikes("inp", since_ms=60.0)[0].tolist() == [65.0]


@pytest.mark.parametrize("backend", ["reference", *EXACT_BACKENDS])
def test_set_offset_stays_in_its_simulation(backend: str) -> None:
    """A network's compiled arrays are shared by its simulators: a current set in one must not reach the next."""
    kw = {"device": "cpu"} if backend == "torch" else {}
    net = NETWORKS["feedforward"]()
    first = Simulator(net, backend=backend, seed=3, **kw)
    first.set_offset("b", 5.0)
    first.run(20.0)
    second, fresh = Simulator(net, backend=backend, seed=3, **kw), Simulator(NETWORKS["feedforward"](),
                                                                              backend=backend, seed=3, **kw)
    for sim in (second, fresh):
        sim.run(20.0)
    np.testing.assert_array_equal(second.spikes("b")[0], fresh.spikes("b")[0])
    assert first.spikes("b")[0].size > fresh.spikes("b")[0].size
