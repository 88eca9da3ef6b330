"""The reference tick in SpiNNaker's integer arithmetic (``Simulator(..., arithmetic="spinnaker")``).

Same tick as :mod:`.reference` (input from the ring buffer, the LIF update, threshold and reset, the
synapses' decay, delivery), computed as sPyNNaker 7.x's ``IF_curr_exp`` cores compute it: membrane and
synaptic input in s16.15, decays in u0.32, constants derived on the core from s16.15 parameters,
16-bit weights scaled by a per-(population, receptor) ring-buffer shift chosen from the weights'
statistics, saturating 16-bit ring buffers, and pair STDP on 11-bit traces with lookup tables, updated
when a presynaptic spike arrives, as the board defers it (:mod:`neurosim.fixed_point`; docs/core.md).
Recorded values are the integers / 2^15.
"""

from __future__ import annotations

import numpy as np

from neurosim import _checks as ck
from neurosim import fixed_point as fp
from neurosim.backends.base import Chunk, Engine, External
from neurosim.compiled import CompiledNetwork
from neurosim.network import Network, PoissonSource

SPIKES_PER_SECOND = 30.0  # sPyNNaker's default rate assumption for the ring-buffer shift ([Simulation] in its cfg)
RING_BUFFER_SIGMA = 5.0
HISTORY = 16  # post-spike history entries per neuron, the first a dummy (time 0, trace 0)


def _running(items: list[tuple[float, float, int]]) -> tuple[float, float, int]:
    """(mean, variance, n) of groups given as (mean, variance, n), combined as sPyNNaker's RunningStats does."""
    n_all, mean, m2 = 0, 0.0, 0.0
    for m, var, n in items:
        if n <= 0:
            continue
        new_n = n_all + n
        delta = m - mean
        new_mean = (n_all * mean + n * m) / new_n
        m2 = m2 + var * (n - 1.0) + delta * delta * n_all * n / new_n
        n_all, mean = new_n, new_mean
    return mean, (m2 / (n_all - 1.0) if n_all > 1 else 0.0), n_all


def _poisson_bound(w_mean: float, w_sd: float, rate: float, n: int, dt_ms: float) -> float:
    """sPyNNaker's expected upper bound of a ring-buffer entry: Poisson inputs at ``rate``, ``sigma`` SDs."""
    import math

    from scipy import special

    lam = n * rate * dt_ms / 1000.0
    upper = int(round(lam + 3.0 * math.sqrt(lam)))
    var_w = 0.0
    if w_sd > 0:
        big = math.log(lam) * upper - special.gammaln(1 + upper)
        if -701.0 < big < 701.0 and big != 0.0:
            var_w = math.exp(-lam + math.log(lam) + 2.0 * math.log(w_sd)
                             + math.log(math.exp(lam) * special.gammaincc(1 + upper, lam) - math.exp(big)))
    return lam * w_mean + RING_BUFFER_SIGMA * math.sqrt(lam * w_mean**2 + var_w)


def _pre_rates(network: Network, pre: str, dt_ms: float) -> tuple[float, float]:
    """(spikes per tick, spikes per second) sPyNNaker assumes of a projection's source: a Poisson source's
    rate and its 0.999 quantile per tick (plus one), else 30/s and at least one spike per tick."""
    node = network.node(pre)
    if isinstance(node, PoissonSource) and node.rate_hz > 0:
        from scipy import stats

        lam = node.rate_hz * dt_ms / 1000.0
        per_tick = 1.0 if lam < 0.01 else float(np.ceil(stats.poisson.ppf(1.0 - 1.0 / 1000, lam)) + 1.0)
        return per_tick, node.rate_hz
    return max(1.0, SPIKES_PER_SECOND * dt_ms / 1000.0), SPIKES_PER_SECOND


