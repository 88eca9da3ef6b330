"""Sparsey maps similar inputs to similar codes: input overlap vs code overlap at several loads.

Sparsey's Code Selection Algorithm draws each CM's winner with a noise that falls as the
familiarity G of the input rises (Rinkus 2014, 2017), so an input close to a stored one
gets most of that one's code and a novel input gets a random code. Measured here, for each
sigmoid width (the V -> mu sigmoid, :class:`~neurosim.models.sparsey.CSAParams`) and each load:

1. a fresh MAC (``n_inputs`` units, ``q`` CMs of ``k`` cells) learns the first ``load`` of a
   fixed list of random inputs (``active`` units on) in learning mode;
2. for each of ``n_pairs`` pairs: x is a random input and y is x with ``m`` of its active
   units moved to units outside x (:func:`~neurosim.memory.move_bits`; ``m`` takes every value in
   [0, active] equally often, in a random order), so the input overlap |x & y| is
   ``active - m``; the MAC learns x (learning mode), then codes y in learning mode
   without learning (the winner drawn from rho); code overlap = CMs whose winners agree.
   The weights are restored after each pair, so every pair sees the MAC with ``load``
   items only.

Reported per (width, load): the Spearman rank correlation of input and code overlap over the
pairs, and the mean code overlap (as a fraction of ``q``) at input overlap 0, 25, 50, 75 and
100% (the pairs with exactly that overlap). The pairs and the stored list are the same for
every trial (paired comparison). One resumable trial per (width, load).
"""

from __future__ import annotations

from itertools import product
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr
from tqdm.auto import tqdm

from neurosim import _checks as ck
from neurosim.experiments import Outcome, engine
from neurosim.experiments.common import rng_for
from neurosim.io import ResultsWriter, read_results
from neurosim.memory import move_bits, random_patterns
from neurosim.models.sparsey import MAC, CSAParams, code_overlap
from neurosim.plotting import COLORS, pyplot, save

LEVELS = (0.0, 0.25, 0.5, 0.75, 1.0)  # input overlaps (fraction of active) reported in the table


def pairs(seed: int, n_pairs: int, n_inputs: int, active: int) -> tuple[np.ndarray, np.ndarray]:
    """The x and y rows of every pair (the same for every trial)."""
    rng = rng_for(seed, 1)
    moved = rng.permutation(np.arange(n_pairs) % (active + 1))
    x = random_patterns(rng, n_pairs, n_inputs, active)
    y = np.array([move_bits(rng, a, int(m)) for a, m in zip(x, moved, strict=True)])
    return x, y


def trial(stored: np.ndarray, x: np.ndarray, y: np.ndarray, q: int, k: int, width: float,
          rng: np.random.Generator, backend: str = "numba", device: str | None = None) -> dict[str, np.ndarray]:
    """Learn ``stored``, then per pair: learn x, code y (learning mode, no learning), restore the weights."""
    mac = MAC(x.shape[1], q, k, params=CSAParams(sigmoid_width=width), backend=backend, device=device)
    if len(stored):
        mac.present(stored, rng)
    loaded = mac.snapshot()
    code_x, code_y, g_y = (np.empty((len(x), q), np.int64), np.empty((len(x), q), np.int64), np.empty(len(x)))
    for p in range(len(x)):
        code_x[p] = mac.present(x[p], rng).cells[0]
        c = mac.present(y[p], rng, learn=False)
        code_y[p], g_y[p] = c.cells[0], c.familiarity[0]
        mac.restore(loaded)
    return {"input_overlap": np.count_nonzero(x & y, axis=1).astype(np.float64),
            "code_overlap": code_overlap(code_x, code_y).astype(np.float64), "familiarity": g_y}


