"""Forgetting a cue of the spiking CA3 memory by the circuit's own means, compared.

The memory is :class:`~neurosim.models.ca3.CA3Memory` (``n_cues`` cues, ``n_bits`` content bits,
``active`` bits per content), under the paper's learning rule and under ``COINCIDENCE_RULE``. Per
repetition (fresh contents, ``rng_for(seed, rep)``), drawn from disjoint bits so that every overlap
is the intended one:

- stored (one learn each, 14 ms apart, in cue order): 5 targets (cues 0-4); 5 neighbours (cues 5-9),
  each sharing one bit with its target; 5 fillers (cues 10-14);
- controls (never stored): 5 contents, each sharing one bit with a filler, so a control has the
  same neighbourhood in the memory as a target with its neighbour;
- then each target is forgotten by one method:

  - ``none``: nothing (the baseline: what stored links give);
  - ``relearn``: the target cue learns a new content of fresh bits, the paper's only way to forget
    (overwriting);
  - ``reverse``: ``CA3Memory.forget(target, key=cue)``, the learn reversed in time (the cue one
    tick before its content, learning on; docs/models/ca3.md);
  - ``reverse+relearn``: both, in that order (does relearning finish what reverse left?);
  - ``relearn+reverse``: relearn, then the reverse operation on the old content, run on the circuit
    directly (the contract refuses it: after a relearn the cue holds the new content). It shows
    what the operation does to a cue holding something else.

Measured after (reads on the live circuit with learning off, so they change nothing):

- efficacy: ``cue_recall_old``, the Jaccard overlap of what the target cue recalls with its old
  content (0: gone); ``bit_finds_cue`` / ``pair_finds_cue``, the share of single old bits and of
  pairs of old bits whose content query still returns the target cue (a partial residue shows in
  pairs first); ``cue_recall_new``, relearn's new content as recalled (Jaccard);
- residue in the weights: the mean weight left on the old links, cue -> content and content -> cue
  (nA; stored links hold 6);
- membership inference: ``recognize`` (familiarity) of the old contents and of the controls, and
  their AUC (0.5: no trace);
- specificity: the share of kept cues (neighbours, fillers) whose recall by cue is exact and whose
  every bit still finds them, before and after;
- relearning: each target's old content stored again (once, one-shot as every CA3 learn), and
  whether the cue then recalls it exactly. Savings in exposures mean nothing for a one-shot
  memory (every learn takes one), so this asks instead whether forgetting left the cue usable.

One HDF5 trial per (rule, method), arrays (rep, target) with units; resumable.
"""

from __future__ import annotations

import time
from itertools import combinations
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from neurosim import _checks as ck
from neurosim.experiments import Outcome, engine
from neurosim.experiments.common import rng_for
from neurosim.experiments.unlearning import auc
from neurosim.io import ResultsWriter, read_results

RULES = ("published", "coincidence")
METHODS = ("none", "relearn", "reverse", "reverse+relearn", "relearn+reverse")
N_TARGETS = 5  # targets, neighbours, fillers and controls: 5 of each


def bits_needed(active: int) -> int:
    """Targets, fillers and new contents of ``active`` fresh bits; neighbours and controls share one."""
    return 3 * N_TARGETS * active + 2 * N_TARGETS * (active - 1)


def contents(rng: np.random.Generator, n_bits: int, active: int) -> dict[str, np.ndarray]:
    """Bit indices (rows of ``active``) of the targets, neighbours, fillers, controls and relearn's new
    contents, all from disjoint bits but the one bit a neighbour shares with its target and a control
    with its filler."""
    k = N_TARGETS
    if bits_needed(active) > n_bits:
        ck.fail("n_bits", n_bits, f">= {bits_needed(active)} (disjoint contents of {active} bits)")
    pool = iter(rng.permutation(n_bits))

    def fresh(n: int) -> np.ndarray:
        return np.array([next(pool) for _ in range(n)])

    target = np.stack([fresh(active) for _ in range(k)])
    filler = np.stack([fresh(active) for _ in range(k)])
    neighbour = np.stack([np.r_[t[rng.integers(active)], fresh(active - 1)] for t in target])
    control = np.stack([np.r_[f[rng.integers(active)], fresh(active - 1)] for f in filler])
    new = np.stack([fresh(active) for _ in range(k)])
    return {"target": target, "neighbour": neighbour, "filler": filler, "control": control, "new": new}


