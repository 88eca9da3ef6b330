"""Can the autoassociative CA3 circuit forget a stored assembly by its own spikes? An exhaustive search.

The circuit is :mod:`neurosim.models.ca3_auto`'s (PC<->PC pair STDP: A+ 6 nA, tau+ 3 ms, A- 3 nA,
tau- 2 ms, w in [0, 12] nA, delay 1 ms; DG->PC 6 (n - 1) nA with ``n_cells`` = 15 as published;
PC->PC inhibition 1.5 nA). Its only inputs are DG spikes, so any forget operation built from
the circuit's own means is a pattern of DG spikes on the assembly's cells while STDP is on, followed
by whatever the recurrent network does with it for the rest of an operation (14 ms, as a store).

For a stored assembly of ``size`` cells (every link at w_max), every such pattern within a window of
``window`` ticks is tried: each cell spikes on any subset of the ticks, ``2 ** (size * window)``
protocols, all simulated at once as independent copies of the assembly (a block-diagonal network:
copy ``p`` has its own cells, links and inhibition). After each protocol the copy's links are read,
and a frozen run cues each cell alone: the assembly is **forgotten** when no single cell completes
any other (in the recall window of 2 ticks, as ``CA3AutoMemory.recall`` decodes).

Then a greedy search over repeated passes: from the best protocol's weights (lowest strongest link,
then lowest sum), every protocol again, ``passes`` times.

What the circuit does (docs/unlearning.md): a cue makes the assembly's two halves fire in alternate
ticks (the model's oscillation). Links between cells that fire in alternate ticks get the pairing
Delta = 0 each cycle and fall to the fixed point where a cycle's potentiation equals its depression
(7.27 nA); links between cells that fire on the same tick get Delta = +1 and are potentiated back
to w_max. So no protocol lowers every link of an assembly of three cells or more, and a pair falls
at most to 7.27 nA, where one cell still completes the other under the published inhibition.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from neurosim import _checks as ck
from neurosim.experiments import Outcome, engine
from neurosim.io import ResultsWriter, read_results

CASES = ((2, 8), (3, 5))  # (assembly size, window in ticks): 65536 and 32768 protocols
QUICK_CASES = ((2, 6), (3, 4))
N_CELLS = 15  # the published circuit's size: it sets the DG weight 6 (n - 1) nA


def _links(size: int) -> tuple[np.ndarray, np.ndarray]:
    """(pre, post) of an assembly's links within one copy, in AllToAll(False) order (pre-major)."""
    pre, post = np.divmod(np.arange(size * size), size)
    keep = pre != post
    return pre[keep], post[keep]


def copies(weights: np.ndarray, size: int, params, plastic: bool):
    """Independent copies of one assembly (copy p: cells p*size ... p*size + size - 1) with link weights
    ``weights`` (n_copies, size*(size-1)), as the published circuit wires them."""
    from neurosim.connectors import FromList, OneToOne
    from neurosim.models.ca3_network import cell
    from neurosim.network import Network, Population, Projection, SpikeMonitor, SpikeSourceArray

    n = weights.shape[0] * size
    pre, post = _links(size)
    base = (np.arange(weights.shape[0]) * size)[:, None]
    pre, post = (base + pre).ravel(), (base + post).ravel()
    return Network(
        dt_ms=1.0, populations=(Population("pc", n, cell(v_thresh_mV=params.v_thresh_mV)),),
        sources=(SpikeSourceArray.empty("dg", n),),
        projections=(
            Projection("dg_pc", "dg", "pc", OneToOne(), weight_nA=params.w_dg_per_cell_nA * (N_CELLS - 1),
                       delay_steps=1),
            Projection("pc_pc", "pc", "pc", FromList(pre, post), weight_nA=weights.ravel(), delay_steps=1,
                       plasticity=params.rule if plastic else None),
            Projection("pc_inh", "pc", "pc", FromList(pre, post), weight_nA=params.w_inh_nA, delay_steps=1,
                       receptor="inhibitory")),
        monitors=(SpikeMonitor("pc"),))


