r"""Sequence recall in one Sparsey macrocolumn through its horizontal (H) weights.

A MAC with H weights (``horizontal=True``; ``q`` x ``k`` cells, default 20 x 20) learns
N sequences of ``length`` binary items (``n_inputs`` units, ``active`` on) single trial:
for each sequence :meth:`~neurosim.models.sparsey.MAC.end_sequence`, then its items in
order in learning mode with ``sequence=True``, so each item's code is drawn from U (the
item) times H (the previous code) support, and both U and H weights from the active
sources to the winners are set. Recall of each stored sequence from a cue of its first
``c`` items: ``end_sequence``, the ``c`` cue items in recognition mode (each CM's max-V
cell; U only for the first item, U x H after it), then all-zero inputs with
``require_input=False``: each later code is chosen from H alone (V = support from the
previous code). Each predicted code is read back to an item (:meth:`MAC.reconstruct`, an
input unit is on when ``recall_threshold`` = 90% of the code's winners learned from it).

Scores per sequence and step after the cue: *exact* (the read-back item equals the true
next item), *Jaccard* overlap |recalled & true| / |recalled | true|, and *code exact* (the
predicted code equals the code the item got during learning in all q CMs: the H chain,
apart from the U read-out). *Whole* = every step after the cue exact.

Conditions (``conditions``):

- ``distinct``: every item of every sequence is a fresh random pattern;
- ``shared``: sequences are random strings over an ``alphabet`` of items, so an item
  recurs in several sequences (and positions) with different successors; no two stored
  sequences share their first two items, so a 2-item cue determines the sequence while a
  1-item cue may not (the fraction of sequences whose cue prefix starts another stored
  sequence too is reported as *ambiguous*);
- ``shared-unique-start``: the first item is a fresh pattern per sequence, the rest come
  from the alphabet: context-dependent codes are tested mid-sequence, with an unambiguous
  start.

The grid is condition x N; a trial holds ``n_repeats`` independent MACs and sequence sets
(each with the first N of a fixed list of sequences, so the curves for different N are
nested), and recalls with every cue length. The figures: exact recall vs step after the
cue (one curve per N, one panel per condition and cue length; the H-chain *code exact* is
drawn dotted), and one recalled sequence per condition and cue as bit images.

What we found (defaults, seed 0, 10 repeats; item exact / codes exact, 1-item cue):

- ``distinct``: everything exact up to N = 10 (80 items). N = 20: the H chain still gives
  the learned codes (0.98) but the U read-out adds spurious units (items 0.63, Jaccard 0.97).
  N = 50 (U weights 65% set): 0 / 0. Even the first item's code from U alone matches in only
  48% of the CMs: novel items look familiar to a loaded MAC (G of new items rises from 0.1 to
  0.9 over the 50 sequences), so learning prefers cells that have already learned many items,
  and such hub cells tie at V = 1 with the learned cell (~2.4 cells per CM for a first item).
- ``shared`` (alphabet 16): an item that recurs has several learned codes, all with V = 1
  for it, so the first item's code from U alone (the first max-V cell per CM) is a mixture
  matching the learned start code in 49% / 28% / 17% of the CMs at N = 5 / 10 / 20. A 1-item
  cue thus mostly fails (items 0.43 / 0.12 / 0 at N = 5 / 10 / 20), also for sequences whose
  first item starts no other sequence; a 2-item cue (U x H for the second item) pulls the
  chain back to the right sequence at small N (0.94 / 0.46 / 0). With the learned start code
  given instead (column ``exact | 1st given``) recall is 1.0 / 0.91 / 0.21: up to N = 10 the
  U-only start is the loss, not the H chain. At N = 1 one repeat in 10 fails: its first item
  recurs later in the same sequence.
- ``shared-unique-start``: context-dependent codes do separate the recurring items: codes
  exact 1.0 / 1.0 / 0.89 at N = 5 / 10 / 20, but the read-out fails earlier (items 1.0 / 0.88
  / 0.22, Jaccard 0.87 at N = 20): a cell has learned from several of the few alphabet items.

The CSA constants matter in learning only (recognition takes max V) and only at high load
(items / codes exact, 1-item cue, same runs with ``params``):

======================================  =================  ===============  =================
CSA                                     distinct N = 20    distinct N = 50  unique-start N=20
======================================  =================  ===============  =================
Rinkus: G_low 0.1, chi 100, sig .5/.15  0.63 / 0.98        0 / 0            0.22 / 0.90
chi 0 (uniform draws, random codes)     0.77 / 1.00        0 / 0.92         0.01 / 1.00
G_low 0.5                               0.79 / 1.00        0 / 0.26         0.02 / 1.00
sigmoid center 0.8, width 0.05          0.81 / 1.00        0 / 0.01         0.03 / 1.00
======================================  =================  ===============  =================

Familiarity-driven code reuse (Rinkus' constants) keeps the read-out of recurring items
cleaner (an item's codes in different contexts share cells, so fewer cells learn several
items) but costs H-chain capacity and the read-out of distinct items. We keep Rinkus'
defaults (``params=None``) for comparability; ``params=CSAParams(chi=0.0)`` is the
random-code variant.
"""

