"""The one results format of neurosim: a self-describing HDF5 file, written crash-safely.

Layout of a finished file ``<out>``::

    /                      attrs: format = "neurosim-results", format_version, any write_main attrs
    /meta                  attrs: neurosim_version, python_version, command_line, host,
                                  start_time, end_time (ISO 8601, UTC), [resume_times],
                                  backend, seed, ... (whatever the caller passes)
    /config                scalar string dataset: the experiment's parameters as JSON
    /spikes/<population>   times_ms (float64), ids (int64)
    /traces/<population>   times_ms, ids, one (n_times, n_ids) dataset per variable (v_mV, ...)
    /weights/<projection>  times_ms, values (n_snapshots, n_synapses)
    /metrics/<name>        an array with a string attribute ``units`` ("" = dimensionless)
    /trials/<000000>/      attrs: the trial's attributes; spikes/, traces/, weights/, metrics/ as above

Crash safety. HDF5 is not journaled: adding a group or a dataset rewrites the
superblock, object headers, B-trees, heaps and free-space information in place,
in several places of the file, and the library's metadata cache decides when
those blocks reach the file. A process killed while it writes (or flushes) them
leaves some blocks new and others old, and the whole file may no longer open,
losing every trial it held, not only the last one. The HDF Group says so itself
("HDF5 files written via calls to the HDF5 library are susceptible to corruption
in the event of application or system crash", RFC THG 2007-08-01, *Metadata
Journaling to Improve Crash Survivability*; that journaling never shipped).
``flush()`` narrows the window but cannot close it, and SWMR only lets a single
writer extend *existing* datasets: it cannot create the groups a new trial needs.
So nothing here is ever appended to a file that holds finished results:

* a run works in a sibling directory ``<out>.partial/``: ``run.json`` (meta and
  config), ``main.h5`` (:meth:`ResultsWriter.write_main`) and one small HDF5 file
  per finished trial, ``trial_<000000>.h5``;
* every one of these files is written under a ``.tmp`` name, closed, fsync'ed,
  then renamed to its final name with :func:`os.replace` (an atomic ``rename(2)``),
  and the directory is fsync'ed: a file with a final name is therefore always
  complete, and a kill at any instant loses at most the trial being written,
  whose ``.tmp`` file is ignored by the reader and removed on resume;
* :meth:`ResultsWriter.close` assembles ``<out>`` from those files into a ``.tmp``
  file inside the working directory, fsyncs it, renames it to ``<out>`` and only
  then removes the working directory. Until that rename ``<out>`` does not exist;
  after it, ``<out>`` is complete (a working directory left by a kill at that moment
  is a stale copy that :func:`read_results` ignores);
* an ``flock`` on ``<out>.partial/lock`` keeps two writers (two ``--resume``) off
  the same run; the kernel drops it when a process dies, so a killed run resumes.

:func:`read_results` reads a finished file or, when there is none, the finished
trials of an unfinished run (``complete=False``).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import re
import shlex
import shutil
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import h5py
import numpy as np

from neurosim import __version__
from neurosim import _checks as ck

if TYPE_CHECKING:
    from neurosim.network import Network
    from neurosim.simulator import Simulator

try:  # POSIX; elsewhere runs are not protected against two concurrent writers
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

__all__ = ["FORMAT", "FORMAT_VERSION", "Record", "Results", "ResultsWriter", "read_results", "save_simulation"]

FORMAT = "neurosim-results"
FORMAT_VERSION = 1
PARTIAL_SUFFIX = ".partial"
MAX_TRIAL = 999_999  # trial groups are named with 6 digits
GROUPS = ("spikes", "traces", "weights", "metrics")
META_RESERVED = ("neurosim_version", "python_version", "command_line", "host", "start_time", "end_time",
                 "resume_times")
_TRIAL_FILE = re.compile(r"^trial_(\d{6})\.h5$")
_NUMERIC_KINDS = "biufc"

Spikes = Mapping[str, tuple[Any, Any]]
Traces = Mapping[str, tuple[Any, Any, Mapping[str, Any]]]
Weights = Mapping[str, tuple[Any, Any]]
Metrics = Mapping[str, tuple[Any, str]]
Attrs = Mapping[str, Any]


@dataclass(frozen=True, eq=False)
class Record:
    """What one trial (or the top level) holds, in the shapes :meth:`ResultsWriter.write_trial` takes.

    ``spikes[pop] = (times_ms, ids)``, ``traces[pop] = (times_ms, ids, {var: values})``,
    ``weights[proj] = (times_ms, values)``, ``metrics[name] = (array, units)``.
    """

    spikes: dict[str, tuple[np.ndarray, np.ndarray]]
    traces: dict[str, tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]]
    weights: dict[str, tuple[np.ndarray, np.ndarray]]
    metrics: dict[str, tuple[np.ndarray, str]]
    attrs: dict[str, Any]


@dataclass(frozen=True, eq=False)
class Results(Record):
    """A results file read back: the top-level record plus meta, config and trials by index.

    ``complete`` is False for an unfinished run (read from its working directory):
    then ``meta`` has no ``end_time`` and ``trials`` holds the finished trials only.
    """

    meta: dict[str, Any]
    config: dict[str, Any]
    trials: dict[int, Record]
    complete: bool
    network: Network | None = None  # the simulated network, where the run stored it (save_simulation does)


# -- validation ------------------------------------------------------------------------
def _pair(field: str, value: object, n: int, what: str) -> tuple:
    if not isinstance(value, (tuple, list)) or len(value) != n:
        ck.fail(field, _short(value), what)
    return tuple(value)


def _short(value: object) -> object:
    if isinstance(value, np.ndarray):
        return f"array(shape={value.shape}, dtype={value.dtype})"
    text = repr(value)
    return value if len(text) <= 80 else text[:77] + "..."


def _brief(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _times(field: str, values: object) -> np.ndarray:
    a = ck.finite_array(field, values)
    if a.ndim != 1:
        ck.fail(f"{field} shape", a.shape, "a 1-D array")
    return a


def _ids(field: str, values: object, n: int | None, per: str) -> np.ndarray:
    a = np.asarray(values)
    if a.ndim != 1:
        ck.fail(f"{field} shape", a.shape, "a 1-D array")
    if a.size and a.dtype.kind not in "iu":
        ck.fail(field, _short(a), "integers")
    if a.size and a.min() < 0:
        ck.fail(field, int(a.min()), "ids >= 0")
    if n is not None and a.size != n:
        ck.fail(f"{field} length", a.size, f"one id per {per} ({n})")
    return a.astype(np.int64)


def _numeric(field: str, values: object) -> np.ndarray:
    a = np.asarray(values)
    if a.dtype.kind not in _NUMERIC_KINDS:
        ck.fail(field, _short(values), "a numeric or boolean array")
    return a


def _scalar(field: str, value: object) -> str | bool | int | float:
    if isinstance(value, np.generic):
        value = value.item()
    if not isinstance(value, (str, bool, int, float)):
        ck.fail(field, _short(value), "a str, bool, int or float")
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        ck.fail(field, value, "an int that fits in 64 bits")
    return value


def _attrs(field: str, attrs: Attrs | None) -> dict[str, Any]:
    if attrs is None:
        return {}
    if not isinstance(attrs, Mapping):
        ck.fail(field, _short(attrs), "a dict of name -> str, bool, int or float")
    return {ck.name(f"{field} key", k): _scalar(f"{field}[{k!r}]", v) for k, v in attrs.items()}


def _mapping(field: str, value: object) -> Mapping:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        ck.fail(field, _short(value), "a dict keyed by name")
    return value


def _record(spikes: Spikes | None, traces: Traces | None, weights: Weights | None,
            metrics: Metrics | None, attrs: Attrs | None) -> Record:
    """Checked, normalised copy of one record (times float64, ids int64, other arrays keep their dtype)."""
    out_s: dict = {}
    for pop, value in _mapping("spikes", spikes).items():
        f = f"spikes[{ck.name('spikes key', pop)!r}]"
        t, i = _pair(f, value, 2, "a (times_ms, ids) pair")
        times = _times(f"{f}.times_ms", t)
        if times.size > 1 and np.any(np.diff(times) < 0):
            at = int(np.argmax(np.diff(times) < 0))
            ck.fail(f"{f}.times_ms", times[at:at + 2].tolist(), "non-decreasing times (sort the spikes by time)")
        out_s[pop] = (times, _ids(f"{f}.ids", i, times.size, "spike time"))
    out_t: dict = {}
    for pop, value in _mapping("traces", traces).items():
        f = f"traces[{ck.name('traces key', pop)!r}]"
        t, i, vals = _pair(f, value, 3, "a (times_ms, ids, {variable: values}) triple")
        times = _times(f"{f}.times_ms", t)
        ids = _ids(f"{f}.ids", i, None, "")
        checked = {}
        for var, v in _mapping(f"{f} variables", vals).items():
            ck.name(f"{f} variable", var)
            if var in ("times_ms", "ids"):
                ck.fail(f"{f} variable", var, "a name other than 'times_ms' and 'ids'")
            a = _numeric(f"{f}.{var}", v)
            if a.shape != (times.size, ids.size):
                ck.fail(f"{f}.{var} shape", a.shape, f"(n_times, n_ids) = ({times.size}, {ids.size})")
            checked[var] = a
        out_t[pop] = (times, ids, checked)
    out_w: dict = {}
    for proj, value in _mapping("weights", weights).items():
        f = f"weights[{ck.name('weights key', proj)!r}]"
        t, v = _pair(f, value, 2, "a (times_ms, values) pair")
        times = _times(f"{f}.times_ms", t)
        a = _numeric(f"{f}.values", v)
        if a.ndim != 2 or a.shape[0] != times.size:
            ck.fail(f"{f}.values shape", a.shape, f"(n_snapshots, n_synapses) with n_snapshots = {times.size}")
        out_w[proj] = (times, a)
    out_m: dict = {}
    for nm, value in _mapping("metrics", metrics).items():
        f = f"metrics[{ck.name('metrics key', nm)!r}]"
        a, units = _pair(f, value, 2, "an (array, units) pair; units is a string, '' for dimensionless")
        if not isinstance(units, str):
            ck.fail(f"{f} units", units, "a string ('' for dimensionless, but explicit)")
        out_m[nm] = (_numeric(f"{f} array", a), units)
    return Record(out_s, out_t, out_w, out_m, _attrs("attrs", attrs))


def _normal_json(field: str, value: object) -> object:
    """JSON-native copy of ``value`` (tuples -> lists, numpy -> Python); names the bad key."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, float) and math.isnan(value):  # NaN != NaN: a resumed run could never match its config
        ck.fail(field, value, "a number (NaN is not; use None for a missing value)")
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                ck.fail(f"{field} key", k, "a string (JSON object keys are strings)")
            out[k] = _normal_json(f"{field}[{k!r}]", v)
        return out
    if isinstance(value, (list, tuple)):
        return [_normal_json(f"{field}[{i}]", v) for i, v in enumerate(value)]
    ck.fail(field, _short(value), "JSON data: dict (str keys), list, tuple, str, int, float, bool, None")
    raise AssertionError  # unreachable


