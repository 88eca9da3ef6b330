"""``neurosim bench elm``: forward + backward throughput of neurosim's ELM against the reference module.

The reference is the authors' PyTorch port (github.com/AaronSpieler/elmneuron, ``src/``), loaded at
run time from a local checkout given with ``--reference DIR`` (the folder that holds
``expressive_leaky_memory_neuron.py`` and ``modeling_utils.py``); none of its code is part of
neurosim. Its ``neuronio`` helpers (plotting, seaborn) are not needed for ``forward`` and are
replaced by a stub holding the one constant the module imports.

Both modules get the same configuration and the same weights (neurosim's are copied into the
reference), run on the same input (batch, time, inputs of Bernoulli spikes), and their outputs are
checked equal before timing. Timed: one forward pass plus the backward pass of the summed squared
output, best of ``repeats`` after a warm-up; throughput = batch x time steps per second. Without a
reference only neurosim's module is timed.
"""

from __future__ import annotations

import importlib.util
import sys
import time
import types
from pathlib import Path

import torch

from neurosim import _checks as ck

CONFIGS = ({"name": "ELM d_m=100, 128 inputs", "n_in": 128, "d_m": 100, "n_branch": None},
           {"name": "Branch-ELM d_m=20, 64 x 4 synapses", "n_in": 256, "d_m": 20, "n_branch": 64},
           {"name": "ELM d_m=10, 700 inputs (SHD)", "n_in": 700, "d_m": 10, "n_branch": None})


def load_reference(folder: str | Path):
    """The reference ELM class from a checkout's ``src`` folder."""
    folder = Path(folder)
    files = {name: folder / f"{name}.py" for name in ("modeling_utils", "expressive_leaky_memory_neuron")}
    for path in files.values():
        if not path.exists():
            ck.fail("reference", str(folder), f"a folder holding {', '.join(p.name for p in files.values())}")
    pkg = "elm_reference"
    sys.modules[pkg] = types.ModuleType(pkg)
    sys.modules[pkg].__path__ = [str(folder)]
    stub = types.ModuleType(f"{pkg}.neuronio.neuronio_data_utils")
    stub.DEFAULT_Y_TRAIN_SOMA_SCALE = 1.0  # used only by the reference's NeuronIO evaluation methods
    sys.modules[f"{pkg}.neuronio"] = types.ModuleType(f"{pkg}.neuronio")
    sys.modules[f"{pkg}.neuronio.neuronio_data_utils"] = stub
    for name, path in files.items():
        spec = importlib.util.spec_from_file_location(f"{pkg}.{name}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[f"{pkg}.{name}"] = module
        spec.loader.exec_module(module)
    return sys.modules[f"{pkg}.expressive_leaky_memory_neuron"].ELM


def copy_into_reference(ours, ref) -> None:
    """neurosim's weights into the reference module (same equations, other parameter names)."""
    with torch.no_grad():
        ref._proto_w_s.copy_(ours.w_s_raw)
        ref._proto_tau_m.copy_(ours.tau_m_raw)
        ref.tau_s.copy_(ours.tau_s_ms)
        linears = [m for m in ref.mlp.network if isinstance(m, torch.nn.Linear)]
        for a, b in zip(ours.mlp, linears, strict=True):
            b.weight.copy_(a.weight)
            b.bias.copy_(a.bias)
        ref.w_y.weight.copy_(ours.readout.weight)
        ref.w_y.bias.copy_(ours.readout.bias)


def _time(module, x: torch.Tensor, repeats: int) -> float:
    def once() -> None:
        module.zero_grad()
        module(x).pow(2).sum().backward()

    once()  # warm-up (the reference's TorchScript compiles here)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        once()
        best = min(best, time.perf_counter() - start)
    return best


def bench(*, reference: str | Path | None = None, batch: int = 32, steps: int = 500, repeats: int = 3,
          seed: int = 0, log=print) -> list[dict]:
    from neurosim.models.elm import ELM

    ck.count("batch", batch)
    ck.count("steps", steps)
    ck.count("repeats", repeats)
    ref_cls = load_reference(reference) if reference is not None else None
    rows = []
    for cfg in CONFIGS:
        torch.manual_seed(seed)
        ours = ELM(cfg["n_in"], 2, d_m=cfg["d_m"], n_branch=cfg["n_branch"], device="cpu")  # a CPU benchmark
        x = (torch.rand(batch, steps, cfg["n_in"], generator=torch.Generator().manual_seed(seed)) < 0.05).float()
        row = {"config": cfg["name"], "batch": batch, "steps": steps, "threads": torch.get_num_threads()}
        t_ours = _time(ours, x, repeats)
        row["neurosim_s"] = t_ours
        row["neurosim_steps_per_s"] = batch * steps / t_ours
        if ref_cls is not None:
            n_branch = cfg["n_branch"]
            ref = ref_cls(cfg["n_in"], 2, num_memory=cfg["d_m"], num_branch=n_branch,
                          num_synapse_per_branch=1 if n_branch is None else cfg["n_in"] // n_branch)
            copy_into_reference(ours, ref)
            with torch.no_grad():
                diff = float((ours(x) - ref(x)).abs().max())
            if diff > 1e-4:
                raise RuntimeError(f"{cfg['name']}: neurosim and the reference differ by {diff:.3g}")
            t_ref = _time(ref, x, repeats)
            row |= {"reference_s": t_ref, "reference_steps_per_s": batch * steps / t_ref, "speedup": t_ref / t_ours,
                    "max_output_difference": diff}
        rows.append(row)
        versus = (f", reference {row['reference_s']:.3f} s, {row['speedup']:.2f}x (outputs equal to "
                  f"{row['max_output_difference']:.1e})") if ref_cls is not None else ""
        log(f"{cfg['name']}: neurosim {t_ours:.3f} s{versus}")
    return rows