from __future__ import annotations

from dataclasses import asdict
from itertools import product
from math import ceil, isqrt
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from neurosim import _checks as ck
from neurosim.experiments import Outcome, engine
from neurosim.experiments.common import prefix_max
from neurosim.io import ResultsWriter, read_results
from neurosim.memory import jaccard, random_patterns
from neurosim.models.sparsey import MAC, CSAParams, code_overlap
from neurosim.plotting import COLORS, pyplot, save

CONDITIONS = ("distinct", "shared", "shared-unique-start")


def make_sequences(condition: str, rng: np.random.Generator, n_max: int, length: int, n_inputs: int, active: int,
                   alphabet: int) -> tuple[np.ndarray, np.ndarray]:
    """The item pool (bool (n_items, n_inputs)) and ``n_max`` sequences of pool indices ((n_max, length))."""
    if condition == "distinct":
        return random_patterns(rng, n_max * length, n_inputs, active), np.arange(n_max * length).reshape(n_max, -1)
    if condition == "shared":
        pool, seqs, starts = random_patterns(rng, alphabet, n_inputs, active), [], set()
        while len(seqs) < n_max:  # distinct first-two-item prefixes (alphabet ** 2 >= n_max is checked)
            s = rng.integers(alphabet, size=length)
            if (s[0], s[1]) not in starts:
                starts.add((s[0], s[1]))
                seqs.append(s)
        return pool, np.array(seqs)
    pool = random_patterns(rng, alphabet + n_max, n_inputs, active)
    return pool, np.hstack([alphabet + np.arange(n_max)[:, None], rng.integers(alphabet, size=(n_max, length - 1))])


