"""The Simulator's contracts: continuation, observers, inputs between runs, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim import Simulator
from tests.core.networks import CA3_CELL, recurrent_ei


def _all_spikes(sim: Simulator) -> list[tuple[np.ndarray, np.ndarray]]:
    return [sim.spikes(m) for m in sorted(sim._spike_targets)]


def _assert_same(a: Simulator, b: Simulator) -> None:
    for (ta, ia), (tb, ib) in zip(_all_spikes(a), _all_spikes(b), strict=True):
        np.testing.assert_array_equal(ta, tb)
        np.testing.assert_array_equal(ia, ib)


def test_runs_continue_and_chunking_does_not_change_results() -> None:
    net = recurrent_ei(200)
    one = Simulator(net, backend="numba", seed=4)
    one.run(150.0)
    many = Simulator(net, backend="numba", seed=4)
    calls = []
    many.add_observer(lambda s: calls.append(s.step), every_steps=7)
    for _ in range(3):
        many.run(50.0)
    _assert_same(one, many)
    assert calls == list(range(7, 1501, 7))
    assert one.spikes("e")[0].size > 100


def test_seed_changes_poisson_input_and_same_seed_repeats() -> None:
    net = recurrent_ei(200)
    runs = []
    for seed in (1, 1, 2):
        sim = Simulator(net, backend="numba", seed=seed)
        sim.run(50.0)
        runs.append(sim.spikes("drive"))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert not np.array_equal(runs[0][0], runs[2][0])


def test_spikes_appended_between_runs_are_delivered() -> None:
    from neurosim import Network, OneToOne, Population, Projection, SpikeMonitor, SpikeSourceArray

    net = Network(dt_ms=1.0, populations=(Population("p", 2, CA3_CELL),),
                  sources=(SpikeSourceArray.empty("cue", 2),),
                  projections=(Projection("c", "cue", "p", OneToOne(), weight_nA=6.0, delay_steps=1),),
                  monitors=(SpikeMonitor("p"),))
    sim = Simulator(net, backend="numba")
    sim.run(10.0)
    assert sim.spikes("p")[0].size == 0
    sim.add_spikes("cue", [10.0, 12.0], [1, 0])
    sim.run(10.0)
    t, i = sim.spikes("p")
    np.testing.assert_array_equal(t, [11.0, 13.0])
    np.testing.assert_array_equal(i, [1, 0])


def test_weight_history_starts_at_zero_and_follows_monitor_period() -> None:
    from neurosim import STDP

    sim = Simulator(recurrent_ei(200, STDP(w_max_nA=0.1)), backend="numba")
    sim.run(35.0)
    times, w = sim.weight_history("ee")
    np.testing.assert_allclose(times, [0.0, 10.0, 20.0, 30.0, 35.0])
    np.testing.assert_array_equal(w[0], sim.network.connections("ee").weight_nA)
    np.testing.assert_array_equal(w[-1], sim.weights("ee"))


def test_progress_bar_does_not_change_results(capsys) -> None:
    net = recurrent_ei(100)
    a = Simulator(net, backend="numba", seed=2)
    a.run(20.0, progress=True)
    b = Simulator(net, backend="numba", seed=2)
    b.run(20.0)
    _assert_same(a, b)


@pytest.mark.parametrize("backend", ["numba", "reference"])
def test_state_record_shapes(backend: str) -> None:
    sim = Simulator(recurrent_ei(100), backend=backend)
    sim.run(5.0)
    sim.run(5.0)
    rec = sim.state("e")
    assert rec.ids == (0, 1, 2)
    assert rec.values["v_mV"].shape == (100, 3)
    np.testing.assert_allclose(rec.times_ms, np.arange(100) * 0.1)


def test_state_since_is_the_tail_of_the_whole_record() -> None:
    sim = Simulator(recurrent_ei(100), backend="numba")
    for _ in range(4):
        sim.run(2.5)
    whole = sim.state("e")
    for since in (0.0, 2.5, 3.05, 9.9, 10.0):
        tail = sim.state("e", since_ms=since)
        keep = whole.times_ms >= since - 1e-9
        np.testing.assert_array_equal(tail.times_ms, whole.times_ms[keep])
        np.testing.assert_array_equal(tail.values["v_mV"], whole.values["v_mV"][keep])
    assert sim.state("e", since_ms=10.0).values["v_mV"].shape == (0, 3)


def test_discarded_recordings_leave_the_recent_past_intact() -> None:
    sim = Simulator(recurrent_ei(100), backend="numba")
    for _ in range(8):
        sim.run(2.5)
    t, i = sim.spikes("e")
    v = sim.state("e")
    sim.discard_recordings(11.0)  # chunks end at 2.4, 4.9, 7.4, 9.9, 12.4, ...: four go
    assert len(sim._chunks) == 4
    t2, i2 = sim.spikes("e")
    np.testing.assert_array_equal(t2, t[t >= 10.0])
    np.testing.assert_array_equal(i2, i[t >= 10.0])
    v2 = sim.state("e")
    np.testing.assert_array_equal(v2.times_ms, v.times_ms[v.times_ms >= 10.0 - 1e-9])
    np.testing.assert_array_equal(v2.values["v_mV"], v.values["v_mV"][v.times_ms >= 10.0 - 1e-9])
    with pytest.raises(ValueError, match="before_ms"):
        sim.discard_recordings(float("nan"))


def test_duplicate_source_times_merge_into_one_spike() -> None:
    from neurosim import Network, OneToOne, Population, Projection, SpikeMonitor, SpikeSourceArray

    net = Network(dt_ms=1.0, populations=(Population("p", 1, CA3_CELL),),
                  sources=(SpikeSourceArray("s", ([3.0, 3.2],)),),  # both round to tick 3
                  projections=(Projection("c", "s", "p", OneToOne(), weight_nA=2.0, delay_steps=1),),
                  monitors=(SpikeMonitor("s"), SpikeMonitor("p")))
    for backend in ("reference", "numba"):
        with pytest.warns(RuntimeWarning) as said:  # 3.2 ms is off the grid, and lands on 3.0's tick
            sim = Simulator(net, backend=backend)
        messages = [str(w.message) for w in said]
        assert len(messages) == 2 and "1 of 2 spike times are not multiples" in messages[0]
        assert "1 spikes fall on a tick where the same neuron already fires" in messages[1]
        sim.add_spikes("s", [3.0], [0])
        sim.run(10.0)
        np.testing.assert_array_equal(sim.spikes("s")[0], [3.0])
        assert sim.spikes("p")[0].size == 0  # 2 nA once: 1.8 mV, subthreshold; three times would fire
        assert sim.engine.events_delivered() == 1


def test_poisson_source_statistics() -> None:
    """Bernoulli(rate dt) per step and neuron: mean count, Fano factor ~1, start/stop respected."""
    from neurosim import LIFParams, Network, PoissonSource, Population, SpikeMonitor

    src = PoissonSource("x", 200, rate_hz=40.0, start_ms=100.0, stop_ms=900.0)
    net = Network(dt_ms=0.5, populations=(Population("p", 1, LIFParams()),), sources=(src,),
                  monitors=(SpikeMonitor("x"),))
    sim = Simulator(net, backend="numba", seed=1)
    sim.add_observer(lambda s: None, every_steps=37)  # odd chunking must not matter
    sim.run(1000.0)
    t, i = sim.spikes("x")
    assert t.min() >= 100.0 and t.max() < 900.0
    counts = np.bincount(i, minlength=200)
    expected = 40.0 * 0.8  # 32 spikes per neuron in 800 ms
    assert abs(counts.mean() - expected) < 4 * np.sqrt(expected / 200)
    fano = counts.var(ddof=1) / counts.mean()
    assert 0.75 < fano < 1.25  # binomial with p = 0.02: Fano = 1 - p
    isi = np.diff(np.sort(t[i == 0]))
    assert np.all(isi >= 0.5)  # at most one spike per step


def test_spikes_since_reads_only_recent_spikes() -> None:
    sim = Simulator(recurrent_ei(100), backend="numba", seed=1)
    for _ in range(4):
        sim.run(7.0)  # chunk ends at ticks 69, 139, 209, 279
    t_all, i_all = sim.spikes("e")
    for since in (0.0, 6.9, 7.0, 13.9, 14.0, 20.5, 27.9, 28.0):
        t, i = sim.spikes("e", since_ms=since)
        keep = t_all >= since - 1e-9
        np.testing.assert_array_equal(t, t_all[keep])
        np.testing.assert_array_equal(i, i_all[keep])
