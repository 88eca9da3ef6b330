"""Export to neuromorphic boards: PyNN / SpiNNaker scripts and NIR graphs."""
