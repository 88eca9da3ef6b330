"""Forgetting a task in a spiking MLP trained by HLOP, and what the other tasks keep.

The tasks and the network are those of :mod:`neurosim.experiments.hlop_continual` (smaller by default,
:data:`QUICK`, since the run trains it twice): the spiking MLP
learns ``n_tasks`` permuted-digit tasks in order with HLOP (Hebbian subspace neurons protecting each
layer's input subspace of the tasks learned so far, one set of neurons per task). Then task ``forget``
is forgotten, and every method starts from that same trained network:

- ``ascent``: gradient ascent on the task's cross-entropy (plain SGD, the training's learning rate),
  one batch at a time, until its training accuracy is at chance (``1 / classes + margin``) or after
  ``max_epochs`` passes;
- ``ascent-hebbian``: the same, with each layer's update projected off the span of the Hebbian neurons
  the *kept* tasks added (orthonormalised): HLOP's own protection turned to unlearning. Each task's
  neurons span only what the tasks before it had not, so the directions the forgotten task claimed
  first, and the kept tasks share, stay unprotected;
- ``ascent-projected``: projected off the kept tasks' whole activity subspace instead, per layer the
  top singular vectors of their presynaptic rates holding ``ENERGY`` of its energy (as GPM chooses
  its bases), from the kept tasks' training data (the retained set);
- ``retrain``: the network trained from scratch on the kept tasks only (the reference every unlearning
  method is measured against: what never learning the task gives).

Measured for each: test accuracy on every task before and after (``R`` rows), the forgotten task's
accuracy (efficacy, against ``retrain``'s), the kept tasks' mean (ACC kept), the updates used, and
relearning: the forgotten task's accuracy after one epoch of plain training on it (a residue of the task
helps; ``retrain`` has never seen it). One HDF5 trial per method; a figure and a summary table.
"""

from __future__ import annotations

import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from neurosim import _checks as ck
from neurosim.experiments import Outcome, engine
from neurosim.experiments.hlop_continual import DTYPE, Settings, _accuracy, _activity, _fit, _net, make_tasks
from neurosim.io import ResultsWriter, read_results

METHODS = ("ascent", "ascent-hebbian", "ascent-projected", "retrain")
MARGIN = 0.05  # ascent stops at chance + MARGIN training accuracy
ENERGY = 0.99  # ascent-projected: the kept tasks' activity energy the protected subspace holds


def train(tasks, order: list[int], s: Settings, seed: int, device: str | None):
    """HLOP over the tasks in ``order``; (net, per layer the Hebbian rows each task added: {task: rows})."""
    import torch

    from neurosim.models.hlop import HebbianSubspace

    torch.manual_seed(seed)
    net = _net(tasks, s, seed, device)
    gen, hebb = torch.Generator().manual_seed(seed), torch.Generator().manual_seed(seed + 1)
    bases = [HebbianSubspace(layer.in_features, device=net.device, dtype=net.dtype) for layer in net.layers]
    rows: list[dict[int, torch.Tensor]] = [{} for _ in bases]
    for n, t in enumerate(order):
        x, y = (torch.as_tensor(a, device=net.device) for a in tasks.train(t))
        ids = torch.full((len(y),), t, dtype=torch.long, device=net.device)
        _fit(net, x, y, ids, s, gen, [b.projector for b in bases])
        rates = _activity(net, x, s.per_step)
        for i, basis in enumerate(bases):
            k = (s.k_first if n == 0 else s.k_next)[i]
            rows[i][t] = basis.learn(rates[i], k, epochs=s.hebbian_epochs, lr=s.hebbian_lr, generator=hebb)
    return net, rows


def _kept_projectors(rows, forgotten: int):
    """Per layer, the projector onto the span of the kept tasks' Hebbian rows (orthonormalised), or None."""
    import torch

    out = []
    for layer in rows:
        kept = [h for t, h in layer.items() if t != forgotten and h.shape[0]]
        if not kept:
            out.append(None)
            continue
        q = torch.linalg.qr(torch.cat(kept).T).Q
        out.append(q @ q.T)
    return out


