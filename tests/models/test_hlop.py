"""HLOP: the projected weight gradient by hand, Hebbian neurons finding the principal subspace (principal angles
against an SVD), the spiking MLP's dynamics against norse's step, online training, NIR export."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neurosim.models.hlop import HebbianSubspace, SpikingMLP, captured_energy, principal_angles, projected_linear


def test_projected_weight_gradient_is_delta_times_the_projected_input() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(5, 4, generator=g)
    w = torch.randn(3, 4, generator=g, requires_grad=True)
    basis = torch.linalg.qr(torch.randn(4, 2, generator=g))[0].T  # 2 orthonormal rows
    p = basis.T @ basis
    y = projected_linear(x, w, projector=p)
    assert torch.allclose(y, x @ w.T.detach())
    upstream = torch.randn(5, 3, generator=g)
    y.backward(upstream)
    expected = upstream.T @ (x - x @ basis.T @ basis)
    assert torch.allclose(w.grad, expected, atol=1e-6)
    # the update is orthogonal to the protected subspace: (dW) h = 0 for h in span(basis)
    assert torch.allclose(w.grad @ basis.T, torch.zeros(3, 2), atol=1e-5)


def test_without_a_projector_the_gradient_is_the_ordinary_one() -> None:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(6, 5, generator=g, requires_grad=True)
    w = torch.randn(2, 5, generator=g, requires_grad=True)
    projected_linear(x, w).pow(2).sum().backward()
    gx, gw = x.grad.clone(), w.grad.clone()
    x.grad = w.grad = None
    (x @ w.T).pow(2).sum().backward()
    assert torch.allclose(gx, x.grad) and torch.allclose(gw, w.grad)


def _low_rank_data(rng: np.random.Generator, n: int, dim: int, spectrum: list[float]) -> tuple[np.ndarray, np.ndarray]:
    basis = np.linalg.qr(rng.standard_normal((dim, len(spectrum))))[0].T
    coeff = rng.standard_normal((n, len(spectrum))) * np.sqrt(spectrum)
    return coeff @ basis + 0.05 * rng.standard_normal((n, dim)), basis


def test_hebbian_neurons_find_the_principal_subspace() -> None:
    rng = np.random.default_rng(2)
    x, basis = _low_rank_data(rng, 2000, 40, [9.0, 6.0, 4.0, 3.0, 2.0, 0.2, 0.1])
    sub = HebbianSubspace(40)
    h = sub.learn(torch.as_tensor(x, dtype=torch.float32), 5, generator=torch.Generator().manual_seed(0))
    angles = np.degrees(principal_angles(h, x))
    assert angles.max() < 5.0
    assert np.degrees(principal_angles(h, basis[:5])).max() < 5.0
    # the Oja subspace rule converges to orthonormal rows
    assert np.allclose(h @ h.T, np.eye(5), atol=0.05)
    assert captured_energy(h, x) > 0.99


def test_new_neurons_learn_the_residual_and_leave_the_old_ones_frozen() -> None:
    rng = np.random.default_rng(3)
    x, basis = _low_rank_data(rng, 2000, 30, [8.0, 5.0, 3.0, 2.0, 1.0, 0.05])
    sub = HebbianSubspace(30)
    gen = torch.Generator().manual_seed(1)
    first = sub.learn(torch.as_tensor(x, dtype=torch.float32), 2, generator=gen).clone()
    second = sub.learn(torch.as_tensor(x, dtype=torch.float32), 3, generator=gen)
    assert torch.equal(sub.h[:2], first)
    assert sub.h.shape == (5, 30)
    # the second batch spans components 3..5 and is orthogonal to the first
    assert np.abs((second @ first.T).numpy()).max() < 0.05
    assert np.degrees(principal_angles(sub.h, basis[:5])).max() < 5.0
    assert sub.learn(torch.as_tensor(x, dtype=torch.float32), 100, generator=gen).shape[0] == 25  # capped at dim


def test_a_random_subspace_is_far_from_the_principal_one() -> None:
    # the check above can fail: random rows are not the principal subspace
    rng = np.random.default_rng(4)
    x, _ = _low_rank_data(rng, 1000, 40, [9.0, 6.0, 4.0, 3.0, 2.0])
    assert np.degrees(principal_angles(rng.standard_normal((5, 40)), x)).max() > 45.0
    assert captured_energy(rng.standard_normal((5, 40)), x) < 0.5


def test_spiking_layers_follow_norses_box_lif_step() -> None:
    from norse.torch.functional.lif_box import LIFBoxFeedForwardState, lif_box_feed_forward_step

    net = SpikingMLP(8, (6,), 3, steps=4, seed=0)
    x = torch.randn(2, 8, generator=torch.Generator().manual_seed(5))
    logits, inputs = net(x, record=True)
    w0, w1 = net.layers[0].weight.detach(), net.layers[1].weight.detach()
    state = LIFBoxFeedForwardState(v=torch.zeros(2, 6))
    out = torch.zeros(2, 3)
    for t in range(4):
        z, state = lif_box_feed_forward_step(x @ w0.T, state, net.lif)
        assert torch.equal(inputs[1][t], z)
        out += z @ w1.T / 4
    assert torch.allclose(logits, out)
    assert torch.equal(inputs[0][0], x)


def test_by_hand_one_neuron_fires_when_its_membrane_reaches_threshold() -> None:
    # v_t = v + (dt / tau)(I - v) = 0.1 I (1 - 0.9^t): with I = 4 it crosses v_th = 1 at t = 3 (0.4, 0.76, 1.084)
    net = SpikingMLP(1, (1,), 1, steps=4, tau_mem_ms=10.0, v_th=1.0)
    with torch.no_grad():
        net.layers[0].weight.fill_(4.0)
        net.layers[1].weight.fill_(1.0)
    _, inputs = net(torch.ones(1, 1), record=True)
    assert inputs[1][:, 0, 0].tolist() == [0.0, 0.0, 1.0, 0.0]


def test_online_training_learns_without_backpropagation_through_time() -> None:
    from neurosim.experiments.continual import permuted_digits

    tasks = permuted_digits(1, np.random.default_rng(0))
    x, y = (torch.as_tensor(a) for a in tasks.train(0))
    xt, yt = (torch.as_tensor(a) for a in tasks.test(0))
    torch.manual_seed(0)
    net = SpikingMLP(64, (128,), 10, steps=6, seed=0)
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    order = torch.Generator().manual_seed(0)
    for _ in range(4):
        perm = torch.randperm(len(y), generator=order)
        for i in range(0, len(y), 32):
            idx = perm[i:i + 32]
            opt.zero_grad()
            net.online_step_losses(x[idx], lambda o, idx=idx: torch.nn.functional.cross_entropy(o, y[idx]))
            opt.step()
    with torch.no_grad():
        acc = float((net(xt)[0].argmax(dim=1) == yt).float().mean())
    assert acc > 0.8


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_the_trained_network_exports_to_nir_and_runs_in_norse(tmp_path) -> None:
    import nir
    import norse.torch as nt

    net = SpikingMLP(8, (6, 5), 3, steps=5, seed=1)
    x = torch.randn(2, 8, generator=torch.Generator().manual_seed(6)).abs() * 3
    path = tmp_path / "mlp.nir"
    nir.write(path, net.to_nir())
    graph = nir.read(path)
    kinds = sorted(type(n).__name__ for n in graph.nodes.values())
    assert kinds == ["Affine", "Affine", "Affine", "Input", "LIF", "LIF", "Output"]
    model = nt.from_nir(graph, dt=0.001)
    last = next(a for a, b in graph.edges if b == "output")
    state, out = None, torch.zeros(2, 3)
    with torch.no_grad():
        for _ in range(5):
            _, state = model(torch.as_tensor(x), state)
            out += state.cache[last] / 5  # the executor returns its last node, not the Output
        assert torch.allclose(out, net(x)[0], atol=1e-4)


@pytest.mark.parametrize(("kwargs", "field"), [({"steps": 0}, "steps"), ({"hidden": ()}, "hidden"),
                                               ({"tau_mem_ms": 0.0}, "tau_mem_ms"), ({"heads": 0}, "heads"),
                                               ({"seed": -1}, "seed")])  # -1 was accepted, unlike elsewhere
def test_bad_network_settings_name_the_field(kwargs: dict, field: str) -> None:
    args = {"n_in": 4, "hidden": (3,), "n_out": 2, **kwargs}
    with pytest.raises(ValueError, match=rf"^{field} ="):
        SpikingMLP(args.pop("n_in"), args.pop("hidden"), args.pop("n_out"), **args)


def test_device_and_dtype_place_the_weights_and_the_neurons() -> None:
    net = SpikingMLP(8, (6, 5), 3, steps=4, seed=0, device="cpu", dtype="float64")
    assert (net.device, net.dtype) == ("cpu", "float64")
    assert all(p.dtype == torch.float64 and p.device.type == "cpu" for p in net.parameters())
    assert net.lif.tau_mem_inv.dtype == net.lif.v_th.dtype == torch.float64
    x = torch.randn(2, 8, generator=torch.Generator().manual_seed(5), dtype=torch.float64) * 3
    logits, inputs = net(x, record=True)
    assert logits.dtype == torch.float64 and all(a.dtype == torch.float64 for a in inputs)
    total = net.online_step_losses(x, lambda o: o.pow(2).mean())
    assert total.dtype == torch.float64 and all(p.grad.dtype == torch.float64 for p in net.parameters())
    # the same seed draws the same network in either dtype
    assert torch.equal(net.layers[0].weight.float(), SpikingMLP(8, (6, 5), 3, seed=0).layers[0].weight)


def test_hebbian_subspace_keeps_its_neurons_on_its_device_and_dtype() -> None:
    x, _ = _low_rank_data(np.random.default_rng(2), 500, 12, [9.0, 4.0, 0.1])
    sub = HebbianSubspace(12, device="cpu", dtype="float64")
    assert (sub.device, sub.dtype) == ("cpu", "float64") and sub.h.dtype == torch.float64
    new = sub.learn(torch.as_tensor(x, dtype=torch.float32), 2, epochs=20, generator=torch.Generator().manual_seed(0))
    assert new.dtype == sub.h.dtype == sub.projector.dtype == torch.float64
    assert captured_energy(new, x) > 0.99
    assert HebbianSubspace(12).h.dtype == torch.float32


@pytest.mark.parametrize(("kwargs", "message"), [({"dtype": "float16"}, r"^dtype = 'float16'"),
                                                 ({"device": "tpu"}, r"^device = 'tpu'")])
def test_a_bad_device_or_dtype_names_the_field(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SpikingMLP(4, (3,), 2, **kwargs)
    with pytest.raises(ValueError, match=message):
        HebbianSubspace(4, **kwargs)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal where CUDA is missing")
def test_cuda_is_refused_without_a_gpu() -> None:
    with pytest.raises(ValueError, match=r"^device = 'cuda'"):
        SpikingMLP(4, (3,), 2, device="cuda")
    with pytest.raises(ValueError, match=r"^device = 'cuda'"):
        HebbianSubspace(4, device="cuda")


@pytest.mark.gpu
def test_cpu_and_cuda_agree_after_a_forward_and_an_optimizer_step() -> None:
    x = torch.randn(8, 16, generator=torch.Generator().manual_seed(0)) * 2
    y = torch.arange(8) % 4
    gen = torch.Generator().manual_seed(1)
    activity = torch.randn(300, 16, generator=gen) * torch.linspace(3.0, 0.1, 16)
    results = []
    for device in ("cpu", "cuda"):
        net = SpikingMLP(16, (32,), 4, steps=5, seed=2, device=device)
        assert all(p.device.type == device for p in net.parameters())
        sub = HebbianSubspace(16, device=device)
        sub.learn(activity, 3, epochs=5, generator=torch.Generator().manual_seed(3))
        assert sub.h.device.type == device
        opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        logits, _ = net(x.to(device), projectors=[sub.projector, None])
        torch.nn.functional.cross_entropy(logits, y.to(device)).backward()
        opt.step()
        after = net(x.to(device))[0]
        results.append([t.detach().cpu() for t in (logits, after, net.layers[0].weight, sub.projector)])
    for a, b in zip(*results, strict=True):
        assert torch.allclose(a, b, atol=1e-4)
