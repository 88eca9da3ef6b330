"""Forgetting one task of the active-dendrites network, at a small size: the methods do what they claim."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim.experiments import dendrites_forget as df
from neurosim.io import read_results

SMALL = {"n_tasks": 3, "hidden": (256,), "epochs": 3}  # one small layer learns the tasks to ~70% in 3 epochs


def _metrics(path) -> dict[str, dict[str, np.ndarray]]:
    return {t.attrs["method"]: {k: v[0] for k, v in t.metrics.items()} for t in read_results(path).trials.values()}


def test_the_methods_forget_as_they_claim_the_table_is_complete_and_a_seed_repeats(tmp_path) -> None:
    out = tmp_path / "f.h5"
    outcome = df.run(out=out, forget=1, max_epochs=5, progress=False, **SMALL)
    assert [r[0] for r in outcome.rows] == list(df.METHODS)
    assert all(len(r) == len(outcome.columns) for r in outcome.rows)
    assert all(f.exists() for f in outcome.files)
    assert outcome.files[1].name == "f_accuracy.png"
    res = _metrics(out)
    ascent = res["ascent"]
    assert ascent["accuracy_before"][1] > 0.5  # it had learned the task
    assert ascent["own_context_after"][0] <= 0.1 + df.MARGIN + 0.1  # and ascent took it to chance (training set)
    assert ascent["accuracy_after"][1] <= 0.1 + df.MARGIN + 0.1
    assert 0 < ascent["updates"][0] < 5 * 20
    # the ascents and the dropped prototype start from one trained network
    for method in ("ascent-segments", "prototype"):
        np.testing.assert_array_equal(res[method]["accuracy_before"], ascent["accuracy_before"])
        np.testing.assert_array_equal(res[method]["own_context_before"], ascent["own_context_before"])
    # the dropped prototype hides the task: with its own context it is exactly as before, inferred it is not
    proto = res["prototype"]
    assert proto["own_context_after"][0] == proto["own_context_before"][0]
    assert proto["accuracy_after"][1] < proto["accuracy_before"][1] - 0.2
    assert proto["task_inferred_after"][1] == 0.0 and proto["updates"][0] == 0
    np.testing.assert_array_equal(proto["task_inferred_after"][[0, 2]], [1.0, 1.0])
    retrain = res["retrain"]
    assert np.isnan(retrain["accuracy_before"]).all() and retrain["updates"][0] == 0
    assert retrain["task_inferred_after"][1] == 0.0  # it never stored the task's prototype
    # the same seed gives the same numbers
    again = tmp_path / "g.h5"
    df.run(out=again, forget=1, max_epochs=5, progress=False, **SMALL)
    second = _metrics(again)
    for method, metrics in res.items():
        for name, values in metrics.items():
            np.testing.assert_array_equal(second[method][name], values, err_msg=f"{method} {name}")


def test_each_method_changes_only_what_it_claims() -> None:
    import torch

    from neurosim.experiments.common import rng_for
    from neurosim.experiments.continual import permuted_digits
    from neurosim.experiments.dendrites_continual import LRS, train_sequence

    tasks = permuted_digits(3, rng_for(0, 0))
    trained, protos = df.train(tasks, [0, 1, 2], 3, SMALL["hidden"], SMALL["epochs"], 0, None)
    before, _ = df.evaluate(trained, tasks, protos, [0, 1, 2])
    # the same steps as dendrites-continual's training
    ref = train_sequence("active-dendrites", n_tasks=3, hidden=SMALL["hidden"], epochs=SMALL["epochs"], batch=df.BATCH,
                         lr=LRS["active-dendrites"], seed=0)
    np.testing.assert_array_equal(before, ref["accuracy"][:, -1])
    state = {k: v.clone() for k, v in trained.state_dict().items()}

    def same(net, prefix: str) -> bool:
        return all(torch.equal(v, state[k]) for k, v in net.state_dict().items() if k.startswith(prefix))

    net, store, ids, steps = df.forget_with("prototype", trained, protos, tasks, 1, max_epochs=5, seed=0)
    assert steps == 0 and ids == [0, 2] and same(net, "")  # every weight untouched
    assert all(torch.equal(m, protos.means[t]) for m, t in zip(store.means, ids, strict=True))
    after, inferred = df.evaluate(net, tasks, store, ids)
    np.testing.assert_array_equal(after[[0, 2]], before[[0, 2]])
    np.testing.assert_array_equal(inferred, [1.0, 0.0, 1.0])

    net, _, ids, steps = df.forget_with("ascent-segments", trained, protos, tasks, 1, max_epochs=1, seed=0)
    assert steps > 0 and ids == [0, 1, 2]
    assert same(net, "layers.") and same(net, "head.")  # the feedforward weights are frozen
    assert not same(net, "segments.")  # the segments moved

    net, _, _, steps = df.forget_with("ascent", trained, protos, tasks, 1, max_epochs=5, seed=0)
    assert steps > 0 and not same(net, "layers.") and not same(net, "head.")
    x, y = (torch.as_tensor(a) for a in tasks.train(1))
    assert df._own(net, x, y, protos.means[1]) <= 0.1 + df.MARGIN
    assert same(trained, "")  # the trained network itself is never changed


def test_bad_input_names_the_field(tmp_path) -> None:
    with pytest.raises(ValueError, match=r"^forget = 3 is not allowed: a task in \[0, 2\]"):
        df.run(out=tmp_path / "x.h5", n_tasks=3, forget=3)
    with pytest.raises(ValueError, match=r"^n_tasks = 1 is not allowed"):
        df.run(out=tmp_path / "x.h5", n_tasks=1)
    with pytest.raises(ValueError, match=r"^max_epochs = 0 is not allowed"):
        df.run(out=tmp_path / "x.h5", max_epochs=0)
    with pytest.raises(ValueError, match=r"^epochs = 0 is not allowed"):
        df.run(out=tmp_path / "x.h5", epochs=0)
    with pytest.raises(ValueError, match=r"^hidden = 0 is not allowed"):
        df.run(out=tmp_path / "x.h5", hidden=(64, 0))
    assert not (tmp_path / "x.h5").exists() and not list(tmp_path.iterdir())