def ensure_parent(path: str | os.PathLike) -> Path:
    """Create ``path``'s directory, or say plainly why nothing can be written there (a ValueError naming the
    path); returns ``path``."""
    path = Path(path)
    for parent in (path.parent, *path.parent.parents):
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(f"cannot write {path}: {parent} is a file, not a directory; choose "
                                 "another output path")
            break
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot write {path}: {exc.strerror} ({path.parent}); choose an output path in "
                         "a directory you can write") from exc
    return path


def _config(config: object) -> dict[str, Any]:
    if not isinstance(config, Mapping):
        ck.fail("config", _short(config), "a dict of the experiment's parameters")
    return _normal_json("config", config)  # type: ignore[return-value]


def _flat(d: Mapping, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for k, v in d.items():
        if isinstance(v, Mapping) and v:
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _differences(stored: Mapping, new: Mapping) -> list[str]:
    """``key: stored X, new Y`` for every (dotted) key whose JSON differs."""
    missing = _Absent()
    a, b = _flat(stored), _flat(new)
    out = []
    for k in sorted(a.keys() | b.keys()):
        x, y = a.get(k, missing), b.get(k, missing)
        if k not in a or k not in b or json.dumps(x, sort_keys=True) != json.dumps(y, sort_keys=True):
            out.append(f"{k}: stored {_brief(x)}, new {_brief(y)}")
    return out


class _Absent:
    def __repr__(self) -> str:
        return "(absent)"


def _trial_index(index: object) -> int:
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index <= MAX_TRIAL:
        ck.fail("trial index", index, f"an integer in [0, {MAX_TRIAL}]")
    return int(index)


# -- files -----------------------------------------------------------------------------
def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    if os.name == "posix":  # directories cannot be opened for fsync elsewhere
        _fsync_path(path)


def _commit(tmp: Path, final: Path) -> None:
    """Make a closed ``tmp`` durable and atomically give it its final name."""
    _fsync_path(tmp)
    os.replace(tmp, final)
    _fsync_dir(final.parent)


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, sort_keys=True, indent=1))
    _commit(tmp, path)


