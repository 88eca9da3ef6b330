"""The forgetting harness: invariants of the protocols, determinism, resume after a kill, the parallel paths."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim.cli import main
from neurosim.experiments import forgetting
from neurosim.experiments.forgetting import full_steps
from neurosim.io import read_results

TINY = {"n_reps": 1, "n_study": 6, "n_probe": 6, "sparsities": (0.1,), "max_items": 20, "progress": False,
        "workers": 1}


def _arrays(path) -> dict[tuple[str, str], dict[str, np.ndarray]]:
    res = read_results(path)
    return {(t.attrs["model"], t.attrs["condition"]): {k: v[0] for k, v in t.metrics.items()}
            for t in res.trials.values()}


def test_full_steps_are_log_spaced_decades() -> None:
    assert full_steps(1000) == (0, *range(1, 10), *range(10, 100, 10), *range(100, 1000, 100), 1000)
    assert full_steps(150)[-3:] == (90, 100, 150)


def test_no_interference_gives_perfect_recall_and_recognition(tmp_path) -> None:
    """Models that guarantee exact recall of a few stored items: at probe 0, every cue type recalls
    the item exactly and every studied item beats every novel foil."""
    out = tmp_path / "f.h5"
    models = ("sparsey", "dam-exp", "ca3")
    forgetting.run(out=out, models=models, **TINY)
    data = _arrays(out)
    for m in models:
        r = data[(m, "retention-none")]
        assert r["steps"][0] == 0
        for cue in ("half", "random50", "noisy"):
            assert np.all(r[f"recall_{cue}"][:, 0] == 1.0), (m, cue)
        assert np.all(r["afc_novel"][:, 0] == 1.0), m
        assert r["familiarity"].min() >= 0.0 and r["familiarity"].max() <= 1.0
        assert sorted(r["exposures"][0].tolist()) == [1, 1, 1, 3, 3, 3]


def test_hopfield_recall_never_rises_above_its_lightest_load(tmp_path) -> None:
    """Capacity protocol (nested loads): a Hopfield network's recall at any load is at most its value at
    one stored item, which is exact."""
    out = tmp_path / "h.h5"
    forgetting.run(out=out, models=("hopfield",), **{**TINY, "max_items": 50, "n_probe": 10,
                                                     "sparsities": (0.05, 0.1, 0.5)})
    for cond in ("capacity-f0.05", "capacity-f0.1", "capacity-f0.5"):
        c = _arrays(out)[("hopfield", cond)]
        jac = np.nanmean(c["jaccard"][0], axis=1)
        assert jac[0] == 1.0
        assert np.all(jac[1:] <= jac[0])
        assert jac[-1] < 1.0  # 50 items at N = 200 is past capacity


def test_rehearsal_budgets_are_equal_and_identical_seeds_give_identical_results(tmp_path) -> None:
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    forgetting.run(out=a, models=("sparsey",), seed=5, **TINY)
    forgetting.run(out=b, models=("sparsey",), seed=5, **TINY)
    da, db = _arrays(a), _arrays(b)
    assert da.keys() == db.keys()
    for key in da:
        for k in da[key]:
            np.testing.assert_array_equal(da[key][k], db[key][k], err_msg=f"{key} {k}")
    budgets = {s: da[("sparsey", f"retention-{s}")]["rehearsals"].sum() for s in forgetting.SCHEDULES}
    assert budgets["none"] == 0 and budgets["uniform"] == budgets["exponential"] == budgets["power"] == 20 // 4


def test_a_killed_run_resumes_to_the_uninterrupted_result(tmp_path, monkeypatch) -> None:
    whole, cut = tmp_path / "whole.h5", tmp_path / "cut.h5"
    forgetting.run(out=whole, models=("sparsey",), **TINY)
    real, calls = forgetting.run_task, []

    def dies_on_the_third(task):
        calls.append(task.index)
        if len(calls) == 3:
            raise KeyboardInterrupt  # as a kill: the run stops between tasks
        return real(task)

    monkeypatch.setattr(forgetting, "run_task", dies_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        forgetting.run(out=cut, models=("sparsey",), **TINY)
    assert not cut.exists() and len(read_results(cut).trials) == 2
    monkeypatch.setattr(forgetting, "run_task", real)
    forgetting.run(out=cut, models=("sparsey",), resume=True, **TINY)
    dw, dc = _arrays(whole), _arrays(cut)
    assert dw.keys() == dc.keys()
    for key in dw:
        for k in dw[key]:
            np.testing.assert_array_equal(dw[key][k], dc[key][k])


def test_worker_processes_and_a_dask_cluster_give_the_same_results(tmp_path) -> None:
    distributed = pytest.importorskip("distributed")
    kw = {**TINY, "models": ("sparsey",), "max_items": 10}
    forgetting.run(out=tmp_path / "one.h5", **kw)
    forgetting.run(out=tmp_path / "procs.h5", **{**kw, "workers": 2})
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as c:
        forgetting.run(out=tmp_path / "dask.h5", scheduler=c.scheduler_address, **kw)
    ref = _arrays(tmp_path / "one.h5")
    for other in ("procs.h5", "dask.h5"):
        got = _arrays(tmp_path / other)
        for key in ref:
            for k in ref[key]:
                np.testing.assert_array_equal(ref[key][k], got[key][k], err_msg=f"{other} {key} {k}")


def test_bad_input_names_the_field(tmp_path) -> None:
    with pytest.raises(ValueError, match=r"^models = 'nope' is not allowed"):
        forgetting.run(out=tmp_path / "x.h5", models=("nope",))
    with pytest.raises(ValueError, match=r"^sparsity = 1.5 is not allowed"):
        forgetting.run(out=tmp_path / "x.h5", sparsity=1.5)
    with pytest.raises(ValueError, match=r"^max_items = 0 is not allowed"):
        forgetting.run(out=tmp_path / "x.h5", max_items=0)
    assert not (tmp_path / "x.h5").exists()


def test_cli_options_only_for_experiments_that_take_them(tmp_path, capsys) -> None:
    assert main(["run", "sparsey-digits", "--full", "--out", str(tmp_path / "d.h5")]) == 2
    assert "--full is not allowed for sparsey-digits" in capsys.readouterr().err


def test_the_dendritic_memory_recognizes_every_studied_item_before_interference(tmp_path) -> None:
    """Each active unit of a stored item has a segment with all its synapses on the item: familiarity 1."""
    out = tmp_path / "d.h5"
    forgetting.run(out=out, models=("dendrites",), **TINY)
    r = _arrays(out)[("dendrites", "retention-none")]
    assert np.all(r["familiarity"][:, 0] == 1.0)
    assert np.all(r["afc_novel"][:, 0] == 1.0)
    assert r["recall_half"][:, 0].mean() >= 0.9


def test_the_engine_asked_for_runs_and_gives_the_same_curves(tmp_path) -> None:
    """Every registered memory runs on numba and torch: the harness on torch (float64) writes the same
    arrays as on numba and records the engine in /meta."""
    runs = {}
    for backend in ("numba", "torch"):
        out = tmp_path / f"{backend}.h5"
        forgetting.run(out=out, backend=backend, device="cpu", models=("hopfield", "sparsey", "dendrites"), **TINY)
        runs[backend] = _arrays(out)
        meta = read_results(out).meta
        assert (meta["backend"], meta["device"], meta["dtype"]) == (backend, "cpu", "float64")
    assert runs["numba"].keys() == runs["torch"].keys()
    for key, arrays in runs["numba"].items():
        for k, v in arrays.items():
            np.testing.assert_array_equal(runs["torch"][key][k], v, err_msg=f"{key} {k}")
    with pytest.raises(ValueError, match=r"backend = 'reference' is not allowed for forgetting"):
        forgetting.run(out=tmp_path / "x.h5", backend="reference", models=("hopfield",), **TINY)
