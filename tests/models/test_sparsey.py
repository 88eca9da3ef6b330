"""Sparsey's macrocolumn: the numba kernel against the numpy reference and hand computations, the
properties the Code Selection Algorithm promises, the memory protocol, the hierarchy, bad input."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from scipy.stats import chisquare

from neurosim.memory import Memory, add_bits, drop_bits, random_patterns
from neurosim.models.sparsey import MAC, CSAParams, SparseyMemory, code_overlap
from neurosim.models.sparsey_hierarchy import Hierarchy, Level
from neurosim.models.sparsey_reference import csa_reference, step_reference


def _csr_rows(x: np.ndarray) -> list[np.ndarray]:
    return [np.flatnonzero(r) for r in x]


@pytest.mark.parametrize("params", [CSAParams(), CSAParams(sigmoid_width=0.05, g_low=0.3, gamma=1.5, chi=20.0,
                                                           lambda_u=2.0, lambda_h=0.5, lambda_d=1.5)])
def test_kernel_equals_reference_with_u_h_and_d(params) -> None:
    """A sequence run with all three sources: identical codes, G and weights to the numpy reference."""
    rng = np.random.default_rng(1)
    q, k, n_in, n_d = 6, 5, 60, 12
    x = random_patterns(rng, 80, n_in, 8)
    d = random_patterns(rng, 80, n_d, 3)
    d[::7] = False  # some steps without top-down input
    uniforms = rng.random((80, q))
    mac = MAC(n_in, q, k, params=params, horizontal=True, n_top_down=n_d)
    got = []
    for t in range(80):  # one item per call: the uniforms of each call are its first rng draw
        got.append(mac.present(x[t], _Fixed(uniforms[t]), sequence=True, top_down=d[t]))
        if t % 20 == 19:
            mac.end_sequence()
    w = {"u": np.zeros((n_in, q * k), np.uint8), "h": np.zeros((q * k, q * k), np.uint8),
         "d": np.zeros((n_d, q * k), np.uint8)}
    prev = None
    for t in range(80):
        active = {"u": np.flatnonzero(x[t]), "d": np.flatnonzero(d[t])}
        if prev is not None:
            active["h"] = prev
        code, g = step_reference(w, active, q, k, params, uniforms[t])
        assert np.array_equal(got[t].cells[0], code), t
        assert got[t].familiarity[0] == pytest.approx(g, abs=1e-12)
        prev = None if t % 20 == 19 else code
    for s in ("u", "h", "d"):
        assert np.array_equal(getattr(mac, s), w[s])
    assert 0.1 < np.mean([c.familiarity[0] for c in got]) < 1.0  # the run visits the graded regime


class _Fixed:
    """A stand-in Generator whose ``random`` returns given uniforms (to feed the reference the same draws)."""

    def __init__(self, u: np.ndarray) -> None:
        self.u = np.asarray(u)

    def random(self, shape):
        return self.u.reshape(shape)


def test_one_step_by_hand() -> None:
    """q = 2 CMs of k = 2 cells, 4 inputs, weights set by hand: V, G, eta, mu and rho from the formulas."""
    p = CSAParams()
    mac = MAC(4, 2, 2, params=p)
    mac.u[[0, 1, 2], 0] = 1       # cell 0 (CM 0) learned inputs 0, 1, 2
    mac.u[[0], 1] = 1             # cell 1 (CM 0) learned input 0
    mac.u[[1, 3], 3] = 1          # cell 3 (CM 1) learned inputs 1, 3
    v, g, rho = mac.probabilities(np.array([1, 1, 0, 1]))   # 3 active inputs
    assert np.allclose(v, [[2 / 3, 1 / 3], [0.0, 2 / 3]])
    assert g == pytest.approx(2 / 3)
    eta = 1 + ((2 / 3 - 0.1) / 0.9) ** 2 * 100 * 2

    def mu(x):
        return (eta - 1) / (1 + math.exp(-(100 * x - 50) / 15)) + 1

    assert rho[0, 0] == pytest.approx(mu(2 / 3) / (mu(2 / 3) + mu(1 / 3)), rel=1e-12)
    assert rho[1, 1] == pytest.approx(mu(2 / 3) / (mu(2 / 3) + mu(0.0)), rel=1e-12)
    code = mac.present(np.array([1, 1, 0, 1]), recognize=True, learn=False)
    assert code.cells[0].tolist() == [0, 3] and code.familiarity[0] == pytest.approx(2 / 3)


def test_novel_input_gets_uniform_win_probabilities() -> None:
    """G <= G_low makes eta = 1: rho is exactly 1/K; winners of novel inputs are uniform (chi-square)."""
    rng = np.random.default_rng(2)
    mac = MAC(400, 10, 8)
    off = np.zeros((3000, 200), bool)
    mac.present(np.hstack([random_patterns(rng, 20, 200, 10), off[:20]]), rng)
    novel = np.hstack([off, random_patterns(rng, 3000, 200, 10)])  # on units no stored item used
    _, g, rho = mac.probabilities(novel[0])
    assert g == 0.0 and np.all(rho == 1 / 8)
    codes = mac.present(novel, rng, learn=False)
    assert np.all(codes.familiarity == 0.0)
    counts = np.bincount((codes.cells % 8).ravel(), minlength=8)
    assert chisquare(counts).pvalue > 1e-3
    # a random novel input at low load: G near G_low, every rho within 2% of 1/K
    _, g, rho = mac.probabilities(random_patterns(rng, 1, 400, 10)[0])
    assert g < 0.3 and np.abs(rho - 1 / 8).max() < 0.02


def test_familiar_input_reactivates_its_code_in_learning_mode() -> None:
    """G -> 1 makes the noise fall: an identical re-presentation gets most of its code back, a novel one ~1/K."""
    rng = np.random.default_rng(3)
    mac = MAC(784, 20, 20, params=CSAParams(sigmoid_width=0.05))
    x = random_patterns(rng, 30, 784, 30)
    first = mac.present(x, rng).cells
    again = mac.present(x, rng, learn=False).cells
    assert code_overlap(first, again).mean() >= 18
    novel = mac.present(random_patterns(rng, 30, 784, 30), rng, learn=False).cells
    assert code_overlap(first, novel).mean() <= 3


def test_stored_inputs_have_g_one_and_recognition_is_deterministic() -> None:
    rng = np.random.default_rng(4)
    mac = MAC(784, 20, 20)
    x = random_patterns(rng, 100, 784, 20)
    learned = mac.present(x, rng)
    r1 = mac.present(x, recognize=True, learn=False)
    r2 = mac.present(x, recognize=True, learn=False)
    assert np.all(r1.familiarity == 1.0)
    assert np.array_equal(r1.cells, r2.cells)
    assert np.array_equal(r1.cells, learned.cells)  # below capacity the stored code comes back exactly


def test_memory_protocol_store_recall_recognize_reset() -> None:
    rng = np.random.default_rng(5)
    mem = SparseyMemory(400, q=20, k=20, seed=7)
    assert isinstance(mem, Memory)
    items = random_patterns(rng, 40, 400, 20)
    for it in items:
        mem.store(it)
    for it in items:
        assert np.array_equal(mem.recall(it), it)
        assert mem.recognize(it) == 1.0
        cue = add_bits(rng, drop_bits(rng, it, 4), 4)  # 20% of the bits moved
        assert np.array_equal(mem.recall(cue), it)
    novel = random_patterns(rng, 40, 400, 20)
    assert max(mem.recognize(n) for n in novel) < min(mem.recognize(add_bits(rng, drop_bits(rng, it, 4), 4))
                                                      for it in items)
    mem.reset()
    assert mem.recognize(items[0]) == 0.0 and not mem.recall(items[0]).any()


def test_determinism_by_seed() -> None:
    rng = np.random.default_rng(6)
    items = random_patterns(rng, 50, 300, 15)
    a = SparseyMemory(300, q=10, k=10, seed=1).store_many(items).cells
    b = SparseyMemory(300, q=10, k=10, seed=1).store_many(items).cells
    c = SparseyMemory(300, q=10, k=10, seed=2).store_many(items).cells
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    # one batch call gives the same codes as one call per item
    one = SparseyMemory(300, q=10, k=10, seed=1)
    for it in items:
        one.store(it)
    ref = SparseyMemory(300, q=10, k=10, seed=1)
    ref.store_many(items)
    assert np.array_equal(one.mac.u, ref.mac.u)


def test_silent_below_min_active_and_freezing() -> None:
    rng = np.random.default_rng(8)
    mac = MAC(100, 4, 4, params=CSAParams(min_active=5))
    few = np.zeros(100, bool)
    few[:4] = True
    c = mac.present(few, rng)
    assert c.cells.tolist() == [[-1] * 4] and c.familiarity[0] == 0.0 and mac.u.sum() == 0
    frozen = MAC(100, 4, 4, params=CSAParams(freeze_fraction=0.05))
    items = random_patterns(rng, 40, 100, 10)
    frozen.present(items[:3], rng)  # 3 x 10 x 4 = 120 of 1600 weights: 7.5% >= 5%
    assert frozen.frozen
    before = frozen.u.copy()
    frozen.present(items[3:], rng)
    assert np.array_equal(frozen.u, before)


def test_reconstruct_reads_the_weights_backwards() -> None:
    mac = MAC(6, 2, 3)
    mac.u[[0, 1, 2], 0] = 1
    mac.u[[1, 2, 5], 4] = 1
    assert mac.reconstruct(np.array([0, 4]), 1.0)[0].tolist() == [False, True, True, False, False, False]
    assert mac.reconstruct(np.array([0, 4]), 0.5)[0].tolist() == [True, True, True, False, False, True]
    assert not mac.reconstruct(np.array([-1, -1]))[0].any()


def test_csa_reference_matches_formulas_with_absent_sources() -> None:
    """Sources with no active unit drop out of the product (H alone codes a sequence step)."""
    w = {"u": np.zeros((3, 4), np.uint8), "h": np.eye(4, dtype=np.uint8)}
    v, g, _ = csa_reference(w, {"u": np.array([], int), "h": np.array([1, 2])}, 2, 2, CSAParams())
    assert v.tolist() == [0.0, 0.5, 0.5, 0.0] and g == 0.5


def test_hierarchy_shapes_and_level1_familiarity() -> None:
    rng = np.random.default_rng(9)
    h = Hierarchy((8, 8), (Level(4, 4, 5, 4), Level(2, 1, 6, 5, min_active=5)))
    assert [len(m) for m in h.macs] == [4, 1] and h.macs[1][0].n_inputs == 4 * 5 * 4
    imgs = rng.random((12, 8, 8)) < 0.5
    imgs[0, :4, :4] = False  # a blank patch: that level-1 MAC is silent
    codes = h.present(imgs, rng)
    assert codes[0].shape == (12, 4, 5) and codes[1].shape == (12, 1, 6)
    assert np.all(codes[0][0, 0] == -1) and np.all(codes[0][1:, 0] >= 0)
    l1 = [m.present(imgs[:, r:r + 4, c:c + 4].reshape(12, -1), recognize=True, learn=False)
          for m, (r, c) in zip(h.macs[0], [(0, 0), (0, 4), (4, 0), (4, 4)], strict=True)]
    fam = np.array([c.familiarity for c in l1])
    assert np.all(fam[1:] == 1.0) and np.all(fam[0, 1:] == 1.0)


@pytest.mark.parametrize(("make", "field"), [
    (lambda: MAC(10, 0, 5), "q"),
    (lambda: MAC(10, 5, 0), "k"),
    (lambda: MAC(0, 5, 5), "n_inputs"),
    (lambda: MAC(10, 2, 2).present(np.ones(9), np.random.default_rng(0)), "inputs shape"),
    (lambda: MAC(10, 2, 2).present(np.full(10, 2), np.random.default_rng(0)), "inputs"),
    (lambda: MAC(10, 2, 2).present(np.ones(10)), "rng"),
    (lambda: MAC(10, 2, 2).present(np.ones(10), np.random.default_rng(0), sequence=True), "sequence"),
    (lambda: CSAParams(g_low=1.5), "g_low"),
    (lambda: CSAParams(sigmoid_width=0.0), "sigmoid_width"),
    (lambda: CSAParams(min_active=0), "min_active"),
    (lambda: SparseyMemory(10, q=2, k=2).store(np.ones(11)), "item shape"),
    (lambda: SparseyMemory(10, q=2, k=2, recall_threshold=1.5), "recall_threshold"),
    (lambda: Hierarchy((8, 8), (Level(10, 1, 2, 2),)), "levels[0].rf"),
    (lambda: Hierarchy((8, 8), (Level(4, 4, 2, 2),)).present(np.zeros((2, 8, 7)), None), "images shape"),
])
def test_bad_input_names_the_field(make, field) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(field) + " = .* is not allowed"):
        make()


def test_the_torch_engine_chooses_the_numba_kernels_codes() -> None:
    """Fed the same uniforms, torch (float64) picks the same winners as numba with U, H and D inputs, silent
    rows (min_active), freezing, recognition and reconstruction, and learns the same weights."""
    rng = np.random.default_rng(12)
    x = random_patterns(rng, 30, 50, 5)
    x[3] = False
    x[4, 1:] = False
    top = random_patterns(rng, 30, 20, 3)
    runs = {}
    for backend in ("numba", "torch"):
        draws = np.random.default_rng(1)
        mac = MAC(50, 5, 4, horizontal=True, n_top_down=20, backend=backend, device="cpu",
                  params=CSAParams(min_active=2, freeze_fraction=0.3))
        learned = mac.present(x, draws, sequence=True, top_down=top)
        coded = mac.present(x, draws, sequence=True, top_down=top, learn=False)
        seen = mac.present(x, top_down=top, learn=False, recognize=True, require_input=False)
        runs[backend] = (learned.cells, learned.familiarity, coded.cells, seen.cells, seen.familiarity,
                         mac.u, mac.h, mac.d, mac.prev, mac.frozen, mac.reconstruct(seen.cells, 0.5))
    assert runs["numba"][9]  # froze on the way
    for a, b in zip(runs["numba"], runs["torch"], strict=True):
        np.testing.assert_array_equal(a, b)
