"""The simulator state behind ``neurosim.pynn`` (PyNN's ``simulator`` module of a backend).

PyNN's common code (``pyNN.common``, ``pyNN.recording``) reads and updates this module's
:data:`state`: the time step, the current time, the recorders, the segment counter. The
populations and projections register here as they are created; the first ``run()`` after
``setup()`` or ``reset()`` turns them into one :class:`neurosim.Network`
(:mod:`neurosim.pynn.build`) and a :class:`neurosim.Simulator` on the engine chosen in
``setup()``; later runs continue it.
"""

from __future__ import annotations

from typing import Any

from pyNN import common

from neurosim import _checks as ck

name = "neurosim"


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
        """Run to ``tstop`` (ms; the nearest whole step), building the simulation first where none runs."""
        if self.sim is None:
            from neurosim.pynn.build import simulate

            self.built, self.sim = simulate(self)
        steps = round((tstop - self.t) / self.dt)
        if steps > 0:
            self.sim.run(steps * self.dt)
        self.running = True

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
        """``setup()``'s arguments: the engine (``backend``, ``device``), the ``seed`` of Poisson sources and
        the ``dialect`` of the script (:mod:`neurosim.pynn_conventions`)."""
        from neurosim import backends
        from neurosim.pynn_conventions import DIALECTS

        self.dt = ck.positive("timestep", timestep, "ms")
        self.min_delay, self.max_delay = min_delay, max_delay
        backend, device, _ = backends.resolve(options.pop("backend", "numba"), options.pop("device", None))
        dialect = options.pop("dialect", "spinnaker")
        if dialect not in DIALECTS:
            ck.fail("dialect", dialect, f"one of {sorted(DIALECTS)}")
        seed = ck.count("seed", options.pop("seed", 0), minimum=0)
        self.options = {"backend": backend, "device": device, "dialect": DIALECTS[dialect], "seed": seed,
                        **options}

    @property
    def dialect(self):
        return self.options["dialect"]


state = State()
