"""neurosim.io: the results format, its atomic finish, resume, and survival of SIGKILL."""

from __future__ import annotations

import json
import os
import queue
import runpy
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import h5py
import numpy as np
import pytest

from neurosim import (
    STDP,
    Network,
    OneToOne,
    Population,
    Projection,
    Simulator,
    SpikeMonitor,
    SpikeSourceArray,
    StateMonitor,
    WeightMonitor,
    __version__,
)
from neurosim.io import Record, ResultsWriter, read_results, save_simulation

CONFIG = {"experiment": "io_test", "n_trials": 12, "net": {"n": 500, "dt_ms": 0.1}, "rates_hz": [1.0, 2.5]}

# The subprocess of the kill test; the test imports ``trial_data`` from the same file.
CHILD = textwrap.dedent('''
    import sys

    import numpy as np

    CONFIG = {"experiment": "io_test", "n_trials": 12, "net": {"n": 500, "dt_ms": 0.1}, "rates_hz": [1.0, 2.5]}


    def trial_data(k):
        """About 480 KB per trial, a function of k only."""
        rng = np.random.default_rng(1000 + k)
        n = 20000
        times = np.sort(rng.random(n) * 1000.0)
        v = rng.normal(-60.0, 5.0, (200, 50)).astype(np.float32)
        return {
            "spikes": {"e": (times, rng.integers(0, 500, n)), "inp": (times[: k + 1], np.arange(k + 1))},
            "traces": {"e": (np.arange(200) * 0.1, np.arange(50), {"v_mV": v, "i_syn_e_nA": v.astype(np.float64)})},
            "weights": {"ee": (np.arange(10.0), rng.random((10, 2000)))},
            "metrics": {"recall": (rng.random(3), ""), "rate": (np.float64(k) * 0.5, "Hz")},
            "attrs": {"k": k, "cue": f"pattern_{k}"},
        }


    if __name__ == "__main__":
        from neurosim.io import ResultsWriter

        path, n_trials = sys.argv[1], int(sys.argv[2])
        with ResultsWriter(path, config=CONFIG, meta={"seed": 7}) as w:
            for k in range(n_trials):
                w.write_trial(k, **trial_data(k))
                print(f"done {k}", flush=True)
            print("closing", flush=True)
        print("closed", flush=True)
''')


@pytest.fixture
def child(tmp_path: Path) -> Path:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    return script


@pytest.fixture
def trial_data(child: Path):
    return runpy.run_path(str(child))["trial_data"]


def assert_array_identical(a: np.ndarray, b: np.ndarray) -> None:
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes()


def assert_record(rec: Record, expected: dict) -> None:
    """``rec`` holds exactly ``expected`` (write_trial's arguments), bit for bit."""
    exp_spikes = expected.get("spikes", {})
    assert set(rec.spikes) == set(exp_spikes)
    for pop, (t, i) in exp_spikes.items():
        assert_array_identical(rec.spikes[pop][0], np.asarray(t, np.float64))
        assert_array_identical(rec.spikes[pop][1], np.asarray(i, np.int64))
    exp_traces = expected.get("traces", {})
    assert set(rec.traces) == set(exp_traces)
    for pop, (t, i, vals) in exp_traces.items():
        rt, ri, rvals = rec.traces[pop]
        assert_array_identical(rt, np.asarray(t, np.float64))
        assert_array_identical(ri, np.asarray(i, np.int64))
        assert set(rvals) == set(vals)
        for var, a in vals.items():
            assert_array_identical(rvals[var], np.asarray(a))
    exp_weights = expected.get("weights", {})
    assert set(rec.weights) == set(exp_weights)
    for proj, (t, a) in exp_weights.items():
        assert_array_identical(rec.weights[proj][0], np.asarray(t, np.float64))
        assert_array_identical(rec.weights[proj][1], np.asarray(a))
    exp_metrics = expected.get("metrics", {})
    assert set(rec.metrics) == set(exp_metrics)
    for nm, (a, units) in exp_metrics.items():
        assert_array_identical(rec.metrics[nm][0], np.asarray(a))
        assert rec.metrics[nm][1] == units
    assert rec.attrs == expected.get("attrs", {})


def small_trial(k: int) -> dict:
    rng = np.random.default_rng(k)
    return {
        "spikes": {"a": (np.sort(rng.random(7)) * 10, rng.integers(0, 4, 7))},
        "metrics": {"err": (rng.random(2), "mV")},
        "attrs": {"k": k},
    }


