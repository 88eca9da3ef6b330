"""A dendritic neuron as a recognition memory: measured errors of :class:`DendriticNeuron` next to the formulas.

Each point builds ``reps`` neurons (fresh random patterns of ``a`` active cells out of ``n``, each
stored with ``s`` synapses sampled from its active cells) and probes each with ``n_probe`` patterns;
the neuron's best segment's active synapses are recorded, so every threshold theta is read from the
same draws (the neuron fires when the count reaches theta). Four sweeps:

- ``union``: M patterns stored on one segment (union storage), n = 2048, a = 40, s = 20; false
  positives on random patterns vs M, next to :func:`~neurosim.models.dendrites.union_false_positive`;
- ``theta``: one stored pattern, n = 2048, a = 40, s = 10 / 20 / 30; false positives vs theta,
  next to :func:`~neurosim.models.dendrites.false_positive`;
- ``n``: one stored pattern, a = 40, s = 20, theta = 6; false positives vs population size n;
- ``noise``: one stored pattern, a = 40, s = 20; the stored pattern with v of its cells replaced by
  noise; false negatives vs v / a, next to :func:`~neurosim.models.dendrites.false_negative`, and
  with 8 patterns per segment (measured only: the other patterns' synapses can only add overlap).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from neurosim import _checks as ck
from neurosim.experiments import Outcome, engine
from neurosim.experiments.common import rng_for
from neurosim.io import ResultsWriter, read_results
from neurosim.memory import move_bits, random_patterns
from neurosim.models import dendrites as d
from neurosim.models import dendritic_memory as dm
from neurosim.plotting import COLORS, pyplot, save

UNION_M = (1, 2, 4, 8, 16, 24, 32, 48, 64)
UNION_THETAS = (8, 10, 12)
THETA_S = (10, 20, 30)
SIZES_N = (256, 512, 1024, 2048, 4096, 8192)
NOISE_V = tuple(range(0, 41, 4))
NOISE_THETAS = (8, 10, 12)


def points() -> list[dict]:
    """Every measured point: the neuron's settings and the probe."""
    out = [{"sweep": "union", "n": 2048, "a": 40, "s": 20, "m": m, "per_segment": m, "v": -1} for m in UNION_M]
    out += [{"sweep": "theta", "n": 2048, "a": 40, "s": s, "m": 1, "per_segment": 1, "v": -1} for s in THETA_S]
    out += [{"sweep": "n", "n": n, "a": 40, "s": 20, "m": 1, "per_segment": 1, "v": -1} for n in SIZES_N]
    out += [{"sweep": "noise", "n": 2048, "a": 40, "s": 20, "m": m, "per_segment": m, "v": v}
            for m in (1, 8) for v in NOISE_V]
    return out


def measure(p: dict, reps: int, n_probe: int, rng: np.random.Generator, backend: str = "numba",
            device: str | None = None) -> np.ndarray:
    """Best-segment active synapses, (reps, n_probe): random probes (v < 0) or stored patterns with v cells
    replaced by noise."""
    out = np.zeros((reps, n_probe), dtype=np.int64)
    for r in range(reps):
        neuron = dm.DendriticNeuron(p["n"], p["s"], theta=1, patterns_per_segment=p["per_segment"],
                                    seed=int(rng.integers(2**31)), backend=backend, device=device)
        stored = random_patterns(rng, p["m"], p["n"], p["a"])
        for x in stored:
            neuron.store(x)
        if p["v"] < 0:
            probes = random_patterns(rng, n_probe, p["n"], p["a"])
        else:
            probes = np.array([move_bits(rng, stored[rng.integers(p["m"])], p["v"]) for _ in range(n_probe)])
        out[r] = neuron.active_synapses(probes)
    return out


def run(*, backend: str = "numba", device: str | None = None, seed: int = 0,
        out: Path | str = "results/dendrites-neuron.h5", resume: bool = False, progress: bool = True, reps: int = 40,
        n_probe: int = 2500) -> Outcome:
    eng = engine("dendrites-neuron", backend, device)
    out = Path(out)
    ck.count("reps", reps)
    ck.count("n_probe", n_probe)
    pts = points()
    config = {"experiment": "dendrites-neuron", "seed": seed, "reps": reps, "n_probe": n_probe, "points": pts}
    with ResultsWriter(out, config=config, meta={**eng, "seed": seed}, resume=resume) as writer:
        todo = [i for i in range(len(pts)) if i not in writer.finished_trials]
        for i in tqdm(todo, desc="neuron points", disable=not progress):
            counts = measure(pts[i], reps, n_probe, rng_for(seed, i), eng["backend"], eng["device"])
            writer.write_trial(i, metrics={"active_synapses": (counts, "synapses")}, attrs=pts[i])
    res = read_results(out)
    counts = [res.trials[i].metrics["active_synapses"][0] for i in range(len(pts))]
    rows = table(pts, counts)
    png = plot(pts, counts, out.with_name(f"{out.stem}_errors.png"))
    worst = max((abs(r[-1]) for r in rows if r[-1] != "-"), default=0.0)
    return Outcome(title=f"dendrites-neuron: measured recognition errors of a dendritic neuron vs the formulas "
                         f"({reps} neurons x {n_probe} probes per point)",
                   columns=["sweep", "n", "a", "s", "M", "theta", "v", "error", "formula", "z"], rows=rows,
                   files=[out, png], ok=worst < 4.0, notes=[f"largest |z| where the rate is >= 1e-4: {worst:.2f}"])


