"""Runnable experiments: each entry names a function ``run(*, backend, device, seed, out, resume, progress)``.

``neurosim list`` shows them with their engines, ``neurosim run NAME`` runs one. Each experiment
declares the engines it runs on (the first is its default); :func:`engine` refuses any other with
their list (never substituting one) and gives what the results file's ``/meta`` records.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SPIKING = ("numba", "reference", "torch", "brian2")  # every engine of the spiking core, numba first
MEMORIES = ("numba", "torch")                        # the engines of every registered memory
TORCH = ("torch",)                                   # gradient-trained torch modules


@dataclass(frozen=True)
class Experiment:
    name: str
    summary: str
    module: str
    function: str = "run"
    engines: tuple[str, ...] = SPIKING  # the engines it runs on, its default first; () = it runs none
    # "module:function" giving (network, spike inputs, duration ms) for ``neurosim export``; "" = not exportable
    exportable: str = ""


@dataclass
class Outcome:
    """What an experiment reports: a table to print and the files it wrote."""

    title: str
    columns: list[str]
    rows: list[list[Any]]
    files: list[Path] = field(default_factory=list)
    ok: bool = True
    notes: list[str] = field(default_factory=list)


REGISTRY: dict[str, Experiment] = {
    e.name: e for e in (
        Experiment("core-demo", "recurrent E/I network with STDP on E->E, Poisson drive, 2 s: raster + weights",
                   "neurosim.experiments.core_demo", exportable="neurosim.experiments.core_demo:exportable"),
        Experiment("core-seeds", "the core demo network under several seeds, one resumable trial per seed",
                   "neurosim.experiments.core_seeds"),
        Experiment("ca3-functional", "CA3 memory: the published 9-operation functional test (flagship demo)",
                   "neurosim.experiments.ca3_published", "run_functional",
                   exportable="neurosim.experiments.ca3_published:exportable"),
        Experiment("ca3-stress", "CA3 memory: the published 60-operation stress test bench",
                   "neurosim.experiments.ca3_published", "run_stress",
                   exportable="neurosim.experiments.ca3_published:exportable"),
        Experiment("ca3-state-map", "CA3 memory: the published 4x4 state-map application",
                   "neurosim.experiments.ca3_published", "run_state_map",
                   exportable="neurosim.experiments.ca3_published:exportable"),
        Experiment("ca3-noisy", "CA3 memory: cue retrieval from content queries with missing / spurious bits",
                   "neurosim.experiments.ca3_noisy"),
        Experiment("ca3-circuit", "CA3 memory: the circuit diagram, drawn from the model's Network",
                   "neurosim.experiments.ca3_circuit", engines=()),
        Experiment("ca3-forget", "CA3 memory: forgetting a cue by relearning or by the learn reversed in time, "
                   "under the paper's and the coincidence rule: efficacy, residue, specificity (--full)",
                   "neurosim.experiments.ca3_forget"),
        Experiment("ca3-auto-forget", "autoassociative CA3: every DG spike pattern on a stored assembly with STDP "
                   "on, searched for one that forgets it (--full: longer windows)",
                   "neurosim.experiments.ca3_auto_forget"),
        Experiment("ca3-auto-capacity", "autoassociative CA3 (PC<->PC STDP, arXiv 2205.04782): recall accuracy "
                   "vs stored patterns, next to Hopfield 0.138 N", "neurosim.experiments.ca3_auto_capacity"),
        Experiment("forgetting", "every memory model through recognition, recall, retention, rehearsal and capacity "
                   "protocols (--full, --scheduler, --workers)", "neurosim.experiments.forgetting", engines=MEMORIES),
        Experiment("palimpsest", "palimpsest Hopfield networks (clipped weights, marginalist decay, binary synapses) "
                   "against the Hebbian blackout: the newest items retrieved at steady state, per N (--full: N up "
                   "to 800)",
                   "neurosim.experiments.palimpsest", engines=MEMORIES),
        Experiment("unlearning", "targeted forgetting: every memory that can forget, by each of its methods, against "
                   "interference: efficacy, damage vs overlap, savings, membership-inference AUC (--full)",
                   "neurosim.experiments.unlearning", engines=MEMORIES),
        Experiment("dendrites-theory", "active dendrites (Ahmad & Hawkins 2016): Monte-Carlo vs exact error formulas, "
                   "optimal NMDA threshold sweep", "neurosim.experiments.dendrites_theory", engines=("numba",)),
        Experiment("dendrites-neuron", "a dendritic neuron as a recognition memory: errors vs stored patterns, theta, "
                   "s and n, next to the formulas", "neurosim.experiments.dendrites_neuron", engines=MEMORIES),
        Experiment("dendrites-continual", "active-dendrites network vs MLP and k-WTA on permuted digits (10 tasks, "
                   "shared head): accuracy matrix, ACC, BWT (--full: learning-rate grid)",
                   "neurosim.experiments.dendrites_continual", engines=TORCH),
        Experiment("hlop-continual", "HLOP (Hebbian orthogonal projection) vs fine-tuning, EWC, SVD projection and "
                   "multitask on a spiking MLP: permuted and split digits, ACC, BWT",
                   "neurosim.experiments.hlop_continual", engines=TORCH),
        Experiment("hlop-forget", "forgetting one task of the HLOP-trained spiking MLP: gradient ascent with and "
                   "without the kept tasks' Hebbian subspaces, against retraining without it",
                   "neurosim.experiments.hlop_forget", engines=TORCH),
        Experiment("dendrites-forget", "forgetting one task of the active-dendrites network: gradient ascent on "
                   "all weights or on the dendritic segments only, dropping its prototype, against retraining "
                   "without it", "neurosim.experiments.dendrites_forget", engines=TORCH),
        Experiment("hlop-continual-online", "HLOP vs fine-tuning with online (trace-based, no BPTT) training on "
                   "permuted digits", "neurosim.experiments.hlop_continual", "run_online", engines=TORCH),
        Experiment("elm-tasks", "ELM, Branch-ELM, LSTM and LIF network on generated spike-digit adding and delayed "
                   "recall: accuracy vs horizon (--full: more horizons)", "neurosim.experiments.elm_tasks",
                   engines=TORCH),
        Experiment("elm-sweeps", "ELM on spike-digit adding: accuracy vs memory units and tau_m range, memory traces",
                   "neurosim.experiments.elm_tasks", "run_sweeps", engines=TORCH),
        Experiment("sparsey-similarity", "Sparsey: input overlap vs code overlap (Spearman) at several loads",
                   "neurosim.experiments.sparsey_similarity", engines=MEMORIES),
        Experiment("sparsey-capacity", "Sparsey: recognition and recall of N stored inputs from 20%-corrupted cues",
                   "neurosim.experiments.sparsey_capacity", engines=MEMORIES),
        Experiment("sparsey-digits", "Sparsey: 2-level hierarchy, single-trial learning of scikit-learn digits, "
                   "k-NN on codes", "neurosim.experiments.sparsey_digits", engines=MEMORIES),
        Experiment("sparsey-sequences", "Sparsey: learn sequences, recall the next items through H from the first",
                   "neurosim.experiments.sparsey_sequences", engines=MEMORIES),
    )
}


def get(name: str) -> Experiment:
    if name not in REGISTRY:
        raise ValueError(f"experiment = {name!r} is not allowed: one of {sorted(REGISTRY)}")
    return REGISTRY[name]


def engine(name: str, backend: str | None = None, device: str | None = None) -> dict[str, str]:
    """What experiment ``name`` runs on: ``{"backend", "device", "dtype"}``, checked against the engines it
    declares (``backend`` None: its default) by :func:`neurosim.backends.resolve`; an engine it lacks is a
    ``ValueError`` listing those it has. Experiments record this dict in their results' ``/meta``. An
    experiment that runs no engine (a drawing) gets ``{}`` and refuses any backend or device."""
    from neurosim import backends

    engines = get(name).engines
    if not engines:
        if backend is not None or device is not None:
            raise ValueError(f"backend = {backend!r} is not allowed for {name}: it runs no engine (leave out "
                             f"--backend and --device)")
        return {}
    backend = engines[0] if backend is None else backend
    if backend not in engines:
        raise ValueError(f"backend = {backend!r} is not allowed for {name}: one of {list(engines)}")
    backend, device, dtype = backends.resolve(backend, device)
    return {"backend": backend, "device": device, "dtype": dtype}


def options(name: str) -> set[str]:
    """The optional keyword arguments an experiment's function takes beyond the common ones."""
    import inspect

    e = get(name)
    fn = getattr(importlib.import_module(e.module), e.function)
    return set(inspect.signature(fn).parameters) & {"full", "scheduler", "workers"}


def taking(option: str) -> list[str]:
    """The experiments whose function takes ``option`` (``full``, ``scheduler`` or ``workers``)."""
    return [name for name in REGISTRY if option in options(name)]


def exportable(name: str):
    """(network, spike inputs or None, duration ms) of an experiment that can be exported; others are refused
    with the list of those that can."""
    can = [n for n, e in REGISTRY.items() if e.exportable]
    if name not in can:
        raise ValueError(f"NAME = {name!r} is not allowed: one of {can}")
    module, function = REGISTRY[name].exportable.split(":")
    return getattr(importlib.import_module(module), function)(name)


def run(name: str, **kwargs) -> Outcome:
    e = get(name)
    return getattr(importlib.import_module(e.module), e.function)(**kwargs)
