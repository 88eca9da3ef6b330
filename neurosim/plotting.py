"""Figures shared by experiments: spike rasters with operation marks, weight evolution.

matplotlib is imported inside the functions (Agg, no screen needed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from neurosim.io import ensure_parent

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22")


def raster(spikes: Mapping[str, tuple[np.ndarray, np.ndarray]], path: str | Path, *, title: str = "",
           sizes: Mapping[str, int] | None = None, marks: Sequence[tuple[float, str]] = (),
           t_max_ms: float | None = None, rate_bin_ms: float | None = None) -> Path:
    """One raster, populations stacked bottom-up in the given order and colour-coded.

    ``marks``: (time_ms, label) vertical lines, e.g. the operations of a memory experiment.
    ``rate_bin_ms``: add a panel with each population's rate (Hz) in bins of that width.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(spikes)
    sizes = dict(sizes or {})
    for n in names:
        sizes.setdefault(n, int(spikes[n][1].max()) + 1 if spikes[n][1].size else 1)
    rows = 2 if rate_bin_ms else 1
    fig, axes = plt.subplots(rows, 1, figsize=(10, 5.5 if rows == 2 else 4.5), sharex=True, squeeze=False,
                             gridspec_kw={"height_ratios": [3, 1][:rows]})
    ax = axes[0, 0]
    offset = 0
    ticks = []
    dot = max(0.2, min(4.0, 2000.0 / max(1, sum(s[0].size for s in spikes.values())) ** 0.5))
    for k, name in enumerate(names):
        t, i = spikes[name]
        ax.scatter(t, i + offset, s=dot, color=COLORS[k % len(COLORS)], marker="|" if sizes[name] < 40 else ".",
                   linewidths=0.8)
        ticks.append((offset + sizes[name] / 2, name))
        offset += sizes[name]
        ax.axhline(offset - 0.5, color="0.85", lw=0.5)
    ax.set_yticks([p for p, _ in ticks], [n for _, n in ticks], fontsize=8)
    ax.set_ylim(-0.5, offset - 0.5)
    for t, label in marks:
        for a in axes[:, 0]:
            a.axvline(t, color="0.6", lw=0.6, ls="--")
        ax.text(t, offset - 0.5, f" {label}", rotation=90, va="top", ha="left", fontsize=7, color="0.3")
    if t_max_ms is not None:
        ax.set_xlim(0, t_max_ms)
    ax.set_title(title)
    if rate_bin_ms:
        ra = axes[1, 0]
        end = t_max_ms or max((s[0].max() for s in spikes.values() if s[0].size), default=1.0)
        edges = np.arange(0.0, end + rate_bin_ms, rate_bin_ms)
        for k, name in enumerate(names):
            counts, _ = np.histogram(spikes[name][0], edges)
            ra.plot(edges[:-1], counts / (sizes[name] * rate_bin_ms / 1000.0), color=COLORS[k % len(COLORS)],
                    label=name, lw=1)
        ra.set_ylabel("rate (Hz)")
        ra.legend(fontsize=7, loc="upper right")
    axes[-1, 0].set_xlabel("time (ms)")
    return save(fig, path)


def weight_evolution(times_ms: np.ndarray, weights: np.ndarray, path: str | Path, *, title: str = "",
                     w_max: float | None = None) -> Path:
    """Mean weight over time and the weight histogram at the first and last snapshot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.5))
    a.plot(times_ms, weights.mean(axis=1), color=COLORS[0])
    a.fill_between(times_ms, np.percentile(weights, 10, axis=1), np.percentile(weights, 90, axis=1),
                   color=COLORS[0], alpha=0.2, label="10-90%")
    a.set_xlabel("time (ms)")
    a.set_ylabel("weight (nA)")
    a.legend(fontsize=8)
    bins = np.linspace(0, w_max if w_max else weights.max() * 1.05 + 1e-12, 41)
    b.hist(weights[0], bins=bins, alpha=0.6, label=f"t = {times_ms[0]:.0f} ms", color="0.5")
    b.hist(weights[-1], bins=bins, alpha=0.6, label=f"t = {times_ms[-1]:.0f} ms", color=COLORS[1])
    b.set_xlabel("weight (nA)")
    b.set_ylabel("synapses")
    b.legend(fontsize=8)
    fig.suptitle(title)
    return save(fig, path)


def pyplot():
    """matplotlib.pyplot on the Agg backend (no screen needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, path: str | Path, *, dpi: int = 120, rect: tuple[float, float, float, float] | None = None) -> Path:
    """Lay out (``rect``: the area tight_layout fills), write ``path`` (folders made) and close the figure."""
    import matplotlib.pyplot as plt

    fig.tight_layout(rect=rect)
    path = Path(path)
    ensure_parent(path)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path