def run(*, backend: str = "numba", device: str | None = None, seed: int = 0,
        out: Path | str = "results/sparsey-similarity.h5", resume: bool = False, progress: bool = True,
        n_inputs: int = 784, q: int = 20, k: int = 20,
        active: int = 40, n_pairs: int = 2050, loads: tuple[int, ...] = (0, 20, 50, 100, 200),
        widths: tuple[float, ...] = (0.15, 0.05)) -> Outcome:
    eng = engine("sparsey-similarity", backend, device)
    backend = eng["backend"]
    out = Path(out)
    ck.count("n_inputs", n_inputs, minimum=2)
    ck.count("q", q)
    ck.count("k", k, minimum=2)
    ck.count("active", active)
    if 2 * active > n_inputs:
        ck.fail("active", active, f"an integer in [1, {n_inputs // 2}] (y needs {active} units outside x)")
    ck.count("n_pairs", n_pairs, minimum=3)
    if not loads:
        ck.fail("loads", loads, "at least one load")
    for load in loads:
        ck.count("loads", load, minimum=0)
    if not widths:
        ck.fail("widths", widths, "at least one sigmoid width")
    for w in widths:
        ck.positive("widths", w)
    points = [(float(w), int(load)) for w, load in product(widths, loads)]
    config = {"experiment": "sparsey-similarity", "n_inputs": n_inputs, "q": q, "k": k, "active": active,
              "n_pairs": n_pairs, "loads": list(loads), "widths": list(widths), "seed": seed,
              "params": {f: v for f, v in vars(CSAParams()).items() if f != "sigmoid_width"}}
    stored = random_patterns(rng_for(seed, 0), max(loads), n_inputs, active)
    x, y = pairs(seed, n_pairs, n_inputs, active)
    with ResultsWriter(out, config=config, meta={**eng, "seed": seed}, resume=resume) as writer:
        todo = [i for i in range(len(points)) if i not in writer.finished_trials]
        for i in tqdm(todo, desc="similarity points", disable=not progress):
            w, load = points[i]
            r = trial(stored[:load], x, y, q, k, w, rng_for(seed, 2, i), backend, eng["device"])
            rho = float(spearmanr(r["input_overlap"], r["code_overlap"]).statistic)
            writer.write_trial(i, metrics={name: (v, "") for name, v in r.items()},
                               attrs={"sigmoid_width": w, "load": load, "spearman": rho, "seed": seed})
    res = read_results(out)
    rows = []
    for i, (w, load) in enumerate(points):
        t = res.trials[i]
        rows.append([w, load, float(t.attrs["spearman"])]
                    + [float(v) for v in level_means(t.metrics["input_overlap"][0], t.metrics["code_overlap"][0],
                                                     active, q)])
    png = plot(res, points, out.with_name(f"{out.stem}_similarity.png"), active, q)
    notes = [f"width {w:g}: Spearman " + " / ".join(f"{r[2]:.2f}" for r in rows if r[0] == w)
             + " at loads " + " / ".join(str(r[1]) for r in rows if r[0] == w) for w in widths]
    ok = all(r[2] > 0.5 for r in rows if r[1] == 0)
    return Outcome(title=f"sparsey-similarity on {backend}: MAC {q} x {k}, {n_inputs} inputs ({active} active), "
                         f"{n_pairs} pairs per point",
                   columns=["sigmoid width", "load", "Spearman rho"]
                   + [f"code ov. @ {lv:.0%}" for lv in LEVELS],
                   rows=rows, files=[out, png], ok=ok, notes=notes)


def level_means(inp: np.ndarray, code: np.ndarray, active: int, q: int) -> list[float]:
    """Mean code overlap / q of the pairs whose input overlap is round(level * active), per level (NaN if none)."""
    out = []
    for lv in LEVELS:
        sel = inp == round(lv * active)
        out.append(float(code[sel].mean()) / q if sel.any() else float("nan"))
    return out


def plot(res, points: list[tuple[float, int]], path: Path, active: int, q: int) -> Path:
    """Code overlap (mean +- sd, fraction of q) vs input overlap (fraction of active), a curve per load,
    a panel per sigmoid width."""
    plt = pyplot()

    widths = sorted({w for w, _ in points}, reverse=True)
    loads = sorted({load for _, load in points})
    fig, axes = plt.subplots(1, len(widths), figsize=(5.2 * len(widths), 4.4), sharey=True, squeeze=False)
    for col, w in enumerate(widths):
        ax = axes[0, col]
        for c, load in enumerate(loads):
            i = points.index((w, load))
            inp, code = res.trials[i].metrics["input_overlap"][0], res.trials[i].metrics["code_overlap"][0]
            levels = np.unique(inp)
            mean = np.array([code[inp == v].mean() for v in levels]) / q
            sd = np.array([code[inp == v].std() for v in levels]) / q
            color = COLORS[c % len(COLORS)]
            ax.plot(levels / active, mean, "-", color=color,
                    label=f"load {load} (rho = {float(res.trials[i].attrs['spearman']):.2f})")
            ax.fill_between(levels / active, mean - sd, mean + sd, color=color, alpha=0.15, lw=0)
        ax.plot([0, 1], [0, 1], ":", color="0.5", lw=1)
        ax.set_title(f"sigmoid width {w:g}", fontsize=10)
        ax.set_xlabel("input overlap |x & y| / active")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    axes[0, 0].set_ylabel("code overlap (fraction of CMs), mean +- sd")
    fig.suptitle("Sparsey: similar inputs get similar codes; the mapping flattens as the MAC fills")
    return save(fig, path)
