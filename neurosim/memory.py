"""The memory contract every memory model implements, and helpers for binary patterns.

Items are binary patterns: numpy arrays of ``n_units`` entries, bool or 0/1 numbers
(batches: ``(k, n_units)``). A memory model is a :class:`Memory` (store, recall,
recognize, forget, reset, close) or, when it cannot recall (one dendritic neuron), a
:class:`RecognitionMemory` (the same without recall). Each subclass implements the
batched hooks (``_store``, ``_recall``, ``_recognize``, ``_reset``, ``_close``); this
module validates every input once, for every model, and states what all share:

- **items and keys**: ``n_keys`` is the key policy. 0: content-addressed, every key
  must be None; > 0: keyed, ``store`` needs a key, an integer in [0, n_keys), and
  ``recall`` takes a key as well as a partial item. A wrong or missing key is a
  ``ValueError`` naming it;
- **store(item, key=None)** learns the item; ``store_many(items, keys=None)`` learns the
  rows in order and equals one ``store`` per row;
- **recall(cue)** returns the stored item the cue retrieves (bool, ``n_units``) from a
  partial or noisy item (or, keyed, a key); ``recall_many(cues)`` is ``recall`` of each row;
- **recognize(item)** returns the item's familiarity, a float in [0, 1]. Every model
  documents what its familiarity measures (:attr:`RecognitionMemory.familiarity`); all
  share that stored items score above novel ones in expectation (below capacity). Past
  capacity most still rank the newest stored items above novel ones; a model whose
  familiarity saturates says so in :attr:`RecognitionMemory.familiarity_limit`;
  ``recognize_many(items)`` is ``recognize`` of each row;
- **reads never change the memory**: after any number of ``recall`` and ``recognize``
  calls every later answer, and what every later ``store`` does, is exactly what it
  would have been without them;
- **forget(item, key=None, method=None)** removes one stored item on purpose and, as far as
  the model's mechanism allows, nothing else. ``forget_methods`` lists the model's mechanisms,
  its default first (each model's docstring gives their equations and says what is exact);
  forgetting an item that is not stored (never, or forgotten as often as stored) is a
  ``ValueError``. A model without a mechanism yet raises ``NotImplementedError`` naming it;
- **reset()** forgets everything: the memory then behaves exactly as a fresh instance
  built with the same arguments (the same seed gives the same later results);
- **close()** releases what the memory holds (simulators, device memory); afterwards every
  method raises ``ValueError``. A memory is also a context manager that closes on exit;
- **seed**: an integer >= 0. A model with ``stochastic = True`` draws all its randomness
  from generators seeded by it (same seed, same results); a deterministic model
  (``stochastic = False``) gives the same results for every seed;
- **engine**: ``backend`` (one of the class's ``engines``), ``device`` and ``dtype`` say what
  runs (:func:`neurosim.backends.resolve` checks the request). float64 engines of one
  model give equal results (familiarities within 1e-9); float32 (torch) gives familiarities
  within :data:`FLOAT32_TOLERANCE` of float64, and the same recalls in the contract tests
  (N = 200): a unit whose field lies within float32 rounding of its threshold could flip.

Models are built by name through :func:`neurosim.models.create`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from neurosim import _checks as ck
from neurosim import backends

FLOAT32_TOLERANCE = 1e-6  # float32 vs float64 familiarities, measured at most 1.6e-7 (Sparsey's G, N = 200)


class RecognitionMemory(ABC):
    """A memory that stores and recognizes items (the contract in the module docstring, without recall)."""

    engines: ClassVar[tuple[str, ...]] = ("numba", "torch")  # the engines this model runs on
    stochastic: ClassVar[bool] = True   # False: no randomness, every seed gives the same results
    familiarity: ClassVar[str] = ""     # what recognize() measures, in one sentence
    familiarity_limit: ClassVar[str] = ""  # where familiarity stops telling stored from novel items ("": it does not)
    forget_methods: ClassVar[tuple[str, ...]] = ()  # how forget() can remove one item, the default first
    no_forget: ClassVar[str] = ""  # without forget_methods: why, in a phrase, for forget's error
    key_holds_one: ClassVar[bool] = False  # True: a key holds one item, and storing under it replaces that item
    n_keys: int = 0                     # 0: content-addressed; > 0: keyed by integers in [0, n_keys)

    n_units: int
    seed: int
    backend: str
    device: str
    dtype: str
    _closed: bool = False

    def _setup(self, n_units: int, *, seed: object, backend: object, device: object, dtype: object,
               minimum_units: int = 1, n_keys: int = 0, n_bytes: Callable[[int], float] | None = None,
               keyword: str = "n_units") -> None:
        """Check and set what every memory has: its size, key policy, seed and engine. ``n_bytes(n_units)``: what
        the model's arrays for ``n_units`` units need (at construction, or to store one item), refused before
        numpy allocates where it exceeds this machine's memory; the error names n_units (and the constructor's
        ``keyword`` for it where that differs), so that :func:`neurosim.models.create` and the constructor both
        name what the caller gave."""
        self.n_units = ck.count("n_units", n_units, minimum=minimum_units)
        if n_bytes is not None:
            ck.allocatable("n_units" if keyword == "n_units" else f"n_units ({keyword})", n_units,
                           n_bytes(self.n_units))
        self.n_keys = ck.count("n_keys", n_keys, minimum=0)
        self.seed = ck.count("seed", seed, minimum=0)
        self.backend, self.device, self.dtype = choose_engine(type(self).__name__, self.engines, backend, device,
                                                              dtype)
        self._stored: dict[tuple[int | None, bytes], int] = {}  # how often each (key, item) is stored (forget)

    # -- the contract -------------------------------------------------------------------------------
    def store(self, item: Any, key: Any = None) -> None:
        """Learn ``item`` (under ``key`` for a keyed memory)."""
        self._open()
        x, keys = as_patterns("item", item, self.n_units, single=True), self._keys([key])
        self._store(x, keys)
        self._count_stored(x, keys, +1)

    def store_many(self, items: Any, keys: Any = None) -> None:
        """Learn the rows of ``items`` (k, n_units) in order (keys: one per row for a keyed memory)."""
        self._open()
        x = as_patterns("items", items, self.n_units)
        k = self._keys([None] * x.shape[0] if keys is None else list(keys), x.shape[0])
        self._store(x, k)
        self._count_stored(x, k, +1)

    def recognize(self, item: Any) -> float:
        """Familiarity of ``item`` in [0, 1] (:attr:`familiarity` says what it measures)."""
        self._open()
        return float(self._recognize(as_patterns("item", item, self.n_units, single=True))[0])

    def recognize_many(self, items: Any) -> np.ndarray:
        """:meth:`recognize` of each row of ``items`` (k, n_units): (k,) floats."""
        self._open()
        return np.asarray(self._recognize(as_patterns("items", items, self.n_units)), dtype=np.float64)

    def forget(self, item: Any, key: Any = None, *, method: str | None = None) -> None:
        """Remove one stored copy of ``item`` (stored under ``key`` for a keyed memory) by ``method``, one of
        :attr:`forget_methods` (default: the first), and, as far as that mechanism allows, nothing else."""
        self._open()
        name = type(self).__name__
        if not self.forget_methods:
            raise NotImplementedError(f"{name}.forget: this model has no targeted forgetting yet"
                                      + (f" ({self.no_forget})" if self.no_forget else ""))
        if method is None:
            method = self.forget_methods[0]
        elif not isinstance(method, str) or method not in self.forget_methods:
            ck.fail("method", method, f"one of {list(self.forget_methods)} for {name}")
        x, keys = as_patterns("item", item, self.n_units, single=True), self._keys([key])
        if self._stored.get(self._tag(x[0], keys), 0) == 0:
            where = "" if keys is None else f" under key {int(keys[0])}"
            ck.fail("item (its active units)", np.flatnonzero(x[0]).tolist()[:8],
                    f"an item stored in this {name}{where} (it was never stored, or is forgotten already)")
        self._forget(x, keys, method)
        self._count_stored(x, keys, -1)

    def reset(self) -> None:
        """Forget everything: afterwards the memory behaves exactly as a fresh instance."""
        self._open()
        self._reset()
        self._stored.clear()

    def close(self) -> None:
        """Release what the memory holds; afterwards every method raises (closing twice is allowed)."""
        if not self._closed:
            self._close()
            self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        keys = f", n_keys={self.n_keys}" if self.n_keys else ""
        return (f"{type(self).__name__}(n_units={getattr(self, 'n_units', '?')}{keys}, "
                f"backend={getattr(self, 'backend', '?')!r}, device={getattr(self, 'device', '?')!r}, "
                f"dtype={getattr(self, 'dtype', '?')!r})")

    # -- what a model implements --------------------------------------------------------------------
    @abstractmethod
    def _store(self, items: np.ndarray, keys: np.ndarray | None) -> None:
        """Learn bool rows (k, n_units) in order; ``keys`` (k,) int64 for a keyed memory, else None."""

    @abstractmethod
    def _recognize(self, items: np.ndarray) -> np.ndarray:
        """Familiarity of each bool row: (k,) floats in [0, 1]; must not change the memory."""

    @abstractmethod
    def _reset(self) -> None:
        """Back to the state of a fresh instance."""

    def _close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (simulators, device tensors)."""

    def _forget(self, items: np.ndarray, keys: np.ndarray | None, method: str) -> None:
        """Remove one stored copy of the bool row ``items`` (1, n_units) by ``method`` (checked: one of
        :attr:`forget_methods`, and stored)."""
        raise NotImplementedError(f"{type(self).__name__} lists forget_methods but does not implement _forget")

    # -- what is stored (for forget's check) ---------------------------------------------------------
    @staticmethod
    def _tag(x: np.ndarray, keys: np.ndarray | None) -> tuple[int | None, bytes]:
        return (None if keys is None else int(keys[0]), np.packbits(x).tobytes())

    def _count_stored(self, items: np.ndarray, keys: np.ndarray | None, step: int) -> None:
        for r, x in enumerate(items):
            tag = self._tag(x, None if keys is None else keys[r:r + 1])
            if step > 0 and self.key_holds_one and tag[0] is not None:  # storing under a key overwrites it
                for old in [t for t in self._stored if t[0] == tag[0]]:
                    del self._stored[old]
            n = self._stored.get(tag, 0) + step
            if n:
                self._stored[tag] = n
            else:
                self._stored.pop(tag, None)

    # -- checks ---------------------------------------------------------------------------------------
    def _open(self) -> None:
        if self._closed:
            raise ValueError(f"{type(self).__name__} is closed: close() released it; create a new one")

    def _keys(self, keys: list, k: int | None = None) -> np.ndarray | None:
        """The key policy: None for a content-addressed memory, else (k,) int64 keys in [0, n_keys)."""
        if k is not None and len(keys) != k:
            ck.fail("keys length", len(keys), f"{k} (one key per item)")
        if not self.n_keys:
            for key in keys:
                if key is not None:
                    ck.fail("key", key, f"None ({type(self).__name__} is content-addressed: n_keys = 0)")
            return None
        return np.array([self._key(key) for key in keys], dtype=np.int64)

    def _key(self, key: object) -> int:
        if isinstance(key, bool) or not isinstance(key, (int, np.integer)) or not 0 <= key < self.n_keys:
            ck.fail("key", key, f"an integer in [0, {self.n_keys - 1}] ({type(self).__name__} is keyed: "
                                f"n_keys = {self.n_keys})")
        return int(key)


