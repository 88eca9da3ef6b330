"""The simulator state behind ``neurosim.pynn`` (PyNN's ``simulator`` module of a backend).

PyNN's common code (``pyNN.common``, ``pyNN.recording``) reads and updates this module's
:data:`state`: the time step, the current time, the recorders, the segment counter. The
populations and projections register here as they are created; the first ``run()`` after
``setup()`` or ``reset()`` turns them into one :class:`neurosim.Network`
(:mod:`neurosim.pynn.build`) and a :class:`neurosim.Simulator` on the engine chosen in
``setup()``; later runs continue it.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from pyNN import common

from neurosim import _checks as ck

name = "neurosim"
# setup() options other PyNN backends take, accepted here without effect (one engine thread setting, on-grid)
PYNN_OPTIONS = {"threads", "rng_seeds", "rng_seeds_seed", "grng_seed", "spike_precision", "verbosity", "label"}


class ID(int, common.IDMixin):
    """A cell: its number is unique across the populations of the current setup()."""

    def __init__(self, n: int) -> None:
        int.__init__(n)
        common.IDMixin.__init__(self)


class State(common.control.BaseState):
    """Everything a simulation in progress holds (PyNN's ``simulator.state``)."""

    def __init__(self) -> None:
        common.control.BaseState.__init__(self)
        self.mpi_rank = 0
        self.num_processes = 1
        self.dt = 0.1
        self.min_delay: float | str = "auto"
        self.max_delay: float | str = "auto"
        self.options: dict[str, Any] = {}
        self.sim = None
        self.built = None
        self.clear()

    @property
    def t(self) -> float:
        return self.sim.t_ms if self.sim is not None else 0.0

    def run(self, simtime: float) -> None:
        self.run_until(self.t + simtime)

    def run_until(self, tstop: float) -> None:
        """Run to ``tstop`` (ms; the nearest whole step), building the simulation first where none runs, and
        stopping wherever a current source switches to set the new currents (:mod:`.electrodes`)."""
        from neurosim.pynn.electrodes import change_times

        if self.ended:
            raise RuntimeError("run() after end(): call setup() to start a new simulation")
        if self.sim is None:
            from neurosim.pynn.build import simulate

            self.built, self.sim = simulate(self)
        self.refresh_currents()  # a switch at the current time (a run may end exactly where one happens)
        stop = round(tstop / self.dt)
        for tick in change_times(self.sim.step, stop):
            self.sim.run((tick - self.sim.step) * self.dt)
            self.refresh_currents()
        if stop > self.sim.step:
            self.sim.run((stop - self.sim.step) * self.dt)
        self.running = True

    def refresh_currents(self, populations=None) -> None:
        """Give the running simulation each cell's input current from now on (``i_offset`` and current sources)."""
        if self.sim is None:
            return
        from neurosim.pynn.electrodes import offsets_at

        for pop in self.populations if populations is None else populations:
            if type(pop.celltype).__name__ == "IF_curr_exp":
                self.sim.set_offset(self.built.node_of(pop), offsets_at(pop, self.t))

    def refresh_spike_times(self, population) -> None:
        """Give the running simulation a SpikeSourceArray's spike times from now on (times before now are its
        history and are left out)."""
        if self.sim is not None:
            trains = [np.asarray(seq.value, float) for seq in np.asarray(population._parameters["spike_times"]).ravel()]
            now = self.sim.step
            self.sim.set_spike_times(self.built.node_of(population),
                                     [t[np.floor(t / self.dt + 0.5) >= now] for t in trains])

    def end(self) -> None:
        """Release the engine; the recordings stay readable and a further run needs setup()."""
        if self.sim is not None:
            self.sim.close()
        self.ended = True

    def assert_not_running(self, what: str) -> None:
        """Changes that the running simulation cannot take raise PyNN's error type with what to do."""
        if self.sim is not None:
            from pyNN import errors

            raise errors.InvalidParameterValueError(
                f"{what} after run() is not supported by neurosim.pynn: call reset() first (the network is rebuilt "
                f"from its current parameters at t = 0), or set it before the first run()")

    def clear(self) -> None:
        """Forget every population and projection (``setup()``)."""
        self.recorders = set()
        self.populations: list = []
        self.projections: list = []
        self.current_sources: list = []
        self.id_counter = 0
        self.segment_counter = -1
        self.write_on_end = []
        self.ended = False
        self.reset()

    def reset(self) -> None:
        """Back to t = 0: the next run() rebuilds the network from the current parameters and initial values."""
        if self.sim is not None:
            self.sim.close()
        self.sim = None
        self.built = None
        for recorder in self.recorders:
            recorder._restart()
        self.running = False
        self.t_start = 0
        self.segment_counter += 1

    def configure(self, timestep: float, min_delay: float | str, max_delay: float | str, **options: Any) -> None:
        """``setup()``'s arguments: the engine (``backend``, ``device``, ``arithmetic``: "float64" or SpiNNaker's
        integers, "spinnaker"), the ``seed`` of Poisson sources and the ``dialect`` of the script
        (:mod:`neurosim.pynn_conventions`)."""
        from neurosim import backends
        from neurosim.pynn_conventions import DIALECTS

        dt = ck.positive("timestep", timestep, "ms")
        backend, device, _ = backends.resolve(options.pop("backend", "numba"), options.pop("device", None))
        dialect = options.pop("dialect", "spinnaker")
        if not isinstance(dialect, str) or dialect not in DIALECTS:
            ck.fail("dialect", dialect, f"one of {sorted(DIALECTS)}")
        seed = ck.count("seed", options.pop("seed", 0), minimum=0)
        arithmetic = options.pop("arithmetic", "float64")
        backends.arithmetic_engine(backend, arithmetic)  # refused here, at setup, naming what is allowed
        precision = options.get("spike_precision", "on_grid")
        if not (isinstance(precision, str) and precision == "on_grid"):
            from pyNN import errors

            from neurosim.pynn.checks import fail

            fail(errors.NoModelAvailableError, "spike_precision", precision, "'on_grid' (neurosim.pynn runs on "
                 "SpiNNaker's tick: every spike lies on the time grid)")
        unknown = sorted(set(options) - PYNN_OPTIONS)
        if unknown:
            warnings.warn(f"setup() options {unknown} mean nothing to neurosim.pynn and are ignored (it takes backend, "
                          f"arithmetic, device, seed and dialect besides PyNN's {sorted(PYNN_OPTIONS)})", UserWarning,
                          stacklevel=3)
        self.dt, self.min_delay, self.max_delay = dt, min_delay, max_delay
        self.options = {"backend": backend, "device": device, "dialect": DIALECTS[dialect], "seed": seed,
                        "arithmetic": arithmetic, **options}

    @property
    def dialect(self):
        from neurosim.pynn_conventions import DIALECTS

        return self.options.get("dialect", DIALECTS["spinnaker"])


state = State()
