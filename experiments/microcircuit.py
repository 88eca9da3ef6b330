"""The Potjans & Diesmann (2014) cortical microcircuit, built from neurosim's core description.

Eight populations (L2/3, L4, L5, L6; excitatory and inhibitory each) of LIF neurons with exponential current
synapses, 77,169 neurons and ~0.3 billion synapses at full scale, dt = 0.1 ms. The parameters are the model's as
NEST 3 ships it (``pynest/examples/Potjans_2014``: ``network_params.py``, ``sim_params.py``, ``helpers.py``):

- neurons: C_m 250 pF, tau_m 10 ms, tau_syn 0.5 ms, E_L = V_reset = -65 mV, V_th -50 mV, t_ref 2 ms; initial
  membrane potentials normal per population ("optimized" V0 of the NEST example, or "original" -58 +- 10 mV);
- connectivity: the total number of synapses of each (target, source) pair follows from the connection
  probability table, N = log(1 - p) / log(1 - 1 / (N_pre N_post)) at full size, times ``scale * k_scale``; drawn
  with multapses and autapses (:class:`~neurosim.connectors.FixedTotalNumber`, NEST ``fixed_total_number``);
- weights: PSC amplitudes from a mean PSP of 0.15 mV (87.8 pA), g = -4, L4E -> L2/3E doubled, normal with a
  relative sd of 0.1, truncated at 0 (redrawn, as NEST's ``redraw``); delays normal, 1.5 ms (E) / 0.75 ms (I) with
  sd 0.5 x mean, redrawn below dt/2 (so at least one step), rounded to the grid;
- background: K_ext inputs at 8 Hz per neuron (``background="poisson"``) or the DC current that replaces them
  (``"dc"``, the example's ``poisson_input = False``). With in-degrees scaled down (``k_scale < 1``) weights grow by
  1/sqrt(k_scale) and a DC current keeps each neuron's mean input (the example's compensation, using the
  full-scale rates).

neurosim's sources emit at most one spike per step, so a neuron cannot get its own 8 Hz x K_ext (up to 23 kHz)
Poisson train from one source as in NEST. The K_ext external inputs come instead from a pool of ``bg_pool``
Poisson neurons: each neuron takes K_ext / c distinct pool neurons firing at c x 8 Hz (c <= 10 merges c inputs of
8 Hz into one stream, exactly, since c Poisson trains sum to one; c divides every K_ext). Each neuron's input is
then Poisson at 8 Hz x K_ext up to the Bernoulli step (variance x (1 - c 8 Hz dt) = 0.992), and two neurons share a
fraction K_ext / (c bg_pool) of it (<= 1.5% at full in-degree with the default pool).

``run`` simulates on a neurosim engine; ``experiments.microcircuit_bench`` runs the same model on NEST 3.10 and
compares both with the published rates.
"""

from __future__ import annotations

import math
import os
import resource
import time
import warnings
from dataclasses import dataclass

import numpy as np

from neurosim import (
    FixedNumberPre,
    FixedTotalNumber,
    LIFParams,
    Network,
    Normal,
    PoissonSource,
    Population,
    Projection,
    Simulator,
    SpikeMonitor,
)

