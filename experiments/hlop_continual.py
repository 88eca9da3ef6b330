"""Continual learning of a spiking MLP: HLOP against fine-tuning, EWC, SVD projection (GPM) and multitask training.

Scenarios (:mod:`neurosim.experiments.continual`):

- ``permuted``: permuted digits, ``n_tasks`` pixel permutations, one shared 10-way head;
- ``split``: split digits, 5 tasks of 2 classes, one 2-way head per task (the task is given).

Every method trains the same :class:`~neurosim.models.hlop.SpikingMLP` (same initial weights,
same data order, SGD with momentum, ``epochs`` passes per task, BPTT or online training):

- ``finetune``: plain sequential training;
- ``ewc``: elastic weight consolidation, penalty ``lambda/2 sum_k F_k (w_k - w*_k)^2`` with the
  diagonal Fisher information summed over past tasks (squared per-sample gradients of the log
  likelihood on ``fisher_samples`` training inputs) and w* the weights after the last task;
- ``gpm``: gradients projected off the span of the top singular vectors of each layer's recorded
  presynaptic activity (rates over the ``T`` steps), the residual after the old basis, ``k`` new
  vectors per task (the non-Hebbian reference, as in GPM);
- ``hlop``: the same projection, with the basis learned by Hebbian subspace neurons
  (:class:`~neurosim.models.hlop.HebbianSubspace`), ``k`` new neurons per layer and task trained
  on the residual, old ones frozen;
- ``multitask``: one network trained on all tasks at once (the upper bound; same number of
  passes over each task's data), with no accuracy matrix before the end.

The multi-head scenario never projects the output layer (each head learns only on its task).
``R[i, j]`` = test accuracy on task ``i`` after learning task ``j``; ACC and BWT from ``R``.
For HLOP, per layer and task, the median principal angle between the new Hebbian neurons and the
top singular vectors of the residual activity they learned from, and the fraction of the best
subspace's energy that their span captures (1 = the principal subspace), are recorded.

Everything trains in float32 (as published) on ``device`` ('cpu', 'cuda', 'cuda:<i>'; None: CUDA when
torch sees a GPU, else the CPU); the results' ``/meta`` records the backend, device and dtype.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from neurosim import _checks as ck
from neurosim.experiments import Outcome, engine
from neurosim.experiments.common import rng_for
from neurosim.experiments.continual import acc_bwt, accuracy_heatmap, forgetting_curves, permuted_digits, split_digits
from neurosim.io import ResultsWriter, read_results

METHODS = ("finetune", "ewc", "gpm", "hlop", "multitask")
SCENARIOS = ("permuted", "split")
DTYPE = "float32"  # the networks train in float32, as the published results did


@dataclass(frozen=True)
class Settings:
    """The network, training and subspace budget every method shares."""

    hidden: tuple[int, ...] = (1024, 1024)
    steps: int = 6
    epochs: int = 10
    batch: int = 32
    lr: float = 0.05
    momentum: float = 0.9
    training: str = "bptt"
    # subspace vectors per layer input for the first task, and for each later one: digits have 64 pixels,
    # so the input layer is protected almost whole after the first task (4 tasks of permuted digits, 512 hidden:
    # 24 + 4 per task forgot 4.0%, 60 + 4 per task 0.6%, by SVD); the hidden layers keep room for 10 tasks
    k_first: tuple[int, ...] = (60, 150, 150)
    k_next: tuple[int, ...] = (4, 50, 50)
    ewc_lambda: float = 1000.0
    fisher_samples: int = 200
    hebbian_epochs: int = 300
    hebbian_lr: float = 1.0
    per_step: bool = False  # subspaces of each step's presynaptic spikes instead of the firing rates

    def __post_init__(self) -> None:
        for h in self.hidden:
            ck.count("hidden", h)
        ck.count("steps", self.steps)
        ck.count("epochs", self.epochs)
        ck.count("batch", self.batch)
        ck.positive("lr", self.lr)
        ck.in_range("momentum", self.momentum, 0.0, 0.999)
        if self.training not in ("bptt", "online"):
            ck.fail("training", self.training, "'bptt' or 'online'")
        for name in ("k_first", "k_next"):
            ks = getattr(self, name)
            if len(ks) != len(self.hidden) + 1:
                ck.fail(name, ks, f"{len(self.hidden) + 1} integers (one per layer input)")
            for k in ks:
                ck.count(name, k, minimum=0)
        ck.non_negative("ewc_lambda", self.ewc_lambda)
        ck.count("fisher_samples", self.fisher_samples)
        ck.count("hebbian_epochs", self.hebbian_epochs)
        ck.positive("hebbian_lr", self.hebbian_lr)


def make_tasks(scenario: str, n_tasks: int, seed: int):
    if scenario == "permuted":
        return permuted_digits(n_tasks, rng_for(seed, 0))
    if scenario == "split":
        return split_digits(rng_for(seed, 0))
    ck.fail("scenario", scenario, f"one of {SCENARIOS}")
    raise AssertionError  # unreachable


def _net(tasks, s: Settings, seed: int, device: str | None):
    from neurosim.models.hlop import SpikingMLP

    return SpikingMLP(64, s.hidden, tasks.n_classes, steps=s.steps, heads=tasks.heads, seed=seed, device=device,
                      dtype=DTYPE)


def _head_logits(net, logits, task_ids):
    """Each sample's own task head (multi-head), or the shared head."""
    import torch

    if net.heads == 1:
        return logits
    rows = torch.arange(logits.shape[0], device=logits.device)
    return logits.view(logits.shape[0], net.heads, net.n_out)[rows, task_ids]


