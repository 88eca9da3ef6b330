"""``neurosim bench core``: every engine on one recurrent network, side by side.

The network (default N = 4000): 80% excitatory / 20% inhibitory LIF neurons,
connection probability 0.02, delays 1.5 ms (E) and 0.8 ms (I), a Poisson drive
(N/4 sources at 20 Hz, 50 inputs per neuron), pair STDP on E->E, dt = 0.1 ms,
1 s of biological time. Every engine receives the same input spikes (drawn once
from the seed), so spike counts can be compared as well as times.

Reported per engine: setup (network build, code generation / JIT compilation or
loading it from numba's cache, first tick; not the import of the engine's library,
for NEST as for the others), simulation wall time, synaptic events per second (events = spikes x
out-degree, counted the same way for every engine), the real-time factor
(biological time / wall time; > 1 is faster than real time), the simulation
speed relative to Brian2's cpp_standalone device and relative to NEST at its best
thread count (``vs nest``: simulation time; ``vs nest total``: setup + simulation,
against NEST's best setup + simulation). NEST (:mod:`neurosim.bench_nest`) runs the
same network through its own Python API with 1 and 2 OpenMP threads, a row each.
The static-synapse line times
the numba engine's own delivery kernel replaying the recorded spikes against a
memory-streaming ceiling: the same synapse arrays streamed once, in order, into
the same ring buffer.
"""

from __future__ import annotations

import importlib.util
import platform
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from neurosim.compiled import CompiledNetwork, compile_network
from neurosim.connectors import FixedProbability
from neurosim.network import LIFParams, Network, PoissonSource, Population, Projection, SpikeMonitor
from neurosim.plasticity import STDP
from neurosim.simulator import Simulator


