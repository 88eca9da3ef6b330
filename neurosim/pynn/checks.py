"""Bad input to ``neurosim.pynn``: the project's error form ("FIELD = VALUE is not allowed: ALLOWED") with PyNN's
error types where PyNN has one, so scripts that catch PyNN's errors still catch them.

Each check runs once, where a script hands the value over (``setup``, a model's constructor, ``Population``,
``Projection``, ``record``, ``run``), before PyNN's common code would fail on it with a message that names no
field. Numbers are refused as text or bools; a synapse's weight or delay may still be text that is an expression
of the distance ``d`` (PyNN's ``delay="0.2 + 0.01 * d"``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np
from lazyarray import larray
from pyNN import errors
from pyNN.models import BaseSynapseType
from pyNN.parameters import ArrayParameter, Sequence
from pyNN.random import RandomDistribution

from neurosim import _checks as ck

_TYPED: dict[type, type] = {}
# what PyNN evaluates itself, per cell or per connection: distributions, functions and lazy arrays
_DEFERRED = (RandomDistribution, larray)
NUMBER = "a number (not text, a bool or None)"
ARRAYS = (list, tuple, range, np.ndarray)  # what PyNN takes as several numbers (spike_times=range(1, 10))
BYTES_PER_CELL = 512  # a cell's ID object, its parameter and initial values, the core's state


def typed(error: type[Exception]) -> type[Exception]:
    """PyNN's ``error`` that is also a ValueError and takes one message (RecordingError formats its own)."""
    if issubclass(error, ValueError):
        return error
    if error not in _TYPED:
        _TYPED[error] = type(error.__name__, (error, ValueError), {
            "__init__": Exception.__init__, "__str__": Exception.__str__, "__module__": __name__,
            "__doc__": f"PyNN's {error.__name__}, in the project's form (a ValueError too)."})
    return _TYPED[error]


def fail(error: type[Exception], field: str, value: object, allowed: str) -> None:
    """:func:`neurosim._checks.fail` raising PyNN's ``error`` (made a ValueError too)."""
    try:
        ck.fail(field, value, allowed)
    except ValueError as exc:
        raise typed(error)(str(exc)) from None


def _numbers(field: str, value: object, allowed: str) -> None:
    """A number or numbers (list, tuple, array): not text, bools, None or other objects."""
    if isinstance(value, (bool, np.bool_)) or value is None:
        fail(errors.InvalidParameterValueError, field, value, allowed)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return
    if not isinstance(value, ARRAYS):
        fail(errors.InvalidParameterValueError, field, value, allowed)
    try:
        a = np.asarray(value)
    except ValueError:  # ragged
        a = np.asarray(value, dtype=object)
    if a.dtype.kind not in "iuf":
        bad = _first_non_number(value)
        fail(errors.InvalidParameterValueError, field, value if bad is _NONE else bad, allowed)


_NONE = object()


def _first_non_number(value: object) -> object:
    """The first item of a nested list, tuple or array that is not a number (``_NONE`` if every one is)."""
    for x in value.ravel().tolist() if isinstance(value, np.ndarray) else value:
        if isinstance(x, (list, tuple, np.ndarray)):
            bad = _first_non_number(x)
            if bad is not _NONE:
                return bad
        elif isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.integer, np.floating)):
            return x
    return _NONE


def _is_distance_expression(text: str) -> bool:
    """PyNN's text values of synapses: a function of the distance ``d``; text that is just a number is refused."""
    try:
        float(text)
    except ValueError:
        return re.search(r"\bd\b", text) is not None
    return False


def _train(field: str, values: object, allowed: str) -> None:
    """One cell's spike times: a flat list, array or Sequence of numbers."""
    if isinstance(values, Sequence):
        values = values.value
    if not isinstance(values, ARRAYS):
        fail(errors.InvalidParameterValueError, field, values, allowed)
    _numbers(field, values, allowed)
    if np.ndim(values) != 1:
        fail(errors.InvalidParameterValueError, field, values, allowed)


def _spike_times(field: str, value: object) -> None:
    """A SpikeSourceArray's ``spike_times``: one train for every cell, or one per cell."""
    allowed = "spike times in ms: a list, an array or a Sequence of numbers, or one of them per cell"
    if isinstance(value, _DEFERRED) or callable(value):
        return
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf" and value.ndim == 2:
        return  # one row per cell
    if isinstance(value, ARRAYS) and len(value) \
            and all(isinstance(x, (Sequence, *ARRAYS)) for x in value):
        if isinstance(value[0], Sequence) and not all(isinstance(x, Sequence) for x in value):
            fail(errors.InvalidParameterValueError, field, value, "one Sequence per cell, or one list per cell (PyNN "
                 "converts lists to Sequences only where the first is a list)")
        for x in value:
            _train(field, x, allowed)
    else:
        _train(field, value, allowed)


def _numeric(default: object) -> bool:
    return isinstance(default, (int, float)) and not isinstance(default, bool)