class Memory(RecognitionMemory):
    """A memory that also recalls (the whole contract in the module docstring)."""

    def recall(self, cue: Any) -> np.ndarray:
        """The stored item ``cue`` retrieves (bool, n_units): from a partial or noisy item, or, for a
        keyed memory, from a key."""
        self._open()
        if self.n_keys and isinstance(cue, (int, np.integer)) and not isinstance(cue, bool):
            return np.asarray(self._recall_keys(np.array([self._key(cue)], dtype=np.int64))[0], dtype=bool)
        return np.asarray(self._recall(as_patterns("cue", cue, self.n_units, single=True))[0], dtype=bool)

    def recall_many(self, cues: Any) -> np.ndarray:
        """:meth:`recall` of each row of ``cues`` (k, n_units): (k, n_units) bool."""
        self._open()
        return np.asarray(self._recall(as_patterns("cues", cues, self.n_units)), dtype=bool)

    @abstractmethod
    def _recall(self, cues: np.ndarray) -> np.ndarray:
        """What each bool row (k, n_units) retrieves: (k, n_units) bool; must not change the memory."""

    def _recall_keys(self, keys: np.ndarray) -> np.ndarray:
        """Keyed memories: the item stored under each key, (k, n_units) bool."""
        raise NotImplementedError(f"{type(self).__name__} is keyed but does not recall by key")


