"""Populations, views and assemblies: PyNN's own classes (``pyNN.common``) over parameter arrays.

A :class:`Population` keeps its native parameters (the core's names) as one array per parameter
and its initial values (``v``) as arrays too; :mod:`neurosim.pynn.build` reads both when the
network is built. Cells get consecutive IDs across the populations of a setup(), so an ID says
which population and which neuron it is. In the sPyNNaker dialect (``setup(dialect="spinnaker")``,
the default) ``Population.set(v=...)`` sets the initial membrane potential, as sPyNNaker scripts
mean it; in the standard one it is PyNN's error.
"""

from __future__ import annotations

import numpy as np
from pyNN import common, errors
from pyNN.parameters import ParameterSpace, simplify
from pyNN.standardmodels import StandardCellType

from neurosim.pynn import simulator
from neurosim.pynn.checks import check_parameters, check_set_shapes, check_shapes, check_size
from neurosim.pynn.recording import Recorder
from neurosim.pynn_conventions import range_as_slice

# what a running simulation can take without a reset(): the input current and future source spikes
LIVE_PARAMETERS = {"i_offset", "spike_times"}


def _check_spike_times(population) -> None:
    """Each cell's spike times in increasing order (PyNN's rule for SpikeSourceArray)."""
    if type(population.celltype).__name__ != "SpikeSourceArray":
        return
    for k, seq in enumerate(np.asarray(population._parameters["spike_times"]).ravel()):
        times = np.asarray(seq.value, float)
        if np.any(np.diff(times) < 0):
            raise errors.InvalidParameterValueError(
                f"spike_times of cell {k} of {population.label!r} = {times.tolist()} is not allowed: increasing times")


class Assembly(common.Assembly):
    _simulator = simulator


class _Parameters:
    """What populations and views share: parameters read in PyNN's names, written in the core's."""

    def _get_parameters(self, *names):
        if isinstance(self.celltype, StandardCellType):
            if any(name in self.celltype.computed_parameters() for name in names):
                native_names = self.celltype.get_native_names()
            else:
                native_names = self.celltype.get_native_names(*names)
            return self.celltype.reverse_translate(self._get_native_parameters(*native_names))
        return self._get_native_parameters(*names)

    def set(self, **parameters) -> None:
        """PyNN's ``set``; in the sPyNNaker dialect ``v`` is the initial membrane potential. While a simulation
        runs, ``i_offset`` and a SpikeSourceArray's ``spike_times`` change from the current time on; any other
        parameter needs ``reset()`` first."""
        state = simulator.state
        if "v" in parameters and state.dialect.set_initializes:
            self.initialize(v=parameters.pop("v"))
        if not parameters:
            return
        if isinstance(self.celltype, StandardCellType):
            check_parameters(self.celltype, parameters)
            check_set_shapes(self.celltype, parameters, self.size, self.label)
        if set(parameters) - LIVE_PARAMETERS:
            state.assert_not_running(f"changing {sorted(set(parameters) - LIVE_PARAMETERS)}")
        population = self.grandparent if isinstance(self, PopulationView) else self
        before = {k: v.copy() for k, v in population._parameters.items()}
        super().set(**parameters)
        if "spike_times" in parameters:
            try:
                _check_spike_times(population)
            except errors.InvalidParameterValueError:
                population._parameters = before  # the refused times are not kept
                raise
            state.refresh_spike_times(population)
        if "i_offset" in parameters:
            state.refresh_currents([population])


class PopulationView(_Parameters, common.PopulationView):
    _assembly_class = Assembly
    _simulator = simulator

    def __init__(self, parent, selector, label=None) -> None:
        common.PopulationView.__init__(self, parent, range_as_slice(selector), label)

    @property
    def _cells(self) -> np.ndarray:
        """This view's cells as indices into the population at the root (views of views included)."""
        return self.index_in_grandparent(np.arange(self.size))

    def _get_native_parameters(self, *names):
        values = {}
        for name in names:
            value = self.grandparent._parameters[name]
            values[name] = simplify(value[self._cells] if isinstance(value, np.ndarray) else value)
        return ParameterSpace(values, shape=(self.size,))

    def _set_parameters(self, parameter_space) -> None:
        for name, value in parameter_space.items():
            self.grandparent._parameters[name][self._cells] = value.evaluate(simplify=False)

    def _set_initial_value_array(self, variable, initial_values) -> None:
        simulator.state.assert_not_running("changing an initial value")
        self.grandparent._initial[variable][self._cells] = initial_values.evaluate(simplify=False)

    def initialize(self, **initial_values) -> None:
        for variable, value in initial_values.items():
            from lazyarray import larray

            self._set_initial_value_array(variable, larray(value, shape=(self.size,), dtype=float))

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)


class Population(_Parameters, common.Population):
    __doc__ = common.Population.__doc__
    _simulator = simulator
    _recorder_class = Recorder
    _assembly_class = Assembly

    def __init__(self, size, *args, **kwargs) -> None:
        check_size(size)
        super().__init__(size, *args, **kwargs)

    def _create_cells(self) -> None:
        state = simulator.state
        state.assert_not_running("creating a population")
        if isinstance(self.celltype, StandardCellType):
            check_shapes(self.celltype, self.celltype.parameter_space, self.size, self.label)
        ids = np.arange(state.id_counter, state.id_counter + self.size)
        self.all_cells = np.array([simulator.ID(i) for i in ids], dtype=simulator.ID)
        self._mask_local = np.ones(self.size, dtype=bool)
        space = (self.celltype.native_parameters if isinstance(self.celltype, StandardCellType)
                 else self.celltype.parameter_space)
        space.shape = (self.size,)
        space.evaluate(simplify=False)
        self._parameters = space.as_dict()
        self._initial = {var: np.full(self.size, float(value)) for var, value in
                         getattr(self.celltype, "default_initial_values", {}).items()}
        for cell in self.all_cells:
            cell.parent = self
        _check_spike_times(self)
        state.id_counter += self.size
        state.populations.append(self)

    def _set_initial_value_array(self, variable, initial_values) -> None:
        simulator.state.assert_not_running("changing an initial value")
        if variable not in self._initial:
            raise errors.NonExistentParameterError(variable, self.celltype.__class__.__name__,
                                                   sorted(self._initial))
        self._initial[variable] = np.array(initial_values.evaluate(simplify=False), dtype=float)

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)

    def _get_native_parameters(self, *names):
        return ParameterSpace({name: simplify(self._parameters[name]) for name in names}, shape=(self.size,))

    def _set_parameters(self, parameter_space) -> None:
        parameter_space.evaluate(simplify=False)
        for name, value in parameter_space.items():
            self._parameters[name] = value

    def initial(self, variable: str) -> np.ndarray:
        """The initial values of ``variable`` (one per neuron), as the next run starts from."""
        return self._initial[variable].copy()
