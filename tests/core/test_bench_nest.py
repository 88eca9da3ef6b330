"""NEST as a ``bench core`` engine (neurosim.bench_nest): the translation is exact where the dynamics
allow it (spike timing, delays, STDP pairing), and on the bench network NEST's population rates and
STDP weight drift agree with numba's."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from neurosim.bench import core_network
from neurosim.compiled import compile_network
from neurosim.connectors import AllToAll, FromList
from neurosim.network import LIFParams, Network, Population, Projection, SpikeMonitor, SpikeSourceArray
from neurosim.plasticity import STDP
from neurosim.simulator import Simulator

if importlib.util.find_spec("nest") is None:
    pytest.skip("nest is not installed", allow_module_level=True)
from neurosim import bench_nest  # noqa: E402  (imports NEST itself, quietly, when first used)


def _ticks_nodes(sim: Simulator, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    c = sim.compiled
    tick = np.concatenate([np.rint(sim.spikes(n)[0] / c.dt_ms).astype(np.int64) for n in names])
    node = np.concatenate([sim.spikes(n)[1] + c.offsets[n][0] for n in names])
    order = np.lexsort((node, tick))
    return tick[order], node[order]


def _nest(net: Network, duration_ms: float, seed: int = 0, threads: int = 1) -> dict:
    ext = Simulator(net, backend="reference", seed=seed).draw_inputs(duration_ms)
    return bench_nest.simulate(net, duration_ms, ext, threads, weights=True)


def test_spikes_and_stdp_weights_equal_neurosims_where_the_timing_allows() -> None:
    """Neurons that each fire exactly once per input spike (strong, fast input): same spike ticks in
    NEST as in neurosim (so delays d - 1, the leading step and the generator times are right), and the
    STDP weights (additive and multiplicative, excitatory and inhibitory) agree to rounding.

    Input ticks are multiples of 4, pre spikes come 1 tick and post spikes 2 ticks after their input,
    the delays are 3, 5 and 7: no pair has t_post + d - t_pre = 1 step (the one pairing NEST does
    differently, see bench_nest); pairs at 0 (depression in both) occur. The last spikes are placed
    so that NEST has no pending potentiation at the end: every arrival on a synapse comes at most one
    step after its last pre spike (NEST applies it then) or after the end of the run (neither applies
    it)."""
    rng = np.random.default_rng(1)
    fast = LIFParams(tau_m_ms=20.0, cm_nF=0.2, v_rest_mV=-60.0, v_reset_mV=-60.0, v_thresh_mV=-50.0,
                     tau_refrac_ms=2.0, tau_syn_e_ms=0.5, tau_syn_i_ms=10.0, v_init_mV=-60.0)

    def train(last: float | None = None) -> np.ndarray:
        t = (np.sort(rng.choice(np.arange(1, 500), 30, replace=False)) * 32 + 4 * rng.integers(0, 2, 30)) * 0.1
        return t if last is None else np.append(t, last)

    # last spikes: post neurons at tick 19990, pre neurons at 19997 (ticks are 1 and 2 after the input)
    src = SpikeSourceArray("in", (train(1999.6), train(1999.6), train(1998.8), train(1998.8)))
    add = STDP(tau_plus_ms=16.8, tau_minus_ms=33.7, A_plus=0.01, A_minus=0.011, w_max_nA=0.01)
    mul = STDP(tau_plus_ms=10.0, tau_minus_ms=33.7, A_plus=0.1, A_minus=0.12, w_max_nA=0.01,
               weight_dependence="multiplicative")
    net = Network(
        dt_ms=0.1, populations=(Population("pre", 2, fast), Population("post", 2, fast)), sources=(src,),
        projections=(
            Projection("in_pre", "in", "pre", FromList(np.array([0, 1]), np.array([0, 1])), weight_nA=60.0,
                       delay_steps=1),
            Projection("in_post", "in", "post", FromList(np.array([2, 3]), np.array([0, 1])), weight_nA=60.0,
                       delay_steps=2),
            Projection("add", "pre", "post", AllToAll(), weight_nA=0.005, delay_steps=3, plasticity=add),
            Projection("mul", "pre", "post", AllToAll(), weight_nA=0.005, delay_steps=5, plasticity=mul),
            Projection("back", "post", "pre", AllToAll(), weight_nA=0.005, delay_steps=7, receptor="inhibitory",
                       plasticity=add),
        ),
        monitors=(SpikeMonitor("pre"), SpikeMonitor("post")))
    sim = Simulator(net, backend="reference")
    sim.run(2000.0)
    out = _nest(net, 2000.0)
    tick, node = _ticks_nodes(sim, ("pre", "post"))
    c = compile_network(net)
    plastic = np.flatnonzero(c.syn_rule >= 0)
    lags = [np.subtract.outer(tick[node == c.syn_post[k]] + c.syn_delay[k], tick[node == c.syn_pre[k]])
            for k in plastic]
    assert sum(np.sum(x == 0) for x in lags) > 0 and sum(np.sum(x == 1) for x in lags) == 0
    assert tick.size == 4 * 31  # one spike per input spike
    assert np.array_equal(out["tick"], tick) and np.array_equal(out["node"], node)
    syn, w = out["weights"]
    w_ref = sim.engine.weights()[0, syn]
    moved = np.abs(w_ref - c.syn_w0[syn])
    assert moved.min() > 1e-4 and w_ref.max() < 0.01 and w_ref.min() > 0  # learned, never clipped
    np.testing.assert_allclose(w, w_ref, rtol=1e-12, atol=0)


def _applied_later_by_nest(net: Network, tick: np.ndarray, node: np.ndarray, n_ticks: int,
                           syn: np.ndarray) -> np.ndarray:
    """Potentiation (additive rule) that neurosim has applied by the end of the run but NEST has not:
    NEST applies a post spike's potentiation at the synapse's next pre spike, so arrivals after the
    last pre spike of each synapse (ticks t_last + 2 .. n_ticks - 1; t_last + 1 is paired at t_last)."""
    c = compile_network(net)
    rule = c.rules[0]
    assert not rule.multiplicative
    tau = rule.tau_plus_ms / c.dt_ms
    order = np.lexsort((tick, node))
    bounds = np.searchsorted(node[order], np.arange(c.n_neurons + 1))
    trains = [tick[order][bounds[i]:bounds[i + 1]] for i in range(c.n_neurons)]
    out = np.zeros(syn.size)
    for m, k in enumerate(syn):
        pre, arrivals = trains[c.syn_pre[k]], trains[c.syn_post[k]] + c.syn_delay[k]
        if pre.size:
            last = pre[-1]
            late = arrivals[(arrivals >= last + 2) & (arrivals <= n_ticks - 1)]
            k_plus = np.exp(-(last - pre) / tau).sum()
            out[m] = rule.A_plus * rule.w_max_nA * k_plus * np.exp(-(late - last) / tau).sum()
    return out


@pytest.mark.parametrize("stdp", [False, True], ids=["static", "stdp"])
def test_population_rates_and_stdp_drift_agree_with_numba(stdp: bool) -> None:
    """The bench network at N = 1000, 500 ms, same input: exc and inh rates within 3%. The spike
    trains themselves part after a while (NEST integrates the synaptic current exactly within a step,
    neurosim holds it constant: same charge, second-order differences, amplified by the recurrent
    network). With STDP, the mean E->E weight change agrees within 5% once NEST's pending
    potentiations are added (measured: about 1%; without them NEST's drift is about 7% larger)."""
    duration = 500.0
    net = core_network(1000, stdp=stdp)
    c = compile_network(net)
    sim = Simulator(net, backend="numba", seed=0)
    sim.run(duration)
    out = _nest(net, duration)
    tick, node = _ticks_nodes(sim, ("exc", "inh"))
    n_exc = c.offsets["exc"][1]
    for rates in [(np.sum(node < n_exc), np.sum(out["node"] < n_exc)),
                  (np.sum(node >= n_exc), np.sum(out["node"] >= n_exc))]:
        assert rates[0] > 1000 and abs(rates[1] / rates[0] - 1) < 0.03, rates
    if stdp:
        syn, w_nest = out["weights"]
        w0 = c.syn_w0[syn].mean()
        drift_numba = sim.engine.weights()[0, syn].mean() - w0
        pending = _applied_later_by_nest(net, out["tick"], out["node"], round(duration / c.dt_ms), syn)
        drift_nest = (w_nest + pending).mean() - w0
        assert abs(drift_numba) > 0.05 * w0  # STDP does something measurable
        assert abs(drift_nest / drift_numba - 1) < 0.05, (drift_nest, drift_numba)


def test_thread_counts_give_the_same_spikes() -> None:
    net = core_network(400)
    one, two = _nest(net, 200.0, threads=1), _nest(net, 200.0, threads=2)
    assert np.array_equal(one["tick"], two["tick"]) and np.array_equal(one["node"], two["node"])
    np.testing.assert_array_equal(one["weights"][1], two["weights"][1])


def test_a_one_step_neuron_delay_is_refused() -> None:
    cell = LIFParams()
    net = Network(dt_ms=0.1, populations=(Population("a", 2, cell),),
                  projections=(Projection("aa", "a", "a", AllToAll(False), weight_nA=0.1, delay_steps=1),))
    with pytest.raises(ValueError, match="delay of 1 step is not allowed on NEST"):
        _nest(net, 10.0)
