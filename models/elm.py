r"""The Expressive Leaky Memory (ELM) neuron and Branch-ELM (Spieler et al., ICLR 2024; arXiv 2306.16922).

Per time step ``t`` (dt in ms), with :math:`\kappa_s = e^{-dt/\tau_s}` per synapse and
:math:`\kappa_m = e^{-dt/\tau_m}` per memory unit:

.. math::
    s_t = \kappa_s \odot s_{t-1} + w_s \odot x_t, \qquad w_s = \mathrm{relu}(\tilde w_s) \ge 0 \\
    b_t = \textstyle\sum_{j \in \text{branch}} s_{t,j} \quad \text{(Branch-ELM; ELM: one synapse per branch)} \\
    \Delta m_t = \widetilde{\tanh}\big(\mathrm{MLP}([\,b_t,\ \kappa_m \odot m_{t-1}\,])\big), \qquad
    \widetilde{\tanh}(z) = 1.7159 \tanh(2 z / 3) \\
    m_t = \kappa_m \odot m_{t-1} + \lambda (1 - \kappa_m) \odot \Delta m_t
    \quad\text{or, improved:}\quad m_t = \kappa_m \odot m_{t-1} + (1 - \kappa_\lambda) \odot \Delta m_t,
    \ \kappa_\lambda = e^{-dt\,\lambda/\tau_m} \\
    y_t = W_y m_t + b_y

The MLP has ``mlp_layers`` hidden ReLU layers of ``mlp_hidden`` (default 2 d_m) units and a
linear output of d_m. :math:`\tau_m = \tau_{min} + (\tau_{max} - \tau_{min})\,\sigma(\rho)`
(a scaled sigmoid keeps it in bounds), initialised log-spaced from tau_min to tau_max;
it is learned only with ``learn_tau_m``. :math:`\tau_s` is fixed. Defaults: d_m = 100,
lambda = 5, tau_s = 5 ms, tau_m in 1..1000 ms, w_s = 0.5, dt = 1 ms (the published ones).

Speed: the synapse traces do not depend on the memory, and the MLP's first layer is linear in
them. So the first layer's synaptic part is computed for all steps at once (one matrix product);
when all synapses share tau_s (the default: it is fixed) the exponential trace is taken after
that product, on 2 d_m values instead of every synapse. The constants kappa_m, 2/3 and 1.7159
are folded into the weights once per call, and the readout runs on all steps at once. The
time loop (:func:`memory_step`, a pure function of explicit state) is 7 tensor operations per
step.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from neurosim import _checks as ck
from neurosim.backends.devices import placement, torch_dtype

MEMORY_UPDATES = ("original", "improved")


def scaled_tanh(z: torch.Tensor) -> torch.Tensor:
    """1.7159 tanh(2 z / 3) (LeCun's scaled tanh)."""
    return 1.7159 * torch.tanh(z * (2.0 / 3.0))


def memory_step(drive: torch.Tensor, v: torch.Tensor, m: torch.Tensor, kappa: torch.Tensor | float,
                kappa_m: torch.Tensor, gain: torch.Tensor, w_mem: torch.Tensor,
                layers: list[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
    """One step, with the constants folded in by :meth:`ELM.run`: returns the new (v, m).

    ``v`` is the synaptic part of the MLP's first layer (bias included), advanced as
    v <- kappa v + drive (kappa = kappa_s when all synapses share tau_s, else 0 and ``drive`` is already
    traced); ``w_mem`` holds the first layer's memory weights times kappa_m (it acts on m, not kappa_m m);
    ``layers`` the remaining layers with the scaled tanh's 2/3 folded into the last one; ``gain`` the update's
    gain times 1.7159.
    """
    v = torch.addcmul(drive, v, kappa) if isinstance(kappa, torch.Tensor) else drive
    h = torch.relu(torch.addmm(v, m, w_mem.T))
    for i, (w, b) in enumerate(layers):
        h = torch.addmm(b, h, w.T)
        if i < len(layers) - 1:
            h = torch.relu(h)
    return v, torch.addcmul(kappa_m * m, gain, torch.tanh(h))


class _MemoryScan(torch.autograd.Function):
    """The whole time loop of a one-hidden-layer ELM with a hand-written backward pass (BPTT).

    Same equations as :func:`memory_step` (t = 0 .. T-1, v_{-1} = v0, m_{-1} = 0):
    v_t = kappa v_{t-1} + drive_t, a_t = v_t + m_{t-1} Wk^T, h_t = relu(a_t),
    g_t = tanh(h_t W2^T + b2), m_t = kappa_m m_{t-1} + G g_t. Backward, with M_t = dL/dm_t in total:
    M_t = dL/dm_t (direct) + kappa_m M_{t+1} + A_{t+1} Wk, Z_t = M_t G (1 - g_t^2),
    A_t = (Z_t W2) 1[h_t > 0], V_t = A_t + kappa V_{t+1}; the weight gradients are sums over all
    steps, taken at once after the loop. Written by hand because in a loop of small tensors
    autograd's per-operation bookkeeping, not the arithmetic, is the cost (the issue's "custom scan").
    """

    @staticmethod
    def forward(ctx, drive, v0, wk, w2, b2, kappa_m, gain, kappa):
        b, steps, _ = drive.shape
        m = drive.new_zeros(b, wk.shape[1])
        v = v0
        hs, gs, ms = [], [], []
        for t in range(steps):
            v = drive[:, t] if kappa is None else torch.addcmul(drive[:, t], v, kappa)
            h = torch.relu(torch.addmm(v, m, wk.T))
            g = torch.tanh(torch.addmm(b2, h, w2.T))
            ms.append(m)
            m = torch.addcmul(kappa_m * m, gain, g)
            hs.append(h)
            gs.append(g)
        h_all, g_all, m_prev = torch.stack(hs, 1), torch.stack(gs, 1), torch.stack(ms, 1)
        ctx.save_for_backward(h_all, g_all, m_prev, wk, w2, kappa_m, gain)
        ctx.kappa = kappa
        return torch.cat([m_prev[:, 1:], m.unsqueeze(1)], dim=1)

    @staticmethod
    def backward(ctx, grad_mem):
        h_all, g_all, m_prev, wk, w2, kappa_m, gain = ctx.saved_tensors
        kappa = ctx.kappa
        steps = grad_mem.shape[1]
        slope = gain * (1.0 - g_all * g_all)  # dg/dz times G, all steps at once
        active = (h_all > 0).to(h_all.dtype)
        ms_, zs, as_, vs = [None] * steps, [None] * steps, [None] * steps, [None] * steps
        for t in range(steps - 1, -1, -1):
            big_m = grad_mem[:, t] if t == steps - 1 else \
                torch.addmm(torch.addcmul(grad_mem[:, t], kappa_m, ms_[t + 1]), as_[t + 1], wk)
            z = big_m * slope[:, t]
            a = torch.mm(z, w2).mul_(active[:, t])
            vs[t] = a if (kappa is None or t == steps - 1) else torch.addcmul(a, vs[t + 1], kappa)
            ms_[t], zs[t], as_[t] = big_m, z, a
        big_m, z, a, v = (torch.stack(x, 1) for x in (ms_, zs, as_, vs))

        def flat(x):
            return x.reshape(-1, x.shape[-1])

        d_wk = flat(a).T @ flat(m_prev)
        d_w2 = flat(z).T @ flat(h_all)
        d_b2 = z.sum(dim=(0, 1))
        d_kappa_m = (big_m * m_prev).sum(dim=(0, 1))
        d_gain = (big_m * g_all).sum(dim=(0, 1))
        d_v0 = None if kappa is None else kappa * v[:, 0]
        return v, d_v0, d_wk, d_w2, d_b2, d_kappa_m, d_gain, None


class ELM(nn.Module):
    """ELM / Branch-ELM: input (batch, time, n_in) -> output (batch, time, n_out); see the module docstring.

    ``n_branch`` groups the ``n_in`` synapses into that many branches of ``n_in / n_branch`` neighbours
    (Branch-ELM); the default, one branch per synapse, is the plain ELM.

    ``device`` ('cpu', 'cuda', 'cuda:<i>'; None: the CPU, like any torch module) and ``dtype``
    ('float32' or 'float64'; None: torch's default dtype, float32 unless changed, the dtype the published
    results were trained in) place every parameter and buffer; they are checked by
    :func:`neurosim.backends.resolve` and kept as ``self.device`` and ``self.dtype``. The weights are drawn
    on the CPU, so a seed gives the same network on every device. Inputs must be on that device and dtype.
    """

    def __init__(self, n_in: int, n_out: int, *, d_m: int = 100, lam: float = 5.0, mlp_layers: int = 1,
                 mlp_hidden: int | None = None, tau_s_ms: float = 5.0, tau_min_ms: float = 1.0,
                 tau_max_ms: float = 1000.0, learn_tau_m: bool = False, w_s: float = 0.5,
                 n_branch: int | None = None, dt_ms: float = 1.0, memory_update: str = "original",
                 scan: bool = True, device: str | None = None, dtype: str | None = None) -> None:
        super().__init__()
        self.device, self.dtype = placement(device, dtype)
        self.scan = bool(scan)  # one hidden MLP layer: the hand-written scan; False: autograd through the loop
        self.n_in = ck.count("n_in", n_in)
        self.n_out = ck.count("n_out", n_out)
        self.d_m = ck.count("d_m", d_m)
        self.lam = ck.positive("lam", lam)
        ck.count("mlp_layers", mlp_layers)
        self.mlp_hidden = ck.count("mlp_hidden", mlp_hidden) if mlp_hidden is not None else 2 * d_m
        ck.positive("tau_s_ms", tau_s_ms, "ms")
        ck.positive("tau_min_ms", tau_min_ms, "ms")
        if not (isinstance(tau_max_ms, (int, float)) and tau_max_ms > tau_min_ms):
            ck.fail("tau_max_ms", tau_max_ms, f"> tau_min_ms = {tau_min_ms} ms")
        ck.non_negative("w_s", w_s)
        self.dt_ms = ck.positive("dt_ms", dt_ms, "ms")
        if memory_update not in MEMORY_UPDATES:
            ck.fail("memory_update", memory_update, f"one of {MEMORY_UPDATES}")
        self.memory_update = memory_update
        self.n_branch = n_in if n_branch is None else ck.count("n_branch", n_branch)
        if n_in % self.n_branch:
            ck.fail("n_branch", n_branch, f"a divisor of n_in = {n_in} (branches of equal size)")
        self.tau_min_ms, self.tau_max_ms = float(tau_min_ms), float(tau_max_ms)

        self.w_s_raw = nn.Parameter(torch.full((n_in,), float(w_s)))
        self.register_buffer("tau_s_ms", torch.full((n_in,), float(tau_s_ms)))
        tau0 = torch.logspace(math.log10(tau_min_ms), math.log10(tau_max_ms), d_m)
        frac = ((tau0 - tau_min_ms) / (tau_max_ms - tau_min_ms)).clamp(1e-6, 1 - 1e-6)
        self.tau_m_raw = nn.Parameter(torch.log(frac / (1 - frac)), requires_grad=learn_tau_m)
        sizes = [self.n_branch + d_m] + [self.mlp_hidden] * mlp_layers + [d_m]
        self.mlp = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        self.readout = nn.Linear(d_m, n_out)
        self.to(device=self.device, dtype=torch_dtype(self.dtype))

    @property
    def tau_m_ms(self) -> torch.Tensor:
        return self.tau_min_ms + (self.tau_max_ms - self.tau_min_ms) * torch.sigmoid(self.tau_m_raw)

    @property
    def w_s(self) -> torch.Tensor:
        return torch.relu(self.w_s_raw)

    def decays(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(kappa_s, kappa_m, the memory update's gain on Delta m)."""
        kappa_s = torch.exp(-self.dt_ms / self.tau_s_ms)
        kappa_m = torch.exp(-self.dt_ms / self.tau_m_ms)
        if self.memory_update == "original":
            gain = self.lam * (1.0 - kappa_m)
        else:
            gain = 1.0 - torch.exp(-self.dt_ms * self.lam / self.tau_m_ms)
        return kappa_s, kappa_m, gain

    def branch_input(self, x: torch.Tensor) -> torch.Tensor:
        """Synapse traces summed per branch for every step: (batch, time, n_branch)."""
        kappa_s, _, _ = self.decays()
        drive = x * self.w_s
        s = torch.zeros_like(drive[:, 0])
        traces = []
        for t in range(x.shape[1]):
            s = kappa_s * s + drive[:, t]
            traces.append(s)
        s_all = torch.stack(traces, dim=1)
        return s_all.view(x.shape[0], x.shape[1], self.n_branch, -1).sum(dim=-1)

    def run(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Outputs (batch, time, n_out) and the memory (batch, time, d_m) for input (batch, time, n_in)."""
        if x.dim() != 3 or x.shape[2] != self.n_in:
            ck.fail("input shape", tuple(x.shape), f"(batch, time, {self.n_in})")
        kappa_s, kappa_m, gain = self.decays()
        first = self.mlp[0]
        w_syn, w_mem = first.weight[:, :self.n_branch], first.weight[:, self.n_branch:]
        if bool(torch.all(self.tau_s_ms == self.tau_s_ms[0])):
            # one tau_s: trace the first layer's synaptic input (2 d_m values) instead of every synapse
            kappa = kappa_s[0]
            # W_syn (branch sums of w_s x) = (W_syn per synapse's branch, times w_s) x: one product on the input
            w_eff = w_syn.repeat_interleave(self.n_in // self.n_branch, dim=1) * self.w_s
            drive = nn.functional.linear(x, w_eff)
            drive = drive + (1.0 - kappa) * first.bias  # v = trace + bias obeys v <- kappa v + drive
            v = first.bias.expand(x.shape[0], -1)
        else:
            kappa = 0.0
            drive = nn.functional.linear(self.branch_input(x), w_syn, first.bias)
            v = drive[:, 0]
        rest = [(lin.weight, lin.bias) for lin in self.mlp[1:]]
        w_out, b_out = rest[-1]
        rest[-1] = (w_out * (2.0 / 3.0), b_out * (2.0 / 3.0))  # the scaled tanh's slope, folded in
        w_mem_k, gain_k = w_mem * kappa_m, gain * 1.7159
        if len(rest) == 1 and self.scan:
            mem = _MemoryScan.apply(drive, v, w_mem_k, rest[0][0], rest[0][1], kappa_m, gain_k,
                                    kappa if isinstance(kappa, torch.Tensor) else None)
            return self.readout(mem), mem
        m = x.new_zeros(x.shape[0], self.d_m)
        memory = []
        for step in range(x.shape[1]):
            v, m = memory_step(drive[:, step], v, m, kappa, kappa_m, gain_k, w_mem_k, rest)
            memory.append(m)
        mem = torch.stack(memory, dim=1)
        return self.readout(mem), mem

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs (batch, time, n_out)."""
        return self.run(x)[0]


class BranchELM(ELM):
    """Branch-ELM: ``n_branch`` branches of ``n_in / n_branch`` synapses each (see :class:`ELM`)."""

    def __init__(self, n_in: int, n_out: int, *, n_branch: int, **kwargs) -> None:
        super().__init__(n_in, n_out, n_branch=n_branch, **kwargs)


def branch_elm_parameter_count(d_m: int, d_tree: int, d_brch: int, d_o: int) -> int:
    """The published Branch-ELM parameter count (one hidden MLP layer of 2 d_m, tau_m not learned):
    d_tree d_brch + (d_tree + d_m) 2 d_m + 2 d_m + 2 d_m d_m + d_m + d_m d_o + d_o."""
    for name, v in (("d_m", d_m), ("d_tree", d_tree), ("d_brch", d_brch), ("d_o", d_o)):
        ck.count(name, v)
    return (d_tree * d_brch + (d_tree + d_m) * 2 * d_m + 2 * d_m + 2 * d_m * d_m + d_m + d_m * d_o + d_o)


def trainable_parameters(module: nn.Module) -> int:
    """Number of trainable parameters of a module."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
