r"""Forgetting a task of the active-dendrites network, and what the other tasks keep.

The tasks and the network are those of :mod:`neurosim.experiments.dendrites_continual` (method
``active-dendrites``, smaller by default since the run trains it twice): permuted digits, one dendritic
segment per task, 5% k-WTA, 50% weight sparsity, float32. The network learns ``n_tasks`` tasks in order,
``epochs`` passes each with a fresh Adam optimizer per task at ``LRS["active-dendrites"]``; task ``t``'s
context is its prototype :math:`c_t` (mean training input), stored in training; at test time an input takes
the nearest stored prototype (the task is inferred). Then task ``forget`` (:math:`f`) is forgotten, and every
method starts from copies of that same trained network and prototype store:

- ``ascent``: gradient ascent on the task's cross-entropy with its own context,
  :math:`\theta \leftarrow \theta + \eta \nabla_\theta \mathrm{CE}(\mathrm{net}(x, c_f), y)` (plain SGD,
  :data:`ASCENT_LRS`), one batch at a time, until its training accuracy with :math:`c_f` is at chance
  (``1 / classes + MARGIN``) or after ``max_epochs`` passes;
- ``ascent-segments``: the same, updating only the dendritic segments :math:`u_{ij}` (the feedforward
  weights and the head are frozen). The gate :math:`\sigma(u_{ij^*} \cdot c)` routes a task to its
  subnetwork; unlearning the gating alone should spare the kept tasks' feedforward weights;
- ``prototype``: :math:`c_f` is dropped from the prototype store; the weights are untouched. Task inference
  then sends the task's inputs to the nearest kept task's context: the task is hidden, not erased;
- ``retrain``: a fresh network (same seed, same size) trained on the kept tasks only (the reference every
  method is measured against: what never learning the task gives).

Measured for each: test accuracy on every task before and after, with the context inferred among the stored
prototypes (as dendrites-continual measures it), and the share of each task's inputs inferred as that task;
the forgotten task's accuracy with its own prototype as context (the residue in the weights, whatever the
store holds); the kept tasks' mean (ACC kept); the updates used; and relearning: the forgotten task's accuracy
after one epoch of plain training on it, its prototype stored again where it was dropped or never stored (as
learning a new task stores one; ``retrain`` has never seen it). One HDF5 trial per method; a figure and a
summary table.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from neurosim import _checks as ck
from neurosim.experiments import Outcome, engine
from neurosim.experiments.common import rng_for
from neurosim.experiments.continual import permuted_digits
from neurosim.experiments.dendrites_continual import DTYPE, LRS, make_network
from neurosim.io import ResultsWriter, read_results

METHODS = ("ascent", "ascent-segments", "prototype", "retrain")
MARGIN = 0.05  # ascent stops at chance + MARGIN training accuracy
BATCH = 64  # dendrites-continual's batch size, for training and ascent
LR = LRS["active-dendrites"]  # Adam, training and relearning
# plain SGD, each ascent at its own rate (seed 0, the defaults, 20 epochs = 400 updates at most). ascent: 0.1
# reaches chance in 6 updates; 0.3 or more overshoots and costs the kept tasks more. ascent-segments: at 0.1 the
# task only falls to 68%, at 1.0 (and 3.0) to 18%, where the gates saturate; the kept tasks keep 83% throughout
ASCENT_LRS = {"ascent": 0.1, "ascent-segments": 1.0}


def _fit(net, x, y, context, epochs: int, generator) -> None:
    """``epochs`` passes of dendrites-continual's training (fresh Adam, batches in ``generator``'s order)."""
    import torch

    opt = torch.optim.Adam(net.parameters(), lr=LR)
    net.train()
    for _ in range(epochs):
        perm = torch.randperm(len(y), generator=generator).to(net.device)
        for i in range(0, len(y), BATCH):
            idx = perm[i:i + BATCH]
            loss = torch.nn.functional.cross_entropy(net(x[idx], context.expand(len(idx), -1)), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    net.eval()


def train(tasks, order: list[int], n_tasks: int, hidden: tuple[int, ...], epochs: int, seed: int,
          device: str | None):
    """The tasks of ``order`` learned in turn, as dendrites-continual's ``train_sequence`` does (same seeds,
    same steps); (net, prototypes): ``prototypes.means[i]`` is task ``order[i]``'s."""
    import torch

    from neurosim.models.dendritic_network import Prototypes

    torch.manual_seed(seed)
    net = make_network("active-dendrites", n_tasks, hidden, seed, device)
    protos = Prototypes(device=net.device, dtype=net.dtype)
    gen = torch.Generator().manual_seed(seed)
    for t in order:
        x, y = (torch.as_tensor(a, device=net.device) for a in tasks.train(t))
        _fit(net, x, y, protos.means[protos.add(x)], epochs, gen)
    return net, protos