def ring_buffer_shifts(network: Network, net: CompiledNetwork) -> np.ndarray:
    """(2, n_neurons): the left shift of each neuron's excitatory and inhibitory input, chosen per
    (population, receptor) as sPyNNaker chooses it (docs/core.md)."""
    shifts = np.zeros((2, net.n_neurons), np.int64)
    for pop in network.populations:
        for r, receptor in enumerate(("excitatory", "inhibitory")):
            weights, delays, rates, total, biggest = [], [], [], 0.0, 0.0
            for pr in network.projections:
                if pr.post != pop.name or pr.receptor != receptor:
                    continue
                c = network.connections(pr.name)
                if not c.post.size:
                    continue
                n_conns = int(np.bincount(c.post).max())
                w = np.abs(c.weight_nA)
                w_max = float(w.max()) if pr.plasticity is None else max(float(w.max()), pr.plasticity.w_max_nA)
                per_tick, per_second = _pre_rates(network, pr.pre, net.dt_ms)
                weights.append((float(w.mean()), float(w.var()), n_conns))
                delays.append((0.0, float(np.var(c.delay_steps)), n_conns))
                rates.append((per_second, 0.0, n_conns))
                total += per_tick * w_max * n_conns
                biggest = max(biggest, w_max)
            if not weights:
                continue
            if _running(delays)[1] == 0.0:
                max_w = max(total, biggest)
            else:
                mean, var, n = _running(weights)
                max_w = max(min(_poisson_bound(mean, var**0.5, _running(rates)[0], n, net.dt_ms), total), biggest)
            shifts[r, net.slice(pop.name)] = fp.ring_buffer_shift(max_w)
    return shifts


def _step(value: float, field: str) -> int:
    """A time constant, capacitance or dt in s16.15 bits: at least one step (2^-15), as the board divides by it."""
    bits = fp.s1615(value, field)
    if bits < 1:
        ck.fail(field, value, f">= {2.0 ** -15:g} (one s16.15 step) with arithmetic 'spinnaker'")
    return bits


