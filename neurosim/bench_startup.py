"""``neurosim bench startup``: how long a new process takes to simulate something small.

Each line runs in a fresh Python process (wall time from start to exit, as a user
waiting at a prompt sees it): importing neurosim, the README's 3-neuron example on
numba, and ``neurosim info``. The first example run after a change to the kernels
(or after installing) compiles them into numba's on-disk cache; the following runs
load them from it. Reported: the first run, then the median and the fastest of the
others.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

# the README's first example, numba only, no file written
EXAMPLE = """
from neurosim import LIFParams, Network, OneToOne, Population, Projection, Simulator, SpikeMonitor, SpikeSourceArray
cell = LIFParams(tau_m_ms=3.0, cm_nF=0.27, v_rest_mV=-60.0, v_reset_mV=-60.0, v_thresh_mV=-57.0,
                 v_init_mV=-60.0, tau_refrac_ms=1.0, tau_syn_e_ms=0.3, tau_syn_i_ms=0.3)
net = Network(dt_ms=1.0, populations=(Population("cells", 3, cell),),
              sources=(SpikeSourceArray("input", ([2.0], [5.0, 9.0], [])),),
              projections=(Projection("drive", "input", "cells", OneToOne(), weight_nA=6.0, delay_steps=2),),
              monitors=(SpikeMonitor("cells"),))
sim = Simulator(net, backend="numba", seed=0)
sim.run(20.0)
assert sim.spikes("cells")[0].tolist() == [4.0, 7.0, 11.0]
"""

COMMANDS = {
    "import neurosim": [sys.executable, "-c", "import neurosim"],
    "README example (numba, 3 neurons)": [sys.executable, "-c", EXAMPLE],
    "neurosim info": [sys.executable, "-m", "neurosim", "info"],
}


def _wall(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0


def bench(repeats: int = 5, log=print) -> list[dict]:
    rows = []
    for name, cmd in COMMANDS.items():
        first = _wall(cmd)
        rest = [_wall(cmd) for _ in range(repeats)]
        rows.append({"what": name, "first_s": first, "median_s": statistics.median(rest), "best_s": min(rest)})
        log(f"{name}: first {first:.2f} s, then median {rows[-1]['median_s']:.2f} s, best {rows[-1]['best_s']:.2f} s")
    return rows


def format_table(rows: list[dict]) -> str:
    lines = [f"{'what':<36} {'first s':>8} {'median s':>9} {'best s':>7}"]
    lines += [f"{r['what']:<36} {r['first_s']:>8.2f} {r['median_s']:>9.2f} {r['best_s']:>7.2f}" for r in rows]
    return "\n".join(lines)
