"""The core demo: a recurrent E/I network learning with STDP.

800 excitatory and 200 inhibitory LIF neurons (the benchmark network of
:mod:`neurosim.bench` at N = 1000), driven by Poisson inputs, with pair STDP on
E->E synapses, run for 2 s of biological time. Writes the spikes, a few membrane
traces and weight snapshots to HDF5, a raster with population rates, and the
evolution of the E->E weights.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from neurosim import Simulator, StateMonitor, WeightMonitor
from neurosim.bench import core_network
from neurosim.experiments import Outcome, engine
from neurosim.io import save_simulation
from neurosim.network import Network
from neurosim.plotting import raster, weight_evolution


def network(n: int = 1000) -> Network:
    base = core_network(n)
    monitors = (*base.monitors, StateMonitor("exc", (0, 1, 2)), WeightMonitor("ee", every_ms=100.0))
    return Network(dt_ms=base.dt_ms, populations=base.populations, sources=base.sources,
                   projections=base.projections, monitors=monitors)


def exportable(name: str = "core-demo") -> tuple[Network, None, float]:  # noqa: ARG001 - the registry's signature
    """(network, spike inputs, duration ms) for ``neurosim export``: the demo network, its own Poisson drive, 2 s."""
    return network(), None, 2000.0


def run(*, backend: str = "numba", device: str | None = None, seed: int = 0, out: Path | str = "results/demo.h5",
        resume: bool = False, progress: bool = True, n: int = 1000, duration_ms: float = 2000.0) -> Outcome:  # noqa: ARG001
    eng = engine("core-demo", backend, device)
    backend = eng["backend"]
    out = Path(out)
    net = network(n)
    t0 = time.perf_counter()
    sim = Simulator(net, backend=backend, seed=seed, device=eng["device"])
    sim.run(duration_ms, progress=progress)
    wall = time.perf_counter() - t0
    times, w = sim.weight_history("ee")
    config = {"experiment": "core-demo", "n": n, "duration_ms": duration_ms, "dt_ms": net.dt_ms}
    metrics = {"wall_time": (np.array(wall), "s"), "mean_ee_weight": (w.mean(axis=1), "nA"),
               "mean_ee_weight_times": (times, "ms")}
    save_simulation(out, sim, config=config, metrics=metrics)
    stem = out.with_suffix("")
    spikes = {p: sim.spikes(p) for p in ("exc", "inh")}
    sizes = {p.name: p.size for p in net.populations}
    files = [out,
             raster(spikes, f"{stem}_raster.png", sizes=sizes, rate_bin_ms=10.0, t_max_ms=duration_ms,
                    title=f"core demo: {n} LIF neurons, STDP on E->E ({backend}, seed {seed})"),
             weight_evolution(times, w, f"{stem}_weights.png", w_max=net.projection("ee").plasticity.w_max_nA,
                              title="E->E weights under STDP")]
    rows = [[p, sizes[p], spikes[p][0].size, spikes[p][0].size / sizes[p] / (duration_ms / 1000.0)] for p in spikes]
    rows.append(["E->E weight (nA)", w.shape[1], f"{w[0].mean():.4f} -> {w[-1].mean():.4f}", ""])
    rows.append(["wall time (s)", "", f"{wall:.2f}", f"{duration_ms / 1000.0 / wall:.1f}x real time"])
    return Outcome(title=f"core-demo on {backend}", columns=["population", "neurons", "spikes", "rate (Hz)"],
                   rows=rows, files=files)
