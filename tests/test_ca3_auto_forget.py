"""The search for a forget operation of the autoassociative CA3 circuit (neurosim run ca3-auto-forget)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from neurosim.experiments import ca3_auto_forget as af
from neurosim.models.ca3_auto import PC_RULE, CA3AutoParams, build_network, weight_matrix
from neurosim.simulator import Simulator

PUBLISHED = CA3AutoParams()


def test_protocols_are_every_dg_pattern_once() -> None:
    p = af.protocols(2, 3)
    assert p.shape == (64, 2, 3)
    assert len({tuple(x.ravel()) for x in p}) == 64


def test_the_copies_learn_exactly_as_the_published_circuit() -> None:
    """Each copy of the block network ends with the weights the 15-cell circuit gives its assembly."""
    patterns = af.protocols(2, 3)[[1, 5, 22, 63]]
    got = af.apply(np.full((len(patterns), 2), 12.0), patterns, PUBLISHED, "numba", None)
    for pattern, w in zip(patterns, got, strict=True):
        stored = np.zeros((15, 15))
        stored[0, 1] = stored[1, 0] = 12.0
        sim = Simulator(build_network(15, stored[~np.eye(15, dtype=bool)], PUBLISHED, plastic=True))
        cell, tick = np.nonzero(pattern)
        sim.add_spikes("dg", tick.astype(float), cell)
        sim.learning = True
        sim.run(float(PUBLISHED.operation_ms))
        full = weight_matrix(sim.weights("pc_pc"), 15)
        sim.close()
        np.testing.assert_array_equal(w, [full[0, 1], full[1, 0]])


def test_the_completion_threshold_is_the_one_the_model_derives() -> None:
    # g (w - w_inh) >= v_thresh - v_rest with g = 0.911 mV/nA (models/ca3_auto.py): w >= 6.99 nA
    assert af.completion_threshold(PUBLISHED, "numba", None) == pytest.approx(6.99, abs=0.02)


def test_no_protocol_forgets_an_assembly_under_the_published_rule() -> None:
    r = af.search(2, 4, 2, PUBLISHED, "numba", None)
    assert r["completes_first_pass"].any(axis=1).all()
    assert r["best_weights"].max(axis=1).min() == pytest.approx(7.27, abs=0.01)  # the oscillation's fixed point
    r3 = af.search(3, 3, 1, PUBLISHED, "numba", None)
    assert r3["completes_first_pass"].any(axis=1).all()
    assert r3["best_weights"][0].max() > 9  # a link between cells that fire together is potentiated back


def test_the_search_finds_a_forget_where_depression_wins() -> None:
    """The search can fail: with A- = w_max (12 nA) the alternating oscillation wipes a pair."""
    strong = CA3AutoParams(rule=replace(PC_RULE, A_minus=1.0))
    r = af.search(2, 3, 1, strong, "numba", None)
    assert (~r["completes_first_pass"].any(axis=1)).any()


def test_the_run_writes_its_table_and_figure(tmp_path) -> None:
    out = tmp_path / "a.h5"
    outcome = af.run(out=out, progress=False, passes=1)
    assert [r[:2] for r in outcome.rows] == [list(c) for c in af.QUICK_CASES]
    assert all(r[-1] == 0 for r in outcome.rows)  # no protocol forgets
    assert all(f.exists() for f in outcome.files)
    with pytest.raises(ValueError, match=r"^passes = 0 is not allowed"):
        af.run(out=tmp_path / "b.h5", passes=0)
