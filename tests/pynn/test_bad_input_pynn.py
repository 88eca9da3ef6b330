"""Bad input to neurosim.pynn gets the project's error ("FIELD = VALUE is not allowed: ALLOWED"), as PyNN's own
error type where PyNN has one; what PyNN takes by design still runs."""

from __future__ import annotations

import math

import numpy as np
import pytest

import neurosim.pynn as sim

CELL = {"cm": 0.25, "tau_m": 10.0, "tau_syn_E": 2.0, "tau_syn_I": 4.0, "tau_refrac": 2.0, "v_rest": -65.0,
        "v_reset": -65.0, "v_thresh": -55.0, "i_offset": 0.0}


def network(cell=None, spike_times=(1.0,), p_connect=None, synapse=None, receptor_type="excitatory", size=3,
            simtime=2.0, record="spikes", **setup) -> None:
    """A spike source onto ``size`` IF_curr_exp cells (``cell``: parameters changed), run for ``simtime`` ms."""
    sim.setup(**{"timestep": 0.1, "backend": "reference", **setup})
    try:
        src = sim.Population(3, sim.SpikeSourceArray(spike_times=spike_times), label="src")
        cells = sim.Population(size, sim.IF_curr_exp(**{**CELL, **(cell or {})}), label="cells")
        connector = sim.AllToAllConnector() if p_connect is None else sim.FixedProbabilityConnector(p_connect)
        sim.Projection(src, cells, connector, sim.StaticSynapse(**{"weight": 0.5, "delay": 1.0, **(synapse or {})}),
                       receptor_type=receptor_type)
        cells.record(record)
        sim.run(simtime)
    finally:
        sim.end()


ERR = sim.errors


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"min_delay": "x"}, ValueError, r"min_delay = 'x' is not allowed: 'auto' or a number of ms >= timestep"),
    ({"min_delay": -1.0}, ValueError, r"min_delay = -1.0 is not allowed"),
    ({"min_delay": math.nan}, ValueError, r"min_delay = nan is not allowed"),
    ({"min_delay": None}, ValueError, r"min_delay = None is not allowed"),
    ({"min_delay": 1.0, "max_delay": 0.5}, ValueError, r"max_delay = 0.5 is not allowed: .* >= min_delay \(1.0 ms\)"),
    ({"dialect": ["spinnaker"]}, ValueError, r"dialect = \['spinnaker'\] is not allowed: one of"),
    ({"spike_precision": "off_grid"}, ERR.NoModelAvailableError, r"spike_precision = 'off_grid' is not allowed: 'on_"),
    ({"spike_precision": 5}, ERR.NoModelAvailableError, r"spike_precision = 5 is not allowed"),
    ({"cell": {"cm": "5"}}, ERR.InvalidParameterValueError, r"IF_curr_exp.cm = '5' is not allowed: a number"),
    ({"cell": {"tau_m": True}}, ERR.InvalidParameterValueError, r"IF_curr_exp.tau_m = True is not allowed"),
    ({"cell": {"v_rest": None}}, ERR.InvalidParameterValueError, r"IF_curr_exp.v_rest = None is not allowed"),
    ({"cell": {"i_offset": object()}}, ERR.InvalidParameterValueError, r"IF_curr_exp.i_offset = <object"),
    ({"cell": {"v_thresh": [1]}}, ERR.InvalidParameterValueError,
     r"IF_curr_exp.v_thresh = \[1.0\] is not allowed: one value, or one per cell \(3 for population 'cells'\)"),
    ({"cell": {"tau_refrac": [1.0, "2", 3.0]}}, ERR.InvalidParameterValueError, r"tau_refrac = '2' is not allowed"),
    ({"size": "5"}, ValueError, r"Population.size = '5' is not allowed: an integer >= 1"),
    ({"size": True}, ValueError, r"Population.size = True is not allowed"),
    ({"size": 2.0}, ValueError, r"Population.size = 2.0 is not allowed"),
    ({"size": 0}, ValueError, r"Population.size = 0 is not allowed"),
    ({"size": (3, -1)}, ValueError, r"Population.size\[1\] = -1 is not allowed"),
    ({"size": 10**12}, ValueError, r"Population.size = 1000000000000 is not allowed: a size whose arrays fit"),
    ({"size": np.uint64(2**64 - 1)}, ValueError, r"Population.size = 18446744073709551615 is not allowed"),
    ({"spike_times": "abc"}, ERR.InvalidParameterValueError, r"SpikeSourceArray.spike_times = 'abc' is not allowed"),
    ({"spike_times": None}, ERR.InvalidParameterValueError, r"spike_times = None is not allowed"),
    ({"spike_times": ["1"]}, ERR.InvalidParameterValueError, r"spike_times = '1' is not allowed"),
    ({"spike_times": 5}, ERR.InvalidParameterValueError, r"spike_times = 5 is not allowed"),
    ({"spike_times": [[1.0], [True], [2.0]]}, ERR.InvalidParameterValueError, r"spike_times = True is not allowed"),
    ({"spike_times": [sim.Sequence([1.0]), [2.0], [3.0]]}, ERR.InvalidParameterValueError,
     r"spike_times = .* is not allowed: one Sequence per cell, or one list per cell"),
    ({"synapse": {"weight": "5"}}, ERR.InvalidParameterValueError, r"StaticSynapse.weight = '5' is not allowed"),
    ({"synapse": {"weight": True}}, ERR.InvalidParameterValueError, r"StaticSynapse.weight = True is not allowed"),
    ({"synapse": {"delay": "1.0 + 2"}}, ERR.InvalidParameterValueError, r"delay = '1.0 \+ 2' is not allowed"),
    ({"synapse": {"delay": object()}}, ERR.InvalidParameterValueError, r"StaticSynapse.delay = <object"),
    ({"synapse": {"weight": [1]}}, ERR.InvalidParameterValueError,
     r"StaticSynapse.weight = \[1.0\] is not allowed: one value, or an array of shape \(pre, post\) = \(3, 3\)"),
    ({"p_connect": "0.5"}, ValueError, r"FixedProbabilityConnector.p_connect = '0.5' is not allowed"),
    ({"p_connect": True}, ValueError, r"p_connect = True is not allowed"),
    ({"p_connect": math.nan}, ValueError, r"p_connect = nan is not allowed"),
    ({"p_connect": -0.1}, ValueError, r"p_connect = -0.1 is not allowed: in \[0.0, 1.0\]"),
    ({"p_connect": 1.1}, ValueError, r"p_connect = 1.1 is not allowed: in \[0.0, 1.0\]"),
    ({"receptor_type": "bogus"}, ERR.ConnectionError,
     r"Projection.receptor_type = 'bogus' is not allowed: one of \['excitatory', 'inhibitory'\]"),
    ({"receptor_type": ["excitatory"]}, ERR.ConnectionError, r"receptor_type = \['excitatory'\] is not allowed"),
    ({"receptor_type": 5}, ERR.ConnectionError, r"receptor_type = 5 is not allowed"),
    ({"record": "bogus"}, ERR.RecordingError,
     r"record\(variables\) = 'bogus' is not allowed: one of \['spikes', 'v'\]"),
    ({"record": 5}, ERR.RecordingError, r"record\(variables\) = 5 is not allowed"),
    ({"record": ["v", 5]}, ERR.RecordingError, r"record\(variables\) = 5 is not allowed"),
    ({"simtime": "5"}, ValueError, r"simtime = '5' is not allowed: a finite real number"),
    ({"simtime": True}, ValueError, r"simtime = True is not allowed"),
    ({"simtime": math.inf}, ValueError, r"simtime = inf is not allowed"),
    ({"simtime": -1e-300}, ValueError, r"simtime = -1e-300 is not allowed: >= 0 ms"),
])
def test_bad_input_names_field_value_and_allowed(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match) as caught:
        network(**kwargs)
    assert isinstance(caught.value, ValueError)  # PyNN's error types, and ValueError as the project's form