def _fit(net, x, y, task_ids, s: Settings, order, projectors=None, penalty=None) -> float:
    """``epochs`` passes of SGD over (x, y); the mean loss of the last pass."""
    import torch

    opt = torch.optim.SGD(net.parameters(), lr=s.lr, momentum=s.momentum)
    ce = torch.nn.functional.cross_entropy
    last = 0.0
    for _ in range(s.epochs):
        perm = torch.randperm(len(y), generator=order).to(y.device)
        total = 0.0
        for i in range(0, len(y), s.batch):
            idx = perm[i:i + s.batch]
            opt.zero_grad()
            if s.training == "bptt":
                logits, _ = net(x[idx], projectors=projectors)
                loss = ce(_head_logits(net, logits, task_ids[idx]), y[idx])
                if penalty is not None:
                    loss = loss + penalty()
                loss.backward()
            else:
                loss = net.online_step_losses(x[idx], lambda o, idx=idx: ce(_head_logits(net, o, task_ids[idx]),
                                                                           y[idx]), projectors=projectors)
                if penalty is not None:
                    penalty().backward()
            opt.step()
            total += loss.item() * len(idx)
        last = total / len(y)
    return last


def _accuracy(net, tasks, t: int) -> float:
    import torch

    x, y = (torch.as_tensor(a, device=net.device) for a in tasks.test(t))
    with torch.no_grad():
        logits, _ = net(x)
    return float((net.head(logits, t).argmax(dim=1) == y).float().mean())


def _activity(net, x, per_step: bool) -> list:
    """Each layer's presynaptic activity on ``x``: firing rates (samples, dim), or with ``per_step`` the input
    of every time step as its own sample (steps x samples, dim)."""
    import torch

    with torch.no_grad():
        _, inputs = net(x, record=True)
    return [a.reshape(-1, a.shape[-1]) if per_step else a.mean(dim=0) for a in inputs]


def _fisher(net, x, y, task: int, n: int, generator):
    """Diagonal empirical Fisher information: mean squared per-sample gradient of the log likelihood."""
    import torch

    fisher = [torch.zeros_like(p) for p in net.parameters()]
    pick = torch.randperm(len(y), generator=generator)[:n]
    for i in pick:
        net.zero_grad()
        logits, _ = net(x[i:i + 1])
        torch.nn.functional.cross_entropy(net.head(logits, task), y[i:i + 1]).backward()
        for f, p in zip(fisher, net.parameters(), strict=True):
            f += p.grad.detach() ** 2 / len(pick)
    net.zero_grad()
    return fisher


