"""``neurosim bench ca3``: the CA3 memory at growing sizes (n cues = m bits).

For each size: neurons and synapses of the circuit, build time, and for a random
sequence of operations without relearning (every operation 10 ms of biological
time) the wall time per operation and the real-time factor (biological / wall
time; SpiNNaker runs at 1x; operations ``op_ms`` = 14 ms apart), both for the batched schedule (``run_schedule``: one
simulator run) and for one call per operation (``learn``/``recall_*``: what an
interactive user does), plus agreement with the dictionary oracle.
"""

from __future__ import annotations

import time

import numpy as np

from neurosim.models.ca3 import CA3Memory
from neurosim.models.ca3_oracle import DictOracle, random_operations


def bench(sizes: tuple[int, ...] = (5, 100, 1000), n_ops: int = 300, backend: str = "numba", seed: int = 0,
          log=print) -> list[dict]:
    rows = []
    for n in sizes:
        rng = np.random.default_rng(seed)
        ops = random_operations(rng, n, n, n_ops, max_bits=max(1, n // 10), max_query_bits=max(1, n // 20),
                                relearn=False)
        t0 = time.perf_counter()
        mem = CA3Memory(n, n, backend=backend, plastic_recall=False)
        mem.run_schedule([(0.0, ops[0])])  # first operation: JIT / code generation
        build = time.perf_counter() - t0
        t0 = time.perf_counter()
        got = mem.run_schedule([(mem.t_ms + mem.op_ms * k, op) for k, op in enumerate(ops[1:])])
        batched = time.perf_counter() - t0
        oracle = DictOracle()
        oracle.apply(ops[0])
        correct = []
        for op, g in zip(ops[1:], got, strict=True):
            expected = oracle.apply(op)  # learns too: the oracle must store them
            if op.kind != "learn":
                correct.append(expected == g)
        one = CA3Memory(n, n, backend=backend, plastic_recall=False)
        one.run_schedule([(0.0, ops[0])])
        t0 = time.perf_counter()
        for op in ops[1:]:
            if op.kind == "learn":
                one.learn(op.cue, op.bits)
            elif op.kind == "recall_cue":
                one.recall_by_cue(op.cue)
            else:
                one.recall_by_content(op.bits)
        single = time.perf_counter() - t0
        net = mem.network
        bio = (len(ops) - 1) * mem.op_ms
        row = {"n": n, "m": n, "neurons": sum(p.size for p in net.populations),
               "synapses": sum(net.connections(p.name).pre.size for p in net.projections), "build_s": build,
               "ops": len(ops) - 1, "ms_per_op_batched": 1000 * batched / (len(ops) - 1),
               "rt_factor_batched": bio / 1000 / batched, "ms_per_op_single": 1000 * single / (len(ops) - 1),
               "rt_factor_single": bio / 1000 / single, "oracle_agreement": float(np.mean(correct))}
        log(f"n = m = {n}: {row['neurons']} neurons, {row['synapses']:,} synapses; "
            f"{row['ms_per_op_batched']:.3f} ms/op batched ({row['rt_factor_batched']:.0f}x real time), "
            f"{row['ms_per_op_single']:.3f} ms/op one call each ({row['rt_factor_single']:.0f}x); "
            f"oracle {100 * row['oracle_agreement']:.0f}%")
        rows.append(row)
    return rows