def _activity_projectors(net, tasks, kept: list[int], s: Settings):
    """Per layer, the projector onto the top singular vectors of the kept tasks' presynaptic rates that hold
    ENERGY of their energy."""
    import torch

    rates = [_activity(net, torch.as_tensor(tasks.train(t)[0], device=net.device), s.per_step) for t in kept]
    out = []
    for layer in range(len(net.layers)):
        a = torch.cat([r[layer] for r in rates])
        _, sv, vt = torch.linalg.svd(a, full_matrices=False)
        share = torch.cumsum(sv**2, 0) / (sv**2).sum()
        k = int(torch.searchsorted(share, torch.tensor(ENERGY, dtype=share.dtype, device=share.device))) + 1
        out.append(vt[:k].T @ vt[:k])
    return out


def ascend(net, tasks, t: int, s: Settings, projectors, max_epochs: int, generator) -> int:
    """Gradient ascent on task ``t`` until its training accuracy is at chance + MARGIN; the updates used."""
    import torch

    x, y = (torch.as_tensor(a, device=net.device) for a in tasks.train(t))
    opt = torch.optim.SGD(net.parameters(), lr=s.lr)
    chance = 1.0 / tasks.n_classes
    steps = 0
    for _ in range(max_epochs):
        perm = torch.randperm(len(y), generator=generator).to(y.device)
        for i in range(0, len(y), s.batch):
            with torch.no_grad():
                logits, _ = net(x)
                if float((net.head(logits, t).argmax(dim=1) == y).float().mean()) <= chance + MARGIN:
                    return steps
            idx = perm[i:i + s.batch]
            opt.zero_grad()
            logits, _ = net(x[idx], projectors=projectors)
            (-torch.nn.functional.cross_entropy(net.head(logits, t), y[idx])).backward()
            opt.step()
            steps += 1
    return steps


def _relearned(net, tasks, t: int, s: Settings, seed: int) -> float:
    """Accuracy on task ``t`` after one epoch of plain training on it (the network is changed)."""
    import torch

    x, y = (torch.as_tensor(a, device=net.device) for a in tasks.train(t))
    ids = torch.full((len(y),), t, dtype=torch.long, device=net.device)
    _fit(net, x, y, ids, replace(s, epochs=1), torch.Generator().manual_seed(seed + 2))
    return _accuracy(net, tasks, t)


def run_methods(*, n_tasks: int, forget: int, s: Settings, seed: int, max_epochs: int, device: str | None = None
                ) -> dict[str, dict[str, np.ndarray]]:
    """Every method of METHODS; the ascents start from copies of one network trained on all tasks."""
    import copy

    import torch

    tasks = make_tasks("permuted", n_tasks, seed)
    all_tasks = list(range(n_tasks))
    trained, rows = train(tasks, all_tasks, s, seed, device)
    before = np.array([_accuracy(trained, tasks, t) for t in all_tasks])
    out = {}
    for method in METHODS:
        if method == "retrain":
            net, _ = train(tasks, [t for t in all_tasks if t != forget], s, seed, device)
            steps, was = 0, np.full(n_tasks, np.nan)
        else:
            net, was = copy.deepcopy(trained), before
            kept = [t for t in all_tasks if t != forget]
            projectors = {"ascent": None, "ascent-hebbian": _kept_projectors(rows, forget),
                          "ascent-projected": _activity_projectors(trained, tasks, kept, s)}[method]
            steps = ascend(net, tasks, forget, s, projectors, max_epochs, torch.Generator().manual_seed(seed + 3))
        after = np.array([_accuracy(net, tasks, t) for t in all_tasks])
        out[method] = {"accuracy_before": was, "accuracy_after": after, "updates": np.array([float(steps)]),
                       "relearned": np.array([_relearned(net, tasks, forget, s, seed)])}
    return out


# smaller than hlop-continual's network: the run trains it twice (all tasks, and all but the forgotten one)
QUICK = Settings(hidden=(256, 256), epochs=5, k_first=(40, 60, 60), k_next=(4, 20, 20), hebbian_epochs=60)


