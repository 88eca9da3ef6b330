"""The forgetting harness's summary table and figures, read back from its HDF5 results."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neurosim.experiments.forgetting import CUES, FOILS, SCHEDULES, Task
from neurosim.io import Results
from neurosim.plotting import COLORS, pyplot, save

SUMMARY_COLUMNS = ["model", "2AFC k=0", "2AFC k=10", "2AFC k=100", "recall k=0", "recall k=10", "recall k=100",
                   "recognition holds to", "recall holds to", "recall k=10, 1x / 3x", "capacity (items)"]
RECOGNITION_HOLDS = 0.75  # 2AFC against novel foils
RECALL_HOLDS = 0.5        # Jaccard from random-half cues
CAPACITY_HOLDS = 0.9      # mean Jaccard of the stored items


def _trial(res: Results, tasks: list[Task], model: str, condition: str):
    for t in tasks:
        if t.model == model and t.condition == condition:
            return t, res.trials[t.index]
    raise KeyError((model, condition))


def curve(res: Results, tasks: list[Task], model: str, condition: str, measure: str,
          items: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(steps, mean over repetitions and items) of a retention measure; NaN past an early stop."""
    _, trial = _trial(res, tasks, model, condition)
    steps = trial.metrics["steps"][0]
    a = trial.metrics[measure][0]  # (rep, probe, item)
    if items is not None:
        a = a[..., items]
    return steps, _nanmean(a, (0, 2))


def _nanmean(a: np.ndarray, axis: tuple[int, ...]) -> np.ndarray:
    """Mean over ``axis`` ignoring NaN; NaN where nothing was measured (a probe past an early stop)."""
    n = np.sum(np.isfinite(a), axis=axis)
    return np.where(n > 0, np.nansum(a, axis=axis) / np.maximum(n, 1), np.nan)


def _at(steps: np.ndarray, values: np.ndarray, k: int) -> float:
    hit = np.flatnonzero(steps == k)
    return float(values[hit[0]]) if hit.size else float("nan")


def _holds_to(steps: np.ndarray, values: np.ndarray, level: float) -> float:
    """The last probe before the measure first falls below ``level`` (NaN if it never reaches it)."""
    below = np.flatnonzero(~(values >= level))
    if below.size == 0:
        return float(steps[-1])
    return float(steps[below[0] - 1]) if below[0] > 0 else float("nan")


