"""The CA3 memory exported to PyNN (target "brian2-spinnaker" of hardware/pynn.py) and run on pyNN.brian2."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import pytest

pytest.importorskip("pyNN")
pytest.importorskip("brian2")

from neurosim.experiments.ca3_published import functional, state_map, stress  # noqa: E402
from neurosim.hardware import pynn as export  # noqa: E402
from neurosim.hardware.ca3_pynn import (  # noqa: E402
    CONSTANTS,
    export_ca3_script,
    psp_scale,
    recalls_from_results,
    run_ca3_on_pynn,
)
from neurosim.models.ca3 import CA3Memory  # noqa: E402
from neurosim.models.ca3_oracle import DictOracle  # noqa: E402

EXPERIMENTS = {"functional": functional, "stress": stress, "state_map": state_map}
_CACHE: dict = {}


def _run(name: str, constants: str):
    if (name, constants) not in _CACHE:
        n, m, schedule, duration = EXPERIMENTS[name]()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _CACHE[name, constants] = run_ca3_on_pynn(n, m, schedule, duration, constants=constants)
    return _CACHE[name, constants]


def _expected(schedule):
    oracle = DictOracle()
    return [oracle.apply(op) for _, op in schedule]


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_brian2_constants_give_the_published_recalls(name):
    n, m, schedule, duration = EXPERIMENTS[name]()
    recalls, _ = _run(name, "brian2")
    assert recalls == _expected(schedule)


def test_brian2_constants_reproduce_neurosim_spike_for_spike():
    """Past the recalls: every population's spikes equal neurosim's (functional experiment)."""
    n, m, schedule, duration = functional()
    _, spikes = _run("functional", "brian2")
    memory = CA3Memory(n, m, plastic_recall=True)  # the published circuit: STDP always on
    memory.run_schedule(schedule, until_ms=duration)
    for pop, trains in spikes.items():
        t, i = memory.sim.spikes(pop)
        mine = sorted((int(tt), int(ii)) for tt, ii in zip(t, i, strict=True) if tt < duration)
        theirs = sorted((int(round(s)), k) for k, train in enumerate(trains) for s in train)
        assert mine == theirs, pop


def test_published_constants_recall_wrongly_on_brian2():
    """Characterization: the published circuit run unchanged on pyNN.brian2 (every hop one
    step longer, strict threshold, 1-step refractoriness, decaying in-step current): nothing
    reaches the output layer at t0 + 6 ms, so every functional recall comes back empty."""
    n, m, schedule, duration = functional()
    recalls, spikes = _run("functional", "spinnaker")
    expected = _expected(schedule)
    assert [r for r, e in zip(recalls, expected, strict=True) if e is not None] == [[], [], [], [], []]
    assert all(e for e in expected if e is not None)  # all five published answers are non-empty


def test_constants_are_export_targets_and_documented():
    assert CONSTANTS == {"spinnaker": "generic", "brian2": "brian2-spinnaker"}
    rules = export.TARGETS["brian2-spinnaker"]
    for field in ("delay_shift_steps", "refractory_extra_steps", "stdp_window_shift", "psp_match"):
        assert getattr(rules, field) and f"``{field}" in export.__doc__
    assert psp_scale(0.14, 0.5, 0.3) == pytest.approx(1.673, abs=1e-3)
    assert psp_scale(0.27, 3.0, 0.3) == pytest.approx(1.084, abs=1e-3)


def test_exported_script_reproduces_the_recalls(tmp_path):
    n, m, schedule, duration = functional()
    script = export_ca3_script(tmp_path / "ca3_functional.py", n, m, schedule, duration, constants="brian2")
    out = tmp_path / "out.json"
    proc = subprocess.run([sys.executable, str(script), "--simulator", "brian2", "--out", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "warning" not in proc.stdout
    assert set(json.loads(out.read_text())) == set(_run("functional", "brian2")[1])  # every population recorded
    got_recalls, got_output = recalls_from_results(n, m, schedule, out)
    recalls, spikes = _run("functional", "brian2")
    assert got_recalls == recalls
    assert got_output == spikes["output"]
