"""The HLOP continual-learning experiment at a small size: every method runs on both scenarios, the projection
methods protect what they should, results are deterministic and resumable."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim.experiments import hlop_continual as hc
from neurosim.io import read_results

SMALL = hc.Settings(hidden=(64,), epochs=2, k_first=(20, 20), k_next=(4, 8), hebbian_epochs=20,
                    fisher_samples=20)


def test_every_method_runs_on_both_scenarios_and_the_table_is_complete(tmp_path) -> None:
    out = tmp_path / "h.h5"
    outcome = hc.run(out=out, n_tasks=3, settings=SMALL, progress=False)
    assert [(r[0], r[1]) for r in outcome.rows] == [(s, m) for s in hc.SCENARIOS for m in hc.METHODS]
    assert all(f.exists() for f in outcome.files)
    res = read_results(out)
    by = {(t.attrs["scenario"], t.attrs["method"]): t for t in res.trials.values()}
    r = by[("permuted", "hlop")].metrics["accuracy"][0]
    assert r.shape == (3, 3) and np.isnan(r[2, 0]) and np.all(np.isfinite(r[np.triu_indices(3)]))
    assert by[("split", "finetune")].metrics["accuracy"][0].shape == (5, 5)
    # the split scenario never projects its (multi-head) output layer: two projected layer inputs there
    dims = by[("split", "gpm")].metrics["subspace_dims"][0]
    assert dims.shape == (5, 1)
    assert dims[:4, 0].tolist() == [20, 24, 28, 32]
    assert by[("permuted", "gpm")].metrics["subspace_dims"][0].shape == (3, 2)
    energy = by[("permuted", "hlop")].metrics["hebbian_energy"][0]
    assert np.nanmin(energy) > 0.8


def test_projection_keeps_old_tasks_better_than_fine_tuning() -> None:
    s = hc.Settings(hidden=(128,), epochs=4, k_first=(60, 60), k_next=(4, 20), hebbian_epochs=100)
    base = hc.sequential("finetune", "permuted", n_tasks=3, s=s, seed=0)["accuracy"]
    hlop = hc.sequential("hlop", "permuted", n_tasks=3, s=s, seed=0)["accuracy"]
    from neurosim.experiments.continual import acc_bwt

    assert acc_bwt(hlop)[1] > acc_bwt(base)[1] + 0.1
    # the first task, learned before any projection, is the same network in both runs
    assert hlop[0, 0] == base[0, 0]


def test_identical_seeds_give_identical_matrices() -> None:
    a = hc.sequential("ewc", "split", n_tasks=5, s=SMALL, seed=3)["accuracy"]
    b = hc.sequential("ewc", "split", n_tasks=5, s=SMALL, seed=3)["accuracy"]
    assert np.array_equal(a, b, equal_nan=True)


@pytest.mark.parametrize(("kwargs", "field"), [({"training": "sgd"}, "training"), ({"k_first": (1,)}, "k_first"),
                                               ({"lr": 0.0}, "lr"), ({"momentum": 1.5}, "momentum")])
def test_bad_settings_name_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field} ="):
        hc.Settings(**{"hidden": (8,), **kwargs})


def test_the_results_record_the_engine_they_ran_on(tmp_path) -> None:
    hc.run(out=tmp_path / "h.h5", device="cpu", n_tasks=2, scenarios=("permuted",), methods=("finetune", "hlop"),
           settings=SMALL, progress=False)
    hc.run_online(out=tmp_path / "o.h5", device="cpu", n_tasks=2, settings=SMALL, progress=False)
    for name in ("h.h5", "o.h5"):
        meta = read_results(tmp_path / name).meta
        assert (meta["backend"], meta["device"], meta["dtype"], meta["seed"]) == ("torch", "cpu", "float32", 0)
    assert read_results(tmp_path / "o.h5").config["settings"]["training"] == "online"


@pytest.mark.parametrize(("run", "name"), [(hc.run, "hlop-continual"), (hc.run_online, "hlop-continual-online")])
def test_an_engine_the_experiment_lacks_is_refused(tmp_path, run, name: str) -> None:
    with pytest.raises(ValueError, match=rf"^backend = 'numba' is not allowed for {name}: one of \['torch'\]"):
        run(out=tmp_path / "x.h5", backend="numba", progress=False)
    assert not (tmp_path / "x.h5").exists()


@pytest.mark.gpu
def test_every_method_runs_on_cuda(tmp_path) -> None:
    outcome = hc.run(out=tmp_path / "h.h5", device="cuda", n_tasks=2, settings=SMALL, progress=False)
    assert len(outcome.rows) == len(hc.SCENARIOS) * len(hc.METHODS)
    hc.run_online(out=tmp_path / "o.h5", device="cuda", n_tasks=2, settings=SMALL, progress=False)
    assert {read_results(tmp_path / n).meta["device"] for n in ("h.h5", "o.h5")} == {"cuda"}
