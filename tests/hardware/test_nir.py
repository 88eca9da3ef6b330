"""NIR export: write -> read round trips, norse runs the graph like neurosim, snapshots, errors."""

from __future__ import annotations

import numpy as np
import pytest

nir = pytest.importorskip("nir")
pytest.importorskip("norse")

from hardware.nir import MS_TO_S, for_norse, spike_raster, to_nir, write  # noqa: E402
from neurosim.connectors import AllToAll, FixedProbability, FromList, OneToOne  # noqa: E402
from neurosim.network import (  # noqa: E402
    LIFParams,
    Network,
    PoissonSource,
    Population,
    Projection,
    SpikeMonitor,
    SpikeSourceArray,
)
from neurosim.plasticity import STDP  # noqa: E402
from neurosim.simulator import Simulator  # noqa: E402

DT_MS = 0.01
T_MS = 200.0
# v_rest = v_reset = 0 (norse's synapse leaks towards v_leak and resets to 0), no refractoriness
NORSE_PARAMS = LIFParams(tau_m_ms=10.0, cm_nF=1.0, v_rest_mV=0.0, v_reset_mV=0.0, v_thresh_mV=10.0,
                         tau_refrac_ms=0.0, tau_syn_e_ms=5.0, tau_syn_i_ms=5.0, v_init_mV=0.0)
# measured (see hardware/nir.py): equal counts, max |dt| 0.28 ms, median 0.01-0.06 ms
MAX_SHIFT_MS = 0.5
MEDIAN_SHIFT_MS = 0.1


def _source(rng: np.random.Generator, n: int, per_neuron: int, t_ms: float) -> SpikeSourceArray:
    return SpikeSourceArray("inp", tuple(np.sort(np.round(rng.uniform(0.0, t_ms - 20.0, per_neuron), 2))
                                         for _ in range(n)))


def feed_forward() -> Network:
    rng = np.random.default_rng(1)
    return Network(DT_MS, (Population("pop", 4, NORSE_PARAMS),), (_source(rng, 6, 30, T_MS),),
                   (Projection("ff", "inp", "pop", AllToAll(), weight_nA=rng.uniform(0.3, 1.2, 24)),),
                   (SpikeMonitor("pop"),))


def recurrent(delay_steps: int = 1) -> Network:
    rng = np.random.default_rng(1)
    return Network(DT_MS, (Population("pop", 4, NORSE_PARAMS),), (_source(rng, 6, 30, T_MS),),
                   (Projection("ff", "inp", "pop", AllToAll(), weight_nA=rng.uniform(0.3, 1.2, 24)),
                    Projection("inh", "pop", "pop", AllToAll(False), weight_nA=1.0, receptor="inhibitory",
                               delay_steps=delay_steps)),
                   (SpikeMonitor("pop"),))


def mixed() -> Network:
    """Two populations, inhibition, heterogeneous delays, repeated pairs, i_offset, default PyNN params."""
    rng = np.random.default_rng(3)
    exc = Population("exc", 5, LIFParams(i_offset_nA=0.2, tau_syn_e_ms=4.0, tau_syn_i_ms=4.0))
    inh = Population("inh_pop", 3, LIFParams(tau_m_ms=15.0, cm_nF=0.5))
    fl = FromList((0, 0, 2), (1, 1, 4), weights_nA=(0.5, 0.25, 1.0), delays_steps=(1, 1, 3))
    return Network(0.1, (exc, inh), (_source(rng, 3, 5, 100.0),), (
        Projection("in_exc", "inp", "exc", fl),
        Projection("exc_inh", "exc", "inh_pop", FixedProbability(0.5, seed=2), weight_nA=0.7, delay_steps=2),
        Projection("inh_exc", "inh_pop", "exc", AllToAll(), weight_nA=rng.uniform(0.1, 0.5, 15),
                   delay_steps=rng.integers(1, 4, 15), receptor="inhibitory"),
        Projection("exc_exc", "exc", "exc", OneToOne(), weight_nA=0.3),
    ))


# -- round trip ----------------------------------------------------------------------------------
def _assert_same(a: object, b: object, where: str) -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), where
        for k in a:
            _assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (np.ndarray, np.generic, float, int)) and not isinstance(a, (bool, str)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=where)
        assert np.asarray(a).shape == np.asarray(b).shape, where
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _assert_graphs_equal(g: object, h: object) -> None:
    assert set(g.nodes) == set(h.nodes)
    assert sorted(g.edges) == sorted(h.edges)
    _assert_same(g.metadata, h.metadata, "graph.metadata")
    for name, node in g.nodes.items():
        other = h.nodes[name]
        assert type(node) is type(other), name
        _assert_same(node.to_dict(), other.to_dict(), name)


