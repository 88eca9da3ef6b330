"""What a live session reports: :class:`Frame` s and their parts, without Qt.

A frame holds what changed since the previous one: new spikes and membrane samples, the latest
weight matrices, the memory panel's content (:class:`MemoryView`), forgetting-curve points
(:class:`CurvePoint`) and a non-spiking model's last operation (:class:`Dynamics`). :func:`merge`
makes one frame of two, losing nothing the panels show.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

_EMPTY = np.zeros(0)


@dataclass(frozen=True, eq=False)
class MemoryView:
    """The memory panel's content: the cue given, the pattern recalled and the stored item it is
    closest to (``target``; None when nothing is stored), all bool arrays of ``n_units``."""

    cue: np.ndarray
    recalled: np.ndarray
    target: np.ndarray | None
    label: str
    index: int | None = None  # which stored item ``target`` is (the one *Forget* forgets)


@dataclass(frozen=True)
class CurvePoint:
    """One probe: ``interference`` items were stored after the probed one."""

    interference: int
    recognition: float  # familiarity in [0, 1]
    recall: float       # Jaccard of the pattern recalled from half the item with the item
    forgotten: bool = False  # the probed item was forgotten on purpose (forget), not by interference


@dataclass(frozen=True, eq=False)
class Dynamics:
    """What a non-spiking model did inside its last operation, in place of membrane traces: named series
    ``(x, y)`` over a common axis (a Hopfield recall's sweeps, a Sparsey code's competitive modules)."""

    title: str
    xlabel: str
    series: dict[str, tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True, eq=False)
class Frame:
    """What changed since the previous frame. ``spikes[pop] = (times, ids)`` are new events,
    ``traces`` the new samples (len(trace_times), n_traced) of the traced neurons, ``weights``
    the latest matrices (pre x post) of the projections they name."""

    t: float
    spikes: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    trace_times: np.ndarray = field(default_factory=lambda: _EMPTY)
    traces: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    memory: MemoryView | None = None
    curve: tuple[CurvePoint, ...] = ()
    message: str = ""
    dynamics: Dynamics | None = None


def merge(a: Frame | None, b: Frame) -> Frame:
    """One frame holding ``a`` then ``b``: events and samples of both, the later state (weights, memory view,
    dynamics, message) where ``b`` has one, and every curve point. Sending one merged frame in place of
    many loses nothing the panels show."""
    if a is None:
        return b
    spikes = dict(a.spikes)
    for p, (t, i) in b.spikes.items():
        spikes[p] = (np.concatenate([spikes[p][0], t]), np.concatenate([spikes[p][1], i])) if p in spikes else (t, i)
    if a.traces.size and b.traces.size:
        times, traces = np.concatenate([a.trace_times, b.trace_times]), np.concatenate([a.traces, b.traces])
    else:
        times, traces = (b.trace_times, b.traces) if b.traces.size else (a.trace_times, a.traces)
    return Frame(t=b.t, spikes=spikes, trace_times=times, traces=traces, weights={**a.weights, **b.weights},
                 memory=b.memory if b.memory is not None else a.memory, curve=a.curve + b.curve,
                 message=b.message or a.message, dynamics=b.dynamics if b.dynamics is not None else a.dynamics)
