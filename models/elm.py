r"""The Expressive Leaky Memory (ELM) neuron and Branch-ELM (Spieler et al., ICLR 2024; REFERENCES section 4).

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

Speed: the synapse traces and the branch sums do not depend on the memory, and the MLP's
first layer is linear in them, so both are computed for all steps at once (one scan of
elementwise ops and one matrix product); the readout too. Only the memory part of the
first layer, the rest of the MLP and the memory update run step by step
(:func:`memory_step`, a pure function of explicit state).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from neurosim import _checks as ck

MEMORY_UPDATES = ("original", "improved")


def scaled_tanh(z: torch.Tensor) -> torch.Tensor:
    """1.7159 tanh(2 z / 3) (LeCun's scaled tanh)."""
    return 1.7159 * torch.tanh(z * (2.0 / 3.0))


def memory_step(pre_syn: torch.Tensor, m: torch.Tensor, kappa_m: torch.Tensor, gain: torch.Tensor,
                w_mem: torch.Tensor, layers: list[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
    """One memory update. ``pre_syn``: the synaptic part of the MLP's first layer (bias included) at this
    step; ``w_mem``: the first layer's weights on kappa_m m; ``layers``: the remaining (weight, bias)
    pairs, ReLU between them; ``gain``: lambda (1 - kappa_m) or (1 - kappa_lambda)."""
    decayed = kappa_m * m
    h = torch.relu(pre_syn + decayed @ w_mem.T)
    for i, (w, b) in enumerate(layers):
        h = nn.functional.linear(h, w, b)
        if i < len(layers) - 1:
            h = torch.relu(h)
    return decayed + gain * scaled_tanh(h)


class ELM(nn.Module):
    """ELM / Branch-ELM: input (batch, time, n_in) -> output (batch, time, n_out); see the module docstring.

    ``n_branch`` groups the ``n_in`` synapses into that many branches of ``n_in / n_branch`` neighbours
    (Branch-ELM); the default, one branch per synapse, is the plain ELM.
    """

    def __init__(self, n_in: int, n_out: int, *, d_m: int = 100, lam: float = 5.0, mlp_layers: int = 1,
                 mlp_hidden: int | None = None, tau_s_ms: float = 5.0, tau_min_ms: float = 1.0,
                 tau_max_ms: float = 1000.0, learn_tau_m: bool = False, w_s: float = 0.5,
                 n_branch: int | None = None, dt_ms: float = 1.0, memory_update: str = "original") -> None:
        super().__init__()
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
        _, kappa_m, gain = self.decays()
        first = self.mlp[0]
        w_syn, w_mem = first.weight[:, :self.n_branch], first.weight[:, self.n_branch:]
        pre = nn.functional.linear(self.branch_input(x), w_syn, first.bias)  # all steps at once
        layers = [(lin.weight, lin.bias) for lin in self.mlp[1:]]
        m = x.new_zeros(x.shape[0], self.d_m)
        memory = []
        for t in range(x.shape[1]):
            m = memory_step(pre[:, t], m, kappa_m, gain, w_mem, layers)
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
