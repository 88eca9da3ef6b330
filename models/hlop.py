r"""Hebbian learning based orthogonal projection (HLOP; Xiao et al., ICLR 2024) for spiking networks.

**The spiking MLP** (:class:`SpikingMLP`): linear layers without bias and norse's box LIF
neurons (no synaptic current), ``T`` steps on a constant (direct) input, read out by the mean
over time of a linear output layer. Per hidden neuron, with norse's Euler step
(:func:`norse.torch.functional.lif_box.lif_box_feed_forward_step`, ``dt = 1 ms``):

.. math::
    v_t = v_{t-1} + \frac{dt}{\tau_m}\,(W x_t - v_{t-1}), \qquad
    s_t = \Theta(v_t - v_{th}), \qquad v_t \leftarrow (1 - s_t)\, v_t

with the SuperSpike surrogate gradient for :math:`\Theta`. Two ways to train it:

- ``bptt``: backpropagation through the ``T`` steps;
- ``online``: no backpropagation through time (OTTT-like): the state is detached between steps,
  a loss is taken at every step, and the weight gradient of each step uses the presynaptic
  trace :math:`\hat x_t = \lambda \hat x_{t-1} + x_t` in place of :math:`x_t` (``trace_decay``
  :math:`\lambda` = 1 - dt / tau_m).

**Projection** (:func:`projected_linear`, a custom autograd function): with ``P`` the
projector onto the protected subspace of a layer's input, the weight gradient is

.. math::
    \nabla W = \delta\, \big(x - P x\big)^{\!\top}, \qquad P = H^{\top} H

so updates are orthogonal to the old tasks' principal subspace (with plain SGD or momentum the
whole update stays there; Adam would rescale it per coordinate and break it).

**Hebbian subspace neurons** (:class:`HebbianSubspace`): per layer, ``M`` lateral neurons
``y = H x`` learn by the Oja subspace rule on the layer's presynaptic activity (firing rates
over the ``T`` steps):

.. math::
    \Delta H = \eta\, \big\langle y\, (x - H^{\top} y)^{\top} \big\rangle_{batch}

For each new task, ``k`` new neurons are added and trained on the residual
:math:`x - H_{old}^{\top} H_{old} x` while the old ones stay frozen, then merged. The rule's
fixed point is an orthonormal basis of the residual's principal subspace, which
:func:`principal_angles` checks against an SVD.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from neurosim import _checks as ck
from neurosim.backends.devices import placement, torch_dtype


class _ProjectedLinear(torch.autograd.Function):
    """y = x W^T; dW = g^T (x_grad - x_grad P) (P symmetric); dx = g W."""

    @staticmethod
    def forward(ctx, x, weight, x_grad, projector):
        ctx.save_for_backward(weight, x_grad, projector)
        return x @ weight.T

    @staticmethod
    def backward(ctx, g):
        weight, x_grad, projector = ctx.saved_tensors
        xg = x_grad if projector.numel() == 0 else x_grad - x_grad @ projector
        return g @ weight, g.T @ xg, None, None


def projected_linear(x: torch.Tensor, weight: torch.Tensor, *, x_grad: torch.Tensor | None = None,
                     projector: torch.Tensor | None = None) -> torch.Tensor:
    """x W^T whose weight gradient uses ``x_grad`` (default ``x``) projected off ``projector``'s subspace."""
    empty = torch.empty(0, dtype=x.dtype, device=x.device)
    return _ProjectedLinear.apply(x, weight, x if x_grad is None else x_grad.detach(),
                                  empty if projector is None else projector)


