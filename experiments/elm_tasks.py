"""ELM, Branch-ELM, an LSTM and a LIF network on generated long-horizon spike tasks: accuracy vs horizon.

Tasks (:mod:`neurosim.experiments.spike_tasks`, 100 channels, digits of 250 ms):

- ``adding``: two spike digits in sequence, label = their sum (19 classes; chance 1/19),
  binned at ``bins_ms`` (quick: 10 and 2 ms; ``full``: 10, 5, 2, 1 ms): the horizon is
  500 ms / bin (50 steps at 10 ms .. 500 at 1 ms);
- ``recall``: a cue digit, ``delays_ms`` of distractor spikes (quick: 100 and 500 ms; ``full``:
  100, 500, 1000, 2000 ms), answer = the cue (chance 1/10); at 2 ms bins the horizon is
  (250 + delay) / 2 steps (175 .. 1125).

Models, each classifying from its output at the last step:

- ``elm``: :class:`~neurosim.models.elm.ELM`, d_m = 20 (about 6,000 parameters);
- ``branch-elm``: Branch-ELM, 20 branches of 5 channels, d_m = 20 (about 3,000);
- ``lstm``: one LSTM layer of 100 units and a linear readout (about 80,000: more than 10x);
- ``lif``: norse's recurrent LIF layer of 40 units (tau_mem 10 ms, tau_syn 5 ms at 1 ms per step)
  and a linear readout of its leaky-integrated spikes (about 6,000).

Each model trains with Adam (lr ``lr``, 3e-3) for ``epochs`` (30) passes over ``n_train`` trials
(1500; ``full``: 3000), batch 64,
and is tested on ``n_test`` fresh trials. One resumable trial per (task, horizon, model).

Everything trains in float32 (as published) on ``device`` ('cpu', 'cuda', 'cuda:<i>'; None: CUDA when
torch sees a GPU, else the CPU); the results' ``/meta`` records the backend, device and dtype.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from neurosim import _checks as ck
from neurosim.experiments import Outcome, engine
from neurosim.experiments.common import rng_for
from neurosim.io import ResultsWriter, read_results
from neurosim.plotting import COLORS, pyplot, save

MODELS = ("elm", "branch-elm", "lstm", "lif")
N_CHANNELS = 100
DTYPE = "float32"  # every model trains in float32, as the published results did


def make_model(name: str, n_out: int, seed: int, device: str | None = None):
    """Model ``name`` with ``n_out`` outputs, initialised from ``seed`` on the CPU and placed on ``device``
    (None: the CPU)."""
    import torch
    from torch import nn

    from neurosim.backends.devices import placement
    from neurosim.models.elm import ELM

    device, _ = placement(device, DTYPE)
    torch.manual_seed(seed)
    if name == "elm":
        return ELM(N_CHANNELS, n_out, d_m=20, device=device, dtype=DTYPE)
    if name == "branch-elm":
        return ELM(N_CHANNELS, n_out, d_m=20, n_branch=20, device=device, dtype=DTYPE)
    if name == "lstm":
        class LSTM(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.lstm = nn.LSTM(N_CHANNELS, 100, batch_first=True)
                self.out = nn.Linear(100, n_out)

            def forward(self, x):
                return self.out(self.lstm(x)[0])

        return LSTM().to(device)
    if name == "lif":
        import norse.torch as nt

        class LIF(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.lif = nt.LIFRecurrent(N_CHANNELS, 40)
                self.out = nn.Linear(40, n_out)

            def forward(self, x):
                z, _ = self.lif(x.transpose(0, 1) * 3.0)  # norse wants (time, batch, channels)
                trace, decay, out = torch.zeros_like(z[0]), float(np.exp(-1.0 / 20.0)), []
                for zt in z:  # a leaky-integrated readout of the spikes (tau 20 ms)
                    trace = decay * trace + zt
                    out.append(trace)
                return self.out(torch.stack(out, dim=1))

        return LIF().to(device)
    ck.fail("model", name, f"one of {MODELS}")
    raise AssertionError  # unreachable


def train_and_test(model, data: tuple, *, epochs: int, lr: float, seed: int) -> dict[str, float]:
    """Train ``model`` on ``data`` = ((x_train, y_train), (x_test, y_test)) from its last step's output, on the
    model's device."""
    import torch

    device = next(model.parameters()).device
    (x_tr, y_tr), (x_te, y_te) = ((torch.as_tensor(a, device=device), torch.as_tensor(b, device=device))
                                  for a, b in data)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    order = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(len(y_tr), generator=order).to(device)
        for i in range(0, len(y_tr), 64):
            idx = perm[i:i + 64]
            loss = torch.nn.functional.cross_entropy(model(x_tr[idx])[:, -1], y_tr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        acc = float((model(x_te)[:, -1].argmax(dim=1) == y_te).float().mean())
        train_acc = float((model(x_tr[:500])[:, -1].argmax(dim=1) == y_tr[:500]).float().mean())
    return {"accuracy": acc, "train_accuracy": train_acc, "seconds": seconds,
            "parameters": float(sum(p.numel() for p in model.parameters() if p.requires_grad))}


def conditions(bins_ms: tuple[float, ...], delays_ms: tuple[float, ...], recall_bin_ms: float) -> list[tuple]:
    return [("adding", b, 0.0) for b in bins_ms] + [("recall", recall_bin_ms, d) for d in delays_ms]


def run(*, backend: str = "torch", device: str | None = None, seed: int = 0, out: Path | str = "results/elm-tasks.h5",
        resume: bool = False, progress: bool = True, full: bool = False, models: tuple[str, ...] = MODELS,
        bins_ms: tuple[float, ...] | None = None, delays_ms: tuple[float, ...] | None = None,
        recall_bin_ms: float = 2.0, n_train: int | None = None, n_test: int = 500, epochs: int | None = None,
        lr: float = 3e-3) -> Outcome:
    from neurosim.experiments import spike_tasks as st

    eng = {**engine("elm-tasks", backend, device), "dtype": DTYPE}
    out = Path(out)
    bins_ms = bins_ms or ((10.0, 5.0, 2.0, 1.0) if full else (10.0, 2.0))
    delays_ms = delays_ms or ((100.0, 500.0, 1000.0, 2000.0) if full else (100.0, 500.0))
    n_train = n_train or (3000 if full else 1500)
    epochs = epochs or 30
    for m in models:
        if m not in MODELS:
            ck.fail("models", m, f"names from {MODELS}")
    for b in bins_ms:
        ck.positive("bins_ms", b, "ms")
    ck.count("n_train", n_train)
    ck.count("n_test", n_test)
    ck.count("epochs", epochs)
    ck.positive("lr", lr)
    conds = conditions(tuple(bins_ms), tuple(delays_ms), recall_bin_ms)
    runs = [(c, m) for c in conds for m in models]
    config = {"experiment": "elm-tasks", "seed": seed, "conditions": [list(c) for c in conds], "models": list(models),
              "n_train": n_train, "n_test": n_test, "epochs": epochs, "lr": lr, "full": full}
    digits = st.spike_digits(rng_for(seed, 0), n_channels=N_CHANNELS)
    with ResultsWriter(out, config=config, meta={**eng, "seed": seed}, resume=resume) as writer:
        todo = [i for i in range(len(runs)) if i not in writer.finished_trials]
        for i in tqdm(todo, desc="ELM task runs", disable=not progress):
            (task, bin_ms, delay), name = runs[i]
            k = conds.index((task, bin_ms, delay))
            rng_tr, rng_te = rng_for(seed, 1, k, 0), rng_for(seed, 1, k, 1)
            if task == "adding":
                data = (st.adding(digits, n_train, bin_ms, rng_tr), st.adding(digits, n_test, bin_ms, rng_te))
                n_out = 19
            else:
                data = (st.delayed_recall(digits, n_train, delay, bin_ms, rng_tr),
                        st.delayed_recall(digits, n_test, delay, bin_ms, rng_te))
                n_out = 10
            res = train_and_test(make_model(name, n_out, seed, eng["device"]), data, epochs=epochs, lr=lr, seed=seed)
            steps = data[0][0].shape[1]
            metrics = {k2: (np.array([v]), "s" if k2 == "seconds" else "") for k2, v in res.items()}
            writer.write_trial(i, metrics=metrics,
                               attrs={"task": task, "bin_ms": bin_ms, "delay_ms": delay, "model": name,
                                      "steps": steps})
    results = read_results(out)
    trials = [results.trials[i] for i in range(len(runs))]
    rows = [[t.attrs["task"], t.attrs["bin_ms"], t.attrs["delay_ms"], t.attrs["steps"], t.attrs["model"],
             int(t.metrics["parameters"][0][0]), round(100 * float(t.metrics["accuracy"][0][0]), 1),
             round(100 * float(t.metrics["train_accuracy"][0][0]), 1), round(float(t.metrics["seconds"][0][0]), 1)]
            for t in trials]
    png = plot(rows, models, out.with_name(f"{out.stem}_accuracy.png"))
    return Outcome(title=f"elm-tasks: accuracy vs horizon ({n_train} training trials, {epochs} epochs, seed {seed})",
                   columns=["task", "bin ms", "delay ms", "steps", "model", "parameters", "test %", "train %",
                            "seconds"], rows=rows, files=[out, png])


def plot(rows: list[list], models: tuple[str, ...], path: Path) -> Path:
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, task, chance in ((axes[0], "adding", 1 / 19), (axes[1], "recall", 1 / 10)):
        for k, m in enumerate(models):
            pts = sorted((r[3], r[6]) for r in rows if r[0] == task and r[4] == m)
            if pts:
                ax.plot(*zip(*pts, strict=True), "o-", color=COLORS[k], label=m)
        ax.axhline(100 * chance, color="0.6", ls=":", lw=1, label="chance")
        ax.set_xscale("log")
        ax.set_xlabel("horizon (time steps)")
        ax.set_ylabel("test accuracy (%)")
        ax.set_ylim(0, 101)
        ax.grid(alpha=0.3)
        ax.set_title("spike-digit adding (finer bins ->)" if task == "adding" else "delayed recall (longer delay ->)",
                     fontsize=10)
    axes[0].legend(fontsize=8)
    return save(fig, path)


def run_sweeps(*, backend: str = "torch", device: str | None = None, seed: int = 0,
               out: Path | str = "results/elm-sweeps.h5", resume: bool = False, progress: bool = True,
               bin_ms: float = 2.0, n_train: int = 1500,
               n_test: int = 500, epochs: int = 30, lr: float = 3e-3,
               d_ms: tuple[int, ...] = (1, 2, 5, 10, 20, 50), tau_maxes_ms: tuple[float, ...] = (5.0, 20.0, 100.0,
                                                                                                  1000.0)) -> Outcome:
    """The ELM on spike-digit adding at ``bin_ms`` (250 steps at 2 ms): accuracy vs the number of memory
    units (tau_m 1..1000 ms) and vs the upper end of the tau_m range (d_m = 20), plus the memory traces
    of the default ELM on one test trial (the timescales at work). Trains in float32 on ``device`` (as
    :func:`run`)."""
    import torch

    from neurosim.experiments import spike_tasks as st
    from neurosim.models.elm import ELM

    eng = {**engine("elm-sweeps", backend, device), "dtype": DTYPE}
    out = Path(out)
    for d in d_ms:
        ck.count("d_ms", d)
    for t in tau_maxes_ms:
        if t <= 1.0:
            ck.fail("tau_maxes_ms", t, "> 1 ms (tau_min)")
    runs = [("d_m", float(d)) for d in d_ms] + [("tau_max_ms", float(t)) for t in tau_maxes_ms]
    config = {"experiment": "elm-sweeps", "seed": seed, "bin_ms": bin_ms, "n_train": n_train, "n_test": n_test,
              "epochs": epochs, "lr": lr, "runs": [list(r) for r in runs]}
    digits = st.spike_digits(rng_for(seed, 0), n_channels=N_CHANNELS)
    data = (st.adding(digits, n_train, bin_ms, rng_for(seed, 2, 0)),
            st.adding(digits, n_test, bin_ms, rng_for(seed, 2, 1)))
    with ResultsWriter(out, config=config, meta={**eng, "seed": seed}, resume=resume) as writer:
        todo = [i for i in range(len(runs)) if i not in writer.finished_trials]
        for i in tqdm(todo, desc="ELM sweeps", disable=not progress):
            what, value = runs[i]
            kw = {"d_m": int(value)} if what == "d_m" else {"d_m": 20, "tau_max_ms": value}
            torch.manual_seed(seed)
            model = ELM(N_CHANNELS, 19, **kw, device=eng["device"], dtype=DTYPE)
            res = train_and_test(model, data, epochs=epochs, lr=lr, seed=seed)
            metrics = {k: (np.array([v]), "s" if k == "seconds" else "") for k, v in res.items()}
            if what == "tau_max_ms" and value == 1000.0:
                with torch.no_grad():
                    _, mem = model.run(torch.as_tensor(data[1][0][:1], device=eng["device"]))
                metrics["memory_trace"] = (mem[0].cpu().numpy(), "")
                metrics["tau_m_ms"] = (model.tau_m_ms.detach().cpu().numpy(), "ms")
            writer.write_trial(i, metrics=metrics, attrs={"sweep": what, "value": value})
    results = read_results(out)
    trials = [results.trials[i] for i in range(len(runs))]
    rows = [[t.attrs["sweep"], t.attrs["value"], int(t.metrics["parameters"][0][0]),
             round(100 * float(t.metrics["accuracy"][0][0]), 1)] for t in trials]
    trace_model = next(t for t in trials if "memory_trace" in t.metrics)
    png = plot_sweeps(rows, trace_model, data[1][0][0], bin_ms, out.with_name(f"{out.stem}_sweeps.png"))
    return Outcome(title=f"elm-sweeps: ELM on spike-digit adding at {bin_ms:g} ms bins "
                         f"({data[0][0].shape[1]} steps)", columns=["sweep", "value", "parameters", "test %"],
                   rows=rows, files=[out, png])


def plot_sweeps(rows, trace_trial, trial_input, bin_ms, path: Path) -> Path:
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.2))
    for ax, sweep, label in ((axes[0], "d_m", "memory units d_m"), (axes[1], "tau_max_ms", "tau_max (ms)")):
        pts = sorted((r[1], r[3]) for r in rows if r[0] == sweep)
        ax.plot(*zip(*pts, strict=True), "o-", color=COLORS[0])
        ax.axhline(100 / 19, color="0.6", ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel("test accuracy (%)")
        ax.set_ylim(0, 101)
        ax.grid(alpha=0.3)
    axes[0].set_title("accuracy vs memory units (tau_m 1..1000 ms)", fontsize=10)
    axes[1].set_title("accuracy vs tau_m range (1 ms .. tau_max, d_m = 20)", fontsize=10)
    mem = trace_trial.metrics["memory_trace"][0]
    tau = trace_trial.metrics["tau_m_ms"][0]
    t = np.arange(mem.shape[0]) * bin_ms
    cmap = plt.get_cmap("viridis")
    for j in np.argsort(tau):
        axes[2].plot(t, mem[:, j], color=cmap(np.log10(tau[j]) / 3.0), lw=0.8)
    spikes = trial_input.sum(axis=1)
    axes[2].fill_between(t, 0, spikes / max(1.0, spikes.max()) * np.abs(mem).max() * 0.3, color="0.85",
                         label="input spikes (scaled)")
    axes[2].axvline(t[len(t) // 2], color="0.5", ls="--", lw=0.8)
    axes[2].set_xlabel("time in trial (ms)")
    axes[2].set_ylabel("memory m")
    axes[2].set_title("memory units over one trial (colour: log tau_m, 1 to 1000 ms)", fontsize=10)
    axes[2].legend(fontsize=8)
    return save(fig, path)
