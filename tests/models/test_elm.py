"""ELM and Branch-ELM: one step by hand, the hoisted forward against a plain step-by-step loop, the published
parameter count, the tau_m initialisation, both memory updates, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from neurosim.models.elm import ELM, BranchELM, branch_elm_parameter_count, trainable_parameters


def _set(module: torch.nn.Linear, w, b) -> None:
    with torch.no_grad():
        module.weight.copy_(torch.tensor(w, dtype=torch.float64))
        module.bias.copy_(torch.tensor(b, dtype=torch.float64))


def test_one_step_by_hand() -> None:
    # 2 synapses, 2 memory units, a 3-unit hidden layer, 1 output; tau_m = 1 and 1000 ms at dt = 1 ms
    torch.set_default_dtype(torch.float64)
    try:
        elm = ELM(2, 1, d_m=2, mlp_hidden=3, tau_s_ms=5.0, tau_min_ms=1.0, tau_max_ms=1000.0, w_s=0.5, lam=5.0)
        _set(elm.mlp[0], [[1.0, 0.0, 0.5, 0.0], [0.0, -1.0, 0.0, 0.5], [0.5, 0.5, 0.0, 0.0]], [0.1, 0.0, -0.2])
        _set(elm.mlp[1], [[1.0, 0.0, 1.0], [0.0, 2.0, -1.0]], [0.0, 0.1])
        _set(elm.readout, [[1.0, -1.0]], [0.5])
        x = torch.tensor([[[1.0, 2.0], [0.0, 1.0]]])
        y, mem = elm.run(x)
    finally:
        torch.set_default_dtype(torch.float32)
    # by hand, with the published equations
    ks = math.exp(-1 / 5)
    tau = elm.tau_m_ms.detach().numpy()
    assert tau[0] == pytest.approx(1.0, abs=1e-3) and tau[1] == pytest.approx(1000.0, abs=1e-3)
    km = np.exp(-1 / tau)
    w1 = np.array([[1.0, 0.0, 0.5, 0.0], [0.0, -1.0, 0.0, 0.5], [0.5, 0.5, 0.0, 0.0]])
    w2 = np.array([[1.0, 0.0, 1.0], [0.0, 2.0, -1.0]])
    s, m = np.zeros(2), np.zeros(2)
    for t, xt in enumerate(([1.0, 2.0], [0.0, 1.0])):
        s = ks * s + 0.5 * np.array(xt)
        h = np.maximum(w1 @ np.concatenate([s, km * m]) + [0.1, 0.0, -0.2], 0.0)
        dm = 1.7159 * np.tanh((w2 @ h + [0.0, 0.1]) * 2 / 3)
        m = km * m + 5.0 * (1 - km) * dm
        assert np.allclose(mem[0, t].detach().numpy(), m, atol=1e-12)
        assert y[0, t, 0].item() == pytest.approx(m[0] - m[1] + 0.5, abs=1e-12)


def _plain_loop(elm: ELM, x: torch.Tensor) -> torch.Tensor:
    """The equations step by step, no hoisting (the way the paper writes them)."""
    kappa_s, kappa_m, gain = elm.decays()
    s = torch.zeros(x.shape[0], elm.n_in)
    m = torch.zeros(x.shape[0], elm.d_m)
    out = []
    for t in range(x.shape[1]):
        s = kappa_s * s + elm.w_s * x[:, t]
        b = s.view(x.shape[0], elm.n_branch, -1).sum(dim=-1)
        h = torch.cat([b, kappa_m * m], dim=1)
        for i, lin in enumerate(elm.mlp):
            h = lin(h)
            if i < len(elm.mlp) - 1:
                h = torch.relu(h)
        m = kappa_m * m + gain * 1.7159 * torch.tanh(h * 2 / 3)
        out.append(elm.readout(m))
    return torch.stack(out, dim=1)


@pytest.mark.parametrize("kwargs", [{}, {"n_branch": 4}, {"mlp_layers": 2}, {"memory_update": "improved"}])
def test_forward_equals_the_plain_step_by_step_equations(kwargs: dict) -> None:
    torch.manual_seed(0)
    elm = ELM(12, 3, d_m=7, **kwargs)
    x = (torch.rand(2, 25, 12) < 0.2).float()
    assert torch.allclose(elm(x), _plain_loop(elm, x), atol=1e-5)


def test_improved_update_uses_kappa_lambda() -> None:
    elm = ELM(3, 1, d_m=4, memory_update="improved", lam=5.0)
    _, kappa_m, gain = elm.decays()
    assert torch.allclose(gain, 1 - torch.exp(-5.0 / elm.tau_m_ms))
    assert torch.allclose(ELM(3, 1, d_m=4).decays()[2], 5.0 * (1 - kappa_m))


@pytest.mark.parametrize(("d_m", "d_tree", "d_brch", "d_o"), [(20, 45, 28, 2), (10, 5, 4, 3), (100, 700, 1, 20),
                                                             (1, 1, 1, 1)])
def test_parameter_count_matches_the_published_formula(d_m: int, d_tree: int, d_brch: int, d_o: int) -> None:
    model = BranchELM(d_tree * d_brch, d_o, n_branch=d_tree, d_m=d_m)
    assert trainable_parameters(model) == branch_elm_parameter_count(d_m, d_tree, d_brch, d_o)


def test_learning_tau_m_adds_d_m_parameters_and_stays_in_bounds() -> None:
    elm = ELM(4, 2, d_m=6, learn_tau_m=True, tau_min_ms=2.0, tau_max_ms=50.0)
    assert trainable_parameters(elm) == trainable_parameters(ELM(4, 2, d_m=6)) + 6
    tau = elm.tau_m_ms.detach()
    assert torch.allclose(tau, torch.logspace(math.log10(2.0), math.log10(50.0), 6), rtol=1e-4)
    with torch.no_grad():
        elm.tau_m_raw.add_(100.0)
    assert float(elm.tau_m_ms.detach().max()) <= 50.0


def test_memory_keeps_a_pulse_for_its_time_constant() -> None:
    # with a silent MLP (zero weights), the memory is pure decay: a unit with tau_m = 1000 ms keeps its value
    elm = ELM(1, 1, d_m=2, tau_min_ms=10.0, tau_max_ms=1000.0)
    with torch.no_grad():
        for lin in elm.mlp:
            lin.weight.zero_()
            lin.bias.zero_()
        elm.mlp[-1].bias.fill_(3.0)
    _, mem = elm.run(torch.zeros(1, 1, 1))
    m0 = mem[0, 0].detach()
    assert torch.allclose(m0, 5.0 * (1 - torch.exp(-1.0 / elm.tau_m_ms.detach())) * 1.7159 * math.tanh(2.0))


@pytest.mark.parametrize(("kwargs", "field"), [({"d_m": 0}, "d_m"), ({"n_branch": 5}, "n_branch"),
                                               ({"tau_max_ms": 0.5}, "tau_max_ms"), ({"lam": 0.0}, "lam"),
                                               ({"memory_update": "new"}, "memory_update")])
def test_bad_settings_name_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field} ="):
        ELM(12, 2, **kwargs)


def test_bad_input_shape_is_rejected() -> None:
    with pytest.raises(ValueError, match="input shape"):
        ELM(3, 1, d_m=2)(torch.zeros(2, 3))


@pytest.mark.parametrize("kwargs", [{}, {"n_branch": 3, "learn_tau_m": True}, {"memory_update": "improved",
                                                                             "learn_tau_m": True}])
def test_the_hand_written_scan_gives_autograds_gradients(kwargs: dict) -> None:
    torch.manual_seed(1)
    x = (torch.rand(3, 30, 6) < 0.3).double()
    grads = []
    for scan in (True, False):
        torch.manual_seed(2)
        elm = ELM(6, 2, d_m=5, scan=scan, **kwargs).double()
        y, mem = elm.run(x)
        (y.pow(2).sum() + mem.sin().sum()).backward()
        grads.append({n: p.grad.clone() for n, p in elm.named_parameters() if p.requires_grad})
    assert grads[0].keys() == grads[1].keys()
    for name in grads[0]:
        assert torch.allclose(grads[0][name], grads[1][name], atol=1e-10), name


def test_scan_gradcheck_against_finite_differences() -> None:
    from neurosim.models.elm import _MemoryScan

    g = torch.Generator().manual_seed(3)
    args = [torch.randn(2, 5, 4, generator=g, dtype=torch.float64), torch.randn(2, 4, generator=g, dtype=torch.float64),
            torch.randn(4, 3, generator=g, dtype=torch.float64), torch.randn(3, 4, generator=g, dtype=torch.float64),
            torch.randn(3, generator=g, dtype=torch.float64), torch.rand(3, generator=g, dtype=torch.float64),
            torch.rand(3, generator=g, dtype=torch.float64)]
    for a in args:
        a.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda *a: _MemoryScan.apply(*a, torch.tensor(0.8, dtype=torch.float64)), args)


def test_bench_runs_without_the_reference_and_names_a_bad_reference_folder(tmp_path) -> None:
    from neurosim.experiments import elm_bench

    rows = elm_bench.bench(batch=2, steps=5, repeats=1, log=lambda *a: None)
    assert [r["config"] for r in rows] == [c["name"] for c in elm_bench.CONFIGS]
    assert all(r["neurosim_s"] > 0 and "speedup" not in r for r in rows)
    with pytest.raises(ValueError, match="^reference ="):
        elm_bench.bench(reference=tmp_path, batch=2, steps=5)


@pytest.mark.parametrize("cls_kwargs", [(ELM, {}), (ELM, {"scan": False, "mlp_layers": 2}),
                                        (BranchELM, {"n_branch": 3})])
def test_device_and_dtype_place_every_parameter_and_buffer(cls_kwargs: tuple) -> None:
    cls, kwargs = cls_kwargs
    torch.manual_seed(0)
    elm = cls(6, 2, d_m=4, device="cpu", dtype="float64", **kwargs)
    assert (elm.device, elm.dtype) == ("cpu", "float64")
    tensors = [*elm.parameters(), *elm.buffers()]
    assert all(t.dtype == torch.float64 and t.device.type == "cpu" for t in tensors)
    x = (torch.rand(2, 9, 6, generator=torch.Generator().manual_seed(1), dtype=torch.float64) < 0.3).double()
    y, mem = elm.run(x)
    assert y.dtype == mem.dtype == torch.float64 and torch.isfinite(y).all()
    y.sum().backward()
    assert all(p.grad.dtype == torch.float64 for p in elm.parameters() if p.requires_grad)


def test_the_default_dtype_is_float32() -> None:
    elm = ELM(4, 2, d_m=3)
    assert elm.dtype == "float32" and all(p.dtype == torch.float32 for p in elm.parameters())
    assert elm.device == "cpu"  # like any torch module: the caller's tensors decide, not the machine


@pytest.mark.parametrize(("kwargs", "message"), [({"dtype": "float16"}, r"^dtype = 'float16'"),
                                                 ({"device": "tpu"}, r"^device = 'tpu'")])
def test_a_bad_device_or_dtype_names_the_field(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ELM(4, 2, d_m=3, **kwargs)
    with pytest.raises(ValueError, match=message):
        BranchELM(4, 2, n_branch=2, d_m=3, **kwargs)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal where CUDA is missing")
def test_cuda_is_refused_without_a_gpu() -> None:
    with pytest.raises(ValueError, match=r"^device = 'cuda'"):
        ELM(4, 2, d_m=3, device="cuda")


@pytest.mark.gpu
@pytest.mark.parametrize("kwargs", [{}, {"scan": False}, {"n_branch": 3}])
def test_cpu_and_cuda_agree_after_a_forward_and_an_optimizer_step(kwargs: dict) -> None:
    x = (torch.rand(4, 30, 6, generator=torch.Generator().manual_seed(0)) < 0.3).float()
    outputs = []
    for device in ("cpu", "cuda"):
        torch.manual_seed(1)
        elm = ELM(6, 2, d_m=5, device=device, **kwargs)
        assert all(p.device.type == device for p in elm.parameters())
        opt = torch.optim.Adam(elm.parameters(), lr=1e-2)
        first = elm(x.to(device))
        first.pow(2).sum().backward()
        opt.step()
        outputs.append((first.detach().cpu(), elm(x.to(device)).detach().cpu()))
    for a, b in zip(*outputs, strict=True):
        assert torch.allclose(a, b, atol=1e-4)
