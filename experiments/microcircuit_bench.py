"""The Potjans & Diesmann microcircuit on neurosim and on NEST 3.10, side by side with the published rates.

:func:`run_nest` builds the model of :mod:`neurosim.experiments.microcircuit` (the same derived parameters:
sizes, synapse numbers, weights, DC) directly in NEST with NEST's own routines, as the NEST example does:
``fixed_total_number`` with multapses, weights and delays from ``nest.math.redraw(nest.random.normal(...))``,
one ``poisson_generator`` of 8 Hz x K_ext per population (an independent Poisson train per neuron). It is the
published model on the published simulator, an independent reference: connectivity and noise are other draws
of the same statistics, so rates are compared within their seed-to-seed spread, not spike for spike. (Feeding
NEST neurosim's compiled synapse arrays would remove the connectivity draw from the comparison, but doubles the
memory of a run and replaces what is checked: whether neurosim builds the model right.)

:func:`bench` runs each (scale, simulator) in a fresh process, so that peak memory and first-tick times are
those of that run alone. ``python -m neurosim.experiments.microcircuit_bench --scales 0.1,0.2`` prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

from neurosim.experiments.microcircuit import (
    BG_RATE_HZ,
    DELAY_BG_MS,
    DELAY_REL_SD,
    DT_MS,
    FULL_RATES,
    NEURON,
    POPULATIONS,
    V0,
    WEIGHT_REL_SD,
    _rss_gb,
    background_merge,
    check_window,
    derive,
    rates_hz,
    run,
)

SIMULATORS = ("numba", "nest")
# bytes per synapse at the peak of a run, measured (docs/microcircuit.md): the memory guard's estimate
PEAK_BYTES_PER_SYNAPSE = {"numba": 128.0, "nest": 50.0}


def run_nest(scale: float, duration_ms: float = 1000.0, seed: int = 1, *, k_scale: float = 1.0,
             background: str = "poisson", transient_ms: float = 200.0, threads: int = 2, v0: str = "optimized",
             log=print) -> dict:
    """The microcircuit built and simulated in NEST (``iaf_psc_exp``, ``threads`` OpenMP threads); the same
    fields as :func:`neurosim.experiments.microcircuit.run`."""
    import nest

    check_window(duration_ms, transient_ms)
    d = derive(scale, k_scale, background)
    rss0 = _rss_gb()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.ResetKernel()
    nest.set(resolution=DT_MS, local_num_threads=threads, rng_seed=seed + 1, print_time=False)
    t0 = time.perf_counter()
    pops = []
    for i in range(8):
        pop = nest.Create("iaf_psc_exp", int(d.sizes[i]), params={
            "C_m": NEURON["C_m_pF"], "tau_m": NEURON["tau_m_ms"], "tau_syn_ex": NEURON["tau_syn_ms"],
            "tau_syn_in": NEURON["tau_syn_ms"], "E_L": NEURON["E_L_mV"], "V_reset": NEURON["V_reset_mV"],
            "V_th": NEURON["V_th_mV"], "t_ref": NEURON["t_ref_ms"], "I_e": float(d.dc_pa[i])})
        pop.V_m = nest.random.normal(mean=V0[v0][0][i], std=V0[v0][1][i])
        pops.append(pop)
    for i in range(8):
        for j in range(8):
            if d.n_synapses[i, j] == 0:
                continue
            w, delay = float(d.psc_pa[i, j]), float(d.delay_ms[i, j])
            weight = nest.math.redraw(nest.random.normal(mean=w, std=abs(w) * WEIGHT_REL_SD),
                                      min=0.0 if w > 0 else -np.inf, max=np.inf if w > 0 else 0.0)
            delays = nest.math.redraw(nest.random.normal(mean=delay, std=delay * DELAY_REL_SD),
                                      min=DT_MS / 2, max=np.inf)
            nest.Connect(pops[j], pops[i], {"rule": "fixed_total_number", "N": int(d.n_synapses[i, j])},
                         {"synapse_model": "static_synapse", "weight": weight, "delay": delays})
    n_syn = int(d.n_synapses.sum())
    if background == "poisson":
        for i in range(8):
            gen = nest.Create("poisson_generator", params={"rate": BG_RATE_HZ * float(d.k_ext[i])})
            nest.Connect(gen, pops[i], "all_to_all", {"weight": float(d.psc_ext_pa), "delay": DELAY_BG_MS})
            n_syn += int(d.sizes[i])
    recorders = [nest.Create("spike_recorder") for _ in range(8)]
    for pop, rec in zip(pops, recorders, strict=True):
        nest.Connect(pop, rec)
    build = time.perf_counter() - t0
    rss_built = _rss_gb()
    log(f"NEST {nest.__version__} ({threads} threads) scale {scale:g}, k_scale {k_scale:g}: {int(d.sizes.sum()):,} "
        f"neurons, {n_syn:,} synapses, built in {build:.1f} s, RSS {rss_built:.2f} GB")
    t0 = time.perf_counter()
    nest.Simulate(DT_MS)  # includes nest.Prepare(): NEST's presynaptic tables
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    nest.Simulate(round(duration_ms - DT_MS, 9))
    simulate = time.perf_counter() - t0
    spikes = {p: rec.get("events")["times"] for p, rec in zip(POPULATIONS, recorders, strict=True)}
    rates = rates_hz(spikes, d.sizes, transient_ms, duration_ms)
    log("  rates " + "  ".join(f"{p} {r:.2f}" for p, r in rates.items()) + f"  ({simulate:.1f} s simulated)")
    return {"simulator": f"NEST {nest.__version__} ({threads} threads)", "scale": scale, "k_scale": k_scale,
            "background": background, "seed": seed, "duration_ms": duration_ms, "transient_ms": transient_ms,
            "neurons": int(d.sizes.sum()), "synapses": n_syn, "build_s": round(build, 2),
            "first_tick_s": round(first, 2), "sim_s": round(simulate, 2),
            "s_per_bio_s": round(simulate / ((duration_ms - DT_MS) / 1000.0), 2),
            "load_avg_1min": round(os.getloadavg()[0], 2),
            "peak_rss_gb": round(_rss_gb("VmHWM"), 3), "rss_built_gb": round(rss_built, 3),
            "peak_bytes_per_synapse": round((_rss_gb("VmHWM") - rss0) * 2**30 / n_syn, 1), "rates_hz": rates}


def estimated_gb(scale: float, k_scale: float, simulator: str) -> float:
    """Peak memory (GiB) of one run, from its synapse count and the measured peak bytes per synapse."""
    d = derive(scale, k_scale)
    background = d.sizes.sum() if simulator == "nest" else (d.sizes * d.k_ext).sum() / background_merge(d.k_ext)
    per_synapse = PEAK_BYTES_PER_SYNAPSE["nest" if simulator == "nest" else "numba"]
    return 0.1 + (d.n_synapses.sum() + background) * per_synapse / 2**30


def run_isolated(simulator: str, log=print, numba_threads: int | None = None, **kw) -> dict:
    """One run (``simulator`` 'nest' or a neurosim backend) in a fresh Python process; its progress lines go to
    ``log`` as they come. ``numba_threads``: NUMBA_NUM_THREADS of that process (None: numba's default, the cores)."""
    spec = json.dumps({"simulator": simulator, **kw})
    env = dict(os.environ, **({"NUMBA_NUM_THREADS": str(numba_threads)} if numba_threads else {}))
    proc = subprocess.Popen([sys.executable, "-m", "neurosim.experiments.microcircuit_bench", "--one", spec],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    tail = []
    for line in proc.stderr:
        tail = (tail + [line.rstrip()])[-20:]
        if not line.startswith(" ") or line.startswith("  rates"):
            log(line.rstrip())
    out = proc.stdout.read()
    if proc.wait() != 0:
        raise RuntimeError(f"{simulator} run {kw} failed (exit {proc.returncode}):\n" + "\n".join(tail))
    return json.loads(out.strip().splitlines()[-1])


def bench(scales: tuple[float, ...] = (0.1, 0.2), k_scale: float = 1.0, duration_ms: float = 1000.0,
          simulators: tuple[str, ...] = SIMULATORS, seed: int = 1, threads: int = 2, background: str = "poisson",
          transient_ms: float = 200.0, max_gb: float = 8.0, numba_threads: int | None = None,
          log=print) -> list[dict]:
    """One row per (scale, simulator), each run in its own process; a run whose estimated peak memory exceeds
    ``max_gb`` is skipped (said in ``log``, and as a row with ``skipped``). ``threads``: NEST's OpenMP threads;
    ``numba_threads``: the numba engine's (None: numba's default; its parallel neuron update starts from 8192
    neurons)."""
    unknown = set(simulators) - set(SIMULATORS)
    if unknown:
        raise ValueError(f"simulators = {sorted(unknown)} is not allowed: any of {list(SIMULATORS)}")
    rows = []
    for scale in scales:
        for simulator in simulators:
            need = estimated_gb(scale, k_scale, simulator)
            if need > max_gb:
                log(f"{simulator} at scale {scale:g}: skipped, needs ~{need:.1f} GB > max_gb = {max_gb:g}")
                rows.append({"simulator": simulator, "scale": scale, "k_scale": k_scale, "skipped":
                             f"needs ~{need:.1f} GB > {max_gb:g} GB"})
                continue
            kw = {"scale": scale, "k_scale": k_scale, "duration_ms": duration_ms, "seed": seed,
                  "background": background, "transient_ms": transient_ms}
            if simulator == "nest":
                kw["threads"] = threads
            rows.append(run_isolated(simulator, log=log, numba_threads=None if simulator == "nest" else numba_threads,
                                     **kw))
    return rows


def nest_reference(scale: float = 0.1, k_scale: float = 0.1, seeds: tuple[int, ...] = tuple(range(1, 9)),
                   duration_ms: float = 1000.0, transient_ms: float = 200.0, threads: int = 2, log=print) -> dict:
    """Rates of the model on NEST over several seeds (connectivity, initial potentials and Poisson input each
    drawn anew): per population the mean and the seed-to-seed sd, with their provenance. The test of the
    numba engine compares against this record (``experiments/data/microcircuit/``)."""
    import platform

    runs = [run_isolated("nest", log=log, scale=scale, k_scale=k_scale, duration_ms=duration_ms, seed=seed,
                         transient_ms=transient_ms, threads=threads) for seed in seeds]
    rates = np.array([[r["rates_hz"][p] for p in POPULATIONS] for r in runs])
    return {"what": "Potjans & Diesmann (2014) microcircuit, neurosim.experiments.microcircuit parameters, "
                    "built and simulated by NEST with its own routines (run_nest)",
            "simulator": runs[0]["simulator"], "host": platform.node(), "date": time.strftime("%Y-%m-%d"),
            "command": f"python -m neurosim.experiments.microcircuit_bench --reference PATH --scales {scale:g} "
                       f"--k-scale {k_scale:g} --seeds {','.join(map(str, seeds))}",
            "scale": scale, "k_scale": k_scale, "background": "poisson", "duration_ms": duration_ms,
            "transient_ms": transient_ms, "seeds": list(seeds), "populations": list(POPULATIONS),
            "rates_hz_per_seed": np.round(rates, 4).tolist(),
            "mean_hz": dict(zip(POPULATIONS, np.round(rates.mean(axis=0), 4).tolist(), strict=True)),
            "sd_hz": dict(zip(POPULATIONS, np.round(rates.std(axis=0, ddof=1), 4).tolist(), strict=True)),
            "sim_s_per_run": [r["sim_s"] for r in runs]}


def format_table(rows: list[dict]) -> str:
    """A markdown table: rates per population (spikes/s), wall times, memory (peak B/synapse: the peak RSS above
    the process's RSS before building, per synapse); the published rates last."""
    head = ("| scale | k_scale | simulator | neurons | synapses | build s | first tick s | sim s | s per bio s | "
            "peak RSS GiB | peak B/synapse | " + " | ".join(POPULATIONS) + " |")
    lines = [head, "|" + "---|" * (11 + len(POPULATIONS))]
    for r in rows:
        if "skipped" in r:
            lines.append(f"| {r['scale']:g} | {r['k_scale']:g} | {r['simulator']} | skipped: {r['skipped']} |")
            continue
        rates = " | ".join(f"{r['rates_hz'][p]:.2f}" for p in POPULATIONS)
        lines.append(f"| {r['scale']:g} | {r['k_scale']:g} | {r['simulator']} | {r['neurons']:,} | "
                     f"{r['synapses']:,} | {r['build_s']:.1f} | {r['first_tick_s']:.1f} | {r['sim_s']:.1f} | "
                     f"{r['s_per_bio_s']:.1f} | {r['peak_rss_gb']:.2f} | {r['peak_bytes_per_synapse']:.0f} | "
                     f"{rates} |")
    lines.append("| 1 | 1 | published (NEST example, full scale) | 77,169 | ~3.0e8 | | | | | | | "
                 + " | ".join(f"{x:.3f}" for x in FULL_RATES) + " |")
    return "\n".join(lines)


def _one(spec: str) -> None:
    kw = json.loads(spec)
    simulator = kw.pop("simulator")

    def log(*a) -> None:
        print(*a, file=sys.stderr, flush=True)

    row = run_nest(log=log, **kw) if simulator == "nest" else run(backend=simulator, log=log, **kw)
    print(json.dumps(row))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="0.1,0.2")
    parser.add_argument("--k-scale", type=float, default=1.0)
    parser.add_argument("--duration-ms", type=float, default=1000.0)
    parser.add_argument("--simulators", default=",".join(SIMULATORS))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--background", default="poisson", choices=("poisson", "dc"))
    parser.add_argument("--max-gb", type=float, default=8.0)
    parser.add_argument("--numba-threads", type=int, default=None)
    parser.add_argument("--json", help="also write the rows to this file")
    parser.add_argument("--reference", metavar="PATH", help="record NEST's rates over --seeds at the first of "
                        "--scales into PATH (JSON) instead of the bench")
    parser.add_argument("--seeds", default="1,2,3,4,5,6,7,8")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        _one(args.one)
        return 0
    if args.reference:
        record = nest_reference(float(args.scales.split(",")[0]), args.k_scale,
                                tuple(int(s) for s in args.seeds.split(",")), args.duration_ms, threads=args.threads)
        with open(args.reference, "w") as f:
            json.dump(record, f, indent=1)
        print(json.dumps(record["mean_hz"]), json.dumps(record["sd_hz"]))
        return 0
    rows = bench(tuple(float(s) for s in args.scales.split(",")), args.k_scale, args.duration_ms,
                 tuple(args.simulators.split(",")), args.seed, args.threads, args.background, max_gb=args.max_gb,
                 numba_threads=args.numba_threads)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
