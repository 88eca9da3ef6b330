r"""The ``brian2`` backend: a CompiledNetwork translated into Brian2 objects.

Translation
-----------
:func:`~neurosim.backends.brian2_build.build` (in :mod:`neurosim.backends.brian2_build`,
which describes the sources, delays and synapses) makes one ``NeuronGroup`` of every
neuron, one ``SpikeGeneratorGroup`` of every source and one ``Synapses`` object per
(presynaptic group, delay, receptor); the neuron tick and STDP written as Brian2
abstract code are in :mod:`neurosim.backends.brian2_equations`. This module holds the
runtime :class:`Brian2Engine`; :func:`run_standalone` (C++ standalone device) is in
:mod:`neurosim.backends.brian2_standalone` and importable from here.

Devices and code generation
---------------------------
:class:`Brian2Engine` uses Brian2's runtime device with the ``numpy`` target by
default (no compilation). Every ``advance`` is one ``Network.run``, and each costs
~0.1 s of Brian2 set-up (code generation for every object, ``gc.collect``), so a
Simulator run cut into many chunks (WeightMonitors, observers) is dominated by it.
``codegen="cython"`` (or ``Simulator(..., device="cython")``) compiles every code
object the first time a network structure is seen: 78 s for the feed-forward test
network and 108 s for a 300-neuron STDP network on this 2-core machine, cached in
``~/.cython/brian_extensions`` afterwards; then a 1000-neuron recurrent network runs
1 s of biological time in 0.8 s instead of 1.5 s (numpy; reference engine 0.4 s).

:func:`run_standalone` (:mod:`neurosim.backends.brian2_standalone`, with its timings) builds the
same objects under ``cpp_standalone`` and runs them once as a compiled binary.

Differences from the reference engine, and their causes
--------------------------------------------------------
* runtime, numpy target: none. Spike trains, traced states (``v``, ``Ie``, ``Ii`` of
  every neuron) and STDP weights equal the reference bit for bit on every network of
  ``tests/core/networks.py`` (feed-forward with delays 1..3, recurrent E/I with
  Poisson drive, additive and multiplicative STDP, the CA3-like dt = 1 ms STDP case)
  and on 1000-neuron recurrent networks with and without STDP (1 s). The tests ask for
  identical spikes and states on static networks and weights to 1e-12 nA with STDP
  (margin for an ``exp`` implementation other than numpy's).
* runtime, cython target, and ``cpp_standalone`` by default: Brian2 compiles with
  ``-ffast-math -march=native``, which contracts ``a*b + c`` into FMAs and may
  reassociate, and C++ ``exp`` is not numpy's. Measured: ``v`` within 8e-13 mV,
  currents within 5e-15 nA, weights within 6e-17 nA; spike trains identical on all
  networks above. ``run_standalone(..., exact_math=True)`` compiles with
  ``-O3 -ffp-contract=off`` instead: static networks are then bit-exact and only STDP
  weights differ by an ulp (C++ ``exp``). ``threads`` > 0 (OpenMP) may change the
  order of summation as well.
* Source spikes: Brian2's ``SpikeGeneratorGroup`` accepts one spike per node and step;
  the Simulator already merges times that round to one tick, and :meth:`Brian2Engine.advance`
  raises ``ValueError`` if it is given two.
* ``batch_size`` must be 1 and ``dtype`` float64; ``events_delivered`` is -1.
"""

from __future__ import annotations

import numpy as np

from neurosim.backends.base import Chunk, Engine, External
from neurosim.backends.brian2_build import (  # noqa: F401  (re-exported: the backend's public names)
    CODEGEN_TARGETS,
    Handles,
    SynapseGroup,
    _clear_monitors,
    _source_events,
    build,
    read_spikes,
    read_state,
    read_weights,
)
from neurosim.backends.brian2_standalone import run_standalone  # noqa: F401
from neurosim.compiled import CompiledNetwork


class Brian2Engine(Engine):
    """neurosim's tick on Brian2's runtime device (see the module docstring).

    ``codegen``: ``"numpy"`` (default, no compilation, bit-exact) or ``"cython"``
    (compiled with fast-math: ulp-level differences); the Simulator's ``device`` argument
    may name either (``None`` and ``"cpu"`` mean numpy).
    """

    name = "brian2"
    supports_batch = False

    def __init__(self, net: CompiledNetwork, *, codegen: str | None = None, **kw) -> None:
        super().__init__(net, **kw)
        if self.batch_size != 1:
            raise ValueError(f"batch_size = {self.batch_size} is not allowed: 1 on backend 'brian2'")
        if self.dtype != "float64":
            raise ValueError(f"dtype = {self.dtype!r} is not allowed: 'float64' on backend 'brian2'")
        if codegen is None:
            if self.device not in (None, "cpu", *CODEGEN_TARGETS):
                raise ValueError(f"device = {self.device!r} is not allowed: None, 'cpu', 'numpy' or 'cython' "
                                 "on backend 'brian2'")
            codegen = self.device if self.device in CODEGEN_TARGETS else "numpy"
        if codegen not in CODEGEN_TARGETS:
            raise ValueError(f"codegen = {codegen!r} is not allowed: one of {CODEGEN_TARGETS}")
        self.codegen = codegen
        self._net, self.handles = build(net, record=self.record, traced=self.traced, codegen=codegen)
        self._step = 0

    def set_learning(self, enabled: bool) -> None:
        super().set_learning(enabled)
        for group in self.handles.synapses:
            if group.plastic:
                group.obj.learning = 1.0 if enabled else 0.0

    def advance(self, t0: int, n_steps: int, ext: External) -> Chunk:
        import brian2 as b2

        if t0 != self._step:
            raise ValueError(f"t0 = {t0} is not allowed: the engine is at tick {self._step}")
        h, net = self.handles, self.net
        if h.sources is not None:
            idx, times = _source_events(net, ext)
            h.sources.set_spikes(idx, times * b2.second)
        elif ext.node.size:
            raise ValueError("External events given to a network without sources")
        if n_steps:
            self._net.run(n_steps * net.dt_ms * 1e-3 * b2.second, namespace={})
        now = int(h.clock.timestep[:])
        if now != t0 + n_steps:
            raise RuntimeError(f"Brian2 ran to tick {now}, expected {t0 + n_steps}")
        self._step = now
        tick, node = read_spikes(net, h, self.record)
        state = read_state(h, n_steps)
        _clear_monitors(h)
        return Chunk(tick, np.zeros_like(tick), node, state)

    def weights(self) -> np.ndarray:
        return read_weights(self.net, self.handles)[None, :]

    def set_weights(self, syn: np.ndarray, values: np.ndarray, trial: int | None) -> None:
        w = read_weights(self.net, self.handles)
        w[syn] = values
        for sg in self.handles.synapses:
            sg.obj.w[:] = w[sg.ids]

    def set_offset(self, neurons: np.ndarray, values: np.ndarray) -> None:
        self.handles.neurons.i_offset[neurons] = values