def _write_record_file(path: Path, rec: Record) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with h5py.File(tmp, "w") as f:
        _write_record(f, rec)
    _commit(tmp, path)


def _write_record(g: h5py.Group, rec: Record) -> None:
    for k, v in rec.attrs.items():
        g.attrs[k] = v
    spikes, traces, weights, metrics = (g.create_group(n) for n in GROUPS)
    for pop, (t, i) in rec.spikes.items():
        s = spikes.create_group(pop)
        s.create_dataset("times_ms", data=t)
        s.create_dataset("ids", data=i)
    for pop, (t, i, vals) in rec.traces.items():
        s = traces.create_group(pop)
        s.create_dataset("times_ms", data=t)
        s.create_dataset("ids", data=i)
        for var, a in vals.items():
            s.create_dataset(var, data=a)
    for proj, (t, a) in rec.weights.items():
        s = weights.create_group(proj)
        s.create_dataset("times_ms", data=t)
        s.create_dataset("values", data=a)
    for nm, (a, units) in rec.metrics.items():
        metrics.create_dataset(nm, data=a).attrs["units"] = units


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


def _partial_path(path: Path) -> Path:
    return path.with_name(path.name + PARTIAL_SUFFIX)


def _trial_files(partial: Path) -> dict[int, Path]:
    found = {}
    for p in partial.iterdir():
        m = _TRIAL_FILE.match(p.name)
        if m:
            found[int(m.group(1))] = p
    return dict(sorted(found.items()))


