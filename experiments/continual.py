"""Continual-learning task sequences and metrics shared by the gradient-trained models' experiments.

- :func:`permuted_digits`: scikit-learn's 8 x 8 digits (shipped with the package, no download),
  one fixed pixel permutation per task (task 0 the identity), the same 10 labels in every task
  (a shared output head), one stratified train/test split for all tasks.
- :func:`split_digits`: the same digits split into 5 tasks of 2 classes ((0, 1), (2, 3), ...), labels
  0 / 1 within each task, for a multi-head network (one 2-way head per task).
- :func:`acc_bwt`: the standard metrics over an accuracy matrix ``R[i, j]`` = accuracy on task
  ``i`` after learning task ``j`` (Lopez-Paz & Ranzato 2017, as in Xiao et al., ICLR 2024): ACC = mean_i R[i, T-1];
  BWT = mean_{i < T-1} (R[i, T-1] - R[i, i]).
- :func:`accuracy_heatmap`: the matrix as a figure, one panel per method;
  :func:`forgetting_curves`: mean accuracy on the learned tasks and task 0's accuracy vs tasks learned.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neurosim import _checks as ck
from neurosim.io import ensure_parent
from neurosim.plotting import COLORS, pyplot, save


@dataclass(frozen=True)
class TaskSet:
    """Tasks sharing one split: ``perms[t]`` reorders the pixels of task ``t``."""

    x_train: np.ndarray   # (n_train, 64) float32, standardized
    y_train: np.ndarray   # (n_train,) int64
    x_test: np.ndarray
    y_test: np.ndarray
    perms: np.ndarray     # (n_tasks, 64) int

    @property
    def n_tasks(self) -> int:
        return self.perms.shape[0]

    heads: int = 1        # output heads (1: shared)
    n_classes: int = 10   # classes per head

    def train(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        return self.x_train[:, self.perms[t]], self.y_train

    def test(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        return self.x_test[:, self.perms[t]], self.y_test


def permuted_digits(n_tasks: int, rng: np.random.Generator, *, test_fraction: float = 0.3) -> TaskSet:
    """``n_tasks`` permuted-digits tasks; pixels scaled to [0, 1] then standardized by the training set's
    global mean and standard deviation (as permuted MNIST is)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    ck.count("n_tasks", n_tasks)
    ck.in_range("test_fraction", test_fraction, 0.05, 0.95)
    digits = load_digits()
    x = digits.data.astype(np.float32) / 16.0
    y = digits.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_fraction, stratify=y,
                                              random_state=int(rng.integers(2**31)))
    mean, std = x_tr.mean(), x_tr.std()
    perms = np.stack([np.arange(x.shape[1])] + [rng.permutation(x.shape[1]) for _ in range(n_tasks - 1)])
    return TaskSet(((x_tr - mean) / std).astype(np.float32), y_tr, ((x_te - mean) / std).astype(np.float32), y_te,
                   perms)


@dataclass(frozen=True)
class SplitTaskSet:
    """Tasks that each hold two of the ten digits; ``train(t)`` / ``test(t)`` give labels 0 / 1."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_tasks: int = 5
    heads: int = 5
    n_classes: int = 2

    def _part(self, x: np.ndarray, y: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray]:
        keep = (y // 2) == t
        return x[keep], (y[keep] % 2).astype(np.int64)

    def train(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        return self._part(self.x_train, self.y_train, t)

    def test(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        return self._part(self.x_test, self.y_test, t)


def split_digits(rng: np.random.Generator, *, test_fraction: float = 0.3) -> SplitTaskSet:
    """Digits in 5 two-class tasks on the split (and standardization) of :func:`permuted_digits`."""
    base = permuted_digits(1, rng, test_fraction=test_fraction)
    return SplitTaskSet(base.x_train, base.y_train, base.x_test, base.y_test)


def acc_bwt(r: np.ndarray) -> tuple[float, float]:
    """ACC and BWT of an accuracy matrix ``r[i, j]`` (task i after learning task j), as fractions."""
    r = np.asarray(r, dtype=np.float64)
    if r.ndim != 2 or r.shape[0] != r.shape[1] or r.shape[0] < 1:
        ck.fail("accuracy matrix shape", r.shape, "(T, T) with T >= 1")
    t = r.shape[0]
    acc = float(r[:, -1].mean())
    bwt = float(np.mean(r[:-1, -1] - np.diag(r)[:-1])) if t > 1 else 0.0
    return acc, bwt


def accuracy_heatmap(matrices: dict[str, np.ndarray], path: Path, *, title: str) -> Path:
    """One heatmap per method: accuracy on task i (rows) after learning task j (columns); entries not
    measured (NaN: tasks not yet learned) stay blank."""
    plt = pyplot()
    k = len(matrices)
    fig, axes = plt.subplots(1, k, figsize=(4.3 * k + 1.0, 5.2), squeeze=False, layout="constrained")
    im = None
    for ax, (name, r) in zip(axes[0], matrices.items(), strict=True):
        im = ax.imshow(np.ma.masked_invalid(r * 100.0), vmin=0, vmax=100, cmap="viridis", origin="upper")
        acc, bwt = acc_bwt(r)
        ax.set_title(f"{name}\nACC {acc:.1%}, BWT {bwt:+.1%}", fontsize=10)
        ax.set_xlabel("after learning task j")
        ax.set_ylabel("accuracy on task i")
        t = r.shape[0]
        ax.set_xticks(range(t))
        ax.set_yticks(range(t))
        if t <= 12:
            for i in range(t):
                for j in range(t):
                    if np.isfinite(r[i, j]):
                        ax.text(j, i, f"{r[i, j] * 100:.0f}", ha="center", va="center", fontsize=6,
                                color="white" if r[i, j] < 0.6 else "black")
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8, label="accuracy (%)")
    fig.suptitle(title)
    path = Path(path)
    ensure_parent(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def forgetting_curves(matrices: dict[str, np.ndarray], path: Path, *, title: str, chance: float | None = None,
                      reference: float | None = None, reference_label: str = "") -> Path:
    """Left: mean accuracy over the tasks learned so far vs tasks learned. Right: task 0's accuracy as
    later tasks are learned (its forgetting curve). ``chance`` and ``reference`` (e.g. multitask ACC) as
    horizontal lines."""
    plt = pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.8))
    for k, (name, r) in enumerate(matrices.items()):
        t = r.shape[0]
        steps = np.arange(1, t + 1)
        a.plot(steps, [np.mean(r[:j + 1, j]) * 100 for j in range(t)], "o-", color=COLORS[k], label=name)
        b.plot(steps, r[0] * 100, "o-", color=COLORS[k], label=name)
    if reference is not None and np.isfinite(reference):
        a.axhline(reference * 100, color="0.3", ls="--", lw=1, label=reference_label)
    for ax, label in ((a, "mean accuracy on learned tasks (%)"), (b, "accuracy on task 0 (%)")):
        if chance is not None:
            ax.axhline(chance * 100, color="0.6", ls=":", lw=1)
        ax.set_xlabel("tasks learned")
        ax.set_ylabel(label)
        ax.set_ylim(0, 101)
        ax.grid(alpha=0.3)
    a.legend(fontsize=8)
    fig.suptitle(title)
    return save(fig, path)
