"""The active-dendrites network: the gate and k-WTA by hand, sparsity masks, prototypes, and continual learning
where dendrites beat a plain MLP (small, seeded)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neurosim.experiments.continual import acc_bwt, permuted_digits
from neurosim.models.dendritic_network import DendriticMLP, Prototypes, SparseLinear, absolute_max_gate, kwinners


def test_absolute_max_gate_keeps_the_sign_of_the_strongest_segment() -> None:
    t = torch.tensor([[2.0, 3.0]])
    segments = torch.tensor([[[1.0, 0.0], [-3.0, 0.0]],     # unit 0: activations 1 and -3 -> -3 wins
                             [[0.5, 0.0], [0.0, 2.0]]])     # unit 1: activations 0.5 and 2 -> 2 wins
    context = torch.tensor([[1.0, 1.0]])
    out = absolute_max_gate(t, segments, context)
    expected = torch.tensor([[2.0 / (1 + np.exp(3.0)), 3.0 / (1 + np.exp(-2.0))]], dtype=torch.float32)
    assert torch.allclose(out, expected)


def test_kwinners_keeps_the_k_largest_and_passes_gradients_only_to_them() -> None:
    x = torch.tensor([[0.1, -2.0, 3.0, 0.5, 1.0]], requires_grad=True)
    y = kwinners(x, 2)
    assert y.tolist() == [[0.0, 0.0, 3.0, 0.0, 1.0]]
    y.sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0, 1.0, 0.0, 1.0]]


def test_sparse_linear_has_exactly_the_kept_inputs_per_unit_and_masked_weights_never_move() -> None:
    layer = SparseLinear(40, 8, sparsity=0.5, input_density=1.0, generator=torch.Generator().manual_seed(0))
    assert layer.mask.sum(dim=1).tolist() == [20.0] * 8
    assert torch.all(layer.weight[layer.mask == 0] == 0)
    opt = torch.optim.Adam(layer.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        layer(torch.randn(16, 40, generator=torch.Generator().manual_seed(1))).pow(2).sum().backward()
        opt.step()
    assert torch.all(layer.weight[layer.mask == 0] == 0)
    assert torch.any(layer.weight[layer.mask == 1] != 0)


def test_network_activity_is_k_sparse_and_context_changes_which_units_win() -> None:
    net = DendriticMLP(64, (200, 200), 10, n_segments=3, dim_context=64, seed=0)
    x = torch.randn(5, 64, generator=torch.Generator().manual_seed(2))
    c1 = torch.randn(1, 64, generator=torch.Generator().manual_seed(3)).expand(5, -1)
    c2 = torch.randn(1, 64, generator=torch.Generator().manual_seed(4)).expand(5, -1)
    h1, h2 = net.hidden(x, c1), net.hidden(x, c2)
    assert all(int((h != 0).sum(dim=1).max()) <= 10 for h in h1)  # 5% of 200
    assert not torch.equal(h1[0] != 0, h2[0] != 0)
    with pytest.raises(ValueError, match="context"):
        net(x)


def test_prototypes_infer_the_task_of_permuted_digits() -> None:
    tasks = permuted_digits(5, np.random.default_rng(0))
    protos = Prototypes()
    for t in range(5):
        protos.add(torch.as_tensor(tasks.train(t)[0]))
    for t in range(5):
        _, guess = protos.infer(torch.as_tensor(tasks.test(t)[0]))
        assert float((guess == t).float().mean()) > 0.95


def test_acc_and_bwt_by_hand() -> None:
    r = np.array([[0.9, 0.5, 0.4],
                  [0.1, 0.8, 0.6],
                  [0.1, 0.1, 0.7]])
    acc, bwt = acc_bwt(r)
    assert acc == pytest.approx((0.4 + 0.6 + 0.7) / 3)
    assert bwt == pytest.approx(((0.4 - 0.9) + (0.6 - 0.8)) / 2)
    with pytest.raises(ValueError, match="accuracy matrix shape"):
        acc_bwt(np.zeros((2, 3)))


def test_dendrites_forget_less_than_an_mlp_on_permuted_digits() -> None:
    from neurosim.experiments.dendrites_continual import train_sequence

    common = {"n_tasks": 4, "hidden": (1024, 1024), "epochs": 3, "batch": 64, "seed": 0}
    dend = acc_bwt(train_sequence("active-dendrites", lr=5e-4, **common)["accuracy"])
    mlp = acc_bwt(train_sequence("mlp", lr=5e-4, **common)["accuracy"])
    assert dend[0] > mlp[0] + 0.15
    assert dend[1] > mlp[1] + 0.15
    assert dend[1] > -0.1


def test_bad_network_settings_name_the_field() -> None:
    with pytest.raises(ValueError, match="^kw_fraction ="):
        DendriticMLP(64, (10,), 10, n_segments=2, dim_context=64, kw_fraction=0.0)
    with pytest.raises(ValueError, match="^weight_sparsity ="):
        DendriticMLP(64, (10,), 10, n_segments=2, dim_context=64, weight_sparsity=1.0)
    with pytest.raises(ValueError, match="^hidden ="):
        DendriticMLP(64, (), 10, n_segments=2, dim_context=64)


@pytest.mark.parametrize("kwargs", [{"n_segments": 3}, {"n_segments": 0, "kw_fraction": None, "weight_sparsity": 0.0}])
def test_device_and_dtype_place_every_weight_segment_and_mask(kwargs: dict) -> None:
    net = DendriticMLP(16, (20, 20), 4, dim_context=16, seed=0, device="cpu", dtype="float64", **kwargs)
    assert (net.device, net.dtype) == ("cpu", "float64")
    assert all(layer.dtype == "float64" for layer in (*net.layers, net.head))
    assert all(t.dtype == torch.float64 and t.device.type == "cpu" for t in (*net.parameters(), *net.buffers()))
    x = torch.randn(5, 16, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    protos = Prototypes(device="cpu", dtype="float64")
    protos.add(x.float())  # moved to the prototypes' dtype
    assert protos.of_task(0, 5).dtype == torch.float64
    out = net(x, protos.infer(x)[0])
    assert out.dtype == torch.float64 and torch.isfinite(out).all()
    out.sum().backward()
    assert all(p.grad.dtype == torch.float64 for p in net.parameters())
    # the same seed draws the same network in either dtype
    same = DendriticMLP(16, (20, 20), 4, dim_context=16, seed=0, **kwargs)
    assert torch.equal(net.head.weight.float(), same.head.weight)


def test_sparse_linear_places_its_mask() -> None:
    layer = SparseLinear(10, 4, sparsity=0.5, input_density=1.0, generator=torch.Generator().manual_seed(0),
                         device="cpu", dtype="float64")
    assert layer.mask.dtype == layer.weight.dtype == torch.float64 and layer.mask.sum().item() == 20.0
    assert SparseLinear(10, 4, sparsity=0.5, input_density=1.0, generator=torch.Generator()).mask.dtype == torch.float32


@pytest.mark.parametrize(("kwargs", "message"), [({"dtype": "float16"}, r"^dtype = 'float16'"),
                                                 ({"device": "tpu"}, r"^device = 'tpu'")])
def test_a_bad_device_or_dtype_names_the_field(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DendriticMLP(8, (6,), 2, n_segments=2, dim_context=8, **kwargs)
    with pytest.raises(ValueError, match=message):
        Prototypes(**kwargs)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal where CUDA is missing")
def test_cuda_is_refused_without_a_gpu() -> None:
    with pytest.raises(ValueError, match=r"^device = 'cuda'"):
        DendriticMLP(8, (6,), 2, n_segments=2, dim_context=8, device="cuda")
    with pytest.raises(ValueError, match=r"^device = 'cuda'"):
        Prototypes(device="cuda")


@pytest.mark.gpu
def test_cpu_and_cuda_agree_after_a_forward_and_an_optimizer_step() -> None:
    tasks = permuted_digits(2, np.random.default_rng(0))
    x = torch.as_tensor(tasks.train(1)[0][:32])
    y = torch.as_tensor(tasks.train(1)[1][:32])
    results = []
    for device in ("cpu", "cuda"):
        net = DendriticMLP(64, (64,), 10, n_segments=2, dim_context=64, kw_fraction=0.2, seed=3, device=device)
        assert all(t.device.type == device for t in (*net.parameters(), *net.buffers()))
        protos = Prototypes(device=device)
        for t in range(2):
            protos.add(torch.as_tensor(tasks.train(t)[0]))
        context, task = protos.infer(x.to(device))
        assert context.device.type == device and task.tolist() == [1] * 32
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        out = net(x.to(device), context)
        torch.nn.functional.cross_entropy(out, y.to(device)).backward()
        opt.step()
        results.append([t.detach().cpu() for t in (out, net(x.to(device), context), net.layers[0].weight)])
    for a, b in zip(*results, strict=True):
        assert torch.allclose(a, b, atol=1e-4)
