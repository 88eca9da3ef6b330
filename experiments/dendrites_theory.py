"""Ahmad & Hawkins (2016): Monte-Carlo checks of the dendrite formulas and the optimal NMDA threshold sweep.

**Checks** (one row each): numba Monte-Carlo estimates (:mod:`neurosim.models.dendrites`) against
the exact formulas, with the binomial standard error and the z score; trials per row are chosen
for about 400 expected events, between ``min_trials`` and ``max_trials``, and rows whose formula
rate is below ``1e-5`` are computed but not simulated (not measurable in such budgets):

- false positives of one segment, P_fp(n, a, s, theta);
- false negatives with noise, a = 128, s = 30, theta = 8 / 12 / 16, 5%..80% of the cells replaced;
- a segment holding the union of m patterns, n = 10000, a = 200, s = 25, theta = 15;
- a neuron with M = 500 segments on stored patterns of w = 7 bits out of n = 100 (Ahmad & Hawkins
  2015's classifier; published: simulated 0.00285, formula 0.00283 at theta = 5).

**Threshold sweep**: the median P_fp over a grid of n, sparsity (0.5% .. 3%) and s (20 .. 50 in
steps of 5), a = round(sparsity n), for theta = 3 .. 24, on two grids of the paper's code:
n = 10000 .. 190000 in steps of 20000 (the paper's: theta = 10 -> 7.4e-11, 12 -> 7.6e-14) and
n = 1000 .. 17000 in steps of 4000 (a later version of the code).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from neurosim import _checks as ck
from neurosim.experiments import Outcome, engine
from neurosim.experiments.common import rng_for
from neurosim.io import ResultsWriter, read_results
from neurosim.models import dendrites as d
from neurosim.plotting import COLORS, pyplot, save

SPARSITIES = (0.005, 0.01, 0.015, 0.02, 0.025, 0.03)
SYNAPSES = tuple(range(20, 51, 5))
THETAS = tuple(range(3, 25))
GRIDS = {"paper": tuple(range(10000, 190001, 20000)), "small_n": tuple(range(1000, 17001, 4000))}
MEASURABLE = 1e-5


def checks() -> list[tuple[str, str, tuple[int, ...]]]:
    """(kind, label, args) for every Monte-Carlo row."""
    rows = [("fp", f"P_fp n={n} a={a} s={s} theta={t}", (n, a, s, t))
            for n, a, s, t in ((100, 7, 19, 5), (1000, 20, 20, 4), (2048, 40, 30, 4), (2048, 40, 20, 10),
                               (4000, 128, 24, 12), (100, 7, 8, 5))]
    for theta in (8, 12, 16):
        rows += [("fn", f"P_fn a=128 s=30 theta={theta} noise={v / 128:.0%}", (128, 30, theta, v))
                 for v in (round(f * 128) for f in np.arange(0.05, 0.801, 0.05))]
    rows += [("union", f"union n=10000 a=200 s=25 theta=15 m={m}", (10000, 200, 25, 15, m))
             for m in (1, 5, 10, 13, 16, 19, 22, 25, 30)]
    rows += [("neuron", f"neuron n=100 w=7 M=500 theta={t}", (100, 7, 7, t, 500)) for t in (3, 4, 5, 6, 7)]
    return rows


FORMULA = {"fp": d.false_positive, "fn": d.false_negative, "union": d.union_false_positive,
           "neuron": d.neuron_false_positive}
SIMULATE = {"fp": d.mc_false_positive, "fn": d.mc_false_negative, "union": d.mc_union_false_positive,
            "neuron": d.mc_neuron_false_positive}


def sweep(ns: tuple[int, ...]) -> np.ndarray:
    """P_fp for every (n, sparsity, s) of the grid (rows) and theta in THETAS (columns); 0 where theta > s."""
    out = []
    for n, f, s in itertools.product(ns, SPARSITIES, SYNAPSES):
        by_theta = d.false_positive_by_theta(n, round(f * n), s)
        out.append([by_theta[t] if t <= s else 0.0 for t in THETAS])
    return np.array(out)


def run(*, backend: str = "numba", device: str | None = None, seed: int = 0,
        out: Path | str = "results/dendrites-theory.h5", resume: bool = False, progress: bool = True,
        min_trials: int = 1_000_000, max_trials: int = 4_000_000) -> Outcome:
    eng = engine("dendrites-theory", backend, device)  # the Monte-Carlo kernels are numba's
    out = Path(out)
    ck.count("min_trials", min_trials)
    ck.count("max_trials", max_trials, minimum=min_trials)
    rows = checks()
    config = {"experiment": "dendrites-theory", "seed": seed, "min_trials": min_trials, "max_trials": max_trials,
              "checks": [[k, label, list(args)] for k, label, args in rows], "sparsities": list(SPARSITIES),
              "synapses": list(SYNAPSES), "thetas": list(THETAS), "grids": {k: list(v) for k, v in GRIDS.items()}}
    with ResultsWriter(out, config=config, meta={**eng, "seed": seed}, resume=resume) as writer:
        if 0 not in writer.finished_trials:
            metrics = {}
            for name, ns in GRIDS.items():
                table = sweep(ns)
                metrics[f"sweep_{name}"] = (table, "")
                metrics[f"median_{name}"] = (np.median(table, axis=0), "")
            metrics["thetas"] = (np.array(THETAS, dtype=np.float64), "synapses")
            writer.write_trial(0, metrics=metrics, attrs={"what": "threshold sweep"})
        todo = [i for i in range(len(rows)) if i + 1 not in writer.finished_trials]
        for i in tqdm(todo, desc="Monte-Carlo checks", disable=not progress):
            kind, label, args = rows[i]
            p = FORMULA[kind](*args)
            trials = int(min(max_trials, max(min_trials, 400 / max(p, 1e-12))))
            measured = SIMULATE[kind](*args, trials, rng_for(seed, i)) if p >= MEASURABLE else np.nan
            writer.write_trial(i + 1, metrics={"formula": (np.array([p]), ""), "measured": (np.array([measured]), ""),
                                               "trials": (np.array([float(trials)]), "trials")},
                               attrs={"kind": kind, "label": label, "args": ",".join(map(str, args))})
    res = read_results(out)
    table = []
    for i, (_kind, label, _args) in enumerate(rows):
        m = res.trials[i + 1].metrics
        p, q, n = float(m["formula"][0][0]), float(m["measured"][0][0]), int(m["trials"][0][0])
        sigma = d.binomial_sigma(p, n)
        z = (q - p) / sigma if np.isfinite(q) and sigma > 0 else float("nan")
        table.append([label, f"{p:.4g}", "-" if np.isnan(q) else f"{q:.4g}", n if np.isfinite(q) else "-",
                      "-" if np.isnan(z) else round(z, 2)])
    medians = {k: res.trials[0].metrics[f"median_{k}"][0] for k in GRIDS}
    files = [out, plot_checks(res, rows, out.with_name(f"{out.stem}_checks.png")),
             plot_sweep(medians, out.with_name(f"{out.stem}_threshold.png"))]
    notes = [f"median P_fp ({k} grid, n {v[0]}..{v[-1]}): theta=10 -> {medians[k][THETAS.index(10)]:.3g}, "
             f"theta=12 -> {medians[k][THETAS.index(12)]:.3g}; smallest theta with median <= 1e-9: "
             f"{THETAS[int(np.argmax(medians[k] <= 1e-9))]}" for k, v in GRIDS.items()]
    zs = [r[4] for r in table if r[4] != "-"]
    ok = bool(zs) and max(abs(z) for z in zs) < 4.0
    notes.append(f"{len(zs)} Monte-Carlo rows measured, largest |z| = {max(abs(z) for z in zs):.2f}")
    return Outcome(title="dendrites-theory: Monte-Carlo vs exact formulas (Ahmad & Hawkins 2016), threshold sweep",
                   columns=["check", "formula", "Monte-Carlo", "trials", "z"], rows=table, files=files, ok=ok,
                   notes=notes)


def plot_checks(res, rows, path: Path) -> Path:
    """Formula (lines) and Monte-Carlo (points with 2-sigma bars) for the noise, union and classifier rows."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    vals = {}
    for i, (kind, _label, args) in enumerate(rows):
        m = res.trials[i + 1].metrics
        vals.setdefault(kind, []).append((args, float(m["formula"][0][0]), float(m["measured"][0][0]),
                                          int(m["trials"][0][0])))

    def draw(ax, pts, x, color, label):
        xs = np.array([x(a) for a, *_ in pts])
        ax.plot(xs, [p for _, p, _, _ in pts], "-", color=color, label=f"{label} formula")
        meas = [(xx, q, 2 * d.binomial_sigma(p, n)) for xx, (_, p, q, n) in zip(xs, pts, strict=True)
                if np.isfinite(q) and q > 0]
        if meas:
            mx, my, me = map(np.array, zip(*meas, strict=True))
            ax.errorbar(mx, my, yerr=me, fmt="o", ms=4, color=color, label=f"{label} Monte-Carlo")

    for k, theta in enumerate((8, 12, 16)):
        draw(axes[0], [v for v in vals["fn"] if v[0][2] == theta], lambda a: a[3] / a[0], COLORS[k], f"theta={theta}")
    axes[0].set_xlabel("fraction of the pattern's 128 cells replaced by noise")
    axes[0].set_title("false negatives, a = 128, s = 30", fontsize=10)
    draw(axes[1], vals["union"], lambda a: a[4], COLORS[0], "")
    axes[1].set_xlabel("patterns m stored on the segment")
    axes[1].set_title("union: n = 10000, a = 200, s = 25, theta = 15", fontsize=10)
    draw(axes[2], vals["neuron"], lambda a: a[3], COLORS[1], "")
    axes[2].set_xlabel("threshold theta")
    axes[2].set_title("neuron with 500 stored patterns of 7 bits, n = 100", fontsize=10)
    for ax in axes:
        ax.set_yscale("log")
        ax.axhline(MEASURABLE, color="0.6", ls=":", lw=1)
        ax.set_ylabel("error probability")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    fig.suptitle("active dendrites: Monte-Carlo (points, 2 sigma) vs exact formulas (lines); dotted: 1e-5")
    return save(fig, path)


def plot_sweep(medians: dict[str, np.ndarray], path: Path) -> Path:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for k, (name, med) in enumerate(medians.items()):
        ns = GRIDS[name]
        ax.semilogy(THETAS, med, "o-", color=COLORS[k], ms=4, label=f"n = {ns[0]} .. {ns[-1]}")
    ax.axhline(1e-9, color="0.5", ls="--", lw=1)
    ax.axvspan(8, 20, color="0.9", zorder=0, label="measured NMDA thresholds (8-20 synapses)")
    ax.set_xlabel("NMDA threshold theta (synapses)")
    ax.set_ylabel("median false-positive probability")
    ax.set_title("median over sparsity 0.5-3% and s = 20..50", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return save(fig, path)
