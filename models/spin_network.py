"""What the classical Hopfield network (:mod:`.hopfield`) and the dense associative memory
(:mod:`.dense_memory`) share: binary items coded as spins ``s = 2x - 1``, the centred levels in exact
integer arithmetic, the fixed schedule of sweep orders, the engines (:mod:`.hopfield_numba`,
:mod:`.hopfield_torch`) and the activity check (the equations are in :mod:`.hopfield`'s docstring)."""

from __future__ import annotations

import importlib
import math
import warnings
from collections.abc import Callable
from fractions import Fraction

import numpy as np

from neurosim import _checks as ck
from neurosim.memory import Memory

UPDATES = ("async", "sync")
_ENGINES = {"numba": "neurosim.models.hopfield_numba", "torch": "neurosim.models.hopfield_torch"}


def _check_activity(activity: object) -> None:
    if not 0.0 < ck.finite("activity", activity) < 1.0:
        ck.fail("activity", activity, "in (0, 1) (exclusive)")


def _levels(activity: float) -> tuple[float, tuple[float, float]]:
    """``(scale, (on, off))``: the centred spins ``s - m`` times ``scale`` for an on and an off unit. For an
    activity p/q (q up to 2^20) scale = q/2 and the levels are the integers q - p and -p (exact sums)."""
    frac = Fraction(float(activity)).limit_denominator(1 << 20)
    if float(frac) == float(activity):
        return frac.denominator / 2.0, (float(frac.denominator - frac.numerator), -float(frac.numerator))
    m = 2.0 * float(activity) - 1.0
    return 1.0, (1.0 - m, -1.0 - m)


def _choice(field: str, value: object, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        ck.fail(field, value, "one of " + ", ".join(repr(a) for a in allowed))
    return value


def _spins(x: np.ndarray) -> np.ndarray:
    return np.where(x, 1.0, -1.0)


class _Orders:
    """The fixed schedule of per-sweep unit orders: permutation k of default_rng(seed)."""

    def __init__(self, n_units: int, max_sweeps: int, seed: int) -> None:
        self.n_units, self.max_sweeps, self.seed = n_units, max_sweeps, seed
        self.reset()

    def reset(self) -> None:
        self.rng = np.random.default_rng(self.seed)
        self._orders: np.ndarray | None = None

    def get(self) -> np.ndarray:
        if self._orders is None:
            self._orders = np.array([self.rng.permutation(self.n_units) for _ in range(self.max_sweeps)],
                                    dtype=np.int64).reshape(self.max_sweeps, self.n_units)
        return self._orders


class _Network(Memory):
    """What both networks share: the engine's arrays, the centred levels, the sweep orders and the
    activity check."""

    engines = tuple(_ENGINES)

    def _init_network(self, n_units: int, activity: float, max_sweeps: int, seed: int, backend: str,
                      device: str | None, dtype: str | None, n_bytes: Callable[[int], float]) -> None:
        """``n_bytes(n_units)``: what the network's arrays need (refused past this machine's memory)."""
        self._setup(n_units, seed=seed, backend=backend, device=device, dtype=dtype, minimum_units=2,
                    n_bytes=n_bytes)
        self._engine = importlib.import_module(_ENGINES[self.backend])
        self._orders = _Orders(self.n_units, max_sweeps, self.seed)
        # exact arithmetic: for an activity p/q the centred spins (s - m) q/2 are the integers q - p and -p,
        # so the stored weights and the fields are integers and ties (h = theta) are exact
        self._scale, self._levels = _levels(activity)
        a = float(activity)
        self._activity_slack = 0.5 * min(a, 1.0 - a) + 3.0 * math.sqrt(a * (1.0 - a) / self.n_units)
        self._warned = False

    def _check_items(self, items: np.ndarray) -> None:
        """One RuntimeWarning per memory when stored items are far sparser or denser than ``activity``."""
        a = float(self.params.activity)
        frac = items.mean(axis=1)
        far = np.abs(frac - a) > self._activity_slack
        if not self._warned and far.any():
            self._warned = True
            warnings.warn(f"{type(self).__name__}: stored items have {frac[far][0]:.3g} of their units active but "
                          f"the network is centred for activity = {a:g}: recall and familiarity fail; create it "
                          f"with activity={frac[far][0]:.3g} (neurosim.models.create sets it from sparsity)",
                          RuntimeWarning, stacklevel=4)

    def _centred(self, x: np.ndarray) -> np.ndarray:
        """``scale (s - m)`` of bool rows: integers when the activity is a fraction p/q (scale q/2)."""
        return np.where(x, *self._levels)

    def _sweep_orders(self) -> np.ndarray | None:
        return self._orders.get() if self.params.update == "async" else None

    def _close(self) -> None:
        self._arrays = None  # frees the engine's arrays (device memory on CUDA)
