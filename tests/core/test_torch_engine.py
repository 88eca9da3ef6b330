"""The torch engine: float64 on the CPU equals the reference engine bit for bit, float32
stays within its documented tolerance, batches hold independent trials."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

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
    backends,  # noqa: E402
)
from neurosim.backends.torch_engine import TorchEngine  # noqa: E402
from neurosim.compiled import compile_network  # noqa: E402
from tests.core.networks import CA3_CELL, EI_CELL  # noqa: E402

CELL = EI_CELL
FAST = CA3_CELL


def _jitter(connector, n_pre: int, n_post: int, mean: float, seed: int, same: bool = False) -> np.ndarray:
    """Per-connection weights (mean x U[0.5, 1.5)): with distinct weights the float64 sums
    depend on the order in which a tick's events are added."""
    n = connector.connect(n_pre, n_post, same=same)[0].size
    return mean * np.random.default_rng(seed).uniform(0.5, 1.5, n)


def recurrent_net(n: int = 250, stdp: STDP | None = None, rate_hz: float = 40.0) -> Network:
    """Poisson-driven E/I network, FixedProbability connectivity, delays 1..3 steps."""
    n_e, n_i = int(0.8 * n), n - int(0.8 * n)
    ee = FixedProbability(0.06, allow_self_connections=False, seed=1)
    n_ee = ee.connect(n_e, n_e, same=True)[0].size
    conns = {"ei": FixedProbability(0.06, seed=2), "ie": FixedProbability(0.1, seed=3),
             "ii": FixedProbability(0.1, allow_self_connections=False, seed=4),
             "drive_e": FixedProbability(0.12, seed=5), "drive_i": FixedProbability(0.12, seed=6)}
    return Network(
        dt_ms=0.1,
        populations=(Population("e", n_e, CELL), Population("i", n_i, CELL)),
        sources=(PoissonSource("drive", 80, rate_hz=rate_hz), SpikeSourceArray.empty("cue", 10)),
        projections=(
            Projection("ee", "e", "e", ee, plasticity=stdp,
                       weight_nA=_jitter(ee, n_e, n_e, 0.06 if stdp is None else 0.5 * stdp.w_max_nA, 1, True),
                       delay_steps=np.random.default_rng(9).integers(1, 4, n_ee)),
            Projection("ei", "e", "i", conns["ei"], weight_nA=_jitter(conns["ei"], n_e, n_i, 0.09, 2),
                       delay_steps=1),
            Projection("ie", "i", "e", conns["ie"], weight_nA=_jitter(conns["ie"], n_i, n_e, 0.3, 3),
                       delay_steps=3, receptor="inhibitory"),
            Projection("ii", "i", "i", conns["ii"], weight_nA=_jitter(conns["ii"], n_i, n_i, 0.2, 4, True),
                       delay_steps=2, receptor="inhibitory"),
            Projection("drive_e", "drive", "e", conns["drive_e"],
                       weight_nA=_jitter(conns["drive_e"], 80, n_e, 0.25, 5), delay_steps=1),
            Projection("drive_i", "drive", "i", conns["drive_i"],
                       weight_nA=_jitter(conns["drive_i"], 80, n_i, 0.25, 6), delay_steps=2),
            Projection("cue_e", "cue", "e", FixedProbability(0.3, seed=7),
                       weight_nA=1.5 if stdp is None else stdp.w_max_nA, delay_steps=1, plasticity=stdp),
        ),
        monitors=(SpikeMonitor("e"), SpikeMonitor("i"), SpikeMonitor("drive"),
                  StateMonitor("e", tuple(range(n_e)), ("v_mV", "i_syn_e_nA", "i_syn_i_nA"))),
    )


