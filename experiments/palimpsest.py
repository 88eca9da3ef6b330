"""Palimpsest Hopfield networks: how many of the most recent items stay retrievable, at steady state.

The classical (Hebbian) network blacks out past about 0.138 N items: every memory is lost at once.
A palimpsest (:mod:`neurosim.models.hopfield`, ``learning``) forgets the oldest items instead and keeps
a stationary number of the newest: clipped weights (Parisi 1986; ``bound``) or marginalist decay
(Nadal, Toulouse, Changeux & Dehaene 1986; Mezard, Nadal & Toulouse 1986; ``epsilon``), for which
theory gives that number as a fixed fraction of N (a capacity alpha_c N) with an optimal bound or
decay; or binary synapses with stochastic transitions (Amit & Fusi 1994; ``q``), for which it grows
only like log(q sqrt N) / q.

Protocol per (rule, parameter, N, repetition): a stream of ``STREAM`` x N random dense patterns (a = 0.5)
is stored one at a time, far past the steady state; then each of the ``min(N/2, 100)`` most recent items
is cued with ``NOISE`` of its units flipped. It is **retrieved** when the recalled state's overlap
(1/N) sum_i s_i xi_i is at least ``RETRIEVED``. Measured per age (0 = the newest): the share retrieved,
and the item's familiarity (the normalised energy) next to that of novel items. The **palimpsest
capacity** is the number of newest ages retrieved in at least half the repetitions before the first
that is not; capacity / N should not depend on N.

One HDF5 trial per (rule, parameter, N), arrays (rep, age); figures: retention and familiarity against
age at the largest N, and capacity / N against the parameter for every N.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from neurosim import _checks as ck
from neurosim.experiments import Outcome, engine
from neurosim.experiments.common import rng_for
from neurosim.io import ResultsWriter, read_results
from neurosim.memory import flip_bits, random_patterns

STREAM = 10      # patterns stored, in units of N
NOISE = 0.1      # share of a cue's units flipped
RETRIEVED = 0.9  # overlap with the item for a retrieval
RULES = {"hebbian": ("-", (0.0,)), "clipped": ("bound", (0.2, 0.3, 0.4, 0.6)),
         "marginalist": ("epsilon", (2.0, 3.0, 3.5, 4.0, 5.0, 6.0)), "binary": ("q", (0.1, 0.2, 0.3, 0.5))}


def probe(rule: str, value: float, n: int, rep: int, seed: int, backend: str, device: str | None
          ) -> dict[str, np.ndarray]:
    """One repetition: the stream, then the newest items probed by age (module docstring)."""
    from neurosim.models.hopfield import Hopfield

    rng = rng_for(seed, n, rep)
    items = random_patterns(rng, STREAM * n, n, n // 2)
    option = {} if rule == "hebbian" else {RULES[rule][0]: value}
    memory = Hopfield(n, learning=rule, seed=seed, backend=backend, device=device, **option)
    try:
        memory.store_many(items)
        newest = items[::-1][:min(n // 2, 100)]
        cues = np.stack([flip_bits(rng, x, round(NOISE * n)) for x in newest])
        spins = np.where(memory.recall_many(cues), 1.0, -1.0)
        overlap = (spins * np.where(newest, 1.0, -1.0)).mean(axis=1)
        novel = random_patterns(rng, len(newest), n, n // 2)
        return {"overlap": overlap, "familiarity": memory.recognize_many(newest),
                "familiarity_novel": memory.recognize_many(novel)}
    finally:
        memory.close()


def capacity(retrieved: np.ndarray) -> int:
    """The newest ages retrieved in at least half the repetitions, up to the first that is not."""
    ok = retrieved.mean(axis=0) >= 0.5
    return int(ok.size if ok.all() else np.argmin(ok))


def run(*, backend: str = "numba", device: str | None = None, seed: int = 0,
        out: Path | str = "results/palimpsest.h5", resume: bool = False, progress: bool = True, full: bool = False,
        sizes: tuple[int, ...] | None = None, n_reps: int | None = None) -> Outcome:
    """Every rule and parameter of :data:`RULES` at every size (quick: N = 100, 200 and 2 repetitions;
    ``full``: N = 100, 200, 400, 800 and 4)."""
    eng = engine("palimpsest", backend, device)
    out = Path(out)
    sizes = tuple(sizes) if sizes is not None else ((100, 200, 400, 800) if full else (100, 200))
    for n in sizes:
        ck.count("sizes", n, minimum=20)
    n_reps = ck.count("n_reps", n_reps) if n_reps is not None else (4 if full else 2)
    runs = [(rule, value, n) for rule, (_, values) in RULES.items() for value in values for n in sizes]
    config = {"experiment": "palimpsest", "stream": STREAM, "noise": NOISE, "retrieved": RETRIEVED,
              "sizes": list(sizes), "n_reps": n_reps, "runs": [[r, v, n] for r, v, n in runs], "full": full}
    with ResultsWriter(out, config=config, meta={**eng, "seed": seed}, resume=resume) as writer:
        for i in tqdm([i for i in range(len(runs)) if i not in writer.finished_trials], desc="palimpsest runs",
                      disable=not progress):
            rule, value, n = runs[i]
            start = time.perf_counter()
            reps = [probe(rule, value, n, r, seed, eng["backend"], eng["device"]) for r in range(n_reps)]
            writer.write_trial(i, metrics={k: (np.stack([r[k] for r in reps]), "") for k in reps[0]},
                               attrs={"rule": rule, "value": value, "n_units": n,
                                      "seconds": time.perf_counter() - start})
    res = read_results(out)
    rows = []
    for i, (rule, value, n) in enumerate(runs):
        m = {k: v[0] for k, v in res.trials[i].metrics.items()}
        cap = capacity(m["overlap"] >= RETRIEVED)
        rows.append([rule, RULES[rule][0], "-" if rule == "hebbian" else value, n, cap, round(cap / n, 3),
                     round(float(m["familiarity"][:, 0].mean()), 2),
                     round(float(m["familiarity"][:, min(n // 2, 100) - 1].mean()), 2),
                     round(float(m["familiarity_novel"].mean()), 2)])
    figures = [_retention(res, runs, max(sizes), out.with_name(f"{out.stem}_retention.png")),
               _capacity(res, runs, sizes, out.with_name(f"{out.stem}_capacity.png"))]
    return Outcome(title=f"palimpsest: {STREAM} N dense items stored, the newest cued with {NOISE:.0%} noise, "
                         f"{n_reps} repetitions",
                   columns=["rule", "parameter", "value", "N", "capacity (newest items retrieved)", "capacity / N",
                            "familiarity, newest", "oldest probed", "novel"],
                   rows=rows, files=[out, *figures],
                   notes=[f"retrieved: overlap >= {RETRIEVED} with the item; the Hebbian network is far past its "
                          "0.138 N capacity here"])


def _retention(res, runs, n: int, path: Path) -> Path:
    """Share retrieved and familiarity against age at size ``n``, one line per rule and parameter."""
    from neurosim.plotting import COLORS, pyplot, save

    plt = pyplot()
    fig, (ax, af) = plt.subplots(1, 2, figsize=(11, 4.2))
    last = 0
    for k, (i, (rule, value, _)) in enumerate((i, r) for i, r in enumerate(runs) if r[2] == n):
        m = res.trials[i].metrics
        label = rule if rule == "hebbian" else f"{rule} {RULES[rule][0]} {value:g}"
        style = {"color": COLORS[k % len(COLORS)], "ls": "-" if rule != "marginalist" else "--", "lw": 1.2}
        share = (m["overlap"][0] >= RETRIEVED).mean(axis=0)
        ax.plot(share, label=label, **style)
        last = max(last, int(np.flatnonzero(share).max()) if share.any() else 0)
        af.plot(m["familiarity"][0].mean(axis=0), **style)
    ax.set_xlim(0, last + 10)  # nothing older is retrieved
    ax.set_xlabel("age of the item (items stored since)")
    ax.set_ylabel(f"share retrieved (overlap >= {RETRIEVED})")
    ax.set_title(f"retention at N = {n}", fontsize=10)
    ax.legend(fontsize=7, ncol=2)
    af.set_xlabel("age of the item")
    af.set_ylabel("familiarity (normalised energy)")
    af.set_title("familiarity of stored items (novel items: about 0)", fontsize=10)
    fig.suptitle(f"palimpsest Hopfield networks after {STREAM} N items")
    return save(fig, path)


def _capacity(res, runs, sizes, path: Path) -> Path:
    """Capacity / N against the rule's parameter, one line per N: the lines coincide if capacity is
    proportional to N."""
    from neurosim.plotting import COLORS, pyplot, save

    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for ax, rule in zip(axes, ("clipped", "marginalist", "binary"), strict=True):
        for k, n in enumerate(sizes):
            pts = [(v, capacity(res.trials[i].metrics["overlap"][0] >= RETRIEVED) / n)
                   for i, (r, v, s) in enumerate(runs) if r == rule and s == n]
            ax.plot(*zip(*pts, strict=True), "o-", color=COLORS[k], label=f"N = {n}")
        ax.set_xlabel(RULES[rule][0])
        ax.set_ylabel("capacity / N")
        ax.set_ylim(bottom=0)
        ax.set_title(rule, fontsize=10)
        ax.legend(fontsize=8)
    fig.suptitle("palimpsest capacity: the newest items retrieved, per unit")
    return save(fig, path)
