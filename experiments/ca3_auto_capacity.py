"""Capacity of the autoassociative CA3 memory next to a classical Hopfield network.

For each PC->PC inhibition (the published 1.5 nA, and an inferred 9 nA = 0.75 w_max),
each sparsity f (active fraction) and each number of stored patterns P, a fresh
:class:`~neurosim.models.ca3_auto.CA3AutoMemory` of ``n_cells`` PCs stores the first P of
a fixed list of random patterns with exactly round(f N) active units, then recalls
each of them from a fragment keeping ``cue_keep`` of its active units (50%). Scores
per pattern: accuracy = Jaccard overlap |recalled & stored| / |recalled | stored|
(1 only for an exact recall; it falls with missing and with spurious units) and
perfect = exact recall. The baseline is a classical Hopfield network (:func:`hopfield_baseline`:
a :class:`~neurosim.models.hopfield.Hopfield` with the covariance rule, zero threshold and
asynchronous updates) given the same patterns and the same fragments. One resumable trial per
(inhibition, f, P) point; the figure marks the Hopfield capacity 0.138 N.
"""

from __future__ import annotations

from itertools import product
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from neurosim import _checks as ck
from neurosim.experiments import Outcome, engine
from neurosim.experiments.common import prefix_max
from neurosim.io import ResultsWriter, read_results
from neurosim.memory import jaccard, partial_cue, random_patterns
from neurosim.models.ca3_auto import CA3AutoMemory, CA3AutoParams
from neurosim.models.hopfield import Hopfield
from neurosim.plotting import COLORS, pyplot, save

HOPFIELD_ALPHA = 0.138  # Amit, Gutfreund & Sompolinsky (1985): P_max = 0.138 N for random +-1 patterns


def hopfield_baseline(patterns: np.ndarray, seed: int) -> Hopfield:
    """The classical Hopfield network storing ``patterns``: covariance rule centred on the patterns'
    mean activity (Hopfield's rule at f = 0.5), zero threshold, asynchronous updates in a random
    order per sweep (the orders drawn from ``seed``), at most 50 sweeps."""
    memory = Hopfield(patterns.shape[1], activity=float(np.mean(patterns)), threshold=0.0, update="async",
                      max_sweeps=50, seed=seed)
    memory.store_many(patterns)
    return memory


def grid(inhibitions_nA, sparsities, n_patterns) -> list[tuple[float, float, int]]:
    """The trial points in trial-index order."""
    return [(float(w), float(f), int(p)) for w, f, p in product(inhibitions_nA, sparsities, n_patterns)]


def point_data(seed: int, k_sparsity: int, n_cells: int, active: int, n_max: int, cue_keep: float
               ) -> tuple[np.ndarray, np.ndarray]:
    """The patterns and fragments of one sparsity: the same for every inhibition and P (curves are
    nested), and the first P of them do not depend on ``n_max``."""
    pattern_rng, cue_rng = (np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(k_sparsity, s)))
                            for s in (0, 1))
    patterns = random_patterns(pattern_rng, n_max, n_cells, active)
    cues = np.array([partial_cue(cue_rng, p, cue_keep) for p in patterns])
    return patterns, cues


def trial(patterns: np.ndarray, cues: np.ndarray, w_inh_nA: float, *, backend: str, seed: int,
          device: str | None = None) -> dict[str, np.ndarray]:
    """Store ``patterns``, recall each from its cue; the same for the Hopfield baseline."""
    memory = CA3AutoMemory(patterns.shape[1], backend=backend, seed=seed, params=CA3AutoParams(w_inh_nA=w_inh_nA),
                           device=device)
    memory.store_many(patterns)
    recalled = memory.recall_many(cues)
    hop = hopfield_baseline(patterns, seed).recall_many(cues)
    return {"accuracy": jaccard(recalled, patterns), "perfect": np.all(recalled == patterns, axis=1),
            "hopfield_accuracy": jaccard(hop, patterns), "hopfield_perfect": np.all(hop == patterns, axis=1),
            "recalled_active": np.count_nonzero(recalled, axis=1)}