POPULATIONS = ("L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I")
FULL_SIZES = np.array([20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948])
# connection probabilities, [target, source]
CONN_PROBS = np.array([
    [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
    [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
    [0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0],
    [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
    [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
    [0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0],
    [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
    [0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443]])
K_EXT = np.array([1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100])
# mean rates (spikes/s) of the full-scale model, NEST 3 example (12 MPI processes): the DC compensation uses them
# and they are the published reference of the comparison
FULL_RATES = np.array([0.943, 3.026, 4.368, 5.882, 7.733, 8.664, 1.096, 7.851])
NEURON = {"C_m_pF": 250.0, "tau_m_ms": 10.0, "tau_syn_ms": 0.5, "E_L_mV": -65.0, "V_reset_mV": -65.0,
          "V_th_mV": -50.0, "t_ref_ms": 2.0}
V0 = {"optimized": ([-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43],
                    [5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48]),
      "original": ([-58.0] * 8, [10.0] * 8)}
PSP_E_MV, G, WEIGHT_REL_SD = 0.15, -4.0, 0.1
DELAY_E_MS, DELAY_I_MS, DELAY_REL_SD, DELAY_BG_MS = 1.5, 0.75, 0.5, 1.5
BG_RATE_HZ, DT_MS = 8.0, 0.1


def psc_per_psp(c_m_pf: float, tau_m_ms: float, tau_syn_ms: float) -> float:
    """pA of an exponential current whose PSP peaks at 1 mV: the peak of
    v(t) = J tau_m tau_s / (C (tau_m - tau_s)) (e^(-t/tau_m) - e^(-t/tau_s)) is at t* = tau_m tau_s ln(tau_m/tau_s)
    / (tau_m - tau_s)."""
    t_peak = tau_m_ms * tau_syn_ms * math.log(tau_m_ms / tau_syn_ms) / (tau_m_ms - tau_syn_ms)
    mv_per_pa = tau_m_ms * tau_syn_ms / (c_m_pf * (tau_m_ms - tau_syn_ms)) * (
        math.exp(-t_peak / tau_m_ms) - math.exp(-t_peak / tau_syn_ms))
    return 1.0 / mv_per_pa


@dataclass(frozen=True)
class Derived:
    """What the model's parameters give at one scale (currents in pA, weights signed, [target, source])."""

    sizes: np.ndarray
    n_synapses: np.ndarray
    k_ext: np.ndarray
    psc_pa: np.ndarray
    psc_ext_pa: float
    dc_pa: np.ndarray
    delay_ms: np.ndarray


def derive(scale: float, k_scale: float = 1.0, background: str = "poisson", psc_scale: float = 1.0) -> Derived:
    """Population sizes, synapse numbers, weights and DC currents of the model at ``scale`` (neurons) and
    ``k_scale`` (in-degrees). ``psc_scale`` multiplies every recurrent weight and nothing else (1: the model; a
    wrong model for checking that tests can fail)."""
    if not 0.0 < scale <= 1.0:
        raise ValueError(f"scale = {scale!r} is not allowed: in (0, 1] (1 = 77,169 neurons)")
    if not 0.0 < k_scale <= 1.0:
        raise ValueError(f"k_scale = {k_scale!r} is not allowed: in (0, 1] (1 = the full in-degrees)")
    if background not in ("poisson", "dc"):
        raise ValueError(f"background = {background!r} is not allowed: 'poisson' or 'dc'")
    pairs = np.outer(FULL_SIZES, FULL_SIZES).astype(float)
    full_syn = np.log(1.0 - CONN_PROBS) / np.log((pairs - 1.0) / pairs)
    unit = psc_per_psp(NEURON["C_m_pF"], NEURON["tau_m_ms"], NEURON["tau_syn_ms"])
    psp = np.tile([PSP_E_MV, G * PSP_E_MV], (8, 4))
    psp[0, 2] *= 2.0  # L4E -> L2/3E
    psc, psc_ext = psp * unit, PSP_E_MV * unit
    tau_s = NEURON["tau_syn_ms"] / 1000.0  # s: pA x Hz x s = pA
    dc = np.zeros(8) if background == "poisson" else BG_RATE_HZ * K_EXT * psc_ext * tau_s
    if k_scale != 1.0:  # weights up by 1/sqrt(k), and DC keeps the mean input of the full in-degrees
        lost = 1.0 - math.sqrt(k_scale)
        dc = dc + tau_s * lost * (psc * full_syn / FULL_SIZES[:, None] * FULL_RATES).sum(axis=1)
        if background == "poisson":
            dc = dc + tau_s * lost * psc_ext * K_EXT * BG_RATE_HZ
        psc, psc_ext = psc / math.sqrt(k_scale), psc_ext / math.sqrt(k_scale)
    delay = np.tile([DELAY_E_MS, DELAY_I_MS], (8, 4))
    return Derived(np.round(FULL_SIZES * scale).astype(int), np.round(full_syn * scale * k_scale).astype(int),
                   np.round(K_EXT * k_scale).astype(int), psc * psc_scale, psc_ext, dc, delay)


def _seeds(seed: int, n: int) -> list[int]:
    return [int(s) for s in np.random.SeedSequence(seed).generate_state(n)]


def background_merge(k_ext: np.ndarray, most: int = 10) -> int:
    """c: the largest number <= ``most`` dividing every external in-degree (c inputs of 8 Hz = one of 8c Hz)."""
    g = int(np.gcd.reduce(k_ext))
    return max(c for c in range(1, most + 1) if g % c == 0)


def microcircuit_network(scale: float, k_scale: float = 1.0, background: str = "poisson", seed: int = 1, *,
                         v0: str = "optimized", delays: str = "nest", bg_pool: int = 20000,
                         psc_scale: float = 1.0) -> Network:
    """The microcircuit as a neurosim :class:`~neurosim.Network` (spikes of every population monitored).

    ``scale`` multiplies the neuron numbers, ``k_scale`` the in-degrees (1: the published model; below 1 weights
    and DC are compensated as in the NEST example); ``seed`` draws connectivity, weights, delays and initial
    potentials (the Simulator's seed draws the Poisson input); ``bg_pool``: Poisson neurons of the background.

    ``delays="nest"`` (default): each delay is the model's plus one step, because the model's delays are NEST's and
    a NEST delay of d steps lets a spike's current start one step later than a neurosim delay of d steps does
    (NEST stamps a spike at the end of the step in which the threshold was crossed, neurosim at its start; the
    current starts d steps after the stamp in both). ``"neurosim"``: the model's numbers taken as neurosim delays.
    """
    d = derive(scale, k_scale, background, psc_scale)
    if v0 not in V0:
        raise ValueError(f"v0 = {v0!r} is not allowed: one of {sorted(V0)}")
    if delays not in ("nest", "neurosim"):
        raise ValueError(f"delays = {delays!r} is not allowed: 'nest' or 'neurosim'")
    shift = DT_MS if delays == "nest" else 0.0
    seeds = _seeds(seed, 3 * 64 + 16)
    v_rng = np.random.default_rng(seeds[-1])
    pops = []
    for i, name in enumerate(POPULATIONS):
        v_init = v_rng.normal(V0[v0][0][i], V0[v0][1][i], d.sizes[i])
        pops.append(Population(name, int(d.sizes[i]), LIFParams(
            tau_m_ms=NEURON["tau_m_ms"], cm_nF=NEURON["C_m_pF"] / 1000.0, v_rest_mV=NEURON["E_L_mV"],
            v_reset_mV=NEURON["V_reset_mV"], v_thresh_mV=NEURON["V_th_mV"], tau_refrac_ms=NEURON["t_ref_ms"],
            tau_syn_e_ms=NEURON["tau_syn_ms"], tau_syn_i_ms=NEURON["tau_syn_ms"],
            i_offset_nA=float(d.dc_pa[i]) / 1000.0, v_init_mV=tuple(v_init))))
    projections = []
    for i, target in enumerate(POPULATIONS):
        for j, source in enumerate(POPULATIONS):
            if d.n_synapses[i, j] == 0:
                continue
            w, mean_delay = abs(d.psc_pa[i, j]) / 1000.0, d.delay_ms[i, j]
            s = seeds[3 * (8 * i + j):3 * (8 * i + j) + 3]
            projections.append(Projection(
                f"{source}_{target}", source, target, FixedTotalNumber(int(d.n_synapses[i, j]), seed=s[0]),
                weight_nA=Normal(w, WEIGHT_REL_SD * w, seed=s[1], low=0.0),
                delay_ms=Normal(mean_delay + shift, DELAY_REL_SD * mean_delay, seed=s[2], low=DT_MS / 2 + shift),
                receptor="excitatory" if j % 2 == 0 else "inhibitory"))
    sources = ()
    if background == "poisson":
        merge = background_merge(d.k_ext)
        if d.k_ext.max() // merge > bg_pool:
            raise ValueError(f"bg_pool = {bg_pool} is not allowed: >= {d.k_ext.max() // merge} (the largest "
                             "external in-degree in pool neurons)")
        sources = (PoissonSource("background", bg_pool, BG_RATE_HZ * merge),)
        for i, target in enumerate(POPULATIONS):
            projections.append(Projection(
                f"background_{target}", "background", target,
                FixedNumberPre(int(d.k_ext[i] // merge), seed=seeds[192 + i]),
                weight_nA=d.psc_ext_pa / 1000.0, delay_ms=DELAY_BG_MS + shift))
    with warnings.catch_warnings():  # drawn delays are rounded to the grid by design (as NEST does)
        warnings.filterwarnings("ignore", message=".*delays are not multiples of dt", category=RuntimeWarning)
        return Network(DT_MS, tuple(pops), sources, tuple(projections), tuple(SpikeMonitor(p) for p in POPULATIONS))


def check_window(duration_ms: float, transient_ms: float) -> None:
    """Rates are counted over [transient_ms, duration_ms): a non-empty window."""
    if not 0.0 <= transient_ms < duration_ms:
        raise ValueError(f"transient_ms = {transient_ms!r} is not allowed: in [0, duration_ms = {duration_ms!r})")


def rates_hz(spikes: dict[str, np.ndarray], sizes, start_ms: float, stop_ms: float) -> dict[str, float]:
    """Mean rate (spikes/s) of each population over [start_ms, stop_ms): all neurons, silent ones included."""
    check_window(stop_ms, start_ms)
    return {p: float(np.count_nonzero((t >= start_ms) & (t < stop_ms)) / (n * (stop_ms - start_ms) / 1000.0))
            for (p, t), n in zip(spikes.items(), sizes, strict=True)}


def _rss_gb(field: str = "VmRSS") -> float:
    """This process's resident memory (VmRSS) or its peak (VmHWM), GiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def synapse_bytes(sim: Simulator) -> dict[str, int]:
    """Bytes held per synapse, by owner: the Network's resolved connections (every projection's arrays), the
    compiled network and the engine (their arrays of one entry per synapse). Each buffer counts once: views (the
    numba engine's integer view of its records, the projections' slices of one index array) do not count again.
    Measured, so it follows changes of the layout."""
    n, seen = sim.compiled.n_synapses, set()

    def held(arrays, per_projection: bool = False) -> int:
        total = 0
        for a in arrays:
            while isinstance(a, np.ndarray) and isinstance(a.base, np.ndarray):
                a = a.base  # the buffer a view (a slice, another dtype) shows
            if not (isinstance(a, np.ndarray) and a.ndim and (per_projection or a.shape[0] == n)):
                continue
            if id(a) not in seen:
                seen.add(id(a))
                total += a.nbytes
        return total

    def fields(obj) -> list:
        return [x for v in vars(obj).values() for x in (v.values() if isinstance(v, dict) else [v])]

    net = sim.network
    conns = [net.connections(p.name) for p in net.projections]
    return {"network": held([a for c in conns for a in (c.pre, c.post, c.weight_nA, c.delay_steps)], True),
            "compiled": held(fields(sim.compiled)), "engine": held(fields(sim.engine))}


def run(scale: float, backend: str = "numba", duration_ms: float = 1000.0, seed: int = 1, *, k_scale: float = 1.0,
        background: str = "poisson", transient_ms: float = 200.0, log=print, **network_options) -> dict:
    """Build and simulate the microcircuit on a neurosim engine; rates skip the first ``transient_ms``.

    Returns per-population rates (spikes/s), wall times (build: network, compilation and engine; first tick,
    including JIT or the load of numba's cache; simulation of the rest), memory (GiB: peak RSS of the process,
    and its RSS and peak once built) and the bytes held per synapse (:func:`synapse_bytes`). ``network_options``
    go to :func:`microcircuit_network`.
    """
    check_window(duration_ms, transient_ms)
    rss0 = _rss_gb()
    t0 = time.perf_counter()
    net = microcircuit_network(scale, k_scale, background, seed, **network_options)
    t_network = time.perf_counter() - t0
    sim = Simulator(net, backend=backend, seed=seed)
    build = time.perf_counter() - t0
    n_syn = sim.compiled.n_synapses
    held = synapse_bytes(sim)
    rss_built, peak_built = _rss_gb(), _rss_gb("VmHWM")
    log(f"neurosim ({backend}) scale {scale:g}, k_scale {k_scale:g}: {sim.compiled.n_neurons:,} neurons, "
        f"{n_syn:,} synapses, built in {build:.1f} s ({t_network:.1f} s network), RSS {rss_built:.2f} GB")
    t0 = time.perf_counter()
    sim.run(DT_MS)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    sim.run(round(duration_ms - DT_MS, 9))
    simulate = time.perf_counter() - t0
    spikes = {p: sim.spikes(p)[0] for p in POPULATIONS}
    rates = rates_hz(spikes, [pop.size for pop in net.populations], transient_ms, duration_ms)
    label = backend
    if backend == "numba":
        import numba

        from neurosim.backends.numba_engine import PARALLEL_MIN_NEURONS

        threads = numba.get_num_threads() if sim.compiled.n_neurons >= PARALLEL_MIN_NEURONS else 1
        label = f"numba, {threads} thread{'s' if threads > 1 else ''}"
    row = {"simulator": f"neurosim ({label})", "scale": scale, "k_scale": k_scale, "background": background,
           "seed": seed, "duration_ms": duration_ms, "transient_ms": transient_ms,
           "neurons": sim.compiled.n_neurons, "synapses": n_syn, "build_s": round(build, 2),
           "first_tick_s": round(first, 2), "sim_s": round(simulate, 2),
           "s_per_bio_s": round(simulate / ((duration_ms - DT_MS) / 1000.0), 2),
           "load_avg_1min": round(os.getloadavg()[0], 2),
           "peak_rss_gb": round(_rss_gb("VmHWM"), 3), "rss_built_gb": round(rss_built, 3),
           "peak_rss_build_gb": round(peak_built, 3), "bytes_per_synapse": round(sum(held.values()) / n_syn, 1),
           "bytes_per_synapse_by_owner": {k: round(v / n_syn, 1) for k, v in held.items()},
           "peak_bytes_per_synapse": round((_rss_gb("VmHWM") - rss0) * 2**30 / n_syn, 1), "rates_hz": rates}
    log("  rates " + "  ".join(f"{p} {r:.2f}" for p, r in rates.items()) + f"  ({simulate:.1f} s simulated)")
    sim.close()
    return row
