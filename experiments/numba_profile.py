"""Where the numba engine's time and memory go, for docs/benchmarks.md (issue 18).

``python -m neurosim.experiments.numba_profile [--n 2000]`` prints three measurements:

- the neuron update alone: ``neurosim bench core``'s 4000 neurons, no synapses, each driven by its
  own constant current (spread so that refractory periods do not line up, a few spikes/s), ns per neuron and tick;
- delivery over the CA3 circuit's own rows (n = m = ``--n``, after a few learn operations): every
  plastic row of 2000 or more synapses delivered once per repeat through ``deliver_part`` with
  learning on, off, and read as static rows; ns per synaptic event, best of five;
- the circuit's resident memory per synapse (Linux: ``/proc/self/statm``), and a tick of the idle
  circuit (no input for 400 ms before).

A profile, not a benchmark: absolute figures on a shared machine, no anchor run beside them.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def neuron_update_ns(n: int = 4000, duration_ms: float = 1000.0) -> tuple[float, float]:
    from neurosim import LIFParams, Network, Population, Simulator, SpikeMonitor

    cell = LIFParams(tau_m_ms=20.0, cm_nF=0.2, v_rest_mV=-60.0, v_reset_mV=-60.0, v_thresh_mV=-50.0,
                     tau_refrac_ms=2.0, tau_syn_e_ms=5.0, tau_syn_i_ms=10.0)
    net = Network(dt_ms=0.1, populations=(Population("a", n, cell),), monitors=(SpikeMonitor("a"),))
    sim = Simulator(net, backend="numba", seed=0)
    sim.set_offset("a", np.random.default_rng(0).uniform(0.1, 0.11, n))  # v_inf 0-1 mV above threshold
    sim.run(10.0)
    best = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        sim.run(duration_ms)
        best = min(best, time.perf_counter() - t0)
    rate = sim.spikes("a")[0].size / n / (sim.t_ms / 1000.0)
    return best / (n * duration_ms / 0.1) * 1e9, rate


def ca3_delivery(n: int) -> dict[str, float]:
    from neurosim.backends.numba_synapses import deliver_part
    from neurosim.models.ca3 import CA3Memory
    from neurosim.models.ca3_oracle import random_operations

    rng = np.random.default_rng(0)
    ops = random_operations(rng, n, n, 20, max_bits=max(1, n // 10), max_query_bits=max(1, n // 20), relearn=False)
    mem = CA3Memory(n, n, backend="numba", plastic_recall=False)
    mem.run_schedule([(mem.op_ms * k, op) for k, op in enumerate(ops)])
    statm = open("/proc/self/statm").read().split()  # noqa: SIM115 - one read
    resident = int(statm[1]) * 4096
    e, net = mem.sim.engine, mem.sim.compiled
    mem.sim.learning = False
    mem.sim.run(400.0)  # every neuron reaches its fixed point
    t0 = time.perf_counter()
    mem.sim.run(1000.0)
    idle_us = (time.perf_counter() - t0) / 1000.0 / net.dt_ms * 1e6
    rp = e.syn.row_ptr
    lengths = (rp[:, 1:] - rp[:, :-1]).sum(0)
    nodes = np.flatnonzero(e.row_plastic.astype(bool) & (lengths >= n))[:200].astype(np.int64)
    t = e.t_next + 5
    out = {"synapses": float(net.n_synapses), "resident_bytes_per_synapse": resident / net.n_synapses,
           "idle circuit, us per tick": idle_us}
    for label, learn, plastic in (("learning on", True, e.row_plastic), ("learning off", False, e.row_plastic),
                                  ("as static rows", False, np.zeros_like(e.row_plastic))):
        best = np.inf
        for _ in range(5):
            t0 = time.perf_counter()
            events = 0
            for part in range(rp.shape[0]):
                events += deliver_part(part, t, learn, nodes, nodes.size, rp, plastic, e.rec_i, e.rec_f,
                                       net.rule_mult, net.rule_a_plus, net.rule_a_minus, net.rule_w_min,
                                       net.rule_w_max, net.tab_plus, net.tab_minus, e.buf, e.pre_r, e.pre_t,
                                       e.ring_t, e.ring_o, e.ring_l, e.post, e.post_i)
            best = min(best, time.perf_counter() - t0)
        out[f"ns per event, {label}"] = best / events * 1e9
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000, help="CA3 size n = m (default 2000)")
    args = ap.parse_args(argv)
    ns, rate = neuron_update_ns()
    print(f"neuron update, 4000 neurons without synapses at {rate:.1f} spikes/s: {ns:.2f} ns per neuron and tick")
    for key, value in ca3_delivery(args.n).items():
        print(f"CA3 n = m = {args.n}, {key}: {value:,.1f}")


if __name__ == "__main__":
    main()
