r"""The ``brian2`` backend's one-shot run under Brian2's C++ standalone device (:func:`run_standalone`).

:func:`run_standalone` builds the same objects under ``cpp_standalone`` (one run,
``build_on_run=False``), compiles, runs, reads spikes, weights and traces back, times
the phases separately and restores the previous device (``device.reinit()``,
``device.activate()``, ``reset_device()``). For ``recurrent_ei(1000)`` of the tests
(1000 neurons, 100 Poisson sources, 70k synapses, 10,000 steps, ~15k spikes):
objects 0.2 s, code generation 0.2 s, compilation 12-23 s (``make`` on 2 cores,
noisy), the binary 0.06 s wall of which 0.04 s simulation loop; with STDP on the
E->E projection 0.06 s. The runtime engine needs 1.5 s (1.7 s with STDP).

Brian2 compiles with ``-ffast-math -march=native`` by default (see the differences
in :mod:`neurosim.backends.brian2_engine`); ``exact_math=True`` compiles with
``-O3 -ffp-contract=off`` instead.
"""

from __future__ import annotations

import contextlib
import tempfile
import time

import numpy as np

from neurosim.backends.base import External
from neurosim.backends.brian2_build import build, read_spikes, read_state, read_weights
from neurosim.compiled import CompiledNetwork


@contextlib.contextmanager
def _cpp_flags(exact_math: bool):
    from brian2 import prefs

    key = "codegen.cpp.extra_compile_args_gcc"
    old = list(prefs[key])
    if exact_math:
        prefs[key] = [a for a in old if a not in ("-ffast-math", "-fno-finite-math-only")] + ["-ffp-contract=off"]
    try:
        yield
    finally:
        prefs[key] = old


def run_standalone(net: CompiledNetwork, duration_ms: float, external: External | None = None, *,
                   directory: str | None = None, record: np.ndarray | None = None,
                   traced: np.ndarray | None = None, exact_math: bool = False, threads: int = 0) -> dict:
    """Run ``net`` for ``duration_ms`` from tick 0 under Brian2's ``cpp_standalone`` device.

    ``external``: every source event of the run (see :meth:`neurosim.Simulator.draw_inputs`).
    ``directory``: the C++ project (``None``: a temporary one). ``exact_math``: compile
    without ``-ffast-math`` and FMA contraction. ``threads`` > 0: OpenMP threads.
    Returns ``spike_tick``, ``spike_node`` (global ids of recorded nodes, sorted),
    ``weights`` (canonical order), ``state`` (``traced`` neurons: (n_steps, 1, n_traced, 3)
    as in :class:`~neurosim.backends.base.Chunk`, or None) and timings in seconds: ``build_s`` (creating the
    Brian2 objects), ``codegen_s`` (writing the project), ``compile_s`` (make),
    ``run_s`` (the binary, wall), ``sim_s`` (the simulation loop as timed by Brian2).
    The previously active device is restored afterwards.
    """
    import brian2 as b2
    from brian2.devices.device import get_device, reset_device, set_device

    n_steps = round(duration_ms / net.dt_ms)
    if not np.isclose(n_steps * net.dt_ms, duration_ms, rtol=1e-9, atol=1e-12):
        raise ValueError(f"duration_ms = {duration_ms} is not allowed: a whole number of steps of {net.dt_ms} ms")
    tmp = tempfile.TemporaryDirectory(prefix="neurosim_brian2_") if directory is None else None
    project = tmp.name if tmp is not None else directory
    previous_threads = b2.prefs["devices.cpp_standalone.openmp_threads"]
    set_device("cpp_standalone", build_on_run=False)
    dev = get_device()
    try:
        b2.prefs["devices.cpp_standalone.openmp_threads"] = threads
        start = time.perf_counter()
        bnet, handles = build(net, external=external, record=record, traced=traced, codegen=None)
        bnet.run(n_steps * net.dt_ms * 1e-3 * b2.second, namespace={})
        build_s = time.perf_counter() - start
        with _cpp_flags(exact_math):
            start = time.perf_counter()
            dev.build(directory=project, compile=True, run=True, clean=True, with_output=False)
            total_s = time.perf_counter() - start
        compile_s = float(dev.timers["compile"]["make"] or 0.0) + float(dev.timers["compile"]["clean"] or 0.0)
        run_s = float(dev.timers["run_binary"] or 0.0)
        tick, node = read_spikes(net, handles, record=record)
        return {
            "spike_tick": tick,
            "spike_node": node,
            "weights": read_weights(net, handles),
            "state": read_state(handles, n_steps),
            "n_steps": n_steps,
            "build_s": build_s,
            "codegen_s": total_s - compile_s - run_s,
            "compile_s": compile_s,
            "run_s": run_s,
            "sim_s": float(dev._last_run_time),
            "project_dir": directory,
        }
    finally:
        b2.prefs["devices.cpp_standalone.openmp_threads"] = previous_threads
        dev.reinit()
        dev.activate()
        reset_device()
        if tmp is not None:
            tmp.cleanup()
