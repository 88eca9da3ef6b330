"""Seed-to-seed variability of the core network: one trial per seed, resumable.

The core demo's network (N = 1000, STDP on E->E) run for ``duration_ms`` under
``n_trials`` different seeds (seed, seed + 1, ...): only the Poisson drive differs.
Each trial stores its spikes and E->E weight snapshots and its rates and mean
weight change as metrics; trials are written one at a time, so an interrupted
run keeps every finished trial and ``neurosim run core-seeds --resume`` goes on
from there.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from neurosim import Simulator
from neurosim.experiments import Outcome, engine
from neurosim.experiments.core_demo import network
from neurosim.io import ResultsWriter, read_results


def run(*, backend: str = "numba", device: str | None = None, seed: int = 0, out: Path | str = "results/core-seeds.h5",
        resume: bool = False, progress: bool = True, n: int = 1000, duration_ms: float = 1000.0,
        n_trials: int = 8) -> Outcome:
    eng = engine("core-seeds", backend, device)
    out = Path(out)
    net = network(n)
    config = {"experiment": "core-seeds", "n": n, "duration_ms": duration_ms, "n_trials": n_trials,
              "first_seed": seed, "dt_ms": net.dt_ms}
    with ResultsWriter(out, config=config, meta={**eng, "seed": seed}, resume=resume) as writer:
        todo = [k for k in range(n_trials) if k not in writer.finished_trials]
        for k in tqdm(todo, desc="trials", disable=not progress):
            sim = Simulator(net, backend=eng["backend"], seed=seed + k, device=eng["device"])
            sim.run(duration_ms)
            times, w = sim.weight_history("ee")
            rates = {p: sim.spikes(p)[0].size / net.population(p).size / (duration_ms / 1000.0)
                     for p in ("exc", "inh")}
            writer.write_trial(
                k,
                spikes={p: sim.spikes(p) for p in ("exc", "inh")},
                weights={"ee": (times, w)},
                metrics={"rate_exc": (np.array(rates["exc"]), "Hz"), "rate_inh": (np.array(rates["inh"]), "Hz"),
                         "mean_ee_weight_change": (np.array(w[-1].mean() - w[0].mean()), "nA")},
                attrs={"seed": seed + k},
            )
        writer.close()
    res = read_results(out)
    rows = []
    for k, trial in sorted(res.trials.items()):
        m = trial.metrics
        rows.append([k, trial.attrs["seed"], float(m["rate_exc"][0]), float(m["rate_inh"][0]),
                     float(m["mean_ee_weight_change"][0])])
    rates = np.array([r[2] for r in rows])
    rows.append(["mean +- sd", "", f"{rates.mean():.2f} +- {rates.std(ddof=1):.2f}", "", ""])
    return Outcome(title=f"core-seeds on {eng['backend']} ({eng['device']}): {n_trials} seeds",
                   columns=["trial", "seed", "exc rate (Hz)", "inh rate (Hz)", "E->E weight change (nA)"],
                   rows=rows, files=[out])
