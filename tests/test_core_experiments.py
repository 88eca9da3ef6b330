"""core-seeds: killed mid-run, resumed, gives the same trials as an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np

from neurosim.experiments import core_seeds
from neurosim.io import read_results

SMALL = {"n": 200, "duration_ms": 100.0, "n_trials": 6, "progress": False, "seed": 10}


def test_resume_after_sigkill_matches_uninterrupted_run(tmp_path) -> None:
    killed = tmp_path / "killed.h5"
    script = (f"from neurosim.experiments import core_seeds; "
              f"core_seeds.run(out={str(killed)!r}, **{SMALL!r})")
    proc = subprocess.Popen([sys.executable, "-c", script])
    partial = tmp_path / "killed.h5.partial"
    deadline = time.time() + 60
    while time.time() < deadline and len(list(partial.glob("trial_*.h5"))) < 2:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not killed.exists()
    survived = read_results(killed).trials
    assert 2 <= len(survived) < SMALL["n_trials"]

    outcome = core_seeds.run(out=killed, resume=True, **SMALL)
    assert len(outcome.rows) == SMALL["n_trials"] + 1
    clean = tmp_path / "clean.h5"
    core_seeds.run(out=clean, **SMALL)
    a, b = read_results(killed), read_results(clean)
    assert a.complete and len(a.meta["resume_times"]) == 1
    assert sorted(a.trials) == sorted(b.trials) == list(range(SMALL["n_trials"]))
    for k in a.trials:
        for pop in ("exc", "inh"):
            np.testing.assert_array_equal(a.trials[k].spikes[pop][0], b.trials[k].spikes[pop][0])
        np.testing.assert_array_equal(a.trials[k].weights["ee"][1], b.trials[k].weights["ee"][1])
        assert a.trials[k].attrs["seed"] == SMALL["seed"] + k
    rates = [float(t.metrics["rate_exc"][0]) for t in a.trials.values()]
    assert len(set(rates)) > 1  # the seeds really differ
