"""Memory sessions: a memory model driven through the memory protocol, without Qt.

Memory sessions drive their model through the memory protocol
(:mod:`neurosim.memory`): item ``i`` (a random pattern of ``active`` of ``n_units``
units, from the session's seeded generator) is stored (under key ``i mod n_keys``
for keyed models), then an older item ``j = i - a`` is probed, the interference
``a`` cycling through ``ages``: recall from a random half of its units (Jaccard of
the recalled pattern with the item) and recognition (the model's familiarity).
Those points make the forgetting-curve panel. Non-spiking models (Hopfield,
Sparsey: :class:`ActivitySession`) show their activity instead of spikes: one column per pattern
shown (the stored item, each probe's cue and recalled pattern), and their speed counts those
patterns.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from neurosim import _checks as ck
from neurosim.memory import Memory, as_pattern, jaccard, partial_cue, random_patterns
from neurosim.viewer.feeds import MAX_RATE, YIELD_S
from neurosim.viewer.frames import CurvePoint, Dynamics, Frame, MemoryView
from neurosim.viewer.session_base import Emit, Session


class MemorySession(Session):
    """A memory model driven through the memory protocol: store, probe, recall on request."""

    ages: tuple[int, ...] = (0, 1, 2, 4, 8, 16, 32)
    probes_per_step = 1

    def __init__(self, memory: Memory, n_units: int, active: int, *, seed: int = 0,
                 emit: Emit | None = None) -> None:
        super().__init__(emit)
        self.memory = memory
        self.n_units = ck.count("n_units", n_units)
        if not isinstance(active, (int, np.integer)) or not 1 <= active <= n_units:
            ck.fail("active", active, f"an integer in [1, {n_units}]")
        self.active = int(active)
        self.rng = np.random.default_rng(ck.count("seed", seed, minimum=0))
        self.items: list[np.ndarray] = []
        self.forgotten: set[int] = set()  # items forgotten on purpose (forget)
        self._probe = 0
        self._oldest = 0  # the oldest item the load policy (keep) has not forgotten yet

    def _key(self, i: int) -> int | None:
        return i % self.memory.n_keys if self.memory.n_keys else None

    def close(self) -> None:
        super().close()
        self.memory.close()

    def _shown(self, kind: str, pattern: np.ndarray) -> None:
        """Hook: a pattern was presented (non-spiking sessions draw it as activity)."""

    def _dynamics(self, cue: np.ndarray, item: np.ndarray | None) -> Dynamics | None:
        """Hook: what the model did recalling from ``cue`` (None: spiking sessions show membranes instead)."""
        return None

    def step(self) -> str:
        self._new_operation()
        i = len(self.items)
        item = random_patterns(self.rng, 1, self.n_units, self.active)[0]
        self._shown("stored", item)
        self.memory.store(item, key=self._key(i))
        self.items.append(item)
        key = self._key(i)
        words = [f"stored item {i}" + (f" under key {key}" if key is not None else "")]
        words += self._apply_policy(i)
        points, view, dynamics = [], None, None
        for _ in range(self.probes_per_step):
            age = self.ages[self._probe % len(self.ages)]
            self._probe += 1
            if age > i:
                continue
            j = i - age
            cue = partial_cue(self.rng, self.items[j], 0.5)
            self._shown("cue", cue)
            recalled = np.asarray(self.memory.recall(cue), dtype=bool)
            self._shown("recalled", recalled)
            point = CurvePoint(age, float(self.memory.recognize(self.items[j])),
                               float(jaccard(recalled, self.items[j])), j in self.forgotten)
            points.append(point)
            gone = " (forgotten)" if point.forgotten else ""
            view = MemoryView(cue, recalled, self.items[j],
                              f"item {j}{gone} probed {age} items later: recall {point.recall:.2f}, "
                              f"familiarity {point.recognition:.2f}", j)
            dynamics = self._dynamics(cue, self.items[j])
            words.append(f"probed item {j} ({age} later): recall {point.recall:.2f}, "
                         f"familiarity {point.recognition:.2f}")
        message = "; ".join(words)
        self.emit(Frame(t=self.now(), memory=view, curve=tuple(points), weights=self.matrices(), message=message,
                        dynamics=dynamics))
        return message

    def _apply_policy(self, newest: int) -> list[str]:
        """The load policy: keep at most ``keep`` items, forgetting the oldest through the memory contract."""
        done = []
        while self.keep is not None and newest - self._oldest >= self.keep:
            j, self._oldest = self._oldest, self._oldest + 1
            if j not in self.forgotten:
                self.memory.forget(self.items[j], key=self._key(j))
                self.forgotten.add(j)
                done.append(f"forgot item {j} (keeping the newest {self.keep})")
        return done

    def recall(self, cue: np.ndarray) -> MemoryView:
        """Recall from ``cue`` (bool, n_units) and name the stored item closest to the result."""
        cue = as_pattern("cue", cue, self.n_units)
        self._new_operation()
        self._shown("cue", cue)
        recalled = np.asarray(self.memory.recall(cue), dtype=bool)
        self._shown("recalled", recalled)
        if self.items:
            scores = jaccard(np.array(self.items), recalled)
            j = int(np.argmax(scores))
            view = MemoryView(cue, recalled, self.items[j], f"recalled: closest to item {j} (Jaccard {scores[j]:.2f})",
                              j)
        else:
            view = MemoryView(cue, recalled, None, "recalled (nothing stored yet)")
        self.emit(Frame(t=self.now(), memory=view, weights=self.matrices(), message=view.label,
                        dynamics=self._dynamics(cue, view.target)))
        return view

    def forget(self, index: int) -> MemoryView:
        """Forget stored item ``index`` on purpose (the memory contract's ``forget``, the model's default
        method), then probe it as a step probes: the curve marks it, and every later probe of it, as forgotten."""
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < len(self.items):
            ck.fail("index", index, f"a stored item, in [0, {len(self.items) - 1}]")
        if index in self.forgotten:
            ck.fail("index", index, "an item not forgotten already")
        self._new_operation()
        item = self.items[index]
        self.memory.forget(item, key=self._key(index))
        self.forgotten.add(int(index))
        cue = partial_cue(self.rng, item, 0.5)
        self._shown("cue", cue)
        recalled = np.asarray(self.memory.recall(cue), dtype=bool)
        self._shown("recalled", recalled)
        point = CurvePoint(len(self.items) - 1 - index, float(self.memory.recognize(item)),
                           float(jaccard(recalled, item)), True)
        view = MemoryView(cue, recalled, item, f"forgot item {index}: now recall {point.recall:.2f}, familiarity "
                                               f"{point.recognition:.2f}", int(index))
        self.emit(Frame(t=self.now(), memory=view, curve=(point,), weights=self.matrices(), message=view.label))
        return view

    def now(self) -> float:
        raise NotImplementedError

    def matrices(self) -> dict[str, np.ndarray]:
        return {}


class ActivitySession(MemorySession):
    """A non-spiking memory (one column of activity per pattern shown)."""

    time_unit = "patterns shown"
    window = 120.0
    default_speed = 10.0

    def __init__(self, memory: Memory, n_units: int, active: int, weights: Callable[[], np.ndarray] | None,
                 weight_name: str, dynamics: Callable[[np.ndarray, np.ndarray | None], Dynamics] | None = None,
                 **kw) -> None:
        super().__init__(memory, n_units, active, **kw)
        self._dynamics_of = dynamics
        self.populations = {"stored": n_units, "cue": n_units, "recalled": n_units}
        self._weights = weights
        self.weight_names = (weight_name,) if weights is not None else ()
        self._t = 0
        self._pending: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
        self._sent = -math.inf

    def _shown(self, kind: str, pattern: np.ndarray) -> None:
        """One column of activity; columns go out at most ``MAX_RATE`` times a wall second."""
        ids = np.flatnonzero(pattern)
        self._pending.setdefault(kind, []).append((np.full(ids.size, float(self._t)), ids))
        self._t += 1
        if time.monotonic() - self._sent >= 1.0 / MAX_RATE:
            self._flush()
            time.sleep(YIELD_S)
        self._pace(self._t)

    def _dynamics(self, cue: np.ndarray, item: np.ndarray | None) -> Dynamics | None:
        return self._dynamics_of(cue, item) if self._dynamics_of is not None else None

    def _flush(self) -> None:
        if self._pending:
            spikes = {k: (np.concatenate([t for t, _ in v]), np.concatenate([i for _, i in v]))
                      for k, v in self._pending.items()}
            self._pending = {}
            self.emit(Frame(t=float(self._t), spikes=spikes))
        self._sent = time.monotonic()

    def now(self) -> float:
        self._flush()  # the operation's last columns go before its result
        return float(self._t)

    def matrices(self) -> dict[str, np.ndarray]:
        return {self.weight_names[0]: np.asarray(self._weights(), dtype=float)} if self._weights else {}
