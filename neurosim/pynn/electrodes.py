"""Current sources: ``DCSource`` and ``StepCurrentSource`` as piecewise-constant input currents.

The core's neuron has one constant input current, ``i_offset``, that can be changed between
runs (:meth:`neurosim.Simulator.set_offset`). A piecewise-constant current is that: a run is
cut at every time a source switches (:func:`change_times`), and each cell's current from then
on is its ``i_offset`` plus the amplitude of every source injected into it
(:func:`offsets_at`). A source is on for the ticks ``t`` with ``start <= t dt < stop``
(``DCSource``), or from each ``times[k]`` to the next (``StepCurrentSource``), times rounded to
the nearest tick. Amplitudes can be changed while a simulation runs: they apply from the current
time on. ``ACSource`` and ``NoisyCurrentSource`` change every step and are not available.
"""

from __future__ import annotations

import numpy as np
from pyNN import errors
from pyNN.parameters import ParameterSpace, Sequence
from pyNN.standardmodels import build_translations, electrodes

from neurosim.pynn.simulator import state


class _CurrentSource:
    """What both sources share: native parameters kept as plain values, the cells injected into."""

    def __init__(self, **parameters) -> None:
        object.__setattr__(self, "_native", {})
        object.__setattr__(self, "targets", [])
        super().__init__(**parameters)
        self.set_parameters(**{**self.default_parameters, **parameters})
        state.current_sources.append(self)

    def set_native_parameters(self, parameters) -> None:
        parameters.evaluate(simplify=True)
        for name, value in parameters.items():
            self._native[name] = value.value if isinstance(value, Sequence) else float(np.asarray(value).ravel()[0])
        state.refresh_currents()

    def get_native_parameters(self) -> ParameterSpace:
        values = {k: Sequence(v) if isinstance(v, np.ndarray) else v for k, v in self._native.items()}
        return ParameterSpace(values, self.get_schema(), (1,))

    def inject_into(self, cells) -> None:
        cells = list(cells)
        for cell in cells:
            if not cell.celltype.injectable:
                raise TypeError(f"can't inject current into a {cell.celltype.__class__.__name__}")
        self.targets.extend(cells)
        state.refresh_currents()


class DCSource(_CurrentSource, electrodes.DCSource):
    __doc__ = electrodes.DCSource.__doc__
    translations = build_translations(("amplitude", "amplitude"), ("start", "start"), ("stop", "stop"))

    def amplitude_at(self, t_ms: float, dt: float) -> float:
        on = _tick(self._native["start"], dt) <= _tick(t_ms, dt) < _tick(self._native["stop"], dt)
        return self._native["amplitude"] if on else 0.0

    def change_times(self) -> list[float]:
        return [self._native["start"], self._native["stop"]]


class StepCurrentSource(_CurrentSource, electrodes.StepCurrentSource):
    __doc__ = electrodes.StepCurrentSource.__doc__
    translations = build_translations(("amplitudes", "amplitudes"), ("times", "times"))

    def set_native_parameters(self, parameters) -> None:
        """PyNN's rules for step times: not negative, increasing, moved to the nearest tick, and of times that
        land on one tick the last amplitude kept."""
        parameters.evaluate(simplify=True)
        values = {k: np.asarray(v.value if isinstance(v, Sequence) else v, float) for k, v in parameters.items()}
        times = values.get("times", self._native.get("times", np.zeros(0)))
        amplitudes = values.get("amplitudes", self._native.get("amplitudes", np.zeros(0)))
        if times.shape != amplitudes.shape:
            raise errors.InvalidParameterValueError(
                f"StepCurrentSource amplitudes = {amplitudes.tolist()} is not allowed: one per time "
                f"({times.size} times)")
        if np.any(times < 0.0) or np.any(np.diff(times) <= 0.0):
            raise errors.InvalidParameterValueError(
                f"StepCurrentSource times = {times.tolist()} is not allowed: >= 0 and strictly increasing")
        ticks = np.array([_tick(t, state.dt) for t in times])
        last = np.append(ticks[1:] != ticks[:-1], True) if ticks.size else np.zeros(0, bool)
        self._native.update(times=ticks[last] * state.dt, amplitudes=amplitudes[last])
        state.refresh_currents()

    def get_native_parameters(self) -> ParameterSpace:
        return ParameterSpace(dict(self._native))

    def amplitude_at(self, t_ms: float, dt: float) -> float:
        times, amplitudes = self._native["times"], self._native["amplitudes"]
        k = np.searchsorted(np.round(times / dt), _tick(t_ms, dt), side="right") - 1
        return float(amplitudes[k]) if k >= 0 else 0.0

    def change_times(self) -> list[float]:
        return [float(t) for t in self._native["times"]]


def _tick(t_ms: float, dt: float) -> float:
    return np.floor(t_ms / dt + 0.5) if np.isfinite(t_ms) else t_ms


def offsets_at(population, t_ms: float) -> np.ndarray:
    """The input current (nA) of each cell of ``population`` from time ``t_ms`` on: its ``i_offset`` and every
    current source injected into it."""
    out = np.array(np.broadcast_to(np.asarray(population._parameters["i_offset_nA"], float), (population.size,)))
    for source in state.current_sources:
        cells = [population.id_to_index(c) for c in source.targets if c.parent is population]
        if cells:
            np.add.at(out, cells, source.amplitude_at(t_ms, state.dt))
    return out


def change_times(after: int, until: int) -> list[int]:
    """The ticks in (``after``, ``until``) at which a current source switches, in order."""
    ticks = {_tick(t, state.dt) for source in state.current_sources if source.targets for t in source.change_times()}
    return sorted(int(t) for t in ticks if np.isfinite(t) and after < t < until)