# -- the format ----------------------------------------------------------------------
def test_round_trip_of_every_group(tmp_path: Path, trial_data) -> None:
    out = tmp_path / "res.h5"
    main = {
        "spikes": {"exc": ([0.1, 0.2, 5.0], [3, 0, 3]), "empty": (np.zeros(0), np.zeros(0, np.int64))},
        "traces": {"exc": (np.arange(4) * 0.1, [0, 3],
                           {"v_mV": np.arange(8.0).reshape(4, 2), "i_syn_e_nA": np.ones((4, 2), np.float32)})},
        "weights": {"exc_exc": (np.array([0.0, 10.0]), np.array([[0.5, 0.25, 1.0], [0.5, 0.5, 0.0]]))},
        "metrics": {"capacity": (np.array([1, 2, 3]), "patterns"), "overlap": (0.75, ""),
                    "converged": (np.array([True, False]), "")},
        "attrs": {"note": "main", "n_patterns": 3, "ratio": 0.5, "flag": False},
    }
    with ResultsWriter(out, config=CONFIG, meta={"backend": "reference", "seed": 5, "label": "x"}) as w:
        w.write_main(**main)
        w.write_trial(0, **trial_data(0))
        w.write_trial(2, **trial_data(2))
    res = read_results(out)
    assert res.complete
    assert res.config == CONFIG
    assert_record(res, main)
    assert sorted(res.trials) == [0, 2]
    for k in (0, 2):
        assert_record(res.trials[k], trial_data(k))

    meta = res.meta
    assert meta["neurosim_version"] == __version__
    assert meta["backend"] == "reference" and meta["seed"] == 5 and meta["label"] == "x"
    assert meta["command_line"] and meta["host"] and meta["python_version"]
    start, end = datetime.fromisoformat(meta["start_time"]), datetime.fromisoformat(meta["end_time"])
    assert start.utcoffset() == timedelta(0) and end.utcoffset() == timedelta(0)
    assert start <= end

    # the raw layout, for readers that do not use neurosim
    with h5py.File(out, "r") as f:
        assert f.attrs["format"] == "neurosim-results"
        assert json.loads(f["config"].asstr()[()]) == CONFIG
        assert f["meta"].attrs["seed"] == 5
        assert f["metrics/capacity"].attrs["units"] == "patterns"
        assert f["metrics/overlap"].attrs["units"] == ""
        assert f["trials/000002/metrics/rate"].attrs["units"] == "Hz"
        assert f["trials/000002"].attrs["cue"] == "pattern_2"
        assert set(f["trials/000000"]) == {"spikes", "traces", "weights", "metrics"}
        assert f["trials/000000/traces/e/v_mV"].shape == (200, 50)
        assert f["weights/exc_exc/values"].shape == (2, 3)
        np.testing.assert_array_equal(f["spikes/exc/ids"][()], [3, 0, 3])


def test_config_json_normalises_tuples_and_numpy(tmp_path: Path) -> None:
    out = tmp_path / "res.h5"
    config = {"ids": (1, 2), "w": np.float64(0.5), "arr": np.array([1, 2]), "stop_ms": float("inf")}
    with ResultsWriter(out, config=config):
        pass
    assert read_results(out).config == {"ids": [1, 2], "w": 0.5, "arr": [1, 2], "stop_ms": float("inf")}
    with pytest.raises(ValueError, match="config"):
        ResultsWriter(tmp_path / "b.h5", config={"f": object()})
    with pytest.raises(ValueError, match="config key"):
        ResultsWriter(tmp_path / "c.h5", config={1: "int key"})
    assert not (tmp_path / "b.h5.partial").exists()


