"""``import neurosim.pynn as sim``: PyNN scripts on neurosim's engines, with SpiNNaker's tick.

A PyNN simulator module built on PyNN's own backend framework: populations, views, assemblies,
projections, connectors, random distributions, parameter spaces and neo recording are PyNN's
(``pyNN.common``, ``pyNN.connectors``, ``pyNN.recording``); this package adds the state of a
simulation (:mod:`.simulator`), the standard models the core runs (:mod:`.standardmodels`), and
the translation of a script's network into one :class:`neurosim.Network` (:mod:`.build`).

``setup(timestep=0.1, min_delay="auto", backend="numba", device=None, seed=0,
dialect="spinnaker")``: the engine (any of the core's: ``reference``, ``numba``, ``torch``
with ``device``, ``brian2``), the seed of Poisson sources, and the dialect the script is written
in (:mod:`neurosim.pynn_conventions`: ``"spinnaker"``, sPyNNaker 7's conventions, by default, or
``"pynn"``). The tick is the core's, which is sPyNNaker's: a spike over a delay of d steps
reaches its target d steps later, tau_refrac = 0 lets a cell fire every tick, and the membrane
is recorded as the board records it (at the start of each tick).

Parameters, initial values, currents and the network's structure are fixed once ``run()`` has
started: changing them raises PyNN's ``InvalidParameterValueError`` saying to call ``reset()``,
after which the next run rebuilds the network from the current values. Weights can be set
between runs (``Projection.set(weight=...)``); learning continues from them. Bad input is refused
where a script gives it, naming the field, the value and what is allowed (:mod:`.checks`).
"""

from pyNN import (  # noqa: F401
    common,  # noqa: I001 - after the backend's classes, as PyNN's own backends do
    errors,
    random,
    space,
)
from pyNN.parameters import Sequence  # noqa: F401
from pyNN.random import NumpyRNG, RandomDistribution  # noqa: F401
from pyNN.recording import get_io
from pyNN.space import Space  # noqa: F401
from pyNN.standardmodels import StandardCellType

from neurosim.pynn import simulator
from neurosim.pynn.checks import check_setup, checked_run
from neurosim.pynn.connectors import *  # noqa: F403
from neurosim.pynn.electrodes import DCSource, StepCurrentSource  # noqa: F401
from neurosim.pynn.populations import Assembly, Population, PopulationView  # noqa: F401
from neurosim.pynn.projections import Projection  # noqa: F401
from neurosim.pynn.standardmodels import *  # noqa: F403
from neurosim.pynn.standardmodels import UNAVAILABLE, StaticSynapse

globals().update({cls.__name__: cls for cls in UNAVAILABLE})


def setup(timestep: float = common.control.DEFAULT_TIMESTEP, min_delay="auto", **extra_params) -> int:
    """Start afresh (every population and projection is forgotten); see the module docstring."""
    check_setup(timestep, min_delay, extra_params.get("max_delay", "auto"))
    common.setup(timestep, min_delay, **extra_params)
    simulator.state.configure(timestep, min_delay, extra_params.pop("max_delay", "auto"), **extra_params)
    simulator.state.clear()  # after configure: a refused setup() leaves the previous one as it was
    return rank()


def end(compatible_output: bool = True) -> None:
    """Write what ``record(..., to_file=...)`` asked for and release the engine; what was recorded stays
    readable (``get_data``) until the next ``setup()``."""
    for population, variables, filename in simulator.state.write_on_end:
        population.write_data(get_io(filename), variables)
    simulator.state.write_on_end = []
    simulator.state.end()


run, run_until = checked_run(*common.build_run(simulator), lambda: simulator.state.t, lambda: simulator.state.dt)
run_for = run
reset = common.build_reset(simulator)
initialize = common.initialize
get_current_time, get_time_step, get_min_delay, get_max_delay, num_processes, rank = \
    common.build_state_queries(simulator)
create = common.build_create(Population)
connect = common.build_connect(Projection, FixedProbabilityConnector, StaticSynapse)  # noqa: F405
record = common.build_record(simulator)


def record_v(source, filename):
    return record(["v"], source, filename)


def list_standard_models() -> list[str]:
    """The standard cell types this module runs."""
    return [name for name, obj in globals().items() if isinstance(obj, type) and issubclass(obj, StandardCellType)
            and obj is not StandardCellType and obj not in UNAVAILABLE]
