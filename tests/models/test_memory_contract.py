"""The memory contract (neurosim/memory.py), for every registered memory on every engine installed here:
read-only reads, the key policy, seeds, reset = fresh, close, equal engines, defaults that work.

Brian2 runs the spiking memories too (test_ca3.py checks it against the published tables); it is left
out here because each read builds a Brian2 network (seconds apiece).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from neurosim import backends
from neurosim.memory import FLOAT32_TOLERANCE, Memory, RecognitionMemory, jaccard, partial_cue, random_patterns
from neurosim.models import available, create, registry

N = 200
NAMES = ("hopfield", "hopfield-marginalist", "dam-poly", "dam-exp", "sparsey", "sparsey-decay", "dendrites", "ca3",
         "ca3-auto")
CASES = [(name, engine) for name, engines in available().items() for engine in engines if engine != "brian2"]


def _make(name: str, engine: str = "numba", **kw) -> Memory:
    """A registered memory on ``engine``; torch on the CPU (CUDA has its own test, marked gpu)."""
    return create(name, backend=engine, device="cpu", **kw)


def _data(seed: int, n_items: int, sparsity: float = 0.1, n: int = N):
    rng = np.random.default_rng(seed)
    active = round(sparsity * n)
    items = random_patterns(rng, n_items, n, active)
    novel = random_patterns(rng, n_items, n, active)
    cues = np.array([partial_cue(rng, x, 0.5) for x in items])
    return items, novel, cues


def _store(memory: Memory, items: np.ndarray, first: int = 0) -> None:
    keys = [(first + i) % memory.n_keys for i in range(len(items))] if memory.n_keys else None
    memory.store_many(items, keys=keys)


def _answers(memory: Memory, items: np.ndarray, novel: np.ndarray, cues: np.ndarray):
    return memory.recall_many(cues), memory.recognize_many(np.vstack([items, novel]))


def _same(a, b) -> None:
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_the_registry_lists_every_memory_with_the_engines_its_class_declares() -> None:
    from neurosim.experiments.forgetting import CAPS

    assert tuple(available()) == NAMES == tuple(registry.names())
    for name in NAMES:
        cls = registry.model_class(name)
        assert issubclass(cls, Memory)
        assert registry.entry(name).engines == cls.engines, name
        assert {"numba", "torch"} <= set(cls.engines), name  # every memory on numba and torch
        assert cls.familiarity, name  # says what its familiarity measures
    assert set(CAPS) == set(NAMES)  # the forgetting harness drives every registered memory


@pytest.mark.parametrize(("name", "engine"), CASES)
def test_reads_never_change_the_memory(name: str, engine: str) -> None:
    """Many reads between two identical probes change no answer, and a store after them does exactly
    what it does in a twin that was never read."""
    items, novel, cues = _data(1, 5)
    extra, _, extra_cues = _data(2, 6)
    read, twin = (_make(name, engine, n_units=N, sparsity=0.1, seed=3) for _ in range(2))
    for m in (read, twin):
        _store(m, items[:4])
    before = _answers(read, items, novel, cues)
    for x, c in zip(extra, extra_cues, strict=True):
        read.recall(c)
        read.recognize(x)
    _same(_answers(read, items, novel, cues), before)
    _store(read, items[4:], first=4)
    _store(twin, items[4:], first=4)
    _same(_answers(read, items, novel, cues), _answers(twin, items, novel, cues))
    # one read per row equals the batch
    np.testing.assert_array_equal(np.array([read.recall(c) for c in cues]), read.recall_many(cues))
    np.testing.assert_array_equal(np.array([read.recognize(x) for x in items]), read.recognize_many(items))
    for m in (read, twin):
        m.close()


@pytest.mark.parametrize("name", NAMES)
def test_key_policy(name: str) -> None:
    memory = create(name, n_units=N, sparsity=0.1)
    x = _data(4, 1)[0][0]
    if memory.n_keys:
        with pytest.raises(ValueError, match=r"^key = None is not allowed: an integer in \[0, "):
            memory.store(x)
        with pytest.raises(ValueError, match=rf"^key = {memory.n_keys} is not allowed"):
            memory.store(x, key=memory.n_keys)
        with pytest.raises(ValueError, match=r"^key = 'a' is not allowed"):
            memory.store(x, key="a")
        with pytest.raises(ValueError, match=r"^keys length = 1 is not allowed: 2"):
            memory.store_many(np.array([x, x]), keys=[0])
        memory.store(x, key=1)
        np.testing.assert_array_equal(memory.recall(1), x)  # a keyed memory recalls by key too
    else:
        with pytest.raises(ValueError, match=r"^key = 0 is not allowed: None \(.* is content-addressed"):
            memory.store(x, key=0)
        with pytest.raises(ValueError, match=r"^key = 'a' is not allowed"):
            memory.store_many(x[None], keys=["a"])
        with pytest.raises(ValueError, match=r"^cue shape = \(\) is not allowed"):
            memory.recall(3)  # no keys to recall by
    memory.close()


@pytest.mark.parametrize("name", NAMES)
def test_seeds_are_checked_and_do_what_the_model_says(name: str) -> None:
    for bad in (-1, 1.5, True, "0"):
        with pytest.raises(ValueError, match=rf"^seed = {bad!r} is not allowed"):
            create(name, n_units=N, sparsity=0.1, seed=bad)
    items, novel, cues = _data(5, 30, sparsity=0.5, n=60)
    runs = {}
    for seed in (1, 1, 2):
        m = create(name, n_units=60, sparsity=0.5, seed=seed)
        _store(m, items)  # far past capacity: the answers depend on every random choice
        runs.setdefault(seed, []).append((*_answers(m, items, novel, cues), _FINGERPRINT[name](m, items)))
    (a, b), (c,) = runs[1], runs[2]
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    differs = any(not np.array_equal(x, y) for x, y in zip(a, c, strict=True))
    assert differs == registry.model_class(name).stochastic, name


# what a seed changes in a stochastic memory, read through its public state
_FINGERPRINT = {
    "hopfield": lambda m, x: m.recall_many(x ^ (np.arange(x.shape[1]) % 3 == 0)),
    "hopfield-marginalist": lambda m, x: m.recall_many(x ^ (np.arange(x.shape[1]) % 3 == 0)),
    "dam-poly": lambda m, x: m.recall_many(x ^ (np.arange(x.shape[1]) % 3 == 0)),
    "dam-exp": lambda m, x: m.recall_many(x ^ (np.arange(x.shape[1]) % 3 == 0)),
    "sparsey": lambda m, x: np.array([m.code(i) for i in x]),
    "sparsey-decay": lambda m, x: np.array([m.code(i) for i in x]),
    "dendrites": lambda m, x: m.segments.cells[:m.segments.rows],
    "ca3": lambda m, x: m.recall_many(x),
    "ca3-auto": lambda m, x: m.weight_matrix(),
}


@pytest.mark.parametrize("name", NAMES)
def test_reset_equals_a_fresh_memory_and_close_is_final(name: str) -> None:
    items, novel, cues = _data(6, 6)
    used = create(name, n_units=N, sparsity=0.1, seed=4)
    _store(used, items[3:])
    used.recall_many(cues)
    used.reset()
    fresh = create(name, n_units=N, sparsity=0.1, seed=4)
    for m in (used, fresh):
        _store(m, items[:3])
    _same(_answers(used, items, novel, cues), _answers(fresh, items, novel, cues))
    with fresh:
        pass  # the context manager closes
    for m in (used, fresh):
        m.close()
        m.close()  # twice is allowed
        for call in (lambda m: m.store(items[0], key=0 if m.n_keys else None), lambda m: m.recall(cues[0]),
                     lambda m: m.recognize(items[0]), lambda m: m.reset(), lambda m: m.recall_many(cues)):
            with pytest.raises(ValueError, match="is closed"):
                call(m)


@pytest.mark.parametrize("name", NAMES)
def test_engines_give_equal_results(name: str) -> None:
    """float64 engines: the same recalls, familiarities within 1e-9; float32 (torch): the same recalls,
    familiarities within FLOAT32_TOLERANCE."""
    items, novel, cues = _data(7, 12)
    engines = [e for e in available()[name] if e != "brian2"]
    runs = {}
    for engine, dtype in [(e, None) for e in engines] + [("torch", "float32")]:
        m = _make(name, engine, n_units=N, sparsity=0.1, dtype=dtype, seed=2)
        _store(m, items)
        runs[(engine, m.dtype)] = _answers(m, items, novel, cues)
        m.close()
    ref = runs[("numba", "float64")]
    assert jaccard(ref[0], items).mean() > 0.5  # a memory that recalls something
    for key, (recalled, fam) in runs.items():
        np.testing.assert_array_equal(recalled, ref[0], err_msg=str(key))
        tol = FLOAT32_TOLERANCE if key[1] == "float32" else 1e-9
        np.testing.assert_allclose(fam, ref[1], rtol=0, atol=tol, err_msg=str(key))


@pytest.mark.parametrize("sparsity", [0.05, 0.1, 0.5])
@pytest.mark.parametrize("name", NAMES)
def test_defaults_work_at_the_sparsity_asked_for(name: str, sparsity: float) -> None:
    """Three stored items: recall from half cues completes them (mean Jaccard >= 0.9, the cue alone
    scores 0.5) and stored items are more familiar than novel ones."""
    items, novel, cues = _data(8, 3, sparsity)
    m = create(name, n_units=N, sparsity=sparsity, seed=0)
    _store(m, items)
    recalled, fam = _answers(m, items, novel, cues)
    assert jaccard(recalled, items).mean() >= 0.9, (name, sparsity)
    assert fam[:3].mean() > fam[3:].mean() + 0.1, (name, sparsity, fam)
    assert np.all((fam >= 0.0) & (fam <= 1.0))


def test_an_engine_a_model_lacks_is_refused_with_its_list() -> None:
    with pytest.raises(ValueError, match=r"^backend = 'brian2' is not allowed: one of \['numba', 'torch'\] for "
                                         r"hopfield"):
        create("hopfield", n_units=N, sparsity=0.1, backend="brian2")
    with pytest.raises(ValueError, match=r"^device = 'cuda' is not allowed on backend 'numba'"):
        create("sparsey", n_units=N, sparsity=0.1, device="cuda")
    with pytest.raises(ValueError, match=r"^dtype = 'float32' is not allowed on backend 'numba'"):
        create("dendrites", n_units=N, sparsity=0.1, dtype="float32")
    with pytest.raises(ValueError, match=r"^model = 'lstm' is not allowed: one of \['hopfield'"):
        create("lstm", n_units=N, sparsity=0.1)
    with pytest.raises(ValueError, match=r"^sparsity = 0.001 is not allowed"):
        create("hopfield", n_units=N, sparsity=0.001)
    from neurosim.models.hopfield import Hopfield

    with pytest.raises(ValueError, match=r"^backend = 'reference' is not allowed: one of \['numba', 'torch'\]"):
        Hopfield(N, backend="reference")
    if not backends.is_available("torch"):
        pytest.skip("torch is not installed")
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match=r"^device = 'cuda' is not allowed: CUDA is not available"):
            create("hopfield", n_units=N, sparsity=0.1, backend="torch", device="cuda")


def test_a_recognition_only_memory_has_the_smaller_protocol() -> None:
    from neurosim.models.dendritic_memory import DendriticNeuron

    neuron = DendriticNeuron(N, 10, 6, seed=0)
    assert isinstance(neuron, RecognitionMemory) and not isinstance(neuron, Memory)
    items, novel, _ = _data(9, 5)
    neuron.store_many(items)
    assert np.all(neuron.recognize_many(items) == 1.0) and neuron.recognize_many(novel).max() < 1.0
    with pytest.raises(TypeError, match="DendriticMemory"):
        neuron.recall(items[0])


def test_a_memory_centred_for_another_activity_warns() -> None:
    """The classical default (activity 0.5) fed 10%-sparse items used to fail without a word."""
    from neurosim.models.hopfield import Hopfield

    items = _data(10, 3)[0]
    with pytest.warns(RuntimeWarning, match=r"activity = 0.5.*create it with activity=0.1"):
        Hopfield(N).store_many(items)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the registry centres it for the sparsity asked for
        create("hopfield", n_units=N, sparsity=0.1).store_many(items)


@pytest.mark.gpu
@pytest.mark.parametrize("name", NAMES)
def test_cuda_equals_the_cpu(name: str) -> None:
    items, novel, cues = _data(11, 12)
    runs = []
    for device in ("cpu", "cuda"):
        m = create(name, n_units=N, sparsity=0.1, backend="torch", device=device, seed=2)
        assert m.device.startswith(device)
        _store(m, items)
        runs.append(_answers(m, items, novel, cues))
    np.testing.assert_array_equal(runs[1][0], runs[0][0])
    np.testing.assert_allclose(runs[1][1], runs[0][1], rtol=0, atol=1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_familiarity_ranks_the_newest_items_above_novel_ones_far_past_capacity_or_says_it_cannot(name) -> None:
    """400 items of 20 / 200 active (2 N; 8 x the capacity of the best below-capacity memory here): the
    newest 10 items against 50 novel ones. A memory with no ``familiarity_limit`` ranks them (AUC >= 0.9;
    measured 1.00 for every such memory); one that states a limit is held to it (AUC <= 0.6; measured 0.50:
    classical Sparsey and ca3-auto give every item familiarity 1)."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(3)
    items, novel = random_patterns(rng, 400, N, 20), random_patterns(rng, 50, N, 20)
    memory = create(name, n_units=N, sparsity=0.1, seed=0)
    _store(memory, items)
    scores = np.r_[memory.recognize_many(items[-10:]), memory.recognize_many(novel)]
    auc = roc_auc_score([1] * 10 + [0] * 50, scores)
    if memory.familiarity_limit:
        assert "cannot" in memory.familiarity_limit and auc <= 0.6, (name, auc)
    else:
        assert auc >= 0.9, (name, auc)
