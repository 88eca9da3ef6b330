"""Memory models built on the spiking core (CA3, Sparsey, dendrites, ELM, HLOP, Hopfield)."""