def choose_engine(owner: str, engines: tuple[str, ...], backend: object, device: object, dtype: object
                  ) -> tuple[str, str, str]:
    """``(backend, device, dtype)`` for a model that runs on ``engines``: a backend it lacks is refused with
    the list of those it has (never replaced), then :func:`neurosim.backends.resolve` checks the rest."""
    if not isinstance(backend, str) or backend not in engines:
        ck.fail("backend", backend, f"one of {list(engines)} for {owner}")
    return backends.resolve(backend, device, dtype)


def as_patterns(field: str, items: Any, size: int, *, single: bool = False) -> np.ndarray:
    """Validate binary patterns of ``size`` units as bool rows (k, size): the one check of items, cues
    and batches. ``single``: exactly one pattern of shape (size,), returned as (1, size)."""
    a = np.asarray(items)
    if single:
        if a.shape != (size,):
            ck.fail(f"{field} shape", a.shape, f"({size},)")
        a = a[None]
    elif a.ndim != 2 or a.shape[1] != size:
        ck.fail(f"{field} shape", a.shape, f"(k, {size})")
    if a.dtype != bool:
        if not np.issubdtype(a.dtype, np.number) or not np.all((a == 0) | (a == 1)):
            ck.fail(field, a.ravel().tolist()[:8], "binary values (0/1 or bool)")
        a = a.astype(bool)
    return a