class SpikingMLP(nn.Module):
    """Input -> hidden LIF layers -> linear readout (mean over ``steps``); ``heads`` output groups of
    ``n_out`` (multi-head: one per task) or one shared head.

    ``device`` ('cpu', 'cuda', 'cuda:<i>'; None: the CPU, like any torch module) and ``dtype``
    ('float32' or 'float64'; None: torch's default dtype, float32 unless changed, the dtype the published
    results were trained in) place the weights and the neuron parameters; they are checked by
    :func:`neurosim.backends.resolve` and kept as ``self.device`` and ``self.dtype``. The weights are drawn
    on the CPU from ``seed``, so a seed gives the same network on every device. Inputs must be on that
    device and dtype."""

    def __init__(self, n_in: int, hidden: tuple[int, ...], n_out: int, *, steps: int = 6, heads: int = 1,
                 tau_mem_ms: float = 10.0, v_th: float = 1.0, init_gain: float = 8.0, spike_density: float = 0.1,
                 seed: int = 0, device: str | None = None, dtype: str | None = None) -> None:
        super().__init__()
        from norse.torch.functional.lif_box import LIFBoxParameters

        self.device, self.dtype = placement(device, dtype)
        place = {"device": self.device, "dtype": torch_dtype(self.dtype)}
        ck.layer_sizes(n_in, hidden, n_out)
        self.steps = ck.count("steps", steps)
        self.heads = ck.count("heads", heads)
        ck.positive("tau_mem_ms", tau_mem_ms, "ms")
        ck.positive("v_th", v_th)
        ck.positive("init_gain", init_gain)
        ck.in_range("spike_density", spike_density, 1e-3, 1.0)
        ck.count("seed", seed, minimum=0)
        self.n_out = n_out
        lif = LIFBoxParameters(tau_mem_inv=torch.as_tensor(1000.0 / tau_mem_ms), v_th=torch.as_tensor(v_th))
        self.lif = lif._replace(**{k: v.to(**place) for k, v in lif._asdict().items() if isinstance(v, torch.Tensor)})
        self.trace_decay = 1.0 - 1.0 / tau_mem_ms  # dt = 1 ms
        g = torch.Generator().manual_seed(seed)
        sizes = (n_in, *hidden, n_out * heads)
        self.layers = nn.ModuleList()
        density = 1.0  # of the layer's input: dense pixels, then spikes at about ``spike_density``
        for a, b in zip(sizes[:-1], sizes[1:], strict=True):
            layer = nn.Linear(a, b, bias=False)
            bound = init_gain / np.sqrt(a * density)  # the drive's spread is about init_gain / sqrt(3) x v_th
            with torch.no_grad():
                layer.weight.copy_((torch.rand(b, a, generator=g) * 2 - 1) * bound * v_th)
            self.layers.append(layer)
            density = spike_density
        self.to(**place)

    def forward(self, x: torch.Tensor, *, projectors: list[torch.Tensor | None] | None = None,
                record: bool = False) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """BPTT forward: (logits (batch, heads * n_out), and if ``record`` every layer's presynaptic input at
        every step, (steps, batch, in_features) each; their mean over steps is the firing rate)."""
        from norse.torch.functional.lif_box import LIFBoxFeedForwardState, lif_box_feed_forward_step

        proj = projectors or [None] * len(self.layers)
        states = [LIFBoxFeedForwardState(v=x.new_zeros(x.shape[0], layer.out_features))
                  for layer in self.layers[:-1]]
        inputs: list[list[torch.Tensor]] = [[] for _ in self.layers]
        out = 0.0
        for _ in range(self.steps):
            h = x
            for i, layer in enumerate(self.layers):
                if record:
                    inputs[i].append(h.detach())
                a = projected_linear(h, layer.weight, projector=proj[i])
                if i == len(self.layers) - 1:
                    out = out + a / self.steps
                else:
                    h, states[i] = lif_box_feed_forward_step(a, states[i], self.lif)
        return out, [torch.stack(a) for a in inputs] if record else []

    def online_step_losses(self, x: torch.Tensor, loss_fn, *, projectors: list[torch.Tensor | None] | None = None
                           ) -> torch.Tensor:
        """Online training pass: backpropagates a loss at each step through that step only, with presynaptic
        traces in the weight gradients; returns the summed loss (already backpropagated)."""
        from norse.torch.functional.lif_box import LIFBoxFeedForwardState, lif_box_feed_forward_step

        proj = projectors or [None] * len(self.layers)
        states = [LIFBoxFeedForwardState(v=x.new_zeros(x.shape[0], layer.out_features))
                  for layer in self.layers[:-1]]
        traces = [x.new_zeros(x.shape[0], layer.in_features) for layer in self.layers]
        total = x.new_zeros(())
        for _ in range(self.steps):
            h = x
            for i, layer in enumerate(self.layers):
                traces[i] = self.trace_decay * traces[i] + h.detach()
                a = projected_linear(h, layer.weight, x_grad=traces[i] * (1.0 - self.trace_decay), projector=proj[i])
                if i == len(self.layers) - 1:
                    loss = loss_fn(a) / self.steps
                else:
                    h, states[i] = lif_box_feed_forward_step(a, LIFBoxFeedForwardState(v=states[i].v.detach()),
                                                             self.lif)
            loss.backward()
            total = total + loss.detach()
        return total

    def head(self, logits: torch.Tensor, task: int | None) -> torch.Tensor:
        """The logits of one task's head (multi-head), or all of them (shared head)."""
        if self.heads == 1 or task is None:
            return logits
        return logits[:, task * self.n_out:(task + 1) * self.n_out]

    def to_nir(self):
        """The trained network as a NIR graph: Input -> (Affine -> LIF) per hidden layer -> Affine -> Output,
        in seconds (tau = tau_mem), r = 1, v_leak = 0, zero biases. One graph step is one time step of
        ``dt = 1 ms``; the logits are the mean of the Output over ``steps`` steps of the same input.
        (Written here rather than with ``norse.torch.to_nir``: norse 1.1 exports a box LIF's tau as
        ``dt / tau_mem_inv``, 1000 times too short, while its importer reads ``1 / tau``.)"""
        import nir

        nodes = [nir.Input(input_type=np.array([self.layers[0].in_features]))]
        tau_s = 1.0 / float(self.lif.tau_mem_inv)
        for i, layer in enumerate(self.layers):
            w = layer.weight.detach().cpu().numpy().astype(np.float32)
            nodes.append(nir.Affine(weight=w, bias=np.zeros(w.shape[0], dtype=np.float32)))
            if i < len(self.layers) - 1:
                n = w.shape[0]
                nodes.append(nir.LIF(tau=np.full(n, tau_s, np.float32), r=np.ones(n, np.float32),
                                     v_leak=np.zeros(n, np.float32),
                                     v_threshold=np.full(n, float(self.lif.v_th), np.float32)))
        nodes.append(nir.Output(output_type=np.array([self.layers[-1].out_features])))
        return nir.NIRGraph.from_list(*nodes)


