"""Backend registry: engines by name, each imported only when selected.

``reference`` (numpy, ground truth), ``numba`` (default, fast CPU),
``torch`` (CPU/CUDA, batches of trials), ``brian2`` (translation to Brian2).
"""

from __future__ import annotations

import importlib
import importlib.util

# name -> (library it needs, module, engine class)
_REGISTRY: dict[str, tuple[str, str, str]] = {
    "reference": ("numpy", "neurosim.backends.reference", "ReferenceEngine"),
    "numba": ("numba", "neurosim.backends.numba_engine", "NumbaEngine"),
    "torch": ("torch", "neurosim.backends.torch_engine", "TorchEngine"),
    "brian2": ("brian2", "neurosim.backends.brian2_engine", "Brian2Engine"),
}


def names() -> list[str]:
    return list(_REGISTRY)


def is_available(name: str) -> bool:
    """True when the backend's library can be imported (without importing it)."""
    _check(name)
    return importlib.util.find_spec(_REGISTRY[name][0]) is not None


def available() -> list[str]:
    return [n for n in _REGISTRY if is_available(n)]


def get(name: str):
    """The engine class of backend ``name`` (imports its library now)."""
    _check(name)
    lib, module, cls = _REGISTRY[name]
    if not is_available(name):
        raise ValueError(f"backend = {name!r} is not available: its library {lib!r} is not installed "
                         f"(available: {available()})")
    return getattr(importlib.import_module(module), cls)


def _check(name: str) -> None:
    if name not in _REGISTRY:
        raise ValueError(f"backend = {name!r} is not allowed: one of {names()}")
