"""The brian2 backend against the numpy reference engine.

Measured tolerance (see neurosim.backends.brian2_engine): on Brian2's runtime device
(numpy target) spikes, traced states and STDP weights equal the reference bit for bit,
so these tests ask for identical spike trains, states to 1e-9 mV / nA and weights to
1e-12 nA (room for a different ``exp`` in STDP decays). ``cpp_standalone`` compiled
with ``exact_math=True`` gives the same spikes; its STDP weights differ by an ulp
(C++ ``exp``).
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

pytest.importorskip("brian2")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pyparsing")  # raised under Brian2's parser

from neurosim import (  # noqa: E402
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
    SpikeMonitor,
    SpikeSourceArray,
    StateMonitor,
    WeightMonitor,
)
from neurosim.backends import brian2_engine  # noqa: E402
from neurosim.backends.base import External  # noqa: E402
from neurosim.compiled import compile_network  # noqa: E402

CELL = LIFParams(tau_m_ms=10.0, cm_nF=0.25, tau_syn_e_ms=2.0, tau_syn_i_ms=4.0, tau_refrac_ms=2.0)
EI_CELL = LIFParams(tau_m_ms=20.0, cm_nF=0.2, v_rest_mV=-60.0, v_reset_mV=-60.0, v_thresh_mV=-50.0,
                    tau_refrac_ms=2.0, tau_syn_e_ms=5.0, tau_syn_i_ms=10.0, v_init_mV=-60.0)


def feedforward() -> Network:
    """Sources -> a -> b, excitation and inhibition, delays 1..3 steps."""
    rng = np.random.default_rng(5)
    trains = [np.sort(rng.choice(np.arange(0, 80.0, 0.1), size=8, replace=False)).round(1) for _ in range(15)]
    pre, post = np.nonzero(rng.random((15, 20)) < 0.5)
    return Network(
        dt_ms=0.1,
        populations=(Population("a", 20, CELL), Population("b", 8, CELL)),
        sources=(SpikeSourceArray("inp", tuple(trains)),),
        projections=(
            Projection("inp_a", "inp", "a", FromList(pre, post), weight_nA=1.2,
                       delay_steps=rng.integers(1, 4, pre.size)),
            Projection("a_b", "a", "b", AllToAll(), weight_nA=0.4, delay_steps=2),
            Projection("inp_b_inh", "inp", "b", FixedProbability(0.3, seed=3), weight_nA=0.5, delay_steps=3,
                       receptor="inhibitory"),
        ),
        monitors=(SpikeMonitor("a"), SpikeMonitor("b"), SpikeMonitor("inp"),
                  StateMonitor("b", (0, 3), ("v_mV", "i_syn_e_nA", "i_syn_i_nA"))),
    )


def recurrent(n: int = 300) -> Network:
    """Poisson-driven E/I network, random recurrent connectivity, delays 1..4 steps."""
    n_e = int(0.8 * n)
    return Network(
        dt_ms=0.1,
        populations=(Population("e", n_e, EI_CELL), Population("i", n - n_e, EI_CELL)),
        sources=(PoissonSource("drive", 100, rate_hz=40.0),),
        projections=(
            Projection("ee", "e", "e", FixedProbability(0.05, allow_self_connections=False, seed=1),
                       weight_nA=0.05, delay_steps=2),
            Projection("ei", "e", "i", FixedProbability(0.05, seed=2), weight_nA=0.08, delay_steps=1),
            Projection("ie", "i", "e", FixedProbability(0.1, seed=3), weight_nA=0.3, delay_steps=3,
                       receptor="inhibitory"),
            Projection("ii", "i", "i", FixedProbability(0.1, allow_self_connections=False, seed=4),
                       weight_nA=0.2, delay_steps=4, receptor="inhibitory"),
            Projection("drive_e", "drive", "e", FixedProbability(0.1, seed=5), weight_nA=0.25, delay_steps=1),
            Projection("drive_i", "drive", "i", FixedProbability(0.1, seed=6), weight_nA=0.25, delay_steps=1),
        ),
        # every neuron's state: exact equality also checks the order in which inputs are summed
        monitors=(SpikeMonitor("e"), SpikeMonitor("i"), SpikeMonitor("drive"),
                  StateMonitor("e", tuple(range(n_e)), ("v_mV", "i_syn_e_nA", "i_syn_i_nA")),
                  StateMonitor("i", tuple(range(n - n_e)), ("v_mV", "i_syn_e_nA", "i_syn_i_nA"))),
    )


def _regular(start: float, period: float, stop: float) -> np.ndarray:
    return np.round(np.arange(start, stop, period), 1)


def stdp_pair(dependence: str, delay: int) -> Network:
    """One pre source onto one neuron that a teacher source makes fire; the pre train has a
    burst of consecutive ticks so that weights change while spikes are in flight."""
    pre = np.unique(np.concatenate([_regular(5.0, 7.0, 200.0), [100.1, 100.2, 100.3]]))
    teach = _regular(3.0, 9.0, 200.0)
    rule = STDP(tau_plus_ms=16.8, tau_minus_ms=33.7, A_plus=0.05, A_minus=0.04, w_min_nA=0.0, w_max_nA=1.0,
                weight_dependence=dependence)
    return Network(
        dt_ms=0.1,
        populations=(Population("post", 1, CELL),),
        sources=(SpikeSourceArray("pre", (pre,)), SpikeSourceArray("teach", (teach,))),
        projections=(
            Projection("teaching", "teach", "post", OneToOne(), weight_nA=3.0, delay_steps=1),
            Projection("plastic", "pre", "post", OneToOne(), weight_nA=0.5, delay_steps=delay, plasticity=rule),
        ),
        monitors=(SpikeMonitor("post"), StateMonitor("post", (0,), ("v_mV", "i_syn_e_nA")),
                  WeightMonitor("plastic", every_ms=50.0)),
    )


def stdp_mixed() -> Network:
    """Additive, multiplicative and static synapses in one Brian2 Synapses object (same pre group,
    delay, receptor), an inhibitory plastic projection and a recurrent plastic one at delay 1."""
    rng = np.random.default_rng(9)
    pre = tuple(np.sort(rng.choice(np.arange(0, 150.0, 0.1), size=30, replace=False)).round(1) for _ in range(3))
    teach = (_regular(2.0, 8.0, 150.0), _regular(6.0, 11.0, 150.0))
    add = STDP(tau_plus_ms=10.0, tau_minus_ms=20.0, A_plus=0.03, A_minus=0.035, w_max_nA=1.0)
    mul = STDP(tau_plus_ms=15.0, tau_minus_ms=15.0, A_plus=0.1, A_minus=0.12, w_min_nA=0.1, w_max_nA=2.0,
               weight_dependence="multiplicative")
    return Network(
        dt_ms=0.1,
        populations=(Population("post", 2, CELL),),
        sources=(SpikeSourceArray("pre", pre), SpikeSourceArray("teach", teach)),
        projections=(
            Projection("teaching", "teach", "post", OneToOne(), weight_nA=3.0, delay_steps=1),
            Projection("add", "pre", "post", AllToAll(), weight_nA=0.4, delay_steps=2, plasticity=add),
            Projection("static", "pre", "post", AllToAll(), weight_nA=0.2, delay_steps=2),
            Projection("mul", "pre", "post", AllToAll(), weight_nA=rng.uniform(0.2, 1.5, 6), delay_steps=2,
                       plasticity=mul),
            Projection("inh", "pre", "post", AllToAll(), weight_nA=0.3, delay_steps=3, receptor="inhibitory",
                       plasticity=add),
            Projection("rec", "post", "post", AllToAll(allow_self_connections=False), weight_nA=0.5,
                       delay_steps=1, plasticity=mul),
        ),
        monitors=(SpikeMonitor("post"), StateMonitor("post", (0, 1), ("v_mV", "i_syn_e_nA", "i_syn_i_nA"))),
    )


def _run(network: Network, backend: str, durations: tuple[float, ...], extra=None) -> Simulator:
    sim = Simulator(network, backend=backend, seed=3)
    for k, duration in enumerate(durations):
        if extra is not None and k == 1:
            extra(sim)
        sim.run(duration)
    return sim


def _assert_same(sim: Simulator, ref: Simulator, *, min_spikes: int = 10, state_atol: float = 1e-9,
                 weight_atol: float = 1e-12) -> int:
    total = 0
    for mon in sorted(ref._spike_targets):
        t_ref, i_ref = ref.spikes(mon)
        t, i = sim.spikes(mon)
        np.testing.assert_array_equal(t, t_ref, err_msg=f"{mon} spike times")
        np.testing.assert_array_equal(i, i_ref, err_msg=f"{mon} spike ids")
        total += t.size
    assert total >= min_spikes, "the network must spike for the comparison to mean something"
    for m in ref._state_mons:
        a, b = sim.state(m.population), ref.state(m.population)
        np.testing.assert_array_equal(a.times_ms, b.times_ms)
        for var in m.variables:
            np.testing.assert_allclose(a.values[var], b.values[var], rtol=0, atol=state_atol, err_msg=var)
    for pr in ref.network.projections:
        np.testing.assert_allclose(sim.weights(pr.name), ref.weights(pr.name), rtol=0, atol=weight_atol,
                                   err_msg=pr.name)
    return total


def test_feedforward_equals_reference() -> None:
    def more_input(sim: Simulator) -> None:  # spikes scheduled between runs reach the SpikeGeneratorGroup
        sim.add_spikes("inp", [45.0, 45.0, 47.3, 60.1], [0, 1, 2, 0])

    net = feedforward()
    ref = _run(net, "reference", (40.0, 50.0), more_input)
    sim = _run(net, "brian2", (40.0, 50.0), more_input)
    assert _assert_same(sim, ref, min_spikes=300, state_atol=0.0) > 300
    assert sim.spikes("b")[0].size > 20


def test_recurrent_poisson_network_equals_reference() -> None:
    net = recurrent(300)
    ref = _run(net, "reference", (100.0, 100.0))
    sim = _run(net, "brian2", (100.0, 100.0))
    _assert_same(sim, ref, min_spikes=1000, state_atol=0.0)
    assert sim.spikes("i")[0].size > 50


def test_membrane_trace_under_constant_current() -> None:
    cell = LIFParams(tau_m_ms=20.0, cm_nF=1.0, tau_refrac_ms=2.0, i_offset_nA=2.0, v_init_mV=-70.0)
    net = Network(dt_ms=0.1, populations=(Population("p", 1, cell),),
                  monitors=(SpikeMonitor("p"), StateMonitor("p", (0,), ("v_mV",))))
    ref = _run(net, "reference", (30.0, 30.0))
    sim = _run(net, "brian2", (30.0, 30.0))
    v, v_ref = sim.state("p").values["v_mV"], ref.state("p").values["v_mV"]
    assert v.shape == v_ref.shape == (600, 1)
    np.testing.assert_allclose(v, v_ref, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(sim.spikes("p")[0], ref.spikes("p")[0])
    assert ref.spikes("p")[0].size >= 3
    # the refractory period freezes v at v_reset for ceil(2 / 0.1) = 20 ticks after each spike
    first = round(ref.spikes("p")[0][0] / 0.1)
    np.testing.assert_array_equal(v[first:first + 21, 0], cell.v_reset_mV)
    assert v[first + 21, 0] > cell.v_reset_mV


@pytest.mark.parametrize("delay", [1, 3])
@pytest.mark.parametrize("dependence", ["additive", "multiplicative"])
def test_stdp_pair_equals_reference(dependence: str, delay: int) -> None:
    net = stdp_pair(dependence, delay)
    ref = _run(net, "reference", (100.0, 100.0))
    sim = _run(net, "brian2", (100.0, 100.0))
    _assert_same(sim, ref, min_spikes=15)
    w, w_ref = sim.weights("plastic")[0], ref.weights("plastic")[0]
    assert abs(w - 0.5) > 1e-3, "the weight must have moved"
    assert abs(w - w_ref) <= 1e-12
    t, hist = sim.weight_history("plastic")
    t_ref, hist_ref = ref.weight_history("plastic")
    np.testing.assert_array_equal(t, t_ref)
    np.testing.assert_allclose(hist, hist_ref, rtol=0, atol=1e-12)


def test_stdp_single_pair_matches_closed_form() -> None:
    """One pre spike, then one post spike: the weight change is STDP.pair_change of the lag at the synapse."""
    rule = STDP(tau_plus_ms=20.0, tau_minus_ms=20.0, A_plus=0.1, A_minus=0.1, w_max_nA=1.0)
    net = Network(
        dt_ms=0.1, populations=(Population("post", 1, CELL),),
        sources=(SpikeSourceArray("pre", ([10.0],)), SpikeSourceArray("teach", ([13.0],))),
        projections=(Projection("teaching", "teach", "post", OneToOne(), weight_nA=3.0, delay_steps=1),
                     Projection("plastic", "pre", "post", OneToOne(), weight_nA=0.2, delay_steps=4,
                                plasticity=rule)),
        monitors=(SpikeMonitor("post"),),
    )
    sim = _run(net, "brian2", (40.0,))
    t_post = sim.spikes("post")[0]
    assert t_post.size == 1
    expected = rule.pair_change(0.2, t_post[0] + 4 * 0.1 - 10.0)
    assert sim.weights("plastic")[0] == pytest.approx(expected, abs=1e-12)


def test_stdp_mixed_rules_equal_reference() -> None:
    net = stdp_mixed()
    ref = _run(net, "reference", (70.0, 80.0))
    sim = _run(net, "brian2", (70.0, 80.0))
    _assert_same(sim, ref, min_spikes=40)
    for name in ("add", "mul", "inh", "rec"):
        assert np.max(np.abs(ref.weights(name) - net.connections(name).weight_nA)) > 1e-3, name
    np.testing.assert_array_equal(sim.weights("static"), 0.2)


def test_synapses_keep_canonical_order() -> None:
    net = compile_network(stdp_mixed())
    engine = brian2_engine.Brian2Engine(net, batch_size=1, record=np.ones(net.n_nodes, bool),
                                        traced=np.zeros(0, np.int64), dtype="float64", device=None)
    engine.advance(0, 1, External.empty())
    seen = np.concatenate([sg.ids for sg in engine.handles.synapses])
    np.testing.assert_array_equal(np.sort(seen), np.arange(net.n_synapses))
    for sg in engine.handles.synapses:
        first = 0 if sg.pre_group == 0 else net.n_neurons
        np.testing.assert_array_equal(np.asarray(sg.obj.i[:]) + first, net.syn_pre[sg.ids])
        np.testing.assert_array_equal(np.asarray(sg.obj.j[:]), net.syn_post[sg.ids])
        assert np.all(net.syn_delay[sg.ids] == sg.delay)
    np.testing.assert_array_equal(engine.weights(), net.syn_w0[None, :])


def test_refuses_what_it_cannot_do() -> None:
    net = feedforward()
    with pytest.raises(ValueError, match="batch_size"):
        Simulator(net, backend="brian2", batch_size=2)
    with pytest.raises(ValueError, match="dtype"):
        Simulator(net, backend="brian2", dtype="float32")
    with pytest.raises(ValueError, match="device"):
        Simulator(net, backend="brian2", device="cuda")
    compiled = compile_network(net)
    engine = brian2_engine.Brian2Engine(compiled, batch_size=1, record=np.ones(compiled.n_nodes, bool),
                                        traced=np.zeros(0, np.int64), dtype="float64", device=None)
    engine.advance(0, 1, External.empty())
    node = compiled.offsets["inp"][0] + 4
    twice = External(np.array([10, 10]), np.zeros(2, np.int64), np.array([node, node]))
    with pytest.raises(ValueError, match="two spikes of source node"):  # the Simulator merges them first
        engine.advance(1, 20, twice)
    with pytest.raises(ValueError, match="t0"):
        engine.advance(5, 20, External.empty())


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("g++") is None and shutil.which("c++") is None, reason="needs a C++ compiler")
def test_standalone_equals_runtime(tmp_path) -> None:
    """cpp_standalone (compiled without fast-math) gives the runtime engine's spikes; the device is restored."""
    from brian2 import get_device
    from brian2.devices.device import runtime_device

    network = stdp_pair("additive", 3)
    net = compile_network(network)
    ext = Simulator(network, backend="reference", seed=3).draw_inputs(200.0)
    out = brian2_engine.run_standalone(net, 200.0, ext, directory=str(tmp_path / "b2"), exact_math=True,
                                       traced=np.array([0]))
    assert get_device() is runtime_device
    sim = _run(network, "brian2", (200.0,))
    n_post = sim.spikes("post")[0].size
    assert n_post >= 15
    post = out["spike_node"] < net.n_neurons
    np.testing.assert_array_equal(out["spike_tick"][post], np.round(sim.spikes("post")[0] / 0.1).astype(np.int64))
    np.testing.assert_array_equal(out["spike_node"][post], sim.spikes("post")[1])
    assert (~post).sum() == sum(t.size for t in (*network.sources[0].spike_times_ms,
                                                  *network.sources[1].spike_times_ms))
    np.testing.assert_allclose(out["weights"], sim.engine.weights()[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(out["state"][:, 0, 0, 0], sim.state("post").values["v_mV"][:, 0], rtol=0, atol=1e-9)
    for key in ("build_s", "codegen_s", "compile_s", "run_s", "sim_s"):
        assert out[key] >= 0.0, key