class SpinnakerEngine(Engine):
    """The reference engine's tick in the board's integers (module docstring)."""

    name = "reference"

    def __init__(self, net: CompiledNetwork, *, network: Network, **kw) -> None:
        super().__init__(net, **kw)
        if self.batch_size != 1:
            ck.fail("batch_size", self.batch_size, "1 with arithmetic 'spinnaker'")
        n, h = net.n_neurons, net.history
        per = {nm: np.concatenate([np.zeros(0)] + [p.params.per_neuron(nm, p.size) for p in network.populations])
               for nm in ("tau_m_ms", "cm_nF", "tau_refrac_ms", "tau_syn_e_ms", "tau_syn_i_ms")}
        dt = _step(net.dt_ms, "Network.dt_ms")
        lif = [fp.lif_constants(_step(a, "LIFParams.tau_m_ms"), _step(b, "LIFParams.cm_nF"),
                                fp.s1615(c, "LIFParams.tau_refrac_ms"), dt)
               for a, b, c in zip(per["tau_m_ms"], per["cm_nF"], per["tau_refrac_ms"], strict=True)]
        self.r, self.exp_tc, self.t_refrac = (np.array(col, np.int64).reshape(n) for col in zip(*lif, strict=True)) \
            if n else (np.zeros(0, np.int64),) * 3
        syn = [[fp.synapse_constants(_step(t, f"LIFParams.{k}"), dt) for t in per[k]]
               for k in ("tau_syn_e_ms", "tau_syn_i_ms")]
        self.decay = np.array([[d for d, _ in s] for s in syn], np.int64).reshape(2, n)
        self.init = np.array([[i for _, i in s] for s in syn], np.int64).reshape(2, n)
        self.v_rest, self.v_reset, self.v_thresh = (fp.s1615_array(a, f"LIFParams.{k}") for a, k in (
            (net.v_rest, "v_rest_mV"), (net.v_reset, "v_reset_mV"), (net.v_thresh, "v_thresh_mV")))
        self.i_offset = fp.s1615_array(net.i_offset, "LIFParams.i_offset_nA")
        self.v = fp.s1615_array(net.v_init, "LIFParams.v_init_mV")
        self.isyn = np.zeros((2, n), np.int64)
        self.refrac = np.zeros(n, np.int64)
        self.buf = np.zeros((2, h, n), np.int64)  # 16-bit ring buffers, saturating at 0xFFFF
        self.shift = ring_buffer_shifts(network, net)
        self.syn_shift = self.shift[net.syn_inh.astype(np.int64), net.syn_post]
        self.w16 = self._quantize(net.syn_w0, self.syn_shift, "Projection.weight_nA")
        self._stdp_setup(net)
        self.n_events = 0

    @staticmethod
    def _quantize(w_nA: np.ndarray, shift: np.ndarray, field: str = "weights") -> np.ndarray:
        """Weights (nA) as the host writes them into synaptic rows: rint(|w| 2^(15 - shift)), 16 bits. One that
        does not fit is refused (kept, its high bits would be lost: 17 nA at shift 5 would read back 1 nA)."""
        w16 = np.rint(np.abs(w_nA) * np.exp2(15 - shift)).astype(np.int64)
        over = np.nonzero(w16 > 0xFFFF)[0]
        if over.size:
            k = over[0]
            ck.fail(field, float(w_nA[k]), f"|w| <= {0xFFFF * 2.0 ** (int(shift[k]) - 15):g} nA with arithmetic "
                    f"'spinnaker': 16 bits at the ring-buffer shift ({int(shift[k])}) chosen from the network's "
                    "weights (raise a weight or w_max in the network to get a larger shift)")
        return w16

    def _stdp_setup(self, net: CompiledNetwork) -> None:
        self.luts = [(fp.stdp_lut(r.tau_plus_ms, net.dt_ms), fp.stdp_lut(r.tau_minus_ms, net.dt_ms)) for r in net.rules]
        self.a_plus = [fp.s1615(r.step_plus()) for r in net.rules]
        self.a_minus = [fp.s1615(r.step_minus()) for r in net.rules]
        self.w_lo = [fp.s1615(r.w_min_nA) for r in net.rules]
        self.w_hi = [fp.s1615(r.w_max_nA) for r in net.rules]
        rule_of_post = np.full(net.n_neurons, -1, np.int64)
        for k in np.nonzero(net.syn_rule >= 0)[0]:
            j, rule = net.syn_post[k], net.syn_rule[k]
            if rule_of_post[j] not in (-1, rule):
                ck.fail("STDP rules onto one neuron", (int(rule_of_post[j]), int(rule)),
                        "one rule per postsynaptic neuron with arithmetic 'spinnaker' (one trace history per neuron)")
            rule_of_post[j] = rule
        self.rule_of_post = rule_of_post
        self.pre_time = np.zeros((len(net.rules), net.n_nodes), np.int64)   # per (rule, pre node): the row header
        self.pre_trace = np.zeros((len(net.rules), net.n_nodes), np.int64)
        self.history: dict[int, list[tuple[int, int]]] = {}                # post neuron -> [(tick, trace)]

    @staticmethod
    def _lut(lut: np.ndarray, dt: int) -> int:
        return int(lut[dt]) if 0 <= dt < lut.size else 0

    # -- one tick ----------------------------------------------------------------------------------------------
    def _tick(self, t: int, ext_nodes: np.ndarray) -> np.ndarray:
        h = self.net.history
        slot = t % h
        for r in (0, 1):
            rb = self.buf[r, slot]
            nz = np.nonzero(rb)[0]
            self.isyn[r, nz] += fp.decay(rb[nz] << self.shift[r, nz], self.init[r, nz])
            self.buf[r, slot] = 0
        free = self.refrac <= 0
        current = self.isyn[0] - self.isyn[1] + self.i_offset
        alpha = fp.mul(current, self.r) + self.v_rest
        self.v = np.where(free, alpha - fp.mul(self.exp_tc, alpha - self.v), self.v)
        self.refrac = np.where(free, self.refrac, self.refrac - 1)
        spiked = np.nonzero(self.v >= self.v_thresh)[0]
        self.v[spiked] = self.v_reset[spiked]
        self.refrac[spiked] = self.t_refrac[spiked]
        for j in spiked[self.rule_of_post[spiked] >= 0]:
            self._post_spike(int(j), t)
        self.isyn = fp.decay(self.isyn, self.decay)
        nodes = np.concatenate([spiked, ext_nodes])
        self._deliver(t, nodes)
        return nodes

    def _post_spike(self, j: int, t: int) -> None:
        lut = self.luts[self.rule_of_post[j]][1]
        hist = self.history.setdefault(j, [(0, 0)])
        last_t, last_tr = hist[-1]
        trace = self._int16(((last_tr * self._lut(lut, t - last_t)) >> 11) + 2048)
        if len(hist) >= HISTORY:
            del hist[0]
        hist.append((t, trace))

    @staticmethod
    def _int16(x: int) -> int:
        return ((x + 0x8000) & 0xFFFF) - 0x8000

    def _deliver(self, t: int, nodes: np.ndarray) -> None:
        net, h = self.net, self.net.history
        starts, stops = net.row_ptr[nodes], net.row_ptr[nodes + 1]
        counts = stops - starts
        k = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        if not k.size:
            return
        plastic = k[net.syn_rule[k] >= 0]
        touched = np.unique(net.syn_pre[plastic] * len(net.rules) + net.syn_rule[plastic]) if plastic.size else []
        old = {(int(x) // len(net.rules), int(x) % len(net.rules)) for x in touched}
        old = {key: (int(self.pre_time[key[1], key[0]]), int(self.pre_trace[key[1], key[0]])) for key in old}
        if self.learning:
            for syn in plastic:  # each synapse's deferred update (the row header's trace is the one before this spike)
                rule = int(net.syn_rule[syn])
                self.w16[syn] = self._plastic_update(int(syn), t, rule, *old[(int(net.syn_pre[syn]), rule)])
        # the ring buffers saturate at 0xFFFF at every add; weights are >= 0, so once full a slot stays full and the
        # saturated sum is min(sum, 0xFFFF) in any order
        idx = (net.syn_inh[k].astype(np.int64), (t + net.syn_delay[k]) % h, net.syn_post[k])
        np.add.at(self.buf, idx, self.w16[k])
        self.buf[idx] = np.minimum(self.buf[idx], 0xFFFF)
        self.n_events += int(k.size)
        for (node, rule), (last_t, last_tr) in old.items():  # the row header's pre trace, after its synapses
            lut = self.luts[rule][0]
            self.pre_time[rule, node] = t
            self.pre_trace[rule, node] = self._int16(((last_tr * self._lut(lut, t - last_t)) >> 11) + 2048)

    def _plastic_update(self, k: int, tp: int, rule: int, last_t: int, last_tr: int) -> int:
        """The weight of plastic synapse ``k`` after the pre spike of tick ``tp``: potentiation by the post spikes
        since the last pre spike, then depression by the latest post spike (docs/core.md, pair STDP)."""
        net = self.net
        j, d, shift = int(net.syn_post[k]), int(net.syn_delay[k]), int(self.syn_shift[k])
        lut_p, lut_m = self.luts[rule]
        w = int(self.w16[k]) << shift
        hist = self.history.get(j, [(0, 0)])
        begin = last_t - d if last_t >= d else 0
        end = tp - d if tp >= d else 0
        window = [(i, e) for i, e in enumerate(hist) if i > 0 and begin < e[0] <= end]
        before = [(i, e) for i, e in enumerate(hist) if e[0] <= begin]
        prev = before[-1] if before else None
        mult = bool(net.rule_mult[rule])
        for _, (tq, _trq) in window:
            dt = tq + d - last_t
            if dt == 0:
                continue
            r = (last_tr * self._lut(lut_p, dt)) >> 11
            if mult:
                w += (((self.w_hi[rule] - w) * self.a_plus[rule]) >> 15) * (r << 4) >> 15
            else:
                w = min(w + ((self.a_plus[rule] * (r << 4)) >> 15), self.w_hi[rule])
        last = window[-1] if window else (prev if prev is not None and prev[0] != 0 else None)
        if last is not None:
            tq, trq = last[1]
            o = (trq * self._lut(lut_m, tp - (tq + d))) >> 11
            if mult:
                w -= (((w - self.w_lo[rule]) * self.a_minus[rule]) >> 15) * (o << 4) >> 15
            else:
                w = max(w - ((self.a_minus[rule] * (o << 4)) >> 15), self.w_lo[rule])
        return (w >> shift) & 0xFFFF

    # -- Engine API ---------------------------------------------------------------------------------------------
    def advance(self, t0: int, n_steps: int, ext: External) -> Chunk:
        bounds = np.searchsorted(ext.tick, np.arange(t0, t0 + n_steps + 1))
        ticks, nodes_out = [], []
        state = np.empty((n_steps, 1, self.traced.size, 3)) if self.traced.size else None
        for i in range(n_steps):
            t = t0 + i
            nodes = self._tick(t, ext.node[bounds[i]:bounds[i + 1]])
            kept = nodes[self.record[nodes]]
            ticks.append(np.full(kept.size, t, np.int64))
            nodes_out.append(kept)
            if state is not None:
                tr = self.traced
                state[i, 0, :, 0] = self.v[tr] / fp.ONE
                state[i, 0, :, 1] = self.isyn[0, tr] / fp.ONE
                state[i, 0, :, 2] = self.isyn[1, tr] / fp.ONE
        tick = np.concatenate(ticks) if ticks else np.zeros(0, np.int64)
        node = np.concatenate(nodes_out) if nodes_out else np.zeros(0, np.int64)
        return Chunk(tick, np.zeros_like(tick), node, state)

    def weights(self) -> np.ndarray:
        """The 16-bit weights in nA: w16 2^shift / 2^15."""
        return (self.w16 * np.exp2(self.syn_shift - 15))[None, :]

    def set_weights(self, syn: np.ndarray, values: np.ndarray, trial: int | None) -> None:
        self.w16[syn] = self._quantize(np.asarray(values, float), self.syn_shift[syn])

    def set_offset(self, neurons: np.ndarray, values: np.ndarray) -> None:
        self.i_offset[neurons] = fp.s1615_array(values, "i_offset_nA")

    def events_delivered(self) -> int:
        return self.n_events
