"""Where a SpiNNaker board would compute a network differently: the same network run in float64 and in the
board's integers (``arithmetic="spinnaker"``, :mod:`neurosim.backends.spinnaker_engine`), side by side.

:func:`check_precision` reports
- **weights quantized**: per projection, the synapses whose 16-bit weight differs from the float one, those
  that quantize to 0, the largest error and the resolution (one step of the 16-bit weight at the
  ring-buffer shift sPyNNaker picks for the target population);
- **STDP steps that round to zero**: per plastic projection, the weight change of one pre/post pair at each
  lag, in the board's integers, and the first lag at which it is below one weight step (the board truncates
  the weight to 16 bits at every pre spike, so such a change is lost);
- **spikes that change**: per population, spikes only in the float run and only in the board's;
- **weights after the run** of the plastic projections: the largest difference.

``neurosim export NAME --to spinnaker --check-precision`` prints :meth:`PrecisionReport.table`; docs/hardware.md
explains how to read it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from neurosim import Simulator
from neurosim import fixed_point as fp
from neurosim.network import Network, SpikeMonitor, SpikeSourceArray


@dataclass
class PrecisionReport:
    """What :func:`check_precision` found (module docstring); ``rows`` of each part are dicts."""

    duration_ms: float
    weights: list[dict] = field(default_factory=list)
    stdp: list[dict] = field(default_factory=list)
    spikes: list[dict] = field(default_factory=list)
    learned: list[dict] = field(default_factory=list)

    @property
    def spikes_changed(self) -> int:
        return sum(r["only float"] + r["only board"] for r in self.spikes)

    def table(self) -> str:
        lines = [f"precision on a SpiNNaker board (sPyNNaker 7.x integers) against float64, {self.duration_ms:g} ms"]

        def block(title: str, rows: list[dict]) -> None:
            if not rows:
                return
            cols = list(rows[0])
            width = [max(len(c), *(len(_fmt(r[c])) for r in rows)) for c in cols]
            lines.extend(["", title, "  ".join(c.ljust(w) for c, w in zip(cols, width, strict=True)),
                          "  ".join("-" * w for w in width)])
            lines.extend("  ".join(_fmt(r[c]).ljust(w) for c, w in zip(cols, width, strict=True)) for r in rows)

        block("weights quantized to 16 bits", self.weights)
        block("STDP: one pair's weight change in the board's integers", self.stdp)
        block("spikes", self.spikes)
        block("plastic weights after the run", self.learned)
        lines.append("")
        lines.append(f"{self.spikes_changed} spikes differ" if self.spikes_changed else
                     "the board's spikes equal the float run's")
        return "\n".join(lines)


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _with_inputs(network: Network, spike_inputs: Mapping[str, Sequence[Sequence[float]]] | None) -> Network:
    """The network with ``spike_inputs`` merged into its sources and a spike monitor on every population."""
    from neurosim.hardware.pynn_translate import _merged_inputs

    sources = network.sources
    if spike_inputs:
        merged = _merged_inputs(network, spike_inputs)
        sources = tuple(SpikeSourceArray(s.name, tuple(merged[s.name])) if s.name in merged else s
                        for s in network.sources)
    watched = {m.target for m in network.monitors if isinstance(m, SpikeMonitor)}
    monitors = (*network.monitors, *(SpikeMonitor(p.name) for p in network.populations if p.name not in watched))
    return dataclasses.replace(network, sources=sources, monitors=monitors)


def _stdp_rows(network: Network, engine) -> list[dict]:
    rows = []
    for pr in network.projections:
        rule = pr.plasticity
        if rule is None:
            continue
        shift = int(engine.syn_shift[engine.net.proj_syn[pr.name][0]]) if engine.net.proj_syn[pr.name].size else 0
        r = engine.net.rules.index(rule)
        lut_p, lut_m = engine.luts[r]
        step = 1 << shift  # one step of the 16-bit weight, in s16.15 bits
        if rule.multiplicative:
            half = fp.s1615(0.5 * (rule.w_max_nA + rule.w_min_nA))  # at mid-range
            plus = [((((engine.w_hi[r] - half) * engine.a_plus[r]) >> 15) * (int(x) << 4)) >> 15 for x in lut_p]
            minus = [((((half - engine.w_lo[r]) * engine.a_minus[r]) >> 15) * (int(x) << 4)) >> 15 for x in lut_m]
        else:
            plus = [(engine.a_plus[r] * (int(x) << 4)) >> 15 for x in lut_p]
            minus = [(engine.a_minus[r] * (int(x) << 4)) >> 15 for x in lut_m]
        lost_p = next((i for i, s in enumerate(plus) if i and s < step), len(plus))
        lost_m = next((i for i, s in enumerate(minus) if i and s < step), len(minus))
        rows.append({"projection": pr.name, "resolution nA": step / fp.ONE,
                     "A+ step at lag 1 nA": plus[1] / fp.ONE if len(plus) > 1 else 0.0,
                     "A+ lost from lag (ticks)": lost_p,
                     "A- step at lag 1 nA": minus[1] / fp.ONE if len(minus) > 1 else 0.0,
                     "A- lost from lag (ticks)": lost_m})
    return rows


def check_precision(network: Network, duration_ms: float, *,
                    spike_inputs: Mapping[str, Sequence[Sequence[float]]] | None = None) -> PrecisionReport:
    """Run ``network`` (with ``spike_inputs`` merged into its sources) for ``duration_ms`` in float64 and in the
    board's integers, both on the reference engine, and report where they part (module docstring)."""
    net = _with_inputs(network, spike_inputs)
    runs = {a: Simulator(net, "reference", arithmetic=a) for a in ("float64", "spinnaker")}
    board = runs["spinnaker"].engine
    report = PrecisionReport(float(duration_ms))
    for pr in net.projections:
        ids = board.net.proj_syn[pr.name]
        w = board.net.syn_w0[ids]
        q = board.weights()[0, ids]
        shift = board.syn_shift[ids]
        report.weights.append({"projection": pr.name, "synapses": int(ids.size),
                               "changed": int(np.count_nonzero(q != w)),
                               "lost (to 0)": int(np.count_nonzero((q == 0) & (w != 0))),
                               "max error nA": float(np.abs(q - w).max(initial=0.0)),
                               "resolution nA": float(np.exp2(shift.max(initial=0) - 15))})
    report.stdp = _stdp_rows(net, board)
    for sim in runs.values():
        sim.run(duration_ms)
    for pop in net.populations:
        sets = {}
        for a, sim in runs.items():
            t, i = sim.spikes(pop.name)
            sets[a] = set(zip(np.round(t, 9).tolist(), i.tolist(), strict=True))
        report.spikes.append({"population": pop.name, "float spikes": len(sets["float64"]),
                              "board spikes": len(sets["spinnaker"]),
                              "only float": len(sets["float64"] - sets["spinnaker"]),
                              "only board": len(sets["spinnaker"] - sets["float64"])})
    for pr in net.projections:
        if pr.plasticity is None:
            continue
        a, b = runs["float64"].weights(pr.name), runs["spinnaker"].weights(pr.name)
        report.learned.append({"projection": pr.name, "max |w float - w board| nA": float(np.abs(a - b).max(initial=0)),
                               "synapses that differ": int(np.count_nonzero(a != b))})
    return report