def _store(means: list, device: str, dtype: str):
    """A prototype store holding ``means`` in that order."""
    from neurosim.models.dendritic_network import Prototypes

    protos = Prototypes(device=device, dtype=dtype)
    for m in means:
        protos.add(m[None])  # the mean of one row is that row
    return protos


def evaluate(net, tasks, protos, ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Per task: test accuracy with the context inferred among ``protos`` (``ids[i]`` the task of the i-th),
    and the share of its test inputs inferred as itself."""
    import torch

    acc, inferred = np.zeros(tasks.n_tasks), np.zeros(tasks.n_tasks)
    owner = torch.as_tensor(ids, device=net.device)
    net.eval()
    with torch.no_grad():
        for t in range(tasks.n_tasks):
            x, y = (torch.as_tensor(a, device=net.device) for a in tasks.test(t))
            context, guess = protos.infer(x)
            acc[t] = float((net(x, context).argmax(dim=1) == y).float().mean())
            inferred[t] = float((owner[guess] == t).float().mean())
    return acc, inferred


def _own(net, x, y, context) -> float:
    """Accuracy on (x, y) with ``context`` given, not inferred."""
    import torch

    net.eval()
    with torch.no_grad():
        return float((net(x, context.expand(len(y), -1)).argmax(dim=1) == y).float().mean())


def ascend(net, x, y, context, params, lr: float, max_epochs: int, generator, n_classes: int = 10) -> int:
    """Gradient ascent on (x, y) with ``context``, SGD on ``params`` only, until the accuracy on (x, y) is at
    chance + MARGIN; the updates used."""
    import torch

    opt = torch.optim.SGD(params, lr=lr)
    steps = 0
    for _ in range(max_epochs):
        perm = torch.randperm(len(y), generator=generator).to(y.device)
        for i in range(0, len(y), BATCH):
            if _own(net, x, y, context) <= 1.0 / n_classes + MARGIN:
                return steps
            idx = perm[i:i + BATCH]
            net.zero_grad()
            (-torch.nn.functional.cross_entropy(net(x[idx], context.expand(len(idx), -1)), y[idx])).backward()
            opt.step()
            steps += 1
    return steps


def forget_with(method: str, trained, protos, tasks, forget: int, *, max_epochs: int, seed: int):
    """``method`` (not ``retrain``) applied to copies of ``trained`` and ``protos`` (task t's prototype the
    t-th); (net, store, the store's task of each prototype, updates)."""
    import copy

    import torch

    net, ids = copy.deepcopy(trained), list(range(len(protos.means)))
    if method == "prototype":
        ids.remove(forget)
        return net, _store([protos.means[t] for t in ids], net.device, net.dtype), ids, 0
    params = {"ascent": net.parameters, "ascent-segments": net.segments.parameters}[method]()
    x, y = (torch.as_tensor(a, device=net.device) for a in tasks.train(forget))
    steps = ascend(net, x, y, protos.means[forget], params, ASCENT_LRS[method], max_epochs,
                   torch.Generator().manual_seed(seed + 3), tasks.n_classes)
    return net, _store(protos.means, net.device, net.dtype), ids, steps


def run_methods(*, n_tasks: int, forget: int, hidden: tuple[int, ...], epochs: int, seed: int, max_epochs: int,
                device: str | None = None) -> dict[str, dict[str, np.ndarray]]:
    """Every method of METHODS; all but ``retrain`` start from copies of one network trained on all tasks."""
    import torch

    tasks = permuted_digits(n_tasks, rng_for(seed, 0))
    all_tasks = list(range(n_tasks))
    kept = [t for t in all_tasks if t != forget]
    trained, protos = train(tasks, all_tasks, n_tasks, hidden, epochs, seed, device)
    own = protos.means[forget]  # the forgotten task's prototype, whatever a network has stored
    x, y = (torch.as_tensor(a, device=trained.device) for a in tasks.train(forget))
    xt, yt = (torch.as_tensor(a, device=trained.device) for a in tasks.test(forget))
    before, _ = evaluate(trained, tasks, protos, all_tasks)
    own_before = _own(trained, xt, yt, own)
    out = {}
    for method in METHODS:
        if method == "retrain":
            net, store = train(tasks, kept, n_tasks, hidden, epochs, seed, device)
            ids, steps, was, was_own = kept, 0, np.full(n_tasks, np.nan), np.nan
        else:
            net, store, ids, steps = forget_with(method, trained, protos, tasks, forget, max_epochs=max_epochs,
                                                 seed=seed)
            was, was_own = before, own_before
        after, inferred = evaluate(net, tasks, store, ids)
        own_after = _own(net, xt, yt, own)
        if forget not in ids:  # relearning stores the task's prototype, as learning a new task does
            store.add(own[None])
            ids = [*ids, forget]
        _fit(net, x, y, own, 1, torch.Generator().manual_seed(seed + 2))
        out[method] = {"accuracy_before": was, "accuracy_after": after, "task_inferred_after": inferred,
                       "own_context_before": np.array([was_own]), "own_context_after": np.array([own_after]),
                       "updates": np.array([float(steps)]),
                       "relearned": np.array([evaluate(net, tasks, store, ids)[0][forget]])}
    return out


def run(*, backend: str = "torch", device: str | None = None, seed: int = 0,
        out: Path | str = "results/dendrites-forget.h5", resume: bool = False, progress: bool = True,
        n_tasks: int = 4, forget: int = 0, max_epochs: int = 20, hidden: tuple[int, ...] = (256, 256),
        epochs: int = 10) -> Outcome:
    """Run the four methods (see the module docstring)."""
    eng = {**engine("dendrites-forget", backend, device), "dtype": DTYPE}
    out = Path(out)
    ck.count("n_tasks", n_tasks, minimum=2)
    if isinstance(forget, bool) or not isinstance(forget, (int, np.integer)) or not 0 <= forget < n_tasks:
        ck.fail("forget", forget, f"a task in [0, {n_tasks - 1}]")
    ck.count("max_epochs", max_epochs)
    ck.count("epochs", epochs)
    if not hidden:
        ck.fail("hidden", hidden, "at least one hidden layer size")
    for h in hidden:
        ck.count("hidden", h)
    hidden = tuple(int(h) for h in hidden)
    config = {"experiment": "dendrites-forget", "n_tasks": n_tasks, "forget": int(forget), "seed": seed,
              "max_epochs": max_epochs, "margin": MARGIN, "methods": list(METHODS), "hidden": list(hidden),
              "epochs": epochs, "batch": BATCH, "lr": LR, "ascent_lrs": ASCENT_LRS}
    with ResultsWriter(out, config=config, meta={**eng, "seed": seed}, resume=resume) as writer:
        if len(writer.finished_trials) < len(METHODS):  # one training serves every method: all run together
            start = time.perf_counter()
            results = run_methods(n_tasks=n_tasks, forget=int(forget), hidden=hidden, epochs=epochs, seed=seed,
                                  max_epochs=max_epochs, device=eng["device"])
            for i, method in enumerate(METHODS):
                if i not in writer.finished_trials:
                    r = results[method]
                    writer.write_trial(i, metrics={**{k: (v, "") for k, v in r.items()},
                                                   "updates": (r["updates"], "batches")},
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
                     round(100 * m["own_context_after"][0], 1),
                     "-" if np.isnan(b[kept]).all() else round(100 * float(np.mean(b[kept])), 1),
                     round(100 * float(np.mean(a[kept])), 1), int(m["updates"][0]), round(100 * m["relearned"][0], 1)])
    figure = _figure(res, n_tasks, int(forget), out.with_name(f"{out.stem}_accuracy.png"))
    return Outcome(title=f"dendrites-forget: active-dendrites network {list(hidden)} on {n_tasks} permuted-digit "
                         f"tasks ({epochs} epochs each), task {forget} forgotten, seed {seed}",
                   columns=["method", "forgotten task before %", "after %",
                            "forgotten task with its own context after %", "kept ACC before %", "after %",
                            "updates", "forgotten task after 1 relearning epoch %"],
                   rows=rows, files=[out, figure],
                   notes=[f"chance is {100 / 10:.0f}%; the context is inferred from the stored prototypes except "
                          "in the own-context column; retrain never learned the forgotten task"])


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
    ax.set_ylabel("test accuracy (context inferred)")
    ax.set_ylim(0, 1.3)
    ax.set_title("forgetting one task of the active-dendrites network")
    ax.legend(fontsize=8, loc="upper center", ncol=3)
    return save(fig, path)
