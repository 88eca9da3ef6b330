"""The three published experiments of the CA3 content-addressable memory, exactly.

1. ``ca3-functional``: 9 operations, one every 10 ms, n = 5 cues, m = 10 bits (90 ms).
2. ``ca3-stress``: the "pyramidal" test bench: 60 operations 14 ms apart from 1 ms
   (851 ms): learn cue i with binary(i+1) (little-endian), recall every cue and every
   bit; relearn all with the complemented content, recall all; complement again, recall all.
3. ``ca3-state-map``: a 4x4 map, 16 cells (cues) x 6 states (bits), 16 learns 7 ms apart,
   then 4 recall-by-content queries 6 ms apart from 112 ms (140 ms).

Each writes HDF5 (every population's spikes, the operations and their outcomes, and,
from the published tables (``experiments/data/ca3``), the number of
(population, ms) cells that differ from them) and a raster with the operations marked.
Expected outputs come from a dictionary oracle and, for the functional and state-map
experiments, equal the published answers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neurosim.experiments import Outcome, engine
from neurosim.io import ResultsWriter, ensure_parent
from neurosim.models.ca3 import POPULATIONS, CA3Memory, Operation
from neurosim.models.ca3_oracle import DictOracle
from neurosim.plotting import raster

Schedule = list[tuple[float, Operation]]
STATES = ("unknown", "initial", "goal", "free", "path", "obstacle")
STATE_MAP = (0, 5, 1, 3,
             0, 3, 4, 5,
             0, 5, 4, 3,
             2, 4, 4, 3)


def functional() -> tuple[int, int, Schedule, float]:
    ops = [Operation("learn", 0, (0, 1, 8, 9)), Operation("learn", 4, (1, 5, 6)), Operation("learn", 3, (4, 5, 6)),
           Operation("recall_cue", 0), Operation("recall_content", bits=(6,)),
           Operation("recall_content", bits=(0, 4)), Operation("learn", 3, (1, 3, 4, 8)),
           Operation("recall_cue", 3), Operation("recall_content", bits=(6,))]
    return 5, 10, [(10.0 * k, op) for k, op in enumerate(ops)], 90.0


def _binary(value: int, m: int) -> tuple[int, ...]:
    return tuple(b for b in range(m) if (value >> b) & 1)


def stress() -> tuple[int, int, Schedule, float]:
    n, m = 5, 10
    ops: list[Operation] = []
    for phase in range(3):  # original, complemented, complemented again (= original)
        for i in range(n):
            bits = _binary(i + 1, m)
            if phase == 1:
                bits = tuple(b for b in range(m) if b not in bits)
            ops.append(Operation("learn", i, bits))
        ops += [Operation("recall_cue", i) for i in range(n)]
        ops += [Operation("recall_content", bits=(b,)) for b in range(m)]
    return n, m, [(1.0 + 14.0 * k, op) for k, op in enumerate(ops)], 851.0


def state_map() -> tuple[int, int, Schedule, float]:
    schedule = [(7.0 * c, Operation("learn", c, (s,))) for c, s in enumerate(STATE_MAP)]
    queries = [(1, 2, 4), (3,), (5,), (0,)]  # {initial, goal, path}, free, obstacle, unknown
    schedule += [(112.0 + 6.0 * k, Operation("recall_content", bits=q)) for k, q in enumerate(queries)]
    return 16, 6, schedule, 140.0


@dataclass(frozen=True)
class Published:
    """A published experiment: its spike table's file (experiments/data/ca3) and its schedule."""

    table: str
    setup: Callable[[], tuple[int, int, Schedule, float]]  # () -> (n cues, m content bits, schedule, duration ms)


EXPERIMENTS = {"ca3-functional": Published("exp1_functional", functional),
               "ca3-stress": Published("exp2_pyramidal", stress),
               "ca3-state-map": Published("exp3_state_map", state_map)}


def exportable(name: str):
    """(network, spike inputs, duration ms) of a published experiment, for ``neurosim export``."""
    from neurosim.hardware.ca3_pynn import ca3_spike_inputs
    from neurosim.models.ca3 import build_network

    n, m, schedule, duration = EXPERIMENTS[name].setup()
    return build_network(n, m), ca3_spike_inputs(n, m, schedule), duration


DATA = Path(__file__).resolve().parent / "data" / "ca3"  # the published tables, with their provenance (README.md)


def published_table(name: str) -> dict:
    """The published spike table of experiment ``name`` (experiments/data/ca3)."""
    return json.loads((DATA / f"{EXPERIMENTS[name].table}.json").read_text())