def stdp_net() -> Network:
    """Two small populations driven one-to-one, learning in both directions with both rules
    (dt = 1 ms, sub-step time constants: coincidences at delay 1, clipping at w_min/w_max)."""
    add = STDP(tau_plus_ms=3.0, tau_minus_ms=3.0, A_plus=0.5, A_minus=0.6, w_max_nA=6.0)
    mult = STDP(tau_plus_ms=5.0, tau_minus_ms=4.0, A_plus=0.3, A_minus=0.35, w_max_nA=6.0,
                weight_dependence="multiplicative")
    rng = np.random.default_rng(11)
    trains_a = [np.sort(rng.choice(200, size=30, replace=False)).astype(float) for _ in range(6)]
    trains_b = [np.sort(rng.choice(200, size=30, replace=False)).astype(float) for _ in range(7)]
    return Network(
        dt_ms=1.0,
        populations=(Population("a", 6, FAST), Population("b", 7, FAST)),
        sources=(SpikeSourceArray("in_a", tuple(trains_a)), SpikeSourceArray("in_b", tuple(trains_b))),
        projections=(
            Projection("in_a_a", "in_a", "a", OneToOne(), weight_nA=6.0, delay_steps=1),
            Projection("in_b_b", "in_b", "b", OneToOne(), weight_nA=6.0, delay_steps=1),
            Projection("ab", "a", "b", AllToAll(), weight_nA=1.0, delay_steps=1, plasticity=add),
            Projection("ba", "b", "a", AllToAll(), weight_nA=3.0,
                       delay_steps=rng.integers(1, 4, 42), plasticity=mult),
            Projection("bb_inh", "b", "b", AllToAll(allow_self_connections=False), weight_nA=2.0,
                       delay_steps=1, receptor="inhibitory"),
        ),
        monitors=(SpikeMonitor("a"), SpikeMonitor("b")),
    )


def feedforward_net() -> Network:
    rng = np.random.default_rng(7)
    trains = [np.sort(rng.choice(np.arange(0, 100.0, 0.1), size=8, replace=False)).round(1) for _ in range(20)]
    cell = LIFParams(tau_m_ms=10.0, cm_nF=0.25, tau_syn_e_ms=2.0, tau_syn_i_ms=4.0, tau_refrac_ms=2.0)
    pre, post = np.nonzero(rng.random((20, 30)) < 0.5)
    return Network(
        dt_ms=0.1,
        populations=(Population("a", 30, cell), Population("b", 10, cell)),
        sources=(SpikeSourceArray("inp", tuple(trains)),),
        projections=(
            Projection("inp_a", "inp", "a", FromList(pre, post), weight_nA=1.2,
                       delay_steps=rng.integers(1, 4, pre.size)),
            Projection("a_b", "a", "b", AllToAll(), weight_nA=0.4, delay_steps=2),
            Projection("inp_b", "inp", "b", FixedProbability(0.3, seed=3), weight_nA=0.5,
                       delay_steps=3, receptor="inhibitory"),
        ),
        monitors=(SpikeMonitor("a"), SpikeMonitor("b")),
    )