# -- atomicity -----------------------------------------------------------------------
def test_final_file_appears_only_on_close(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "res.h5"
    w = ResultsWriter(out, config=CONFIG)
    w.write_trial(0, **small_trial(0))
    assert not out.exists()
    assert w.partial_path.is_dir()
    assert read_results(out).complete is False
    assert w.close() == out
    assert out.is_file()
    assert not w.partial_path.exists()
    assert sorted(os.listdir(out.parent)) == ["res.h5"]
    assert w.close() == out  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        w.write_trial(1, **small_trial(1))


def test_exception_inside_with_keeps_finished_trials_and_does_not_finalise(tmp_path: Path) -> None:
    out = tmp_path / "res.h5"
    with pytest.raises(KeyError), ResultsWriter(out, config=CONFIG) as w:
        for k in range(3):
            w.write_trial(k, **small_trial(k))
        raise KeyError("simulated failure")
    assert not out.exists()
    res = read_results(out)
    assert not res.complete
    assert "end_time" not in res.meta
    assert res.config == CONFIG
    assert sorted(res.trials) == [0, 1, 2]
    for k in range(3):
        assert_record(res.trials[k], small_trial(k))
    with pytest.raises(RuntimeError, match="abandoned"):
        w.close()
    assert not out.exists()


def test_existing_runs_are_never_overwritten(tmp_path: Path) -> None:
    out = tmp_path / "res.h5"
    with pytest.raises(ValueError), ResultsWriter(out, config=CONFIG):
        raise ValueError("stop")
    with pytest.raises(FileExistsError, match="resume=True"):
        ResultsWriter(out, config=CONFIG)
    with ResultsWriter(out, config=CONFIG, resume=True) as w:
        w.write_trial(0, **small_trial(0))
    with pytest.raises(FileExistsError, match="finished"):
        ResultsWriter(out, config=CONFIG)
    with pytest.raises(FileExistsError, match="nothing to resume"):
        ResultsWriter(out, config=CONFIG, resume=True)
    assert_record(read_results(out).trials[0], small_trial(0))


def test_stale_working_directory_after_the_final_rename_is_ignored(tmp_path: Path) -> None:
    """A kill between the rename of the final file and the removal of ``.partial``."""
    out = tmp_path / "res.h5"
    w = ResultsWriter(out, config=CONFIG)
    w.write_trial(0, **small_trial(0))
    shutil.copytree(w.partial_path, tmp_path / "copy")
    w.close()
    (tmp_path / "copy").rename(w.partial_path)
    res = read_results(out)
    assert res.complete and sorted(res.trials) == [0]
    with pytest.raises(FileExistsError):
        ResultsWriter(out, config=CONFIG, resume=True)


def test_leftover_tmp_files_are_ignored_and_cleaned_on_resume(tmp_path: Path) -> None:
    out = tmp_path / "res.h5"
    with pytest.raises(ZeroDivisionError), ResultsWriter(out, config=CONFIG) as w:
        w.write_trial(0, **small_trial(0))
        1 / 0  # noqa: B018
    garbage = w.partial_path / "trial_000001.h5.tmp"
    garbage.write_bytes(b"\x89HDF half written")
    assert sorted(read_results(out).trials) == [0]
    with ResultsWriter(out, config=CONFIG, resume=True) as w2:
        assert not garbage.exists()
        assert w2.finished_trials == [0]
        w2.write_trial(1, **small_trial(1))
    assert sorted(read_results(out).trials) == [0, 1]


def test_a_second_writer_on_the_same_run_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "res.h5"
    w = ResultsWriter(out, config=CONFIG)
    with pytest.raises(RuntimeError, match="in use"):
        ResultsWriter(out, config=CONFIG, resume=True)
    w.close()


# -- resume --------------------------------------------------------------------------
def test_resume_continues_an_abandoned_run(tmp_path: Path) -> None:
    out = tmp_path / "res.h5"
    w = ResultsWriter(out, config=CONFIG, meta={"seed": 1})
    for k in range(3):
        w.write_trial(k, **small_trial(k))
    w.write_main(metrics={"mean_err": (9.0, "mV")})
    start = w.meta["start_time"]
    del w  # abandoned without close, as by a crash

    w = ResultsWriter(out, config=CONFIG, meta={"seed": 1, "attempt": 2}, resume=True)
    assert w.finished_trials == [0, 1, 2]
    with pytest.raises(ValueError, match="trial index"):
        w.write_trial(1, **small_trial(1))
    for k in range(3, 6):
        w.write_trial(k, **small_trial(k))
    w.write_main(metrics={"mean_err": (0.5, "mV")})
    w.close()

    res = read_results(out)
    assert res.complete
    assert sorted(res.trials) == list(range(6))
    for k in range(6):
        assert_record(res.trials[k], small_trial(k))
    assert res.metrics["mean_err"] == (0.5, "mV")  # the resumed writer's main replaced the first one
    assert res.meta["start_time"] == start
    assert len(res.meta["resume_times"]) == 1
    assert res.meta["attempt"] == 2 and res.meta["seed"] == 1


def test_resume_with_a_different_config_or_meta_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "res.h5"
    with pytest.raises(RuntimeError), ResultsWriter(out, config=CONFIG, meta={"seed": 1}) as w:
        w.write_trial(0, **small_trial(0))
        raise RuntimeError("crash")
    other = {**CONFIG, "net": {"n": 400, "dt_ms": 0.1}, "extra": 1}
    with pytest.raises(ValueError, match=r"config.*extra: stored \(absent\), new 1; net\.n: stored 500, new 400"):
        ResultsWriter(out, config=other, resume=True)
    with pytest.raises(ValueError, match=r"meta.*seed: stored 1, new 2"):
        ResultsWriter(out, config=CONFIG, meta={"seed": 2}, resume=True)
    # a config equal up to tuples vs lists is the same config
    same = {**CONFIG, "rates_hz": (1.0, 2.5)}
    with ResultsWriter(out, config=same, meta={"seed": 1}, resume=True) as w:
        assert w.finished_trials == [0]


def test_resume_without_a_run_starts_one(tmp_path: Path) -> None:
    out = tmp_path / "res.h5"
    (tmp_path / "res.h5.partial").mkdir()  # killed before run.json was written
    with ResultsWriter(out, config=CONFIG, resume=True) as w:
        assert w.finished_trials == []
    with ResultsWriter(tmp_path / "new.h5", config=CONFIG, resume=True) as w:
        w.write_trial(0, **small_trial(0))
    assert read_results(out).complete
    assert sorted(read_results(tmp_path / "new.h5").trials) == [0]


# -- validation ----------------------------------------------------------------------
@pytest.mark.parametrize(("kwargs", "match"), [
    ({"metrics": {"m": np.ones(3)}}, r"metrics\['m'\].*units"),
    ({"metrics": {"m": (np.ones(3), None)}}, r"metrics\['m'\] units.*string"),
    ({"metrics": {"m": (np.array(["a"]), "")}}, r"metrics\['m'\] array.*numeric"),
    ({"spikes": {"a": ([1.0, 2.0], [0])}}, r"spikes\['a'\]\.ids length = 1.*\(2\)"),
    ({"spikes": {"a": ([1.0], [0.5])}}, r"spikes\['a'\]\.ids.*integers"),
    ({"spikes": {"a": ([np.nan], [0])}}, r"spikes\['a'\]\.times_ms.*finite"),
    ({"spikes": {"a": ([1.0], [-1])}}, r"ids >= 0"),
    ({"spikes": {"1a": ([1.0], [0])}}, r"spikes key = '1a'.*identifier"),
    ({"traces": {"a": ([0.0, 0.1], [0, 1], {"v_mV": np.zeros((2, 3))})}}, r"v_mV shape.*\(2, 2\)"),
    ({"traces": {"a": ([0.0], [0], {"times_ms": np.zeros((1, 1))})}}, r"variable.*times_ms"),
    ({"traces": {"a": ([0.0], [0], {"v-mV": np.zeros((1, 1))})}}, r"variable = 'v-mV'"),
    ({"weights": {"p": ([0.0, 1.0], np.zeros((3, 4)))}}, r"weights\['p'\]\.values shape"),
    ({"metrics": {"a-b": (1.0, "")}}, r"metrics key = 'a-b'"),
    ({"attrs": {"x": [1, 2]}}, r"attrs\['x'\].*str, bool, int or float"),
    ({"attrs": {"x": 2**64}}, r"attrs\['x'\].*64 bits"),
])
def test_bad_records_are_refused_and_nothing_is_written(tmp_path: Path, kwargs: dict, match: str) -> None:
    w = ResultsWriter(tmp_path / "res.h5", config=CONFIG)
    with pytest.raises(ValueError, match=match):
        w.write_trial(0, **kwargs)
    with pytest.raises(ValueError, match=match):
        w.write_main(**kwargs)
    assert w.finished_trials == []
    w.write_trial(0, **small_trial(0))  # the writer is still usable
    w.close()


@pytest.mark.parametrize("index", [-1, 1_000_000, 1.0, True, "3"])
def test_bad_trial_index(tmp_path: Path, index: object) -> None:
    w = ResultsWriter(tmp_path / "res.h5", config=CONFIG)
    with pytest.raises(ValueError, match="trial index"):
        w.write_trial(index, **small_trial(0))
    w.close()


def test_bad_meta_and_second_write_main(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="meta key = 'start_time'"):
        ResultsWriter(tmp_path / "a.h5", config=CONFIG, meta={"start_time": "now"})
    with pytest.raises(ValueError, match=r"meta\['x'\]"):
        ResultsWriter(tmp_path / "a.h5", config=CONFIG, meta={"x": None})
    assert not (tmp_path / "a.h5.partial").exists()
    with ResultsWriter(tmp_path / "b.h5", config=CONFIG) as w:
        w.write_main(metrics={"m": (1.0, "")})
        with pytest.raises(ValueError, match="write_main"):
            w.write_main(metrics={"m": (2.0, "")})
    assert read_results(tmp_path / "b.h5").metrics["m"][0] == 1.0
    with pytest.raises(FileNotFoundError):
        read_results(tmp_path / "nothing.h5")


# -- the kill test -------------------------------------------------------------------
def _reader(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line.strip())
    lines.put(None)


@pytest.mark.parametrize(("kill_after", "delay_s"), [
    ("done 4", 0.0), ("done 6", 0.0015), ("done 5", 0.003), ("closing", 0.004)])
def test_sigkill_never_loses_a_finished_trial(tmp_path: Path, child: Path, trial_data,
                                              kill_after: str, delay_s: float) -> None:
    """SIGKILL the writer mid-trial (or mid-assembly): every reported trial survives, then resume finishes."""
    n_trials = 20
    out = tmp_path / "killed.h5"
    err = tmp_path / "child.err"
    with err.open("w") as err_file:
        proc = subprocess.Popen([sys.executable, str(child), str(out), str(n_trials)], stdout=subprocess.PIPE,
                                stderr=err_file, text=True, bufsize=1)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True).start()
    done: list[int] = []
    try:
        while True:
            line = lines.get(timeout=30)
            assert line is not None, f"the writer exited before the kill: {err.read_text()}"
            if line.startswith("done"):
                done.append(int(line.split()[1]))
            if line == kill_after:
                break
        time.sleep(delay_s)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        rc = proc.wait(timeout=30)
    assert rc == -signal.SIGKILL
    assert len(done) >= 5

    res = read_results(out)
    assert set(done) <= set(res.trials)
    assert sorted(res.trials) == list(range(len(res.trials)))  # nothing beyond the one in flight
    for k, rec in res.trials.items():
        assert_record(rec, trial_data(k))
    assert res.config == CONFIG and res.meta["seed"] == 7

    if res.complete:  # killed after the final rename: nothing to resume
        assert kill_after == "closing" and not any(p.suffix == ".tmp" for p in tmp_path.iterdir())
    else:
        assert not out.exists()
        with ResultsWriter(out, config=CONFIG, meta={"seed": 7}, resume=True) as w:
            assert set(done) <= set(w.finished_trials)
            for k in range(n_trials):
                if k not in w.finished_trials:
                    w.write_trial(k, **trial_data(k))
        assert not w.partial_path.exists()
    res = read_results(out)
    assert res.complete
    assert sorted(res.trials) == list(range(n_trials))
    for k, rec in res.trials.items():
        assert_record(rec, trial_data(k))


