"""sparsey-digits: k-NN by Sparsey code overlap on scikit-learn's digits; the run, its HDF5, its invariants."""

from __future__ import annotations

import re

import numpy as np
import pytest

from neurosim.experiments import sparsey_digits as sd
from neurosim.io import read_results
from neurosim.models.sparsey import CSAParams, code_overlap

TINY = {"per_class": (3, 15), "test_per_class": 10, "upsample": 2, "levels": ((4, 2, 10, 16, 3), (3, 2, 16, 16, 1)),
        "progress": False, "seed": 3, "n_examples": 4}
TIMING = (2, 3)  # the learning time columns: not reproducible


def _no_timing(rows: list[list]) -> list[list]:
    return [[v for j, v in enumerate(r) if j not in TIMING] for r in rows]


def test_tiny_run_table_hdf5_and_figures_agree(tmp_path) -> None:
    out = tmp_path / "d.h5"
    outcome = sd.run(out=out, **TINY)
    assert outcome.ok
    assert outcome.files == [out, tmp_path / "d_accuracy.png", tmp_path / "d_neighbours.png"]
    assert all(f.stat().st_size > 10_000 for f in outcome.files)
    res = read_results(out)
    assert res.complete and sorted(res.trials) == [0, 1] and res.config["per_class"] == [3, 15]
    test, y_test = res.metrics["test_index"][0], res.metrics["test_labels"][0]
    _, labels = sd.load_images(TINY["upsample"])
    assert test.size == 100 and np.array_equal(labels[test], y_test) and np.all(np.bincount(y_test) == 10)
    trains = []
    for i, (row, n) in enumerate(zip(outcome.rows, (3, 15), strict=True)):
        m = res.trials[i].metrics
        train = m["train_index"][0]
        trains.append(train)
        assert row[:2] == [n, 10 * n] and np.all(np.bincount(labels[train]) == n)
        assert not np.intersect1d(train, test).size
        assert row[2] == pytest.approx(float(m["learn_s"][0])) and row[3] == pytest.approx(10 * n / row[2])
        for j, key in enumerate(sd.KEYS):
            pred = m[f"pred_{key}"][0]
            assert pred.shape == (100,) and row[4 + j] == pytest.approx(np.mean(pred == y_test))
        assert np.all(np.isin(m["nearest_top"][0], train))
        assert float(m["stored_g1_min"][0]) == 1.0
    assert set(trains[0]) < set(trains[1])  # nested training sets
    top = {r[0]: r[4] for r in outcome.rows}
    assert top[15] > 0.5 and outcome.rows[1][6] > 0.5  # chance is 0.1; measured 0.72..0.84 (top) over 8 seeds
    assert top[15] > top[3] + 0.05  # more stored digits, better


def test_same_seed_same_results_other_seed_other_split(tmp_path) -> None:
    a = sd.run(out=tmp_path / "a.h5", **TINY)
    b = sd.run(out=tmp_path / "b.h5", **TINY)
    assert _no_timing(a.rows) == _no_timing(b.rows)
    ra, rb = read_results(tmp_path / "a.h5"), read_results(tmp_path / "b.h5")
    for i in ra.trials:
        for name in ("train_index", "nearest_top", "pred_top_k1", "pred_l1_k5"):
            np.testing.assert_array_equal(ra.trials[i].metrics[name][0], rb.trials[i].metrics[name][0])
    sd.run(out=tmp_path / "c.h5", **{**TINY, "seed": 4})
    assert not np.array_equal(read_results(tmp_path / "c.h5").metrics["test_index"][0], ra.metrics["test_index"][0])


def test_resumed_run_equals_uninterrupted_run(tmp_path, monkeypatch) -> None:
    real, calls = sd.trial, []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("killed")
        return real(*args, **kwargs)

    out = tmp_path / "r.h5"
    monkeypatch.setattr(sd, "trial", failing)
    with pytest.raises(RuntimeError, match="killed"):
        sd.run(out=out, **TINY)
    assert not out.exists() and sorted(read_results(out).trials) == [0]
    monkeypatch.setattr(sd, "trial", real)
    resumed = sd.run(out=out, resume=True, **TINY)
    clean = sd.run(out=tmp_path / "clean.h5", **TINY)
    assert _no_timing(resumed.rows) == _no_timing(clean.rows)
    assert len(read_results(out).meta["resume_times"]) == 1


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"per_class": (10, 0)}, "per_class"),
    ({"per_class": ()}, "per_class"),
    ({"levels": ((4, 2, 10, 16, 3),)}, "levels"),
    ({"levels": ((4, 2, 10, 16, 0), (3, 2, 16, 16, 1))}, "levels[0].min_active"),
    ({"levels": ((4, 2, 10, 16), (3, 2, 16, 16, 1))}, "levels[0]"),
    ({"levels": ((4, 2, 10, 16, 3), (9, 2, 16, 16, 1))}, "levels[1].rf"),
    ({"upsample": 1}, "upsample"),
    ({"threshold": 16.0}, "threshold"),
    ({"test_fraction": 0.9}, "test_fraction"),
    ({"test_per_class": 0}, "test_per_class"),
    ({"sigmoid_width": 0.0}, "sigmoid_width"),
    ({"g_low": 1.0}, "g_low"),
    ({"n_examples": 0}, "n_examples"),
])
def test_bad_parameters_name_the_field_and_write_nothing(tmp_path, kwargs, field) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(field) + " = .* is not allowed"):
        sd.run(out=tmp_path / "bad.h5", **{**TINY, **kwargs})
    assert not list(tmp_path.iterdir())


