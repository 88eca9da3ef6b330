"""Capacity of one Sparsey MAC: recall and recognition of N single-trial-learned inputs from corrupted cues.

For each MAC size (q CMs of k cells), each sparsity (active units of ``n_inputs``) and each
N, a fresh :class:`~neurosim.models.sparsey.MAC` learns the first N of one fixed list of
random inputs, one presentation each (learning mode), keeping the code each item got. Each
studied item is then cued by a corrupted copy: ``corruption`` of its active units (20%)
moved to units outside it (:func:`~neurosim.memory.move_bits`).

- Recall: the cue's recognition-mode code (each CM's max-V cell), read back through the U
  weights (:meth:`MAC.reconstruct`, threshold ``recall_threshold`` = 0.9, the
  :class:`~neurosim.models.sparsey.SparseyMemory` default). Scores per item: exact recall
  (the reconstruction equals the stored input), Jaccard overlap |r & x| / |r | x| with the
  stored input, and code overlap (fraction of CMs) of the cue's code with the item's learned code.
- Recognition: two-alternative forced choice between the corrupted studied item and a novel
  random input of the same sparsity, by familiarity G (the higher wins, ties count 0.5);
  the mean G of both is reported too.

The items, cues and novel inputs of a sparsity, and the learning draws of a (size, sparsity),
do not depend on N: the runs are nested. One resumable trial per (size, sparsity, N).
"""

from __future__ import annotations

from itertools import product
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from neurosim import _checks as ck
from neurosim.experiments import Outcome, engine
from neurosim.experiments.common import rng_for
from neurosim.io import ResultsWriter, read_results
from neurosim.memory import jaccard, move_bits, random_patterns
from neurosim.models.sparsey import MAC, CSAParams, code_overlap
from neurosim.plotting import COLORS, pyplot, save