def sequential(method: str, scenario: str, *, n_tasks: int, s: Settings, seed: int, device: str | None = None
               ) -> dict[str, np.ndarray]:
    """Train the tasks in order with one method on ``device`` (None: the CPU);
    the accuracy matrix and, for the projection methods, the protected dimensions per layer after each task
    (and HLOP's principal angles)."""
    import torch

    from neurosim.models.hlop import HebbianSubspace, captured_energy, principal_angles

    tasks = make_tasks(scenario, n_tasks, seed)
    T = tasks.n_tasks
    torch.manual_seed(seed)
    net = _net(tasks, s, seed, device)
    order = torch.Generator().manual_seed(seed)
    hebb = torch.Generator().manual_seed(seed + 1)
    n_layers = len(net.layers)
    projected = n_layers if tasks.heads == 1 else n_layers - 1
    bases = [HebbianSubspace(layer.in_features, device=net.device, dtype=net.dtype) for layer in net.layers[:projected]]
    r = np.full((T, T), np.nan)  # R[i, j] for i <= j only: later tasks are not yet learned
    dims = np.zeros((T, projected))
    angles = np.full((T, projected), np.nan)
    energy = np.full((T, projected), np.nan)
    fisher_sum, anchor = None, None
    for t in range(T):
        x, y = (torch.as_tensor(a, device=net.device) for a in tasks.train(t))
        ids = torch.full((len(y),), t, dtype=torch.long, device=net.device)
        projectors = [b.projector for b in bases] + [None] * (n_layers - projected) \
            if method in ("gpm", "hlop") else None
        penalty = None
        if method == "ewc" and fisher_sum is not None:
            def penalty(f=fisher_sum, w=anchor):
                return 0.5 * s.ewc_lambda * sum((fi * (p - wi) ** 2).sum()
                                                for fi, p, wi in zip(f, net.parameters(), w, strict=True))
        _fit(net, x, y, ids, s, order, projectors, penalty)
        if method == "ewc":
            f = _fisher(net, x, y, t, s.fisher_samples, order)
            fisher_sum = f if fisher_sum is None else [a + b for a, b in zip(fisher_sum, f, strict=True)]
            anchor = [p.detach().clone() for p in net.parameters()]
        if method in ("gpm", "hlop") and t < T - 1:
            rates = _activity(net, x, s.per_step)
            for i, basis in enumerate(bases):
                k = (s.k_first if t == 0 else s.k_next)[i]
                residual = rates[i] - (rates[i] @ basis.projector if basis.h.shape[0] else 0.0)
                if method == "hlop":
                    new = basis.learn(rates[i], k, epochs=s.hebbian_epochs, lr=s.hebbian_lr, generator=hebb)
                    if new.shape[0]:
                        angles[t, i] = float(np.degrees(np.median(principal_angles(new, residual))))
                        energy[t, i] = captured_energy(new, residual)
                else:
                    k = min(k, basis.dim - basis.h.shape[0])
                    _, _, vt = torch.linalg.svd(residual, full_matrices=False)
                    basis.h = torch.cat([basis.h, vt[:k]])
                dims[t, i] = basis.h.shape[0]
        for i in range(t + 1):
            r[i, t] = _accuracy(net, tasks, i)
    return {"accuracy": r, "subspace_dims": dims, "hebbian_angle_deg": angles, "hebbian_energy": energy}


def multitask(scenario: str, *, n_tasks: int, s: Settings, seed: int, device: str | None = None
              ) -> dict[str, np.ndarray]:
    """All tasks at once (``epochs`` passes over the union) on ``device`` (as :func:`sequential`); the last
    column of R holds the accuracies."""
    import torch

    tasks = make_tasks(scenario, n_tasks, seed)
    T = tasks.n_tasks
    torch.manual_seed(seed)
    net = _net(tasks, s, seed, device)
    parts = [tasks.train(t) for t in range(T)]
    x = torch.as_tensor(np.concatenate([p[0] for p in parts]), device=net.device)
    y = torch.as_tensor(np.concatenate([p[1] for p in parts]), device=net.device)
    ids = torch.as_tensor(np.concatenate([np.full(len(p[1]), t) for t, p in enumerate(parts)]), device=net.device)
    _fit(net, x, y, ids, s, torch.Generator().manual_seed(seed))
    r = np.full((T, T), np.nan)
    r[:, -1] = [_accuracy(net, tasks, i) for i in range(T)]
    return {"accuracy": r, "subspace_dims": np.zeros((T, 0)), "hebbian_angle_deg": np.zeros((T, 0)),
            "hebbian_energy": np.zeros((T, 0))}


