"""The numba engine before and after a change, side by side: simulation time of ``neurosim bench core``'s
network with static synapses and with STDP, each run in a fresh process, alternating the two source trees.

    git worktree add ../before <commit>
    python -m neurosim.experiments.speed_before_after ../before . > before_after.json

(docs/benchmarks.md, docs/bench_speed_before_after.json: ``<commit>`` = 8102eae, before issue 18.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

RUN = r'''
import sys, time
from neurosim.bench import core_network, _events, _neurons_spikes
from neurosim.simulator import Simulator
n, stdp = int(sys.argv[1]), sys.argv[2] == "1"
sim = Simulator(core_network(n, stdp=stdp), backend="numba", seed=0)
sim.run(0.1)
t0 = time.perf_counter(); sim.run(999.9); dt = time.perf_counter() - t0
_, nodes = _neurons_spikes(sim)
print(dt, _events(sim.compiled, nodes))
'''


def compare(before: str, after: str, sizes=(4000, 16000), repeats: int = 2, log=print) -> list[dict]:
    rows = []
    for n in sizes:
        for stdp in (False, True):
            for label, tree in (("before", before), ("after", after)):
                tree = os.path.abspath(tree)
                best, events = float("inf"), 0
                for _ in range(repeats):
                    out = subprocess.run([sys.executable, "-c", RUN, str(n), "1" if stdp else "0"], cwd=tree,
                                         env={**os.environ, "PYTHONPATH": tree}, capture_output=True, text=True,
                                         check=True).stdout.split()
                    best, events = min(best, float(out[0])), int(out[1])
                rows.append({"n": n, "stdp": stdp, "code": label, "sim_s": best, "events_per_s": events / best})
                kind = "STDP" if stdp else "static"
                log(f"N = {n} {kind} {label}: {best:.3f} s, {events / best / 1e6:.1f} M events/s")
    return rows


if __name__ == "__main__":
    print(json.dumps(compare(sys.argv[1], sys.argv[2], log=lambda *a: print(*a, file=sys.stderr)), indent=1))