def run(*, backend: str = "torch", device: str | None = None, seed: int = 0,
        out: Path | str = "results/hlop-forget.h5", resume: bool = False, progress: bool = True,
        n_tasks: int = 4, forget: int = 0, max_epochs: int = 20, settings: Settings | None = None) -> Outcome:
    """Run the three methods (see the module docstring); ``settings`` as hlop-continual's (default
    :data:`QUICK`, a smaller network)."""
    eng = {**engine("hlop-forget", backend, device), "dtype": DTYPE}
    out = Path(out)
    s = settings or QUICK
    ck.count("n_tasks", n_tasks, minimum=2)
    if isinstance(forget, bool) or not isinstance(forget, (int, np.integer)) or not 0 <= forget < n_tasks:
        ck.fail("forget", forget, f"a task in [0, {n_tasks - 1}]")
    ck.count("max_epochs", max_epochs)
    config = {"experiment": "hlop-forget", "n_tasks": n_tasks, "forget": int(forget), "seed": seed,
              "max_epochs": max_epochs, "margin": MARGIN, "methods": list(METHODS),
              "settings": {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(s).items()}}
    with ResultsWriter(out, config=config, meta={**eng, "seed": seed}, resume=resume) as writer:
        if len(writer.finished_trials) < len(METHODS):  # one training serves every method: all run together
            start = time.perf_counter()
            results = run_methods(n_tasks=n_tasks, forget=int(forget), s=s, seed=seed, max_epochs=max_epochs,
                                  device=eng["device"])
            for i, method in enumerate(METHODS):
                if i not in writer.finished_trials:
                    r = results[method]
                    writer.write_trial(i, metrics={"accuracy_before": (r["accuracy_before"], ""),
                                                   "accuracy_after": (r["accuracy_after"], ""),
                                                   "updates": (r["updates"], "batches"),
                                                   "relearned": (r["relearned"], "")},
                                       attrs={"method": method})
            if progress:
                print(f"  trained, forgot and retrained in {time.perf_counter() - start:.1f} s")
    res = read_results(out)
    kept = [t for t in range(n_tasks) if t != forget]
    rows = []
    for i, method in enumerate(METHODS):
        m = {k: v[0] for k, v in res.trials[i].metrics.items()}
        b, a = m["accuracy_before"], m["accuracy_after"]
        rows.append([method, "-" if np.isnan(b[forget]) else round(100 * b[forget], 1), round(100 * a[forget], 1),
                     "-" if np.isnan(b[kept]).all() else round(100 * float(np.mean(b[kept])), 1),
                     round(100 * float(np.mean(a[kept])), 1), int(m["updates"][0]), round(100 * m["relearned"][0], 1)])
    figure = _figure(res, n_tasks, int(forget), out.with_name(f"{out.stem}_accuracy.png"))
    return Outcome(title=f"hlop-forget: spiking MLP {list(s.hidden)} trained by HLOP on {n_tasks} permuted-digit "
                         f"tasks, task {forget} forgotten, seed {seed}",
                   columns=["method", "forgotten task before %", "after %", "kept ACC before %", "after %",
                            "updates", "forgotten task after 1 relearning epoch %"],
                   rows=rows, files=[out, figure],
                   notes=[f"chance is {100 / 10:.0f}%; retrain never learned the forgotten task"])


def _figure(res, n_tasks: int, forget: int, path: Path) -> Path:
    from neurosim.plotting import COLORS, pyplot, save

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    width = 0.8 / (len(METHODS) + 1)
    x = np.arange(n_tasks)
    before = res.trials[0].metrics["accuracy_before"][0]
    ax.bar(x - 0.4 + width / 2, before, width, color="0.7", label="trained on all tasks (before)")
    for k, method in enumerate(METHODS):
        ax.bar(x - 0.4 + (k + 1.5) * width, res.trials[k].metrics["accuracy_after"][0], width, color=COLORS[k],
               label=method)
    ax.axhline(0.1, color="0.5", lw=0.8, ls="--")
    ax.set_xticks(x, [f"task {t}" + (" (forgotten)" if t == forget else "") for t in range(n_tasks)])
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1.3)
    ax.set_title("forgetting one task of a spiking MLP trained by HLOP")
    ax.legend(fontsize=8, loc="upper center", ncol=3)
    return save(fig, path)
