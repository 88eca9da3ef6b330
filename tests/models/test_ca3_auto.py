"""The autoassociative CA3 memory (arXiv 2205.04782): published circuit, its claims, its limits, its capacity."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from neurosim import Simulator, backends
from neurosim.experiments import ca3_auto_capacity as cap
from neurosim.io import read_results
from neurosim.memory import jaccard, partial_cue, random_patterns
from neurosim.models.ca3_auto import CA3AutoMemory, CA3AutoParams, build_network, present, weight_matrix
from neurosim.models.hopfield import Hopfield

N = 15  # the paper's network size


def pattern(cells, n: int = N) -> np.ndarray:
    p = np.zeros(n, dtype=bool)
    p[list(cells)] = True
    return p


ORTHOGONAL = [pattern(range(0, 5)), pattern(range(5, 10)), pattern(range(10, 15))]
# the paper's non-orthogonal example: two 6-cell patterns sharing PC 7
SHARED_A = pattern([0, 1, 2, 3, 4, 7])
SHARED_B = pattern([7, 10, 11, 12, 13, 14])


def test_stdp_steps_are_the_papers_absolute_a_plus_6_and_a_minus_3_nA() -> None:
    """PC 0 fires at 1 ms, PC 1 at 3 ms: 0 -> 1 sees post 2 ms after pre (+ 1 ms delay: +3 ms),
    1 -> 0 sees post before pre (-1 ms); from 4 nA: 4 + 6 e^(-3/3) and 4 - 3 e^(-1/2)."""
    sim = Simulator(build_network(2, 4.0), backend="numba")
    present(sim, np.array([0]), 0.0, 1)
    present(sim, np.array([1]), 2.0, 1)
    sim.run(10.0)
    np.testing.assert_array_equal(sim.spikes("pc")[0], [1.0, 3.0])
    np.testing.assert_allclose(sim.weights("pc_pc"), [4.0 + 6.0 * np.exp(-1.0), 4.0 - 3.0 * np.exp(-0.5)],
                               rtol=1e-12)


def test_one_presentation_drives_the_pattern_synapses_to_w_max_and_nothing_else() -> None:
    memory = CA3AutoMemory(N)
    memory.store(ORTHOGONAL[1])
    w = memory.weight_matrix()
    inside = np.ix_(ORTHOGONAL[1], ORTHOGONAL[1])
    expected = np.where(np.eye(5, dtype=bool), 0.0, 12.0)  # no self-connections
    np.testing.assert_allclose(w[inside], expected)
    w[inside] = 0.0
    assert np.all(w == 0.0)


def test_orthogonal_patterns_are_recalled_exactly_from_every_fragment() -> None:
    memory = CA3AutoMemory(N)
    for p in ORTHOGONAL:
        memory.store(p)
    for p in ORTHOGONAL:
        cells = np.flatnonzero(p)
        for k in range(1, cells.size + 1):
            for fragment in combinations(cells, k):
                np.testing.assert_array_equal(memory.recall(pattern(fragment)), p, err_msg=f"fragment {fragment}")
    rng = np.random.default_rng(3)
    for p in ORTHOGONAL:  # half the bits, as partial_cue draws them
        np.testing.assert_array_equal(memory.recall(partial_cue(rng, p, 0.5)), p)


def test_published_oscillatory_run_completes_then_keeps_oscillating_and_links_the_next_pattern() -> None:
    """The paper's 3-orthogonal-pattern run as one continuous plastic simulation (its DG schedule):
    learn A at 1-5 ms, C at 15-19, B at 29-33; recall A, C, B from 4-cell fragments at 43, 57, 71."""
    a, b, c = (list(range(0, 5)), list(range(5, 10)), list(range(10, 15)))
    sim = Simulator(build_network(N), backend="numba")
    for cells, start in ((a, 1), (c, 15), (b, 29), (a[1:], 43), (c[:4], 57), (b[:4], 71)):
        present(sim, np.array(cells), float(start), 5)
    sim.run(85.0)
    t, i = sim.spikes("pc")
    fired = {int(s): sorted(i[t == s].tolist()) for s in np.unique(t)}
    # learning: the pattern fires every other ms (refractoriness) and falls silent after the 5th DG spike
    assert [fired.get(s) for s in range(1, 15)] == [None, a, None, a, None, a] + [None] * 8
    # recall: the fragment at +1 ms, the missing cell at +2 ms (pattern completion)
    assert fired[44] == a[1:] and fired[45] == [0]
    assert fired[30] == b and 9 in fired[73] and 9 not in fired[72]
    # the model's oscillation: the recalled assembly fires until the next cue displaces it ...
    assert fired[56] == a[1:] and fired[57] == [0]
    assert fired[60] == c[:4] and fired[61] == [14]
    # ... and STDP, on during recall, links the lingering assembly to the next one
    w = weight_matrix(sim.weights("pc_pc"), N)
    assert np.all(w[np.ix_(a[1:], c)] == 12.0)


def test_non_orthogonal_patterns_recalled_from_unique_fragments_and_merged_through_the_shared_cell() -> None:
    memory = CA3AutoMemory(N)
    memory.store(SHARED_A)
    memory.store(SHARED_B)
    w = memory.weight_matrix()
    assert np.all(w[np.ix_(SHARED_A & ~SHARED_B, SHARED_B & ~SHARED_A)] == 0.0)  # only PC 7 links them
    # a fragment unique to one pattern recalls exactly that pattern (first completion step)
    np.testing.assert_array_equal(memory.recall(pattern([1, 2, 3, 4])), SHARED_A)
    np.testing.assert_array_equal(memory.recall(pattern([10, 11, 12, 13])), SHARED_B)
    np.testing.assert_array_equal(memory.recall(pattern([0, 1])), SHARED_A)
    # the shared cell alone is ambiguous: both patterns
    np.testing.assert_array_equal(memory.recall(pattern([7])), SHARED_A | SHARED_B)
    # one oscillation cycle later the shared cell, completed at +2 ms, recruits the other pattern at +5 ms
    t, i = memory.respond(pattern([1, 2, 3, 4]), 6)
    first_b = t[np.isin(i, np.flatnonzero(SHARED_B & ~SHARED_A))].min()
    assert first_b == 5.0
    long_window = CA3AutoMemory(N, params=CA3AutoParams(recall_window_ms=6))
    long_window.store(SHARED_A)
    long_window.store(SHARED_B)
    np.testing.assert_array_equal(long_window.recall(pattern([1, 2, 3, 4])), SHARED_A | SHARED_B)


@pytest.mark.parametrize(("w_inh", "merged"), [(1.5, True), (9.0, False)])
def test_patterns_sharing_two_cells_merge_under_the_published_inhibition(w_inh: float, merged: bool) -> None:
    """10-cell patterns sharing 2 PCs: while B is stored its 2 shared cells re-fire A (12 m - 1.5 a >= 5.5
    for m = 2, a = 10) and STDP links the two; 9 nA of inhibition keeps them apart."""
    a, b = pattern(range(0, 10), 100), pattern(range(8, 18), 100)
    memory = CA3AutoMemory(100, params=CA3AutoParams(w_inh_nA=w_inh))
    memory.store(a)
    memory.store(b)
    recalled = memory.recall(pattern(range(0, 5), 100))
    np.testing.assert_array_equal(recalled, (a | b) if merged else a)
    assert bool(memory.weight_matrix()[0, 15] == 12.0) is merged


def test_recognize_is_higher_for_stored_than_for_novel_items_and_has_no_side_effects() -> None:
    memory = CA3AutoMemory(N)
    memory.store(ORTHOGONAL[0])
    memory.store(ORTHOGONAL[1])
    before = memory.weights_nA.copy()
    assert memory.recognize(ORTHOGONAL[0]) == 1.0
    assert memory.recognize(ORTHOGONAL[1]) == 1.0
    assert memory.recognize(ORTHOGONAL[2]) == 0.0  # novel
    assert 0.0 < memory.recognize(pattern([0, 1, 12, 13])) < 1.0  # half of it is familiar
    np.testing.assert_array_equal(memory.weights_nA, before)
    assert memory.n_stored == 2


def test_reset_forgets() -> None:
    memory = CA3AutoMemory(N)
    memory.store(ORTHOGONAL[0])
    fragment = pattern([0, 1])
    np.testing.assert_array_equal(memory.recall(fragment), ORTHOGONAL[0])
    memory.reset()
    assert memory.n_stored == 0 and np.all(memory.weight_matrix() == 0.0)
    np.testing.assert_array_equal(memory.recall(fragment), fragment)  # no completion left
    assert memory.recognize(ORTHOGONAL[0]) == 0.0


def test_backends_agree() -> None:
    others = [b for b in ("reference", "torch") if backends.is_available(b)]
    results = {}
    for backend in ["numba", *others]:
        memory = CA3AutoMemory(N, backend=backend)
        memory.store(SHARED_A)
        memory.store(SHARED_B)
        results[backend] = (memory.weights_nA, memory.respond(pattern([1, 2, 3, 4]), 8))
    for backend in others:
        np.testing.assert_allclose(results[backend][0], results["numba"][0], rtol=0, atol=1e-9)
        for got, want in zip(results[backend][1], results["numba"][1], strict=True):
            np.testing.assert_array_equal(got, want)


def test_validation_names_the_argument() -> None:
    memory = CA3AutoMemory(N)
    with pytest.raises(ValueError, match="item shape"):
        memory.store(np.ones(N + 1, dtype=bool))
    with pytest.raises(ValueError, match="item"):
        memory.store(np.full(N, 2))
    with pytest.raises(ValueError, match="item.*at least one active unit"):
        memory.store(np.zeros(N, dtype=bool))
    with pytest.raises(ValueError, match="cue shape"):
        memory.recall(np.ones((3, 5), dtype=bool))
    with pytest.raises(ValueError, match="cue.*at least one active unit"):
        memory.recall(np.zeros(N))
    with pytest.raises(ValueError, match="cue"):
        memory.recall(np.full(N, 0.5))
    with pytest.raises(ValueError, match="item.*at least 2 active units"):
        memory.recognize(pattern([3]))
    with pytest.raises(ValueError, match="key"):
        memory.store(ORTHOGONAL[0], key=3)
    with pytest.raises(ValueError, match="n_cells"):
        CA3AutoMemory(1)
    with pytest.raises(ValueError, match="w_inh_nA"):
        CA3AutoParams(w_inh_nA=-1.0)
    with pytest.raises(ValueError, match="operation_ms"):
        CA3AutoParams(present_ms=5, operation_ms=5)
    with pytest.raises(ValueError, match="v_thresh_mV"):
        CA3AutoParams(v_thresh_mV=-61.0)
    assert memory.n_stored == 0 and np.all(memory.weights_nA == 0.0)


# -- the capacity experiment and its Hopfield baseline -----------------------------------------------------
TINY = {"n_cells": 40, "sparsities": (0.1,), "n_patterns": (1, 24), "inhibitions_nA": (1.5, 9.0),
        "progress": False, "seed": 4}


def test_capacity_experiment_writes_hdf5_and_png_and_degrades_with_load(tmp_path) -> None:
    out = tmp_path / "cap.h5"
    outcome = cap.run(out=out, **TINY)
    png = tmp_path / "cap_capacity.png"
    assert outcome.files == [out, png] and out.exists() and png.stat().st_size > 10_000
    assert outcome.ok
    rows = {(r[0], r[2]): r for r in outcome.rows}
    assert len(rows) == 4
    for w in (1.5, 9.0):
        assert rows[(w, 1)][3] == 1.0 and rows[(w, 1)][4] == 1.0
        assert rows[(w, 24)][3] < 0.9 and rows[(w, 24)][4] < 0.75  # 24 patterns of 4 cells in 40 PCs
    assert rows[(1.5, 24)][3] < rows[(9.0, 24)][3]  # the published inhibition merges more
    res = read_results(out)
    assert res.complete and sorted(res.trials) == [0, 1, 2, 3]
    trial = res.trials[1]
    assert trial.attrs["n_patterns"] == 24 and trial.attrs["active"] == 4
    assert trial.metrics["accuracy"][0].shape == (24,)
    assert float(trial.metrics["accuracy"][0].mean()) == pytest.approx(rows[(1.5, 24)][3])


def test_capacity_experiment_resumes_after_a_failure(tmp_path, monkeypatch) -> None:
    real, calls = cap.trial, []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("killed")
        return real(*args, **kwargs)

    out = tmp_path / "resumed.h5"
    monkeypatch.setattr(cap, "trial", failing)
    with pytest.raises(RuntimeError, match="killed"):
        cap.run(out=out, **TINY)
    assert not out.exists() and len(read_results(out).trials) == 2
    monkeypatch.setattr(cap, "trial", real)
    resumed = cap.run(out=out, resume=True, **TINY)
    clean = cap.run(out=tmp_path / "clean.h5", **TINY)
    assert resumed.rows == clean.rows
    assert len(read_results(out).meta["resume_times"]) == 1


def test_hopfield_baseline_recalls_below_0_1_n_and_fails_well_above_0_14_n() -> None:
    n = 200
    rng = np.random.default_rng(0)
    patterns = random_patterns(rng, 60, n, n // 2)
    cues = np.array([partial_cue(rng, p, 0.5) for p in patterns])

    def scores(p: int) -> tuple[float, float]:
        memory = cap.hopfield_baseline(patterns[:p], seed=1)
        assert isinstance(memory, Hopfield) and memory.n_stored == p
        assert memory.params.activity == 0.5 and memory.params.threshold == 0.0 and memory.params.update == "async"
        out = memory.recall_many(cues[:p])
        return float(jaccard(out, patterns[:p]).mean()), float(np.all(out == patterns[:p], axis=1).mean())

    assert scores(10) == (1.0, 1.0)  # 0.05 N
    assert scores(20)[0] > 0.9  # 0.1 N
    acc, perfect = scores(60)  # 0.3 N
    assert perfect == 0.0 and acc < 0.7




def test_hopfield_baseline_centres_the_rule_on_the_patterns_activity() -> None:
    """Sparse patterns: m = 2 f - 1 from the patterns' mean, the weights are the covariance rule."""
    rng = np.random.default_rng(2)
    patterns = random_patterns(rng, 6, 40, 4)
    memory = cap.hopfield_baseline(patterns, seed=0)
    assert memory.params.activity == pytest.approx(0.1)
    c = 2.0 * patterns - 1.0 + 0.8
    want = c.T @ c / 40
    np.fill_diagonal(want, 0.0)
    np.testing.assert_allclose(memory.weights, want, atol=1e-12)
