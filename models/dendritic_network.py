r"""The active-dendrites network for continual learning (Iyer et al. 2022, "Avoiding Catastrophe").

Each hidden layer is a sparse feed-forward layer whose units are gated by dendritic segments
that read a context vector :math:`c`, followed by k-winners-take-all:

.. math::
    t = W x + b, \qquad d_{ij} = u_{ij} \cdot c, \qquad
    j^* = \arg\max_j |d_{ij}|, \qquad
    y_i = t_i\, \sigma(d_{ij^*}), \qquad
    h = \mathrm{kWTA}_k(y)

(the sign of the winning segment is kept, so a strongly negative segment shuts its unit off);
kWTA keeps the ``k = round(kw_fraction * units)`` largest values and zeroes the rest. The
output layer is a sparse linear layer shared by all tasks (one head).

Weights follow the reference code (facts from numenta/nupic.research, the paper's code):
a fixed random mask gives each unit exactly ``round((1 - weight_sparsity) fan_in)``
inputs; weights start uniform in :math:`\pm 1/\sqrt{\rho_{in}\rho_w\,\mathrm{fan\_in}}`
(:math:`\rho_{in}` the density of the layer's input: 1 for pixels, ``kw_fraction`` after a kWTA
layer; :math:`\rho_w = 1 -` ``weight_sparsity``) and segments uniform in
:math:`\pm 1/\sqrt{0.1\,\dim c}`. The mask multiplies the weights in ``forward``, so masked
weights get zero gradients and never move (one mechanism instead of re-zeroing after steps).

Context (:class:`Prototypes`): during training a task's context is the mean of its training
inputs; at test time each input takes the nearest stored prototype (Euclidean distance).

The same module gives the baselines: ``n_segments = 0`` drops the dendrites (the k-WTA-only
network), and ``kw_fraction = None`` with ``weight_sparsity = 0`` is a plain ReLU MLP.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from neurosim import _checks as ck
from neurosim.backends.devices import placement, torch_dtype


class SparseLinear(nn.Module):
    """A linear layer with a fixed random connectivity mask (``sparsity`` of each unit's inputs removed).

    The mask and the weights are drawn on the CPU from ``generator``, then placed on ``device`` and
    ``dtype`` (as :class:`DendriticMLP`'s; kept as ``self.device`` and ``self.dtype``)."""

    def __init__(self, n_in: int, n_out: int, *, sparsity: float, input_density: float,
                 generator: torch.Generator, device: str | None = None, dtype: str | None = None) -> None:
        super().__init__()
        ck.in_range("weight_sparsity", sparsity, 0.0, 0.99)
        self.device, self.dtype = placement(device, dtype)
        keep = max(1, round((1.0 - sparsity) * n_in))
        order = torch.rand(n_out, n_in, generator=generator).argsort(dim=1)
        mask = torch.zeros(n_out, n_in)
        mask.scatter_(1, order[:, :keep], 1.0)
        self.register_buffer("mask", mask)
        bound = 1.0 / math.sqrt(input_density * (keep / n_in) * n_in)
        self.weight = nn.Parameter((torch.rand(n_out, n_in, generator=generator) * 2 - 1) * bound * mask)
        fan_bound = 1.0 / math.sqrt(n_in)  # torch's default nn.Linear bias init
        self.bias = nn.Parameter((torch.rand(n_out, generator=generator) * 2 - 1) * fan_bound)
        self.to(device=self.device, dtype=torch_dtype(self.dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(x, self.weight * self.mask, self.bias)


def kwinners(x: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the ``k`` largest entries of each row, zero the others (gradients flow through the winners)."""
    top = x.topk(k, dim=1).indices
    return x * torch.zeros_like(x).scatter_(1, top, 1.0)


def absolute_max_gate(t: torch.Tensor, segments: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
    """t * sigmoid(d_j*), d = segments . context, j* the segment of largest |d| per unit (sign kept).

    ``t`` (batch, units), ``segments`` (units, n_segments, dim_context), ``context`` (batch, dim_context).
    """
    d = torch.einsum("usc,bc->bus", segments, context)
    winner = d.gather(2, d.abs().argmax(dim=2, keepdim=True)).squeeze(2)
    return t * torch.sigmoid(winner)


class DendriticMLP(nn.Module):
    """Hidden layers of sparse linear -> dendritic gate -> kWTA (see the module docstring); a shared head.

    ``device`` ('cpu', 'cuda', 'cuda:<i>'; None: the CPU, like any torch module) and ``dtype``
    ('float32' or 'float64'; None: torch's default dtype, float32 unless changed, the dtype the published
    results were trained in) place every weight, segment and mask; they are checked by
    :func:`neurosim.backends.resolve` and kept as ``self.device`` and ``self.dtype``. The weights are drawn
    on the CPU from ``seed``, so a seed gives the same network on every device. Inputs and contexts must be
    on that device and dtype."""

    def __init__(self, n_in: int, hidden: tuple[int, ...], n_out: int, *, n_segments: int, dim_context: int,
                 kw_fraction: float | None = 0.05, weight_sparsity: float = 0.5, seed: int = 0,
                 device: str | None = None, dtype: str | None = None) -> None:
        super().__init__()
        ck.layer_sizes(n_in, hidden, n_out)
        ck.count("n_segments", n_segments, minimum=0)
        ck.count("dim_context", dim_context)
        if kw_fraction is not None:
            ck.in_range("kw_fraction", kw_fraction, 1e-6, 1.0)
        self.device, self.dtype = placement(device, dtype)
        place = {"device": self.device, "dtype": self.dtype}
        g = torch.Generator().manual_seed(seed)
        self.kw_fraction, self.n_segments, self.dim_context = kw_fraction, n_segments, dim_context
        self.layers = nn.ModuleList()
        self.segments = nn.ParameterList()
        density = 1.0
        sizes = (n_in, *hidden)
        for a, b in zip(sizes[:-1], sizes[1:], strict=True):
            self.layers.append(SparseLinear(a, b, sparsity=weight_sparsity, input_density=density, generator=g,
                                            **place))
            if n_segments:
                bound = 1.0 / math.sqrt(0.1 * dim_context)
                self.segments.append(nn.Parameter((torch.rand(b, n_segments, dim_context, generator=g) * 2 - 1)
                                                  * bound))
            density = kw_fraction if kw_fraction is not None else 0.5
        self.head = SparseLinear(sizes[-1], n_out, sparsity=weight_sparsity, input_density=density, generator=g,
                                 **place)
        self.to(device=self.device, dtype=torch_dtype(self.dtype))  # the segments

    def hidden(self, x: torch.Tensor, context: torch.Tensor | None = None) -> list[torch.Tensor]:
        """The activity of every hidden layer (after gating and kWTA / ReLU)."""
        if self.n_segments and context is None:
            ck.fail("context", None, f"a (batch, {self.dim_context}) tensor: the network has dendritic segments")
        out = []
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if self.n_segments:
                x = absolute_max_gate(x, self.segments[i], context)
            if self.kw_fraction is None:
                x = torch.relu(x)
            else:
                x = kwinners(x, max(1, round(self.kw_fraction * x.shape[1])))
            out.append(x)
        return out

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.hidden(x, context)[-1])


class Prototypes:
    """Task prototypes as context: the mean training input of each task; nearest prototype at test time.

    The prototypes, and the contexts and task indices given back, are on ``device`` and in ``dtype`` (as
    :class:`DendriticMLP`'s; kept as ``self.device`` and ``self.dtype``); inputs are moved there."""

    def __init__(self, *, device: str | None = None, dtype: str | None = None) -> None:
        self.device, self.dtype = placement(device, dtype)
        self.means: list[torch.Tensor] = []

    def add(self, inputs: torch.Tensor) -> int:
        """Store the prototype of a new task from its training inputs; its task index."""
        self.means.append(inputs.to(device=self.device, dtype=torch_dtype(self.dtype)).mean(dim=0))
        return len(self.means) - 1

    def of_task(self, task: int, batch: int) -> torch.Tensor:
        return self.means[task].expand(batch, -1)

    def infer(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(context, inferred task index) for each input: the nearest stored prototype."""
        if not self.means:
            ck.fail("prototypes", 0, "at least one stored task prototype")
        protos = torch.stack(self.means)
        task = torch.cdist(inputs.to(protos), protos).argmin(dim=1)
        return protos[task], task
