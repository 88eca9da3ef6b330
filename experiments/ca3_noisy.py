"""Noisy content queries on the CA3 memory: precision and recall of cue retrieval.

``n`` cues each store a random content of ``k`` of ``m`` bits. Each stored content is
then used as a query with a fraction of its bits missing or with extra (spurious)
random bits. Recall-by-content answers every cue whose content shares a bit with the
query (OR match); for the queried cue c, with R the returned set:
precision = [c in R] / |R| and recall = [c in R]. Three memories answer: the
gated spiking memory (``plastic_recall=False``), the published circuit (STDP on
during recall, so queries themselves change the memory) and the ideal OR-match
memory (a dictionary). Queries run in a random order, all conditions interleaved.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neurosim.experiments import Outcome, engine
from neurosim.io import ResultsWriter, ensure_parent
from neurosim.memory import add_bits, drop_bits
from neurosim.models.ca3 import CA3Memory, Operation
from neurosim.models.ca3_oracle import DictOracle
from neurosim.plotting import COLORS, pyplot, save

MEMORIES = ("gated", "published", "ideal")


def run(*, backend: str = "numba", device: str | None = None, seed: int = 0, out: Path | str = "results/ca3-noisy.h5",
        resume: bool = False, progress: bool = False, n: int = 50, m: int = 1000, k: int = 5,
        missing: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 0.9),
        spurious: tuple[int, ...] = (0, 1, 2, 4, 8, 16, 32, 64)) -> Outcome:  # noqa: ARG001
    eng = engine("ca3-noisy", backend, device)
    backend = eng["backend"]
    rng = np.random.default_rng(seed)
    contents = np.zeros((n, m), dtype=bool)
    for c in range(n):
        contents[c, rng.choice(m, k, replace=False)] = True
    conditions = [("missing", f, 0) for f in missing] + [("spurious", 0.0, s) for s in spurious[1:]]
    queries = []  # (condition index, cue, bits)
    for ci, (_, frac, extra) in enumerate(conditions):
        for c in range(n):
            q = drop_bits(rng, contents[c], int(round(frac * k)))
            q = add_bits(rng, q, extra)
            queries.append((ci, c, tuple(np.flatnonzero(q).tolist())))
    order = rng.permutation(len(queries))
    queries = [queries[i] for i in order]
    learn = [Operation("learn", c, tuple(np.flatnonzero(contents[c]).tolist())) for c in range(n)]
    asks = [Operation("recall_content", bits=q[2]) for q in queries]
    answers = {}
    for name in MEMORIES:
        if name == "ideal":
            oracle = DictOracle()
            answers[name] = [oracle.apply(op) for op in learn + asks][n:]
        else:
            mem = CA3Memory(n, m, backend=backend, seed=seed, plastic_recall=name == "published", device=eng["device"])
            schedule = [(mem.op_ms * i, op) for i, op in enumerate(learn + asks)]
            answers[name] = mem.run_schedule(schedule)[n:]
    precision = {name: np.zeros(len(conditions)) for name in MEMORIES}
    recall = {name: np.zeros(len(conditions)) for name in MEMORIES}
    for name in MEMORIES:
        for (ci, cue, _), got in zip(queries, answers[name], strict=True):
            hit = cue in got
            recall[name][ci] += hit / n
            precision[name][ci] += (hit / len(got) if got else 0.0) / n
    out = Path(out)
    ensure_parent(out)
    config = {"experiment": "ca3-noisy", "n": n, "m": m, "k": k, "missing": list(missing),
              "spurious": list(spurious), "conditions": [list(c) for c in conditions]}
    metrics = {f"{q}_{name}": (arr[name], "") for q, arr in (("precision", precision), ("recall", recall))
               for name in MEMORIES}
    metrics["missing_fraction"] = (np.array([c[1] for c in conditions]), "")
    metrics["spurious_bits"] = (np.array([c[2] for c in conditions]), "bits")
    with ResultsWriter(out, config=config, meta={**eng, "seed": seed}) as writer:
        writer.write_main(metrics=metrics)
        writer.close()
    figure = _plot(conditions, precision, recall, out.with_name(out.stem + "_curves.png"), n, m, k)
    rows = [[kind, f"{frac:g}", extra, *(f"{precision[x][i]:.3f} / {recall[x][i]:.3f}" for x in MEMORIES)]
            for i, (kind, frac, extra) in enumerate(conditions)]
    return Outcome(title=f"ca3-noisy on {backend}: n = {n} cues, m = {m} bits, {k} active",
                   columns=["noise", "missing", "spurious", *(f"{x}: precision / recall" for x in MEMORIES)],
                   rows=rows, files=[out, figure])


def _plot(conditions, precision, recall, path: Path, n: int, m: int, k: int) -> Path:
    plt = pyplot()


    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, kind, xi, label in ((axes[0], "missing", 1, "fraction of the content's bits missing"),
                                (axes[1], "spurious", 2, "spurious bits added")):
        idx = [i for i, c in enumerate(conditions) if c[0] == kind or (c[1] == 0 and c[2] == 0)]
        x = [conditions[i][xi] for i in idx]
        for j, name in enumerate(MEMORIES):
            style = {"color": COLORS[j], "ls": "--" if name == "ideal" else "-", "marker": "o", "ms": 3}
            ax.plot(x, [precision[name][i] for i in idx], label=f"{name}: precision", **style)
            ax.plot(x, [recall[name][i] for i in idx], label=f"{name}: recall", alpha=0.5, **style)
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("cue retrieval")
    axes[1].legend(fontsize=7, loc="upper right")
    fig.suptitle(f"CA3 memory, noisy content queries (n = {n} cues, m = {m} bits, {k} active)")
    return save(fig, path)
