"""``neurosim bench sparsey``: single-trial learning throughput of one Sparsey MAC.

One MAC (``q`` CMs x ``k`` cells, default 20 x 20) learns ``n_items`` random binary
inputs of ``n_inputs`` units (default 784, as MNIST) with ``active`` units on
(default 120, the density of binarized MNIST digits), three ways side by side on
the same inputs and the same uniforms:

- ``numba batch``: all inputs in one kernel call (:meth:`MAC.present`), what the
  experiments use;
- ``numba per item``: one call per input (``SparseyMemory.store``: what an
  interactive user does), Python overhead included;
- ``numpy reference``: :func:`~neurosim.models.sparsey_reference.step_reference` per input,
  the anchor.

All three give the same codes (checked). Throughput = inputs learned per second;
the published Sparsey learned about 9 per second (Rinkus 2017, arXiv 1710.07829: 200 per
class x 10 MNIST classes in 220 s, a 2-level net on one thread).
"""

from __future__ import annotations

import time

import numpy as np

from neurosim.memory import random_patterns
from neurosim.models.sparsey import MAC
from neurosim.models.sparsey_reference import step_reference

PUBLISHED_PER_S = 2000 / 220


def bench(n_inputs: int = 784, q: int = 20, k: int = 20, active: int = 120, n_items: int = 5000,
          n_reference: int = 300, seed: int = 0, log=print) -> list[dict]:
    rng = np.random.default_rng(seed)
    items = random_patterns(rng, n_items, n_inputs, active)
    uniforms = rng.random((n_items, q))
    MAC(n_inputs, q, k).present(items[:2], np.random.default_rng(0))  # compile (cached on disk after the first run)

    class Draws:
        """Hands the kernel the pre-drawn uniforms, so every way sees the same draws."""

        def __init__(self) -> None:
            self.at = 0

        def random(self, shape):
            n = shape[0]
            self.at += n
            return uniforms[self.at - n:self.at]

    rows = []
    mac = MAC(n_inputs, q, k)
    t0 = time.perf_counter()
    batch = mac.present(items, Draws()).cells
    rows.append(("numba batch", n_items, time.perf_counter() - t0))
    mac, draws = MAC(n_inputs, q, k), Draws()
    t0 = time.perf_counter()
    single = np.array([mac.present(x, draws).cells[0] for x in items])
    rows.append(("numba per item", n_items, time.perf_counter() - t0))
    w = {"u": np.zeros((n_inputs, q * k), np.uint8)}
    t0 = time.perf_counter()
    ref = np.array([step_reference(w, {"u": np.flatnonzero(x)}, q, k, mac.params, u)[0]
                    for x, u in zip(items[:n_reference], uniforms[:n_reference], strict=True)])
    rows.append(("numpy reference", n_reference, time.perf_counter() - t0))
    same = np.array_equal(batch, single) and np.array_equal(batch[:n_reference], ref)
    anchor = n_reference / rows[-1][2]
    out = []
    for name, n, s in rows:
        out.append({"way": name, "inputs": n, "seconds": s, "inputs_per_s": n / s, "vs_numpy": n / s / anchor,
                    "vs_published": n / s / PUBLISHED_PER_S})
        log(f"{name:16s} {n:6d} inputs in {s:7.3f} s: {n / s:10.0f} inputs/s, {n / s / anchor:7.1f}x numpy, "
            f"{n / s / PUBLISHED_PER_S:7.0f}x the published 9/s")
    log(f"one MAC, q = {q}, k = {k}, {n_inputs} inputs with {active} on; identical codes on all three: {same}")
    if not same:
        raise RuntimeError("the numba kernel and the numpy reference chose different codes")
    return out