def spike_table(memory: CA3Memory, duration_ms: float) -> dict[str, dict[int, list[int]]]:
    """{population: {ms: sorted ids}} in the published table's naming (output split in two)."""
    out: dict[str, dict[int, list[int]]] = {}
    names = {"in_cue": "input_cue", "in_content": "input_content"}
    for pop in (*POPULATIONS, "in_cue", "in_content"):
        t, i = memory.sim.spikes(pop)
        keep = t < duration_ms
        t, i = t[keep].astype(int), i[keep]
        if pop == "output":
            n = memory.n_cues
            out["output_cue"] = _by_ms(t[i < n], i[i < n])
            out["output_content"] = _by_ms(t[i >= n], i[i >= n] - n)
        else:
            out[names.get(pop, pop)] = _by_ms(t, i)
    return out


def _by_ms(t: np.ndarray, i: np.ndarray) -> dict[int, list[int]]:
    table: dict[int, list[int]] = {}
    for ms, idx in zip(t.tolist(), i.tolist(), strict=True):
        table.setdefault(ms, []).append(idx)
    return {ms: sorted(v) for ms, v in table.items()}


def mismatches(mine: dict[str, dict[int, list[int]]], published: dict, duration_ms: float) -> tuple[int, int]:
    """(differing (population, ms) cells, all cells) between a run and the published table."""
    bad = total = 0
    for pop, rows in published["spikes"].items():
        pub = {int(t): sorted(ids) for t, ids in rows}
        for ms in range(int(duration_ms)):
            total += 1
            bad += pub.get(ms, []) != mine.get(pop, {}).get(ms, [])
    return bad, total


def _label(op: Operation) -> str:
    if op.kind == "learn":
        return f"L{op.cue}"
    if op.kind == "recall_cue":
        return f"C{op.cue}"
    return "B" + ",".join(map(str, op.bits))


def run_published(name: str, *, backend: str = "numba", device: str | None = None, seed: int = 0,
                  out: Path | str | None = None, resume: bool = False, progress: bool = False) -> Outcome:  # noqa: ARG001
    eng = engine(name, backend, device)
    backend = eng["backend"]
    n, m, schedule, duration = EXPERIMENTS[name].setup()
    out = Path(out or f"results/{name}.h5")
    memory = CA3Memory(n, m, backend=backend, seed=seed, plastic_recall=True, device=eng["device"])  # as published
    recalled = memory.run_schedule(schedule, until_ms=duration)
    oracle = DictOracle()
    expected = [oracle.apply(op) for _, op in schedule]
    rows, ok = [], []
    for (t, op), exp, got in zip(schedule, expected, recalled, strict=True):
        if op.kind == "learn":
            rows.append([f"{t:g}", op.describe(), "", "", ""])
            continue
        ok.append(exp == got)
        rows.append([f"{t:g}", op.describe(), exp, got, "ok" if exp == got else "WRONG"])
    mine = spike_table(memory, duration)
    bad, total = mismatches(mine, published_table(name), duration)
    config = {"experiment": name, "n_cues": n, "n_bits": m, "duration_ms": duration,
              "schedule": [[t, op.kind, op.cue, list(op.bits)] for t, op in schedule]}
    spikes = {pop: memory.sim.spikes(pop) for pop in (*POPULATIONS, "in_cue", "in_content")}
    metrics = {
        "operation_time": (np.array([t for t, _ in schedule]), "ms"),
        "recall_correct": (np.array(ok, dtype=bool), ""),
        "published_table_mismatches": (np.array([bad, total]), "cells (differing, total)"),
    }
    ensure_parent(out)
    with ResultsWriter(out, config=config, meta={**eng, "seed": seed}) as writer:
        writer.write_main(spikes=spikes, metrics=metrics,
                          attrs={"recalls_correct": int(sum(ok)), "recalls": len(ok)})
        writer.close()
    sizes = {p.name: p.size for p in memory.network.populations} | {"in_cue": n, "in_content": m}
    order = ["in_cue", "in_content", "cueCueRecall", "contCueRecall", "contCond", "contCondInt", "cueContRecall",
             "contContRecall", "mergeCue", "mergeCont", "output"]
    figure = raster({p: spikes[p] for p in order}, out.with_name(out.stem + "_raster.png"), sizes=sizes,
                    marks=[(t, _label(op)) for t, op in schedule], t_max_ms=duration,
                    title=f"{name}: CA3 memory, n = {n} cues, m = {m} bits ({backend})")
    summary = (f"{sum(ok)}/{len(ok)} recalls correct; published spike table: {bad} of {total} (population, ms) "
               "cells differ")
    return Outcome(title=f"{name} on {backend}", columns=["t (ms)", "operation", "expected", "recalled", ""],
                   rows=rows, files=[out, figure], ok=all(ok) and bad == 0, notes=[summary])


def run_functional(**kw) -> Outcome:
    return run_published("ca3-functional", **kw)


def run_stress(**kw) -> Outcome:
    return run_published("ca3-stress", **kw)


def run_state_map(**kw) -> Outcome:
    return run_published("ca3-state-map", **kw)
