"""The torch engine: CPU or CUDA, float64 or float32, batches of independent trials.

It implements the tick of :mod:`neurosim.simulator` in the order of
:mod:`neurosim.backends.reference` (input from ring-buffer slot ``t % H``, membrane
update unless refractory, threshold and reset, current decay; then STDP
potentiation of the synapses that a post spike of tick ``t - d`` reaches now, the
post-trace push of the neurons that spiked, and for every spiking node depression,
delivery into slot ``(t + d) % H`` and the pre-trace update), with the same
expressions in the same order.

Batches: every state tensor carries a leading trial dimension ``B`` (membrane,
currents, refractory counters, ring buffers ``(2, H, B, N)``, weights ``(B, S)``,
pre and post traces), so each trial receives its own external spikes
(``External.trial``) and learns its own weights.

Event-driven per tick: the (trial, node) pairs that spiked (``torch.nonzero`` plus
this tick's external events) are expanded into their CSR synapse ranges
(``row_ptr``; a cumulative count of range starts gives each element its range)
and their weights are ``index_add_``-ed into a flat view of the ring buffers;
STDP arrivals expand the neurons that spiked ``d`` ticks ago through the
(post, delay)-grouped plastic synapses (``in_ptr``/``in_syn``). Python loops only
run over ticks and delays. Recorded spikes and traced states stay on the device
until the end of a chunk (the per-tick host syncs left are the ``nonzero`` and the
event count of the range expansion).

Exactness: on the CPU in float64, ``index_add_`` accumulates serially in index
order and events are delivered in canonical order (per trial: neurons ascending,
then source nodes, each in CSR order), so spikes, states and weights equal the
reference engine's bit for bit. On CUDA the float atomics add in no fixed order.

float32 (``dtype="float32"``) differs from float64 by rounding only. Measured on
the CPU against float64: a 40-neuron feed-forward network (120 ms) and the
small STDP networks give identical spikes (weights within 2e-6 nA); Poisson-driven
recurrent E/I networks (250-1000 neurons) give identical spikes until rounding
first flips a threshold crossing (after 135 ms to > 1.4 s, or never in 300 ms
for most seeds); from there the recurrent dynamics decorrelate individual spikes,
but total spike counts stay within 1.1 % (1 s, 1000 neurons) and first spike times
are equal. The tests allow 3 % on spike counts and require equal first spike times.
"""

from __future__ import annotations

import numpy as np
import torch

from neurosim.backends.base import NEVER, Chunk, Engine, External
from neurosim.backends.devices import DTYPES as _DTYPES
from neurosim.backends.devices import torch_device
from neurosim.compiled import CompiledNetwork

_TABLE_LIMIT = 1 << 23  # precompute per-slot delivery targets (H x S int64) up to this many entries