def check_parameters(model, parameters: dict) -> None:
    """The values a script gives a standard model (cell, synapse, STDP component) by PyNN name."""
    defaults = getattr(type(model), "default_parameters", None)
    defaults = defaults if isinstance(defaults, dict) else {}
    synapse = isinstance(model, BaseSynapseType)
    name = type(model).__name__
    for key, value in parameters.items():
        field = f"{name}.{key}"
        if synapse and key in ("weight", "delay"):
            if value is None or isinstance(value, _DEFERRED) or callable(value):
                continue  # None: PyNN's default (weight 0, delay min_delay)
            if isinstance(value, str) and _is_distance_expression(value):
                continue
            _numbers(field, value, f"{NUMBER}, an array, a RandomDistribution, a function or an expression of the "
                                   "distance d (e.g. '0.2 + 0.01 * d')")
        elif isinstance(defaults.get(key), ArrayParameter):
            _spike_times(field, value)
        elif _numeric(defaults.get(key)) or (synapse and key == "dendritic_delay_fraction"):
            if not (isinstance(value, _DEFERRED) or callable(value)):
                _numbers(field, value, f"{NUMBER}, one per cell, a RandomDistribution or a function of the cell")


def check_shapes(model, parameter_space, size: int, label: object) -> None:
    """Arrays of a cell type's parameters hold one value per cell of the population they make."""
    for key, value in parameter_space.items():
        if value.shape is not None and tuple(value.shape) != (size,):
            base = value.base_value
            fail(errors.InvalidParameterValueError, f"{type(model).__name__}.{key}",
                 base.tolist() if isinstance(base, np.ndarray) else base,
                 f"one value, or one per cell ({size} for population {label!r})")


def check_set_shapes(model, parameters: dict, size: int, label: object) -> None:
    """``set()``'s arrays of numbers hold one value per cell too."""
    defaults = getattr(type(model), "default_parameters", None)
    defaults = defaults if isinstance(defaults, dict) else {}
    for key, value in parameters.items():
        if _numeric(defaults.get(key)) and isinstance(value, (list, tuple, np.ndarray)) \
                and np.shape(value) != (size,):
            fail(errors.InvalidParameterValueError, f"{type(model).__name__}.{key}", value,
                 f"one value, or one per cell ({size} for {label!r})")


def check_size(size: object) -> None:
    """A population's size: an integer >= 1, or a tuple of them (a grid), whose cells fit in memory."""
    if isinstance(size, tuple):
        total = 1
        for k, n in enumerate(size):
            total *= ck.count(f"Population.size[{k}]", n)
    else:
        total = ck.count("Population.size", size)
    ck.allocatable("Population.size", size, float(total) * BYTES_PER_CELL)


def _delay_bound(field: str, value: object, lower: float, what: str) -> float | None:
    if isinstance(value, str) and value == "auto":
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or value < lower:
        ck.fail(field, value, f"'auto' or a number of ms >= {what}")
    return float(value)


def check_setup(timestep: object, min_delay: object, max_delay: object) -> None:
    """``setup()``'s time step and delay bounds (PyNN's rule: timestep <= min_delay <= max_delay; max_delay may
    also be None, as sPyNNaker scripts give it)."""
    dt = ck.positive("timestep", timestep, "ms")
    low = _delay_bound("min_delay", min_delay, dt, f"timestep ({dt} ms)")
    if max_delay is not None:  # sPyNNaker's default: no bound
        _delay_bound("max_delay", max_delay, dt if low is None else low,
                     f"timestep ({dt} ms)" if low is None else f"min_delay ({low} ms)")


def check_receptor(receptor_type: object, post) -> None:
    """A projection's receptor: None or 'default' (PyNN guesses), or one the postsynaptic cells have."""
    valid = getattr(post, "receptor_types", None)
    if receptor_type is None or (isinstance(receptor_type, str) and receptor_type == "default"):
        return
    if valid is not None and (not isinstance(receptor_type, str) or receptor_type not in valid):
        fail(errors.ConnectionError, "Projection.receptor_type", receptor_type, f"one of {sorted(valid)}")


def recorded_variables(variables: object, celltype) -> list[str]:
    """``record()``'s variables as a list of names the cell type records ('all': every one of them)."""
    recordable = list(getattr(celltype, "recordable", []))
    allowed = f"one of {recordable}, 'all', or a list of them (what {type(celltype).__name__} records)"
    if isinstance(variables, str):
        names = recordable if variables == "all" else [variables]
    elif isinstance(variables, (list, tuple, set, frozenset)):
        names = list(variables)
    else:
        fail(errors.RecordingError, "record(variables)", variables, allowed)
    for name in names:
        if not isinstance(name, str) or name not in recordable:
            fail(errors.RecordingError, "record(variables)", name, allowed)
    return names


def checked_run(run: Callable, run_until: Callable, now: Callable[[], float], dt: Callable[[], float]):
    """PyNN's ``run`` and ``run_until`` refusing a duration or end time that is not a number of ms ahead."""

    def checked_run(simtime, callbacks=None):
        """Advance the simulation by ``simtime`` ms (a finite number >= 0); PyNN's ``run``."""
        ck.non_negative("simtime", simtime, "ms")
        return run(simtime, callbacks)

    def checked_run_until(time_point, callbacks=None):
        """Advance the simulation until ``time_point`` ms (not before the current time); PyNN's ``run_until``."""
        t = ck.finite("time_point", time_point)
        if t - now() < -dt() / 2.0:
            ck.fail("time_point", time_point, f">= the current time ({now()} ms)")
        return run_until(time_point, callbacks)

    return checked_run, checked_run_until
