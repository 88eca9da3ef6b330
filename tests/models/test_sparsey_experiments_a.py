"""sparsey-similarity and sparsey-capacity on tiny grids: stored results, the model's promised behaviour
(similar inputs -> similar codes on an empty MAC; exact recall and recognition at low load), seeds, bad
parameters, resume."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy.stats import spearmanr

from neurosim.experiments import sparsey_capacity, sparsey_similarity
from neurosim.io import read_results
from neurosim.models.sparsey import SparseyMemory

SIM = {"active": 20, "n_pairs": 210, "loads": (0, 150), "widths": (0.15, 0.05), "progress": False, "seed": 3}
CAP = {"sizes": ((20, 20), (10, 10)), "actives": (20,), "n_items": (10, 60, 1000), "progress": False, "seed": 3}


def _metrics(path) -> dict[int, dict[str, np.ndarray]]:
    return {i: {k: v[0] for k, v in t.metrics.items()} for i, t in read_results(path).trials.items()}


def test_similarity_results_and_invariants(tmp_path) -> None:
    out = tmp_path / "sim.h5"
    o = sparsey_similarity.run(out=out, **SIM)
    res = read_results(out)
    assert res.complete and res.meta["backend"] == "numba" and res.meta["seed"] == 3
    assert res.config["loads"] == [0, 150] and res.config["n_pairs"] == 210
    assert sorted(res.trials) == [0, 1, 2, 3] and len(o.rows) == 4 and o.ok
    assert all(p.exists() for p in o.files) and o.files[1].suffix == ".png"
    m = _metrics(out)
    a = SIM["active"]
    for i, row in enumerate(o.rows):
        inp, code = m[i]["input_overlap"], m[i]["code_overlap"]
        # every input overlap 0..active equally often; the table is the stored data
        np.testing.assert_array_equal(np.bincount(inp.astype(int)), np.full(a + 1, SIM["n_pairs"] // (a + 1)))
        assert row[:2] == [res.trials[i].attrs["sigmoid_width"], res.trials[i].attrs["load"]]
        assert row[2] == pytest.approx(spearmanr(inp, code).statistic)
        assert row[3] == pytest.approx(code[inp == 0].mean() / 20)
        assert row[7] == pytest.approx(code[inp == a].mean() / 20)
    for i in (0, 2):  # load 0, both widths: an empty MAC holding x only
        # G of y is exactly |x & y| / active only if each pair's weights were restored before the next pair
        np.testing.assert_allclose(m[i]["familiarity"], m[i]["input_overlap"] / a)
        assert o.rows[i][2] > 0.5
        assert o.rows[i][7] > o.rows[i][3] + 0.3  # identical inputs share far more code than disjoint ones
        assert o.rows[i][3] < 0.15  # disjoint inputs: chance agreement 1/k = 0.05
    assert o.rows[2][7] > 0.9 and o.rows[0][7] < 0.8  # the narrow sigmoid is near-deterministic at G = 1
    assert o.rows[1][2] < o.rows[0][2]  # a loaded MAC maps similarity less faithfully


def test_similarity_same_seed_same_results_other_seed_differs(tmp_path) -> None:
    small = {**SIM, "loads": (10,), "widths": (0.15,)}
    a = sparsey_similarity.run(out=tmp_path / "a.h5", **small)
    b = sparsey_similarity.run(out=tmp_path / "b.h5", **small)
    c = sparsey_similarity.run(out=tmp_path / "c.h5", **{**small, "seed": 4})
    assert a.rows == b.rows and a.rows != c.rows
    for k, v in _metrics(tmp_path / "a.h5")[0].items():
        np.testing.assert_array_equal(v, _metrics(tmp_path / "b.h5")[0][k])


def test_capacity_results_and_invariants(tmp_path) -> None:
    out = tmp_path / "cap.h5"
    o = sparsey_capacity.run(out=out, **CAP)
    res = read_results(out)
    assert res.complete and res.meta["backend"] == "numba" and res.config["sizes"] == [[20, 20], [10, 10]]
    assert len(o.rows) == 6 and o.ok and all(p.exists() for p in o.files)
    m = _metrics(out)
    rows = {(r[0], r[1], r[3]): r for r in o.rows}
    for i, (q, n) in enumerate((q, n) for (q, _) in CAP["sizes"] for _ in CAP["actives"] for n in CAP["n_items"]):
        assert (res.trials[i].attrs["q"], res.trials[i].attrs["n_items"]) == (q, n)
        assert m[i]["exact"].shape == (n,) and o.rows[i][4] == pytest.approx(m[i]["exact"].mean())
    for size in CAP["sizes"]:
        r = rows[(*size, 10)]
        assert r[4] == 1.0 and r[5] == 1.0 and r[6] == 1.0  # exact recall, Jaccard, the learned code back
        assert r[7] >= 0.95 and r[8] > r[9] + 0.5  # studied beats novel
    i = 0  # 20 x 20, N = 10: with few items each cue's G is about the fraction of its units that are the item's
    assert np.all(m[i]["g_studied"] >= 0.8 - 1e-12) and m[i]["g_studied"].mean() < 0.85
    assert rows[20, 20, 1000][4] < 0.2 and rows[20, 20, 1000][7] < rows[20, 20, 10][7]  # over capacity
    assert rows[10, 10, 1000][4] == 0.0 and rows[10, 10, 60][4] < rows[20, 20, 60][4] + 1e-12


def test_capacity_is_nested_and_seeded(tmp_path) -> None:
    small = {**CAP, "sizes": ((20, 20),), "n_items": (5, 40)}
    a = sparsey_capacity.run(out=tmp_path / "a.h5", **small)
    b = sparsey_capacity.run(out=tmp_path / "b.h5", **small)
    c = sparsey_capacity.run(out=tmp_path / "c.h5", **{**small, "seed": 4})
    assert a.rows == b.rows and _metrics(tmp_path / "c.h5")[1]["g_novel"].tolist() != \
        _metrics(tmp_path / "a.h5")[1]["g_novel"].tolist()
    assert c.ok
    # the first 5 items are the same in both runs: the novel foils' G differ only through the extra items
    m = _metrics(tmp_path / "a.h5")
    assert np.all(m[1]["g_novel"][:5] >= m[0]["g_novel"] - 1e-12)


def test_default_recall_threshold_is_sparsey_memorys() -> None:
    import inspect

    default = inspect.signature(sparsey_capacity.run).parameters["recall_threshold"].default
    assert default == inspect.signature(SparseyMemory).parameters["recall_threshold"].default


@pytest.mark.parametrize(("module", "kw", "field"), [
    (sparsey_similarity, {"widths": (0.1, -0.05)}, "widths"),
    (sparsey_similarity, {"loads": (0, -1)}, "loads"),
    (sparsey_similarity, {"active": 500}, "active"),
    (sparsey_similarity, {"n_pairs": 1}, "n_pairs"),
    (sparsey_capacity, {"corruption": 1.5}, "corruption"),
    (sparsey_capacity, {"sizes": ((20, 0),)}, "sizes (k)"),
    (sparsey_capacity, {"n_items": (10, 0)}, "n_items"),
    (sparsey_capacity, {"recall_threshold": -0.1}, "recall_threshold"),
])
def test_bad_parameter_names_the_field(tmp_path, module, kw, field) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(f"{field} = ")):
        module.run(out=tmp_path / "x.h5", progress=False, **kw)
    assert not (tmp_path / "x.h5").exists() and not (tmp_path / "x.h5.partial").exists()


@pytest.mark.parametrize(("module", "kw"), [(sparsey_similarity, SIM), (sparsey_capacity, CAP)])
def test_interrupted_run_resumes_to_the_uninterrupted_result(tmp_path, monkeypatch, module, kw) -> None:
    real, calls = module.trial, []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) > 2:
            raise RuntimeError("killed")
        return real(*args, **kwargs)

    out = tmp_path / "r.h5"
    monkeypatch.setattr(module, "trial", failing)
    with pytest.raises(RuntimeError, match="killed"):
        module.run(out=out, **kw)
    assert not out.exists() and sorted(read_results(out).trials) == [0, 1]
    with pytest.raises(FileExistsError):  # an unfinished run is not overwritten without resume
        module.run(out=out, **kw)
    calls.clear()
    monkeypatch.setattr(module, "trial", lambda *a, **k: calls.append(1) or real(*a, **k))
    resumed = module.run(out=out, resume=True, **kw)
    assert len(calls) == len(resumed.rows) - 2  # only the missing trials were computed
    clean = module.run(out=tmp_path / "clean.h5", **kw)
    assert resumed.rows == clean.rows and len(read_results(out).meta["resume_times"]) == 1
    a, b = _metrics(out), _metrics(tmp_path / "clean.h5")
    assert sorted(a) == sorted(b)
    for i in a:
        for k in a[i]:
            np.testing.assert_array_equal(a[i][k], b[i][k])

