"""How far neurosim's CA3 membrane is from the SpiNNaker board's, in LSB (2^-15 mV), on both recorded runs of the
DG-CA3-CA1 memory (experiments/data/dg_ca3_ca1), in float64 and in the board's integers (docs/core.md).

    .venv/bin/python tools/board_membrane_lsb.py [--backend numba|reference]
"""

from __future__ import annotations

import argparse

import numpy as np

import neurosim.pynn as sim
from neurosim.experiments import spymem


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numba", choices=["numba", "reference"])
    args = parser.parse_args()
    print("run  arithmetic  max |v - board| (LSB)  (population, ms) spike cells that differ")
    for run in (1, 2):
        for arithmetic in ("float64", "spinnaker"):
            spikes, v, board = spymem.dg_ca3_ca1(sim, run, backend=args.backend, arithmetic=arithmetic)
            lsb = max(np.abs(v[n] - r).max() for n, r in spymem.board_v(board).items()) * 2**15
            bad = spymem.differing(spikes, spymem.board_table(board), board["simTime"])[0]
            print(f"{run:<4} {arithmetic:<11} {lsb:<22.2f} {bad}")


if __name__ == "__main__":
    main()