def _row(bits: np.ndarray, n_bits: int) -> np.ndarray:
    x = np.zeros(n_bits, dtype=bool)
    x[bits] = True
    return x


def _reads(mem, ops) -> list[list[int]]:
    """Run read operations back to back on the live circuit (learning off); their decoded outputs."""
    t = mem.t_ms
    return mem.run_schedule([(t + i * mem.op_ms, op) for i, op in enumerate(ops)],
                            until_ms=t + len(ops) * mem.op_ms)


def _kept(mem, c: dict[str, np.ndarray]) -> np.ndarray:
    """Per kept cue (neighbours, then fillers): 1 if its recall by cue is exact and each of its bits finds it."""
    from neurosim.models.ca3 import Operation

    kept = np.concatenate([c["neighbour"], c["filler"]])
    cues = range(N_TARGETS, 3 * N_TARGETS)
    ops = [Operation("recall_cue", q) for q in cues]
    ops += [Operation("recall_content", bits=(int(b),)) for bits in kept for b in bits]
    out = _reads(mem, ops)
    by_cue, by_bit = out[:len(kept)], out[len(kept):]
    a = kept.shape[1]
    return np.array([by_cue[i] == sorted(kept[i].tolist()) and all(q in by_bit[i * a + j] for j in range(a))
                     for i, q in enumerate(cues)], dtype=float)


def run_rep(rule: str, method: str, rep: int, seed: int, *, n_cues: int, n_bits: int, active: int,
            backend: str, device: str | None) -> dict[str, np.ndarray]:
    """One repetition of the protocol (module docstring); arrays of N_TARGETS (the kept ones: of 2 N_TARGETS)."""
    from neurosim.models.ca3 import COINCIDENCE_RULE, LEARNING_RULE, CA3Memory, Operation

    c = contents(rng_for(seed, rep), n_bits, active)
    mem = CA3Memory(n_cues, n_bits, backend=backend, device=device, seed=seed,
                    learning_rule=COINCIDENCE_RULE if rule == "coincidence" else LEARNING_RULE)
    try:
        stored = np.concatenate([c["target"], c["neighbour"], c["filler"]])
        for cue, bits in enumerate(stored):
            mem.store(_row(bits, n_bits), key=cue)
        kept_before = _kept(mem, c)
        for cue, bits in enumerate(c["target"]):
            for step in method.split("+"):
                if step == "reverse" and method == "relearn+reverse":
                    # the contract refuses: the cue's content is the new one now. Run on the circuit regardless,
                    # to see what the operation does to a cue holding something else
                    mem.run_schedule([(mem.t_ms, Operation("forget", cue, tuple(int(b) for b in bits)))],
                                     until_ms=mem.t_ms + mem.op_ms)
                elif step == "reverse":
                    mem.forget(_row(bits, n_bits), key=cue)
                elif step == "relearn":
                    mem.store(_row(c["new"][cue], n_bits), key=cue)
        w_cc = mem.sim.weights("learned_cue_to_content").reshape(n_cues, n_bits)
        w_bc = mem.sim.weights("learned_content_to_cue").reshape(n_bits, n_cues)
        pairs = [list(p) for p in combinations(range(active), 2)]
        ops = []
        for cue, bits in enumerate(c["target"]):
            ops.append(Operation("recall_cue", cue))
            ops += [Operation("recall_content", bits=(int(b),)) for b in bits]
            ops += [Operation("recall_content", bits=tuple(int(b) for b in bits[p])) for p in pairs]
        out = iter(_reads(mem, ops))
        m = {k: np.zeros(N_TARGETS) for k in ("cue_recall_old", "cue_recall_new", "bit_finds_cue", "pair_finds_cue",
                                             "w_cue_to_content", "w_content_to_cue", "restored")}
        for cue, bits in enumerate(c["target"]):
            recalled = set(next(out))
            old, new = set(bits.tolist()), set(c["new"][cue].tolist())
            m["cue_recall_old"][cue] = len(recalled & old) / len(recalled | old)
            m["cue_recall_new"][cue] = len(recalled & new) / len(recalled | new) if "relearn" in method else np.nan
            m["bit_finds_cue"][cue] = np.mean([cue in next(out) for _ in bits])
            m["pair_finds_cue"][cue] = np.mean([cue in next(out) for _ in pairs])
            m["w_cue_to_content"][cue] = w_cc[cue, bits].mean()
            m["w_content_to_cue"][cue] = w_bc[bits, cue].mean()
        m["familiarity_forgotten"] = mem.recognize_many(np.stack([_row(b, n_bits) for b in c["target"]]))
        m["familiarity_control"] = mem.recognize_many(np.stack([_row(b, n_bits) for b in c["control"]]))
        m["kept_before"], m["kept_after"] = kept_before, _kept(mem, c)
        for cue, bits in enumerate(c["target"]):
            mem.store(_row(bits, n_bits), key=cue)
        recalled = _reads(mem, [Operation("recall_cue", cue) for cue in range(N_TARGETS)])
        m["restored"] = np.array([r == sorted(b.tolist()) for r, b in zip(recalled, c["target"], strict=True)],
                                 dtype=float)
        return m
    finally:
        mem.close()


