"""Forgetting a cue of the CA3 memory (neurosim run ca3-forget): the findings docs/unlearning.md reports."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim.experiments import ca3_forget as cf
from neurosim.io import read_results


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    out = tmp_path_factory.mktemp("ca3f") / "f.h5"
    outcome = cf.run(out=out, n_reps=1, progress=False)
    res = {(t.attrs["rule"], t.attrs["method"]): {k: v[0] for k, v in t.metrics.items()}
           for t in read_results(out).trials.values()}
    return out, outcome, res


def test_contents_overlap_only_where_intended() -> None:
    c = cf.contents(np.random.default_rng(3), cf.bits_needed(5), 5)
    shared = {(a, b): len(set(c[a][i]) & set(c[b][i])) for a in c for b in c if a < b for i in range(cf.N_TARGETS)}
    for (a, b), n in shared.items():
        assert n == (1 if {a, b} in ({"target", "neighbour"}, {"filler", "control"}) else 0), (a, b)


def test_the_coincidence_rule_forgets_both_ways_and_keeps_the_rest(measured) -> None:
    _, _, res = measured
    for method in ("relearn", "reverse"):
        m = res["coincidence", method]
        assert m["cue_recall_old"].max() == 0 and m["pair_finds_cue"].max() == 0
        assert m["w_cue_to_content"].max() < 0.1 and m["w_content_to_cue"].max() < 0.1
        assert m["kept_after"].min() == 1 and m["restored"].min() == 1


def test_the_published_rule_leaves_one_direction_whatever_the_order(measured) -> None:
    _, _, res = measured
    relearn, reverse = res["published", "relearn"], res["published", "reverse"]
    # relearning clears cue -> old content, but two old bits still find the cue (content -> cue at ~3 nA)
    assert relearn["cue_recall_old"].max() == 0 and relearn["pair_finds_cue"].min() == 1
    assert 2.5 < relearn["w_content_to_cue"].mean() < 3.5
    # reverse clears content -> cue, but the cue still recalls its content (cue -> content at ~4.7 nA)
    assert reverse["cue_recall_old"].min() == 1 and reverse["bit_finds_cue"].max() == 0
    assert 4 < reverse["w_cue_to_content"].mean() < 5 and reverse["w_content_to_cue"].max() < 0.1
    # reverse after a relearn brings the old content back to the cue and loses the new one
    assert res["published", "relearn+reverse"]["cue_recall_old"].min() == 1
    assert res["published", "relearn+reverse"]["cue_recall_new"].max() == 0


def test_stored_contents_are_recognised_and_the_table_is_complete(measured) -> None:
    out, outcome, res = measured
    assert [r[:2] for r in outcome.rows] == [[r, m] for r in cf.RULES for m in cf.METHODS]
    none = res["published", "none"]
    assert none["familiarity_forgotten"].min() == 1 and none["familiarity_control"].max() < 0.5
    assert all(f.exists() for f in outcome.files)
    assert read_results(out).trials[0].metrics["w_cue_to_content"][1] == "nA"


def test_a_killed_run_resumes_to_the_same_results(tmp_path, monkeypatch) -> None:
    whole, cut = tmp_path / "whole.h5", tmp_path / "cut.h5"
    cf.run(out=whole, n_reps=1, progress=False)
    real, calls = cf.run_rep, []

    def dies_in_the_third_run(*args, **kwargs):
        calls.append(args)
        if len(calls) == 3:
            raise KeyboardInterrupt  # as a kill: the run stops between trials
        return real(*args, **kwargs)

    monkeypatch.setattr(cf, "run_rep", dies_in_the_third_run)
    with pytest.raises(KeyboardInterrupt):
        cf.run(out=cut, n_reps=1, progress=False)
    assert not cut.exists() and len(read_results(cut).trials) == 2
    monkeypatch.setattr(cf, "run_rep", real)
    cf.run(out=cut, n_reps=1, progress=False, resume=True)
    a, b = read_results(whole).trials, read_results(cut).trials
    assert sorted(a) == sorted(b) == list(range(len(cf.RULES) * len(cf.METHODS)))
    for i in a:
        assert a[i].metrics.keys() == b[i].metrics.keys()
        for k in a[i].metrics:
            np.testing.assert_array_equal(a[i].metrics[k][0], b[i].metrics[k][0])


def test_bad_input_names_the_field(tmp_path) -> None:
    with pytest.raises(ValueError, match=r"^n_bits = 50 is not allowed: >= 115"):
        cf.run(out=tmp_path / "x.h5", n_bits=50)
    with pytest.raises(ValueError, match=r"^n_cues = 10 is not allowed"):
        cf.run(out=tmp_path / "x.h5", n_cues=10)
    assert not (tmp_path / "x.h5").exists()