@pytest.mark.parametrize("make", [feed_forward, recurrent, mixed])
def test_write_read_round_trip(make, tmp_path) -> None:
    net = make()
    path = tmp_path / "net.nir"
    graph = write(net, path)
    _assert_graphs_equal(graph, nir.read(path))


def test_graph_structure_and_parameters() -> None:
    net = mixed()
    g = to_nir(net)
    assert isinstance(g.nodes["inp"], nir.Input)
    assert g.metadata["dt_ms"] == 0.1 and g.metadata["neurosim_units"] == "ms, mV, nA, nF, MOhm"
    exc = g.nodes["exc"]
    p = net.population("exc").params
    np.testing.assert_allclose(exc.tau_mem, p.tau_m_ms * 1e-3)
    np.testing.assert_allclose(exc.tau_syn, 4e-3)
    np.testing.assert_allclose(exc.w_in, 4e-3)
    np.testing.assert_allclose(exc.r, 20.0)
    np.testing.assert_allclose(exc.v_leak, -65.0 + 20.0 * 0.2)
    np.testing.assert_allclose(exc.v_threshold, -50.0)
    np.testing.assert_allclose(exc.v_reset, -65.0)
    np.testing.assert_allclose(g.nodes["inh_pop"].r, 30.0)
    assert exc.metadata["tau_refrac_ms"] == 0.1
    # FromList: repeated pair (0 -> 1) summed, delay-3 synapse in its own Linear + Delay of 2 steps
    np.testing.assert_allclose(g.nodes["in_exc__d1"].weight[1, 0], 0.75)
    assert g.nodes["in_exc__d3"].weight[4, 2] == 1.0 and g.nodes["in_exc__d3"].weight.sum() == 1.0
    np.testing.assert_allclose(g.nodes["in_exc__d3__delay"].delay, 2 * 0.1 * MS_TO_S)
    assert ("in_exc__d3", "in_exc__d3__delay") in g.edges and ("in_exc__d3__delay", "exc") in g.edges
    # inhibitory: negative; per-delay matrices add up to the whole connectivity
    conn = net.connections("inh_exc")
    total = sum(g.nodes[f"inh_exc__d{d}"].weight for d in np.unique(conn.delay_steps))
    expect = np.zeros((5, 3))
    expect[conn.post, conn.pre] = -conn.weight_nA
    np.testing.assert_allclose(total, expect)
    assert ("exc_exc", "exc") in g.edges and "exc_exc__delay" not in g.nodes  # 1 step: no Delay node


# -- norse ---------------------------------------------------------------------------------------
def _run_norse(net: Network) -> np.ndarray:
    import norse.torch
    import torch

    graph = for_norse(to_nir(net))
    module = norse.torch.from_nir(graph, dt=graph.metadata["dt_s"])
    n = round(T_MS / DT_MS)
    x = torch.from_numpy(spike_raster(net.sources[0], DT_MS, n))
    state, out = None, []
    with torch.no_grad():
        for k in range(n):
            _, state = module(x[k], state)
            out.append(state.cache["pop"])  # the module returns its last executed node, not the Output
    return torch.stack(out).numpy()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("make", [feed_forward, recurrent])
def test_norse_spikes_match_neurosim(make) -> None:
    net = make()
    sim = Simulator(net, backend="reference")
    sim.run(T_MS)
    t, i = sim.spikes("pop")
    z = _run_norse(net)
    shifts = []
    for j in range(4):
        ours = t[i == j]
        theirs = np.nonzero(z[:, j])[0] * DT_MS
        assert ours.size >= 15  # a meaningful comparison
        assert theirs.size == ours.size, f"neuron {j}: {theirs.size} vs {ours.size} spikes"
        shifts.append(np.abs(theirs - ours))
    shifts = np.concatenate(shifts)
    assert shifts.max() <= MAX_SHIFT_MS
    assert np.median(shifts) <= MEDIAN_SHIFT_MS


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_recurrent_inhibition_matters_in_norse() -> None:
    """The recurrent edge is really executed: without it norse fires more."""
    assert _run_norse(recurrent()).sum() < _run_norse(feed_forward()).sum() * 0.6


