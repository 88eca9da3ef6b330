"""Reading results: :func:`read_results` of a finished file or of the finished trials of an unfinished run."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import h5py
import numpy as np

from neurosim.io_files import _partial_path, _trial_files, as_path
from neurosim.io_format import FORMAT, PARTIAL_SUFFIX, Record, Results


def read_results(path: str | os.PathLike) -> Results:
    """Read a finished results file, or the finished trials of an unfinished run at ``path``.

    ``path`` is the results file (its working directory ``<path>.partial`` is read when
    the file does not exist yet) or that working directory itself.
    """
    path = as_path("path", path)
    if path.is_file():
        return _read_final(path)
    partial = path if path.is_dir() and path.name.endswith(PARTIAL_SUFFIX) else _partial_path(path)
    if partial.is_dir():
        try:
            return _read_partial(partial)
        except FileNotFoundError:  # the run was finished (and its directory removed) meanwhile
            if not path.is_file():
                raise
            return _read_final(path)
    what = "it is a directory, " if path.is_dir() else ""
    raise FileNotFoundError(f"no results at {path} ({what}neither the file nor an unfinished run {partial})")


@contextlib.contextmanager
def _readable(path: Path):
    """Open a results HDF5 file for reading; an empty, truncated or corrupted file (h5py's OSError, a missing
    group's KeyError) becomes a ValueError naming the file and what to do."""
    try:
        with h5py.File(path, "r") as f:
            yield f
    except (OSError, KeyError) as exc:
        raise ValueError(f"{path} is not a complete neurosim result ({type(exc).__name__}: {exc}): the file is empty, "
                         "truncated or corrupted; rerun the experiment (--resume continues an interrupted run) or "
                         "delete the file") from exc


def _read_final(path: Path) -> Results:
    with _readable(path) as f:
        if _py(f.attrs.get("format")) != FORMAT:
            raise ValueError(f"{path} is not a {FORMAT} file (no format = {FORMAT!r} attribute)")
        meta = {k: _py(v) for k, v in f["meta"].attrs.items()}
        config = json.loads(f["config"].asstr()[()])
        main = _read_record(f, skip_attrs=("format", "format_version"))
        trials = {int(k): _read_record(g) for k, g in f["trials"].items()}
        network = None
        if "network" in f:
            from neurosim.serialize import read_network

            network = read_network(f["network"])
    return Results(**vars(main), meta=meta, config=config, trials=dict(sorted(trials.items())), complete=True,
                   network=network)


def _read_partial(partial: Path) -> Results:
    run_file = partial / "run.json"
    if not run_file.exists():
        raise ValueError(f"{partial} is not a neurosim run (no run.json)")
    try:
        stored = json.loads(run_file.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{run_file} is not a complete neurosim run description ({exc}): delete {partial} and "
                         "rerun") from exc
    main_file = partial / "main.h5"
    if main_file.exists():
        with _readable(main_file) as f:
            main = _read_record(f)
    else:
        main = Record({}, {}, {}, {}, {})
    trials = {}
    for index, p in _trial_files(partial).items():
        with _readable(p) as f:
            trials[index] = _read_record(f)
    return Results(**vars(main), meta=stored["meta"], config=stored["config"], trials=trials, complete=False)


def _py(value: object) -> object:
    """An HDF5 attribute value as plain Python (numpy scalars -> Python, arrays -> lists)."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.ndarray):
        return [_py(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _read_record(g: h5py.Group, skip_attrs: tuple[str, ...] = ()) -> Record:
    def group(name: str) -> h5py.Group | dict:
        return g[name] if name in g else {}

    spikes = {pop: (s["times_ms"][()], s["ids"][()]) for pop, s in group("spikes").items()}
    traces = {pop: (s["times_ms"][()], s["ids"][()],
                    {var: d[()] for var, d in s.items() if var not in ("times_ms", "ids")})
              for pop, s in group("traces").items()}
    weights = {proj: (s["times_ms"][()], s["values"][()]) for proj, s in group("weights").items()}
    metrics = {}
    for nm, d in group("metrics").items():
        if "units" not in d.attrs:
            raise ValueError(f"metric {d.name!r} in {g.file.filename} has no 'units' attribute")
        metrics[nm] = (np.asarray(d[()]), str(_py(d.attrs["units"])))
    attrs = {k: _py(v) for k, v in g.attrs.items() if k not in skip_attrs}
    return Record(spikes, traces, weights, metrics, attrs)
