"""The numpy reference engine: readable, vectorised per tick, the ground truth.

It implements the tick of :mod:`neurosim.simulator` step by step; other engines
must reproduce its spikes exactly in float64.
"""

from __future__ import annotations

import numpy as np

from neurosim.backends.base import NEVER, Chunk, Engine, External
from neurosim.compiled import CompiledNetwork


class ReferenceEngine(Engine):
    name = "reference"

    def __init__(self, net: CompiledNetwork, **kw) -> None:
        super().__init__(net, **kw)
        if self.batch_size != 1:
            raise ValueError(f"batch_size = {self.batch_size} is not allowed: 1 on backend 'reference'")
        if self.dtype != "float64":
            raise ValueError(f"dtype = {self.dtype!r} is not allowed: 'float64' on backend 'reference'")
        n, h, r = net.n_neurons, net.history, len(net.rules)
        self.v = net.v_init.copy()
        self.i_e = np.zeros(n)
        self.i_i = np.zeros(n)
        self.refrac = np.zeros(n, np.int64)
        self.buf = np.zeros((2, h, n))                       # [exc/inh, slot, neuron]
        self.w = net.syn_w0.copy()
        self.pre_r = np.zeros((r, net.n_nodes))              # pre trace at the last pre spike
        self.pre_t = np.full(net.n_nodes, NEVER, np.int64)   # tick of the last pre spike
        self.post_step = np.full((n, h), NEVER, np.int64)    # last h spikes of each neuron
        self.post_o = np.zeros((r, n, h))                    # post trace right after each
        self.post_pos = np.zeros(n, np.int64)                # ring index of the newest
        self.fired = np.zeros((h, n), bool)                  # who spiked at tick s (slot s % h)
        self.plastic = np.nonzero(net.syn_rule >= 0)[0]
        self.n_events = 0
        self.i_offset = net.i_offset.copy()  # this simulation's own (set_offset); the compiled network is shared

    # -- one tick ----------------------------------------------------------------
    def _tick(self, t: int, ext_nodes: np.ndarray) -> np.ndarray:
        net, h = self.net, self.net.history
        slot = t % h
        self.i_e += net.init_e * self.buf[0, slot]
        self.i_i += net.init_i * self.buf[1, slot]
        self.buf[:, slot] = 0.0

        free = self.refrac == 0
        alpha = (self.i_e - self.i_i + self.i_offset) * net.r_mohm + net.v_rest
        self.v = np.where(free, alpha - net.decay_m * (alpha - self.v), self.v)
        self.refrac = np.where(free, self.refrac, self.refrac - 1)
        spiked = np.nonzero(self.v >= net.v_thresh)[0]
        self.v[spiked] = net.v_reset[spiked]
        self.refrac[spiked] = net.refrac_steps[spiked]
        self.i_e *= net.decay_e
        self.i_i *= net.decay_i

        nodes = np.concatenate([spiked, ext_nodes])  # ascending: neurons, then sources
        if self.plastic.size:
            if self.learning:
                self._potentiate_arrivals(t)
            self._push_post(t, spiked)
        self.fired[slot] = False
        self.fired[slot, spiked] = True
        self._deliver(t, nodes)
        return nodes

    def _potentiate_arrivals(self, t: int) -> None:
        net, h = self.net, self.net.history
        k = self.plastic
        d = net.syn_delay[k]
        arrived = self.fired[(t - d) % h, net.syn_post[k]]
        k = k[arrived]
        if not k.size:
            return
        rule, pre = net.syn_rule[k], net.syn_pre[k]
        lag = np.minimum(t - self.pre_t[pre], net.tab_plus.shape[1] - 1)
        x = self.pre_r[rule, pre] * net.tab_plus[rule, lag]
        w, w_max = self.w[k], net.rule_w_max[rule]
        mult = net.rule_mult[rule] == 1
        step = np.where(mult, net.rule_a_plus[rule] * (w_max - w) * x, net.rule_a_plus[rule] * x)
        self.w[k] = np.minimum(w + step, w_max)

    def _push_post(self, t: int, spiked: np.ndarray) -> None:
        net, h = self.net, self.net.history
        if not spiked.size:
            return
        newest = self.post_pos[spiked]
        lag = np.minimum(t - self.post_step[spiked, newest], net.tab_minus.shape[1] - 1)
        o = self.post_o[:, spiked, newest] * net.tab_minus[:, lag] + 1.0
        nxt = (newest + 1) % h
        self.post_pos[spiked] = nxt
        self.post_step[spiked, nxt] = t
        self.post_o[:, spiked, nxt] = o

    def _deliver(self, t: int, nodes: np.ndarray) -> None:
        net, h = self.net, self.net.history
        starts, stops = net.row_ptr[nodes], net.row_ptr[nodes + 1]
        counts = stops - starts
        k = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        if k.size:
            plastic = k[net.syn_rule[k] >= 0]
            if plastic.size and self.learning:
                self._depress(t, plastic)
            d, post, inh = net.syn_delay[k], net.syn_post[k], net.syn_inh[k]
            np.add.at(self.buf, (inh, (t + d) % h, post), self.w[k])  # in canonical order
            self.n_events += int(k.size)
        # pre traces of every spiking node, every rule
        if len(net.rules) and nodes.size:
            lag = np.minimum(t - self.pre_t[nodes], net.tab_plus.shape[1] - 1)
            self.pre_r[:, nodes] = self.pre_r[:, nodes] * net.tab_plus[:, lag] + 1.0
            self.pre_t[nodes] = t

    def _depress(self, t: int, k: np.ndarray) -> None:
        net = self.net
        rule, post, d = net.syn_rule[k], net.syn_post[k], net.syn_delay[k]
        steps = self.post_step[post]                              # (K, h)
        valid = steps <= (t - d)[:, None]  # at most d of the h entries are later, so one is valid
        idx = np.argmax(np.where(valid, steps, NEVER - 1), axis=1)
        s = steps[np.arange(k.size), idx]
        lag = np.minimum(t - d - s, net.tab_minus.shape[1] - 1)  # never-spiked entries give lag -> 0
        y = self.post_o[rule, post, idx] * net.tab_minus[rule, lag]
        w, w_min = self.w[k], net.rule_w_min[rule]
        mult = net.rule_mult[rule] == 1
        step = np.where(mult, net.rule_a_minus[rule] * (w - w_min) * y, net.rule_a_minus[rule] * y)
        self.w[k] = np.maximum(w - step, w_min)

    # -- Engine API -----------------------------------------------------------------
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
                state[i, 0, :, 0] = self.v[tr]
                state[i, 0, :, 1] = self.i_e[tr]
                state[i, 0, :, 2] = self.i_i[tr]
        tick = np.concatenate(ticks) if ticks else np.zeros(0, np.int64)
        node = np.concatenate(nodes_out) if nodes_out else np.zeros(0, np.int64)
        return Chunk(tick, np.zeros_like(tick), node, state)

    def weights(self) -> np.ndarray:
        return self.w[None, :].copy()

    def set_weights(self, syn: np.ndarray, values: np.ndarray, trial: int | None) -> None:
        self.w[syn] = values

    def set_offset(self, neurons: np.ndarray, values: np.ndarray) -> None:
        self.i_offset[neurons] = values

    def events_delivered(self) -> int:
        return self.n_events
