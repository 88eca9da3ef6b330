"""The results format's names and shapes: format constants, the argument type aliases, and the
:class:`Record` / :class:`Results` dataclasses that :mod:`neurosim.io` writes and reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from neurosim.network import Network

FORMAT = "neurosim-results"
FORMAT_VERSION = 1
PARTIAL_SUFFIX = ".partial"
MAX_TRIAL = 999_999  # trial groups are named with 6 digits
GROUPS = ("spikes", "traces", "weights", "metrics")
META_RESERVED = ("neurosim_version", "python_version", "command_line", "host", "start_time", "end_time",
                 "resume_times")

Spikes = Mapping[str, tuple[Any, Any]]
Traces = Mapping[str, tuple[Any, Any, Mapping[str, Any]]]
Weights = Mapping[str, tuple[Any, Any]]
Metrics = Mapping[str, tuple[Any, str]]
Attrs = Mapping[str, Any]


@dataclass(frozen=True, eq=False)
class Record:
    """What one trial (or the top level) holds, in the shapes :meth:`ResultsWriter.write_trial` takes.

    ``spikes[pop] = (times_ms, ids)``, ``traces[pop] = (times_ms, ids, {var: values})``,
    ``weights[proj] = (times_ms, values)``, ``metrics[name] = (array, units)``.
    """

    spikes: dict[str, tuple[np.ndarray, np.ndarray]]
    traces: dict[str, tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]]
    weights: dict[str, tuple[np.ndarray, np.ndarray]]
    metrics: dict[str, tuple[np.ndarray, str]]
    attrs: dict[str, Any]


@dataclass(frozen=True, eq=False)
class Results(Record):
    """A results file read back: the top-level record plus meta, config and trials by index.

    ``complete`` is False for an unfinished run (read from its working directory):
    then ``meta`` has no ``end_time`` and ``trials`` holds the finished trials only.
    """

    meta: dict[str, Any]
    config: dict[str, Any]
    trials: dict[int, Record]
    complete: bool
    network: Network | None = None  # the simulated network, where the run stored it (save_simulation does)
