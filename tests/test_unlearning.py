"""The unlearning harness: what each condition must show, determinism, resume after a kill, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim.experiments import unlearning
from neurosim.experiments.unlearning import OVERLAPS, auc
from neurosim.io import read_results

TINY = {"n_units": 200, "n_reps": 1, "n_targets": 3, "n_filler": 4, "n_interference": 10, "max_exposures": 2,
        "progress": False, "workers": 1}


def _arrays(path) -> dict[tuple[str, str, str], dict[str, np.ndarray]]:
    res = read_results(path)
    return {(t.attrs["model"], t.attrs["method"], t.attrs["condition"]): {k: v[0] for k, v in t.metrics.items()}
            for t in res.trials.values()}


def test_auc_is_the_mann_whitney_area() -> None:
    assert auc(np.array([2.0, 3.0]), np.array([0.0, 1.0])) == 1.0
    assert auc(np.array([0.0]), np.array([1.0])) == 0.0
    assert auc(np.array([1.0, 1.0]), np.array([1.0])) == 0.5
    assert auc(np.array([1.0, 3.0]), np.array([2.0])) == 0.5


def test_every_model_that_can_forget_takes_part_with_each_of_its_methods() -> None:
    tasks = unlearning.tasks(models=unlearning.forgetting_models(), seed=0, n_reps=1, n_units=200, sparsity=0.1,
                             n_targets=2, n_filler=1, n_interference=1, max_exposures=1, backend="numba")
    got = {(t.model, t.method, t.condition) for t in tasks}
    assert ("hopfield", "unlearning", "single") in got and ("hopfield", "exact", "group") in got
    assert ("dendrites", "segments", "single") in got and ("sparsey", "-", "interference") in got
    assert "ca3" not in unlearning.forgetting_models()  # keyed: more items than keys here; tested on its own


def test_exact_removal_leaves_no_trace_and_interference_leaves_one(tmp_path) -> None:
    """Dense memories with exact removal: a forgotten target is as familiar as its control (a never-stored item with
    the same stored neighbours), in every repetition; after interference the targets stand out (AUC 1)."""
    path = tmp_path / "u.h5"
    out = unlearning.run(out=path, models=("dam-exp", "hopfield"), **{**TINY, "n_reps": 2})
    d = _arrays(path)
    single = d[("dam-exp", "exact", "single")]
    assert single["fam_forgotten"].shape == (2, 3)
    assert auc(single["fam_forgotten"], single["fam_control"]) == pytest.approx(0.5, abs=0.25)
    interfered = d[("dam-exp", "-", "interference")]
    assert auc(interfered["fam_forgotten"], interfered["fam_control"]) == 1.0
    group = d[("hopfield", "exact", "group")]
    assert np.isnan(group["recall_neighbours_after"][:, 0]).all()  # the 0.8 neighbours were forgotten too
    assert np.isfinite(group["recall_neighbours_after"][:, 1:]).all()
    assert group["recall_neighbours_before"].shape == (2, len(OVERLAPS), 3)
    assert [r[:3] for r in out.rows][:2] == [["dam-exp", "exact", "single"], ["dam-exp", "exact", "group"]]
    assert all(f.exists() for f in out.files)
    t = next(iter(read_results(path).trials.values()))
    assert t.metrics["exposures_forgotten"][1] == "presentations"


def test_the_same_seed_gives_the_same_results_and_a_killed_run_resumes_to_them(tmp_path, monkeypatch) -> None:
    whole, cut = tmp_path / "whole.h5", tmp_path / "cut.h5"
    unlearning.run(out=whole, models=("sparsey",), seed=4, **TINY)
    real, calls = unlearning.run_task, []

    def dies_on_the_second(task):
        calls.append(task.index)
        if len(calls) == 2:
            raise KeyboardInterrupt  # as a kill: the run stops between tasks
        return real(task)

    monkeypatch.setattr(unlearning, "run_task", dies_on_the_second)
    with pytest.raises(KeyboardInterrupt):
        unlearning.run(out=cut, models=("sparsey",), seed=4, **TINY)
    assert not cut.exists() and len(read_results(cut).trials) == 1
    monkeypatch.setattr(unlearning, "run_task", real)
    unlearning.run(out=cut, models=("sparsey",), seed=4, resume=True, **TINY)
    dw, dc = _arrays(whole), _arrays(cut)
    assert dw.keys() == dc.keys() and len(dw) == 3
    for key in dw:
        for k in dw[key]:
            np.testing.assert_array_equal(dw[key][k], dc[key][k], err_msg=f"{key} {k}")


@pytest.mark.parametrize("condition", ["single", "group", "interference"])
def test_savings_relearn_on_a_rebuilt_memory_equal_to_the_one_forgetting_left(condition, monkeypatch) -> None:
    task = unlearning.tasks(models=("hopfield",), seed=2, n_reps=1, n_units=200, sparsity=0.1, n_targets=2,
                            n_filler=3, n_interference=5, max_exposures=1, backend="numba")
    task = next(t for t in task if t.condition == condition and t.method in ("exact", "-"))
    seen = []

    def capture(rebuilt, items, cues, levels, max_exposures):
        with rebuilt() as copy:
            seen.append(copy.weights)
        return np.zeros(len(items))

    monkeypatch.setattr(unlearning, "_relearn", capture)
    with unlearning._model(task, 0) as memory:
        unlearning._one(memory, task, 0)
        np.testing.assert_array_equal(seen[0], memory.weights)
    assert len(seen) == 2


def test_worker_processes_give_the_same_results(tmp_path) -> None:
    unlearning.run(out=tmp_path / "one.h5", models=("dendrites",), **TINY)
    unlearning.run(out=tmp_path / "two.h5", models=("dendrites",), **{**TINY, "workers": 2})
    one, two = _arrays(tmp_path / "one.h5"), _arrays(tmp_path / "two.h5")
    assert one.keys() == two.keys()
    for key in one:
        for k in one[key]:
            np.testing.assert_array_equal(one[key][k], two[key][k], err_msg=f"{key} {k}")


def test_bad_input_names_the_field(tmp_path) -> None:
    with pytest.raises(ValueError, match=r"^models = 'ca3' is not allowed: names from \['hopfield'"):
        unlearning.run(out=tmp_path / "x.h5", models=("ca3",))
    with pytest.raises(ValueError, match=r"^sparsity = 0.9 is not allowed"):
        unlearning.run(out=tmp_path / "x.h5", sparsity=0.9)
    with pytest.raises(ValueError, match=r"^n_targets = 0 is not allowed"):
        unlearning.run(out=tmp_path / "x.h5", n_targets=0)
    assert not (tmp_path / "x.h5").exists()