# -- writing ---------------------------------------------------------------------------
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
        self.path = Path(path)
        self.partial_path = _partial_path(self.path)
        self._config = _config(config)
        extra = _attrs("meta", meta)
        for k in extra:
            if k in META_RESERVED:
                ck.fail("meta key", k, f"not one of the keys written by neurosim.io {META_RESERVED}")
        if self.path.exists():
            raise FileExistsError(f"{self.path} exists and holds a finished run"
                                  f"{' (nothing to resume)' if resume else ''}: delete it or choose another path")
        ensure_parent(self.path)
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
        if fcntl is None:  # pragma: no cover
            return
        lock = open(self.partial_path / "lock", "a")  # held until close() or abandonment
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            raise RuntimeError(f"{self.partial_path} is in use by another ResultsWriter (in this or another "
                               "process): close it or wait for that process to end") from None
        self._lock = lock

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


def _copy_record(src_path: Path, dst: h5py.Group) -> None:
    with h5py.File(src_path, "r") as src:
        for k, v in src.attrs.items():
            dst.attrs[k] = v
        for name in GROUPS:
            src.copy(src[name], dst, name=name)


# -- one-shot and reading ------------------------------------------------------------------
def save_simulation(path: str | os.PathLike, sim: Simulator, *, config: Mapping[str, Any] | None = None,
                    metrics: Metrics | None = None, meta: Mapping[str, Any] | None = None,
                    overwrite: bool = False) -> Path:
    """Write everything ``sim``'s monitors recorded, plus ``metrics``, to ``path``; returns ``path``.

    ``config``: the parameters that made the run (default: none). An existing ``path`` is refused unless
    ``overwrite``; then it is replaced only once the new file is complete (a failure keeps the old one).

    SpikeMonitor targets go to ``spikes``, StateMonitors to ``traces``, WeightMonitors to
    ``weights``. A batched simulator (``batch_size`` > 1) stores batch element ``b`` as
    trial ``b`` and ``metrics`` at the top level. ``meta`` gets ``backend``, ``device``, ``dtype``, ``seed``,
    ``batch_size``, ``dt_ms`` and ``simulated_ms`` from the simulator.
    """
    from neurosim.network import SpikeMonitor, StateMonitor, WeightMonitor

    net = sim.network
    from_sim = {"backend": sim.backend, "device": sim.device, "dtype": sim.dtype, "seed": int(sim.seed),
                "batch_size": int(sim.batch_size), "dt_ms": float(net.dt_ms), "simulated_ms": float(sim.t_ms)}
    merged = dict(meta or {})
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
    path = Path(path)
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


def read_results(path: str | os.PathLike) -> Results:
    """Read a finished results file, or the finished trials of an unfinished run at ``path``.

    ``path`` is the results file (its working directory ``<path>.partial`` is read when
    the file does not exist yet) or that working directory itself.
    """
    path = Path(path)
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
    raise FileNotFoundError(f"no results at {path} (neither the file nor an unfinished run {partial})")


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

