"""Validation helpers: every error names the field, the value and the allowed range.

``ValueError`` rather than ``assert`` so that ``python -O`` keeps the checks.
"""

from __future__ import annotations

import math
import os
import re

import numpy as np

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def fail(field: str, value: object, allowed: str) -> None:
    if isinstance(value, np.generic):
        value = value.item()
    raise ValueError(f"{field} = {value!r} is not allowed: {allowed}")


def name(field: str, value: object) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        fail(field, value, "a Python identifier (letters, digits, '_'; not starting with a digit)")
    return value


def finite(field: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        fail(field, value, "a finite real number")
    v = float(value)
    if not math.isfinite(v):
        fail(field, value, "a finite real number (not NaN or inf)")
    return v


def real_or_inf(field: str, value: object, allowed: str = "a real number (+-inf allowed; not NaN)") -> float:
    """A real number where +-inf has a meaning (no bound, never): NaN, text and bools are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or math.isnan(value):
        fail(field, value, allowed)
    return float(value)


def one_of(field: str, value: object, known: list[str], hint: str = "") -> str:
    """``value`` if it is one of the names ``known``; else the error lists them (and ``hint``)."""
    if not isinstance(value, str) or value not in known:
        fail(field, value, f"one of {list(known)}{hint}")
    return value


def positive(field: str, value: object, unit: str = "") -> float:
    v = finite(field, value)
    if v <= 0.0:
        fail(field, value, f"> 0{(' ' + unit) if unit else ''}")
    return v


def non_negative(field: str, value: object, unit: str = "") -> float:
    v = finite(field, value)
    if v < 0.0:
        fail(field, value, f">= 0{(' ' + unit) if unit else ''}")
    return v


def in_range(field: str, value: object, lo: float, hi: float) -> float:
    v = finite(field, value)
    if not lo <= v <= hi:
        fail(field, value, f"in [{lo}, {hi}]")
    return v


def boolean(field: str, value: object) -> bool:
    """A bool (numpy's included): a string such as "False", or 0.5, is refused rather than read as truthy."""
    if not isinstance(value, (bool, np.bool_)):
        fail(field, value, "True or False (a bool)")
    return bool(value)


INT64_MAX = np.iinfo(np.int64).max


def memory_bytes() -> int:
    """This machine's physical memory in bytes (0 where the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def allocatable(field: str, value: object, n_bytes: float) -> None:
    """Refuse, before allocating, what needs more than this machine's memory (numpy's MemoryError names no
    field)."""
    total = memory_bytes()
    if total and n_bytes > total:
        fail(field, value, f"a size whose arrays fit in memory: it needs {n_bytes / 2**30:.3g} GiB, this machine "
                           f"has {total / 2**30:.3g} GiB")


def index_array(field: str, values: object) -> np.ndarray:
    """Non-negative integer indices as int64, checked before the cast (a uint64 above int64's range would wrap
    to a negative index)."""
    a = np.asarray(values)
    if a.dtype == bool or not np.issubdtype(a.dtype, np.integer):
        fail(field, a.ravel()[0].item() if a.size else a.dtype.name, "non-negative integer indices")
    if a.size and a.dtype.kind == "u" and a.max() > INT64_MAX:
        fail(field, int(a.max()), f"indices <= {INT64_MAX}")
    if a.size and a.dtype.kind == "i" and a.min() < 0:
        fail(field, int(a.min()), "non-negative integer indices")
    return a.astype(np.int64)


def count(field: str, value: object, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        fail(field, value, f"an integer >= {minimum}")
    return int(value)


def layer_sizes(n_in: object, hidden: object, n_out: object) -> None:
    """A feed-forward network's sizes: n_in, n_out and at least one hidden size, each an integer >= 1."""
    count("n_in", n_in)
    count("n_out", n_out)
    if not hidden:
        fail("hidden", hidden, "at least one hidden layer size")
    for h in hidden:
        count("hidden", h)


def _numbers(field: str, values: object) -> np.ndarray:
    """``values`` as float64, refusing text, None and other objects that numpy would parse or choke on ("5" -> 5.0)."""
    try:
        raw = np.asarray(values)
    except ValueError:  # a ragged nesting
        fail(field, values, "numbers (a scalar or a flat sequence)")
    if raw.dtype.kind in "USOVb" or values is None:  # a bool is not a quantity either (True nA)
        bad = next((x for x in raw.ravel().tolist() if not isinstance(x, (int, float))), values) if raw.size else values
        fail(field, bad, "numbers (not text, None or other objects)")
    return raw.astype(np.float64)


def finite_array(field: str, values: object, *, minimum: float | None = None) -> np.ndarray:
    a = _numbers(field, values)
    if not np.all(np.isfinite(a)):
        bad = a[~np.isfinite(a)].ravel()[0]
        fail(field, float(bad), "finite numbers (no NaN or inf)")
    if minimum is not None and a.size and a.min() < minimum:
        fail(field, float(a.min()), f">= {minimum}")
    return a


def steps_array(field: str, values: object, minimum: int = 1) -> np.ndarray:
    """Whole numbers of time steps, >= ``minimum``."""
    a = _numbers(field, values)
    if not np.all(np.isfinite(a)):
        fail(field, values, f"whole numbers of steps >= {minimum}")
    if a.size and (np.any(a != np.round(a))):
        bad = a[a != np.round(a)].ravel()[0]
        fail(field, float(bad), f"a whole number of time steps >= {minimum}")
    if a.size and a.min() < minimum:
        fail(field, float(a.min()), f"a whole number of time steps >= {minimum}")
    return a.astype(np.int64)


def ms_to_steps_ceil(ms: float, dt_ms: float) -> int:
    """ceil(ms / dt) robust to float noise (1.0 / 0.1 is 10.000000000000002)."""
    return int(math.ceil(round(ms / dt_ms, 9)))


def ms_to_step_nearest(times_ms: np.ndarray, dt_ms: float) -> np.ndarray:
    """Tick of an event at time t: the nearest multiple of dt (half rounds up)."""
    return np.floor(np.asarray(times_ms, dtype=np.float64) / dt_ms + 0.5).astype(np.int64)
