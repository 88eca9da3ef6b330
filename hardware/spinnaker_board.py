"""SpiNNaker's constraints on an exported network (:func:`check_board`, :func:`weight_scales`) and its
mapping through sPyNNaker on a virtual SpiNN-5 board (:func:`map_on_virtual_board`)."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neurosim import _checks as ck
from neurosim.hardware.pynn_script import export_script
from neurosim.hardware.pynn_translate import SpikeInputs
from neurosim.network import Network, PoissonSource, Population, SpikeSourceArray
from neurosim.plasticity import STDP
from neurosim.pynn_conventions import WEIGHT_DEPENDENCE

# SpiNNaker (sPyNNaker 7.x) constraints checked by check_board.
SPINNAKER_DT_MS = (1.0, 0.1)
MAX_DELAY_STEPS = 144           # the portable range with delay extensions: 1 .. 144 steps
SPINN5_CHIPS = 48
SPINN5_APP_CORES = 48 * 16       # 18 cores a chip, less the monitor and one spare (approximate)
SPINNAKER_NEURONS_PER_CORE = 256


# -- SpiNNaker constraints -------------------------------------------------------------------------------
def check_board(network: Network, *, neurons_per_core: int = SPINNAKER_NEURONS_PER_CORE,
                n_cores: int = SPINN5_APP_CORES, dt_ms: Sequence[float] = SPINNAKER_DT_MS,
                max_delay_steps: int = MAX_DELAY_STEPS) -> list[str]:
    """Check ``network`` against SpiNNaker's constraints; raise ValueError naming the field, or
    return (and ``warnings.warn``) the precision warnings.

    Checked: neuron, source and plasticity types; ``dt_ms`` in ``dt_ms`` (1.0 or 0.1 ms);
    delays in 1 .. ``max_delay_steps`` steps; cores needed (one core per ``neurons_per_core``
    neurons of each population or source, at least one each) <= ``n_cores``; 16-bit weights.

    Weight precision: sPyNNaker stores a weight as a 16-bit integer ``round(w s)`` with
    ``s = 2^(15 - k)`` per post population and receptor, where ``2^k`` exceeds the largest
    summed input it expects in one ring-buffer slot. sPyNNaker estimates that sum from
    rates; this check takes the worst case (every incoming synapse of a post neuron at
    once, plastic ones at ``w_max``), so ``k`` is at least sPyNNaker's and the warnings are
    conservative. Weights, STDP ``w_min``/``w_max`` and additive steps that are not
    multiples of ``1/s`` (relative error > 1e-6) are reported.
    """
    ck.count("neurons_per_core", neurons_per_core)
    ck.count("n_cores", n_cores)
    if not isinstance(network, Network):
        ck.fail("network", type(network).__name__, "a neurosim.Network")
    if not any(math.isclose(network.dt_ms, d, rel_tol=1e-9) for d in dt_ms):
        ck.fail("Network.dt_ms", network.dt_ms, f"one of {tuple(dt_ms)} ms on SpiNNaker")
    for p in network.populations:
        if not isinstance(p, Population):
            ck.fail(f"Network.populations[{getattr(p, 'name', '?')}]", type(p).__name__,
                    "Population (IF_curr_exp), the only neuron type exported")
    for s in network.sources:
        if not isinstance(s, (SpikeSourceArray, PoissonSource)):
            ck.fail(f"Network.sources[{getattr(s, 'name', '?')}]", type(s).__name__,
                    "SpikeSourceArray or PoissonSource")
    for pr in network.projections:
        rule = pr.plasticity
        if rule is not None and (not isinstance(rule, STDP) or rule.weight_dependence not in WEIGHT_DEPENDENCE):
            ck.fail(f"Projection[{pr.name}].plasticity", rule.weight_dependence if isinstance(rule, STDP) else rule,
                    "None or pair STDP with additive or multiplicative weight dependence")
        if rule is not None and pr.receptor == "inhibitory":
            ck.fail(f"Projection[{pr.name}].plasticity", "STDP on an inhibitory projection",
                    "STDP on excitatory projections only")
        d = network.connections(pr.name).delay_steps
        if d.size and (d.min() < 1 or d.max() > max_delay_steps):
            bad = int(d.max()) if d.max() > max_delay_steps else int(d.min())
            ck.fail(f"Projection[{pr.name}].delay_steps", bad, f"1 .. {max_delay_steps} steps on SpiNNaker")
    needed = sum(max(1, math.ceil(n.size / neurons_per_core)) for n in (*network.populations, *network.sources))
    if needed > n_cores:
        ck.fail("neurons_per_core", neurons_per_core,
                f"a value that fits the network ({needed} cores needed) on {n_cores} cores")
    out = []
    if neurons_per_core > SPINNAKER_NEURONS_PER_CORE:
        out.append(f"neurons_per_core {neurons_per_core} > {SPINNAKER_NEURONS_PER_CORE}, "
                   "sPyNNaker's default for IF_curr_exp (it may not fit a core's time or memory)")
    out += _precision_warnings(network)
    for w in out:
        warnings.warn(w, stacklevel=2)
    return out


def weight_scales(network: Network) -> dict[tuple[str, str], float]:
    """{(post population, receptor): s}: a weight w is stored as rint(w s) in 16 bits, s = 2^(15 - shift) with the
    ring-buffer shift sPyNNaker picks (:func:`neurosim.backends.spinnaker_engine.ring_buffer_shifts`)."""
    from neurosim.backends.spinnaker_engine import ring_buffer_shifts
    from neurosim.compiled import compile_network

    net = compile_network(network)
    shifts = ring_buffer_shifts(network, net)
    out = {}
    for pr in network.projections:
        r = 1 if pr.receptor == "inhibitory" else 0
        out[(pr.post, pr.receptor)] = 2.0 ** (15 - int(shifts[r, net.slice(pr.post)][0]))
    return out


def _precision_warnings(network: Network) -> list[str]:
    scales = weight_scales(network)
    out = []
    for pr in network.projections:
        s = scales[(pr.post, pr.receptor)]
        values = {"weight_nA": network.connections(pr.name).weight_nA}
        rule = pr.plasticity
        if rule is not None:
            step = (1.0 if rule.multiplicative else rule.w_max_nA)
            values |= {"w_min_nA": np.array([rule.w_min_nA]), "w_max_nA": np.array([rule.w_max_nA])}
            if not rule.multiplicative:
                values |= {"A_plus step": np.array([rule.A_plus * step]),
                           "A_minus step": np.array([rule.A_minus * step])}
        for nm, v in values.items():
            if not v.size:
                continue
            q = np.round(v * s) / s
            err = np.abs(q - v)
            bad = err > 1e-6 * np.maximum(np.abs(v), 1e-12)
            if np.any(bad):
                i = int(np.argmax(err))
                out.append(f"Projection[{pr.name}].{nm}: {int(bad.sum())} value(s) lose precision in 16-bit "
                           f"fixed point (resolution {1 / s:g} nA on {pr.post}/{pr.receptor}): "
                           f"{v[i]:g} nA -> {q[i]:g} nA")
    return out


# -- the virtual SpiNN-5 board ---------------------------------------------------------------------------
SPYNNAKER_CFG = """\
[Machine]
virtual_board = True
version = 5