def run(*, backend: str = "torch", device: str | None = None, seed: int = 0,
        out: Path | str = "results/hlop-continual.h5", resume: bool = False, progress: bool = True,
        n_tasks: int = 10, scenarios: tuple[str, ...] = SCENARIOS, methods: tuple[str, ...] = METHODS,
        settings: Settings | None = None) -> Outcome:
    eng = {**engine("hlop-continual", backend, device), "dtype": DTYPE}
    out = Path(out)
    s = settings or Settings()
    ck.count("n_tasks", n_tasks, minimum=2)
    for sc in scenarios:
        if sc not in SCENARIOS:
            ck.fail("scenarios", sc, f"names from {SCENARIOS}")
    for m in methods:
        if m not in METHODS:
            ck.fail("methods", m, f"names from {METHODS}")
    runs = [(sc, m) for sc in scenarios for m in methods]
    config = {"experiment": "hlop-continual", "n_tasks": n_tasks, "seed": seed, "runs": [list(r) for r in runs],
              "settings": {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(s).items()}}
    with ResultsWriter(out, config=config, meta={**eng, "seed": seed}, resume=resume) as writer:
        todo = [i for i in range(len(runs)) if i not in writer.finished_trials]
        for i in tqdm(todo, desc="HLOP runs", disable=not progress):
            sc, m = runs[i]
            start = time.perf_counter()
            res = (multitask(sc, n_tasks=n_tasks, s=s, seed=seed, device=eng["device"]) if m == "multitask"
                   else sequential(m, sc, n_tasks=n_tasks, s=s, seed=seed, device=eng["device"]))
            r = res["accuracy"]
            acc = float(np.mean(r[:, -1]))
            bwt = acc_bwt(r)[1] if m != "multitask" else float("nan")
            writer.write_trial(i, metrics={"accuracy": (r, ""), "subspace_dims": (res["subspace_dims"], "dimensions"),
                                           "hebbian_angle_deg": (res["hebbian_angle_deg"], "degrees"),
                                           "hebbian_energy": (res["hebbian_energy"], "")},
                               attrs={"scenario": sc, "method": m, "acc": acc, "bwt": bwt,
                                      "seconds": time.perf_counter() - start})
    res = read_results(out)
    trials = [res.trials[i] for i in range(len(runs))]
    rows, files = [], [out]
    for sc in scenarios:
        mine = [tr for tr in trials if tr.attrs["scenario"] == sc]
        top = max((tr.attrs["acc"] for tr in mine if tr.attrs["method"] == "multitask"), default=float("nan"))
        for tr in mine:
            ang = tr.metrics["hebbian_energy"][0]
            rows.append([sc, tr.attrs["method"], round(100 * tr.attrs["acc"], 1),
                         "-" if np.isnan(tr.attrs["bwt"]) else round(100 * tr.attrs["bwt"], 1),
                         "-" if np.isnan(top) else round(100 * (tr.attrs["acc"] - top), 1),
                         round(float(np.nanmin(ang)), 3) if ang.size and np.isfinite(ang).any() else "-",
                         round(tr.attrs["seconds"], 1)])
        seq = {tr.attrs["method"]: tr.metrics["accuracy"][0] for tr in mine if tr.attrs["method"] != "multitask"}
        if seq:
            files.append(accuracy_heatmap(seq, out.with_name(f"{out.stem}_{sc}_matrix.png"),
                                          title=f"spiking MLP, {sc} digits: accuracy on task i after learning task j"))
            chance = 1.0 / make_tasks(sc, 2, 0).n_classes
            files.append(forgetting_curves(seq, out.with_name(f"{out.stem}_{sc}_curves.png"), reference=top,
                                           reference_label="multitask (end)", chance=chance,
                                           title=f"spiking MLP on {sc} digits: forgetting by method"))
    return Outcome(title=f"hlop-continual: spiking MLP {list(s.hidden)}, T = {s.steps}, {s.training}, {s.epochs} "
                         f"epochs per task, seed {seed}",
                   columns=["scenario", "method", "ACC %", "BWT %", "ACC - multitask", "Hebbian energy (min)",
                            "seconds"], rows=rows, files=files)


def run_online(*, backend: str = "torch", device: str | None = None, seed: int = 0,
               out: Path | str = "results/hlop-continual-online.h5", resume: bool = False, progress: bool = True,
               n_tasks: int = 10, settings: Settings | None = None) -> Outcome:
    """The same benchmark with online (trace-based, no backpropagation through time) training: permuted
    digits, fine-tuning vs HLOP, on ``device`` (as :func:`run`). ``settings`` (default: :class:`Settings`'
    defaults) is trained online whatever its ``training``."""
    engine("hlop-continual-online", backend, device)
    s = replace(settings or Settings(), training="online")
    return run(backend=backend, device=device, seed=seed, out=out, resume=resume, progress=progress,
               n_tasks=n_tasks, scenarios=("permuted",), methods=("finetune", "hlop"), settings=s)