def test_stored_images_are_fully_familiar_at_level_1_and_their_learned_cells_have_v_1() -> None:
    images, labels = sd.load_images(2)
    h = sd.build(images.shape[1:], TINY["levels"], CSAParams(sigmoid_center=0.995, sigmoid_width=0.002))
    stored, novel = images[:40], images[40:60]
    codes, g = sd.familiarity(h, stored)
    assert all(np.all(x == 0.0) for x in g)  # nothing learned yet: every V is 0
    learned = h.present(stored, np.random.default_rng(0))
    codes, g = sd.familiarity(h, stored)
    for got, want in zip(codes, h.present(stored, learn=False, recognize=True), strict=True):
        np.testing.assert_array_equal(got, want)  # the same codes as the hierarchy's recognition pass
    pixels = stored.reshape(40, -1)
    on = np.stack([pixels[:, b].sum(axis=1) for b in h.blocks[0]], axis=1) >= TINY["levels"][0][4]
    assert on.mean() > 0.5 and not on.all()
    np.testing.assert_array_equal(learned[0][:, :, 0] >= 0, on)  # silent exactly below min_active pixels
    np.testing.assert_array_equal(g[0], np.where(on, 1.0, 0.0))  # G = 1 in every active level-1 MAC
    for item in (0, 17, 39):  # the cells chosen while learning have V = 1 for the stored patch
        for m, (mac, block) in enumerate(zip(h.macs[0], h.blocks[0], strict=True)):
            if on[item, m]:
                v, gm, _ = mac.probabilities(pixels[item, block])
                assert gm == 1.0 and np.all(v.ravel()[learned[0][item, m]] == 1.0)
    g_novel = sd.familiarity(h, novel)[1][1]
    active = sd.familiarity(h, novel)[0][1][:, :, 0] >= 0
    assert g_novel[active].mean() < 1.0  # top-level familiarity of unseen digits is below 1


def test_overlap_matrix_is_code_overlap_summed_over_macs() -> None:
    rng = np.random.default_rng(5)
    q, k, n_macs = 4, 3, 5
    a = rng.integers(0, k, (7, n_macs, q)) + np.arange(q) * k
    b = rng.integers(0, k, (9, n_macs, q)) + np.arange(q) * k
    a[rng.random(a.shape[:2]) < 0.3] = -1  # silent MACs
    b[rng.random(b.shape[:2]) < 0.3] = -1
    b[2] = a[1]
    brute = code_overlap(a[:, None], b[None, :]).sum(axis=-1)
    np.testing.assert_array_equal(sd.overlap_matrix(a, b, q * k), brute)
    assert sd.overlap_matrix(a, b, q * k)[1, 2] == np.count_nonzero(a[1] >= 0)


def test_knn_votes_by_overlap_and_breaks_ties_towards_the_nearest() -> None:
    labels = np.array([3, 1, 1, 3, 2, 2])
    ov = np.array([[5, 4, 4, 1, 0, 0],    # k=5: 3 gets 6, 1 gets 8 -> 1; k=1 -> 3
                   [2, 2, 0, 0, 0, 0],    # tie at the top: the first row wins
                   [3, 0, 0, 3, 0, 0]])   # k=5: 3 gets 6, nothing else
    pred1, near = sd.knn(ov, labels, 1)
    pred5, _ = sd.knn(ov, labels, 5)
    assert pred1.tolist() == [3, 3, 3] and near.tolist() == [0, 0, 0] and pred5.tolist() == [1, 3, 3]
    tie = np.array([[4, 0, 0, 0, 4, 0]])  # k=5: 3 and 2 get 4 each: the nearest's class
    assert sd.knn(tie, labels, 5)[0].tolist() == [3]


def test_split_and_nested_subsets() -> None:
    _, labels = sd.load_images(2)
    train, test = sd.split(labels, 0, 0.3)
    assert train.size + test.size == labels.size and not np.intersect1d(train, test).size
    assert np.abs(np.bincount(labels[test]) / np.bincount(labels) - 0.3).max() < 0.01
    tr2, val = sd.split(labels, 0, 0.3, validation=True)
    assert set(tr2) | set(val) == set(train)  # the validation split is carved from the training split
    order = np.random.default_rng(0).permutation(train)
    small, big = sd.first_per_class(order, labels, 5), sd.first_per_class(order, labels, 50)
    assert np.all(np.bincount(labels[small]) == 5) and set(small) < set(big)
    assert np.array_equal(big[np.isin(big, small)], small)  # same order
    assert np.array_equal(sd.first_per_class(order, labels, None), order)