def _g(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    return torch.index_select(x, 0, idx)


class TorchEngine(Engine):
    name = "torch"
    supports_batch = True

    def __init__(self, net: CompiledNetwork, **kw) -> None:
        super().__init__(net, **kw)
        if self.dtype not in _DTYPES:
            raise ValueError(f"dtype = {self.dtype!r} is not allowed: 'float64' or 'float32'")
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, (int, np.integer)) \
                or self.batch_size < 1:
            raise ValueError(f"batch_size = {self.batch_size!r} is not allowed: an integer >= 1")
        self.dev = torch_device(self.device)
        self.fdt = fdt = _DTYPES[self.dtype]
        dev = self.dev
        B, N, S, H = int(self.batch_size), net.n_neurons, net.n_synapses, net.history
        self.B, self.N, self.S, self.H, self.D = B, N, S, H, net.max_delay
        self.n_nodes = net.n_nodes
        self.n_rules = R = len(net.rules)

        def f(a):
            return torch.as_tensor(np.asarray(a, np.float64), dtype=fdt, device=dev)

        def i64(a):
            return torch.as_tensor(np.asarray(a, np.int64), dtype=torch.int64, device=dev)

        # neuron parameters, (N,) broadcasting over trials
        # i_offset: this simulation's own copy (set_offset); as_tensor would share the cached compiled network's
        self.i_offset, self.r_mohm, self.v_rest = f(net.i_offset).clone(), f(net.r_mohm), f(net.v_rest)
        self.decay_m, self.v_thresh, self.v_reset = f(net.decay_m), f(net.v_thresh), f(net.v_reset)
        self.init2 = f(np.stack([net.init_e, net.init_i]))[:, None, :]      # (2, 1, N)
        self.decay2 = f(np.stack([net.decay_e, net.decay_i]))[:, None, :]   # (2, 1, N)
        self.refrac_steps1 = i64(net.refrac_steps + 1)
        # state: x[0] = v, x[1] = i_e, x[2] = i_i, each (B, N)
        self.x = torch.zeros((3, B, N), dtype=fdt, device=dev)
        self.x[0] = f(net.v_init)
        self.v, self.i_e, self.i_i, self.cur = self.x[0], self.x[1], self.x[2], self.x[1:]
        # refractory: a neuron that spiked at tick s with counter c = refrac_steps (reference
        # engine) is frozen during ticks s+1 .. s+c and free from tick ready = s + c + 1 on
        self.ready = torch.zeros((B, N), dtype=torch.int64, device=dev)
        self.buf = torch.zeros((2, H, B, N), dtype=fdt, device=dev)       # [exc/inh, slot, trial, neuron]
        self.buf_flat = self.buf.view(-1)
        self.buf_slot = [self.buf[:, s] for s in range(H)]
        self.w = f(net.syn_w0).repeat(B, 1).contiguous()                  # (B, S)
        self.w_flat = self.w.view(-1)
        # synapses
        self.row_ptr = i64(net.row_ptr)
        self.out_deg = i64(np.diff(net.row_ptr))
        self.syn_post = i64(net.syn_post)
        self.syn_delay = i64(net.syn_delay)
        base = net.syn_inh.astype(np.int64) * (H * B * N) + net.syn_post
        if H * S <= _TABLE_LIMIT:   # target offset in buf for a spike at a tick with t % H == slot
            slots = (np.arange(H)[:, None] + net.syn_delay[None, :]) % H
            self.tgt_tab = list(i64(base[None, :] + slots * (B * N)).unbind(0))
            self.tgt_base = None
        else:
            self.tgt_tab = None
            self.tgt_base = i64(base)
        self._arange = torch.arange(max(B * S, 1024), dtype=torch.int64, device=dev)
        self._ones = torch.ones(max(B * S, 1024), dtype=torch.int64, device=dev)
        # plasticity
        self.plastic = bool(R) and bool(np.any(net.syn_rule >= 0))
        if R:
            self.L = net.tab_plus.shape[1]
            self.tab_plus = f(net.tab_plus)                               # (R, L)
            self.tab_minus = f(net.tab_minus)
            self.tab_plus_flat, self.tab_minus_flat = self.tab_plus.view(-1), self.tab_minus.view(-1)
            self.tab_plus0, self.tab_minus0 = self.tab_plus[0], self.tab_minus[0]
            self.pre_r = torch.zeros((R, B * self.n_nodes), dtype=fdt, device=dev)   # (R, B, n_nodes)
            self.pre_r_flat, self.pre_r0 = self.pre_r.view(-1), self.pre_r[0]
            self.pre_t = torch.full((B * self.n_nodes,), NEVER, dtype=torch.int64, device=dev)
        if self.plastic:
            rule = np.maximum(net.syn_rule, 0)
            self.syn_is_plastic = torch.as_tensor(net.syn_rule >= 0, device=dev)
            self.syn_rule = i64(rule)
            self.syn_pre = i64(net.syn_pre)
            self.syn_a_plus = f(net.rule_a_plus[rule])
            self.syn_a_minus = f(net.rule_a_minus[rule])
            self.syn_w_min = f(net.rule_w_min[rule])
            self.syn_w_max = f(net.rule_w_max[rule])
            used = np.unique(net.syn_rule[net.syn_rule >= 0])
            mult = net.rule_mult[used]
            self.mult_mode = "mult" if mult.all() else ("add" if not mult.any() else "mixed")
            self.syn_mult = torch.as_tensor(net.rule_mult[rule] == 1, device=dev)
            self.one_rule = R == 1
            self.in_ptr = i64(net.in_ptr)
            self.in_syn = i64(net.in_syn)
            self.post_step = torch.full((B * N * H,), NEVER, dtype=torch.int64, device=dev)  # (B, N, H)
            self.post_o = torch.zeros((R, B * N * H), dtype=fdt, device=dev)                # (R, B, N, H)
            self.post_pos = torch.zeros(B * N, dtype=torch.int64, device=dev)
            self.post_step_2d = self.post_step.view(B * N, H)
            self.post_o_flat, self.post_o0 = self.post_o.view(-1), self.post_o[0]
            # neurons that spiked at tick s, slot s % H: (trial or None, neuron) or None
            self.hist: list[tuple[torch.Tensor | None, torch.Tensor] | None] = [None] * H
        self.record_dev = torch.as_tensor(np.asarray(self.record, bool), device=dev)
        self.record_np = np.asarray(self.record, bool)
        self.traced_dev = i64(self.traced)
        self.n_events = 0

    # -- helpers ---------------------------------------------------------------------
    # Gathers and scatters use index_select / index_copy_ / index_add_: on the CPU they
    # stay serial on small index sets, where advanced indexing (x[i], x[i] = y) and
    # repeat_interleave start parallel regions that cost milliseconds on busy cores.
    def _expand(self, starts: torch.Tensor, counts: torch.Tensor, b: torch.Tensor | None):
        """Ranges [starts, starts + counts) concatenated, and b repeated per element (or None):
        each element finds its range by a running count of range beginnings."""
        csum = torch.cumsum(counts, 0)
        total = int(csum[-1])
        if total == 0:
            return None, None, 0
        if total > self._arange.numel() or counts.numel() > self._arange.numel():
            size = max(total, counts.numel(), 2 * self._arange.numel())
            self._arange = torch.arange(size, dtype=torch.int64, device=self.dev)
            self._ones = torch.ones(size, dtype=torch.int64, device=self.dev)
        first = csum - counts
        marks = torch.zeros(total + 1, dtype=torch.int64, device=self.dev)
        marks.index_add_(0, first, self._ones[:first.numel()])
        owner = torch.cumsum(marks[:total], 0).sub_(1)
        k = _g(starts - first, owner).add_(self._arange[:total])
        return k, (None if b is None else _g(b, owner)), total

    @staticmethod
    def _off(b: torch.Tensor | None, stride: int, x: torch.Tensor) -> torch.Tensor:
        return x if b is None else b * stride + x

    # -- one tick ----------------------------------------------------------------------
    def _tick(self, t: int, ext_b: torch.Tensor | None, ext_n: torch.Tensor | None):
        slot = t % self.H
        v, bslot = self.v, self.buf_slot[slot]
        self.cur.add_(self.init2 * bslot)
        bslot.zero_()
        free = self.ready <= t
        alpha = (self.i_e - self.i_i + self.i_offset) * self.r_mohm + self.v_rest
        v_new = torch.where(free, alpha - self.decay_m * (alpha - v), v)
        spk = v_new >= self.v_thresh
        torch.where(spk, self.v_reset, v_new, out=v)
        self.ready = torch.where(spk, self.refrac_steps1 + t, self.ready)
        self.cur.mul_(self.decay2)

        if self.B == 1:
            n, b = torch.nonzero(spk.view(-1)).squeeze(1), None
        else:
            b, n = torch.nonzero(spk).unbind(1)
        m = n.numel()
        if self.plastic:
            if self.learning:
                self._potentiate(t)
            if m:
                self._push_post(t, b, n)
            self.hist[slot] = (b, n) if m else None
        if ext_n is not None:
            nodes = torch.cat([n, ext_n]) if m else ext_n
            bs = None if b is None else (torch.cat([b, ext_b]) if m else ext_b)
        else:
            nodes, bs = n, b
        if nodes.numel():
            self._deliver(t, slot, bs, nodes)
        return b, n, m

    def _potentiate(self, t: int) -> None:
        """STDP potentiation of the plastic synapses reached now by a post spike of tick t - d."""
        H = self.H
        keys, bl = [], []
        for d in range(1, self.D + 1):
            h = self.hist[(t - d) % H]
            if h is not None:
                keys.append(h[1] * H + d)
                bl.append(h[0])
        if not keys:
            return
        key = torch.cat(keys) if len(keys) > 1 else keys[0]
        b = None if self.B == 1 else (torch.cat(bl) if len(bl) > 1 else bl[0])
        starts = _g(self.in_ptr, key)
        pos, bk, total = self._expand(starts, _g(self.in_ptr, key + 1) - starts, b)
        if not total:
            return
        k = _g(self.in_syn, pos)
        pb = self._off(bk, self.n_nodes, _g(self.syn_pre, k))
        lag = (t - _g(self.pre_t, pb)).clamp_(max=self.L - 1)
        if self.one_rule:
            x = _g(self.pre_r0, pb) * _g(self.tab_plus0, lag)
        else:
            rule = _g(self.syn_rule, k)
            x = (_g(self.pre_r_flat, rule * (self.B * self.n_nodes) + pb)
                 * _g(self.tab_plus_flat, rule * self.L + lag))
        wi = self._off(bk, self.S, k)
        w, w_max, a = _g(self.w_flat, wi), _g(self.syn_w_max, k), _g(self.syn_a_plus, k)
        if self.mult_mode == "add":
            step = a * x
        elif self.mult_mode == "mult":
            step = a * (w_max - w) * x
        else:
            step = torch.where(_g(self.syn_mult, k), a * (w_max - w) * x, a * x)
        self.w_flat.index_copy_(0, wi, torch.minimum(w + step, w_max))

    def _push_post(self, t: int, b: torch.Tensor | None, n: torch.Tensor) -> None:
        """Append tick t and the post trace right after it to the spike rings of (b, n)."""
        H = self.H
        bn = self._off(b, self.N, n)
        newest = _g(self.post_pos, bn)
        cell = bn * H + newest
        lag = (t - _g(self.post_step, cell)).clamp_(max=self.L - 1)
        o = self.post_o.index_select(1, cell) * self.tab_minus.index_select(1, lag) + 1.0
        nxt = (newest + 1) % H
        self.post_pos.index_copy_(0, bn, nxt)
        cell = bn * H + nxt
        self.post_step.index_fill_(0, cell, t)
        self.post_o.index_copy_(1, cell, o)

    def _depress(self, t: int, k: torch.Tensor, bk: torch.Tensor | None, wi: torch.Tensor) -> None:
        """STDP depression of plastic synapses k by the post trace at t - d (last post spike <= t - d)."""
        H, L = self.H, self.L
        bn = self._off(bk, self.N, _g(self.syn_post, k))
        steps = self.post_step_2d.index_select(0, bn)              # (K, H)
        td = t - _g(self.syn_delay, k)
        valid = steps <= td[:, None]
        idx = torch.argmax(torch.where(valid, steps, NEVER - 1), dim=1)
        s = steps.gather(1, idx[:, None]).squeeze(1)
        lag = (td - s).clamp_(max=L - 1)
        lag = torch.where(valid.any(dim=1), lag, L - 1)
        cell = bn * H + idx
        if self.one_rule:
            y = _g(self.post_o0, cell) * _g(self.tab_minus0, lag)
        else:
            rule = _g(self.syn_rule, k)
            y = (_g(self.post_o_flat, rule * (self.B * self.N * H) + cell)
                 * _g(self.tab_minus_flat, rule * L + lag))
        w, w_min, a = _g(self.w_flat, wi), _g(self.syn_w_min, k), _g(self.syn_a_minus, k)
        if self.mult_mode == "add":
            step = a * y
        elif self.mult_mode == "mult":
            step = a * (w - w_min) * y
        else:
            step = torch.where(_g(self.syn_mult, k), a * (w - w_min) * y, a * y)
        self.w_flat.index_copy_(0, wi, torch.maximum(w - step, w_min))

    def _deliver(self, t: int, slot: int, b: torch.Tensor | None, nodes: torch.Tensor) -> None:
        """Depress, deliver into slot (t + d) % H and update pre traces, for the spiking nodes."""
        k, bk, total = self._expand(_g(self.row_ptr, nodes), _g(self.out_deg, nodes), b)
        if total:
            wi = self._off(bk, self.S, k)
            if self.plastic and self.learning:
                sel = torch.nonzero(_g(self.syn_is_plastic, k)).squeeze(1)
                if sel.numel():
                    self._depress(t, _g(k, sel), None if bk is None else _g(bk, sel), _g(wi, sel))
            if self.tgt_tab is not None:
                tgt = _g(self.tgt_tab[slot], k)
            else:
                tgt = _g(self.tgt_base, k) + ((t + _g(self.syn_delay, k)) % self.H) * (self.B * self.N)
            if bk is not None:
                tgt = tgt + bk * self.N
            self.buf_flat.index_add_(0, tgt, _g(self.w_flat, wi))   # serial, in canonical order on the CPU
            self.n_events += total
        if self.n_rules:
            nb = self._off(b, self.n_nodes, nodes)
            lag = (t - _g(self.pre_t, nb)).clamp_(max=self.L - 1)
            self.pre_r.index_copy_(1, nb, self.pre_r.index_select(1, nb) * self.tab_plus.index_select(1, lag) + 1.0)
            self.pre_t.index_fill_(0, nb, t)

    # -- Engine API ----------------------------------------------------------------------
    def advance(self, t0: int, n_steps: int, ext: External) -> Chunk:
        dev = self.dev
        if ext.trial.size and (ext.trial.min() < 0 or ext.trial.max() >= self.B):
            raise ValueError(f"External.trial = {int(ext.trial.max())} is not allowed: in [0, {self.B - 1}]")
        bounds = np.searchsorted(ext.tick, np.arange(t0, t0 + n_steps + 1)).tolist()
        ext_n_all = torch.as_tensor(np.asarray(ext.node, np.int64), device=dev)
        ext_b_all = torch.as_tensor(np.asarray(ext.trial, np.int64), device=dev)
        n_tr = int(self.traced.size)
        state = (torch.empty((n_steps, 3, self.B, n_tr), dtype=self.fdt, device=dev) if n_tr else None)
        rec_neurons = bool(self.record_np[:self.N].any())
        got_b, got_n, got_t = [], [], []
        for i in range(n_steps):
            t = t0 + i
            lo, hi = bounds[i], bounds[i + 1]
            if hi > lo:
                ext_n = ext_n_all[lo:hi]
                ext_b = None if self.B == 1 else ext_b_all[lo:hi]
            else:
                ext_n = ext_b = None
            b, n, m = self._tick(t, ext_b, ext_n)
            if m and rec_neurons:
                got_n.append(n)
                if b is not None:
                    got_b.append(b)
                got_t.append((t, m))
            if state is not None:
                torch.index_select(self.x, 2, self.traced_dev, out=state[i])
        # neuron spikes, filtered by the record mask, plus recorded external events
        if got_n:
            node = torch.cat(got_n)
            keep = self.record_dev[node]
            node = node[keep].cpu().numpy()
            trial = (torch.cat(got_b)[keep].cpu().numpy() if got_b else np.zeros(node.size, np.int64))
            tk, cnt = zip(*got_t, strict=True)
            tick = np.repeat(np.asarray(tk, np.int64), cnt)[keep.cpu().numpy()]
        else:
            node = tick = trial = np.zeros(0, np.int64)
        sel = self.record_np[ext.node] if ext.node.size else np.zeros(0, bool)
        tick = np.concatenate([tick, np.asarray(ext.tick, np.int64)[sel]])
        trial = np.concatenate([trial, np.asarray(ext.trial, np.int64)[sel]])
        node = np.concatenate([node, np.asarray(ext.node, np.int64)[sel]])
        order = np.lexsort((node, trial, tick))
        out = None
        if state is not None:
            out = state.permute(0, 2, 3, 1).to(device="cpu", dtype=torch.float64).numpy()
            out = np.ascontiguousarray(out)
        return Chunk(tick[order], trial[order], node[order], out)

    def weights(self) -> np.ndarray:
        return self.w.to(device="cpu", dtype=torch.float64).numpy().copy()

    def set_weights(self, syn: np.ndarray, values: np.ndarray, trial: int | None) -> None:
        rows = slice(None) if trial is None else trial
        self.w[rows, torch.as_tensor(syn, device=self.dev)] = torch.as_tensor(values, dtype=self.fdt, device=self.dev)

    def set_offset(self, neurons: np.ndarray, values: np.ndarray) -> None:
        self.i_offset[torch.as_tensor(neurons, device=self.dev)] = torch.as_tensor(values, dtype=self.fdt,
                                                                                    device=self.dev)

    def events_delivered(self) -> int:
        return self.n_events

    def close(self) -> None:
        if self.dev.type == "cuda":
            torch.cuda.synchronize(self.dev)
