"""``neurosim bench pynn``: the authors' sPyMem scripts on neurosim.pynn, pyNN.nest and pyNN.brian2, side by side.

Every published run (the three CA3 tables, the two DG-CA3-CA1 board recordings) and the
learn / recall / forget protocol of the three memories with forgetting go through each
simulator module of :data:`SIMULATORS`, the scripts unmodified. For each: the wall time of the
whole script (setup to end, as a user waits for it, after one untimed run of the first script
that warms imports, JIT and code-generation caches), and whether it reproduces the board
(differing (population, ms) cells against the published table or recording; the decoded
recalls against what the memory should give), or the simulator's own refusal.

pyNN.nest and pyNN.brian2 are standard PyNN: they get the script through
:func:`neurosim.pynn.adapter.spinnaker_dialect` (sPyNNaker's conventions translated), once as
is and once with ``nearest=True`` (what the backend refuses replaced by the nearest it takes;
NEST's inputs shifted by 2 ms, since its spike sources fire one ``min_delay`` early and refuse a
spike at t <= 0). pyNN.brian2 runs on Brian2's numpy code generation (its default, Cython,
compiles every object: about 5 minutes for one CA3 run). Ratios in the table are the simulator's
time over neurosim.pynn (numba)'s.
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Callable
from typing import Any

from neurosim.experiments import spymem, spymem_operations

# name -> (module path, adapted, nearest, shift of the inputs (ms), setup options)
SIMULATORS: dict[str, tuple[str, bool, bool, float, dict[str, Any]]] = {
    "neurosim.pynn (numba)": ("neurosim.pynn", False, False, 0.0, {"backend": "numba"}),
    "neurosim.pynn (reference)": ("neurosim.pynn", False, False, 0.0, {"backend": "reference"}),
    "pyNN.nest": ("pyNN.nest", True, False, 0.0, {}),
    "pyNN.nest (nearest)": ("pyNN.nest", True, True, 2.0, {}),
    "pyNN.brian2": ("pyNN.brian2", True, False, 0.0, {}),
    "pyNN.brian2 (nearest)": ("pyNN.brian2", True, True, 0.0, {}),
}
# the learn / recall / forget protocol: what each recall must give (cue, content bits)
OPERATIONS = [("learn", 0, [0, 1, 8, 9]), ("learn", 2, [1, 5, 6]), ("recall", 0), ("recall", 2),
              ("learn", 0, [2, 3, 4]), ("recall", 0), ("recall", 2)]
EXPECTED_RECALLS = [(0, [0, 1, 8, 9]), (2, [1, 5, 6]), (0, [2, 3, 4]), (2, [1, 5, 6])]


def simulator(name: str):
    """(the PyNN module as the scripts get it, shift_ms, setup options) of ``SIMULATORS[name]``."""
    module, adapted, nearest, shift, options = SIMULATORS[name]
    os.environ.setdefault("PYNEST_QUIET", "1")  # NEST's banner would go to stdout, before the JSON
    sim = importlib.import_module(module)
    if module == "pyNN.brian2":
        import brian2

        # Brian2's numpy code generation: its default (Cython) compiles every object, ~5 minutes a CA3 run
        brian2.prefs.codegen.target = "numpy"
    if adapted:
        from neurosim.pynn.adapter import spinnaker_dialect

        sim = spinnaker_dialect(sim, nearest=nearest)
    return sim, shift, options


def _ca3(experiment: str) -> Callable:
    def run(sim, shift, options) -> str:
        mine, theirs = spymem.ca3_content_addressable(sim, experiment, shift_ms=shift, **options)
        bad, total = spymem.differing(mine, theirs, spymem.published_ca3(experiment)["sim_time_ms"])
        return f"{bad} / {total} cells differ"
    return run


def _board(run_number: int) -> Callable:
    def run(sim, shift, options) -> str:
        spikes, _, board = spymem.dg_ca3_ca1(sim, run_number, shift_ms=shift, **options)
        bad, total = spymem.differing(spikes, spymem.board_table(board), board["simTime"])
        return f"{bad} / {total} cells differ"
    return run


def _operations(model: str) -> Callable:
    def run(sim, shift, options) -> str:
        recalls = spymem_operations.run_operations(sim, model, OPERATIONS, shift_ms=shift, **options)
        wrong = sum(got != want for got, want in zip(recalls, EXPECTED_RECALLS, strict=True))
        return f"{wrong} / {len(EXPECTED_RECALLS)} recalls wrong"
    return run


SCRIPTS: dict[str, Callable] = {
    "CA3 functional (table)": _ca3("functional"),
    "CA3 stress (table)": _ca3("stress"),
    "CA3 state map (table)": _ca3("state-map"),
    "DG-CA3-CA1 board run 1": _board(1),
    "DG-CA3-CA1 board run 2": _board(2),
    **{f"{model}: learn/recall/forget": _operations(model) for model in spymem_operations.MODELS},
}


def bench(simulators: tuple[str, ...] = tuple(SIMULATORS), log=print) -> list[dict]:
    """One row per (script, simulator): seconds, outcome (or the refusal) and the ratio to neurosim (numba)."""
    unknown = set(simulators) - set(SIMULATORS)
    if unknown:
        raise ValueError(f"simulators = {sorted(unknown)} is not allowed: any of {list(SIMULATORS)}")
    rows = []
    for name in simulators:
        try:
            sim, shift, options = simulator(name)
        except ImportError as error:
            log(f"{name}: not installed ({error})")
            continue
        try:  # one untimed run first: imports, JIT compilation and code generation caches warm up
            next(iter(SCRIPTS.values()))(sim, shift, options)
        except Exception:  # noqa: BLE001 - a refusal shows again in the timed run
            _end_quietly(sim)
        for script, run in SCRIPTS.items():
            t0 = time.perf_counter()
            try:
                outcome, ok = run(sim, shift, options), True
            except Exception as error:  # noqa: BLE001 - a simulator's refusal is a result of the bench
                outcome, ok = f"refused: {type(error).__name__}: {str(error).splitlines()[0][:160]}", False
                _end_quietly(sim)
            seconds = time.perf_counter() - t0
            rows.append({"script": script, "simulator": name, "seconds": round(seconds, 3), "ran": ok,
                         "outcome": outcome})
            log(f"{script:48s} {name:28s} {seconds:8.2f} s  {outcome}")
    base = {r["script"]: r["seconds"] for r in rows if r["simulator"] == "neurosim.pynn (numba)" and r["ran"]}
    for r in rows:
        r["ratio_to_neurosim"] = round(r["seconds"] / base[r["script"]], 1) if r["ran"] and base.get(
            r["script"]) else None
    return rows


def _end_quietly(sim) -> None:
    try:
        sim.end()
    except Exception:  # noqa: BLE001 - nothing to end after a refused setup
        pass


def format_table(rows: list[dict]) -> str:
    lines = ["| script | simulator | seconds | x neurosim | outcome |", "|---|---|---:|---:|---|"]
    for r in rows:
        ratio = "" if r["ratio_to_neurosim"] is None else f"{r['ratio_to_neurosim']:g}"
        lines.append(f"| {r['script']} | {r['simulator']} | {r['seconds']:.2f} | {ratio} | {r['outcome']} |")
    return "\n".join(lines)
