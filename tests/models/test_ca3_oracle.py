"""Random operation sequences against a dictionary oracle (what a perfect CAM answers)."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim import backends
from neurosim.models.ca3 import CA3Memory
from neurosim.models.ca3_oracle import agreement, random_operations

BACKENDS = [b for b in ("numba", "reference", "torch", "brian2") if backends.is_available(b)]
N_OPS = {"numba": 2000, "reference": 600, "torch": 300, "brian2": 60}


def _perfect(counts: dict[str, list[int]]) -> bool:
    return all(ok == total for ok, total in counts.values())


@pytest.mark.parametrize("backend", BACKENDS)
def test_gated_memory_agrees_with_oracle_on_every_backend(backend: str) -> None:
    """plastic_recall=False, every cue stored once, multi-bit contents and queries: 100%."""
    ops = random_operations(np.random.default_rng(7), 5, 10, N_OPS[backend], relearn=False)
    counts = agreement(CA3Memory(5, 10, backend=backend, plastic_recall=False), ops)
    assert counts["recall_content"][1] > 0.25 * len(ops) and counts["recall_cue"][1] > 0.25 * len(ops)
    assert _perfect(counts), counts


def test_gated_memory_agrees_with_oracle_at_n_m_100() -> None:
    ops = random_operations(np.random.default_rng(8), 100, 100, 3000, max_bits=10, max_query_bits=5,
                            relearn=False)
    counts = agreement(CA3Memory(100, 100, plastic_recall=False), ops)
    assert sum(t for _, t in counts.values()) > 1500
    assert _perfect(counts), counts


def test_published_circuit_agrees_with_single_bit_queries_without_relearning() -> None:
    """The paper's regime (single-bit content queries, as in its stress test): 100%."""
    ops = random_operations(np.random.default_rng(3), 5, 10, 1000, max_query_bits=1, relearn=False)
    assert _perfect(agreement(CA3Memory(5, 10, plastic_recall=True), ops))


def test_published_circuit_learns_from_multi_bit_queries() -> None:
    """With STDP on during recall, a two-bit query potentiates the unrelated bit onto the cue
    it retrieves (3.08 nA per query): after two queries bit 7 alone retrieves cue 0, a false
    association. The gated memory never changes that weight."""
    for plastic_recall, w_after, alone in ((True, [3.08, 5.84], [[], [0]]), (False, [0.0, 0.0], [[], []])):
        mem = CA3Memory(5, 10, plastic_recall=plastic_recall, op_ms=10.0)  # the functional test's spacing
        mem.learn(0, [1, 2])
        mem.learn(1, [5])
        for k in range(2):
            assert mem.recall_by_content([2, 7]) == [0]
            w = mem.sim.weights("learned_content_to_cue").reshape(10, 5)[7, 0]
            assert w == pytest.approx(w_after[k], abs=0.01)
            assert mem.recall_by_content([7]) == alone[k]


def test_relearning_forgets_single_bits_but_not_pairs() -> None:
    """Relearning depresses old content->cue weights from 6 to 3.31 nA, not to 0 (both circuits):
    one old bit no longer retrieves the cue, two old bits together still do, and in the
    published circuit that wrong recall re-strengthens the old link."""
    for plastic_recall in (True, False):
        mem = CA3Memory(5, 10, plastic_recall=plastic_recall, op_ms=10.0)
        mem.learn(0, [3, 4])
        mem.learn(0, [6, 8])
        w = mem.sim.weights("learned_content_to_cue").reshape(10, 5)[:, 0]
        assert w[3] == pytest.approx(3.31, abs=0.01) and w[6] == 6.0
        assert mem.recall_by_cue(0) == [6, 8]
        assert mem.recall_by_content([3]) == []
        assert mem.recall_by_content([3, 4]) == [0]  # the limitation, measured
        w = mem.sim.weights("learned_content_to_cue").reshape(10, 5)[:, 0]
        if plastic_recall:
            assert w[3] > 5.0  # re-strengthened by the wrong recall
        else:
            assert w[3] == pytest.approx(3.31, abs=0.01)


@pytest.mark.parametrize(("n", "plastic_recall"), [(5, False), (5, True), (50, False)])
def test_coincidence_rule_forgets_completely(n: int, plastic_recall: bool) -> None:
    """With the coincidence STDP rule, random sequences WITH relearning and multi-bit queries
    agree with the oracle 100%, even with plastic recalls; the paper's rule does not."""
    from neurosim.models.ca3 import COINCIDENCE_RULE

    m = 2 * n if n == 5 else n
    ops = random_operations(np.random.default_rng(11), n, m, 600, max_bits=3, max_query_bits=3, relearn=True)
    assert sum(op.kind == "learn" for op in ops) > 200
    fixed = agreement(CA3Memory(n, m, plastic_recall=plastic_recall, learning_rule=COINCIDENCE_RULE), ops)
    assert _perfect(fixed), fixed
    published = agreement(CA3Memory(n, m, plastic_recall=plastic_recall), ops)
    assert published["recall_content"][0] < 0.8 * published["recall_content"][1]


def test_coincidence_rule_keeps_the_published_recalls_and_clears_old_links() -> None:
    from neurosim.experiments import ca3_published as pub
    from neurosim.models.ca3 import COINCIDENCE_RULE
    from neurosim.models.ca3_oracle import DictOracle

    for name, published in pub.EXPERIMENTS.items():
        n, m, schedule, duration = published.setup()
        got = CA3Memory(n, m, plastic_recall=True, learning_rule=COINCIDENCE_RULE).run_schedule(schedule,
                                                                                   until_ms=duration)
        oracle = DictOracle()
        assert got == [oracle.apply(op) for _, op in schedule], name
    mem = CA3Memory(5, 10, learning_rule=COINCIDENCE_RULE)
    mem.learn(0, [3, 4])
    mem.learn(0, [6, 8])
    w = mem.sim.weights("learned_content_to_cue").reshape(10, 5)[:, 0]
    assert w[3] < 0.05 and w[4] < 0.05 and w[6] == 6.0 and w[8] == 6.0
    assert mem.recall_by_content([3, 4]) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_coincidence_rule_agrees_with_oracle_with_relearning_on_every_backend(backend: str) -> None:
    from neurosim.models.ca3 import COINCIDENCE_RULE

    ops = random_operations(np.random.default_rng(5), 5, 10, N_OPS[backend], relearn=True)
    mem = CA3Memory(5, 10, backend=backend, plastic_recall=False, learning_rule=COINCIDENCE_RULE)
    counts = agreement(mem, ops)
    assert _perfect(counts), counts


def test_coincidence_rule_agrees_with_oracle_with_relearning_at_n_m_100() -> None:
    from neurosim.models.ca3 import COINCIDENCE_RULE

    ops = random_operations(np.random.default_rng(6), 100, 100, 3000, max_bits=10, max_query_bits=5, relearn=True)
    assert sum(op.kind == "learn" and op.cue in {o.cue for o in ops[:i] if o.kind == "learn"}
               for i, op in enumerate(ops)) > 500  # many relearns
    counts = agreement(CA3Memory(100, 100, plastic_recall=False, learning_rule=COINCIDENCE_RULE), ops)
    assert _perfect(counts), counts