def as_pattern(field: str, item: Any, size: int) -> np.ndarray:
    """Validate one binary pattern of ``size`` units and return it as a bool array (size,)."""
    return as_patterns(field, item, size, single=True)[0]


def overlap(a: np.ndarray, b: np.ndarray) -> int:
    """Number of units active in both patterns."""
    return int(np.count_nonzero(np.logical_and(a, b)))


def hamming(a: np.ndarray, b: np.ndarray) -> int:
    """Number of units where the patterns differ."""
    return int(np.count_nonzero(np.logical_xor(a, b)))


def random_patterns(rng: np.random.Generator, n_patterns: int, size: int, active: int) -> np.ndarray:
    """``n_patterns`` random patterns of ``size`` units with exactly ``active`` units on (bool, (n, size))."""
    ck.count("n_patterns", n_patterns, minimum=0)
    ck.count("size", size)
    if not isinstance(active, (int, np.integer)) or not 0 <= active <= size:
        ck.fail("active", active, f"an integer in [0, {size}]")
    out = np.zeros((n_patterns, size), dtype=bool)
    for p in range(n_patterns):
        out[p, rng.choice(size, size=active, replace=False)] = True
    return out


def _one_item(item: Any) -> np.ndarray:
    """``item`` as one bool pattern: a 1-D array (the cue helpers below draw for one item at a time)."""
    x = np.asarray(item, dtype=bool)
    if x.ndim != 1:
        ck.fail("item shape", x.shape, "one pattern, a 1-D array (draw for several items in a loop)")
    return x


def partial_cue(rng: np.random.Generator, item: np.ndarray, keep: float) -> np.ndarray:
    """A random fraction ``keep`` (rounded, at least one) of the item's active units; the rest off."""
    ck.in_range("keep", keep, 0.0, 1.0)
    item = _one_item(item)
    on = np.flatnonzero(item)
    k = max(1, int(round(keep * on.size))) if on.size else 0
    cue = np.zeros_like(item, dtype=bool)
    cue[rng.choice(on, size=k, replace=False)] = True
    return cue


def drop_bits(rng: np.random.Generator, item: np.ndarray, k: int) -> np.ndarray:
    """The item with ``k`` of its active units turned off."""
    return _switch(rng, item, k, active=True)


def add_bits(rng: np.random.Generator, item: np.ndarray, k: int) -> np.ndarray:
    """The item with ``k`` of its inactive units turned on (spurious bits)."""
    return _switch(rng, item, k, active=False)


def _switch(rng: np.random.Generator, item: np.ndarray, k: int, active: bool) -> np.ndarray:
    """Flip ``k`` random units among the item's active (or inactive) ones."""
    cue = _one_item(item).copy()
    pool = np.flatnonzero(cue if active else ~cue)
    if not isinstance(k, (int, np.integer)) or not 0 <= k <= pool.size:
        which = "active" if active else "inactive"
        ck.fail("k", k, f"an integer in [0, {pool.size}] (the item's {which} units)")
    cue[rng.choice(pool, size=k, replace=False)] = not active
    return cue


def flip_bits(rng: np.random.Generator, item: np.ndarray, k: int) -> np.ndarray:
    """The item with ``k`` random units flipped (noise)."""
    item = _one_item(item)
    if not isinstance(k, (int, np.integer)) or not 0 <= k <= item.size:
        ck.fail("k", k, f"an integer in [0, {item.size}]")
    cue = item.copy()
    idx = rng.choice(item.size, size=k, replace=False)
    cue[idx] = ~cue[idx]
    return cue


def move_bits(rng: np.random.Generator, item: np.ndarray, k: int) -> np.ndarray:
    """The item with ``k`` of its active units moved to units outside it: same sparsity, overlap |item| - k."""
    item = _one_item(item)
    return drop_bits(rng, item, k) | (add_bits(rng, item, k) & ~item)


def jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per row |a & b| / |a | b| (1.0 when both are empty): 1 only for an exact match."""
    union = np.count_nonzero(a | b, axis=-1)
    return np.where(union > 0, np.count_nonzero(a & b, axis=-1) / np.maximum(union, 1), 1.0)