def run(*, backend: str = "numba", device: str | None = None, seed: int = 0,
        out: Path | str = "results/ca3-auto-capacity.h5", resume: bool = False, progress: bool = True,
        n_cells: int = 100,
        sparsities: tuple[float, ...] = (0.05, 0.1, 0.2, 0.5),
        n_patterns: tuple[int, ...] = (1, 2, 4, 8, 14, 20, 28, 40),
        inhibitions_nA: tuple[float, ...] = (1.5, 9.0), cue_keep: float = 0.5) -> Outcome:
    eng = engine("ca3-auto-capacity", backend, device)
    backend = eng["backend"]
    out = Path(out)
    ck.count("n_cells", n_cells, minimum=2)
    ck.in_range("cue_keep", cue_keep, 0.0, 1.0)
    for f in sparsities:
        ck.in_range("sparsities", f, 1.0 / n_cells, 1.0 - 1.0 / n_cells)
    for p in n_patterns:
        ck.count("n_patterns", p)
    points = grid(inhibitions_nA, sparsities, n_patterns)
    config = {"experiment": "ca3-auto-capacity", "n_cells": n_cells, "sparsities": list(sparsities),
              "n_patterns": list(n_patterns), "inhibitions_nA": list(inhibitions_nA), "cue_keep": cue_keep,
              "seed": seed, "params": {k: v for k, v in vars(CA3AutoParams()).items() if k not in ("rule", "w_inh_nA")}}
    data = {k: point_data(seed, k, n_cells, max(1, round(f * n_cells)), max(n_patterns), cue_keep)
            for k, f in enumerate(sparsities)}
    with ResultsWriter(out, config=config, meta={**eng, "seed": seed}, resume=resume) as writer:
        todo = [i for i in range(len(points)) if i not in writer.finished_trials]
        for i in tqdm(todo, desc="capacity points", disable=not progress):
            w, f, p = points[i]
            patterns, cues = data[list(sparsities).index(f)]
            r = trial(patterns[:p], cues[:p], w, backend=backend, seed=seed, device=eng["device"])
            writer.write_trial(i, metrics={name: (v.astype(np.float64), "") for name, v in r.items()},
                               attrs={"w_inh_nA": w, "sparsity": f, "n_patterns": p,
                                      "active": int(patterns.sum(axis=1)[0]), "seed": seed})
    res = read_results(out)
    rows = []
    for i, (w, f, p) in enumerate(points):
        m = res.trials[i].metrics
        rows.append([w, f, p, float(m["accuracy"][0].mean()), float(m["perfect"][0].mean()),
                     float(m["hopfield_accuracy"][0].mean()), float(m["hopfield_perfect"][0].mean())])
    png = plot(rows, out.with_name(f"{out.stem}_capacity.png"), n_cells)
    notes = [f"Hopfield capacity 0.138 N = {HOPFIELD_ALPHA * n_cells:.1f} patterns at N = {n_cells}"]
    for w, f in product(inhibitions_nA, sparsities):
        exact = [r[2] for r in rows if r[0] == w and r[1] == f and r[4] == 1.0]
        hop = [r[2] for r in rows if r[0] == w and r[1] == f and r[6] == 1.0]
        notes.append(f"w_inh {w:g} nA, f = {f:g}: all recalls exact up to P = {prefix_max(exact, n_patterns)} "
                     f"(Hopfield: {prefix_max(hop, n_patterns)})")
    ok = all(r[3] == 1.0 for r in rows if r[2] == 1)
    return Outcome(title=f"ca3-auto-capacity on {backend}: N = {n_cells} PCs, cues = {cue_keep:.0%} fragments",
                   columns=["w_inh (nA)", "sparsity", "P", "accuracy", "perfect", "Hopfield accuracy",
                            "Hopfield perfect"],
                   rows=rows, files=[out, png], ok=ok, notes=notes)


def plot(rows: list[list], path: Path, n_cells: int) -> Path:
    """Accuracy (top) and perfect fraction (bottom) vs P, one column per inhibition."""
    plt = pyplot()

    inhibitions = sorted({r[0] for r in rows})
    sparsities = sorted({r[1] for r in rows})
    fig, axes = plt.subplots(2, len(inhibitions), figsize=(5.2 * len(inhibitions), 7), sharex=True, sharey=True,
                             squeeze=False)
    for col, w in enumerate(inhibitions):
        for k, f in enumerate(sparsities):
            pts = sorted((r for r in rows if r[0] == w and r[1] == f), key=lambda r: r[2])
            ps = [r[2] for r in pts]
            for row, (ca3, hop) in enumerate(((3, 5), (4, 6))):
                ax = axes[row, col]
                ax.plot(ps, [r[ca3] for r in pts], "o-", color=COLORS[k], label=f"CA3, f = {f:g}")
                ax.plot(ps, [r[hop] for r in pts], "s:", color=COLORS[k], alpha=0.7, label=f"Hopfield, f = {f:g}")
        for row in range(2):
            ax = axes[row, col]
            ax.axvline(HOPFIELD_ALPHA * n_cells, color="0.3", ls="--", lw=1)
            ax.text(HOPFIELD_ALPHA * n_cells, 1.02, " 0.138 N", fontsize=8, color="0.3", va="bottom")
            ax.set_ylim(-0.02, 1.08)
            ax.grid(alpha=0.3)
        axes[0, col].set_title(f"PC->PC inhibition {w:g} nA" + (" (published)" if w == 1.5 else " (not published)"),
                               fontsize=10)
        axes[1, col].set_xlabel("stored patterns P")
    axes[0, 0].set_ylabel("accuracy (Jaccard overlap)")
    axes[1, 0].set_ylabel("fraction recalled exactly")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(sparsities), fontsize=8)
    fig.suptitle(f"autoassociative CA3 (N = {n_cells} PCs) vs classical Hopfield, cues = fragments")
    return save(fig, path, rect=(0, 0.07, 1, 1))