class HebbianSubspace:
    """Subspace neurons of one layer (rows of ``h``), grown per task by the Oja subspace rule.

    ``device`` and ``dtype`` (as :class:`SpikingMLP`'s; kept as ``self.device`` and ``self.dtype``) hold
    ``h``: :meth:`learn` moves the activity it is given there. The random starts and orders come from the
    generator given to :meth:`learn`, drawn on the CPU, so a seed learns the same neurons on every device."""

    def __init__(self, dim: int, *, device: str | None = None, dtype: str | None = None) -> None:
        self.dim = ck.count("dim", dim)
        self.device, self.dtype = placement(device, dtype)
        self.h = torch.zeros(0, dim, device=self.device, dtype=torch_dtype(self.dtype))

    @property
    def projector(self) -> torch.Tensor | None:
        """H^T H, or None while no neuron is learned."""
        return self.h.T @ self.h if self.h.shape[0] else None

    def learn(self, activity: torch.Tensor, k: int, *, epochs: int = 60, lr: float = 0.5, batch: int = 128,
              generator: torch.Generator) -> torch.Tensor:
        """Add ``k`` neurons trained on ``activity`` (samples, dim) minus its projection on the old neurons;
        old neurons stay frozen. Returns the new rows."""
        ck.count("k", k, minimum=0)
        k = min(k, self.dim - self.h.shape[0])
        if k == 0:
            return self.h.new_zeros(0, self.dim)
        activity = activity.to(self.h)
        x = activity - (activity @ self.projector if self.h.shape[0] else 0.0)
        scale = float(x.pow(2).sum(dim=1).mean()) or 1.0
        # start from orthonormal rows outside the old subspace: the Oja flow then only rotates them
        # (from small random rows, weak directions take far longer to grow to unit norm, and until then
        # H^T H is no projector and lets updates leak into the old tasks' subspace)
        start = torch.randn(k, self.dim, generator=generator).to(self.h)
        if self.h.shape[0]:
            start = start - start @ self.projector
        new = torch.linalg.qr(start.T).Q.T.contiguous()
        eta = lr / scale  # the rule's step relative to the input's power
        for _ in range(epochs):
            order = torch.randperm(x.shape[0], generator=generator).to(x.device)
            for i in range(0, x.shape[0], batch):
                xb = x[order[i:i + batch]]
                y = xb @ new.T
                new = new + eta * (y.T @ xb - (y.T @ y) @ new) / xb.shape[0]
        self.h = torch.cat([self.h, new])
        return new


def _numpy(a: torch.Tensor | np.ndarray) -> np.ndarray:
    """A float64 numpy copy of an array or a tensor on any device."""
    return np.asarray(a.detach().cpu() if isinstance(a, torch.Tensor) else a, dtype=np.float64)


def principal_angles(h: torch.Tensor | np.ndarray, activity: torch.Tensor | np.ndarray, k: int | None = None
                     ) -> np.ndarray:
    """Principal angles (radians, ascending) between span(rows of ``h``) and the top ``k`` (default: as many
    as ``h`` has rows) right singular vectors of ``activity`` (samples, dim)."""
    from scipy.linalg import subspace_angles

    h, a = _numpy(h), _numpy(activity)
    k = h.shape[0] if k is None else k
    _, _, vt = np.linalg.svd(a, full_matrices=False)
    return np.sort(subspace_angles(h.T, vt[:k].T))


def captured_energy(h: torch.Tensor | np.ndarray, activity: torch.Tensor | np.ndarray) -> float:
    """Energy of ``activity`` (samples, dim) in span(rows of ``h``) over the energy in its best subspace of the
    same dimension (the top singular vectors): 1 when the Hebbian neurons found the principal subspace."""
    h, a = _numpy(h), _numpy(activity)
    if h.shape[0] == 0:
        return 1.0
    q, _ = np.linalg.qr(h.T)  # orthonormal basis of span(h)
    sv = np.linalg.svd(a, compute_uv=False)
    best = float(np.sum(sv[:h.shape[0]] ** 2))
    return float(np.sum((a @ q) ** 2) / best) if best > 0 else 1.0