UNITS = {"w_cue_to_content": "nA", "w_content_to_cue": "nA"}


def run(*, backend: str = "numba", device: str | None = None, seed: int = 0,
        out: Path | str = "results/ca3-forget.h5", resume: bool = False, progress: bool = True, full: bool = False,
        n_reps: int | None = None, n_cues: int = 20, n_bits: int = 150, active: int = 5) -> Outcome:
    """Run the protocol (module docstring) under both rules and every method; ``n_reps``: 3 (``full``: 10)."""
    eng = engine("ca3-forget", backend, device)
    out = Path(out)
    n_reps = ck.count("n_reps", n_reps) if n_reps is not None else (10 if full else 3)
    ck.count("n_cues", n_cues, minimum=3 * N_TARGETS)
    ck.count("active", active, minimum=2)
    if ck.count("n_bits", n_bits) < bits_needed(active):
        ck.fail("n_bits", n_bits, f">= {bits_needed(active)} (disjoint contents of {active} bits)")
    runs = [(rule, method) for rule in RULES for method in METHODS]
    config = {"experiment": "ca3-forget", "n_reps": n_reps, "n_cues": n_cues, "n_bits": n_bits, "active": active,
              "runs": [list(r) for r in runs], "full": full}
    with ResultsWriter(out, config=config, meta={**eng, "seed": seed}, resume=resume) as writer:
        todo = [i for i in range(len(runs)) if i not in writer.finished_trials]
        for i in tqdm(todo, desc="ca3-forget runs", disable=not progress):
            rule, method = runs[i]
            start = time.perf_counter()
            reps = [run_rep(rule, method, r, seed, n_cues=n_cues, n_bits=n_bits, active=active,
                            backend=eng["backend"], device=eng["device"]) for r in range(n_reps)]
            writer.write_trial(i, metrics={k: (np.stack([r[k] for r in reps]), UNITS.get(k, "")) for k in reps[0]},
                               attrs={"rule": rule, "method": method, "seconds": time.perf_counter() - start})
    res = read_results(out)
    rows = []
    for i, (rule, method) in enumerate(runs):
        m = {k: v[0] for k, v in res.trials[i].metrics.items()}
        mean = {k: "-" if np.isnan(v).all() else round(float(np.nanmean(v)), 2) for k, v in m.items()}
        rows.append([rule, method, *(mean[k] for k in ("cue_recall_old", "cue_recall_new", "bit_finds_cue",
                                                         "pair_finds_cue", "w_cue_to_content", "w_content_to_cue")),
                     round(auc(m["familiarity_forgotten"].ravel(), m["familiarity_control"].ravel()), 2),
                     f"{mean['kept_after']:.2f} ({mean['kept_before']:.2f})", mean["restored"]])
    figure = _figure(res, runs, out.with_name(f"{out.stem}_measures.png"))
    return Outcome(title=f"ca3-forget: CA3 memory {n_cues} cues x {n_bits} bits, {active} bits per content, "
                         f"{N_TARGETS} targets forgotten, {n_reps} repetitions, seed {seed}",
                   columns=["rule", "method", "cue recalls old content", "cue recalls new", "old bit finds cue",
                            "old pair finds cue", "w cue->old bits nA", "w old bits->cue nA", "AUC vs controls",
                            "kept cues intact after (before)", "relearned exactly"],
                   rows=rows, files=[out, figure],
                   notes=["stored links hold 6 nA; AUC: familiarity of the forgotten contents against never-stored "
                          "ones with the same neighbourhood (0.5: no trace)"])


