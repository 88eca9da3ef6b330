"""What a perfect content-addressable memory answers, random operation sequences, and the CA3 memory's
agreement with it (the dictionary oracle of docs/models/ca3.md)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from neurosim.models.ca3 import CA3Memory, Operation


class DictOracle:
    """What a perfect content-addressable memory answers: a dictionary cue -> set of bits."""

    def __init__(self) -> None:
        self.memory: dict[int, frozenset[int]] = {}

    def apply(self, op: Operation) -> list[int] | None:
        if op.kind == "learn":
            self.memory[op.cue] = frozenset(op.bits)
            return None
        if op.kind == "recall_cue":
            return sorted(self.memory.get(op.cue, ()))
        query = set(op.bits)
        return sorted(c for c, bits in self.memory.items() if bits & query)


def random_operations(rng: np.random.Generator, n_cues: int, n_bits: int, count: int, *, max_bits: int = 3,
                      max_query_bits: int = 3, relearn: bool = True, p_learn: float = 0.4) -> list[Operation]:
    """``count`` random operations: learns (random cue, 1..max_bits random bits), recalls by cue
    and by content (1..max_query_bits bits). ``relearn=False`` learns each cue at most once
    (once all cues are stored, learns become recalls by cue)."""
    ops: list[Operation] = []
    stored: set[int] = set()
    for _ in range(count):
        r = rng.random()
        fresh = [c for c in range(n_cues) if c not in stored]
        if (r < p_learn or not stored) and (relearn or fresh):
            cue = int(rng.integers(n_cues)) if relearn else int(rng.choice(fresh))
            k = int(rng.integers(1, max_bits + 1))
            ops.append(Operation("learn", cue, tuple(sorted(rng.choice(n_bits, k, replace=False).tolist()))))
            stored.add(cue)
        elif r < p_learn + (1 - p_learn) / 2:
            ops.append(Operation("recall_cue", int(rng.integers(n_cues))))
        else:
            k = int(rng.integers(1, max_query_bits + 1))
            ops.append(Operation("recall_content", bits=tuple(sorted(rng.choice(n_bits, k, replace=False).tolist()))))
    return ops


def agreement(memory: CA3Memory, ops: Sequence[Operation], spacing_ms: float | None = None) -> dict[str, list[int]]:
    """Run ``ops`` every ``spacing_ms`` (default the memory's ``op_ms``) and count, per recall
    kind, [agreeing with DictOracle, total]."""
    spacing_ms = memory.op_ms if spacing_ms is None else spacing_ms
    results = memory.run_schedule([(memory.t_ms + spacing_ms * k, op) for k, op in enumerate(ops)])
    oracle = DictOracle()
    counts: dict[str, list[int]] = {"recall_cue": [0, 0], "recall_content": [0, 0]}
    for op, got in zip(ops, results, strict=True):
        expected = oracle.apply(op)
        if op.kind != "learn":
            counts[op.kind][0] += expected == got
            counts[op.kind][1] += 1
    return counts
