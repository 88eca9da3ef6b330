"""The files of a run on disk: atomic writes (write a ``.tmp``, fsync, rename, fsync the directory), a
record's HDF5 groups, the working directory ``<out>.partial/`` and its trial files, and the ``flock`` that
keeps a second writer off a run."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import h5py

from neurosim import _checks as ck
from neurosim.io_format import GROUPS, PARTIAL_SUFFIX, Record

try:  # POSIX; elsewhere runs are not protected against two concurrent writers
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

_TRIAL_FILE = re.compile(r"^trial_(\d{6})\.h5$")


def as_path(field: str, value: object) -> Path:
    """``value`` (a str or os.PathLike naming a file: not '', '.', '..' or a root) as a Path."""
    if not isinstance(value, (str, os.PathLike)):
        ck.fail(field, value, "a file path (a str or os.PathLike)")
    path = Path(value)
    if path.name in ("", ".."):
        ck.fail(field, value, "a path that names a file (not empty, '.', '..' or a root directory)")
    return path


def ensure_parent(path: str | os.PathLike) -> Path:
    """Create ``path``'s directory, or say plainly why nothing can be written there (a ValueError naming the
    path: an existing directory, a parent that is a file or cannot be made); returns ``path``."""
    path = as_path("path", path)
    if path.is_dir():
        raise ValueError(f"cannot write {path}: it is a directory; give the path of a file (in it, or elsewhere)")
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


def _copy_record(src_path: Path, dst: h5py.Group) -> None:
    with h5py.File(src_path, "r") as src:
        for k, v in src.attrs.items():
            dst.attrs[k] = v
        for name in GROUPS:
            src.copy(src[name], dst, name=name)


def _partial_path(path: Path) -> Path:
    return path.with_name(path.name + PARTIAL_SUFFIX)


def _trial_files(partial: Path) -> dict[int, Path]:
    found = {}
    for p in partial.iterdir():
        m = _TRIAL_FILE.match(p.name)
        if m:
            found[int(m.group(1))] = p
    return dict(sorted(found.items()))


def _lock(partial: Path) -> IO | None:
    """Take the ``flock`` on ``<partial>/lock``; returns the open lock file (the lock is held until it is
    closed; the kernel drops it when the process dies), or None where there is no ``flock``."""
    if fcntl is None:  # pragma: no cover
        return None
    lock = open(partial / "lock", "a")  # held until close() or abandonment
    try:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.close()
        raise RuntimeError(f"{partial} is in use by another ResultsWriter (in this or another "
                           "process): close it or wait for that process to end") from None
    return lock