# -- save_simulation -----------------------------------------------------------------
def _tiny_simulation() -> Simulator:
    src = SpikeSourceArray("inp", ([1.0, 4.0, 8.0, 12.0], [2.0, 3.0], [5.0, 15.0]))
    net = Network(
        dt_ms=0.1,
        populations=(Population("a", 3),),
        sources=(src,),
        projections=(Projection("inp_a", "inp", "a", OneToOne(), weight_nA=4.0, delay_steps=2,
                                plasticity=STDP(w_max_nA=6.0, A_plus=0.1, A_minus=0.05)),),
        monitors=(SpikeMonitor("a"), SpikeMonitor("inp"), StateMonitor("a", (0, 2), ("v_mV", "i_syn_e_nA")),
                  WeightMonitor("inp_a", every_ms=5.0)),
    )
    sim = Simulator(net, backend="reference", seed=11)
    sim.run(20.0)
    return sim


def test_save_simulation_round_trip(tmp_path: Path) -> None:
    sim = _tiny_simulation()
    out = save_simulation(tmp_path / "sim.h5", sim, config={"duration_ms": 20.0},
                          metrics={"rate": (np.array([1.0, 2.0, 3.0]), "Hz")}, meta={"tag": "tiny"})
    assert out == tmp_path / "sim.h5" and out.is_file()
    assert not (tmp_path / "sim.h5.partial").exists()
    res = read_results(out)
    assert res.complete and res.trials == {}
    assert res.meta["backend"] == "reference" and res.meta["seed"] == 11 and res.meta["tag"] == "tiny"
    assert res.meta["dt_ms"] == 0.1 and res.meta["simulated_ms"] == pytest.approx(20.0)
    assert res.meta["arithmetic"] == "float64"  # a board-integer run says so (arithmetic="spinnaker")
    assert res.config == {"duration_ms": 20.0}
    assert set(res.spikes) == {"a", "inp"}
    for name in ("a", "inp"):
        t, i = sim.spikes(name)
        assert t.size > 0
        assert_array_identical(res.spikes[name][0], t)
        assert_array_identical(res.spikes[name][1], i)
    rec = sim.state("a")
    t, ids, vals = res.traces["a"]
    assert_array_identical(t, rec.times_ms)
    assert ids.tolist() == [0, 2]
    assert set(vals) == {"v_mV", "i_syn_e_nA"}
    for var in vals:
        assert_array_identical(vals[var], rec.values[var])
    wt, wv = sim.weight_history("inp_a")
    assert_array_identical(res.weights["inp_a"][0], wt)
    assert_array_identical(res.weights["inp_a"][1], wv)
    assert wv.shape[0] >= 4 and not np.all(wv == wv[0])  # STDP moved the weights
    assert res.metrics["rate"][1] == "Hz"

    with pytest.raises(ValueError, match="seed"):
        save_simulation(tmp_path / "other.h5", sim, config={}, meta={"seed": 3})
    with pytest.raises(ValueError, match="units"):
        save_simulation(tmp_path / "other.h5", sim, config={}, metrics={"rate": np.ones(3)})
    assert not (tmp_path / "other.h5").exists() and not (tmp_path / "other.h5.partial").exists()