def protocols(size: int, window: int) -> np.ndarray:
    """Every DG pattern: (2 ** (size*window), size, window) bool, [p, cell, tick] = cell spikes at tick."""
    codes = np.arange(2 ** (size * window), dtype=np.int64)
    bits = (codes[:, None] >> np.arange(size * window)) & 1
    return bits.reshape(-1, size, window).astype(bool)


def apply(weights: np.ndarray, patterns: np.ndarray, params, backend: str, device: str | None) -> np.ndarray:
    """Each copy's links after its DG pattern with STDP on, run for one operation (``params.operation_ms``)."""
    from neurosim.simulator import Simulator

    size = patterns.shape[1]
    sim = Simulator(copies(weights, size, params, plastic=True), backend=backend, device=device)
    try:
        p, cell, tick = np.nonzero(patterns)
        if p.size:
            sim.add_spikes("dg", tick.astype(np.float64), p * size + cell)
        sim.learning = True
        sim.run(float(params.operation_ms))
        return np.asarray(sim.weights("pc_pc"), dtype=np.float64).reshape(weights.shape)
    finally:
        sim.close()


def completes(weights: np.ndarray, size: int, params, backend: str, device: str | None) -> np.ndarray:
    """(n_copies, size) bool: cueing that cell alone (frozen weights) fires another cell of its copy within
    the recall window."""
    from neurosim.simulator import Simulator

    out = np.zeros((weights.shape[0], size), dtype=bool)
    for cell in range(size):
        sim = Simulator(copies(weights, size, params, plastic=False), backend=backend, device=device)
        try:
            cues = np.arange(weights.shape[0]) * size + cell
            ticks = np.repeat(np.arange(params.present_ms, dtype=np.float64), cues.size)
            sim.add_spikes("dg", ticks, np.tile(cues, params.present_ms))
            sim.run(float(params.recall_window_ms + 1))
            t, i = sim.spikes("pc")
            fired = (t >= 1) & (t <= params.recall_window_ms) & (i % size != cell)
            out[np.unique(i[fired] // size), cell] = True
        finally:
            sim.close()
    return out


def completion_threshold(params, backend: str, device: str | None, step_nA: float = 0.01) -> float:
    """The weakest link (to ``step_nA``) over which one cell alone fires the other: pairs with every weight
    on a grid, cued in one frozen run."""
    grid = np.arange(0.0, params.rule.w_max_nA + step_nA / 2, step_nA)
    done = completes(np.repeat(grid[:, None], 2, axis=1), 2, params, backend, device)[:, 0]
    if not done.any():
        return float("inf")
    return float(grid[np.argmax(done)])


def search(size: int, window: int, passes: int, params, backend: str, device: str | None
           ) -> dict[str, np.ndarray]:
    """Every protocol from a stored assembly, then greedy passes from the best one (module docstring)."""
    patterns = protocols(size, window)
    n_links = size * (size - 1)
    state = np.full(n_links, params.rule.w_max_nA)
    best_w, best_p, first = [], [], None
    for _ in range(passes):
        w = apply(np.tile(state, (len(patterns), 1)), patterns, params, backend, device)
        if first is None:
            first = w
        score = w.max(axis=1) + 1e-6 * w.sum(axis=1)
        k = int(np.argmin(score))
        state = w[k]
        best_w.append(state)
        best_p.append(patterns[k])
    done = completes(first, size, params, backend, device)
    best_done = completes(np.array(best_w), size, params, backend, device)
    return {"weights_first_pass": first, "completes_first_pass": done, "best_weights": np.array(best_w),
            "best_protocol": np.array(best_p), "best_completes": best_done,
            "completion_threshold": np.array([completion_threshold(params, backend, device)])}


def run(*, backend: str = "numba", device: str | None = None, seed: int = 0,
        out: Path | str = "results/ca3-auto-forget.h5", resume: bool = False, progress: bool = True,
        full: bool = False, passes: int = 3) -> Outcome:
    """Search every case of :data:`CASES` (quick: :data:`QUICK_CASES`) in the published circuit. ``seed`` is
    recorded only: the circuit and the search have nothing random."""
    from neurosim.models.ca3_auto import CA3AutoParams

    eng = engine("ca3-auto-forget", backend, device)
    out = Path(out)
    ck.count("passes", passes)
    params = CA3AutoParams()
    cases = CASES if full else QUICK_CASES
    config = {"experiment": "ca3-auto-forget", "cases": [list(c) for c in cases], "passes": passes,
              "w_inh_nA": params.w_inh_nA, "n_cells": N_CELLS, "full": full}
    with ResultsWriter(out, config=config, meta={**eng, "seed": seed}, resume=resume) as writer:
        for i in tqdm([i for i in range(len(cases)) if i not in writer.finished_trials], desc="assemblies searched",
                      disable=not progress):
            size, window = cases[i]
            start = time.perf_counter()
            r = search(size, window, passes, params, eng["backend"], eng["device"])
            units = {k: "nA" if "weights" in k or "threshold" in k else "" for k in r}
            writer.write_trial(i, metrics={k: (v, units[k]) for k, v in r.items()},
                               attrs={"size": size, "window": window, "seconds": time.perf_counter() - start})
    res = read_results(out)
    rows = []
    for i, (size, window) in enumerate(cases):
        m = {k: v[0] for k, v in res.trials[i].metrics.items()}
        w, done = m["weights_first_pass"], m["completes_first_pass"]
        for k, bw in enumerate(m["best_weights"]):
            p = m["best_protocol"][k]
            rows.append([size, window, len(w), k + 1,
                         "; ".join(f"cell {c}: {np.flatnonzero(p[c]).tolist()}" for c in range(size)),
                         round(float(bw.min()), 2), round(float(bw.max()), 2),
                         "yes" if m["best_completes"][k].any() else "no",
                         int((~done.any(axis=1)).sum()) if k == 0 else "-"])
    threshold = float(res.trials[0].metrics["completion_threshold"][0][0])
    figure = _figure(res, cases, params.rule.w_max_nA, threshold, out.with_name(f"{out.stem}_links.png"))
    return Outcome(title=f"ca3-auto-forget: every DG spike pattern on a stored assembly, STDP on, w_inh "
                         f"{params.w_inh_nA} nA; greedy passes from the best",
                   columns=["cells", "window ticks", "protocols", "pass", "best protocol (DG ticks)",
                            "weakest link nA", "strongest link nA", "still completes", "protocols that forget"],
                   rows=rows, files=[out, figure],
                   notes=["stored links hold 12 nA; 'forget' = no cell alone completes another (recall window 2 ticks)",
                          f"one cell completes another over a link of {threshold:.2f} nA or more"])


def _figure(res, cases, w_max: float, threshold: float, path: Path) -> Path:
    """Per case: the strongest and the weakest link after every protocol of the first pass."""
    from neurosim.plotting import COLORS, pyplot, save

    plt = pyplot()
    fig, axes = plt.subplots(1, len(cases), figsize=(5.5 * len(cases), 4.2), squeeze=False)
    for ax, (i, (size, window)) in zip(axes[0], enumerate(cases), strict=True):
        m = res.trials[i].metrics
        w, done = m["weights_first_pass"][0], m["completes_first_pass"][0].any(axis=1)
        for k, (keep, label) in enumerate(((done, "still completes"), (~done, "forgotten"))):
            if keep.any():
                ax.scatter(w[keep].min(axis=1), w[keep].max(axis=1), s=8, alpha=0.4, color=COLORS[k], label=label)
        ax.axhline(threshold, color="0.4", lw=0.8, ls="--")
        ax.axvline(threshold, color="0.4", lw=0.8, ls="--")
        ax.fill_between([-0.3, threshold], -0.3, threshold, color="0.85", zorder=0,
                        label=f"forgotten region (every link < {threshold:.2f} nA)")
        ax.set_xlim(-0.3, w_max + 0.5)
        ax.set_ylim(-0.3, w_max + 0.5)
        ax.set_xlabel("weakest link after the protocol (nA)")
        ax.set_ylabel("strongest link (nA)")
        ax.set_title(f"{size} cells, every DG pattern in {window} ticks ({len(w)})", fontsize=10)
        ax.legend(fontsize=8, loc="lower right")
    fig.suptitle("forgetting a stored CA3 assembly by its own spikes")
    return save(fig, path)
