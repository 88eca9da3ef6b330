"""Writing results: :class:`ResultsWriter` (a run, trial by trial, resumable, finished atomically) and
:func:`save_simulation` (everything a simulator's monitors recorded, in one call)."""

from __future__ import annotations

import json
import os
import platform
import shlex
import shutil
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import h5py
import numpy as np

from neurosim import __version__
from neurosim import _checks as ck
from neurosim.io_files import (
    _commit,
    _copy_record,
    _lock,
    _now,
    _partial_path,
    _trial_files,
    _write_json,
    _write_record_file,
    as_path,
    ensure_parent,
)
from neurosim.io_format import (
    FORMAT,
    FORMAT_VERSION,
    GROUPS,
    META_RESERVED,
    Attrs,
    Metrics,
    Record,
    Spikes,
    Traces,
    Weights,
)
from neurosim.io_validate import _attrs, _config, _differences, _record, _trial_index

if TYPE_CHECKING:
    from neurosim.network import Network
    from neurosim.simulator import Simulator


class ResultsWriter:
    """Writes one run to ``path``, trial by trial, so that no kill can lose a finished trial.

    ``config`` (JSON data: tuples are stored as lists) describes the experiment; ``meta``
    adds attributes to ``/meta`` (str, bool, int or float; ``backend`` and ``seed`` by
    convention) next to those written here (:data:`META_RESERVED`). ``resume=True``
    continues the unfinished run at ``path`` (or starts one if there is none): its
    config must equal ``config``, its meta must agree with ``meta`` on shared keys and
    ``finished_trials`` tells what is stored. A finished file at ``path`` is never
    overwritten (:class:`FileExistsError`).

    Used as a context manager, a normal exit calls :meth:`close` (the file appears at
    ``path``); an exception leaves the run unfinished and resumable.
    """

    def __init__(self, path: str | os.PathLike, *, config: Mapping[str, Any],
                 meta: Mapping[str, Any] | None = None, resume: bool = False) -> None:
        self.path = as_path("path", path)
        self.partial_path = _partial_path(self.path)
        self._config = _config(config)
        extra = _attrs("meta", meta)
        for k in extra:
            if k in META_RESERVED:
                ck.fail("meta key", k, f"not one of the keys written by neurosim.io {META_RESERVED}")
        ck.boolean("resume", resume)
        ensure_parent(self.path)  # refuses a directory, and a parent that cannot be made
        if self.path.exists():
            raise FileExistsError(f"{self.path} exists and holds a finished run"
                                  f"{' (nothing to resume)' if resume else ''}: delete it or choose another path")
        self._state = "open"
        self._main_written = False
        self._lock = None
        run_file = self.partial_path / "run.json"
        if self.partial_path.exists():
            if not resume:
                raise FileExistsError(f"an unfinished run exists at {self.partial_path}: pass resume=True "
                                      "(--resume) to continue it, or delete it to start over")
            self._acquire_lock()
            try:
                self._meta = self._resume(run_file, extra)
            except BaseException:
                self._release_lock()
                raise
        else:
            try:
                self.partial_path.mkdir()
            except OSError as exc:
                raise ValueError(f"cannot write results at {self.path}: {exc.strerror} ({self.partial_path}); "
                                 "choose an output path in a directory you can write") from exc
            self._acquire_lock()
            self._meta = self._new_meta(extra)
        try:
            self._finished = set(_trial_files(self.partial_path))
            _write_json(run_file, {"format": FORMAT, "format_version": FORMAT_VERSION,
                                   "meta": self._meta, "config": self._config})
        except BaseException:
            self._release_lock()
            raise

    @staticmethod
    def _new_meta(extra: dict[str, Any]) -> dict[str, Any]:
        return {"neurosim_version": __version__, "python_version": platform.python_version(),
                "command_line": shlex.join(sys.argv), "host": socket.gethostname(),
                "start_time": _now(), **extra}

    def _resume(self, run_file: Path, extra: dict[str, Any]) -> dict[str, Any]:
        for p in self.partial_path.glob("*.tmp"):  # files a killed writer was writing
            p.unlink()
        if not run_file.exists():  # killed before run.json was first written
            if _trial_files(self.partial_path) or (self.partial_path / "main.h5").exists():
                raise ValueError(f"{self.partial_path} has trial files but no run.json: not a neurosim run")
            return self._new_meta(extra)
        stored = json.loads(run_file.read_text())
        if stored.get("format") != FORMAT:
            raise ValueError(f"{run_file} is not a {FORMAT} run")
        diff = _differences(stored["config"], self._config)
        if diff:
            raise ValueError(f"config differs from the config of the run in {self.partial_path} ("
                             + "; ".join(diff) + "): resume needs the same config, or delete that "
                             "directory to start over")
        meta = stored["meta"]
        now = {"neurosim_version": __version__, **extra}
        diff = _differences({k: meta[k] for k in now if k in meta}, {k: now[k] for k in now if k in meta})
        if diff:
            raise ValueError(f"meta differs from the meta of the run in {self.partial_path} ("
                             + "; ".join(diff) + "): resume needs the same values for the keys both have")
        return {**meta, **extra, "resume_times": [*meta.get("resume_times", []), _now()]}

    def _acquire_lock(self) -> None:
        self._lock = _lock(self.partial_path)

    def _release_lock(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    # -- public ----------------------------------------------------------------------
    @property
    def finished_trials(self) -> list[int]:
        """Indices of the trials stored so far (before this writer and by it), sorted."""
        return sorted(self._finished)

    @property
    def meta(self) -> dict[str, Any]:
        """The run's meta as it will be written (``end_time`` is added by :meth:`close`)."""
        return dict(self._meta)

    def write_trial(self, index: int, *, spikes: Spikes | None = None, traces: Traces | None = None,
                    weights: Weights | None = None, metrics: Metrics | None = None,
                    attrs: Attrs | None = None) -> None:
        """Store trial ``index`` durably (when this returns, no crash can lose it).

        ``spikes = {pop: (times_ms, ids)}``, ``traces = {pop: (times_ms, ids, {var: (n_times, n_ids)})}``,
        ``weights = {proj: (times_ms, (n_snapshots, n_synapses))}``, ``metrics = {name: (array, units)}``,
        ``attrs = {name: str | bool | int | float}``. Each index is written once.
        """
        self._check_open()
        index = _trial_index(index)
        if index in self._finished:
            ck.fail("trial index", index, "an index not written yet (trials are written once; "
                    f"finished: {self.finished_trials[:10]}{'...' if len(self._finished) > 10 else ''})")
        rec = _record(spikes, traces, weights, metrics, attrs)
        _write_record_file(self.partial_path / f"trial_{index:06d}.h5", rec)
        self._finished.add(index)

    def write_main(self, *, spikes: Spikes | None = None, traces: Traces | None = None,
                   weights: Weights | None = None, metrics: Metrics | None = None,
                   attrs: Attrs | None = None, network: Network | None = None) -> None:
        """Store the top-level (non-trial) groups, as :meth:`write_trial` does; ``attrs`` go on ``/``,
        ``network`` (the simulated :class:`~neurosim.Network`) as ``/network`` (:mod:`neurosim.serialize`).

        Once per writer; on resume it replaces what the interrupted writer stored.
        """
        self._check_open()
        if self._main_written:
            ck.fail("write_main", "a second call", "one call per writer")
        rec = _record(spikes, traces, weights, metrics, attrs)
        for k in rec.attrs:
            if k in ("format", "format_version"):
                ck.fail("attrs key", k, "a name other than 'format' and 'format_version'")
        if network is not None:
            from neurosim.serialize import save_network

            save_network(self.partial_path / "network.h5", network)
        _write_record_file(self.partial_path / "main.h5", rec)
        self._main_written = True

    def close(self) -> Path:
        """Finish the run: assemble ``path`` atomically, remove the working directory; returns ``path``."""
        if self._state == "closed":
            return self.path
        self._check_open()
        meta = {**self._meta, "end_time": _now()}
        tmp = self.partial_path / "assemble.h5.tmp"
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = FORMAT
            f.attrs["format_version"] = FORMAT_VERSION
            m = f.create_group("meta")
            for k, v in meta.items():
                m.attrs[k] = np.array(v, dtype=h5py.string_dtype()) if isinstance(v, list) else v
            f.create_dataset("config", data=json.dumps(self._config, sort_keys=True), dtype=h5py.string_dtype())
            main = self.partial_path / "main.h5"
            if main.exists():
                _copy_record(main, f)
            else:
                for name in GROUPS:
                    f.create_group(name)
            if (self.partial_path / "network.h5").exists():
                with h5py.File(self.partial_path / "network.h5", "r") as net:
                    net.copy(net["/"], f, name="network")
            trials = f.create_group("trials")
            for index, p in _trial_files(self.partial_path).items():
                _copy_record(p, trials.create_group(f"{index:06d}"))
        _commit(tmp, self.path)
        shutil.rmtree(self.partial_path)
        self._release_lock()
        self._state = "closed"
        return self.path

    def _check_open(self) -> None:
        if self._state != "open":
            raise RuntimeError(f"this ResultsWriter of {self.path} is {self._state}"
                               + (" (resume the run with a new writer)" if self._state == "abandoned" else ""))

    def _abandon(self) -> None:
        """Stop writing without finishing: the run stays resumable."""
        self._release_lock()
        self._state = "abandoned"

    def __enter__(self) -> ResultsWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self._abandon()


def save_simulation(path: str | os.PathLike, sim: Simulator, *, config: Mapping[str, Any] | None = None,
                    metrics: Metrics | None = None, meta: Mapping[str, Any] | None = None,
                    overwrite: bool = False) -> Path:
    """Write everything ``sim``'s monitors recorded, plus ``metrics``, to ``path``; returns ``path``.

    ``config``: the parameters that made the run (default: none). An existing ``path`` is refused unless
    ``overwrite``; then it is replaced only once the new file is complete (a failure keeps the old one).

    SpikeMonitor targets go to ``spikes``, StateMonitors to ``traces``, WeightMonitors to
    ``weights``. A batched simulator (``batch_size`` > 1) stores batch element ``b`` as
    trial ``b`` and ``metrics`` at the top level. ``meta`` gets ``backend``, ``device``, ``dtype``,
    ``arithmetic``, ``seed``, ``batch_size``, ``dt_ms`` and ``simulated_ms`` from the simulator.
    """
    from neurosim.network import Network, SpikeMonitor, StateMonitor, WeightMonitor

    path = as_path("path", path)
    # duck-typed: what is read of it (a Network alone is saved by neurosim.serialize.save_network)
    if not isinstance(getattr(sim, "network", None), Network) or not all(
            callable(getattr(sim, m, None)) for m in ("spikes", "state", "weight_history")):
        ck.fail("sim", type(sim).__name__, "a neurosim.Simulator (save a Network with neurosim.serialize.save_network)")
    net = sim.network
    from_sim = {"backend": sim.backend, "device": sim.device, "dtype": sim.dtype,
                "arithmetic": getattr(sim, "arithmetic", "float64"), "seed": int(sim.seed),
                "batch_size": int(sim.batch_size), "dt_ms": float(net.dt_ms), "simulated_ms": float(sim.t_ms)}
    merged = _attrs("meta", meta)
    for k, v in from_sim.items():
        if k in merged and merged[k] != v:
            ck.fail(f"meta[{k!r}]", merged[k], f"the simulator's value {v!r} (or left out)")
        merged[k] = v
    spike_targets = list(dict.fromkeys(m.target for m in net.monitors if isinstance(m, SpikeMonitor)))
    state_pops = [m.population for m in net.monitors if isinstance(m, StateMonitor)]
    dup = sorted({p for p in state_pops if state_pops.count(p) > 1})
    if dup:
        ck.fail("StateMonitor populations", dup, "one StateMonitor per population (Simulator.state "
                "returns only the first)")
    projections = list(dict.fromkeys(m.projection for m in net.monitors if isinstance(m, WeightMonitor)))

    def trial(b: int) -> dict[str, Any]:
        traces = {}
        for pop in state_pops:
            rec = sim.state(pop, b)
            traces[pop] = (rec.times_ms, np.asarray(rec.ids, dtype=np.int64), rec.values)
        return {"spikes": {n: sim.spikes(n, b) for n in spike_targets}, "traces": traces,
                "weights": {p: sim.weight_history(p, b) for p in projections}}

    # gather and check everything first: an error here leaves no file and no working directory
    if sim.batch_size == 1:
        main, trials = _record(**trial(0), metrics=metrics, attrs=None), []
    else:
        main = _record(None, None, None, metrics, None)
        trials = [_record(**trial(b), metrics=None, attrs=None) for b in range(sim.batch_size)]
    ck.boolean("overwrite", overwrite)
    target = path
    if overwrite and path.exists():  # write beside it, then swap in: the old file stays until the new one is whole
        path = path.with_name(f".{path.name}.new")
        shutil.rmtree(_partial_path(path), ignore_errors=True)
        path.unlink(missing_ok=True)
    with ResultsWriter(path, config={} if config is None else config, meta=merged) as w:
        w.write_main(**_as_kwargs(main), network=net)
        for b, rec in enumerate(trials):
            w.write_trial(b, **_as_kwargs(rec))
    if path != target:
        os.replace(path, target)
    return target


def _as_kwargs(rec: Record) -> dict[str, Any]:
    return {"spikes": rec.spikes, "traces": rec.traces, "weights": rec.weights, "metrics": rec.metrics,
            "attrs": rec.attrs}
