"""What PyNN users need from the description: per-neuron parameters, delays in ms, per-synapse values drawn
from distributions, off-grid spike times said aloud, and a network saved and loaded (also with its results)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from neurosim import (
    AllToAll,
    LIFParams,
    Network,
    Normal,
    OneToOne,
    Population,
    Projection,
    Simulator,
    SpikeMonitor,
    SpikeSourceArray,
    StateMonitor,
    Uniform,
)
from neurosim.io import read_results, save_simulation
from neurosim.serialize import load_network, save_network


def _quiet(net: Network, duration: float, backend: str = "numba") -> Simulator:
    sim = Simulator(net, backend=backend)
    sim.run(duration)
    return sim


def test_per_neuron_parameters_equal_one_population_per_value() -> None:
    """One population with per-neuron values behaves as separate populations with those values."""
    v0, tau, offset = (-65.0, -60.0, -58.0), (10.0, 20.0, 5.0), (2.0, 1.0, 4.0)
    mixed = Network(0.1, (Population("p", 3, LIFParams(v_init_mV=v0, tau_m_ms=tau, i_offset_nA=offset)),),
                    monitors=(SpikeMonitor("p"), StateMonitor("p", (0, 1, 2))))
    apart = Network(0.1, tuple(Population(f"p{k}", 1, LIFParams(v_init_mV=v0[k], tau_m_ms=tau[k],
                                                                 i_offset_nA=offset[k])) for k in range(3)),
                    monitors=tuple(SpikeMonitor(f"p{k}") for k in range(3)))
    a, b = _quiet(mixed, 50.0), _quiet(apart, 50.0)
    t, i = a.spikes("p")
    for k in range(3):
        np.testing.assert_array_equal(t[i == k], b.spikes(f"p{k}")[0])
    assert len(set(np.unique(i))) == 3  # every neuron fired, each at its own times
    assert np.argsort(a.state("p").values["v_mV"][0]).tolist() == [0, 1, 2]  # each starts from its own v_init


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"tau_m_ms": (10.0, -1.0, 3.0)}, r"LIFParams\.tau_m_ms = -1\.0 is not allowed: > 0 \(every neuron\)"),
    ({"v_reset_mV": (-70.0, -40.0, -70.0)}, r"LIFParams\.v_reset_mV = -40\.0 is not allowed: < v_thresh_mV"),
    ({"v_init_mV": (-65.0, float("nan"), -65.0)}, r"LIFParams\.v_init_mV = nan is not allowed: finite"),
    ({"tau_refrac_ms": [[1.0]]}, r"LIFParams\.tau_refrac_ms shape = \(1, 1\) is not allowed"),
])
def test_per_neuron_values_are_checked_one_by_one(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        LIFParams(**kwargs)


def test_per_neuron_values_must_match_the_population() -> None:
    with pytest.raises(ValueError, match=r"Population\[p\]\.params\.v_init_mV length = 2 is not allowed: 1 or one "
                                         r"value per neuron \(3\)"):
        Population("p", 3, LIFParams(v_init_mV=(-65.0, -60.0)))


def _relay(dt: float, **proj) -> Network:
    cell = LIFParams(tau_m_ms=5.0, cm_nF=0.1, v_rest_mV=-65.0, v_reset_mV=-65.0, v_thresh_mV=-64.0,
                     tau_syn_e_ms=0.5, tau_refrac_ms=0.0, v_init_mV=-65.0)
    return Network(dt, (Population("p", 2, cell),), (SpikeSourceArray("s", ([1.0], [1.0])),),
                   (Projection("c", "s", "p", OneToOne(), weight_nA=20.0, **proj),), (SpikeMonitor("p"),))


def test_delays_in_ms_keep_their_time_when_dt_changes() -> None:
    """A delay given in ms stays the same in ms at any dt (in steps it would scale with dt)."""
    first = {dt: _quiet(_relay(dt, delay_ms=np.array([2.0, 4.0])), 10.0).spikes("p") for dt in (1.0, 0.5, 0.25)}
    for dt, (t, i) in first.items():
        assert t[i == 0][0] == pytest.approx(3.0, abs=1.0) and t[i == 1][0] - t[i == 0][0] == pytest.approx(2.0), dt
    assert _relay(0.5, delay_ms=2.0).connections("c").delay_steps.tolist() == [4, 4]


def test_delays_off_the_grid_are_rounded_by_one_rule_and_said() -> None:
    with pytest.warns(RuntimeWarning, match=r"delay_ms: 2 of 2 delays are not multiples of dt = 1 ms \(e\.g\. 1\.5 "
                                            r"ms\): each is rounded to the nearest step"):
        net = _relay(1.0, delay_ms=np.array([1.5, 2.4]))
    assert net.connections("c").delay_steps.tolist() == [2, 2]  # half a step rounds up, as spike times do
    with pytest.raises(ValueError, match=r"delay_ms = 0\.2 is not allowed: >= 0\.5 ms"):
        _relay(1.0, delay_ms=0.2)
    with pytest.raises(ValueError, match=r"delay_steps = 3 is not allowed: left at its default \(1\) when delay_ms"):
        _relay(1.0, delay_ms=2.0, delay_steps=3)


def test_weights_and_delays_drawn_per_connection() -> None:
    with pytest.warns(RuntimeWarning, match="400 of 400 delays are not multiples of dt"):
        net = Network(1.0, (Population("p", 20),), (SpikeSourceArray("s", tuple([] for _ in range(20))),),
                      (Projection("c", "s", "p", AllToAll(), weight_nA=Uniform(0.5, 1.0, seed=3),
                                  delay_ms=Uniform(1.0, 5.0, seed=4)),))
    w, d = net.connections("c").weight_nA, net.connections("c").delay_steps
    assert w.size == 400 and 0.5 <= w.min() < w.max() < 1.0 and set(d.tolist()) == {1, 2, 3, 4, 5}
    with pytest.warns(RuntimeWarning, match="delays are not multiples"):
        again = Network(1.0, net.populations, net.sources, net.projections)
    np.testing.assert_array_equal(again.connections("c").weight_nA, w)  # the distribution's own seed
    with pytest.raises(ValueError, match=r"weight_nA = -.* is not allowed: >= 0 \(drawn from Normal"):
        Network(1.0, net.populations, net.sources,
                (Projection("c", "s", "p", AllToAll(), weight_nA=Normal(0.0, 1.0, seed=1)),))


def test_off_grid_spike_times_move_to_their_tick_with_a_warning() -> None:
    """The issue's case: [0.4, 0.6, 1.2, 1.4, 2.5] at dt = 1 gives 3 spikes, now not silently."""
    net = Network(1.0, (Population("p", 1),), (SpikeSourceArray("s", ([0.4, 0.6, 1.2, 1.4, 2.5],)),),
                  (Projection("c", "s", "p", OneToOne(), 1.0),), (SpikeMonitor("s"),))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sim = _quiet(net, 5.0)
    said = [str(w.message) for w in caught]
    assert any("5 of 5 spike times are not multiples of dt = 1 ms" in m for m in said)
    assert any("2 spikes fall on a tick where the same neuron already fires" in m for m in said)
    assert sim.spikes("s")[0].tolist() == [0.0, 1.0, 3.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # times on the grid: nothing to say
        Simulator(Network(1.0, net.populations, (SpikeSourceArray("s", ([1.0, 3.0],)),), net.projections))


def test_a_network_saved_and_loaded_runs_the_same(tmp_path) -> None:
    from neurosim.bench import core_network
    from neurosim.models.ca3 import build_network

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the drawn delays are off the grid, as said above
        drawn = _relay(0.5, delay_ms=Uniform(0.5, 3.0, seed=2))
    for net in (build_network(5, 10), core_network(300), drawn):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            back = load_network(save_network(tmp_path / "n.h5", net))
        assert [p.name for p in back.projections] == [p.name for p in net.projections]
        a, b = (Simulator(x, "numba", seed=4) for x in (net, back))
        a.run(40.0)
        b.run(40.0)
        for m in net.monitors:
            if isinstance(m, SpikeMonitor):
                np.testing.assert_array_equal(a.spikes(m.target)[0], b.spikes(m.target)[0])
        for pr in net.projections:
            np.testing.assert_array_equal(a.weights(pr.name), b.weights(pr.name))


def test_results_files_store_the_network(tmp_path) -> None:
    net = _relay(1.0, delay_ms=2.0)
    sim = _quiet(net, 10.0)
    path = save_simulation(tmp_path / "r.h5", sim, config={"x": 1})
    stored = read_results(path).network
    assert stored is not None and stored.connections("c").delay_steps.tolist() == [2, 2]
    assert load_network(path).population("p").params == net.population("p").params
    with pytest.raises(FileNotFoundError, match="no network file at .*missing.h5"):
        load_network(tmp_path / "missing.h5")
    (tmp_path / "junk.h5").write_text("not hdf5")
    with pytest.raises(ValueError, match=r"junk\.h5 is not a readable HDF5 file"):
        load_network(tmp_path / "junk.h5")
