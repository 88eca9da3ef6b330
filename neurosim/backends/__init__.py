"""Backend registry: engines by name with their facts, each imported only when selected.

``reference`` (numpy, ground truth), ``numba`` (default, fast CPU),
``torch`` (CPU/CUDA, batches of trials), ``brian2`` (translation to Brian2).
The same names select the engine of a memory model (:func:`neurosim.models.create`):
every fact a request is checked against (the library, the dtypes, whether a device
can be chosen) is in :data:`_REGISTRY`, and :func:`resolve` is the one check.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass


@dataclass(frozen=True)
class BackendInfo:
    """What a backend needs and offers."""

    library: str                # the import it needs
    module: str                 # where its spiking engine lives
    engine: str                 # the engine class in that module
    dtypes: tuple[str, ...]     # floating-point types it computes in (the first is the default)
    devices: tuple[str, ...]    # what ``device`` may name (the first is the default); "cuda": torch's devices
    # arithmetic -> "module:Class" of the engine computing in it; float64 is the engine above
    arithmetics: tuple[tuple[str, str], ...] = ()


_REGISTRY: dict[str, BackendInfo] = {
    "reference": BackendInfo("numpy", "neurosim.backends.reference", "ReferenceEngine", ("float64",), ("cpu",),
                             (("spinnaker", "neurosim.backends.spinnaker_engine:SpinnakerEngine"),)),
    "numba": BackendInfo("numba", "neurosim.backends.numba_engine", "NumbaEngine", ("float64",), ("cpu",),
                         (("spinnaker", "neurosim.backends.spinnaker_numba:SpinnakerNumbaEngine"),)),
    "torch": BackendInfo("torch", "neurosim.backends.torch_engine", "TorchEngine", ("float64", "float32"),
                         ("cpu", "cuda")),
    # Brian2's runtime code generation target: numpy (bit-exact, the CPU default) or cython (compiled)
    "brian2": BackendInfo("brian2", "neurosim.backends.brian2_engine", "Brian2Engine", ("float64",),
                          ("cpu", "numpy", "cython")),
}


def names() -> list[str]:
    return list(_REGISTRY)


def is_available(name: str) -> bool:
    """True when the backend's library can be imported (without importing it)."""
    _check(name)
    return importlib.util.find_spec(_REGISTRY[name].library) is not None


def available() -> list[str]:
    return [n for n in _REGISTRY if is_available(n)]


def get(name: str):
    """The engine class of backend ``name`` (imports its library now)."""
    _check(name)
    entry = _REGISTRY[name]
    if not is_available(name):
        raise ValueError(f"backend = {name!r} is not available: its library {entry.library!r} is not installed "
                         f"(available: {available()})")
    return getattr(importlib.import_module(entry.module), entry.engine)


ARITHMETICS = ("float64", "spinnaker")  # float64: IEEE doubles; spinnaker: sPyNNaker 7.x's integer arithmetic


def arithmetic_engine(name: str, arithmetic: str):
    """The engine class of backend ``name`` computing in ``arithmetic``; an arithmetic the backend lacks is
    refused, naming the backends that have it."""
    if arithmetic not in ARITHMETICS:
        raise ValueError(f"arithmetic = {arithmetic!r} is not allowed: one of {list(ARITHMETICS)}")
    if arithmetic == "float64":
        return get(name)
    _check(name)
    engines = dict(_REGISTRY[name].arithmetics)
    if arithmetic not in engines:
        having = [n for n, e in _REGISTRY.items() if arithmetic in dict(e.arithmetics)]
        raise ValueError(f"arithmetic = {arithmetic!r} is not allowed on backend {name!r}: backends with it: {having}")
    module, cls = engines[arithmetic].split(":")
    return getattr(importlib.import_module(module), cls)


def resolve(name: str, device: str | None = None, dtype: str | None = None) -> tuple[str, str, str]:
    """Check an engine request and fill in its defaults: ``(backend, device, dtype)``.

    ``dtype`` None is the backend's first dtype (float64). ``device`` is what the backend lists:
    torch runs on 'cpu', 'cuda' or 'cuda:<i>' (None: CUDA when torch sees a GPU, else the CPU);
    brian2 takes its code generation target ('numpy', 'cython'; None and 'cpu': numpy); the others
    run on the CPU and refuse any device but None or 'cpu'. Raises ``ValueError`` naming the
    field, the value and what is allowed.
    """
    _check(name)
    entry = _REGISTRY[name]
    if not is_available(name):
        raise ValueError(f"backend = {name!r} is not available: its library {entry.library!r} is not installed "
                         f"(available: {available()})")
    dtype = entry.dtypes[0] if dtype is None else dtype
    if dtype not in entry.dtypes:
        raise ValueError(f"dtype = {dtype!r} is not allowed on backend {name!r}: one of {list(entry.dtypes)}")
    if "cuda" in entry.devices:
        from neurosim.backends.devices import torch_device

        return name, str(torch_device(device)), dtype
    if device not in (None, *entry.devices):
        gpus = [n for n, e in _REGISTRY.items() if "cuda" in e.devices]
        raise ValueError(f"device = {device!r} is not allowed on backend {name!r}: one of {[None, *entry.devices]} "
                         f"(devices such as 'cuda' need backend {' or '.join(map(repr, gpus))})")
    return name, device or entry.devices[0], dtype


def nvidia_driver() -> bool:
    """Whether this machine has an NVIDIA driver, asked without importing torch (seconds): the
    kernel module's /proc entry or the CUDA driver library. False: no torch device can be CUDA."""
    import ctypes.util
    import os

    return os.path.exists("/proc/driver/nvidia/version") or ctypes.util.find_library("cuda") is not None


def _check(name: str) -> None:
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(f"backend = {name!r} is not allowed: one of {names()}")
