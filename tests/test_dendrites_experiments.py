"""The dendrite experiments at small sizes: the paper's threshold medians exactly, Monte-Carlo rows within
statistical error, files written and resumable, the continual-learning table's shape."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim.experiments import dendrites_continual, dendrites_neuron, dendrites_theory
from neurosim.io import read_results


def test_threshold_sweep_reproduces_the_papers_medians() -> None:
    med = np.median(dendrites_theory.sweep(dendrites_theory.GRIDS["paper"]), axis=0)
    at = dict(zip(dendrites_theory.THETAS, med, strict=True))
    assert float(f"{at[10]:.3g}") == 7.40e-11
    assert float(f"{at[12]:.3g}") == 7.63e-14
    # "error <= 1e-9 needs theta of about 10"
    assert at[9] > 1e-9 >= at[10]
    assert np.all(np.diff(med) < 0)


def test_theory_experiment_writes_results_and_its_checks_agree(tmp_path) -> None:
    out = tmp_path / "t.h5"
    outcome = dendrites_theory.run(out=out, min_trials=2000, max_trials=40_000, progress=False)
    assert outcome.ok
    assert all(f.exists() for f in outcome.files)
    res = read_results(out)
    assert res.complete and len(res.trials) == len(dendrites_theory.checks()) + 1
    measured = [r for r in outcome.rows if r[4] != "-"]
    assert len(measured) > 30
    assert max(abs(r[4]) for r in measured) < 4.5


def test_neuron_experiment_agrees_with_the_formulas_and_resumes(tmp_path, monkeypatch) -> None:
    out = tmp_path / "n.h5"
    real = dendrites_neuron.measure
    calls = []

    def crash_after_five(p, reps, n_probe, rng, *engine):
        if len(calls) == 5:
            raise KeyboardInterrupt
        calls.append(p)
        return real(p, reps, n_probe, rng, *engine)

    monkeypatch.setattr(dendrites_neuron, "measure", crash_after_five)
    with pytest.raises(KeyboardInterrupt):
        dendrites_neuron.run(out=out, reps=4, n_probe=400, progress=False)
    monkeypatch.setattr(dendrites_neuron, "measure", real)
    outcome = dendrites_neuron.run(out=out, reps=4, n_probe=400, progress=False, resume=True)
    whole = dendrites_neuron.run(out=tmp_path / "w.h5", reps=4, n_probe=400, progress=False)
    assert outcome.rows == whole.rows
    assert outcome.ok
    assert all(f.exists() for f in outcome.files)


def test_continual_experiment_table(tmp_path) -> None:
    outcome = dendrites_continual.run(out=tmp_path / "c.h5", n_tasks=2, hidden=(32,), epochs=1, progress=False)
    assert [r[0] for r in outcome.rows] == list(dendrites_continual.METHODS)
    assert all(0 <= r[2] <= 100 for r in outcome.rows)
    assert outcome.rows[0][-1] > 90  # two permutations: the prototypes tell them apart
    res = read_results(tmp_path / "c.h5")
    assert res.trials[0].metrics["accuracy"][0].shape == (2, 2)
    with pytest.raises(ValueError, match="^methods ="):
        dendrites_continual.run(out=tmp_path / "x.h5", methods=("nope",))


def test_continual_experiment_records_its_engine_and_refuses_others(tmp_path) -> None:
    dendrites_continual.run(out=tmp_path / "c.h5", device="cpu", n_tasks=2, hidden=(32,), epochs=1, methods=("mlp",),
                            progress=False)
    meta = read_results(tmp_path / "c.h5").meta
    assert (meta["backend"], meta["device"], meta["dtype"], meta["seed"]) == ("torch", "cpu", "float32", 0)
    refused = r"^backend = 'numba' is not allowed for dendrites-continual: one of \['torch'\]"
    with pytest.raises(ValueError, match=refused):
        dendrites_continual.run(out=tmp_path / "x.h5", backend="numba", progress=False)
    assert not (tmp_path / "x.h5").exists()


@pytest.mark.gpu
def test_continual_experiment_runs_on_cuda(tmp_path) -> None:
    outcome = dendrites_continual.run(out=tmp_path / "c.h5", device="cuda", n_tasks=2, hidden=(32,), epochs=1,
                                      progress=False)
    assert outcome.rows[0][-1] > 90  # the prototypes tell the two permutations apart on the GPU too
    assert read_results(tmp_path / "c.h5").meta["device"] == "cuda"
