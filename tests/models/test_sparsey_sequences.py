"""The sparsey-sequences experiment: H recall of one stored sequence is exact, the Outcome agrees with the HDF5,
runs are deterministic and resumable, bad parameters name their field."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim.experiments import sparsey_sequences as seq
from neurosim.io import read_results
from neurosim.memory import random_patterns
from neurosim.models.sparsey import MAC

TINY = {"conditions": seq.CONDITIONS, "n_sequences": (1, 3), "length": 5, "cue_lengths": (1, 2), "n_inputs": 100,
        "active": 10, "alphabet": 4, "q": 8, "k": 8, "n_repeats": 2, "progress": False}


@pytest.mark.parametrize("seed", range(5))
def test_one_sequence_of_distinct_items_is_recalled_exactly_from_its_first_item(seed) -> None:
    """With one stored sequence only its own codes have V = 1: the first item's code from U, then every next
    code from H alone, and the read-back items equal the stored ones."""
    rng = np.random.default_rng(seed)
    pool = random_patterns(rng, 10, 400, 30)
    seqs = np.arange(10)[None]
    mac = MAC(400, 20, 20, horizontal=True)
    learned = seq.learn(mac, pool, seqs, rng)
    codes, items = seq.recall(mac, pool, seqs, 1, 0.9)
    assert np.array_equal(codes, learned)
    assert np.array_equal(items[0], pool[1:])
    h = np.zeros_like(mac.h)  # H holds exactly the (previous winner, winner) pairs of the 9 transitions
    for prev, code in zip(learned[0, :-1], learned[0, 1:], strict=True):
        h[np.ix_(prev, code)] = 1
    assert np.array_equal(mac.h, h)


def test_ambiguous_marks_shared_cue_prefixes() -> None:
    seqs = np.array([[0, 1, 2], [0, 2, 1], [1, 0, 2]])
    assert seq.ambiguous(seqs, 1).tolist() == [True, True, False]
    assert seq.ambiguous(seqs, 2).tolist() == [False, False, False]


def test_shared_sequences_have_distinct_two_item_starts() -> None:
    _, s = seq.make_sequences("shared", np.random.default_rng(0), 15, 6, 50, 5, alphabet=4)
    assert s.shape == (15, 6) and s.max() < 4
    assert len({(a, b) for a, b in s[:, :2]}) == 15


def test_tiny_run_outcome_agrees_with_hdf5(tmp_path) -> None:
    out = tmp_path / "seq.h5"
    o = seq.run(out=out, **TINY)
    res = read_results(out)
    points = [(c, n) for c in seq.CONDITIONS for n in (1, 3)]
    assert res.complete and sorted(res.trials) == list(range(len(points)))
    assert len(o.rows) == len(points) * 2 and o.ok
    assert all(p.exists() for p in o.files) and len(o.files) == 3
    for row in o.rows:
        i = points.index((row[0], row[1]))
        m = {k: v[0] for k, v in res.trials[i].metrics.items()}
        assert res.trials[i].attrs["condition"] == row[0] and res.trials[i].attrs["n_sequences"] == row[1]
        exact = m[f"exact_cue{row[2]}"]
        assert exact.shape == (2, row[1], 5 - row[2])
        assert row[3] == [round(float(x), 2) for x in exact.mean(axis=(0, 1))]
        assert row[4] == pytest.approx(exact.mean())
        assert row[5] == pytest.approx(m[f"jaccard_cue{row[2]}"].mean())
        assert row[9] == pytest.approx(exact.all(axis=2).mean())
        assert row[10] == pytest.approx(m[f"ambiguous_cue{row[2]}"].mean())
    assert res.config["n_sequences"] == [1, 3] and res.config["params"]["chi"] == 100.0


def test_same_seed_same_results_and_resume_completes(tmp_path, monkeypatch) -> None:
    a = seq.run(out=tmp_path / "a.h5", seed=3, **TINY)
    b = seq.run(out=tmp_path / "b.h5", seed=3, **TINY)
    assert a.rows == b.rows
    ra, rb = read_results(tmp_path / "a.h5"), read_results(tmp_path / "b.h5")
    for i, t in ra.trials.items():
        for name, (v, _) in t.metrics.items():
            assert np.array_equal(v, rb.trials[i].metrics[name][0]), (i, name)
    real, calls = seq.trial, []

    def crash_on_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(seq, "trial", crash_on_third)
    with pytest.raises(RuntimeError):
        seq.run(out=tmp_path / "c.h5", seed=3, **TINY)
    monkeypatch.setattr(seq, "trial", real)
    assert seq.run(out=tmp_path / "c.h5", seed=3, resume=True, **TINY).rows == a.rows


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"cue_lengths": (5,)}, "cue_lengths"),
    ({"conditions": ("distinct", "random")}, "conditions"),
    ({"n_sequences": ()}, "n_sequences"),
    ({"n_sequences": (1, 0)}, "n_sequences"),
    ({"alphabet": 1}, "alphabet"),
    ({"n_sequences": (1, 17), "alphabet": 4}, "alphabet"),
    ({"active": 100}, "active"),
    ({"n_repeats": 0}, "n_repeats"),
    ({"recall_threshold": 1.5}, "recall_threshold"),
    ({"example_n": 7}, "example_n"),
    ({"params": {"chi": 0.0}}, "params"),
])
def test_bad_parameter_names_its_field(tmp_path, kwargs, field) -> None:
    with pytest.raises(ValueError, match=rf"^{field}"):
        seq.run(out=tmp_path / "bad.h5", **{**TINY, **kwargs})
    assert not (tmp_path / "bad.h5").exists()
