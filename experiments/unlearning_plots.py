"""The unlearning harness's summary table and figures, read back from its HDF5 results."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neurosim.experiments.unlearning import OVERLAPS, Task, auc
from neurosim.io import Results
from neurosim.plotting import COLORS, pyplot, save

SUMMARY_COLUMNS = ["model", "method", "condition", "forgotten recall", "control recall", "forgotten fam",
                   "control fam", "kept recall after (before)", "damage at overlap 0.8", "damage at 0.2",
                   "exposures to relearn: forgotten / control", "AUC forgotten vs control"]
NOTES = ["recall: Jaccard overlap from a random half of the item; fam: familiarity (recognize); control: a never-"
         "stored item with the same stored neighbours; kept: the filler items; damage: a kept neighbour's recall "
         "before minus after, by its overlap with the forgotten target; AUC 0.5: no trace of the forgotten items"]


def _m(res: Results, t: Task, name: str) -> np.ndarray:
    return res.trials[t.index].metrics[name][0]


def _mean(a: np.ndarray) -> float:
    a = np.asarray(a, dtype=np.float64)
    return float(np.nanmean(a)) if np.isfinite(a).any() else float("nan")


def _damage(res: Results, t: Task) -> np.ndarray:
    """Mean damage (recall before - after) of the kept neighbours, per overlap in OVERLAPS."""
    d = _m(res, t, "recall_neighbours_before") - _m(res, t, "recall_neighbours_after")  # (rep, overlap, target)
    return np.array([_mean(d[:, k]) for k in range(len(OVERLAPS))])


def summary(res: Results, tasks: list[Task]) -> list[list]:
    rows = []
    for t in tasks:
        dmg = _damage(res, t)
        kept = f"{_mean(_m(res, t, 'recall_filler_after')):.3g} ({_mean(_m(res, t, 'recall_filler_before')):.3g})"
        rows.append([t.model, t.method, t.condition, _mean(_m(res, t, "recall_forgotten")),
                     _mean(_m(res, t, "recall_control")), _mean(_m(res, t, "fam_forgotten")),
                     _mean(_m(res, t, "fam_control")),
                     kept, dmg[0], dmg[-1],
                     f"{_mean(_m(res, t, 'exposures_forgotten')):.2f} / {_mean(_m(res, t, 'exposures_control')):.2f}",
                     auc(_m(res, t, "fam_forgotten"), _m(res, t, "fam_control"))])
    return rows


def _label(t: Task) -> str:
    return t.model if t.method == "-" else f"{t.model} ({t.method})"


def _single(tasks: list[Task]) -> list[Task]:
    return [t for t in tasks if t.condition == "single"]


def efficacy(res: Results, tasks: list[Task], path: Path) -> Path:
    """Familiarity and recall: stored items before, forgotten items after (single and interference), controls."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    shown = [t for t in tasks if t.condition in ("single", "interference")]
    x = np.arange(len(shown))
    for ax, (before, after, novel, what) in zip(axes, (
            ("fam_targets_before", "fam_forgotten", "fam_control", "familiarity"),
            ("recall_targets_before", "recall_forgotten", "recall_control", "recall (Jaccard, half cue)")),
            strict=True):
        for k, (name, color, label) in enumerate(((before, COLORS[0], "stored, before"),
                                                  (after, COLORS[1], "forgotten / interfered, after"),
                                                  (novel, COLORS[2], "control (never stored)"))):
            ax.bar(x + (k - 1) * 0.27, [_mean(_m(res, t, name)) for t in shown], 0.27, color=color, label=label)
        ax.set_xticks(x, [f"{_label(t)}\n{t.condition}" for t in shown], rotation=60, ha="right", fontsize=7)
        ax.set_ylabel(what)
        ax.set_ylim(0, 1.05)
    axes[0].legend(fontsize=8, loc="lower left", framealpha=0.9)
    axes[0].set_title("efficacy: is a forgotten item as familiar as one never stored?")
    axes[1].set_title("recall of the forgotten items")
    return save(fig, path)


def damage(res: Results, tasks: list[Task], path: Path) -> Path:
    """Specificity: a kept neighbour's recall lost, against its overlap with the forgotten item."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for k, t in enumerate(_single(tasks)):
        ax.plot(OVERLAPS, _damage(res, t), "o-", color=COLORS[k % len(COLORS)], label=_label(t))
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set_xlabel("neighbour's overlap with the forgotten item (share of its active units)")
    ax.set_ylabel("recall lost by the kept neighbour")
    ax.set_title("damage against overlap (single items forgotten)")
    ax.legend(fontsize=8)
    return save(fig, path)


def savings(res: Results, tasks: list[Task], path: Path) -> Path:
    """Relearning: presentations to criterion, forgotten items against controls."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(9, 4.5))
    shown = [t for t in tasks if t.condition in ("single", "interference")]
    x = np.arange(len(shown))
    ax.bar(x - 0.2, [_mean(_m(res, t, "exposures_forgotten")) for t in shown], 0.4, color=COLORS[1],
           label="forgotten / interfered items")
    ax.bar(x + 0.2, [_mean(_m(res, t, "exposures_control")) for t in shown], 0.4, color=COLORS[2],
           label="controls (never stored, same neighbours)")
    ax.set_xticks(x, [f"{_label(t)}\n{t.condition}" for t in shown], rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("presentations to relearn (recall back to 0.9 of before)")
    ax.set_title("savings: does a hidden trace speed relearning?")
    ax.legend(fontsize=8)
    return save(fig, path)


def roc(res: Results, tasks: list[Task], path: Path) -> Path:
    """Membership inference: ROC of familiarity, forgotten targets (positive) against controls."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 5.5))
    for k, t in enumerate(_single(tasks)):
        pos, neg = np.ravel(_m(res, t, "fam_forgotten")), np.ravel(_m(res, t, "fam_control"))
        cuts = np.unique(np.concatenate([pos, neg, [np.inf]]))[::-1]
        tpr = [np.mean(pos >= c) for c in cuts]
        fpr = [np.mean(neg >= c) for c in cuts]
        ax.plot([0.0, *fpr, 1.0], [0.0, *tpr, 1.0], color=COLORS[k % len(COLORS)],
                label=f"{_label(t)}: AUC {auc(pos, neg):.2f}")
    ax.plot([0, 1], [0, 1], color="0.6", lw=0.8, ls="--")
    ax.set_xlabel("controls (never stored) called familiar")
    ax.set_ylabel("forgotten items called familiar")
    ax.set_title("membership inference after forgetting")
    ax.legend(fontsize=7)
    return save(fig, path)
