"""A Network saved and loaded: one type-tagged encoding of the description, stored in HDF5.

Every part of a :class:`~neurosim.Network` is a frozen dataclass, so one generic encoder
covers them all (STYLE: one serializer with a type tag): a dataclass becomes
``{"type": <class name>, <field>: <value>, ...}`` for the registered classes of
:data:`TYPES`, numpy arrays are stored as HDF5 datasets and referenced as
``{"array": k}``, tuples as ``{"tuple": [...]}``, non-finite floats as
``{"float": "inf"}`` (JSON has none). Loading rebuilds the objects through their
constructors, so a loaded network is validated like a new one and resolves to the
same synapses (random connectors and distributions carry their own seeds).

:func:`save_network` / :func:`load_network` use a file of their own;
:func:`write_network` / :func:`read_network` a group of any HDF5 file (results files
store the network of :func:`neurosim.io.save_simulation` as ``/network``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from neurosim import _checks as ck
from neurosim.connectors import (
    AllToAll,
    FixedNumberPre,
    FixedProbability,
    FixedTotalNumber,
    FromList,
    Normal,
    OneToOne,
    Uniform,
)
from neurosim.io import ensure_parent
from neurosim.io_files import as_path
from neurosim.network import (
    LIFParams,
    Network,
    PoissonSource,
    Population,
    Projection,
    SpikeMonitor,
    SpikeSourceArray,
    StateMonitor,
    WeightMonitor,
)
from neurosim.plasticity import STDP

FORMAT = "neurosim-network"
TYPES: dict[str, type] = {cls.__name__: cls for cls in (
    Network, Population, LIFParams, SpikeSourceArray, PoissonSource, Projection, SpikeMonitor, StateMonitor,
    WeightMonitor, OneToOne, AllToAll, FixedProbability, FixedTotalNumber, FixedNumberPre, FromList, Uniform, Normal,
    STDP)}


def encode(obj: Any, arrays: list[np.ndarray]) -> Any:
    """``obj`` as JSON data; its arrays are appended to ``arrays`` and referenced by index."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        name = type(obj).__name__
        if TYPES.get(name) is not type(obj):
            ck.fail("network part", name, f"one of {sorted(TYPES)}")
        return {"type": name, **{f.name: encode(getattr(obj, f.name), arrays)
                                 for f in dataclasses.fields(obj) if f.init}}
    if isinstance(obj, np.ndarray):
        arrays.append(obj)
        return {"array": len(arrays) - 1}
    if isinstance(obj, (tuple, list)):
        items = [encode(v, arrays) for v in obj]
        return {"tuple": items} if isinstance(obj, tuple) else items
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return {"float": repr(obj)}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    ck.fail("network value", type(obj).__name__, "dataclasses of neurosim, arrays, tuples, numbers, strings, None")
    raise AssertionError  # unreachable


def decode(data: Any, arrays: list[np.ndarray]) -> Any:
    """The inverse of :func:`encode`."""
    if isinstance(data, dict):
        if "type" in data:
            cls = TYPES.get(data["type"])
            if cls is None:
                ck.fail("network part type", data["type"], f"one of {sorted(TYPES)}")
            return cls(**{k: decode(v, arrays) for k, v in data.items() if k != "type"})
        if "array" in data:
            return arrays[data["array"]]
        if "tuple" in data:
            return tuple(decode(v, arrays) for v in data["tuple"])
        if "float" in data:
            return float(data["float"])
        ck.fail("network data", sorted(data), "a tagged object ('type', 'array', 'tuple' or 'float')")
    if isinstance(data, list):
        return [decode(v, arrays) for v in data]
    return data


def write_network(group: h5py.Group, network: Network) -> None:
    """Store ``network`` in ``group``: the encoding as the ``tree`` attribute, arrays as datasets a0, a1, ..."""
    if not isinstance(network, Network):
        ck.fail("network", type(network).__name__, "a neurosim.Network")
    arrays: list[np.ndarray] = []
    tree = encode(network, arrays)
    group.attrs["format"] = FORMAT
    group.attrs["tree"] = json.dumps(tree)
    for k, a in enumerate(arrays):
        group.create_dataset(f"a{k}", data=a)


def read_network(group: h5py.Group) -> Network:
    """The network stored by :func:`write_network` in ``group``."""
    if group.attrs.get("format") != FORMAT:
        raise ValueError(f"{group.file.filename}:{group.name} is not a stored network (no format = {FORMAT!r})")
    arrays = [group[f"a{k}"][()] for k in range(len(group))]
    return decode(json.loads(group.attrs["tree"]), arrays)


def save_network(path: str | os.PathLike, network: Network) -> Path:
    """Write ``network`` to a file of its own (HDF5; an existing file is replaced); returns the path."""
    path = ensure_parent(path)
    if not isinstance(network, Network):
        ck.fail("network", type(network).__name__, "a neurosim.Network")
    tmp = path.with_name(path.name + ".tmp")
    try:
        with h5py.File(tmp, "w") as f:
            write_network(f, network)
        os.replace(tmp, path)
    except BaseException as exc:  # no half-written .tmp left behind
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        if not isinstance(exc, OSError):
            raise
        why = os.strerror(exc.errno) if exc.errno else str(exc)
        raise ValueError(f"cannot write {path}: {why} ({tmp}); choose an output path in a directory you "
                         "can write") from exc
    return path


def load_network(path: str | os.PathLike) -> Network:
    """The network saved by :func:`save_network` at ``path`` (or stored as ``/network`` of a results file)."""
    path = as_path("path", path)
    if not path.is_file():
        raise FileNotFoundError(f"no network file at {path}" + (": it is a directory" if path.is_dir() else ""))
    try:
        with h5py.File(path, "r") as f:
            return read_network(f["network"] if "network" in f else f)
    except OSError as exc:
        raise ValueError(f"{path} is not a readable HDF5 file ({exc})") from exc