[Mode]
mode = Production
"""


def map_on_virtual_board(network: Network, *, spike_inputs: SpikeInputs | None = None, duration_ms: float,
                         record: Sequence[str] | None = None, workdir: str | Path | None = None,
                         timeout_s: float = 300.0, check: bool = True) -> dict[str, Any]:
    """Export ``network`` for SpiNNaker and run the script through sPyNNaker on a virtual SpiNN-5
    board, in a subprocess whose HOME and working directory are a temporary folder holding
    ``.spynnaker.cfg`` (virtual_board = True, version = 5). sPyNNaker partitions, places, routes
    and generates the data; nothing runs (there is no board).

    Returns ``{"chips", "cores", "chips_used", "placements", "system_cores", "machine_chips",
    "seconds", "script"}``: ``chips``/``cores`` count the chips and cores holding the network's
    own vertices (populations, sources, delay extensions), ``system_cores`` the monitors sPyNNaker adds.
    """
    warns = check_board(network) if check else []
    tmp = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="neurosim_spinn_"))
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / ".spynnaker.cfg").write_text(SPYNNAKER_CFG)
    script = export_script(network, tmp / "model_spinnaker.py", spike_inputs=spike_inputs, duration_ms=duration_ms,
                           record=record, target="spinnaker")
    env = dict(os.environ, HOME=str(tmp))
    env.pop("PYTHONPATH", None)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, script.name, "--simulator", "spiNNaker",
                           "--mapping-report", "mapping.json"], cwd=tmp, env=env, capture_output=True,
                          text=True, timeout=timeout_s, check=False)
    seconds = time.perf_counter() - t0
    log = proc.stdout + proc.stderr
    if proc.returncode != 0 or not (tmp / "mapping.json").exists():
        raise RuntimeError(f"sPyNNaker failed on the virtual board (exit {proc.returncode}):\n{log[-4000:]}")
    report = json.loads((tmp / "mapping.json").read_text())
    labels = {p.name for p in (*network.populations, *network.sources)}
    own, system = [], []
    for x, y, p, label, kind in report["placements"]:
        base = re.sub(r"\(\d+:\d+\)$", "", str(label)).removesuffix("_delayed")
        (own if base in labels or kind.startswith("DelayExtension") else system).append((x, y, p, label, kind))
    chips = sorted({(x, y) for x, y, *_ in own})
    return {"chips": len(chips), "cores": len(own), "chips_used": chips, "placements": own,
            "system_cores": len(system), "machine_chips": report["machine_chips"], "seconds": seconds,
            "script": script, "warnings": warns, "log_tail": log[-2000:]}

