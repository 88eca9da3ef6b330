"""neurosim: a simulator of bio-inspired memories.

The spiking core: describe a :class:`Network`, run it with a :class:`Simulator`
on any backend (``reference``, ``numba``, ``torch``, ``brian2``), save results
with :mod:`neurosim.io`.
"""

from neurosim.connectors import (
    AllToAll,
    FixedNumberPre,
    FixedProbability,
    FixedTotalNumber,
    FromList,
    Normal,
    OneToOne,
    Uniform,
)
from neurosim.network import (
    LIFParams,
    Network,
    PoissonSource,
    Population,
    Projection,
    SpikeMonitor,
    SpikeSourceArray,
    StateMonitor,
    WeightMonitor,
)
from neurosim.plasticity import STDP
from neurosim.simulator import Simulator

__version__ = "0.1.0"

__all__ = [
    "STDP", "AllToAll", "FixedNumberPre", "FixedProbability", "FixedTotalNumber", "FromList", "LIFParams", "Network",
    "Normal", "OneToOne", "PoissonSource", "Population", "Projection", "Simulator", "SpikeMonitor",
    "SpikeSourceArray", "StateMonitor", "Uniform", "WeightMonitor", "__version__",
]