class _BatchedStub:
    """Duck-typed stand-in for a batched simulator (the reference backend runs one trial)."""

    def __init__(self, sim: Simulator, batch_size: int) -> None:
        self._sim, self.network, self.backend, self.seed = sim, sim.network, sim.backend, sim.seed
        self.device, self.dtype = sim.device, sim.dtype
        self.batch_size, self.t_ms = batch_size, sim.t_ms

    def spikes(self, name: str, trial: int = 0):
        t, i = self._sim.spikes(name)
        return t[trial:], i[trial:]  # a different record per trial

    def state(self, population: str, trial: int = 0):
        return self._sim.state(population)

    def weight_history(self, projection: str, trial: int = 0):
        t, w = self._sim.weight_history(projection)
        return t, w + trial


def test_save_simulation_of_a_batch_writes_one_trial_per_element(tmp_path: Path) -> None:
    sim = _tiny_simulation()
    stub = _BatchedStub(sim, 3)
    save_simulation(tmp_path / "b.h5", stub, config={}, metrics={"n": (np.arange(3), "spikes")})
    res = read_results(tmp_path / "b.h5")
    assert res.meta["batch_size"] == 3 and res.spikes == {} and res.metrics["n"][1] == "spikes"
    assert sorted(res.trials) == [0, 1, 2]
    for b, rec in res.trials.items():
        assert_array_identical(rec.spikes["a"][0], stub.spikes("a", b)[0])
        assert_array_identical(rec.weights["inp_a"][1], stub.weight_history("inp_a", b)[1])
        assert set(rec.traces) == {"a"}


def test_save_simulation_takes_no_config_and_overwrites_only_when_asked(tmp_path: Path) -> None:
    from neurosim import Network, OneToOne, Population, Projection, Simulator, SpikeSourceArray
    from neurosim.io import save_simulation
    from neurosim.network import SpikeMonitor

    net = Network(dt_ms=1.0, populations=(Population("p", 2),), sources=(SpikeSourceArray("s", ([1.0], [2.0])),),
                  projections=(Projection("c", "s", "p", OneToOne(), weight_nA=5.0),), monitors=(SpikeMonitor("s"),))
    sim = Simulator(net, "reference")
    sim.run(5.0)
    out = tmp_path / "sim.h5"
    assert save_simulation(out, sim) == out and read_results(out).config == {}
    with pytest.raises(FileExistsError, match="exists and holds a finished run"):
        save_simulation(out, sim, config={"run": 2})
    sim.run(5.0)
    assert save_simulation(out, sim, config={"run": 2}, overwrite=True) == out
    res = read_results(out)
    assert res.config == {"run": 2} and res.meta["simulated_ms"] == 10.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sim.h5"]  # nothing left beside it
    with pytest.raises(ValueError, match="overwrite = 'yes' is not allowed"):
        save_simulation(out, sim, overwrite="yes")
