"""What an engine is: state for one compiled network, advanced a chunk of ticks at a time."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from neurosim.compiled import CompiledNetwork

NEVER = -(1 << 40)  # "tick" of a spike that never happened: every trace lookup gives 0


@dataclass(eq=False)
class External:
    """Source spikes for one chunk, sorted by (tick, trial, node); ticks are absolute."""

    tick: np.ndarray
    trial: np.ndarray
    node: np.ndarray

    @staticmethod
    def empty() -> External:
        z = np.zeros(0, np.int64)
        return External(z, z.copy(), z.copy())


@dataclass(eq=False)
class Chunk:
    """What one ``advance`` recorded: spikes of recorded nodes and traced neuron states."""

    spike_tick: np.ndarray   # int64, absolute ticks
    spike_trial: np.ndarray  # int64
    spike_node: np.ndarray   # int64, global node ids
    state: np.ndarray | None  # (n_steps, batch, n_traced, 3): v_mV, i_syn_e_nA, i_syn_i_nA


class Engine(ABC):
    """Base class of every backend engine.

    ``record``: bool mask over nodes whose spikes are kept; ``traced``: global ids of
    neurons whose state is kept at every tick.
    """

    name: str = ""
    supports_batch: bool = False

    def __init__(self, net: CompiledNetwork, *, batch_size: int, record: np.ndarray,
                 traced: np.ndarray, dtype: str, device: str | None) -> None:
        self.net = net
        self.batch_size = batch_size
        self.record = record
        self.traced = traced
        self.dtype = dtype
        self.device = device
        self.learning = True

    def set_learning(self, enabled: bool) -> None:
        """Switch weight changes on or off (traces keep following spikes either way)."""
        self.learning = bool(enabled)

    @abstractmethod
    def advance(self, t0: int, n_steps: int, ext: External) -> Chunk:
        """Simulate ticks t0 .. t0 + n_steps - 1."""

    @abstractmethod
    def weights(self) -> np.ndarray:
        """Current weights, float64, shape (batch, n_synapses), canonical synapse order."""

    @abstractmethod
    def set_weights(self, syn: np.ndarray, values: np.ndarray, trial: int | None) -> None:
        """Set the weights of synapses ``syn`` (canonical ids) to ``values`` (nA), in every trial or one."""

    @abstractmethod
    def set_offset(self, neurons: np.ndarray, values: np.ndarray) -> None:
        """Set the constant input current (nA) of ``neurons`` (global neuron ids) from the next tick on."""

    def events_delivered(self) -> int:
        """Synaptic events delivered so far (for benchmarks); -1 if the engine does not count."""
        return -1

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (threads, devices, temporary files)."""