def _figure(res, runs, path: Path) -> Path:
    """One row per rule: the efficacy, residue and specificity shares, and the weights left on the old links."""
    from neurosim.plotting import COLORS, pyplot, save

    plt = pyplot()
    fig, axes = plt.subplots(len(RULES), 2, figsize=(12, 3.4 * len(RULES)), squeeze=False,
                             gridspec_kw={"width_ratios": [3, 2]})
    measures = {"cue_recall_old": "cue recalls old content", "bit_finds_cue": "one old bit finds cue",
                "pair_finds_cue": "two old bits find cue", "kept_after": "kept cues intact",
                "restored": "relearned exactly"}
    weights = {"w_cue_to_content": "cue -> old bits", "w_content_to_cue": "old bits -> cue"}
    width = 0.8 / len(measures)
    x = np.arange(len(METHODS))
    names = [m.replace("+", "\n+") for m in METHODS]
    for (ax, aw), rule in zip(axes, RULES, strict=True):
        trials = [res.trials[runs.index((rule, m))].metrics for m in METHODS]
        for k, (name, label) in enumerate(measures.items()):
            ax.bar(x - 0.4 + (k + 0.5) * width, [np.nanmean(t[name][0]) for t in trials], width, color=COLORS[k],
                   label=label)
        ax.set_xticks(x, names, fontsize=8)
        ax.set_ylim(0, 1.4)
        ax.set_ylabel("share (recall: Jaccard)")
        ax.legend(fontsize=7, ncol=3, loc="upper center")
        ax.set_title(f"{rule} rule: efficacy, residue and specificity", fontsize=10)
        for k, (name, label) in enumerate(weights.items()):
            aw.bar(x - 0.2 + 0.4 * k, [np.nanmean(t[name][0]) for t in trials], 0.4, color=COLORS[5 + k],
                   label=label)
        aw.axhline(6.0, color="0.5", lw=0.8, ls="--")
        aw.set_xticks(x, names, fontsize=8)
        aw.set_ylabel("mean weight on old links (nA)")
        aw.set_ylim(0, 7.5)
        aw.legend(fontsize=7, loc="upper center", ncol=2)
        aw.set_title(f"{rule} rule: what the weights keep (stored: 6 nA)", fontsize=10)
    fig.suptitle("forgetting a cue of the spiking CA3 memory")
    return save(fig, path)