def test_run_until_in_the_past_and_set_are_checked_too() -> None:
    sim.setup(timestep=0.1, backend="reference")
    cells = sim.Population(2, sim.IF_curr_exp())
    with pytest.raises(ERR.InvalidParameterValueError, match=r"IF_curr_exp.tau_m = '5' is not allowed"):
        cells.set(tau_m="5")
    with pytest.raises(ERR.InvalidParameterValueError, match=r"IF_curr_exp.cm = \[1.0, 2.0, 3.0\] is not allowed"):
        cells.set(cm=[1.0, 2.0, 3.0])
    src = sim.Population(2, sim.SpikeSourceArray(spike_times=[1.0]))
    proj = sim.Projection(src, cells, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.5))
    with pytest.raises(ERR.InvalidParameterValueError, match=r"StaticSynapse.weight = True is not allowed"):
        proj.set(weight=True)
    sim.run(2.0)
    with pytest.raises(ValueError, match=r"time_point = 1.0 is not allowed: >= the current time \(2.0 ms\)"):
        sim.run_until(1.0)
    with pytest.raises(ValueError, match=r"time_point = nan is not allowed"):
        sim.run_until(math.nan)
    sim.end()


@pytest.mark.filterwarnings("ignore:.*not multiples of dt")  # the distance-dependent delays
def test_what_pynn_takes_by_design_still_runs() -> None:
    sim.setup(timestep=0.1, min_delay=0.1, max_delay=10.0, backend="reference")
    src = sim.Population(np.int64(3), sim.SpikeSourceArray(spike_times=[[1.0], [2.0], np.array([3.0])]))
    grid = sim.Population((2, 2), sim.IF_curr_exp(cm=np.full(4, 0.25), tau_m=sim.RandomDistribution("uniform",
                                                                                                   (10.0, 20.0))))
    sim.Projection(src, grid, sim.FixedProbabilityConnector(np.float64(1.0)),
                   sim.StaticSynapse(weight=None, delay="0.2 + 0.01 * d"), receptor_type=None)
    sim.Projection(src, grid, sim.FixedProbabilityConnector(0), sim.StaticSynapse(weight=0.5))
    grid.record("all")                                  # every variable IF_curr_exp records
    assert {v.name for v in grid.recorder.recorded} >= {"spikes", "v"}
    sim.run(0)
    sim.run(5.0)
    sim.run_until(np.float64(6.0))
    assert sim.get_current_time() == pytest.approx(6.0)
    sim.end()
