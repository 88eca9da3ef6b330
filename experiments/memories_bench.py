"""``neurosim bench memories``: store, recall and recognize throughput of every registered memory on every engine.

Each memory (:func:`neurosim.models.create`, float64, sparsity 0.05) stores the same random items
and is probed with the same half cues and items on numba, torch on the CPU and, where torch sees a
GPU, torch on CUDA: ``store_many`` of ``n_store`` items, ``recall_many`` of ``n_probe`` cues and
``recognize_many`` of ``n_probe`` items, each timed once after a warm-up on a small copy (JIT
compilation and kernel caches are not counted). Throughput is items per second; the ratio of each
engine against numba is given per operation, and every engine's recalls are checked to equal
numba's (the contract's float64 equality).

The counts shrink with the size so that every row takes seconds on two cores: a Hopfield network
of 10,000 units holds a 10,000 x 10,000 weight matrix and recalls by sweeping every unit, and a
spiking memory simulates 14 ms of its circuit per store and a frozen copy per read (the
autoassociative CA3, all-to-all, is left out above ``MAX_UNITS``).
"""

from __future__ import annotations

import time

import numpy as np

from neurosim import backends
from neurosim.memory import partial_cue, random_patterns
from neurosim.models import available, create

SPARSITY = 0.05
# (items stored, items probed) per model at 1,000 units; divided by N / 1000 above that, down to FLOOR
COUNTS = {"hopfield": (200, 100), "dam-poly": (200, 100), "dam-exp": (200, 100), "sparsey": (2000, 2000),
          "dendrites": (500, 200), "ca3": (40, 20), "ca3-auto": (40, 20)}
FLOOR = {"hopfield": (50, 20), "dam-poly": (100, 20), "dam-exp": (100, 20), "sparsey": (1000, 1000),
         "dendrites": (50, 50), "ca3": (10, 5), "ca3-auto": (5, 5)}
# the autoassociative CA3 is all-to-all twice (excitatory and inhibitory): 2 N (N - 1) synapses, 2 x 10^8 at
# N = 10,000, each store compiling a fresh copy; beyond this size it is left out (and said so)
MAX_UNITS = {"ca3-auto": 2000}


def engines() -> list[tuple[str, str]]:
    """(backend, device) pairs measured here: numba, torch on the CPU, torch on CUDA when present."""
    out = [("numba", "cpu")]
    if backends.is_available("torch"):
        import torch

        out.append(("torch", "cpu"))
        if torch.cuda.is_available():
            out.append(("torch", "cuda"))
    return out


def counts(name: str, n_units: int) -> tuple[int, int]:
    scale = max(1.0, n_units / 1000)
    return tuple(max(f, round(c / scale)) for c, f in zip(COUNTS[name], FLOOR[name], strict=True))


def _keys(memory, n: int) -> list[int] | None:
    return [i % memory.n_keys for i in range(n)] if memory.n_keys else None


def _timed(fn, *args, **kwargs) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def bench(sizes: tuple[int, ...] = (1000, 10000), models: tuple[str, ...] | None = None, seed: int = 0,
          log=print) -> list[dict]:
    """One row per (model, size, engine): items per second for store, recall and recognize."""
    rows = []
    for n in sizes:
        for name in models or tuple(available()):
            if n > MAX_UNITS.get(name, n):
                log(f"{name:9s} N={n:6d} left out: {2 * n * (n - 1):.1e} all-to-all synapses (at most "
                    f"{MAX_UNITS[name]} units here)")
                continue
            n_store, n_probe = counts(name, n)
            rng = np.random.default_rng(seed)
            active = round(SPARSITY * n)
            items = random_patterns(rng, n_store, n, active)
            probe = items[rng.choice(n_store, size=n_probe, replace=False)]
            cues = np.array([partial_cue(rng, x, 0.5) for x in probe])
            reference = None
            for backend, device in engines():
                small = create(name, n_units=100, sparsity=0.1, backend=backend, device=device, seed=seed)
                x = random_patterns(np.random.default_rng(1), 4, 100, 10)
                small.store_many(x, keys=_keys(small, 4))  # warm-up: compile, allocate, load kernels
                small.recall_many(x[:, ::-1].copy())
                small.recognize_many(x)
                small.close()
                memory = create(name, n_units=n, sparsity=SPARSITY, backend=backend, device=device, seed=seed)
                t_store, _ = _timed(memory.store_many, items, keys=_keys(memory, n_store))
                t_recall, recalled = _timed(memory.recall_many, cues)
                t_recognize, _ = _timed(memory.recognize_many, probe)
                engine = f"{backend}" + (f" ({memory.device})" if backend == "torch" else "")
                memory.close()
                same = True if reference is None else bool(np.array_equal(recalled, reference["recalled"]))
                row = {"model": name, "units": n, "engine": engine, "stored": n_store, "probes": n_probe,
                       "store_per_s": n_store / t_store, "recall_per_s": n_probe / t_recall,
                       "recognize_per_s": n_probe / t_recognize, "same_recalls": same}
                if reference is None:
                    reference = {"recalled": recalled, **row}
                for op in ("store", "recall", "recognize"):
                    row[f"{op}_vs_numba"] = row[f"{op}_per_s"] / reference[f"{op}_per_s"]
                rows.append(row)
                log(f"{name:9s} N={n:6d} {engine:13s} store {row['store_per_s']:10.1f}/s "
                    f"({row['store_vs_numba']:5.2f}x)  recall {row['recall_per_s']:10.1f}/s "
                    f"({row['recall_vs_numba']:5.2f}x)  recognize {row['recognize_per_s']:10.1f}/s "
                    f"({row['recognize_vs_numba']:5.2f}x)  same recalls: {same}")
                if not same:
                    raise RuntimeError(f"{name} on {engine} recalled differently from numba (float64)")
    return rows