def learn(mac: MAC, pool: np.ndarray, seqs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Learn each sequence single trial (U = item, H = previous code); the codes it got ((n, length, q))."""
    codes = []
    for s in seqs:
        mac.end_sequence()
        codes.append(mac.present(pool[s], rng, sequence=True).cells)
    return np.array(codes)


def recall(mac: MAC, pool: np.ndarray, seqs: np.ndarray, cue: int, threshold: float, start: np.ndarray | None = None
           ) -> tuple[np.ndarray, np.ndarray]:
    """Recall each sequence from its first ``cue`` items: the codes of all steps ((n, length, q), cue steps
    included) and the items read back from the codes after the cue ((n, length - cue, n_inputs)).

    ``start`` ((n, q)): put these codes (the learned ones) in place of the first item's recognized code.
    """
    codes = np.empty((*seqs.shape, mac.q), dtype=np.int64)
    for i, s in enumerate(seqs):
        mac.end_sequence()
        x = np.zeros((len(s), mac.n_inputs), dtype=bool)
        x[:cue] = pool[s[:cue]]
        if start is None:
            codes[i] = mac.present(x, learn=False, recognize=True, sequence=True, require_input=False).cells
        else:
            mac.prev[:] = codes[i, 0] = start[i]
            codes[i, 1:] = mac.present(x[1:], learn=False, recognize=True, sequence=True, require_input=False).cells
    items = mac.reconstruct(codes[:, cue:].reshape(-1, mac.q), threshold)
    return codes, items.reshape(len(seqs), -1, mac.n_inputs)


def ambiguous(seqs: np.ndarray, cue: int) -> np.ndarray:
    """Per sequence: another stored sequence starts with the same ``cue`` items."""
    _, inverse, counts = np.unique(seqs[:, :cue], axis=0, return_inverse=True, return_counts=True)
    return counts[inverse.ravel()] > 1


def trial(data: list[tuple[np.ndarray, np.ndarray]], n: int, seeds: list[np.random.SeedSequence], *, q: int, k: int,
          params: CSAParams, cue_lengths: tuple[int, ...], threshold: float, backend: str = "numba",
          device: str | None = None) -> dict[str, np.ndarray]:
    """One grid point: per repeat a fresh MAC learns the first ``n`` sequences, then recalls each from every cue."""
    out: dict[str, list] = {}
    for (pool, all_seqs), ss in zip(data, seeds, strict=True):
        seqs = all_seqs[:n]
        mac = MAC(pool.shape[1], q, k, params=params, horizontal=True, backend=backend, device=device)
        learned = learn(mac, pool, seqs, np.random.default_rng(ss))
        out.setdefault("u_fraction", []).append(mac.weight_fraction())
        out.setdefault("h_fraction", []).append(float(mac.h.mean()))
        for c in cue_lengths:
            codes, items = recall(mac, pool, seqs, c, threshold)
            true = pool[seqs[:, c:]]
            for name, v in ((f"exact_cue{c}", np.all(items == true, axis=-1)),
                            (f"jaccard_cue{c}", jaccard(items, true)),
                            (f"code_cue{c}", code_overlap(codes, learned) / q),
                            (f"ambiguous_cue{c}", ambiguous(seqs, c))):
                out.setdefault(name, []).append(v)
            out.setdefault(f"example_recalled_cue{c}", items[0])  # sequence 0 of repeat 0, for the illustration
            _, items = recall(mac, pool, seqs, c, threshold, start=learned[:, 0])  # the 1st code given
            out.setdefault(f"start_exact_cue{c}", []).append(np.all(items == true, axis=-1))
        out.setdefault("example_items", pool[seqs[0]])
    return {name: np.asarray(v, dtype=np.float64) for name, v in out.items()}


def run(*, backend: str = "numba", device: str | None = None, seed: int = 0,
        out: Path | str = "results/sparsey-sequences.h5", resume: bool = False, progress: bool = True,
        conditions: tuple[str, ...] = CONDITIONS,
        n_sequences: tuple[int, ...] = (1, 5, 10, 20, 50), length: int = 8, cue_lengths: tuple[int, ...] = (1, 2),
        n_inputs: int = 400, active: int = 30, alphabet: int = 16, q: int = 20, k: int = 20,
        recall_threshold: float = 0.9, n_repeats: int = 10, params: CSAParams | None = None,
        example_n: int | None = None) -> Outcome:
    """``backend`` and ``device``: the MACs' engine (numba or torch)."""
    eng = engine("sparsey-sequences", backend, device)
    out = Path(out)
    params = CSAParams() if params is None else params
    if not isinstance(params, CSAParams):
        ck.fail("params", params, "a CSAParams or None")
    conditions, n_sequences, cue_lengths = tuple(conditions), tuple(n_sequences), tuple(cue_lengths)
    for name, values in (("conditions", conditions), ("n_sequences", n_sequences), ("cue_lengths", cue_lengths)):
        if not values or len(set(values)) != len(values):
            ck.fail(name, values, "a non-empty tuple without repeats")
    for c in conditions:
        if c not in CONDITIONS:
            ck.fail("conditions", c, f"one of {CONDITIONS}")
    length = ck.count("length", length, minimum=2)
    n_sequences = tuple(ck.count("n_sequences", n) for n in n_sequences)
    for c in cue_lengths:
        if not isinstance(c, (int, np.integer)) or isinstance(c, bool) or not 1 <= c < length:
            ck.fail("cue_lengths", c, f"an integer in [1, {length - 1}] (length - 1)")
    cue_lengths = tuple(int(c) for c in cue_lengths)
    n_inputs = ck.count("n_inputs", n_inputs, minimum=2)
    if isinstance(active, bool) or not isinstance(active, (int, np.integer)) or not 1 <= active < n_inputs:
        ck.fail("active", active, f"an integer in [1, {n_inputs - 1}] (n_inputs - 1)")
    n_max = max(n_sequences)
    alphabet = ck.count("alphabet", alphabet, minimum=2)
    if "shared" in conditions and alphabet ** 2 < n_max:
        ck.fail("alphabet", alphabet, f"an integer >= {ceil(n_max ** 0.5)} (distinct 2-item starts for "
                f"{n_max} 'shared' sequences)")
    q, k, n_repeats = ck.count("q", q), ck.count("k", k), ck.count("n_repeats", n_repeats)
    ck.in_range("recall_threshold", recall_threshold, 1e-9, 1.0)
    example_n = sorted(n_sequences)[len(n_sequences) // 2] if example_n is None else example_n
    if example_n not in n_sequences:
        ck.fail("example_n", example_n, f"None or one of n_sequences {n_sequences}")

    points = list(product(conditions, n_sequences))
    config = {"experiment": "sparsey-sequences", "conditions": list(conditions), "n_sequences": list(n_sequences),
              "length": length, "cue_lengths": list(cue_lengths), "n_inputs": n_inputs, "active": active,
              "alphabet": alphabet, "q": q, "k": k, "recall_threshold": recall_threshold, "n_repeats": n_repeats,
              "seed": seed, "params": asdict(params)}

    def seeds(cond: str, purpose: int) -> list[np.random.SeedSequence]:  # independent of the other conditions
        return [np.random.SeedSequence(seed, spawn_key=(CONDITIONS.index(cond), r, purpose)) for r in range(n_repeats)]

    data: dict[str, list] = {}
    with ResultsWriter(out, config=config, meta={**eng, "seed": seed}, resume=resume) as writer:
        todo = [i for i in range(len(points)) if i not in writer.finished_trials]
        for i in tqdm(todo, desc="sequence points", disable=not progress):
            cond, n = points[i]
            if cond not in data:
                data[cond] = [make_sequences(cond, np.random.default_rng(ss), n_max, length, n_inputs, active,
                                             alphabet) for ss in seeds(cond, 0)]
            r = trial(data[cond], n, seeds(cond, 1), q=q, k=k, params=params, cue_lengths=cue_lengths,
                      threshold=recall_threshold, backend=eng["backend"], device=eng["device"])
            writer.write_trial(i, metrics={name: (v, "") for name, v in r.items()},
                               attrs={"condition": cond, "n_sequences": n, "seed": seed})
    res = read_results(out)
    rows, notes = [], []
    for i, (cond, n) in enumerate(points):
        m = {name: v[0] for name, v in res.trials[i].metrics.items()}
        for c in cue_lengths:
            exact, code = m[f"exact_cue{c}"], m[f"code_cue{c}"]
            rows.append([cond, n, c, [round(float(x), 2) for x in exact.mean(axis=(0, 1))], float(exact.mean()),
                         float(m[f"jaccard_cue{c}"].mean()), float((code[:, :, c:] == 1.0).mean()),
                         float(code[:, :, 0].mean()), float(m[f"start_exact_cue{c}"].mean()),
                         float(exact.all(axis=2).mean()), float(m[f"ambiguous_cue{c}"].mean())])
    for cond in conditions:
        upto = [prefix_max([r[1] for r in rows if r[0] == cond and r[2] == c and r[9] == 1.0], n_sequences)
                for c in cue_lengths]
        m = res.trials[points.index((cond, n_max))].metrics
        notes.append(f"{cond}: every sequence recalled entirely up to N = "
                     + ", ".join(f"{u} ({c}-item cue)" for u, c in zip(upto, cue_lengths, strict=True))
                     + f"; at N = {n_max} U weights {m['u_fraction'][0].mean():.0%} set, "
                     f"H {m['h_fraction'][0].mean():.0%}")
    notes += [f"CSA: G_low {params.g_low:g}, chi {params.chi:g}, sigmoid center {params.sigmoid_center:g}, width "
              f"{params.sigmoid_width:g}",
              "codes exact: the predicted code is the learned one (the H chain); 1st code: fraction of CMs where the "
              "1st item's code from U alone is the learned one;",
              "exact | 1st given: exact recall with the learned code of the 1st item put in place of the recognized "
              "one; whole: all steps exact; ambiguous: another stored sequence starts with the same cue"]
    curves = plot_recall(rows, res, points, cue_lengths, out.with_name(f"{out.stem}_recall.png"), q, k)
    example = plot_example(res, points, example_n, cue_lengths, out.with_name(f"{out.stem}_example.png"))
    ok = all(r[4] == 1.0 for r in rows if r[0] == "distinct" and r[1] == 1)  # the invariant
    return Outcome(title=f"sparsey-sequences: MAC {q}x{k}, {n_inputs} inputs ({active} on), sequences of {length}, "
                         f"{n_repeats} repeats, read-out threshold {recall_threshold:g}",
                   columns=["condition", "N", "cue", "exact by step", "exact", "Jaccard", "codes exact",
                            "1st code", "exact | 1st given", "whole", "ambiguous"],
                   rows=rows, files=[out, curves, example], ok=ok, notes=notes)


def plot_recall(rows: list[list], res, points: list[tuple[str, int]], cue_lengths: tuple[int, ...], path: Path,
                q: int, k: int) -> Path:
    """Exact next-item recall (solid) and exact codes (dotted) vs step after the cue; rows = cue, cols = condition."""
    plt = pyplot()

    conds = list(dict.fromkeys(p[0] for p in points))
    ns = sorted({p[1] for p in points})
    fig, axes = plt.subplots(len(cue_lengths), len(conds), figsize=(4.6 * len(conds), 3.4 * len(cue_lengths)),
                             sharey=True, squeeze=False)
    for (row, c), (col, cond) in product(enumerate(cue_lengths), enumerate(conds)):
        ax = axes[row, col]
        for j, n in enumerate(ns):
            m = res.trials[points.index((cond, n))].metrics
            exact = m[f"exact_cue{c}"][0].mean(axis=(0, 1))
            steps = np.arange(1, exact.size + 1)
            ax.plot(steps, exact, "o-", color=COLORS[j % len(COLORS)], label=f"N = {n}")
            ax.plot(steps, (m[f"code_cue{c}"][0][:, :, c:] == 1.0).mean(axis=(0, 1)), ":",
                    color=COLORS[j % len(COLORS)])
        ax.set_ylim(-0.03, 1.05)
        ax.grid(alpha=0.3)
        ax.set_title(f"{cond}, {c}-item cue", fontsize=10)
        ax.set_xlabel("step after the cue")
        axes[row, 0].set_ylabel("fraction exact")
    axes[0, 0].legend(fontsize=8, title="solid: item, dotted: code", title_fontsize=7)
    fig.suptitle(f"Sparsey MAC {q}x{k}: next items recalled through H from the first item(s)")
    return save(fig, path, dpi=110)


def _image(true: np.ndarray, recalled: np.ndarray | None) -> np.ndarray:
    """An item as an RGB square: black = on in both, red = missing, blue = spurious (grey = the true item alone)."""
    n = true.size
    w = isqrt(n) if isqrt(n) ** 2 == n else ceil(n ** 0.5)
    t, r = (np.zeros(w * ceil(n / w), dtype=bool) for _ in range(2))
    t[:n] = true
    if recalled is None:
        rgb = np.where(t[:, None], 0.45, 1.0) * np.ones(3)
    else:
        r[:n] = recalled
        rgb = np.ones((t.size, 3))
        rgb[t & r] = 0.0
        rgb[t & ~r] = (0.85, 0.1, 0.1)
        rgb[~t & r] = (0.1, 0.3, 0.95)
    return rgb.reshape(-1, w, 3)


def plot_example(res, points: list[tuple[str, int]], n: int, cue_lengths: tuple[int, ...], path: Path) -> Path:
    """Sequence 0 (repeat 0) at N = ``n`` for each condition: the true items, then what each cue recalled."""
    plt = pyplot()

    conds = list(dict.fromkeys(p[0] for p in points))
    length = res.trials[points.index((conds[0], n))].metrics["example_items"][0].shape[0]
    n_rows = len(conds) * (1 + len(cue_lengths))
    fig, axes = plt.subplots(n_rows, length, figsize=(1.1 * length + 1.6, 1.15 * n_rows), squeeze=False)
    for b, cond in enumerate(conds):
        m = res.trials[points.index((cond, n))].metrics
        true = m["example_items"][0] > 0.5
        for j, c in enumerate((None, *cue_lengths)):
            row = b * (1 + len(cue_lengths)) + j
            rec = None if c is None else m[f"example_recalled_cue{c}"][0] > 0.5
            for t in range(length):
                ax = axes[row, t]
                shown = None if c is None or t < c else rec[t - c]
                ax.imshow(_image(true[t], shown), interpolation="nearest")
                ax.set_xticks([])
                ax.set_yticks([])
                if c is not None and t >= c:
                    ok = bool(np.array_equal(shown, true[t]))
                    for s in ax.spines.values():
                        s.set_color("#2ca02c" if ok else "#d62728")
                        s.set_linewidth(2)
            axes[row, 0].set_ylabel(f"{cond}\ntrue" if c is None else f"{c}-item cue", fontsize=7)
    for t in range(length):
        axes[0, t].set_title(f"item {t + 1}", fontsize=8)
    fig.suptitle(f"one sequence recalled (N = {n} stored): grey = true / cue, black = recalled right, "
                 "red = missing, blue = spurious; frame green = exact", fontsize=9)
    return save(fig, path, dpi=110)
