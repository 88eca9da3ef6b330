"""Generated spike tasks (labels, horizons, binning), the SHD loader on a file the test writes, and the ELM task
experiment at a tiny size."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from neurosim.experiments import elm_tasks
from neurosim.experiments import spike_tasks as st
from neurosim.io import read_results


def test_binning_counts_every_spike_in_its_bin() -> None:
    out = st.bin_spikes(np.array([0.0, 0.9, 1.0, 5.5, 9.99, 10.0]), np.array([0, 0, 1, 2, 2, 2]), 3, 10.0, 1.0)
    assert out.shape == (10, 3)
    assert out[0, 0] == 2 and out[1, 1] == 1 and out[5, 2] == 1 and out[9, 2] == 1
    assert out.sum() == 5  # the spike at 10.0 ms is past the trial


def test_adding_labels_are_class_sums_and_the_horizon_follows_the_bin() -> None:
    digits = st.spike_digits(np.random.default_rng(0), n_channels=20, duration_ms=100.0)
    x, y = st.adding(digits, 50, 2.0, np.random.default_rng(1))
    assert x.shape == (50, 100, 20)
    assert y.min() >= 0 and y.max() <= 18
    x1, _ = st.adding(digits, 3, 1.0, np.random.default_rng(1))
    assert x1.shape[1] == 200
    # the same class gives similar first halves, different classes less similar ones
    a = [digits.sample(3, np.random.default_rng(k)) for k in range(2)]
    b = digits.sample(4, np.random.default_rng(9))
    binned = [st.bin_spikes(t, c, 20, 100.0, 10.0).ravel() for t, c in (*a, b)]
    assert np.corrcoef(binned[0], binned[1])[0, 1] > np.corrcoef(binned[0], binned[2])[0, 1]


def test_delayed_recall_puts_the_cue_first_and_the_distractor_after() -> None:
    digits = st.spike_digits(np.random.default_rng(2), n_channels=10, duration_ms=50.0, noise_hz=0.0, jitter_ms=0.0,
                             drop=0.0)
    x, y = st.delayed_recall(digits, 4, 200.0, 1.0, np.random.default_rng(3))
    assert x.shape == (4, 250, 10) and set(y.tolist()) <= set(range(10))
    cue = st.bin_spikes(digits.times[y[0]], digits.channels[y[0]], 10, 50.0, 1.0)
    assert np.array_equal(x[0, :50], cue)


def test_shd_loader_reads_a_local_file(tmp_path) -> None:
    path = tmp_path / "shd_small.h5"
    vlen_f, vlen_u = h5py.vlen_dtype(np.float32), h5py.vlen_dtype(np.uint16)
    with h5py.File(path, "w") as f:
        t = f.create_dataset("spikes/times", (2,), dtype=vlen_f)
        u = f.create_dataset("spikes/units", (2,), dtype=vlen_u)
        t[0], u[0] = np.array([0.001, 0.0015, 0.5], np.float32), np.array([3, 3, 699], np.uint16)
        t[1], u[1] = np.array([0.25, 1.2], np.float32), np.array([10, 11], np.uint16)
        f["labels"] = np.array([7, 19], np.int64)
    x, y = st.load_shd(path, bin_ms=10.0, max_ms=1000.0)
    assert x.shape == (2, 100, 700) and y.tolist() == [7, 19]
    assert x[0, 0, 3] == 2 and x[0, 50, 699] == 1
    assert x[1, 25, 10] == 1 and x[1].sum() == 1  # the spike at 1.2 s is past max_ms
    with pytest.raises(ValueError, match="^path ="):
        st.load_shd(tmp_path / "missing.h5")


def test_tiny_experiment_writes_every_run(tmp_path) -> None:
    out = tmp_path / "e.h5"
    outcome = elm_tasks.run(out=out, bins_ms=(50.0,), delays_ms=(100.0,), recall_bin_ms=50.0, n_train=64, n_test=32,
                            epochs=1, progress=False)
    assert [(r[0], r[4]) for r in outcome.rows] == [(t, m) for t in ("adding", "recall") for m in elm_tasks.MODELS]
    assert all(0 <= r[6] <= 100 for r in outcome.rows)
    assert len(read_results(out).trials) == 8
    assert all(f.exists() for f in outcome.files)
    with pytest.raises(ValueError, match="^models ="):
        elm_tasks.run(out=tmp_path / "x.h5", models=("gru",))


def test_tiny_sweeps_record_accuracy_and_memory_traces(tmp_path) -> None:
    out = tmp_path / "s.h5"
    outcome = elm_tasks.run_sweeps(out=out, bin_ms=50.0, n_train=64, n_test=32, epochs=1, d_ms=(2, 4),
                                   tau_maxes_ms=(10.0, 1000.0), progress=False)
    assert [r[:2] for r in outcome.rows] == [["d_m", 2.0], ["d_m", 4.0], ["tau_max_ms", 10.0], ["tau_max_ms", 1000.0]]
    trace = read_results(out).trials[3].metrics["memory_trace"][0]
    assert trace.shape == (10, 20) and np.isfinite(trace).all()
    assert all(f.exists() for f in outcome.files)


TINY = {"bin_ms": 50.0, "n_train": 64, "n_test": 32, "epochs": 1, "progress": False}


def test_the_results_record_the_engine_they_ran_on(tmp_path) -> None:
    elm_tasks.run(out=tmp_path / "e.h5", device="cpu", models=("elm", "lstm"), bins_ms=(50.0,), delays_ms=(100.0,),
                  recall_bin_ms=50.0, **{k: v for k, v in TINY.items() if k != "bin_ms"})
    elm_tasks.run_sweeps(out=tmp_path / "s.h5", device="cpu", d_ms=(2,), tau_maxes_ms=(1000.0,), **TINY)
    for name in ("e.h5", "s.h5"):
        meta = read_results(tmp_path / name).meta
        assert (meta["backend"], meta["device"], meta["dtype"], meta["seed"]) == ("torch", "cpu", "float32", 0)


@pytest.mark.parametrize(("run", "name"), [(elm_tasks.run, "elm-tasks"), (elm_tasks.run_sweeps, "elm-sweeps")])
def test_an_engine_the_experiment_lacks_is_refused(tmp_path, run, name: str) -> None:
    with pytest.raises(ValueError, match=rf"^backend = 'numba' is not allowed for {name}: one of \['torch'\]"):
        run(out=tmp_path / "x.h5", backend="numba", progress=False)
    assert not (tmp_path / "x.h5").exists()


@pytest.mark.gpu
def test_the_experiments_run_on_cuda(tmp_path) -> None:
    elm_tasks.run(out=tmp_path / "e.h5", device="cuda", bins_ms=(50.0,), delays_ms=(100.0,), recall_bin_ms=50.0,
                  **{k: v for k, v in TINY.items() if k != "bin_ms"})
    elm_tasks.run_sweeps(out=tmp_path / "s.h5", device="cuda", d_ms=(2,), tau_maxes_ms=(1000.0,), **TINY)
    for name in ("e.h5", "s.h5"):
        assert read_results(tmp_path / name).meta["device"] == "cuda"
    assert np.isfinite(read_results(tmp_path / "s.h5").trials[1].metrics["memory_trace"][0]).all()
