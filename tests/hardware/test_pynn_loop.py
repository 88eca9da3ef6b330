"""The export loop closed: neurosim Network -> exported PyNN script -> neurosim.pynn gives the same spikes,
the same script runs on pyNN.nest, and the CLI picks the export target."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("pyNN")

from neurosim import cli, experiments  # noqa: E402
from neurosim.hardware import pynn as export  # noqa: E402
from neurosim.simulator import Simulator  # noqa: E402
from tests.hardware.test_pynn import chain, small_stdp_network  # noqa: E402


def _run_script(script, simulator: str, out) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(script), "--simulator", simulator, "--out", str(out)],
                          cwd=out.parent, capture_output=True, text=True, timeout=300, check=False)


def _native(net, duration_ms: float, inputs=None) -> Simulator:
    sim = Simulator(net, backend="reference")
    for source, trains in (inputs or {}).items():
        times = [t for train in trains for t in train]
        ids = [i for i, train in enumerate(trains) for _ in train]
        sim.add_spikes(source, times, ids)
    sim.run(duration_ms)
    return sim


@pytest.mark.parametrize("target", ["generic", "spinnaker"])
def test_round_trip_through_neurosim_pynn_gives_identical_spikes(target: str, tmp_path) -> None:
    """Network -> script (either convention) -> neurosim.pynn: every recorded spike, with STDP, inhibition,
    per-connection delays and all-to-all projections between two populations."""
    for name, net in (("chain", chain(delay_b=[2, 3])), ("stdp", small_stdp_network())):
        script = export.export_script(net, tmp_path / f"{name}.py", duration_ms=30.0, target=target)
        proc = _run_script(script, "neurosim", tmp_path / f"{name}.json")
        assert proc.returncode == 0, proc.stderr[-3000:]
        got = export.read_results(tmp_path / f"{name}.json")
        ref = _native(net, 30.0)
        for pop in ("src", "a", "b"):
            t, i = ref.spikes(pop)
            assert t.size
            np.testing.assert_array_equal(got[pop][0], t)
            np.testing.assert_array_equal(got[pop][1], i)


def test_round_trip_of_the_ca3_memory_with_its_published_inputs(tmp_path) -> None:
    net, inputs, duration = experiments.exportable("ca3-functional")
    script = export.export_script(net, tmp_path / "ca3.py", spike_inputs=inputs, duration_ms=duration)
    proc = _run_script(script, "neurosim", tmp_path / "ca3.json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = export.read_results(tmp_path / "ca3.json")
    ref = _native(net, duration, inputs)
    assert len(got) >= 8
    for pop, (t, i) in got.items():
        t_ref, i_ref = ref.spikes(pop)
        np.testing.assert_array_equal(t, t_ref, err_msg=pop)
        np.testing.assert_array_equal(i, i_ref, err_msg=pop)


def test_exported_script_on_nest_fires_within_each_tick_neurosim_stamps(tmp_path) -> None:
    """pyNN.nest runs the generic script with precise spike times (IF_curr_exp is iaf_psc_exp_ps): the same
    spikes, each inside the tick neurosim stamps it (floor(t / dt) equal), STDP and inhibition included."""
    pytest.importorskip("nest")
    for name, net in (("chain", chain(delay_b=[2, 3])), ("stdp", small_stdp_network())):
        script = export.export_script(net, tmp_path / f"{name}.py", duration_ms=30.0)
        proc = _run_script(script, "nest", tmp_path / f"{name}.json")
        assert proc.returncode == 0, proc.stderr[-3000:]
        got = export.read_results(tmp_path / f"{name}.json")
        ref = _native(net, 30.0)
        for pop in ("a", "b"):
            t, i = ref.spikes(pop)
            np.testing.assert_array_equal(got[pop][1], i)
            np.testing.assert_array_equal(np.floor(got[pop][0] / net.dt_ms) * net.dt_ms, t)
            assert np.all(got[pop][0] > t)  # NEST's threshold crossing lies inside the tick, after its start


def test_nest_refusal_of_an_input_at_dt_is_said_clearly(tmp_path) -> None:
    net, inputs, duration = experiments.exportable("ca3-functional")
    script = export.export_script(net, tmp_path / "ca3.py", spike_inputs=inputs, duration_ms=duration)
    proc = _run_script(script, "nest", tmp_path / "ca3.json")
    assert proc.returncode == 2
    assert "pyNN.nest cannot run this script: its first input spike is at 0.0 ms <= dt = 1.0 ms" in proc.stderr


def test_cli_chooses_the_export_target(tmp_path, capsys) -> None:
    for target in ("generic", "brian2-spinnaker", "spinnaker"):
        out = tmp_path / f"{target}.py"
        assert cli.main(["export", "ca3-functional", "--to", "pynn", "--target", target, "--out", str(out)]) == 0
        text = out.read_text()
        assert f"EXPORT_TARGET = {target!r}" in text
        assert 'brian2.prefs.codegen.target = "numpy"' in text  # every target: seconds, not minutes, on Brian2
    assert "--simulator spiNNaker|neurosim" in capsys.readouterr().out
    assert cli.main(["export", "ca3-functional", "--to", "spinnaker", "--target", "generic",
                     "--out", str(tmp_path / "x.py")]) == 2
