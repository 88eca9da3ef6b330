r"""Memories built on dendritic segments (Ahmad & Hawkins 2016; the theory is :mod:`.dendrites`).

A segment is a set of up to ``width`` synapses onto cells of the population; it fires on a
pattern :math:`x` when at least :math:`\theta` of its synapses see active cells,
:math:`\sum_{j \in \text{seg}} x_j \ge \theta` (an NMDA spike).

- :class:`DendriticNeuron`: one neuron with many segments; each stored pattern gets ``s``
  synapses sampled from its active cells, on the current segment until it holds
  ``patterns_per_segment`` patterns (union storage), then on a new one. The neuron recognizes a
  pattern when any segment fires. With ``max_segments`` the oldest segment is recycled. It
  cannot recall: it is a :class:`~neurosim.memory.RecognitionMemory`.
- :class:`DendriticMemory`: a population of such neurons, one per unit, as an autoassociative
  memory: storing an item gives each of its active units a segment sampled from the item's *other*
  active units; recall turns on the units whose segments fire on the cue (pattern completion by
  dendritic coincidence detection, as in HTM's temporal memory), ``steps`` times over.

Storage (the synapses sampled, with the memory's seeded Generator) is host bookkeeping
(:class:`Segments`), the same for every engine; the engines count each segment's active
synapses for a batch of patterns: ``numba`` (:mod:`.dendritic_numba`, one fused loop per
pattern) and ``torch`` (:mod:`.dendritic_torch`, a sparse segments x cells matrix times the
patterns, CPU or CUDA). Counts are integers, so every engine and dtype gives the same answers.

Forgetting one item (``forget``, ``method="segments"``): the memory keeps which synapses each stored
copy sampled onto which segment. Forgetting a copy (the latest) rebuilds each segment it used from
the samples of the other items still on it: a segment that held only this item is emptied (it never
fires, and the unit's next item fills it); a union segment keeps exactly the synapses the other items
sampled, so synapses this item shared with them stay. Exact in the segments the other items hold; not
a memory that never stored the item: the samples of later items were drawn further along the
sampler's stream, and a segment this item filled may have sent later items to a new one. A segment
recycled since (``max_segments``) no longer holds the item's synapses and is left as it is.
"""

from __future__ import annotations

import importlib
from collections import deque
from typing import ClassVar

import numpy as np

from neurosim import _checks as ck
from neurosim.memory import Memory, RecognitionMemory, as_patterns
from neurosim.models.dendrites import check_sizes

_ENGINES = {"numba": "neurosim.models.dendritic_numba", "torch": "neurosim.models.dendritic_torch"}


class Segments:
    """Dendritic segments of a population of ``n_units`` neurons over ``n_inputs`` cells.

    Each segment is a row of up to ``width`` synapse targets (cell indices, padded with
    ``n_inputs``, which is never active); a unit keeps at most ``max_segments`` (oldest recycled).
    ``version`` counts changes (an engine that mirrors the rows on a device re-reads them when it moves).
    """

    def __init__(self, n_units: int, n_inputs: int, width: int, max_segments: int | None) -> None:
        self.n_units, self.n_inputs, self.width, self.max_segments = n_units, n_inputs, width, max_segments
        self.version = 0
        self.clear()

    def clear(self) -> None:
        """No segments (the arrays grow by doubling as segments are added)."""
        self.cells = np.full((16, self.width), self.n_inputs, dtype=np.int32)
        self.size = np.zeros(16, dtype=np.int32)       # distinct synapses on the row
        self.patterns = np.zeros(16, dtype=np.int32)   # patterns stored on the row
        self.owner = np.full(16, -1, dtype=np.int32)   # the unit the row belongs to
        self.rows = 0                                  # rows in use
        self.by_unit: list[deque[int]] = [deque() for _ in range(self.n_units)]
        self.version += 1

    def new(self, unit: int) -> int:
        """A fresh segment on ``unit`` (recycling the unit's oldest one past ``max_segments``)."""
        mine = self.by_unit[unit]
        if self.max_segments is not None and len(mine) >= self.max_segments:
            row = mine.popleft()
        else:
            if self.rows == self.owner.size:
                grow = self.owner.size
                self.cells = np.vstack([self.cells, np.full((grow, self.width), self.n_inputs, dtype=np.int32)])
                self.size, self.patterns = (np.concatenate([x, np.zeros(grow, np.int32)])
                                            for x in (self.size, self.patterns))
                self.owner = np.concatenate([self.owner, np.full(grow, -1, np.int32)])
            row, self.rows = self.rows, self.rows + 1
        self.cells[row] = self.n_inputs
        self.size[row] = self.patterns[row] = 0
        self.owner[row] = unit
        mine.append(row)
        self.version += 1
        return row

    def add(self, row: int, cells: np.ndarray) -> None:
        """Connect the segment to ``cells`` too (union: cells it already has are not doubled)."""
        have = self.cells[row, :self.size[row]]
        new = np.setdiff1d(cells, have)
        self.cells[row, self.size[row]:self.size[row] + new.size] = new
        self.size[row] += new.size
        self.patterns[row] += 1
        self.version += 1

    def current(self, unit: int) -> int | None:
        return self.by_unit[unit][-1] if self.by_unit[unit] else None