def formula(p: dict, theta: int) -> float:
    """The theory's error for a point at threshold theta (NaN where the theory gives no exact value)."""
    if p["v"] >= 0:
        return d.false_negative(p["a"], p["s"], theta, p["v"]) if p["per_segment"] == 1 else float("nan")
    if p["per_segment"] > 1:
        return d.union_false_positive(p["n"], p["a"], p["s"], theta, p["m"])
    return d.false_positive(p["n"], p["a"], p["s"], theta)


def error(p: dict, counts: np.ndarray, theta: int) -> float:
    """Measured false-positive (random probes) or false-negative (noisy stored patterns) rate."""
    return float(np.mean(counts >= theta)) if p["v"] < 0 else float(np.mean(counts < theta))


def thetas_of(p: dict) -> tuple[int, ...]:
    return {"union": UNION_THETAS, "theta": tuple(range(1, p["s"] + 1)), "n": (6,), "noise": NOISE_THETAS}[p["sweep"]]


def standard_error(p: dict, counts: np.ndarray, theta: int, f: float) -> float:
    """The measured rate's standard error: probes of one neuron share its segments, so the spread of the
    per-neuron rates over the ``reps`` neurons (cluster standard error), and at least the binomial error
    of independent draws at the formula's rate."""
    per_neuron = np.array([error(p, row, theta) for row in counts])
    cluster = float(per_neuron.std(ddof=1) / np.sqrt(per_neuron.size)) if per_neuron.size > 1 else 0.0
    return max(cluster, d.binomial_sigma(f, counts.size))


def table(pts: list[dict], counts: list[np.ndarray]) -> list[list]:
    rows = []
    for p, c in zip(pts, counts, strict=True):
        for theta in thetas_of(p):
            e, f = error(p, c, theta), formula(p, theta)
            sigma = standard_error(p, c, theta, f) if np.isfinite(f) else 0.0
            z = round((e - f) / sigma, 2) if np.isfinite(f) and f >= 1e-4 and sigma > 0 else "-"
            rows.append([p["sweep"], p["n"], p["a"], p["s"], p["m"], theta, p["v"] if p["v"] >= 0 else "-",
                         f"{e:.4g}", "-" if not np.isfinite(f) else f"{f:.4g}", z])
    return rows


def plot(pts: list[dict], counts: list[np.ndarray], path: Path) -> Path:
    """Four panels (see the module docstring): formulas as lines, measurements as points; log y."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 4, figsize=(19, 4.3))
    floor = 1.0 / counts[0].size

    def series(sweep, pick, x, theta):
        sel = [(p, c) for p, c in zip(pts, counts, strict=True) if p["sweep"] == sweep and pick(p)]
        xs = [x(p) for p, _ in sel]
        return xs, [error(p, c, theta) for p, c in sel], [formula(p, theta) for p, _ in sel]

    def draw(ax, xs, meas, form, color, label, marker="o"):
        if np.all(np.isfinite(form)):
            ax.plot(xs, form, "-", color=color, label=f"{label} formula")
        m = np.array(meas)
        keep = m > 0
        ax.plot(np.array(xs)[keep], m[keep], marker, color=color, ms=5, mfc="none" if marker != "o" else color,
                label=f"{label} measured")

    for k, theta in enumerate(UNION_THETAS):
        draw(axes[0], *series("union", lambda p: True, lambda p: p["m"], theta), COLORS[k], f"theta={theta}")
    axes[0].set_xlabel("patterns M stored on one segment")
    axes[0].set_title("false positives, union storage\nn = 2048, a = 40, s = 20", fontsize=10)
    for k, s in enumerate(THETA_S):
        sel = [(p, c) for p, c in zip(pts, counts, strict=True) if p["sweep"] == "theta" and p["s"] == s]
        p, c = sel[0]
        th = thetas_of(p)
        draw(axes[1], list(th), [error(p, c, t) for t in th], [formula(p, t) for t in th], COLORS[k], f"s={s}")
    axes[1].set_xlabel("threshold theta")
    axes[1].set_title("false positives vs theta\nn = 2048, a = 40, one pattern", fontsize=10)
    draw(axes[2], *series("n", lambda p: True, lambda p: p["n"], 6), COLORS[0], "theta=6")
    axes[2].set_xscale("log", base=2)
    axes[2].set_xlabel("population size n")
    axes[2].set_title("false positives vs n\na = 40, s = 20, one pattern", fontsize=10)
    for k, theta in enumerate(NOISE_THETAS):
        draw(axes[3], *series("noise", lambda p: p["m"] == 1, lambda p: p["v"] / p["a"], theta), COLORS[k],
             f"theta={theta}")
        xs, meas, _ = series("noise", lambda p: p["m"] == 8, lambda p: p["v"] / p["a"], theta)
        draw(axes[3], xs, meas, [np.nan] * len(xs), COLORS[k], f"theta={theta}, 8 per segment", marker="s")
    axes[3].set_xlabel("fraction of the stored pattern replaced by noise")
    axes[3].set_title("false negatives vs noise\nn = 2048, a = 40, s = 20", fontsize=10)
    for ax in axes:
        ax.set_yscale("log")
        ax.set_ylim(1e-10, 1.5)
        ax.axhline(floor, color="0.6", ls=":", lw=1)
        ax.set_ylabel("error probability")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=6)
    fig.suptitle("a dendritic neuron as a recognition memory: measured (points) vs exact formulas (lines); "
                 "dotted: one error in all probes")
    return save(fig, path)