def point_data(seed: int, s: int, n_inputs: int, active: int, n_max: int, corruption: float
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Items, their corrupted cues and novel inputs of sparsity index ``s`` (the first N do not depend on n_max)."""
    item_rng, cue_rng, novel_rng = (rng_for(seed, 0, s, j) for j in range(3))
    items = random_patterns(item_rng, n_max, n_inputs, active)
    m = int(round(corruption * active))
    cues = np.array([move_bits(cue_rng, x, m) for x in items])
    return items, cues, random_patterns(novel_rng, n_max, n_inputs, active)


def trial(items: np.ndarray, cues: np.ndarray, novel: np.ndarray, q: int, k: int, threshold: float,
          rng: np.random.Generator, backend: str = "numba", device: str | None = None) -> dict[str, np.ndarray]:
    """Learn ``items``; recall and recognize them from ``cues``, against ``novel`` foils."""
    mac = MAC(items.shape[1], q, k, params=CSAParams(), backend=backend, device=device)
    learned = mac.present(items, rng).cells
    cue = mac.present(cues, learn=False, recognize=True)
    g_novel = mac.present(novel, learn=False, recognize=True).familiarity
    recalled = mac.reconstruct(cue.cells, threshold)
    return {"exact": np.all(recalled == items, axis=1).astype(np.float64), "jaccard": jaccard(recalled, items),
            "code_overlap": code_overlap(cue.cells, learned) / q,
            "afc": np.where(cue.familiarity > g_novel, 1.0, np.where(cue.familiarity == g_novel, 0.5, 0.0)),
            "g_studied": cue.familiarity, "g_novel": g_novel,
            "recalled_active": np.count_nonzero(recalled, axis=1).astype(np.float64)}


def run(*, backend: str = "numba", device: str | None = None, seed: int = 0,
        out: Path | str = "results/sparsey-capacity.h5", resume: bool = False, progress: bool = True,
        n_inputs: int = 784,
        sizes: tuple[tuple[int, int], ...] = ((20, 20), (20, 40), (40, 20)), actives: tuple[int, ...] = (20, 40),
        n_items: tuple[int, ...] = (10, 20, 50, 100, 200, 500, 1000, 2000), corruption: float = 0.2,
        recall_threshold: float = 0.9) -> Outcome:
    eng = engine("sparsey-capacity", backend, device)
    backend = eng["backend"]
    out = Path(out)
    ck.count("n_inputs", n_inputs, minimum=2)
    ck.in_range("corruption", corruption, 0.0, 1.0)
    ck.in_range("recall_threshold", recall_threshold, 0.0, 1.0)
    for name, values in (("sizes", sizes), ("actives", actives), ("n_items", n_items)):
        if not values:
            ck.fail(name, values, "at least one value")
    for size in sizes:
        if not (isinstance(size, (tuple, list)) and len(size) == 2):
            ck.fail("sizes", size, "(q, k) pairs of integers >= 1")
        ck.count("sizes (q)", size[0])
        ck.count("sizes (k)", size[1])
    for a in actives:
        ck.count("actives", a)
        if 2 * a > n_inputs:
            ck.fail("actives", a, f"an integer in [1, {n_inputs // 2}] (cues move units outside the item)")
    for n in n_items:
        ck.count("n_items", n)
    sizes = tuple((int(q), int(k)) for q, k in sizes)
    points = [(q, k, int(a), int(n)) for (q, k), a, n in product(sizes, actives, n_items)]
    config = {"experiment": "sparsey-capacity", "n_inputs": n_inputs, "sizes": [list(s) for s in sizes],
              "actives": list(actives), "n_items": list(n_items), "corruption": corruption,
              "recall_threshold": recall_threshold, "seed": seed, "params": vars(CSAParams())}
    data = {a: point_data(seed, s, n_inputs, a, max(n_items), corruption) for s, a in enumerate(actives)}
    with ResultsWriter(out, config=config, meta={**eng, "seed": seed}, resume=resume) as writer:
        todo = [i for i in range(len(points)) if i not in writer.finished_trials]
        for i in tqdm(todo, desc="capacity points", disable=not progress):
            q, k, a, n = points[i]
            items, cues, novel = (d[:n] for d in data[a])
            learn_rng = rng_for(seed, 1, sizes.index((q, k)), list(actives).index(a))
            r = trial(items, cues, novel, q, k, recall_threshold, learn_rng, backend, eng["device"])
            writer.write_trial(i, metrics={name: (v, "") for name, v in r.items()},
                               attrs={"q": q, "k": k, "active": a, "n_items": n, "seed": seed})
    res = read_results(out)
    cols = ("exact", "jaccard", "code_overlap", "afc", "g_studied", "g_novel")
    rows = [[q, k, a, n] + [float(res.trials[i].metrics[c][0].mean()) for c in cols]
            for i, (q, k, a, n) in enumerate(points)]
    png = plot(rows, out.with_name(f"{out.stem}_capacity.png"), n_inputs, corruption)
    notes = []
    for (q, k), a in product(sizes, actives):
        sel = [r for r in rows if (r[0], r[1], r[2]) == (q, k, a)]
        notes.append(f"MAC {q} x {k}, {a} active: exact recall >= 0.99 up to N = {_last(sel, 4, 0.99)}, "
                     f"2AFC >= 0.95 up to N = {_last(sel, 7, 0.95)}")
    smallest = min(n_items)
    ok = all(r[4] == 1.0 and r[7] >= 0.95 for r in rows if r[3] == smallest)
    return Outcome(title=f"sparsey-capacity on {backend}: {n_inputs} inputs, cues = {corruption:.0%} of the active "
                         f"units moved, recall threshold {recall_threshold:g}",
                   columns=["q", "k", "active", "N", "exact recall", "Jaccard", "code overlap", "2AFC",
                            "G studied", "G novel"],
                   rows=rows, files=[out, png], ok=ok, notes=notes)


def _last(rows: list[list], col: int, level: float) -> int:
    """The largest N such that every N' <= N reached ``level`` in column ``col`` (0 if none)."""
    best = 0
    for r in sorted(rows, key=lambda r: r[3]):
        if r[col] < level:
            break
        best = r[3]
    return best


def plot(rows: list[list], path: Path, n_inputs: int, corruption: float) -> Path:
    """Exact recall, Jaccard and 2AFC vs N (log x), a curve per MAC size (solid) and sparsity (marker),
    a panel per score."""
    plt = pyplot()


    sizes = sorted({(r[0], r[1]) for r in rows})
    actives = sorted({r[2] for r in rows})
    panels = ((4, "exact recall"), (5, "recall Jaccard overlap"), (7, "recognition 2AFC (studied vs novel)"))
    fig, axes = plt.subplots(1, len(panels), figsize=(15, 4.4), sharey=True)
    for ax, (col, label) in zip(axes, panels, strict=True):
        for c, (q, k) in enumerate(sizes):
            for j, a in enumerate(actives):
                pts = sorted((r for r in rows if (r[0], r[1], r[2]) == (q, k, a)), key=lambda r: r[3])
                ax.plot([r[3] for r in pts], [r[col] for r in pts], "os^vD"[j % 5] + ("-" if j == 0 else "--"),
                        color=COLORS[c % len(COLORS)], label=f"{q} x {k}, {a} active")
        if col == 7:
            ax.axhline(0.5, color="0.5", ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_xlabel("stored inputs N")
        ax.set_title(label, fontsize=10)
        ax.set_ylim(-0.02, 1.04)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("fraction / mean score")
    axes[0].legend(fontsize=8, loc="lower left")
    fig.suptitle(f"Sparsey MAC capacity: {n_inputs} inputs, single-trial learning, cues with {corruption:.0%} "
                 "of the active units moved")
    return save(fig, path)