def _check_memory_args(n: int, s: int, theta: int, patterns_per_segment: int, max_segments: int | None) -> None:
    ck.count("s", s)  # required here (check_sizes skips a size given as None)
    ck.count("theta", theta)
    check_sizes(n=n, s=s, theta=theta)
    ck.count("patterns_per_segment", patterns_per_segment)
    if max_segments is not None:
        ck.count("max_segments", max_segments)


UNIT_BYTES = 800  # a unit's list of segments (an empty deque is 760 bytes in CPython 3.12)


class _OnSegments:
    """What both memories share: the settings, the segments, the engine that reads them, the sampler."""

    engines: ClassVar[tuple[str, ...]] = tuple(_ENGINES)

    def _init_segments(self, n: int, s: int, theta: int, patterns_per_segment: int, max_segments: int | None,
                       n_units: int, seed: int, backend: str, device: str | None, dtype: str | None) -> None:
        _check_memory_args(n, s, theta, patterns_per_segment, max_segments)
        self._setup(n, seed=seed, backend=backend, device=device, dtype=dtype, keyword="n",
                    n_bytes=lambda n: float(n) + UNIT_BYTES * float(n_units))  # one item; each neuron's segments
        # the first 16 segment rows, int32 (s <= n: only many patterns per segment can exceed memory here)
        ck.allocatable("patterns_per_segment", patterns_per_segment, 16 * 4.0 * s * patterns_per_segment)
        self.n, self.s, self.theta, self.m = n, s, theta, patterns_per_segment
        self.segments = Segments(n_units, n, s * patterns_per_segment, max_segments)
        self._reader = importlib.import_module(_ENGINES[self.backend]).SegmentReader(n, self.device, self.dtype)
        self.rng = np.random.default_rng(self.seed)
        self._on_row: dict[int, list[tuple[bytes, np.ndarray]]] = {}  # each segment's samples, by item (forget)
        self._copies: dict[bytes, list[list[int]]] = {}  # the segments each stored copy of an item used

    def _store(self, items: np.ndarray, keys: None) -> None:
        for item in items:  # every item checked before any is stored: a refused batch stores nothing
            self._check_sampling(np.flatnonzero(item))
        for item in items:
            on = np.flatnonzero(item)
            tag, rows = np.packbits(item).tobytes(), []
            for unit, pool in self._pools(on):
                rows.append(self._grow(unit, pool, tag))
            self._copies.setdefault(tag, []).append(rows)

    def _grow(self, unit: int, pool: np.ndarray, tag: bytes) -> int:
        """``s`` synapses sampled from ``pool`` on ``unit``'s current segment (a new one when it is full)."""
        row = self.segments.current(unit)
        if row is None or self.segments.patterns[row] >= self.m:
            row = self.segments.new(unit)
            self._on_row[row] = []  # a recycled row keeps nothing of what it held
        sample = self.rng.choice(pool, size=self.s, replace=False)
        self.segments.add(row, sample)
        self._on_row.setdefault(row, []).append((tag, sample))
        return row

    def _forget(self, items: np.ndarray, keys: None, method: str) -> None:
        tag = np.packbits(items[0]).tobytes()
        seg = self.segments
        for row in self._copies[tag].pop():
            held = self._on_row[row]
            mine = [r for r, (t, _) in enumerate(held) if t == tag]
            if not mine:
                continue  # recycled since: the item's synapses are gone already
            del held[mine[-1]]
            cells = np.unique(np.concatenate([c for _, c in held])) if held else np.zeros(0, np.int64)
            seg.cells[row] = seg.n_inputs
            seg.cells[row, :cells.size] = cells
            seg.size[row], seg.patterns[row] = cells.size, len(held)
        if not self._copies[tag]:
            del self._copies[tag]
        seg.version += 1

    def _reset(self) -> None:
        self.segments.clear()
        self.rng = np.random.default_rng(self.seed)
        self._on_row.clear()
        self._copies.clear()

    def _close(self) -> None:
        self._reader = None


