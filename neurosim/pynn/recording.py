"""Recording: PyNN's ``Recorder`` (neo output, segments, files) reading what the core recorded.

Every population's spikes are recorded by the built network; ``record("v")`` adds its cells
to a StateMonitor, so it must come before the run it records (or after ``reset()``). The
membrane potential is sampled as SpiNNaker records it: at the start of each tick, so the
sample at t = k dt is the value that tick starts from (the initial value at t = 0), and a
run of T ms gives T / dt samples; standard PyNN (``setup(dialect="pynn")``) adds the value at
the end of the last tick (T / dt + 1 samples).
"""

from __future__ import annotations

import numpy as np
from pyNN import recording

from neurosim.pynn import simulator
from neurosim.pynn.checks import recorded_variables


class Recorder(recording.Recorder):
    _simulator = simulator

    def record(self, variables, ids, sampling_interval=None, locations=None) -> None:
        """PyNN's ``record`` with the variables checked (PyNN's RecordingError, in the project's form);
        ``'all'`` is every variable the cell type records."""
        if locations is None:
            variables = recorded_variables(variables, self.population.celltype)
        super().record(variables, ids, sampling_interval, locations)

    def _record(self, variable, new_ids, sampling_interval=None) -> None:
        if variable.name != "spikes" and new_ids and simulator.state.sim is not None:
            self.recorded[variable] = self.recorded[variable].difference(new_ids)  # PyNN marked them already
            simulator.state.assert_not_running(f"recording {variable.name!r} of more cells")
        if sampling_interval is not None and sampling_interval != simulator.state.dt:
            from pyNN import errors

            raise errors.InvalidParameterValueError(
                f"sampling_interval = {sampling_interval} is not allowed: the time step ({simulator.state.dt} ms)")

    _cleared_at = 0.0  # data before this time was cleared (get_data(clear=True)); 0 again after reset()

    def _get_spiketimes(self, ids, clear=False):
        built, sim = simulator.state.built, simulator.state.sim
        if sim is None:
            return {int(i): np.zeros(0) for i in ids}
        return built.spike_times(sim, np.array([int(i) for i in ids], dtype=np.int64), self._cleared_at)

    def _get_all_signals(self, variable, ids, clear=False):
        built, sim = simulator.state.built, simulator.state.sim
        since = self._cleared_at
        ids = np.array([int(i) for i in ids], dtype=np.int64)
        if sim is None or not ids.size:
            return np.zeros((0, ids.size)), None
        return built.signals(sim, self.population, variable.name, ids, since,
                             simulator.state.dialect.v_sample_at_end), None

    def _local_count(self, variable, filter_ids=None):
        counts = self._get_spiketimes(sorted(self.filter_recorded(variable, filter_ids)))
        return {i: len(t) for i, t in counts.items()}

    def _clear_simulator(self) -> None:
        self._cleared_at = simulator.state.t

    def _reset(self) -> None:
        """``record(None)``: nothing to undo in the simulation (every spike is recorded by the core anyway)."""

    def _restart(self) -> None:
        """A new simulation from t = 0 (``reset()``): nothing of it is cleared yet."""
        self._cleared_at = 0.0
