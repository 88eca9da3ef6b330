"""Replay of a neurosim results file (:mod:`neurosim.io`), without Qt.

A file holds a top-level record and numbered trials; each record that has something to
show (spikes, membrane traces, weight snapshots or a forgetting curve) becomes a
:class:`RecordView`. A view answers "what is on screen at time ``t``" as a
:class:`~neurosim.viewer.sessions.Frame`: the spikes and samples of the window that
ends with the bin at ``t``, the weights as a (synapse, snapshot) image of the snapshots taken up
to ``t`` (a file stores each projection's weights as flat vectors, in connector order,
without the network to place them in a matrix), and for forgetting results (the
``forgetting`` experiment's trials) the curve up to the ``t``-th interference step.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from neurosim.io import Record, read_results
from neurosim.viewer.frames import Frame

MAX_SYNAPSE_ROWS = 256
CURVE_METRICS = ("steps", "familiarity", "recall_half")


@dataclass(frozen=True, eq=False)
class RecordView:
    """What one record of a file can show (see the module docstring)."""

    label: str
    record: Record
    populations: dict[str, int] = field(default_factory=dict)
    traced: tuple[tuple[str, int], ...] = ()
    t_end: float = 0.0
    bin: float = 1.0
    curve: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    @property
    def weight_names(self) -> tuple[str, ...]:
        return tuple(self.record.weights)

    @property
    def timed(self) -> bool:
        """True when the record has spikes, traces or weights over time (else only a curve)."""
        return bool(self.record.spikes or self.record.traces or self.record.weights)

    @property
    def steps(self) -> int:
        """Slider positions: bins of ``bin`` up to ``t_end``, or the curve's interference steps."""
        if self.timed:
            return int(np.ceil(round(self.t_end / self.bin, 9))) + 1
        return 0 if self.curve is None else len(self.curve[0])

    def frame_at(self, position: int, window: float) -> Frame:
        """What is on screen at slider ``position`` (a bin, or a curve step) for a ``window``-wide raster."""
        if not self.timed:
            return Frame(t=float(position))
        t = position * self.bin
        edge = t + self.bin  # the window is [edge - window, edge): it ends with the bin at t
        lo = edge - window
        spikes = {}
        for p, (times, ids) in self.record.spikes.items():
            sel = (times >= lo) & (times < edge)
            spikes[p] = (times[sel], ids[sel])
        trace_times, traces = np.zeros(0), np.zeros((0, len(self.traced)))
        if self.record.traces:
            parts, times = [], None
            for _p, (tt, _ids, values) in self.record.traces.items():
                sel = (tt >= lo) & (tt < edge)
                times = tt[sel] if times is None else times
                parts.append(values["v_mV"][sel] if "v_mV" in values else np.zeros((sel.sum(), 0)))
            if parts and all(len(x) == len(times) for x in parts):
                trace_times, traces = times, np.column_stack(parts)
        weights = {}
        for name, (wt, values) in self.record.weights.items():
            shown = values[wt <= t]
            rows = np.linspace(0, values.shape[1] - 1, min(values.shape[1], MAX_SYNAPSE_ROWS)).astype(np.int64)
            image = np.full((rows.size, values.shape[0]), np.nan)
            image[:, : shown.shape[0]] = shown[:, rows].T
            weights[name] = image
        return Frame(t=edge, spikes=spikes, trace_times=trace_times, traces=traces, weights=weights)

    def curve_until(self, position: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The forgetting curve's first ``position + 1`` steps (all of it for a timed record)."""
        x, recog, recall = self.curve
        n = len(x) if self.timed else position + 1
        return x[:n], recog[:n], recall[:n]


def _curve(record: Record) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Mean familiarity and recall (half cue) against the interference steps of a forgetting trial."""
    if not all(m in record.metrics for m in CURVE_METRICS):
        return None
    steps = np.asarray(record.metrics["steps"][0], dtype=float)
    arrays = {m: np.asarray(record.metrics[m][0], dtype=float) for m in ("familiarity", "recall_half")}
    # the forgetting experiment's shape: (repetition, step, item); anything else is not its curve
    if steps.ndim != 1 or any(a.ndim != 3 or a.shape[1] != steps.size for a in arrays.values()):
        return None

    def mean(a: np.ndarray) -> np.ndarray:
        return np.nanmean(np.moveaxis(a, 1, 0).reshape(a.shape[1], -1), axis=1)

    return steps, mean(arrays["familiarity"]), mean(arrays["recall_half"])


def view(label: str, record: Record) -> RecordView | None:
    """The view of one record, or None when it has nothing the viewer can show."""
    curve = _curve(record)
    if not (record.spikes or record.traces or record.weights or curve is not None):
        return None
    populations = {p: int(ids.max()) + 1 if ids.size else 1 for p, (_t, ids) in record.spikes.items()}
    traced = tuple((p, int(i)) for p, (_t, ids, values) in record.traces.items() if "v_mV" in values for i in ids)
    ends = [float(t.max()) for t, _ in record.spikes.values() if t.size]
    ends += [float(t.max()) for t, _, _ in record.traces.values() if t.size]
    ends += [float(t.max()) for t, _ in record.weights.values() if t.size]
    steps = [np.diff(np.unique(t)) for t, _ in record.spikes.values() if t.size > 1]
    steps += [np.diff(t) for t, _, _ in record.traces.values() if t.size > 1]
    positive = [s[s > 0].min() for s in steps if (s > 0).any()]
    # spike times are multiples of dt: the finest gap between recorded times is the raster's bin
    # (at least 0.1 ms)
    bin_ = max(0.1, float(min(positive))) if positive else 1.0
    return RecordView(label, record, populations, traced, max(ends, default=0.0), round(bin_, 6), curve)


def open_views(path: str | os.PathLike) -> tuple[dict, list[RecordView]]:
    """(meta, views) of a results file (or an unfinished run's finished trials)."""
    results = read_results(path)
    views = []
    main = view("main", results)
    if main is not None:
        views.append(main)
    for index, rec in results.trials.items():
        name = " ".join(str(rec.attrs[k]) for k in ("model", "condition") if k in rec.attrs)
        v = view(f"trial {index}" + (f": {name}" if name else ""), rec)
        if v is not None:
            views.append(v)
    if not views:
        metrics = sorted(results.metrics) or sorted({m for r in results.trials.values() for m in r.metrics})
        raise ValueError(f"{path} has no spikes, traces, weights or forgetting curves to show "
                         f"(its metrics: {', '.join(metrics[:12]) or 'none'})")
    return results.meta, views
