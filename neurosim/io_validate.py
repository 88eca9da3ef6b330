"""Checks of what :mod:`neurosim.io` is given: records (spikes, traces, weights, metrics, attrs), config as
JSON data, meta attributes, trial indices, and the config/meta differences a resume reports."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from neurosim import _checks as ck
from neurosim.io_format import MAX_TRIAL, Attrs, Metrics, Record, Spikes, Traces, Weights

_NUMERIC_KINDS = "biufc"


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
