"""``neurosim``: info, list, run, bench, pynn-scenarios, view, export.

The CLI is the application's entry point, so it imports the experiments layer
(inside the commands, never at module import) although the rest of the core does not.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import warnings
from importlib import metadata
from pathlib import Path

from neurosim import __version__, backends


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def cmd_info(_: argparse.Namespace) -> int:
    libs = {"reference": "numpy", "numba": "numba", "torch": "torch", "brian2": "brian2"}
    print(f"neurosim {__version__} (Python {platform.python_version()}, numpy {_version('numpy')})")
    print("backends:")
    for name in backends.names():
        ok = backends.is_available(name)
        print(f"  {name:<10} {'available' if ok else 'unavailable':<12} {libs[name]} {_version(libs[name])}")
    cuda = "torch not installed"
    if not backends.nvidia_driver():
        cuda = "no (no NVIDIA driver on this machine)"
    elif backends.is_available("torch"):
        import torch

        cuda = (f"yes ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else "no")
    print(f"CUDA: {cuda}")
    for dist in ("h5py", "PyNN", "sPyNNaker", "nir", "norse", "PySide6-Essentials", "pyqtgraph"):
        print(f"  {dist:<19} {_version(dist)}")
    return 0


def cmd_list(_: argparse.Namespace) -> int:
    from neurosim import experiments

    engines = {e.name: ", ".join(e.engines) or "none (draws only)" for e in experiments.REGISTRY.values()}
    width, eng_width = max(len(n) for n in experiments.REGISTRY), max(len(v) for v in engines.values())
    print(f"{'experiment':<{width}}  {'engines (default first)':<{eng_width}}  summary")
    for e in experiments.REGISTRY.values():
        print(f"{e.name:<{width}}  {engines[e.name]:<{eng_width}}  {e.summary}")
    return 0


def print_table(title: str, columns: list[str], rows: list[list]) -> None:
    cells = [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in cells)) if cells else len(str(h)) for i, h in enumerate(columns)]
    print(title)
    print("  ".join(str(h).ljust(w) for h, w in zip(columns, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for r in cells:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


def _fmt(x) -> str:
    if isinstance(x, float):
        return f"{x:.4g}"
    if isinstance(x, list | tuple):
        return "[" + ", ".join(_fmt(v) for v in x) + "]"
    return str(x)


def cmd_run(args: argparse.Namespace) -> int:
    from neurosim import experiments

    # unknown names, and engines the experiment lacks, fail before anything is written
    eng = experiments.engine(args.name, args.backend, args.device)
    ran_on = {"backend": eng["backend"], "device": eng["device"]} if eng else {}
    out = Path(args.out or f"results/{args.name}.h5")
    if out.exists() and not args.resume:
        if not args.force:
            print(f"error: {out} exists; pass --force to replace it", file=sys.stderr)
            return 2
        out.unlink()
    extra = {k: v for k, v in (("full", args.full or None), ("scheduler", args.scheduler), ("workers", args.workers))
             if v is not None}
    unsupported = sorted(set(extra) - experiments.options(args.name))
    if unsupported:
        print(f"error: {', '.join('--' + k for k in unsupported)} is not allowed for {args.name}: "
              f"only for experiments that take it ({', '.join(experiments.taking(unsupported[0]))})", file=sys.stderr)
        return 2
    try:
        outcome = experiments.run(args.name, seed=args.seed, out=out, resume=args.resume, progress=not args.quiet,
                                  **ran_on, **extra)
    except FileExistsError as exc:  # an unfinished run without --resume, or a finished one with it
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_table(outcome.title, outcome.columns, outcome.rows)
    for note in outcome.notes:
        print(note)
    for f in outcome.files:
        print(f"wrote {f}")
    return 0 if outcome.ok else 1


def cmd_bench(args: argparse.Namespace) -> int:
    from neurosim import bench

    if args.what not in ("core", "ca3", "sparsey", "elm", "viewer", "memories", "pynn", "microcircuit", "startup"):
        print(f"error: bench {args.what!r} is not allowed: 'core', 'ca3', 'sparsey', 'elm', 'viewer', 'memories', "
              "'pynn', 'microcircuit' or 'startup'", file=sys.stderr)
        return 2
    # with --json the progress lines go to stderr and stdout holds only the JSON
    log = (lambda *a, **k: print(*a, file=sys.stderr, **k)) if args.json else print
    one = {"viewer": "n", "elm": "steps", "sparsey": "active"}  # benches that take one size
    if args.what == "pynn":
        from neurosim.experiments import pynn_bench

        chosen = tuple(args.simulators.split(",")) if args.simulators else tuple(pynn_bench.SIMULATORS)
        rows = pynn_bench.bench(simulators=chosen, log=log)
        print(json.dumps({"machine": bench.machine(), "rows": rows}, indent=2) if args.json
              else pynn_bench.format_table(rows))
        return 0
    if args.what == "startup":
        from neurosim import bench_startup

        rows = bench_startup.bench(log=log)
        print(json.dumps({"machine": bench.machine(), "rows": rows}, indent=2) if args.json
              else bench_startup.format_table(rows))
        return 0
    if args.what == "microcircuit":
        from neurosim.experiments import microcircuit_bench

        scales = tuple(float(s) for s in (args.sizes or "0.1").split(","))
        chosen = tuple(args.simulators.split(",")) if args.simulators else ("numba", "nest")
        rows = microcircuit_bench.bench(scales=scales, duration_ms=args.duration_ms, simulators=chosen,
                                        seed=args.seed, log=log)
        print(json.dumps({"machine": bench.machine(), "rows": rows}, indent=2) if args.json
              else microcircuit_bench.format_table(rows))
        return 0
    if args.what in one or args.what in ("ca3", "memories"):
        kw = {one[args.what]: int(args.sizes)} if args.what in one and args.sizes else {}
        if args.what == "viewer":
            from neurosim.viewer import bench as viewer_bench

            rows = viewer_bench.bench(seed=args.seed, log=log, **kw) + viewer_bench.live(seed=args.seed, log=log)
        elif args.what == "elm":
            from neurosim.experiments import elm_bench

            rows = elm_bench.bench(reference=args.reference, seed=args.seed, log=log, **kw)
        elif args.what == "memories":
            from neurosim.experiments import memories_bench

            sizes = tuple(int(s) for s in (args.sizes or "1000,10000").split(","))
            rows = memories_bench.bench(sizes=sizes, seed=args.seed, log=log)
        elif args.what == "sparsey":
            from neurosim.experiments import sparsey_bench

            rows = sparsey_bench.bench(seed=args.seed, log=log, **kw)
        else:
            from neurosim.experiments import ca3_scale

            sizes = tuple(int(s) for s in (args.sizes or "5,100,1000").split(","))
            rows = ca3_scale.bench(sizes=sizes, n_ops=args.ops, backend=args.backend or "numba", seed=args.seed,
                                   log=log)
        if args.json:
            print(json.dumps({"machine": bench.machine(), "rows": rows}, indent=2))
        return 0
    sizes = tuple(int(s) for s in (args.sizes or "4000").split(","))
    engines = tuple(args.engines.split(",")) if args.engines else bench.ENGINES
    unknown = set(engines) - set(bench.ENGINES)
    if unknown:
        print(f"error: engines = {sorted(unknown)} are not allowed: any of {list(bench.ENGINES)}", file=sys.stderr)
        return 2
    result = bench.bench_core(sizes=sizes, duration_ms=args.duration_ms, engines=engines, seed=args.seed, log=log)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(bench.format_table(result))
    return 0


def cmd_pynn_scenarios(args: argparse.Namespace) -> int:
    from pathlib import Path

    from neurosim.pynn.scenarios import run_scenarios, tally

    source = Path(args.source or Path(sys.prefix) / "share" / "pynn-0.13.0.tar.gz")
    outcomes = run_scenarios(source, only=args.only)
    for o in outcomes:
        print(f"{o.status:5s} {o.module}::{o.name}  {o.detail}")
    counts = tally(outcomes)
    print(f"{counts['pass']} pass, {counts['fail']} fail, {counts['n/a']} not applicable")
    return 1 if counts["fail"] else 0


def cmd_export(args: argparse.Namespace) -> int:
    if args.check_precision and args.to != "spinnaker":
        print(f"error: --check-precision is not allowed with --to {args.to}: only with --to spinnaker", file=sys.stderr)
        return 2
    from neurosim import experiments

    network, inputs, duration = experiments.exportable(args.name)
    out = Path(args.out or f"results/{args.name}.{'nir' if args.to == 'nir' else 'py'}")
    from neurosim.io import ensure_parent

    ensure_parent(out)
    if args.to == "nir":
        from neurosim.hardware import nir

        if inputs:
            print("note: NIR carries the network only; its input spike schedule is not part of the graph",
                  file=sys.stderr)
        nir.write(network, out)
    else:
        from neurosim.hardware import pynn

        target = "spinnaker" if args.to == "spinnaker" else (args.target or "generic")
        if args.to == "spinnaker" and args.target not in (None, "spinnaker"):
            print(f"error: --target {args.target!r} is not allowed with --to spinnaker: 'spinnaker' (or --to pynn)",
                  file=sys.stderr)
            return 2
        if target == "spinnaker":
            with warnings.catch_warnings():  # check_board also warns each: printed here once, not twice
                warnings.simplefilter("ignore")
                board_warnings = pynn.check_board(network)
            for warning in board_warnings:
                print(f"warning: {warning}", file=sys.stderr)
            if args.check_precision:
                from neurosim.hardware.precision import check_precision

                print(check_precision(network, duration, spike_inputs=inputs).table())
        pynn.export_script(network, out, spike_inputs=inputs, duration_ms=duration, target=target)
        simulators = "|".join(pynn.TARGETS[target].simulators)
        print(f"run it with: python {out} --simulator {simulators}")
    print(f"wrote {out}")
    return 0


def cmd_view(args: argparse.Namespace) -> int:
    from neurosim.viewer import app

    return app.run(args)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="neurosim", description="Simulator of bio-inspired memories.")
    p.add_argument("--version", action="version", version=f"neurosim {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="version, backends, CUDA").set_defaults(func=cmd_info)
    sub.add_parser("list", help="the experiments").set_defaults(func=cmd_list)
    r = sub.add_parser("run", help="run an experiment: HDF5 results, figures, summary table")
    r.add_argument("name")
    r.add_argument("--backend", choices=backends.names(),
                   help="the engine (default: the experiment's first; `neurosim list` shows each experiment's)")
    r.add_argument("--device", help="torch: 'cpu', 'cuda' or 'cuda:<i>' (default: CUDA when torch sees a GPU)")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--out", help="HDF5 output path (default results/NAME.h5)")
    r.add_argument("--resume", action="store_true", help="continue an interrupted run")
    r.add_argument("--force", action="store_true", help="replace an existing output file")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.add_argument("--full", action="store_true", help="the full sweep instead of the quick default "
                   "(forgetting, unlearning, dendrites-continual, elm-tasks)")
    r.add_argument("--scheduler", help="run the tasks on a Dask cluster: its scheduler address (forgetting, "
                   "unlearning)")
    r.add_argument("--workers", type=int, help="local worker processes (default: the cores available)")
    r.set_defaults(func=cmd_run)
    b = sub.add_parser("bench", help="side-by-side speed of the engines")
    b.add_argument("what", help="'core' (engines side by side), 'ca3' (the CA3 memory at growing sizes), "
                   "'sparsey' (learning throughput of one MAC), 'elm' (ELM forward+backward vs the reference), "
                   "'viewer' (redraw rate with a 10k-neuron raster) or 'memories' (store / recall / recognize "
                   "throughput of every registered memory on every engine), 'pynn' (the sPyMem scripts on "
                   "neurosim.pynn, pyNN.nest and pyNN.brian2) or 'microcircuit' (Potjans & Diesmann 2014 against "
                   "NEST, docs/microcircuit.md) or 'startup' (a small simulation in a new process)")
    b.add_argument("--reference", help="elm: the src/ folder of a checkout of github.com/AaronSpieler/elmneuron")
    b.add_argument("--sizes", help="comma-separated sizes (core: N, default 4000; ca3: n = m, default 5,100,1000; "
                   "sparsey: active input units, default 120; elm: time steps, default 500; "
                   "viewer: neurons, default 10000; memories: units, default 1000,10000; microcircuit: "
                   "scales, default 0.1)")
    b.add_argument("--ops", type=int, default=300, help="ca3: operations per size")
    b.add_argument("--backend", help="ca3: the backend (default numba)")
    b.add_argument("--duration-ms", type=float, default=1000.0)
    b.add_argument("--engines", help="comma-separated subset of the engines")
    b.add_argument("--simulators", help="pynn, microcircuit: comma-separated subset of the simulators "
                   "(default all)")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--json", action="store_true", help="print the results as JSON")
    b.set_defaults(func=cmd_bench)
    s = sub.add_parser("pynn-scenarios", help="run PyNN's own system scenarios with neurosim.pynn")
    s.add_argument("--source", help="PyNN's source tree or sdist .tar.gz (default: the one make setup keeps in "
                   ".venv/share)")
    s.add_argument("--only", help="scenarios whose name contains this")
    s.set_defaults(func=cmd_pynn_scenarios)
    v = sub.add_parser("view", help="the desktop viewer: replay a results file, or watch a model live")
    v.add_argument("file", nargs="?", help="a neurosim HDF5 results file to replay")
    v.add_argument("--live", metavar="NAME", help="run a model live (ca3, hopfield, sparsey, core) or a published "
                   "CA3 experiment (ca3-functional, ca3-stress, ca3-state-map)")
    v.add_argument("--backend", default="numba", choices=backends.names(), help="live: the model's backend")
    v.add_argument("--seed", type=int, default=0)
    v.add_argument("--neurons", type=int, help="live core: the network's size (default 2000)")
    v.add_argument("--classical", action="store_true", help="live hopfield and sparsey: the classical network, "
                   "which blacks out past its capacity, instead of the palimpsest (sparsey: keeping its newest 50)")
    v.add_argument("--keep", type=int, help="live sparsey: forget items older than this many (default: none for the "
                   "palimpsest, 50 with --classical; 0: keep every item, and watch the classical weights fill up)")
    v.add_argument("--speed", help="live: model time per wall second (ms/s, or operations/s for hopfield and "
                   "sparsey): 1, 3, 10, 30, 100, 300, 1000 or max (default: the model's)")
    v.add_argument("--fps", type=float, default=30.0, help="redraws per second (default 30)")
    v.add_argument("--screenshot", metavar="PNG", help="save the window to PNG after --after seconds, then exit")
    v.add_argument("--after", type=float, help="seconds to run before the screenshot (default 5) or before closing")
    v.set_defaults(func=cmd_view)
    e = sub.add_parser("export", help="write a model or experiment for a neuromorphic board")
    e.add_argument("name", help="an experiment that can be exported (ca3-functional, ca3-stress, ca3-state-map, "
                   "core-demo)")
    e.add_argument("--to", required=True, choices=["pynn", "spinnaker", "nir"])
    e.add_argument("--target", choices=["generic", "brian2-spinnaker", "spinnaker"],
                   help="pynn: the conventions of the script: 'generic' (standard PyNN: pyNN.nest, pyNN.brian2, "
                   "neurosim.pynn; default), 'brian2-spinnaker' (SpiNNaker's tick on pyNN.brian2) or 'spinnaker' "
                   "(sPyNNaker 7, and neurosim.pynn)")
    e.add_argument("--out", help="output path (default results/NAME.py or .nir)")
    e.add_argument("--check-precision", action="store_true", help="--to spinnaker: run the network in float64 and in "
                   "the board's integer arithmetic and report where the board would differ (docs/hardware.md)")
    e.set_defaults(func=cmd_export)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ValueError as exc:  # bad input: one clear line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