# -- plastic weights: snapshot -------------------------------------------------------------------
def test_stdp_snapshot_exports_learned_weights() -> None:
    rng = np.random.default_rng(5)
    rule = STDP(A_plus=0.05, A_minus=0.05, w_max_nA=3.0)
    net = Network(0.1, (Population("pop", 3, LIFParams(tau_refrac_ms=0.0)),),
                  (SpikeSourceArray("inp", tuple(np.sort(rng.uniform(0, 190, 40)).round(1) for _ in range(5))),),
                  (Projection("ff", "inp", "pop", AllToAll(), weight_nA=rng.uniform(1.5, 2.5, 15), plasticity=rule),),
                  (SpikeMonitor("pop"),))
    with pytest.warns(RuntimeWarning, match="spikes fall on a tick"):  # two random times round to one tick
        sim = Simulator(net, backend="reference")
    sim.run(200.0)
    learned = sim.weights("ff")
    initial = net.connections("ff").weight_nA
    assert not np.allclose(learned, initial)  # STDP did change them
    conn = net.connections("ff")
    g = to_nir(net, simulator=sim)
    np.testing.assert_array_equal(g.nodes["ff"].weight[conn.post, conn.pre], learned)
    np.testing.assert_array_equal(to_nir(net).nodes["ff"].weight[conn.post, conn.pre], initial)
    assert g.nodes["ff"].metadata["plastic"] is True and "snapshot" in g.metadata["weights"]
    with pytest.raises(ValueError, match=r"Projection\[ff\]\.plasticity.*NIR has no plasticity"):
        to_nir(net, plastic="error")


# -- what NIR (or norse) cannot express ----------------------------------------------------------
def test_poisson_source_is_refused() -> None:
    net = Network(0.1, (Population("pop", 2),), (PoissonSource("noise", 2, 10.0),),
                  (Projection("p", "noise", "pop", OneToOne(), weight_nA=1.0),))
    with pytest.raises(ValueError, match=r"Network.sources\[noise\].*SpikeSourceArray"):
        to_nir(net)


def test_two_synaptic_time_constants_are_refused() -> None:
    pop = Population("pop", 2, LIFParams(tau_syn_e_ms=5.0, tau_syn_i_ms=10.0))
    src = SpikeSourceArray("inp", ((1.0,), (2.0,)))
    net = Network(0.1, (pop,), (src,), (Projection("e", "inp", "pop", OneToOne(), weight_nA=1.0),
                                        Projection("i", "inp", "pop", OneToOne(), weight_nA=1.0,
                                                   receptor="inhibitory")))
    with pytest.raises(ValueError, match=r"tau_syn_i_ms = 10.0 .*equal to tau_syn_e_ms"):
        to_nir(net)
    only_inh = Network(0.1, (pop,), (src,), (net.projections[1],))
    np.testing.assert_allclose(to_nir(only_inh).nodes["pop"].tau_syn, 10e-3)


def test_bad_arguments_are_refused() -> None:
    net = feed_forward()
    with pytest.raises(ValueError, match="plastic"):
        to_nir(net, plastic="rule")
    with pytest.raises(ValueError, match="simulator"):
        to_nir(net, simulator=Simulator(recurrent(), backend="reference"))
    with pytest.raises(ValueError, match=r"population name = 'nope' is not allowed"):
        to_nir(net, outputs=["nope"])


def test_for_norse_refuses_what_norse_cannot_run() -> None:
    with pytest.raises(ValueError, match="Delay"):
        for_norse(to_nir(recurrent(delay_steps=3)))
    with pytest.raises(ValueError, match=r"v_leak.*0 mV"):
        for_norse(to_nir(mixed(), outputs=["exc"]))
    with pytest.raises(ValueError, match="one Input and one Output"):
        for_norse(to_nir(Network(0.1, (Population("a", 1, NORSE_PARAMS), Population("b", 1, NORSE_PARAMS)),
                                 (SpikeSourceArray("inp", ((1.0,),)),))))
    g = for_norse(to_nir(feed_forward()))
    np.testing.assert_allclose(g.nodes["pop"].w_in, 5e-3 / (DT_MS * 1e-3), rtol=1e-12)


def test_spike_raster_uses_simulator_ticks() -> None:
    src = SpikeSourceArray("inp", ((0.0, 0.014, 0.026), (0.05,)))
    r = spike_raster(src, 0.01, 5)
    assert r.shape == (5, 2)
    assert r[:, 0].tolist() == [1, 1, 0, 1, 0] and r[:, 1].sum() == 0  # 0.05 ms is tick 5: out of range
