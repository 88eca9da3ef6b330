"""Memory models built on the spiking core (CA3, Sparsey, dendrites, ELM, HLOP, Hopfield).

Every registered memory is built by name: ``available()`` lists them with their engines,
``create(name, n_units=..., sparsity=..., backend=...)`` builds one (:mod:`.registry`).
"""

from neurosim.models.registry import available, create

__all__ = ["available", "create"]