def core_network(n: int = 4000, *, stdp: bool = True, p: float = 0.02) -> Network:
    """The benchmark network (see module docstring)."""
    n_e = int(round(0.8 * n))
    n_i = n - n_e
    n_x = max(100, n // 4)
    cell = LIFParams(tau_m_ms=20.0, cm_nF=0.2, v_rest_mV=-60.0, v_reset_mV=-60.0, v_thresh_mV=-50.0,
                     tau_refrac_ms=2.0, tau_syn_e_ms=5.0, tau_syn_i_ms=10.0, v_init_mV=-60.0)
    w_e, w_i, w_x = 0.05, 0.25, 0.05
    rule = STDP(tau_plus_ms=16.8, tau_minus_ms=33.7, A_plus=0.01, A_minus=0.0105, w_max_nA=2 * w_e) if stdp else None
    fan_in = min(1.0, 50.0 / n_x)
    return Network(
        dt_ms=0.1,
        populations=(Population("exc", n_e, cell), Population("inh", n_i, cell)),
        sources=(PoissonSource("drive", n_x, rate_hz=20.0),),
        projections=(
            Projection("ee", "exc", "exc", FixedProbability(p, False, seed=1), weight_nA=w_e, delay_steps=15,
                       plasticity=rule),
            Projection("ei", "exc", "inh", FixedProbability(p, seed=2), weight_nA=w_e, delay_steps=15),
            Projection("ie", "inh", "exc", FixedProbability(p, seed=3), weight_nA=w_i, delay_steps=8,
                       receptor="inhibitory"),
            Projection("ii", "inh", "inh", FixedProbability(p, False, seed=4), weight_nA=w_i, delay_steps=8,
                       receptor="inhibitory"),
            Projection("xe", "drive", "exc", FixedProbability(fan_in, seed=5), weight_nA=w_x, delay_steps=1),
            Projection("xi", "drive", "inh", FixedProbability(fan_in, seed=6), weight_nA=w_x, delay_steps=1),
        ),
        monitors=(SpikeMonitor("exc"), SpikeMonitor("inh"), SpikeMonitor("drive")),
    )


@dataclass
class Row:
    n: int
    engine: str
    setup_s: float
    sim_s: float
    spikes: int
    events: int
    events_per_s: float
    realtime_factor: float
    vs_brian2_cpp: float = float("nan")
    vs_nest: float = float("nan")          # NEST's best sim time / this sim time
    vs_nest_total: float = float("nan")    # NEST's best setup + sim / this setup + sim
    note: str = ""


def _events(net: CompiledNetwork, nodes: np.ndarray) -> int:
    outdeg = np.diff(net.row_ptr)
    return int(outdeg[nodes].sum())


def _neurons_spikes(sim: Simulator) -> tuple[np.ndarray, np.ndarray]:
    ticks, nodes = [], []
    for name in ("exc", "inh", "drive"):
        t, i = sim.spikes(name)
        ticks.append(np.rint(t / sim.compiled.dt_ms).astype(np.int64))
        nodes.append(i + sim.compiled.offsets[name][0])
    return np.concatenate(ticks), np.concatenate(nodes)


def _run_simulator(net: Network, backend: str, duration_ms: float, seed: int, **kw) -> tuple[Row, Simulator]:
    from neurosim import backends

    backends.get(backend)  # the library imported before the clock starts (module docstring)
    t0 = time.perf_counter()
    sim = Simulator(net, backend=backend, seed=seed, **kw)
    sim.run(net.dt_ms)  # first tick: JIT compilation / code generation happen here
    t1 = time.perf_counter()
    sim.run(duration_ms - net.dt_ms)
    t2 = time.perf_counter()
    _, nodes = _neurons_spikes(sim)
    ev = _events(sim.compiled, nodes)
    n_neurons = sim.compiled.n_neurons
    spikes = int(np.sum(nodes < n_neurons))
    row = Row(n_neurons, backend, t1 - t0, t2 - t1, spikes, ev, ev / (t2 - t1), duration_ms / 1000.0 / (t2 - t1))
    return row, sim


def static_delivery(n: int, duration_ms: float, seed: int, repeats: int = 3) -> dict:
    """numba's delivery kernel replaying the static network's recorded spikes, against the
    streaming ceiling: the same synapse table streamed once in order into the same buffer."""
    from neurosim.backends.numba_synapses import deliver_replay, pack_synapses, row_plastic, stream_table

    net = core_network(n, stdp=False)
    sim = Simulator(net, backend="numba", seed=seed)
    sim.run(duration_ms)
    ticks, nodes = _neurons_spikes(sim)
    order = np.lexsort((nodes, ticks))
    ticks, nodes = ticks[order], nodes[order]
    c = sim.compiled
    ptr = np.searchsorted(ticks, np.arange(int(ticks.max()) + 2)).astype(np.int64)
    buf = np.zeros((2, c.history, c.n_neurons))
    rec_f = pack_synapses(c)
    rec_i = rec_f.view(np.int64)
    plastic = row_plastic(c)
    deliver_replay(ptr[:2], nodes, c.row_ptr, plastic, rec_i, rec_f, buf)  # compile
    stream_table(rec_i, rec_f, buf, 1)
    best_d = best_s = float("inf")
    passes = max(1, int(round(_events(c, nodes) / max(c.n_synapses, 1))))
    for _ in range(repeats):  # interleaved, best of: both see the same machine state
        t0 = time.perf_counter()
        events = deliver_replay(ptr, nodes, c.row_ptr, plastic, rec_i, rec_f, buf)
        t1 = time.perf_counter()
        stream_table(rec_i, rec_f, buf, passes)
        t2 = time.perf_counter()
        best_d, best_s = min(best_d, t1 - t0), min(best_s, t2 - t1)
    delivery = events / best_d
    ceiling = passes * c.n_synapses / best_s
    return {"n": c.n_neurons, "events": int(events), "delivery_events_per_s": delivery,
            "ceiling_events_per_s": ceiling, "fraction_of_ceiling": delivery / ceiling}


def _simulator_rows(engine: str) -> Callable[[Network, float, int], list[Row]]:
    """Runner of an engine that is a neurosim backend (brian2-runtime is backend brian2; reference-spinnaker and
    numba-spinnaker are those engines in SpiNNaker's integer arithmetic)."""
    backend = {"brian2-runtime": "brian2", "reference-spinnaker": "reference", "numba-spinnaker": "numba"}.get(engine,
                                                                                                          engine)
    kw = {"dtype": "float32"} if engine == "torch" else {"arithmetic": "spinnaker"} if engine.endswith("spinnaker") \
        else {}

    def run(net: Network, duration_ms: float, seed: int) -> list[Row]:
        row, _ = _run_simulator(net, backend, duration_ms, seed, **kw)
        row.engine = engine + (" (float32)" if engine == "torch" else "")
        return [row]
    return run


def _nest_rows(net: Network, duration_ms: float, seed: int) -> list[Row]:
    from neurosim import bench_nest

    ext = Simulator(net, backend="reference", seed=seed).draw_inputs(duration_ms)
    return [bench_nest.run_nest(net, duration_ms, ext, threads) for threads in bench_nest.THREADS]


# engine -> (library it needs, runner returning its rows); the order is the table's
RUNNERS: dict[str, tuple[str, Callable[[Network, float, int], list[Row]]]] = {
    "numba": ("numba", _simulator_rows("numba")),
    "numba-spinnaker": ("numba", _simulator_rows("numba-spinnaker")),
    "torch": ("torch", _simulator_rows("torch")),
    "reference": ("numpy", _simulator_rows("reference")),
    "reference-spinnaker": ("numpy", _simulator_rows("reference-spinnaker")),
    "brian2-runtime": ("brian2", _simulator_rows("brian2-runtime")),
    "brian2-cpp_standalone": ("brian2", lambda net, duration_ms, seed: [_brian2_standalone(net, duration_ms, seed)]),
    "nest": ("nest", _nest_rows),
}
ENGINES = tuple(RUNNERS)


def bench_core(sizes: tuple[int, ...] = (4000,), duration_ms: float = 1000.0, engines: tuple[str, ...] = ENGINES,
               seed: int = 0, log=print) -> dict:
    """Run the benchmark; returns {"machine": ..., "rows": [...], "static": [...]}."""
    rows: list[Row] = []
    static = []
    for n in sizes:
        net = core_network(n)
        log(f"N = {n}: {sum(net.connections(p.name).pre.size for p in net.projections):,} synapses")
        size_rows: list[Row] = []
        for engine in engines:
            library, runner = RUNNERS[engine]
            if importlib.util.find_spec(library) is None:
                log(f"  {engine}: not installed ({library}), skipped")
                continue
            if engine.startswith("reference") and n > 4000:
                log(f"  {engine}: skipped above N = 4000 (minutes per run; it is the readable ground truth)")
                continue
            log(f"  {engine} ...")
            for row in runner(net, duration_ms, seed):
                size_rows.append(row)
                log(f"    {row.engine}: setup {row.setup_s:.2f} s, sim {row.sim_s:.3f} s, {row.spikes} spikes, "
                    f"{row.events_per_s / 1e6:.1f} M events/s")
        _relative(size_rows)
        rows += size_rows
        if "numba" in engines:
            static.append(static_delivery(n, duration_ms, seed))
    return {"machine": machine(), "duration_ms": duration_ms, "rows": [asdict(r) for r in rows], "static": static}


def _relative(rows: list[Row]) -> None:
    """Fill the ratio columns of one size's rows: speed relative to Brian2 cpp_standalone and to NEST's
    best thread count (sim time alone, and setup + sim)."""
    cpp = [r.sim_s for r in rows if r.engine == "brian2-cpp_standalone"]
    nest = [r for r in rows if r.engine.startswith("nest")]
    best_sim = min((r.sim_s for r in nest), default=None)
    best_total = min((r.setup_s + r.sim_s for r in nest), default=None)
    for r in rows:
        if cpp:
            r.vs_brian2_cpp = cpp[0] / r.sim_s
        if nest:
            r.vs_nest = best_sim / r.sim_s
            r.vs_nest_total = best_total / (r.setup_s + r.sim_s)


def net_neurons(net: Network) -> int:
    return sum(p.size for p in net.populations)


def _brian2_standalone(net: Network, duration_ms: float, seed: int) -> Row:
    """Brian2's cpp_standalone on the same network and the same input spikes."""
    from neurosim.backends import brian2_engine

    ext = Simulator(net, backend="reference", seed=seed).draw_inputs(duration_ms)
    c = compile_network(net)
    with tempfile.TemporaryDirectory() as tmp:
        out = brian2_engine.run_standalone(c, duration_ms, ext, directory=tmp)
    nodes = out["spike_node"]
    neurons = nodes[nodes < c.n_neurons]  # recorded source spikes are the input itself
    ev = _events(c, np.concatenate([neurons, ext.node]))
    setup = out["build_s"] + out["codegen_s"] + out["compile_s"]
    sim_s = out["sim_s"]
    return Row(c.n_neurons, "brian2-cpp_standalone", setup, sim_s, int(neurons.size), ev, ev / sim_s,
               duration_ms / 1000.0 / sim_s, note=f"binary wall {out['run_s']:.3f} s")


def machine() -> str:
    import os

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def format_table(result: dict) -> str:
    def ratio(r: dict, key: str) -> str:
        value = r.get(key, float("nan"))
        return "" if np.isnan(value) else f"{value:.2f}x"

    head = (f"{'N':>6}  {'engine':<24} {'setup s':>8} {'sim s':>8} {'spikes':>8} {'Mevents/s':>10} "
            f"{'RT factor':>9} {'vs brian2 cpp':>13} {'vs nest':>8} {'vs nest total':>13}")
    lines = [f"machine: {result['machine']}; {result['duration_ms']:.0f} ms of biological time", head,
             "-" * len(head)]
    for r in result["rows"]:
        lines.append(f"{r['n']:>6}  {r['engine']:<24} {r['setup_s']:>8.2f} {r['sim_s']:>8.3f} {r['spikes']:>8} "
                     f"{r['events_per_s'] / 1e6:>10.1f} {r['realtime_factor']:>9.2f} {ratio(r, 'vs_brian2_cpp'):>13} "
                     f"{ratio(r, 'vs_nest'):>8} {ratio(r, 'vs_nest_total'):>13}")
    if any(np.isfinite(r.get("vs_nest", float("nan"))) for r in result["rows"]):
        lines.append("vs nest: NEST's best sim time / this sim time; vs nest total: the same for setup + sim")
    for s in result["static"]:
        lines.append(f"static synapses, N = {s['n']}: numba delivery {s['delivery_events_per_s'] / 1e6:.0f} M events/s "
                     f"= {100 * s['fraction_of_ceiling']:.0f}% of the streaming ceiling "
                     f"({s['ceiling_events_per_s'] / 1e6:.0f} M events/s)")
    return "\n".join(lines)
