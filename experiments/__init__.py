"""Runnable experiments: each module has ``run(*, backend, seed, out, resume, progress) -> Outcome``.

``neurosim list`` shows them, ``neurosim run NAME`` runs one.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Experiment:
    name: str
    summary: str
    module: str


@dataclass
class Outcome:
    """What an experiment reports: a table to print and the files it wrote."""

    title: str
    columns: list[str]
    rows: list[list[Any]]
    files: list[Path] = field(default_factory=list)
    ok: bool = True


REGISTRY: dict[str, Experiment] = {
    e.name: e for e in (
        Experiment("core-demo", "recurrent E/I network with STDP on E->E, Poisson drive, 2 s: raster + weights",
                   "neurosim.experiments.core_demo"),
        Experiment("core-seeds", "the core demo network under several seeds, one resumable trial per seed",
                   "neurosim.experiments.core_seeds"),
    )
}


def get(name: str) -> Experiment:
    if name not in REGISTRY:
        raise ValueError(f"experiment = {name!r} is not allowed: one of {sorted(REGISTRY)}")
    return REGISTRY[name]


def run(name: str, **kwargs) -> Outcome:
    return importlib.import_module(get(name).module).run(**kwargs)
