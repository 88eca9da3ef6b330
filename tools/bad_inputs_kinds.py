"""The kinds of bad input that tools/bad_input_tally.py draws, and the table's types.

A kind (a positive float, a probability, a bool, a count, a name, a binary item, a file path, ...) gives a
fixed list of bad values (no randomness). Values that need files or objects with state are :class:`Make`
recipes, built anew for each case in a :class:`Scratch` directory. Also here: the files the path cases use
and the bad values of a results file's config, meta and records (neurosim.io).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neurosim.io import ResultsWriter

NAN, INF = math.nan, math.inf


# -- the table's types ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bad:
    """One bad value. ``field``: what a clear message names (default: the spec's field for the parameter);
    ``path``: a file case, clear when the message names the path; ``note``: why it is invalid."""

    value: object
    field: str | None = None
    path: bool = False
    note: str = ""


@dataclass(frozen=True)
class Make:
    """A value built afresh for each case (files in a new scratch directory, objects with state)."""

    label: str
    build: Callable[[], object]


@dataclass
class Spec:
    """One public callable: ``call(**baseline)`` is valid; ``bad[param]`` are the bad values of ``param``."""

    module: str
    name: str
    call: Callable[..., object]
    baseline: dict[str, object]
    bad: dict[str, list]
    fields: dict[str, str] = field(default_factory=dict)  # parameter -> the name its errors give


class Scratch:
    """New, empty directories under ``root`` (set by the driver to a temporary directory)."""

    root: Path | None = None
    _count = itertools.count()

    @classmethod
    def new(cls) -> Path:
        assert cls.root is not None, "Scratch.root is set by the driver"
        d = cls.root / f"case{next(cls._count):05d}"
        d.mkdir()
        return d


# -- kinds: the bad values of each kind of parameter ----------------------------------------------------------

WRONG_TYPES = ["5", None, object(), [1], True]      # where one number is expected
HUGE = [10**12, 2**63, np.uint64(2**64 - 1)]        # sizes no machine holds


def real(*extra) -> list:
    return [*WRONG_TYPES, NAN, INF, -INF, *extra]


def positive(*extra) -> list:
    return real(0.0, -1.0, *extra)


def non_negative(*extra) -> list:
    return real(-1.0, -1e-300, *extra)


def probability(*extra) -> list:
    return real(-0.1, 1.1, 1e308, 2**63, *extra)


def per_neuron(values: list) -> list:
    """``values`` without ``[1]``: where a list is one value per neuron, [1] is a valid one."""
    return [v for v in values if not (type(v) is list and v == [1])]


def count(minimum: int = 1, huge: bool = False, whole_floats: bool = False) -> list:
    """Bad integers >= ``minimum``; ``whole_floats``: 2.0 is allowed (a whole number of steps, say)."""
    below = [minimum - 1] if minimum >= 1 else []
    return ["5", None, object(), [1], True, *([] if whole_floats else [2.0]), 1.5, NAN, -1, *below,
            *(HUGE if huge else [])]


def seed() -> list:
    return ["0", None, object(), [0], True, 1.5, NAN, -1]  # any integer >= 0 is a seed, however large


def boolean() -> list:
    return ["False", "True", 0.5, 1, 0, None, np.float64(1.0), [True]]


def identifier() -> list:
    return ["", "2x", "a b", "a-b", "x.y", None, 5, b"p"]


def choice(*allowed: str) -> list:
    return ["bogus", "", None, 5, allowed[0].upper(), [allowed[0]]]


def trial() -> list:
    return [-1, 1, 1.5, "0", True, None, 2**63]  # batch_size is 1: trial 0 only


def patterns(n: int, row: np.ndarray) -> list:
    """Bad binary items of ``n`` units (``row`` is a valid one)."""
    def with_(v):
        a = row.astype(float)
        a[0] = v
        return a
    return ["abc", None, 5, object(), [], row[:-1], row[None], with_(2), with_(-1), with_(NAN), with_(0.5),
            row.astype(int).astype(str), [True, False, True]]


def batches(n: int, row: np.ndarray) -> list:
    """Bad batches of items, (k, n)."""
    return ["abc", None, 5, row, np.stack([row[:-1]] * 2), np.full((2, n), 2), np.full((2, n), NAN),
            np.stack([row, row]).astype(int).astype(str), [[]]]


# -- files ------------------------------------------------------------------------------------------------------


def results_file() -> Path:
    """A small, complete results file (once; copied per case)."""
    p = Scratch.root / "fixture.h5"
    if not p.exists():
        w = ResultsWriter(p, config={"x": 1})
        w.write_trial(0, spikes={"p": (np.arange(50.0), np.zeros(50, np.int64))})
        w.close()
    return p


def make_file(name: str, content: bytes | None = None, half_of_results: bool = False) -> Path:
    p = Scratch.new() / name
    if half_of_results:
        data = results_file().read_bytes()
        content = data[:len(data) // 2]
    p.write_bytes(content or b"")
    return p


def _hdf5_not_results() -> Path:
    import h5py

    p = Scratch.new() / "other.h5"
    with h5py.File(p, "w") as f:
        f.create_dataset("x", data=[1, 2])
    return p


def _dir() -> Path:
    d = Scratch.new() / "dir.h5"
    d.mkdir()
    return d


def _stale_partial(run_json: bytes | None) -> Path:
    d = Scratch.new()
    (d / "r.h5.partial").mkdir()
    if run_json is not None:
        (d / "r.h5.partial" / "run.json").write_bytes(run_json)
    return d / "r.h5"


def new_file(name: str = "out.h5") -> Make:
    return Make(f"a new {name}", lambda: Scratch.new() / name)


def bad_paths(use: str) -> list:
    """Bad paths for ``use``: "write" (cannot be written), "new" (cannot be written, or exist: for writers that
    never overwrite) or "read" (no result or network there, or a broken one)."""
    out = [Bad(Make("a directory", _dir), path=True),
           Bad(Make("/proc/x.h5", lambda: Path("/proc/x.h5")), path=True),
           Bad(Make("FILE/x.h5 (under a regular file)", lambda: make_file("file") / "x.h5"), path=True),
           Bad("", field="path"), Bad(None, field="path"), Bad(5, field="path")]
    if use in ("new", "read"):
        out += [Bad(Make("a zero-length .h5 file", lambda: make_file("empty.h5")), path=True),
                Bad(Make("a truncated .h5 file", lambda: make_file("cut.h5", half_of_results=True)), path=True),
                Bad(Make("a text file named .h5", lambda: make_file("text.h5", b"not hdf5 at all\n")), path=True),
                Bad(Make("an HDF5 file that is no result", _hdf5_not_results), path=True)]
    if use == "read":
        out += [Bad(Make("a .partial run without run.json", lambda: _stale_partial(None)), path=True),
                Bad(Make("a .partial run with a broken run.json", lambda: _stale_partial(b'{"format": ')), path=True)]
    return out


# -- neurosim.io: writers, and bad values of a run's config, meta and records ------------------------------


class _Interrupt(Exception):
    pass


def unfinished_run() -> Path:
    """A run left unfinished (as by an exception inside ``with ResultsWriter(...)``): resumable."""
    p = Scratch.new() / "u.h5"
    try:
        with ResultsWriter(p, config={}):
            raise _Interrupt
    except _Interrupt:
        pass
    return p


def open_writer() -> ResultsWriter:
    return ResultsWriter(Scratch.new() / "w.h5", config={})


def write_and_close(**kw) -> None:
    ResultsWriter(**kw).close()


SPIKES = {"p": ([1.0, 2.0], [0, 1])}
RECORD = {  # bad values of write_trial / write_main's record arguments
    "spikes": [5, "x", {"p": 5}, {"p": ([1.0], [0, 1])}, {"p": ([2.0, 1.0], [0, 0])}, {"2x": ([1.0], [0])},
               {"p": ([NAN], [0])}, {"p": ([1.0], [-1])}, {"p": ([1.0], [0.5])}, {"p": ([[1.0]], [[0]])},
               {"p": (["1"], [0])}, {5: ([1.0], [0])}],
    "traces": [5, {"p": ([0.0], [0], {"v": [[1.0, 2.0]]})}, {"p": ([0.0], [0], {"times_ms": [[1.0]]})},
               {"p": ([0.0], [0], {"v": [["a"]]})}, {"p": ([0.0], [0])}, {"p": ([NAN], [0], {"v": [[1.0]]})},
               {"p": ([0.0], [0], {"2v": [[1.0]]})}],
    "weights": [5, {"c": ([0.0], [1.0])}, {"c": ([0.0, 1.0], [[1.0]])}, {"c": ([0.0], [["a"]])},
                {"c": ([INF], [[1.0]])}],
    "metrics": [5, {"m": (1.0, 5)}, {"m": 1.0}, {"m": ("a", "")}, {"2x": (1.0, "")}, {"m": (object(), "")}],
    "attrs": [5, {"2x": 1}, {"a": object()}, {"a": [1, 2]}, {"a": 2**64}, {"a": None}],
}
CONFIG = [None, 5, "x", {"x": NAN}, {1: 2}, {"x": object()}, {"x": {1, 2}}, {"x": np.array([NAN])}]
META = [5, "x", {"backend": object()}, {"2x": 1}, Bad({"host": "h"}, field="meta key"), {"x": 2**64},
        {"x": [1]}]