class DendriticNeuron(_OnSegments, RecognitionMemory):
    """One neuron with many segments, recognizing the patterns it stored (see the module docstring).

    ``recognize`` returns 1.0 when a segment fires on the item, else the best segment's active
    synapses over ``theta`` (in [0, 1)): a graded familiarity whose threshold is the neuron's decision.
    """

    familiarity: ClassVar[str] = ("1 when a segment fires on the item, else the best segment's active synapses over "
                                  "theta: how close the neuron comes to firing")
    forget_methods: ClassVar[tuple[str, ...]] = ("segments",)

    def __init__(self, n: int, s: int, theta: int, *, patterns_per_segment: int = 1,
                 max_segments: int | None = None, seed: int = 0, backend: str = "numba", device: str | None = None,
                 dtype: str | None = None) -> None:
        self._init_segments(n, s, theta, patterns_per_segment, max_segments, 1, seed, backend, device, dtype)

    def _check_sampling(self, on: np.ndarray) -> None:
        if on.size < self.s:
            ck.fail("item", f"{on.size} active cells", f">= s = {self.s} active cells to sample synapses from")

    def _pools(self, on: np.ndarray):
        """(unit, cells to sample from) for each segment an item grows: the neuron's, from the item."""
        return [(0, on)]

    def active_synapses(self, items: np.ndarray) -> np.ndarray:
        """The best segment's active synapses for each row of ``items`` ((k,) ints; 0 with no segment)."""
        self._open()
        items = np.atleast_2d(np.asarray(items))
        if items.shape[1] != self.n:
            ck.fail("items shape", items.shape, f"(k, {self.n})")
        return self._reader.best(self.segments, as_patterns("items", items, self.n))

    def fires(self, items: np.ndarray) -> np.ndarray:
        """Whether any segment reaches theta, for each row of ``items`` ((k,) bool)."""
        return self.active_synapses(items) >= self.theta

    def _recognize(self, items: np.ndarray) -> np.ndarray:
        best = self._reader.best(self.segments, items)
        return np.where(best >= self.theta, 1.0, best / self.theta)

    def recall(self, cue: object) -> np.ndarray:
        raise TypeError("a single dendritic neuron recognizes but cannot recall: use DendriticMemory, a population "
                        "of dendritic neurons, for recall from cues")


class DendriticMemory(_OnSegments, Memory):
    """An autoassociative population of ``n`` dendritic neurons, one per unit (see the module docstring).

    ``store(item)``: each active unit gets ``s`` synapses sampled from the item's other active units,
    on its current segment until it holds ``patterns_per_segment`` items (union storage).
    ``recall(cue)``: the units with a segment reaching ``theta`` on the cue, iterated ``steps`` times
    (the output is fed back as the next cue). ``recognize(item)``: the fraction of the item's active
    units that the item itself makes fire (1 for a stored item; about P_fp for a novel one).
    """

    familiarity: ClassVar[str] = ("the fraction of the item's active units that the item itself makes fire: 1 for a "
                                  "stored item, about the segments' false-positive rate for a novel one")
    forget_methods: ClassVar[tuple[str, ...]] = ("segments",)

    def __init__(self, n: int, s: int, theta: int, *, patterns_per_segment: int = 1,
                 max_segments: int | None = None, steps: int = 1, seed: int = 0, backend: str = "numba",
                 device: str | None = None, dtype: str | None = None) -> None:
        self.steps = ck.count("steps", steps)
        self._init_segments(n, s, theta, patterns_per_segment, max_segments, n, seed, backend, device, dtype)

    def _check_sampling(self, on: np.ndarray) -> None:
        if on.size < self.s + 1:
            ck.fail("item", f"{on.size} active units", f">= s + 1 = {self.s + 1} active units (each samples s others)")

    def _pools(self, on: np.ndarray):
        """(unit, cells to sample from) for each segment an item grows: each active unit, from the others."""
        return [(int(u), on[on != u]) for u in on]

    def predicted(self, patterns: np.ndarray) -> np.ndarray:
        """Units with a segment reaching theta, for each row of ``patterns`` ((k, n) bool)."""
        self._open()
        patterns = as_patterns("patterns", np.atleast_2d(np.asarray(patterns)), self.n)
        return self._reader.fired(self.segments, patterns, self.theta)

    def _recall(self, cues: np.ndarray) -> np.ndarray:
        x = cues
        for _ in range(self.steps):
            x = self._reader.fired(self.segments, x, self.theta)
        return x

    def _recognize(self, items: np.ndarray) -> np.ndarray:
        on = items.sum(axis=1)
        hit = (self._reader.fired(self.segments, items, self.theta) & items).sum(axis=1)
        return np.where(on > 0, hit / np.maximum(on, 1), 0.0)