def capacity_curve(res: Results, tasks: list[Task], model: str, sparsity: float
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(stored items, mean Jaccard, fraction exact) of a capacity task."""
    _, trial = _trial(res, tasks, model, f"capacity-f{sparsity:g}")
    return (trial.metrics["steps"][0], _nanmean(trial.metrics["jaccard"][0], (0, 2)),
            _nanmean(trial.metrics["exact"][0], (0, 2)))


def summary(res: Results, tasks: list[Task], sparsity: float) -> tuple[list[list], list[str]]:
    models = list(dict.fromkeys(t.model for t in tasks))
    rows, notes = [], []
    for m in models:
        steps, afc = curve(res, tasks, m, "retention-none", "afc_novel")
        _, rec = curve(res, tasks, m, "retention-none", "recall_random50")
        t, trial = _trial(res, tasks, m, "retention-none")
        exposures = trial.metrics["exposures"][0][0]
        _, once = curve(res, tasks, m, "retention-none", "recall_random50", np.flatnonzero(exposures == 1))
        _, thrice = curve(res, tasks, m, "retention-none", "recall_random50", np.flatnonzero(exposures == 3))
        p, jac, _ = capacity_curve(res, tasks, m, sparsity)
        cap = _holds_to(p, jac, CAPACITY_HOLDS)
        rows.append([m, _at(steps, afc, 0), _at(steps, afc, 10), _at(steps, afc, 100), _at(steps, rec, 0),
                     _at(steps, rec, 10), _at(steps, rec, 100), _holds_to(steps, afc, RECOGNITION_HOLDS),
                     _holds_to(steps, rec, RECALL_HOLDS), f"{_at(steps, once, 10):.2f} / {_at(steps, thrice, 10):.2f}",
                     cap])
        late = {}
        for s in SCHEDULES:
            st, r = curve(res, tasks, m, f"retention-{s}", "recall_random50")
            late[s] = float(_nanmean(r[st >= 10], (0,)))
        notes.append(f"{m}: mean recall over probes k >= 10 by rehearsal schedule: "
                     + ", ".join(f"{s} {v:.2f}" for s, v in late.items()))
    notes.insert(0, f"2AFC against novel foils; recall = Jaccard from random-half cues; 'holds to' = last probe "
                    f"with 2AFC >= {RECOGNITION_HOLDS} / recall >= {RECALL_HOLDS}; capacity = most items stored "
                    f"with mean recall >= {CAPACITY_HOLDS} at sparsity {sparsity:g}")
    return rows, notes


def _log_x(steps: np.ndarray) -> np.ndarray:
    """Interference on a log axis: probe 0 drawn at 0.5."""
    return np.where(steps == 0, 0.5, steps)


def _per_model(tasks: list[Task], draw, ylabel: str, title: str, path: Path, legend: dict) -> Path:
    """One panel per model on a log interference axis; ``draw(ax, model)`` plots into each."""
    plt = pyplot()
    models = list(dict.fromkeys(t.model for t in tasks))
    cols = min(3, len(models))
    rows = int(np.ceil(len(models) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(5.0 * cols, 3.8 * rows), sharey=True, squeeze=False)
    for ax, m in zip(axes.ravel(), models, strict=False):
        draw(ax, m)
        ax.axhline(0.5, color="0.6", lw=0.8, ls=":")
        ax.set_xscale("log")
        ax.set_title(m, fontsize=10)
        ax.set_ylim(-0.03, 1.03)
        ax.grid(alpha=0.3)
        ax.set_xlabel("interfering items stored (0 at 0.5)")
    for ax in axes.ravel()[len(models):]:
        ax.axis("off")
    for r in range(rows):
        axes[r, 0].set_ylabel(ylabel)
    axes[0, 0].legend(**legend)
    fig.suptitle(title)
    return save(fig, path)


def forgetting_curves(res: Results, tasks: list[Task], path: Path) -> Path:
    """Recognition (2AFC per foil) and recall (Jaccard per cue) vs interference, one panel per model."""

    def draw(ax, m: str) -> None:
        for j, f in enumerate(FOILS):
            s, v = curve(res, tasks, m, "retention-none", f"afc_{f}")
            ax.plot(_log_x(s), v, "-", color=COLORS[j], lw=1.6, label=f"recognition vs {f} foil")
        for j, c in enumerate(CUES):
            s, v = curve(res, tasks, m, "retention-none", f"recall_{c}")
            ax.plot(_log_x(s), v, "--", color=COLORS[3 + j], lw=1.6, label=f"recall from {c} cue")

    return _per_model(tasks, draw, "2AFC (solid) / recall Jaccard (dashed)",
                      "retention: recognition and cued recall of the study set while new items are stored", path,
                      {"fontsize": 7, "loc": "lower left"})


def rehearsal(res: Results, tasks: list[Task], path: Path) -> Path:
    """Recall (random-half cues) and 2AFC vs interference per rehearsal schedule, one panel per model."""

    def draw(ax, m: str) -> None:
        for j, s in enumerate(SCHEDULES):
            st, v = curve(res, tasks, m, f"retention-{s}", "recall_random50")
            ax.plot(_log_x(st), v, "-", color=COLORS[j], label=s)
            st, v = curve(res, tasks, m, f"retention-{s}", "afc_novel")
            ax.plot(_log_x(st), v, ":", color=COLORS[j], lw=1)

    every = tasks[0].rehearse_every
    return _per_model(tasks, draw, "recall (solid) / 2AFC (dotted)",
                      f"rehearsal schedules at equal budgets (one rehearsal per {every} interfering items)", path,
                      {"fontsize": 8, "title": "rehearsal", "title_fontsize": 8})


def capacity(res: Results, tasks: list[Task], path: Path) -> Path:
    """Recall (Jaccard, random-half cues) vs stored items, one curve per sparsity, one panel per model."""
    plt = pyplot()
    models = list(dict.fromkeys(t.model for t in tasks))
    sparsities = sorted({t.sparsity for t in tasks if t.protocol == "capacity"})
    fig, axes = plt.subplots(1, len(models), figsize=(3.6 * len(models), 3.6), sharey=True, squeeze=False)
    for ax, m in zip(axes[0], models, strict=True):
        for j, f in enumerate(sparsities):
            p, jac, exact = capacity_curve(res, tasks, m, f)
            ax.plot(p, jac, "o-", ms=3, color=COLORS[j], label=f"f = {f:g}")
            ax.plot(p, exact, ":", color=COLORS[j], lw=1)
        n_units = tasks[0].n_units
        ax.axvline(0.138 * n_units, color="0.4", ls="--", lw=0.8)
        ax.set_xscale("log")
        ax.set_title(m, fontsize=10)
        ax.set_ylim(-0.03, 1.03)
        ax.grid(alpha=0.3)
        ax.set_xlabel("stored items")
    axes[0, 0].set_ylabel("recall Jaccard (solid) / exact (dotted)")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(f"capacity: recall from random-half cues vs stored items (dashed: 0.138 N, N = {tasks[0].n_units})")
    return save(fig, path)
