"""Projections: PyNN's own class (``pyNN.common``); its connectors fill arrays of connections here.

PyNN's connectors (any of ``pyNN.connectors``, with its random distributions) call
:meth:`Projection._convergent_connect` for each postsynaptic cell; the connections are kept
as arrays (pre index, post index and every synaptic parameter, in PyNN's units and signs) in
connection order. The network build maps them onto the core's populations; ``get`` reads the
weights the running simulation has learned, and ``set`` of weights reaches it between runs.
"""

from __future__ import annotations

import numpy as np
from pyNN import common, errors
from pyNN.connectors import AllToAllConnector
from pyNN.space import Space

from neurosim.pynn import simulator
from neurosim.pynn.checks import check_parameters, check_receptor, fail


class Projection(common.Projection):
    __doc__ = common.Projection.__doc__
    _simulator = simulator

    def __init__(self, presynaptic_population, postsynaptic_population, connector, synapse_type=None,
                 source=None, receptor_type=None, space=None, label=None) -> None:
        simulator.state.assert_not_running("creating a projection")
        check_receptor(receptor_type, postsynaptic_population)
        common.Projection.__init__(self, presynaptic_population, postsynaptic_population, connector,
                                   synapse_type, source, receptor_type, space or Space(), label)
        self._parts: dict[str, list[np.ndarray]] = {}
        try:
            connector.connect(self)
        except ValueError as err:  # lazyarray's "Lazy array has fixed shape ..." names no parameter
            self._refuse_shapes(err)
            raise
        self._columns = {k: np.concatenate(v) if v else np.zeros(0) for k, v in self._parts.items()}
        for k in ("presynaptic_index", "postsynaptic_index"):
            self._columns[k] = self._columns.get(k, np.zeros(0)).astype(np.int64)
        for d in self.synapse_type.translations.values():  # a projection with no connections has every column too
            self._columns.setdefault(d["translated_name"], np.zeros(0))
        del self._parts
        if (isinstance(connector, AllToAllConnector) and not connector.allow_self_connections
                and simulator.state.dialect.all_to_all_self_across and self.pre is not self.post):
            # sPyNNaker's generator drops i -> i between two populations too (pyNN.conventions)
            keep = self._columns["presynaptic_index"] != self._columns["postsynaptic_index"]
            self._columns = {k: v[keep] for k, v in self._columns.items()}
        simulator.state.projections.append(self)

    def _refuse_shapes(self, err: ValueError) -> None:
        """The synapse parameter whose array has another shape than (pre, post), in the project's form."""
        if "fixed shape" not in str(err):
            return
        shape = (self.pre.size, self.post.size)
        for name, value in self.synapse_type.parameter_space.items():
            if getattr(value, "shape", None) is not None and tuple(value.shape) != shape:
                base = value.base_value
                fail(errors.InvalidParameterValueError, f"{type(self.synapse_type).__name__}.{name}",
                     base.tolist() if isinstance(base, np.ndarray) else base,
                     f"one value, or an array of shape (pre, post) = {shape}")

    def set(self, **attributes) -> None:
        """PyNN's ``set``, with weights and delays checked as the synapse type checks them."""
        check_parameters(self.synapse_type, attributes)
        super().set(**attributes)

    def __len__(self) -> int:
        return int(self._columns["presynaptic_index"].size)

    def _convergent_connect(self, presynaptic_indices, postsynaptic_index, location_selector=None,
                            **connection_parameters) -> None:
        if location_selector is not None:
            raise errors.NoModelAvailableError(f"location_selector = {location_selector!r} is not available in "
                                               "neurosim.pynn: None (point neurons only)")
        pre = np.asarray(presynaptic_indices, dtype=np.int64).ravel()
        columns = {"presynaptic_index": pre, "postsynaptic_index": np.full(pre.size, int(postsynaptic_index))}
        for name, value in connection_parameters.items():
            columns[name] = np.broadcast_to(np.asarray(value, dtype=float), pre.shape).astype(float)
        for name, value in columns.items():
            self._parts.setdefault(name, []).append(value)

    def column(self, name: str) -> np.ndarray:
        """One value per connection of a native attribute (``weight`` as learned so far)."""
        if name == "weight" and simulator.state.sim is not None:
            return simulator.state.built.weights(simulator.state.sim, self)
        if name not in self._columns:
            raise errors.NonExistentParameterError(name, self.synapse_type.__class__.__name__,
                                                   sorted(k for k in self._columns if not k.endswith("_index")))
        return self._columns[name]

    def _get_attributes_as_list(self, names):
        columns = [self.column(n) for n in names]
        return [tuple(row) for row in zip(*columns, strict=True)] if columns else []

    def _get_attributes_as_arrays(self, names, multiple_synapses="sum"):
        operation = common.Projection.MULTI_SYNAPSE_OPERATIONS[multiple_synapses]
        pre, post = self._columns["presynaptic_index"], self._columns["postsynaptic_index"]
        out = []
        for name in names:
            values = np.full((self.pre.size, self.post.size), np.nan)
            for i, j, v in zip(pre, post, self.column(name), strict=True):
                values[i, j] = v if np.isnan(values[i, j]) else operation(values[i, j], v)
            out.append(values)
        return out

    def _set_attributes(self, parameter_space) -> None:
        parameter_space.evaluate(simplify=False)
        pre, post = self._columns["presynaptic_index"], self._columns["postsynaptic_index"]
        for name, value in parameter_space.items():
            values = np.asarray(value, dtype=float)
            values = values[pre, post] if values.ndim == 2 else np.broadcast_to(values, pre.shape).astype(float)
            if simulator.state.sim is None:
                self._columns[name] = values  # the value the next run starts from
            elif name == "weight":  # into the running simulation only: reset() goes back to the initial weights
                simulator.state.built.set_weights(simulator.state.sim, self, values, simulator.state.dialect)
            else:
                simulator.state.assert_not_running(f"changing {name!r} of a projection")

    def _set_initial_value_array(self, variable, value) -> None:
        raise errors.NonExistentParameterError(variable, self.synapse_type.__class__.__name__, [])