def _spikes(sim: Simulator, trial: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {name: sim.spikes(name, trial) for name in sorted(sim._spike_targets)}


def _assert_same_spikes(a: Simulator, b: Simulator, trial_a: int = 0, trial_b: int = 0) -> int:
    total = 0
    for name, (t, i) in _spikes(a, trial_a).items():
        t_ref, i_ref = b.spikes(name, trial_b)
        np.testing.assert_array_equal(t, t_ref, err_msg=f"{name} spike times")
        np.testing.assert_array_equal(i, i_ref, err_msg=f"{name} spike ids")
        total += t.size
    return total


def _neuron_spike_count(sim: Simulator, trial: int = 0) -> int:
    return sum(sim.spikes(p.name, trial)[0].size for p in sim.network.populations
               if p.name in sim._spike_targets)


# -- float64 on the CPU: bit for bit the reference ----------------------------------------------
def test_float64_recurrent_equals_reference() -> None:
    net = recurrent_net()
    runs = []
    for backend, kw in (("reference", {}), ("torch", {"dtype": "float64", "device": "cpu"})):
        sim = Simulator(net, backend=backend, seed=4, **kw)
        sim.run(60.0)
        with pytest.warns(RuntimeWarning, match="1 spikes fall on a tick"):  # (60 ms, 2) twice: merged into one
            sim.add_spikes("cue", [60.0, 60.0, 60.0, 75.3], [2, 5, 2, 2])
        sim.run(90.0)
        runs.append(sim)
    ref, sim = runs
    assert _assert_same_spikes(sim, ref) > 300
    assert _neuron_spike_count(sim) > 100, "the recurrent network must spike for this to mean anything"
    a, b = sim.state("e"), ref.state("e")
    assert a.values["v_mV"].shape == (1500, 200)
    for var in a.values:
        np.testing.assert_array_equal(a.values[var], b.values[var], err_msg=var)
    for pr in net.projections:
        np.testing.assert_array_equal(sim.weights(pr.name), ref.weights(pr.name), err_msg=pr.name)
    assert sim.engine.events_delivered() == ref.engine.events_delivered() > 0


RECURRENT_ADD = STDP(tau_plus_ms=16.8, tau_minus_ms=33.7, A_plus=0.02, A_minus=0.015, w_max_nA=0.12)
RECURRENT_MULT = STDP(A_plus=0.05, A_minus=0.06, w_max_nA=0.12, weight_dependence="multiplicative")


@pytest.mark.parametrize("make", [stdp_net, lambda: recurrent_net(200, RECURRENT_ADD),
                                  lambda: recurrent_net(200, RECURRENT_MULT)],
                         ids=["small_two_rules", "recurrent_additive", "recurrent_multiplicative"])
def test_float64_stdp_equals_reference(make) -> None:
    net = make()
    duration = 210.0 if net.dt_ms == 1.0 else 100.0
    ref = Simulator(net, backend="reference", seed=2)
    sim = Simulator(net, backend="torch", seed=2, dtype="float64", device="cpu")
    for s in (ref, sim):
        s.run(duration / 2)
        if "cue" in s.compiled.offsets:   # a duplicate time merges into one spike
            with pytest.warns(RuntimeWarning, match="1 spikes fall on a tick"):
                s.add_spikes("cue", [s.t_ms, s.t_ms, s.t_ms + 3.0], [1, 1, 4])
        s.run(duration / 2)
    assert _assert_same_spikes(sim, ref) > 100
    learned = 0
    for pr in net.projections:
        w = sim.weights(pr.name)
        np.testing.assert_array_equal(w, ref.weights(pr.name), err_msg=pr.name)
        if pr.plasticity is not None:
            w0 = net.connections(pr.name).weight_nA
            learned += int(np.sum(np.abs(w - w0) > 1e-6))
    assert learned > 20, "STDP must move weights for the comparison to mean anything"
    assert sim.engine.weights().dtype == np.float64
    assert sim.engine.weights().shape == (1, sim.compiled.n_synapses)


def test_large_network_path_without_target_table(monkeypatch) -> None:
    """Above _TABLE_LIMIT delivery targets are computed per tick instead of read from a table."""
    from neurosim.backends import torch_engine

    net = recurrent_net(200, RECURRENT_ADD)
    runs = []
    for limit in (torch_engine._TABLE_LIMIT, 0):
        monkeypatch.setattr(torch_engine, "_TABLE_LIMIT", limit)
        sim = Simulator(net, backend="torch", seed=6, batch_size=2, device="cpu")
        assert (sim.engine.tgt_tab is None) == (limit == 0)
        sim.run(60.0)
        runs.append(sim)
    for trial in (0, 1):
        assert _assert_same_spikes(runs[0], runs[1], trial, trial) > 50
        np.testing.assert_array_equal(runs[0].weights("ee", trial), runs[1].weights("ee", trial))


def test_stdp_clips_additive_and_spreads_multiplicative() -> None:
    """The small STDP network exercises both rules: additive weights are clipped at w_min = 0,
    multiplicative ones spread out but stay strictly inside (w_min, w_max) (soft bounds)."""
    sim = Simulator(stdp_net(), backend="torch", device="cpu")
    sim.run(210.0)
    ab, ba = sim.weights("ab"), sim.weights("ba")
    assert np.sum(ab == 0.0) >= 5 and np.sum(ab > 0.5) >= 5 and ab.max() <= 6.0
    assert 0.0 < ba.min() and ba.max() < 6.0 and np.ptp(ba) > 0.5


# -- float32 ----------------------------------------------------------------------------------
def test_float32_feedforward_within_tolerance() -> None:
    net = feedforward_net()
    a = Simulator(net, backend="torch", dtype="float64", device="cpu")
    b = Simulator(net, backend="torch", dtype="float32", device="cpu")
    a.run(120.0)
    b.run(120.0)
    for name in ("a", "b"):
        (t64, i64), (t32, i32) = a.spikes(name), b.spikes(name)
        assert t64.size > 20
        assert abs(t32.size - t64.size) <= 0.03 * t64.size, name
        for j in np.unique(i64):
            assert t32[i32 == j][:1].tolist() == t64[i64 == j][:1].tolist(), f"{name}[{j}] first spike"


def test_float32_recurrent_spike_counts_within_tolerance() -> None:
    net = recurrent_net()
    a = Simulator(net, backend="torch", dtype="float64", device="cpu", seed=1)
    b = Simulator(net, backend="torch", dtype="float32", device="cpu", seed=1)
    a.run(150.0)
    b.run(150.0)
    n64, n32 = _neuron_spike_count(a), _neuron_spike_count(b)
    assert n64 > 100
    assert abs(n32 - n64) <= 0.03 * n64
    assert a.spikes("e")[0][0] == b.spikes("e")[0][0]
    s = b.state("e")
    assert s.values["v_mV"].dtype == np.float64


# -- batches ---------------------------------------------------------------------------------
def test_batch_trial_zero_equals_unbatched_run_and_trials_differ() -> None:
    net = recurrent_net(200, RECURRENT_ADD)
    batch = Simulator(net, backend="torch", batch_size=3, seed=5, device="cpu")
    single = Simulator(net, backend="torch", seed=5, device="cpu")
    for s in (batch, single):
        s.run(50.0)
        s.run(50.0)
    assert _assert_same_spikes(batch, single) > 100
    np.testing.assert_array_equal(batch.weights("ee", 0), single.weights("ee"))
    np.testing.assert_array_equal(batch.state("e", 0).values["v_mV"], single.state("e").values["v_mV"])
    # each trial has its own Poisson drive, so its own spikes and its own learned weights
    for trial in (1, 2):
        assert not np.array_equal(batch.spikes("drive", trial)[0], batch.spikes("drive", 0)[0])
        assert not np.array_equal(batch.spikes("e", trial)[0], batch.spikes("e", 0)[0])
        assert not np.array_equal(batch.weights("ee", trial), batch.weights("ee", 0))
    w = batch.engine.weights()
    assert w.shape == (3, batch.compiled.n_synapses)
    assert batch.engine.events_delivered() > single.engine.events_delivered()


def test_batch_added_spikes_reach_only_their_trial() -> None:
    net = recurrent_net(150, rate_hz=20.0)
    runs = []
    for cue in (False, True):
        sim = Simulator(net, backend="torch", batch_size=3, seed=8, device="cpu")
        sim.run(20.0)
        if cue:
            sim.add_spikes("cue", [20.0] * 10 + [30.0] * 10, list(range(10)) * 2, trial=1)
        sim.run(40.0)
        runs.append(sim)
    plain, cued = runs
    assert _neuron_spike_count(cued, 1) > _neuron_spike_count(plain, 1)
    for trial in (0, 2):
        _assert_same_spikes(cued, plain, trial, trial)
        np.testing.assert_array_equal(cued.state("e", trial).values["v_mV"], plain.state("e", trial).values["v_mV"])
    assert not np.array_equal(cued.state("e", 1).values["v_mV"], plain.state("e", 1).values["v_mV"])


def test_batch_on_reference_is_refused() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        Simulator(feedforward_net(), backend="reference", batch_size=2)


# -- construction -------------------------------------------------------------------------------
def test_engine_checks_dtype_and_device() -> None:
    net = compile_network(feedforward_net())
    kw = {"batch_size": 1, "record": np.zeros(net.n_nodes, bool), "traced": np.zeros(0, np.int64)}
    assert backends.is_available("torch")  # the registry answers, without importing torch
    assert TorchEngine.name == "torch" and TorchEngine.supports_batch
    with pytest.raises(ValueError, match=r"dtype = 'float16'"):
        TorchEngine(net, dtype="float16", device="cpu", **kw)
    with pytest.raises(ValueError, match=r"device = 'tpu'"):
        TorchEngine(net, dtype="float64", device="tpu", **kw)
    eng = TorchEngine(net, dtype="float32", device=None, **kw)
    assert eng.dev.type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert eng.w.dtype == torch.float32
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match=r"device = 'cuda'"):
            TorchEngine(net, dtype="float64", device="cuda", **kw)


# -- CUDA ------------------------------------------------------------------------------------
@pytest.mark.gpu
def test_cuda_float32_batch_matches_cpu() -> None:
    if not torch.cuda.is_available():
        pytest.skip("CUDA is not available")
    net = recurrent_net()
    runs = {}
    for device in ("cpu", "cuda"):
        sim = Simulator(net, backend="torch", batch_size=4, seed=3, dtype="float32", device=device)
        sim.run(40.0)
        sim.add_spikes("cue", [40.0] * 10, list(range(10)), trial=2)
        sim.run(60.0)
        runs[device] = sim
    cpu, gpu = runs["cpu"], runs["cuda"]
    assert gpu.engine.dev.type == "cuda"
    for trial in range(4):
        n_cpu, n_gpu = _neuron_spike_count(cpu, trial), _neuron_spike_count(gpu, trial)
        assert n_cpu > 50
        assert abs(n_gpu - n_cpu) <= 0.03 * n_cpu, trial
        assert cpu.spikes("e", trial)[0][0] == gpu.spikes("e", trial)[0][0]
        np.testing.assert_array_equal(cpu.spikes("drive", trial)[0], gpu.spikes("drive", trial)[0])
    assert gpu.engine.events_delivered() > 0
