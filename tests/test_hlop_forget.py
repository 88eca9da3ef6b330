"""Forgetting one task of the HLOP-trained spiking MLP, at a small size: the methods do what they claim."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim.experiments import hlop_continual as hc
from neurosim.experiments import hlop_forget as hf
from neurosim.io import read_results

SMALL = hc.Settings(hidden=(64,), epochs=2, k_first=(20, 20), k_next=(4, 8), hebbian_epochs=20)


def test_ascent_forgets_the_task_and_the_table_is_complete(tmp_path) -> None:
    out = tmp_path / "f.h5"
    outcome = hf.run(out=out, n_tasks=3, forget=1, max_epochs=5, settings=SMALL, progress=False)
    assert [r[0] for r in outcome.rows] == list(hf.METHODS)
    assert all(f.exists() for f in outcome.files)
    res = {t.attrs["method"]: {k: v[0] for k, v in t.metrics.items()} for t in read_results(out).trials.values()}
    ascent = res["ascent"]
    assert ascent["accuracy_before"][1] > 0.5  # it had learned the task
    assert ascent["accuracy_after"][1] <= 0.1 + hf.MARGIN + 0.1  # and ascent took it to chance (training set)
    assert 0 < ascent["updates"][0] < 5 * 400
    assert np.isnan(res["retrain"]["accuracy_before"]).all() and res["retrain"]["updates"][0] == 0
    # the three ascents start from one trained network
    np.testing.assert_array_equal(res["ascent"]["accuracy_before"], res["ascent-projected"]["accuracy_before"])


def test_the_protected_subspaces_are_projectors_onto_the_kept_tasks() -> None:
    import torch

    tasks = hf.make_tasks("permuted", 3, 0)
    net, rows = hf.train(tasks, [0, 1, 2], SMALL, 0, None)
    for p in hf._kept_projectors(rows, forgotten=0):
        torch.testing.assert_close(p @ p, p, atol=1e-4, rtol=0)  # idempotent: an orthogonal projector
    full = hf._activity_projectors(net, tasks, [1, 2], SMALL)
    rates = hc._activity(net, torch.as_tensor(tasks.train(1)[0]), False)
    for p, a in zip(full, rates, strict=True):
        kept = float(((a @ p) ** 2).sum() / (a**2).sum())
        assert kept >= hf.ENERGY - 0.05  # the kept task's activity lies (almost) inside it


def test_bad_input_names_the_field(tmp_path) -> None:
    with pytest.raises(ValueError, match=r"^forget = 3 is not allowed: a task in \[0, 2\]"):
        hf.run(out=tmp_path / "x.h5", n_tasks=3, forget=3)
    with pytest.raises(ValueError, match=r"^max_epochs = 0 is not allowed"):
        hf.run(out=tmp_path / "x.h5", max_epochs=0)
    assert not (tmp_path / "x.h5").exists()
